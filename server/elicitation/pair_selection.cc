#include "server/elicitation/pair_selection.h"

#include <algorithm>

namespace rewardd {
namespace {

// Valid candidates by score (highest first), then by index.
std::vector<const ScoredCandidate*> Ranked(
    absl::Span<const ScoredCandidate> scored) {
  std::vector<const ScoredCandidate*> ranked;
  for (const ScoredCandidate& c : scored) {
    if (c.valid) ranked.push_back(&c);
  }
  std::sort(ranked.begin(), ranked.end(),
            [](const ScoredCandidate* a, const ScoredCandidate* b) {
              if (a->score != b->score) return a->score > b->score;
              return a->index < b->index;
            });
  return ranked;
}

}  // namespace

int VerdictDifferences(const std::vector<int>& a, const std::vector<int>& b) {
  int n = 0;
  const size_t size = std::min(a.size(), b.size());
  for (size_t i = 0; i < size; ++i) {
    if (a[i] >= 0 && b[i] >= 0 && a[i] != b[i]) ++n;
  }
  return n;
}

std::optional<PairChoice> SelectPair(absl::Span<const ScoredCandidate> scored,
                                     PairStrategy strategy, size_t top_k) {
  const std::vector<const ScoredCandidate*> ranked = Ranked(scored);
  if (ranked.size() < 2) return std::nullopt;
  size_t best_i = 0, best_j = 1;
  if (strategy == PairStrategy::kTop2Diverse) {
    const size_t k = std::clamp<size_t>(top_k, 2, ranked.size());
    int best_diff = -1;
    double best_sum = 0;
    // Pairs in rank order, so the first best found is the higher-ranked.
    for (size_t i = 0; i < k; ++i) {
      for (size_t j = i + 1; j < k; ++j) {
        const int diff =
            VerdictDifferences(ranked[i]->verdicts, ranked[j]->verdicts);
        const double sum = ranked[i]->score + ranked[j]->score;
        if (diff > best_diff || (diff == best_diff && sum > best_sum)) {
          best_diff = diff;
          best_sum = sum;
          best_i = i;
          best_j = j;
        }
      }
    }
  }
  PairChoice p;
  p.first = ranked[best_i]->index;
  p.second = ranked[best_j]->index;
  p.differences =
      VerdictDifferences(ranked[best_i]->verdicts, ranked[best_j]->verdicts);
  return p;
}

TopStats ComputeTopStats(absl::Span<const ScoredCandidate> scored) {
  TopStats t;
  const std::vector<const ScoredCandidate*> ranked = Ranked(scored);
  t.valid = static_cast<uint32_t>(ranked.size());
  if (ranked.empty()) return t;
  t.top_score = ranked[0]->score;
  for (const ScoredCandidate* c : ranked) {
    if (c->score == t.top_score) ++t.tied_at_top;
  }
  if (ranked.size() >= 2) t.top_pair_gap = ranked[0]->score - ranked[1]->score;
  return t;
}

}  // namespace rewardd

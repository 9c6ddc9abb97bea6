#include "client/cli/eval_metrics.h"

#include <algorithm>
#include <cmath>

namespace rewardd::cli {
namespace {

// The tail: pairs graded without error under the first set whose chosen
// reward reaches its 75th percentile (nearest rank).
std::vector<bool> TopQuartile(const std::vector<PairOutcome>& first) {
  std::vector<double> chosen;
  for (const PairOutcome& o : first) {
    if (!o.error) chosen.push_back(o.chosen);
  }
  std::vector<bool> tail(first.size(), false);
  if (chosen.empty()) return tail;
  std::sort(chosen.begin(), chosen.end());
  const size_t rank =
      static_cast<size_t>(std::ceil(0.75 * static_cast<double>(chosen.size())));
  const double threshold = chosen[std::max<size_t>(rank, 1) - 1];
  for (size_t i = 0; i < first.size(); ++i) {
    tail[i] = !first[i].error && first[i].chosen >= threshold;
  }
  return tail;
}

double Share(int part, int whole) {
  return whole > 0 ? static_cast<double>(part) / whole : 0;
}

}  // namespace

std::vector<PairStats> ComputePairStats(
    const std::vector<std::vector<PairOutcome>>& outcomes) {
  std::vector<PairStats> out;
  if (outcomes.empty()) return out;
  const std::vector<bool> tail = TopQuartile(outcomes[0]);
  for (const std::vector<PairOutcome>& set : outcomes) {
    PairStats s;
    int tail_correct = 0;
    for (size_t i = 0; i < set.size(); ++i) {
      const PairOutcome& o = set[i];
      ++s.pairs;
      if (o.error) {
        ++s.errors;
        continue;
      }
      const bool correct = o.chosen > o.rejected;
      s.correct += correct;
      s.ties += o.chosen == o.rejected;
      if (i < tail.size() && tail[i]) {
        ++s.top_quartile_pairs;
        tail_correct += correct;
      }
    }
    s.accuracy = Share(s.correct, s.pairs - s.errors);
    s.tie_rate = Share(s.ties, s.pairs - s.errors);
    s.top_quartile_accuracy = Share(tail_correct, s.top_quartile_pairs);
    out.push_back(s);
  }
  return out;
}

GroupStats ComputeGroupStats(const std::vector<GroupOutcome>& outcomes) {
  GroupStats s;
  for (const GroupOutcome& g : outcomes) {
    ++s.groups;
    std::vector<double> valid;
    for (const std::optional<double>& r : g.rewards) {
      if (r.has_value()) valid.push_back(*r);
    }
    if (g.error || valid.size() < 2) {
      ++s.errors;
      continue;
    }
    const double top = *std::max_element(valid.begin(), valid.end());
    const double low = *std::min_element(valid.begin(), valid.end());
    const long at_top = std::count(valid.begin(), valid.end(), top);
    if (at_top >= 2) {
      ++s.tied_top;
    } else {
      ++s.separated;
    }
    if (top == low) ++s.zero_variance;
  }
  return s;
}

}  // namespace rewardd::cli

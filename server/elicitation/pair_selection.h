// Which two candidates the proposer is shown in an RtD iteration, and the
// figures that say how well a rubric separates the top of a ranking.
//
//   kTop2        the two highest scores (the paper's rule); equal scores go
//                to the lower candidate index, so the choice is repeatable.
//   kTop2Diverse among the top_k by score, the pair whose verdict vectors
//                differ on the most criteria (both with a verdict); ties go
//                to the pair with the higher summed score, then to the
//                higher-ranked pair.
// Candidates with an invalid score (the verifier failed) are never chosen.
//
//   std::vector<ScoredCandidate> c = ...;   // one per remaining candidate
//   std::optional<PairChoice> p = SelectPair(c, PairStrategy::kTop2, 4);
//   TopStats t = ComputeTopStats(c);        // top score, ties, gap
//
// Thread-safety: stateless functions.
#ifndef REWARDD_SERVER_ELICITATION_PAIR_SELECTION_H_
#define REWARDD_SERVER_ELICITATION_PAIR_SELECTION_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/types/span.h"

namespace rewardd {

enum class PairStrategy { kTop2 = 0, kTop2Diverse };

struct ScoredCandidate {
  uint32_t index = 0;  // the candidate's index in the request
  double score = 0;    // sum of the weights of met criteria
  bool valid = false;
  // Per criterion of the rubric scored with: 1 met, 0 unmet, -1 none.
  std::vector<int> verdicts;
};

struct PairChoice {
  uint32_t first = 0;  // scores >= second's
  uint32_t second = 0;
  int differences = 0;  // criteria on which their verdicts differ
};

// nullopt when fewer than two candidates are valid.
std::optional<PairChoice> SelectPair(absl::Span<const ScoredCandidate> scored,
                                     PairStrategy strategy, size_t top_k);

// Criteria on which both have a verdict and the verdicts differ.
int VerdictDifferences(const std::vector<int>& a, const std::vector<int>& b);

struct TopStats {
  double top_score = 0;
  uint32_t tied_at_top = 0;  // valid candidates scoring exactly top_score
  double top_pair_gap = 0;   // best minus second best (0 with < 2 valid)
  uint32_t valid = 0;
};

TopStats ComputeTopStats(absl::Span<const ScoredCandidate> scored);

}  // namespace rewardd

#endif  // REWARDD_SERVER_ELICITATION_PAIR_SELECTION_H_

// The figures `reward-cli eval-rubrics` reports per rubric set, computed
// from graded preference pairs and groups (pure functions, no I/O).
//
// Pairs: accuracy = share of the pairs graded without error where the
// chosen response scored higher than the rejected one; tie rate = share
// where they scored the same; errors (a failed call or an invalid reward)
// are counted apart and never as ties. The top quartile ("the tail") is
// the pairs whose chosen reward under the FIRST set is at or above that
// set's 75th percentile of chosen rewards; every set is measured on those
// same pairs.
// Groups: a group is tied at the top when >= 2 valid responses share the
// highest reward, separated when one response alone has it, zero-variance
// when every valid reward is equal; groups with fewer than 2 valid rewards
// or a failed call are errors.
//
//   std::vector<PairStats> s = ComputePairStats(outcomes);  // [set][pair]
//
// Thread-safety: stateless functions.
#ifndef REWARDD_CLIENT_CLI_EVAL_METRICS_H_
#define REWARDD_CLIENT_CLI_EVAL_METRICS_H_

#include <optional>
#include <vector>

namespace rewardd::cli {

struct PairOutcome {
  bool error = true;
  double chosen = 0;
  double rejected = 0;
};

struct PairStats {
  int pairs = 0;
  int errors = 0;
  int correct = 0;
  int ties = 0;
  double accuracy = 0;  // over pairs - errors
  double tie_rate = 0;
  int top_quartile_pairs = 0;  // tail pairs graded without error here
  double top_quartile_accuracy = 0;
};

// outcomes[s][p]: pair p graded with set s; every set has the same pairs.
std::vector<PairStats> ComputePairStats(
    const std::vector<std::vector<PairOutcome>>& outcomes);

struct GroupOutcome {
  bool error = true;
  std::vector<std::optional<double>> rewards;  // nullopt = not valid
};

struct GroupStats {
  int groups = 0;
  int errors = 0;
  int tied_top = 0;
  int separated = 0;
  int zero_variance = 0;
};

GroupStats ComputeGroupStats(const std::vector<GroupOutcome>& outcomes);

}  // namespace rewardd::cli

#endif  // REWARDD_CLIENT_CLI_EVAL_METRICS_H_

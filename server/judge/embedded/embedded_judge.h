// The embedded judge: rewardd's default judge, needing no LLM. Criteria with
// a machine check (Check, see check_evaluator.h) are decided exactly;
// criteria without one by the lexical heuristic (lexical_heuristic.h), which
// is a stand-in for offline runs and tests, NOT a substitute for an LLM judge.
//
//   JudgeRegistry judges;
//   judges.Add(std::make_shared<EmbeddedJudge>());  // name "embedded"
//   judges.Find("embedded").value()->Grade(std::move(work), std::move(done));
//   // `done` has already run here: grading is inline.
//
// Grade() does all the work on the calling thread and calls `done` before it
// returns. That is safe on gRPC threads because the work is bounded CPU:
// responses are size-limited upstream, RE2 and every other check are linear
// in the response, and the heuristic is a few hash look-ups per criterion.
// The grading mode is ignored: each criterion is decided on its own.
//
// Verdicts: kOk with probability 1/0 for checks and the heuristic coverage
// otherwise; kSkipped for every criterion when the input is cancelled;
// kTimeout when its deadline has passed; kJudgeError for a criterion index
// out of range or a check that cannot be evaluated (unvalidated rubric with
// a bad regex). Explanations only when input->include_explanations.
//
// Thread-safety: Grade() may be called concurrently from any thread; the
// only shared state is the internally synchronized profile cache.
#ifndef REWARDD_SERVER_JUDGE_EMBEDDED_EMBEDDED_JUDGE_H_
#define REWARDD_SERVER_JUDGE_EMBEDDED_EMBEDDED_JUDGE_H_

#include <cstddef>
#include <string>

#include "server/judge/embedded/lexical_heuristic.h"
#include "server/judge/embedded/profile_cache.h"
#include "server/judge/judge.h"

namespace rewardd {

struct EmbeddedJudgeOptions {
  std::string name = "embedded";
  // Coverage needed for the heuristic to call a criterion met, in [0, 1].
  double heuristic_threshold = 0.5;
  // Rubrics whose criterion profiles are kept; 0 disables the cache.
  size_t profile_cache_capacity = 1024;
};

class EmbeddedJudge : public Judge {
 public:
  explicit EmbeddedJudge(EmbeddedJudgeOptions options = {});

  const std::string& name() const override { return options_.name; }
  GradingMode default_mode() const override { return GradingMode::kAllInOne; }

  // Grades inline and calls `done` exactly once before returning, always
  // with an OK status (problems are reported per criterion).
  void Grade(JudgeWork work, JudgeCallback done) override;

 private:
  const EmbeddedJudgeOptions options_;
  const HeuristicOptions heuristic_;
  ProfileCache profiles_;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_JUDGE_EMBEDDED_EMBEDDED_JUDGE_H_

// The grading engine: expands one response into judge work according to the
// grading mode, sends it to the named judge, and aggregates the verdicts into
// a Score once every piece has answered.
//
//   Grader grader(&judges);
//   grader.Grade(input, "", ScoringOptions{},
//                [](absl::StatusOr<GradeResult> r) {
//                  // exactly once, on whichever thread answered last
//                });
//
// Expansion: kAllInOne -> one JudgeWork with every criterion; kPerCriterion ->
// one per criterion; kChunked -> chunk_size criteria each (default 5).
//
// Thread-safety: Grade() may be called from any thread; the callback runs on
// the thread of the judge answer that completes the response (for the
// embedded judge, inside Grade()).
#ifndef REWARDD_SERVER_GRADING_GRADER_H_
#define REWARDD_SERVER_GRADING_GRADER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/grading/scoring.h"
#include "server/judge/judge.h"
#include "server/judge/judge_registry.h"

namespace rewardd {

struct GradeResult {
  std::shared_ptr<const GradeInput> input;
  std::vector<Verdict> verdicts;  // parallel to input->rubric->criteria
  Score score;
  std::string judge;
  absl::Duration queue_time = absl::ZeroDuration();  // longest of the pieces
  absl::Duration judge_time = absl::ZeroDuration();  // longest of the pieces
};

// Called exactly once. Non-OK only when the request as a whole failed: an
// unknown judge (NOT_FOUND), or a refusal from the judge layer
// (RESOURCE_EXHAUSTED, UNAVAILABLE, DEADLINE_EXCEEDED).
using GradeCallback = absl::AnyInvocable<void(absl::StatusOr<GradeResult>) &&>;

class Grader {
 public:
  explicit Grader(const JudgeRegistry* judges) : judges_(judges) {}

  void Grade(std::shared_ptr<const GradeInput> input,
             absl::string_view judge_name, const ScoringOptions& scoring,
             GradeCallback done) const;

  // The judge work `input` expands into for `mode` (kDefault resolved by the
  // caller). Exposed for tests and for the prefix-sharing benchmark.
  static std::vector<std::vector<uint32_t>> Expand(size_t criteria,
                                                   GradingMode mode,
                                                   uint32_t chunk_size);

  const JudgeRegistry& judges() const { return *judges_; }

 private:
  const JudgeRegistry* judges_;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_GRADING_GRADER_H_

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
// Aggregation: each piece's verdicts land at its criteria's indices; a piece
// answered with fewer verdicts than criteria leaves the rest kMissing; the
// first refusal of any piece fails the response. A judge cannot answer a
// piece twice: JudgeCallback is move-only and consumed by its call.
//
// Thread-safety: Grade() may be called from any thread; the callback runs on
// the thread of the judge answer that completes the response (for the
// embedded judge, inside Grade(); for the HTTP judge, its HTTP loop thread),
// so it must not block.
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

// Called exactly once. Non-OK only when the request as a whole failed:
//   NOT_FOUND           `judge_name` is not in the registry (the service
//                       never gets this: its request resolver checks the name
//                       first and answers INVALID_ARGUMENT);
//   or the first refusal of any piece by the judge (judge.h), unchanged:
//   RESOURCE_EXHAUSTED  queue full;
//   UNAVAILABLE         shutting down;
//   DEADLINE_EXCEEDED   could not start before input->deadline;
//   INVALID_ARGUMENT    more votes than the judge allows.
// Failed judge calls are not errors here: they come back as verdicts with
// kJudgeError / kTimeout / kParseError, and the Score says whether the
// result is valid. These are domain codes; the service maps them to wire
// codes (server/service/wire_status.h).
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

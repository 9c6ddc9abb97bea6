// What reward-cli's rubric elicitation commands (generate, refine,
// eval-rubrics) share: their exit codes, the proposer flags, the deadline of
// one rubric call, the check that the server can be reached, and telling a
// request error that would fail every prompt (an unknown proposer) from one
// that concerns one prompt.
//
//   if (int code = CheckReachable(client); code != kExitOk) return code;
//   request.mutable_options()->CopyFrom(ProposerOptionsFromFlags());
//
// Thread-safety: stateless functions (flags are read-only once parsed).
#ifndef REWARDD_CLIENT_CLI_ELICITATION_COMMON_H_
#define REWARDD_CLIENT_CLI_ELICITATION_COMMON_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/reward_client.h"
#include "reward/v1/rubric_service.pb.h"

namespace rewardd::cli {

// Exit codes of generate, refine and eval-rubrics.
inline constexpr int kExitOk = 0;
// Bad usage or input (the message names the record and field), an unknown
// proposer / judge / rubric set, or a server without proposers.
inline constexpr int kExitInput = 1;
// The server cannot be reached (or an output file cannot be written).
inline constexpr int kExitUnreachable = 2;
// Some prompts failed or had proposals rejected (all are in the outputs,
// with a status saying why), or some pairs / groups could not be graded.
inline constexpr int kExitPartial = 3;

// --proposer, --max_criteria, --min_weight, --max_weight, --allow_pitfalls.
reward::v1::ProposerOptions ProposerOptionsFromFlags();

// --verifier_judge, --verifier_mode, --verifier_votes: how responses are
// graded (refine's verifier, eval-rubrics). Errors name the flag.
absl::StatusOr<reward::v1::GradeOptions> VerifierOptionsFromFlags();

// --rubric_deadline_seconds: the deadline of one GenerateRubric call or one
// whole RefineRubric stream.
absl::Duration RubricCallDeadline();

// kExitOk when the server answers a health check; otherwise prints why and
// returns kExitUnreachable.
int CheckReachable(RewardClient& client);

// Whether `status`, from a call for one prompt, would be the same for every
// prompt: an unknown proposer or verifier judge (INVALID_ARGUMENT naming
// "proposer." / "verifier."), a server without proposers
// (FAILED_PRECONDITION), or a refused token. The run then stops.
bool IsRunWideError(const absl::Status& status);

}  // namespace rewardd::cli

#endif  // REWARDD_CLIENT_CLI_ELICITATION_COMMON_H_

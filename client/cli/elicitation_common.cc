#include "client/cli/elicitation_common.h"

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/cli/cli_flags.h"

ABSL_FLAG(std::string, proposer, "",
          "generate / refine: the proposer (from the server's judges "
          "config; empty = the server's default).");
ABSL_FLAG(int, max_criteria, 0,
          "generate / refine: most criteria per rubric (0 = the server's "
          "default).");
ABSL_FLAG(double, min_weight, 0,
          "generate / refine: smallest criterion weight (0 and 0 = 1..3).");
ABSL_FLAG(double, max_weight, 0, "generate / refine: largest weight.");
ABSL_FLAG(bool, allow_pitfalls, false,
          "generate / refine: allow negative-weight (pitfall) criteria.");
ABSL_FLAG(std::string, verifier_judge, "",
          "refine / eval-rubrics: the judge that grades responses (empty = "
          "the server's default judge).");
ABSL_FLAG(std::string, verifier_mode, "",
          "refine / eval-rubrics: how the judge is called: all_in_one, "
          "per_criterion or chunked (empty = the judge's configured mode).");
ABSL_FLAG(int, verifier_votes, 0,
          "refine / eval-rubrics: judge samples per grading (0 = the "
          "judge's configured votes).");
ABSL_FLAG(double, rubric_deadline_seconds, 600,
          "generate / refine: deadline of one GenerateRubric call or one "
          "whole refinement of a prompt.");

namespace rewardd::cli {

reward::v1::ProposerOptions ProposerOptionsFromFlags() {
  reward::v1::ProposerOptions o;
  o.set_proposer(absl::GetFlag(FLAGS_proposer));
  o.set_max_criteria(
      static_cast<uint32_t>(std::max(0, absl::GetFlag(FLAGS_max_criteria))));
  o.set_min_weight(absl::GetFlag(FLAGS_min_weight));
  o.set_max_weight(absl::GetFlag(FLAGS_max_weight));
  o.set_allow_pitfalls(absl::GetFlag(FLAGS_allow_pitfalls));
  return o;
}

absl::StatusOr<reward::v1::GradeOptions> VerifierOptionsFromFlags() {
  reward::v1::GradeOptions o;
  o.set_judge(absl::GetFlag(FLAGS_verifier_judge));
  const std::string mode = absl::GetFlag(FLAGS_verifier_mode);
  if (!mode.empty()) {
    reward::v1::GradingMode parsed;
    if (!reward::v1::GradingMode_Parse(absl::AsciiStrToUpper(mode), &parsed) ||
        parsed == reward::v1::GRADING_MODE_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          "--verifier_mode must be all_in_one, per_criterion or chunked");
    }
    o.set_mode(parsed);
  }
  const int votes = absl::GetFlag(FLAGS_verifier_votes);
  if (votes < 0) {
    return absl::InvalidArgumentError("--verifier_votes must be >= 0");
  }
  o.set_votes(static_cast<uint32_t>(votes));
  return o;
}

absl::Duration RubricCallDeadline() {
  return absl::Seconds(absl::GetFlag(FLAGS_rubric_deadline_seconds));
}

int CheckReachable(RewardClient& client) {
  absl::StatusOr<grpc::health::v1::HealthCheckResponse::ServingStatus> health =
      client.Health("");
  if (health.ok()) return kExitOk;
  if (absl::IsUnavailable(health.status()) ||
      absl::IsDeadlineExceeded(health.status())) {
    PrintError(absl::StrCat("cannot reach the server at ",
                            client.options().target, ": ",
                            health.status().message()));
    return kExitUnreachable;
  }
  return kExitOk;  // e.g. health not served: the calls will tell
}

bool IsRunWideError(const absl::Status& status) {
  if (absl::IsFailedPrecondition(status) || absl::IsUnauthenticated(status) ||
      absl::IsPermissionDenied(status)) {
    return true;
  }
  return absl::IsInvalidArgument(status) &&
         (absl::StartsWith(status.message(), "proposer.") ||
          absl::StartsWith(status.message(), "options.proposer") ||
          absl::StartsWith(status.message(), "verifier."));
}

}  // namespace rewardd::cli

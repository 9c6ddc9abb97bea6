// Conversions between the RubricService protos
// (protos/reward/v1/rubric_service.proto) and the elicitation engine's C++
// types (server/elicitation): requests become RefineJob / GenerateJob
// settings, engine events become RefineRubricEvent messages. The service
// layer is the only one that knows both.
//
//   pb::RefineRubricEvent out;
//   RefinementEventToProto(event, &out);
//   absl::StatusOr<ValidationOptions> v = ValidationFromProto(request.proposer());
//
// Field checks that need no server state live here and name the field;
// look-ups (proposer names, stored rubrics) are the service's.
//
// Thread-safety: stateless functions.
#ifndef REWARDD_SERVER_SERVICE_REFINEMENT_PROTO_H_
#define REWARDD_SERVER_SERVICE_REFINEMENT_PROTO_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/repeated_field.h"
#include "reward/v1/rubric_service.pb.h"
#include "server/elicitation/proposal_validator.h"
#include "server/elicitation/refinement_events.h"
#include "server/elicitation/rtd_engine.h"

namespace rewardd {

// Engine events and their parts, as protos (RubricVersionInfoToProto is in
// proto_convert.h).
void RefinementEventToProto(const RefinementEvent& event,
                            reward::v1::RefineRubricEvent* proto);

// The prompt of a request: `prompt` or `messages`, exactly one, as the
// canonical text (CanonicalPrompt for messages). Errors name the field.
absl::StatusOr<std::string> PromptFromProto(
    const std::string& prompt,
    const google::protobuf::RepeatedPtrField<reward::v1::Message>& messages,
    std::vector<ChatMessage>* chat);

// ProposerOptions as proposal limits (0 / 0-0 = the defaults). Errors name
// the field (max_criteria over `max_criteria_ceiling`, min_weight >
// max_weight, negative limits without allow_pitfalls, ...).
absl::StatusOr<ValidationOptions> ValidationFromProto(
    const reward::v1::ProposerOptions& options, size_t max_criteria_ceiling);

// RefineOptions and the verifier's GradeOptions.
RefineSettings RefineSettingsFromProto(const reward::v1::RefineOptions& o);
VerifierSettings VerifierFromProto(const reward::v1::GradeOptions& o);

}  // namespace rewardd

#endif  // REWARDD_SERVER_SERVICE_REFINEMENT_PROTO_H_

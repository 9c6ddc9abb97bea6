// Conversions between the public API (reward.v1 protos) and the domain types
// of the grading engine. The service layer is the only one that knows both.
// (Statuses become gRPC codes in wire_status.h.)
//
//   absl::StatusOr<Rubric> r = RubricFromProto(request.rubric());
//   GradeResultToProto(result, /*include_explanations=*/false, &response);
//
// Thread-safety: stateless functions.
#ifndef REWARDD_SERVER_SERVICE_PROTO_CONVERT_H_
#define REWARDD_SERVER_SERVICE_PROTO_CONVERT_H_

#include "absl/status/statusor.h"
#include "reward/v1/reward.pb.h"
#include "server/grading/grader.h"
#include "server/grading/saturation_tracker.h"
#include "server/grading/scoring.h"
#include "server/rubric/rubric.h"

namespace rewardd {

// Validates the inline rubric (as ValidateRubric) and sets its version.
absl::StatusOr<Rubric> RubricFromProto(const reward::v1::Rubric& proto);
void RubricToProto(const Rubric& rubric, reward::v1::Rubric* proto);

GradingMode GradingModeFromProto(reward::v1::GradingMode mode);
ScoringOptions ScoringFromProto(const reward::v1::GradeOptions& options);

// Fills everything but request_id and timings.total_seconds.
void GradeResultToProto(const GradeResult& result, bool include_explanations,
                        reward::v1::GradeResponse* proto);

// A rubric version's provenance (a loaded rubric's lineage entries, the
// refinement engine's versions).
void RubricVersionInfoToProto(const RubricVersionInfo& info,
                              reward::v1::RubricVersionInfo* proto);

// One entry of ListSaturatedRubrics.
void SaturatedRubricToProto(const SaturatedRubric& rubric,
                            reward::v1::SaturatedRubric* out);

void RubricSetInfoToProto(const RubricSet& set,
                          reward::v1::RubricSetInfo* info);

}  // namespace rewardd

#endif  // REWARDD_SERVER_SERVICE_PROTO_CONVERT_H_

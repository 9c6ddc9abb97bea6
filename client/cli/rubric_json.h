// Rubrics as JSON records of rewardd's own rubric format
// (docs/rubric-formats.md), as reward-cli reads them from its inputs and
// writes them into rubric set files: {"id", "prompt" | "messages",
// "criteria": [{"id", "text", "weight", "tags"}], "lineage": [...]}.
//
//   nlohmann::json record = RubricRecordJson(rubric, prompt, messages);
//   record["lineage"].push_back(VersionInfoJson(info, {"R1", "R2"}));
//   absl::StatusOr<reward::v1::Rubric> r =
//       RubricFromJson(input_record, input_record.value["rubric"], "rubric");
//
// Checks (reward.v1.Check) are not written: rubrics from proposers have none.
//
// Thread-safety: stateless functions.
#ifndef REWARDD_CLIENT_CLI_RUBRIC_JSON_H_
#define REWARDD_CLIENT_CLI_RUBRIC_JSON_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/cli/json_records.h"
#include "reward/v1/reward.pb.h"

namespace rewardd::cli {

// The record of `rubric` for a rewardd-format file; the prompt as text, or
// as messages when there are any.
nlohmann::json RubricRecordJson(
    const reward::v1::Rubric& rubric, const std::string& prompt,
    const google::protobuf::RepeatedPtrField<reward::v1::Message>& messages);

// A rubric written inline in an input record (`json` is the value of the
// record's field `field`): rewardd's record shape, also accepting the paper
// code's "criterion" for "text" and "local_id" for "id". Criteria without
// ids get c1..cN. Errors name the record and the field
// ("rubric.criteria[2]: missing field \"text\"").
absl::StatusOr<reward::v1::Rubric> RubricFromJson(const JsonRecord& record,
                                                  const nlohmann::json& json,
                                                  const std::string& field);

// One lineage entry as the loader reads it (RubricVersionInfo's fields),
// plus "pair_sources": the sources of the pair's candidates, when known.
nlohmann::json VersionInfoJson(const reward::v1::RubricVersionInfo& info,
                               const std::vector<std::string>& pair_sources);

}  // namespace rewardd::cli

#endif  // REWARDD_CLIENT_CLI_RUBRIC_JSON_H_

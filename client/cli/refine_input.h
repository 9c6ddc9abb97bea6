// The input of `reward-cli refine` (docs/rubric-refinement.md, "CLI"): the
// paper code's shape, a JSON list or JSONL of
//   {"id": str, "prompt": str | [{"role", "content"}...] (or "messages"),
//    "responses": [str | {"generator": str, "response": str}],
//    optional "rubric": {rewardd rubric record} (the starting rubric) or
//    "rubric_set" + "rubric_id" (a starting rubric loaded on the server)}
// Without a starting rubric, one is generated first. Everything is checked
// before any call is made; errors name the record and the field.
//
//   absl::StatusOr<std::vector<RefineItem>> items =
//       ParseRefineInput(*ReadJsonRecords("prompts.jsonl"));
//
// Thread-safety: stateless functions; items are values.
#ifndef REWARDD_CLIENT_CLI_REFINE_INPUT_H_
#define REWARDD_CLIENT_CLI_REFINE_INPUT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/cli/json_records.h"
#include "reward/v1/rubric_service.pb.h"

namespace rewardd::cli {

struct RefineItem {
  std::string id;
  std::string location;  // "prompts.jsonl line 3", for messages
  // Prompt or messages, and the candidates (text + source: the generator,
  // else "r<index>").
  reward::v1::RefineRubricRequest request;
  // The starting rubric: inline (its id defaults to the record's id), by
  // reference, or neither (generate first).
  std::optional<reward::v1::Rubric> rubric;
  std::string rubric_set;
  std::string rubric_id;
};

// At most this many candidates per prompt (the server's limit).
inline constexpr int kMaxCandidates = 64;

// The id the prompt's rubric has in the output set: the inline rubric's,
// the referenced one's, or (generated) the record's. Unique per input.
std::string OutputRubricId(const RefineItem& item);

absl::StatusOr<std::vector<RefineItem>> ParseRefineInput(
    const std::vector<JsonRecord>& records);

}  // namespace rewardd::cli

#endif  // REWARDD_CLIENT_CLI_REFINE_INPUT_H_

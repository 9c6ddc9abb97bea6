// Reading the input files of reward-cli's elicitation commands (generate,
// refine, eval-rubrics): a JSON list of objects or JSONL (one object a line,
// blank lines skipped), each record with a location for messages
// ("prompts.jsonl line 3", "prompts.json record 2"), and the field helpers
// those commands share. Every error names the record and the field.
//
//   absl::StatusOr<std::vector<JsonRecord>> records =
//       ReadJsonRecords("prompts.jsonl");
//   for (const JsonRecord& r : *records) {
//     absl::StatusOr<std::string> id = RecordId(r);
//     absl::Status s = PromptFromRecord(r, &prompt, &messages);
//   }
//
// Thread-safety: stateless functions.
#ifndef REWARDD_CLIENT_CLI_JSON_RECORDS_H_
#define REWARDD_CLIENT_CLI_JSON_RECORDS_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/repeated_field.h"
#include "reward/v1/reward.pb.h"

namespace rewardd::cli {

struct JsonRecord {
  nlohmann::json value;
  std::string location;  // "prompts.jsonl line 3"
};

// Reads `path` ("-" = stdin): a JSON list of objects, one JSON object, or
// JSONL. INVALID_ARGUMENT naming the line or record for invalid JSON or a
// record that is not an object; an error naming the path when it cannot be
// read; INVALID_ARGUMENT for a file without records.
absl::StatusOr<std::vector<JsonRecord>> ReadJsonRecords(
    const std::string& path);

// INVALID_ARGUMENT "<location> (id 'x'): <message>".
absl::Status RecordError(const JsonRecord& record, absl::string_view message);

// The record's "id": a non-empty string (an integer is written in decimal).
absl::StatusOr<std::string> RecordId(const JsonRecord& record);

// A string field; "" when absent, an error when not a string.
absl::StatusOr<std::string> OptionalStringField(const JsonRecord& record,
                                                const char* key);

// The prompt: "prompt" as a string or as chat messages [{role, content}],
// or "messages" (not both); exactly one of `prompt` and `messages` is set.
absl::Status PromptFromRecord(
    const JsonRecord& record, std::string* prompt,
    google::protobuf::RepeatedPtrField<reward::v1::Message>* messages);

// The list of strings at `key` (each non-empty); an error naming the entry.
absl::StatusOr<std::vector<std::string>> StringListField(
    const JsonRecord& record, const char* key, bool required);

}  // namespace rewardd::cli

#endif  // REWARDD_CLIENT_CLI_JSON_RECORDS_H_

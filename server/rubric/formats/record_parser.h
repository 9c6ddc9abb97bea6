// Internal to the rubric loader (rubric_loader.cc): one parser per input
// format turning one JSON record into rubrics, plus the field helpers they
// share so that every format reports errors the same way. Not a public API:
// callers use LoadRubricFile() / ParseRubricSet().
//
//   RecordContext ctx("med.jsonl line 3", &warnings);
//   std::vector<Rubric> out;
//   absl::Status s = ParseHealthBenchRecord(record, ctx, out);
//   // s.message(): "med.jsonl line 3 (rubric 'x'): criterion #2: weight is
//   //              not a number (got \"3\")"
//
// Thread-safety: stateless functions; a RecordContext belongs to one thread.
#ifndef REWARDD_SERVER_RUBRIC_FORMATS_RECORD_PARSER_H_
#define REWARDD_SERVER_RUBRIC_FORMATS_RECORD_PARSER_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/rubric/rubric.h"
#include "server/util/status_macros.h"

namespace rewardd {
namespace rubric_formats {

using Json = nlohmann::json;

// Where a record came from ("med.jsonl line 3", "demo.json record 2") and,
// once known, its rubric id: the prefix of every error about the record.
class RecordContext {
 public:
  RecordContext(std::string location, std::vector<std::string>* warnings)
      : location_(std::move(location)), warnings_(warnings) {}

  void set_rubric_id(absl::string_view id) { rubric_id_ = std::string(id); }
  // "med.jsonl line 3 (rubric 'x')".
  std::string Prefix() const;
  // InvalidArgument "<prefix>: <message>".
  absl::Status Error(absl::string_view message) const;
  // Records a skipped record: "<prefix>: <message>".
  void Warn(absl::string_view message) const;

 private:
  std::string location_;
  std::string rubric_id_;
  std::vector<std::string>* warnings_;
};

// The value in a message: its JSON text, cut to a readable length.
std::string Preview(const Json& value);

// Field helpers. `where` is prepended to the field name in messages
// ("criterion #2: " or "" for record-level fields).
absl::StatusOr<std::string> RequiredString(const Json& obj, const char* key,
                                           const RecordContext& ctx,
                                           absl::string_view where);
// "" when absent.
absl::StatusOr<std::string> OptionalString(const Json& obj, const char* key,
                                           const RecordContext& ctx,
                                           absl::string_view where);
// `fallback` when absent; an error when not a number.
absl::StatusOr<double> NumberField(const Json& obj, const char* key,
                                   bool required, double fallback,
                                   const RecordContext& ctx,
                                   absl::string_view where);
// Empty when absent; an error unless an array of strings.
absl::StatusOr<std::vector<std::string>> StringArray(const Json& obj,
                                                     const char* key,
                                                     const RecordContext& ctx,
                                                     absl::string_view where);
// The array at `key`; an error when absent or not an array.
absl::StatusOr<const Json*> RequiredArray(const Json& obj, const char* key,
                                          const RecordContext& ctx,
                                          absl::string_view where);
// A prompt given as a string or as chat messages [{role, content}] (then
// CanonicalPrompt of them). "" when absent and not `required`.
absl::StatusOr<std::string> PromptField(const Json& obj, const char* key,
                                        bool required,
                                        const RecordContext& ctx);
// The rubric id at `key` (a string, or an integer written in decimal); when
// absent, PromptDerivedId(prompt); an error when both are missing. Also sets
// the context's rubric id.
absl::StatusOr<std::string> RubricIdField(const Json& obj, const char* key,
                                          absl::string_view prompt,
                                          RecordContext& ctx);
// "criterion #<index + 1>: ".
std::string CriterionWhere(size_t index);
// "c<index + 1>": the id of criteria the source does not name.
std::string DefaultCriterionId(size_t index);

// Criteria given as a list of {<text_key>, <weight_key>, [<id_key>], [tags]}
// objects, as most published rubric datasets write them. Ids come from
// `id_key` (nullptr: none) or are numbered c1, c2, ...; a missing weight is
// an error when `weight_required`, otherwise 1.
absl::Status ParseCriterionList(const Json& list, const char* text_key,
                                const char* weight_key, bool weight_required,
                                const char* id_key, const RecordContext& ctx,
                                std::vector<Criterion>& out);

// One parser per format. Each appends the rubrics of `record` (an object) to
// `out`: usually one, two for the paper appendix, none for a skipped record.
// The loader validates, versions and indexes them afterwards.
using RecordParser = absl::Status (*)(const Json& record, RecordContext& ctx,
                                      std::vector<Rubric>& out);

absl::Status ParseRewarddRecord(const Json& record, RecordContext& ctx,
                                std::vector<Rubric>& out);
absl::Status ParsePaperDatasetRecord(const Json& record, RecordContext& ctx,
                                     std::vector<Rubric>& out);
absl::Status ParsePaperCodeRecord(const Json& record, RecordContext& ctx,
                                  std::vector<Rubric>& out);
absl::Status ParsePaperAppendixRecord(const Json& record, RecordContext& ctx,
                                      std::vector<Rubric>& out);
absl::Status ParseHealthBenchRecord(const Json& record, RecordContext& ctx,
                                    std::vector<Rubric>& out);
absl::Status ParseBigGenRecord(const Json& record, RecordContext& ctx,
                               std::vector<Rubric>& out);

// The rewardd "check" object of one criterion (see docs/rubric-formats.md).
absl::StatusOr<Check> ParseCheckJson(const Json& check,
                                     const RecordContext& ctx,
                                     absl::string_view where);

}  // namespace rubric_formats
}  // namespace rewardd

#endif  // REWARDD_SERVER_RUBRIC_FORMATS_RECORD_PARSER_H_

#include "client/cli/eval_rubrics_result.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/util/json_file.h"

namespace rewardd::cli {
namespace {

absl::Status FieldError(const std::string& source, absl::string_view field,
                        absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("--eval ", source, ": ", field, ": ", what));
}

// Reads the optional number `key` of sets[i] into `out`.
absl::Status ReadNumber(const nlohmann::json& set, const char* key,
                        const std::string& source, size_t i,
                        std::optional<double>* out) {
  const auto it = set.find(key);
  if (it == set.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_number()) {
    return FieldError(source, absl::StrCat("sets[", i, "].", key),
                      "not a number");
  }
  *out = it->get<double>();
  return absl::OkStatus();
}

absl::StatusOr<EvalSetResult> ParseSet(const nlohmann::json& set,
                                       const std::string& source, size_t i) {
  if (!set.is_object()) {
    return FieldError(source, absl::StrCat("sets[", i, "]"), "not an object");
  }
  EvalSetResult r;
  r.source = source;
  const auto name = set.find("rubric_set");
  if (name == set.end() || !name->is_string()) {
    return FieldError(source, absl::StrCat("sets[", i, "].rubric_set"),
                      "missing or not a string");
  }
  r.rubric_set = name->get<std::string>();
  if (const auto v = set.find("set_version");
      v != set.end() && v->is_string()) {
    r.set_version = v->get<std::string>();
  }
  const std::pair<const char*, std::optional<double>*> numbers[] = {
      {"pairs", &r.pairs},
      {"accuracy", &r.accuracy},
      {"tie_rate", &r.tie_rate},
      {"top_quartile_pairs", &r.top_quartile_pairs},
      {"top_quartile_accuracy", &r.top_quartile_accuracy},
      {"groups", &r.groups},
      {"tied_top_groups", &r.tied_top_groups},
      {"separated_groups", &r.separated_groups},
      {"zero_variance_groups", &r.zero_variance_groups},
      {"errors", &r.errors}};
  for (const auto& [key, out] : numbers) {
    if (absl::Status s = ReadNumber(set, key, source, i, out); !s.ok()) {
      return s;
    }
  }
  return r;
}

}  // namespace

absl::StatusOr<std::vector<EvalSetResult>> ParseEvalRubricsJson(
    const nlohmann::json& doc, const std::string& source) {
  const auto schema = doc.find("schema");
  if (schema == doc.end() || !schema->is_string() ||
      schema->get<std::string>() != kEvalRubricsSchema) {
    return FieldError(source, "schema",
                      absl::StrCat("expected \"", kEvalRubricsSchema, "\""));
  }
  const auto sets = doc.find("sets");
  if (sets == doc.end() || !sets->is_array()) {
    return FieldError(source, "sets", "missing or not a list");
  }
  std::vector<EvalSetResult> out;
  for (size_t i = 0; i < sets->size(); ++i) {
    absl::StatusOr<EvalSetResult> r = ParseSet((*sets)[i], source, i);
    if (!r.ok()) return r.status();
    out.push_back(*std::move(r));
  }
  return out;
}

absl::StatusOr<std::vector<EvalSetResult>> ReadEvalRubricsFile(
    const std::string& path) {
  absl::StatusOr<nlohmann::json> doc = ReadJsonObjectFile(path);
  if (!doc.ok()) {
    return absl::Status(doc.status().code(),
                        absl::StrCat("--eval: ", doc.status().message()));
  }
  return ParseEvalRubricsJson(*doc, path);
}

}  // namespace rewardd::cli

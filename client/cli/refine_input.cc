#include "client/cli/refine_input.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "client/cli/rubric_json.h"
#include "server/util/status_macros.h"

namespace rewardd::cli {
namespace {

using Json = nlohmann::json;

absl::Status AddCandidates(const JsonRecord& record,
                           reward::v1::RefineRubricRequest& request) {
  auto it = record.value.find("responses");
  if (it == record.value.end() || it->is_null()) {
    return RecordError(record, "missing field \"responses\"");
  }
  if (!it->is_array()) return RecordError(record, "responses is not a list");
  if (it->size() < 2) {
    return RecordError(record,
                       absl::StrCat("responses: need at least 2 candidate "
                                    "responses to compare (got ",
                                    it->size(), ")"));
  }
  if (it->size() > kMaxCandidates) {
    return RecordError(
        record, absl::StrCat("responses: at most ", kMaxCandidates, " (got ",
                             it->size(), ")"));
  }
  absl::flat_hash_map<std::string, size_t> seen;
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& r = (*it)[i];
    const std::string where = absl::StrCat("responses[", i, "]");
    std::string text;
    std::string source = absl::StrCat("r", i);
    if (r.is_string()) {
      text = r.get<std::string>();
    } else if (r.is_object() && r.contains("response") &&
               r["response"].is_string()) {
      text = r["response"].get<std::string>();
      if (auto g = r.find("generator"); g != r.end() && !g->is_null()) {
        if (!g->is_string()) {
          return RecordError(record, where + ".generator is not a string");
        }
        if (!g->get<std::string>().empty()) source = g->get<std::string>();
      }
    } else {
      return RecordError(record, where +
                                     " is not a string or {\"generator\": "
                                     "str, \"response\": str}");
    }
    if (absl::StripAsciiWhitespace(text).empty()) {
      return RecordError(record, where + " is empty");
    }
    auto [dup, inserted] = seen.emplace(text, i);
    if (!inserted) {
      return RecordError(record, absl::StrCat(where, " duplicates responses[",
                                              dup->second, "]"));
    }
    reward::v1::CandidateResponse* c = request.add_candidates();
    c->set_text(std::move(text));
    c->set_source(std::move(source));
  }
  return absl::OkStatus();
}

absl::StatusOr<RefineItem> ParseItem(const JsonRecord& record) {
  RefineItem item;
  item.location = record.location;
  REWARDD_ASSIGN_OR_RETURN(item.id, RecordId(record));
  REWARDD_RETURN_IF_ERROR(PromptFromRecord(
      record, item.request.mutable_prompt(), item.request.mutable_messages()));
  REWARDD_RETURN_IF_ERROR(AddCandidates(record, item.request));
  REWARDD_ASSIGN_OR_RETURN(item.rubric_set,
                           OptionalStringField(record, "rubric_set"));
  REWARDD_ASSIGN_OR_RETURN(item.rubric_id,
                           OptionalStringField(record, "rubric_id"));
  const bool by_ref = !item.rubric_set.empty() || !item.rubric_id.empty();
  if (by_ref && (item.rubric_set.empty() || item.rubric_id.empty())) {
    return RecordError(record,
                       "rubric_set and rubric_id go together: give both");
  }
  if (auto r = record.value.find("rubric");
      r != record.value.end() && !r->is_null()) {
    if (by_ref) {
      return RecordError(record,
                         "give \"rubric\" or \"rubric_set\"/\"rubric_id\", "
                         "not both");
    }
    REWARDD_ASSIGN_OR_RETURN(reward::v1::Rubric rubric,
                             RubricFromJson(record, *r, "rubric"));
    if (rubric.id().empty()) rubric.set_id(item.id);
    item.rubric = std::move(rubric);
  }
  return item;
}

}  // namespace

std::string OutputRubricId(const RefineItem& item) {
  if (item.rubric.has_value()) return item.rubric->id();
  if (!item.rubric_id.empty()) return item.rubric_id;
  return item.id;
}

absl::StatusOr<std::vector<RefineItem>> ParseRefineInput(
    const std::vector<JsonRecord>& records) {
  std::vector<RefineItem> items;
  absl::flat_hash_map<std::string, std::string> ids;  // id -> location
  // The output set holds one rubric per id: two prompts that would write
  // the same rubric id would lose one of them.
  absl::flat_hash_map<std::string, std::string> rubric_ids;
  for (const JsonRecord& record : records) {
    REWARDD_ASSIGN_OR_RETURN(RefineItem item, ParseItem(record));
    auto [it, inserted] = ids.emplace(item.id, record.location);
    if (!inserted) {
      return RecordError(record, absl::StrCat("duplicate id '", item.id,
                                              "' (first at ", it->second, ")"));
    }
    const std::string rubric_id = OutputRubricId(item);
    auto [r, fresh] = rubric_ids.emplace(rubric_id, record.location);
    if (!fresh) {
      return RecordError(
          record,
          absl::StrCat("its rubric id '", rubric_id, "' is also the rubric of ",
                       r->second, "; the output set holds one rubric per id"));
    }
    items.push_back(std::move(item));
  }
  return items;
}

}  // namespace rewardd::cli

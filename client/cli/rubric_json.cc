#include "client/cli/rubric_json.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace rewardd::cli {
namespace {

using Json = nlohmann::json;

// The first of `keys` present in `obj`, or nullptr.
const Json* FirstOf(const Json& obj, std::initializer_list<const char*> keys,
                    const char** which) {
  for (const char* key : keys) {
    auto it = obj.find(key);
    if (it != obj.end() && !it->is_null()) {
      *which = key;
      return &*it;
    }
  }
  return nullptr;
}

absl::StatusOr<reward::v1::Criterion> CriterionFromJson(
    const JsonRecord& record, const Json& c, const std::string& where,
    size_t index) {
  reward::v1::Criterion out;
  if (!c.is_object()) return RecordError(record, where + " is not an object");
  const char* key = nullptr;
  const Json* text = FirstOf(c, {"text", "criterion"}, &key);
  if (text == nullptr) {
    return RecordError(record, where + ": missing field \"text\"");
  }
  if (!text->is_string() ||
      absl::StripAsciiWhitespace(text->get<std::string>()).empty()) {
    return RecordError(
        record, absl::StrCat(where, ".", key, " is not a non-empty string"));
  }
  out.set_text(text->get<std::string>());
  const Json* id = FirstOf(c, {"id", "local_id"}, &key);
  if (id != nullptr && (!id->is_string() || id->get<std::string>().empty())) {
    return RecordError(
        record, absl::StrCat(where, ".", key, " is not a non-empty string"));
  }
  out.set_id(id != nullptr ? id->get<std::string>()
                           : absl::StrCat("c", index + 1));
  out.set_weight(1);
  if (auto w = c.find("weight"); w != c.end() && !w->is_null()) {
    if (!w->is_number() || !std::isfinite(w->get<double>())) {
      return RecordError(record, where + ".weight is not a number");
    }
    out.set_weight(w->get<double>());
  }
  if (auto t = c.find("tags"); t != c.end() && !t->is_null()) {
    if (!t->is_array())
      return RecordError(record, where + ".tags is not a list");
    for (const Json& tag : *t) {
      if (!tag.is_string()) {
        return RecordError(record, where + ".tags holds a non-string");
      }
      out.add_tags(tag.get<std::string>());
    }
  }
  return out;
}

}  // namespace

Json RubricRecordJson(
    const reward::v1::Rubric& rubric, const std::string& prompt,
    const google::protobuf::RepeatedPtrField<reward::v1::Message>& messages) {
  Json record = {{"id", rubric.id()}};
  if (!messages.empty()) {
    Json list = Json::array();
    for (const reward::v1::Message& m : messages) {
      list.push_back({{"role", m.role()}, {"content", m.content()}});
    }
    record["messages"] = std::move(list);
  } else if (!prompt.empty()) {
    record["prompt"] = prompt;
  }
  Json criteria = Json::array();
  for (const reward::v1::Criterion& c : rubric.criteria()) {
    Json item = {{"id", c.id()}, {"text", c.text()}, {"weight", c.weight()}};
    if (c.tags_size() > 0) {
      item["tags"] =
          Json(std::vector<std::string>(c.tags().begin(), c.tags().end()));
    }
    criteria.push_back(std::move(item));
  }
  record["criteria"] = std::move(criteria);
  return record;
}

absl::StatusOr<reward::v1::Rubric> RubricFromJson(const JsonRecord& record,
                                                  const Json& json,
                                                  const std::string& field) {
  if (!json.is_object()) {
    return RecordError(record, field + " is not an object");
  }
  reward::v1::Rubric rubric;
  if (auto id = json.find("id"); id != json.end() && !id->is_null()) {
    if (!id->is_string() || id->get<std::string>().empty()) {
      return RecordError(record, field + ".id is not a non-empty string");
    }
    rubric.set_id(id->get<std::string>());
  }
  auto criteria = json.find("criteria");
  if (criteria == json.end() || !criteria->is_array() || criteria->empty()) {
    return RecordError(record, field + ".criteria is missing or empty");
  }
  for (size_t i = 0; i < criteria->size(); ++i) {
    absl::StatusOr<reward::v1::Criterion> c = CriterionFromJson(
        record, (*criteria)[i], absl::StrCat(field, ".criteria[", i, "]"), i);
    if (!c.ok()) return c.status();
    *rubric.add_criteria() = *std::move(c);
  }
  return rubric;
}

Json VersionInfoJson(const reward::v1::RubricVersionInfo& info,
                     const std::vector<std::string>& pair_sources) {
  Json e = {{"version", info.version()},
            {"parent_version", info.parent_version()},
            {"iteration", info.iteration()},
            {"origin", info.origin()}};
  if (!info.proposer().empty()) e["proposer"] = info.proposer();
  if (!info.proposer_model().empty()) {
    e["proposer_model"] = info.proposer_model();
  }
  if (!info.template_version().empty()) {
    e["template_version"] = info.template_version();
  }
  if (info.pair_size() > 0) {
    e["pair"] =
        Json(std::vector<uint32_t>(info.pair().begin(), info.pair().end()));
  }
  if (!pair_sources.empty()) e["pair_sources"] = pair_sources;
  return e;
}

}  // namespace rewardd::cli

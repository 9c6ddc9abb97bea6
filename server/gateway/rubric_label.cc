#include "server/gateway/rubric_label.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/gateway/json_fields.h"

namespace rewardd {
namespace {

absl::Status ApplyObject(const nlohmann::json& label, absl::string_view field,
                         std::string* set, std::string* id) {
  absl::Status fields = CheckFields(label, {"rubric_set", "rubric_id"},
                                    absl::StrCat(field, "."), "a label object");
  if (!fields.ok()) return fields;
  for (const auto& [key, value] : label.items()) {
    if (!value.is_string()) {
      return FieldError(absl::StrCat(field, ".", key), "must be a string");
    }
    *(key == "rubric_set" ? set : id) = value.get<std::string>();
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyRubricLabel(const nlohmann::json& label,
                              absl::string_view field,
                              const std::string& default_set,
                              reward::v1::GradeRequest* request) {
  std::string set;
  std::string id;
  if (label.is_object()) {
    if (absl::Status s = ApplyObject(label, field, &set, &id); !s.ok()) {
      return s;
    }
  } else if (label.is_string()) {
    const std::string& text = label.get_ref<const std::string&>();
    if (absl::StartsWith(absl::StripLeadingAsciiWhitespace(text), "{")) {
      nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
      if (parsed.is_discarded() || !parsed.is_object()) {
        return FieldError(
            field,
            "starts with '{' but is not a JSON object; write a "
            "rubric id or {\"rubric_set\": ..., \"rubric_id\": ...}");
      }
      if (absl::Status s = ApplyObject(parsed, field, &set, &id); !s.ok()) {
        return s;
      }
    } else {
      id = text;
    }
  } else if (!label.is_null()) {
    return FieldError(field,
                      absl::StrCat("must be a rubric id string, a JSON object "
                                   "with rubric_set / rubric_id, or null; got ",
                                   label.type_name()));
  }
  if (set.empty()) set = default_set;
  if (set.empty()) {
    return FieldError(
        field,
        "names no rubric_set and the gateway has no default rubric "
        "set; put {\"rubric_set\": ..., \"rubric_id\": ...} in the "
        "label");
  }
  request->set_rubric_set(std::move(set));
  request->set_rubric_id(std::move(id));
  return absl::OkStatus();
}

}  // namespace rewardd

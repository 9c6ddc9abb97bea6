#include "server/gateway/slime_codec.h"

#include "absl/strings/str_cat.h"
#include "server/gateway/json_fields.h"
#include "server/gateway/rubric_label.h"

namespace rewardd {
namespace {

namespace pb = reward::v1;

absl::Status ApplyMessages(const nlohmann::json& messages,
                           pb::GradeRequest* request) {
  for (size_t i = 0; i < messages.size(); ++i) {
    const nlohmann::json& m = messages[i];
    const std::string field = absl::StrCat("prompt[", i, "]");
    if (!m.is_object()) {
      return FieldError(field,
                        "must be a chat message {\"role\", \"content\"}");
    }
    absl::Status fields =
        CheckFields(m, {"role", "content"}, field + ".", "a chat message");
    if (!fields.ok()) return fields;
    pb::Message* out = request->add_messages();
    for (const auto& [key, value] : m.items()) {
      if (!value.is_string()) {
        return FieldError(absl::StrCat(field, ".", key), "must be a string");
      }
      *(key == "role" ? out->mutable_role() : out->mutable_content()) =
          value.get<std::string>();
    }
    if (out->role().empty()) return FieldError(field + ".role", "missing");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<pb::GradeRequest> ParseSlimeRequest(
    const nlohmann::json& body, const std::string& default_rubric_set) {
  if (!body.is_object()) {
    return FieldError("request body", "must be a JSON object");
  }
  if (absl::Status s = CheckFields(body, {"prompt", "response", "label"}, "",
                                   "a slime request");
      !s.ok()) {
    return s;
  }
  pb::GradeRequest request;
  auto prompt = body.find("prompt");
  if (prompt == body.end()) return FieldError("prompt", "missing");
  if (prompt->is_string()) {
    request.set_prompt(prompt->get<std::string>());
  } else if (prompt->is_array()) {
    if (absl::Status s = ApplyMessages(*prompt, &request); !s.ok()) return s;
  } else {
    return FieldError("prompt", "must be a string or a list of chat messages");
  }
  auto response = body.find("response");
  if (response == body.end()) return FieldError("response", "missing");
  if (!response->is_string()) return FieldError("response", "must be a string");
  request.set_response(response->get<std::string>());
  auto label = body.find("label");
  absl::Status s =
      ApplyRubricLabel(label == body.end() ? nlohmann::json() : *label, "label",
                       default_rubric_set, &request);
  if (!s.ok()) return s;
  return request;
}

}  // namespace rewardd

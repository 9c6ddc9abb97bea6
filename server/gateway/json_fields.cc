#include "server/gateway/json_fields.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace rewardd {

absl::Status FieldError(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

absl::StatusOr<nlohmann::json> ParseJsonBody(const std::string& body) {
  try {
    return nlohmann::json::parse(body);
  } catch (const nlohmann::json::exception& e) {
    // e.what() says where: "parse error at line 1, column 17: ...".
    return absl::InvalidArgumentError(
        absl::StrCat("request body: malformed JSON: ", e.what()));
  }
}

absl::Status CheckFields(const nlohmann::json& object,
                         std::initializer_list<const char*> allowed,
                         absl::string_view prefix, absl::string_view what) {
  for (const auto& item : object.items()) {
    bool known = false;
    for (const char* name : allowed) known |= item.key() == name;
    if (!known) {
      return FieldError(absl::StrCat(prefix, item.key()),
                        absl::StrCat("unknown field; ", what, " holds only ",
                                     absl::StrJoin(allowed, ", ")));
    }
  }
  return absl::OkStatus();
}

}  // namespace rewardd

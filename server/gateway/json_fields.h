// Reading the JSON bodies of the framework endpoints (OpenRLHF, slime) with
// errors that name the field: the body parsed with the position of a syntax
// error, objects checked for unknown keys, and one error form
// "<field>: <why>" for every bad value.
//
//   ASSIGN_OR_RETURN(nlohmann::json body, ParseJsonBody(http_body));
//   RETURN_IF_ERROR(CheckFields(body, {"prompt", "response"}, "", "slime"));
//
// Thread-safety: pure functions.
#ifndef REWARDD_SERVER_GATEWAY_JSON_FIELDS_H_
#define REWARDD_SERVER_GATEWAY_JSON_FIELDS_H_

#include <initializer_list>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace rewardd {

// INVALID_ARGUMENT "<field>: <why>".
absl::Status FieldError(absl::string_view field, absl::string_view why);

// The body as JSON, or INVALID_ARGUMENT with the line and column where the
// text stops being JSON.
absl::StatusOr<nlohmann::json> ParseJsonBody(const std::string& body);

// OK when every key of `object` is one of `allowed`; else FieldError on
// "<prefix><key>" (prefix e.g. "label.") saying that `what` (e.g. "a slime
// request") holds only the allowed fields.
absl::Status CheckFields(const nlohmann::json& object,
                         std::initializer_list<const char*> allowed,
                         absl::string_view prefix, absl::string_view what);

}  // namespace rewardd

#endif  // REWARDD_SERVER_GATEWAY_JSON_FIELDS_H_

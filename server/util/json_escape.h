// JSON string escaping without building a JSON value: for request bodies
// and answers written straight into a buffer (a judge call's user message,
// the gateway's responses). Bytes >= 0x80 pass through (UTF-8 text stays
// as it is); '"', '\\' and control characters are escaped. Escaping is per
// byte, so the escaped parts of a text concatenate to its escaping.
//
//   std::string body = "{\"content\":";
//   AppendJsonString(text, &body);   // "...", quotes included
//
// Thread-safety: pure functions.
#ifndef REWARDD_SERVER_UTIL_JSON_ESCAPE_H_
#define REWARDD_SERVER_UTIL_JSON_ESCAPE_H_

#include <string>

#include "absl/strings/string_view.h"

namespace rewardd {

// Appends `s` escaped for a JSON string, without quotes.
void AppendJsonEscaped(absl::string_view s, std::string* out);

// Appends `s` as a JSON string, quotes included.
void AppendJsonString(absl::string_view s, std::string* out);

}  // namespace rewardd

#endif  // REWARDD_SERVER_UTIL_JSON_ESCAPE_H_

// Escapes untrusted text (prompts, responses, rubric ids, file names taken
// from a tail log or an eval file) for HTML text and quoted attribute values,
// including inside inline SVG: & < > " ' become character references, and
// bytes that are not valid UTF-8 become U+FFFD so the page's encoding cannot
// be confused.
//
//   absl::StrAppend(&html, "<td>", HtmlEscape(record.prompt), "</td>");
//
// Thread-safety: stateless.
#ifndef REWARDD_CLIENT_CLI_HTML_ESCAPE_H_
#define REWARDD_CLIENT_CLI_HTML_ESCAPE_H_

#include <string>

#include "absl/strings/string_view.h"

namespace rewardd::cli {

std::string HtmlEscape(absl::string_view text);

// HtmlEscape() of at most `max_chars` code points of `text`, with "..."
// when cut (long prompts in a table).
std::string HtmlEscapeShort(absl::string_view text, size_t max_chars);

}  // namespace rewardd::cli

#endif  // REWARDD_CLIENT_CLI_HTML_ESCAPE_H_

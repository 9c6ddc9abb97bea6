#include "client/cli/html_escape.h"

#include "absl/strings/str_cat.h"
#include "server/util/utf8.h"

namespace rewardd::cli {
namespace {

constexpr absl::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Appends the escaped code points of `text` until `max_chars` of them;
// returns whether all of `text` was appended.
bool AppendEscaped(absl::string_view text, size_t max_chars, std::string* out) {
  size_t chars = 0;
  for (size_t i = 0; i < text.size(); ++chars) {
    if (chars == max_chars) return false;
    char32_t cp;
    const size_t len = DecodeUtf8(text, i, &cp);
    const absl::string_view bytes = text.substr(i, len);
    i += len;
    switch (cp) {
      case '&':
        out->append("&amp;");
        break;
      case '<':
        out->append("&lt;");
        break;
      case '>':
        out->append("&gt;");
        break;
      case '"':
        out->append("&quot;");
        break;
      case '\'':
        out->append("&#39;");
        break;
      case 0:
        absl::StrAppend(out, kReplacement);
        break;
      default:
        // A malformed byte decodes as U+FFFD too; write the real one.
        absl::StrAppend(out, cp == 0xFFFD ? kReplacement : bytes);
    }
  }
  return true;
}

}  // namespace

std::string HtmlEscape(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  AppendEscaped(text, text.size() + 1, &out);
  return out;
}

std::string HtmlEscapeShort(absl::string_view text, size_t max_chars) {
  std::string out;
  if (!AppendEscaped(text, max_chars, &out)) out.append("...");
  return out;
}

}  // namespace rewardd::cli

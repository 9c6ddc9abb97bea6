#include "tools/judge-sim/sim_fence.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace rewardd {

bool FindFence(absl::string_view text, absl::string_view name, size_t* begin,
               size_t* end, absl::string_view* inner) {
  const std::string open = absl::StrCat("<", name, "-");
  const size_t b = text.find(open);
  if (b == absl::string_view::npos) return false;
  const size_t close_angle = text.find('>', b);
  if (close_angle == absl::string_view::npos) return false;
  const absl::string_view tag = text.substr(b + 1, close_angle - b - 1);
  const std::string closing = absl::StrCat("\n</", tag, ">");
  const size_t inner_begin = close_angle + 2;  // skip ">\n"
  if (inner_begin > text.size()) return false;
  const size_t c = text.find(closing, inner_begin);
  if (c == absl::string_view::npos) return false;
  *begin = b;
  *end = c + closing.size();
  *inner = text.substr(inner_begin, c - inner_begin);
  return true;
}

}  // namespace rewardd

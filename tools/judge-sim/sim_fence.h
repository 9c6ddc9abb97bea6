// The fences rewardd puts around quoted text in its prompts
// ("<name-1f0c...>\n...\n</name-1f0c...>", server/judge/http/
// prompt_template.h), as judge-sim finds them in a request.
//
//   size_t b, e; absl::string_view inner;
//   if (FindFence(text, "response", &b, &e, &inner)) { ... }
//
// Thread-safety: stateless.
#ifndef REWARDD_TOOLS_JUDGE_SIM_SIM_FENCE_H_
#define REWARDD_TOOLS_JUDGE_SIM_SIM_FENCE_H_

#include <cstddef>

#include "absl/strings/string_view.h"

namespace rewardd {

// Finds the first "<name-XXXX>\n...\n</name-XXXX>"; returns [begin, end) of
// the whole fenced block and the inner text.
bool FindFence(absl::string_view text, absl::string_view name, size_t* begin,
               size_t* end, absl::string_view* inner);

}  // namespace rewardd

#endif  // REWARDD_TOOLS_JUDGE_SIM_SIM_FENCE_H_

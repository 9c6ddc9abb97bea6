// The judge prompts: instructions (system message) and the user message that
// carries the rubric, the prompt and the response, per grading mode. The
// default wording is rewardd's own; a JSON file can replace it.
//
// Order is chosen for prefix caching (vLLM/SGLang reuse the KV cache of a
// shared prefix): all_in_one = instructions, rubric, prompt, response;
// per_criterion = instructions, prompt, response, criterion, so the calls
// for one response differ only in their last lines.
//
// The prompt and the response are fenced between tags that carry a hash of
// their own text (<response-1f0c...> ... </response-1f0c...>), so text inside
// a response cannot close the fence early and pose as instructions or as a
// verdict: the closing tag depends on the very text it would have to contain.
//
//   PromptTemplates t = PromptTemplates::Default();
//   std::string user;
//   t.RenderUser(GradingMode::kAllInOne, input, {0, 1, 2}, &user);
//   const std::string& system = t.System(GradingMode::kAllInOne);
//
// Template files (JSON):
//   {"all_in_one":    {"system": "...", "user":
//   "...{{rubric}}...{{response}}"},
//    "per_criterion": {"system_file": "sys.txt", "user_file": "user.txt"}}
// Placeholders in user templates: {{rubric}} (lines "[id] text"),
// {{prompt}} (fenced), {{response}} (fenced), {{criterion}} ("[id] text").
// A mode left out keeps the default. The system text is constant (no
// placeholders) so every call of a judge shares it.
//
// Thread-safety: immutable after construction; Render* may be called from
// any thread.
#ifndef REWARDD_SERVER_JUDGE_HTTP_PROMPT_TEMPLATE_H_
#define REWARDD_SERVER_JUDGE_HTTP_PROMPT_TEMPLATE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "server/judge/judge.h"

namespace rewardd {

// "<name>-<12 hex digits>" where the digits hash `text`; re-salted until the
// tag does not occur in `text`. Deterministic, so prompts (and prefix caches,
// and verdict caches) are stable across calls and restarts.
std::string FenceTag(absl::string_view name, absl::string_view text);

// Appends "<tag>\n" + text + "\n</tag>".
void AppendFenced(absl::string_view name, absl::string_view text,
                  std::string* out);

// The prompt text a judge sees for `input`: input.prompt, else the
// canonical text of input.messages, else the rubric's prompt.
absl::string_view JudgePromptText(const GradeInput& input,
                                  std::string* storage);

class PromptTemplates {
 public:
  static PromptTemplates Default();
  // Reads a template file (see above); relative *_file paths are resolved
  // against the file's directory. Fails naming the field that is wrong.
  static absl::StatusOr<PromptTemplates> LoadFile(const std::string& path);

  // kChunked uses the all_in_one templates.
  const std::string& System(GradingMode mode) const;
  // Appends the user message for `criteria` (indices into the rubric).
  // kPerCriterion expects exactly one criterion.
  void RenderUser(GradingMode mode, const GradeInput& input,
                  absl::Span<const uint32_t> criteria, std::string* out) const;
  // RenderUser in two parts: the text before the first slot that names
  // criteria (the same for every call about one response: per_criterion's
  // instructions, prompt and response) and the rest. Prefix + suffix equals
  // RenderUser's text.
  void RenderUserPrefix(GradingMode mode, const GradeInput& input,
                        std::string* out) const;
  void RenderUserSuffix(GradingMode mode, const GradeInput& input,
                        absl::Span<const uint32_t> criteria,
                        std::string* out) const;

  // 16 hex digits over every text; part of verdict cache keys.
  const std::string& version() const { return version_; }

 private:
  enum class Slot { kLiteral, kRubric, kPrompt, kResponse, kCriterion };
  struct Segment {
    Slot slot = Slot::kLiteral;
    std::string text;
  };
  struct ModeTemplate {
    std::string system;
    std::string user_source;
    std::vector<Segment> user;
    // Index of the first {{rubric}} or {{criterion}} segment (user.size()
    // when there is none): where RenderUserPrefix stops.
    size_t criteria_begin = 0;
  };
  void Render(const ModeTemplate& t, size_t begin, size_t end,
              const GradeInput& input, absl::Span<const uint32_t> criteria,
              std::string* out) const;
  static absl::StatusOr<ModeTemplate> Compile(std::string system,
                                              std::string user,
                                              bool per_criterion);
  const ModeTemplate& For(GradingMode mode) const;
  void ComputeVersion();

  ModeTemplate all_in_one_;
  ModeTemplate per_criterion_;
  std::string version_;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_JUDGE_HTTP_PROMPT_TEMPLATE_H_

// Exact evaluation of machine-checkable criteria (rewardd::Check): regex,
// contains / not_contains, word / char / line count bounds, valid JSON,
// starts_with / ends_with and numeric final answers. The semantics are those
// of reward.v1.Check in protos/reward/v1/reward.proto; the details the proto
// leaves open are settled here and in docs/embedded-judge.md.
//
//   absl::StatusOr<CheckResult> r = EvaluateCheck(*criterion.check, response);
//   if (r.ok() && r->met) { ... }  // r->explanation: "found 2/3 required
//                                  // strings; missing 'x'"
//
// Every check is linear (or, for contains with many values, values x length)
// in the response size: RE2 guarantees linear-time matching, and nothing here
// backtracks. Explanations are built only when asked for, so the hot path of
// a judge that does not report them allocates little.
//
// Thread-safety: free functions over const inputs; safe from any thread.
#ifndef REWARDD_SERVER_JUDGE_EMBEDDED_CHECK_EVALUATOR_H_
#define REWARDD_SERVER_JUDGE_EMBEDDED_CHECK_EVALUATOR_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/rubric/rubric.h"

namespace rewardd {

struct CheckResult {
  bool met = false;
  // Short human-readable reason; empty unless requested.
  std::string explanation;
};

// One response as the checks of a rubric see it, with what several checks
// need computed once, on first use: the ASCII-lowercased text (for
// case-insensitive contains and regex prefilters) and the word count. A
// rubric's checks of one response share one subject.
//
// Thread-safety: not thread-safe (lazy members); one per response and call.
// Holds `response` by reference: it must outlive the subject.
class CheckSubject {
 public:
  explicit CheckSubject(absl::string_view response) : text_(response) {}

  absl::string_view text() const { return text_; }
  // The text with A-Z mapped to a-z; every other byte unchanged.
  absl::string_view lowered();
  // True when the text has no byte >= 0x80.
  bool ascii();
  int64_t words();

 private:
  absl::string_view text_;
  bool lowered_done_ = false;
  bool ascii_ = true;
  std::string lowered_;
  std::optional<int64_t> words_;
};

// Decides `check` against `response`. Builds `explanation` only when
// `explain` is true.
//
// Errors (INVALID_ARGUMENT): check.kind == kNone (nothing to evaluate), or a
// regex check whose pattern does not compile. A regex check normally carries
// the RE2 compiled by ValidateRubric(); without it (an unvalidated rubric)
// the pattern is compiled here, once per call.
absl::StatusOr<CheckResult> EvaluateCheck(const Check& check,
                                          absl::string_view response,
                                          bool explain = true);
// The same, sharing `subject`'s derived forms with other checks of the same
// response.
absl::StatusOr<CheckResult> EvaluateCheck(const Check& check,
                                          CheckSubject& subject, bool explain);

// The pieces of EvaluateCheck, exposed for tests and for other judges that
// want the same definitions.

// Whitespace-separated words (ASCII whitespace).
int64_t CountWords(absl::string_view text);
// char_count checks count code points: CountUtf8CodePoints() of
// server/util/utf8.h (malformed UTF-8 is counted approximately, never
// rejected).
// Lines: "" has 0, "a" and "a\n" have 1, "a\n\nb" has 3. "\r\n" counts as
// one line break.
int64_t CountLines(absl::string_view text);

// The text a valid_json check parses: surrounding whitespace trimmed and, if
// the text is wrapped in one ``` fence (with an optional language tag such as
// ```json on the opening line), the fence removed.
absl::string_view StripJsonFence(absl::string_view text);

// The final numeric answer of `response` (see Check.NUMERIC): the first
// number after the last "answer" (any case) / "= " / "\boxed{" marker when a
// number follows it, otherwise the last number in the response. Numbers may
// have a sign, thousands separators ("1,234,567"), a decimal part and an
// exponent ("6.02e23"). `marker` (optional) receives the marker used, or ""
// for the last-number rule. nullopt when the response has no number.
std::optional<double> ExtractFinalAnswer(absl::string_view response,
                                         std::string* marker = nullptr);

}  // namespace rewardd

#endif  // REWARDD_SERVER_JUDGE_EMBEDDED_CHECK_EVALUATOR_H_

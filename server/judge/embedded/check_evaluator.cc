#include "server/judge/embedded/check_evaluator.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "re2/re2.h"
#include "server/judge/embedded/number_scanner.h"
#include "server/rubric/regex_prefilter.h"
#include "server/util/substring_search.h"
#include "server/util/utf8.h"

namespace rewardd {
namespace {

// Values and matches quoted in explanations are cut to this many bytes (at a
// UTF-8 boundary) so a verdict never carries a large slab of text.
constexpr size_t kQuoteLimit = 40;

std::string Quote(absl::string_view s) {
  if (s.size() <= kQuoteLimit) return absl::StrCat("'", s, "'");
  return absl::StrCat("'", Utf8Prefix(s, kQuoteLimit), "...'");
}

// ASCII case folding, as absl::ascii_tolower, on both sides: the lowered
// response against the lowered needle (lowered into a reused buffer).
bool Contains(CheckSubject& subject, absl::string_view needle,
              bool case_insensitive) {
  if (!case_insensitive) return ContainsSubstring(subject.text(), needle);
  thread_local std::string lowered_needle;
  lowered_needle.assign(needle.data(), needle.size());
  absl::AsciiStrToLower(&lowered_needle);
  return ContainsSubstring(subject.lowered(), lowered_needle);
}

// The leftmost match of `\bLITERAL\b` (Check::whole_word) in `text`, or
// npos. `haystack` is `text` itself, or its ASCII lowercase form (same
// length) for a case-insensitive check. RE2's \b is an ASCII word boundary
// in UTF-8 mode, and LITERAL starts and ends with a word byte, so a match is
// an occurrence whose neighbours are not word bytes (bytes >= 0x80 are not).
size_t FindWholeWord(absl::string_view text, absl::string_view haystack,
                     absl::string_view literal) {
  size_t from = 0;
  while (from < haystack.size()) {
    const size_t at = FindSubstring(
        std::string_view(haystack.data() + from, haystack.size() - from),
        std::string_view(literal.data(), literal.size()));
    if (at == std::string_view::npos) return absl::string_view::npos;
    const size_t begin = from + at, end = begin + literal.size();
    if ((begin == 0 || !IsRegexWordByte(text[begin - 1])) &&
        (end == text.size() || !IsRegexWordByte(text[end]))) {
      return begin;
    }
    from = begin + 1;
  }
  return absl::string_view::npos;
}

CheckResult EvaluateRegex(const Check& check, const RE2& re,
                          CheckSubject& subject, bool explain) {
  CheckResult r;
  const absl::string_view response = subject.text();
  // A whole-word literal without RE2. Case-insensitive RE2 also folds
  // non-ASCII letters onto ASCII ones (a Kelvin sign matches k), so that
  // case only for ASCII text; a case-sensitive literal is bytes either way.
  if (check.whole_word && (!check.case_insensitive || subject.ascii())) {
    absl::string_view literal =
        absl::string_view(check.pattern).substr(2, check.pattern.size() - 4);
    if (check.case_insensitive) {
      thread_local std::string lowered_literal;
      lowered_literal.assign(literal.data(), literal.size());
      absl::AsciiStrToLower(&lowered_literal);
      literal = lowered_literal;
    }
    const size_t at = FindWholeWord(
        response, check.case_insensitive ? subject.lowered() : response,
        literal);
    r.met = at != absl::string_view::npos;
    if (explain) {
      r.explanation =
          r.met ? absl::StrCat("pattern matched ",
                               Quote(response.substr(at, literal.size())))
                : absl::StrCat("pattern ", Quote(check.pattern), " not found");
    }
    return r;
  }
  // The literals every match needs are absent: no match, without running
  // RE2 over the whole response (regex_prefilter.h says why only for ASCII).
  if (check.prefilter != nullptr && subject.ascii() &&
      check.prefilter->Excludes(subject.lowered())) {
    r.met = false;
    if (explain) {
      r.explanation =
          absl::StrCat("pattern ", Quote(check.pattern), " not found");
    }
    return r;
  }
  // RE2 takes its own StringPiece; absl::string_view does not convert.
  const re2::StringPiece text(response.data(), response.size());
  if (!explain) {
    r.met = RE2::PartialMatch(text, re);
    return r;
  }
  re2::StringPiece match;
  r.met = re.Match(text, 0, text.size(), RE2::UNANCHORED, &match, 1);
  r.explanation =
      r.met ? absl::StrCat("pattern matched ",
                           Quote(absl::string_view(match.data(), match.size())))
            : absl::StrCat("pattern ", Quote(check.pattern), " not found");
  return r;
}

CheckResult EvaluateContains(const Check& check, CheckSubject& response,
                             bool explain) {
  CheckResult r;
  const size_t total = check.values.size();
  if (check.kind == Check::Kind::kNotContains) {
    const std::string* found = nullptr;
    for (const std::string& v : check.values) {
      if (Contains(response, v, check.case_insensitive)) {
        found = &v;
        break;
      }
    }
    r.met = found == nullptr;
    if (explain) {
      r.explanation =
          r.met ? absl::StrCat("none of ", total, " forbidden strings found")
                : absl::StrCat("found forbidden string ", Quote(*found));
    }
    return r;
  }
  if (check.match_any) {
    const std::string* found = nullptr;
    for (const std::string& v : check.values) {
      if (Contains(response, v, check.case_insensitive)) {
        found = &v;
        break;
      }
    }
    r.met = found != nullptr;
    if (explain) {
      r.explanation = r.met ? absl::StrCat("found ", Quote(*found))
                            : absl::StrCat("none of ", total, " strings found");
    }
    return r;
  }
  // All values must occur. Without an explanation, stop at the first miss.
  size_t found = 0;
  const std::string* first_missing = nullptr;
  for (const std::string& v : check.values) {
    if (Contains(response, v, check.case_insensitive)) {
      ++found;
    } else {
      if (first_missing == nullptr) first_missing = &v;
      if (!explain) break;
    }
  }
  r.met = first_missing == nullptr;
  if (explain) {
    r.explanation =
        absl::StrCat("found ", found, "/", total, " required strings");
    if (!r.met)
      absl::StrAppend(&r.explanation, "; missing ", Quote(*first_missing));
  }
  return r;
}

CheckResult EvaluateBounds(const Check& check, int64_t count,
                           absl::string_view unit, bool explain) {
  CheckResult r;
  r.met = (!check.min || count >= *check.min) &&
          (!check.max || count <= *check.max);
  if (explain) {
    r.explanation = absl::StrCat(count, " ", unit, "; expected ");
    if (check.min && check.max) {
      absl::StrAppend(&r.explanation, "between ", *check.min, " and ",
                      *check.max);
    } else if (check.min) {
      absl::StrAppend(&r.explanation, "at least ", *check.min);
    } else if (check.max) {
      absl::StrAppend(&r.explanation, "at most ", *check.max);
    } else {
      absl::StrAppend(&r.explanation, "any number");
    }
  }
  return r;
}

CheckResult EvaluateJson(absl::string_view response, bool explain) {
  CheckResult r;
  const absl::string_view body = StripJsonFence(response);
  r.met = nlohmann::json::accept(body.begin(), body.end());
  if (!explain) return r;
  if (r.met) {
    r.explanation = body.size() == absl::StripAsciiWhitespace(response).size()
                        ? "valid JSON"
                        : "valid JSON inside a ``` fence";
    return r;
  }
  if (body.empty()) {
    r.explanation = "empty response is not JSON";
    return r;
  }
  // Parse again only to say where it fails; the failing case is the rare one.
  try {
    nlohmann::json parsed = nlohmann::json::parse(body.begin(), body.end());
    r.explanation = "not valid JSON";
  } catch (const nlohmann::json::parse_error& e) {
    r.explanation =
        absl::StrCat("not valid JSON: syntax error at byte ", e.byte);
  }
  return r;
}

CheckResult EvaluateAffix(const Check& check, absl::string_view response,
                          bool explain) {
  CheckResult r;
  const bool starts = check.kind == Check::Kind::kStartsWith;
  const absl::string_view text =
      starts ? absl::StripLeadingAsciiWhitespace(response)
             : absl::StripTrailingAsciiWhitespace(response);
  const std::string* hit = nullptr;
  for (const std::string& v : check.values) {
    bool ok;
    if (check.case_insensitive) {
      ok = starts ? absl::StartsWithIgnoreCase(text, v)
                  : absl::EndsWithIgnoreCase(text, v);
    } else {
      ok = starts ? absl::StartsWith(text, v) : absl::EndsWith(text, v);
    }
    if (ok) {
      hit = &v;
      break;
    }
  }
  r.met = hit != nullptr;
  if (explain) {
    const absl::string_view verb = starts ? "starts" : "ends";
    if (r.met) {
      r.explanation = absl::StrCat(verb, " with ", Quote(*hit));
    } else if (check.values.size() == 1) {
      r.explanation = absl::StrCat("does not ", starts ? "start" : "end",
                                   " with ", Quote(check.values[0]));
    } else {
      r.explanation =
          absl::StrCat(verb, " with none of ", check.values.size(), " values");
    }
  }
  return r;
}

CheckResult EvaluateNumeric(const Check& check, absl::string_view response,
                            bool explain) {
  CheckResult r;
  std::string marker;
  const std::optional<double> answer =
      ExtractFinalAnswer(response, explain ? &marker : nullptr);
  if (!answer) {
    if (explain) r.explanation = "no number found";
    return r;
  }
  // A relative slack of a few ulps so that 0.1 + 0.2 style answers written
  // out in decimal still compare equal with tolerance 0.
  const double slack =
      1e-9 * std::max({1.0, std::fabs(check.value), std::fabs(*answer)});
  r.met = std::fabs(*answer - check.value) <= check.tolerance + slack;
  if (explain) {
    r.explanation = absl::StrCat("final answer ", *answer);
    if (!marker.empty()) {
      absl::StrAppend(&r.explanation, " (after '", marker, "')");
    }
    absl::StrAppend(&r.explanation, "; expected ", check.value);
    if (check.tolerance > 0)
      absl::StrAppend(&r.explanation, " +/- ", check.tolerance);
  }
  return r;
}

// The end of the last occurrence of "answer" in any ASCII case, or npos.
size_t EndOfLastAnswerWord(absl::string_view text) {
  constexpr absl::string_view kWord = "answer";
  if (text.size() < kWord.size()) return absl::string_view::npos;
  for (size_t i = text.size() - kWord.size() + 1; i-- > 0;) {
    if (absl::EqualsIgnoreCase(text.substr(i, kWord.size()), kWord)) {
      return i + kWord.size();
    }
  }
  return absl::string_view::npos;
}

// Set bits of a 16-bit mask. x86-64's baseline has no popcnt instruction,
// so __builtin_popcount is a libgcc call (it showed in profiles of rewardd
// under load); four shift-and-add steps stay inline.
inline uint32_t PopCount16(uint32_t x) {
  x = x - ((x >> 1) & 0x5555u);
  x = (x & 0x3333u) + ((x >> 2) & 0x3333u);
  x = (x + (x >> 4)) & 0x0F0Fu;
  return (x + (x >> 8)) & 0x1Fu;
}

}  // namespace

int64_t CountWords(absl::string_view text) {
  // A word starts at a non-space byte that follows a space (or the start).
  // 16 bytes at a time: a bit mask of the spaces, then word starts are the
  // non-space bits whose preceding bit is a space. Several times faster
  // than a byte loop over a typical response; this was the embedded judge's
  // hottest loop (docs/benchmark-history.md).
  int64_t words = 0;
  uint32_t prev_space = 1;  // the start of the text counts as a space
  size_t i = 0;
#ifdef __SSE2__
  const __m128i blank = _mm_set1_epi8(' ');
  const __m128i nine = _mm_set1_epi8(9);
  const __m128i four = _mm_set1_epi8(4);
  for (; i + 16 <= text.size(); i += 16) {
    const __m128i b =
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data() + i));
    // \t \n \v \f \r are 9..13: (b - 9) <= 4 as unsigned bytes.
    const __m128i shifted = _mm_sub_epi8(b, nine);
    const __m128i ctrl = _mm_cmpeq_epi8(_mm_min_epu8(shifted, four), shifted);
    const uint32_t space = static_cast<uint32_t>(
        _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(b, blank), ctrl)));
    const uint32_t starts = ~space & ((space << 1) | prev_space) & 0xFFFFu;
    words += PopCount16(starts);
    prev_space = (space >> 15) & 1u;
  }
#endif
  for (; i < text.size(); ++i) {
    const bool space = absl::ascii_isspace(static_cast<unsigned char>(text[i]));
    if (!space && prev_space) ++words;
    prev_space = space;
  }
  return words;
}

int64_t CountLines(absl::string_view text) {
  if (text.empty()) return 0;
  int64_t lines = std::count(text.begin(), text.end(), '\n');
  // A final line break ends the last line rather than opening a new one.
  if (text.back() != '\n') ++lines;
  return lines;
}

absl::string_view StripJsonFence(absl::string_view text) {
  absl::string_view t = absl::StripAsciiWhitespace(text);
  if (!absl::StartsWith(t, "```") || t.size() < 6 ||
      !absl::EndsWith(t, "```")) {
    return t;
  }
  absl::string_view inner = t.substr(3, t.size() - 6);
  // The opening line may carry a language tag ("json"); JSON itself never
  // starts on the fence line in practice, so drop up to the first newline.
  const size_t nl = inner.find('\n');
  if (nl == absl::string_view::npos) return absl::StripAsciiWhitespace(inner);
  const absl::string_view tag = absl::StripAsciiWhitespace(inner.substr(0, nl));
  const bool tag_ok = std::all_of(tag.begin(), tag.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
           c == '_';
  });
  if (tag_ok) inner.remove_prefix(nl + 1);
  return absl::StripAsciiWhitespace(inner);
}

std::optional<double> ExtractFinalAnswer(absl::string_view response,
                                         std::string* marker) {
  struct Marker {
    absl::string_view name;
    size_t end;
  };
  const size_t eq = response.rfind("= ");
  const size_t boxed = response.rfind("\\boxed{");
  const Marker candidates[] = {
      {"answer", EndOfLastAnswerWord(response)},
      {"= ", eq == absl::string_view::npos ? eq : eq + 2},
      {"\\boxed{", boxed == absl::string_view::npos ? boxed : boxed + 7},
  };
  const Marker* last = nullptr;
  for (const Marker& m : candidates) {
    if (m.end == absl::string_view::npos) continue;
    if (last == nullptr || m.end > last->end) last = &m;
  }
  if (last != nullptr) {
    if (std::optional<ScannedNumber> n = FindNumber(response, last->end)) {
      if (marker != nullptr) *marker = std::string(last->name);
      return n->value;
    }
  }
  if (marker != nullptr) marker->clear();
  std::optional<double> value;
  for (size_t pos = 0;;) {
    std::optional<ScannedNumber> n = FindNumber(response, pos);
    if (!n) break;
    value = n->value;
    pos = n->end;
  }
  return value;
}

absl::string_view CheckSubject::lowered() {
  if (!lowered_done_) {
    lowered_.resize(text_.size());
    unsigned char high = 0;
    size_t i = 0;
#ifdef __SSE2__
    // 16 bytes a step, as CountWords: A-Z are the bytes b with (b - 'A') <=
    // 25 as unsigned; they get 0x20 added.
    const __m128i upper_a = _mm_set1_epi8('A');
    const __m128i span = _mm_set1_epi8(25);
    const __m128i bit = _mm_set1_epi8(0x20);
    __m128i high_bits = _mm_setzero_si128();
    for (; i + 16 <= text_.size(); i += 16) {
      const __m128i b =
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(text_.data() + i));
      const __m128i off = _mm_sub_epi8(b, upper_a);
      const __m128i upper = _mm_cmpeq_epi8(_mm_min_epu8(off, span), off);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(&lowered_[i]),
                       _mm_add_epi8(b, _mm_and_si128(upper, bit)));
      high_bits = _mm_or_si128(high_bits, b);
    }
    if (_mm_movemask_epi8(high_bits) != 0) high = 0x80;
#endif
    for (; i < text_.size(); ++i) {
      const unsigned char c = static_cast<unsigned char>(text_[i]);
      high |= c;
      lowered_[i] = absl::ascii_tolower(c);
    }
    ascii_ = (high & 0x80) == 0;
    lowered_done_ = true;
  }
  return lowered_;
}

bool CheckSubject::ascii() {
  lowered();
  return ascii_;
}

int64_t CheckSubject::words() {
  if (!words_) words_ = CountWords(text_);
  return *words_;
}

absl::StatusOr<CheckResult> EvaluateCheck(const Check& check,
                                          absl::string_view response,
                                          bool explain) {
  CheckSubject subject(response);
  return EvaluateCheck(check, subject, explain);
}

absl::StatusOr<CheckResult> EvaluateCheck(const Check& check,
                                          CheckSubject& subject, bool explain) {
  const absl::string_view response = subject.text();
  switch (check.kind) {
    case Check::Kind::kNone:
      return absl::InvalidArgumentError("criterion has no check to evaluate");
    case Check::Kind::kRegex: {
      if (check.regex != nullptr) {
        return EvaluateRegex(check, *check.regex, subject, explain);
      }
      // Unvalidated rubric: compile with the options ValidateRubric uses.
      RE2::Options options;
      options.set_log_errors(false);
      options.set_case_sensitive(!check.case_insensitive);
      RE2 re(check.pattern, options);
      if (!re.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "check.pattern is not a valid RE2 regex: ", re.error()));
      }
      return EvaluateRegex(check, re, subject, explain);
    }
    case Check::Kind::kContains:
    case Check::Kind::kNotContains:
      return EvaluateContains(check, subject, explain);
    case Check::Kind::kWordCount:
      return EvaluateBounds(check, subject.words(), "words", explain);
    case Check::Kind::kCharCount:
      return EvaluateBounds(check, CountUtf8CodePoints(response), "characters",
                            explain);
    case Check::Kind::kLineCount:
      return EvaluateBounds(check, CountLines(response), "lines", explain);
    case Check::Kind::kValidJson:
      return EvaluateJson(response, explain);
    case Check::Kind::kStartsWith:
    case Check::Kind::kEndsWith:
      return EvaluateAffix(check, response, explain);
    case Check::Kind::kNumeric:
      return EvaluateNumeric(check, response, explain);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown check kind ", static_cast<int>(check.kind)));
}

}  // namespace rewardd

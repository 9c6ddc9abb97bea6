// Exact checks of the embedded judge: every Check::Kind, the edge cases the
// proto leaves to the implementation, and the explanations users read.
#include "server/judge/embedded/check_evaluator.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "re2/re2.h"
#include "server/judge/embedded/number_scanner.h"
#include "server/rubric/rubric.h"
#include "server/util/utf8.h"

namespace rewardd {
namespace {

using ::testing::DoubleEq;
using ::testing::HasSubstr;
using ::testing::Optional;

// A check as ValidateRubric leaves it (regex compiled), so the tests see
// what the judge sees.
Check Validated(Check check) {
  Rubric rubric;
  rubric.id = "r";
  Criterion c;
  c.id = "c1";
  c.text = "t";
  c.check = std::make_shared<const Check>(std::move(check));
  rubric.criteria.push_back(std::move(c));
  const absl::Status s = ValidateRubric(rubric);
  EXPECT_TRUE(s.ok()) << s;
  return *rubric.criteria[0].check;
}

bool Met(const Check& check, absl::string_view response) {
  absl::StatusOr<CheckResult> r = EvaluateCheck(check, response, false);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() && r->met;
}

std::string Explain(const Check& check, absl::string_view response) {
  absl::StatusOr<CheckResult> r = EvaluateCheck(check, response, true);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? r->explanation : "";
}

Check Make(Check::Kind kind, std::vector<std::string> values = {}) {
  Check c;
  c.kind = kind;
  c.values = std::move(values);
  return c;
}

Check Bounds(Check::Kind kind, std::optional<int64_t> min,
             std::optional<int64_t> max) {
  Check c;
  c.kind = kind;
  c.min = min;
  c.max = max;
  return c;
}

Check Numeric(double value, double tolerance = 0) {
  Check c;
  c.kind = Check::Kind::kNumeric;
  c.value = value;
  c.tolerance = tolerance;
  return c;
}

TEST(CheckEvaluator, NoCheckIsAnError) {
  EXPECT_EQ(EvaluateCheck(Check{}, "x").status().code(),
            absl::StatusCode::kInvalidArgument);
}

// --- regex -----------------------------------------------------------------

TEST(CheckEvaluator, RegexIsAPartialMatch) {
  Check c = Make(Check::Kind::kRegex);
  c.pattern = R"(\bdiagnos(is|e)\b)";
  c = Validated(c);
  ASSERT_NE(c.regex, nullptr);
  EXPECT_TRUE(Met(c, "The likely diagnosis is X."));
  EXPECT_FALSE(Met(c, "The likely diagnoses are X and Y."));
  EXPECT_THAT(Explain(c, "so, diagnose it"), HasSubstr("'diagnose'"));
  EXPECT_THAT(Explain(c, "nothing"), HasSubstr("not found"));
}

TEST(CheckEvaluator, RegexCaseInsensitiveOptionIsHonoured) {
  Check c = Make(Check::Kind::kRegex);
  c.pattern = "final answer";
  EXPECT_FALSE(Met(Validated(c), "FINAL ANSWER: 3"));
  c.case_insensitive = true;
  EXPECT_TRUE(Met(Validated(c), "FINAL ANSWER: 3"));
}

// The prefilter (literals every match needs, tested before RE2 runs) must
// never change a verdict: for many patterns x texts, the verdict with it
// equals RE2's own partial match. Includes the traps: case-insensitive
// patterns, alternations, a Kelvin sign (U+212A, which (?i)k matches and an
// ASCII lowercase does not fold), and patterns with no usable literal.
TEST(CheckEvaluator, RegexPrefilterNeverChangesAVerdict) {
  const std::vector<std::pair<std::string, bool>> patterns = {
      {R"(\bpenicillin\b)", false},
      {R"(\bpenicillin\b)", true},
      {"(?i)kelvin", false},
      {"kelvin", true},
      {"allergy|anaphylaxis", false},
      {R"(dose of \d+ ?mg)", true},
      {R"(\d+)", false},
      {"abc.*xyz", false},
      {"(?:sepsis)?shock", true},
      {"ab", false}};
  const std::vector<std::string> texts = {
      "",
      "Penicillin allergy is likely.",
      "the PENICILLIN dose",
      "apenicillinb",
      "\xe2\x84\xaa"
      "elvin scale",  // KELVIN SIGN + "elvin"
      "Kelvin",
      "a dose of 500mg",
      "DOSE OF 20 MG",
      "abc then xyz",
      "xyz then abc",
      "septic shock",
      "ab",
      "AB",
      "nothing here at all"};
  int prefiltered = 0;
  for (const auto& [pattern, ci] : patterns) {
    Check c = Make(Check::Kind::kRegex);
    c.pattern = pattern;
    c.case_insensitive = ci;
    c = Validated(c);
    if (c.prefilter != nullptr) ++prefiltered;
    for (const std::string& text : texts) {
      const bool expected = RE2::PartialMatch(
          re2::StringPiece(text.data(), text.size()), *c.regex);
      EXPECT_EQ(Met(c, text), expected)
          << pattern << " ci=" << ci << " on '" << text << "'";
      EXPECT_EQ(Explain(c, text).find("not found") == std::string::npos,
                expected)
          << pattern << " on '" << text << "'";
    }
  }
  // Most of these patterns have literals: the prefilter is in use.
  EXPECT_GE(prefiltered, 6);
}

// Whole-word literal regexes (`\bterm\b`, the usual rubric shape) are
// matched without RE2; verdicts and the matched text must be RE2's on every
// pattern x text, boundary traps included: word bytes (letters, digits, '_')
// next to the term, a first occurrence inside a word before a real one,
// non-ASCII neighbours, and case folding that RE2 does beyond ASCII.
TEST(CheckEvaluator, WholeWordLiteralsMatchExactlyAsRe2Does) {
  const std::vector<std::pair<std::string, bool>> patterns = {
      {R"(\bpenicillin\b)", false},  {R"(\bpenicillin\b)", true},
      {R"(\bk1q0\b)", false},        {R"(\bKelvin\b)", true},
      {R"(\bseptic shock\b)", true}, {R"(\bICU_2\b)", false},
      {R"(\bx\b)", false},           {R"(\bmarker\b)", true}};
  const std::vector<std::string> texts = {
      "", "penicillin", "Penicillin allergy.", "a PENICILLIN dose",
      "apenicillin then penicillin.",
      "penicillin_ or _penicillin or penicillin2 or 2penicillin",
      "(penicillin)",
      "\xc3\xa9penicillin\xc3\xa9",  // non-ASCII neighbours: boundaries
      "k1q0 k11q0 k1q00 xk1q0", "k1q00 k1q0",
      "\xe2\x84\xaa"
      "elvin scale",  // KELVIN SIGN + "elvin"
      "kelvin",
      // Inside a term, (?i) RE2 folds these onto ASCII: a KELVIN SIGN for
      // k and a LONG S for s. An ASCII lowercase cannot, so these texts
      // must go to RE2.
      "Septic \xc5\xbfhock",
      "mar\xe2\x84\xaa"
      "er",
      "Septic  shock, then septic shock", "icu_2 ICU_2 ICU_22", "x", "a x b",
      "xx x_ _x"};
  for (const auto& [pattern, ci] : patterns) {
    Check c = Make(Check::Kind::kRegex);
    c.pattern = pattern;
    c.case_insensitive = ci;
    c = Validated(c);
    EXPECT_TRUE(c.whole_word) << pattern << ": fast path unused";
    for (const std::string& text : texts) {
      re2::StringPiece match;
      const bool expected =
          c.regex->Match(re2::StringPiece(text.data(), text.size()), 0,
                         text.size(), RE2::UNANCHORED, &match, 1);
      EXPECT_EQ(Met(c, text), expected)
          << pattern << " ci=" << ci << " on '" << text << "'";
      const std::string want =
          expected ? "pattern matched '" +
                         std::string(match.data(), match.size()) + "'"
                   : "";
      if (expected) {
        EXPECT_EQ(Explain(c, text), want) << pattern << " on '" << text << "'";
      }
    }
  }
  // Anything else keeps RE2.
  for (const char* other :
       {R"(\bpen.cillin\b)", "penicillin", R"(\b penicillin\b)",
        R"(\bpenicillin)", R"(\b\d+\b)"}) {
    Check c = Make(Check::Kind::kRegex);
    c.pattern = other;
    EXPECT_FALSE(Validated(c).whole_word) << other;
  }
}

// The vectorised word count against a byte-at-a-time definition, across
// every whitespace byte and lengths around the 16-byte blocks.
TEST(CheckEvaluator, CountWordsMatchesTheByteDefinition) {
  auto reference = [](absl::string_view text) {
    int64_t n = 0;
    bool in_word = false;
    for (char ch : text) {
      const bool space = ch == ' ' || (ch >= 9 && ch <= 13);
      if (!space && !in_word) ++n;
      in_word = !space;
    }
    return n;
  };
  const std::string alphabet = std::string("ab \t\n\v\f\r\x80\xff\x08\x0e", 12);
  uint64_t state = 12345;
  for (int len = 0; len < 80; ++len) {
    for (int trial = 0; trial < 20; ++trial) {
      std::string text;
      for (int i = 0; i < len; ++i) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        text.push_back(alphabet[(state >> 33) % alphabet.size()]);
      }
      ASSERT_EQ(CountWords(text), reference(text)) << "len " << len;
    }
  }
  EXPECT_EQ(CountWords("  one two\tthree\nfour  five six seven eight nine"), 9);
}

TEST(CheckEvaluator, RegexWithoutPrecompiledPatternStillWorks) {
  Check c = Make(Check::Kind::kRegex);
  c.pattern = "a+b";
  ASSERT_EQ(c.regex, nullptr);
  EXPECT_TRUE(Met(c, "xxaaab"));
  c.pattern = "(unclosed";
  EXPECT_EQ(EvaluateCheck(c, "x").status().code(),
            absl::StatusCode::kInvalidArgument);
}

// --- contains / not_contains -------------------------------------------------

// The vectorised lowercase (shared by case-insensitive contains and the
// regex prefilter) against absl::AsciiStrToLower, for every byte value and
// lengths around the 16-byte blocks; ascii() sees a high byte anywhere.
TEST(CheckEvaluator, SubjectLowercaseMatchesAsciiStrToLower) {
  uint64_t state = 99;
  for (int len = 0; len < 70; ++len) {
    for (int trial = 0; trial < 30; ++trial) {
      std::string text;
      bool high = false;
      for (int i = 0; i < len; ++i) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        // Mostly ASCII letters and punctuation; now and then any byte.
        unsigned char c =
            (state >> 40) % 8 == 0
                ? static_cast<unsigned char>(state >> 48)
                : static_cast<unsigned char>(32 + (state >> 48) % 95);
        high |= c >= 0x80;
        text.push_back(static_cast<char>(c));
      }
      CheckSubject subject(text);
      ASSERT_EQ(std::string(subject.lowered()), absl::AsciiStrToLower(text))
          << "len " << len;
      ASSERT_EQ(subject.ascii(), !high) << "len " << len;
    }
  }
}

TEST(CheckEvaluator, ContainsAllReportsWhatIsMissing) {
  Check c = Make(Check::Kind::kContains, {"aspirin", "ibuprofen", "rest"});
  EXPECT_TRUE(Met(c, "Take aspirin or ibuprofen and rest."));
  EXPECT_FALSE(Met(c, "Take aspirin and rest."));
  EXPECT_EQ(Explain(c, "Take aspirin and rest."),
            "found 2/3 required strings; missing 'ibuprofen'");
}

TEST(CheckEvaluator, ContainsAnyNeedsOne) {
  Check c = Make(Check::Kind::kContains, {"urgent care", "emergency"});
  c.match_any = true;
  EXPECT_TRUE(Met(c, "go to the emergency department"));
  EXPECT_FALSE(Met(c, "see your GP"));
  EXPECT_THAT(Explain(c, "see your GP"), HasSubstr("none of 2"));
}

TEST(CheckEvaluator, ContainsIsCaseSensitiveUnlessAsked) {
  Check c = Make(Check::Kind::kContains, {"Paris"});
  EXPECT_FALSE(Met(c, "it is PARIS"));
  c.case_insensitive = true;
  EXPECT_TRUE(Met(c, "it is PARIS"));
  EXPECT_TRUE(Met(c, "it is paris"));
}

TEST(CheckEvaluator, NotContainsFailsOnAnyForbiddenString) {
  Check c = Make(Check::Kind::kNotContains, {"As an AI", "I cannot"});
  EXPECT_TRUE(Met(c, "Here is the plan."));
  EXPECT_FALSE(Met(c, "I cannot help with that."));
  EXPECT_THAT(Explain(c, "I cannot help"), HasSubstr("'I cannot'"));
  c.case_insensitive = true;
  EXPECT_FALSE(Met(c, "as an ai model, ..."));
}

// --- counts ------------------------------------------------------------------

TEST(CheckEvaluator, WordCountBoundsWithOnlyMinOrOnlyMax) {
  const std::string text = "one two\tthree\n four   five";  // 5 words
  EXPECT_EQ(CountWords(text), 5);
  EXPECT_TRUE(Met(Bounds(Check::Kind::kWordCount, 5, std::nullopt), text));
  EXPECT_FALSE(Met(Bounds(Check::Kind::kWordCount, 6, std::nullopt), text));
  EXPECT_TRUE(Met(Bounds(Check::Kind::kWordCount, std::nullopt, 5), text));
  EXPECT_FALSE(Met(Bounds(Check::Kind::kWordCount, std::nullopt, 4), text));
  EXPECT_TRUE(Met(Bounds(Check::Kind::kWordCount, 1, 10), text));
  EXPECT_EQ(Explain(Bounds(Check::Kind::kWordCount, 6, std::nullopt), text),
            "5 words; expected at least 6");
  EXPECT_EQ(Explain(Bounds(Check::Kind::kWordCount, 1, 3), text),
            "5 words; expected between 1 and 3");
  EXPECT_EQ(CountWords("   "), 0);
}

TEST(CheckEvaluator, CharCountCountsCodePointsNotBytes) {
  const std::string text = "naïve café 日本 🙂";  // 15 code points
  ASSERT_GT(text.size(), 15u);
  EXPECT_EQ(CountUtf8CodePoints(text), 15);
  EXPECT_TRUE(Met(Bounds(Check::Kind::kCharCount, std::nullopt, 15), text));
  EXPECT_FALSE(Met(Bounds(Check::Kind::kCharCount, std::nullopt, 14), text));
  EXPECT_TRUE(Met(Bounds(Check::Kind::kCharCount, 15, std::nullopt), text));
}

TEST(CheckEvaluator, LineCount) {
  EXPECT_EQ(CountLines(""), 0);
  EXPECT_EQ(CountLines("a"), 1);
  EXPECT_EQ(CountLines("a\n"), 1);
  EXPECT_EQ(CountLines("a\n\nb"), 3);
  EXPECT_EQ(CountLines("a\r\nb\r\n"), 2);
  EXPECT_TRUE(Met(Bounds(Check::Kind::kLineCount, 2, 2), "- x\n- y\n"));
  EXPECT_FALSE(
      Met(Bounds(Check::Kind::kLineCount, 3, std::nullopt), "- x\n- y\n"));
}

// --- valid_json
// ----------------------------------------------------------------

TEST(CheckEvaluator, ValidJsonAllowsWhitespaceAndOneFence) {
  const Check c = Make(Check::Kind::kValidJson);
  EXPECT_TRUE(Met(c, "  {\"a\": [1, 2]}\n"));
  EXPECT_TRUE(Met(c, "```json\n{\"a\": 1}\n```"));
  EXPECT_TRUE(Met(c, "\n```\n[1, 2, 3]\n```\n"));
  EXPECT_TRUE(Met(c, "```{\"a\": 1}```"));
  EXPECT_TRUE(Met(c, "42"));
  EXPECT_FALSE(Met(c, "Here you go: {\"a\": 1}"));
  EXPECT_FALSE(Met(c, "```json\n{\"a\": 1}\n```\nHope this helps"));
  EXPECT_FALSE(Met(c, "```json\n```json\n{}\n```\n```"));
  EXPECT_FALSE(Met(c, "{\"a\": 1,}"));
  EXPECT_FALSE(Met(c, ""));
  EXPECT_THAT(Explain(c, "{\"a\": 1,}"), HasSubstr("syntax error at byte"));
  EXPECT_THAT(Explain(c, "```json\n{}\n```"), HasSubstr("fence"));
}

TEST(CheckEvaluator, StripJsonFence) {
  EXPECT_EQ(StripJsonFence("```json\n{}\n```"), "{}");
  EXPECT_EQ(StripJsonFence("  {} "), "{}");
  // An opening line that is JSON, not a language tag, is kept.
  EXPECT_EQ(StripJsonFence("```{\"a\":\n1}```"), "{\"a\":\n1}");
}

// --- starts_with / ends_with
// ----------------------------------------------------

TEST(CheckEvaluator, StartsWithTrimsLeadingWhitespaceAndTakesAnyValue) {
  Check c = Make(Check::Kind::kStartsWith, {"Yes", "No"});
  EXPECT_TRUE(Met(c, "\n  No, because ..."));
  EXPECT_FALSE(Met(c, "Maybe"));
  EXPECT_FALSE(Met(c, "yes"));
  c.case_insensitive = true;
  EXPECT_TRUE(Met(c, "yes"));
  EXPECT_EQ(Explain(c, "NO."), "starts with 'No'");
}

TEST(CheckEvaluator, EndsWithTrimsTrailingWhitespace) {
  const Check c = Make(Check::Kind::kEndsWith, {"Done."});
  EXPECT_TRUE(Met(c, "All steps complete. Done.\n\n"));
  EXPECT_FALSE(Met(c, "Done. More text"));
  EXPECT_EQ(Explain(c, "nope"), "does not end with 'Done.'");
}

// --- numeric
// ---------------------------------------------------------------------

TEST(NumberScanner, ReadsCommonForms) {
  auto first = [](absl::string_view s) -> std::optional<double> {
    std::optional<ScannedNumber> n = FindNumber(s, 0);
    if (!n) return std::nullopt;
    return n->value;
  };
  EXPECT_THAT(first("about 1,234,567.5 people"), Optional(DoubleEq(1234567.5)));
  EXPECT_THAT(first("x = -3.25"), Optional(DoubleEq(-3.25)));
  EXPECT_THAT(first("\xE2\x88\x92"
                    "7 degrees"),
              Optional(DoubleEq(-7)));
  EXPECT_THAT(first("6.02e23 atoms"), Optional(DoubleEq(6.02e23)));
  EXPECT_THAT(first("1.5E-3"), Optional(DoubleEq(1.5e-3)));
  EXPECT_THAT(first("only .5 left"), Optional(DoubleEq(0.5)));
  EXPECT_THAT(first("item-3"), Optional(DoubleEq(3)));  // hyphen, not sign
  EXPECT_THAT(first("1,23"), Optional(DoubleEq(1)));    // not a thousands group
  EXPECT_THAT(first("1234,567"), Optional(DoubleEq(1234)));
  EXPECT_THAT(first("3 eggs"), Optional(DoubleEq(3)));
  EXPECT_EQ(first("no digits here"), std::nullopt);
}

TEST(CheckEvaluator, NumericFinalAnswerForms) {
  struct Case {
    const char* response;
    double expected;
  } cases[] = {
      {"2 + 2 is 4", 4},
      {"The answer is 42. We used 7 steps.", 42},
      {"Answer: $1,234.50 (rounded from 1234.499)", 1234.5},
      {"First 3 = 3, so x = -12", -12},
      {"Thus \\boxed{2.5e3} follows from 12 and 7", 2500},
      {"We get \\boxed{-0.75}.", -0.75},
      {"**Final answer:** 1,000,000", 1000000},
      {"17 and 18, but no answer yet", 18},  // nothing after the marker
  };
  for (const Case& c : cases) {
    EXPECT_THAT(ExtractFinalAnswer(c.response), Optional(DoubleEq(c.expected)))
        << c.response;
    EXPECT_TRUE(Met(Numeric(c.expected), c.response)) << c.response;
  }
}

TEST(CheckEvaluator, NumericUsesTheLastMarker) {
  std::string marker;
  EXPECT_THAT(ExtractFinalAnswer("answer 1; then y = 5 and z is 9", &marker),
              Optional(DoubleEq(5)));
  EXPECT_EQ(marker, "= ");
  EXPECT_THAT(ExtractFinalAnswer("1 and 2", &marker), Optional(DoubleEq(2)));
  EXPECT_EQ(marker, "");
}

TEST(CheckEvaluator, NumericTolerance) {
  EXPECT_TRUE(Met(Numeric(3.14159, 0.01), "pi is about 3.14"));
  EXPECT_FALSE(Met(Numeric(3.14159, 0.001), "pi is about 3.14"));
  EXPECT_TRUE(Met(Numeric(0.3), "0.1 + 0.2 = 0.3"));
  EXPECT_FALSE(Met(Numeric(1), "no numbers at all"));
  EXPECT_EQ(Explain(Numeric(1), "none"), "no number found");
  EXPECT_EQ(Explain(Numeric(5, 0.5), "The answer is 4"),
            "final answer 4 (after 'answer'); expected 5 +/- 0.5");
}

TEST(CheckEvaluator, ExplanationsAreOnlyBuiltWhenAsked) {
  const Check c = Make(Check::Kind::kContains, {"x", "y"});
  absl::StatusOr<CheckResult> r = EvaluateCheck(c, "x", /*explain=*/false);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->met);
  EXPECT_TRUE(r->explanation.empty());
}

TEST(CheckEvaluator, LongValuesAreShortenedInExplanations) {
  const std::string long_value(200, 'q');
  const Check c = Make(Check::Kind::kContains, {long_value});
  const std::string e = Explain(c, "nothing");
  EXPECT_LT(e.size(), 100u);
  EXPECT_THAT(e, HasSubstr("...'"));
}

}  // namespace
}  // namespace rewardd

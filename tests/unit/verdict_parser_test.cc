// What the HTTP judge reads out of real judges' answers: think blocks, code
// fences, prose, value spellings, unknown and left-out ids, logprobs.
#include "server/judge/http/verdict_parser.h"

#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rewardd {
namespace {

using State = ParsedVerdict::State;

const std::vector<absl::string_view> kIds = {"c1", "c2", "c3"};

std::vector<int> Mets(const VerdictParse& p) {
  std::vector<int> out;
  for (const ParsedVerdict& v : p.verdicts) {
    out.push_back(v.state == State::kOk ? (v.met ? 1 : 0) : -1);
  }
  return out;
}

TEST(VerdictWordTest, AcceptsEverySpellingInAnyCase) {
  for (const char* yes : {"yes", "YES", "Yes.", "true", "True", "1", " y ",
                          "\"yes\"", "Met", "**Yes**"}) {
    EXPECT_EQ(ParseVerdictWord(yes), true) << yes;
  }
  for (const char* no : {"no", "NO", "No!", "false", "FALSE", "0", "n", "'no'",
                         "not met", "Unmet"}) {
    EXPECT_EQ(ParseVerdictWord(no), false) << no;
  }
  for (const char* other : {"maybe", "", "partially", "yes and no", "2"}) {
    EXPECT_FALSE(ParseVerdictWord(other).has_value()) << other;
  }
}

TEST(ParseVerdictObjectTest, CleanJson) {
  VerdictParse p =
      ParseVerdictObject(R"({"c1": "yes", "c2": "no", "c3": "YES"})", kIds);
  EXPECT_TRUE(p.found);
  EXPECT_THAT(Mets(p), testing::ElementsAre(1, 0, 1));
  EXPECT_EQ(p.unknown_ids, 0);
}

TEST(ParseVerdictObjectTest, BooleansNumbersAndBareWords) {
  VerdictParse p = ParseVerdictObject("{c1: true, 'c2': 0, \"c3\": No,}", kIds);
  EXPECT_THAT(Mets(p), testing::ElementsAre(1, 0, 0));
}

TEST(ParseVerdictObjectTest, CodeFenceAndProseAround) {
  VerdictParse p = ParseVerdictObject(
      "Here is my grading:\n```json\n{\"c1\": \"no\", \"c2\": \"yes\", "
      "\"c3\": \"no\"}\n```\nLet me know if you need more.",
      kIds);
  EXPECT_THAT(Mets(p), testing::ElementsAre(0, 1, 0));
}

TEST(ParseVerdictObjectTest, ThinkBlockWithDecoyIsIgnored) {
  VerdictParse p = ParseVerdictObject(
      "<think>Maybe {\"c1\": \"no\", \"c2\": \"no\"}? Let me re-read.</think>"
      "\n{\"c1\": \"yes\", \"c2\": \"yes\", \"c3\": \"no\"}",
      kIds);
  EXPECT_THAT(Mets(p), testing::ElementsAre(1, 1, 0));
}

TEST(ParseVerdictObjectTest, UnclosedThinkBlockIsUnparsable) {
  VerdictParse p =
      ParseVerdictObject("<think>I would answer {\"c1\": \"yes\"} but", kIds);
  EXPECT_FALSE(p.found);
  EXPECT_FALSE(p.error.empty());
}

TEST(ParseVerdictObjectTest, LastAnsweringObjectWins) {
  VerdictParse p = ParseVerdictObject(
      "The format is {\"id\": \"yes or no\"}. Draft: {\"c1\": \"no\"}. "
      "Final: {\"c1\": \"yes\", \"c2\": \"no\", \"c3\": \"yes\"}",
      kIds);
  EXPECT_THAT(Mets(p), testing::ElementsAre(1, 0, 1));
}

TEST(ParseVerdictObjectTest, UnknownIdsAreCountedAndLeftOutIdsAbsent) {
  VerdictParse p =
      ParseVerdictObject(R"({"c1": "yes", "c9": "no", "extra": "yes"})", kIds);
  EXPECT_TRUE(p.found);
  EXPECT_EQ(p.unknown_ids, 2);
  EXPECT_THAT(Mets(p), testing::ElementsAre(1, -1, -1));
  EXPECT_EQ(p.verdicts[1].state, State::kAbsent);
}

TEST(ParseVerdictObjectTest, BadValueIsMarkedNotGuessed) {
  VerdictParse p = ParseVerdictObject(
      R"({"c1": "partially", "c2": "yes", "c3": null})", kIds);
  EXPECT_EQ(p.verdicts[0].state, State::kBadValue);
  EXPECT_EQ(p.verdicts[1].state, State::kOk);
  EXPECT_EQ(p.verdicts[2].state, State::kBadValue);
}

TEST(ParseVerdictObjectTest, NestedVerdictObjectsAndWrapper) {
  VerdictParse p = ParseVerdictObject(
      R"({"verdicts": {"c1": {"met": "yes", "explanation": "says CST"},
                       "c2": {"verdict": false}, "C3": "y"}})",
      kIds);
  EXPECT_THAT(Mets(p), testing::ElementsAre(1, 0, 1));
  EXPECT_EQ(p.verdicts[0].explanation, "says CST");
}

TEST(ParseVerdictObjectTest, IdLinesWhenNoJson) {
  VerdictParse p = ParseVerdictObject("c1: yes\n- c2: No\n[c3] = true\n", kIds);
  EXPECT_TRUE(p.found);
  EXPECT_THAT(Mets(p), testing::ElementsAre(1, 0, 1));
}

TEST(ParseVerdictObjectTest, ProseOnlyIsUnparsable) {
  VerdictParse p = ParseVerdictObject(
      "The response is good overall and I would rate it highly.", kIds);
  EXPECT_FALSE(p.found);
}

TEST(ParseVerdictObjectTest, EscapedQuotesInStringsDoNotBreakParsing) {
  VerdictParse p = ParseVerdictObject(
      R"({"note": "he said \"no\" {c1: no}", "c1": "yes", "c2": "no", "c3": "no"})",
      kIds);
  EXPECT_THAT(Mets(p), testing::ElementsAre(1, 0, 0));
  EXPECT_EQ(p.unknown_ids, 1);
}

TEST(ParseSingleVerdictTest, HealthBenchStyle) {
  VerdictParse p = ParseSingleVerdict(
      "```json\n{\"explanation\": \"It names CST.\", \"criteria_met\": "
      "true}\n```");
  ASSERT_TRUE(p.found);
  EXPECT_EQ(p.verdicts[0].state, State::kOk);
  EXPECT_TRUE(p.verdicts[0].met);
  EXPECT_EQ(p.verdicts[0].explanation, "It names CST.");
}

TEST(ParseSingleVerdictTest, StringValuesAndBareAnswers) {
  EXPECT_FALSE(
      ParseSingleVerdict(R"({"criteria_met": "False"})").verdicts[0].met);
  VerdictParse bare = ParseSingleVerdict("  Yes.  ");
  ASSERT_TRUE(bare.found);
  EXPECT_TRUE(bare.verdicts[0].met);
  VerdictParse think = ParseSingleVerdict("<think>hmm, true?</think>\nNo");
  ASSERT_TRUE(think.found);
  EXPECT_FALSE(think.verdicts[0].met);
}

TEST(ParseSingleVerdictTest, NoVerdictFieldIsUnparsable) {
  EXPECT_FALSE(ParseSingleVerdict(R"({"explanation": "fine"})").found);
  EXPECT_FALSE(ParseSingleVerdict("I cannot decide.").found);
}

std::vector<TokenLogprob> Tokens(
    std::initializer_list<std::pair<const char*, double>> toks) {
  std::vector<TokenLogprob> out;
  for (const auto& [t, p] : toks) {
    TokenLogprob tok;
    tok.token = t;
    tok.logprob = std::log(p);
    out.push_back(tok);
  }
  return out;
}

TEST(LogprobTest, ProbabilityOfMetFromTopAlternatives) {
  std::vector<TokenLogprob> toks =
      Tokens({{"{\"", 1}, {"c1", 1}, {"\": \"", 1}, {"yes", 0.8}, {"\"}", 1}});
  toks[3].top = {{"yes", std::log(0.8)},
                 {"no", std::log(0.15)},
                 {"maybe", std::log(0.05)}};
  VerdictParse p = ParseVerdictObject("{\"c1\": \"yes\"}", {"c1"}, toks);
  ASSERT_EQ(p.verdicts[0].state, State::kOk);
  ASSERT_TRUE(p.verdicts[0].probability.has_value());
  EXPECT_NEAR(*p.verdicts[0].probability, 0.8 / 0.95, 1e-9);
}

TEST(LogprobTest, WithoutAlternativesTheRestIsTheOtherAnswer) {
  std::vector<TokenLogprob> toks =
      Tokens({{"{\"criteria_met\": ", 1}, {"false", 0.9}, {"}", 1}});
  VerdictParse p = ParseSingleVerdict("{\"criteria_met\": false}", toks);
  ASSERT_TRUE(p.verdicts[0].probability.has_value());
  EXPECT_NEAR(*p.verdicts[0].probability, 0.1, 1e-9);
}

TEST(LogprobTest, MisalignedTokensGiveNoProbability) {
  std::vector<TokenLogprob> toks = Tokens({{"something else", 1}});
  VerdictParse p = ParseVerdictObject("{\"c1\": \"yes\"}", {"c1"}, toks);
  EXPECT_EQ(p.verdicts[0].state, State::kOk);
  EXPECT_FALSE(p.verdicts[0].probability.has_value());
}

TEST(LogprobTest, ThinkTokensBeforeTheContentAreSkipped) {
  // Content after the think block still maps onto its own tokens.
  const std::string content = "<think>x</think>{\"c1\": \"no\"}";
  std::vector<TokenLogprob> toks = Tokens({{"<think>", 1},
                                           {"x", 1},
                                           {"</think>", 1},
                                           {"{\"c1\": \"", 1},
                                           {"no", 0.7},
                                           {"\"}", 1}});
  toks[4].top = {{"no", std::log(0.7)}, {"yes", std::log(0.3)}};
  VerdictParse p = ParseVerdictObject(content, {"c1"}, toks);
  ASSERT_TRUE(p.verdicts[0].probability.has_value());
  EXPECT_NEAR(*p.verdicts[0].probability, 0.3, 1e-9);
  EXPECT_FALSE(p.verdicts[0].met);
}

}  // namespace
}  // namespace rewardd

// The proposal parser on the shapes real proposers answer in: clean JSON,
// fences and prose, think blocks with decoy drafts, wrapped objects,
// trailing commas, string items, bad weights, and answers cut off.
#include "server/elicitation/proposal_parser.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rewardd {
namespace {

using ::testing::HasSubstr;

TEST(ProposalParserTest, ReadsACleanList) {
  const ProposalParse p = ParseProposal(
      R"([{"criterion": "Names CST", "weight": 3},
          {"id": "c2", "criterion": "States urgency", "weight": "2"}])");
  ASSERT_TRUE(p.found) << p.error;
  ASSERT_EQ(p.criteria.size(), 2u);
  EXPECT_EQ(p.criteria[0].text, "Names CST");
  EXPECT_EQ(p.criteria[0].weight, 3);
  EXPECT_EQ(p.criteria[0].id, "");
  EXPECT_EQ(p.criteria[1].id, "c2");
  EXPECT_EQ(p.criteria[1].weight, 2);  // a numeric string is a number
  EXPECT_FALSE(p.truncated);
}

TEST(ProposalParserTest, TakesTheLastListOutsideThinkingAndFences) {
  const ProposalParse p = ParseProposal(
      "<think>draft: [{\"criterion\": \"draft one\", \"weight\": 1}]</think>\n"
      "Here is an example of the format: [{\"criterion\": \"example\", "
      "\"weight\": 1}]\nAnd the rubric:\n```json\n"
      "[{\"criterion\": \"final A\", \"weight\": 2},\n"
      " {\"criterion\": \"final B\", \"weight\": 1},]\n```\nHope it helps.");
  ASSERT_TRUE(p.found) << p.error;
  ASSERT_EQ(p.criteria.size(), 2u);  // the trailing comma is tolerated
  EXPECT_EQ(p.criteria[0].text, "final A");
  EXPECT_EQ(p.criteria[1].text, "final B");
}

TEST(ProposalParserTest, ReadsAListInsideAnObjectWithOtherKeyNames) {
  const ProposalParse p = ParseProposal(
      R"({"rubric": [{"Text": "Mentions MRI", "Points": 2, "tags": ["a"]},
                     {"description": "Mentions CT", "importance": 1.5}]})");
  ASSERT_TRUE(p.found) << p.error;
  ASSERT_EQ(p.criteria.size(), 2u);
  EXPECT_EQ(p.criteria[0].text, "Mentions MRI");
  EXPECT_EQ(p.criteria[0].weight, 2);
  EXPECT_EQ(p.criteria[1].weight, 1.5);
}

TEST(ProposalParserTest, BareStringsAreAcceptedWhenNothingElseIs) {
  const ProposalParse p =
      ParseProposal(R"(["Mentions the dose", "Warns about overdose"])");
  ASSERT_TRUE(p.found);
  ASSERT_EQ(p.criteria.size(), 2u);
  EXPECT_FALSE(p.criteria[0].weight.has_value());
}

TEST(ProposalParserTest, AWeightThatIsNotANumberIsReportedNotGuessed) {
  const ProposalParse p =
      ParseProposal(R"([{"criterion": "Mentions MRI", "weight": "high"}])");
  ASSERT_TRUE(p.found);
  EXPECT_THAT(p.criteria[0].weight_error, HasSubstr("not a number"));
  EXPECT_FALSE(p.criteria[0].weight.has_value());
}

TEST(ProposalParserTest, ProseWithoutAListIsNotFound) {
  const ProposalParse p = ParseProposal(
      "Both responses are excellent [citation needed]; keep the rubric.");
  EXPECT_FALSE(p.found);
  EXPECT_FALSE(p.truncated);
  EXPECT_THAT(p.error, HasSubstr("no JSON list of criteria"));
}

TEST(ProposalParserTest, AnUnclosedListAfterADraftIsTruncationNotTheDraft) {
  const ProposalParse p = ParseProposal(
      "Draft: [{\"criterion\": \"old\", \"weight\": 1}]\nFinal:\n"
      "[{\"criterion\": \"new A\", \"weight\": 2}, {\"criterion\": \"new");
  EXPECT_FALSE(p.found);
  EXPECT_TRUE(p.truncated);
  EXPECT_THAT(p.error, HasSubstr("cut off"));
}

TEST(ProposalParserTest, FinishReasonLengthWithoutAListIsTruncated) {
  const ProposalParse p = ParseProposal("Let me think about this", true);
  EXPECT_FALSE(p.found);
  EXPECT_TRUE(p.truncated);
  const ProposalParse q = ParseProposal("<think>still thinking", false);
  EXPECT_FALSE(q.found);
  EXPECT_TRUE(q.truncated);
}

TEST(ProposalParserTest, BracketsInsideStringsDoNotConfuseTheScanner) {
  const ProposalParse p = ParseProposal(
      R"([{"criterion": "Cites [1] and ]2[ correctly", "weight": 1}])");
  ASSERT_TRUE(p.found) << p.error;
  EXPECT_EQ(p.criteria[0].text, "Cites [1] and ]2[ correctly");
}

TEST(ProposalParserTest, ManyBracketsInProseAreBounded) {
  std::string prose;
  for (int i = 0; i < 5000; ++i) prose += "[x] ";
  prose += R"([{"criterion": "late", "weight": 1}])";
  const ProposalParse p = ParseProposal(prose);
  // The scan gives up after its attempt budget instead of going quadratic.
  EXPECT_FALSE(p.found);
}

}  // namespace
}  // namespace rewardd

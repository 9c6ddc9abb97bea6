// Scoring formulas and missing-verdict policies, including the golden test:
// "Chasing the Tail" Appendix I's worked example must give 18/20 vs 18/20 on
// the initial rubric and 25/27 vs 22/27 on the refined one.
#include "server/grading/scoring.h"

#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace rewardd {
namespace {

Rubric MakeRubric(std::vector<double> weights) {
  Rubric r;
  r.id = "r";
  for (size_t i = 0; i < weights.size(); ++i) {
    r.criteria.push_back(
        {"c" + std::to_string(i + 1), "text", weights[i], {}, {}});
  }
  return r;
}

Verdict Met(bool met) {
  Verdict v;
  v.status = CriterionStatus::kOk;
  v.met = met;
  return v;
}

Verdict Without(CriterionStatus status) {
  Verdict v;
  v.status = status;
  return v;
}

class PaperExample : public ::testing::TestWithParam<std::string> {};

TEST_P(PaperExample, GivesThePapersRewards) {
  std::ifstream in(std::string(REWARDD_SHARED_DATA) +
                   "/chasing_the_tail/paper_appendix_example.json");
  ASSERT_TRUE(in.good()) << "shared data missing";
  nlohmann::json doc = nlohmann::json::parse(in);
  const std::string which = GetParam();
  Rubric rubric;
  std::vector<Verdict> r1, r2;
  for (const auto& c : doc[which + "_rubric"]) {
    rubric.criteria.push_back(
        {c["local_id"], c["criterion"], c["weight"].get<double>(), {}, {}});
    r1.push_back(Met(c["R1"].get<int>() == 1));
    r2.push_back(Met(c["R2"].get<int>() == 1));
  }
  const Score s1 = ComputeScore(rubric, r1, {});
  const Score s2 = ComputeScore(rubric, r2, {});
  // Expected values come from the file ("18/20"), not from this test.
  auto expect = [&](const Score& s, const std::string& fraction) {
    const double num = std::stod(fraction.substr(0, fraction.find('/')));
    const double den = std::stod(fraction.substr(fraction.find('/') + 1));
    EXPECT_TRUE(s.valid);
    EXPECT_DOUBLE_EQ(s.score, num) << which << " " << fraction;
    EXPECT_DOUBLE_EQ(s.max_score, den) << which << " " << fraction;
    EXPECT_DOUBLE_EQ(s.reward, num / den) << which << " " << fraction;
  };
  expect(s1, doc[which + "_expected"]["R1"]);
  expect(s2, doc[which + "_expected"]["R2"]);
}

INSTANTIATE_TEST_SUITE_P(Golden, PaperExample,
                         ::testing::Values("initial", "refined"));

TEST(PaperExample, ExpectedFractionsAreThePapers) {
  // Guards the golden file itself against edits: the paper's numbers.
  std::ifstream in(std::string(REWARDD_SHARED_DATA) +
                   "/chasing_the_tail/paper_appendix_example.json");
  nlohmann::json doc = nlohmann::json::parse(in);
  EXPECT_EQ(doc["initial_expected"]["R1"], "18/20");
  EXPECT_EQ(doc["initial_expected"]["R2"], "18/20");
  EXPECT_EQ(doc["refined_expected"]["R1"], "25/27");
  EXPECT_EQ(doc["refined_expected"]["R2"], "22/27");
}

TEST(WeightedFraction, NegativeWeightLowersAndIsClipped) {
  const Rubric r = MakeRubric({2, 2, -5});
  Score s = ComputeScore(r, {Met(true), Met(true), Met(false)}, {});
  EXPECT_DOUBLE_EQ(s.reward, 1.0);
  s = ComputeScore(r, {Met(true), Met(false), Met(true)}, {});
  EXPECT_DOUBLE_EQ(s.score, -3);
  EXPECT_DOUBLE_EQ(s.max_score, 4);
  EXPECT_DOUBLE_EQ(s.reward, 0.0);  // clipped
}

TEST(HealthBench, PointsOverPositivePointsNotClipped) {
  const Rubric r = MakeRubric({5, 3, -4});
  ScoringOptions o;
  o.formula = ScoringFormula::kHealthBench;
  Score s = ComputeScore(r, {Met(true), Met(false), Met(true)}, o);
  EXPECT_DOUBLE_EQ(s.reward, (5.0 - 4.0) / 8.0);
  s = ComputeScore(r, {Met(false), Met(false), Met(true)}, o);
  EXPECT_DOUBLE_EQ(s.reward, -4.0 / 8.0);
  o.clip = true;
  s = ComputeScore(r, {Met(false), Met(false), Met(true)}, o);
  EXPECT_DOUBLE_EQ(s.reward, 0.0);
}

TEST(RawSum, IsTheSumOfMetWeights) {
  const Rubric r = MakeRubric({1, 2, -3});
  ScoringOptions o;
  o.formula = ScoringFormula::kRawSum;
  Score s = ComputeScore(r, {Met(true), Met(true), Met(true)}, o);
  EXPECT_DOUBLE_EQ(s.reward, 0.0);
  s = ComputeScore(r, {Met(false), Met(true), Met(false)}, o);
  EXPECT_DOUBLE_EQ(s.reward, 2.0);
}

TEST(MissingPolicy, StrictCountsMissingAsUnmet) {
  const Rubric r = MakeRubric({1, 3});
  Score s =
      ComputeScore(r, {Met(true), Without(CriterionStatus::kMissing)}, {});
  EXPECT_TRUE(s.valid);
  EXPECT_DOUBLE_EQ(s.reward, 0.25);
  EXPECT_DOUBLE_EQ(s.max_score, 4);
}

TEST(MissingPolicy, StrictNeverScoresAFailedCall) {
  const Rubric r = MakeRubric({1, 3});
  for (CriterionStatus st :
       {CriterionStatus::kJudgeError, CriterionStatus::kTimeout,
        CriterionStatus::kSkipped, CriterionStatus::kParseError}) {
    Score s = ComputeScore(r, {Met(true), Without(st)}, {});
    EXPECT_FALSE(s.valid) << CriterionStatusName(st);
    EXPECT_THAT(s.invalid_reason, ::testing::HasSubstr("'c2'"));
    EXPECT_THAT(s.invalid_reason,
                ::testing::HasSubstr(std::string(CriterionStatusName(st))));
  }
}

TEST(MissingPolicy, RenormalizeLeavesMissingOut) {
  const Rubric r = MakeRubric({1, 3});
  ScoringOptions o;
  o.missing = MissingPolicy::kRenormalize;
  Score s =
      ComputeScore(r, {Met(true), Without(CriterionStatus::kJudgeError)}, o);
  EXPECT_TRUE(s.valid);
  EXPECT_DOUBLE_EQ(s.reward, 1.0);
  EXPECT_DOUBLE_EQ(s.max_score, 1);
  s = ComputeScore(r,
                   {Without(CriterionStatus::kTimeout),
                    Without(CriterionStatus::kParseError)},
                   o);
  EXPECT_FALSE(s.valid);
  EXPECT_DOUBLE_EQ(s.reward, 0);
}

TEST(MissingPolicy, InvalidRejectsAnyMissing) {
  const Rubric r = MakeRubric({1, 3});
  ScoringOptions o;
  o.missing = MissingPolicy::kInvalid;
  Score s =
      ComputeScore(r, {Met(true), Without(CriterionStatus::kParseError)}, o);
  EXPECT_FALSE(s.valid);
  EXPECT_THAT(s.invalid_reason, ::testing::HasSubstr("PARSE_ERROR"));
  s = ComputeScore(r, {Met(true), Met(false)}, o);
  EXPECT_TRUE(s.valid);
  EXPECT_DOUBLE_EQ(s.reward, 0.25);
}

Verdict Soft(bool met, double p) {
  Verdict v = Met(met);
  v.probability = p;
  return v;
}

// The paper's refined rubric with soft verdicts: a judge that is sure of what
// the paper marked (p = 1 / 0) reproduces the hard reward exactly; a less
// sure one gives sum(w_i * p_i) / sum(w_i).
TEST(ExpectedReward, PaperExampleWithProbabilities) {
  std::ifstream in(std::string(REWARDD_SHARED_DATA) +
                   "/chasing_the_tail/paper_appendix_example.json");
  ASSERT_TRUE(in.good()) << "shared data missing";
  nlohmann::json doc = nlohmann::json::parse(in);
  Rubric rubric;
  std::vector<Verdict> sure, unsure;
  double num = 0, den = 0;
  for (const auto& c : doc["refined_rubric"]) {
    const double w = c["weight"].get<double>();
    rubric.criteria.push_back({c["local_id"], c["criterion"], w, {}, {}});
    const bool met = c["R2"].get<int>() == 1;
    sure.push_back(Soft(met, met ? 1.0 : 0.0));
    const double p = met ? 0.8 : 0.3;
    unsure.push_back(Soft(met, p));
    num += w * p;
    den += w > 0 ? w : 0;
  }
  const Score hard = ComputeScore(rubric, sure, {});
  ASSERT_TRUE(hard.expected_reward.has_value());
  EXPECT_DOUBLE_EQ(*hard.expected_reward, hard.reward);
  EXPECT_DOUBLE_EQ(hard.reward, 22.0 / 27.0);
  const Score soft = ComputeScore(rubric, unsure, {});
  ASSERT_TRUE(soft.expected_reward.has_value());
  EXPECT_DOUBLE_EQ(*soft.expected_reward, num / den);
  EXPECT_DOUBLE_EQ(soft.reward, hard.reward);  // the hard reward is unchanged
}

TEST(ExpectedReward, UnsetUnlessEveryCriterionHasAProbability) {
  const Rubric r = MakeRubric({1, 3});
  EXPECT_FALSE(
      ComputeScore(r, {Soft(true, 0.9), Met(false)}, {}).expected_reward);
  EXPECT_FALSE(ComputeScore(r, {Met(true), Met(false)}, {}).expected_reward);
  // A criterion without a verdict (strict: counted unmet) has no P(met).
  EXPECT_FALSE(
      ComputeScore(r, {Soft(true, 0.9), Without(CriterionStatus::kMissing)}, {})
          .expected_reward);
  // Invalid results have no expected reward either.
  ScoringOptions o;
  o.missing = MissingPolicy::kInvalid;
  EXPECT_FALSE(
      ComputeScore(r, {Soft(true, 0.9), Without(CriterionStatus::kParseError)},
                   o)
          .expected_reward);
}

TEST(ExpectedReward, FollowsTheFormulaAndItsClipping) {
  const Rubric r = MakeRubric({5, 3, -4});
  const std::vector<Verdict> v = {Soft(false, 0.2), Soft(false, 0.1),
                                  Soft(true, 0.9)};
  const double num = 5 * 0.2 + 3 * 0.1 - 4 * 0.9;  // negative
  ScoringOptions o;
  o.formula = ScoringFormula::kHealthBench;
  EXPECT_DOUBLE_EQ(*ComputeScore(r, v, o).expected_reward, num / 8);
  o.clip = true;
  EXPECT_DOUBLE_EQ(*ComputeScore(r, v, o).expected_reward, 0.0);
  o.formula = ScoringFormula::kRawSum;
  EXPECT_DOUBLE_EQ(*ComputeScore(r, v, o).expected_reward, num);
  EXPECT_DOUBLE_EQ(*ComputeScore(r, v, {}).expected_reward, 0.0);  // clipped
}

}  // namespace
}  // namespace rewardd

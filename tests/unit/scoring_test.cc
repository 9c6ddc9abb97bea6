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
        CriterionStatus::kSkipped}) {
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

}  // namespace
}  // namespace rewardd

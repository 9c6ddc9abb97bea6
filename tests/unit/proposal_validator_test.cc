// Proposal validation: weights into range, empty and duplicate criteria,
// the count bound, stable ids across versions, and errors that name the
// criterion; a rejected proposal leaves the lineage's ids untouched.
#include "server/elicitation/proposal_validator.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rewardd {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

ProposedCriterion P(std::string text, std::optional<double> weight,
                    std::string id = "") {
  ProposedCriterion c;
  c.text = std::move(text);
  c.weight = weight;
  c.id = std::move(id);
  return c;
}

Rubric Previous() {
  Rubric r;
  r.id = "r";
  r.prompt = "prompt";
  for (auto [id, text, w] :
       {std::tuple<const char*, const char*, double>{"c1", "Identifies CST", 3},
        {"c2", "States it is an emergency", 3},
        {"c5", "Mentions IV antibiotics", 1}}) {
    Criterion c;
    c.id = id;
    c.text = text;
    c.weight = w;
    r.criteria.push_back(c);
  }
  r.version = RubricVersion(r);
  return r;
}

TEST(ProposalValidatorTest,
     KeepsIdsOfKeptAndRewordedCriteriaAndNumbersNewOnes) {
  const Rubric prev = Previous();
  CriterionIdAllocator ids;
  ids.Reserve(prev);
  ids.Reserve("c4");  // used by an older version, now retired
  ValidationOptions o;
  const std::vector<ProposedCriterion> proposal = {
      P("identifies  CST.", 3),                             // same text
      P("Explicitly states CST is an emergency", 3, "c2"),  // reworded
      P("Urgent imaging (MRI/MRV) is required", 2),         // new
      P("Notes other cranial nerves", 1, "c42"),            // invented id
  };
  absl::StatusOr<ValidatedProposal> v =
      ValidateProposal(proposal, &prev, o, ids);
  ASSERT_TRUE(v.ok()) << v.status();
  const Rubric& r = v->rubric;
  ASSERT_EQ(r.criteria.size(), 4u);
  EXPECT_EQ(r.criteria[0].id, "c1");
  EXPECT_EQ(r.criteria[1].id, "c2");
  EXPECT_EQ(r.criteria[2].id, "c6");  // past c5 and the retired c4
  EXPECT_EQ(r.criteria[3].id, "c7");
  EXPECT_EQ(r.id, "r");
  EXPECT_EQ(r.prompt, "prompt");
  EXPECT_EQ(r.version, RubricVersion(r));
  EXPECT_THAT(v->warnings, Contains(HasSubstr("'c42' is not in the current")));
  EXPECT_TRUE(ids.Used("c7"));  // accepted: the allocator moved on
}

TEST(ProposalValidatorTest, ClampsWeightsDropsEmptyAndNegativeAndMerges) {
  CriterionIdAllocator ids;
  ValidationOptions o;  // weights 1..3, no pitfalls
  const std::vector<ProposedCriterion> proposal = {
      P("Mentions the dose", 5),      // clamped to 3
      P("   ", 2),                    // empty: dropped
      P("Gives a harmful dose", -2),  // pitfall not allowed: dropped
      P("Mentions the dose.", 1),     // duplicate of #1: merged
      P("Mentions the usual adult dose", 2),
      P("Warns about overdose", std::nullopt),  // no weight: min_weight
      P("Zero", 0),                             // dropped
  };
  absl::StatusOr<ValidatedProposal> v =
      ValidateProposal(proposal, nullptr, o, ids);
  ASSERT_TRUE(v.ok()) << v.status();
  const Rubric& r = v->rubric;
  ASSERT_EQ(r.criteria.size(), 3u);
  EXPECT_EQ(r.criteria[0].text, "Mentions the dose");
  EXPECT_EQ(r.criteria[0].weight, 3);
  EXPECT_EQ(r.criteria[1].text, "Mentions the usual adult dose");
  EXPECT_EQ(r.criteria[2].weight, 1);
  EXPECT_EQ(r.criteria[0].id, "c1");
  EXPECT_EQ(r.criteria[2].id, "c3");
  EXPECT_THAT(v->warnings, Contains(HasSubstr("clamped to 3")));
  EXPECT_THAT(v->warnings, Contains(HasSubstr("empty text, dropped")));
  EXPECT_THAT(v->warnings, Contains(HasSubstr("pitfalls are not allowed")));
  EXPECT_THAT(v->warnings, Contains(HasSubstr("duplicates criterion #1")));
  EXPECT_THAT(v->warnings, Contains(HasSubstr("no weight")));
}

TEST(ProposalValidatorTest, NearDuplicatesMergeAtTheThreshold) {
  CriterionIdAllocator ids;
  ValidationOptions o;
  o.near_duplicate = 0.6;
  const std::vector<ProposedCriterion> proposal = {
      P("Recommends urgent contrast MRI imaging", 2),
      P("Recommends urgent contrast MRI", 3),  // 4 of 5 words: 0.8
      P("Recommends rest", 1),
  };
  absl::StatusOr<ValidatedProposal> v =
      ValidateProposal(proposal, nullptr, o, ids);
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v->rubric.criteria.size(), 2u);
  EXPECT_EQ(v->rubric.criteria[0].weight, 3);  // the larger weight kept
  EXPECT_DOUBLE_EQ(
      WordSetSimilarity(NormalizeCriterionText("A b, C!"), "a b c"), 1.0);
}

TEST(ProposalValidatorTest, PitfallsAllowedKeepTheirSignWithinRange) {
  CriterionIdAllocator ids;
  ValidationOptions o;
  o.limits.allow_pitfalls = true;
  const std::vector<ProposedCriterion> proposal = {
      P("Gives the right dose", 2), P("Recommends aspirin to a child", -7)};
  absl::StatusOr<ValidatedProposal> v =
      ValidateProposal(proposal, nullptr, o, ids);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->rubric.criteria[1].weight, -3);
}

TEST(ProposalValidatorTest, CountIsBounded) {
  CriterionIdAllocator ids;
  ValidationOptions o;
  o.limits.max_criteria = 2;
  const std::vector<ProposedCriterion> proposal = {
      P("Alpha criterion", 1), P("Bravo criterion", 1), P("Charlie thing", 1)};
  absl::StatusOr<ValidatedProposal> v =
      ValidateProposal(proposal, nullptr, o, ids);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->rubric.criteria.size(), 2u);
  EXPECT_THAT(v->warnings, Contains(HasSubstr("kept the first 2")));
}

TEST(ProposalValidatorTest, ErrorsNameTheCriterionAndLeaveIdsUntouched) {
  CriterionIdAllocator ids;
  ids.Reserve("c1");
  ValidationOptions o;
  ProposedCriterion bad = P("Mentions MRI", std::nullopt);
  bad.weight_error = "weight is not a number: \"high\"";
  absl::StatusOr<ValidatedProposal> v =
      ValidateProposal({P("Fine", 1), bad}, nullptr, o, ids);
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.status().message(), HasSubstr("criterion #2"));
  EXPECT_THAT(v.status().message(), HasSubstr("not a number"));
  EXPECT_EQ(ids.Next(), "c2");  // nothing was reserved by the failed try

  o.max_criterion_chars = 10;
  v = ValidateProposal({P("This text is far too long", 1)}, nullptr, o, ids);
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.status().message(), HasSubstr("more than the 10 allowed"));

  v = ValidateProposal({P("", 1), P(" ", 2)}, nullptr, ValidationOptions{},
                       ids);
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.status().message(), HasSubstr("no usable criterion"));
}

}  // namespace
}  // namespace rewardd

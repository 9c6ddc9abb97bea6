// Lineage: versions are content hashes (recomputed, not trusted), each
// entry's parent is the previous head, and provenance is kept as given.
#include "server/elicitation/rubric_lineage.h"

#include "gtest/gtest.h"

namespace rewardd {
namespace {

Rubric OneCriterion(std::string text) {
  Rubric r;
  r.id = "r";
  Criterion c;
  c.id = "c1";
  c.text = std::move(text);
  r.criteria.push_back(c);
  r.version = "stale";  // the lineage computes its own
  return r;
}

TEST(RubricLineageTest, ChainsContentHashes) {
  RubricLineage lineage;
  EXPECT_TRUE(lineage.empty());
  const Rubric a = OneCriterion("Mentions MRI");
  const Rubric b = OneCriterion("Mentions contrast MRI");
  RubricVersionInfo given;
  given.origin = "given";
  lineage.Add(a, given);
  RubricVersionInfo step;
  step.origin = "refined";
  step.iteration = 1;
  step.proposer = "p";
  step.proposer_model = "m";
  step.pair = {3, 7};
  const RubricVersionInfo& head = lineage.Add(b, step);
  ASSERT_EQ(lineage.entries().size(), 2u);
  const RubricVersionInfo& first = lineage.entries()[0];
  EXPECT_EQ(first.version, RubricVersion(a));
  EXPECT_EQ(first.version.size(), 16u);
  EXPECT_EQ(first.parent_version, "");
  EXPECT_EQ(head.version, RubricVersion(b));
  EXPECT_NE(head.version, first.version);
  EXPECT_EQ(head.parent_version, first.version);
  EXPECT_EQ(head.pair, (std::vector<uint32_t>{3, 7}));
  EXPECT_EQ(head.proposer_model, "m");
  // The same content hashes alike: a rubric that comes back is recognisable.
  const std::string first_version = first.version;  // Add() may reallocate
  EXPECT_EQ(lineage.Add(a, given).version, first_version);
}

}  // namespace
}  // namespace rewardd

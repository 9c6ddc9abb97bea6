// Rubric diffs on the paper's worked example: from the initial rubric to a
// refinement with ids kept for kept and reworded criteria.
#include "server/elicitation/rubric_diff.h"

#include "gtest/gtest.h"

namespace rewardd {
namespace {

Criterion C(std::string id, std::string text, double w) {
  Criterion c;
  c.id = std::move(id);
  c.text = std::move(text);
  c.weight = w;
  return c;
}

TEST(RubricDiffTest, ReportsAddedRemovedRewordedAndWeightChanges) {
  Rubric before, after;
  before.criteria = {C("c1", "Identifies CST", 3),
                     C("c2", "States it is a medical emergency", 3),
                     C("c7", "Includes medical disclaimer", 2),
                     C("c9", "Mentions high-dose IV antibiotics", 1)};
  after.criteria = {C("c1", "Identifies CST", 3),
                    C("c2", "Explicitly states CST is a medical emergency", 3),
                    C("c9", "High-dose IV antibiotics are initial mainstay", 2),
                    C("c10", "Urgent imaging required", 2)};
  const RubricDiff d = DiffRubrics(before, after);
  ASSERT_EQ(d.added.size(), 1u);
  EXPECT_EQ(d.added[0].id, "c10");
  ASSERT_EQ(d.removed.size(), 1u);
  EXPECT_EQ(d.removed[0].id, "c7");
  ASSERT_EQ(d.reworded.size(), 2u);
  EXPECT_EQ(d.reworded[0].id, "c2");
  EXPECT_EQ(d.reworded[0].old_text, "States it is a medical emergency");
  ASSERT_EQ(d.weight_changes.size(), 1u);
  EXPECT_EQ(d.weight_changes[0].id, "c9");
  EXPECT_EQ(d.weight_changes[0].old_weight, 1);
  EXPECT_EQ(d.weight_changes[0].new_weight, 2);
  EXPECT_EQ(d.Summary(), "+1 -1 ~2 w1");
  EXPECT_FALSE(d.empty());
  EXPECT_TRUE(DiffRubrics(after, after).empty());
}

}  // namespace
}  // namespace rewardd

// Criterion ids within a lineage: fresh ids go past every id seen and are
// never handed out twice, even for ids that are not of the c<N> form.
#include "server/elicitation/criterion_ids.h"

#include "gtest/gtest.h"

namespace rewardd {
namespace {

TEST(CriterionIdsTest, FreshIdsGoPastEveryIdSeen) {
  CriterionIdAllocator ids;
  Rubric r;
  for (const char* id : {"c1", "c7", "custom", "c3"}) {
    Criterion c;
    c.id = id;
    r.criteria.push_back(c);
  }
  ids.Reserve(r);
  EXPECT_EQ(ids.Next(), "c8");
  EXPECT_EQ(ids.Next(), "c9");
  EXPECT_TRUE(ids.Used("custom"));
  EXPECT_TRUE(ids.Used("c8"));
  EXPECT_FALSE(ids.Used("c2"));  // never used; still not handed out
}

TEST(CriterionIdsTest, RetiredIdsAreNeverReused) {
  CriterionIdAllocator ids;
  ids.Reserve("c1");
  ids.Reserve("c2");
  // c2 is removed from the rubric later; the allocator still knows it.
  EXPECT_EQ(ids.Next(), "c3");
  CriterionIdAllocator copy = ids;
  EXPECT_EQ(copy.Next(), "c4");
  EXPECT_EQ(ids.Next(), "c4");              // copies are independent
  ids.Reserve("c99999999999999999999999");  // not a number that fits
  EXPECT_EQ(ids.Next(), "c5");
}

}  // namespace
}  // namespace rewardd

// HedgeBudget: hedges are earned per call started, capped at the burst,
// and spent one at a time.
#include "server/judge/pool/hedge_budget.h"

#include "gtest/gtest.h"

namespace rewardd {
namespace {

TEST(HedgeBudgetTest, EachStartEarnsTheRatioAndAHedgeSpendsOne) {
  HedgeBudget budget(/*ratio=*/0.25);
  EXPECT_FALSE(budget.TrySpend());  // nothing earned yet
  for (int i = 0; i < 3; ++i) budget.OnStart();
  EXPECT_FALSE(budget.CanSpend());  // 0.75 of a hedge
  budget.OnStart();
  EXPECT_TRUE(budget.CanSpend());
  EXPECT_TRUE(budget.TrySpend());
  EXPECT_FALSE(budget.TrySpend());
  EXPECT_DOUBLE_EQ(budget.tokens(), 0);
  // 8 starts at 1/4: two hedges, so hedges stay at that share of calls.
  int hedges = 0;
  for (int i = 0; i < 8; ++i) {
    budget.OnStart();
    while (budget.TrySpend()) ++hedges;
  }
  EXPECT_EQ(hedges, 2);
}

TEST(HedgeBudgetTest, AQuietPoolSavesUpToTheBurst) {
  HedgeBudget budget(/*ratio=*/1, /*burst=*/3);
  for (int i = 0; i < 100; ++i) budget.OnStart();
  EXPECT_DOUBLE_EQ(budget.tokens(), 3);
  int hedges = 0;
  while (budget.TrySpend()) ++hedges;
  EXPECT_EQ(hedges, 3);
  EXPECT_EQ(HedgeBudget(0.1).tokens(), 0);
  HedgeBudget by_default(1);
  for (int i = 0; i < 100; ++i) by_default.OnStart();
  EXPECT_DOUBLE_EQ(by_default.tokens(), HedgeBudget::kDefaultBurst);
}

}  // namespace
}  // namespace rewardd

// VerdictCache and CacheKey: keys that separate every input, hits of OK
// verdicts only, eviction by memory.
#include "server/judge/pool/verdict_cache.h"

#include <string>

#include "gtest/gtest.h"

namespace rewardd {
namespace {

Criterion Crit(const std::string& id, const std::string& text) {
  Criterion c;
  c.id = id;
  c.text = text;
  return c;
}

TEST(VerdictCacheTest, KeysSeparateEveryInput) {
  const CacheKey base =
      CacheKey::Base("judge", GradingMode::kAllInOne, "p", "r");
  EXPECT_FALSE(base ==
               CacheKey::Base("judge2", GradingMode::kAllInOne, "p", "r"));
  EXPECT_FALSE(base ==
               CacheKey::Base("judge", GradingMode::kPerCriterion, "p", "r"));
  EXPECT_FALSE(base ==
               CacheKey::Base("judge", GradingMode::kAllInOne, "pr", ""));
  EXPECT_TRUE(base ==
              CacheKey::Base("judge", GradingMode::kAllInOne, "p", "r"));
  EXPECT_FALSE(CacheKey::ForCriterion(base, Crit("c1", "a")) ==
               CacheKey::ForCriterion(base, Crit("c1", "b")));
}

TEST(VerdictCacheTest, HitsKeepsOnlyOkAndEvictsByMemory) {
  VerdictCache cache(4096);
  const CacheKey base = CacheKey::Base("j", GradingMode::kAllInOne, "p", "r");
  Verdict ok;
  ok.status = CriterionStatus::kOk;
  ok.met = true;
  ok.probability = 0.8;
  Verdict failed;
  failed.status = CriterionStatus::kJudgeError;
  cache.Insert(CacheKey::ForCriterion(base, Crit("c1", "x")), ok);
  cache.Insert(CacheKey::ForCriterion(base, Crit("c2", "x")), failed);
  std::optional<Verdict> hit =
      cache.Lookup(CacheKey::ForCriterion(base, Crit("c1", "x")));
  ASSERT_TRUE(hit.has_value());
  EXPECT_TRUE(hit->met);
  EXPECT_TRUE(hit->cached);
  EXPECT_EQ(hit->probability, 0.8);
  EXPECT_FALSE(
      cache.Lookup(CacheKey::ForCriterion(base, Crit("c2", "x"))).has_value());
  for (int i = 0; i < 200; ++i) {
    ok.explanation = std::string(50, 'a' + i % 26);
    cache.Insert(
        CacheKey::ForCriterion(base, Crit("k" + std::to_string(i), "x")), ok);
  }
  VerdictCache::Stats s = cache.stats();
  EXPECT_LE(s.bytes, 4096u);
  EXPECT_GT(s.evictions, 0u);
  // The most recent entry survives; the oldest is gone.
  EXPECT_TRUE(cache.Lookup(CacheKey::ForCriterion(base, Crit("k199", "x")))
                  .has_value());
  EXPECT_FALSE(
      cache.Lookup(CacheKey::ForCriterion(base, Crit("c1", "x"))).has_value());
}

}  // namespace
}  // namespace rewardd

// ValidateJudgePoolOptions: the defaults are valid, and every bad value is
// refused with a message naming its field (the one check behind both the
// judges config reader and JudgePool::Create).
#include "server/judge/pool/judge_pool_options.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/judge/http/curl_multi_loop.h"
#include "server/judge/pool/judge_pool.h"

namespace rewardd {
namespace {

TEST(JudgePoolOptionsTest, DefaultsAreValid) {
  EXPECT_TRUE(ValidateJudgePoolOptions(JudgePoolOptions()).ok());
}

TEST(JudgePoolOptionsTest, EachBadValueIsRefusedNamingItsField) {
  struct Bad {
    std::string field;
    std::function<void(JudgePoolOptions&)> set;
  };
  const std::vector<Bad> bad = {
      {"max_queue_size", [](auto& o) { o.max_queue_size = 0; }},
      {"max_in_flight_per_replica",
       [](auto& o) { o.max_in_flight_per_replica = 0; }},
      {"max_attempts", [](auto& o) { o.max_attempts = -1; }},
      {"breaker_failures", [](auto& o) { o.breaker_failures = 0; }},
      {"sweep_interval_ms",
       [](auto& o) { o.sweep_interval = absl::ZeroDuration(); }},
      {"max_votes", [](auto& o) { o.max_votes = 0; }},
      {"requests_per_minute", [](auto& o) { o.requests_per_minute = -1; }},
      {"tokens_per_minute", [](auto& o) { o.tokens_per_minute = -1; }},
      {"rate_limit_burst_ms",
       [](auto& o) { o.rate_limit_burst = absl::Milliseconds(-1); }},
      {"backoff_jitter", [](auto& o) { o.backoff_jitter = 1; }},
      {"max_queue_delay_ms",
       [](auto& o) { o.max_queue_delay = absl::Milliseconds(-1); }},
      {"max_batch_size", [](auto& o) { o.max_batch_size = 0; }},
      {"hedge_delay_ms",
       [](auto& o) { o.hedge_delay = absl::Milliseconds(-5); }},
      {"hedge_after_percentile",
       [](auto& o) { o.hedge_after_percentile = 100; }},
      {"max_hedge_ratio", [](auto& o) { o.max_hedge_ratio = 1.5; }},
      {"max_hedge_burst", [](auto& o) { o.max_hedge_burst = 0.5; }},
  };
  for (const Bad& b : bad) {
    JudgePoolOptions o;
    b.set(o);
    const absl::Status s = ValidateJudgePoolOptions(o);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << b.field;
    EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr(b.field));
  }
}

// JudgePool::Create runs the same check as the config reader, naming the
// judge; the judge's own votes must fit max_votes.
TEST(JudgePoolOptionsTest, CreateRefusesBadOptionsNamingTheJudge) {
  absl::StatusOr<std::shared_ptr<CurlMultiLoop>> loop =
      CurlMultiLoop::Create({});
  ASSERT_TRUE(loop.ok()) << loop.status();
  HttpJudgeConfig config;
  config.name = "j";
  config.model = "m";
  config.replicas = {"http://127.0.0.1:9/v1"};
  JudgePoolOptions options;
  options.sweep_interval = absl::ZeroDuration();
  absl::StatusOr<std::shared_ptr<JudgePool>> pool =
      JudgePool::Create(config, options, *loop, nullptr);
  ASSERT_FALSE(pool.ok());
  EXPECT_EQ(pool.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(pool.status().message()),
              ::testing::HasSubstr("judge 'j': pool: "));
  EXPECT_THAT(std::string(pool.status().message()),
              ::testing::HasSubstr("sweep_interval_ms"));

  config.votes = 5;
  options = JudgePoolOptions();
  options.max_votes = 4;
  pool = JudgePool::Create(config, options, *loop, nullptr);
  ASSERT_FALSE(pool.ok());
  EXPECT_THAT(std::string(pool.status().message()),
              ::testing::HasSubstr("max_votes = 4"));

  pool = JudgePool::Create(config, JudgePoolOptions(), *loop, nullptr);
  ASSERT_TRUE(pool.ok()) << pool.status();
  (*pool)->Shutdown();
}

}  // namespace
}  // namespace rewardd

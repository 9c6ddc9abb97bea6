// Dispatcher building blocks without a network: replica choice and circuit
// breakers, the verdict cache, retry backoff, and the judges config reader.
#include <fstream>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/judge/pool/judge_pool.h"
#include "server/judge/pool/judges_config.h"
#include "server/judge/pool/rate_limiter.h"
#include "server/judge/pool/replica_set.h"
#include "server/judge/pool/verdict_cache.h"
#include "server/judge/pool/vote_tally.h"
#include "server/judge/http/http_judge_config.h"
#include "server/util/sha256.h"

namespace rewardd {
namespace {

ReplicaSet::Options Opts(int cap, int failures = 3) {
  ReplicaSet::Options o;
  o.max_in_flight = cap;
  o.breaker_failures = failures;
  o.breaker_open_time = absl::Seconds(10);
  o.affinity_slack = 2;
  return o;
}

TEST(ReplicaSetTest, AffinityIsStableAndYieldsToLoad) {
  ReplicaSet set(4, Opts(100));
  const absl::Time now = absl::Now();
  int first = -1;
  ASSERT_EQ(set.Choose(12345, -1, now, &first), ReplicaSet::Pick::kPicked);
  set.Release(first);
  for (int i = 0; i < 10; ++i) {
    int r = -1;
    set.Choose(12345, -1, now, &r);
    EXPECT_EQ(r, first);
    set.Release(r);
  }
  // Load the affinity replica past the slack: the least busy one wins.
  std::vector<int> held;
  for (int i = 0; i < 3; ++i) {
    int r;
    set.Choose(12345, -1, now, &r);
    held.push_back(r);
  }
  EXPECT_EQ(held[0], first);
  EXPECT_EQ(held[1], first);
  EXPECT_EQ(held[2], first);  // 2 in flight vs 0: within slack 2
  int r;
  set.Choose(12345, -1, now, &r);
  EXPECT_NE(r, first);  // 3 vs 0: beyond the slack
}

TEST(ReplicaSetTest, CapAndBusy) {
  ReplicaSet set(2, Opts(1));
  const absl::Time now = absl::Now();
  int a, b, c;
  EXPECT_EQ(set.Choose(1, -1, now, &a), ReplicaSet::Pick::kPicked);
  EXPECT_EQ(set.Choose(1, -1, now, &b), ReplicaSet::Pick::kPicked);
  EXPECT_NE(a, b);
  EXPECT_EQ(set.Choose(1, -1, now, &c), ReplicaSet::Pick::kBusy);
  set.Release(a);
  EXPECT_EQ(set.Choose(1, -1, now, &c), ReplicaSet::Pick::kPicked);
  EXPECT_EQ(c, a);
}

TEST(ReplicaSetTest, BreakerOpensProbesAndCloses) {
  ReplicaSet set(1, Opts(10, 3));
  absl::Time now = absl::Now();
  int r;
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(set.Choose(1, -1, now, &r), ReplicaSet::Pick::kPicked);
    set.OnFailure(r, now);
    set.Release(r);
  }
  EXPECT_EQ(set.state(0), ReplicaSet::BreakerState::kOpen);
  EXPECT_EQ(set.Choose(1, -1, now, &r), ReplicaSet::Pick::kAllOpen);
  now += absl::Seconds(11);
  ASSERT_EQ(set.Choose(1, -1, now, &r), ReplicaSet::Pick::kPicked);  // probe
  EXPECT_EQ(set.state(0), ReplicaSet::BreakerState::kHalfOpen);
  int other;
  EXPECT_EQ(set.Choose(1, -1, now, &other), ReplicaSet::Pick::kBusy);
  set.OnFailure(r, now);  // probe failed: open again
  set.Release(r);
  EXPECT_EQ(set.state(0), ReplicaSet::BreakerState::kOpen);
  now += absl::Seconds(11);
  ASSERT_EQ(set.Choose(1, -1, now, &r), ReplicaSet::Pick::kPicked);
  set.OnSuccess(r);
  set.Release(r);
  EXPECT_EQ(set.state(0), ReplicaSet::BreakerState::kClosed);
}

TEST(ReplicaSetTest, FailoverAvoidsAnOpenReplicaAndRateLimitCoolsDown) {
  ReplicaSet set(2, Opts(10, 1));
  const absl::Time now = absl::Now();
  int r;
  set.Choose(99, -1, now, &r);
  set.OnFailure(r, now);
  set.Release(r);
  int next;
  ASSERT_EQ(set.Choose(99, -1, now, &next), ReplicaSet::Pick::kPicked);
  EXPECT_NE(next, r);
  set.OnRateLimited(next, now + absl::Seconds(1));
  set.Release(next);
  int none;
  EXPECT_EQ(set.Choose(99, -1, now, &none), ReplicaSet::Pick::kBusy);
  EXPECT_EQ(set.Choose(99, -1, now + absl::Seconds(2), &none),
            ReplicaSet::Pick::kPicked);
}

Criterion Crit(const std::string& id, const std::string& text) {
  Criterion c;
  c.id = id;
  c.text = text;
  return c;
}

std::string Hex(const Sha256::Digest& d) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

// Cache keys and rubric content hashes rest on this: FIPS 180-2's vectors,
// digests fed in pieces, and threads hashing at once on their own contexts.
TEST(Sha256Test, KnownVectorsPiecesAndThreads) {
  const std::string kEmpty =
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  const std::string kAbc =
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  const std::string k448 =
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
  const std::string long_input =
      "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  EXPECT_EQ(Hex(Sha256::Of("")), kEmpty);
  EXPECT_EQ(Hex(Sha256::Of("abc")), kAbc);
  EXPECT_EQ(Hex(Sha256::Of(long_input)), k448);
  {
    Sha256 h;
    h.Update("ab");
    h.Update("");
    h.Update("c");
    EXPECT_EQ(Hex(h.Final()), kAbc);
  }
  // The thread's context is reused: a second digest starts afresh.
  EXPECT_EQ(Hex(Sha256::Of("abc")), kAbc);
  // Two live digests on one thread would share its context: refused loudly.
  EXPECT_DEATH(
      {
        Sha256 outer;
        Sha256 inner;
      },
      "");
  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        if (Hex(Sha256::Of(i % 2 ? "abc" : long_input)) !=
            (i % 2 ? kAbc : k448)) {
          ++wrong[t];
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_THAT(wrong, ::testing::Each(0));
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

TEST(RetryBackoffTest, GrowsExponentiallyWithinJitterAndCap) {
  JudgePoolOptions o;
  o.initial_backoff = absl::Milliseconds(100);
  o.backoff_multiplier = 2;
  o.max_backoff = absl::Seconds(1);
  o.backoff_jitter = 0.5;
  absl::BitGen gen;
  for (int i = 0; i < 50; ++i) {
    const absl::Duration d1 = RetryBackoff(1, o, gen);
    EXPECT_GE(d1, absl::Milliseconds(50));
    EXPECT_LE(d1, absl::Milliseconds(150));
    const absl::Duration d3 = RetryBackoff(3, o, gen);
    EXPECT_GE(d3, absl::Milliseconds(200));
    EXPECT_LE(d3, absl::Milliseconds(600));
    EXPECT_LE(RetryBackoff(10, o, gen), o.max_backoff);
  }
}

TEST(JudgesConfigTest, LoadsTheShippedExampleWithDefaultFirst) {
  setenv("OPENAI_API_KEY", "sk-test", 0);
  absl::StatusOr<std::vector<std::shared_ptr<Judge>>> judges = LoadJudgesConfig(
      std::string(REWARDD_SOURCE_DIR) + "/examples/judges.json");
  ASSERT_TRUE(judges.ok()) << judges.status();
  ASSERT_GE(judges->size(), 2u);
  std::ifstream in(std::string(REWARDD_SOURCE_DIR) + "/examples/judges.json");
  nlohmann::json doc = nlohmann::json::parse(in);
  EXPECT_EQ((*judges)[0]->name(), doc["default"].get<std::string>());
  ShutdownJudges(*judges);
}

TEST(JudgesConfigTest, ErrorsNameTheProblem) {
  auto build = [](const std::string& text) {
    return BuildJudges(nlohmann::json::parse(text), ".").status();
  };
  EXPECT_THAT(std::string(build(R"({"judges": []})").message()),
              testing::HasSubstr("judges"));
  EXPECT_THAT(std::string(build(R"({"judges": [{"name": "a", "model": "m",
          "replicas": ["http://x/v1"], "pool": {"max_queue_sise": 3}}]})")
                              .message()),
              testing::HasSubstr("max_queue_sise"));
  EXPECT_THAT(std::string(build(R"({"default": "zz", "judges": [{"name": "a",
          "model": "m", "replicas": ["http://x/v1"]}]})")
                              .message()),
              testing::HasSubstr("zz"));
  EXPECT_THAT(std::string(build(R"({"judges": [
          {"name": "a", "model": "m", "replicas": ["http://x/v1"]},
          {"name": "a", "model": "m", "replicas": ["http://x/v1"]}]})")
                              .message()),
              testing::HasSubstr("two judges"));
  EXPECT_THAT(std::string(build(R"({"judges": [{"name": "a", "model": "m",
          "replicas": ["http://x/v1"], "api_key_env": "REWARDD_NO_SUCH_VAR"}]})")
                              .message()),
              testing::HasSubstr("REWARDD_NO_SUCH_VAR"));
}

Verdict Vote(bool met, std::optional<double> p = std::nullopt,
             std::string why = "") {
  Verdict v;
  v.status = CriterionStatus::kOk;
  v.met = met;
  v.probability = p;
  v.explanation = std::move(why);
  return v;
}

Verdict Failed(CriterionStatus status) {
  Verdict v;
  v.status = status;
  v.explanation = "boom";
  return v;
}

TEST(TallyVotesTest, MajorityWithAgreementAndTiesUnmet) {
  // Two criteria, five samples: 3 of 5 say met; 1 of 5 says met.
  std::vector<std::vector<Verdict>> s = {
      {Vote(true, std::nullopt, "a"), Vote(false, std::nullopt, "b")},
      {Vote(true), Vote(false, std::nullopt, "c")},
      {Vote(false), Vote(true)},
      {Vote(true), Vote(false)},
      {Vote(false), Vote(false)}};
  std::vector<Verdict> t = TallyVotes(s, VoteAggregation::kMajority);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].status, CriterionStatus::kOk);
  EXPECT_TRUE(t[0].met);
  EXPECT_DOUBLE_EQ(*t[0].agreement, 3.0 / 5);
  EXPECT_FALSE(t[0].probability.has_value());  // samples had none
  EXPECT_THAT(t[0].explanation, testing::HasSubstr("a (3 of 5 votes)"));
  EXPECT_FALSE(t[1].met);
  EXPECT_DOUBLE_EQ(*t[1].agreement, 4.0 / 5);
  EXPECT_THAT(t[1].explanation, testing::StartsWith("b "));
  // A tie is unmet, with agreement 1/2.
  std::vector<std::vector<Verdict>> tie = {{Vote(true)}, {Vote(false)}};
  t = TallyVotes(tie, VoteAggregation::kMean);
  EXPECT_FALSE(t[0].met);
  EXPECT_DOUBLE_EQ(*t[0].agreement, 0.5);
  EXPECT_DOUBLE_EQ(*t[0].probability, 0.5);
}

TEST(TallyVotesTest, MeanIsTheShareOfMetAndMajorityAveragesLogprobs) {
  std::vector<std::vector<Verdict>> s = {
      {Vote(true, 0.9)}, {Vote(true, 0.7)}, {Vote(false, 0.2)}};
  EXPECT_DOUBLE_EQ(*TallyVotes(s, VoteAggregation::kMean)[0].probability,
                   2.0 / 3);
  EXPECT_DOUBLE_EQ(*TallyVotes(s, VoteAggregation::kMajority)[0].probability,
                   (0.9 + 0.7 + 0.2) / 3);
}

TEST(TallyVotesTest, FailedSamplesAreNotVotesAndAllFailedIsNoVerdict) {
  std::vector<std::vector<Verdict>> s = {
      {Failed(CriterionStatus::kTimeout), Failed(CriterionStatus::kJudgeError)},
      {Vote(false), Failed(CriterionStatus::kJudgeError)},
      {Vote(false), Failed(CriterionStatus::kParseError)}};
  std::vector<Verdict> t = TallyVotes(s, VoteAggregation::kMean);
  EXPECT_EQ(t[0].status, CriterionStatus::kOk);
  EXPECT_FALSE(t[0].met);
  EXPECT_DOUBLE_EQ(*t[0].agreement, 1.0);  // 2 of the 2 valid votes
  EXPECT_THAT(t[0].explanation, testing::HasSubstr("1 failed"));
  // No valid vote: a failure, never an unmet verdict.
  EXPECT_EQ(t[1].status, CriterionStatus::kJudgeError);
  EXPECT_FALSE(t[1].agreement.has_value());
  EXPECT_THAT(t[1].explanation, testing::HasSubstr("none of 3"));
}

TEST(TokenBucketTest, PacesAtTheRateAndOverdrawsForLargeCalls) {
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  // 120 a minute = 2 a second; a burst of 1 s holds 2.
  RateLimiter limits(120, 0, absl::Seconds(1), t0);
  EXPECT_TRUE(limits.enabled());
  EXPECT_FALSE(limits.limits_tokens());
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(limits.ReadyAt(0, t0), t0);
    limits.Take(0, t0);
  }
  // The third waits half a second (rounded up to the next millisecond).
  const absl::Time ready = limits.ReadyAt(0, t0);
  EXPECT_GE(ready, t0 + absl::Milliseconds(500));
  EXPECT_LE(ready, t0 + absl::Milliseconds(502));
  EXPECT_EQ(limits.ReadyAt(0, ready), ready);

  // Tokens: 6000 a minute = 100/s, bucket 100. A 1000-token call starts on
  // a full bucket and leaves a debt of 900: the next waits ~10 s.
  RateLimiter tokens(0, 6000, absl::Seconds(1), t0);
  ASSERT_EQ(tokens.ReadyAt(1000, t0), t0);
  tokens.Take(1000, t0);
  EXPECT_DOUBLE_EQ(tokens.tokens_available(t0), -900);
  EXPECT_GE(tokens.ReadyAt(50, t0), t0 + absl::Milliseconds(9500));
  // The answer's usage said 400 tokens: 600 come back.
  tokens.Correct(1000, 400, t0);
  EXPECT_DOUBLE_EQ(tokens.tokens_available(t0), -300);
  // Usage above the estimate deepens the debt.
  tokens.Correct(100, 300, t0);
  EXPECT_DOUBLE_EQ(tokens.tokens_available(t0), -500);
  // Refill is capped at the bucket.
  EXPECT_DOUBLE_EQ(tokens.tokens_available(t0 + absl::Minutes(5)), 100);
  // Unlimited buckets never wait.
  RateLimiter off(0, 0, absl::Seconds(1), t0);
  EXPECT_FALSE(off.enabled());
  EXPECT_EQ(off.ReadyAt(1e9, t0), t0);
}

TEST(JudgesConfigTest, VoteAndRateLimitFields) {
  absl::StatusOr<HttpJudgeConfig> c =
      ParseHttpJudgeConfig(nlohmann::json::parse(R"({"name": "a", "model": "m",
          "replicas": ["http://x/v1"], "votes": 5, "vote_aggregation": "mean",
          "vote_temperature": 1.0})"),
                           ".");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->votes, 5);
  EXPECT_EQ(c->vote_aggregation, VoteAggregation::kMean);
  EXPECT_DOUBLE_EQ(c->vote_temperature, 1.0);
  for (const char* bad : {R"("votes": 0)", R"("vote_aggregation": "median")",
                          R"("vote_temperature": 0)"}) {
    absl::StatusOr<HttpJudgeConfig> b = ParseHttpJudgeConfig(
        nlohmann::json::parse(absl::StrCat(
            R"({"name": "a", "model": "m", "replicas": ["http://x/v1"], )", bad,
            "}")),
        ".");
    EXPECT_FALSE(b.ok()) << bad;
  }
  absl::StatusOr<JudgePoolOptions> o =
      ParseJudgePoolOptions(nlohmann::json::parse(
          R"({"max_votes": 8, "requests_per_minute": 500,
              "tokens_per_minute": 200000, "rate_limit_burst_ms": 250})"));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->max_votes, 8);
  EXPECT_DOUBLE_EQ(o->requests_per_minute, 500);
  EXPECT_DOUBLE_EQ(o->tokens_per_minute, 200000);
  EXPECT_EQ(o->rate_limit_burst, absl::Milliseconds(250));
  EXPECT_FALSE(ParseJudgePoolOptions(
                   nlohmann::json::parse(R"({"tokens_per_minute": -1})"))
                   .ok());
  // A judge asking for more votes than its pool allows is refused at load.
  EXPECT_THAT(std::string(BuildJudges(nlohmann::json::parse(R"({"judges": [
          {"name": "a", "model": "m", "replicas": ["http://x/v1"],
           "votes": 9, "pool": {"max_votes": 8}}]})"),
                                      ".")
                              .status()
                              .message()),
              testing::HasSubstr("max_votes"));
}

// Numbers that do not fit the field (found by the judges_config fuzzer: a
// plain get<int64_t>() of 1e30 is undefined behaviour) are refused with an
// error naming the field; whole floats are accepted.
TEST(JudgesConfigTest, IntegersOutOfRangeAreErrorsNamingTheField) {
  auto judge = [](const std::string& field) {
    return ParseHttpJudgeConfig(
        nlohmann::json::parse(absl::StrCat(
            R"({"name": "a", "model": "m", "replicas": ["http://x/v1"], )",
            field, "}")),
        ".");
  };
  for (const char* bad :
       {R"("timeout_ms": 1e30)", R"("seed": -1e300)", R"("votes": 3e9)",
        R"("max_tokens": 2.5)", R"("top_logprobs": 18446744073709551615)"}) {
    absl::StatusOr<HttpJudgeConfig> c = judge(bad);
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
    const std::string field =
        std::string(bad).substr(1, std::string(bad).find('"', 1) - 1);
    EXPECT_THAT(std::string(c.status().message()), testing::HasSubstr(field));
    EXPECT_THAT(std::string(c.status().message()),
                testing::HasSubstr("whole number"));
  }
  absl::StatusOr<HttpJudgeConfig> whole = judge(R"("timeout_ms": 1500.0)");
  ASSERT_TRUE(whole.ok()) << whole.status();
  EXPECT_EQ(whole->timeout, absl::Milliseconds(1500));

  for (const char* bad :
       {R"({"max_queue_size": -1})", R"({"max_in_flight_per_replica": 1e19})",
        R"({"sweep_interval_ms": 1e300})"}) {
    absl::StatusOr<JudgePoolOptions> o =
        ParseJudgePoolOptions(nlohmann::json::parse(bad));
    EXPECT_FALSE(o.ok()) << bad;
  }
  EXPECT_THAT(std::string(BuildJudges(nlohmann::json::parse(R"({
          "http": {"max_host_connections": 1e40},
          "judges": [{"name": "a", "model": "m", "replicas": ["http://x/v1"]}]})"),
                                      ".")
                              .status()
                              .message()),
              testing::HasSubstr("max_host_connections"));
  EXPECT_THAT(std::string(BuildJudges(nlohmann::json::parse(R"({
          "cache_max_bytes": -5,
          "judges": [{"name": "a", "model": "m", "replicas": ["http://x/v1"]}]})"),
                                      ".")
                              .status()
                              .message()),
              testing::HasSubstr("cache_max_bytes"));
}

}  // namespace
}  // namespace rewardd

// JudgePool against judge-sim over 127.0.0.1: grading modes, soft scores,
// think blocks, retries, truncation, the circuit breaker, deadlines, a full
// queue, the cache and in-flight dedup, cancellation and shutdown, the
// judges config, votes and rate limits. (The HTTP loop's own behaviour:
// curl_multi_loop_test; batching and hedging: judge_pool_batching_test.)
// Expected verdicts come from the simulator's documented rule
// (SimRuleVerdict), never from constants.
#include "server/judge/pool/judge_pool.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/judge/pool/judges_config.h"
#include "tests/integration/judge_pool_fixture.h"
#include "tools/judge-sim/judge_sim.h"

namespace rewardd {
namespace {

using ::testing::HasSubstr;

class JudgePoolTest : public SingleSimFixture {
 protected:
  HttpJudgeConfig Config() const { return SimConfig({sim_->base_url()}); }
  static JudgePoolOptions FastRetries() {
    JudgePoolOptions o;
    o.initial_backoff = absl::Milliseconds(5);
    o.max_backoff = absl::Milliseconds(20);
    o.sweep_interval = absl::Milliseconds(10);
    return o;
  }
  std::shared_ptr<JudgePool> Pool(
      HttpJudgeConfig c, JudgePoolOptions o = FastRetries(),
      std::shared_ptr<VerdictCache> cache = nullptr) {
    return AddPool(std::move(c), o, std::move(cache));
  }
  std::shared_ptr<GradeInput> Input(const std::string& label,
                                    GradingMode mode = GradingMode::kAllInOne) {
    return PaperInput(label, mode);
  }
  static std::vector<uint32_t> All(const Rubric& r) {
    std::vector<uint32_t> v(r.criteria.size());
    for (size_t i = 0; i < v.size(); ++i) v[i] = i;
    return v;
  }
};

TEST_F(JudgePoolTest, AllInOneGradesEveryCriterionInOneCall) {
  auto pool = Pool(Config());
  for (const char* label : {"R1", "R2"}) {
    auto in = Input(label);
    ExpectRuleVerdicts(GradeSync(*pool, in, All(*rubric_)), *in, All(*rubric_));
  }
  const SimStats s = sim_->stats();
  EXPECT_EQ(s.calls, 2);
  EXPECT_EQ(s.all_in_one, 2);
  // The rule must not be trivially constant on this data.
  EXPECT_GT(s.verdicts_met, 0);
  EXPECT_GT(s.verdicts_unmet, 0);
}

TEST_F(JudgePoolTest, PerCriterionOneCallEachWithExplanations) {
  HttpJudgeConfig c = Config();
  c.default_mode = GradingMode::kPerCriterion;
  auto pool = Pool(c);
  auto in = Input("R2", GradingMode::kDefault);  // the judge's default
  std::vector<JudgeWaiter> waiters(rubric_->criteria.size());
  for (uint32_t i = 0; i < rubric_->criteria.size(); ++i) {
    pool->Grade(JudgeWork{in, {i}}, waiters[i].Callback());
  }
  for (uint32_t i = 0; i < rubric_->criteria.size(); ++i) {
    const JudgeOutcome& o = waiters[i].Wait();
    ExpectRuleVerdicts(o, *in, {i});
    EXPECT_THAT(o.result.verdicts[0].explanation, HasSubstr("simulated"));
  }
  EXPECT_EQ(sim_->stats().per_criterion,
            static_cast<int64_t>(rubric_->criteria.size()));
}

// A per_criterion call answers one verdict: a piece with several criteria
// is refused whole, before any call, rather than answered for its first
// criterion only.
TEST_F(JudgePoolTest, PerCriterionRefusesAPieceOfSeveralCriteria) {
  HttpJudgeConfig c = Config();
  c.default_mode = GradingMode::kPerCriterion;
  auto pool = Pool(c);
  for (std::vector<uint32_t> criteria :
       {std::vector<uint32_t>{0, 1}, std::vector<uint32_t>{}}) {
    const JudgeOutcome o =
        GradeSync(*pool, Input("R1", GradingMode::kDefault), criteria);
    EXPECT_EQ(o.status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(o.status.message(), HasSubstr("one criterion"));
  }
  EXPECT_EQ(sim_->stats().calls, 0);
}

TEST_F(JudgePoolTest, ChunkedUsesTheObjectFormatForItsSubset) {
  auto pool = Pool(Config());
  auto in = Input("R1", GradingMode::kChunked);
  ExpectRuleVerdicts(GradeSync(*pool, in, {5, 6, 7}), *in, {5, 6, 7});
  EXPECT_EQ(sim_->stats().all_in_one, 1);
}

TEST_F(JudgePoolTest, LogprobsGiveTheProbabilityOfMet) {
  HttpJudgeConfig c = Config();
  c.logprobs = true;
  c.top_logprobs = 2;
  auto pool = Pool(c);
  auto in = Input("R1");
  const JudgeOutcome o = GradeSync(*pool, in, All(*rubric_));
  ExpectRuleVerdicts(o, *in, All(*rubric_));
  for (size_t i = 0; i < rubric_->criteria.size(); ++i) {
    const Verdict& v = o.result.verdicts[i];
    ASSERT_TRUE(v.probability.has_value()) << i;
    const double p = SimConfidence(rubric_->criteria[i].text);
    EXPECT_NEAR(*v.probability, v.met ? p : 1 - p, 1e-6);
  }
  // per_criterion soft scores too.
  auto in2 = Input("R2", GradingMode::kPerCriterion);
  const JudgeOutcome o2 = GradeSync(*pool, in2, {3});
  ASSERT_TRUE(o2.result.verdicts[0].probability.has_value());
  EXPECT_EQ(*o2.result.verdicts[0].probability > 0.5,
            o2.result.verdicts[0].met);
}

TEST_F(JudgePoolTest, ThinkBlocksInContentOrReasoningContent) {
  SimFaults f;
  f.rate_think = 1;
  sim_->SetFaults(f);
  auto pool = Pool(Config());
  auto in = Input("R1");
  ExpectRuleVerdicts(GradeSync(*pool, in, All(*rubric_)), *in, All(*rubric_));
  f.think_in_reasoning_content = true;
  sim_->SetFaults(f);
  auto in2 = Input("R2", GradingMode::kPerCriterion);
  ExpectRuleVerdicts(GradeSync(*pool, in2, {0}), *in2, {0});
  EXPECT_EQ(sim_->stats().faults_think, 2);
  EXPECT_EQ(pool->stats().parse_retries, 0u);
}

TEST_F(JudgePoolTest, RetriesThrough429And500AndDroppedConnections) {
  auto pool = Pool(Config());
  int64_t calls = 0;
  for (const char* kind : {"429", "500", "reset"}) {
    SimFaults f;
    f.fail_first = 2;
    f.fail_first_kind = kind;
    f.retry_after = absl::Milliseconds(30);
    sim_->SetFaults(f);
    auto in = Input(std::string(kind) == "500" ? "R2" : "R1",
                    GradingMode::kPerCriterion);
    const uint32_t criterion = std::string(kind) == "reset" ? 2 : 1;
    ExpectRuleVerdicts(GradeSync(*pool, in, {criterion}), *in, {criterion});
    calls += 3;
    EXPECT_EQ(sim_->stats().calls, calls) << kind;
  }
  EXPECT_EQ(pool->stats().retries, 6u);
  const SimStats s = sim_->stats();
  EXPECT_EQ(s.faults_429, 2);
  EXPECT_EQ(s.faults_500, 2);
  EXPECT_EQ(s.faults_reset, 2);
}

TEST_F(JudgePoolTest, RetriesRunOutIntoJudgeErrorNotUnmet) {
  JudgePoolOptions o = FastRetries();
  o.max_attempts = 3;
  o.breaker_failures = 100;
  auto pool = Pool(Config(), o);
  SimFaults f;
  f.rate_500 = 1;
  sim_->SetFaults(f);
  const JudgeOutcome out = GradeSync(*pool, Input("R1"), All(*rubric_));
  ASSERT_TRUE(out.status.ok());
  for (const Verdict& v : out.result.verdicts) {
    EXPECT_EQ(v.status, CriterionStatus::kJudgeError);
    EXPECT_THAT(v.explanation, HasSubstr("HTTP 500"));
  }
  EXPECT_EQ(sim_->stats().calls, 3);
}

// A reply body past max_reply_bytes fails the call (retried, then
// JUDGE_ERROR saying why): rewardd never buffers an endpoint's reply
// without bound, and never turns it into a verdict.
TEST_F(JudgePoolTest, OversizedRepliesFailTheCallNotTheServer) {
  JudgePoolOptions o = FastRetries();
  o.max_attempts = 2;
  o.breaker_failures = 100;
  HttpJudgeConfig c = Config();
  c.max_reply_bytes = 64;  // judge-sim's all_in_one replies are ~400 bytes
  auto pool = Pool(c, o);
  const JudgeOutcome out = GradeSync(*pool, Input("R1"), All(*rubric_));
  ASSERT_TRUE(out.status.ok()) << out.status;
  for (const Verdict& v : out.result.verdicts) {
    EXPECT_EQ(v.status, CriterionStatus::kJudgeError);
    EXPECT_THAT(v.explanation, HasSubstr("larger than 64 bytes"));
  }
  EXPECT_EQ(sim_->stats().calls, 2);
  // The same judge with the default cap grades normally.
  auto roomy = Pool(Config(), o);
  auto in = Input("R1");
  ExpectRuleVerdicts(GradeSync(*roomy, in, All(*rubric_)), *in, All(*rubric_));
}

TEST_F(JudgePoolTest, UnparsableAnswersAreRetriedThenParseError) {
  auto pool = Pool(Config());
  SimFaults f;
  f.fail_first = 1;
  f.fail_first_kind = "garbage";
  sim_->SetFaults(f);
  auto in = Input("R1");
  ExpectRuleVerdicts(GradeSync(*pool, in, All(*rubric_)), *in, All(*rubric_));
  EXPECT_EQ(pool->stats().parse_retries, 1u);

  f = SimFaults();
  f.rate_garbage = 1;
  sim_->SetFaults(f);
  sim_->ResetStats();
  const JudgeOutcome o = GradeSync(*pool, Input("R2"), All(*rubric_));
  ASSERT_TRUE(o.status.ok());
  for (const Verdict& v : o.result.verdicts) {
    EXPECT_EQ(v.status, CriterionStatus::kParseError);
  }
  EXPECT_EQ(sim_->stats().calls, 3);  // the call and 2 retries (default)
}

TEST_F(JudgePoolTest, TruncatedAnswerIsRetriedWithALargerBudget) {
  HttpJudgeConfig c = Config();
  c.max_tokens = 5;  // judge-sim: ~4 bytes a token, too small for 12 ids
  auto pool = Pool(c);
  auto in = Input("R1");
  ExpectRuleVerdicts(GradeSync(*pool, in, All(*rubric_)), *in, All(*rubric_));
  EXPECT_EQ(sim_->stats().calls, 2);

  c.name = "no-length-retry";
  c.length_retries = 0;
  auto strict = Pool(c);
  const JudgeOutcome o = GradeSync(*strict, Input("R2"), All(*rubric_));
  bool any_cut = false;
  for (const Verdict& v : o.result.verdicts) {
    EXPECT_NE(v.status, CriterionStatus::kMissing);
    if (v.status == CriterionStatus::kParseError) {
      any_cut = true;
      EXPECT_THAT(v.explanation, HasSubstr("cut off"));
    }
  }
  EXPECT_TRUE(any_cut);
}

TEST_F(JudgePoolTest, BreakerOpensFailsFastAndClosesAfterAProbe) {
  JudgePoolOptions o = FastRetries();
  o.max_attempts = 1;
  o.breaker_failures = 2;
  o.breaker_open_time = absl::Milliseconds(200);
  auto pool = Pool(Config(), o);
  SimFaults f;
  f.rate_500 = 1;
  sim_->SetFaults(f);
  for (int i = 0; i < 2; ++i) {
    const JudgeOutcome out =
        GradeSync(*pool, Input("R1", GradingMode::kPerCriterion),
                  {static_cast<uint32_t>(i)});
    EXPECT_EQ(out.result.verdicts[0].status, CriterionStatus::kJudgeError);
  }
  EXPECT_EQ(pool->stats().breakers[0], ReplicaSet::BreakerState::kOpen);
  const JudgeOutcome fast =
      GradeSync(*pool, Input("R1", GradingMode::kPerCriterion), {5});
  EXPECT_EQ(fast.result.verdicts[0].status, CriterionStatus::kJudgeError);
  EXPECT_THAT(fast.result.verdicts[0].explanation,
              HasSubstr("circuit breaker"));
  EXPECT_EQ(sim_->stats().calls, 2);  // failed fast: no call

  sim_->SetFaults(SimFaults());
  absl::SleepFor(absl::Milliseconds(250));  // let the open period pass
  auto in = Input("R2", GradingMode::kPerCriterion);
  ExpectRuleVerdicts(GradeSync(*pool, in, {6}), *in, {6});
  EXPECT_EQ(pool->stats().breakers[0], ReplicaSet::BreakerState::kClosed);
}

TEST_F(JudgePoolTest, DeadReplicaIsAvoided) {
  // A port nothing listens on: connection refused, breaker opens, the live
  // replica takes the work.
  auto dead = JudgeSim::Start(SimOptions());
  ASSERT_TRUE(dead.ok());
  const std::string dead_url = (*dead)->base_url();
  (*dead)->Stop();
  HttpJudgeConfig c = Config();
  c.replicas = {dead_url, sim_->base_url()};
  JudgePoolOptions o = FastRetries();
  o.breaker_failures = 1;
  auto pool = Pool(c, o);
  for (uint32_t i = 0; i < 6; ++i) {
    auto in = Input(i % 2 ? "R1" : "R2", GradingMode::kPerCriterion);
    ExpectRuleVerdicts(GradeSync(*pool, in, {i}), *in, {i});
  }
  EXPECT_EQ(sim_->stats().calls, 6);
}

TEST_F(JudgePoolTest, DeadlineShorterThanLatencyGivesTimeoutNeverUnmet) {
  sim_->SetLatency(absl::Milliseconds(800), absl::ZeroDuration());
  auto pool = Pool(Config());
  auto in = Input("R1");
  in->deadline = absl::Now() + absl::Milliseconds(150);
  const JudgeOutcome o = GradeSync(*pool, in, All(*rubric_));
  ASSERT_TRUE(o.status.ok()) << o.status;
  for (const Verdict& v : o.result.verdicts) {
    EXPECT_EQ(v.status, CriterionStatus::kTimeout) << v.explanation;
  }
  auto late = Input("R2");
  late->deadline = absl::Now() - absl::Milliseconds(1);
  const JudgeOutcome refused = GradeSync(*pool, late, All(*rubric_));
  EXPECT_EQ(refused.status.code(), absl::StatusCode::kDeadlineExceeded);
  // The HTTP loop goes back to sleep after a timed-out call: it once kept
  // calling libcurl's expired one-shot timer, spinning a CPU forever. Idle,
  // it goes round a few times a second; spinning, millions of times.
  absl::SleepFor(absl::Milliseconds(300));
  const uint64_t before = loop_->iterations();
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_LT(loop_->iterations() - before, 200u);
}

TEST_F(JudgePoolTest, FullQueueRefusesWithRetryHintAndLosesNothing) {
  sim_->SetLatency(absl::Milliseconds(400), absl::ZeroDuration());
  JudgePoolOptions o = FastRetries();
  o.max_queue_size = 2;
  o.max_in_flight_per_replica = 1;
  auto pool = Pool(Config(), o);
  auto in = Input("R1", GradingMode::kPerCriterion);
  std::vector<JudgeWaiter> waiters(5);
  for (uint32_t i = 0; i < 5; ++i) {
    pool->Grade(JudgeWork{in, {i}}, waiters[i].Callback());
  }
  // 1 in flight + 2 queued; the last two are refused at once.
  for (int i = 3; i < 5; ++i) {
    ASSERT_TRUE(waiters[i].Done());
    const JudgeOutcome& r = waiters[i].Wait();
    EXPECT_EQ(r.status.code(), absl::StatusCode::kResourceExhausted);
    EXPECT_THAT(std::string(r.status.message()), HasSubstr("retry after"));
  }
  for (uint32_t i = 0; i < 3; ++i)
    ExpectRuleVerdicts(waiters[i].Wait(), *in, {i});
  EXPECT_EQ(pool->stats().refused_queue_full, 2u);
  EXPECT_EQ(sim_->stats().calls, 3);
}

TEST_F(JudgePoolTest, CacheHitsAndInFlightDedup) {
  sim_->SetLatency(absl::Milliseconds(100), absl::ZeroDuration());
  auto cache = std::make_shared<VerdictCache>(1 << 20);
  auto pool = Pool(Config(), FastRetries(), cache);
  // Two identical responses of a group at once: one call.
  auto a = Input("R1");
  auto b = Input("R1");
  JudgeWaiter wa, wb;
  pool->Grade(JudgeWork{a, All(*rubric_)}, wa.Callback());
  pool->Grade(JudgeWork{b, All(*rubric_)}, wb.Callback());
  ExpectRuleVerdicts(wa.Wait(), *a, All(*rubric_));
  ExpectRuleVerdicts(wb.Wait(), *b, All(*rubric_));
  EXPECT_EQ(sim_->stats().calls, 1);
  EXPECT_EQ(pool->stats().dedup_joins, 1u);
  EXPECT_FALSE(wa.Wait().result.verdicts[0].cached);
  EXPECT_TRUE(wb.Wait().result.verdicts[0].cached);
  // Later: from the cache, no call.
  const JudgeOutcome again = GradeSync(*pool, Input("R1"), All(*rubric_));
  ExpectRuleVerdicts(again, *a, All(*rubric_));
  for (const Verdict& v : again.result.verdicts) EXPECT_TRUE(v.cached);
  EXPECT_EQ(sim_->stats().calls, 1);
  // skip_cache asks the judge again.
  auto fresh = Input("R1");
  fresh->skip_cache = true;
  const JudgeOutcome f = GradeSync(*pool, fresh, All(*rubric_));
  EXPECT_FALSE(f.result.verdicts[0].cached);
  EXPECT_EQ(sim_->stats().calls, 2);
  // A different response is a miss.
  GradeSync(*pool, Input("R2"), All(*rubric_));
  EXPECT_EQ(sim_->stats().calls, 3);
}

TEST_F(JudgePoolTest, CancellationSkipsQueuedAndAbortsInFlightWork) {
  sim_->SetLatency(absl::Seconds(5), absl::ZeroDuration());
  JudgePoolOptions o = FastRetries();
  o.max_in_flight_per_replica = 1;
  auto pool = Pool(Config(), o);
  auto cancel = std::make_shared<Cancellation>();
  auto in = Input("R1", GradingMode::kPerCriterion);
  in->cancellation = cancel;
  JudgeWaiter running, queued;
  pool->Grade(JudgeWork{in, {0}}, running.Callback());
  pool->Grade(JudgeWork{in, {1}}, queued.Callback());
  cancel->Cancel();
  EXPECT_EQ(queued.Wait().result.verdicts[0].status, CriterionStatus::kSkipped);
  EXPECT_EQ(running.Wait().result.verdicts[0].status,
            CriterionStatus::kSkipped);
}

TEST_F(JudgePoolTest, ShutdownAnswersEverything) {
  sim_->SetLatency(absl::Seconds(5), absl::ZeroDuration());
  JudgePoolOptions o = FastRetries();
  o.max_in_flight_per_replica = 1;
  auto pool = Pool(Config(), o);
  auto in = Input("R1", GradingMode::kPerCriterion);
  JudgeWaiter running, queued;
  pool->Grade(JudgeWork{in, {0}}, running.Callback());
  pool->Grade(JudgeWork{in, {1}}, queued.Callback());
  pool->Shutdown();
  EXPECT_TRUE(running.Done());
  EXPECT_TRUE(queued.Done());
  EXPECT_EQ(running.Wait().result.verdicts[0].status,
            CriterionStatus::kJudgeError);
  EXPECT_EQ(queued.Wait().status.code(), absl::StatusCode::kUnavailable);
  const JudgeOutcome after = GradeSync(*pool, in, {2});
  EXPECT_EQ(after.status.code(), absl::StatusCode::kUnavailable);
}

TEST_F(JudgePoolTest, JudgesConfigBuildsWorkingJudges) {
  nlohmann::json doc = {
      {"default", "b"},
      {"judges",
       {{{"name", "a"}, {"model", "m"}, {"replicas", {sim_->base_url()}}},
        {{"name", "b"},
         {"model", "m"},
         {"mode", "per_criterion"},
         {"replicas", {sim_->base_url()}},
         {"pool", {{"max_in_flight_per_replica", 4}}}}}}};
  absl::StatusOr<std::vector<std::shared_ptr<Judge>>> judges =
      BuildJudges(doc, ".");
  ASSERT_TRUE(judges.ok()) << judges.status();
  ASSERT_EQ((*judges)[0]->name(), "b");
  EXPECT_EQ((*judges)[0]->default_mode(), GradingMode::kPerCriterion);
  auto in = Input("R2", GradingMode::kDefault);
  JudgeWaiter w;
  (*judges)[0]->Grade(JudgeWork{in, {4}}, w.Callback());
  ExpectRuleVerdicts(w.Wait(), *in, {4});
  EXPECT_EQ(sim_->stats().per_criterion, 1);
  ShutdownJudges(*judges);
}

// The HTTP loop spreads calls over several libcurl multi handles, each with
// its own connections; a connection cap in the config must still hold over
// all of them together, and without one the shards must not serialize calls.
TEST_F(JudgePoolTest, ConnectionCapHoldsAcrossTheLoopsShards) {
  sim_->SetLatency(absl::Milliseconds(20), absl::ZeroDuration());
  for (const int cap : {3, 0}) {
    SCOPED_TRACE(cap);
    nlohmann::json doc = {
        {"http", {{"shards", 8}, {"max_host_connections", cap}}},
        {"judges",
         {{{"name", "j"},
           {"model", "m"},
           {"mode", "per_criterion"},
           {"replicas", {sim_->base_url()}},
           {"pool", {{"max_in_flight_per_replica", 16}}}}}}};
    absl::StatusOr<std::vector<std::shared_ptr<Judge>>> judges =
        BuildJudges(doc, ".");
    ASSERT_TRUE(judges.ok()) << judges.status();
    sim_->ResetStats();
    auto in = Input("R1", GradingMode::kDefault);
    std::vector<JudgeWaiter> waiters(rubric_->criteria.size());
    for (uint32_t i = 0; i < rubric_->criteria.size(); ++i) {
      (*judges)[0]->Grade(JudgeWork{in, {i}}, waiters[i].Callback());
    }
    for (uint32_t i = 0; i < rubric_->criteria.size(); ++i) {
      ExpectRuleVerdicts(waiters[i].Wait(), *in, {i});
    }
    const SimStats st = sim_->stats();
    EXPECT_EQ(st.per_criterion, static_cast<int64_t>(rubric_->criteria.size()));
    if (cap > 0) {
      EXPECT_LE(st.concurrent_peak, cap);
    } else {
      EXPECT_GT(st.concurrent_peak, 3);
    }
    ShutdownJudges(*judges);
  }
  nlohmann::json bad = {
      {"http", {{"shards", 0}}},
      {"judges",
       {{{"name", "j"}, {"model", "m"}, {"replicas", {sim_->base_url()}}}}}};
  absl::StatusOr<std::vector<std::shared_ptr<Judge>>> refused =
      BuildJudges(bad, ".");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.status().message(), HasSubstr("shards"));
}

// ---------------------------------------------------------------------------
// Votes: against a judge-sim that samples at temperature > 0, so that the
// expected tally follows from its documented draw (SimSampledVerdict).
// ---------------------------------------------------------------------------

// Every vote test runs both ways of drawing samples: one call asking for n
// choices (vote_via_n, the default) and one call per sample. The verdicts
// must be the same; only the number of calls differs.
class JudgePoolVoteTest : public JudgePoolTest,
                          public testing::WithParamInterface<bool> {
 protected:
  bool via_n() const { return GetParam(); }
  // Judge calls that drawing `votes` samples takes.
  int64_t Calls(int votes) const { return via_n() ? 1 : votes; }
  HttpJudgeConfig VoteConfig() {
    HttpJudgeConfig c = Config();
    c.vote_via_n = via_n();
    return c;
  }
  void SetUp() override {
    JudgePoolTest::SetUp();
    SimOptions o;
    o.capacity = 16;
    o.sample = true;
    absl::StatusOr<std::unique_ptr<JudgeSim>> sim = JudgeSim::Start(o);
    ASSERT_TRUE(sim.ok()) << sim.status();
    sim_ = *std::move(sim);  // replaces the fixed-verdict simulator
  }
  // The sampled votes of seeds first..first+n-1 for one criterion.
  static int YesVotes(const Criterion& c, const std::string& response,
                      int64_t first, int n) {
    const bool rule = SimRuleVerdict(c.text, response);
    int yes = 0;
    for (int i = 0; i < n; ++i) {
      yes += SimSampledVerdict(rule, c.text, response, first + i) ? 1 : 0;
    }
    return yes;
  }
};

TEST_P(JudgePoolVoteTest, MeanOfSamplesWithDistinctSeedsAndAgreement) {
  HttpJudgeConfig c = VoteConfig();
  c.votes = 5;
  c.vote_aggregation = VoteAggregation::kMean;
  auto cache = std::make_shared<VerdictCache>(1 << 20);
  auto pool = Pool(c, FastRetries(), cache);
  auto in = Input("R1");
  const JudgeOutcome o = GradeSync(*pool, in, All(*rubric_));
  ASSERT_TRUE(o.status.ok()) << o.status;
  bool split = false;
  for (size_t i = 0; i < rubric_->criteria.size(); ++i) {
    const Criterion& crit = rubric_->criteria[i];
    const Verdict& v = o.result.verdicts[i];
    // Seeds 1..5 (no seed configured): the draws the simulator documents.
    const int yes = YesVotes(crit, in->response, 1, 5);
    ASSERT_EQ(v.status, CriterionStatus::kOk) << crit.id << v.explanation;
    EXPECT_EQ(v.met, 2 * yes > 5) << crit.id;
    ASSERT_TRUE(v.agreement.has_value()) << crit.id;
    EXPECT_DOUBLE_EQ(*v.agreement, (v.met ? yes : 5 - yes) / 5.0) << crit.id;
    ASSERT_TRUE(v.probability.has_value()) << crit.id;
    EXPECT_DOUBLE_EQ(*v.probability, yes / 5.0) << crit.id;
    EXPECT_FALSE(v.cached);
    split = split || (yes != 0 && yes != 5);
  }
  const SimStats s = sim_->stats();
  EXPECT_EQ(s.calls, Calls(5));
  EXPECT_EQ(s.sampled_calls, Calls(5));  // every sample at temperature > 0
  // The samples must not all agree on this data, or the test proves little.
  EXPECT_TRUE(split);
  EXPECT_GT(s.sampled_flips, 0);
  EXPECT_EQ(pool->stats().votes, 1u);

  // The tally is cached (the samples are not): no new calls.
  const JudgeOutcome again = GradeSync(*pool, Input("R1"), All(*rubric_));
  for (size_t i = 0; i < rubric_->criteria.size(); ++i) {
    EXPECT_TRUE(again.result.verdicts[i].cached);
    EXPECT_EQ(again.result.verdicts[i].met, o.result.verdicts[i].met);
    EXPECT_EQ(again.result.verdicts[i].agreement,
              o.result.verdicts[i].agreement);
  }
  EXPECT_EQ(sim_->stats().calls, Calls(5));

  // A request may override the judge's votes: 1 is one call at
  // temperature 0 (the rule's verdicts, no agreement)...
  auto single = Input("R2");
  single->votes = 1;
  const JudgeOutcome one = GradeSync(*pool, single, All(*rubric_));
  ExpectRuleVerdicts(one, *single, All(*rubric_));
  EXPECT_FALSE(one.result.verdicts[0].agreement.has_value());
  EXPECT_EQ(sim_->stats().calls, Calls(5) + 1);
  EXPECT_EQ(sim_->stats().sampled_calls, Calls(5));
  // ...and 3 is three samples, cached apart from the 5-vote tally.
  auto three = Input("R1");
  three->votes = 3;
  const JudgeOutcome t = GradeSync(*pool, three, All(*rubric_));
  EXPECT_EQ(sim_->stats().calls, Calls(5) + 1 + Calls(3));
  for (size_t i = 0; i < rubric_->criteria.size(); ++i) {
    const int yes = YesVotes(rubric_->criteria[i], three->response, 1, 3);
    EXPECT_EQ(t.result.verdicts[i].met, 2 * yes > 3);
  }
}

TEST_P(JudgePoolVoteTest, MajorityPerCriterionAveragesLogprobs) {
  HttpJudgeConfig c = VoteConfig();
  c.votes = 3;
  c.seed = 40;  // samples use seeds 40, 41, 42
  c.logprobs = true;
  c.top_logprobs = 2;
  auto pool = Pool(c);
  auto in = Input("R2", GradingMode::kPerCriterion);
  for (uint32_t i : {0u, 3u, 7u}) {
    const JudgeOutcome o = GradeSync(*pool, in, {i});
    const Criterion& crit = rubric_->criteria[i];
    const Verdict& v = o.result.verdicts[0];
    const int yes = YesVotes(crit, in->response, 40, 3);
    ASSERT_EQ(v.status, CriterionStatus::kOk) << v.explanation;
    EXPECT_EQ(v.met, yes >= 2);
    EXPECT_DOUBLE_EQ(*v.agreement, (v.met ? yes : 3 - yes) / 3.0);
    // Each sample's logprobs give P(met) = the simulator's confidence in
    // its rule verdict, whichever way the sample went: so does their mean.
    const double p = SimConfidence(crit.text);
    ASSERT_TRUE(v.probability.has_value());
    EXPECT_NEAR(*v.probability,
                SimRuleVerdict(crit.text, in->response) ? p : 1 - p, 1e-6);
  }
  EXPECT_EQ(sim_->stats().per_criterion, 3 * Calls(3));
}

TEST_P(JudgePoolVoteTest, FailedSamplesAreNeverUnmetAndLimitsAreEnforced) {
  HttpJudgeConfig c = VoteConfig();
  c.votes = 3;
  JudgePoolOptions o = FastRetries();
  o.max_attempts = 1;
  o.breaker_failures = 100;
  o.max_votes = 4;
  auto pool = Pool(c, o);
  SimFaults f;
  f.rate_500 = 1;
  sim_->SetFaults(f);
  const JudgeOutcome failed = GradeSync(*pool, Input("R1"), All(*rubric_));
  ASSERT_TRUE(failed.status.ok());
  for (const Verdict& v : failed.result.verdicts) {
    EXPECT_EQ(v.status, CriterionStatus::kJudgeError);
    EXPECT_THAT(v.explanation, HasSubstr("none of 3"));
  }
  EXPECT_EQ(sim_->stats().calls, Calls(3));

  // More votes than max_votes: refused, nothing sent.
  auto many = Input("R2");
  many->votes = 5;
  const JudgeOutcome refused = GradeSync(*pool, many, All(*rubric_));
  EXPECT_EQ(refused.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sim_->stats().calls, Calls(3));

  // A queue without room for every sample refuses the grading as a whole.
  sim_->SetFaults(SimFaults());
  sim_->SetLatency(absl::Milliseconds(300), absl::ZeroDuration());
  JudgePoolOptions small = FastRetries();
  // One call in flight; the queue has room for one more grading's calls
  // (3 samples: 2 queued behind the one in flight; with n: 1 call), not
  // for the grading after it.
  small.max_queue_size = via_n() ? 1 : 4;
  small.max_in_flight_per_replica = 1;
  c.name = "small";
  auto tight = Pool(c, small);
  auto third_input = Input("R1");
  third_input->response += " (a third response)";
  JudgeWaiter first, second, third;
  tight->Grade(JudgeWork{Input("R1"), All(*rubric_)}, first.Callback());
  if (via_n()) {
    tight->Grade(JudgeWork{Input("R2"), All(*rubric_)}, second.Callback());
  }
  tight->Grade(JudgeWork{third_input, All(*rubric_)}, third.Callback());
  ASSERT_TRUE(third.Done());
  EXPECT_EQ(third.Wait().status.code(), absl::StatusCode::kResourceExhausted);
  for (JudgeWaiter* w : {&first, &second}) {
    if (w == &second && !via_n()) continue;
    ASSERT_TRUE(w->Wait().status.ok());
    for (const Verdict& v : w->Wait().result.verdicts) {
      EXPECT_EQ(v.status, CriterionStatus::kOk);
    }
  }
}

TEST_P(JudgePoolVoteTest, ShortChoicesAreFailedSamplesNotVotes) {
  if (!via_n()) GTEST_SKIP() << "only a call with n choices can come short";
  HttpJudgeConfig c = VoteConfig();
  c.votes = 3;
  auto pool = Pool(c);
  SimFaults f;
  f.max_choices = 1;  // an endpoint that ignores n
  sim_->SetFaults(f);
  auto in = Input("R1");
  const JudgeOutcome o = GradeSync(*pool, in, All(*rubric_));
  ASSERT_TRUE(o.status.ok()) << o.status;
  for (size_t i = 0; i < rubric_->criteria.size(); ++i) {
    const Verdict& v = o.result.verdicts[i];
    ASSERT_EQ(v.status, CriterionStatus::kOk) << v.explanation;
    // One sample voted: its verdict, unanimous among the one vote there is,
    // never three agreeing votes made up from one.
    const int yes = YesVotes(rubric_->criteria[i], in->response, 1, 1);
    EXPECT_EQ(v.met, yes == 1);
    EXPECT_DOUBLE_EQ(*v.agreement, 1.0);
    EXPECT_THAT(v.explanation, HasSubstr("(1 of 1 votes; 2 failed)"));
  }
  EXPECT_EQ(pool->stats().short_choices, 1u);
  EXPECT_EQ(sim_->stats().calls, 1);
}

INSTANTIATE_TEST_SUITE_P(Sampling, JudgePoolVoteTest, testing::Bool(),
                         [](const testing::TestParamInfo<bool>& info) {
                           return info.param ? "OneCallWithN"
                                             : "OneCallPerSample";
                         });

// ---------------------------------------------------------------------------
// Requests- and tokens-per-minute limits.
// ---------------------------------------------------------------------------

TEST_F(JudgePoolTest, RequestsPerMinuteLimitPacesCallsAndLosesNone) {
  JudgePoolOptions o = FastRetries();
  o.requests_per_minute = 1200;                  // 20 a second
  o.rate_limit_burst = absl::Milliseconds(250);  // 5 at once
  auto pool = Pool(Config(), o);
  const int n = 25;
  std::vector<std::shared_ptr<GradeInput>> inputs = {
      Input("R1", GradingMode::kPerCriterion),
      Input("R2", GradingMode::kPerCriterion),
      Input("R1", GradingMode::kPerCriterion)};
  inputs[2]->response += " (again)";  // a third response: no dedup
  std::vector<JudgeWaiter> waiters(n);
  const absl::Time start = absl::Now();
  for (int i = 0; i < n; ++i) {
    pool->Grade(JudgeWork{inputs[i % 3], {static_cast<uint32_t>(i / 3)}},
                waiters[i].Callback());
  }
  for (int i = 0; i < n; ++i) {
    ExpectRuleVerdicts(waiters[i].Wait(), *inputs[i % 3],
                       {static_cast<uint32_t>(i / 3)});
  }
  // A lower bound only (a slow machine can only add time): 5 at once, then
  // 20 more at 20 a second.
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(950));
  EXPECT_EQ(sim_->stats().calls, n);
  EXPECT_GT(pool->stats().rate_limit_waits, 0u);
}

TEST_F(JudgePoolTest, TokensPerMinuteLimitTimesOutRatherThanMissTheDeadline) {
  JudgePoolOptions o = FastRetries();
  o.tokens_per_minute = 6000;  // 100 a second; an all_in_one call is ~1000
  auto pool = Pool(Config(), o);
  auto first = Input("R1");
  ExpectRuleVerdicts(GradeSync(*pool, first, All(*rubric_)), *first,
                     All(*rubric_));
  EXPECT_GT(pool->stats().prompt_tokens, 300u);  // usage was read back
  // The first call overdrew the bucket by far more than 50 tokens a
  // half-second can refill: the next call cannot start before its deadline.
  auto late = Input("R2");
  late->deadline = absl::Now() + absl::Milliseconds(500);
  const JudgeOutcome o2 = GradeSync(*pool, late, All(*rubric_));
  ASSERT_TRUE(o2.status.ok()) << o2.status;
  for (const Verdict& v : o2.result.verdicts) {
    EXPECT_EQ(v.status, CriterionStatus::kTimeout);
    EXPECT_THAT(v.explanation, HasSubstr("per-minute limit"));
  }
  EXPECT_EQ(sim_->stats().calls, 1);
}

}  // namespace
}  // namespace rewardd

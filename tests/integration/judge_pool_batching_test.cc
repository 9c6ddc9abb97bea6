// The judge pool's batching window and hedging of stragglers, against two
// judge-sim replicas on 127.0.0.1 (one simulator per replica, so each
// replica's calls are counted apart). Batching: a group of one prompt's work
// sent as separate Grade() calls is held, released together (at once when
// full) and sent to one replica; held work is still cancelled, timed out,
// refused by the queue bound and answered at shutdown, each exactly once.
// Hedging: calls stuck on a slow replica are answered by a duplicate on the
// fast one, never when hedging is off, and no more than the budget allows.
// Expected verdicts come from the simulator's documented rule.
#include <atomic>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "prometheus/registry.h"
#include "server/judge/pool/judge_pool.h"
#include "server/judge/pool/judge_pool_metrics.h"
#include "server/judge/pool/judges_config.h"
#include "tests/integration/judge_pool_fixture.h"
#include "tools/judge-sim/judge_sim.h"

namespace rewardd {
namespace {

// Bounds for waits that should end in milliseconds; they only turn a hang
// (e.g. a batch held for its 10-minute delay) into a failure.
constexpr absl::Duration kGenerous = absl::Seconds(60);

// One work item: a criterion of a response, graded on its own.
struct Item {
  std::shared_ptr<GradeInput> input;
  std::vector<uint32_t> criteria;
};

class JudgePoolBatchingTest : public JudgePoolFixture {
 protected:
  void SetUp() override {
    JudgePoolFixture::SetUp();
    for (auto* sim : {&a_, &b_}) {
      SimOptions o;
      o.capacity = 64;
      o.latency_mean = absl::Milliseconds(5);
      StartSim(o, sim);
    }
  }
  void TearDown() override {
    JudgePoolFixture::TearDown();
    a_.reset();
    b_.reset();
  }

  // Replica 0 is a_, replica 1 is b_.
  HttpJudgeConfig Config() const {
    return SimConfig({a_->base_url(), b_->base_url()});
  }
  // Pure least-outstanding balancing (affinity_slack 0): without a batch,
  // a group's calls in flight together alternate between the replicas.
  static JudgePoolOptions Options() {
    JudgePoolOptions o;
    o.affinity_slack = 0;
    o.initial_backoff = absl::Milliseconds(5);
    o.max_backoff = absl::Milliseconds(20);
    o.sweep_interval = absl::Milliseconds(10);
    return o;
  }
  std::shared_ptr<JudgePool> Pool(JudgePoolOptions o,
                                  JudgeMetricFamilies* metrics = nullptr) {
    return AddPool(Config(), o, nullptr, metrics);
  }
  // Distinct work of the paper's one prompt and rubric (one affinity key):
  // criterion i % 12 of R1 or R2, the response made unique past 24.
  Item MakeItem(int i) const {
    auto in = std::make_shared<GradeInput>();
    in->rubric = rubric_;
    in->prompt = rubric_->prompt;
    in->response = json_["responses"][(i / 12) % 2 ? "R2" : "R1"];
    if (i >= 24) in->response += " (variant " + std::to_string(i / 24) + ")";
    in->mode = GradingMode::kPerCriterion;
    return Item{in, {static_cast<uint32_t>(i % rubric_->criteria.size())}};
  }
  static void Grade(JudgePool& pool, const Item& item, JudgeWaiter& w) {
    pool.Grade(JudgeWork{item.input, item.criteria}, w.Callback());
  }
  // Every verdict OK and equal to the simulator's rule.
  static void ExpectRuleVerdicts(const JudgeOutcome& o, const Item& item) {
    JudgePoolFixture::ExpectRuleVerdicts(o, *item.input, item.criteria);
  }
  // Grades items [first, first + n) at once and checks every answer.
  void GradeAll(JudgePool& pool, int first, int n) {
    std::vector<Item> items;
    std::vector<JudgeWaiter> waiters(n);
    for (int i = 0; i < n; ++i) {
      items.push_back(MakeItem(first + i));
      Grade(pool, items.back(), waiters[i]);
    }
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(waiters[i].WaitFor(kGenerous)) << i;
      ExpectRuleVerdicts(waiters[i].outcome(), items[i]);
      EXPECT_EQ(waiters[i].calls(), 1);
    }
  }
  int64_t Calls(const std::unique_ptr<JudgeSim>& sim) const {
    return sim->stats().calls;
  }

  // Outlives the pools, which update it until TearDown shuts them down.
  prometheus::Registry registry_;
  JudgeMetricFamilies families_{registry_};
  std::unique_ptr<JudgeSim> a_, b_;
};

// ---------------------------------------------------------------------------
// Batching window
// ---------------------------------------------------------------------------

// The control for the batching tests: with these options and no window, a
// group in flight together is spread over both replicas.
TEST_F(JudgePoolBatchingTest, WithoutAWindowAGroupIsSpreadOverReplicas) {
  a_->SetLatency(absl::Milliseconds(300), absl::ZeroDuration());
  b_->SetLatency(absl::Milliseconds(300), absl::ZeroDuration());
  auto pool = Pool(Options());
  GradeAll(*pool, 0, 6);
  EXPECT_GT(Calls(a_), 0);
  EXPECT_GT(Calls(b_), 0);
  EXPECT_EQ(Calls(a_) + Calls(b_), 6);
  EXPECT_EQ(pool->stats().batches_released, 0u);
}

TEST_F(JudgePoolBatchingTest, GroupIsHeldThenReleasedWhenFullToOneReplica) {
  a_->SetLatency(absl::Milliseconds(300), absl::ZeroDuration());
  b_->SetLatency(absl::Milliseconds(300), absl::ZeroDuration());
  JudgePoolOptions o = Options();
  o.max_queue_delay = absl::Minutes(10);  // only a full batch goes out
  o.max_batch_size = 6;
  auto pool = Pool(o);
  std::vector<Item> items;
  std::vector<JudgeWaiter> waiters(6);
  for (int i = 0; i < 5; ++i) {
    items.push_back(MakeItem(i));
    Grade(*pool, items.back(), waiters[i]);
  }
  // Held: nothing queued for a slot, nothing sent.
  JudgePool::Stats s = pool->stats();
  EXPECT_EQ(s.held, 5u);
  EXPECT_EQ(s.queued, 0u);
  EXPECT_EQ(s.calls_started, 0u);
  EXPECT_EQ(Calls(a_) + Calls(b_), 0);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(waiters[i].Done());

  // The sixth fills the batch: released at once, not after 10 minutes.
  items.push_back(MakeItem(5));
  Grade(*pool, items.back(), waiters[5]);
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(waiters[i].WaitFor(kGenerous)) << "a full batch was held";
    ExpectRuleVerdicts(waiters[i].outcome(), items[i]);
  }
  s = pool->stats();
  EXPECT_EQ(s.batches_released, 1u);
  EXPECT_EQ(s.batches_full, 1u);
  EXPECT_EQ(s.held, 0u);
  // All six on one replica, although least-outstanding would alternate.
  EXPECT_EQ(std::max(Calls(a_), Calls(b_)), 6);
  EXPECT_EQ(std::min(Calls(a_), Calls(b_)), 0);
  pool->Shutdown();
  for (const JudgeWaiter& w : waiters) EXPECT_EQ(w.calls(), 1);
}

TEST_F(JudgePoolBatchingTest, PartialGroupFromSeparateThreadsAfterTheDelay) {
  JudgePoolOptions o = Options();
  // The window must outlast the n Grade() calls below, which start together
  // (a barrier) and take microseconds; 2 s covers any slowdown of a
  // sanitizer or a busy machine many times over.
  o.max_queue_delay = absl::Seconds(2);
  o.max_batch_size = 32;
  auto pool = Pool(o);
  const int n = 4;
  std::vector<Item> items;
  for (int i = 0; i < n; ++i) items.push_back(MakeItem(i));
  std::vector<JudgeWaiter> waiters(n);
  // Rollout workers sending a group's responses as separate requests.
  absl::Notification go;
  std::vector<std::thread> workers;
  for (int i = 0; i < n; ++i) {
    workers.emplace_back([&, i] {
      go.WaitForNotification();
      Grade(*pool, items[i], waiters[i]);
    });
  }
  go.Notify();
  for (std::thread& t : workers) t.join();
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(waiters[i].WaitFor(kGenerous)) << i;
    ExpectRuleVerdicts(waiters[i].outcome(), items[i]);
  }
  const JudgePool::Stats s = pool->stats();
  EXPECT_EQ(s.batches_released, 1u);
  EXPECT_EQ(s.batches_full, 0u);
  EXPECT_EQ(std::max(Calls(a_), Calls(b_)), n);
  EXPECT_EQ(std::min(Calls(a_), Calls(b_)), 0);
  pool->Shutdown();
  for (const JudgeWaiter& w : waiters) EXPECT_EQ(w.calls(), 1);
}

TEST_F(JudgePoolBatchingTest, HeldWorkIsCancelledAndNotHeldPastItsDeadline) {
  JudgePoolOptions o = Options();
  o.max_queue_delay = absl::Minutes(10);
  auto pool = Pool(o);

  // Cancelled while held: the sweep finds it (SKIPPED), nothing is sent.
  Item cancelled = MakeItem(0);
  auto cancel = std::make_shared<Cancellation>();
  cancelled.input->cancellation = cancel;
  JudgeWaiter w1;
  Grade(*pool, cancelled, w1);
  EXPECT_EQ(pool->stats().held, 1u);
  cancel->Cancel();
  ASSERT_TRUE(w1.WaitFor(kGenerous));
  ASSERT_TRUE(w1.outcome().status.ok());
  EXPECT_EQ(w1.outcome().result.verdicts[0].status, CriterionStatus::kSkipped);
  EXPECT_EQ(pool->stats().held, 0u);
  EXPECT_EQ(Calls(a_) + Calls(b_), 0);

  // A deadline well before the delay: released in time to start, then cut
  // by the deadline (the judges never answer) into TIMEOUT, never unmet.
  // The pool releases held work 2 * min_time_to_start (plus its average
  // latency, none yet) before the deadline and starts it while at least
  // min_time_to_start is left, so a late timer or a slow machine (TSan) has
  // a whole min_time_to_start of slack; 1 s of it makes the start certain.
  a_->SetLatency(absl::Minutes(10), absl::ZeroDuration());
  b_->SetLatency(absl::Minutes(10), absl::ZeroDuration());
  JudgePoolOptions slack = o;
  slack.min_time_to_start = absl::Seconds(1);
  auto slack_pool = Pool(slack);
  Item late = MakeItem(1);
  late.input->deadline = absl::Now() + 4 * slack.min_time_to_start;
  JudgeWaiter w2;
  Grade(*slack_pool, late, w2);
  EXPECT_EQ(slack_pool->stats().held, 1u);
  ASSERT_TRUE(w2.WaitFor(kGenerous));
  ASSERT_TRUE(w2.outcome().status.ok()) << w2.outcome().status;
  EXPECT_EQ(w2.outcome().result.verdicts[0].status, CriterionStatus::kTimeout)
      << w2.outcome().result.verdicts[0].explanation;
  EXPECT_EQ(Calls(a_) + Calls(b_), 1);  // it was sent, not held for 10 min
  EXPECT_EQ(slack_pool->stats().batches_released, 1u);
  pool->Shutdown();
  slack_pool->Shutdown();
  EXPECT_EQ(w1.calls(), 1);
  EXPECT_EQ(w2.calls(), 1);
}

TEST_F(JudgePoolBatchingTest, HeldWorkCountsTowardTheBoundAndShutdownAnswers) {
  JudgePoolOptions o = Options();
  o.max_queue_delay = absl::Minutes(10);
  o.max_queue_size = 3;
  auto pool = Pool(o);
  std::vector<Item> items;
  std::vector<JudgeWaiter> waiters(4);
  for (int i = 0; i < 4; ++i) {
    items.push_back(MakeItem(i));
    Grade(*pool, items.back(), waiters[i]);
  }
  // Three held fill the queue bound: the fourth is refused at once.
  ASSERT_TRUE(waiters[3].Done());
  EXPECT_EQ(waiters[3].outcome().status.code(),
            absl::StatusCode::kResourceExhausted);
  JudgePool::Stats s = pool->stats();
  EXPECT_EQ(s.held, 3u);
  EXPECT_EQ(s.refused_queue_full, 1u);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(waiters[i].Done());

  pool->Shutdown();  // returns once every callback ran
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(waiters[i].Done());
    EXPECT_EQ(waiters[i].outcome().status.code(),
              absl::StatusCode::kUnavailable);
  }
  EXPECT_EQ(pool->stats().held, 0u);
  EXPECT_EQ(Calls(a_) + Calls(b_), 0);
  for (const JudgeWaiter& w : waiters) EXPECT_EQ(w.calls(), 1);
}

// ---------------------------------------------------------------------------
// Hedging: replica 0 (a_) is slow, replica 1 (b_) fast.
// ---------------------------------------------------------------------------

// The sum of counter `name` over the series that carry every label in
// `labels`; -1 when there is no such family.
double CounterValue(prometheus::Registry& registry, const std::string& name,
                    const std::map<std::string, std::string>& labels = {}) {
  for (const prometheus::MetricFamily& f : registry.Collect()) {
    if (f.name != name) continue;
    double sum = 0;
    for (const prometheus::ClientMetric& m : f.metric) {
      size_t matched = 0;
      for (const prometheus::ClientMetric::Label& l : m.label) {
        auto it = labels.find(l.name);
        matched += it != labels.end() && it->second == l.value;
      }
      if (matched == labels.size()) sum += m.counter.value;
    }
    return sum;
  }
  return -1;
}

TEST_F(JudgePoolBatchingTest, HedgesAnswerStragglersFromTheFastReplica) {
  // The slow replica never answers (TearDown's Stop() ends its waits), so
  // every call sent there can only be answered by its hedge. The fast one
  // answers in 20 ms, but on a slow machine (TSan) its calls may outlive the
  // hedge delay too and be hedged onto the slow replica, where the hedge
  // loses. The checks below hold either way; none depends on the machine's
  // speed.
  a_->SetLatency(absl::Minutes(10), absl::ZeroDuration());
  b_->SetLatency(absl::Milliseconds(20), absl::ZeroDuration());
  JudgePoolOptions o = Options();
  o.hedge_delay = absl::Milliseconds(200);
  o.max_hedge_ratio = 1;
  auto pool = Pool(o, &families_);
  GradeAll(*pool, 0, 6);  // each answered once, with the rule's verdicts
  const JudgePool::Stats s = pool->stats();
  // Least-outstanding put some work on the slow replica, and the hedge of
  // each such call answered it.
  ASSERT_GE(s.hedges_won, 1u);
  // The fast replica answered every item exactly once: its own share
  // directly, the slow replica's share through hedges.
  EXPECT_EQ(Calls(b_), 6);
  EXPECT_EQ(s.calls_started, 6u + s.hedges_sent);
  EXPECT_EQ(CounterValue(registry_, "rewardd_judge_hedges_total"),
            static_cast<double>(s.hedges_sent));
  EXPECT_EQ(CounterValue(registry_, "rewardd_judge_hedges_won_total"),
            static_cast<double>(s.hedges_won));
  // Once nothing is in flight every attempt has its outcome counted.
  const absl::Time until = absl::Now() + kGenerous;
  while (pool->stats().in_flight > 0 && absl::Now() < until) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  const double to_slow =
      CounterValue(registry_, "rewardd_judge_calls_total", {{"replica", "0"}});
  // Every call sent to the slow replica was either hedged or a hedge (of a
  // fast-replica call that outlived the delay): none was left to wait. A
  // hedge there may be aborted before the simulator even reads it.
  EXPECT_EQ(to_slow, static_cast<double>(s.hedges_sent));
  EXPECT_LE(static_cast<double>(Calls(a_)), to_slow);
  // And each was aborted, not left to finish.
  EXPECT_EQ(CounterValue(registry_, "rewardd_judge_calls_total",
                         {{"replica", "0"}, {"outcome", "cancelled"}}),
            to_slow);
}

TEST_F(JudgePoolBatchingTest, AStragglerDueWhileWorkQueuesIsHedgedAfter) {
  // One slot per replica; replica 0 never answers (TearDown's Stop() ends
  // its waits). The call sent there passes its hedge delay while the rest
  // of the work still queues for replica 1's one slot, when no hedge may
  // take a slot that first attempts wait for. Once the queue drains, the
  // straggler must still be hedged, not forgotten: it is the call that
  // holds up the end of the burst (the last group of a GRPO step).
  a_->SetLatency(absl::Minutes(10), absl::ZeroDuration());
  b_->SetLatency(absl::Milliseconds(40), absl::ZeroDuration());
  JudgePoolOptions o = Options();
  o.max_in_flight_per_replica = 1;
  o.hedge_delay = absl::Milliseconds(20);
  o.max_hedge_ratio = 1;
  auto pool = Pool(o);
  GradeAll(*pool, 0, 6);  // each answered once, with the rule's verdicts
  const JudgePool::Stats s = pool->stats();
  EXPECT_EQ(Calls(a_), 1);  // its one slot stays taken by the straggler
  EXPECT_EQ(s.hedges_sent, 1u);
  EXPECT_EQ(s.hedges_won, 1u);
  EXPECT_EQ(Calls(b_), 6);  // five first attempts and the hedge
}

TEST_F(JudgePoolBatchingTest, NoHedgesWhenOff) {
  a_->SetLatency(absl::Milliseconds(500), absl::ZeroDuration());
  b_->SetLatency(absl::Milliseconds(20), absl::ZeroDuration());
  auto pool = Pool(Options());  // hedging is off by default
  GradeAll(*pool, 0, 6);
  const JudgePool::Stats s = pool->stats();
  EXPECT_GE(Calls(a_), 1);  // the slow replica answered its share itself
  EXPECT_EQ(Calls(a_) + Calls(b_), 6);
  EXPECT_EQ(s.hedges_sent, 0u);
  EXPECT_EQ(s.hedges_won, 0u);
  EXPECT_EQ(s.calls_started, 6u);
}

TEST_F(JudgePoolBatchingTest, HedgeBudgetCapsExtraCalls) {
  a_->SetLatency(absl::Milliseconds(1500), absl::ZeroDuration());
  b_->SetLatency(absl::Milliseconds(50), absl::ZeroDuration());
  JudgePoolOptions o = Options();
  o.hedge_delay = absl::Milliseconds(300);
  o.max_hedge_ratio = 0.25;  // 8 calls earn 2 hedges
  auto pool = Pool(o);
  GradeAll(*pool, 0, 8);
  const JudgePool::Stats s = pool->stats();
  // Least-outstanding puts about half the calls on the slow replica: more
  // stragglers than the budget covers.
  EXPECT_GT(static_cast<uint64_t>(Calls(a_)), s.hedges_sent);
  EXPECT_EQ(s.hedges_sent, 2u);
  EXPECT_LE(s.hedges_won, s.hedges_sent);
  EXPECT_LE(4 * s.hedges_sent, s.calls_started - s.hedges_sent);
}

TEST_F(JudgePoolBatchingTest, PercentileDelayIsLearnedFromSuccessfulCalls) {
  JudgePoolOptions o = Options();
  o.hedge_after_percentile = 90;  // no fixed delay: wait for 20 answers
  o.max_hedge_ratio = 1;
  auto pool = Pool(o);
  // 24 answers from fast replicas: not one hedge before the percentile is
  // known (calls sent before the 20th answer are never watched).
  for (int round = 0; round < 3; ++round) GradeAll(*pool, round * 8, 8);
  EXPECT_EQ(pool->stats().hedges_sent, 0u);
  // Now replica 0 stalls: its calls are hedged after ~the p90 of ~5 ms.
  a_->SetLatency(absl::Seconds(3), absl::ZeroDuration());
  const int64_t before = Calls(a_);
  GradeAll(*pool, 24, 6);
  ASSERT_GT(Calls(a_), before);
  const JudgePool::Stats s = pool->stats();
  EXPECT_GE(s.hedges_won, 1u);
  EXPECT_LE(s.hedges_won, s.hedges_sent);
}

// ---------------------------------------------------------------------------
// Config keys
// ---------------------------------------------------------------------------

TEST(JudgePoolBatchingConfigTest, ParsesTheKnobsAndRejectsBadValues) {
  absl::StatusOr<JudgePoolOptions> o =
      ParseJudgePoolOptions(nlohmann::json::parse(R"({
        "max_queue_delay_ms": 5, "max_batch_size": 16,
        "hedge_delay_ms": 250, "hedge_after_percentile": 95,
        "max_hedge_ratio": 0.05, "max_hedge_burst": 16})"));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->max_queue_delay, absl::Milliseconds(5));
  EXPECT_EQ(o->max_batch_size, 16u);
  EXPECT_EQ(o->hedge_delay, absl::Milliseconds(250));
  EXPECT_EQ(o->hedge_after_percentile, 95);
  EXPECT_EQ(o->max_hedge_ratio, 0.05);
  EXPECT_EQ(o->max_hedge_burst, 16);
  // Defaults: both off.
  const JudgePoolOptions d;
  EXPECT_EQ(d.max_queue_delay, absl::ZeroDuration());
  EXPECT_EQ(d.hedge_delay, absl::ZeroDuration());
  EXPECT_EQ(d.hedge_after_percentile, 0);
  for (const char* bad : {
           R"({"max_queue_delay_ms": -1})",
           R"({"max_batch_size": 0})",
           R"({"max_batch_size": -3})",
           R"({"max_batch_size": 1.5})",
           R"({"hedge_delay_ms": -5})",
           R"({"hedge_after_percentile": 100})",
           R"({"hedge_after_percentile": -1})",
           R"({"max_hedge_ratio": 1.5})",
           R"({"max_hedge_ratio": "a lot"})",
           R"({"max_hedge_burst": 0})",
       }) {
    EXPECT_FALSE(ParseJudgePoolOptions(nlohmann::json::parse(bad)).ok()) << bad;
  }
}

}  // namespace
}  // namespace rewardd

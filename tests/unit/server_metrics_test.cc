// ServerMetrics as the service and the store drive it: known series at 0,
// reward/tail/length/criterion series from real HealthBench rubrics, bounded
// label values, rubric store reloads, judge series and drift gauges.
#include "server/metrics/server_metrics.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"
#include "server/metrics/label_limiter.h"
#include "server/rubric/rubric_loader.h"
#include "server/rubric/rubric_store.h"

namespace rewardd {
namespace {

using Labels = std::map<std::string, std::string>;
using ::testing::HasSubstr;

constexpr char kHealthBench[] =
    REWARDD_SHARED_DATA "/healthbench/healthbench_oss_eval_sample.jsonl";

// Looks series up in what /metrics would serve.
class Scrape {
 public:
  explicit Scrape(const ServerMetrics& m)
      : families_(m.collectable()->Collect()) {}

  // The metric of family `name` whose labels include `labels`; fails the
  // test when there is not exactly one.
  const prometheus::ClientMetric* Find(const std::string& name,
                                       const Labels& labels) const {
    std::vector<const prometheus::ClientMetric*> found = All(name, labels);
    EXPECT_EQ(found.size(), 1u) << name << " " << Describe(labels);
    return found.size() == 1 ? found[0] : nullptr;
  }
  std::vector<const prometheus::ClientMetric*> All(const std::string& name,
                                                   const Labels& labels) const {
    std::vector<const prometheus::ClientMetric*> out;
    for (const prometheus::MetricFamily& f : families_) {
      if (f.name != name) continue;
      for (const prometheus::ClientMetric& m : f.metric) {
        size_t matched = 0;
        for (const auto& l : m.label) {
          auto it = labels.find(l.name);
          if (it != labels.end() && it->second == l.value) ++matched;
        }
        if (matched == labels.size()) out.push_back(&m);
      }
    }
    return out;
  }
  double Counter(const std::string& name, const Labels& labels) const {
    const prometheus::ClientMetric* m = Find(name, labels);
    return m ? m->counter.value : NAN;
  }
  double Gauge(const std::string& name, const Labels& labels) const {
    const prometheus::ClientMetric* m = Find(name, labels);
    return m ? m->gauge.value : NAN;
  }
  // Distinct values of label `label` over family `name`.
  std::set<std::string> LabelValues(const std::string& name,
                                    const std::string& label) const {
    std::set<std::string> out;
    for (const prometheus::ClientMetric* m : All(name, {})) {
      for (const auto& l : m->label) {
        if (l.name == label) out.insert(l.value);
      }
    }
    return out;
  }

 private:
  static std::string Describe(const Labels& labels) {
    std::string s;
    for (const auto& [k, v] : labels) s += k + "=" + v + " ";
    return s;
  }
  std::vector<prometheus::MetricFamily> families_;
};

// One HealthBench rubric graded with verdicts we choose, the way the grader
// reports it.
GradeResult Grade(std::shared_ptr<const Rubric> rubric, const std::string& set,
                  const std::vector<bool>& met, std::string response_text,
                  double reward, bool valid = true) {
  auto input = std::make_shared<GradeInput>();
  input->rubric = std::move(rubric);
  input->rubric_set = set;
  input->response = std::move(response_text);
  GradeResult g;
  g.score.valid = valid;
  g.score.reward = reward;
  g.judge = "embedded";
  g.judge_time = absl::Milliseconds(2);
  for (size_t i = 0; i < input->rubric->criteria.size(); ++i) {
    Verdict& v = g.verdicts.emplace_back();
    v.status = CriterionStatus::kOk;
    v.met = met[i];
  }
  g.input = std::move(input);
  return g;
}

// Reports `g` the way the service does, with the request's `labels`.
void Observe(ServerMetrics& metrics, const GradeResult& g,
             const std::vector<GradeLabel>& labels = {}) {
  GradedRequest request;
  request.request_id = "req-1";
  request.labels = labels;
  request.total_time = absl::Milliseconds(3);
  metrics.OnGraded(g, request);
}

class ServerMetricsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<RubricSet> set =
        LoadRubricFile(kHealthBench, RubricFormat::kHealthBench);
    ASSERT_TRUE(set.ok()) << set.status();
    healthbench_ = new RubricSet(*std::move(set));
  }
  static const RubricSet& healthbench() { return *healthbench_; }

  static RubricSet* healthbench_;
};
RubricSet* ServerMetricsTest::healthbench_ = nullptr;

TEST_F(ServerMetricsTest, KnownSeriesAreExportedAtZeroFromStart) {
  ServerMetrics metrics(MetricsOptions{});
  Scrape s(metrics);
  for (const char* method :
       {"Grade", "GradeGroup", "GradeStream", "ListRubricSets", "GetRubric"}) {
    for (const char* code : {"OK", "INVALID_ARGUMENT", "NOT_FOUND",
                             "RESOURCE_EXHAUSTED", "UNAVAILABLE"}) {
      EXPECT_EQ(s.Counter("rewardd_requests_total",
                          {{"method", method}, {"code", code}}),
                0);
    }
  }
  EXPECT_EQ(s.Counter("rewardd_grades_total", {{"rubric_set", "_inline"},
                                               {"policy_version", "none"},
                                               {"result", "invalid"}}),
            0);
  EXPECT_EQ(s.Counter("rewardd_judge_calls_total", {{"judge", "embedded"},
                                                    {"replica", "local"},
                                                    {"outcome", "ok"}}),
            0);
  EXPECT_EQ(s.Counter("rewardd_judge_verdicts_total",
                      {{"judge", "embedded"}, {"status", "judge_error"}}),
            0);
  EXPECT_EQ(s.Counter("rewardd_rubric_reloads_total", {{"result", "failure"}}),
            0);
  EXPECT_EQ(s.Gauge("rewardd_reward_tail_threshold", {}), 0.9);
  EXPECT_EQ(s.Gauge("rewardd_requests_in_flight", {}), 0);
}

TEST_F(ServerMetricsTest, ServingSeriesCountByMethodAndCode) {
  ServerMetrics metrics(MetricsOptions{});
  int64_t in_flight = 3;
  metrics.SetInFlightSource([&] { return in_flight; });
  metrics.OnRpcDone("Grade", absl::StatusCode::kOk, absl::Milliseconds(4));
  metrics.OnRpcDone("Grade", absl::StatusCode::kOk, absl::Milliseconds(6));
  metrics.OnRpcDone("GradeGroup", absl::StatusCode::kInvalidArgument,
                    absl::Milliseconds(1));
  metrics.OnRpcDone("SomethingNew", absl::StatusCode::kUnimplemented,
                    absl::Milliseconds(1));
  metrics.OnGroupSize(16);
  metrics.OnStreamItem();
  metrics.OnStreamItem();
  Scrape s(metrics);
  EXPECT_EQ(s.Counter("rewardd_requests_total",
                      {{"method", "Grade"}, {"code", "OK"}}),
            2);
  EXPECT_EQ(s.Counter("rewardd_requests_total",
                      {{"method", "GradeGroup"}, {"code", "INVALID_ARGUMENT"}}),
            1);
  EXPECT_EQ(s.Counter("rewardd_requests_total",
                      {{"method", "other"}, {"code", "UNIMPLEMENTED"}}),
            1);
  const prometheus::ClientMetric* latency =
      s.Find("rewardd_request_duration_seconds", {{"method", "Grade"}});
  ASSERT_NE(latency, nullptr);
  EXPECT_EQ(latency->histogram.sample_count, 2u);
  EXPECT_NEAR(latency->histogram.sample_sum, 0.010, 1e-9);
  EXPECT_EQ(s.Find("rewardd_group_size", {})->histogram.sample_count, 1u);
  EXPECT_EQ(s.Counter("rewardd_stream_items_total", {}), 2);
  EXPECT_EQ(s.Gauge("rewardd_requests_in_flight", {}), 3);
}

TEST_F(ServerMetricsTest, RewardTailAndLengthSeriesPerSetAndPolicyVersion) {
  MetricsOptions options;
  options.reward.tail_threshold = 0.8;
  ServerMetrics metrics(options);
  const auto& rubric = healthbench().rubrics[0];
  const std::vector<bool> none(rubric->criteria.size(), false);
  const std::vector<GradeLabel> v1 = {{"policy_version", "v1"}};
  const std::vector<GradeLabel> v2 = {{"policy_version", "v2"}};
  // Rewards chosen per band; the histogram and tail must count them.
  const std::vector<double> rewards_v1 = {0.1, 0.3, 0.85, 0.95, 1.0};
  for (double r : rewards_v1) {
    GradeResult g = Grade(rubric, "hb", none, std::string(1000, 'x'), r);
    Observe(metrics, g, v1);
  }
  GradeResult invalid = Grade(rubric, "hb", none, "short", 0, /*valid=*/false);
  Observe(metrics, invalid, v1);
  GradeResult other = Grade(rubric, "hb", none, std::string(100, 'y'), 0.5);
  Observe(metrics, other, v2);

  Scrape s(metrics);
  const Labels hb_v1 = {{"rubric_set", "hb"}, {"policy_version", "v1"}};
  EXPECT_EQ(s.Counter("rewardd_grades_total", {{"rubric_set", "hb"},
                                               {"policy_version", "v1"},
                                               {"result", "valid"}}),
            rewards_v1.size());
  EXPECT_EQ(s.Counter("rewardd_grades_total", {{"rubric_set", "hb"},
                                               {"policy_version", "v1"},
                                               {"result", "invalid"}}),
            1);
  const prometheus::ClientMetric* hist = s.Find("rewardd_reward", hb_v1);
  ASSERT_NE(hist, nullptr);
  double sum = 0;
  int tail = 0;
  for (double r : rewards_v1) {
    sum += r;
    tail += r >= 0.8;
  }
  EXPECT_EQ(hist->histogram.sample_count, rewards_v1.size());
  EXPECT_NEAR(hist->histogram.sample_sum, sum, 1e-9);
  // The tail threshold is a bucket boundary.
  bool has_threshold_bucket = false;
  for (const auto& b : hist->histogram.bucket) {
    if (b.upper_bound == 0.8) {
      has_threshold_bucket = true;
      int below = 0;
      for (double r : rewards_v1) below += r <= 0.8;
      EXPECT_EQ(b.cumulative_count, static_cast<uint64_t>(below));
    }
  }
  EXPECT_TRUE(has_threshold_bucket);
  EXPECT_EQ(s.Counter("rewardd_reward_tail_total", hb_v1), tail);
  // Length by band: 0.85, 0.95 and 1.0 are in the top band.
  int top = 0;
  for (double r : rewards_v1) top += RewardMetrics::BandOf(r) == 3;
  const prometheus::ClientMetric* len =
      s.Find("rewardd_response_length_bytes", {{"rubric_set", "hb"},
                                               {"policy_version", "v1"},
                                               {"reward_band", "0.75_1.00"}});
  ASSERT_NE(len, nullptr);
  EXPECT_EQ(len->histogram.sample_count, static_cast<uint64_t>(top));
  EXPECT_EQ(len->histogram.sample_sum, 1000.0 * top);
  EXPECT_EQ(
      s.Find("rewardd_reward", {{"rubric_set", "hb"}, {"policy_version", "v2"}})
          ->histogram.sample_count,
      1u);
}

TEST_F(ServerMetricsTest, CriterionPassRatesByHealthBenchAxis) {
  MetricsOptions options;
  options.reward.criterion_tag_prefixes = {"axis:"};
  ServerMetrics metrics(options);
  // Every rubric of the sample, graded with "every criterion met": positive
  // criteria pass, negative ones (bad behaviour present) fail.
  std::map<std::string, int> pass, fail;
  int all_pass = 0, all_fail = 0;
  for (const auto& rubric : healthbench().rubrics) {
    std::vector<bool> met(rubric->criteria.size(), true);
    for (const Criterion& c : rubric->criteria) {
      (c.weight >= 0 ? all_pass : all_fail)++;
      for (const std::string& tag : c.tags) {
        if (tag.rfind("axis:", 0) == 0) (c.weight >= 0 ? pass : fail)[tag]++;
      }
    }
    GradeResult g = Grade(rubric, "hb", met, "response", 1.0);
    Observe(metrics, g);
  }
  ASSERT_GE(pass.size(), 4u);  // HealthBench has five axes
  ASSERT_GT(all_fail, 0);      // and negative criteria
  Scrape s(metrics);
  for (const auto& [tag, n] : pass) {
    EXPECT_EQ(s.Counter("rewardd_criterion_results_total",
                        {{"rubric_set", "hb"},
                         {"policy_version", "none"},
                         {"tag", tag},
                         {"result", "pass"}}),
              n)
        << tag;
  }
  for (const auto& [tag, n] : fail) {
    EXPECT_EQ(
        s.Counter("rewardd_criterion_results_total",
                  {{"rubric_set", "hb"}, {"tag", tag}, {"result", "fail"}}),
        n)
        << tag;
  }
  EXPECT_EQ(
      s.Counter("rewardd_criterion_results_total",
                {{"rubric_set", "hb"}, {"tag", "all"}, {"result", "pass"}}),
      all_pass);
  EXPECT_EQ(
      s.Counter("rewardd_criterion_results_total",
                {{"rubric_set", "hb"}, {"tag", "all"}, {"result", "fail"}}),
      all_fail);
  // Only axis tags (and "all") became label values: no level:, cluster:.
  for (const std::string& tag :
       s.LabelValues("rewardd_criterion_results_total", "tag")) {
    EXPECT_TRUE(tag == "all" || tag.rfind("axis:", 0) == 0) << tag;
  }
}

TEST_F(ServerMetricsTest, JudgeFailuresAreCountedNotHidden) {
  ServerMetrics metrics(MetricsOptions{});
  const auto& rubric = healthbench().rubrics[1];
  GradeResult g =
      Grade(rubric, "hb", std::vector<bool>(rubric->criteria.size()), "r", 0,
            /*valid=*/false);
  g.verdicts[0].status = CriterionStatus::kTimeout;
  g.verdicts[0].met = false;
  Observe(metrics, g);
  Scrape s(metrics);
  EXPECT_EQ(s.Counter("rewardd_judge_verdicts_total",
                      {{"judge", "embedded"}, {"status", "timeout"}}),
            1);
  EXPECT_EQ(s.Counter("rewardd_judge_verdicts_total",
                      {{"judge", "embedded"}, {"status", "ok"}}),
            rubric->criteria.size() - 1);
  EXPECT_EQ(s.Counter("rewardd_judge_calls_total", {{"judge", "embedded"},
                                                    {"replica", "local"},
                                                    {"outcome", "timeout"}}),
            1);
  EXPECT_EQ(
      s.Counter(
          "rewardd_criterion_results_total",
          {{"rubric_set", "hb"}, {"tag", "all"}, {"result", "no_verdict"}}),
      1);
}

TEST_F(ServerMetricsTest, PolicyVersionCardinalityIsBounded) {
  MetricsOptions options;
  options.reward.policy_version_limit = 3;
  ServerMetrics metrics(options);
  const auto& rubric = healthbench().rubrics[2];
  const std::vector<bool> met(rubric->criteria.size(), true);
  for (int i = 0; i < 200; ++i) {
    const std::string version = "ckpt-" + std::to_string(i);
    const std::vector<GradeLabel> labels = {{"policy_version", version}};
    GradeResult g = Grade(rubric, "hb", met, "r", 0.5);
    Observe(metrics, g, labels);
  }
  Scrape s(metrics);
  const std::set<std::string> versions =
      s.LabelValues("rewardd_grades_total", "policy_version");
  EXPECT_EQ(versions, (std::set<std::string>{"ckpt-0", "ckpt-1", "ckpt-2",
                                             "other", "none"}));
  EXPECT_EQ(s.Counter("rewardd_grades_total", {{"rubric_set", "hb"},
                                               {"policy_version", "other"},
                                               {"result", "valid"}}),
            197);
  // Nothing else grew with the distinct values either.
  for (const char* family :
       {"rewardd_reward", "rewardd_criterion_results_total",
        "rewardd_response_length_bytes", "rewardd_reward_tail_total"}) {
    EXPECT_LE(s.LabelValues(family, "policy_version").size(), 5u) << family;
  }
}

TEST(LabelValueLimiterTest, ConcurrentResolveKeepsTheLimitAndStableIndices) {
  LabelValueLimiter limiter(10);
  std::vector<std::thread> threads;
  std::vector<std::map<std::string, size_t>> seen(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 50; ++round) {
        for (int v = 0; v < 40; ++v) {
          const auto& value = limiter.Resolve("v" + std::to_string(v));
          auto [it, inserted] = seen[t].emplace(value.name, value.index);
          if (!inserted) {
            EXPECT_EQ(it->second, value.index);
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(limiter.kept(), 10u);
  std::set<size_t> indices;
  for (const auto& [name, index] : seen[0]) {
    if (name != "other") indices.insert(index);
    for (int t = 1; t < 4; ++t) EXPECT_EQ(seen[t].at(name), index) << name;
  }
  EXPECT_EQ(indices.size(), 10u);
  EXPECT_LT(*indices.rbegin(), 10u);
}

TEST(LabelValueLimiterTest, EmptyReservedAndLongValues) {
  LabelValueLimiter limiter(2);
  EXPECT_EQ(limiter.Resolve("").name, "none");
  EXPECT_EQ(limiter.Resolve("other").index, limiter.other_index());
  // A 100-byte value of 2-byte characters is cut at a character boundary.
  std::string long_value;
  for (int i = 0; i < 50; ++i) long_value += "\xC3\xA9";  // é
  const auto& v = limiter.Resolve(long_value);
  EXPECT_LE(v.name.size(), LabelValueLimiter::kMaxValueBytes);
  EXPECT_EQ(v.name.size() % 2, 0u);
  EXPECT_EQ(limiter.Resolve(long_value + "tail").index, v.index);
}

class StoreMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/store_metrics." + std::to_string(getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    std::filesystem::copy_file(kHealthBench, dir_ + "/hb.healthbench.jsonl");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(StoreMetricsTest, ReloadsSetsAndVersionInfo) {
  RubricStore::Options options;
  options.dir = dir_;
  options.poll_interval = absl::ZeroDuration();
  RubricStore store(options);
  ServerMetrics metrics(MetricsOptions{});
  store.SetReloadListener([&](const ReloadReport& r) {
    metrics.OnRubricReload(r, *store.snapshot());
  });
  ASSERT_TRUE(store.Reload().ok());
  const RubricSet* hb = store.snapshot()->Find("hb");
  ASSERT_NE(hb, nullptr);
  {
    Scrape s(metrics);
    EXPECT_EQ(s.Gauge("rewardd_rubric_sets", {}), 1);
    EXPECT_EQ(s.Gauge("rewardd_rubric_set_rubrics", {{"rubric_set", "hb"}}),
              hb->rubrics.size());
    EXPECT_EQ(s.Gauge("rewardd_rubric_set_criteria", {{"rubric_set", "hb"}}),
              hb->criterion_count());
    EXPECT_EQ(s.Gauge("rewardd_rubric_set_info", {{"rubric_set", "hb"},
                                                  {"version", hb->version},
                                                  {"format", "healthbench"}}),
              1);
    EXPECT_EQ(
        s.Counter("rewardd_rubric_reloads_total", {{"result", "success"}}), 1);
    EXPECT_GT(
        s.Gauge("rewardd_rubric_last_successful_reload_timestamp_seconds", {}),
        1.7e9);
    // The set's reward series exist at 0 before any traffic.
    EXPECT_EQ(s.Counter("rewardd_grades_total", {{"rubric_set", "hb"},
                                                 {"policy_version", "none"},
                                                 {"result", "valid"}}),
              0);
    // So do the criterion series of the tags the set's rubrics use: the
    // first 16 distinct ones in file order (the default limit), the rest
    // as "other" (the sample has cluster:* tags beyond the limit).
    std::vector<std::string> in_order;
    for (const auto& rubric : hb->rubrics) {
      for (const Criterion& c : rubric->criteria) {
        for (const std::string& tag : c.tags) {
          if (std::find(in_order.begin(), in_order.end(), tag) ==
              in_order.end()) {
            in_order.push_back(tag);
          }
        }
      }
    }
    ASSERT_GT(in_order.size(), 16u);
    std::set<std::string> tags(in_order.begin(), in_order.begin() + 16);
    tags.insert("all");
    tags.insert("other");
    EXPECT_EQ(s.LabelValues("rewardd_criterion_results_total", "tag"), tags);
    EXPECT_EQ(
        s.Counter("rewardd_criterion_results_total", {{"rubric_set", "hb"},
                                                      {"tag", "axis:accuracy"},
                                                      {"result", "fail"}}),
        0);
  }
  // A broken file: a failed reload, and the error gauge says so.
  std::ofstream(dir_ + "/broken.json") << "{not json";
  EXPECT_FALSE(store.Reload().ok());
  {
    Scrape s(metrics);
    EXPECT_EQ(
        s.Counter("rewardd_rubric_reloads_total", {{"result", "failure"}}), 1);
    EXPECT_EQ(s.Gauge("rewardd_rubric_file_errors", {}), 1);
  }
  // The set goes away: its per-set series go too.
  std::filesystem::remove(dir_ + "/hb.healthbench.jsonl");
  std::filesystem::remove(dir_ + "/broken.json");
  ASSERT_TRUE(store.Reload().ok());
  Scrape s(metrics);
  EXPECT_EQ(s.Gauge("rewardd_rubric_sets", {}), 0);
  EXPECT_TRUE(s.All("rewardd_rubric_set_info", {{"rubric_set", "hb"}}).empty());
  EXPECT_TRUE(
      s.All("rewardd_rubric_set_rubrics", {{"rubric_set", "hb"}}).empty());
  EXPECT_EQ(s.Gauge("rewardd_rubric_file_errors", {}), 0);
}

TEST_F(ServerMetricsTest, DriftGaugesAndBaselineAcrossRestarts) {
  MetricsOptions options;
  options.reward.drift.reference_size = 40;
  options.reward.drift.window_size = 40;
  const auto& rubric = healthbench().rubrics[0];
  const std::vector<bool> met(rubric->criteria.size(), true);
  const std::string path = ::testing::TempDir() + "/drift_baseline." +
                           std::to_string(getpid()) + ".json";
  {
    ServerMetrics metrics(options);
    for (int i = 0; i < 20; ++i) {
      GradeResult g = Grade(rubric, "hb", met, "r", 0.25);
      Observe(metrics, g);
    }
    Scrape before(metrics);
    EXPECT_TRUE(std::isnan(
        before.Gauge("rewardd_reward_drift_psi", {{"rubric_set", "hb"}})));
    EXPECT_EQ(before.Gauge("rewardd_reward_drift_reference_samples",
                           {{"rubric_set", "hb"}}),
              20);
    for (int i = 0; i < 20; ++i) {
      GradeResult g = Grade(rubric, "hb", met, "r", 0.5);
      Observe(metrics, g);
    }
    for (int i = 0; i < 40; ++i) {
      GradeResult g = Grade(rubric, "hb", met, "r", 1.0);
      Observe(metrics, g);
    }
    Scrape after(metrics);
    const Labels hb = {{"rubric_set", "hb"}};
    EXPECT_NEAR(after.Gauge("rewardd_reward_drift_mean_shift", hb), 1.0 - 0.375,
                1e-12);
    EXPECT_EQ(after.Gauge("rewardd_reward_drift_ks_statistic", hb), 1.0);
    EXPECT_GT(after.Gauge("rewardd_reward_drift_psi", hb), 0.25);
    ASSERT_TRUE(
        metrics.SaveDriftBaseline(path, DriftBaselineSource::kReference).ok());
  }
  // A new process: its reference is the saved one, so rewards of 1.0 are a
  // shift from the first scrape on.
  ServerMetrics restarted(options);
  ASSERT_TRUE(restarted.LoadDriftBaseline(path).ok());
  for (int i = 0; i < 50; ++i) {
    GradeResult g = Grade(rubric, "hb", met, "r", 1.0);
    Observe(restarted, g);
  }
  Scrape s(restarted);
  EXPECT_NEAR(
      s.Gauge("rewardd_reward_drift_mean_shift", {{"rubric_set", "hb"}}), 0.625,
      1e-12);
  EXPECT_EQ(
      s.Gauge("rewardd_reward_drift_reference_mean", {{"rubric_set", "hb"}}),
      0.375);
  std::remove(path.c_str());
}

TEST(JudgePoolMetricsTest, PoolSeriesExistAtZeroAndCountPerReplica) {
  prometheus::Registry registry;
  JudgeMetricFamilies families(registry);
  std::unique_ptr<JudgePoolMetrics> pool =
      families.ForPool("gpt", {"0", "1"}, 4096);
  pool->replica(1).CallDone(JudgeCallOutcome::kRateLimited,
                            absl::Milliseconds(30));
  pool->replica(1).SetBreakerState(JudgeBreakerState::kOpen);
  pool->SetQueueDepth(12);
  pool->Retry(JudgeRetryReason::kRateLimited);
  pool->Tokens(1000, 20);
  pool->CacheLookup(true);
  const std::string text =
      prometheus::TextSerializer().Serialize(registry.Collect());
  EXPECT_THAT(
      text,
      HasSubstr("rewardd_judge_calls_total{judge=\"gpt\","
                "outcome=\"rate_limited\",replica=\"1\",role=\"judge\"} 1"));
  EXPECT_THAT(text,
              HasSubstr("rewardd_judge_calls_total{judge=\"gpt\","
                        "outcome=\"ok\",replica=\"0\",role=\"judge\"} 0"));
  EXPECT_THAT(text,
              HasSubstr("rewardd_judge_breaker_state{judge=\"gpt\","
                        "replica=\"1\",role=\"judge\",state=\"open\"} 1"));
  EXPECT_THAT(text,
              HasSubstr("rewardd_judge_breaker_state{judge=\"gpt\","
                        "replica=\"1\",role=\"judge\",state=\"closed\"} 0"));
  EXPECT_THAT(text,
              HasSubstr("rewardd_judge_breaker_state{judge=\"gpt\","
                        "replica=\"0\",role=\"judge\",state=\"closed\"} 1"));
  EXPECT_THAT(
      text,
      HasSubstr("rewardd_judge_queue_depth{judge=\"gpt\",role=\"judge\"} 12"));
  EXPECT_THAT(
      text,
      HasSubstr(
          "rewardd_judge_queue_capacity{judge=\"gpt\",role=\"judge\"} 4096"));
  EXPECT_THAT(text, HasSubstr("rewardd_judge_tokens_total{judge=\"gpt\","
                              "role=\"judge\",type=\"prompt\"} 1000"));
  EXPECT_THAT(text, HasSubstr("rewardd_judge_cache_lookups_total{judge=\"gpt\","
                              "result=\"hit\",role=\"judge\"} 1"));
}

TEST(JudgePoolMetricsTest, ProposerSeriesShareTheFamiliesWithTheirRole) {
  prometheus::Registry registry;
  JudgeMetricFamilies families(registry);
  std::unique_ptr<JudgePoolMetrics> judge = families.ForPool("gpt", {"0"}, 64);
  std::unique_ptr<JudgePoolMetrics> proposer =
      families.ForPool("gpt", {"0"}, 8, "proposer");
  proposer->replica(0).CallDone(JudgeCallOutcome::kOk, absl::Seconds(2));
  const std::string text =
      prometheus::TextSerializer().Serialize(registry.Collect());
  // One name, two series: the role tells a judge from a proposer.
  EXPECT_THAT(text,
              HasSubstr("rewardd_judge_calls_total{judge=\"gpt\","
                        "outcome=\"ok\",replica=\"0\",role=\"judge\"} 0"));
  EXPECT_THAT(text, HasSubstr("rewardd_judge_calls_total{judge=\"gpt\",outcome="
                              "\"ok\",replica=\"0\",role=\"proposer\"} 1"));
  EXPECT_THAT(text, HasSubstr("rewardd_judge_queue_capacity{judge=\"gpt\","
                              "role=\"proposer\"} 8"));
  EXPECT_THAT(text, HasSubstr("rewardd_judge_queue_capacity{judge=\"gpt\","
                              "role=\"judge\"} 64"));
}

TEST_F(ServerMetricsTest, LogRequestsWritesOneLinePerGradedResponse) {
  MetricsOptions options;
  options.log_requests = true;
  ServerMetrics metrics(options);
  const auto& rubric = healthbench().rubrics[0];
  const std::vector<bool> met(rubric->criteria.size(), true);
  GradeResult g = Grade(rubric, "hb", met, std::string(42, 'x'), 0.75);
  ::testing::internal::CaptureStderr();
  Observe(metrics, g, {{"policy_version", "ckpt-7"}});
  const std::string logged = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(logged, HasSubstr("\"event\":\"graded\""));
  EXPECT_THAT(logged, HasSubstr("\"request_id\":\"req-1\""));
  EXPECT_THAT(logged, HasSubstr("\"rubric_set\":\"hb\""));
  EXPECT_THAT(logged, HasSubstr("\"rubric_id\":\"" + rubric->id + "\""));
  EXPECT_THAT(logged, HasSubstr("\"judge\":\"embedded\""));
  EXPECT_THAT(logged, HasSubstr("\"valid\":\"true\""));
  EXPECT_THAT(logged, HasSubstr("\"reward\":\"0.75\""));
  EXPECT_THAT(logged,
              HasSubstr("\"criteria\":\"" +
                        std::to_string(rubric->criteria.size()) + "\""));
  EXPECT_THAT(logged, HasSubstr("\"response_bytes\":\"42\""));
  EXPECT_THAT(logged, HasSubstr("\"total_seconds\":\"0.003\""));
  EXPECT_THAT(logged, HasSubstr("\"policy_version\":\"ckpt-7\""));
  EXPECT_EQ(std::count(logged.begin(), logged.end(), '\n'), 1);
}

}  // namespace
}  // namespace rewardd

// The judge pools' Prometheus series, end to end: a real rewardd process
// (--metrics_listen on 127.0.0.1) grades the "Chasing the Tail" paper rubrics
// through HTTP judges served by judge-sim with injected faults (500s, an
// unparsable answer, a replica that refuses connections), then /metrics is
// read and every rewardd_judge_* series is checked against what judge-sim
// saw and the faults it injected.
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/reward_client.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/judge_test_support.h"
#include "tests/integration/metrics_scrape.h"
#include "tests/integration/rewardd_process.h"
#include "tools/judge-sim/judge_sim.h"

namespace rewardd {
namespace {

namespace pb = reward::v1;
using ::rewardd::testing::ReadFile;
using ::rewardd::testing::RewarddProcess;
using ::rewardd::testing::Scrape;
using ::rewardd::testing::TempDir;

const std::string kPaper = std::string(REWARDD_SHARED_DATA) +
                           "/chasing_the_tail/paper_appendix_example.json";
constexpr int kFlakyFailures = 3;  // 500s before judge-sim answers
constexpr int kQueueSize = 100;

class JudgePoolMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    paper_ = PaperExampleJson();
    SimOptions flaky;
    flaky.faults.fail_first = kFlakyFailures;
    flaky.faults.fail_first_kind = "500";
    auto sim = JudgeSim::Start(flaky);
    ASSERT_TRUE(sim.ok()) << sim.status();
    flaky_ = std::move(*sim);
    SimOptions garbled;
    garbled.faults.fail_first = 1;
    garbled.faults.fail_first_kind = "garbage";
    sim = JudgeSim::Start(garbled);
    ASSERT_TRUE(sim.ok()) << sim.status();
    garbled_ = std::move(*sim);

    // Short backoffs keep the test fast; enough attempts to outlast the
    // injected 500s with the breaker (10 failures) staying closed.
    nlohmann::json pool = {{"max_attempts", kFlakyFailures + 1},
                           {"initial_backoff_ms", 10},
                           {"max_backoff_ms", 20},
                           {"breaker_failures", 10},
                           {"max_queue_size", kQueueSize}};
    nlohmann::json down_pool = {{"max_attempts", 2},
                                {"initial_backoff_ms", 10},
                                {"max_backoff_ms", 20},
                                {"breaker_failures", 2}};
    nlohmann::json config = {
        {"default", "flaky"},
        {"judges",
         {SimJudge("flaky", flaky_->base_url(), pool, {{"mode", "all_in_one"}}),
          SimJudge("garbled", garbled_->base_url(), pool,
                   {{"mode", "all_in_one"}}),
          // Nothing listens on port 9 of loopback: every call fails.
          SimJudge("down", "http://127.0.0.1:9/v1", down_pool)}}};
    dir_.Write("judges.json", config.dump());
    dir_.Write("rubrics/chasing_the_tail.json", ReadFile(kPaper));
    server_ = std::make_unique<RewarddProcess>(std::vector<std::string>{
        "--judges_config=" + dir_.path() + "/judges.json",
        "--rubric_dir=" + dir_.path() + "/rubrics",
        "--metrics_listen=127.0.0.1:0",
        "--metrics_port_file=" + dir_.path() + "/metrics_port"});
    ASSERT_TRUE(server_->Start().ok()) << server_->Log();
    metrics_port_ = std::stoi(ReadFile(dir_.path() + "/metrics_port"));
    ASSERT_GT(metrics_port_, 0);
    RewardClient::Options options;
    options.target = server_->address();
    options.wait_for_ready = true;
    options.deadline = absl::Seconds(30);
    auto client = RewardClient::Create(options);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(*client);
  }

  absl::StatusOr<pb::GradeResponse> Grade(const std::string& judge,
                                          const std::string& rubric,
                                          const std::string& response) {
    pb::GradeRequest req;
    req.set_request_id(absl::StrCat(judge, "/", rubric, "/", response));
    req.set_rubric_set("chasing_the_tail");
    req.set_rubric_id(rubric);
    req.set_response(paper_["responses"][response].get<std::string>());
    req.mutable_options()->set_judge(judge);
    return client_->Grade(req);
  }

  Scrape ScrapeMetrics() { return testing::ScrapeMetrics(metrics_port_); }

  nlohmann::json paper_;
  TempDir dir_;
  std::unique_ptr<JudgeSim> flaky_, garbled_;
  std::unique_ptr<RewarddProcess> server_;
  std::unique_ptr<RewardClient> client_;
  int metrics_port_ = 0;
};

TEST_F(JudgePoolMetricsTest, EverySeriesExistsAtZeroBeforeTraffic) {
  Scrape m = ScrapeMetrics();
  for (const char* judge : {"flaky", "garbled", "down"}) {
    for (const char* outcome :
         {"ok", "http_error", "rate_limited", "transport_error", "timeout",
          "parse_error", "cancelled", "error"}) {
      EXPECT_EQ(
          m.Value("rewardd_judge_calls_total",
                  {{"judge", judge}, {"replica", "0"}, {"outcome", outcome}}),
          0)
          << judge << " " << outcome;
    }
    EXPECT_EQ(
        m.Value("rewardd_judge_breaker_state",
                {{"judge", judge}, {"replica", "0"}, {"state", "closed"}}),
        1);
    EXPECT_EQ(m.Value("rewardd_judge_queue_depth", {{"judge", judge}}), 0);
  }
  EXPECT_EQ(m.Value("rewardd_judge_queue_capacity", {{"judge", "flaky"}}),
            kQueueSize);
}

TEST_F(JudgePoolMetricsTest, CountsCallsRetriesTokensAndCacheOfAFlakyJudge) {
  size_t criteria = 0;
  for (const char* rubric : {"initial", "refined"}) {
    criteria += 2 * paper_[absl::StrCat(rubric, "_rubric")].size();
    for (const char* r : {"R1", "R2"}) {
      auto result = Grade("flaky", rubric, r);
      ASSERT_TRUE(result.ok()) << result.status();
      EXPECT_TRUE(result->valid()) << result->invalid_reason();
    }
  }
  // The same grading again: answered by the verdict cache, no call.
  auto again = Grade("flaky", "initial", "R1");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->valid());

  const SimStats sim = flaky_->stats();
  ASSERT_EQ(sim.faults_500, kFlakyFailures);
  Scrape m = ScrapeMetrics();
  const std::map<std::string, std::string> flaky = {{"judge", "flaky"}};
  auto calls = [&](const char* outcome) {
    return m.Value(
        "rewardd_judge_calls_total",
        {{"judge", "flaky"}, {"replica", "0"}, {"outcome", outcome}});
  };
  EXPECT_EQ(calls("http_error"), sim.faults_500);
  EXPECT_EQ(calls("ok"), sim.calls - sim.faults_500);
  EXPECT_EQ(calls("ok"), 4);  // one per distinct grading
  EXPECT_EQ(m.Value("rewardd_judge_call_duration_seconds_count",
                    {{"judge", "flaky"}, {"replica", "0"}}),
            sim.calls);
  EXPECT_EQ(m.Value("rewardd_judge_retries_total",
                    {{"judge", "flaky"}, {"reason", "server_error"}}),
            kFlakyFailures);
  EXPECT_EQ(m.Value("rewardd_judge_retries_total",
                    {{"judge", "flaky"}, {"reason", "transport"}}),
            0);
  // A call is queued once and sent with all its criteria, however often it
  // is retried.
  EXPECT_EQ(m.Value("rewardd_judge_queue_wait_seconds_count", flaky), 4);
  EXPECT_EQ(m.Value("rewardd_judge_batch_criteria_count", flaky), 4);
  EXPECT_EQ(m.Value("rewardd_judge_batch_criteria_sum", flaky), criteria);
  EXPECT_EQ(m.Value("rewardd_judge_cache_lookups_total",
                    {{"judge", "flaky"}, {"result", "hit"}}),
            1);
  EXPECT_EQ(m.Value("rewardd_judge_cache_lookups_total",
                    {{"judge", "flaky"}, {"result", "miss"}}),
            4);
  EXPECT_GT(m.Value("rewardd_judge_tokens_total",
                    {{"judge", "flaky"}, {"type", "prompt"}}),
            0);
  EXPECT_GT(m.Value("rewardd_judge_tokens_total",
                    {{"judge", "flaky"}, {"type", "completion"}}),
            0);
  // Everything answered: nothing queued or in flight, breaker closed.
  EXPECT_EQ(m.Value("rewardd_judge_queue_depth", flaky), 0);
  EXPECT_EQ(m.Value("rewardd_judge_in_flight",
                    {{"judge", "flaky"}, {"replica", "0"}}),
            0);
  EXPECT_EQ(
      m.Value("rewardd_judge_breaker_state",
              {{"judge", "flaky"}, {"replica", "0"}, {"state", "closed"}}),
      1);
  EXPECT_EQ(m.Value("rewardd_judge_queue_refusals_total", flaky), 0);
  // The other pools saw nothing.
  EXPECT_EQ(
      m.Value("rewardd_judge_calls_total",
              {{"judge", "garbled"}, {"replica", "0"}, {"outcome", "ok"}}),
      0);
}

TEST_F(JudgePoolMetricsTest, CountsAnUnparsableAnswerAsAParseFailure) {
  auto result = Grade("garbled", "initial", "R1");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->valid()) << result->invalid_reason();
  ASSERT_EQ(garbled_->stats().faults_garbage, 1);

  Scrape m = ScrapeMetrics();
  auto calls = [&](const char* outcome) {
    return m.Value(
        "rewardd_judge_calls_total",
        {{"judge", "garbled"}, {"replica", "0"}, {"outcome", outcome}});
  };
  EXPECT_EQ(calls("parse_error"), 1);
  EXPECT_EQ(calls("ok"), 1);
  EXPECT_EQ(m.Value("rewardd_judge_retries_total",
                    {{"judge", "garbled"}, {"reason", "unparsable"}}),
            1);
  EXPECT_EQ(m.Value("rewardd_judge_parse_failures_total",
                    {{"judge", "garbled"}, {"kind", "unparsable"}}),
            1);
  EXPECT_EQ(m.Value("rewardd_judge_parse_failures_total",
                    {{"judge", "garbled"}, {"kind", "missing_criterion"}}),
            0);
}

TEST_F(JudgePoolMetricsTest, CountsTransportErrorsAndOpensTheBreaker) {
  auto result = Grade("down", "initial", "R1");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->valid());

  Scrape m = ScrapeMetrics();
  // Two attempts (max_attempts), both refused; the second opens the
  // breaker (breaker_failures = 2).
  EXPECT_EQ(
      m.Value("rewardd_judge_calls_total", {{"judge", "down"},
                                            {"replica", "0"},
                                            {"outcome", "transport_error"}}),
      2);
  EXPECT_EQ(m.Value("rewardd_judge_retries_total",
                    {{"judge", "down"}, {"reason", "transport"}}),
            1);
  EXPECT_EQ(m.Value("rewardd_judge_breaker_state",
                    {{"judge", "down"}, {"replica", "0"}, {"state", "open"}}),
            1);
  EXPECT_EQ(m.Value("rewardd_judge_breaker_state",
                    {{"judge", "down"}, {"replica", "0"}, {"state", "closed"}}),
            0);
  EXPECT_EQ(m.Value("rewardd_judge_tokens_total",
                    {{"judge", "down"}, {"type", "prompt"}}),
            0);
  EXPECT_EQ(
      m.Value("rewardd_judge_in_flight", {{"judge", "down"}, {"replica", "0"}}),
      0);
}

}  // namespace
}  // namespace rewardd

// Fault injection through the whole path: client -> rewardd (a real
// process) -> HTTP -> judge-sim with faults switched on. For every fault,
// every request gets exactly one answer with an allowed status, a judge
// failure is reported (valid=false with per-criterion statuses) and never
// scored as 0, and rewardd keeps serving correct rewards afterwards.
#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "client/reward_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/rewardd_process.h"
#include "tools/judge-sim/judge_sim.h"

namespace rewardd {
namespace {

namespace pb = reward::v1;
using ::rewardd::testing::RewarddProcess;
using ::rewardd::testing::TempDir;

// judge-sim's rule (docs/judges.md): a criterion is met when the response
// contains every term the criterion quotes.
pb::GradeRequest Request(int i) {
  pb::GradeRequest req;
  req.set_request_id(absl::StrCat("f", i));
  req.set_prompt("Name the capital of France and of Italy.");
  auto* a = req.mutable_rubric()->add_criteria();
  a->set_id("paris");
  a->set_text("The response names \"Paris\"");
  a->set_weight(1);
  auto* b = req.mutable_rubric()->add_criteria();
  b->set_id("rome");
  b->set_text("The response names \"Rome\"");
  b->set_weight(1);
  // Distinct responses, so neither the cache nor dedup hides the faults.
  req.set_response(absl::StrCat("Paris is the capital of France. #", i));
  return req;
}

struct Tally {
  absl::Mutex mu;
  int answers = 0, valid = 0, invalid = 0;
  std::map<std::string, int> rpc_errors;
  std::vector<std::string> problems;
};

class FaultInjection : public ::testing::Test {
 protected:
  void SetUp() override {
    SimOptions sim_options;
    sim_options.capacity = 32;
    sim_options.latency_mean = absl::Milliseconds(5);
    auto sim = JudgeSim::Start(sim_options);
    ASSERT_TRUE(sim.ok()) << sim.status();
    sim_ = std::move(*sim);
    nlohmann::json config = {{"cache_max_bytes", 0},
                             {"judges",
                              {{{"name", "sim"},
                                {"model", "judge-sim"},
                                {"mode", "all_in_one"},
                                {"timeout_ms", 1500},
                                {"replicas", {sim_->base_url()}},
                                {"pool",
                                 {{"max_attempts", 3},
                                  {"initial_backoff_ms", 10},
                                  {"max_backoff_ms", 50},
                                  {"breaker_failures", 5},
                                  {"breaker_open_time_ms", 300}}}}}}};
    dir_.Write("judges.json", config.dump());
    server_ = std::make_unique<RewarddProcess>(std::vector<std::string>{
        "--judges_config=" + dir_.path() + "/judges.json"});
    ASSERT_TRUE(server_->Start().ok()) << server_->Log();
    RewardClient::Options options;
    options.target = server_->address();
    options.deadline = absl::Seconds(4);
    options.max_attempts = 1;  // count what rewardd answers, not retries
    options.wait_for_ready = true;
    auto client = RewardClient::Create(options);
    ASSERT_TRUE(client.ok());
    client_ = std::move(*client);
  }

  // Sends `n` requests, 16 at a time, and classifies every answer.
  void Drive(int n, Tally& tally, int base = 0) {
    std::atomic<int> next{0};
    std::vector<std::thread> callers;
    for (int t = 0; t < 16; ++t) {
      callers.emplace_back([&] {
        for (int i = next++; i < n; i = next++) {
          auto r = client_->Grade(Request(base + i));
          absl::MutexLock lock(&tally.mu);
          ++tally.answers;
          if (!r.ok()) {
            tally.rpc_errors[std::string(
                absl::StatusCodeToString(r.status().code()))]++;
            continue;
          }
          if (r->request_id() != absl::StrCat("f", base + i)) {
            tally.problems.push_back("answer for another request");
          }
          if (r->valid()) {
            ++tally.valid;
            // A valid answer is the right one: Paris met, Rome not.
            if (r->reward() != 0.5) {
              tally.problems.push_back(
                  absl::StrCat("wrong reward ", r->reward()));
            }
          } else {
            ++tally.invalid;
            if (r->reward() != 0)
              tally.problems.push_back("invalid with reward");
            bool failed_status = false;
            for (const auto& c : r->criteria()) {
              if (c.status() != pb::CriterionResult::OK) failed_status = true;
              if (c.status() != pb::CriterionResult::OK &&
                  c.verdict() != pb::CriterionResult::UNKNOWN) {
                tally.problems.push_back("failed criterion with a verdict");
              }
            }
            if (!failed_status)
              tally.problems.push_back("invalid, no failed status");
          }
        }
      });
    }
    for (auto& c : callers) c.join();
  }

  // Drives `n` requests with `faults` on: every request gets an answer and
  // none is silently wrong (`problems`). RPC errors are left to the test:
  // some faults may cause them.
  void DriveWith(const SimFaults& faults, int n, Tally& tally) {
    sim_->SetFaults(faults);
    Drive(n, tally);
    EXPECT_EQ(tally.answers, n);
    EXPECT_THAT(tally.problems, ::testing::IsEmpty());
  }

  void ExpectHealthyAfterwards() {
    sim_->SetFaults({});
    absl::SleepFor(absl::Milliseconds(400));  // a breaker may be open
    Tally after;
    Drive(32, after, 100000);
    EXPECT_EQ(after.valid, 32) << server_->Log();
    EXPECT_THAT(after.problems, ::testing::IsEmpty());
  }

  TempDir dir_;
  std::unique_ptr<JudgeSim> sim_;
  std::unique_ptr<RewarddProcess> server_;
  std::unique_ptr<RewardClient> client_;
};

TEST_F(FaultInjection, TransientErrorsAreRetriedAway) {
  SimFaults faults;
  faults.rate_429 = 0.15;
  faults.retry_after = absl::Milliseconds(0);
  faults.rate_500 = 0.15;
  faults.rate_reset = 0.1;
  Tally tally;
  DriveWith(faults, 200, tally);
  EXPECT_TRUE(tally.rpc_errors.empty());
  // Three attempts per call: nearly everything succeeds; the rest is
  // reported invalid, never scored.
  EXPECT_GE(tally.valid, 180);
  ExpectHealthyAfterwards();
}

TEST_F(FaultInjection, GarbageAndTruncatedVerdictsBecomeStatuses) {
  SimFaults faults;
  faults.rate_garbage = 0.3;
  faults.rate_truncate = 0.2;
  faults.rate_think = 0.3;
  Tally tally;
  DriveWith(faults, 150, tally);
  EXPECT_TRUE(tally.rpc_errors.empty());
  EXPECT_GT(tally.valid, 0);
  ExpectHealthyAfterwards();
}

TEST_F(FaultInjection, HangsPastTheDeadlineNeverBecomeRewards) {
  SimFaults faults;
  faults.rate_hang = 0.2;
  faults.hang = absl::Seconds(10);
  Tally tally;
  DriveWith(faults, 60, tally);
  // A hung call is retried, or ends as TIMEOUT/JUDGE_ERROR statuses, or the
  // client's deadline passes first: never a reward.
  for (const auto& [code, n] : tally.rpc_errors) {
    EXPECT_EQ(code, "DEADLINE_EXCEEDED") << n;
  }
  ExpectHealthyAfterwards();
}

TEST_F(FaultInjection, JudgeDownThenBack) {
  SimFaults faults;
  faults.rate_500 = 1.0;  // the judge is down
  Tally down;
  DriveWith(faults, 40, down);
  EXPECT_EQ(down.valid, 0);
  EXPECT_TRUE(down.rpc_errors.empty());
  ExpectHealthyAfterwards();  // the breaker closes again
}

TEST_F(FaultInjection, AStormOfCancellationsLeavesTheServerHealthy) {
  sim_->SetLatency(absl::Milliseconds(200), absl::ZeroDuration());
  std::atomic<int> answered{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 8; ++t) {
    callers.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        RewardClient::Options options;
        options.target = server_->address();
        options.deadline = absl::Milliseconds(20 + 10 * (i % 5));
        options.max_attempts = 1;
        auto client = RewardClient::Create(options);
        auto r = (*client)->Grade(Request(t * 1000 + i));
        answered++;  // whatever the outcome, the call ended
      }
    });
  }
  for (auto& c : callers) c.join();
  EXPECT_EQ(answered.load(), 200);
  sim_->SetLatency(absl::Milliseconds(5), absl::ZeroDuration());
  ExpectHealthyAfterwards();
}

}  // namespace
}  // namespace rewardd

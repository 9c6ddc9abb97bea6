// Horizontal scaling as Kubernetes runs it: three rewardd processes, one
// client given all three addresses. Load spreads evenly (read from each
// pod's own /metrics), and when one pod is killed mid-run no request is
// lost: calls that hit the dead pod fail with UNAVAILABLE and the client
// retries them on another.
#include <signal.h>

#include <atomic>
#include <regex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/reward_client.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "tests/integration/rewardd_process.h"
#include "tests/integration/test_requests.h"

namespace rewardd {
namespace {

namespace pb = reward::v1;
using ::rewardd::testing::ParisRequest;
using ::rewardd::testing::ReadFile;
using ::rewardd::testing::RewarddProcess;
using ::rewardd::testing::TempDir;

// Odd requests name Paris (reward 1), even ones do not (reward 0).
pb::GradeRequest Request(int i) {
  return ParisRequest(absl::StrCat("r", i), i % 2 ? "Paris" : "Rome");
}

// rewardd_requests_total{code="OK",method="Grade"} from one pod's /metrics.
double GradesServed(int metrics_port) {
  httplib::Client http("127.0.0.1", metrics_port);
  auto res = http.Get("/metrics");
  if (!res || res->status != 200) return -1;
  std::smatch m;
  const std::regex re(
      R"re(rewardd_requests_total\{[^}]*code="OK"[^}]*method="Grade"[^}]*\} ([0-9.e+]+))re");
  const std::regex re2(
      R"re(rewardd_requests_total\{[^}]*method="Grade"[^}]*code="OK"[^}]*\} ([0-9.e+]+))re");
  if (std::regex_search(res->body, m, re) ||
      std::regex_search(res->body, m, re2)) {
    return std::stod(m[1]);
  }
  return -1;
}

struct Pod {
  TempDir dir;
  std::unique_ptr<RewarddProcess> process;
  int metrics_port = 0;
};

TEST(Scaling, SpreadsLoadEvenlyAndLosesNothingWhenAPodDies) {
  std::vector<std::unique_ptr<Pod>> pods;
  std::vector<std::string> addresses;
  for (int i = 0; i < 3; ++i) {
    auto pod = std::make_unique<Pod>();
    pod->process = std::make_unique<RewarddProcess>(std::vector<std::string>{
        "--metrics_listen=127.0.0.1:0",
        "--metrics_port_file=" + pod->dir.path() + "/metrics_port"});
    ASSERT_TRUE(pod->process->Start().ok()) << pod->process->Log();
    for (int t = 0; t < 200 && pod->metrics_port == 0; ++t) {
      pod->metrics_port =
          std::atoi(ReadFile(pod->dir.path() + "/metrics_port").c_str());
      if (pod->metrics_port == 0) absl::SleepFor(absl::Milliseconds(20));
    }
    ASSERT_GT(pod->metrics_port, 0);
    addresses.push_back(pod->process->address());
    pods.push_back(std::move(pod));
  }
  RewardClient::Options options;
  options.target = absl::StrJoin(addresses, ",");
  options.max_attempts = 5;
  options.initial_backoff = absl::Milliseconds(20);
  options.deadline = absl::Seconds(20);
  auto client = RewardClient::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();

  // Phase 1: even spread.
  constexpr int kPhase1 = 600;
  for (int i = 0; i < kPhase1; ++i) {
    auto r = (*client)->Grade(Request(i));
    ASSERT_TRUE(r.ok()) << r.status();
  }
  double total = 0;
  for (const auto& pod : pods) {
    const double served = GradesServed(pod->metrics_port);
    ASSERT_GE(served, 0) << "no rewardd_requests_total for Grade";
    // Round robin: each pod within 25% of a third.
    EXPECT_NEAR(served, kPhase1 / 3.0, kPhase1 / 3.0 * 0.25);
    total += served;
  }
  EXPECT_EQ(total, kPhase1);

  // Phase 2: kill one pod while 4 callers keep grading.
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, wrong{0}, failed{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&, t] {
      for (int i = t; !stop; i += 4) {
        auto r = (*client)->Grade(Request(i));
        if (!r.ok()) {
          failed++;
          ADD_FAILURE() << "lost request: " << r.status();
        } else if (r->reward() != (i % 2 ? 1.0 : 0.0)) {
          wrong++;
        } else {
          ok++;
        }
      }
    });
  }
  absl::SleepFor(absl::Milliseconds(500));
  pods[1]->process->Signal(SIGKILL);
  absl::SleepFor(absl::Milliseconds(1500));
  stop = true;
  for (auto& t : callers) t.join();
  EXPECT_GT(ok.load(), 100);
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(failed.load(), 0);
}

}  // namespace
}  // namespace rewardd

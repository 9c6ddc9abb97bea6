// CurlMultiLoop (server/judge/http/curl_multi_loop.h) against judge-sim
// over 127.0.0.1, without a pool: calls end at their own timeouts in
// deadline order, a call without one waits until cancelled, and the
// deadlines of completed calls neither delay a hung call's timeout nor
// wake an idle loop.
#include <algorithm>
#include <atomic>
#include <vector>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/judge_pool_fixture.h"
#include "tools/judge-sim/judge_sim.h"

namespace rewardd {
namespace {

using ::testing::HasSubstr;

class CurlMultiLoopTest : public SingleSimFixture {
 protected:
  // A chat request straight to the loop (no pool), ending after `timeout`.
  HttpRequest RawRequest(absl::Duration timeout) const {
    HttpRequest r;
    r.url = sim_->base_url() + "/chat/completions";
    r.body = R"({"model": "judge-sim", "messages": []})";
    r.headers = HttpHeaders::Make({"Content-Type: application/json"});
    r.timeout = timeout;
    return r;
  }
};

// The loop ends a call at its HttpRequest::timeout itself (libcurl is not
// given the timeout): hung calls end as timed out, earliest deadline first,
// while a call without a timeout keeps waiting until it is cancelled.
TEST_F(CurlMultiLoopTest, HttpTimeoutsEndHungCallsInDeadlineOrder) {
  sim_->SetLatency(absl::Seconds(20), absl::ZeroDuration());
  struct Ended {
    int64_t timeout_ms;
    HttpResult result;
  };
  absl::Mutex mu;
  std::vector<Ended> ended;
  const auto submit = [&](int64_t timeout_ms) {
    return loop_->Submit(RawRequest(absl::Milliseconds(timeout_ms)),
                         [&, timeout_ms](HttpResult res) {
                           absl::MutexLock lock(&mu);
                           ended.push_back({timeout_ms, std::move(res)});
                         });
  };
  const uint64_t untimed = submit(0);
  const std::vector<int64_t> timeouts = {700, 200, 500, 300, 600, 400};
  for (int64_t ms : timeouts) submit(ms);
  {
    absl::MutexLock lock(&mu);
    const auto all_timed_ended = [&] {
      return ended.size() == timeouts.size();
    };
    ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(&all_timed_ended),
                                    absl::Seconds(15)));
  }
  absl::SleepFor(absl::Milliseconds(100));
  absl::MutexLock lock(&mu);
  ASSERT_EQ(ended.size(), timeouts.size()) << "the untimed call ended early";
  for (size_t i = 0; i < ended.size(); ++i) {
    const Ended& e = ended[i];
    SCOPED_TRACE(e.timeout_ms);
    EXPECT_EQ(e.timeout_ms, 200 + 100 * static_cast<int64_t>(i));
    EXPECT_TRUE(e.result.timed_out()) << e.result.error;
    EXPECT_FALSE(e.result.cancelled);
    EXPECT_THAT(e.result.error, HasSubstr("timed out after"));
    EXPECT_GE(e.result.elapsed, absl::Milliseconds(e.timeout_ms));
    EXPECT_LT(e.result.elapsed,
              absl::Milliseconds(e.timeout_ms) + absl::Seconds(5));
  }
  mu.Unlock();
  loop_->Cancel(untimed);
  mu.Lock();
  const auto untimed_ended = [&] {
    return ended.size() == timeouts.size() + 1;
  };
  ASSERT_TRUE(
      mu.AwaitWithTimeout(absl::Condition(&untimed_ended), absl::Seconds(5)));
  EXPECT_TRUE(ended.back().result.cancelled);
  EXPECT_EQ(ended.back().timeout_ms, 0);
}

// Entries of completed calls stay in the loop's deadline heap until they
// surface or are compacted away: thousands of them neither delay a hung
// call's timeout (compaction keeps live entries) nor wake an idle loop.
TEST_F(CurlMultiLoopTest,
       CompletedCallsDeadlinesNeitherDelayTimeoutsNorWakeTheLoop) {
  SimFaults hang_first;
  hang_first.fail_first = 1;
  hang_first.fail_first_kind = "hang";
  sim_->SetFaults(hang_first);
  sim_->SetLatency(absl::ZeroDuration(), absl::ZeroDuration());
  absl::Notification hung_done;
  HttpResult hung;
  loop_->Submit(RawRequest(absl::Milliseconds(1500)), [&](HttpResult r) {
    hung = std::move(r);
    hung_done.Notify();
  });
  // The hang goes to the first request the simulator reads: this one.
  for (int i = 0; i < 500 && sim_->stats().faults_hang == 0; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(sim_->stats().faults_hang, 1);
  // Well past the compaction threshold (twice the live calls + 1024), in
  // waves the simulator's 40 connection threads serve without waiting.
  constexpr int kCalls = 3008, kWave = 16;
  constexpr absl::Duration kFastTimeout = absl::Seconds(4);
  const absl::Time first_fast = absl::Now();
  int ok = 0;
  for (int wave = 0; wave < kCalls / kWave; ++wave) {
    absl::BlockingCounter left(kWave);
    std::atomic<int> wave_ok{0};
    for (int i = 0; i < kWave; ++i) {
      loop_->Submit(RawRequest(kFastTimeout), [&](HttpResult r) {
        if (r.transport_ok() && r.status == 200) wave_ok.fetch_add(1);
        left.DecrementCount();
      });
    }
    left.Wait();
    ok += wave_ok.load();
  }
  EXPECT_EQ(ok, kCalls);
  ASSERT_TRUE(hung_done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_TRUE(hung.timed_out()) << hung.error;
  EXPECT_GE(hung.elapsed, absl::Milliseconds(1500));
  EXPECT_LT(hung.elapsed, absl::Milliseconds(1500) + absl::Seconds(5));
  // Idle now, while the completed calls' deadlines pass (unless the waves
  // took longer than kFastTimeout): a few iterations a second, not one per
  // stale deadline.
  absl::SleepFor(std::max(absl::Milliseconds(200),
                          first_fast + kFastTimeout - absl::Now()));
  const uint64_t before = loop_->iterations();
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_LT(loop_->iterations() - before, 20u);
}

}  // namespace
}  // namespace rewardd

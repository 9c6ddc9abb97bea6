// Admission without a gRPC server: the in-flight and open-stream limits
// (each refusal names its flag), the drain refusal, and WaitIdle.
#include "server/service/admission.h"

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rewardd {
namespace {

using ::testing::HasSubstr;

AdmissionOptions Limits(size_t inflight, size_t streams) {
  AdmissionOptions options;
  options.max_inflight_requests = inflight;
  options.max_concurrent_streams = streams;
  return options;
}

TEST(Admission, RefusesPastTheInFlightLimitUntilOneIsDone) {
  Admission admission(Limits(2, 8));
  // No auth: the context is not read.
  admission.RpcStarted();
  admission.RpcStarted();
  EXPECT_TRUE(admission.Admit(nullptr).ok());
  admission.RpcStarted();
  const absl::Status refused = admission.Admit(nullptr);
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.message(),
              HasSubstr("2 requests in flight; the limit is 2 "
                        "(--max_inflight_requests)"));
  admission.RpcDone();
  EXPECT_TRUE(admission.Admit(nullptr).ok());
  EXPECT_EQ(admission.in_flight(), 2);
}

TEST(Admission, RefusesPastTheStreamLimitUntilOneCloses) {
  Admission admission(Limits(100, 1));
  admission.StreamOpened();
  EXPECT_TRUE(admission.AdmitStream().ok());
  admission.StreamOpened();
  const absl::Status refused = admission.AdmitStream();
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.message(),
              HasSubstr("1 GradeStreams open; the limit is 1 "
                        "(--max_concurrent_streams)"));
  admission.StreamClosed();
  EXPECT_TRUE(admission.AdmitStream().ok());
}

TEST(Admission, DrainingRefusesWithARetryableError) {
  Admission admission(Limits(100, 100));
  admission.RpcStarted();
  EXPECT_FALSE(admission.draining());
  admission.StartDraining();
  EXPECT_TRUE(admission.draining());
  const absl::Status refused = admission.Admit(nullptr);
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(refused.message(), HasSubstr("retry on another replica"));
  EXPECT_EQ(refused, Admission::DrainingError());
}

TEST(Admission, WaitIdleIsTrueOnlyWhenNothingIsInFlight) {
  Admission admission(Limits(100, 100));
  EXPECT_TRUE(admission.WaitIdle(absl::InfinitePast()));
  admission.RpcStarted();
  // A deadline already passed: answers at once.
  EXPECT_FALSE(admission.WaitIdle(absl::InfinitePast()));
  admission.RpcDone();
  EXPECT_TRUE(admission.WaitIdle(absl::Now()));
}

}  // namespace
}  // namespace rewardd

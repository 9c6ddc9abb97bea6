// Server-wide limits against a real rewardd: open GradeStreams and RPCs in
// flight are capped, the refusal is RESOURCE_EXHAUSTED naming the flag, and
// capacity comes back when the holder finishes.
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "client/reward_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/rewardd_process.h"
#include "tests/integration/test_requests.h"

namespace rewardd {
namespace {

namespace pb = reward::v1;
using ::rewardd::testing::OneShotClient;
using ::rewardd::testing::ParisRequest;
using ::rewardd::testing::RewarddProcess;
using ::testing::HasSubstr;

std::unique_ptr<RewardClient> Client(const RewarddProcess& server) {
  RewardClient::Options options;
  options.target = server.address();
  return OneShotClient(options);
}

// Opens a stream and waits until the server has answered one item, so the
// stream is known to be open on the server.
std::unique_ptr<GradeStreamSession> OpenedStream(RewardClient& client) {
  auto answered = std::make_shared<absl::Notification>();
  auto session = client.OpenStream(
      {}, [answered](const std::string&, absl::StatusOr<pb::GradeResponse> r) {
        if (!answered->HasBeenNotified()) answered->Notify();
      });
  EXPECT_TRUE(session->Send(ParisRequest("hold")).ok());
  EXPECT_TRUE(answered->WaitForNotificationWithTimeout(absl::Seconds(10)));
  return session;
}

TEST(Limits, ConcurrentStreamsAreCapped) {
  RewarddProcess server({"--max_concurrent_streams=1"});
  ASSERT_TRUE(server.Start().ok()) << server.Log();
  auto client = Client(server);
  auto first = OpenedStream(*client);

  auto second = client->OpenStream(
      {}, [](const std::string&, absl::StatusOr<pb::GradeResponse>) {});
  (void)second->Send(ParisRequest("refused"));
  absl::Status refused = second->Finish();
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(refused.message()),
              HasSubstr("(--max_concurrent_streams)"));

  EXPECT_TRUE(first->Finish().ok());
  // Capacity is back once the server has finished the first stream.
  absl::Status third = absl::UnknownError("not tried");
  for (int i = 0; i < 100 && !third.ok(); ++i) {
    auto session = client->OpenStream(
        {}, [](const std::string&, absl::StatusOr<pb::GradeResponse>) {});
    (void)session->Send(ParisRequest("third"));
    third = session->Finish();
    if (!third.ok()) absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_TRUE(third.ok()) << third;
}

TEST(Limits, RequestsInFlightAreCapped) {
  RewarddProcess server({"--max_inflight_requests=1"});
  ASSERT_TRUE(server.Start().ok()) << server.Log();
  auto client = Client(server);
  auto holder = OpenedStream(*client);  // an open stream is an RPC in flight

  auto refused = client->Grade(ParisRequest("refused"));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("(--max_inflight_requests)"));

  EXPECT_TRUE(holder->Finish().ok());
  // The server releases the slot when it has finished the stream, a moment
  // after the client saw it end.
  absl::StatusOr<pb::GradeResponse> ok;
  for (int i = 0; i < 100; ++i) {
    ok = client->Grade(ParisRequest("after"));
    if (ok.status().code() != absl::StatusCode::kResourceExhausted) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_DOUBLE_EQ(ok->reward(), 1.0);
}

}  // namespace
}  // namespace rewardd

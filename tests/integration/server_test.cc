// The Server class in-process: started on port 0 with the example rubric
// sets, graded through a real gRPC channel on loopback, then drained while a
// GradeStream is open: new calls are refused with UNAVAILABLE until the
// stream ends, and Drain() returns once nothing is in flight. Also: a rubric
// reload (SIGHUP's path), start-up failures, and the HTTP gateway on
// http_listen (in-process channel; gone once Drain() returns).
#include "server/main/server.h"

#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "client/reward_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reward/v1/reward.grpc.pb.h"
#include "tests/integration/rewardd_process.h"
#include "tests/integration/test_requests.h"

namespace rewardd {
namespace {

namespace pb = reward::v1;
using ::rewardd::testing::OneShotClient;
using ::rewardd::testing::ParisRequest;
using ::rewardd::testing::ReadFile;
using ::rewardd::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

ServerOptions TestOptions() {
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.metrics_listen = "127.0.0.1:0";
  options.store.dir = std::string(REWARDD_SOURCE_DIR) + "/examples/rubrics";
  options.store.poll_interval = absl::ZeroDuration();
  // Short grace (no load balancer here); a drain long enough never to cut
  // the test's stream short.
  options.drain_grace = absl::Milliseconds(50);
  options.drain_timeout = absl::Seconds(120);
  return options;
}

// Waits until health reports the RewardService SERVING (rubric sets
// loaded); false after a minute.
bool WaitServing(RewardClient& client) {
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  while (absl::Now() < give_up) {
    auto status = client.Health("reward.v1.RewardService");
    if (status.ok() &&
        *status == grpc::health::v1::HealthCheckResponse::SERVING) {
      return true;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  return false;
}

TEST(ServerTest, GradesThroughARealChannelOnPortZero) {
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Create(TestOptions());
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_GT((*server)->port(), 0);
  EXPECT_GT((*server)->metrics_port(), 0);
  const std::string address = absl::StrCat("127.0.0.1:", (*server)->port());
  RewardClient::Options client_options;
  client_options.target = address;
  std::unique_ptr<RewardClient> client = OneShotClient(client_options);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(WaitServing(*client));

  auto stub = pb::RewardService::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  pb::GradeResponse response;
  const grpc::Status status =
      stub->Grade(&context, ParisRequest("inline-1"), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.request_id(), "inline-1");
  EXPECT_TRUE(response.valid());
  EXPECT_EQ(response.reward(), 1);
  EXPECT_EQ(response.judge(), "embedded");

  // A rubric from the store, by set and id; an unknown set is NOT_FOUND.
  pb::GradeRequest stored;
  stored.set_request_id("stored-1");
  stored.set_rubric_set("demo");
  stored.set_rubric_id("arith-1");
  stored.set_response("80 km / 1.5 h... 120 / 1.5 = 80\nAnswer: 80");
  auto graded = client->Grade(stored);
  ASSERT_TRUE(graded.ok()) << graded.status();
  EXPECT_EQ(graded->rubric_set(), "demo");
  EXPECT_EQ(graded->criteria_size(), 4);
  stored.set_rubric_set("no-such-set");
  EXPECT_EQ(client->Grade(stored).status().code(), absl::StatusCode::kNotFound);

  auto sets = client->ListRubricSets();
  ASSERT_TRUE(sets.ok()) << sets.status();
  EXPECT_GE(sets->sets_size(), 1);
  (*server)->Stop();
}

TEST(ServerTest, ServesHttpOnHttpListenUntilDrained) {
  ServerOptions options = TestOptions();
  options.http_listen = "127.0.0.1:0";
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Create(options);
  ASSERT_TRUE(server.ok()) << server.status();
  const int http_port = (*server)->http_port();
  ASSERT_GT(http_port, 0);
  httplib::Client http("127.0.0.1", http_port);
  http.set_read_timeout(120, 0);
  int health = 0;
  for (int i = 0; i < 6000 && health != 200; ++i) {
    auto res = http.Get("/healthz");
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    health = res->status;
    if (health != 200) absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(health, 200);
  auto res = http.Post(
      "/v1/grade",
      R"({"rubric_set": "demo", "rubric_id": "arith-1", "response": "Answer: 80"})",
      "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_THAT(res->body, HasSubstr("\"valid\":true"));
  (*server)->Drain();
  httplib::Client after("127.0.0.1", http_port);
  EXPECT_FALSE(after.Get("/healthz"));  // the listener is closed
}

TEST(ServerTest, CreateFailsOnABadHttpListen) {
  ServerOptions options = TestOptions();
  options.http_listen = "127.0.0.1";  // no port
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Create(options);
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(server.status().message(), HasSubstr("--http_listen"));
}

TEST(ServerTest, DrainRefusesNewCallsAndWaitsForOpenStreams) {
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Create(TestOptions());
  ASSERT_TRUE(server.ok()) << server.status();
  RewardClient::Options client_options;
  client_options.target = absl::StrCat("127.0.0.1:", (*server)->port());
  std::unique_ptr<RewardClient> client = OneShotClient(client_options);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(WaitServing(*client));

  // An open stream with one answered item keeps an RPC in flight.
  absl::Notification answered;
  auto stream = client->OpenStream(
      {}, [&](const std::string&, absl::StatusOr<pb::GradeResponse> r) {
        EXPECT_TRUE(r.ok() && r->valid()) << r.status();
        answered.Notify();
      });
  ASSERT_TRUE(stream->Send(ParisRequest("held")).ok());
  answered.WaitForNotification();
  EXPECT_EQ((*server)->in_flight(), 1);

  absl::Notification drained;
  std::thread drainer([&] {
    (*server)->Drain();
    drained.Notify();
  });
  // After the grace, new calls are refused (retryable) while the stream
  // keeps the server draining.
  absl::StatusOr<pb::GradeResponse> refused;
  do {
    refused = client->Grade(ParisRequest("late"));
  } while (refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(refused.status().message(), HasSubstr("draining"));
  EXPECT_FALSE(drained.HasBeenNotified());

  EXPECT_TRUE(stream->Finish().ok());
  (*server)->Wait();
  drainer.join();
  EXPECT_TRUE(drained.HasBeenNotified());
  EXPECT_EQ((*server)->in_flight(), 0);
}

TEST(ServerTest, ReloadRubricsPicksUpANewSet) {
  TempDir rubrics;
  rubrics.Write("demo.json", ReadFile(std::string(REWARDD_SOURCE_DIR) +
                                      "/examples/rubrics/demo.json"));
  ServerOptions options = TestOptions();
  options.metrics_listen = "";  // no /metrics endpoint
  options.store.dir = rubrics.path();
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Create(options);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ((*server)->metrics_port(), 0);
  RewardClient::Options client_options;
  client_options.target = absl::StrCat("127.0.0.1:", (*server)->port());
  std::unique_ptr<RewardClient> client = OneShotClient(client_options);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(WaitServing(*client));
  auto names = [&] {
    std::vector<std::string> out;
    auto sets = client->ListRubricSets();
    EXPECT_TRUE(sets.ok()) << sets.status();
    if (sets.ok()) {
      for (const pb::RubricSetInfo& set : sets->sets()) {
        out.push_back(set.name());
      }
    }
    return out;
  };
  EXPECT_THAT(names(), ElementsAre("demo"));

  // What SIGHUP does in the binary: the reload runs on the store's thread.
  rubrics.Write("paper.paper_dataset.jsonl",
                ReadFile(std::string(REWARDD_SOURCE_DIR) +
                         "/examples/rubrics/paper.paper_dataset.jsonl"));
  (*server)->ReloadRubrics();
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  while (names().size() < 2 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_THAT(names(), ElementsAre("demo", "paper"));
}

TEST(ServerTest, CreateFailsOnABadJudgesConfig) {
  ServerOptions options = TestOptions();
  options.judges_config = "/nonexistent/judges.json";
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Create(options);
  EXPECT_FALSE(server.ok());
}

}  // namespace
}  // namespace rewardd

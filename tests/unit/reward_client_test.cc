// RewardClient, GradeStreamSession and GradeJsonl against an in-process fake
// RewardService on 127.0.0.1: retries on UNAVAILABLE, deadlines, bearer
// token, round-robin over several servers, health, the stream's window and
// exactly-once matching by request_id, and JSONL output order with real
// HealthBench rubrics.
#include "client/reward_client.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "client/grade_stream.h"
#include "client/jsonl_grader.h"
#include "client/progress.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rewardd {
namespace {

using reward::v1::GradeGroupRequest;
using reward::v1::GradeGroupResponse;
using reward::v1::GradeRequest;
using reward::v1::GradeResponse;
using ::testing::HasSubstr;
using Stream = grpc::ServerReaderWriter<GradeResponse, GradeRequest>;

// What the fake server answers: a reward that is a function of the response
// text, so a test can tell which request an answer belongs to.
double ExpectedReward(const std::string& response) {
  return static_cast<double>(response.size() % 100) / 100.0;
}

GradeResponse Answer(const GradeRequest& request, int server_id) {
  GradeResponse r;
  r.set_request_id(request.request_id());
  r.set_valid(true);
  r.set_reward(ExpectedReward(request.response()));
  r.set_judge(absl::StrCat("fake-", server_id));
  r.set_rubric_id(request.rubric_id());
  for (const reward::v1::Criterion& c : request.rubric().criteria()) {
    reward::v1::CriterionResult* cr = r.add_criteria();
    cr->set_id(c.id());
    cr->set_weight(c.weight());
    cr->set_status(reward::v1::CriterionResult::OK);
    cr->set_verdict(reward::v1::CriterionResult::MET);
  }
  return r;
}

// Configure before Start(); only atomics and mu-guarded fields change while
// serving.
class FakeService final : public reward::v1::RewardService::Service {
 public:
  int server_id = 0;
  // Grade: UNAVAILABLE for the first `fail_first_n` attempts of each id.
  int fail_first_n = 0;
  // Grade: fail every call with this code (OK = do not).
  grpc::StatusCode always_fail = grpc::StatusCode::OK;
  // Grade: wait until the client cancels (deadline).
  bool hang = false;
  // Grade: sleep hash(request_id) % delay_mod ms, to reorder completions.
  int delay_mod = 0;
  // GradeStream: the handler; default answers in reverse batches of
  // `stream_batch` and the rest at half-close.
  std::function<grpc::Status(grpc::ServerContext*, Stream*)> stream_handler;
  int stream_batch = 1;

  std::atomic<int> grade_calls{0};
  std::atomic<int> in_flight{0};
  std::atomic<int> max_in_flight{0};
  std::atomic<bool> saw_cancel{false};

  int attempts(const std::string& id) {
    absl::MutexLock lock(&mu_);
    return attempts_[id];
  }
  std::string last_authorization() {
    absl::MutexLock lock(&mu_);
    return last_authorization_;
  }

  grpc::Status Grade(grpc::ServerContext* context, const GradeRequest* request,
                     GradeResponse* response) override {
    ++grade_calls;
    const int now = ++in_flight;
    int seen = max_in_flight.load();
    while (now > seen && !max_in_flight.compare_exchange_weak(seen, now)) {
    }
    grpc::Status status = DoGrade(context, *request, response);
    --in_flight;
    return status;
  }

  grpc::Status GradeGroup(grpc::ServerContext* context,
                          const GradeGroupRequest* request,
                          GradeGroupResponse* response) override {
    response->set_request_id(request->request_id());
    double sum = 0;
    for (int i = 0; i < request->responses_size(); ++i) {
      GradeRequest one;
      one.set_request_id(absl::StrCat(request->request_id(), "/", i));
      one.set_response(request->responses(i));
      *one.mutable_rubric() = request->rubric();
      *response->add_results() = Answer(one, server_id);
      sum += ExpectedReward(request->responses(i));
    }
    response->set_valid_count(request->responses_size());
    if (request->responses_size() > 0) {
      response->set_mean_reward(sum / request->responses_size());
    }
    return grpc::Status::OK;
  }

  grpc::Status GradeStream(grpc::ServerContext* context,
                           Stream* stream) override {
    if (stream_handler) return stream_handler(context, stream);
    std::vector<GradeRequest> batch;
    GradeRequest request;
    auto flush = [&] {
      for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
        stream->Write(Answer(*it, server_id));
      }
      batch.clear();
    };
    while (stream->Read(&request)) {
      batch.push_back(request);
      if (static_cast<int>(batch.size()) >= stream_batch) flush();
    }
    flush();
    return grpc::Status::OK;
  }

  grpc::Status ListRubricSets(grpc::ServerContext*,
                              const reward::v1::ListRubricSetsRequest*,
                              reward::v1::ListRubricSetsResponse* r) override {
    reward::v1::RubricSetInfo* s = r->add_sets();
    s->set_name("healthbench");
    s->set_rubric_count(30);
    return grpc::Status::OK;
  }

  grpc::Status GetRubric(grpc::ServerContext*,
                         const reward::v1::GetRubricRequest* request,
                         reward::v1::GetRubricResponse* r) override {
    if (request->rubric_id() != "known") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          absl::StrCat("no rubric ", request->rubric_id()));
    }
    r->set_rubric_set(request->rubric_set());
    r->mutable_rubric()->set_id("known");
    return grpc::Status::OK;
  }

 private:
  grpc::Status DoGrade(grpc::ServerContext* context,
                       const GradeRequest& request, GradeResponse* response) {
    int attempt;
    {
      absl::MutexLock lock(&mu_);
      attempt = ++attempts_[request.request_id()];
      auto it = context->client_metadata().find("authorization");
      if (it != context->client_metadata().end()) {
        last_authorization_ = std::string(it->second.data(), it->second.size());
      }
    }
    if (hang) {
      while (!context->IsCancelled()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      saw_cancel = true;
      return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
    }
    if (attempt <= fail_first_n) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          absl::StrCat("warming up, attempt ", attempt));
    }
    if (always_fail != grpc::StatusCode::OK) {
      return grpc::Status(always_fail, "rubric xyz is unknown");
    }
    if (delay_mod > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(
          absl::Hash<std::string>()(request.request_id()) % delay_mod));
    }
    *response = Answer(request, server_id);
    return grpc::Status::OK;
  }

  absl::Mutex mu_;
  absl::flat_hash_map<std::string, int> attempts_ ABSL_GUARDED_BY(mu_);
  std::string last_authorization_ ABSL_GUARDED_BY(mu_);
};

class FakeServer {
 public:
  explicit FakeServer(int id = 0) { service.server_id = id; }
  ~FakeServer() {
    if (server_ != nullptr) server_->Shutdown();
  }
  void Start() {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port_);
    builder.RegisterService(&service);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port_, 0);
  }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }
  int port() const { return port_; }
  grpc::Server* server() { return server_.get(); }

  FakeService service;

 private:
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

std::unique_ptr<RewardClient> MakeClient(const std::string& target,
                                         int max_attempts = 4) {
  RewardClient::Options options;
  options.target = target;
  options.max_attempts = max_attempts;
  options.initial_backoff = absl::Milliseconds(5);
  options.max_backoff = absl::Milliseconds(20);
  absl::StatusOr<std::unique_ptr<RewardClient>> client =
      RewardClient::Create(options);
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? *std::move(client) : nullptr;
}

GradeRequest Request(const std::string& id, const std::string& response) {
  GradeRequest r;
  r.set_request_id(id);
  r.set_rubric_set("healthbench");
  r.set_rubric_id("rubric-1");
  r.set_response(response);
  return r;
}

// --- targets and service config ------------------------------------------

TEST(ResolveTargetsTest, SplitsListsAndKeepsUris) {
  EXPECT_THAT(*ResolveTargets("localhost:50051"),
              ::testing::ElementsAre("localhost:50051"));
  EXPECT_THAT(*ResolveTargets("10.0.0.1:1, 10.0.0.2:2"),
              ::testing::ElementsAre("ipv4:10.0.0.1:1,10.0.0.2:2"));
  EXPECT_THAT(*ResolveTargets("[::1]:1,[::1]:2"),
              ::testing::ElementsAre("ipv6:[::1]:1,[::1]:2"));
  EXPECT_THAT(*ResolveTargets("pod-a:1,pod-b:2"),
              ::testing::ElementsAre("pod-a:1", "pod-b:2"));
  EXPECT_THAT(*ResolveTargets("dns:///rewardd.ml.svc:50051"),
              ::testing::ElementsAre("dns:///rewardd.ml.svc:50051"));
  EXPECT_EQ(ResolveTargets("").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ResolveTargets("a:1,b").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ResolveTargets("host:99999").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ServiceConfigTest, IsJsonWithRetryPolicyAndLbPolicy) {
  RewardClient::Options options;
  options.max_attempts = 9;  // capped at gRPC's limit
  nlohmann::json config = nlohmann::json::parse(ServiceConfigJson(options));
  EXPECT_TRUE(config["loadBalancingConfig"][0].contains("round_robin"));
  const nlohmann::json& retry = config["methodConfig"][0]["retryPolicy"];
  EXPECT_EQ(retry["maxAttempts"], 5);
  EXPECT_EQ(retry["retryableStatusCodes"][0], "UNAVAILABLE");
  options.max_attempts = 1;
  config = nlohmann::json::parse(ServiceConfigJson(options));
  EXPECT_FALSE(config.contains("methodConfig"));
}

// --- unary calls ------------------------------------------------------------

TEST(RewardClientTest, GradeRoundTripCarriesBearerToken) {
  FakeServer server;
  server.Start();
  RewardClient::Options options;
  options.target = server.address();
  options.bearer_token = "s3cret";
  auto client = RewardClient::Create(options);
  ASSERT_TRUE(client.ok());
  absl::StatusOr<GradeResponse> r =
      (*client)->Grade(Request("r1", "a response of some length"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->request_id(), "r1");
  EXPECT_DOUBLE_EQ(r->reward(), ExpectedReward("a response of some length"));
  EXPECT_EQ(server.service.last_authorization(), "Bearer s3cret");
}

TEST(RewardClientTest, RetriesUnavailableUntilItSucceeds) {
  FakeServer server;
  server.service.fail_first_n = 2;
  server.Start();
  auto client = MakeClient(server.address(), /*max_attempts=*/3);
  absl::StatusOr<GradeResponse> r = client->Grade(Request("r1", "x"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(server.service.attempts("r1"), 3);
}

TEST(RewardClientTest, GivesUpAfterMaxAttemptsKeepingCodeAndMessage) {
  FakeServer server;
  server.service.fail_first_n = 100;
  server.Start();
  auto client = MakeClient(server.address(), /*max_attempts=*/2);
  absl::StatusOr<GradeResponse> r = client->Grade(Request("r1", "x"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("warming up"));
  EXPECT_EQ(server.service.attempts("r1"), 2);
}

TEST(RewardClientTest, DoesNotRetryOtherErrors) {
  FakeServer server;
  server.service.always_fail = grpc::StatusCode::INVALID_ARGUMENT;
  server.Start();
  auto client = MakeClient(server.address(), /*max_attempts=*/4);
  absl::StatusOr<GradeResponse> r = client->Grade(Request("r1", "x"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "rubric xyz is unknown");
  EXPECT_EQ(server.service.attempts("r1"), 1);
}

TEST(RewardClientTest, DeadlineEndsASlowCall) {
  FakeServer server;
  server.service.hang = true;
  server.Start();
  RewardClient::Options options;
  options.target = server.address();
  options.deadline = absl::Milliseconds(200);
  auto client = RewardClient::Create(options);
  ASSERT_TRUE(client.ok());
  absl::StatusOr<GradeResponse> r = (*client)->Grade(Request("r1", "x"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
  // The server saw the cancellation (it would otherwise hang forever and
  // the server's Shutdown below would wait for it).
  server.server()->Shutdown();
  EXPECT_TRUE(server.service.saw_cancel);
}

TEST(RewardClientTest, UnreachableServerIsUnavailable) {
  int port;
  {
    FakeServer closed;  // a port that was free a moment ago
    closed.Start();
    port = closed.port();
  }
  auto client = MakeClient(absl::StrCat("127.0.0.1:", port), 2);
  EXPECT_EQ(client->Grade(Request("r1", "x")).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST(RewardClientTest, ListAndGetRubric) {
  FakeServer server;
  server.Start();
  auto client = MakeClient(server.address());
  auto sets = client->ListRubricSets();
  ASSERT_TRUE(sets.ok()) << sets.status();
  ASSERT_EQ(sets->sets_size(), 1);
  EXPECT_EQ(sets->sets(0).name(), "healthbench");
  auto rubric = client->GetRubric("healthbench", "known");
  ASSERT_TRUE(rubric.ok()) << rubric.status();
  EXPECT_EQ(rubric->rubric().id(), "known");
  auto missing = client->GetRubric("healthbench", "nope");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "no rubric nope");
}

TEST(RewardClientTest, HealthReportsServingAndNotServing) {
  FakeServer server;
  server.Start();
  auto client = MakeClient(server.address());
  auto overall = client->Health("");
  ASSERT_TRUE(overall.ok()) << overall.status();
  EXPECT_EQ(*overall, grpc::health::v1::HealthCheckResponse::SERVING);
  server.server()->GetHealthCheckService()->SetServingStatus(
      "reward.v1.RewardService", false);
  auto service = client->Health("reward.v1.RewardService");
  ASSERT_TRUE(service.ok()) << service.status();
  EXPECT_EQ(*service, grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(client->Health("no.such.Service").status().code(),
            absl::StatusCode::kNotFound);
}

// Sends calls until every server has answered one (all connections are up),
// then checks that further calls rotate over all of them.
void ExpectRoundRobin(const std::string& target,
                      std::vector<std::unique_ptr<FakeServer>>& servers) {
  auto client = MakeClient(target);
  auto all_hit = [&] {
    for (auto& s : servers) {
      if (s->service.grade_calls == 0) return false;
    }
    return true;
  };
  for (int i = 0; i < 2000 && !all_hit(); ++i) {
    ASSERT_TRUE(client->Grade(Request(absl::StrCat("warm", i), "x")).ok());
  }
  ASSERT_TRUE(all_hit()) << "some server never got a call";
  std::vector<int> before;
  for (auto& s : servers) before.push_back(s->service.grade_calls);
  const int kRounds = 4;
  for (size_t i = 0; i < kRounds * servers.size(); ++i) {
    ASSERT_TRUE(client->Grade(Request(absl::StrCat("rr", i), "x")).ok());
  }
  for (size_t i = 0; i < servers.size(); ++i) {
    EXPECT_EQ(servers[i]->service.grade_calls - before[i], kRounds)
        << "server " << i;
  }
}

TEST(RewardClientTest, RoundRobinOverIpList) {
  std::vector<std::unique_ptr<FakeServer>> servers;
  std::vector<std::string> addresses;
  for (int i = 0; i < 3; ++i) {
    servers.push_back(std::make_unique<FakeServer>(i));
    servers.back()->Start();
    addresses.push_back(servers.back()->address());
  }
  ExpectRoundRobin(absl::StrJoin(addresses, ","), servers);
}

TEST(RewardClientTest, RoundRobinOverHostNameList) {
  std::vector<std::unique_ptr<FakeServer>> servers;
  std::vector<std::string> addresses;
  for (int i = 0; i < 2; ++i) {
    servers.push_back(std::make_unique<FakeServer>(i));
    servers.back()->Start();
    // "localhost" is a host name: one channel per address.
    addresses.push_back(absl::StrCat("localhost:", servers.back()->port()));
  }
  ASSERT_EQ(ResolveTargets(absl::StrJoin(addresses, ","))->size(), 2u);
  ExpectRoundRobin(absl::StrJoin(addresses, ","), servers);
}

TEST(RewardClientTest, GradeAsyncCallsBackOncePerRequest) {
  FakeServer server;
  server.service.delay_mod = 5;
  server.Start();
  auto client = MakeClient(server.address());
  constexpr int kCalls = 64;
  absl::BlockingCounter pending(kCalls);
  std::vector<std::atomic<int>> calls(kCalls);
  std::vector<std::atomic<bool>> matched(kCalls);
  for (int i = 0; i < kCalls; ++i) {
    client->GradeAsync(
        Request(absl::StrCat("a", i), std::string(i, 'x')),
        [&, i](absl::StatusOr<GradeResponse> r) {
          ++calls[i];
          matched[i] = r.ok() && r->request_id() == absl::StrCat("a", i) &&
                       r->reward() == ExpectedReward(std::string(i, 'x'));
          pending.DecrementCount();
        });
  }
  pending.Wait();
  for (int i = 0; i < kCalls; ++i) {
    EXPECT_EQ(calls[i], 1) << i;
    EXPECT_TRUE(matched[i]) << i;
  }
}

TEST(RewardClientTest, GradeGroupAsync) {
  FakeServer server;
  server.Start();
  auto client = MakeClient(server.address());
  GradeGroupRequest group;
  group.set_request_id("g");
  group.add_responses("one");
  group.add_responses("three");
  absl::Notification done;
  absl::StatusOr<GradeGroupResponse> result;
  client->GradeGroupAsync(group, [&](absl::StatusOr<GradeGroupResponse> r) {
    result = std::move(r);
    done.Notify();
  });
  done.WaitForNotification();
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->results_size(), 2);
  EXPECT_EQ(result->results(1).request_id(), "g/1");
}

// --- streams ----------------------------------------------------------------

// Collects on_result calls; checks that none overlap.
struct Collector {
  absl::Mutex mu;
  std::vector<std::pair<std::string, absl::StatusOr<GradeResponse>>> results;
  std::atomic<int> concurrent{0};
  std::atomic<bool> overlapped{false};

  GradeStreamSession::ResultCallback Callback() {
    return [this](const std::string& id, absl::StatusOr<GradeResponse> r) {
      if (++concurrent > 1) overlapped = true;
      {
        absl::MutexLock lock(&mu);
        results.emplace_back(id, std::move(r));
      }
      --concurrent;
    };
  }
  absl::flat_hash_map<std::string, int> CountById() {
    absl::MutexLock lock(&mu);
    absl::flat_hash_map<std::string, int> counts;
    for (auto& [id, r] : results) ++counts[id];
    return counts;
  }
};

TEST(GradeStreamTest, DeliversEachAnswerOnceDespiteDuplicatesAndStrangers) {
  FakeServer server;
  // Answers only after the client half-closes, in reverse order, with one
  // answer twice and one for an id nobody sent.
  server.service.stream_handler = [](grpc::ServerContext*, Stream* stream) {
    std::vector<GradeRequest> all;
    GradeRequest r;
    while (stream->Read(&r)) all.push_back(r);
    for (auto it = all.rbegin(); it != all.rend(); ++it) {
      stream->Write(Answer(*it, 0));
    }
    stream->Write(Answer(all[3], 0));
    GradeRequest ghost;
    ghost.set_request_id("ghost");
    stream->Write(Answer(ghost, 0));
    return grpc::Status::OK;
  };
  server.Start();
  auto client = MakeClient(server.address());
  Collector collector;
  GradeStreamSession::Options options;
  options.window = 16;
  auto session = client->OpenStream(options, collector.Callback());
  constexpr int kN = 10;
  for (int i = 0; i < kN; ++i) {
    ASSERT_TRUE(
        session->Send(Request(absl::StrCat("s", i), std::string(i, 'y'))).ok());
  }
  EXPECT_TRUE(session->Finish().ok());
  auto counts = collector.CountById();
  ASSERT_EQ(counts.size(), static_cast<size_t>(kN));
  for (int i = 0; i < kN; ++i) EXPECT_EQ(counts[absl::StrCat("s", i)], 1);
  for (auto& [id, r] : collector.results) {
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->request_id(), id);
  }
  EXPECT_EQ(session->unexpected_responses(), 2);
  EXPECT_FALSE(collector.overlapped);
}

TEST(GradeStreamTest, BrokenStreamReportsEveryUnansweredRequest) {
  FakeServer server;
  server.service.stream_handler = [](grpc::ServerContext*, Stream* stream) {
    GradeRequest r;
    std::vector<GradeRequest> all;
    for (int i = 0; i < 6 && stream->Read(&r); ++i) all.push_back(r);
    for (int i = 0; i < 3; ++i) stream->Write(Answer(all[i], 0));
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "pod going away");
  };
  server.Start();
  auto client = MakeClient(server.address());
  Collector collector;
  auto session = client->OpenStream({}, collector.Callback());
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(session->Send(Request(absl::StrCat("b", i), "z")).ok());
  }
  absl::Status final_status = session->Finish();
  EXPECT_EQ(final_status.code(), absl::StatusCode::kUnavailable);
  auto counts = collector.CountById();
  ASSERT_EQ(counts.size(), 6u);
  int ok = 0, failed = 0;
  for (auto& [id, r] : collector.results) {
    EXPECT_EQ(counts[id], 1) << id;
    if (r.ok()) {
      ++ok;
    } else {
      ++failed;
      EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
      EXPECT_EQ(r.status().message(), "pod going away");
    }
  }
  EXPECT_EQ(ok, 3);
  EXPECT_EQ(failed, 3);
  // Nothing more can be sent on a dead stream.
  EXPECT_FALSE(session->Send(Request("late", "z")).ok());
}

TEST(GradeStreamTest, WindowLimitsUnansweredRequests) {
  FakeServer server;
  absl::Notification release;
  server.service.stream_handler = [&](grpc::ServerContext*, Stream* stream) {
    GradeRequest first, second, r;
    if (!stream->Read(&first) || !stream->Read(&second)) {
      return grpc::Status::OK;
    }
    release.WaitForNotification();
    stream->Write(Answer(first, 0));
    stream->Write(Answer(second, 0));
    while (stream->Read(&r)) stream->Write(Answer(r, 0));
    return grpc::Status::OK;
  };
  server.Start();
  auto client = MakeClient(server.address());
  absl::Mutex mu;
  int answered = 0;
  GradeStreamSession::Options options;
  options.window = 2;
  auto session = client->OpenStream(
      options, [&](const std::string&, absl::StatusOr<GradeResponse> r) {
        absl::MutexLock lock(&mu);
        if (r.ok()) ++answered;
      });
  ASSERT_TRUE(session->Send(Request("w1", "a")).ok());
  EXPECT_EQ(session->TrySend(Request("w1", "a")).code(),
            absl::StatusCode::kInvalidArgument);  // still in flight
  ASSERT_TRUE(session->TrySend(Request("w2", "b")).ok());
  EXPECT_EQ(session->outstanding(), 2);
  EXPECT_EQ(session->TrySend(Request("w3", "c")).code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(session->TrySend(Request("", "c")).code(),
            absl::StatusCode::kInvalidArgument);
  release.Notify();
  {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(
        +[](int* n) { return *n >= 1; }, &answered));
  }
  // Send blocks until there is room, which the answers above made.
  ASSERT_TRUE(session->Send(Request("w3", "c")).ok());
  EXPECT_TRUE(session->Finish().ok());
  absl::MutexLock lock(&mu);
  EXPECT_EQ(answered, 3);
}

TEST(GradeStreamTest, DestroyingAnOpenSessionCancelsAndReports) {
  FakeServer server;
  server.service.stream_handler = [](grpc::ServerContext* context,
                                     Stream* stream) {
    GradeRequest r;
    while (stream->Read(&r)) {
    }  // never answers
    return grpc::Status::OK;
  };
  server.Start();
  auto client = MakeClient(server.address());
  Collector collector;
  {
    auto session = client->OpenStream({}, collector.Callback());
    ASSERT_TRUE(session->Send(Request("d1", "a")).ok());
  }
  auto counts = collector.CountById();
  ASSERT_EQ(counts["d1"], 1);
  EXPECT_EQ(collector.results[0].second.status().code(),
            absl::StatusCode::kCancelled);
}

TEST(GradeStreamTest, GradeStreamAllReturnsRequestOrder) {
  FakeServer server;
  server.service.stream_batch = 4;  // reversed in batches of 4
  server.Start();
  auto client = MakeClient(server.address());
  std::vector<GradeRequest> requests;
  for (int i = 0; i < 23; ++i) {
    requests.push_back(Request(absl::StrCat("o", i), std::string(i * 3, 'q')));
  }
  auto results = client->GradeStreamAll(requests, /*window=*/8);
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    ASSERT_TRUE((*results)[i].ok()) << (*results)[i].status();
    EXPECT_EQ((*results)[i]->request_id(), requests[i].request_id());
    EXPECT_DOUBLE_EQ((*results)[i]->reward(),
                     ExpectedReward(requests[i].response()));
  }
  requests.push_back(requests[0]);
  EXPECT_EQ(client->GradeStreamAll(requests).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// --- JSONL ------------------------------------------------------------------

// GradeRequest JSON lines built from the HealthBench sample: inline rubric
// (criteria with points), chat messages, and the ideal completion (or a
// short answer) as the response.
std::vector<std::string> HealthBenchRequestLines(
    std::vector<std::string>* responses, std::vector<int>* criteria) {
  std::ifstream f(std::string(REWARDD_SHARED_DATA) +
                  "/healthbench/healthbench_oss_eval_sample.jsonl");
  EXPECT_TRUE(f.good());
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(f, line)) {
    nlohmann::json record = nlohmann::json::parse(line);
    nlohmann::json request;
    request["request_id"] = record["prompt_id"];
    request["messages"] = record["prompt"];
    int n = 0;
    for (const auto& c : record["rubrics"]) {
      request["rubric"]["criteria"].push_back({{"id", absl::StrCat("c", ++n)},
                                               {"text", c["criterion"]},
                                               {"weight", c["points"]}});
    }
    std::string response = "I cannot say.";
    if (record["ideal_completions_data"].is_object()) {
      response = record["ideal_completions_data"]["ideal_completion"];
    }
    request["response"] = response;
    responses->push_back(response);
    criteria->push_back(n);
    lines.push_back(request.dump());
  }
  return lines;
}

TEST(GradeJsonlTest, UnaryKeepsInputOrderAndReportsBadLines) {
  FakeServer server;
  server.service.delay_mod = 7;  // completions out of order
  server.Start();
  auto client = MakeClient(server.address());
  std::vector<std::string> responses;
  std::vector<int> criteria;
  std::vector<std::string> lines =
      HealthBenchRequestLines(&responses, &criteria);
  ASSERT_EQ(lines.size(), 30u);
  std::string input;
  for (size_t i = 0; i < lines.size(); ++i) {
    absl::StrAppend(&input, lines[i], "\n");
    if (i == 4) absl::StrAppend(&input, "this is not json\n");
    if (i == 9) absl::StrAppend(&input, "\n   \n");  // blank: skipped
    if (i == 14) {
      absl::StrAppend(&input, R"({"request_id":"typo","respnse":"misspelled"})",
                      "\n");
    }
  }
  std::istringstream in(input);
  std::ostringstream out;
  JsonlGradeOptions options;
  options.concurrency = 4;
  absl::StatusOr<JsonlGradeStats> stats = GradeJsonl(*client, options, in, out);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->lines, 32);
  EXPECT_EQ(stats->failed, 2);
  EXPECT_EQ(stats->succeeded, 30);
  EXPECT_LE(server.service.max_in_flight, 4);

  std::vector<std::string> output =
      absl::StrSplit(out.str(), '\n', absl::SkipEmpty());
  ASSERT_EQ(output.size(), 32u);
  size_t next_request = 0;
  for (const std::string& o : output) {
    nlohmann::json j = nlohmann::json::parse(o);
    if (j.contains("error")) {
      EXPECT_EQ(j["error"]["code"], 3);  // INVALID_ARGUMENT
      ASSERT_TRUE(j.contains("line"));
      if (j["line"] == 6) {
        EXPECT_EQ(j["request_id"], "");
      } else {
        EXPECT_EQ(j["line"], 19);  // 15 requests + bad line + 2 blanks + 1
        EXPECT_EQ(j["request_id"], "typo");
        EXPECT_THAT(j["error"]["message"].get<std::string>(),
                    HasSubstr("respnse"));
      }
      continue;
    }
    ASSERT_LT(next_request, lines.size());
    nlohmann::json sent = nlohmann::json::parse(lines[next_request]);
    EXPECT_EQ(j["request_id"], sent["request_id"]);
    EXPECT_DOUBLE_EQ(j["reward"].get<double>(),
                     ExpectedReward(responses[next_request]));
    EXPECT_EQ(j["valid"], true);
    EXPECT_EQ(static_cast<int>(j["criteria"].size()), criteria[next_request]);
    ++next_request;
  }
  EXPECT_EQ(next_request, lines.size());
  std::string summary = FormatSummary(*stats);
  EXPECT_THAT(summary, HasSubstr("lines 32: 30 succeeded, 2 failed"));
  EXPECT_THAT(summary, HasSubstr("FAILED"));
}

TEST(GradeJsonlTest, StreamModeKeepsInputOrderAndNamesLines) {
  FakeServer server;
  server.service.stream_batch = 3;
  server.Start();
  auto client = MakeClient(server.address());
  std::string input;
  for (int i = 0; i < 20; ++i) {
    // Every other line has no request_id: the tool names it line-<N>.
    if (i % 2 == 0) {
      absl::StrAppend(&input, R"({"request_id":"s)", i, R"(","response":")",
                      std::string(i, 'k'), "\"}\n");
    } else {
      absl::StrAppend(&input, R"({"response":")", std::string(i, 'k'), "\"}\n");
    }
  }
  std::istringstream in(input);
  std::ostringstream out;
  JsonlGradeOptions options;
  options.mode = JsonlGradeOptions::Mode::kStream;
  options.concurrency = 6;
  auto stats = GradeJsonl(*client, options, in, out);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->failed, 0);
  std::vector<std::string> output =
      absl::StrSplit(out.str(), '\n', absl::SkipEmpty());
  ASSERT_EQ(output.size(), 20u);
  for (int i = 0; i < 20; ++i) {
    nlohmann::json j = nlohmann::json::parse(output[i]);
    EXPECT_EQ(j["request_id"],
              i % 2 == 0 ? absl::StrCat("s", i) : absl::StrCat("line-", i + 1));
    EXPECT_DOUBLE_EQ(j["reward"].get<double>(),
                     ExpectedReward(std::string(i, 'k')));
  }
}

TEST(GradeJsonlTest, GroupModeAndRpcErrors) {
  FakeServer server;
  server.Start();
  auto client = MakeClient(server.address());
  std::istringstream in(R"({"request_id":"g1","responses":["a","bbb","cc"]})"
                        "\n"
                        R"({"request_id":"g2","responses":[]})"
                        "\n");
  std::ostringstream out;
  JsonlGradeOptions options;
  options.mode = JsonlGradeOptions::Mode::kGroup;
  auto stats = GradeJsonl(*client, options, in, out);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->responses, 3);
  std::vector<std::string> output =
      absl::StrSplit(out.str(), '\n', absl::SkipEmpty());
  ASSERT_EQ(output.size(), 2u);
  nlohmann::json g1 = nlohmann::json::parse(output[0]);
  EXPECT_EQ(g1["results"].size(), 3u);
  EXPECT_EQ(g1["results"][2]["request_id"], "g1/2");

  // A server that refuses every Grade: every line is an error line.
  FakeServer refusing;
  refusing.service.always_fail = grpc::StatusCode::FAILED_PRECONDITION;
  refusing.Start();
  auto client2 = MakeClient(refusing.address());
  std::istringstream in2(R"({"request_id":"x","response":"r"})"
                         "\n");
  std::ostringstream out2;
  auto stats2 = GradeJsonl(*client2, JsonlGradeOptions(), in2, out2);
  ASSERT_TRUE(stats2.ok());
  EXPECT_EQ(stats2->failed, 1);
  nlohmann::json e = nlohmann::json::parse(out2.str());
  EXPECT_EQ(e["request_id"], "x");
  EXPECT_EQ(e["line"], 1);
  EXPECT_EQ(e["error"]["code"], 9);
  EXPECT_EQ(e["error"]["message"], "rubric xyz is unknown");
}

TEST(ProgressBarTest, RendersCountsRateAndEta) {
  std::string line = ProgressBar::Render(50, 2, 100, absl::Seconds(10));
  EXPECT_THAT(line, HasSubstr("50/100"));
  EXPECT_THAT(line, HasSubstr("50%"));
  EXPECT_THAT(line, HasSubstr("5.0/s"));
  EXPECT_THAT(line, HasSubstr("ETA 10s"));
  EXPECT_THAT(line, HasSubstr("2 failed"));
  std::string unknown = ProgressBar::Render(7, 0, -1, absl::Seconds(2));
  EXPECT_THAT(unknown, HasSubstr("7 done"));
  EXPECT_THAT(unknown, ::testing::Not(HasSubstr("ETA")));
}

}  // namespace
}  // namespace rewardd

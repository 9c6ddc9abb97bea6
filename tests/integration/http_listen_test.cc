// rewardd's --http_listen: the rewardd binary serves the HTTP/JSON gateway
// itself, on an in-process channel to its gRPC server. Real HTTP on
// loopback (cpp-httplib's client) against real rewardd processes: an
// OpenRLHF-shaped and a slime-shaped request agree with gRPC, answers are
// counted on /metrics, token auth gives 401 without a token, HTTPS comes
// with the gRPC certificate, bad flags name themselves, and a SIGTERM drain
// answers the HTTP requests in flight and exits 0.
#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "reward/v1/reward.grpc.pb.h"
#include "tests/integration/example_rubrics.h"
#include "tests/integration/judge_test_support.h"
#include "tests/integration/rewardd_process.h"
#include "tests/integration/self_signed_cert.h"
#include "tools/judge-sim/judge_sim.h"

namespace rewardd {
namespace {

namespace pb = reward::v1;
using ::rewardd::testing::ReadFile;
using ::rewardd::testing::RewarddProcess;
using ::rewardd::testing::TempDir;
using ::testing::HasSubstr;

const std::string& kRubrics = ::rewardd::testing::kExampleRubricDir;
const std::string& kArithPrompt = ::rewardd::testing::kDemoArithPrompt;
const std::string kResponse =
    "Speed = distance / time = 120 km / 1.5 h = 80 km/h.\nAnswer: 80";
constexpr char kToken[] = "http-listen-test-token";

// A rewardd process with the gateway on a kernel-picked port, its port read
// from --http_port_file.
struct HttpRewardd {
  explicit HttpRewardd(std::vector<std::string> args) {
    args.push_back("--http_listen=127.0.0.1:0");
    args.push_back("--http_port_file=" + dir.path() + "/http_port");
    process = std::make_unique<RewarddProcess>(std::move(args));
  }
  // Starts rewardd; the HTTP port file is written before the gRPC one that
  // Start() waits for.
  ::testing::AssertionResult Start() {
    absl::Status started = process->Start();
    if (!started.ok()) {
      return ::testing::AssertionFailure() << started << process->Log();
    }
    http_port = std::atoi(ReadFile(dir.path() + "/http_port").c_str());
    if (http_port <= 0) {
      return ::testing::AssertionFailure() << "no --http_port_file";
    }
    return ::testing::AssertionSuccess();
  }
  httplib::Client Client() const {
    httplib::Client client("127.0.0.1", http_port);
    client.set_read_timeout(120, 0);
    return client;
  }
  // Polls GET /healthz until the rubric sets are loaded (200).
  bool WaitServing() const {
    httplib::Client client = Client();
    for (int i = 0; i < 3000; ++i) {
      auto res = client.Get("/healthz");
      if (res && res->status == 200) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }

  TempDir dir;
  std::unique_ptr<RewarddProcess> process;
  int http_port = 0;
};

nlohmann::json Json(const std::string& body) {
  return nlohmann::json::parse(body, nullptr, false);
}

class HttpListenTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    metrics_dir_ = new TempDir();
    server_ = new HttpRewardd(
        {"--rubric_dir=" + kRubrics, "--http_default_rubric_set=demo",
         "--metrics_listen=127.0.0.1:0",
         "--metrics_port_file=" + metrics_dir_->path() + "/port"});
    ASSERT_TRUE(server_->Start());
    ASSERT_TRUE(server_->WaitServing()) << server_->process->Log();
  }
  static void TearDownTestSuite() {
    delete server_;
    delete metrics_dir_;
  }

  // The same request straight over gRPC, for the gateway to agree with.
  static pb::GradeResponse GrpcGrade(const pb::GradeRequest& request) {
    auto stub = pb::RewardService::NewStub(grpc::CreateChannel(
        server_->process->address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    pb::GradeResponse response;
    grpc::Status s = stub->Grade(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  }

  static pb::GradeRequest ArithRequest() {
    pb::GradeRequest request;
    request.set_rubric_set("demo");
    request.set_rubric_id("arith-1");
    request.set_prompt(kArithPrompt);
    request.set_response(kResponse);
    return request;
  }

  static TempDir* metrics_dir_;
  static HttpRewardd* server_;
};

TempDir* HttpListenTest::metrics_dir_ = nullptr;
HttpRewardd* HttpListenTest::server_ = nullptr;

TEST_F(HttpListenTest, OpenRlhfShapedRequestMatchesGrpc) {
  // OpenRLHF's remote reward model: query = prompt + response, labels
  // from the dataset (a bare rubric id; the set is --http_default_rubric_set).
  nlohmann::json body = {{"query", {kArithPrompt + kResponse}},
                         {"prompts", {kArithPrompt}},
                         {"labels", {"arith-1"}}};
  auto res =
      server_->Client().Post("/v1/openrlhf", body.dump(), "application/json");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  ASSERT_EQ(res->status, 200) << res->body;
  nlohmann::json out = Json(res->body);
  ASSERT_EQ(out["rewards"].size(), 1u) << res->body;
  pb::GradeResponse expected = GrpcGrade(ArithRequest());
  ASSERT_TRUE(expected.valid());
  EXPECT_DOUBLE_EQ(out["rewards"][0].get<double>(), expected.reward());
}

TEST_F(HttpListenTest, SlimeShapedRequestMatchesGrpc) {
  nlohmann::json body = {
      {"prompt", kArithPrompt}, {"response", kResponse}, {"label", "arith-1"}};
  auto res =
      server_->Client().Post("/v1/slime", body.dump(), "application/json");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  ASSERT_EQ(res->status, 200) << res->body;
  nlohmann::json out = Json(res->body);
  EXPECT_EQ(out["valid"], true);
  EXPECT_DOUBLE_EQ(out["reward"].get<double>(),
                   GrpcGrade(ArithRequest()).reward());

  // /v1/grade takes the GradeRequest itself.
  nlohmann::json grade = {{"rubric_set", "demo"},
                          {"rubric_id", "arith-1"},
                          {"prompt", kArithPrompt},
                          {"response", kResponse}};
  res = server_->Client().Post("/v1/grade", grade.dump(), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_DOUBLE_EQ(Json(res->body)["reward"].get<double>(),
                   out["reward"].get<double>());
}

TEST_F(HttpListenTest, AnswersAreCountedOnMetrics) {
  auto res = server_->Client().Post("/v1/nowhere", "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  const int metrics_port =
      std::atoi(ReadFile(metrics_dir_->path() + "/port").c_str());
  ASSERT_GT(metrics_port, 0);
  httplib::Client metrics("127.0.0.1", metrics_port);
  // The counter is bumped after the answer is written: poll for it.
  std::string text;
  for (int i = 0; i < 3000; ++i) {
    auto scraped = metrics.Get("/metrics");
    ASSERT_TRUE(scraped);
    text = scraped->body;
    if (text.find("endpoint=\"other\"") != std::string::npos) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_THAT(text, HasSubstr("# TYPE rewardd_http_requests_total counter"));
  EXPECT_THAT(text, HasSubstr("code=\"404\""));
  EXPECT_THAT(text, HasSubstr("endpoint=\"other\""));
  // The gRPC series count the gateway's calls too: they are gRPC calls.
  EXPECT_THAT(text, HasSubstr("rewardd_requests_total"));
}

// The value of the sample `series` (name and labels as printed) in a
// Prometheus text scrape; 0 when absent.
double SampleValue(const std::string& text, const std::string& series) {
  const size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return 0;
  return std::atof(text.c_str() + at + series.size() + 2);
}

// /v1/grade is served without gRPC inside rewardd, and is counted as the
// Grade RPC it stands for, by status code.
TEST_F(HttpListenTest, GradeCallsAreCountedAsGradeRpcs) {
  const int metrics_port =
      std::atoi(ReadFile(metrics_dir_->path() + "/port").c_str());
  ASSERT_GT(metrics_port, 0);
  httplib::Client metrics("127.0.0.1", metrics_port);
  const std::string ok = "rewardd_requests_total{code=\"OK\",method=\"Grade\"}";
  const std::string not_found =
      "rewardd_requests_total{code=\"NOT_FOUND\",method=\"Grade\"}";
  auto scraped = metrics.Get("/metrics");
  ASSERT_TRUE(scraped);
  const double ok_before = SampleValue(scraped->body, ok);
  const double not_found_before = SampleValue(scraped->body, not_found);
  nlohmann::json grade = {{"rubric_set", "demo"},
                          {"rubric_id", "arith-1"},
                          {"prompt", kArithPrompt},
                          {"response", kResponse}};
  for (int i = 0; i < 3; ++i) {
    auto res =
        server_->Client().Post("/v1/grade", grade.dump(), "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200) << res->body;
  }
  grade["rubric_id"] = "no-such-rubric";
  auto res =
      server_->Client().Post("/v1/grade", grade.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404) << res->body;
  // Counted before the answer is sent; the scrape sees all four.
  scraped = metrics.Get("/metrics");
  ASSERT_TRUE(scraped);
  EXPECT_EQ(SampleValue(scraped->body, ok), ok_before + 3) << scraped->body;
  EXPECT_EQ(SampleValue(scraped->body, not_found), not_found_before + 1);
}

TEST(HttpListen, TokenProtectedServerAnswers401WithoutTheToken) {
  TempDir tokens;
  tokens.Write("tokens", absl::StrCat(kToken, "\n"));
  HttpRewardd server({"--rubric_dir=" + kRubrics, "--metrics_listen=",
                      "--auth_token_files=" + tokens.path() + "/tokens"});
  ASSERT_TRUE(server.Start());
  ASSERT_TRUE(server.WaitServing()) << server.process->Log();
  nlohmann::json grade = {{"rubric_set", "demo"},
                          {"rubric_id", "arith-1"},
                          {"prompt", kArithPrompt},
                          {"response", kResponse}};
  httplib::Client client = server.Client();
  auto res = client.Post("/v1/grade", grade.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401) << res->body;
  EXPECT_EQ(Json(res->body)["error"]["code"], "UNAUTHENTICATED");
  res = client.Post("/v1/grade", {{"Authorization", "Bearer not-the-token"}},
                    grade.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401) << res->body;
  EXPECT_EQ(Json(res->body)["error"]["code"], "UNAUTHENTICATED");
  res = client.Post("/v1/grade",
                    {{"Authorization", absl::StrCat("Bearer ", kToken)}},
                    grade.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  // slime's and OpenRLHF's single samples take the same path.
  nlohmann::json slime = {
      {"prompt", kArithPrompt},
      {"response", kResponse},
      {"label", {{"rubric_set", "demo"}, {"rubric_id", "arith-1"}}}};
  res = client.Post("/v1/slime", slime.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401) << res->body;
  res = client.Post("/v1/slime",
                    {{"Authorization", absl::StrCat("Bearer ", kToken)}},
                    slime.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  // The same refusal as a gRPC client gets, word for word.
  auto stub = pb::RewardService::NewStub(grpc::CreateChannel(
      server.process->address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer not-the-token");
  pb::GradeRequest request;
  pb::GradeResponse response;
  grpc::Status s = stub->Grade(&context, request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  res = client.Post("/v1/grade", {{"Authorization", "Bearer not-the-token"}},
                    "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(Json(res->body)["error"]["message"], s.error_message());
}

TEST(HttpListen, ServesHttpsWithTheGrpcCertificate) {
  TempDir certs;
  ASSERT_TRUE(testing::WriteSelfSignedCert(certs.path())) << "openssl failed";
  HttpRewardd server(
      {"--metrics_listen=", "--tls_cert_file=" + certs.path() + "/cert.pem",
       "--tls_key_file=" + certs.path() + "/key.pem"});
  ASSERT_TRUE(server.Start());
  httplib::SSLClient client("127.0.0.1", server.http_port);
  client.set_ca_cert_path((certs.path() + "/cert.pem").c_str());
  client.enable_server_certificate_verification(true);
  auto res = client.Get("/healthz");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_THAT(server.process->Log(), HasSubstr("\"scheme\":\"https\""));
}

TEST(HttpListen, BadHttpFlagsAreNamed) {
  HttpRewardd threads({"--metrics_listen=", "--http_threads=0"});
  EXPECT_FALSE(threads.Start());  // rewardd exited
  EXPECT_THAT(threads.process->Log(), HasSubstr("--http_threads must be"));

  RewarddProcess address({"--metrics_listen=", "--http_listen=127.0.0.1:http"});
  EXPECT_FALSE(address.Start().ok());
  EXPECT_THAT(address.Log(), HasSubstr("--http_listen: '127.0.0.1:http'"));

  // Mutual TLS for gRPC: the gateway cannot check client certificates, so
  // rewardd refuses to open it rather than serve without them.
  TempDir certs;
  ASSERT_TRUE(testing::WriteSelfSignedCert(certs.path())) << "openssl failed";
  HttpRewardd mtls(
      {"--metrics_listen=", "--tls_cert_file=" + certs.path() + "/cert.pem",
       "--tls_key_file=" + certs.path() + "/key.pem",
       "--tls_client_ca_file=" + certs.path() + "/cert.pem"});
  EXPECT_FALSE(mtls.Start());
  EXPECT_THAT(mtls.process->Log(), HasSubstr("--tls_client_ca_file"));
}

// judge-sim answering after `latency`, and a rewardd with the demo rubrics
// and `flags` whose default judge it is.
struct SlowJudgeRewardd {
  SlowJudgeRewardd(absl::Duration latency, std::vector<std::string> flags) {
    SimOptions sim_options;
    sim_options.latency_mean = latency;
    auto started = JudgeSim::Start(sim_options);
    if (!started.ok()) {
      error = started.status().ToString();
      return;
    }
    sim = *std::move(started);
    nlohmann::json judges = {
        {"default", "slow"},
        {"judges", {SimJudge("slow", sim->base_url(), {{"max_attempts", 1}})}}};
    config.Write("judges.json", judges.dump());
    flags.insert(flags.end(),
                 {"--rubric_dir=" + kRubrics, "--metrics_listen=",
                  "--judges_config=" + config.path() + "/judges.json"});
    server = std::make_unique<HttpRewardd>(std::move(flags));
  }
  // Starts rewardd and waits until it serves.
  ::testing::AssertionResult Start() {
    if (sim == nullptr) return ::testing::AssertionFailure() << error;
    if (::testing::AssertionResult r = server->Start(); !r) return r;
    if (!server->WaitServing()) {
      return ::testing::AssertionFailure() << server->process->Log();
    }
    return ::testing::AssertionSuccess();
  }

  std::unique_ptr<JudgeSim> sim;
  TempDir config;
  std::unique_ptr<HttpRewardd> server;
  std::string error;
};

nlohmann::json ArithGrade(const std::string& response) {
  return {{"rubric_set", "demo"},
          {"rubric_id", "arith-1"},
          {"prompt", kArithPrompt},
          {"response", response}};
}

// --max_inflight_requests covers /v1/grade: with one call waiting on the
// judge, the next is refused with 429, and the first still gets its answer.
TEST(HttpListen, InFlightLimitRefusesGradeWith429) {
  SlowJudgeRewardd slow(absl::Seconds(1), {"--max_inflight_requests=1"});
  ASSERT_TRUE(slow.Start());
  HttpRewardd& server = *slow.server;
  JudgeSim* sim = slow.sim.get();
  std::thread first([&] {
    auto res = server.Client().Post("/v1/grade",
                                    ArithGrade("First: " + kResponse).dump(),
                                    "application/json");
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    EXPECT_EQ(res->status, 200) << res->body;
    EXPECT_EQ(Json(res->body)["valid"], true) << res->body;
  });
  // The first call is at the judge: it is in flight.
  for (int i = 0; i < 6000 && sim->stats().calls < 1; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_GE(sim->stats().calls, 1);
  auto res = server.Client().Post("/v1/grade",
                                  ArithGrade("Second: " + kResponse).dump(),
                                  "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 429) << res->body;
  EXPECT_EQ(Json(res->body)["error"]["code"], "RESOURCE_EXHAUSTED");
  EXPECT_THAT(res->body, HasSubstr("--max_inflight_requests"));
  first.join();
}

// --max_message_bytes bounds a /v1/grade request as the in-process channel
// bounds the RPC it stands for: a two-sample OpenRLHF request (whose Grade
// calls are RPCs on that channel) is refused with the same code and words.
TEST(HttpListen, MessageSizeLimitAppliesToGrade) {
  HttpRewardd server({"--rubric_dir=" + kRubrics,
                      "--metrics_listen=", "--max_message_bytes=4096"});
  ASSERT_TRUE(server.Start());
  ASSERT_TRUE(server.WaitServing()) << server.process->Log();
  const std::string big(8192, 'x');
  auto res = server.Client().Post("/v1/grade", ArithGrade(big).dump(),
                                  "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 429) << res->body;
  EXPECT_EQ(Json(res->body)["error"]["code"], "RESOURCE_EXHAUSTED");
  EXPECT_THAT(res->body, HasSubstr("Sent message larger than max ("));
  nlohmann::json openrlhf = {
      {"query", {kArithPrompt + big, kArithPrompt + kResponse}},
      {"prompts", {kArithPrompt, kArithPrompt}},
      {"labels",
       {{{"rubric_set", "demo"}, {"rubric_id", "arith-1"}},
        {{"rubric_set", "demo"}, {"rubric_id", "arith-1"}}}}};
  auto rpc =
      server.Client().Post("/v1/openrlhf", openrlhf.dump(), "application/json");
  ASSERT_TRUE(rpc);
  EXPECT_EQ(rpc->status, 429) << rpc->body;
  EXPECT_EQ(Json(rpc->body)["error"]["code"], "RESOURCE_EXHAUSTED");
  EXPECT_THAT(rpc->body, HasSubstr("Sent message larger than max ("));
  res = server.Client().Post("/v1/grade", ArithGrade(kResponse).dump(),
                             "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
}

// --http_deadline_seconds is the call's deadline on /v1/grade as on the
// RPCs: judge work is cut to it, and the answer comes once, either the
// result with TIMEOUT verdicts (the grader's margin before the deadline)
// or 504 DEADLINE_EXCEEDED, never a reward for the unfinished work.
TEST(HttpListen, GradeIsBoundByTheHttpDeadline) {
  SlowJudgeRewardd slow(absl::Seconds(30), {"--http_deadline_seconds=0.5"});
  ASSERT_TRUE(slow.Start());
  HttpRewardd& server = *slow.server;
  auto res = server.Client().Post("/v1/grade", ArithGrade(kResponse).dump(),
                                  "application/json");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  const nlohmann::json body = Json(res->body);
  if (res->status == 200) {
    EXPECT_EQ(body["valid"], false) << res->body;
    EXPECT_THAT(res->body, HasSubstr("TIMEOUT"));
  } else {
    EXPECT_EQ(res->status, 504) << res->body;
    EXPECT_EQ(body["error"]["code"], "DEADLINE_EXCEEDED") << res->body;
  }
}

// SIGTERM with HTTP requests waiting on a slow judge: each gets its full
// answer, and rewardd exits 0.
TEST(HttpListen, SigtermDrainAnswersHttpRequestsInFlight) {
  SlowJudgeRewardd slow(absl::Seconds(2),
                        {"--drain_grace_seconds=0.2", "--drain_seconds=60"});
  ASSERT_TRUE(slow.Start());
  HttpRewardd& server = *slow.server;
  JudgeSim* sim = slow.sim.get();

  constexpr int kRequests = 3;
  std::atomic<int> answered{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kRequests; ++i) {
    // Distinct responses: identical ones would share one judge call.
    clients.emplace_back([&, i] {
      nlohmann::json body = {
          {"prompt", kArithPrompt},
          {"response", absl::StrCat("Take ", i, ": ", kResponse)},
          {"label", {{"rubric_set", "demo"}, {"rubric_id", "arith-1"}}}};
      // Request 0 through /v1/grade (served without gRPC), the others
      // through /v1/slime (RPCs on the in-process channel).
      auto res = i == 0
                     ? server.Client().Post(
                           "/v1/grade",
                           ArithGrade(absl::StrCat("Take ", i, ": ", kResponse))
                               .dump(),
                           "application/json")
                     : server.Client().Post("/v1/slime", body.dump(),
                                            "application/json");
      ASSERT_TRUE(res) << httplib::to_string(res.error());
      EXPECT_EQ(res->status, 200) << res->body;
      EXPECT_EQ(Json(res->body)["valid"], true) << res->body;
      ++answered;
    });
  }
  // Every request has reached the judge: all are in flight.
  for (int i = 0; i < 6000 && sim->stats().calls < kRequests; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_GE(sim->stats().calls, kRequests);
  server.process->Signal(SIGTERM);
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(answered.load(), kRequests);
  EXPECT_EQ(server.process->Wait(), 0) << server.process->Log();
  // The listener is closed: a new connection is refused.
  auto res = server.Client().Get("/healthz");
  EXPECT_FALSE(res);
  EXPECT_THAT(server.process->Log(), HasSubstr("\"event\":\"drained\""));
}

}  // namespace
}  // namespace rewardd

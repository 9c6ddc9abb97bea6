// The HTTP/JSON gateway against a real rewardd process on loopback: the
// gateway runs in the test on port 0 with a gRPC channel to rewardd, and
// every request is real HTTP (raw bytes on a socket, shaped byte for byte
// like OpenRLHF's python-requests and slime's aiohttp calls, or
// cpp-httplib's client). A second rewardd with token auth and a judge that
// can never answer gives 401s and invalid results.
#include "server/gateway/http_gateway.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "reward/v1/reward.grpc.pb.h"
#include "tests/integration/example_rubrics.h"
#include "tests/integration/rewardd_process.h"
#include "tests/integration/self_signed_cert.h"

namespace rewardd {
namespace {

namespace pb = reward::v1;
using ::rewardd::testing::RewarddProcess;
using ::rewardd::testing::TempDir;
using ::rewardd::testing::WriteSelfSignedCert;
using ::testing::HasSubstr;

const std::string& kRubrics = ::rewardd::testing::kExampleRubricDir;
const std::string& kArithPrompt = ::rewardd::testing::kDemoArithPrompt;
constexpr char kToken[] = "gateway-test-token-42";

struct RawReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string after;  // bytes after the first response (must be none)
};

// Sends `bytes` on a fresh TCP connection, reads one response (by its
// Content-Length), then half-closes and reads to EOF: anything more is a
// second answer to one request.
RawReply RawHttp(int port, const std::string& bytes) {
  RawReply reply;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return reply;
  }
  for (size_t sent = 0; sent < bytes.size();) {
    ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, 0);
    if (n <= 0) break;
    sent += n;
  }
  std::string in;
  char buf[65536];
  size_t head_end = std::string::npos;
  size_t want = std::string::npos;
  while (want == std::string::npos || in.size() < want) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    in.append(buf, n);
    if (head_end == std::string::npos &&
        (head_end = in.find("\r\n\r\n")) != std::string::npos) {
      std::vector<std::string> lines =
          absl::StrSplit(in.substr(0, head_end), "\r\n");
      reply.status = std::atoi(lines[0].substr(9, 3).c_str());
      for (size_t i = 1; i < lines.size(); ++i) {
        std::pair<std::string, std::string> kv =
            absl::StrSplit(lines[i], absl::MaxSplits(": ", 1));
        reply.headers[absl::AsciiStrToLower(kv.first)] = kv.second;
      }
      want = head_end + 4 + std::atoi(reply.headers["content-length"].c_str());
    }
  }
  if (want != std::string::npos && in.size() >= want) {
    reply.body = in.substr(head_end + 4, want - head_end - 4);
    shutdown(fd, SHUT_WR);
    reply.after = in.substr(want);
    for (ssize_t n; (n = recv(fd, buf, sizeof(buf), 0)) > 0;) {
      reply.after.append(buf, n);
    }
  }
  close(fd);
  return reply;
}

// What python-requests sends for requests.post(url, json=data) (OpenRLHF's
// request_api_wrapper): json.dumps with ", " / ": " separators.
std::string RequestsPost(int port, const std::string& path,
                         const std::string& body) {
  return absl::StrCat("POST ", path, " HTTP/1.1\r\nHost: 127.0.0.1:", port,
                      "\r\nUser-Agent: python-requests/2.28.1\r\n"
                      "Accept-Encoding: gzip, deflate\r\nAccept: */*\r\n"
                      "Connection: keep-alive\r\n"
                      "Content-Type: application/json\r\nContent-Length: ",
                      body.size(), "\r\n\r\n", body);
}

// What aiohttp sends for session.post(url, json=payload) (slime's
// remote_rm).
std::string AiohttpPost(int port, const std::string& path,
                        const std::string& body) {
  return absl::StrCat("POST ", path, " HTTP/1.1\r\nHost: 127.0.0.1:", port,
                      "\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate\r\n"
                      "User-Agent: Python/3.11 aiohttp/3.8.4\r\n"
                      "Content-Length: ",
                      body.size(), "\r\nContent-Type: application/json\r\n\r\n",
                      body);
}

nlohmann::json Json(const std::string& body) {
  return nlohmann::json::parse(body, nullptr, false);
}

// Counts on_request calls by (endpoint, status); the callback runs after
// the response is written, so tests wait for the count.
class RequestCounter {
 public:
  void Add(std::string_view endpoint, int status) {
    absl::MutexLock lock(&mu_);
    ++counts_[{std::string(endpoint), status}];
  }
  bool WaitFor(const std::string& endpoint, int status, int at_least) {
    absl::MutexLock lock(&mu_);
    auto reached = [&] { return counts_[{endpoint, status}] >= at_least; };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), absl::Seconds(60));
  }

 private:
  absl::Mutex mu_;
  std::map<std::pair<std::string, int>, int> counts_ ABSL_GUARDED_BY(mu_);
};

std::shared_ptr<grpc::Channel> WaitForServing(const std::string& address) {
  auto channel =
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  auto health = grpc::health::v1::Health::NewStub(channel);
  for (int i = 0; i < 3000; ++i) {
    grpc::ClientContext context;
    context.set_wait_for_ready(true);
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    grpc::health::v1::HealthCheckRequest request;
    request.set_service("reward.v1.RewardService");
    grpc::health::v1::HealthCheckResponse response;
    if (health->Check(&context, request, &response).ok() &&
        response.status() == response.SERVING) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return channel;
}

class HttpGatewayTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    open_ =
        new RewarddProcess({"--rubric_dir=" + kRubrics, "--metrics_listen="});
    ASSERT_TRUE(open_->Start().ok()) << open_->Log();
    open_channel_ =
        new std::shared_ptr<grpc::Channel>(WaitForServing(open_->address()));

    // Token auth on, and a default judge nobody answers for (nothing
    // listens on port 9 of loopback): every grade by it is invalid.
    dir_ = new TempDir();
    dir_->Write("tokens", absl::StrCat("# test\n", kToken, "\n"));
    nlohmann::json judges = {{"default", "down"},
                             {"judges",
                              {{{"name", "down"},
                                {"model", "judge-sim"},
                                {"replicas", {"http://127.0.0.1:9/v1"}},
                                {"pool",
                                 {{"max_attempts", 2},
                                  {"initial_backoff_ms", 10},
                                  {"max_backoff_ms", 20}}}}}}};
    dir_->Write("judges.json", judges.dump());
    guarded_ = new RewarddProcess(
        {"--rubric_dir=" + kRubrics,
         "--metrics_listen=", "--auth_token_files=" + dir_->path() + "/tokens",
         "--judges_config=" + dir_->path() + "/judges.json"});
    ASSERT_TRUE(guarded_->Start().ok()) << guarded_->Log();
    guarded_channel_ =
        new std::shared_ptr<grpc::Channel>(WaitForServing(guarded_->address()));
  }
  static void TearDownTestSuite() {
    delete open_channel_;
    delete guarded_channel_;
    delete open_;
    delete guarded_;
    delete dir_;
  }

  void SetUp() override {
    GatewayOptions options;
    options.default_rubric_set = "demo";
    options.max_body_bytes = 256 << 10;
    // Batches go out one call at a time: the window is exercised.
    options.max_calls_per_request = 1;
    options.on_request = [this](std::string_view e, int s) {
      counter_.Add(e, s);
    };
    auto gateway = HttpGateway::Start(options, *open_channel_);
    ASSERT_TRUE(gateway.ok()) << gateway.status();
    gateway_ = *std::move(gateway);
    options.on_request = nullptr;
    auto guarded = HttpGateway::Start(options, *guarded_channel_);
    ASSERT_TRUE(guarded.ok()) << guarded.status();
    guarded_gateway_ = *std::move(guarded);
  }

  int port() const { return gateway_->port(); }

  // The same GradeRequest straight over gRPC: the gateway must agree.
  static pb::GradeResponse DirectGrade(const pb::GradeRequest& request) {
    auto stub = pb::RewardService::NewStub(*open_channel_);
    grpc::ClientContext context;
    pb::GradeResponse response;
    grpc::Status s = stub->Grade(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  }

  httplib::Client Client(int port) {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(120, 0);
    return client;
  }

  static RewarddProcess* open_;
  static RewarddProcess* guarded_;
  static TempDir* dir_;
  static std::shared_ptr<grpc::Channel>* open_channel_;
  static std::shared_ptr<grpc::Channel>* guarded_channel_;
  RequestCounter counter_;
  std::unique_ptr<HttpGateway> gateway_;
  std::unique_ptr<HttpGateway> guarded_gateway_;
};

RewarddProcess* HttpGatewayTest::open_ = nullptr;
RewarddProcess* HttpGatewayTest::guarded_ = nullptr;
TempDir* HttpGatewayTest::dir_ = nullptr;
std::shared_ptr<grpc::Channel>* HttpGatewayTest::open_channel_ = nullptr;
std::shared_ptr<grpc::Channel>* HttpGatewayTest::guarded_channel_ = nullptr;

// A Qwen-style chat template around the demo set's arith-1 prompt.
const std::string kTemplatedPrompt = "<|im_start|>user\\n" + kArithPrompt +
                                     "<|im_end|>\\n<|im_start|>assistant\\n";
const std::string kResponse =
    "Speed = distance / time = 120 km / 1.5 h = 80 km/h.\\nAnswer: 80";

std::string Unescape(const std::string& json_text) {
  return Json("\"" + json_text + "\"").get<std::string>();
}

TEST_F(HttpGatewayTest, OpenRlhfRequestByteForByte) {
  const std::string body = absl::StrCat(
      R"({"query": [")", kTemplatedPrompt, kResponse, R"("], "prompts": [")",
      kTemplatedPrompt, R"("], "labels": ["arith-1"]})");
  RawReply reply = RawHttp(port(), RequestsPost(port(), "/v1/openrlhf", body));
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.headers["content-type"], "application/json; charset=utf-8");
  EXPECT_EQ(reply.headers.count("content-encoding"), 0u);
  EXPECT_EQ(reply.after, "");  // exactly one answer
  nlohmann::json out = Json(reply.body);
  ASSERT_EQ(out["rewards"].size(), 1u) << reply.body;

  pb::GradeRequest direct;
  direct.set_rubric_set("demo");
  direct.set_rubric_id("arith-1");
  direct.set_prompt(Unescape(kTemplatedPrompt));
  direct.set_response(Unescape(kResponse));
  pb::GradeResponse expected = DirectGrade(direct);
  ASSERT_TRUE(expected.valid());
  EXPECT_DOUBLE_EQ(out["rewards"][0].get<double>(), expected.reward());
  EXPECT_DOUBLE_EQ(out["scores"][0].get<double>(), expected.reward());
  EXPECT_DOUBLE_EQ(out["extra_logs"]["rubric_score"][0].get<double>(),
                   expected.score());
  EXPECT_DOUBLE_EQ(out["extra_logs"]["rubric_max_score"][0].get<double>(),
                   expected.max_score());
  EXPECT_TRUE(counter_.WaitFor("/v1/openrlhf", 200, 1));
}

TEST_F(HttpGatewayTest, OpenRlhfBatchWithJsonLabelsAndEscapes) {
  // Two samples; the second label is a JSON object inside a string, and the
  // response holds a \u escape as json.dumps writes non-ASCII text.
  const std::string label =
      R"("{\"rubric_set\": \"demo\", \"rubric_id\": \"arith-1\"}")";
  const std::string body = absl::StrCat(
      R"({"query": [")", kTemplatedPrompt, kResponse, R"(", ")",
      kTemplatedPrompt, R"(Caf\u00e9 speed: 75.\nAnswer: 75"], "prompts": [")",
      kTemplatedPrompt, R"(", ")", kTemplatedPrompt,
      R"("], "labels": ["arith-1", )", label, "]}");
  RawReply reply = RawHttp(port(), RequestsPost(port(), "/v1/openrlhf", body));
  ASSERT_EQ(reply.status, 200) << reply.body;
  nlohmann::json out = Json(reply.body);
  ASSERT_EQ(out["rewards"].size(), 2u);
  EXPECT_GT(out["rewards"][0].get<double>(), out["rewards"][1].get<double>())
      << "80 is the right answer, 75 is not";
  EXPECT_EQ(out["extra_logs"]["criteria_met_fraction"].size(), 2u);
}

TEST_F(HttpGatewayTest, OpenRlhfQueryThatDoesNotStartWithItsPromptIs400) {
  const std::string body = absl::StrCat(
      R"({"query": ["<s>)", kTemplatedPrompt, kResponse, R"("], "prompts": [")",
      kTemplatedPrompt, R"("], "labels": ["arith-1"]})");
  RawReply reply = RawHttp(port(), RequestsPost(port(), "/v1/openrlhf", body));
  EXPECT_EQ(reply.status, 400);
  nlohmann::json out = Json(reply.body);
  EXPECT_EQ(out["error"]["code"], "INVALID_ARGUMENT");
  EXPECT_THAT(out["error"]["message"].get<std::string>(),
              HasSubstr("query[0]: does not start with prompts[0]"));
  EXPECT_FALSE(out.contains("rewards"));
}

TEST_F(HttpGatewayTest, SlimeRequestWithChatMessagesByteForByte) {
  const std::string body =
      R"({"prompt": [{"role": "system", "content": "You reply with JSON only."}, )"
      R"({"role": "user", "content": "Give a JSON object with the keys name and age )"
      R"(for a 30-year-old called Ada."}], "response": "{\"name\": \"Ada\", )"
      R"(\"age\": 30}", "label": {"rubric_set": "demo", "rubric_id": "json-profile"}})";
  RawReply reply = RawHttp(port(), AiohttpPost(port(), "/v1/slime", body));
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.after, "");
  nlohmann::json out = Json(reply.body);
  EXPECT_EQ(out["valid"], true);
  EXPECT_EQ(out["rubric_id"], "json-profile");
  ASSERT_FALSE(out["criteria"].empty());
  EXPECT_EQ(out["criteria"][0]["id"], "json");
  EXPECT_EQ(out["criteria"][0]["verdict"], "MET");

  pb::GradeRequest direct;
  direct.set_rubric_set("demo");
  direct.set_rubric_id("json-profile");
  auto* m = direct.add_messages();
  m->set_role("system");
  m->set_content("You reply with JSON only.");
  m = direct.add_messages();
  m->set_role("user");
  m->set_content(
      "Give a JSON object with the keys name and age for a 30-year-old "
      "called Ada.");
  direct.set_response(R"({"name": "Ada", "age": 30})");
  EXPECT_DOUBLE_EQ(out["reward"].get<double>(), DirectGrade(direct).reward());
}

TEST_F(HttpGatewayTest, SlimeWithoutLabelFindsTheRubricByPrompt) {
  nlohmann::json body = {{"prompt", kArithPrompt},
                         {"response", "120 / 1.5 = 80\nAnswer: 80"},
                         {"label", nullptr}};
  RawReply reply =
      RawHttp(port(), AiohttpPost(port(), "/v1/slime", body.dump()));
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(Json(reply.body)["rubric_id"], "arith-1");
}

TEST_F(HttpGatewayTest, GradeAndGradeGroupSpeakTheProtoJsonMapping) {
  httplib::Client client = Client(port());
  // lowerCamelCase and proto names are both accepted.
  nlohmann::json grade = {{"rubricSet", "demo"},
                          {"rubric_id", "arith-1"},
                          {"prompt", kArithPrompt},
                          {"response", "Answer: 80"}};
  auto res = client.Post("/v1/grade", grade.dump(), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  nlohmann::json out = Json(res->body);
  EXPECT_EQ(out["valid"], true);
  EXPECT_EQ(out["rubric_set"], "demo");
  ASSERT_TRUE(out.contains("reward"));

  nlohmann::json group = {{"rubric_set", "demo"},
                          {"rubric_id", "arith-1"},
                          {"prompt", kArithPrompt},
                          {"responses", {"Answer: 80", "Answer: 75", ""}}};
  res = client.Post("/v1/grade_group", group.dump(), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  out = Json(res->body);
  ASSERT_EQ(out["results"].size(), 3u);
  EXPECT_EQ(out["results"][1]["request_id"], "/1");
  EXPECT_TRUE(out.contains("std_reward"));
}

TEST_F(HttpGatewayTest, BadJsonAndUnknownFieldsAre400NamingWhere) {
  httplib::Client client = Client(port());
  auto res =
      client.Post("/v1/grade", R"({"rubric_set": "demo",)", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(Json(res->body)["error"]["code"], "INVALID_ARGUMENT");

  res = client.Post("/v1/grade", R"({"rubric_set": "demo", "rubrik_id": "x"})",
                    "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_THAT(Json(res->body)["error"]["message"].get<std::string>(),
              HasSubstr("rubrik_id"));

  res = client.Post("/v1/openrlhf", R"({"query": ["a"], "prompts": ["a"]] })",
                    "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_THAT(Json(res->body)["error"]["message"].get<std::string>(),
              HasSubstr("column"));

  res = client.Post("/v1/openrlhf",
                    R"({"query": ["a"], "prompts": ["a"], "datasources": []})",
                    "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_THAT(Json(res->body)["error"]["message"].get<std::string>(),
              HasSubstr("datasources: unknown field"));

  res = client.Post(
      "/v1/slime",
      R"({"prompt": "p", "response": "r", "label": {"rubric": "x"}})",
      "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_THAT(Json(res->body)["error"]["message"].get<std::string>(),
              HasSubstr("label.rubric: unknown field"));

  // A reference to a rubric that does not exist: gRPC's NOT_FOUND.
  res = client.Post(
      "/v1/slime",
      R"({"prompt": "p", "response": "r", "label": "no-such-rubric"})",
      "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(Json(res->body)["error"]["code"], "NOT_FOUND");
  EXPECT_TRUE(counter_.WaitFor("/v1/grade", 400, 2));
}

TEST_F(HttpGatewayTest, OversizedBodyIs413) {
  httplib::Client client = Client(port());
  std::string big = absl::StrCat(R"({"prompt": "p", "response": ")",
                                 std::string(300 << 10, 'x'), R"("})");
  auto res = client.Post("/v1/slime", big, "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  EXPECT_EQ(Json(res->body)["error"]["code"], "PAYLOAD_TOO_LARGE");
  EXPECT_TRUE(counter_.WaitFor("/v1/slime", 413, 1));
}

TEST_F(HttpGatewayTest, WrongMethodIs405AndUnknownPathIs404) {
  httplib::Client client = Client(port());
  auto res = client.Get("/v1/grade");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  EXPECT_EQ(res->get_header_value("Allow"), "POST");
  EXPECT_EQ(Json(res->body)["error"]["code"], "METHOD_NOT_ALLOWED");
  res = client.Post("/healthz", "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  EXPECT_EQ(res->get_header_value("Allow"), "GET");
  res = client.Delete("/v1/openrlhf");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  res = client.Get("/v2/grade");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(Json(res->body)["error"]["code"], "NOT_FOUND");
  EXPECT_TRUE(counter_.WaitFor("other", 404, 1));
}

TEST_F(HttpGatewayTest, HealthzReportsGrpcHealth) {
  httplib::Client client = Client(port());
  auto res = client.Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(Json(res->body)["status"], "SERVING");
  // Health stays open without a token, as for gRPC.
  httplib::Client guarded = Client(guarded_gateway_->port());
  res = guarded.Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(HttpGatewayTest, TokenIsForwardedAsGrpcMetadata) {
  httplib::Client client = Client(guarded_gateway_->port());
  nlohmann::json grade = {{"rubric_set", "demo"},
                          {"rubric_id", "arith-1"},
                          {"prompt", kArithPrompt},
                          {"response", "Answer: 80"},
                          {"options", {{"judge", "embedded"}}}};
  auto res = client.Post("/v1/grade", grade.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(Json(res->body)["error"]["code"], "UNAUTHENTICATED");

  res = client.Post("/v1/grade", {{"Authorization", "Bearer wrong-token"}},
                    grade.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);

  res = client.Post("/v1/grade",
                    {{"Authorization", absl::StrCat("Bearer ", kToken)}},
                    grade.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(Json(res->body)["valid"], true);
}

TEST_F(HttpGatewayTest, InvalidResultIsNeverARewardOfZero) {
  const int p = guarded_gateway_->port();
  const std::string auth =
      absl::StrCat("Authorization: Bearer ", kToken, "\r\n");
  auto with_auth = [&](std::string request) {
    return request.insert(request.find("\r\n") + 2, auth);
  };
  const std::string openrlhf = absl::StrCat(
      R"({"query": [")", kTemplatedPrompt, kResponse, R"("], "prompts": [")",
      kTemplatedPrompt, R"("], "labels": ["arith-1"]})");
  RawReply reply =
      RawHttp(p, with_auth(RequestsPost(p, "/v1/openrlhf", openrlhf)));
  EXPECT_EQ(reply.status, 502) << reply.body;
  nlohmann::json out = Json(reply.body);
  EXPECT_EQ(out["error"]["code"], "INVALID_RESULT");
  EXPECT_THAT(out["error"]["message"].get<std::string>(), HasSubstr("invalid"));
  EXPECT_FALSE(out.contains("rewards"));

  nlohmann::json slime = {{"prompt", kArithPrompt},
                          {"response", "Answer: 80"},
                          {"label", "arith-1"}};
  reply = RawHttp(p, with_auth(AiohttpPost(p, "/v1/slime", slime.dump())));
  EXPECT_EQ(reply.status, 502) << reply.body;
  out = Json(reply.body);
  EXPECT_EQ(out["error"]["code"], "INVALID_RESULT");
  EXPECT_FALSE(out.contains("reward"));
  EXPECT_EQ(reply.after, "");
}

TEST_F(HttpGatewayTest, OverLimitConnectionsGet503WithRetryAfter) {
  GatewayOptions options;
  options.default_rubric_set = "demo";
  options.threads = 1;
  options.max_queued = 0;
  options.retry_after_seconds = 7;
  options.keep_alive_timeout = absl::Seconds(600);
  options.io_timeout = absl::Seconds(600);
  auto gateway = HttpGateway::Start(options, *open_channel_);
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  const int p = (*gateway)->port();
  // A connection that sends nothing holds the only thread (it waits for a
  // request); it was accepted first, so the next connection is over limit.
  int idle = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(p);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(idle, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  RawReply reply =
      RawHttp(p, absl::StrCat("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(reply.headers["retry-after"], "7");
  EXPECT_EQ(Json(reply.body)["error"]["code"], "UNAVAILABLE");
  close(idle);
  // The thread is free again once the idle connection is gone.
  int status = 0;
  for (int i = 0; i < 6000 && status != 200; ++i) {
    status = RawHttp(p, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").status;
    if (status != 200) absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(status, 200);
}

TEST_F(HttpGatewayTest, EveryRequestGetsExactlyOneAnswerUnderOverload) {
  GatewayOptions options;
  options.default_rubric_set = "demo";
  options.threads = 2;
  options.max_queued = 2;
  auto gateway = HttpGateway::Start(options, *open_channel_);
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  const int p = (*gateway)->port();
  const std::string body = absl::StrCat(
      R"({"query": [")", kTemplatedPrompt, kResponse, R"("], "prompts": [")",
      kTemplatedPrompt, R"("], "labels": ["arith-1"]})");
  constexpr int kClients = 24;
  std::vector<RawReply> replies(kClients);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      replies[i] = RawHttp(p, RequestsPost(p, "/v1/openrlhf", body));
    });
  }
  for (std::thread& t : clients) t.join();
  int served = 0;
  for (const RawReply& r : replies) {
    // 200, or 503 when the pool and its queue were full; never silence,
    // never a second answer.
    EXPECT_TRUE(r.status == 200 || r.status == 503) << r.status << r.body;
    EXPECT_EQ(r.after, "");
    served += r.status == 200;
  }
  EXPECT_GE(served, 1);
}

TEST_F(HttpGatewayTest, ServesHttpsWithRewarddsCertificate) {
  TempDir dir;
  ASSERT_TRUE(WriteSelfSignedCert(dir.path())) << "openssl failed";
  GatewayOptions options;
  options.tls_cert_file = dir.path() + "/cert.pem";
  options.tls_key_file = dir.path() + "/key.pem";
  auto gateway = HttpGateway::Start(options, *open_channel_);
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  EXPECT_EQ((*gateway)->scheme(), "https");
  httplib::SSLClient client("127.0.0.1", (*gateway)->port());
  client.set_ca_cert_path((dir.path() + "/cert.pem").c_str());
  client.enable_server_certificate_verification(true);
  auto res = client.Get("/healthz");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  // Plain HTTP to the HTTPS port gets no HTTP answer.
  httplib::Client plain("127.0.0.1", (*gateway)->port());
  plain.set_read_timeout(10, 0);
  auto refused = plain.Get("/healthz");
  EXPECT_TRUE(!refused || refused->status != 200);
}

TEST_F(HttpGatewayTest, DeadlineComesFromTheOptionsAndMapsTo504) {
  // A "server" that completes TCP handshakes (the kernel does) but never
  // speaks HTTP/2: every call waits until the gateway's deadline.
  int mute = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(mute, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(mute, 16), 0);
  socklen_t len = sizeof(addr);
  getsockname(mute, reinterpret_cast<sockaddr*>(&addr), &len);
  GatewayOptions options;
  options.default_rubric_set = "demo";
  options.deadline = absl::Milliseconds(300);
  auto gateway = HttpGateway::Start(
      options,
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", ntohs(addr.sin_port)),
                          grpc::InsecureChannelCredentials()));
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  httplib::Client client = Client((*gateway)->port());
  nlohmann::json slime = {{"prompt", kArithPrompt},
                          {"response", "Answer: 80"},
                          {"label", "arith-1"}};
  auto res = client.Post("/v1/slime", slime.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 504) << res->body;
  EXPECT_EQ(Json(res->body)["error"]["code"], "DEADLINE_EXCEEDED");
  close(mute);
}

TEST_F(HttpGatewayTest, DrainingRewarddIsUnhealthyThroughTheGateway) {
  // A rewardd of its own: SIGTERM turns health NOT_SERVING at once, and the
  // grace period keeps it up long enough to be asked.
  RewarddProcess draining({"--rubric_dir=" + kRubrics, "--metrics_listen=",
                           "--drain_grace_seconds=60", "--drain_seconds=1"});
  ASSERT_TRUE(draining.Start().ok()) << draining.Log();
  auto gateway =
      HttpGateway::Start(GatewayOptions(), WaitForServing(draining.address()));
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  httplib::Client client = Client((*gateway)->port());
  auto res = client.Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  draining.Signal(SIGTERM);
  int status = 200;
  for (int i = 0; i < 6000 && status == 200; ++i) {
    res = client.Get("/healthz");
    ASSERT_TRUE(res);
    status = res->status;
    if (status == 200) absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(status, 503);
  EXPECT_EQ(Json(res->body)["status"], "NOT_SERVING");
  draining.Signal(SIGKILL);
}

TEST_F(HttpGatewayTest, BadOptionsAreRejectedNamingTheField) {
  GatewayOptions options;
  options.threads = 0;
  auto gateway = HttpGateway::Start(options, *open_channel_);
  EXPECT_EQ(gateway.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(gateway.status().message(), HasSubstr("threads"));
  options = GatewayOptions();
  options.tls_cert_file = "/nonexistent/cert.pem";
  options.tls_key_file = "/nonexistent/key.pem";
  gateway = HttpGateway::Start(options, *open_channel_);
  EXPECT_THAT(gateway.status().message(), HasSubstr("tls_cert_file"));
  options = GatewayOptions();
  options.port = port();  // taken by the fixture's gateway
  gateway = HttpGateway::Start(options, *open_channel_);
  EXPECT_EQ(gateway.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(gateway.status().message(), HasSubstr("cannot listen"));
}

// The kernel's view of a listening socket on loopback `port`: `ss -ltnH`
// prints its accept backlog as Send-Q (the 4th column). -1 when not found.
int ListenBacklog(int port) {
  const std::string command =
      absl::StrCat("ss -ltnH 'sport = :", port, "' 2>/dev/null");
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  std::string out;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof(buf), pipe)) out.append(buf, n);
  pclose(pipe);
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    std::vector<absl::string_view> cols =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    int backlog = 0;
    if (cols.size() >= 4 && cols[0] == "LISTEN" &&
        absl::SimpleAtoi(cols[2], &backlog)) {
      return backlog;
    }
  }
  return -1;
}

// cpp-httplib listens with a backlog of 5; the gateway raises it (to 4096,
// capped by net.core.somaxconn) so that a trainer opening dozens of
// connections at once does not have its handshakes dropped.
TEST_F(HttpGatewayTest, ListenBacklogIsRaisedAboveHttplibsFive) {
  int somaxconn = 0;
  {
    std::ifstream in("/proc/sys/net/core/somaxconn");
    ASSERT_TRUE(in >> somaxconn);
  }
  if (somaxconn <= 5) GTEST_SKIP() << "net.core.somaxconn is " << somaxconn;
  const int backlog = ListenBacklog(port());
  ASSERT_NE(backlog, -1) << "no listening socket on port " << port()
                         << " in `ss -ltnH` (iproute2, scripts/bootstrap.sh)";
  EXPECT_EQ(backlog, std::min(4096, somaxconn));
}

TEST_F(HttpGatewayTest, StopClosesTheListener) {
  const int p = port();
  gateway_->Stop();
  gateway_->Stop();  // idempotent
  httplib::Client client = Client(p);
  auto res = client.Get("/healthz");
  EXPECT_FALSE(res);
}

}  // namespace
}  // namespace rewardd

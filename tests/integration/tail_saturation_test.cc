// Tail saturation end to end: a real rewardd (embedded judge, a rubric set
// of exact checks) gets GradeGroup traffic whose groups saturate one rubric
// ("hot": two responses meet every criterion) and not another ("cold": a
// unique top, plus some zero-variance groups below the max). Checked: the
// saturation series on /metrics, ListSaturatedRubrics (and its auth), and
// the tail log written by the shutdown flush (one sampled group under a
// rate limit that lets one through, a window record with the counts). On a
// second server: the file size and total caps hold, and a tail log
// directory replaced by a plain file loses records (counted, logged) while
// grading goes on. A missing parent of --tail_log_dir is a startup error
// naming the flag.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "reward/v1/reward.grpc.pb.h"
#include "tests/integration/rewardd_process.h"
#include "tests/tail_log_lines.h"

namespace rewardd {
namespace {

namespace pb = reward::v1;
using json = nlohmann::json;
using ::rewardd::testing::ReadFile;
using ::rewardd::testing::RewarddProcess;
using ::rewardd::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kGreekSet[] = R"json({"rubrics": [
 {"id": "hot", "prompt": "Name two Greek letters.",
  "criteria": [
    {"id": "a", "text": "Names alpha",
     "check": {"type": "contains", "values": ["alpha"]}},
    {"id": "b", "text": "Names beta",
     "check": {"type": "contains", "values": ["beta"]}}]},
 {"id": "cold", "prompt": "Name four Greek letters.",
  "criteria": [
    {"id": "a", "text": "Names alpha",
     "check": {"type": "contains", "values": ["alpha"]}},
    {"id": "b", "text": "Names beta",
     "check": {"type": "contains", "values": ["beta"]}},
    {"id": "c", "text": "Names gamma",
     "check": {"type": "contains", "values": ["gamma"]}},
    {"id": "d", "text": "Names delta",
     "check": {"type": "contains", "values": ["delta"]}}]}]})json";

constexpr int kHotGroups = 12;
constexpr int kColdGroups = 8;
constexpr int kFlatGroups = 4;
constexpr char kToken[] = "tail-test-token";

class TailSaturationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_.path() + "/rubrics");
    dir_.Write("rubrics/greek.json", kGreekSet);
    dir_.Write("tokens", std::string(kToken) + "\n");
    tail_dir_ = dir_.path() + "/tail";
    server_ = std::make_unique<RewarddProcess>(std::vector<std::string>{
        "--rubric_dir=" + dir_.path() + "/rubrics", "--rubric_poll_seconds=0",
        "--metrics_listen=127.0.0.1:0",
        "--metrics_port_file=" + dir_.path() + "/metrics_port",
        "--auth_token_files=" + dir_.path() + "/tokens",
        "--tail_log_dir=" + tail_dir_,
        // Burst 1 and one more token per 1000 s: exactly one saturated
        // group is sampled however slowly the test runs.
        "--tail_log_samples_per_second=0.001",
        // Only the shutdown flush writes the window.
        "--tail_log_window_seconds=3600", "--drain_grace_seconds=0",
        "--drain_seconds=2"});
    ASSERT_TRUE(server_->Start().ok()) << server_->Log();
    metrics_port_ = std::stoi(ReadFile(dir_.path() + "/metrics_port"));
    stub_ = pb::RewardService::NewStub(grpc::CreateChannel(
        server_->address(), grpc::InsecureChannelCredentials()));
  }

  std::unique_ptr<grpc::ClientContext> Context(bool with_token = true) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::seconds(30));
    if (with_token) {
      ctx->AddMetadata("authorization", absl::StrCat("Bearer ", kToken));
    }
    return ctx;
  }

  void GradeGroup(const std::string& rubric_id,
                  const std::vector<std::string>& responses) {
    pb::GradeGroupRequest request;
    request.set_rubric_set("greek");
    request.set_rubric_id(rubric_id);
    (*request.mutable_labels())["policy_version"] = "ckpt-7";
    for (const std::string& r : responses) request.add_responses(r);
    pb::GradeGroupResponse response;
    grpc::Status s = stub_->GradeGroup(Context().get(), request, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_EQ(response.valid_count(), responses.size());
  }

  void SendTraffic() {
    for (int i = 0; i < kHotGroups; ++i) {
      GradeGroup("hot", {"beta", "alpha and beta", "alpha", "beta, alpha"});
    }
    for (int i = 0; i < kColdGroups; ++i) {
      GradeGroup("cold", {"alpha beta", "alpha beta gamma delta", "alpha",
                          "alpha beta gamma"});
    }
    for (int i = 0; i < kFlatGroups; ++i) {
      GradeGroup("cold", {"alpha beta", "beta alpha"});
    }
  }

  std::string Metrics() {
    httplib::Client http("127.0.0.1", metrics_port_);
    auto res = http.Get("/metrics");
    return res ? res->body : "";
  }

  // Every record of the tail log; every file is a tail log file.
  std::vector<json> TailLines() {
    for (const auto& f : ::rewardd::testing::TailLogFiles(tail_dir_)) {
      EXPECT_THAT(f.filename().string(), ::testing::StartsWith("tail-"));
    }
    return ::rewardd::testing::ReadTailLog(tail_dir_);
  }

  TempDir dir_;
  std::string tail_dir_;
  std::unique_ptr<RewarddProcess> server_;
  int metrics_port_ = 0;
  std::unique_ptr<pb::RewardService::Stub> stub_;
};

TEST_F(TailSaturationTest, MetricsRpcAndTailLogSeeTheSaturatedRubric) {
  SendTraffic();
  const int groups = kHotGroups + kColdGroups + kFlatGroups;

  // The observer runs before each answer is sent: the counts are final.
  const std::string text = Metrics();
  EXPECT_THAT(text, HasSubstr(absl::StrCat(
                        "rewardd_groups_graded_total{rubric_set=\"greek\"} ",
                        groups, "\n")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("rewardd_groups_tied_at_max_total{"
                                           "rubric_set=\"greek\"} ",
                                           kHotGroups, "\n")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("rewardd_groups_zero_variance_total{"
                                           "rubric_set=\"greek\"} ",
                                           kFlatGroups, "\n")));
  EXPECT_THAT(text,
              HasSubstr(absl::StrCat(
                  "rewardd_group_responses_at_max_total{rubric_set=\"greek\"} ",
                  2 * kHotGroups + kColdGroups, "\n")));
  EXPECT_THAT(text, HasSubstr("rewardd_rubric_saturation_score{rubric_id="
                              "\"hot\",rubric_set=\"greek\"}"));
  EXPECT_THAT(text, Not(HasSubstr("rubric_id=\"cold\"")));
  EXPECT_THAT(text, HasSubstr("rewardd_tail_log_dropped_total{reason="
                              "\"rate_limited\"} " +
                              std::to_string(kHotGroups - 1) + "\n"));

  // ListSaturatedRubrics: only "hot", with its counts and versions.
  pb::ListRubricSetsResponse sets;
  ASSERT_TRUE(
      stub_->ListRubricSets(Context().get(), pb::ListRubricSetsRequest(), &sets)
          .ok());
  ASSERT_EQ(sets.sets_size(), 1);
  pb::ListSaturatedRubricsRequest request;
  pb::ListSaturatedRubricsResponse saturated;
  grpc::Status s =
      stub_->ListSaturatedRubrics(Context().get(), request, &saturated);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(saturated.rubrics_size(), 1);
  const pb::SaturatedRubric hot = saturated.rubrics(0);
  EXPECT_EQ(hot.rubric_set(), "greek");
  EXPECT_EQ(hot.rubric_id(), "hot");
  EXPECT_EQ(hot.saturated_groups(), static_cast<uint64_t>(kHotGroups));
  EXPECT_EQ(hot.groups(), static_cast<uint64_t>(kHotGroups));
  EXPECT_EQ(hot.set_version(), sets.sets(0).version());
  EXPECT_EQ(hot.rubric_version().size(), 16u);
  EXPECT_GT(hot.last_saturated_unix(), 1.7e9);
  EXPECT_GT(hot.score(), 0);
  EXPECT_LE(hot.score(), kHotGroups);
  request.set_rubric_set("elsewhere");
  saturated.Clear();
  ASSERT_TRUE(
      stub_->ListSaturatedRubrics(Context().get(), request, &saturated).ok());
  EXPECT_EQ(saturated.rubrics_size(), 0);
  // Same auth as every other RPC.
  EXPECT_EQ(
      stub_->ListSaturatedRubrics(Context(false).get(), request, &saturated)
          .error_code(),
      grpc::StatusCode::UNAUTHENTICATED);

  // The shutdown flush writes the queued group and the window.
  server_->Signal(SIGTERM);
  ASSERT_EQ(server_->Wait(), 0) << server_->Log();
  const std::vector<json> lines = TailLines();
  ASSERT_EQ(lines.size(), 2u);
  const json& group = lines[0];
  EXPECT_EQ(group["schema"], "rewardd.tail_log.v1");
  EXPECT_EQ(group["kind"], "saturated_group");
  EXPECT_EQ(group["rubric_set"], "greek");
  EXPECT_EQ(group["rubric_id"], "hot");
  EXPECT_EQ(group["rubric_version"], hot.rubric_version());
  EXPECT_EQ(group["set_version"], sets.sets(0).version());
  EXPECT_EQ(group["labels"], json({{"policy_version", "ckpt-7"}}));
  EXPECT_EQ(group["prompt"], "Name two Greek letters.");
  EXPECT_EQ(group["group_size"], 4);
  EXPECT_EQ(group["valid"], 4);
  EXPECT_EQ(group["max_possible"], 1.0);
  EXPECT_EQ(group["top_reward"], 1.0);
  EXPECT_EQ(group["tied_at_top"], 2);
  EXPECT_EQ(group["rewards"], json::parse("[0.5, 1.0, 0.5, 1.0]"));
  ASSERT_EQ(group["top"].size(), 2u);
  EXPECT_EQ(group["top"][0]["index"], 1);
  EXPECT_EQ(group["top"][0]["response"], "alpha and beta");
  EXPECT_EQ(group["top"][1]["response"], "beta, alpha");
  EXPECT_EQ(
      group["top"][1]["verdicts"],
      json::parse(R"([{"criterion_id": "a", "verdict": "MET", "status": "OK"},
                            {"criterion_id": "b", "verdict": "MET", "status": "OK"}])"));
  const json& window = lines[1];
  EXPECT_EQ(window["kind"], "window");
  EXPECT_EQ(window["rubric_set"], "greek");
  EXPECT_EQ(window["groups"], groups);
  EXPECT_EQ(window["tied_at_max_groups"], kHotGroups);
  EXPECT_EQ(window["zero_variance_groups"], kFlatGroups);
  EXPECT_EQ(window["sampled"], 1);
  EXPECT_EQ(window["dropped_rate_limited"], kHotGroups - 1);
  EXPECT_EQ(window["dropped_queue_full"], 0);
}

// A metric's value in the text exposition ("" labels: the whole series
// name with labels); -1 when absent.
double MetricValue(const std::string& text, const std::string& series) {
  const size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

// The size caps hold on a running server, and a directory that goes away
// loses records (counted) without failing a single grading call.
TEST(TailLogBoundsTest, CapsHoldAndAVanishedDirectoryIsNotFatal) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() + "/rubrics");
  dir.Write("rubrics/greek.json", kGreekSet);
  const std::string tail = dir.path() + "/tail";
  RewarddProcess server(
      {"--rubric_dir=" + dir.path() + "/rubrics", "--rubric_poll_seconds=0",
       "--metrics_listen=127.0.0.1:0",
       "--metrics_port_file=" + dir.path() + "/metrics_port",
       "--tail_log_dir=" + tail, "--tail_log_samples_per_second=100000",
       "--tail_log_max_file_bytes=2000", "--tail_log_max_total_bytes=8000",
       "--tail_log_window_seconds=3600", "--drain_grace_seconds=0",
       "--drain_seconds=2"});
  ASSERT_TRUE(server.Start().ok()) << server.Log();
  httplib::Client http("127.0.0.1",
                       std::stoi(ReadFile(dir.path() + "/metrics_port")));
  auto stub = pb::RewardService::NewStub(grpc::CreateChannel(
      server.address(), grpc::InsecureChannelCredentials()));
  auto grade = [&stub] {
    pb::GradeGroupRequest request;
    request.set_rubric_set("greek");
    request.set_rubric_id("hot");
    for (const char* r : {"alpha beta", "beta alpha", "alpha"}) {
      request.add_responses(r);
    }
    pb::GradeGroupResponse response;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(30));
    return stub->GradeGroup(&ctx, request, &response).ok();
  };
  // Waits (for events, bounded only against a hang) until `done` holds.
  auto wait_metrics = [&http](auto done) {
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    std::string text;
    while (absl::Now() < deadline) {
      auto res = http.Get("/metrics");
      text = res ? res->body : "";
      if (done(text)) return text;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return text;
  };
  const std::string written =
      "rewardd_tail_log_records_total{kind=\"saturated_group\"}";
  const std::string errors = "rewardd_tail_log_write_errors_total";
  constexpr int kGroups = 30, kLost = 5;
  for (int i = 0; i < kGroups; ++i) ASSERT_TRUE(grade());
  std::string text = wait_metrics(
      [&](const std::string& t) { return MetricValue(t, written) == kGroups; });
  ASSERT_EQ(MetricValue(text, written), kGroups) << text;
  uintmax_t total = 0;
  for (const auto& f : ::rewardd::testing::TailLogFiles(tail)) {
    EXPECT_LE(std::filesystem::file_size(f), 2000u) << f;
    total += std::filesystem::file_size(f);
  }
  EXPECT_LE(total, 8000u);
  EXPECT_GT(MetricValue(text, "rewardd_tail_log_files_deleted_total"), 0);

  // The directory becomes a plain file: new files cannot be created (the
  // open one may take a record or two before its size cap).
  std::filesystem::remove_all(tail);
  { std::ofstream(tail) << "not a directory"; }
  for (int i = 0; i < kLost; ++i) ASSERT_TRUE(grade());
  text = wait_metrics([&](const std::string& t) {
    return MetricValue(t, written) + MetricValue(t, errors) == kGroups + kLost;
  });
  EXPECT_EQ(MetricValue(text, written) + MetricValue(text, errors),
            kGroups + kLost)
      << text;
  EXPECT_GE(MetricValue(text, errors), kLost - 2);
  EXPECT_TRUE(grade());  // still grading
  server.Signal(SIGTERM);
  EXPECT_EQ(server.Wait(), 0) << server.Log();
  EXPECT_THAT(server.Log(), HasSubstr("tail_log_write_failed"));
}

TEST(TailLogStartupTest, MissingParentIsAStartupErrorNamingTheFlag) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() + "/rubrics");
  dir.Write("rubrics/greek.json", kGreekSet);
  RewarddProcess server(
      {"--rubric_dir=" + dir.path() + "/rubrics",
       "--metrics_listen=", "--tail_log_dir=" + dir.path() + "/no/such/tail"});
  EXPECT_FALSE(server.Start(absl::Seconds(20)).ok());
  EXPECT_NE(server.Wait(absl::Seconds(20)), 0);
  EXPECT_THAT(server.Log(), HasSubstr("--tail_log_dir"));
}

}  // namespace
}  // namespace rewardd

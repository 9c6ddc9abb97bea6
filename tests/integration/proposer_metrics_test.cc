// Proposer and RubricService metrics end to end: the rewardd BINARY with
// --metrics_listen on loopback, a judge-sim verifier and proposers (the
// paper's scripted proposer, and one whose address nothing listens on),
// driven over gRPC with RefineRubric; then /metrics is read.
//
// Checks: the proposer's calls, latency, in-flight, queue and breaker
// series appear in the judge pool's families with role="proposer" while the
// verifier's carry role="judge"; a proposer that is down opens its breaker
// after breaker_failures failed calls, and the next refinement is refused
// without a call (the rejection says so, the call counter does not move).
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "reward/v1/rubric_service.grpc.pb.h"
#include "tests/integration/judge_test_support.h"
#include "tests/integration/metrics_scrape.h"
#include "tests/integration/paper_refine_request.h"
#include "tests/integration/rewardd_process.h"
#include "tools/judge-sim/judge_sim.h"

namespace rewardd {
namespace {

namespace pb = reward::v1;
using ::rewardd::testing::ReadFile;
using ::rewardd::testing::RewarddProcess;
using ::rewardd::testing::Scrape;
using ::rewardd::testing::ScrapeMetrics;
using ::rewardd::testing::TempDir;
using ::testing::HasSubstr;

class ProposerMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    paper_ = PaperExampleJson();
    dir_.Write("oracle.json", PaperOracle(paper_).dump());
    dir_.Write("script.json", PaperScriptedRefinement(paper_).dump());
    SimOptions o;
    o.oracle_file = dir_.path() + "/oracle.json";
    o.proposer_script = dir_.path() + "/script.json";
    absl::StatusOr<std::unique_ptr<JudgeSim>> sim = JudgeSim::Start(o);
    ASSERT_TRUE(sim.ok()) << sim.status();
    sim_ = *std::move(sim);
    const nlohmann::json config = {
        {"judges",
         {SimJudge("verifier", sim_->base_url(), nlohmann::json::object(),
                   {{"mode", "all_in_one"}})}},
        {"proposers",
         {{{"name", "scripted"},
           {"model", "judge-sim"},
           {"replicas", {sim_->base_url()}}},
          // Nothing listens on port 9 of loopback. One attempt per
          // proposal; the second failed call opens the breaker for longer
          // than the test runs.
          {{"name", "down"},
           {"model", "judge-sim"},
           {"replicas", {"http://127.0.0.1:9/v1"}},
           {"max_attempts", 1},
           {"breaker_failures", 2},
           {"breaker_open_time_ms", 600000}}}}};
    dir_.Write("judges.json", config.dump());
    server_ = std::make_unique<RewarddProcess>(std::vector<std::string>{
        "--judges_config=" + dir_.path() + "/judges.json",
        "--metrics_listen=127.0.0.1:0",
        "--metrics_port_file=" + dir_.path() + "/metrics_port"});
    ASSERT_TRUE(server_->Start().ok()) << server_->Log();
    metrics_port_ = std::stoi(ReadFile(dir_.path() + "/metrics_port"));
    stub_ = pb::RubricService::NewStub(grpc::CreateChannel(
        server_->address(), grpc::InsecureChannelCredentials()));
  }

  // The events of one RefineRubric; the stream must end OK.
  std::vector<pb::RefineRubricEvent> Refine(const std::string& proposer) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::minutes(2));
    context.set_wait_for_ready(true);
    std::vector<pb::RefineRubricEvent> events;
    auto reader =
        stub_->RefineRubric(&context, PaperRefineRequest(paper_, proposer));
    pb::RefineRubricEvent event;
    while (reader->Read(&event)) events.push_back(event);
    const grpc::Status status = reader->Finish();
    EXPECT_TRUE(status.ok()) << status.error_message();
    return events;
  }

  // The rejection reason of a refinement whose proposal was rejected.
  std::string RejectedReason(const std::string& proposer) {
    for (const pb::RefineRubricEvent& e : Refine(proposer)) {
      if (e.has_rejected()) return e.rejected().reason();
    }
    ADD_FAILURE() << "no rejection";
    return "";
  }

  Scrape Metrics() { return ScrapeMetrics(metrics_port_); }

  nlohmann::json paper_;
  TempDir dir_;
  std::unique_ptr<JudgeSim> sim_;
  std::unique_ptr<RewarddProcess> server_;
  std::unique_ptr<pb::RubricService::Stub> stub_;
  int metrics_port_ = 0;
};

TEST_F(ProposerMetricsTest, ProposerSeriesCarryTheRoleLabel) {
  const std::vector<pb::RefineRubricEvent> events = Refine("scripted");
  ASSERT_FALSE(events.empty());
  ASSERT_TRUE(events.back().has_final());
  EXPECT_EQ(events.back().final().summary().proposals_accepted(), 1u);

  const Scrape m = Metrics();
  const std::map<std::string, std::string> proposer = {
      {"judge", "scripted"}, {"role", "proposer"}, {"replica", "0"}};
  auto with = [](std::map<std::string, std::string> labels,
                 const std::string& k, const std::string& v) {
    labels[k] = v;
    return labels;
  };
  EXPECT_EQ(
      m.Value("rewardd_judge_calls_total", with(proposer, "outcome", "ok")), 1);
  EXPECT_EQ(m.Value("rewardd_judge_calls_total",
                    with(proposer, "outcome", "transport_error")),
            0);
  EXPECT_EQ(m.Value("rewardd_judge_call_duration_seconds_count", proposer), 1);
  EXPECT_EQ(m.Value("rewardd_judge_in_flight", proposer), 0);
  EXPECT_EQ(
      m.Value("rewardd_judge_breaker_state", with(proposer, "state", "closed")),
      1);
  EXPECT_EQ(m.Value("rewardd_judge_queue_depth",
                    {{"judge", "scripted"}, {"role", "proposer"}}),
            0);
  EXPECT_GT(m.Value("rewardd_judge_queue_capacity",
                    {{"judge", "scripted"}, {"role", "proposer"}}),
            0);
  EXPECT_EQ(m.Value("rewardd_judge_retries_total", {{"judge", "scripted"},
                                                    {"role", "proposer"},
                                                    {"reason", "transport"}}),
            0);
  // RubricService's own series.
  EXPECT_EQ(m.Value("rewardd_rubric_service_requests_total",
                    {{"method", "RefineRubric"}, {"code", "OK"}}),
            1);
  EXPECT_EQ(m.Value("rewardd_rubric_service_refinements_active", {}), 0);
  EXPECT_EQ(m.Value("rewardd_rubric_service_refine_iterations_total", {}), 1);
  EXPECT_EQ(m.Value("rewardd_rubric_service_proposals_accepted_total", {}), 1);
  EXPECT_EQ(m.Value("rewardd_rubric_service_proposals_rejected_total",
                    {{"reason", "proposer_error"}}),
            0);
  // The verifier's calls are a judge's: role="judge".
  EXPECT_GT(m.Value("rewardd_judge_calls_total", {{"judge", "verifier"},
                                                  {"role", "judge"},
                                                  {"replica", "0"},
                                                  {"outcome", "ok"}}),
            0);
}

TEST_F(ProposerMetricsTest, ABreakerOpensOnAProposerThatIsDown) {
  EXPECT_THAT(RejectedReason("down"), HasSubstr("proposer 'down'"));
  EXPECT_THAT(RejectedReason("down"), HasSubstr("proposer 'down'"));
  // Two failed calls opened the breaker: the third refinement's proposal
  // fails at once, without a call.
  EXPECT_THAT(RejectedReason("down"), HasSubstr("circuit breaker open"));
  const Scrape m = Metrics();
  const std::map<std::string, std::string> down = {
      {"judge", "down"}, {"role", "proposer"}, {"replica", "0"}};
  std::map<std::string, std::string> failed = down;
  failed["outcome"] = "transport_error";
  EXPECT_EQ(m.Value("rewardd_judge_calls_total", failed), 2);
  std::map<std::string, std::string> open = down;
  open["state"] = "open";
  EXPECT_EQ(m.Value("rewardd_judge_breaker_state", open), 1);
  EXPECT_EQ(m.Value("rewardd_rubric_service_proposals_rejected_total",
                    {{"reason", "proposer_error"}}),
            3);
}

TEST_F(ProposerMetricsTest, RequestErrorsAreCountedByCode) {
  pb::RefineRubricRequest bad = PaperRefineRequest(paper_, "scripted");
  bad.clear_candidates();
  grpc::ClientContext context;
  context.set_wait_for_ready(true);
  auto reader = stub_->RefineRubric(&context, bad);
  pb::RefineRubricEvent event;
  EXPECT_FALSE(reader->Read(&event));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Metrics().Value(
                "rewardd_rubric_service_requests_total",
                {{"method", "RefineRubric"}, {"code", "INVALID_ARGUMENT"}}),
            1);
}

TEST_F(ProposerMetricsTest, GenerateRubricIsCountedByCode) {
  // The scripted proposer has no answer for an initial rubric: the answer
  // holds no rubric, which GenerateRubric reports as ABORTED.
  pb::GenerateRubricRequest request;
  request.set_prompt(paper_["prompt"].get<std::string>());
  request.mutable_options()->set_proposer("scripted");
  pb::GenerateRubricResponse response;
  grpc::ClientContext context;
  context.set_wait_for_ready(true);
  EXPECT_EQ(stub_->GenerateRubric(&context, request, &response).error_code(),
            grpc::StatusCode::ABORTED);
  const Scrape m = Metrics();
  EXPECT_EQ(m.Value("rewardd_rubric_service_requests_total",
                    {{"method", "GenerateRubric"}, {"code", "ABORTED"}}),
            1);
  EXPECT_EQ(m.Value("rewardd_rubric_service_requests_total",
                    {{"method", "GenerateRubric"}, {"code", "OK"}}),
            0);
  // The proposer's call itself succeeded: an answer, not a failure.
  EXPECT_EQ(m.Value("rewardd_judge_calls_total", {{"judge", "scripted"},
                                                  {"role", "proposer"},
                                                  {"replica", "0"},
                                                  {"outcome", "parse_error"}}),
            2);  // the answer and its one parse retry
}

TEST(RubricServiceFlagsTest, BadFlagsAreNamedAndLimitsApply) {
  RewarddProcess zero({"--metrics_listen=", "--rubric_max_iterations=0"});
  EXPECT_FALSE(zero.Start().ok());
  EXPECT_THAT(zero.Log(), HasSubstr("--rubric_max_iterations must be"));
  RewarddProcess deadline(
      {"--metrics_listen=", "--rubric_default_deadline_seconds=-1"});
  EXPECT_FALSE(deadline.Start().ok());
  EXPECT_THAT(deadline.Log(),
              HasSubstr("--rubric_default_deadline_seconds must be > 0"));

  // A limit set by flag is the one the service enforces.
  const nlohmann::json paper = PaperExampleJson();
  TempDir dir;
  dir.Write(
      "judges.json",
      nlohmann::json{
          {"judges",
           {SimJudge("v", "http://127.0.0.1:9/v1", nlohmann::json::object())}},
          {"proposers",
           {{{"name", "p"},
             {"model", "m"},
             {"replicas", {"http://127.0.0.1:9/v1"}}}}}}
          .dump());
  RewarddProcess limited({"--metrics_listen=", "--rubric_max_iterations=2",
                          "--judges_config=" + dir.path() + "/judges.json"});
  ASSERT_TRUE(limited.Start().ok()) << limited.Log();
  auto stub = pb::RubricService::NewStub(grpc::CreateChannel(
      limited.address(), grpc::InsecureChannelCredentials()));
  pb::RefineRubricRequest r;
  r.set_prompt(paper["prompt"].get<std::string>());
  for (const char* name : {"R1", "R2"}) {
    r.add_candidates()->set_text(paper["responses"][name].get<std::string>());
  }
  r.mutable_refine()->set_iterations(3);
  grpc::ClientContext context;
  context.set_wait_for_ready(true);
  auto reader = stub->RefineRubric(&context, r);
  pb::RefineRubricEvent event;
  EXPECT_FALSE(reader->Read(&event));
  const grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              HasSubstr("refine.iterations: at most 2"));
}

}  // namespace
}  // namespace rewardd

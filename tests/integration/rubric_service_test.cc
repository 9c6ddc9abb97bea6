// RubricService end to end: the rewardd BINARY with a judges config whose
// verifier judge and proposers are judge-sim instances on loopback, driven
// over gRPC.
//
// Golden: the worked example of "Chasing the Tail" (Appendix I) through
// RefineRubric: the initial rubric ties R1 and R2 at 18/20; the scripted
// proposer answers the paper's refined rubric, which scores them 25/27 vs
// 22/27; the final event reports the tie broken and why the loop stopped.
// Faults: a proposer that answers garbage or is down gives a rejected event,
// the previous rubric is kept and the stream ends OK. Bad input: errors
// naming the field.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "reward/v1/rubric_service.grpc.pb.h"
#include "tests/integration/judge_test_support.h"
#include "tests/integration/paper_refine_request.h"
#include "tests/integration/rewardd_process.h"
#include "tools/judge-sim/judge_sim.h"

namespace rewardd {
namespace {

namespace pb = reward::v1;
using ::rewardd::testing::RewarddProcess;
using ::rewardd::testing::TempDir;
using ::testing::HasSubstr;

nlohmann::json SimProposer(const std::string& name, const std::string& url,
                           nlohmann::json extra = {}) {
  nlohmann::json j = {{"name", name},
                      {"model", "judge-sim"},
                      {"replicas", {url}},
                      {"initial_backoff_ms", 10},
                      {"max_backoff_ms", 50}};
  if (extra.is_object()) j.update(extra);
  return j;
}

struct Stream {
  std::vector<pb::RefineRubricEvent> events;
  grpc::Status status;
  // One letter per event: G generated, S scores, P pair, A accepted,
  // R rejected, F final.
  std::string Sequence() const {
    std::string s;
    for (const pb::RefineRubricEvent& e : events) {
      switch (e.event_case()) {
        case pb::RefineRubricEvent::kGenerated:
          s += "G";
          break;
        case pb::RefineRubricEvent::kScores:
          s += "S";
          break;
        case pb::RefineRubricEvent::kPair:
          s += "P";
          break;
        case pb::RefineRubricEvent::kProposal:
          s += "A";
          break;
        case pb::RefineRubricEvent::kRejected:
          s += "R";
          break;
        case pb::RefineRubricEvent::kFinal:
          s += "F";
          break;
        default:
          s += "?";
      }
    }
    return s;
  }
  const pb::FinalEvent& Final() const { return events.back().final(); }
};

std::string Score(const pb::CandidateScore& s) {
  return absl::StrCat(s.score(), "/", s.max_score());
}

class RubricServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    paper_ = new nlohmann::json(PaperExampleJson());
    dir_ = new TempDir();
    dir_->Write("oracle.json", PaperOracle(*paper_).dump());
    dir_->Write("script.json", PaperScriptedRefinement(*paper_).dump());
    // Verifier and scripted proposer.
    SimOptions o;
    o.oracle_file = dir_->path() + "/oracle.json";
    o.proposer_script = dir_->path() + "/script.json";
    sims_ = new std::vector<std::unique_ptr<JudgeSim>>();
    sims_->push_back(StartSim(o));
    // The oracle proposer (no script) for generation.
    sims_->push_back(StartSim(SimOptions{}));
    // A proposer that answers garbage.
    SimOptions garbage;
    garbage.faults.rate_garbage = 1;
    sims_->push_back(StartSim(garbage));
    // A proposer that never answers.
    SimOptions hang;
    hang.faults.rate_hang = 1;
    sims_->push_back(StartSim(hang));
    // A proposer that is down: nothing listens at its address any more.
    std::unique_ptr<JudgeSim> gone = StartSim(SimOptions{});
    const std::string down_url = gone->base_url();
    gone->Stop();
    const nlohmann::json config = {
        {"judges",
         {SimJudge("verifier", (*sims_)[0]->base_url(),
                   nlohmann::json::object(), {{"mode", "all_in_one"}})}},
        {"proposers",
         {SimProposer("scripted", (*sims_)[0]->base_url()),
          SimProposer("oracle", (*sims_)[1]->base_url()),
          SimProposer("garbage", (*sims_)[2]->base_url()),
          SimProposer("down", down_url, {{"max_attempts", 2}}),
          SimProposer("hang", (*sims_)[3]->base_url())}}};
    dir_->Write("judges.json", config.dump());
    server_ = new RewarddProcess(
        {"--metrics_listen=",
         "--judges_config=" + dir_->path() + "/judges.json"});
    absl::Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started << server_->Log();
  }
  static void TearDownTestSuite() {
    delete server_;  // before the simulators: it holds connections to them
    delete sims_;
    delete dir_;
    delete paper_;
  }

  static std::unique_ptr<JudgeSim> StartSim(const SimOptions& o) {
    absl::StatusOr<std::unique_ptr<JudgeSim>> sim = JudgeSim::Start(o);
    EXPECT_TRUE(sim.ok()) << sim.status();
    return *std::move(sim);
  }

  void SetUp() override {
    stub_ = pb::RubricService::NewStub(grpc::CreateChannel(
        server_->address(), grpc::InsecureChannelCredentials()));
  }

  // The paper's prompt, R1 and R2, and its initial rubric.
  pb::RefineRubricRequest PaperRequest(const std::string& proposer = "") {
    return PaperRefineRequest(*paper_, proposer);
  }

  Stream Refine(const pb::RefineRubricRequest& request) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::minutes(2));
    context.set_wait_for_ready(true);
    Stream out;
    auto reader = stub_->RefineRubric(&context, request);
    pb::RefineRubricEvent event;
    while (reader->Read(&event)) out.events.push_back(event);
    out.status = reader->Finish();
    return out;
  }

  // A refinement whose proposal is rejected: the initial rubric is kept,
  // the tie stays, the stream ends OK. Returns the rejection's reason.
  std::string RejectedReason(const std::string& proposer) {
    const Stream s = Refine(PaperRequest(proposer));
    EXPECT_TRUE(s.status.ok()) << s.status.error_message();
    EXPECT_EQ(s.Sequence(), "SPRF");
    if (s.Sequence() != "SPRF") return "";
    const std::string initial = s.events[0].scores().rubric_version();
    EXPECT_EQ(s.events[2].rejected().kept_version(), initial);
    EXPECT_EQ(s.Final().rubric().version(), initial);
    EXPECT_EQ(s.Final().lineage_size(), 1);
    EXPECT_EQ(s.Final().summary().tied_at_top_after(), 2u);
    EXPECT_EQ(s.Final().summary().proposals_rejected(), 1u);
    return s.events[2].rejected().reason();
  }

  grpc::Status RefineError(const pb::RefineRubricRequest& request) {
    const Stream s = Refine(request);
    EXPECT_TRUE(s.events.empty()) << s.Sequence();
    return s.status;
  }

  static nlohmann::json* paper_;
  static TempDir* dir_;
  static std::vector<std::unique_ptr<JudgeSim>>* sims_;
  static RewarddProcess* server_;
  std::unique_ptr<pb::RubricService::Stub> stub_;
};

nlohmann::json* RubricServiceTest::paper_ = nullptr;
TempDir* RubricServiceTest::dir_ = nullptr;
std::vector<std::unique_ptr<JudgeSim>>* RubricServiceTest::sims_ = nullptr;
RewarddProcess* RubricServiceTest::server_ = nullptr;

TEST_F(RubricServiceTest, GoldenPaperExampleBreaksTheTie) {
  const Stream s = Refine(PaperRequest());
  ASSERT_TRUE(s.status.ok()) << s.status.error_message();
  ASSERT_EQ(s.Sequence(), "SPAF");

  const pb::IterationScores& scores = s.events[0].scores();
  ASSERT_EQ(scores.scores_size(), 2);
  for (const pb::CandidateScore& c : scores.scores()) {
    EXPECT_TRUE(c.valid()) << c.invalid_reason();
    EXPECT_EQ(Score(c), "18/20") << c.source();
  }
  EXPECT_EQ(scores.tied_at_top(), 2u);
  EXPECT_EQ(s.events[1].pair().first(), 0u);
  EXPECT_EQ(s.events[1].pair().second(), 1u);

  const pb::ProposalAccepted& a = s.events[2].proposal();
  ASSERT_EQ(a.pair_scores_size(), 2);
  EXPECT_EQ(a.pair_scores(0).source(), "R1");
  EXPECT_EQ(Score(a.pair_scores(0)), "25/27");
  EXPECT_EQ(Score(a.pair_scores(1)), "22/27");
  EXPECT_EQ(a.rubric().criteria_size(), 12);
  EXPECT_EQ(a.diff().added_size(), 3);
  EXPECT_EQ(a.diff().reworded_size(), 6);
  EXPECT_EQ(a.version().origin(), "refined");
  EXPECT_EQ(a.version().proposer(), "scripted");

  const pb::FinalEvent& f = s.Final();
  EXPECT_EQ(f.stop_reason(), "fewer than 2 candidates left (0)");
  EXPECT_EQ(f.summary().tied_at_top_before(), 2u);
  EXPECT_EQ(f.summary().tied_at_top_after(), 1u);  // the tie is broken
  EXPECT_EQ(f.summary().top_pair_gap_after(), 3);
  EXPECT_TRUE(f.summary().after_measured());
  ASSERT_EQ(f.lineage_size(), 2);
  EXPECT_EQ(f.lineage(0).origin(), "given");
  EXPECT_EQ(f.lineage(1).parent_version(), f.lineage(0).version());
  EXPECT_THAT(f.lineage(1).pair(), ::testing::ElementsAre(0u, 1u));
  EXPECT_EQ(f.rubric().version(), f.lineage(1).version());
}

TEST_F(RubricServiceTest, GarbageFromTheProposerIsRejectedAndTheRubricKept) {
  EXPECT_THAT(RejectedReason("garbage"), HasSubstr("no JSON list of criteria"));
}

TEST_F(RubricServiceTest, AProposerThatIsDownIsRejectedAndTheRubricKept) {
  const std::string reason = RejectedReason("down");
  EXPECT_THAT(reason, HasSubstr("proposer call failed (UNAVAILABLE)"));
  EXPECT_THAT(reason, HasSubstr("2 attempts"));
}

TEST_F(RubricServiceTest, ClientCancellationEndsTheStream) {
  grpc::ClientContext context;
  context.set_wait_for_ready(true);
  auto reader = stub_->RefineRubric(&context, PaperRequest("hang"));
  pb::RefineRubricEvent event;
  // Scores and pair come before the proposer call, which hangs.
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_TRUE(event.has_scores());
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_TRUE(event.has_pair());
  JudgeSim& hang = *(*sims_)[3];
  while (hang.stats().faults_hang == 0) absl::SleepFor(absl::Milliseconds(5));
  context.TryCancel();
  while (reader->Read(&event)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  // The server goes on: another refinement runs to the end.
  const Stream s = Refine(PaperRequest());
  EXPECT_TRUE(s.status.ok()) << s.status.error_message();
  EXPECT_EQ(s.Sequence(), "SPAF");
}

TEST_F(RubricServiceTest, WithoutAStartingRubricOneIsGeneratedFirst) {
  pb::RefineRubricRequest r = PaperRequest("oracle");
  r.clear_rubric();
  r.mutable_refine()->set_iterations(1);
  const Stream s = Refine(r);
  ASSERT_TRUE(s.status.ok()) << s.status.error_message();
  ASSERT_GE(s.events.size(), 2u);
  EXPECT_EQ(s.Sequence().front(), 'G') << s.Sequence();
  EXPECT_EQ(s.Sequence().back(), 'F');
  EXPECT_EQ(s.events[0].generated().version().origin(), "generated");
  EXPECT_EQ(s.Final().lineage(0).origin(), "generated");
}

TEST_F(RubricServiceTest, GenerateRubricAsksTheProposer) {
  pb::GenerateRubricRequest r;
  r.set_prompt("How should an adult treat a mild fever at home?");
  r.mutable_options()->set_proposer("oracle");
  r.set_rubric_id("fever");
  grpc::ClientContext context;
  context.set_wait_for_ready(true);
  pb::GenerateRubricResponse response;
  const grpc::Status status = stub_->GenerateRubric(&context, r, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.rubric().id(), "fever");
  EXPECT_GT(response.rubric().criteria_size(), 0);
  EXPECT_FALSE(response.rubric().version().empty());
  EXPECT_EQ(response.provenance().origin(), "generated");
  EXPECT_EQ(response.provenance().proposer(), "oracle");
}

TEST_F(RubricServiceTest, GenerateRubricWithAnUnusableAnswerIsAborted) {
  pb::GenerateRubricRequest r;
  r.set_prompt("How should an adult treat a mild fever at home?");
  r.mutable_options()->set_proposer("garbage");
  grpc::ClientContext context;
  context.set_wait_for_ready(true);
  pb::GenerateRubricResponse response;
  const grpc::Status status = stub_->GenerateRubric(&context, r, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_THAT(status.error_message(), HasSubstr("proposer 'garbage'"));
}

TEST_F(RubricServiceTest, BadInputIsRefusedNamingTheField) {
  struct Case {
    std::string name;
    pb::RefineRubricRequest request;
    grpc::StatusCode code;
    std::string message;
  };
  std::vector<Case> cases;
  auto add = [&](std::string name, grpc::StatusCode code, std::string message,
                 auto edit) {
    pb::RefineRubricRequest r = PaperRequest();
    edit(r);
    cases.push_back({std::move(name), std::move(r), code, std::move(message)});
  };
  const auto kInvalid = grpc::StatusCode::INVALID_ARGUMENT;
  add("no candidates", kInvalid, "candidates: need at least 2",
      [](pb::RefineRubricRequest& r) { r.clear_candidates(); });
  add("one candidate", kInvalid, "candidates: need at least 2",
      [](pb::RefineRubricRequest& r) { r.mutable_candidates()->RemoveLast(); });
  add("duplicates", kInvalid, "candidates[1].text duplicates candidates[0]",
      [](pb::RefineRubricRequest& r) {
        r.mutable_candidates(1)->set_text(r.candidates(0).text());
      });
  add("oversized", kInvalid, "candidates[0].text is",
      [](pb::RefineRubricRequest& r) {
        r.mutable_candidates(0)->set_text(std::string(300 << 10, 'x'));
      });
  add("unknown proposer", kInvalid, "unknown proposer 'nobody'",
      [](pb::RefineRubricRequest& r) {
        r.mutable_proposer()->set_proposer("nobody");
      });
  add("bad rubric", kInvalid, "rubric: ", [](pb::RefineRubricRequest& r) {
    r.mutable_rubric()->mutable_criteria(0)->set_text("");
  });
  add("unknown judge", kInvalid,
      "verifier.judge: ", [](pb::RefineRubricRequest& r) {
        r.mutable_verifier()->set_judge("nobody");
      });
  add("bad weights", kInvalid, "proposer.min_weight/max_weight",
      [](pb::RefineRubricRequest& r) {
        r.mutable_proposer()->set_min_weight(3);
        r.mutable_proposer()->set_max_weight(1);
      });
  add("unknown set", grpc::StatusCode::NOT_FOUND, "rubric_ref.rubric_set",
      [](pb::RefineRubricRequest& r) {
        r.mutable_rubric_ref()->set_rubric_set("nowhere");
      });
  for (const Case& c : cases) {
    const grpc::Status status = RefineError(c.request);
    EXPECT_EQ(status.error_code(), c.code)
        << c.name << ": " << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(c.message)) << c.name;
  }
}

TEST(RubricServiceWithoutProposersTest, SaysWhatToConfigure) {
  RewarddProcess server({"--metrics_listen="});
  absl::Status started = server.Start();
  ASSERT_TRUE(started.ok()) << started << server.Log();
  auto stub = pb::RubricService::NewStub(grpc::CreateChannel(
      server.address(), grpc::InsecureChannelCredentials()));
  pb::GenerateRubricRequest r;
  r.set_prompt("How should an adult treat a mild fever at home?");
  grpc::ClientContext context;
  context.set_wait_for_ready(true);
  pb::GenerateRubricResponse response;
  const grpc::Status status = stub->GenerateRubric(&context, r, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("\"proposers\" list"));
}

}  // namespace
}  // namespace rewardd

// The whole path: reward-cli's client -> rewardd (a real process) -> HTTP ->
// judge-sim (a real HTTP server on 127.0.0.1). With judge-sim answering the
// paper's verdicts, "Chasing the Tail"'s worked example scores 18/20 vs
// 18/20 (initial rubric) and 25/27 vs 22/27 (refined). Judge failures come
// back as statuses and valid=false, never as a quiet 0.
#include <fstream>

#include "absl/strings/str_cat.h"
#include "client/reward_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/judge_test_support.h"
#include "tests/integration/rewardd_process.h"
#include "tools/judge-sim/judge_sim.h"

namespace rewardd {
namespace {

namespace pb = reward::v1;
using ::rewardd::testing::ReadFile;
using ::rewardd::testing::RewarddProcess;
using ::rewardd::testing::TempDir;
using ::testing::HasSubstr;

const std::string kPaper = std::string(REWARDD_SHARED_DATA) +
                           "/chasing_the_tail/paper_appendix_example.json";

class HttpJudgeE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    paper_ = nlohmann::json::parse(ReadFile(kPaper));
    // judge-sim's oracle: the paper's 0/1 verdict per response and criterion.
    nlohmann::json oracle = {{"responses", paper_["responses"]},
                             {"verdicts", nlohmann::json::object()}};
    for (const char* which : {"initial_rubric", "refined_rubric"}) {
      for (const auto& c : paper_[which]) {
        for (const char* r : {"R1", "R2"}) {
          oracle["verdicts"][r][c["criterion"].get<std::string>()] = c[r];
        }
      }
    }
    dir_.Write("oracle.json", oracle.dump());
    SimOptions sim_options;
    sim_options.oracle_file = dir_.path() + "/oracle.json";
    auto sim = JudgeSim::Start(sim_options);
    ASSERT_TRUE(sim.ok()) << sim.status();
    sim_ = std::move(*sim);
    SimOptions slow_options;
    slow_options.latency_mean = absl::Seconds(3);
    auto slow = JudgeSim::Start(slow_options);
    ASSERT_TRUE(slow.ok()) << slow.status();
    slow_ = std::move(*slow);

    nlohmann::json pool = {{"max_attempts", 2},
                           {"initial_backoff_ms", 10},
                           {"max_backoff_ms", 20}};
    nlohmann::json config = {
        {"default", "paper-judge"},
        {"judges",
         {SimJudge("paper-judge", sim_->base_url(), pool,
                   {{"mode", "all_in_one"}}),
          SimJudge("per-criterion", sim_->base_url(), pool,
                   {{"mode", "per_criterion"}}),
          SimJudge("soft", sim_->base_url(), pool,
                   {{"logprobs", true}, {"top_logprobs", 2}}),
          SimJudge("slow", slow_->base_url(), pool),
          // Nothing listens on port 9 of loopback: every call fails.
          SimJudge("down", "http://127.0.0.1:9/v1", pool)}}};
    dir_.Write("judges.json", config.dump());
    dir_.Write("rubrics/chasing_the_tail.json", ReadFile(kPaper));
    server_ = std::make_unique<RewarddProcess>(std::vector<std::string>{
        "--judges_config=" + dir_.path() + "/judges.json",
        "--rubric_dir=" + dir_.path() + "/rubrics", "--metrics_listen="});
    ASSERT_TRUE(server_->Start().ok()) << server_->Log();
    RewardClient::Options options;
    options.target = server_->address();
    options.wait_for_ready = true;
    options.deadline = absl::Seconds(30);
    auto client = RewardClient::Create(options);
    ASSERT_TRUE(client.ok());
    client_ = std::move(*client);
  }

  pb::GradeRequest PaperRequest(const std::string& rubric,
                                const std::string& response) {
    pb::GradeRequest req;
    req.set_request_id(rubric + "/" + response);
    req.set_rubric_set("chasing_the_tail");
    req.set_rubric_id(rubric);
    req.set_response(paper_["responses"][response]);
    return req;
  }

  nlohmann::json paper_;
  TempDir dir_;
  std::unique_ptr<JudgeSim> sim_, slow_;
  std::unique_ptr<RewarddProcess> server_;
  std::unique_ptr<RewardClient> client_;
};

TEST_F(HttpJudgeE2E, ReproducesThePapersRewardsThroughRewardd) {
  for (const char* judge : {"paper-judge", "per-criterion"}) {
    for (const auto& [rubric, expected] :
         {std::pair<std::string, std::string>{"initial", "initial_expected"},
          {"refined", "refined_expected"}}) {
      for (const char* r : {"R1", "R2"}) {
        pb::GradeRequest req = PaperRequest(rubric, r);
        req.mutable_options()->set_judge(judge);
        auto result = client_->Grade(req);
        ASSERT_TRUE(result.ok()) << result.status();
        const std::string fraction = paper_[expected][r];
        EXPECT_TRUE(result->valid()) << result->invalid_reason();
        EXPECT_EQ(absl::StrCat(result->score(), "/", result->max_score()),
                  fraction)
            << judge << " " << rubric << " " << r;
        EXPECT_EQ(result->judge(), judge);
        for (const auto& c : result->criteria()) {
          EXPECT_EQ(c.status(), pb::CriterionResult::OK) << c.id();
        }
      }
    }
  }
}

TEST_F(HttpJudgeE2E, AGroupOfDuplicatesCostsOneJudgeCall) {
  sim_->ResetStats();
  pb::GradeGroupRequest group;
  group.set_rubric_set("chasing_the_tail");
  group.set_rubric_id("refined");
  // The cache is empty (a fresh server): the 8 identical responses are
  // deduplicated while in flight.
  for (int i = 0; i < 8; ++i) group.add_responses(paper_["responses"]["R2"]);
  auto result = client_->GradeGroup(group);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->results_size(), 8);
  for (const auto& r : result->results()) {
    EXPECT_EQ(absl::StrCat(r.score(), "/", r.max_score()), "22/27");
  }
  EXPECT_EQ(sim_->stats().calls, 1);
  // Asked again, the verdicts come from the cache: no call at all.
  auto again = client_->GradeGroup(group);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(sim_->stats().calls, 1);
  EXPECT_TRUE(again->results(0).criteria(0).cached());
  // skip_cache asks the judge again (once per response: no dedup either).
  group.mutable_options()->set_skip_cache(true);
  auto fresh = client_->GradeGroup(group);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(sim_->stats().calls, 1 + 8);
  EXPECT_FALSE(fresh->results(0).criteria(0).cached());
}

TEST_F(HttpJudgeE2E, AJudgeThatIsDownMakesTheResultInvalidNotZero) {
  pb::GradeRequest req = PaperRequest("refined", "R1");
  req.mutable_options()->set_judge("down");
  auto result = client_->Grade(req);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->valid());
  EXPECT_THAT(result->invalid_reason(), HasSubstr("JUDGE_ERROR"));
  for (const auto& c : result->criteria()) {
    EXPECT_EQ(c.status(), pb::CriterionResult::JUDGE_ERROR);
    EXPECT_EQ(c.verdict(), pb::CriterionResult::UNKNOWN);
    EXPECT_FALSE(c.explanation().empty());
  }
  // The server keeps serving the other judges.
  auto ok = client_->Grade(PaperRequest("refined", "R1"));
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->valid());
}

TEST_F(HttpJudgeE2E, ADeadlineShorterThanTheJudgeGivesTimeoutStatuses) {
  RewardClient::Options options;
  options.target = server_->address();
  options.deadline = absl::Seconds(1);  // the slow judge takes 3 s
  options.max_attempts = 1;
  auto client = RewardClient::Create(options);
  ASSERT_TRUE(client.ok());
  pb::GradeRequest req = PaperRequest("initial", "R1");
  req.mutable_options()->set_judge("slow");
  auto result = (*client)->Grade(req);
  // rewardd answers just before the deadline with TIMEOUT statuses; on a
  // loaded machine the answer may miss it (DEADLINE_EXCEEDED). Either way
  // the caller never sees a reward for work that was not done.
  if (result.ok()) {
    EXPECT_FALSE(result->valid());
    EXPECT_EQ(result->reward(), 0);
    for (const auto& c : result->criteria()) {
      EXPECT_EQ(c.status(), pb::CriterionResult::TIMEOUT) << c.id();
    }
  } else {
    EXPECT_EQ(result.status().code(), absl::StatusCode::kDeadlineExceeded);
  }
}

// Votes and soft scores through the public API: GradeOptions.votes is
// honoured (the oracle makes the samples unanimous), CriterionResult.agreement
// and GradeResponse.expected_reward come back.
TEST_F(HttpJudgeE2E, VotesReportAgreementAndLogprobsGiveExpectedReward) {
  sim_->ResetStats();
  pb::GradeRequest req = PaperRequest("refined", "R2");
  req.mutable_options()->set_votes(3);
  req.mutable_options()->set_include_explanations(true);
  auto voted = client_->Grade(req);
  ASSERT_TRUE(voted.ok()) << voted.status();
  EXPECT_EQ(absl::StrCat(voted->score(), "/", voted->max_score()), "22/27");
  // One call asking for n = 3 choices (vote_via_n, the default), and three
  // votes tallied from it.
  EXPECT_EQ(sim_->stats().calls, 1);
  for (const auto& c : voted->criteria()) {
    ASSERT_TRUE(c.has_agreement()) << c.id();
    EXPECT_DOUBLE_EQ(c.agreement(), 1.0) << c.id();
    EXPECT_THAT(c.explanation(), ::testing::HasSubstr("(3 of 3 votes)"))
        << c.id();
  }
  EXPECT_FALSE(voted->has_expected_reward());  // no probabilities

  // Logprobs: P(met) per criterion, and the formula over them.
  pb::GradeRequest soft = PaperRequest("refined", "R2");
  soft.mutable_options()->set_judge("soft");
  auto result = client_->Grade(soft);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(absl::StrCat(result->score(), "/", result->max_score()), "22/27");
  ASSERT_TRUE(result->has_expected_reward());
  double num = 0, den = 0;
  for (const auto& c : paper_["refined_rubric"]) {
    const double w = c["weight"].get<double>();
    const double p = SimConfidence(c["criterion"].get<std::string>());
    num += w * (c["R2"].get<int>() == 1 ? p : 1 - p);
    den += w;
  }
  EXPECT_NEAR(result->expected_reward(), num / den, 1e-6);
  EXPECT_FALSE(result->criteria(0).has_agreement());
}

}  // namespace
}  // namespace rewardd

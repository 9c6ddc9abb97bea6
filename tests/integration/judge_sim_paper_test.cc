// End to end below the gRPC layer: the grading engine -> JudgePool -> HTTP ->
// judge-sim. With an oracle holding the paper's per-criterion verdicts, the
// worked example of "Chasing the Tail" (Appendix I) scores 18/20 vs 18/20 on
// the initial rubric and 25/27 vs 22/27 on the refined one. Also measures
// the prefix sharing of per_criterion prompts for a 16-response group.
#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/grading/grader.h"
#include "server/judge/pool/judges_config.h"
#include "tests/integration/judge_test_support.h"
#include "tools/judge-sim/judge_sim.h"

namespace rewardd {
namespace {

absl::StatusOr<GradeResult> GradeSync(const Grader& grader,
                                      std::shared_ptr<const GradeInput> in) {
  absl::Notification done;
  absl::StatusOr<GradeResult> out = absl::UnknownError("not called");
  grader.Grade(std::move(in), "", ScoringOptions{},
               [&](absl::StatusOr<GradeResult> r) {
                 out = std::move(r);
                 done.Notify();
               });
  done.WaitForNotification();
  return out;
}

TEST(JudgeSimPaperTest, ReproducesThePapersScoresOverHttp) {
  const nlohmann::json paper = PaperExampleJson();
  // The oracle: the paper's 0/1 verdicts per response and criterion text.
  const nlohmann::json oracle = PaperOracle(paper);
  const std::string oracle_path = ::testing::TempDir() + "/paper_oracle.json";
  std::ofstream(oracle_path) << oracle.dump();

  SimOptions o;
  o.oracle_file = oracle_path;
  absl::StatusOr<std::unique_ptr<JudgeSim>> sim = JudgeSim::Start(o);
  ASSERT_TRUE(sim.ok()) << sim.status();

  nlohmann::json config = {{"judges",
                            {{{"name", "paper-judge"},
                              {"model", "judge-sim"},
                              {"mode", "all_in_one"},
                              {"replicas", {(*sim)->base_url()}}}}}};
  absl::StatusOr<std::vector<std::shared_ptr<Judge>>> judges =
      BuildJudges(config, ".");
  ASSERT_TRUE(judges.ok()) << judges.status();
  JudgeRegistry registry;
  ASSERT_TRUE(registry.Add((*judges)[0]).ok());
  Grader grader(&registry);

  for (const auto& [which, expected] :
       {std::pair<const char*, const char*>{"initial_rubric",
                                            "initial_expected"},
        {"refined_rubric", "refined_expected"}}) {
    auto rubric = PaperRubric(paper, which, which);
    for (const char* r : {"R1", "R2"}) {
      auto in = std::make_shared<GradeInput>();
      in->rubric = rubric;
      in->prompt = rubric->prompt;
      in->response = paper["responses"][r];
      absl::StatusOr<GradeResult> result = GradeSync(grader, in);
      ASSERT_TRUE(result.ok()) << result.status();
      for (const Verdict& v : result->verdicts) {
        EXPECT_EQ(v.status, CriterionStatus::kOk) << v.explanation;
      }
      ASSERT_TRUE(result->score.valid) << result->score.invalid_reason;
      const std::string got =
          absl::StrCat(result->score.score, "/", result->score.max_score);
      EXPECT_EQ(got, paper[expected][r].get<std::string>())
          << which << " " << r;
    }
  }
  const SimStats s = (*sim)->stats();
  EXPECT_EQ(s.calls, 4);  // one all_in_one call per response and rubric
  EXPECT_EQ(s.oracle_hits, 2 * 9 + 2 * 12);
  ShutdownJudges(*judges);
}

TEST(JudgeSimPaperTest, PerCriterionGroupSharesPromptPrefixes) {
  // A HealthBench prompt with its longest rubric (first 20 criteria) and 16
  // real completions as the group's responses.
  std::ifstream in(std::string(REWARDD_SHARED_DATA) +
                   "/healthbench/healthbench_oss_eval_sample.jsonl");
  std::vector<nlohmann::json> records;
  std::vector<std::string> completions;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    records.push_back(nlohmann::json::parse(line));
    const auto& ideal = records.back()["ideal_completions_data"];
    if (ideal.is_object()) {
      completions.push_back(ideal["ideal_completion"]);
      for (const auto& ref : ideal["ideal_completions_ref_completions"]) {
        completions.push_back(ref);
      }
    }
  }
  ASSERT_GE(completions.size(), 16u);
  const nlohmann::json& record = *std::max_element(
      records.begin(), records.end(), [](const auto& a, const auto& b) {
        return a["rubrics"].size() < b["rubrics"].size();
      });
  auto rubric = std::make_shared<Rubric>();
  rubric->id = record["prompt_id"];
  std::vector<ChatMessage> messages;
  for (const auto& m : record["prompt"])
    messages.push_back({m["role"], m["content"]});
  rubric->prompt = CanonicalPrompt(messages);
  for (const auto& c : record["rubrics"]) {
    if (rubric->criteria.size() == 20) break;
    Criterion crit;
    crit.id = absl::StrCat("c", rubric->criteria.size() + 1);
    crit.text = c["criterion"];
    crit.weight = c["points"];
    rubric->criteria.push_back(crit);
  }
  rubric->version = RubricVersion(*rubric);

  SimOptions o;
  o.capacity = 32;
  absl::StatusOr<std::unique_ptr<JudgeSim>> sim = JudgeSim::Start(o);
  ASSERT_TRUE(sim.ok());
  nlohmann::json config = {{"judges",
                            {{{"name", "hb"},
                              {"model", "judge-sim"},
                              {"mode", "per_criterion"},
                              {"replicas", {(*sim)->base_url()}}}}}};
  auto judges = BuildJudges(config, ".");
  ASSERT_TRUE(judges.ok()) << judges.status();
  JudgeRegistry registry;
  ASSERT_TRUE(registry.Add((*judges)[0]).ok());
  Grader grader(&registry);

  std::vector<absl::Notification> done(16);
  std::vector<absl::StatusOr<GradeResult>> results(16, absl::UnknownError(""));
  for (int i = 0; i < 16; ++i) {
    auto input = std::make_shared<GradeInput>();
    input->rubric = rubric;
    input->messages = messages;
    input->prompt = rubric->prompt;
    input->response = completions[i];
    grader.Grade(input, "", ScoringOptions{},
                 [&, i](absl::StatusOr<GradeResult> r) {
                   results[i] = std::move(r);
                   done[i].Notify();
                 });
  }
  for (int i = 0; i < 16; ++i) {
    done[i].WaitForNotification();
    ASSERT_TRUE(results[i].ok()) << results[i].status();
    for (const Verdict& v : results[i]->verdicts) {
      EXPECT_EQ(v.status, CriterionStatus::kOk);
    }
  }
  const SimStats s = (*sim)->stats();
  EXPECT_EQ(s.per_criterion,
            16 * static_cast<int64_t>(rubric->criteria.size()));
  EXPECT_GE(s.prefix_reuse_share(), 0.9) << s.ToJson();
  RecordProperty("prefix_reuse_share", std::to_string(s.prefix_reuse_share()));
  std::printf("per_criterion group of 16 x %zu: prefix_reuse_share=%.3f\n",
              rubric->criteria.size(), s.prefix_reuse_share());
  ShutdownJudges(*judges);
}

}  // namespace
}  // namespace rewardd

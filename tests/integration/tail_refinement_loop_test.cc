// Issue 19's loop end to end, with real processes only: the rewardd binary,
// the reward-cli binary (run as a subprocess) and judge-sim on loopback as
// the verifier (its quoted-term rule) and as a scripted proposer.
//
//  1. rewardd with --tail_log_dir gets GradeGroup traffic whose groups
//     saturate the rubric "fever" (every response of a group meets every
//     criterion, so the best ones tie at the top) and not "cough" (a unique
//     top); `reward-cli saturated` names "fever" with its counts;
//  2. SIGTERM: the shutdown flush writes the tail log;
//  3. `reward-cli refine --from_tail_log` against a rewardd serving the set
//     and the proposer writes a new version of the set (for review);
//  4. `reward-cli tail-dataset` turns the log into eval groups, and
//     `reward-cli eval-rubrics --groups` on a rewardd holding the old and the
//     new set under different names shows the new version separating the
//     groups the old one tied; `reward-cli get` shows the new rubric's
//     lineage starting at the logged version;
//  5. `reward-cli report` on the log with the two eval files writes a page
//     naming both sets (tail_report_test opens such a page in Chromium).
#include <signal.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/reward_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/judge_test_support.h"
#include "tests/integration/reward_cli_run.h"
#include "tests/integration/rewardd_process.h"
#include "tools/judge-sim/judge_sim.h"

namespace rewardd {
namespace {

namespace pb = reward::v1;
using ::rewardd::testing::ReadFile;
using ::rewardd::testing::ReadJsonl;
using ::rewardd::testing::RewarddProcess;
using ::rewardd::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;
using Cli = ::rewardd::testing::CliRun;

// judge-sim's quoted-term rule grades these exactly: a criterion is met iff
// the response contains every quoted term.
constexpr char kOldSet[] = R"json({"rubrics": [
 {"id": "fever", "prompt": "How should an adult treat a mild fever at home?",
  "criteria": [
    {"id": "c1", "text": "The response mentions \"fluids\"", "weight": 2},
    {"id": "c2", "text": "The response mentions \"rest\"", "weight": 1}]},
 {"id": "cough", "prompt": "What helps a dry cough?",
  "criteria": [
    {"id": "c1", "text": "The response mentions \"honey\"", "weight": 1},
    {"id": "c2", "text": "The response mentions \"humidifier\"",
     "weight": 1}]}]})json";

// Three strong answers that all meet both "fever" criteria (they tie at the
// max), one weak one, and what separates the strong ones: paracetamol and
// when to see a doctor.
constexpr char kA[] = "Rest and drink plenty of fluids.";
constexpr char kB[] =
    "Rest, drink fluids, and take paracetamol if you feel uncomfortable.";
constexpr char kC[] =
    "Rest, drink fluids, take paracetamol if needed, and see a doctor if "
    "the fever lasts more than three days.";
constexpr char kWeak[] = "Take a cold bath.";

// The scripted proposer's answer to a refine call on "fever": the old
// criteria kept (ids named) plus the two that separate A < B < C.
Json ProposerScript() {
  const Json rubric = Json::parse(R"json([
    {"id": "c1", "criterion": "The response mentions \"fluids\"", "weight": 2},
    {"id": "c2", "criterion": "The response mentions \"rest\"", "weight": 1},
    {"criterion": "The response mentions \"paracetamol\"", "weight": 2},
    {"criterion": "The response mentions \"doctor\"", "weight": 1}])json");
  return {{"proposals",
           {{{"when", {"Current rubric:", "fluids"}}, {"rubric", rubric}}}}};
}

class TailRefinementLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.Write("script.json", ProposerScript().dump());
    SimOptions o;
    o.proposer_script = dir_.path() + "/script.json";
    absl::StatusOr<std::unique_ptr<JudgeSim>> sim = JudgeSim::Start(o);
    ASSERT_TRUE(sim.ok()) << sim.status();
    sim_ = *std::move(sim);
    const Json config = {{"judges",
                          {SimJudge("verifier", sim_->base_url(),
                                    Json::object(), {{"mode", "all_in_one"}})}},
                         {"proposers",
                          {{{"name", "scripted"},
                            {"model", "judge-sim"},
                            {"replicas", {sim_->base_url()}}}}}};
    dir_.Write("judges.json", config.dump());
    std::filesystem::create_directories(old_dir());
    dir_.Write("old/triage.json", kOldSet);
    tail_dir_ = dir_.path() + "/tail";
  }

  std::string old_dir() const { return dir_.path() + "/old"; }

  // A rewardd grading with judge-sim by default, with the proposer.
  std::unique_ptr<RewarddProcess> StartRewardd(
      const std::string& rubric_dir, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {
        "--metrics_listen=",
        "--judges_config=" + dir_.path() + "/judges.json",
        "--default_judge=verifier",
        "--rubric_dir=" + rubric_dir,
        "--rubric_poll_seconds=0",
        "--drain_grace_seconds=0",
        "--drain_seconds=2"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto server = std::make_unique<RewarddProcess>(args);
    const absl::Status started = server->Start();
    EXPECT_TRUE(started.ok()) << started << server->Log();
    return started.ok() ? std::move(server) : nullptr;
  }

  Cli Run(const RewarddProcess& server, std::vector<std::string> args) {
    args.push_back("--target=" + server.address());
    args.push_back("--max_attempts=1");
    return ::rewardd::testing::RunRewardCli(work_, args);
  }

  // GradeGroup traffic: 4 groups saturate "fever" (3 distinct sets of tied
  // top responses) and a fifth has a unique top; 3 "cough" groups have a
  // unique top.
  void SendTraffic(RewardClient& client) {
    const std::vector<std::pair<std::string, std::vector<std::string>>> groups =
        {{"fever", {kA, kB, kC}},
         {"fever", {kB, kWeak, kC}},
         {"cough", {"honey", "honey and a humidifier", "tea"}},
         {"fever", {kA, kB, kC}},
         {"fever", {kC, kA, kWeak}},
         {"fever", {kWeak, kA}},
         {"cough", {"a humidifier", "honey, humidifier", "water"}},
         {"cough", {"honey and a humidifier", "tea"}}};
    for (const auto& [rubric_id, responses] : groups) {
      pb::GradeGroupRequest request;
      request.set_rubric_set("triage");
      request.set_rubric_id(rubric_id);
      (*request.mutable_labels())["policy_version"] = "step-300";
      for (const std::string& r : responses) request.add_responses(r);
      absl::StatusOr<pb::GradeGroupResponse> graded =
          client.GradeGroup(request);
      ASSERT_TRUE(graded.ok()) << graded.status();
      ASSERT_EQ(graded->valid_count(), responses.size());
    }
  }

  TempDir dir_;
  TempDir work_;
  std::string tail_dir_;
  std::unique_ptr<JudgeSim> sim_;
};

std::unique_ptr<RewardClient> ClientFor(const RewarddProcess& server) {
  RewardClient::Options options;
  options.target = server.address();
  options.wait_for_ready = true;
  absl::StatusOr<std::unique_ptr<RewardClient>> client =
      RewardClient::Create(options);
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? *std::move(client) : nullptr;
}

// Step 1: the saturated rubric named by `reward-cli saturated` (table and
// JSON, the set filter, an unreachable server); returns fever's logged
// rubric version.
std::string CheckSaturated(
    const std::function<Cli(std::vector<std::string>)>& run) {
  const Cli table = run({"saturated"});
  EXPECT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr("RUBRIC SET"));
  EXPECT_THAT(table.out, HasSubstr("triage"));
  EXPECT_THAT(table.out, HasSubstr("fever"));
  EXPECT_THAT(table.out, Not(HasSubstr("cough")));
  EXPECT_THAT(table.out, HasSubstr(" 4        5   0.80 "));
  const Cli json = run({"saturated", "--json", "--rubric_set=triage"});
  EXPECT_EQ(json.exit_code, 0) << json.err;
  const Json parsed = Json::parse(json.out);
  EXPECT_EQ(parsed["rubrics"].size(), 1u) << json.out;
  if (parsed["rubrics"].size() != 1u) return "";
  const Json& fever = parsed["rubrics"][0];
  EXPECT_EQ(fever["rubric_set"], "triage");
  EXPECT_EQ(fever["rubric_id"], "fever");
  EXPECT_EQ(fever["saturated_groups"], 4);
  EXPECT_EQ(fever["groups"], 5);  // graded since it first saturated
  EXPECT_GT(fever["score"].get<double>(), 0);
  const Cli other = run({"saturated", "--json", "--rubric_set=elsewhere"});
  EXPECT_EQ(other.exit_code, 0) << other.err;
  EXPECT_EQ(Json::parse(other.out)["rubrics"].size(), 0u);
  EXPECT_EQ(run({"saturated", "--limit=-1"}).exit_code, 2);
  return fever["rubric_version"].get<std::string>();
}

TEST_F(TailRefinementLoopTest, SaturatedRubricRefinedFromTheTailLog) {
  // 1. Traffic on a rewardd writing the tail log (every saturated group
  // sampled; the window record only at shutdown).
  std::unique_ptr<RewarddProcess> serving =
      StartRewardd(old_dir(), {"--tail_log_dir=" + tail_dir_,
                               "--tail_log_samples_per_second=1000",
                               "--tail_log_window_seconds=3600"});
  ASSERT_NE(serving, nullptr);
  std::unique_ptr<RewardClient> client = ClientFor(*serving);
  ASSERT_NE(client, nullptr);
  SendTraffic(*client);
  ASSERT_FALSE(HasFatalFailure());
  const std::string logged_version =
      CheckSaturated([&](std::vector<std::string> args) {
        return Run(*serving, std::move(args));
      });
  ASSERT_EQ(logged_version.size(), 16u);
  {
    TempDir scratch;
    const Cli down = ::rewardd::testing::RunRewardCli(
        scratch, {"saturated", "--target=127.0.0.1:1", "--max_attempts=1",
                  "--deadline_seconds=5"});
    EXPECT_EQ(down.exit_code, 1) << down.err;
  }

  // 2. SIGTERM flushes the queued groups and the window.
  serving->Signal(SIGTERM);
  ASSERT_EQ(serving->Wait(), 0) << serving->Log();
  serving.reset();
  int saturated_records = 0, window_records = 0;
  for (const auto& file : std::filesystem::directory_iterator(tail_dir_)) {
    for (const Json& record : ReadJsonl(file.path().string())) {
      if (record["kind"] == "saturated_group") {
        ++saturated_records;
        EXPECT_EQ(record["rubric_id"], "fever");
        EXPECT_EQ(record["rubric_version"], logged_version);
      } else if (record["kind"] == "window") {
        ++window_records;
        EXPECT_EQ(record["groups"], 8);
        EXPECT_EQ(record["tied_at_max_groups"], 4);
      }
    }
  }
  EXPECT_EQ(saturated_records, 4);
  EXPECT_EQ(window_records, 1);

  // 3. Refine from the log against a rewardd serving the old set.
  const std::string new_dir = dir_.path() + "/both";
  std::filesystem::create_directories(new_dir);
  const std::string refined = work_.path() + "/triage_v2.rewardd.json";
  {
    std::unique_ptr<RewarddProcess> refiner = StartRewardd(old_dir());
    ASSERT_NE(refiner, nullptr);
    const Cli run = Run(
        *refiner,
        {"refine", "--from_tail_log=" + tail_dir_, "--rubric_set=triage",
         "--output=" + refined, "--report=" + work_.path() + "/refine.jsonl",
         "--proposer=scripted", "--verifier_judge=verifier", "--iterations=1"});
    ASSERT_EQ(run.exit_code, 0) << run.err << refiner->Log();
    refiner->Signal(SIGTERM);
    EXPECT_EQ(refiner->Wait(), 0) << refiner->Log();
  }
  const Json set = Json::parse(ReadFile(refined));
  EXPECT_EQ(set["provenance"]["produced_by"], "reward-cli refine");
  EXPECT_EQ(set["provenance"]["derived_from"], "triage");
  ASSERT_EQ(set["rubrics"].size(), 1u) << set.dump();
  EXPECT_EQ(set["rubrics"][0]["id"], "fever");
  EXPECT_EQ(set["rubrics"][0]["criteria"].size(), 4u);
  const std::vector<Json> report = ReadJsonl(work_.path() + "/refine.jsonl");
  ASSERT_EQ(report.size(), 1u);
  EXPECT_EQ(report[0]["status"], "refined") << report[0].dump();
  EXPECT_EQ(report[0]["start"], "reference");

  // 4. The logged groups, graded with the old and the new set.
  const std::string groups = work_.path() + "/groups.jsonl";
  const Cli dataset = ::rewardd::testing::RunRewardCli(
      work_, {"tail-dataset", "--tail_log_dir=" + tail_dir_,
              "--rubric_set=triage", "--groups_out=" + groups,
              "--refine_out=" + work_.path() + "/refine_input.jsonl"});
  ASSERT_EQ(dataset.exit_code, 0) << dataset.err;
  EXPECT_EQ(ReadJsonl(groups).size(), 3u) << ReadFile(groups);
  std::filesystem::copy_file(old_dir() + "/triage.json",
                             new_dir + "/triage.json");
  std::filesystem::copy_file(refined, new_dir + "/triage_v2.rewardd.json");
  std::unique_ptr<RewarddProcess> evaluator = StartRewardd(new_dir);
  ASSERT_NE(evaluator, nullptr);
  Json eval[2];
  const char* sets[2] = {"triage", "triage_v2"};
  for (int i = 0; i < 2; ++i) {
    const std::string out = work_.path() + "/eval_" + sets[i] + ".json";
    const Cli run =
        Run(*evaluator, {"eval-rubrics", "--groups=" + groups,
                         std::string("--sets=") + sets[i],
                         "--verifier_judge=verifier", "--json_out=" + out});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    const Json e = Json::parse(ReadFile(out));
    ASSERT_EQ(e["sets"].size(), 1u);
    eval[i] = e["sets"][0];
    EXPECT_EQ(eval[i]["rubric_set"], sets[i]);
    EXPECT_EQ(eval[i]["groups"], 3);
    EXPECT_EQ(eval[i]["errors"], 0);
  }
  EXPECT_EQ(eval[0]["tied_top_groups"], 3);
  EXPECT_EQ(eval[0]["separated_groups"], 0);
  EXPECT_EQ(eval[1]["tied_top_groups"], 0);
  EXPECT_EQ(eval[1]["separated_groups"], 3);

  // The loaded new set says which lineage version it is.
  const Cli got = Run(*evaluator, {"get", "--set=triage_v2", "--id=fever"});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  const Json rubric = Json::parse(got.out);
  ASSERT_EQ(rubric["lineage"].size(), 2u) << got.out;
  EXPECT_EQ(rubric["lineage"][0]["version"], logged_version);
  EXPECT_EQ(rubric["lineage"][1]["parent_version"], logged_version);
  EXPECT_EQ(rubric["lineage"][1]["origin"], "refined");
  EXPECT_EQ(rubric["lineage"][1]["proposer"], "scripted");
  EXPECT_EQ(rubric["lineage"][1]["version"], rubric["rubric"]["version"]);
  evaluator->Signal(SIGTERM);
  EXPECT_EQ(evaluator->Wait(), 0) << evaluator->Log();

  // 5. The tail report with both eval results.
  const std::string page = work_.path() + "/tail.html";
  const Cli html = ::rewardd::testing::RunRewardCli(
      work_, {"report", "--tail_log_dir=" + tail_dir_, "--rubric_set=triage",
              "--eval", work_.path() + "/eval_triage.json", "--eval",
              work_.path() + "/eval_triage_v2.json", "--output=" + page});
  ASSERT_EQ(html.exit_code, 0) << html.err;
  const std::string text = ReadFile(page);
  EXPECT_THAT(text, HasSubstr("triage_v2"));
  EXPECT_THAT(text, HasSubstr("rubric set <code>triage</code>"));
}

}  // namespace
}  // namespace rewardd

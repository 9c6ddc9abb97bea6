// reward-cli's rubric commands end to end: the reward-cli BINARY (run as a
// subprocess) against the rewardd binary, with judge-sim on loopback as the
// verifier (the paper's verdicts as its oracle) and as proposers (scripted
// to answer the paper's refined rubric, garbage, down).
//
// Golden: the worked example of "Chasing the Tail" (Appendix I) through
// `reward-cli refine` -> a rubric set file -> a SECOND rewardd loading it
// with --rubric_dir grades R1/R2 at 25/27 vs 22/27 and reports the lineage;
// `reward-cli eval-rubrics` then shows the initial set tying the pair and
// the refined one separating it. Resume, proposer failures (every prompt
// still in the output, exit code 3) and bad input (exit 1 naming the
// record, nothing written).
#include <signal.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
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
using ::rewardd::testing::RewarddProcess;
using ::rewardd::testing::TempDir;
using ::testing::HasSubstr;
using Json = nlohmann::json;

using Cli = ::rewardd::testing::CliRun;
using ::rewardd::testing::ReadJsonl;

// Runs reward-cli against `target`, one attempt per call.
Cli RunCli(const TempDir& dir, const std::string& target,
           std::vector<std::string> args) {
  args.push_back("--target=" + target);
  args.push_back("--max_attempts=1");
  return ::rewardd::testing::RunRewardCli(dir, args);
}

// The paper's example as one refine input record (the paper code's shape
// plus its initial rubric inline, in the paper's own criterion keys).
Json PaperRecord(const Json& paper, const std::string& id,
                 bool with_rubric = true) {
  Json record = {
      {"id", id},
      {"prompt", paper["prompt"]},
      {"responses",
       {{{"generator", "R1"}, {"response", paper["responses"]["R1"]}},
        {{"generator", "R2"}, {"response", paper["responses"]["R2"]}}}}};
  if (with_rubric) {
    Json criteria = Json::array();
    for (const Json& c : paper["initial_rubric"]) {
      criteria.push_back({{"local_id", c["local_id"]},
                          {"criterion", c["criterion"]},
                          {"weight", c["weight"]}});
    }
    record["rubric"] = {{"criteria", criteria}};
  }
  return record;
}

class RewardCliRubricsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    paper_ = new Json(PaperExampleJson());
    dir_ = new TempDir();
    dir_->Write("oracle.json", PaperOracle(*paper_).dump());
    dir_->Write("script.json", PaperScriptedRefinement(*paper_).dump());
    SimOptions o;
    o.oracle_file = dir_->path() + "/oracle.json";
    o.proposer_script = dir_->path() + "/script.json";
    sims_ = new std::vector<std::unique_ptr<JudgeSim>>();
    sims_->push_back(StartSim(o));
    SimOptions garbage;
    garbage.faults.rate_garbage = 1;
    sims_->push_back(StartSim(garbage));
    sims_->push_back(StartSim(SimOptions{}));  // the oracle proposer
    SimOptions hang;
    hang.faults.rate_hang = 1;
    sims_->push_back(StartSim(hang));
    std::unique_ptr<JudgeSim> gone = StartSim(SimOptions{});
    const std::string down_url = gone->base_url();
    gone->Stop();
    auto proposer = [](const std::string& name, const std::string& url,
                       Json extra) {
      Json j = {{"name", name},
                {"model", "judge-sim"},
                {"replicas", {url}},
                {"initial_backoff_ms", 10},
                {"max_backoff_ms", 50}};
      j.update(extra);
      return j;
    };
    const Json config = {
        {"judges",
         {SimJudge("verifier", (*sims_)[0]->base_url(), Json::object(),
                   {{"mode", "all_in_one"}})}},
        {"proposers",
         {proposer("scripted", (*sims_)[0]->base_url(), Json::object()),
          proposer("garbage", (*sims_)[1]->base_url(), Json::object()),
          proposer("oracle", (*sims_)[2]->base_url(), Json::object()),
          // Never answers; each call gives up after its timeout, so every
          // prompt takes a while and ends with a rejected proposal.
          proposer("slow", (*sims_)[3]->base_url(),
                   {{"timeout_ms", 300}, {"max_attempts", 1}}),
          proposer("down", down_url, {{"max_attempts", 2}})}}};
    dir_->Write("judges.json", config.dump());
    server_ = new RewarddProcess(
        {"--metrics_listen=", "--judges_config=" + JudgesConfig()});
    absl::Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started << server_->Log();
  }
  static void TearDownTestSuite() {
    delete server_;
    delete sims_;
    delete dir_;
    delete paper_;
  }
  static std::unique_ptr<JudgeSim> StartSim(const SimOptions& o) {
    absl::StatusOr<std::unique_ptr<JudgeSim>> sim = JudgeSim::Start(o);
    EXPECT_TRUE(sim.ok()) << sim.status();
    return *std::move(sim);
  }
  static std::string JudgesConfig() { return dir_->path() + "/judges.json"; }

  // Writes `records` as JSONL into `dir` and returns the path.
  static std::string WriteInput(const TempDir& dir, const std::string& name,
                                const std::vector<Json>& records) {
    std::string text;
    for (const Json& r : records) absl::StrAppend(&text, r.dump(), "\n");
    dir.Write(name, text);
    return dir.path() + "/" + name;
  }

  Cli Refine(const TempDir& dir, const std::string& input,
             const std::string& output, const std::string& proposer,
             std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"refine",
                                     "--input=" + input,
                                     "--output=" + output,
                                     "--report=" + dir.path() + "/report.jsonl",
                                     "--proposer=" + proposer,
                                     "--verifier_judge=verifier",
                                     "--concurrency=2"};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunCli(dir, server_->address(), args);
  }

  static Json* paper_;
  static TempDir* dir_;
  static std::vector<std::unique_ptr<JudgeSim>>* sims_;
  static RewarddProcess* server_;
};

Json* RewardCliRubricsTest::paper_ = nullptr;
TempDir* RewardCliRubricsTest::dir_ = nullptr;
std::vector<std::unique_ptr<JudgeSim>>* RewardCliRubricsTest::sims_ = nullptr;
RewarddProcess* RewardCliRubricsTest::server_ = nullptr;

TEST_F(RewardCliRubricsTest, GoldenPaperExampleRefinedLoadedAndEvaluated) {
  TempDir work;
  TempDir rubric_dir;
  const std::string input = work.path() + "/paper_input.json";
  work.Write("paper_input.json",
             Json::array({PaperRecord(*paper_, "paper")}).dump());
  const std::string output = rubric_dir.path() + "/refined.rewardd.json";
  const Cli run = Refine(work, input, output, "scripted");
  ASSERT_EQ(run.exit_code, 0) << run.err;

  // The report: the tie at 18/20, the pair, the accepted proposal, the tie
  // broken after.
  const std::vector<Json> report = ReadJsonl(work.path() + "/report.jsonl");
  ASSERT_EQ(report.size(), 1u);
  const Json& r = report[0];
  EXPECT_EQ(r["status"], "refined") << r.dump();
  EXPECT_EQ(r["stop_reason"], "fewer than 2 candidates left (0)");
  ASSERT_EQ(r["iterations"].size(), 1u);
  const Json& it = r["iterations"][0];
  EXPECT_EQ(it["top_score"], 18);
  EXPECT_EQ(it["tied_at_top"], 2);
  EXPECT_EQ(it["pair"]["sources"], Json({"R1", "R2"}));
  EXPECT_EQ(it["proposal"]["diff"]["added"].size(), 3u);
  EXPECT_EQ(r["summary"]["tied_at_top_before"], 2);
  EXPECT_EQ(r["summary"]["tied_at_top_after"], 1);

  // The set file: rewardd's format, the refined rubric with its lineage.
  const Json set = Json::parse(ReadFile(output));
  EXPECT_EQ(set["provenance"]["produced_by"], "reward-cli refine");
  ASSERT_EQ(set["rubrics"].size(), 1u);
  const Json& rubric = set["rubrics"][0];
  EXPECT_EQ(rubric["id"], "paper");
  EXPECT_EQ(rubric["criteria"].size(), 12u);
  ASSERT_EQ(rubric["lineage"].size(), 2u);
  EXPECT_EQ(rubric["lineage"][0]["origin"], "given");
  EXPECT_EQ(rubric["lineage"][1]["origin"], "refined");
  EXPECT_EQ(rubric["lineage"][1]["proposer"], "scripted");
  EXPECT_EQ(rubric["lineage"][1]["parent_version"],
            rubric["lineage"][0]["version"]);
  EXPECT_EQ(rubric["lineage"][1]["pair_sources"], Json({"R1", "R2"}));

  // A second rewardd loads the file as is, beside the initial rubric.
  Json initial = PaperRecord(*paper_, "paper")["rubric"];
  initial["id"] = "paper";
  initial["prompt"] = (*paper_)["prompt"];
  for (Json& c : initial["criteria"]) {
    c["text"] = c["criterion"];
    c["id"] = c["local_id"];
    c.erase("criterion");
    c.erase("local_id");
  }
  rubric_dir.Write("initial.rewardd.json", initial.dump());
  RewarddProcess second(
      {"--metrics_listen=", "--judges_config=" + JudgesConfig(),
       "--rubric_dir=" + rubric_dir.path()});
  ASSERT_TRUE(second.Start().ok()) << second.Log();
  RewardClient::Options options;
  options.target = second.address();
  options.wait_for_ready = true;
  auto client = RewardClient::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  pb::GradeGroupRequest g;
  g.set_rubric_set("refined");
  g.set_rubric_id("paper");
  g.set_prompt((*paper_)["prompt"].get<std::string>());
  g.add_responses((*paper_)["responses"]["R1"].get<std::string>());
  g.add_responses((*paper_)["responses"]["R2"].get<std::string>());
  g.mutable_options()->set_judge("verifier");
  auto graded = (*client)->GradeGroup(g);
  ASSERT_TRUE(graded.ok()) << graded.status();
  ASSERT_EQ(graded->results_size(), 2);
  EXPECT_EQ(graded->results(0).score(), 25);
  EXPECT_EQ(graded->results(0).max_score(), 27);
  EXPECT_EQ(graded->results(1).score(), 22);
  EXPECT_EQ(graded->results(1).max_score(), 27);

  auto got = (*client)->GetRubric("refined", "paper");
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->lineage_size(), 2);
  EXPECT_EQ(got->lineage(1).version(), got->rubric().version());
  EXPECT_EQ(got->lineage(1).parent_version(), got->lineage(0).version());
  EXPECT_EQ(got->lineage(1).origin(), "refined");
  EXPECT_EQ(got->lineage(1).proposer(), "scripted");
  auto sets = (*client)->ListRubricSets();
  ASSERT_TRUE(sets.ok()) << sets.status();
  bool found = false;
  for (const pb::RubricSetInfo& s : sets->sets()) {
    if (s.name() != "refined") continue;
    found = true;
    EXPECT_EQ(s.derived_from(), "paper_input.json");
    EXPECT_EQ(s.produced_by(), "reward-cli refine");
  }
  EXPECT_TRUE(found);

  // eval-rubrics: the initial set ties the pair, the refined one orders it.
  const std::string pairs =
      WriteInput(work, "pairs.jsonl",
                 {{{"rubric_id", "paper"},
                   {"prompt", (*paper_)["prompt"]},
                   {"chosen", (*paper_)["responses"]["R1"]},
                   {"rejected", (*paper_)["responses"]["R2"]}}});
  const std::string groups = WriteInput(
      work, "groups.jsonl",
      {{{"id", "g1"},
        {"rubric_id", "paper"},
        {"prompt", (*paper_)["prompt"]},
        {"responses",
         {(*paper_)["responses"]["R1"], (*paper_)["responses"]["R2"]}}}});
  const std::string json_out = work.path() + "/eval.json";
  const Cli eval = RunCli(work, second.address(),
                          {"eval-rubrics", "--pairs=" + pairs,
                           "--groups=" + groups, "--sets=initial,refined",
                           "--verifier_judge=verifier", "--json", json_out});
  ASSERT_EQ(eval.exit_code, 0) << eval.err;
  const Json e = Json::parse(ReadFile(json_out));
  EXPECT_EQ(e["schema"], "rewardd.eval_rubrics.v1");
  ASSERT_EQ(e["sets"].size(), 2u);
  const Json& before = e["sets"][0];
  const Json& after = e["sets"][1];
  EXPECT_EQ(before["rubric_set"], "initial");
  EXPECT_EQ(before["pairs"], 1);
  EXPECT_EQ(before["accuracy"], 0.0);
  EXPECT_EQ(before["tie_rate"], 1.0);
  EXPECT_EQ(after["accuracy"], 1.0);
  EXPECT_EQ(after["tie_rate"], 0.0);
  EXPECT_EQ(after["top_quartile_pairs"], 1);
  EXPECT_EQ(after["top_quartile_accuracy"], 1.0);
  EXPECT_EQ(before["tied_top_groups"], 1);
  EXPECT_EQ(before["zero_variance_groups"], 1);
  EXPECT_EQ(after["separated_groups"], 1);
  EXPECT_EQ(after["errors"], 0);
}

TEST_F(RewardCliRubricsTest, ResumeSkipsDoneIdsAndRedoesFailedOnes) {
  TempDir work;
  const std::string output = work.path() + "/refined.rewardd.json";
  const std::string first =
      WriteInput(work, "one.jsonl", {PaperRecord(*paper_, "a")});
  ASSERT_EQ(Refine(work, first, output, "scripted").exit_code, 0);
  // Mark the done line: a rerun that skips "a" leaves it as it is.
  std::vector<Json> report = ReadJsonl(work.path() + "/report.jsonl");
  ASSERT_EQ(report.size(), 1u);
  report[0]["marker"] = true;
  // And pretend "b" failed in that run: a rerun does it again.
  Json failed = {{"id", "b"}, {"status", "failed"}, {"reason", "test"}};
  WriteInput(work, "report.jsonl", {report[0], failed});

  const std::string both =
      WriteInput(work, "two.jsonl",
                 {PaperRecord(*paper_, "a"), PaperRecord(*paper_, "b")});
  const Cli rerun = Refine(work, both, output, "scripted");
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_THAT(rerun.err, HasSubstr("1 of 2 prompts already done"));
  report = ReadJsonl(work.path() + "/report.jsonl");
  ASSERT_EQ(report.size(), 2u);
  EXPECT_EQ(report[0]["id"], "a");
  EXPECT_EQ(report[0]["marker"], true);
  EXPECT_EQ(report[1]["id"], "b");
  EXPECT_EQ(report[1]["status"], "refined");
  const Json set = Json::parse(ReadFile(output));
  ASSERT_EQ(set["rubrics"].size(), 2u);
  EXPECT_EQ(set["rubrics"][1]["id"], "b");
  // Nothing left to do: no call at all, exit 0.
  const Cli again = Refine(work, both, output, "scripted");
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.err, HasSubstr("2 of 2 prompts already done"));
}

TEST_F(RewardCliRubricsTest, KilledMidRunLeavesValidFilesAndARerunFinishes) {
  TempDir work;
  const std::string output = work.path() + "/refined.rewardd.json";
  const std::string report = work.path() + "/report.jsonl";
  const std::string input =
      WriteInput(work, "in.jsonl",
                 {PaperRecord(*paper_, "a"), PaperRecord(*paper_, "b"),
                  PaperRecord(*paper_, "c"), PaperRecord(*paper_, "d")});
  const std::string pid_file = work.path() + "/cli.pid";
  const std::string cmd = absl::StrCat(
      REWARDD_BINARY_DIR, "/client/reward-cli refine --input=", input,
      " --output=", output, " --report=", report,
      " --proposer=slow --verifier_judge=verifier --concurrency=1"
      " --flush_seconds=0 --quiet --target=",
      server_->address(), " >/dev/null 2>&1 & echo $! >", pid_file);
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const pid_t pid = std::stoi(ReadFile(pid_file));
  // Kill it once the first prompt is written (or it has finished).
  while (ReadJsonl(report).empty() && kill(pid, 0) == 0) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  kill(pid, SIGKILL);
  while (kill(pid, 0) == 0) absl::SleepFor(absl::Milliseconds(5));
  // Both files are whole: every line and the set parse, and what the report
  // has the set has too (with the starting rubric kept).
  const std::vector<Json> lines = ReadJsonl(report);
  ASSERT_FALSE(lines.empty());
  const Json set = Json::parse(ReadFile(output));
  EXPECT_EQ(set["rubrics"].size(), lines.size());
  for (const Json& line : lines) {
    EXPECT_EQ(line["status"], "rejected_proposals") << line.dump();
  }
  for (const Json& rubric : set["rubrics"]) {
    EXPECT_EQ(rubric["criteria"].size(), 9u);
  }
  // A rerun redoes what had proposals rejected and finishes the rest.
  const Cli rerun = Refine(work, input, output, "scripted");
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err << server_->Log();
  const std::vector<Json> done = ReadJsonl(report);
  ASSERT_EQ(done.size(), 4u);
  for (const Json& line : done) EXPECT_EQ(line["status"], "refined");
  EXPECT_EQ(Json::parse(ReadFile(output))["rubrics"].size(), 4u);
}

TEST_F(RewardCliRubricsTest, ProposerFailuresKeepEveryPromptAndExitThree) {
  for (const std::string proposer : {"garbage", "down"}) {
    TempDir work;
    const std::string output = work.path() + "/refined.rewardd.json";
    const std::string input =
        WriteInput(work, "in.jsonl",
                   {PaperRecord(*paper_, "a"), PaperRecord(*paper_, "b"),
                    PaperRecord(*paper_, "no-start", /*with_rubric=*/false)});
    const Cli run = Refine(work, input, output, proposer);
    EXPECT_EQ(run.exit_code, 3) << proposer << ": " << run.err;
    const std::vector<Json> report = ReadJsonl(work.path() + "/report.jsonl");
    ASSERT_EQ(report.size(), 3u) << proposer;
    for (const Json& line : report) {
      if (line["id"] == "no-start") {
        EXPECT_EQ(line["status"], "failed");
        EXPECT_THAT(line["reason"].get<std::string>(),
                    HasSubstr("generating the starting rubric"));
      } else {
        EXPECT_EQ(line["status"], "rejected_proposals") << line.dump();
        EXPECT_THAT(
            line["reason"].get<std::string>(),
            HasSubstr(proposer == "garbage" ? "no JSON list" : "UNAVAILABLE"));
      }
    }
    // The two prompts with a starting rubric keep it (9 criteria); the one
    // whose generation failed has no rubric to write but is reported.
    const Json set = Json::parse(ReadFile(output));
    ASSERT_EQ(set["rubrics"].size(), 2u) << proposer;
    for (const Json& rubric : set["rubrics"]) {
      EXPECT_EQ(rubric["criteria"].size(), 9u);
      EXPECT_EQ(rubric["refine_status"], "rejected_proposals");
    }
  }
}

TEST_F(RewardCliRubricsTest, BadInputExitsOneNamingTheRecordAndWritesNothing) {
  TempDir work;
  const std::string output = work.path() + "/refined.rewardd.json";
  Json empty = PaperRecord(*paper_, "empty");
  empty["responses"] = Json::array();
  Json no_id = PaperRecord(*paper_, "x");
  no_id.erase("id");
  Json duplicate = PaperRecord(*paper_, "dup");
  duplicate["responses"][1] = duplicate["responses"][0];
  Json same_rubric = PaperRecord(*paper_, "b");
  same_rubric["rubric"]["id"] = "a";
  struct Case {
    Json record;
    std::string proposer;
    std::string message;
  };
  const std::vector<Case> cases = {
      {empty, "scripted",
       "in.jsonl line 2 (id 'empty'): responses: need at least 2"},
      {no_id, "scripted", "in.jsonl line 2: missing field \"id\""},
      {duplicate, "scripted",
       "in.jsonl line 2 (id 'dup'): responses[1] duplicates responses[0]"},
      {same_rubric, "scripted",
       "in.jsonl line 2 (id 'b'): its rubric id 'a' is also the rubric of "
       "in.jsonl line 1"},
      {PaperRecord(*paper_, "b"), "nope", "unknown proposer 'nope'"},
  };
  for (const Case& c : cases) {
    const std::string input =
        WriteInput(work, "in.jsonl", {PaperRecord(*paper_, "a"), c.record});
    const Cli run = Refine(work, input, output, c.proposer);
    EXPECT_EQ(run.exit_code, 1) << run.err;
    EXPECT_THAT(run.err, HasSubstr(c.message));
    EXPECT_EQ(ReadFile(output), "") << c.message;
  }
}

TEST_F(RewardCliRubricsTest, GenerateWritesALoadableSetAndResumes) {
  TempDir work;
  const std::string input = WriteInput(
      work, "prompts.jsonl",
      {{{"id", "fever"},
        {"prompt", "How should an adult treat a mild fever at home?"}},
       {{"id", "chat"},
        {"messages",
         {{{"role", "system"}, {"content", "Be brief."}},
          {{"role", "user"}, {"content", "How do I descale a kettle?"}}}}}});
  const std::string output = work.path() + "/initial.rewardd.json";
  const std::vector<std::string> args = {"generate", "--input=" + input,
                                         "--output=" + output,
                                         "--proposer=oracle"};
  const Cli run = RunCli(work, server_->address(), args);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const Json set = Json::parse(ReadFile(output));
  EXPECT_EQ(set["provenance"]["produced_by"], "reward-cli generate");
  ASSERT_EQ(set["rubrics"].size(), 2u);
  for (const Json& rubric : set["rubrics"]) {
    EXPECT_GT(rubric["criteria"].size(), 0u) << rubric.dump();
    ASSERT_EQ(rubric["lineage"].size(), 1u);
    EXPECT_EQ(rubric["lineage"][0]["origin"], "generated");
    EXPECT_EQ(rubric["lineage"][0]["proposer"], "oracle");
  }
  // Rubrics come in the order their prompts completed.
  for (const Json& rubric : set["rubrics"]) {
    if (rubric["id"] == "chat") {
      ASSERT_TRUE(rubric.contains("messages")) << rubric.dump();
      EXPECT_EQ(rubric["messages"].size(), 2u);
    } else {
      EXPECT_EQ(rubric["id"], "fever");
      EXPECT_EQ(rubric["prompt"],
                "How should an adult treat a mild fever at home?");
    }
  }
  const Cli again = RunCli(work, server_->address(), args);
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.err, HasSubstr("2 of 2 prompts already in"));
}

TEST_F(RewardCliRubricsTest, AnUnreachableServerExitsTwo) {
  TempDir work;
  const std::string input =
      WriteInput(work, "in.jsonl", {PaperRecord(*paper_, "a")});
  const Cli run = RunCli(work, "127.0.0.1:1",
                         {"refine", "--input=" + input,
                          "--output=" + work.path() + "/out.rewardd.json",
                          "--deadline_seconds=5"});
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_THAT(run.err, HasSubstr("cannot reach the server"));
}

}  // namespace
}  // namespace rewardd

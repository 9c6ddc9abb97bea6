// Rubric refinement end to end below the gRPC layer, over real HTTP on
// loopback: the RtD engine grades through the HTTP judge pool (judge-sim as
// verifier, with the paper's per-criterion verdicts as its oracle) and asks
// judge-sim acting as proposer through HttpProposer.
//
// Golden: the worked example of "Chasing the Tail" (Appendix I): the initial
// rubric ties R1 and R2 at 18/20; the scripted proposer answers the paper's
// refined rubric, which scores them 25/27 vs 22/27, the tie reported
// broken; with exclude-used and two responses the loop then stops, saying
// why. Faults: a proposer that answers garbage, is cut off, hangs, or is
// down - the event says so and the previous rubric is kept; a 500 before a
// good answer is retried.
#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/elicitation/http_proposer.h"
#include "server/elicitation/proposal_parser.h"
#include "server/elicitation/rtd_engine.h"
#include "server/grading/grader.h"
#include "server/judge/pool/judges_config.h"
#include "tests/integration/judge_test_support.h"
#include "tests/refinement_event_log.h"
#include "tools/judge-sim/judge_sim.h"

namespace rewardd {
namespace {

using ::testing::HasSubstr;

std::string WriteJson(const std::string& name, const nlohmann::json& j) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << j.dump();
  return path;
}

class RubricRefinementTest : public ::testing::Test {
 protected:
  void SetUp() override {
    paper_ = PaperExampleJson();
    SimOptions o;
    o.oracle_file = WriteJson("paper_oracle.json", PaperOracle(paper_));
    o.proposer_script =
        WriteJson("paper_script.json", PaperScriptedRefinement(paper_));
    absl::StatusOr<std::unique_ptr<JudgeSim>> sim = JudgeSim::Start(o);
    ASSERT_TRUE(sim.ok()) << sim.status();
    sim_ = *std::move(sim);
    const nlohmann::json config = {
        {"judges",
         {SimJudge("verifier", sim_->base_url(), nlohmann::json::object(),
                   {{"mode", "all_in_one"}})}}};
    absl::StatusOr<std::vector<std::shared_ptr<Judge>>> judges =
        BuildJudges(config, ".");
    ASSERT_TRUE(judges.ok()) << judges.status();
    judges_ = *judges;
    ASSERT_TRUE(registry_.Add(judges_[0]).ok());
    absl::StatusOr<std::shared_ptr<CurlMultiLoop>> loop =
        CurlMultiLoop::Create({});
    ASSERT_TRUE(loop.ok());
    loop_ = *loop;
  }
  void TearDown() override {
    ShutdownJudges(judges_);
    // Drop the loop (and its kept-alive connections) before the proposers'
    // simulators stop: a simulator's stop waits for open connections.
    loop_->Shutdown();
    loop_.reset();
    proposer_sims_.clear();
  }

  // A simulator of its own for the proposer, so that faults hit only it.
  JudgeSim* ProposerSim(SimOptions o) {
    absl::StatusOr<std::unique_ptr<JudgeSim>> sim = JudgeSim::Start(o);
    EXPECT_TRUE(sim.ok()) << sim.status();
    proposer_sims_.push_back(*std::move(sim));
    return proposer_sims_.back().get();
  }

  std::shared_ptr<HttpProposer> Proposer(const std::string& base_url,
                                         nlohmann::json extra = {}) {
    nlohmann::json j = {{"name", "sim-proposer"},
                        {"model", "judge-sim"},
                        {"replicas", {base_url}},
                        {"initial_backoff_ms", 10},
                        {"max_backoff_ms", 50}};
    if (extra.is_object()) j.update(extra);
    absl::StatusOr<HttpProposerConfig> c = ParseHttpProposerConfig(j, ".");
    EXPECT_TRUE(c.ok()) << c.status();
    absl::StatusOr<std::shared_ptr<HttpProposer>> p =
        HttpProposer::Create(*c, loop_);
    EXPECT_TRUE(p.ok()) << p.status();
    return *p;
  }

  RefineJob PaperJob() {
    RefineJob job;
    job.prompt = paper_["prompt"];
    job.candidates = {{paper_["responses"]["R1"], "R1"},
                      {paper_["responses"]["R2"], "R2"}};
    job.start = PaperRubric(paper_, "initial_rubric", "paper");
    job.verifier.judge = "verifier";
    return job;
  }

  // Runs `job` and returns its events.
  void Run(RefineJob job, std::shared_ptr<rewardd::Proposer> proposer,
           RefinementEventLog* log) {
    ASSERT_TRUE(
        engine_.Refine(std::move(job), std::move(proposer), log->Callback())
            .ok());
    log->Wait();
  }

  // A run whose proposal is rejected: the rubric is the initial one and the
  // tie is still there.
  std::string RejectedReason(std::shared_ptr<rewardd::Proposer> proposer) {
    RefinementEventLog log;
    Run(PaperJob(), std::move(proposer), &log);
    EXPECT_EQ(log.Sequence(), "SPRF");
    const FinalRefinementEvent f = log.Final();
    const std::string initial =
        PaperRubric(paper_, "initial_rubric", "paper")->version;
    EXPECT_EQ(f.rubric->version, initial);
    EXPECT_EQ(f.lineage.size(), 1u);
    EXPECT_EQ(f.summary.tied_at_top_after, 2u);
    const auto rejected = log.Of<ProposalRejectedEvent>();
    if (rejected.empty()) return "";
    EXPECT_EQ(rejected[0].kept_version, initial);
    return rejected[0].reason;
  }

  nlohmann::json paper_;
  std::unique_ptr<JudgeSim> sim_;
  std::vector<std::shared_ptr<Judge>> judges_;
  JudgeRegistry registry_;
  Grader grader_{&registry_};
  RtdEngine engine_{&grader_};
  std::shared_ptr<CurlMultiLoop> loop_;
  std::vector<std::unique_ptr<JudgeSim>> proposer_sims_;
};

TEST_F(RubricRefinementTest, GoldenPaperExampleBreaksTheTie) {
  RefinementEventLog log;
  Run(PaperJob(), Proposer(sim_->base_url()), &log);
  ASSERT_EQ(log.Sequence(), "SPAF");

  const IterationScoresEvent s = log.Of<IterationScoresEvent>()[0];
  ASSERT_EQ(s.scores.size(), 2u);
  for (const CandidateScore& c : s.scores) {
    EXPECT_TRUE(c.valid) << c.invalid_reason;
    EXPECT_EQ(absl::StrCat(c.score, "/", c.max_score), "18/20") << c.source;
  }
  EXPECT_EQ(s.top_score, 18);
  EXPECT_EQ(s.tied_at_top, 2u);

  const ProposalAcceptedEvent a = log.Of<ProposalAcceptedEvent>()[0];
  ASSERT_EQ(a.pair_scores.size(), 2u);
  EXPECT_EQ(a.pair_scores[0].source, "R1");
  EXPECT_EQ(
      absl::StrCat(a.pair_scores[0].score, "/", a.pair_scores[0].max_score),
      "25/27");
  EXPECT_EQ(
      absl::StrCat(a.pair_scores[1].score, "/", a.pair_scores[1].max_score),
      "22/27");
  ASSERT_EQ(a.rubric->criteria.size(), 12u);
  // Ids: kept and reworded criteria keep theirs; new ones get c10.. c12.
  EXPECT_EQ(a.diff.added.size(), 3u);
  EXPECT_EQ(a.diff.added[0].id, "c10");
  EXPECT_EQ(a.diff.added[0].text,
            "Urgent imaging (contrast CT or MRI/MRV) required to confirm "
            "diagnosis");
  EXPECT_TRUE(a.diff.removed.empty());
  EXPECT_EQ(a.diff.reworded.size(), 6u);
  ASSERT_EQ(a.diff.weight_changes.size(), 1u);
  EXPECT_EQ(a.diff.weight_changes[0].id, "c9");
  EXPECT_EQ(a.version.origin, "refined");
  EXPECT_EQ(a.version.proposer, "sim-proposer");
  EXPECT_EQ(a.version.proposer_model, "judge-sim");
  EXPECT_THAT(a.version.template_version, ::testing::StartsWith("rtd-v1-"));

  const FinalRefinementEvent f = log.Final();
  EXPECT_TRUE(f.ok);
  // Two responses, exclude-used: none left after the first iteration.
  EXPECT_EQ(f.stop_reason, "fewer than 2 candidates left (0)");
  EXPECT_EQ(f.summary.iterations_run, 1u);
  EXPECT_EQ(f.summary.tied_at_top_before, 2u);
  EXPECT_EQ(f.summary.top_pair_gap_before, 0);
  EXPECT_EQ(f.summary.tied_at_top_after, 1u);  // the tie is broken
  EXPECT_EQ(f.summary.top_pair_gap_after, 3);
  ASSERT_EQ(f.lineage.size(), 2u);
  EXPECT_EQ(f.lineage[1].parent_version, f.lineage[0].version);
  EXPECT_EQ(f.lineage[1].pair, (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(f.rubric->version, f.lineage[1].version);

  const SimStats stats = sim_->stats();
  EXPECT_EQ(stats.proposer_calls, 1);
  EXPECT_EQ(stats.proposer_scripted, 1);
}

TEST_F(RubricRefinementTest, GarbageFromTheProposerKeepsTheRubric) {
  // The proposer gets a simulator of its own, so the verifier's answers
  // stay clean.
  SimOptions o;
  o.faults.rate_garbage = 1;
  JudgeSim* proposer_sim = ProposerSim(o);
  const std::string reason = RejectedReason(Proposer(proposer_sim->base_url()));
  EXPECT_THAT(reason, HasSubstr("no JSON list of criteria"));
  // One parse retry (at a higher temperature) before giving up.
  EXPECT_EQ(proposer_sim->stats().proposer_calls, 2);
}

TEST_F(RubricRefinementTest, ATruncatedProposalIsRejectedAsTruncated) {
  SimOptions o;
  o.proposer_script =
      WriteJson("paper_script.json", PaperScriptedRefinement(paper_));
  o.faults.rate_truncate = 1;
  JudgeSim* proposer_sim = ProposerSim(o);
  const std::string reason = RejectedReason(Proposer(proposer_sim->base_url()));
  EXPECT_THAT(reason, HasSubstr("truncated answer"));
  // One retry with twice the token budget.
  EXPECT_EQ(proposer_sim->stats().proposer_calls, 2);
}

TEST_F(RubricRefinementTest, AHangingProposerTimesOutAndTheRubricIsKept) {
  SimOptions o;
  o.faults.rate_hang = 1;
  JudgeSim* proposer_sim = ProposerSim(o);
  const std::string reason = RejectedReason(Proposer(
      proposer_sim->base_url(), {{"timeout_ms", 200}, {"max_attempts", 2}}));
  EXPECT_THAT(reason, HasSubstr("proposer call failed (UNAVAILABLE)"));
  EXPECT_THAT(reason, HasSubstr("timed out"));
  EXPECT_THAT(reason, HasSubstr("2 attempts"));
  proposer_sim->Stop();  // ends the hangs
}

TEST_F(RubricRefinementTest, AProposerThatIsDownIsReportedAndTheRubricKept) {
  JudgeSim* gone = ProposerSim(SimOptions{});
  const std::string url = gone->base_url();
  gone->Stop();  // nothing listens there any more
  const std::string reason =
      RejectedReason(Proposer(url, {{"max_attempts", 3}}));
  EXPECT_THAT(reason, HasSubstr("proposer call failed (UNAVAILABLE)"));
  EXPECT_THAT(reason, HasSubstr("3 attempts"));
}

TEST_F(RubricRefinementTest, AServerErrorIsRetriedBeforeTheProposalCounts) {
  SimFaults faults;
  faults.fail_first = 1;
  faults.fail_first_kind = "500";
  SimOptions o;
  o.proposer_script =
      WriteJson("paper_script.json", PaperScriptedRefinement(paper_));
  o.faults = faults;
  JudgeSim* proposer_sim = ProposerSim(o);
  std::shared_ptr<HttpProposer> proposer = Proposer(proposer_sim->base_url());
  RefinementEventLog log;
  Run(PaperJob(), proposer, &log);
  EXPECT_EQ(log.Sequence(), "SPAF");
  EXPECT_EQ(proposer->stats().retries, 1u);
  EXPECT_EQ(proposer_sim->stats().faults_500, 1);
  EXPECT_EQ(log.Final().summary.tied_at_top_after, 1u);
}

TEST_F(RubricRefinementTest, ADeadlineDuringTheProposerCallEndsTheLoop) {
  SimOptions o;
  o.faults.rate_hang = 1;
  JudgeSim* proposer_sim = ProposerSim(o);
  RefineJob job = PaperJob();
  // Far more than the verifier needs on loopback; the proposer never
  // answers, so the deadline, not a per-call timeout, ends its call.
  job.deadline = absl::Now() + absl::Seconds(4);
  RefinementEventLog log;
  Run(std::move(job), Proposer(proposer_sim->base_url()), &log);
  EXPECT_EQ(log.Sequence(), "SPRF");
  EXPECT_THAT(log.Of<ProposalRejectedEvent>()[0].reason,
              HasSubstr("proposer call failed (DEADLINE_EXCEEDED)"));
  EXPECT_EQ(log.Final().stop_reason, "deadline");
}

TEST_F(RubricRefinementTest, CancellingAbortsAProposerCallInFlight) {
  SimOptions o;
  o.faults.rate_hang = 1;
  JudgeSim* proposer_sim = ProposerSim(o);
  auto cancellation = std::make_shared<Cancellation>();
  RefineJob job = PaperJob();
  job.cancellation = cancellation;
  RefinementEventLog log;
  ASSERT_TRUE(engine_
                  .Refine(std::move(job), Proposer(proposer_sim->base_url()),
                          log.Callback())
                  .ok());
  // Cancel once the proposer call is in the simulator's hands.
  while (proposer_sim->stats().faults_hang == 0) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  cancellation->Cancel();
  log.Wait();
  EXPECT_EQ(log.Sequence(), "SPRF");
  EXPECT_THAT(log.Of<ProposalRejectedEvent>()[0].reason,
              HasSubstr("proposer call failed (CANCELLED)"));
  EXPECT_EQ(log.Final().stop_reason, "cancelled");
}

TEST_F(RubricRefinementTest, ProposalsInFlightAndWaitingAreBounded) {
  SimOptions o;
  o.faults.rate_hang = 1;  // the one call that gets through holds its slot
  JudgeSim* proposer_sim = ProposerSim(o);
  std::shared_ptr<HttpProposer> proposer = Proposer(
      proposer_sim->base_url(), {{"max_in_flight", 1}, {"max_queue", 1}});
  auto cancellation = std::make_shared<Cancellation>();
  std::vector<RefinementEventLog> logs(3);
  for (size_t i = 0; i < logs.size(); ++i) {
    RefineJob job = PaperJob();
    job.rubric_id = absl::StrCat("paper-", i);
    job.cancellation = cancellation;
    ASSERT_TRUE(
        engine_.Refine(std::move(job), proposer, logs[i].Callback()).ok());
  }
  // One proposal in flight, one waiting, the third refused at once.
  auto refused = [&logs] {
    int n = 0;
    for (const RefinementEventLog& log : logs) {
      n += static_cast<int>(log.Of<ProposalRejectedEvent>().size());
    }
    return n;
  };
  while (refused() < 1 || proposer_sim->stats().faults_hang < 1) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  cancellation->Cancel();
  std::map<std::string, int> reasons;
  for (RefinementEventLog& log : logs) {
    log.Wait();
    const auto rejected = log.Of<ProposalRejectedEvent>();
    ASSERT_EQ(rejected.size(), 1u) << log.Sequence();
    const std::string& r = rejected[0].reason;
    reasons[r.substr(r.find('(') + 1, r.find(')') - r.find('(') - 1)]++;
  }
  EXPECT_EQ(reasons["RESOURCE_EXHAUSTED"], 1);
  EXPECT_EQ(reasons["CANCELLED"], 2);
  EXPECT_EQ(proposer_sim->stats().calls, 1);  // never two at once
}

TEST_F(RubricRefinementTest, ABreakerStopsCallingAProposerThatIsDown) {
  // Nothing listens on port 9 of loopback. One failed attempt opens the
  // breaker for longer than the test runs.
  std::shared_ptr<HttpProposer> proposer =
      Proposer("http://127.0.0.1:9/v1", {{"max_attempts", 1},
                                         {"breaker_failures", 1},
                                         {"breaker_open_time_ms", 600000}});
  EXPECT_THAT(RejectedReason(proposer), HasSubstr("UNAVAILABLE"));
  EXPECT_EQ(proposer->stats().attempts, 1u);
  // The next proposal fails at once, without a call.
  EXPECT_THAT(RejectedReason(proposer),
              HasSubstr("circuit breaker open on every replica"));
  EXPECT_EQ(proposer->stats().attempts, 1u);
  EXPECT_EQ(proposer->stats().breaker_refusals, 1u);
}

TEST_F(RubricRefinementTest, ARequestsPerMinuteLimitHoldsTheSecondProposal) {
  SimOptions o;
  o.proposer_script =
      WriteJson("paper_script.json", PaperScriptedRefinement(paper_));
  JudgeSim* proposer_sim = ProposerSim(o);
  // One request a second with a burst of one: of two proposals at once,
  // the second waits for the bucket; both are answered.
  std::shared_ptr<HttpProposer> proposer =
      Proposer(proposer_sim->base_url(),
               {{"requests_per_minute", 60}, {"rate_limit_burst_ms", 1000}});
  std::vector<RefinementEventLog> logs(2);
  for (size_t i = 0; i < logs.size(); ++i) {
    RefineJob job = PaperJob();
    job.rubric_id = absl::StrCat("paper-", i);
    ASSERT_TRUE(
        engine_.Refine(std::move(job), proposer, logs[i].Callback()).ok());
  }
  for (RefinementEventLog& log : logs) {
    log.Wait();
    EXPECT_EQ(log.Sequence(), "SPAF");
  }
  EXPECT_EQ(proposer_sim->stats().proposer_calls, 2);
  EXPECT_GE(proposer->stats().limit_waits, 1u);
}

TEST_F(RubricRefinementTest, GeneratesThenRefinesWithTheOracleProposer) {
  // One simulator is verifier (its quoted-term rule) and oracle proposer.
  JudgeSim* sim = ProposerSim(SimOptions{});
  const nlohmann::json config = {
      {"judges",
       {SimJudge("rules", sim->base_url(), nlohmann::json::object())}}};
  absl::StatusOr<std::vector<std::shared_ptr<Judge>>> judges =
      BuildJudges(config, ".");
  ASSERT_TRUE(judges.ok()) << judges.status();
  // A registry of its own: the judge (and its connections) go when the test
  // ends, before the simulator stops.
  JudgeRegistry registry;
  ASSERT_TRUE(registry.Add((*judges)[0]).ok());
  Grader grader(&registry);
  RtdEngine engine(&grader);
  RefineJob job;
  job.prompt = "How should an adult treat a mild fever at home?";
  job.candidates = {
      {"Rest, drink fluids, and take paracetamol for the fever.", "a"},
      {"Rest, drink fluids, take paracetamol, and monitor the fever.", "b"},
      {"Drink fluids for the fever.", "c"},
      {"An adult with a fever should see a doctor.", "d"}};
  RefinementEventLog log;
  ASSERT_TRUE(
      engine.Refine(std::move(job), Proposer(sim->base_url()), log.Callback())
          .ok());
  log.Wait();
  const std::string sequence = log.Sequence();
  EXPECT_EQ(sequence.substr(0, 1), "G") << sequence;
  EXPECT_EQ(sequence.back(), 'F');
  const FinalRefinementEvent f = log.Final();
  EXPECT_TRUE(f.ok) << f.stop_reason;
  ASSERT_GE(f.lineage.size(), 2u);
  EXPECT_EQ(f.lineage[0].origin, "generated");
  for (size_t i = 1; i < f.lineage.size(); ++i) {
    EXPECT_EQ(f.lineage[i].parent_version, f.lineage[i - 1].version);
  }
  // Every accepted refinement added criteria quoting a term one response of
  // its pair has and the other lacks: each met by exactly one of the two.
  for (const ProposalAcceptedEvent& a : log.Of<ProposalAcceptedEvent>()) {
    if (a.generated) continue;
    ASSERT_FALSE(a.diff.added.empty());
    ASSERT_EQ(a.pair_scores.size(), 2u);
    for (const Criterion& c : a.diff.added) {
      EXPECT_THAT(c.text, HasSubstr("The response mentions"));
      const auto met_by = [&c](const CandidateScore& s) {
        return std::count(s.met.begin(), s.met.end(), c.id);
      };
      EXPECT_EQ(met_by(a.pair_scores[0]) + met_by(a.pair_scores[1]), 1)
          << c.text;
    }
  }
  EXPECT_EQ(sim->stats().proposer_oracle,
            1 + f.summary.proposals_accepted + f.summary.proposals_rejected);
  ShutdownJudges(*judges);
}

TEST_F(RubricRefinementTest, RetryAfterIsHonouredBeforeTheRetry) {
  SimOptions o;
  o.faults.fail_first = 1;
  o.faults.fail_first_kind = "429";
  o.faults.retry_after = absl::Milliseconds(300);
  JudgeSim* proposer_sim = ProposerSim(o);
  // Backoff alone would retry after at most 50 ms (max_backoff_ms).
  std::shared_ptr<HttpProposer> proposer = Proposer(proposer_sim->base_url());
  ProposalRequest req;
  req.kind = ProposalKind::kInitial;
  req.prompt = "How do I treat a mild fever?";
  absl::Notification done;
  absl::StatusOr<ProposerReply> reply = absl::UnknownError("not called");
  proposer->Propose(std::move(req), [&](absl::StatusOr<ProposerReply> r) {
    reply = std::move(r);
    done.Notify();
  });
  done.WaitForNotification();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->attempts, 2);
  EXPECT_GE(reply->elapsed, absl::Milliseconds(300));  // a lower bound only
  EXPECT_TRUE(ParseProposal(reply->text).found);       // the oracle's rubric
  EXPECT_EQ(proposer->stats().retries, 1u);
  EXPECT_EQ(proposer_sim->stats().faults_429, 1);
}

TEST_F(RubricRefinementTest, ProposerConfigErrorsNameTheField) {
  auto parse = [](const nlohmann::json& j) {
    return ParseHttpProposerConfig(j, ".").status();
  };
  EXPECT_THAT(parse({{"name", "p"}, {"model", "m"}}).message(),
              HasSubstr("proposer 'p': replicas"));
  EXPECT_THAT(parse({{"name", "p"}, {"model", "m"}, {"replicas", {"ftp://x"}}})
                  .message(),
              HasSubstr("is not an http(s) URL"));
  EXPECT_THAT(parse({{"name", "p"},
                     {"model", "m"},
                     {"replicas", {"http://x/v1"}},
                     {"max_attempts", 0}})
                  .message(),
              HasSubstr("proposer 'p': max_attempts: must be at least 1"));
  absl::StatusOr<HttpProposerConfig> ok = ParseHttpProposerConfig(
      {{"name", "p"}, {"model", "m"}, {"replicas", {"http://x/v1/"}}}, ".");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->http.replicas[0], "http://x/v1");
  EXPECT_EQ(ok->http.timeout, absl::Seconds(180));  // the proposer default
  EXPECT_EQ(ok->http.temperature, 0);
}

}  // namespace
}  // namespace rewardd

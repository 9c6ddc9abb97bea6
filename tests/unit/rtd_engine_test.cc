// The RtD engine with the embedded judge as verifier (quoted phrases in a
// criterion must occur in the response) and an in-process proposer that
// answers from a function, inline or from its own thread: the event order,
// a refinement that breaks a tie, rejected proposals that keep the rubric,
// generation of a starting rubric, job validation naming the field, the
// verifier failing, cancellation, TOP2_DIVERSE with verdicts shown to the
// proposer, and many refinements at once with no thread blocked per prompt.
#include "server/elicitation/rtd_engine.h"

#include <deque>
#include <functional>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/judge/embedded/embedded_judge.h"
#include "server/judge/judge_registry.h"
#include "tests/refinement_event_log.h"

namespace rewardd {
namespace {

using ::testing::HasSubstr;

using ProposeFn =
    std::function<absl::StatusOr<std::string>(const ProposalRequest&)>;

// Answers with fn(request) as the reply text (or its error), inline or
// from a worker thread of its own.
class FunctionProposer : public Proposer {
 public:
  FunctionProposer(ProposeFn fn, bool threaded)
      : fn_(std::move(fn)), threaded_(threaded) {
    if (threaded_) worker_ = std::thread([this] { Work(); });
  }
  ~FunctionProposer() override {
    if (!threaded_) return;
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    worker_.join();
  }
  const std::string& name() const override { return name_; }
  const std::string& model() const override { return model_; }
  const std::string& template_version() const override { return version_; }
  void Propose(ProposalRequest request, ProposerCallback done) override {
    {
      absl::MutexLock lock(&mu_);
      ++calls_;
      if (threaded_) {
        queue_.emplace_back(std::move(request), std::move(done));
        return;
      }
    }
    Answer(request, std::move(done));
  }
  int calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  // Waits until the worker has answered everything queued and let go of
  // the callbacks (which hold the refinements, which hold this proposer: a
  // test calls it before its last reference goes, so that the worker never
  // destroys, and joins, itself).
  void Drain() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](FunctionProposer* p) ABSL_NO_THREAD_SAFETY_ANALYSIS {
          return p->queue_.empty() && p->busy_ == 0;
        },
        this));
  }

 private:
  void Answer(const ProposalRequest& request, ProposerCallback done) {
    absl::StatusOr<std::string> text = fn_(request);
    if (!text.ok()) return std::move(done)(text.status());
    ProposerReply reply;
    reply.text = *std::move(text);
    reply.model = model_;
    std::move(done)(std::move(reply));
  }
  void Work() {
    while (true) {
      std::pair<ProposalRequest, ProposerCallback> item;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](FunctionProposer* p) ABSL_NO_THREAD_SAFETY_ANALYSIS {
              return p->stop_ || !p->queue_.empty();
            },
            this));
        if (queue_.empty()) return;
        item = std::move(queue_.front());
        queue_.pop_front();
        ++busy_;
      }
      Answer(item.first, std::move(item.second));
      item = {};
      absl::MutexLock lock(&mu_);
      --busy_;
    }
  }

  const ProposeFn fn_;
  const bool threaded_;
  const std::string name_ = "fake", model_ = "fake-model", version_ = "v";
  mutable absl::Mutex mu_;
  std::deque<std::pair<ProposalRequest, ProposerCallback>> queue_
      ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  int busy_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread worker_;
};

std::string Mentions(absl::string_view term) {
  return absl::StrCat("The response mentions \"", term, "\"");
}

std::shared_ptr<const Rubric> StartRubric() {
  auto r = std::make_shared<Rubric>();
  r->id = "fever";
  r->prompt = "What should I do about a fever?";
  const std::pair<const char*, double> criteria[] = {{"fluids", 3},
                                                     {"rest", 2}};
  for (const auto& [term, w] : criteria) {
    Criterion c;
    c.id = absl::StrCat("c", r->criteria.size() + 1);
    c.text = Mentions(term);
    c.weight = w;
    r->criteria.push_back(c);
  }
  r->version = RubricVersion(*r);
  return r;
}

// Four candidates: 0 and 1 tie at the top (fluids + rest), 1 also names
// paracetamol; 2 and 3 score lower.
std::vector<RefineCandidate> Candidates() {
  return {{"Drink fluids and rest.", "m0"},
          {"Drink fluids, rest, and take paracetamol if needed.", "m1"},
          {"Rest a lot.", "m2"},
          {"See a doctor.", "m3"}};
}

// Appends one criterion for a term the second response has and the first
// lacks (or the first has and the second lacks).
absl::StatusOr<std::string> AddDistinguishing(const ProposalRequest& r) {
  std::string json = "[";
  for (const Criterion& c : r.rubric->criteria) {
    absl::StrAppend(&json, "{\"id\": \"", c.id,
                    "\", \"criterion\": ", "\"The response mentions \\\"",
                    c.text.substr(c.text.find('"') + 1,
                                  c.text.rfind('"') - c.text.find('"') - 1),
                    "\\\"\", \"weight\": ", c.weight, "},");
  }
  for (absl::string_view term : {"paracetamol", "doctor", "Rest a lot"}) {
    const bool in_a = absl::StrContains(r.response_a, term);
    const bool in_b = absl::StrContains(r.response_b, term);
    if (in_a != in_b) {
      absl::StrAppend(&json, "{\"criterion\": \"The response mentions \\\"",
                      term, "\\\"\", \"weight\": 2}");
      return json + "]";
    }
  }
  json.pop_back();
  return json + "]";
}

class RtdEngineTest : public ::testing::Test {
 protected:
  RtdEngineTest() {
    EXPECT_TRUE(registry_.Add(std::make_shared<EmbeddedJudge>()).ok());
  }
  RefineJob Job() {
    RefineJob job;
    job.prompt = "What should I do about a fever?";
    job.candidates = Candidates();
    job.start = StartRubric();
    return job;
  }
  JudgeRegistry registry_;
  Grader grader_{&registry_};
  RtdEngine engine_{&grader_};
};

TEST_F(RtdEngineTest, BreaksTheTieAndReportsEveryStep) {
  auto proposer = std::make_shared<FunctionProposer>(AddDistinguishing, true);
  RefinementEventLog events;
  RefineJob job = Job();
  job.refine.iterations = 4;
  ASSERT_TRUE(engine_.Refine(std::move(job), proposer, events.Callback()).ok());
  events.Wait();
  // Iteration 1 refines on {0, 1}; iteration 2 on {2, 3}; then < 2 left.
  EXPECT_EQ(events.Sequence(), "SPASPAF");
  const auto scores = events.Of<IterationScoresEvent>();
  EXPECT_EQ(scores[0].scores.size(), 4u);
  EXPECT_EQ(scores[0].top_score, 5);
  EXPECT_EQ(scores[0].tied_at_top, 2u);
  EXPECT_EQ(scores[1].scores.size(), 2u);  // the used pair was excluded
  const auto pairs = events.Of<PairChosenEvent>();
  EXPECT_EQ(pairs[0].first, 0u);
  EXPECT_EQ(pairs[0].second, 1u);
  const auto accepted = events.Of<ProposalAcceptedEvent>();
  ASSERT_EQ(accepted[0].diff.added.size(), 1u);
  EXPECT_EQ(accepted[0].diff.added[0].id, "c3");
  EXPECT_EQ(accepted[0].diff.added[0].text, Mentions("paracetamol"));
  ASSERT_EQ(accepted[0].pair_scores.size(), 2u);
  EXPECT_EQ(accepted[0].pair_scores[0].score, 5);  // candidate 0
  EXPECT_EQ(accepted[0].pair_scores[1].score, 7);  // candidate 1
  EXPECT_EQ(accepted[1].diff.added[0].id, "c4");   // never reuses an id

  const FinalRefinementEvent f = events.Final();
  EXPECT_TRUE(f.ok);
  EXPECT_THAT(f.stop_reason, HasSubstr("fewer than 2 candidates left"));
  ASSERT_EQ(f.lineage.size(), 3u);
  EXPECT_EQ(f.lineage[0].origin, "given");
  EXPECT_EQ(f.lineage[1].parent_version, f.lineage[0].version);
  EXPECT_EQ(f.lineage[1].pair, (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(f.lineage[1].proposer, "fake");
  EXPECT_EQ(f.lineage[2].parent_version, f.lineage[1].version);
  EXPECT_EQ(f.lineage[2].version, f.rubric->version);
  EXPECT_EQ(f.summary.tied_at_top_before, 2u);
  EXPECT_EQ(f.summary.top_pair_gap_before, 0);
  EXPECT_TRUE(f.summary.after_measured);
  EXPECT_EQ(f.summary.tied_at_top_after, 1u);
  EXPECT_GT(f.summary.top_pair_gap_after, 0);
  EXPECT_EQ(f.summary.proposals_accepted, 2u);
  EXPECT_EQ(f.summary.iterations_run, 2u);
  EXPECT_EQ(engine_.active(), 0u);
  proposer->Drain();
}

TEST_F(RtdEngineTest, UnusableProposalsAreRejectedAndTheRubricIsKept) {
  int call = 0;
  auto proposer = std::make_shared<FunctionProposer>(
      [&call](const ProposalRequest& r) -> absl::StatusOr<std::string> {
        switch (call++) {
          case 0:
            return absl::UnavailableError("proposer down");
          case 1:
            return std::string("The rubric is fine as it is.");
          case 2:
            return RubricAsProposalJson(*r.rubric);  // unchanged
          default:
            return std::string("[{\"criterion\": \"x\", \"weight\": \"y\"}]");
        }
      },
      false);
  RefinementEventLog events;
  RefineJob job = Job();
  job.refine.exclude_used = false;  // four iterations on the same pair
  ASSERT_TRUE(engine_.Refine(std::move(job), proposer, events.Callback()).ok());
  events.Wait();
  EXPECT_EQ(events.Sequence(), "SPRSPRSPRSPRF");
  const auto rejected = events.Of<ProposalRejectedEvent>();
  EXPECT_THAT(rejected[0].reason, HasSubstr("proposer call failed"));
  EXPECT_THAT(rejected[0].reason, HasSubstr("proposer down"));
  EXPECT_THAT(rejected[1].reason, HasSubstr("no JSON list of criteria"));
  EXPECT_THAT(rejected[2].reason, HasSubstr("unchanged"));
  EXPECT_THAT(rejected[3].reason, HasSubstr("criterion #1"));
  const FinalRefinementEvent f = events.Final();
  for (const auto& r : rejected) EXPECT_EQ(r.kept_version, f.rubric->version);
  EXPECT_EQ(f.rubric->version, StartRubric()->version);
  EXPECT_EQ(f.lineage.size(), 1u);
  EXPECT_EQ(f.stop_reason, "iterations done");
  EXPECT_EQ(f.summary.proposals_rejected, 4u);
  EXPECT_EQ(f.summary.tied_at_top_after, f.summary.tied_at_top_before);
}

TEST_F(RtdEngineTest, GeneratesAStartingRubricWhenNoneIsGiven) {
  auto proposer = std::make_shared<FunctionProposer>(
      [](const ProposalRequest& r) -> absl::StatusOr<std::string> {
        if (r.kind == ProposalKind::kInitial) {
          EXPECT_EQ(r.references.size(), 1u);
          return absl::StrCat("[{\"criterion\": \"", "Mentions \\\"fluids\\\"",
                              "\", \"weight\": 2}]");
        }
        return AddDistinguishing(r);
      },
      false);
  RefinementEventLog events;
  RefineJob job = Job();
  job.start = nullptr;
  job.references = {"Fluids and rest."};
  job.refine.iterations = 1;
  ASSERT_TRUE(engine_.Refine(std::move(job), proposer, events.Callback()).ok());
  events.Wait();
  EXPECT_EQ(events.Sequence(), "GSPAF");
  const auto generated = events.Of<ProposalAcceptedEvent>()[0];
  EXPECT_EQ(generated.rubric->criteria[0].id, "c1");
  EXPECT_EQ(generated.rubric->id, PromptDerivedId(Job().prompt));
  const FinalRefinementEvent f = events.Final();
  ASSERT_EQ(f.lineage.size(), 2u);
  EXPECT_EQ(f.lineage[0].origin, "generated");
  EXPECT_EQ(f.lineage[0].proposer_model, "fake-model");
  EXPECT_EQ(f.stop_reason, "iterations done");
}

TEST_F(RtdEngineTest, AFailedGenerationEndsWithANotOkFinalEvent) {
  auto proposer = std::make_shared<FunctionProposer>(
      [](const ProposalRequest&) -> absl::StatusOr<std::string> {
        return std::string("no rubric today");
      },
      false);
  RefinementEventLog events;
  RefineJob job = Job();
  job.start = nullptr;
  ASSERT_TRUE(engine_.Refine(std::move(job), proposer, events.Callback()).ok());
  events.Wait();
  EXPECT_EQ(events.Sequence(), "F");
  const FinalRefinementEvent f = events.Final();
  EXPECT_FALSE(f.ok);
  EXPECT_EQ(f.rubric, nullptr);
  EXPECT_THAT(f.stop_reason, HasSubstr("could not generate"));
}

TEST_F(RtdEngineTest, BadJobsFailNamingTheFieldAndEmitNothing) {
  auto proposer = std::make_shared<FunctionProposer>(AddDistinguishing, false);
  auto expect_error = [&](RefineJob job, absl::string_view field) {
    RefinementEventLog events;
    const absl::Status s =
        engine_.Refine(std::move(job), proposer, events.Callback());
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << field;
    EXPECT_THAT(s.message(), HasSubstr(field));
    EXPECT_TRUE(events.all().empty());
  };
  RefineJob one = Job();
  one.candidates.resize(1);
  expect_error(one, "candidates: need at least 2");
  RefineJob none = Job();
  none.candidates.clear();
  expect_error(none, "got 0");
  RefineJob dup = Job();
  dup.candidates[3].text = dup.candidates[1].text;
  expect_error(dup, "candidates[3].text duplicates candidates[1]");
  RefineJob empty = Job();
  empty.candidates[2].text = "  ";
  expect_error(empty, "candidates[2].text is empty");
  RefineJob big = Job();
  big.candidates[0].text = std::string(300 << 10, 'x');
  expect_error(big, "candidates[0].text is");
  RefineJob weights = Job();
  weights.validation.limits.min_weight = 3;
  weights.validation.limits.max_weight = 1;
  expect_error(weights, "proposer.min_weight/max_weight");
  RefineJob iterations = Job();
  iterations.refine.iterations = 100;
  expect_error(iterations, "refine.iterations");
  RefineJob bad_rubric = Job();
  auto r = std::make_shared<Rubric>(*StartRubric());
  r->criteria[1].id = "c1";
  bad_rubric.start = r;
  expect_error(bad_rubric, "rubric: ");
  RefineJob both = Job();
  both.messages = {{"user", "hi"}};
  expect_error(both, "prompt and messages");
  EXPECT_EQ(proposer->calls(), 0);
}

TEST_F(RtdEngineTest, AVerifierThatFailsEndsTheLoopWithItsReason) {
  auto proposer = std::make_shared<FunctionProposer>(AddDistinguishing, false);
  RefinementEventLog events;
  RefineJob job = Job();
  job.verifier.judge = "no-such-judge";
  ASSERT_TRUE(engine_.Refine(std::move(job), proposer, events.Callback()).ok());
  events.Wait();
  EXPECT_EQ(events.Sequence(), "SF");
  const auto scores = events.Of<IterationScoresEvent>()[0];
  for (const CandidateScore& s : scores.scores) EXPECT_FALSE(s.valid);
  EXPECT_THAT(events.Final().stop_reason, HasSubstr("verifier failed"));
  EXPECT_THAT(events.Final().stop_reason, HasSubstr("no-such-judge"));
  EXPECT_EQ(proposer->calls(), 0);
}

TEST_F(RtdEngineTest, ACancelledRefinementStopsBeforeItsNextStep) {
  auto cancellation = std::make_shared<Cancellation>();
  auto proposer = std::make_shared<FunctionProposer>(
      [cancellation](const ProposalRequest& r) {
        cancellation->Cancel();  // the user gives up during the first call
        return AddDistinguishing(r);
      },
      false);
  RefinementEventLog events;
  RefineJob job = Job();
  job.cancellation = cancellation;
  ASSERT_TRUE(engine_.Refine(std::move(job), proposer, events.Callback()).ok());
  events.Wait();
  // The accepted proposal's pair is still scored (the embedded judge answers
  // a cancelled input with SKIPPED verdicts), then the loop stops.
  EXPECT_EQ(events.Sequence(), "SPAF");
  EXPECT_EQ(events.Final().stop_reason, "cancelled");
  EXPECT_FALSE(events.Final().summary.after_measured);
}

TEST_F(RtdEngineTest, DiversePairSelectionShowsTheProposerTheVerdicts) {
  std::optional<PairVerdicts> seen;
  auto proposer = std::make_shared<FunctionProposer>(
      [&seen](const ProposalRequest& r) {
        seen = r.verdicts;
        return AddDistinguishing(r);
      },
      false);
  RefinementEventLog events;
  RefineJob job = Job();
  job.refine.iterations = 1;
  job.refine.pair_selection = PairStrategy::kTop2Diverse;
  job.refine.top_k = 4;
  job.refine.show_verdicts = true;
  ASSERT_TRUE(engine_.Refine(std::move(job), proposer, events.Callback()).ok());
  events.Wait();
  // Verdicts (fluids, rest): 0 and 1 (1,1), 2 (0,1), 3 (0,0). The most
  // different pair among the top four is 0 and 3 (both criteria differ).
  const PairChosenEvent p = events.Of<PairChosenEvent>()[0];
  EXPECT_EQ(p.first, 0u);
  EXPECT_EQ(p.second, 3u);
  EXPECT_EQ(p.verdict_differences, 2u);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->a, (std::vector<int>{1, 1}));
  EXPECT_EQ(seen->b, (std::vector<int>{0, 0}));
}

TEST_F(RtdEngineTest, ManyRefinementsRunAtOnceWithoutAThreadEach) {
  // One proposer thread serves every refinement: if the engine blocked a
  // thread per prompt, or serialised prompts, this would not finish.
  auto proposer = std::make_shared<FunctionProposer>(AddDistinguishing, true);
  constexpr int kPrompts = 64;
  std::vector<RefinementEventLog> events(kPrompts);
  for (int i = 0; i < kPrompts; ++i) {
    RefineJob job = Job();
    job.rubric_id = absl::StrCat("p", i);
    ASSERT_TRUE(
        engine_.Refine(std::move(job), proposer, events[i].Callback()).ok());
  }
  for (int i = 0; i < kPrompts; ++i) {
    events[i].Wait();
    EXPECT_EQ(events[i].Sequence(), "SPASPAF") << i;
    EXPECT_EQ(events[i].Final().rubric->id, absl::StrCat("p", i));
  }
  EXPECT_EQ(proposer->calls(), 2 * kPrompts);
  EXPECT_EQ(engine_.active(), 0u);
  proposer->Drain();
}

TEST_F(RtdEngineTest, TheNumberOfActiveRefinementsIsBounded) {
  EngineLimits limits;
  limits.max_active = 1;
  RtdEngine engine(&grader_, limits);
  absl::Notification release;
  auto proposer = std::make_shared<FunctionProposer>(
      [&release](const ProposalRequest& r) {
        release.WaitForNotification();  // holds the first refinement
        return AddDistinguishing(r);
      },
      true);
  RefinementEventLog first, second;
  ASSERT_TRUE(engine.Refine(Job(), proposer, first.Callback()).ok());
  const absl::Status s = engine.Refine(Job(), proposer, second.Callback());
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  release.Notify();
  first.Wait();
  EXPECT_TRUE(engine.Refine(Job(), proposer, second.Callback()).ok());
  second.Wait();
  proposer->Drain();
}

}  // namespace
}  // namespace rewardd

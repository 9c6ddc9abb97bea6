// The Refinement-through-Differentiation engine ("Chasing the Tail",
// arXiv 2509.21500): per prompt, iterations of
//   1. score every remaining candidate with the current rubric through the
//      Grader (the verifier sees criteria without weights; a candidate's
//      score is the sum of the weights of the criteria it meets),
//   2. choose a pair (pair_selection.h: the top two, or the most different
//      of the top k),
//   3. ask the proposer for the whole new rubric given the rules, the
//      prompt, the current rubric and the pair (optionally with the
//      verifier's verdicts on it), parse and validate it, and
//   4. replace the rubric - or, when the proposal cannot be used (the call
//      failed, the answer was garbage or cut off, validation failed, nothing
//      changed), keep the previous one and say why: nothing is lost,
// dropping the pair from later iterations (exclude_used, the paper's
// default; the pair is dropped whether or not its proposal was accepted, as
// its iteration was spent), until `iterations` are done or fewer than two
// candidates remain. After an accepted proposal the pair is scored with the
// new rubric (does it now tell them apart?), and at the end every candidate
// is scored with the final rubric for the summary's "after" figures.
// Without a starting rubric one is generated first (rubric_generation.h).
//
//   RtdEngine engine(&grader);
//   absl::Status s = engine.Refine(std::move(job), proposer,
//       [](RefinementEvent e) { ... });  // events, then one FinalEvent
//   if (!s.ok()) { /* bad job: INVALID_ARGUMENT naming the field; no event */ }
//
// Fully asynchronous: Refine() returns at once, each step is started from
// the callback of the one before (judge answers, the proposer's reply), and
// no thread waits for a refinement, so many prompts refine at once on the
// same judge pools. A refinement holds at most one grading per candidate
// and one proposer call in flight; the engine runs at most
// EngineLimits::max_active refinements (more: RESOURCE_EXHAUSTED).
//
// Thread-safety: Refine() from any thread. The grader, its judges and the
// proposer must outlive every refinement (wait for the FinalEvents).
#ifndef REWARDD_SERVER_ELICITATION_RTD_ENGINE_H_
#define REWARDD_SERVER_ELICITATION_RTD_ENGINE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/elicitation/pair_selection.h"
#include "server/elicitation/proposal_validator.h"
#include "server/elicitation/proposer.h"
#include "server/elicitation/refinement_events.h"
#include "server/grading/grader.h"
#include "server/judge/judge.h"

namespace rewardd {

struct RefineCandidate {
  std::string text;
  std::string source;  // optional label (a model name)
};

// Mirrors reward.v1.RefineOptions.
struct RefineSettings {
  uint32_t iterations = 4;  // 0 = 4
  PairStrategy pair_selection = PairStrategy::kTop2;
  uint32_t top_k = 4;  // 0 = 4
  bool exclude_used = true;
  bool show_verdicts = false;
  bool final_rescore = true;
};

// How the verifier grades (mirrors the parts of reward.v1.GradeOptions).
struct VerifierSettings {
  std::string judge;  // "" = the registry's default
  GradingMode mode = GradingMode::kDefault;
  uint32_t chunk_size = 0;
  uint32_t votes = 0;
  bool skip_cache = false;
  ScoringOptions scoring;
};

struct RefineJob {
  // "" = the starting rubric's id, else PromptDerivedId(prompt).
  std::string rubric_id;
  std::string prompt;                 // plain text, or
  std::vector<ChatMessage> messages;  // chat messages (not both)
  std::vector<RefineCandidate> candidates;
  std::shared_ptr<const Rubric> start;  // null = generate one first
  std::vector<std::string> references;  // for generation
  RefineSettings refine;
  ValidationOptions validation;  // limits of proposals
  VerifierSettings verifier;
  absl::Time deadline = absl::InfiniteFuture();
  std::shared_ptr<const Cancellation> cancellation;  // may be null
};

struct EngineLimits {
  size_t max_candidates = 64;
  uint32_t max_iterations = 16;
  uint32_t max_top_k = 16;
  size_t max_candidate_bytes = 256 << 10;
  size_t max_prompt_bytes = 256 << 10;
  size_t max_criteria = 64;  // ceiling of ProposalLimits::max_criteria
  size_t max_active = 4096;  // refinements running at once
};

// INVALID_ARGUMENT naming the field when `job` cannot run: fewer than two
// candidates, an empty or duplicate candidate, sizes over the limits, a
// starting rubric that fails ValidateRubric, bad weight limits, ...
absl::Status ValidateRefineJob(const RefineJob& job,
                               const EngineLimits& limits);

class RtdEngine {
 public:
  explicit RtdEngine(const Grader* grader, EngineLimits limits = {});

  // Validates `job` and starts it. On error no event is emitted; otherwise
  // `on_event` gets every event and exactly one FinalEvent, last.
  absl::Status Refine(RefineJob job, std::shared_ptr<Proposer> proposer,
                      RefinementEventCallback on_event);

  const EngineLimits& limits() const { return limits_; }
  // Refinements started and not yet finished.
  size_t active() const { return active_->load(); }

 private:
  const Grader* grader_;
  const EngineLimits limits_;
  // Shared with running refinements, which may outlive a moved engine.
  std::shared_ptr<std::atomic<size_t>> active_;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_ELICITATION_RTD_ENGINE_H_

// What a refinement reports as it runs: C++ mirrors of the
// reward.v1.RefineRubricEvent messages (protos/reward/v1/rubric_service.proto)
// so the engine needs no protobuf; the gRPC layer converts them.
//
// Order for one refinement: [ProposalAccepted (generated = true)], then per
// iteration IterationScores, PairChosen, and ProposalAccepted or
// ProposalRejected; last a FinalEvent, always exactly one.
//
// Thread-safety: plain values.
#ifndef REWARDD_SERVER_ELICITATION_REFINEMENT_EVENTS_H_
#define REWARDD_SERVER_ELICITATION_REFINEMENT_EVENTS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "server/elicitation/pair_selection.h"
#include "server/elicitation/rubric_diff.h"
#include "server/elicitation/rubric_lineage.h"
#include "server/rubric/rubric.h"

namespace rewardd {

struct CandidateScore {
  uint32_t candidate = 0;
  std::string source;
  double score = 0;
  double max_score = 0;
  bool valid = false;
  std::string invalid_reason;
  std::vector<std::string> met;  // ids of met criteria
  std::vector<int> verdicts;     // per criterion: 1, 0, -1 (no verdict)
};

struct IterationScoresEvent {
  uint32_t iteration = 0;
  std::string rubric_version;
  std::vector<CandidateScore> scores;
  double top_score = 0;
  uint32_t tied_at_top = 0;
};

struct PairChosenEvent {
  uint32_t iteration = 0;
  uint32_t first = 0;
  uint32_t second = 0;
  PairStrategy selection = PairStrategy::kTop2;
  uint32_t verdict_differences = 0;
};

struct ProposalAcceptedEvent {
  uint32_t iteration = 0;  // 0 with generated = true
  bool generated = false;  // the starting rubric, written by the proposer
  std::shared_ptr<const Rubric> rubric;
  RubricDiff diff;
  RubricVersionInfo version;
  std::vector<std::string> warnings;
  std::vector<CandidateScore> pair_scores;  // the pair, new rubric
};

// Why a proposal was rejected, for metrics (the reason text says more).
enum class RejectionKind {
  kProposerError,  // the proposer call failed (down, timeout, breaker, ...)
  kUnusable,       // no readable rubric, cut off, or it failed validation
  kUnchanged,      // the proposal left the rubric as it was
};
// "proposer_error", "unusable", "unchanged".
inline const char* RejectionKindName(RejectionKind kind) {
  switch (kind) {
    case RejectionKind::kProposerError:
      return "proposer_error";
    case RejectionKind::kUnusable:
      return "unusable";
    case RejectionKind::kUnchanged:
      return "unchanged";
  }
  return "unusable";
}

struct ProposalRejectedEvent {
  uint32_t iteration = 0;
  RejectionKind kind = RejectionKind::kUnusable;
  std::string reason;
  std::string kept_version;
};

struct RefinementSummary {
  double top_pair_gap_before = 0;
  uint32_t tied_at_top_before = 0;
  double top_pair_gap_after = 0;
  uint32_t tied_at_top_after = 0;
  uint32_t iterations_run = 0;
  uint32_t proposals_accepted = 0;
  uint32_t proposals_rejected = 0;
  // Whether the figures could be computed (at least two candidates had a
  // valid score with that rubric).
  bool before_measured = false;
  bool after_measured = false;
};

struct FinalRefinementEvent {
  // Null only when no starting rubric existed (generation failed).
  std::shared_ptr<const Rubric> rubric;
  std::vector<RubricVersionInfo> lineage;
  RefinementSummary summary;
  std::string stop_reason;
  // False when the refinement could not run at all (generation failed, the
  // verifier failed on the first scoring); the stop reason says why.
  bool ok = true;
};

using RefinementEvent =
    std::variant<IterationScoresEvent, PairChosenEvent, ProposalAcceptedEvent,
                 ProposalRejectedEvent, FinalRefinementEvent>;

// Called once per event, never concurrently for one refinement, on
// whichever thread finished the step (a judge or HTTP thread): keep it
// short and never block in it.
using RefinementEventCallback = absl::AnyInvocable<void(RefinementEvent)>;

}  // namespace rewardd

#endif  // REWARDD_SERVER_ELICITATION_REFINEMENT_EVENTS_H_

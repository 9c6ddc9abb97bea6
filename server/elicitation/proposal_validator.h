// Turns a parsed proposal into a rubric rewardd can grade with, or says why
// it cannot. What it enforces (ProposalLimits, proposer_templates.h):
//   - text: trimmed; empty items are dropped (a warning each); text longer
//     than max_criterion_chars rejects the proposal;
//   - weights: a weight that is not a number rejects the proposal; a missing
//     one gets min_weight; out of range is clamped into [min, max] (or
//     [-max, -min] for pitfalls); negative weights without allow_pitfalls
//     and zero weights drop the criterion (a warning each);
//   - duplicates: criteria whose normalized text (lower case, words only)
//     is equal, or whose word sets overlap by at least near_duplicate
//     (Jaccard), are merged into the first one, keeping the larger weight;
//   - count: at most max_criteria (the first ones after merging);
//   - ids: an item that names an id of the previous rubric keeps it (a
//     rewording when its text changed); an item whose normalized text equals
//     a previous criterion's keeps that id; every other item gets a fresh id
//     from the lineage's allocator, never one used before in the lineage.
//     Ids the proposer invented are ignored;
//   - the result passes ValidateRubric (a positive weight exists, ...).
// Every change is reported in `warnings`, so nothing is altered silently.
//
//   CriterionIdAllocator ids; ids.Reserve(current);
//   absl::StatusOr<ValidatedProposal> v =
//       ValidateProposal(parse.criteria, &current, options, ids);
//   if (!v.ok()) reject(v.status().message());  // names the criterion
//
// Thread-safety: stateless function; `ids` belongs to the caller.
#ifndef REWARDD_SERVER_ELICITATION_PROPOSAL_VALIDATOR_H_
#define REWARDD_SERVER_ELICITATION_PROPOSAL_VALIDATOR_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/elicitation/criterion_ids.h"
#include "server/elicitation/proposal_parser.h"
#include "server/elicitation/proposer_templates.h"
#include "server/rubric/rubric.h"

namespace rewardd {

struct ValidationOptions {
  ProposalLimits limits;
  // Word-set Jaccard similarity at or above which two criteria are merged.
  double near_duplicate = 0.85;
  size_t max_criterion_chars = 2000;
  // The new rubric's id and prompt (the previous rubric's when null).
  std::string rubric_id;
  std::string prompt;
};

struct ValidatedProposal {
  Rubric rubric;  // validated, version set
  std::vector<std::string> warnings;
};

// `previous` may be null (an initial rubric). `ids` must already hold the
// lineage's ids (previous included); fresh ids are reserved in it only when
// the proposal is accepted (on error `ids` is unchanged).
absl::StatusOr<ValidatedProposal> ValidateProposal(
    const std::vector<ProposedCriterion>& proposal, const Rubric* previous,
    const ValidationOptions& options, CriterionIdAllocator& ids);

// Lower case ASCII words joined by single spaces: what duplicate detection
// and text matching compare.
std::string NormalizeCriterionText(absl::string_view text);

// Jaccard similarity of the word sets of two normalized texts, in [0, 1].
double WordSetSimilarity(absl::string_view a, absl::string_view b);

}  // namespace rewardd

#endif  // REWARDD_SERVER_ELICITATION_PROPOSAL_VALIDATOR_H_

// From proposer replies to rubrics: the one place where an answer is parsed
// (proposal_parser.h) and validated (proposal_validator.h), and the initial
// rubric of a prompt is asked for.
//
//   GenerateJob job;
//   job.prompt = "...";
//   GenerateRubric(proposer, std::move(job), [](absl::StatusOr<GeneratedRubric>
//   g) {
//     if (!g.ok()) { /* the call failed, or the answer had no usable rubric */
//     }
//   });
//
// Thread-safety: the functions are stateless; `done` runs on the proposer's
// callback thread.
#ifndef REWARDD_SERVER_ELICITATION_RUBRIC_GENERATION_H_
#define REWARDD_SERVER_ELICITATION_RUBRIC_GENERATION_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/elicitation/criterion_ids.h"
#include "server/elicitation/proposal_validator.h"
#include "server/elicitation/proposer.h"
#include "server/elicitation/rubric_lineage.h"

namespace rewardd {

// Parses and validates one reply. The error says why the reply cannot be
// used (cut off, no list of criteria, a criterion that fails validation).
absl::StatusOr<ValidatedProposal> ReadProposalReply(
    const ProposerReply& reply, const Rubric* previous,
    const ValidationOptions& options, CriterionIdAllocator& ids);

struct GenerateJob {
  std::string prompt;  // canonical prompt text; required
  std::vector<std::string> references;
  // limits; rubric_id (empty = PromptDerivedId(prompt)); prompt is set here.
  ValidationOptions validation;
  absl::Time deadline = absl::InfiniteFuture();
  std::shared_ptr<const Cancellation> cancellation;
};

struct GeneratedRubric {
  std::shared_ptr<const Rubric> rubric;
  RubricVersionInfo provenance;  // origin "generated", iteration 0
  std::vector<std::string> warnings;
};

using GenerateCallback =
    absl::AnyInvocable<void(absl::StatusOr<GeneratedRubric>) &&>;

// Asks `proposer` for an initial rubric. Errors: the proposer's status for
// a failed call; INVALID_ARGUMENT for an answer that cannot be used.
void GenerateRubric(std::shared_ptr<Proposer> proposer, GenerateJob job,
                    GenerateCallback done);

}  // namespace rewardd

#endif  // REWARDD_SERVER_ELICITATION_RUBRIC_GENERATION_H_

#include "server/elicitation/rubric_generation.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/elicitation/proposal_parser.h"

namespace rewardd {

absl::StatusOr<ValidatedProposal> ReadProposalReply(
    const ProposerReply& reply, const Rubric* previous,
    const ValidationOptions& options, CriterionIdAllocator& ids) {
  ProposalParse parse = ParseProposal(reply.text, reply.truncated);
  if (!parse.found) {
    return absl::InvalidArgumentError(absl::StrCat(
        parse.truncated ? "truncated answer: " : "unusable answer: ",
        parse.error));
  }
  absl::StatusOr<ValidatedProposal> v =
      ValidateProposal(parse.criteria, previous, options, ids);
  if (!v.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid proposal: ", v.status().message()));
  }
  return v;
}

void GenerateRubric(std::shared_ptr<Proposer> proposer, GenerateJob job,
                    GenerateCallback done) {
  ProposalRequest req;
  req.kind = ProposalKind::kInitial;
  req.prompt = job.prompt;
  req.references = std::move(job.references);
  req.limits = job.validation.limits;
  req.deadline = job.deadline;
  req.cancellation = job.cancellation;
  ValidationOptions options = std::move(job.validation);
  options.prompt = job.prompt;
  if (options.rubric_id.empty())
    options.rubric_id = PromptDerivedId(job.prompt);
  Proposer* p = proposer.get();
  p->Propose(
      std::move(req),
      [proposer = std::move(proposer), options = std::move(options),
       done = std::move(done)](absl::StatusOr<ProposerReply> reply) mutable {
        if (!reply.ok()) {
          std::move(done)(reply.status());
          return;
        }
        CriterionIdAllocator ids;
        absl::StatusOr<ValidatedProposal> v =
            ReadProposalReply(*reply, nullptr, options, ids);
        if (!v.ok()) {
          std::move(done)(v.status());
          return;
        }
        GeneratedRubric g;
        g.warnings = std::move(v->warnings);
        auto rubric = std::make_shared<const Rubric>(std::move(v->rubric));
        g.provenance.version = rubric->version;
        g.provenance.origin = "generated";
        g.provenance.proposer = proposer->name();
        g.provenance.proposer_model = reply->model;
        g.provenance.template_version = proposer->template_version();
        g.rubric = std::move(rubric);
        std::move(done)(std::move(g));
      });
}

}  // namespace rewardd

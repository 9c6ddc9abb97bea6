#include "server/service/rubric_service.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "server/elicitation/rubric_generation.h"
#include "server/service/proto_convert.h"
#include "server/service/refine_rubric_reactor.h"
#include "server/service/refinement_proto.h"
#include "server/service/wire_status.h"
#include "server/util/status_macros.h"

namespace rewardd {
namespace {

namespace pb = reward::v1;

// Answers GenerateRubric when the proposer has; cancels its call when the
// client goes away.
class GenerateReactor : public grpc::ServerUnaryReactor {
 public:
  GenerateReactor(Admission* admission, RubricServiceMetrics* metrics)
      : admission_(admission),
        metrics_(metrics),
        cancellation_(std::make_shared<Cancellation>()) {
    admission_->RpcStarted();
  }

  std::shared_ptr<const Cancellation> cancellation() const {
    return cancellation_;
  }
  void Respond(const absl::Status& status) {
    const grpc::Status wire = ToWireStatus(status);
    if (metrics_ != nullptr) {
      metrics_->RequestDone("GenerateRubric", wire.error_code());
    }
    Finish(wire);
  }
  void OnCancel() override { cancellation_->Cancel(); }
  void OnDone() override {
    admission_->RpcDone();
    delete this;
  }

 private:
  Admission* const admission_;
  RubricServiceMetrics* const metrics_;  // null: no metrics
  const std::shared_ptr<Cancellation> cancellation_;
};

// A generation that failed: the proposer's own code for a failed call; an
// answer without a usable rubric is ABORTED, not INVALID_ARGUMENT, because
// the request was fine and another sample may succeed.
absl::Status GenerationError(const absl::Status& status,
                             const std::string& proposer) {
  const absl::StatusCode code = absl::IsInvalidArgument(status)
                                    ? absl::StatusCode::kAborted
                                    : status.code();
  return absl::Status(
      code, absl::StrCat("proposer '", proposer, "': ", status.message()));
}

}  // namespace

RubricServiceImpl::RubricServiceImpl(
    const RubricStore* store, const Grader* grader,
    std::vector<std::shared_ptr<Proposer>> proposers,
    RubricServiceOptions options, Admission* admission,
    prometheus::Registry* registry)
    : store_(store),
      grader_(grader),
      proposers_(std::move(proposers)),
      options_(options),
      admission_(admission),
      metrics_(registry == nullptr
                   ? nullptr
                   : std::make_unique<RubricServiceMetrics>(*registry)),
      engine_(grader, options.engine) {}

absl::StatusOr<std::shared_ptr<Proposer>> RubricServiceImpl::FindProposer(
    const std::string& name) const {
  if (proposers_.empty()) {
    return absl::FailedPreconditionError(
        "no proposer is configured: add a \"proposers\" list to the judges "
        "config (--judges_config) to generate and refine rubrics");
  }
  if (name.empty()) return proposers_.front();
  std::vector<std::string> names;
  for (const std::shared_ptr<Proposer>& p : proposers_) {
    if (p->name() == name) return p;
    names.push_back(p->name());
  }
  return absl::InvalidArgumentError(
      absl::StrCat("proposer.proposer: unknown proposer '", name,
                   "'; configured: ", absl::StrJoin(names, ", ")));
}

absl::Time RubricServiceImpl::Deadline(
    const grpc::CallbackServerContext* context, uint64_t deadline_ms) const {
  const absl::Time own =
      absl::Now() + (deadline_ms == 0 ? options_.default_deadline
                                      : absl::Milliseconds(deadline_ms));
  return std::min(own, absl::FromChrono(context->deadline()));
}

absl::StatusOr<std::shared_ptr<const Rubric>> RubricServiceImpl::StoredRubric(
    const pb::RubricRef& ref, const std::string& prompt) const {
  if (ref.rubric_set().empty()) {
    return absl::InvalidArgumentError("rubric_ref.rubric_set is empty");
  }
  const std::shared_ptr<const StoreSnapshot> snapshot = store_->snapshot();
  const RubricSet* set = snapshot->Find(ref.rubric_set());
  if (set == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "rubric_ref.rubric_set: '", ref.rubric_set(),
        "' is not loaded; ListRubricSets shows the sets there are"));
  }
  const std::shared_ptr<const Rubric>* rubric =
      ref.rubric_id().empty() ? set->FindByPrompt(prompt)
                              : set->FindById(ref.rubric_id());
  if (rubric == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "rubric_ref: rubric set '", set->name, "' has no rubric ",
        ref.rubric_id().empty() ? "written for this prompt; set rubric_id"
                                : absl::StrCat("'", ref.rubric_id(), "'")));
  }
  return *rubric;
}

absl::StatusOr<RefineJob> RubricServiceImpl::BuildJob(
    const pb::RefineRubricRequest& request, absl::Time deadline) const {
  RefineJob job;
  REWARDD_ASSIGN_OR_RETURN(
      job.prompt,
      PromptFromProto(request.prompt(), request.messages(), &job.messages));
  job.messages.clear();  // job.prompt holds their canonical text
  job.candidates.reserve(request.candidates_size());
  for (const pb::CandidateResponse& c : request.candidates()) {
    job.candidates.push_back({c.text(), c.source()});
  }
  if (request.has_rubric()) {
    absl::StatusOr<Rubric> rubric = RubricFromProto(request.rubric());
    if (!rubric.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("rubric: ", rubric.status().message()));
    }
    job.start = std::make_shared<const Rubric>(*std::move(rubric));
  } else if (request.has_rubric_ref()) {
    REWARDD_ASSIGN_OR_RETURN(job.start,
                             StoredRubric(request.rubric_ref(), job.prompt));
  }
  job.refine = RefineSettingsFromProto(request.refine());
  REWARDD_ASSIGN_OR_RETURN(
      job.validation,
      ValidationFromProto(request.proposer(), options_.engine.max_criteria));
  job.verifier = VerifierFromProto(request.verifier());
  if (absl::StatusOr<Judge*> judge = grader_->judges().Find(job.verifier.judge);
      !judge.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("verifier.judge: ", judge.status().message()));
  }
  job.deadline = deadline;
  return job;
}

absl::StatusOr<GenerateJob> RubricServiceImpl::BuildGenerateJob(
    const pb::GenerateRubricRequest& request) const {
  GenerateJob job;
  std::vector<ChatMessage> chat;
  REWARDD_ASSIGN_OR_RETURN(
      job.prompt, PromptFromProto(request.prompt(), request.messages(), &chat));
  if (job.prompt.empty()) {
    return absl::InvalidArgumentError(
        "prompt: required (plain text or messages)");
  }
  if (job.prompt.size() > options_.engine.max_prompt_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("prompt: ", job.prompt.size(), " bytes, more than ",
                     options_.engine.max_prompt_bytes));
  }
  for (int i = 0; i < request.reference_responses_size(); ++i) {
    const std::string& r = request.reference_responses(i);
    if (r.size() > options_.engine.max_candidate_bytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "reference_responses[", i, "]: ", r.size(), " bytes, more than ",
          options_.engine.max_candidate_bytes));
    }
    job.references.push_back(r);
  }
  REWARDD_ASSIGN_OR_RETURN(
      job.validation,
      ValidationFromProto(request.options(), options_.engine.max_criteria));
  job.validation.rubric_id = request.rubric_id();
  return job;
}

grpc::ServerUnaryReactor* RubricServiceImpl::GenerateRubric(
    grpc::CallbackServerContext* context, const pb::GenerateRubricRequest* req,
    pb::GenerateRubricResponse* response) {
  auto* reactor = new GenerateReactor(admission_, metrics_.get());
  absl::Status admit = admission_->Admit(context);
  absl::StatusOr<std::shared_ptr<Proposer>> proposer =
      admit.ok() ? FindProposer(req->options().proposer()) : admit;
  absl::StatusOr<GenerateJob> job =
      proposer.ok() ? BuildGenerateJob(*req) : proposer.status();
  if (!job.ok()) {
    reactor->Respond(job.status());
    return reactor;
  }
  job->deadline = Deadline(context, 0);
  job->cancellation = reactor->cancellation();
  const std::string name = (*proposer)->name();
  rewardd::GenerateRubric(
      *proposer, *std::move(job),
      [reactor, response, name](absl::StatusOr<GeneratedRubric> g) {
        if (!g.ok()) {
          reactor->Respond(GenerationError(g.status(), name));
          return;
        }
        RubricToProto(*g->rubric, response->mutable_rubric());
        RubricVersionInfoToProto(g->provenance, response->mutable_provenance());
        for (const std::string& w : g->warnings) response->add_warnings(w);
        reactor->Respond(absl::OkStatus());
      });
  return reactor;
}

grpc::ServerWriteReactor<pb::RefineRubricEvent>*
RubricServiceImpl::RefineRubric(grpc::CallbackServerContext* context,
                                const pb::RefineRubricRequest* request) {
  return new RefineRubricReactor(
      admission_, context, options_.max_queued_events,
      [&](std::shared_ptr<const Cancellation> cancellation,
          RefinementEventCallback on_event) -> absl::Status {
        REWARDD_ASSIGN_OR_RETURN(std::shared_ptr<Proposer> proposer,
                                 FindProposer(request->proposer().proposer()));
        REWARDD_ASSIGN_OR_RETURN(
            RefineJob job,
            BuildJob(*request, Deadline(context, request->deadline_ms())));
        job.cancellation = std::move(cancellation);
        return engine_.Refine(std::move(job), std::move(proposer),
                              std::move(on_event));
      },
      metrics_.get());
}

}  // namespace rewardd

// The gRPC RubricService (protos/reward/v1/rubric_service.proto) on the
// callback API: GenerateRubric asks a proposer for an initial rubric;
// RefineRubric runs Refinement-through-Differentiation (the RtD engine,
// server/elicitation/rtd_engine.h) and streams its events
// (refine_rubric_reactor.h). The verifier is the request's
// `verifier.judge` through the server's Grader, on the same judge pools as
// RewardService; proposers come from the "proposers" list of the judges
// config (the first is the default).
//
//   RubricServiceImpl service(&store, &grader, proposers,
//                             RubricServiceOptions{}, &admission);
//   builder.RegisterService(&service);
//
// The service is registered whether or not proposers are configured:
// without any, both RPCs answer FAILED_PRECONDITION naming the missing
// "proposers" list of --judges_config, which tells a client what to fix
// where UNIMPLEMENTED would not.
//
// Errors (through wire_status.h): a bad request field is INVALID_ARGUMENT
// naming it (prompt, candidates[i], rubric, proposer.*, refine.*,
// verifier.judge, unknown proposer); an unknown rubric_ref is NOT_FOUND;
// past the engine's max_active refinements RESOURCE_EXHAUSTED.
// GenerateRubric: a proposer call that failed keeps its code (UNAVAILABLE,
// DEADLINE_EXCEEDED, ...); an answer with no usable rubric is ABORTED
// (retrying may help: the proposer samples again). RefineRubric reports
// proposer failures as ProposalRejected events and ends OK.
//
// Thread-safety: all methods are called by gRPC from any thread; the store,
// grader, proposers and admission are thread-safe, per-RPC state lives in
// its reactor.
#ifndef REWARDD_SERVER_SERVICE_RUBRIC_SERVICE_H_
#define REWARDD_SERVER_SERVICE_RUBRIC_SERVICE_H_

#include <cstddef>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "reward/v1/rubric_service.grpc.pb.h"
#include "server/elicitation/proposer.h"
#include "server/elicitation/rtd_engine.h"
#include "server/elicitation/rubric_generation.h"
#include "server/grading/grader.h"
#include "server/metrics/rubric_service_metrics.h"
#include "server/rubric/rubric_store.h"
#include "server/service/admission.h"

namespace rewardd {

struct RubricServiceOptions {
  // Limits of refinement jobs (candidates, iterations, sizes, refinements
  // running at once).
  EngineLimits engine;
  // Whole-refinement / generation deadline when the request sets none
  // (deadline_ms 0) and the client's deadline is later.
  absl::Duration default_deadline = absl::Minutes(10);
  // Events a RefineRubric stream buffers for a client that does not read.
  size_t max_queued_events = 256;
};

class RubricServiceImpl final
    : public reward::v1::RubricService::CallbackService {
 public:
  // `store`, `grader` and `admission` must outlive the service and every
  // refinement it started (Server drains RPCs before destroying it).
  // `proposers`: the default first; may be empty. With `registry` the
  // service exports its rewardd_rubric_service_* series there
  // (server/metrics/rubric_service_metrics.h); null: none.
  RubricServiceImpl(const RubricStore* store, const Grader* grader,
                    std::vector<std::shared_ptr<Proposer>> proposers,
                    RubricServiceOptions options, Admission* admission,
                    prometheus::Registry* registry = nullptr);

  grpc::ServerUnaryReactor* GenerateRubric(
      grpc::CallbackServerContext* context,
      const reward::v1::GenerateRubricRequest* request,
      reward::v1::GenerateRubricResponse* response) override;
  grpc::ServerWriteReactor<reward::v1::RefineRubricEvent>* RefineRubric(
      grpc::CallbackServerContext* context,
      const reward::v1::RefineRubricRequest* request) override;

 private:
  // The proposer named in a request ("" = the default).
  absl::StatusOr<std::shared_ptr<Proposer>> FindProposer(
      const std::string& name) const;
  // A GenerateRubricRequest as a generation job (without deadline and
  // cancellation).
  absl::StatusOr<GenerateJob> BuildGenerateJob(
      const reward::v1::GenerateRubricRequest& request) const;
  // A RefineRubricRequest as an engine job (without cancellation).
  absl::StatusOr<RefineJob> BuildJob(
      const reward::v1::RefineRubricRequest& request,
      absl::Time deadline) const;
  absl::StatusOr<std::shared_ptr<const Rubric>> StoredRubric(
      const reward::v1::RubricRef& ref, const std::string& prompt) const;
  absl::Time Deadline(const grpc::CallbackServerContext* context,
                      uint64_t deadline_ms) const;

  const RubricStore* const store_;
  const Grader* const grader_;
  const std::vector<std::shared_ptr<Proposer>> proposers_;
  const RubricServiceOptions options_;
  Admission* const admission_;
  const std::unique_ptr<RubricServiceMetrics> metrics_;  // null: none
  RtdEngine engine_;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_SERVICE_RUBRIC_SERVICE_H_

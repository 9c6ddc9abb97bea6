// RubricService's Prometheus series (rubric elicitation, see
// docs/rubric-refinement.md): RPCs by method and final code, refinements
// running now, RtD iterations run, and proposals accepted or rejected by
// reason. The service feeds it from its reactors; it speaks plain values,
// so this library needs neither gRPC nor the elicitation engine.
//
//   RubricServiceMetrics m(registry);
//   m.RequestDone("RefineRubric", /*code=*/0);
//   m.RefinementStarted(); ... m.RefinementEnded(/*iterations=*/4);
//   m.ProposalAccepted();  m.ProposalRejected("proposer_error");
//
// Series:
//   rewardd_rubric_service_requests_total{method,code}       counter
//   rewardd_rubric_service_refinements_active                gauge
//   rewardd_rubric_service_refine_iterations_total           counter
//   rewardd_rubric_service_proposals_accepted_total          counter
//   rewardd_rubric_service_proposals_rejected_total{reason}  counter
// `code` is the gRPC status code name (OK, INVALID_ARGUMENT, ...); `reason`
// one of proposer_error (the call failed), unusable (unreadable, cut off or
// invalid), unchanged (the proposal changed nothing). Every series of both
// methods with code OK, and every rejection reason, exist at 0 from the
// start.
//
// Thread-safety: every method may be called from any thread (prometheus-cpp
// metrics are thread-safe; Family::Add takes the family's own lock).
#ifndef REWARDD_SERVER_METRICS_RUBRIC_SERVICE_METRICS_H_
#define REWARDD_SERVER_METRICS_RUBRIC_SERVICE_METRICS_H_

#include <cstdint>

#include "absl/strings/string_view.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace rewardd {

class RubricServiceMetrics {
 public:
  explicit RubricServiceMetrics(prometheus::Registry& registry);

  // An RPC of `method` ended with gRPC status code `code` (its number).
  void RequestDone(absl::string_view method, int code);
  // A refinement the engine accepted started / ended after `iterations`.
  void RefinementStarted();
  void RefinementEnded(uint32_t iterations);
  void ProposalAccepted();
  // `reason`: proposer_error, unusable or unchanged.
  void ProposalRejected(absl::string_view reason);

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Gauge& active_;
  prometheus::Counter& iterations_;
  prometheus::Counter& accepted_;
  prometheus::Family<prometheus::Counter>& rejected_;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_METRICS_RUBRIC_SERVICE_METRICS_H_

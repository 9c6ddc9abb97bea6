#include "server/metrics/rubric_service_metrics.h"

#include <string>

#include "absl/status/status.h"

namespace rewardd {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;

}  // namespace

RubricServiceMetrics::RubricServiceMetrics(prometheus::Registry& registry)
    : requests_(BuildCounter()
                    .Name("rewardd_rubric_service_requests_total")
                    .Help("RubricService RPCs by method and final gRPC code.")
                    .Register(registry)),
      active_(BuildGauge()
                  .Name("rewardd_rubric_service_refinements_active")
                  .Help("RefineRubric refinements running now.")
                  .Register(registry)
                  .Add({})),
      iterations_(
          BuildCounter()
              .Name("rewardd_rubric_service_refine_iterations_total")
              .Help("Refinement-through-Differentiation iterations run.")
              .Register(registry)
              .Add({})),
      accepted_(BuildCounter()
                    .Name("rewardd_rubric_service_proposals_accepted_total")
                    .Help("Proposed rubrics that replaced the current one.")
                    .Register(registry)
                    .Add({})),
      rejected_(BuildCounter()
                    .Name("rewardd_rubric_service_proposals_rejected_total")
                    .Help("Proposed rubrics rejected (the previous rubric "
                          "kept), by reason.")
                    .Register(registry)) {
  for (const char* method : {"GenerateRubric", "RefineRubric"}) {
    requests_.Add({{"method", method}, {"code", "OK"}});
  }
  for (const char* reason : {"proposer_error", "unusable", "unchanged"}) {
    rejected_.Add({{"reason", reason}});
  }
}

void RubricServiceMetrics::RequestDone(absl::string_view method, int code) {
  // gRPC and absl number their status codes alike.
  std::string name =
      absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
  if (name.empty()) name = "UNKNOWN";
  requests_.Add({{"method", std::string(method)}, {"code", name}}).Increment();
}

void RubricServiceMetrics::RefinementStarted() { active_.Increment(); }

void RubricServiceMetrics::RefinementEnded(uint32_t iterations) {
  active_.Decrement();
  iterations_.Increment(static_cast<double>(iterations));
}

void RubricServiceMetrics::ProposalAccepted() { accepted_.Increment(); }

void RubricServiceMetrics::ProposalRejected(absl::string_view reason) {
  rejected_.Add({{"reason", std::string(reason)}}).Increment();
}

}  // namespace rewardd

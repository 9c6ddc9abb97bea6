#include "server/service/wire_status.h"

#include <string>

namespace rewardd {
namespace {

// Domain error -> wire code. absl and gRPC share the canonical code space,
// and every domain error already names what happened, so each code maps to
// itself; what this table fixes is which codes clients can see and where
// they come from (README "Errors" lists them for users).
struct WireMapping {
  absl::StatusCode domain;
  grpc::StatusCode wire;
};
constexpr WireMapping kWireCodes[] = {
    // Request resolver: a named rubric set or rubric is not loaded, or no
    // rubric of the set was written for the prompt. The request may be
    // right and the server's rubrics behind, so not INVALID_ARGUMENT.
    {absl::StatusCode::kNotFound, grpc::StatusCode::NOT_FOUND},
    // Request resolver and service limits: a field is wrong (bad inline
    // rubric, prompt and messages both set, unknown options.judge, over a
    // --max_* limit); a judge pool: more votes than the judge allows.
    // Retrying the same request cannot help.
    {absl::StatusCode::kInvalidArgument, grpc::StatusCode::INVALID_ARGUMENT},
    // Admission (--max_inflight_requests, --max_concurrent_streams) and a
    // judge pool whose queue is full: retry with backoff.
    {absl::StatusCode::kResourceExhausted,
     grpc::StatusCode::RESOURCE_EXHAUSTED},
    // Admission while draining; a judge pool shutting down: retry on
    // another replica (clients and load balancers treat it as retryable).
    {absl::StatusCode::kUnavailable, grpc::StatusCode::UNAVAILABLE},
    // A judge pool could not start the work before the RPC's deadline.
    {absl::StatusCode::kDeadlineExceeded, grpc::StatusCode::DEADLINE_EXCEEDED},
    // Token auth: missing or unknown bearer token.
    {absl::StatusCode::kUnauthenticated, grpc::StatusCode::UNAUTHENTICATED},
};

}  // namespace

grpc::StatusCode WireCode(absl::StatusCode code) {
  for (const WireMapping& m : kWireCodes) {
    if (m.domain == code) return m.wire;
  }
  // No other code reaches the service today. Should one appear, it keeps
  // its canonical meaning rather than being folded into another code.
  return static_cast<grpc::StatusCode>(code);
}

grpc::Status ToWireStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(WireCode(status.code()), std::string(status.message()));
}

void WireErrorToProto(const absl::Status& status,
                      reward::v1::GradeResponse* response) {
  response->set_valid(false);
  response->mutable_error()->set_code(
      static_cast<int>(WireCode(status.code())));
  response->mutable_error()->set_message(std::string(status.message()));
  response->set_invalid_reason(std::string(status.message()));
}

}  // namespace rewardd

// The one place where rewardd's domain errors become the status codes gRPC
// clients see. Everything below the service (the request resolver, the
// grader, the judges and their worker pools, token auth) reports failures as
// absl::Status with the canonical code that says what went wrong; the
// handlers and reactors pass every such status through ToWireStatus() (whole
// RPCs) or WireErrorToProto() (one GradeStream item), nowhere else.
//
//   reactor->Finish(ToWireStatus(status));
//   WireErrorToProto(status, &item_response);  // valid=false, error set
//
// The table of domain errors and wire codes, with the reasons, is in
// docs/architecture-notes/service.md ("Status codes") and wire_status.cc.
//
// Thread-safety: stateless functions.
#ifndef REWARDD_SERVER_SERVICE_WIRE_STATUS_H_
#define REWARDD_SERVER_SERVICE_WIRE_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "reward/v1/reward.pb.h"

namespace rewardd {

// The wire code for a domain status code (see the table in wire_status.cc).
grpc::StatusCode WireCode(absl::StatusCode code);

// The gRPC status an RPC finishes with: WireCode() and the message as is
// (messages say what to fix and are part of the API).
grpc::Status ToWireStatus(const absl::Status& status);

// One GradeStream item that failed as a whole: `response` becomes invalid
// with `error` {WireCode(), message} and invalid_reason set to the message.
void WireErrorToProto(const absl::Status& status,
                      reward::v1::GradeResponse* response);

}  // namespace rewardd

#endif  // REWARDD_SERVER_SERVICE_WIRE_STATUS_H_

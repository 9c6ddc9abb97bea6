// GradeBackend: the Grade RPC as the HTTP gateway can call it in the same
// process, without gRPC. rewardd's gateway runs inside rewardd; going
// through gRPC's in-process channel there costs every /v1/grade call two
// thread hand-offs (the HTTP thread wakes a gRPC thread to run the handler,
// which wakes the HTTP thread with the answer), which was most of the
// gateway's CPU per call (docs/benchmarks.md, issue 16).
//
// An implementation (server/main/in_process_grade.h) must behave exactly as
// the Grade RPC does for a gRPC client: the same admission (drain, token,
// in-flight limit), grading, metrics, deadline and status codes and
// messages, so that the gateway's answers do not depend on which path it
// takes.
//
//   GatewayOptions options;
//   options.grade_backend = &in_process_grade;  // must outlive the gateway
//
// Thread-safety: Grade() is called from many HTTP threads at once.
#ifndef REWARDD_SERVER_GATEWAY_GRADE_BACKEND_H_
#define REWARDD_SERVER_GATEWAY_GRADE_BACKEND_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "reward/v1/reward.pb.h"

namespace rewardd {

class GradeBackend {
 public:
  virtual ~GradeBackend() = default;

  // Grades `request` as a Grade RPC carrying "authorization" metadata
  // `*authorization` (none when null) with deadline `deadline`, blocking
  // until it is answered or the deadline passes. Returns the status a gRPC
  // client would get (DEADLINE_EXCEEDED past the deadline) and, when OK,
  // fills `*response`.
  virtual absl::Status Grade(reward::v1::GradeRequest request,
                             const std::string* authorization,
                             absl::Time deadline,
                             reward::v1::GradeResponse* response) = 0;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_GATEWAY_GRADE_BACKEND_H_

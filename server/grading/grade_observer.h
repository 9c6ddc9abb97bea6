// A hook for whoever watches graded responses and finished RPCs (metrics,
// drift detection). The service calls it on the thread that finished the
// work; implementations must be cheap and must not block.
//
// Thread-safety: implementations must be safe to call from any thread.
#ifndef REWARDD_SERVER_SERVICE_GRADE_OBSERVER_H_
#define REWARDD_SERVER_SERVICE_GRADE_OBSERVER_H_

#include <grpcpp/support/status.h>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "reward/v1/reward.pb.h"
#include "server/judge/judge.h"

namespace rewardd {

class GradeObserver {
 public:
  virtual ~GradeObserver() = default;
  // One graded response (valid or not). `input` has the rubric (criterion
  // tags) and the response text; `labels` are the request's labels.
  virtual void OnGraded(
      const GradeInput& input,
      const google::protobuf::Map<std::string, std::string>& labels,
      const reward::v1::GradeResponse& response) = 0;
  // One finished RPC ("Grade", "GradeGroup", ...).
  virtual void OnRpcDone(absl::string_view method, grpc::StatusCode code,
                         absl::Duration latency) = 0;
  // GradeGroup sizes and GradeStream items, counted as they arrive.
  virtual void OnGroupSize(size_t responses) = 0;
  virtual void OnStreamItem() = 0;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_SERVICE_GRADE_OBSERVER_H_

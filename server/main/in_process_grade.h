// InProcessGrade: the gateway's /v1/grade straight into rewardd's
// RewardService (GradeBackend, server/gateway/grade_backend.h), so that an
// HTTP call is graded on its HTTP thread instead of crossing gRPC's
// in-process transport and its threads. RewardServiceImpl::GradeInProcess
// gives the RPC's admission, metrics and status mapping; this class adds
// what gRPC itself does for an RPC: the deadline (DEADLINE_EXCEEDED, and
// the work cancelled) and the cancellation of calls still running when the
// server shuts down.
//
//   InProcessGrade grade(reward_service, max_message_bytes);
//   gateway_options.grade_backend = &grade;   // outlives the gateway
//   ...
//   grade.CancelAll();   // at shutdown, as gRPC cancels its RPCs
//
// Thread-safety: Grade() from any number of threads; CancelAll() from any
// thread.
#ifndef REWARDD_SERVER_MAIN_IN_PROCESS_GRADE_H_
#define REWARDD_SERVER_MAIN_IN_PROCESS_GRADE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "server/gateway/grade_backend.h"
#include "server/service/reward_service.h"

namespace rewardd {

class InProcessGrade final : public GradeBackend {
 public:
  // `service` must outlive this object. Requests above
  // `max_message_bytes` (rewardd's --max_message_bytes, the in-process
  // channel's limit) are refused as gRPC refuses them.
  InProcessGrade(RewardServiceImpl* service, int64_t max_message_bytes)
      : service_(service), max_message_bytes_(max_message_bytes) {}

  absl::Status Grade(reward::v1::GradeRequest request,
                     const std::string* authorization, absl::Time deadline,
                     reward::v1::GradeResponse* response) override;

  // Cancels the calls in flight (their grading stops; each still gets its
  // one answer), as gRPC cancels RPCs still running at shutdown.
  void CancelAll();

 private:
  RewardServiceImpl* const service_;
  const int64_t max_message_bytes_;
  absl::Mutex mu_;
  absl::flat_hash_set<Cancellation*> in_flight_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_MAIN_IN_PROCESS_GRADE_H_

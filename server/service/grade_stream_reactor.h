// The reactor of one GradeStream RPC: reads requests, grades up to
// --max_stream_inflight at once, and writes each answer as it completes.
// Reading pauses while that many items are being graded or waiting to be
// written, so a client that does not read its answers costs bounded memory
// (HTTP/2 flow control then pushes back on its writes). Every item gets
// exactly one answer; a bad item gets `error` (wire_status.h) and the
// stream goes on.
//
//   // RewardServiceImpl::GradeStream:
//   return new GradeStreamReactor(admission, handler, context);
//
// The reactor deletes itself in OnDone().
//
// Thread-safety: gRPC runs the reactions on its threads, and the grading
// callbacks run on judge threads; the write queue and the counters are
// guarded by `mu_`.
#ifndef REWARDD_SERVER_SERVICE_GRADE_STREAM_REACTOR_H_
#define REWARDD_SERVER_SERVICE_GRADE_STREAM_REACTOR_H_

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

#include <cstddef>
#include <deque>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "reward/v1/reward.pb.h"
#include "server/judge/judge.h"
#include "server/service/admission.h"
#include "server/service/grade_handler.h"

namespace rewardd {

class GradeStreamReactor
    : public grpc::ServerBidiReactor<reward::v1::GradeRequest,
                                     reward::v1::GradeResponse> {
 public:
  // `admission` and `handler` must outlive the reactor. Refuses the stream
  // at once (Finish) when Admission says no.
  GradeStreamReactor(Admission* admission, const GradeHandler* handler,
                     grpc::CallbackServerContext* context);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

  // Not InternalInlineable, unlike the unary reactor: gRPC 1.51 assumes no
  // bidi reactor is (server_callback_handlers.h), and a stream refused in
  // the constructor then had OnDone run inline and gRPC abort on a double
  // unref ("ref_counted.h:183 prior > 0", limits_test, 1 run in 20).

 private:
  // Answers an item that could not be graded, without grading it.
  void Refuse(const reward::v1::GradeRequest& request,
              const absl::Status& status);
  // Queues one answer for writing (or drops it when the client is gone).
  void Complete(reward::v1::GradeResponse response);
  void WriteNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ResumeReadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MaybeFinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Admission* const admission_;
  const GradeHandler* const handler_;
  grpc::CallbackServerContext* const context_;
  const absl::Time started_;
  const std::shared_ptr<Cancellation> cancellation_;
  absl::StatusCode code_ = absl::StatusCode::kOk;
  reward::v1::GradeRequest incoming_;  // only one read is outstanding

  absl::Mutex mu_;
  // Items read and not yet written (being graded, or queued to write).
  size_t outstanding_ ABSL_GUARDED_BY(mu_) = 0;
  // std::deque keeps references to its front stable across push_back.
  std::deque<reward::v1::GradeResponse> writes_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool read_paused_ ABSL_GUARDED_BY(mu_) = false;
  bool read_done_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_SERVICE_GRADE_STREAM_REACTOR_H_

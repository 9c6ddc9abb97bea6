// The reactor of one RefineRubric RPC (server-streaming): starts a
// refinement on the RtD engine and writes its events as they come.
//
// The engine calls back on judge and HTTP threads and must never wait, so
// each event is converted there and put into a BOUNDED queue that
// StartWrite/OnWriteDone drain, one write in flight at a time; nothing
// blocks. A refinement emits a bounded number of events (one per step, at
// most a few per iteration), so the bound is only reached by a client that
// stops reading: then the refinement is cancelled, later events but the
// final one are dropped, and the RPC ends RESOURCE_EXHAUSTED. A client that
// cancels (or whose deadline passes) cancels the engine's work through the
// shared Cancellation.
//
// Exactly one final status: Finish() runs once, after the engine's
// FinalEvent has arrived (so no engine callback can reach a deleted
// reactor) and every queued event is written or the client is gone. A job
// the engine refuses (bad input) finishes at once with that error.
//
//   // RubricServiceImpl::RefineRubric:
//   return new RefineRubricReactor(admission, context, max_queued,
//       [&](std::shared_ptr<const Cancellation> c, RefinementEventCallback cb) {
//         job.cancellation = c;
//         return engine->Refine(std::move(job), proposer, std::move(cb));
//       });
//
// The reactor deletes itself in OnDone().
//
// Thread-safety: gRPC reactions on gRPC threads, events on engine threads;
// the queue and the flags are guarded by `mu_`.
#ifndef REWARDD_SERVER_SERVICE_REFINE_RUBRIC_REACTOR_H_
#define REWARDD_SERVER_SERVICE_REFINE_RUBRIC_REACTOR_H_

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

#include <cstddef>
#include <deque>
#include <memory>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "reward/v1/rubric_service.pb.h"
#include "server/elicitation/refinement_events.h"
#include "server/judge/judge.h"
#include "server/metrics/rubric_service_metrics.h"
#include "server/service/admission.h"

namespace rewardd {

class RefineRubricReactor
    : public grpc::ServerWriteReactor<reward::v1::RefineRubricEvent> {
 public:
  // Starts the refinement: sets the job's cancellation to the first
  // argument and hands the engine the callback; returns the engine's
  // verdict on the job.
  using Starter = absl::FunctionRef<absl::Status(
      std::shared_ptr<const Cancellation>, RefinementEventCallback)>;

  // `admission` (and `metrics`, which may be null) must outlive the
  // reactor. Refuses the RPC (Finish) when Admission says no or `start`
  // fails; `start` runs only when admitted.
  RefineRubricReactor(Admission* admission,
                      grpc::CallbackServerContext* context, size_t max_queued,
                      Starter start, RubricServiceMetrics* metrics = nullptr);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  // From the engine, on its threads.
  void Push(RefinementEvent event);
  void WriteNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The status to Finish() with, once, when it is time. The caller calls
  // Finish() after releasing `mu_`: OnDone(), which deletes the reactor,
  // may run as soon as Finish() is called (at once for a call the client
  // has already left), and the lock must not be touched after that.
  std::optional<grpc::Status> FinishStatusLocked()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Finish() that counts the RPC's code. Never under `mu_`.
  void FinishCounted(const grpc::Status& status);
  // Counts what `event` says (proposals, the end of the refinement).
  void Observe(const RefinementEvent& event);

  Admission* const admission_;
  RubricServiceMetrics* const metrics_;  // null: no metrics
  const size_t max_queued_;
  const std::shared_ptr<Cancellation> cancellation_;

  absl::Mutex mu_;
  // std::deque keeps references to its front stable across push_back.
  std::deque<reward::v1::RefineRubricEvent> queue_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool final_received_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;    // a write failed
  bool overflow_ ABSL_GUARDED_BY(mu_) = false;  // the queue was full
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_SERVICE_REFINE_RUBRIC_REACTOR_H_

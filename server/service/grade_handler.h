// Internal to the service: grades one request (Grade, each GradeStream item)
// or one response of a group, from the proto request to the filled proto
// answer. Resolves the request (request_resolver.h), stamps what depends on
// the call (received time, the deadline judge work must meet, the RPC's
// cancellation), runs the Grader and converts its result (proto_convert.h),
// then tells the observer.
//
//   GradeHandler handler(&store, &grader, ServiceOptions{}, observer);
//   handler.GradeOne(request, context, cancellation, &response,
//                    [](absl::Status s) { /* exactly once */ });
//
// Errors reach `done` as domain statuses; the caller turns them into wire
// codes (wire_status.h).
//
// Thread-safety: every method may be called from any thread. `done` runs
// once, on the thread that finished the work: inside the call for resolver
// errors and the embedded judge, else on the judge's thread (for the HTTP
// judge, its HTTP loop thread), so `done` must not block.
#ifndef REWARDD_SERVER_SERVICE_GRADE_HANDLER_H_
#define REWARDD_SERVER_SERVICE_GRADE_HANDLER_H_

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

#include <memory>
#include <string>

#include "absl/container/inlined_vector.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "reward/v1/reward.pb.h"
#include "server/grading/grade_observer.h"
#include "server/grading/grader.h"
#include "server/rubric/rubric_store.h"
#include "server/service/request_resolver.h"
#include "server/service/service_options.h"

namespace rewardd {

// The request's labels as the grade observer takes them (views into
// `labels`); inline storage, so the usual few labels cost no allocation.
using LabelViewVector = absl::InlinedVector<GradeLabel, 8>;
LabelViewVector LabelViews(
    const google::protobuf::Map<std::string, std::string>& labels);

class GradeHandler {
 public:
  // Called exactly once: OK once the answer is in the caller's `out`
  // message, or a whole-request error (then `out` is untouched).
  using DoneCallback = absl::AnyInvocable<void(absl::Status) &&>;

  // `store`, `grader` and `observer` (may be null) must outlive the handler.
  GradeHandler(const RubricStore* store, const Grader* grader,
               const ServiceOptions& options, GradeObserver* observer);

  // Grades one request into `out`, which must stay alive until `done`
  // runs. Filling the caller's message (for Grade, gRPC's own response)
  // spares a copy per call.
  void GradeOne(const reward::v1::GradeRequest& request,
                grpc::CallbackServerContext* context,
                std::shared_ptr<const Cancellation> cancellation,
                reward::v1::GradeResponse* out, DoneCallback done) const;
  // The same for a call made without gRPC, whose deadline is
  // `rpc_deadline` (absl::InfiniteFuture() for none); `request` must then
  // also stay alive until `done` runs.
  void GradeOne(const reward::v1::GradeRequest& request,
                absl::Time rpc_deadline,
                std::shared_ptr<const Cancellation> cancellation,
                reward::v1::GradeResponse* out, DoneCallback done) const;

  // The resolved base of a group, stamped with the call's deadline and
  // cancellation; GradeResolved grades each response against a copy.
  absl::StatusOr<std::shared_ptr<GradeInput>> ResolveGroup(
      const reward::v1::GradeGroupRequest& request,
      grpc::CallbackServerContext* context,
      std::shared_ptr<const Cancellation> cancellation) const;

  // Grades `response` against `input` (a resolved base that this call
  // fills in) into `out` and calls `done` exactly once. `labels` must stay
  // alive until `done` runs. When `keep` is not null, a successful result
  // is moved there (after the observer saw it) before `done` runs; it must
  // stay alive until then (GradeGroup's per-group observer call).
  void GradeResolved(
      std::shared_ptr<GradeInput> input, const std::string& response,
      const reward::v1::GradeOptions& options,
      const google::protobuf::Map<std::string, std::string>& labels,
      std::string request_id, reward::v1::GradeResponse* out, DoneCallback done,
      GradeResult* keep = nullptr) const;

  const ServiceOptions& options() const { return options_; }
  GradeObserver* observer() const { return observer_; }

 private:
  // Sets received, deadline and cancellation of a resolved input.
  static void Stamp(absl::Time received, absl::Time rpc_deadline,
                    std::shared_ptr<const Cancellation> cancellation,
                    GradeInput* input);

  const Grader* grader_;
  const ServiceOptions options_;
  GradeObserver* observer_;
  RequestResolver resolver_;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_SERVICE_GRADE_HANDLER_H_

#include "server/service/grade_handler.h"

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/time/clock.h"
#include "server/service/proto_convert.h"

namespace rewardd {
LabelViewVector LabelViews(
    const google::protobuf::Map<std::string, std::string>& labels) {
  LabelViewVector views;
  views.reserve(labels.size());
  for (const auto& label : labels)
    views.emplace_back(label.first, label.second);
  return views;
}

namespace {

namespace pb = reward::v1;
using LabelMap = google::protobuf::Map<std::string, std::string>;

// The deadline judge work must meet: the RPC's, less a margin (a tenth of
// the time left, at most 100 ms) so that a response whose judges ran out of
// time still reaches the client, with TIMEOUT statuses, before the client
// gives up on the call.
absl::Time DeadlineOf(absl::Time rpc_deadline) {
  if (rpc_deadline == absl::InfiniteFuture()) return rpc_deadline;
  const absl::Duration margin =
      std::min(absl::Milliseconds(100), (rpc_deadline - absl::Now()) / 10);
  return rpc_deadline - std::max(margin, absl::ZeroDuration());
}

// The RPC's deadline, absl::InfiniteFuture() for none.
absl::Time RpcDeadlineOf(grpc::CallbackServerContext* context) {
  if (context == nullptr) return absl::InfiniteFuture();
  const auto deadline = context->deadline();
  // No deadline shows as a far-future time point; keep it infinite rather
  // than risk overflow in the conversion.
  if (deadline >
      std::chrono::system_clock::now() + std::chrono::hours(24 * 365)) {
    return absl::InfiniteFuture();
  }
  return absl::FromChrono(deadline);
}

ResolveLimits LimitsOf(const ServiceOptions& options) {
  ResolveLimits limits;
  limits.max_prompt_bytes = options.max_prompt_bytes;
  limits.max_criteria_per_rubric = options.max_criteria_per_rubric;
  limits.max_response_bytes = options.max_response_bytes;
  return limits;
}

}  // namespace

GradeHandler::GradeHandler(const RubricStore* store, const Grader* grader,
                           const ServiceOptions& options,
                           GradeObserver* observer)
    : grader_(grader),
      options_(options),
      observer_(observer),
      resolver_(store, &grader->judges(), LimitsOf(options),
                options.inline_rubric_cache_size) {}

void GradeHandler::Stamp(absl::Time received, absl::Time rpc_deadline,
                         std::shared_ptr<const Cancellation> cancellation,
                         GradeInput* input) {
  input->received = received;
  input->deadline = DeadlineOf(rpc_deadline);
  input->cancellation = std::move(cancellation);
}

absl::StatusOr<std::shared_ptr<GradeInput>> GradeHandler::ResolveGroup(
    const pb::GradeGroupRequest& request, grpc::CallbackServerContext* context,
    std::shared_ptr<const Cancellation> cancellation) const {
  const absl::Time received = absl::Now();
  absl::StatusOr<std::shared_ptr<GradeInput>> base = resolver_.Resolve(request);
  if (base.ok()) {
    Stamp(received, RpcDeadlineOf(context), std::move(cancellation),
          base->get());
  }
  return base;
}

void GradeHandler::GradeResolved(std::shared_ptr<GradeInput> input,
                                 const std::string& response,
                                 const pb::GradeOptions& options,
                                 const LabelMap& labels, std::string request_id,
                                 pb::GradeResponse* out, DoneCallback done,
                                 GradeResult* keep) const {
  if (absl::Status s =
          RequestResolver::CheckResponse(response, resolver_.limits());
      !s.ok()) {
    std::move(done)(std::move(s));
    return;
  }
  input->response = response;
  const bool explanations = options.include_explanations();
  grader_->Grade(
      input, options.judge(), ScoringFromProto(options),
      [this, explanations, &labels, request_id = std::move(request_id), out,
       keep,
       done = std::move(done)](absl::StatusOr<GradeResult> result) mutable {
        if (!result.ok()) {
          std::move(done)(result.status());
          return;
        }
        out->set_request_id(std::move(request_id));
        GradeResultToProto(*result, explanations, out);
        const absl::Duration total = absl::Now() - result->input->received;
        out->mutable_timings()->set_total_seconds(absl::ToDoubleSeconds(total));
        if (observer_ != nullptr) {
          const LabelViewVector label_views = LabelViews(labels);
          GradedRequest graded;
          graded.request_id = out->request_id();
          graded.labels = label_views;
          graded.total_time = total;
          observer_->OnGraded(*result, graded);
        }
        if (keep != nullptr) *keep = *std::move(result);
        std::move(done)(absl::OkStatus());
      });
}

void GradeHandler::GradeOne(const pb::GradeRequest& request,
                            grpc::CallbackServerContext* context,
                            std::shared_ptr<const Cancellation> cancellation,
                            pb::GradeResponse* out, DoneCallback done) const {
  GradeOne(request, RpcDeadlineOf(context), std::move(cancellation), out,
           std::move(done));
}

void GradeHandler::GradeOne(const pb::GradeRequest& request,
                            absl::Time rpc_deadline,
                            std::shared_ptr<const Cancellation> cancellation,
                            pb::GradeResponse* out, DoneCallback done) const {
  const absl::Time received = absl::Now();
  absl::StatusOr<std::shared_ptr<GradeInput>> base = resolver_.Resolve(request);
  if (!base.ok()) {
    std::move(done)(base.status());
    return;
  }
  Stamp(received, rpc_deadline, std::move(cancellation), base->get());
  GradeResolved(*std::move(base), request.response(), request.options(),
                request.labels(), request.request_id(), out, std::move(done));
}

}  // namespace rewardd

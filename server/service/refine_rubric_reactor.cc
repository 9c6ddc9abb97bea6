#include "server/service/refine_rubric_reactor.h"

#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "server/service/refinement_proto.h"
#include "server/service/wire_status.h"

namespace rewardd {

namespace pb = reward::v1;

RefineRubricReactor::RefineRubricReactor(Admission* admission,
                                         grpc::CallbackServerContext* context,
                                         size_t max_queued, Starter start,
                                         RubricServiceMetrics* metrics)
    : admission_(admission),
      metrics_(metrics),
      max_queued_(max_queued < 2 ? 2 : max_queued),
      cancellation_(std::make_shared<Cancellation>()) {
  admission_->RpcStarted();
  admission_->StreamOpened();
  absl::Status status = admission_->Admit(context);
  if (status.ok()) status = admission_->AdmitStream();
  if (status.ok()) {
    status = start(cancellation_,
                   [this](RefinementEvent event) { Push(std::move(event)); });
  }
  if (!status.ok()) {
    // No event was or will be emitted: the engine refused the job.
    {
      absl::MutexLock lock(&mu_);
      finished_ = true;
    }
    // Outside the lock: see FinishStatusLocked.
    FinishCounted(ToWireStatus(status));
  } else if (metrics_ != nullptr) {
    metrics_->RefinementStarted();
  }
}

void RefineRubricReactor::FinishCounted(const grpc::Status& status) {
  if (metrics_ != nullptr) {
    metrics_->RequestDone("RefineRubric", status.error_code());
  }
  Finish(status);
}

void RefineRubricReactor::Observe(const RefinementEvent& event) {
  if (metrics_ == nullptr) return;
  if (const auto* a = std::get_if<ProposalAcceptedEvent>(&event)) {
    // The generated starting rubric is no refinement proposal.
    if (!a->generated) metrics_->ProposalAccepted();
  } else if (const auto* r = std::get_if<ProposalRejectedEvent>(&event)) {
    metrics_->ProposalRejected(RejectionKindName(r->kind));
  } else if (const auto* f = std::get_if<FinalRefinementEvent>(&event)) {
    metrics_->RefinementEnded(f->summary.iterations_run);
  }
}

void RefineRubricReactor::Push(RefinementEvent event) {
  const bool final = std::holds_alternative<FinalRefinementEvent>(event);
  Observe(event);
  // Converted on the engine's thread, outside the lock: bounded CPU work.
  pb::RefineRubricEvent proto;
  RefinementEventToProto(event, &proto);
  std::optional<grpc::Status> done;
  {
    absl::MutexLock lock(&mu_);
    if (final) final_received_ = true;
    if (!broken_) {
      if (!final && queue_.size() >= max_queued_) {
        // The client stopped reading: stop the work rather than buffer it.
        overflow_ = true;
        cancellation_->Cancel();
        return;
      }
      queue_.push_back(std::move(proto));
      if (!writing_) WriteNextLocked();
    }
    done = FinishStatusLocked();
  }
  if (done.has_value()) FinishCounted(*done);
}

void RefineRubricReactor::OnWriteDone(bool ok) {
  std::optional<grpc::Status> done;
  {
    absl::MutexLock lock(&mu_);
    queue_.pop_front();
    if (!ok) {
      // The client is gone: cancel the engine, finish once its final event
      // has arrived.
      broken_ = true;
      cancellation_->Cancel();
      queue_.clear();
    }
    WriteNextLocked();
    done = FinishStatusLocked();
  }
  if (done.has_value()) FinishCounted(*done);
}

void RefineRubricReactor::WriteNextLocked() {
  writing_ = !queue_.empty();
  if (!writing_) return;
  grpc::WriteOptions options;
  if (queue_.size() > 1) options.set_buffer_hint();
  StartWrite(&queue_.front(), options);
}

std::optional<grpc::Status> RefineRubricReactor::FinishStatusLocked() {
  if (finished_ || !final_received_ || writing_) return std::nullopt;
  finished_ = true;
  if (overflow_) {
    return ToWireStatus(absl::ResourceExhaustedError(absl::StrCat(
        "RefineRubric: more than ", max_queued_,
        " events waited for the client to read them; the refinement was "
        "cancelled (read the stream as it comes)")));
  }
  if (broken_) {
    return grpc::Status(grpc::StatusCode::CANCELLED,
                        "RefineRubric: the client went away");
  }
  return grpc::Status::OK;
}

void RefineRubricReactor::OnCancel() { cancellation_->Cancel(); }

void RefineRubricReactor::OnDone() {
  admission_->StreamClosed();
  admission_->RpcDone();
  delete this;
}

}  // namespace rewardd

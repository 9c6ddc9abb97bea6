#include "server/service/grade_stream_reactor.h"

#include <utility>

#include "absl/time/clock.h"
#include "server/service/wire_status.h"

namespace rewardd {

namespace pb = reward::v1;

GradeStreamReactor::GradeStreamReactor(Admission* admission,
                                       const GradeHandler* handler,
                                       grpc::CallbackServerContext* context)
    : admission_(admission),
      handler_(handler),
      context_(context),
      started_(absl::Now()),
      cancellation_(std::make_shared<Cancellation>()) {
  admission_->RpcStarted();
  admission_->StreamOpened();
  absl::Status admit = admission_->Admit(context);
  if (admit.ok()) admit = admission_->AdmitStream();
  if (!admit.ok()) {
    code_ = admit.code();
    absl::MutexLock lock(&mu_);
    finished_ = true;
    Finish(ToWireStatus(admit));
    return;
  }
  StartRead(&incoming_);
}

void GradeStreamReactor::OnReadDone(bool ok) {
  if (!ok) {
    absl::MutexLock lock(&mu_);
    read_done_ = true;
    MaybeFinishLocked();
    return;
  }
  if (handler_->observer() != nullptr) handler_->observer()->OnStreamItem();
  auto request = std::make_shared<pb::GradeRequest>();
  request->Swap(&incoming_);
  {
    absl::MutexLock lock(&mu_);
    ++outstanding_;
  }
  if (admission_->draining()) {
    Refuse(*request, Admission::DrainingError());
  } else if (request->request_id().empty()) {
    Refuse(*request, absl::InvalidArgumentError(
                         "request_id is empty; GradeStream answers may "
                         "come back in any order, so every item needs a "
                         "request_id"));
  } else {
    // The answer is graded into `item`, which the callback keeps alive.
    auto item = std::make_shared<pb::GradeResponse>();
    pb::GradeResponse* out = item.get();
    handler_->GradeOne(*request, context_, cancellation_, out,
                       [this, request, item](absl::Status status) {
                         if (!status.ok()) {
                           item->set_request_id(request->request_id());
                           WireErrorToProto(status, item.get());
                         }
                         Complete(std::move(*item));
                       });
  }
  absl::MutexLock lock(&mu_);
  if (outstanding_ < handler_->options().max_stream_inflight) {
    StartRead(&incoming_);
  } else {
    read_paused_ = true;
  }
}

void GradeStreamReactor::Refuse(const pb::GradeRequest& request,
                                const absl::Status& status) {
  pb::GradeResponse response;
  response.set_request_id(request.request_id());
  WireErrorToProto(status, &response);
  Complete(std::move(response));
}

void GradeStreamReactor::OnWriteDone(bool ok) {
  absl::MutexLock lock(&mu_);
  writes_.pop_front();
  --outstanding_;
  if (!ok) broken_ = true;  // client gone: finish without writing
  WriteNextLocked();
  ResumeReadLocked();
  MaybeFinishLocked();
}

void GradeStreamReactor::OnCancel() { cancellation_->Cancel(); }

void GradeStreamReactor::OnDone() {
  if (handler_->observer() != nullptr) {
    handler_->observer()->OnRpcDone("GradeStream", code_,
                                    absl::Now() - started_);
  }
  admission_->StreamClosed();
  admission_->RpcDone();
  delete this;
}

void GradeStreamReactor::Complete(pb::GradeResponse response) {
  absl::MutexLock lock(&mu_);
  if (broken_) {
    --outstanding_;
    ResumeReadLocked();
    MaybeFinishLocked();
    return;
  }
  writes_.push_back(std::move(response));
  if (!writing_) WriteNextLocked();
}

void GradeStreamReactor::WriteNextLocked() {
  if (broken_) {
    // Answers that can no longer be delivered are dropped, not queued.
    outstanding_ -= writes_.size();
    writes_.clear();
  }
  writing_ = !writes_.empty();
  if (!writing_) return;
  // More answers queued behind this one: let gRPC coalesce them into
  // fewer frames and syscalls instead of flushing each.
  grpc::WriteOptions options;
  if (writes_.size() > 1) options.set_buffer_hint();
  StartWrite(&writes_.front(), options);
}

void GradeStreamReactor::ResumeReadLocked() {
  if (read_paused_ && !read_done_ &&
      outstanding_ < handler_->options().max_stream_inflight) {
    read_paused_ = false;
    StartRead(&incoming_);
  }
}

void GradeStreamReactor::MaybeFinishLocked() {
  if (finished_ || outstanding_ > 0) return;
  if (!read_done_ && !broken_) return;
  finished_ = true;
  Finish(grpc::Status::OK);
}

}  // namespace rewardd

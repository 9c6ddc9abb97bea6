#include "client/grade_stream.h"

#include <deque>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "client/reward_client.h"

namespace rewardd {

using reward::v1::GradeRequest;
using reward::v1::GradeResponse;

// The callback reactor behind a session. gRPC calls its On* reactions on its
// own threads; the session's methods run on user threads. Rules kept here:
//  - at most one write in flight (write_in_flight_), queued ones wait in
//    queue_, which the window bounds;
//  - StartWrite/StartWritesDone are never called with mu_ held: gRPC may run
//    OnWriteDone on the calling thread before StartWrite returns;
//  - a hold (AddHold) covers the operations started from user threads, so
//    OnDone cannot run before Finish/~Session released it, and it is
//    released only when no user thread is between deciding to start a write
//    and starting it (user_ops_);
//  - the session owns the reactor, and its destructor waits for OnDone
//    (done_, set as OnDone's last act), so the ClientContext (and with it
//    the last reference to the gRPC call) is released on the user's thread
//    before the user can tear the channel down. A reactor that freed itself
//    at the end of OnDone raced that teardown: gRPC 1.51 aborted in
//    grpc_cq_internal_unref ("prior > 0", limits_test, ~3% of runs);
//  - on_result_ runs from OnReadDone (before the next read is started) and
//    from OnDone, so its calls never overlap.
class GradeStreamSession::Reactor
    : public grpc::ClientBidiReactor<GradeRequest, GradeResponse> {
 public:
  Reactor(std::unique_ptr<grpc::ClientContext> context, const Options& options,
          ResultCallback on_result)
      : context_(std::move(context)),
        window_(options.window > 0 ? options.window : 1),
        on_result_(std::move(on_result)) {
    if (options.deadline != absl::InfiniteDuration()) {
      context_->set_deadline(
          absl::ToChronoTime(absl::Now() + options.deadline));
    }
  }

  void Begin(reward::v1::RewardService::Stub* stub) {
    stub->async()->GradeStream(context_.get(), this);
    StartRead(&read_msg_);
    AddHold();
    StartCall();
  }

  absl::Status Send(GradeRequest request, bool block) {
    bool start_write = false;
    {
      absl::MutexLock lock(&mu_);
      if (request.request_id().empty()) {
        return absl::InvalidArgumentError(
            "GradeStream requests need a request_id");
      }
      if (block) {
        auto has_room = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return ended_ || finish_requested_ ||
                 static_cast<int>(outstanding_.size()) < window_;
        };
        mu_.Await(absl::Condition(&has_room));
      }
      if (ended_) {
        return done_ ? final_status_
                     : absl::UnavailableError("the stream has ended");
      }
      if (finish_requested_) {
        return absl::FailedPreconditionError("Send after Finish");
      }
      if (static_cast<int>(outstanding_.size()) >= window_) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "window full: ", outstanding_.size(), " requests unanswered"));
      }
      if (!outstanding_.insert(request.request_id()).second) {
        return absl::InvalidArgumentError(absl::StrCat(
            "request_id \"", request.request_id(), "\" is still unanswered"));
      }
      if (write_in_flight_) {
        queue_.push_back(std::move(request));
      } else {
        write_in_flight_ = true;
        write_msg_ = std::move(request);
        start_write = true;
        ++user_ops_;
      }
    }
    if (start_write) {
      StartWrite(&write_msg_);
      EndUserOp();
    }
    return absl::OkStatus();
  }

  absl::Status Finish() {
    bool writes_done = false;
    {
      absl::MutexLock lock(&mu_);
      if (!finish_requested_) {
        finish_requested_ = true;
        // With a write in flight, OnWriteDone sends WritesDone after the
        // queue drains.
        if (!write_in_flight_ && !ended_) {
          writes_done_sent_ = true;
          writes_done = true;
          ++user_ops_;
        }
      }
      release_requested_ = true;
    }
    if (writes_done) StartWritesDone();
    if (writes_done) {
      EndUserOp();
    } else {
      ReleaseHoldIfIdle();
    }
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&done_));
    return final_status_;
  }

  // TryCancel may run reactions on this thread, so never under mu_.
  void Cancel() { context_->TryCancel(); }

  // For ~GradeStreamSession: cancel unless finished, then wait for OnDone.
  void Shutdown() {
    bool cancel = false;
    {
      absl::MutexLock lock(&mu_);
      cancel = !done_;
      release_requested_ = true;
    }
    if (cancel) context_->TryCancel();
    ReleaseHoldIfIdle();
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&done_));
  }

  int outstanding() const {
    absl::MutexLock lock(&mu_);
    return static_cast<int>(outstanding_.size());
  }
  int64_t unexpected_responses() const {
    absl::MutexLock lock(&mu_);
    return unexpected_;
  }

  void OnWriteDone(bool ok) override {
    bool start_write = false;
    bool writes_done = false;
    {
      absl::MutexLock lock(&mu_);
      if (!ok) {
        // The stream is broken; the read side sees it too and OnDone
        // reports every unanswered request.
        ended_ = true;
        write_in_flight_ = false;
        queue_.clear();
        return;
      }
      if (!queue_.empty()) {
        write_msg_ = std::move(queue_.front());
        queue_.pop_front();
        start_write = true;
      } else {
        write_in_flight_ = false;
        if (finish_requested_ && !writes_done_sent_) {
          writes_done_sent_ = true;
          writes_done = true;
        }
      }
    }
    if (start_write) StartWrite(&write_msg_);
    if (writes_done) StartWritesDone();
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      absl::MutexLock lock(&mu_);
      ended_ = true;
      return;
    }
    bool deliver = false;
    {
      absl::MutexLock lock(&mu_);
      auto it = outstanding_.find(read_msg_.request_id());
      if (it != outstanding_.end()) {
        outstanding_.erase(it);
        deliver = true;
      } else {
        ++unexpected_;
      }
    }
    if (deliver) {
      std::string id = read_msg_.request_id();
      on_result_(id, std::move(read_msg_));
    }
    read_msg_.Clear();
    StartRead(&read_msg_);
  }

  void OnDone(const grpc::Status& status) override {
    absl::Status final_status = ToAbslStatus(status);
    std::vector<std::string> unanswered;
    {
      absl::MutexLock lock(&mu_);
      ended_ = true;
      unanswered.assign(outstanding_.begin(), outstanding_.end());
      outstanding_.clear();
      queue_.clear();
    }
    absl::Status item_status = final_status;
    if (item_status.ok()) {
      item_status = absl::InternalError(
          "the server closed the stream without answering this request");
    }
    for (const std::string& id : unanswered) on_result_(id, item_status);
    absl::MutexLock lock(&mu_);
    final_status_ = final_status;
    done_ = true;
    // The session may destroy this reactor once it holds mu_ after this:
    // nothing touches `this` past the unlock.
  }

 private:
  // Called by a user thread after it started a write or WritesDone.
  void EndUserOp() {
    {
      absl::MutexLock lock(&mu_);
      --user_ops_;
    }
    ReleaseHoldIfIdle();
  }

  void ReleaseHoldIfIdle() {
    {
      absl::MutexLock lock(&mu_);
      if (!release_requested_ || hold_removed_ || user_ops_ > 0) return;
      hold_removed_ = true;
    }
    RemoveHold();
  }

  const std::unique_ptr<grpc::ClientContext> context_;
  const int window_;
  ResultCallback on_result_;
  GradeRequest write_msg_;  // owned by the write in flight
  GradeResponse read_msg_;  // owned by the read in flight

  mutable absl::Mutex mu_;
  absl::flat_hash_set<std::string> outstanding_ ABSL_GUARDED_BY(mu_);
  std::deque<GradeRequest> queue_ ABSL_GUARDED_BY(mu_);
  bool write_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool writes_done_sent_ ABSL_GUARDED_BY(mu_) = false;
  bool release_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool hold_removed_ ABSL_GUARDED_BY(mu_) = false;
  int user_ops_ ABSL_GUARDED_BY(mu_) = 0;    // writes being started by users
  bool ended_ ABSL_GUARDED_BY(mu_) = false;  // read or write failed
  bool done_ ABSL_GUARDED_BY(mu_) = false;   // OnDone finished
  absl::Status final_status_ ABSL_GUARDED_BY(mu_);
  int64_t unexpected_ ABSL_GUARDED_BY(mu_) = 0;
};

std::unique_ptr<GradeStreamSession> GradeStreamSession::Start(
    reward::v1::RewardService::Stub* stub,
    std::unique_ptr<grpc::ClientContext> context, const Options& options,
    ResultCallback on_result) {
  auto reactor = std::make_shared<Reactor>(std::move(context), options,
                                           std::move(on_result));
  reactor->Begin(stub);
  return std::unique_ptr<GradeStreamSession>(
      new GradeStreamSession(std::move(reactor)));
}

GradeStreamSession::GradeStreamSession(std::shared_ptr<Reactor> reactor)
    : reactor_(std::move(reactor)) {}

GradeStreamSession::~GradeStreamSession() { reactor_->Shutdown(); }

absl::Status GradeStreamSession::Send(GradeRequest request) {
  return reactor_->Send(std::move(request), /*block=*/true);
}

absl::Status GradeStreamSession::TrySend(GradeRequest request) {
  return reactor_->Send(std::move(request), /*block=*/false);
}

absl::Status GradeStreamSession::Finish() { return reactor_->Finish(); }

void GradeStreamSession::Cancel() { reactor_->Cancel(); }

int GradeStreamSession::outstanding() const { return reactor_->outstanding(); }

int64_t GradeStreamSession::unexpected_responses() const {
  return reactor_->unexpected_responses();
}

}  // namespace rewardd

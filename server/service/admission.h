// Server-wide admission of RPCs: counts the RPCs in flight and the open
// GradeStreams, refuses new ones past the limits, checks bearer tokens, and
// drains. One Admission is shared by every service of a server (today the
// RewardService), so the limits and the drain cover all of them.
//
//   Admission admission(AdmissionOptions{});
//   // in a reactor's constructor:          // in its OnDone():
//   admission.RpcStarted();                 admission.RpcDone();
//   absl::Status s = admission.Admit(context);  // refuse when not OK
//   // at shutdown, on the main thread:
//   admission.StartDraining();
//   bool idle = admission.WaitIdle(absl::Now() + absl::Seconds(25));
//
// Refusals: UNAVAILABLE while draining, UNAUTHENTICATED without a valid
// token, RESOURCE_EXHAUSTED past --max_inflight_requests or
// --max_concurrent_streams; each message says what to do.
//
// Thread-safety: every method may be called from any thread (atomics);
// WaitIdle() blocks and belongs on the main thread, never a gRPC thread.
#ifndef REWARDD_SERVER_SERVICE_ADMISSION_H_
#define REWARDD_SERVER_SERVICE_ADMISSION_H_

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/service/token_auth.h"

namespace rewardd {

struct AdmissionOptions {
  // RPCs being served at once (--max_inflight_requests); more are refused
  // with RESOURCE_EXHAUSTED, so a burst cannot queue unbounded judge work.
  size_t max_inflight_requests = 16384;
  // GradeStreams open at once (--max_concurrent_streams); more are refused
  // with RESOURCE_EXHAUSTED.
  size_t max_concurrent_streams = 1024;
  // When set, every call must carry a valid bearer token (UNAUTHENTICATED
  // otherwise). Not owned; must outlive the Admission.
  const TokenAuth* auth = nullptr;
};

class Admission {
 public:
  explicit Admission(AdmissionOptions options) : options_(options) {}

  Admission(const Admission&) = delete;
  Admission& operator=(const Admission&) = delete;

  // Every reactor calls RpcStarted() when it is created and RpcDone() when
  // it is done, whether or not the RPC was admitted.
  void RpcStarted() { in_flight_.fetch_add(1, std::memory_order_acq_rel); }
  void RpcDone() { in_flight_.fetch_sub(1, std::memory_order_acq_rel); }
  // Likewise for GradeStreams, around StreamOpened()/StreamClosed().
  void StreamOpened() { open_streams_.fetch_add(1, std::memory_order_acq_rel); }
  void StreamClosed() { open_streams_.fetch_sub(1, std::memory_order_acq_rel); }

  // OK when a new RPC (already counted by RpcStarted) may run: not draining
  // (UNAVAILABLE), a valid token when auth is on (UNAUTHENTICATED), and
  // within --max_inflight_requests (RESOURCE_EXHAUSTED). `context` is read
  // only when auth is on (its metadata carries the token).
  absl::Status Admit(grpc::CallbackServerContext* context) const;
  // The same for a call that carries `metadata` without gRPC (the HTTP
  // gateway inside rewardd, server/main/in_process_grade.h).
  absl::Status Admit(
      const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) const;
  // RESOURCE_EXHAUSTED past --max_concurrent_streams (this stream counted).
  absl::Status AdmitStream() const;

  // From now on new RPCs, and new items on open streams, are refused with
  // UNAVAILABLE, which clients retry on another replica; RPCs already
  // accepted run to completion.
  void StartDraining() { draining_.store(true, std::memory_order_release); }
  bool draining() const { return draining_.load(std::memory_order_acquire); }
  // The refusal while draining.
  static absl::Status DrainingError();

  // RPCs started and not yet done (streams count while open).
  int64_t in_flight() const {
    return in_flight_.load(std::memory_order_acquire);
  }
  // Polls until in_flight() is 0 or `deadline` passes; true when idle.
  bool WaitIdle(absl::Time deadline) const;

 private:
  const AdmissionOptions options_;
  std::atomic<bool> draining_{false};
  std::atomic<int64_t> in_flight_{0};
  std::atomic<int64_t> open_streams_{0};
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_SERVICE_ADMISSION_H_

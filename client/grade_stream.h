// GradeStreamSession: one client GradeStream with flow control and
// exactly-once delivery.
//
// The server answers a stream's requests in any order; the session matches
// answers to requests by request_id, keeps at most `window` requests
// unanswered (Send blocks, TrySend refuses, beyond that), and calls
// `on_result` exactly once for every request it accepted: with the server's
// response, or, when the stream ends before an answer came, with the
// stream's error. Answers with an unknown or already-answered request_id are
// dropped and counted (unexpected_responses()).
//
//   rewardd::GradeStreamSession::Options options;
//   options.window = 32;
//   auto session = client->OpenStream(
//       options,
//       [&](const std::string& id, absl::StatusOr<GradeResponse> r) {
//         // on a gRPC thread, one call at a time: hand off, do not block
//       });
//   for (GradeRequest& r : requests) {
//     if (absl::Status s = session->Send(std::move(r)); !s.ok()) break;
//   }
//   absl::Status final_status = session->Finish();  // waits for every answer
#ifndef REWARDD_CLIENT_GRADE_STREAM_H_
#define REWARDD_CLIENT_GRADE_STREAM_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "reward/v1/reward.grpc.pb.h"

namespace rewardd {

// Thread-safe: Send, TrySend, Finish and Cancel may be called from any
// threads. on_result never runs concurrently with itself and runs on gRPC
// threads, so it must not block (and must not call Send, which may block).
class GradeStreamSession {
 public:
  struct Options {
    // Most requests sent but not yet answered.
    int window = 64;
    // For the whole stream; infinite by default because a stream lives as
    // long as the worker that owns it.
    absl::Duration deadline = absl::InfiniteDuration();
  };
  using ResultCallback = absl::AnyInvocable<void(
      const std::string& request_id,
      absl::StatusOr<reward::v1::GradeResponse> result)>;

  // Starts the stream on `stub` with `context` (metadata and wait_for_ready
  // already set by the caller; the deadline is set here). Prefer
  // RewardClient::OpenStream.
  static std::unique_ptr<GradeStreamSession> Start(
      reward::v1::RewardService::Stub* stub,
      std::unique_ptr<grpc::ClientContext> context, const Options& options,
      ResultCallback on_result);

  GradeStreamSession(const GradeStreamSession&) = delete;
  GradeStreamSession& operator=(const GradeStreamSession&) = delete;
  // Cancels the stream if Finish was not called, and waits until every
  // on_result call has been made.
  ~GradeStreamSession();

  // Queues `request` for sending; blocks while `window` requests are
  // unanswered. INVALID_ARGUMENT for an empty request_id or one that is
  // still unanswered; FAILED_PRECONDITION after Finish; the stream's status
  // (or UNAVAILABLE) once the stream has ended. A request refused here gets
  // no on_result call.
  absl::Status Send(reward::v1::GradeRequest request);
  // As Send, but RESOURCE_EXHAUSTED instead of blocking when the window is
  // full.
  absl::Status TrySend(reward::v1::GradeRequest request);

  // Half-closes the stream, waits until every accepted request got its
  // on_result call and returns the stream's final status. Idempotent.
  absl::Status Finish();
  // Ends the stream now (CANCELLED); unanswered requests get on_result with
  // CANCELLED. Does not wait: call Finish or destroy the session for that.
  void Cancel();

  // Requests accepted and not yet answered.
  int outstanding() const;
  // Answers dropped because their request_id was unknown or already
  // answered.
  int64_t unexpected_responses() const;

 private:
  class Reactor;
  explicit GradeStreamSession(std::shared_ptr<Reactor> reactor);
  // Shared with the reactor itself, which keeps itself alive until gRPC's
  // last reaction (OnDone) has returned.
  std::shared_ptr<Reactor> reactor_;
};

}  // namespace rewardd

#endif  // REWARDD_CLIENT_GRADE_STREAM_H_

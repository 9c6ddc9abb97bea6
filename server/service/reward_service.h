// The gRPC RewardService (protos/reward/v1/reward.proto) on the callback API:
// resolves the rubric, validates the request against the limits, hands the
// response to the grading engine and answers when the judges have. This is
// the one place where domain errors become gRPC status codes:
//   unknown rubric set / rubric id           NOT_FOUND
//   bad inline rubric, bad prompt, unknown judge, over a limit INVALID_ARGUMENT
//   judge queue full                          RESOURCE_EXHAUSTED
//   shutting down, judge refused              UNAVAILABLE
//   deadline passed before judge work started DEADLINE_EXCEEDED
//
//   RewardServiceImpl service(&store, &grader, ServiceOptions{});
//   builder.RegisterService(&service);
//
// No reaction blocks: handlers do bounded CPU work (look-ups, validation)
// and return; the grading engine calls back when judges answer.
//
// Thread-safety: all methods are called by gRPC from any thread; the store
// and grader are thread-safe, and per-RPC state lives in its reactor.
#ifndef REWARDD_SERVER_SERVICE_REWARD_SERVICE_H_
#define REWARDD_SERVER_SERVICE_REWARD_SERVICE_H_

#include <atomic>
#include <cstddef>
#include <memory>

#include "absl/status/statusor.h"
#include "reward/v1/reward.grpc.pb.h"
#include "server/grading/grader.h"
#include "server/rubric/rubric_store.h"
#include "server/grading/grade_observer.h"
#include "server/service/inline_rubric_cache.h"
#include "server/service/token_auth.h"

namespace rewardd {

struct ServiceOptions {
  // Largest response text accepted, in bytes (--max_response_bytes).
  size_t max_response_bytes = 1 << 20;
  // Largest prompt (text or all messages), in bytes (--max_prompt_bytes).
  size_t max_prompt_bytes = 1 << 20;
  // Most criteria an inline rubric may have (--max_criteria_per_rubric).
  size_t max_criteria_per_rubric = 256;
  // Most responses in one GradeGroup (--max_group_size).
  size_t max_group_size = 256;
  // Stream items being graded at once per GradeStream; reading pauses at
  // this many (flow control), so a slow client costs bounded memory
  // (--max_stream_inflight).
  size_t max_stream_inflight = 64;
  // GradeStreams open at once (--max_concurrent_streams); more are refused
  // with RESOURCE_EXHAUSTED.
  size_t max_concurrent_streams = 1024;
  // RPCs being served at once (--max_inflight_requests); more are refused
  // with RESOURCE_EXHAUSTED, so a burst cannot queue unbounded judge work.
  size_t max_inflight_requests = 16384;
  // When set, every RewardService call must carry a valid bearer token
  // (UNAUTHENTICATED otherwise). Not owned; must outlive the service.
  const TokenAuth* auth = nullptr;
  // Distinct inline rubrics kept validated (regexes compiled, version
  // hashed); 0 = validate every request (--inline_rubric_cache_size).
  size_t inline_rubric_cache_size = 4096;
};

class RewardServiceImpl final
    : public reward::v1::RewardService::CallbackService {
 public:
  // `store`, `grader` and `observer` (may be null) must outlive the service.
  RewardServiceImpl(const RubricStore* store, const Grader* grader,
                    ServiceOptions options, GradeObserver* observer = nullptr);

  grpc::ServerUnaryReactor* Grade(grpc::CallbackServerContext* context,
                                  const reward::v1::GradeRequest* request,
                                  reward::v1::GradeResponse* response) override;
  grpc::ServerUnaryReactor* GradeGroup(
      grpc::CallbackServerContext* context,
      const reward::v1::GradeGroupRequest* request,
      reward::v1::GradeGroupResponse* response) override;
  grpc::ServerBidiReactor<reward::v1::GradeRequest, reward::v1::GradeResponse>*
  GradeStream(grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* ListRubricSets(
      grpc::CallbackServerContext* context,
      const reward::v1::ListRubricSetsRequest* request,
      reward::v1::ListRubricSetsResponse* response) override;
  grpc::ServerUnaryReactor* GetRubric(
      grpc::CallbackServerContext* context,
      const reward::v1::GetRubricRequest* request,
      reward::v1::GetRubricResponse* response) override;

  // Called exactly once: OK once the answer is in the caller's `out`
  // message, or a whole-request error (then `out` is untouched).
  using DoneCallback = absl::AnyInvocable<void(absl::Status) &&>;

  // Grades one request (Grade and each GradeStream item) into `out`, which
  // must stay alive until `done` runs. Filling the caller's message (for
  // Grade, gRPC's own response) spares a copy per call.
  void GradeOne(const reward::v1::GradeRequest& request,
                grpc::CallbackServerContext* context,
                std::shared_ptr<const Cancellation> cancellation,
                reward::v1::GradeResponse* out, DoneCallback done) const;

  // The rubric, prompt and options of a request, resolved and validated
  // once; a group grades each of its responses against the same base.
  // `Req` is GradeRequest or GradeGroupRequest.
  template <typename Req>
  absl::StatusOr<std::shared_ptr<GradeInput>> ResolveBase(
      const Req& request, grpc::CallbackServerContext* context,
      std::shared_ptr<const Cancellation> cancellation) const;

  // Grades `response` against `input` (a resolved base that this call may
  // fill in: a unary request's own, or a group's copy per response) into
  // `out` and calls `done` exactly once.
  void GradeResolved(
      std::shared_ptr<GradeInput> input, const std::string& response,
      const reward::v1::GradeOptions& options,
      const google::protobuf::Map<std::string, std::string>& labels,
      std::string request_id, reward::v1::GradeResponse* out,
      DoneCallback done) const;

  // Drain: from now on new RPCs (and new items on open streams) are refused
  // with UNAVAILABLE, which clients retry on another replica; RPCs already
  // accepted run to completion.
  void StartDraining() { draining_.store(true, std::memory_order_release); }
  bool draining() const { return draining_.load(std::memory_order_acquire); }
  // RPCs accepted and not yet finished (streams count while open).
  int64_t in_flight() const {
    return in_flight_.load(std::memory_order_acquire);
  }
  // Polls until in_flight() is 0 or `deadline` passes; true when idle. Blocks:
  // call it from the main thread, never from a gRPC thread.
  bool WaitIdle(absl::Time deadline) const;

  // OK when a new RPC may start: not draining (UNAVAILABLE) and, with auth
  // on, a valid token (UNAUTHENTICATED).
  absl::Status Admit(grpc::CallbackServerContext* context) const;

  // RESOURCE_EXHAUSTED past --max_concurrent_streams.
  absl::Status AdmitStream() const;
  void StreamOpened() const {
    open_streams_.fetch_add(1, std::memory_order_acq_rel);
  }
  void StreamClosed() const {
    open_streams_.fetch_sub(1, std::memory_order_acq_rel);
  }

  // Reactors call these when an RPC starts and ends.
  void RpcStarted() const {
    in_flight_.fetch_add(1, std::memory_order_acq_rel);
  }
  void RpcDone() const { in_flight_.fetch_sub(1, std::memory_order_acq_rel); }

  const ServiceOptions& options() const { return options_; }
  GradeObserver* observer() const { return observer_; }

 private:
  const RubricStore* store_;
  const Grader* grader_;
  const ServiceOptions options_;
  GradeObserver* observer_;
  mutable InlineRubricCache inline_rubrics_;
  std::atomic<bool> draining_{false};
  mutable std::atomic<int64_t> in_flight_{0};
  mutable std::atomic<int64_t> open_streams_{0};
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_SERVICE_REWARD_SERVICE_H_

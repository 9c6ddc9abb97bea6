// RewardClient: the C++ client of rewardd's reward.v1.RewardService.
//
// One object per process is enough: it owns the gRPC channel(s), spreads calls
// over every server address (round_robin), retries calls that failed with
// UNAVAILABLE (exponential backoff with jitter), puts a deadline on every
// unary call and attaches the bearer token when one is configured.
//
//   rewardd::RewardClient::Options options;
//   options.target = "dns:///rewardd.ml.svc:50051";  // or "a:1,b:2"
//   absl::StatusOr<std::unique_ptr<rewardd::RewardClient>> client =
//       rewardd::RewardClient::Create(options);
//   reward::v1::GradeRequest request;
//   request.set_rubric_set("healthbench");
//   request.set_rubric_id("p-0123456789abcdef");
//   request.set_response("...");
//   absl::StatusOr<reward::v1::GradeResponse> r = (*client)->Grade(request);
//   if (r.ok() && r->valid()) use(r->reward());
//
// Which rubrics saturate (tie at the top): ListSaturatedRubrics().
// Many requests at once: GradeAsync (callback per request) or a
// GradeStreamSession (grade_stream.h) from OpenStream() / GradeStreamAll().
// RubricService (rubric elicitation): GenerateRubric() and RefineRubric(),
// blocking, one per calling thread.
#ifndef REWARDD_CLIENT_REWARD_CLIENT_H_
#define REWARDD_CLIENT_REWARD_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/grade_stream.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "reward/v1/reward.grpc.pb.h"
#include "reward/v1/rubric_service.grpc.pb.h"

namespace rewardd {

// grpc::Status -> absl::Status, keeping the code (the numbering is the same)
// and the message.
absl::Status ToAbslStatus(const grpc::Status& status);

// A thread-safe client: every method may be called from any number of threads
// at once; the object must outlive every call and stream it started.
class RewardClient {
 public:
  struct Options {
    // Where the servers are:
    //  - "host:port": one address (the host may resolve to several IPs; all
    //    are used);
    //  - "host1:port1,host2:port2,...": several addresses. IP literals share
    //    one channel (gRPC's "ipv4:"/"ipv6:" resolver); host names get one
    //    channel each and calls rotate over those that are not failing;
    //  - any gRPC target URI, e.g. "dns:///rewardd.ml.svc:50051" (every A
    //    record of a headless service, i.e. every pod).
    std::string target = "127.0.0.1:50051";
    // gRPC load-balancing policy within a channel. "round_robin" spreads
    // calls over every resolved address; "pick_first" sticks to one.
    std::string lb_policy = "round_robin";
    // Deadline of each unary call (Grade, GradeGroup, List, Get, Health).
    // Judge calls are slow: a large group against an LLM judge takes tens of
    // seconds. Retries happen within this deadline.
    absl::Duration deadline = absl::Seconds(60);
    // Attempts per call, first one included, for calls that fail with
    // UNAVAILABLE (server down, restarting, connection lost before the
    // server answered). 1 disables retries; gRPC caps this at 5. Retries use
    // gRPC's retryPolicy: backoff is random in [0, b] where b starts at
    // initial_backoff and is multiplied by backoff_multiplier per attempt,
    // up to max_backoff.
    int max_attempts = 4;
    absl::Duration initial_backoff = absl::Milliseconds(200);
    absl::Duration max_backoff = absl::Seconds(5);
    double backoff_multiplier = 2.0;
    // Wait for a connection (up to the deadline) instead of failing at once
    // while no server is reachable. Useful when clients start before servers.
    bool wait_for_ready = false;
    // Largest message sent or received. Group responses with explanations
    // can be large.
    int max_message_bytes = 64 << 20;
    // Requests up to this size are kept for a retry; a larger request is
    // sent once (gRPC's per-RPC retry buffer).
    int retry_buffer_bytes = 8 << 20;
    // When not empty, every call carries "authorization: Bearer <token>".
    std::string bearer_token;
    // TLS: when use_tls is set the channel is encrypted and the server
    // certificate is checked against tls_root_certs_pem (PEM text; empty =
    // the system's roots).
    bool use_tls = false;
    std::string tls_root_certs_pem;
    // Mutual TLS: the client's certificate chain and private key (PEM text),
    // for servers started with --tls_client_ca_file. Both or neither.
    std::string tls_client_cert_pem;
    std::string tls_client_key_pem;
    // gRPC keepalive ping interval on idle connections; zero = off. The
    // server must allow it (its default minimum is 5 minutes).
    absl::Duration keepalive_time = absl::ZeroDuration();
  };

  // Called exactly once per call, on a gRPC thread: must not block.
  using GradeCallback =
      absl::AnyInvocable<void(absl::StatusOr<reward::v1::GradeResponse>) &&>;
  using GradeGroupCallback = absl::AnyInvocable<
      void(absl::StatusOr<reward::v1::GradeGroupResponse>) &&>;

  // Checks the options and creates the channel(s). Does not connect: the
  // first call does (see Options::wait_for_ready).
  static absl::StatusOr<std::unique_ptr<RewardClient>> Create(
      const Options& options);

  RewardClient(const RewardClient&) = delete;
  RewardClient& operator=(const RewardClient&) = delete;
  ~RewardClient();

  // Blocking unary calls. Errors keep the server's code and message.
  absl::StatusOr<reward::v1::GradeResponse> Grade(
      const reward::v1::GradeRequest& request);
  absl::StatusOr<reward::v1::GradeGroupResponse> GradeGroup(
      const reward::v1::GradeGroupRequest& request);
  absl::StatusOr<reward::v1::ListRubricSetsResponse> ListRubricSets();
  absl::StatusOr<reward::v1::GetRubricResponse> GetRubric(
      absl::string_view rubric_set, absl::string_view rubric_id);
  // The rubrics whose GradeGroup calls tied at the maximum reward most
  // recently, highest decayed score first (docs/observability.md, "Tail
  // saturation"). `rubric_set` empty: every set ("_inline" for inline
  // rubrics); `limit` 0: the server's default (20).
  absl::StatusOr<reward::v1::ListSaturatedRubricsResponse> ListSaturatedRubrics(
      absl::string_view rubric_set = "", uint32_t limit = 0);

  // reward.v1.RubricService. `deadline` bounds the whole call (a refinement
  // streams for minutes: Options::deadline is for short unary calls).
  absl::StatusOr<reward::v1::GenerateRubricResponse> GenerateRubric(
      const reward::v1::GenerateRubricRequest& request,
      absl::Duration deadline);
  // Streams one refinement; `on_event` runs on the calling thread for every
  // event, in order. Returns the stream's final status.
  absl::Status RefineRubric(
      const reward::v1::RefineRubricRequest& request, absl::Duration deadline,
      absl::FunctionRef<void(const reward::v1::RefineRubricEvent&)> on_event);

  // The server's grpc.health.v1 status for `service` ("" = the whole
  // server, "reward.v1.RewardService" = the grading service). A service the
  // server does not know is NOT_FOUND.
  absl::StatusOr<grpc::health::v1::HealthCheckResponse::ServingStatus> Health(
      absl::string_view service = "");

  // Non-blocking calls: `done` runs exactly once, on a gRPC thread, when the
  // call ends. The number in flight is the caller's to bound.
  void GradeAsync(reward::v1::GradeRequest request, GradeCallback done);
  void GradeGroupAsync(reward::v1::GradeGroupRequest request,
                       GradeGroupCallback done);

  // Opens a GradeStream (see grade_stream.h). `on_result` runs once per
  // request sent, never concurrently with itself, on a gRPC thread.
  std::unique_ptr<GradeStreamSession> OpenStream(
      GradeStreamSession::Options options,
      GradeStreamSession::ResultCallback on_result);

  // Grades `requests` over one stream with at most `window` unanswered and
  // returns one result per request, in request order. Every request needs a
  // distinct request_id (INVALID_ARGUMENT otherwise, before anything is
  // sent). An item that failed on the server has `error` set in its
  // response; an item left unanswered by a broken stream gets the stream's
  // status.
  absl::StatusOr<std::vector<absl::StatusOr<reward::v1::GradeResponse>>>
  GradeStreamAll(std::vector<reward::v1::GradeRequest> requests,
                 int window = 64);

  const Options& options() const { return options_; }

 private:
  struct Channel {
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<reward::v1::RewardService::Stub> stub;
    std::unique_ptr<reward::v1::RubricService::Stub> rubric;
    std::unique_ptr<grpc::health::v1::Health::Stub> health;
  };

  explicit RewardClient(const Options& options);

  // The channel for the next call: rotates over channels, skipping those in
  // TRANSIENT_FAILURE while another one is usable.
  Channel& PickChannel();
  // A context with the deadline and metadata of a unary call.
  void PrepareContext(grpc::ClientContext& context, bool with_deadline) const;

  const Options options_;
  std::vector<Channel> channels_;  // immutable after Create
  std::atomic<uint64_t> next_channel_{0};
};

// The service config JSON for `options`: load-balancing policy and the
// retryPolicy on every method of reward.v1.RewardService and
// grpc.health.v1.Health. Exposed for tests and for clients in other
// languages that want the same behaviour.
std::string ServiceConfigJson(const RewardClient::Options& options);

// Splits Options::target into the gRPC target(s) to open: one URI for a
// single address, a URI or a list of IP literals; one per address for a list
// of host names. Empty or malformed lists are INVALID_ARGUMENT.
absl::StatusOr<std::vector<std::string>> ResolveTargets(
    absl::string_view target);

}  // namespace rewardd

#endif  // REWARDD_CLIENT_REWARD_CLIENT_H_

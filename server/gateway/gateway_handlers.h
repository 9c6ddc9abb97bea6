// The gateway's endpoints as functions from an HTTP request to an HTTP
// reply: parse the JSON body, make the gRPC call(s) on the channel (with the
// caller's Authorization header as "authorization" metadata and the
// options' deadline), render the answer or an error (http_error.h).
// HttpGateway routes requests to these; they hold no HTTP server state.
//
//   GatewayHandlers handlers(options, channel);
//   HttpReply reply = handlers.Slime(request);
//
// With options.grade_backend set, Grade() and single-sample Slime() /
// OpenRlhf() call it on the HTTP thread instead of making the Grade RPC
// (grade_backend.h).
//
// Thread-safety: all methods may be called concurrently. Each blocks the
// calling (HTTP) thread until its gRPC calls finish; gRPC's threads only
// signal completion.
#ifndef REWARDD_SERVER_GATEWAY_GATEWAY_HANDLERS_H_
#define REWARDD_SERVER_GATEWAY_GATEWAY_HANDLERS_H_

#include <grpcpp/channel.h>
#include <httplib.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "reward/v1/reward.grpc.pb.h"
#include "server/gateway/gateway_options.h"
#include "server/gateway/grade_backend.h"
#include "server/gateway/http_error.h"

namespace rewardd {

struct HttpReply {
  int status = 200;
  std::string body;  // JSON

  static HttpReply Error(const HttpError& error) {
    return {error.http_status, error.Body()};
  }
};

class GatewayHandlers {
 public:
  GatewayHandlers(const GatewayOptions& options,
                  std::shared_ptr<grpc::Channel> channel);

  HttpReply Grade(const httplib::Request& request);
  HttpReply GradeGroup(const httplib::Request& request);
  HttpReply OpenRlhf(const httplib::Request& request);
  HttpReply Slime(const httplib::Request& request);
  HttpReply Health(const httplib::Request& request);

 private:
  struct CallResult {
    grpc::Status status;
    reward::v1::GradeResponse response;
  };

  // Grade or GradeGroup: the proto's JSON mapping in and out.
  template <typename Request, typename Response, typename Call>
  HttpReply Unary(const httplib::Request& http_request, Call call);
  // The Authorization header (nullopt when absent), or UNAUTHENTICATED
  // when it cannot travel as gRPC metadata.
  static absl::StatusOr<std::optional<std::string>> AuthorizationOf(
      const httplib::Request& request);
  // A context with the deadline and the forwarded Authorization header, or
  // UNAUTHENTICATED when the header cannot travel as metadata.
  absl::StatusOr<std::unique_ptr<grpc::ClientContext>> NewContext(
      const httplib::Request& request) const;
  // One Grade call through grade_backend_ (which must be set).
  CallResult GradeDirect(reward::v1::GradeRequest request,
                         const httplib::Request& http_request);
  // All Grade calls at once; returns when every one has finished (through
  // grade_backend_ when it is set and there is one call).
  std::vector<CallResult> GradeAll(
      const std::vector<reward::v1::GradeRequest>& requests,
      const httplib::Request& http_request);
  // The first failed call or invalid result as an error reply, prefixed
  // with its sample index when there are several; nullopt when all are
  // valid.
  static std::optional<HttpReply> FirstFailure(
      const std::vector<CallResult>& results);

  GradeBackend* const grade_backend_;  // null: Grade over the channel
  const std::string default_rubric_set_;
  const absl::Duration deadline_;
  const size_t max_calls_per_request_;
  std::unique_ptr<reward::v1::RewardService::Stub> stub_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_GATEWAY_GATEWAY_HANDLERS_H_

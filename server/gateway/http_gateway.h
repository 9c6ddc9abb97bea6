// rewardd's HTTP/JSON gateway: an HTTP(S) server that turns each request
// into gRPC calls on a channel to rewardd, so that auth tokens, limits,
// drain, metrics and deadlines apply exactly as for gRPC clients (in
// rewardd the channel is an in-process one to the same server).
//
//   POST /v1/grade        GradeRequest JSON      -> GradeResponse JSON
//   POST /v1/grade_group  GradeGroupRequest JSON -> GradeGroupResponse JSON
//   POST /v1/openrlhf     {query, prompts, labels} -> {rewards, scores,
//                                                      extra_logs}
//   POST /v1/slime        {prompt, response, label} -> GradeResponse JSON
//   GET  /healthz         gRPC health of reward.v1.RewardService
//
// docs/http-gateway.md describes the shapes, the status mapping
// (http_error.h) and how the response is cut out of OpenRLHF's query.
// The Authorization header is forwarded as gRPC "authorization" metadata.
// With GatewayOptions::grade_backend set (rewardd does), /v1/grade and
// single-sample slime / OpenRLHF requests call it instead of the Grade RPC
// (grade_backend.h).
// Handlers run on the gateway's own bounded thread pool
// (bounded_task_queue.h), never on gRPC's threads.
//
//   GatewayOptions options;
//   options.port = 0;
//   auto gateway = HttpGateway::Start(options, grpc::CreateChannel(...));
//   if (!gateway.ok()) ...;
//   int port = (*gateway)->port();
//   ...
//   (*gateway)->Stop();  // or destroy it
//
// Thread-safety: Start() and Stop() from one owner thread; the gateway
// serves requests on its own threads.
#ifndef REWARDD_SERVER_GATEWAY_HTTP_GATEWAY_H_
#define REWARDD_SERVER_GATEWAY_HTTP_GATEWAY_H_

#include <grpcpp/channel.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "server/gateway/gateway_options.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace rewardd {

class GatewayHandlers;

class HttpGateway {
 public:
  // Validates `options`, binds the port and starts serving. Fails with
  // INVALID_ARGUMENT naming a bad option or TLS file, or UNAVAILABLE when
  // the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<HttpGateway>> Start(
      GatewayOptions options, std::shared_ptr<grpc::Channel> channel);

  ~HttpGateway();  // Stop()
  HttpGateway(const HttpGateway&) = delete;
  HttpGateway& operator=(const HttpGateway&) = delete;

  // The bound port (the kernel's pick when options.port was 0).
  int port() const { return port_; }
  // "http" or "https".
  const std::string& scheme() const { return scheme_; }

  // Stops accepting, answers the connections already accepted (requests
  // in progress finish, with their gRPC deadlines), then returns. An idle
  // keep-alive connection holds its thread until keep_alive_timeout, so
  // this can take that long. Idempotent.
  void Stop();

 private:
  HttpGateway() = default;

  std::unique_ptr<GatewayHandlers> handlers_;
  std::unique_ptr<httplib::Server> server_;
  std::thread listener_;
  int port_ = 0;
  std::string scheme_;
  bool stopped_ = false;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_GATEWAY_HTTP_GATEWAY_H_

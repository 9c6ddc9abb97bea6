// A whole rewardd server in one object: rubric store, judges, grader,
// metrics, the gRPC services (with health and reflection), the /metrics
// endpoint and the optional HTTP/JSON gateway (on an in-process channel to
// the gRPC server, single Grade calls straight into the RewardService through
// InProcessGrade; either way HTTP requests get gRPC's auth, limits, drain,
// metrics and deadlines), started by Create() and stopped by Drain() or Stop(). The
// rewardd binary is main() around one Server (rewardd_main.cc); tests and
// benches run one in-process on port 0.
//
//   ServerOptions options;
//   options.listen = "127.0.0.1:0";
//   options.metrics_listen = "";
//   REWARDD_ASSIGN_OR_RETURN(std::unique_ptr<Server> server,
//                            Server::Create(options));
//   auto channel = grpc::CreateChannel(
//       absl::StrCat("127.0.0.1:", server->port()), ...);
//   ...
//   server->Drain();   // or Stop(); the destructor Stop()s
//
// Create() logs each start-up step as the binary always has (listening,
// metrics_listening, rubric_reload, ...) and, on failure, the failing step's
// line before returning its error.
//
// Adding a gRPC service: a member built in Create() and one entry in
// GrpcServices(), which registers it, reports its health and drains it
// (services share one Admission). Adding a listener beside gRPC (the
// /metrics endpoint and the HTTP gateway today): start it in
// StartListeners() (after gRPC, so it can use InProcessChannel), stop it in
// StopListeners().
//
// Thread-safety: Create() and the destructor on one thread; ReloadRubrics(),
// ports and in_flight() from any thread; Drain()/Stop() once, from any one
// thread, while Wait() may block on another.
#ifndef REWARDD_SERVER_MAIN_SERVER_H_
#define REWARDD_SERVER_MAIN_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "server/elicitation/proposer.h"
#include "server/gateway/http_gateway.h"
#include "server/grading/grader.h"
#include "server/judge/judge_registry.h"
#include "server/judge/pool/judges_config.h"
#include "server/main/in_process_grade.h"
#include "server/main/server_options.h"
#include "server/metrics/metrics_server.h"
#include "server/metrics/server_metrics.h"
#include "server/rubric/rubric_store.h"
#include "server/service/admission.h"
#include "server/service/reward_service.h"
#include "server/service/rubric_service.h"
#include "server/service/token_auth.h"

namespace rewardd {

class Server {
 public:
  // Builds everything and starts serving: gRPC listening, health NOT_SERVING
  // until the rubric sets are loaded (at once without a rubric dir), the
  // store polling. Fails on bad judges config, TLS or token files, a drift
  // baseline that cannot be read, or an address that cannot be bound.
  static absl::StatusOr<std::unique_ptr<Server>> Create(ServerOptions options);
  ~Server();

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound ports (meaningful when the address asked for port 0);
  // metrics_port() is 0 without a /metrics endpoint, http_port() 0 without
  // the HTTP gateway.
  int port() const { return port_; }
  int metrics_port() const;
  int http_port() const { return http_port_; }

  // Re-reads the rubric directory now (SIGHUP), on the store's thread.
  void ReloadRubrics();

  // Graceful stop (SIGTERM): health NOT_SERVING and the HTTP gateway stops
  // accepting connections at once (requests on connections it holds still
  // go to gRPC); new RPCs still accepted for drain_grace, then refused with
  // UNAVAILABLE (retryable) while accepted ones get up to drain_timeout;
  // then the transport, the gateway and the store stop and the drift
  // baseline is saved. Blocks until done.
  void Drain();
  // Stops at once: in-flight RPCs are cancelled. Blocks until done.
  void Stop();
  // Blocks until Drain() or Stop() has finished.
  void Wait();

  // RPCs accepted and not yet finished (streams count while open).
  int64_t in_flight() const { return admission_->in_flight(); }

 private:
  // A gRPC service and the name health reports it under.
  struct GrpcService {
    grpc::Service* service;
    std::string name;
  };

  explicit Server(ServerOptions options);

  absl::Status BuildJudges();
  absl::Status BuildProposersFrom(const JudgesConfigFile& file);
  absl::Status LoadDriftBaseline();
  // Opens the tail log when --tail_log_dir is set.
  absl::Status StartTailLog();
  absl::Status BuildService();
  absl::Status StartListeners();
  absl::Status StartGrpc();
  void StartStore();
  std::vector<GrpcService> GrpcServices() const;
  void SetHealth(bool serving);
  // Shuts the transport down (cancelling what is left after `grace`), stops
  // listeners and the store, saves the drift baseline; once.
  void Shutdown(absl::Duration grace);
  void StopListeners();
  absl::Status StartGateway();
  // Starts the gateway's Stop() on its own thread: it stops accepting at
  // once but returns only when its connections are done (an idle keep-alive
  // one after keep_alive_timeout), which must not hold up the drain.
  void StopAcceptingHttp();

  const ServerOptions options_;
  // Declared in dependency order; destroyed in reverse, so each outlives
  // what uses it. Metrics come before the judges: their worker pools create
  // their metric series at start-up.
  std::unique_ptr<RubricStore> store_;
  std::unique_ptr<ServerMetrics> metrics_;
  // Fed by metrics_; stopped once the transport has shut down.
  std::unique_ptr<TailLog> tail_log_;
  JudgeRegistry judges_;
  std::unique_ptr<Grader> grader_;
  std::optional<TokenAuth> auth_;
  std::unique_ptr<Admission> admission_;
  std::unique_ptr<RewardServiceImpl> reward_service_;
  // From the judges config's "proposers" (the default first); may be empty.
  std::vector<std::shared_ptr<Proposer>> proposers_;
  std::unique_ptr<RubricServiceImpl> rubric_service_;
  std::unique_ptr<MetricsServer> metrics_server_;
  std::unique_ptr<grpc::Server> grpc_server_;
  // Single Grade calls straight into reward_service_; before gateway_,
  // which uses it.
  std::unique_ptr<InProcessGrade> in_process_grade_;
  // After grpc_server_: its channel is one of grpc_server_'s.
  std::unique_ptr<HttpGateway> gateway_;
  std::thread gateway_stopper_;
  int port_ = 0;
  int http_port_ = 0;
  absl::Notification stopped_;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_MAIN_SERVER_H_

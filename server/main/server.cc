#include "server/main/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "server/elicitation/proposers_config.h"
#include "server/gateway/gateway_metrics.h"
#include "server/judge/pool/judges_config.h"
#include "server/util/log.h"
#include "server/util/status_macros.h"

namespace rewardd {
namespace {

std::string DescribeReload(const ReloadReport& report) {
  std::string out;
  for (const ReloadReport::FileError& e : report.errors) {
    if (e.repeated) continue;  // logged when it first failed
    absl::StrAppend(&out, out.empty() ? "" : "; ", e.file, ": ", e.message,
                    e.kept_previous ? " (previous version kept)" : "");
  }
  return out;
}

void LogReload(const ReloadReport& report) {
  if (!report.dir_status.ok()) {
    Log(LogLevel::kError, "rubric_dir_unreadable",
        {{"error", std::string(report.dir_status.message())}});
  }
  if (report.published) {
    Log(LogLevel::kInfo, "rubric_reload",
        {{"generation", absl::StrCat(report.generation)},
         {"loaded", absl::StrJoin(report.loaded, ",")},
         {"removed", absl::StrJoin(report.removed, ",")}});
  }
  for (const std::string& w : report.warnings) {
    Log(LogLevel::kWarning, "rubric_warning", {{"message", w}});
  }
  if (std::string failures = DescribeReload(report); !failures.empty()) {
    Log(LogLevel::kWarning, "rubric_reload_failed", {{"failures", failures}});
  }
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path);
  if (!in) return "";
  return std::string(std::istreambuf_iterator<char>(in),
                     std::istreambuf_iterator<char>());
}

// Written to a temporary name and renamed, so readers never see a partial
// port.
void WritePortFile(const std::string& path, int port) {
  if (path.empty()) return;
  const std::string tmp = path + ".tmp";
  std::ofstream(tmp) << port << "\n";
  std::rename(tmp.c_str(), path.c_str());
}

// Insecure, TLS, or mutual TLS, from the tls_* options.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(
    const ServerOptions& o) {
  if (o.tls_cert_file.empty() && o.tls_key_file.empty()) {
    if (!o.tls_client_ca_file.empty()) {
      return absl::InvalidArgumentError(
          "--tls_client_ca_file needs --tls_cert_file and --tls_key_file");
    }
    return grpc::InsecureServerCredentials();
  }
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  pair.cert_chain = ReadFileOrEmpty(o.tls_cert_file);
  pair.private_key = ReadFileOrEmpty(o.tls_key_file);
  if (pair.cert_chain.empty() || pair.private_key.empty()) {
    return absl::InvalidArgumentError(
        "TLS needs readable, non-empty --tls_cert_file and --tls_key_file");
  }
  grpc::SslServerCredentialsOptions options(
      o.tls_client_ca_file.empty()
          ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
          : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_key_cert_pairs.push_back(std::move(pair));
  if (!o.tls_client_ca_file.empty()) {
    options.pem_root_certs = ReadFileOrEmpty(o.tls_client_ca_file);
    if (options.pem_root_certs.empty()) {
      return absl::InvalidArgumentError(
          "--tls_client_ca_file is not readable or empty");
    }
  }
  return grpc::SslServerCredentials(options);
}

// "host:port" (IPv6 hosts in brackets) -> host and port for the gateway.
absl::Status SplitHostPort(const std::string& address, std::string* host,
                           int* port) {
  const size_t colon = address.rfind(':');
  std::string h = colon == std::string::npos ? "" : address.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') {
    h = h.substr(1, h.size() - 2);
  }
  int p = -1;
  if (h.empty() || !absl::SimpleAtoi(address.substr(colon + 1), &p) || p < 0 ||
      p > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--http_listen: '", address,
                     "' is not host:port with a port in [0, 65535]"));
  }
  *host = std::move(h);
  *port = p;
  return absl::OkStatus();
}

// Logs `event` with the error of a failed start-up step (after `field`,
// when given) and passes the status on.
absl::Status LogFailure(absl::Status status, absl::string_view event) {
  if (!status.ok()) {
    Log(LogLevel::kError, event, {{"error", std::string(status.message())}});
  }
  return status;
}
absl::Status LogFailure(absl::Status status, absl::string_view event,
                        LogField field) {
  if (!status.ok()) {
    Log(LogLevel::kError, event,
        {std::move(field), {"error", std::string(status.message())}});
  }
  return status;
}

}  // namespace

Server::Server(ServerOptions options)
    : options_(std::move(options)),
      store_(std::make_unique<RubricStore>(options_.store)),
      metrics_(std::make_unique<ServerMetrics>(options_.metrics)) {}

absl::StatusOr<std::unique_ptr<Server>> Server::Create(ServerOptions options) {
  std::unique_ptr<Server> server(new Server(std::move(options)));
  REWARDD_RETURN_IF_ERROR(server->BuildJudges());
  REWARDD_RETURN_IF_ERROR(server->LoadDriftBaseline());
  REWARDD_RETURN_IF_ERROR(server->StartTailLog());
  REWARDD_RETURN_IF_ERROR(server->BuildService());
  REWARDD_RETURN_IF_ERROR(server->StartGrpc());
  REWARDD_RETURN_IF_ERROR(server->StartListeners());
  server->StartStore();
  Log(LogLevel::kInfo, "listening",
      {{"address", server->options_.listen},
       {"port", absl::StrCat(server->port_)},
       {"judges", absl::StrCat(server->judges_.names().size())},
       {"default_judge", server->judges_.default_name()}});
  WritePortFile(server->options_.port_file, server->port_);
  return server;
}

absl::Status Server::BuildJudges() {
  REWARDD_RETURN_IF_ERROR(LogFailure(
      judges_.Add(std::make_shared<EmbeddedJudge>(options_.embedded)),
      "judges"));
  std::string default_judge = options_.default_judge;
  if (const std::string& path = options_.judges_config; !path.empty()) {
    const bool metrics_on = !options_.metrics_listen.empty();
    absl::StatusOr<JudgesConfigFile> loaded = LoadJudgesConfigFile(
        path, metrics_on ? &metrics_->judge_pools() : nullptr);
    REWARDD_RETURN_IF_ERROR(
        LogFailure(loaded.status(), "judges_config", {"path", path}));
    REWARDD_RETURN_IF_ERROR(BuildProposersFrom(*loaded));
    // The config lists its default judge first.
    if (default_judge.empty() && !loaded->judges.empty()) {
      default_judge = loaded->judges[0]->name();
    }
    for (const std::shared_ptr<Judge>& judge : loaded->judges) {
      REWARDD_RETURN_IF_ERROR(LogFailure(judges_.Add(judge), "judges_config"));
    }
  }
  if (default_judge.empty()) default_judge = "embedded";
  REWARDD_RETURN_IF_ERROR(
      LogFailure(judges_.SetDefault(default_judge), "judges"));
  grader_ = std::make_unique<Grader>(&judges_);
  return absl::OkStatus();
}

// The judges config's "proposers", on the loop its judges share.
absl::Status Server::BuildProposersFrom(const JudgesConfigFile& file) {
  absl::StatusOr<std::vector<std::shared_ptr<Proposer>>> proposers =
      BuildProposers(
          *file.document, file.base_dir, file.loop,
          options_.metrics_listen.empty() ? nullptr : &metrics_->judge_pools());
  REWARDD_RETURN_IF_ERROR(LogFailure(proposers.status(), "proposers_config",
                                     {"path", options_.judges_config}));
  proposers_ = *std::move(proposers);
  if (!proposers_.empty()) {
    Log(LogLevel::kInfo, "proposers",
        {{"count", absl::StrCat(proposers_.size())},
         {"default_proposer", proposers_.front()->name()}});
  }
  return absl::OkStatus();
}

// The drift reference windows of an earlier run, when the file exists.
absl::Status Server::LoadDriftBaseline() {
  if (const std::string& file = options_.drift_baseline_file; !file.empty()) {
    absl::Status s = metrics_->LoadDriftBaseline(file);
    if (!s.ok() && !absl::IsNotFound(s)) {
      Log(LogLevel::kError, "drift_baseline", {{"error", s.ToString()}});
      return s;
    }
    Log(LogLevel::kInfo, "drift_baseline",
        {{"file", file}, {"loaded", s.ok() ? "true" : "false"}});
  }
  return absl::OkStatus();
}

absl::Status Server::StartTailLog() {
  if (options_.tail_log.dir.empty()) return absl::OkStatus();
  absl::StatusOr<std::unique_ptr<TailLog>> log =
      TailLog::Create(options_.tail_log, &metrics_->registry());
  REWARDD_RETURN_IF_ERROR(LogFailure(log.status(), "tail_log"));
  tail_log_ = *std::move(log);
  metrics_->SetTailLog(tail_log_.get());
  Log(LogLevel::kInfo, "tail_log", {{"dir", options_.tail_log.dir}});
  return absl::OkStatus();
}

absl::Status Server::BuildService() {
  AdmissionOptions admission = options_.admission;
  if (!options_.auth_token_files.empty()) {
    absl::StatusOr<TokenAuth> loaded =
        TokenAuth::FromFiles(options_.auth_token_files);
    REWARDD_RETURN_IF_ERROR(LogFailure(loaded.status(), "auth"));
    auth_.emplace(*std::move(loaded));
    admission.auth = &*auth_;
    Log(LogLevel::kInfo, "auth_enabled",
        {{"tokens", absl::StrCat(auth_->token_count())}});
  }
  admission_ = std::make_unique<Admission>(admission);
  reward_service_ = std::make_unique<RewardServiceImpl>(
      store_.get(), grader_.get(), options_.service, admission_.get(),
      metrics_.get());
  reward_service_->SetSaturationTracker(&metrics_->saturation());
  rubric_service_ = std::make_unique<RubricServiceImpl>(
      store_.get(), grader_.get(), proposers_, options_.rubric_service,
      admission_.get(), &metrics_->registry());
  metrics_->SetInFlightSource(
      [admission = admission_.get()] { return admission->in_flight(); });
  return absl::OkStatus();
}

// Every gRPC service of the server, in one place: StartGrpc registers each,
// SetHealth reports each under its name, and all share admission_, so Drain
// covers them.
std::vector<Server::GrpcService> Server::GrpcServices() const {
  return {
      {reward_service_.get(), reward::v1::RewardService::service_full_name()},
      // Always registered: without proposers its RPCs say what to configure.
      {rubric_service_.get(), reward::v1::RubricService::service_full_name()},
  };
}

absl::Status Server::StartListeners() {
  if (const std::string& address = options_.metrics_listen; !address.empty()) {
    absl::StatusOr<std::unique_ptr<MetricsServer>> started =
        MetricsServer::Start(address, metrics_->collectable());
    REWARDD_RETURN_IF_ERROR(
        LogFailure(started.status(), "metrics_listen_failed"));
    metrics_server_ = *std::move(started);
    Log(LogLevel::kInfo, "metrics_listening",
        {{"address", address},
         {"port", absl::StrCat(metrics_server_->port())}});
    WritePortFile(options_.metrics_port_file, metrics_server_->port());
  }
  return StartGateway();
}

absl::Status Server::StartGateway() {
  if (options_.http_listen.empty()) return absl::OkStatus();
  GatewayOptions gateway = options_.http;
  absl::Status parsed = SplitHostPort(options_.http_listen,
                                      &gateway.listen_address, &gateway.port);
  if (parsed.ok() && !options_.tls_client_ca_file.empty()) {
    // The gateway cannot check client certificates: serving HTTPS without
    // them would open a door that mutual TLS closes for gRPC.
    parsed = absl::InvalidArgumentError(
        "--http_listen cannot be combined with --tls_client_ca_file: the "
        "HTTP gateway does not verify client certificates");
  }
  REWARDD_RETURN_IF_ERROR(LogFailure(parsed, "http_listen_failed"));
  gateway.tls_cert_file = options_.tls_cert_file;
  gateway.tls_key_file = options_.tls_key_file;
  if (!options_.metrics_listen.empty()) {
    gateway.on_request = GatewayRequestCounter(metrics_->registry());
  }
  // Single Grade calls (/v1/grade, slime, one-sample OpenRLHF) skip gRPC's
  // in-process transport and its thread hand-offs; the rest make RPCs on
  // the channel.
  in_process_grade_ = std::make_unique<InProcessGrade>(
      reward_service_.get(), options_.max_message_bytes);
  gateway.grade_backend = in_process_grade_.get();
  // The gateway's calls are as large as a gRPC client's may be.
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options_.max_message_bytes);
  args.SetMaxSendMessageSize(options_.max_message_bytes);
  absl::StatusOr<std::unique_ptr<HttpGateway>> started = HttpGateway::Start(
      std::move(gateway), grpc_server_->InProcessChannel(args));
  REWARDD_RETURN_IF_ERROR(LogFailure(started.status(), "http_listen_failed"));
  gateway_ = *std::move(started);
  http_port_ = gateway_->port();
  Log(LogLevel::kInfo, "http_listening",
      {{"address", options_.http_listen},
       {"port", absl::StrCat(http_port_)},
       {"scheme", gateway_->scheme()}});
  WritePortFile(options_.http_port_file, http_port_);
  return absl::OkStatus();
}

void Server::StopAcceptingHttp() {
  if (gateway_ == nullptr || gateway_stopper_.joinable()) return;
  gateway_stopper_ =
      std::thread([gateway = gateway_.get()] { gateway->Stop(); });
}

void Server::StopListeners() {
  StopAcceptingHttp();
  if (gateway_stopper_.joinable()) gateway_stopper_.join();
  gateway_.reset();
  metrics_server_.reset();
}

int Server::metrics_port() const {
  return metrics_server_ == nullptr ? 0 : metrics_server_->port();
}

absl::Status Server::StartGrpc() {
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      ServerCredentials(options_);
  REWARDD_RETURN_IF_ERROR(LogFailure(credentials.status(), "tls"));
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options_.listen, *credentials, &port_);
  for (const GrpcService& s : GrpcServices()) {
    builder.RegisterService(s.service);
  }
  builder.SetMaxReceiveMessageSize(options_.max_message_bytes);
  builder.SetMaxSendMessageSize(options_.max_message_bytes);
  grpc_server_ = builder.BuildAndStart();
  if (grpc_server_ == nullptr || port_ == 0) {
    if (grpc_server_ != nullptr) grpc_server_->Shutdown();
    grpc_server_.reset();
    Log(LogLevel::kError, "listen_failed", {{"address", options_.listen}});
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options_.listen));
  }
  SetHealth(false);
  return absl::OkStatus();
}

// Health follows the store: SERVING once rubric sets are loaded (or at once
// when there is no rubric dir: inline rubrics only).
void Server::StartStore() {
  store_->SetReloadListener([this](const ReloadReport& report) {
    metrics_->OnRubricReload(report, *store_->snapshot());
    LogReload(report);
    if (store_->ready()) SetHealth(true);
  });
  if (options_.store.dir.empty()) {
    SetHealth(true);
  } else {
    store_->Reload();
    store_->Start();
  }
}

void Server::SetHealth(bool serving) {
  grpc::HealthCheckServiceInterface* health =
      grpc_server_->GetHealthCheckService();
  health->SetServingStatus(serving);
  for (const GrpcService& s : GrpcServices()) {
    health->SetServingStatus(s.name, serving);
  }
}

void Server::ReloadRubrics() { store_->RequestReload(); }

void Server::Drain() {
  // NOT_SERVING now (Shutdown() also pins it there); keep serving for a
  // short grace while load balancers notice; then refuse new RPCs with
  // UNAVAILABLE (clients retry elsewhere) and give accepted ones up to
  // drain_timeout; only then stop the transport.
  grpc_server_->GetHealthCheckService()->Shutdown();
  // New HTTP connections are refused at once (HTTP clients retry another
  // replica); requests on connections already open still reach gRPC and
  // are answered like any other RPC of the drain.
  StopAcceptingHttp();
  absl::SleepFor(options_.drain_grace);
  admission_->StartDraining();
  // Clients still sending learn UNAVAILABLE (retryable) during this window;
  // calls that reach a shut-down transport would get CANCELLED instead.
  absl::SleepFor(options_.drain_grace);
  const bool idle = admission_->WaitIdle(absl::Now() + options_.drain_timeout);
  Log(idle ? LogLevel::kInfo : LogLevel::kWarning, "drained",
      {{"in_flight_cancelled", absl::StrCat(admission_->in_flight())}});
  Shutdown(absl::Seconds(1));
}

void Server::Stop() {
  if (stopped_.HasBeenNotified()) return;
  grpc_server_->GetHealthCheckService()->Shutdown();
  StopAcceptingHttp();
  admission_->StartDraining();
  Shutdown(absl::ZeroDuration());
}

void Server::Shutdown(absl::Duration grace) {
  grpc_server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  // The gateway's single Grade calls do not go through gRPC: cancel the ones
  // still running as Shutdown() has cancelled the RPCs.
  if (in_process_grade_ != nullptr) in_process_grade_->CancelAll();
  store_->Stop();
  StopListeners();
  // Every RPC has finished: what the tail log holds is final.
  if (tail_log_ != nullptr) tail_log_->Stop();
  if (!options_.drift_baseline_file.empty() &&
      options_.drift_save_baseline.has_value()) {
    absl::Status s = metrics_->SaveDriftBaseline(options_.drift_baseline_file,
                                                 *options_.drift_save_baseline);
    Log(s.ok() ? LogLevel::kInfo : LogLevel::kError, "drift_baseline_saved",
        {{"file", options_.drift_baseline_file}, {"status", s.ToString()}});
  }
  Log(LogLevel::kInfo, "stopped");
  stopped_.Notify();
}

void Server::Wait() { stopped_.WaitForNotification(); }

Server::~Server() {
  // A server that failed in Create() may have no transport; the store's
  // listener must not outlive what it touches either way.
  if (grpc_server_ != nullptr) {
    Stop();
  } else {
    store_->Stop();
  }
}

}  // namespace rewardd

// rewardd: the rubric reward server. See README.md and `rewardd --help`.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>
#include <vector>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "server/grading/grader.h"
#include "server/judge/embedded/embedded_judge.h"
#include "server/judge/judge_registry.h"
#include "server/rubric/rubric_store.h"
#include "server/service/reward_service.h"
#include "server/service/token_auth.h"
#include "server/util/log.h"

ABSL_FLAG(std::string, listen, "0.0.0.0:50051",
          "gRPC listen address (host:port). Port 0 picks a free port; see "
          "--port_file.");
ABSL_FLAG(std::string, port_file, "",
          "If set, the bound gRPC port is written to this file once the "
          "server listens (for scripts and tests that use port 0).");
ABSL_FLAG(std::string, rubric_dir, "",
          "Directory of rubric set files (*.json, *.jsonl); one file is one "
          "set named after the file. Formats: see docs/rubric-formats.md. "
          "Empty: inline rubrics only.");
ABSL_FLAG(int, rubric_poll_seconds, 10,
          "Re-read --rubric_dir this often (0 = only on SIGHUP). Unchanged "
          "files are not re-parsed; a file that fails to load keeps its "
          "previous version.");
ABSL_FLAG(std::string, default_judge, "embedded",
          "Judge used when a request names none.");
ABSL_FLAG(double, embedded_threshold, 0.5,
          "Embedded judge: share of a criterion's key terms a response must "
          "contain for the lexical heuristic to call it met. The embedded "
          "judge decides criteria with a `check` exactly; for the others it "
          "uses a LEXICAL HEURISTIC meant for offline runs, demos and tests, "
          "not a substitute for an LLM judge.");
ABSL_FLAG(int, drain_seconds, 25,
          "On SIGTERM/SIGINT: health goes NOT_SERVING at once, new RPCs are "
          "refused after --drain_grace_seconds, and in-flight RPCs get this "
          "long to finish before they are cancelled; then exit 0.");
ABSL_FLAG(double, drain_grace_seconds, 1,
          "On SIGTERM: how long rewardd keeps accepting RPCs after health "
          "goes NOT_SERVING, so load balancers can stop sending first; then "
          "as long again refusing new RPCs with UNAVAILABLE (retryable) "
          "before the transport closes.");
ABSL_FLAG(int64_t, max_message_bytes, 64 << 20,
          "Largest gRPC message accepted (bigger: RESOURCE_EXHAUSTED).");
ABSL_FLAG(int64_t, max_response_bytes, 1 << 20,
          "Largest response text accepted for grading (INVALID_ARGUMENT).");
ABSL_FLAG(int64_t, max_prompt_bytes, 1 << 20,
          "Largest prompt accepted (INVALID_ARGUMENT).");
ABSL_FLAG(int64_t, max_criteria_per_rubric, 256,
          "Most criteria a rubric may have, inline or loaded.");
ABSL_FLAG(int64_t, max_group_size, 256, "Most responses in one GradeGroup.");
ABSL_FLAG(int64_t, max_rubric_file_bytes, 512 << 20,
          "Largest rubric set file loaded from --rubric_dir.");
ABSL_FLAG(int64_t, max_stream_inflight, 64,
          "GradeStream items graded at once per stream; reading pauses "
          "beyond (flow control).");
ABSL_FLAG(std::vector<std::string>, auth_token_files, {},
          "Comma-separated files of bearer tokens (one per line; '#' "
          "comments). When set, every RewardService call needs "
          "'authorization: Bearer <token>' with one of them "
          "(UNAUTHENTICATED otherwise). Several tokens allow rotation. "
          "Health and reflection stay open.");
ABSL_FLAG(std::string, tls_cert_file, "",
          "PEM server certificate chain; with --tls_key_file turns on TLS.");
ABSL_FLAG(std::string, tls_key_file, "", "PEM private key of --tls_cert_file.");
ABSL_FLAG(std::string, tls_client_ca_file, "",
          "PEM CA bundle: when set, clients must present a certificate "
          "signed by it (mutual TLS).");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warning or error.");

namespace rewardd {
namespace {

constexpr char kServiceName[] = "reward.v1.RewardService";

void SetHealth(grpc::Server* server, bool serving) {
  grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
  health->SetServingStatus(serving);
  health->SetServingStatus(kServiceName, serving);
}

std::string DescribeReload(const ReloadReport& report) {
  std::string out;
  for (const ReloadReport::FileError& e : report.errors) {
    if (e.repeated) continue;  // logged when it first failed
    absl::StrAppend(&out, out.empty() ? "" : "; ", e.file, ": ", e.message,
                    e.kept_previous ? " (previous version kept)" : "");
  }
  return out;
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path);
  if (!in) return "";
  return std::string(std::istreambuf_iterator<char>(in),
                     std::istreambuf_iterator<char>());
}

// Insecure, TLS, or mutual TLS, from the --tls_* flags.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials() {
  const std::string cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  const std::string key_file = absl::GetFlag(FLAGS_tls_key_file);
  const std::string ca_file = absl::GetFlag(FLAGS_tls_client_ca_file);
  if (cert_file.empty() && key_file.empty()) {
    if (!ca_file.empty()) {
      return absl::InvalidArgumentError(
          "--tls_client_ca_file needs --tls_cert_file and --tls_key_file");
    }
    return grpc::InsecureServerCredentials();
  }
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  pair.cert_chain = ReadFileOrEmpty(cert_file);
  pair.private_key = ReadFileOrEmpty(key_file);
  if (pair.cert_chain.empty() || pair.private_key.empty()) {
    return absl::InvalidArgumentError(
        "TLS needs readable, non-empty --tls_cert_file and --tls_key_file");
  }
  grpc::SslServerCredentialsOptions options(
      ca_file.empty()
          ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
          : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_key_cert_pairs.push_back(std::move(pair));
  if (!ca_file.empty()) {
    options.pem_root_certs = ReadFileOrEmpty(ca_file);
    if (options.pem_root_certs.empty()) {
      return absl::InvalidArgumentError(
          "--tls_client_ca_file is not readable or empty");
    }
  }
  return grpc::SslServerCredentials(options);
}

int RunServer() {
  // Only the main thread takes these signals (sigwait below): block them
  // before gRPC or the store start threads, which inherit the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  RubricStore::Options store_options;
  store_options.dir = absl::GetFlag(FLAGS_rubric_dir);
  store_options.poll_interval =
      absl::Seconds(absl::GetFlag(FLAGS_rubric_poll_seconds));
  store_options.limits.max_file_bytes =
      absl::GetFlag(FLAGS_max_rubric_file_bytes);
  store_options.limits.max_criteria_per_rubric =
      absl::GetFlag(FLAGS_max_criteria_per_rubric);
  RubricStore store(store_options);

  JudgeRegistry judges;
  EmbeddedJudgeOptions embedded_options;
  embedded_options.heuristic_threshold =
      absl::GetFlag(FLAGS_embedded_threshold);
  if (absl::Status s =
          judges.Add(std::make_shared<EmbeddedJudge>(embedded_options));
      !s.ok()) {
    Log(LogLevel::kError, "judges", {{"error", std::string(s.message())}});
    return 1;
  }
  if (absl::Status s = judges.SetDefault(absl::GetFlag(FLAGS_default_judge));
      !s.ok()) {
    Log(LogLevel::kError, "judges", {{"error", std::string(s.message())}});
    return 1;
  }
  Grader grader(&judges);

  ServiceOptions service_options;
  service_options.max_response_bytes = absl::GetFlag(FLAGS_max_response_bytes);
  service_options.max_prompt_bytes = absl::GetFlag(FLAGS_max_prompt_bytes);
  service_options.max_criteria_per_rubric =
      absl::GetFlag(FLAGS_max_criteria_per_rubric);
  service_options.max_group_size = absl::GetFlag(FLAGS_max_group_size);
  service_options.max_stream_inflight =
      absl::GetFlag(FLAGS_max_stream_inflight);
  std::optional<TokenAuth> auth;
  if (const auto files = absl::GetFlag(FLAGS_auth_token_files); !files.empty()) {
    absl::StatusOr<TokenAuth> loaded = TokenAuth::FromFiles(files);
    if (!loaded.ok()) {
      Log(LogLevel::kError, "auth", {{"error", std::string(loaded.status().message())}});
      return 1;
    }
    auth.emplace(std::move(*loaded));
    service_options.auth = &*auth;
    Log(LogLevel::kInfo, "auth_enabled",
        {{"tokens", absl::StrCat(auth->token_count())}});
  }
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      ServerCredentials();
  if (!credentials.ok()) {
    Log(LogLevel::kError, "tls", {{"error", std::string(credentials.status().message())}});
    return 1;
  }
  RewardServiceImpl service(&store, &grader, service_options);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  const std::string listen = absl::GetFlag(FLAGS_listen);
  builder.AddListeningPort(listen, *credentials, &port);
  builder.RegisterService(&service);
  builder.SetMaxReceiveMessageSize(absl::GetFlag(FLAGS_max_message_bytes));
  builder.SetMaxSendMessageSize(absl::GetFlag(FLAGS_max_message_bytes));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    Log(LogLevel::kError, "listen_failed", {{"address", listen}});
    return 1;
  }
  SetHealth(server.get(), false);

  // Health follows the store: SERVING once rubric sets are loaded (or at
  // once when there is no rubric dir: inline rubrics only).
  grpc::Server* raw_server = server.get();
  store.SetReloadListener([raw_server, &store](const ReloadReport& report) {
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
    if (store.ready()) SetHealth(raw_server, true);
  });
  if (store_options.dir.empty()) {
    SetHealth(raw_server, true);
  } else {
    store.Reload();
    store.Start();
  }

  Log(LogLevel::kInfo, "listening",
      {{"address", listen},
       {"port", absl::StrCat(port)},
       {"judges", absl::StrCat(judges.names().size())},
       {"default_judge", judges.default_name()}});
  if (const std::string port_file = absl::GetFlag(FLAGS_port_file);
      !port_file.empty()) {
    const std::string tmp = port_file + ".tmp";
    std::ofstream(tmp) << port << "\n";
    std::rename(tmp.c_str(), port_file.c_str());
  }

  for (;;) {
    int signal = 0;
    if (sigwait(&signals, &signal) != 0) continue;
    if (signal == SIGHUP) {
      Log(LogLevel::kInfo, "sighup_reload");
      store.RequestReload();
      continue;
    }
    Log(LogLevel::kInfo, "draining",
        {{"signal", absl::StrCat(signal)},
         {"drain_seconds", absl::StrCat(absl::GetFlag(FLAGS_drain_seconds))}});
    break;
  }

  // Drain: NOT_SERVING now (Shutdown() also pins it there); keep serving for
  // a short grace while load balancers notice; then refuse new RPCs with
  // UNAVAILABLE (clients retry elsewhere) and give accepted ones up to
  // --drain_seconds; only then stop the transport.
  server->GetHealthCheckService()->Shutdown();
  absl::SleepFor(absl::Seconds(absl::GetFlag(FLAGS_drain_grace_seconds)));
  service.StartDraining();
  // Clients still sending learn UNAVAILABLE (retryable) during this window;
  // calls that reach a shut-down transport would get CANCELLED instead.
  absl::SleepFor(absl::Seconds(absl::GetFlag(FLAGS_drain_grace_seconds)));
  const absl::Time drain_deadline =
      absl::Now() + absl::Seconds(absl::GetFlag(FLAGS_drain_seconds));
  const bool idle = service.WaitIdle(drain_deadline);
  Log(idle ? LogLevel::kInfo : LogLevel::kWarning, "drained",
      {{"in_flight_cancelled", absl::StrCat(service.in_flight())}});
  server->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
  store.Stop();
  Log(LogLevel::kInfo, "stopped");
  return 0;
}

}  // namespace
}  // namespace rewardd

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "rewardd: the rubric reward server for RL post-training.\n"
      "Serves reward.v1.RewardService over gRPC; see README.md.\n"
      "The default judge, 'embedded', decides machine-checkable criteria "
      "exactly and the rest with a lexical heuristic that is for offline "
      "runs and tests only, not a substitute for an LLM judge.\n"
      "Usage: rewardd --rubric_dir=examples/rubrics [--listen=0.0.0.0:50051]");
  absl::ParseCommandLine(argc, argv);
  rewardd::LogLevel level;
  if (!rewardd::ParseLogLevel(absl::GetFlag(FLAGS_log_level), &level)) {
    std::fprintf(stderr, "--log_level must be debug, info, warning or error\n");
    return 2;
  }
  rewardd::SetLogLevel(level);
  return rewardd::RunServer();
}

// rewardd: the rubric reward server. See README.md and `rewardd --help`.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "server/judge/pool/judges_config.h"
#include "server/grading/grader.h"
#include "server/judge/embedded/embedded_judge.h"
#include "server/judge/judge_registry.h"
#include "server/metrics/metrics_server.h"
#include "server/metrics/server_metrics.h"
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
ABSL_FLAG(std::string, default_judge, "",
          "Judge used when a request names none. Empty: the --judges_config "
          "file's default, or 'embedded' without a config.");
ABSL_FLAG(std::string, judges_config, "",
          "JSON file (or YAML, when the name ends in .yaml/.yml) of LLM "
          "judges behind OpenAI-compatible endpoints (vLLM, SGLang, OpenAI, "
          "LiteLLM): replicas, model, sampling, grading mode, worker pool "
          "limits. See docs/judges.md and examples/judges.json or "
          "examples/judges.yaml. The embedded judge is always available as "
          "'embedded'.");
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
ABSL_FLAG(int64_t, max_concurrent_streams, 1024,
          "GradeStreams open at once; more get RESOURCE_EXHAUSTED.");
ABSL_FLAG(int64_t, max_inflight_requests, 16384,
          "RPCs served at once; more get RESOURCE_EXHAUSTED (bounds the "
          "judge work a burst can queue).");
ABSL_FLAG(int64_t, inline_rubric_cache_size, 4096,
          "Distinct inline rubrics kept validated, so a rubric sent with "
          "every request of a group is validated once (0 = off).");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warning or error.");

// Metrics and drift (docs/observability.md).
ABSL_FLAG(std::string, metrics_listen, "0.0.0.0:9464",
          "Prometheus /metrics address (host:port; port 0 picks a free port, "
          "see --metrics_port_file). Empty: no metrics endpoint.");
ABSL_FLAG(std::string, metrics_port_file, "",
          "If set, the bound metrics port is written to this file.");
ABSL_FLAG(int64_t, policy_version_limit, 8,
          "Distinct policy_version request labels exported as metric labels; "
          "later values are counted as policy_version=\"other\".");
ABSL_FLAG(double, tail_threshold, 0.9,
          "Rewards at or above this count as the high-reward tail "
          "(rewardd_reward_tail_total).");
ABSL_FLAG(std::string, criterion_tag_prefixes, "",
          "Comma-separated prefixes of the criterion tags that get pass-rate "
          "series (e.g. \"axis:\" for HealthBench). Empty: every tag, up to "
          "--criterion_tag_limit.");
ABSL_FLAG(int64_t, criterion_tag_limit, 16,
          "Distinct criterion tags exported; later ones count as \"other\".");
ABSL_FLAG(int64_t, drift_reference_size, 1000,
          "Drift detector: the first N valid rewards of each rubric set form "
          "its reference window (unless --drift_baseline_file has one).");
ABSL_FLAG(int64_t, drift_window, 1000,
          "Drift detector: recent valid rewards per rubric set compared with "
          "the reference.");
ABSL_FLAG(std::string, drift_baseline_file, "",
          "Drift reference windows saved by an earlier run; read at start "
          "when it exists, written at shutdown per --drift_save_baseline.");
ABSL_FLAG(std::string, drift_save_baseline, "none",
          "At shutdown, write to --drift_baseline_file: none, reference (the "
          "reference windows: keep the baseline across restarts) or window "
          "(the recent windows: make today's distribution the baseline).");
ABSL_FLAG(bool, log_requests, false,
          "Log one JSON line per graded response (request id, rubric, judge, "
          "reward, timings; never prompt or response text).");

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

  // Before the judges: their worker pools create their metric series at
  // start-up. Declared first, so it outlives the pools.
  MetricsOptions metrics_options;
  metrics_options.reward.policy_version_limit =
      absl::GetFlag(FLAGS_policy_version_limit);
  metrics_options.reward.tail_threshold = absl::GetFlag(FLAGS_tail_threshold);
  metrics_options.reward.criterion_tag_prefixes = absl::StrSplit(
      absl::GetFlag(FLAGS_criterion_tag_prefixes), ',', absl::SkipEmpty());
  metrics_options.reward.criterion_tag_limit =
      absl::GetFlag(FLAGS_criterion_tag_limit);
  metrics_options.reward.drift.reference_size =
      absl::GetFlag(FLAGS_drift_reference_size);
  metrics_options.reward.drift.window_size = absl::GetFlag(FLAGS_drift_window);
  metrics_options.log_requests = absl::GetFlag(FLAGS_log_requests);
  ServerMetrics metrics(metrics_options);
  const bool metrics_on = !absl::GetFlag(FLAGS_metrics_listen).empty();

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
  std::vector<std::shared_ptr<Judge>> http_judges;
  if (const std::string path = absl::GetFlag(FLAGS_judges_config);
      !path.empty()) {
    absl::StatusOr<std::vector<std::shared_ptr<Judge>>> loaded =
        LoadJudgesConfig(path, metrics_on ? &metrics.judge_pools() : nullptr);
    if (!loaded.ok()) {
      Log(LogLevel::kError, "judges_config",
          {{"path", path}, {"error", std::string(loaded.status().message())}});
      return 1;
    }
    http_judges = std::move(*loaded);
    for (const std::shared_ptr<Judge>& judge : http_judges) {
      if (absl::Status s = judges.Add(judge); !s.ok()) {
        Log(LogLevel::kError, "judges_config",
            {{"error", std::string(s.message())}});
        return 1;
      }
    }
  }
  std::string default_judge = absl::GetFlag(FLAGS_default_judge);
  if (default_judge.empty()) {
    // The config lists its default judge first.
    default_judge = http_judges.empty() ? "embedded" : http_judges[0]->name();
  }
  if (absl::Status s = judges.SetDefault(default_judge); !s.ok()) {
    Log(LogLevel::kError, "judges", {{"error", std::string(s.message())}});
    return 1;
  }
  Grader grader(&judges);

  const std::string baseline_file = absl::GetFlag(FLAGS_drift_baseline_file);
  const std::string save_baseline = absl::GetFlag(FLAGS_drift_save_baseline);
  if (save_baseline != "none" && save_baseline != "reference" &&
      save_baseline != "window") {
    Log(LogLevel::kError, "bad_flag",
        {{"error", "--drift_save_baseline must be none, reference or window"}});
    return 1;
  }
  if (!baseline_file.empty()) {
    absl::Status s = metrics.LoadDriftBaseline(baseline_file);
    if (!s.ok() && !absl::IsNotFound(s)) {
      Log(LogLevel::kError, "drift_baseline", {{"error", s.ToString()}});
      return 1;
    }
    Log(LogLevel::kInfo, "drift_baseline",
        {{"file", baseline_file}, {"loaded", s.ok() ? "true" : "false"}});
  }

  ServiceOptions service_options;
  service_options.max_response_bytes = absl::GetFlag(FLAGS_max_response_bytes);
  service_options.max_prompt_bytes = absl::GetFlag(FLAGS_max_prompt_bytes);
  service_options.max_criteria_per_rubric =
      absl::GetFlag(FLAGS_max_criteria_per_rubric);
  service_options.max_group_size = absl::GetFlag(FLAGS_max_group_size);
  service_options.max_stream_inflight =
      absl::GetFlag(FLAGS_max_stream_inflight);
  service_options.inline_rubric_cache_size =
      absl::GetFlag(FLAGS_inline_rubric_cache_size);
  service_options.max_concurrent_streams =
      absl::GetFlag(FLAGS_max_concurrent_streams);
  service_options.max_inflight_requests =
      absl::GetFlag(FLAGS_max_inflight_requests);
  std::optional<TokenAuth> auth;
  if (const auto files = absl::GetFlag(FLAGS_auth_token_files);
      !files.empty()) {
    absl::StatusOr<TokenAuth> loaded = TokenAuth::FromFiles(files);
    if (!loaded.ok()) {
      Log(LogLevel::kError, "auth",
          {{"error", std::string(loaded.status().message())}});
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
    Log(LogLevel::kError, "tls",
        {{"error", std::string(credentials.status().message())}});
    return 1;
  }
  RewardServiceImpl service(&store, &grader, service_options, &metrics);
  metrics.SetInFlightSource([&service] { return service.in_flight(); });
  std::unique_ptr<MetricsServer> metrics_server;
  if (const std::string address = absl::GetFlag(FLAGS_metrics_listen);
      !address.empty()) {
    absl::StatusOr<std::unique_ptr<MetricsServer>> started =
        MetricsServer::Start(address, metrics.collectable());
    if (!started.ok()) {
      Log(LogLevel::kError, "metrics_listen_failed",
          {{"error", std::string(started.status().message())}});
      return 1;
    }
    metrics_server = *std::move(started);
    Log(LogLevel::kInfo, "metrics_listening",
        {{"address", address}, {"port", absl::StrCat(metrics_server->port())}});
    if (const std::string file = absl::GetFlag(FLAGS_metrics_port_file);
        !file.empty()) {
      std::ofstream(file + ".tmp") << metrics_server->port() << "\n";
      std::rename((file + ".tmp").c_str(), file.c_str());
    }
  }

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
  store.SetReloadListener([raw_server, &store,
                           &metrics](const ReloadReport& report) {
    metrics.OnRubricReload(report, *store.snapshot());
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
  if (!baseline_file.empty() && save_baseline != "none") {
    absl::Status s = metrics.SaveDriftBaseline(
        baseline_file, save_baseline == "window"
                           ? DriftBaselineSource::kWindow
                           : DriftBaselineSource::kReference);
    Log(s.ok() ? LogLevel::kInfo : LogLevel::kError, "drift_baseline_saved",
        {{"file", baseline_file}, {"status", s.ToString()}});
  }
  Log(LogLevel::kInfo, "stopped");
  return 0;
}

}  // namespace
}  // namespace rewardd

int main(int argc, char** argv) {
  // Debian's abseil checks every Mutex acquisition against a global lock
  // graph (3x the cost of a lock); rewardd's lock order is fixed and tested.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
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

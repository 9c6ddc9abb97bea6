#include "server/main/flags.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/util/status_macros.h"

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

// HTTP/JSON gateway (docs/http-gateway.md).
ABSL_FLAG(std::string, http_listen, "",
          "HTTP/JSON gateway address (host:port; port 0 picks a free port, "
          "see --http_port_file): POST /v1/grade, /v1/grade_group, "
          "/v1/openrlhf, /v1/slime and GET /healthz, served through gRPC in "
          "process (same auth tokens, limits, drain and metrics). HTTPS "
          "with --tls_cert_file/--tls_key_file. Empty (default): off.");
ABSL_FLAG(std::string, http_port_file, "",
          "If set, the bound HTTP gateway port is written to this file once "
          "it listens.");
ABSL_FLAG(int, http_threads, 64,
          "HTTP gateway threads; each serves one connection at a time for "
          "its keep-alive lifetime, so set it to at least the connections "
          "clients keep open (slime's aiohttp pool: up to 64).");
ABSL_FLAG(int, http_max_queued, 256,
          "Accepted HTTP connections that may wait for a gateway thread; "
          "beyond, a connection is answered 503 with Retry-After.");
ABSL_FLAG(int64_t, http_max_body_bytes, 8 << 20,
          "Largest HTTP request body; bigger ones get 413 unread.");
ABSL_FLAG(double, http_deadline_seconds, 300,
          "Deadline of each gRPC call the gateway makes for an HTTP request "
          "(504 when it passes).");
ABSL_FLAG(int, http_max_calls_per_request, 64,
          "An OpenRLHF request makes one Grade call per sample, at most "
          "this many at a time.");
ABSL_FLAG(int, http_keep_alive_seconds, 5,
          "An idle HTTP keep-alive connection is closed after this long "
          "(this also bounds how long a drain waits for idle connections).");
ABSL_FLAG(int, http_io_timeout_seconds, 60,
          "Reading an HTTP request or writing its answer gives up after "
          "this long without progress.");
ABSL_FLAG(std::string, http_default_rubric_set, "",
          "Rubric set for /v1/openrlhf and /v1/slime requests whose label "
          "names none (a bare rubric id, or no label). Empty (default): "
          "such requests get 400.");

// Tail saturation and the tail log (docs/observability.md, "Tail
// saturation").
ABSL_FLAG(bool, saturation_tracking, true,
          "Count saturated GradeGroup calls (series, ranking, tail log).");
ABSL_FLAG(int64_t, saturation_top_k, 10,
          "Rubrics exported by rewardd_rubric_saturation_score (the top k "
          "by recent saturated groups).");
ABSL_FLAG(int64_t, saturation_max_rubrics, 1024,
          "Saturated rubrics remembered for the ranking and "
          "ListSaturatedRubrics.");
ABSL_FLAG(double, saturation_half_life_seconds, 900,
          "Half-life of a saturated group's weight in the rubric ranking.");
ABSL_FLAG(std::string, tail_log_dir, "",
          "Write a sample of saturated groups and per-set windows as JSONL "
          "here (created if its parent exists). Empty (default): off.");
ABSL_FLAG(int64_t, tail_log_max_file_bytes, 64 << 20,
          "Start a new tail log file at this size.");
ABSL_FLAG(int64_t, tail_log_max_total_bytes, int64_t{1} << 30,
          "Delete the oldest tail log files beyond this total.");
ABSL_FLAG(int64_t, tail_log_max_files, 64,
          "Delete the oldest tail log files beyond this count.");
ABSL_FLAG(double, tail_log_samples_per_second, 5,
          "Saturated groups written per second at most (the rest are "
          "counted as dropped).");
ABSL_FLAG(double, tail_log_window_seconds, 60,
          "Seconds between the per-set window records.");

// ---- RubricService (rubric elicitation; docs/rubric-refinement.md) ------
ABSL_FLAG(int64_t, rubric_max_active_refinements, 4096,
          "RefineRubric refinements running at once; more are refused with "
          "RESOURCE_EXHAUSTED.");
ABSL_FLAG(int64_t, rubric_max_candidates, 64,
          "Most candidate responses in one RefineRubric request.");
ABSL_FLAG(int64_t, rubric_max_iterations, 16,
          "Most iterations a RefineRubric request may ask for.");
ABSL_FLAG(int64_t, rubric_max_criteria, 64,
          "Most criteria a proposed rubric may have (ceiling of the request's "
          "own limit).");
ABSL_FLAG(double, rubric_default_deadline_seconds, 600,
          "Deadline of a GenerateRubric or RefineRubric call that sets none "
          "(a client deadline that is earlier wins).");
ABSL_FLAG(int64_t, rubric_max_queued_events, 256,
          "Events a RefineRubric stream buffers for a client that does not "
          "read; beyond them the refinement is cancelled.");

namespace rewardd {
namespace {

// --drift_save_baseline: none (nullopt), reference or window.
absl::StatusOr<std::optional<DriftBaselineSource>> DriftSaveFromFlag() {
  const std::string save = absl::GetFlag(FLAGS_drift_save_baseline);
  if (save == "none") return std::nullopt;
  if (save == "reference") return DriftBaselineSource::kReference;
  if (save == "window") return DriftBaselineSource::kWindow;
  const char kError[] =
      "--drift_save_baseline must be none, reference or window";
  Log(LogLevel::kError, "bad_flag", {{"error", kError}});
  return absl::InvalidArgumentError(kError);
}

MetricsOptions MetricsOptionsFromFlags() {
  MetricsOptions m;
  m.reward.policy_version_limit = absl::GetFlag(FLAGS_policy_version_limit);
  m.reward.tail_threshold = absl::GetFlag(FLAGS_tail_threshold);
  m.reward.criterion_tag_prefixes = absl::StrSplit(
      absl::GetFlag(FLAGS_criterion_tag_prefixes), ',', absl::SkipEmpty());
  m.reward.criterion_tag_limit = absl::GetFlag(FLAGS_criterion_tag_limit);
  m.reward.drift.reference_size = absl::GetFlag(FLAGS_drift_reference_size);
  m.reward.drift.window_size = absl::GetFlag(FLAGS_drift_window);
  m.log_requests = absl::GetFlag(FLAGS_log_requests);
  return m;
}

ServiceOptions ServiceOptionsFromFlags() {
  ServiceOptions s;
  s.max_response_bytes = absl::GetFlag(FLAGS_max_response_bytes);
  s.max_prompt_bytes = absl::GetFlag(FLAGS_max_prompt_bytes);
  s.max_criteria_per_rubric = absl::GetFlag(FLAGS_max_criteria_per_rubric);
  s.max_group_size = absl::GetFlag(FLAGS_max_group_size);
  s.max_stream_inflight = absl::GetFlag(FLAGS_max_stream_inflight);
  s.inline_rubric_cache_size = absl::GetFlag(FLAGS_inline_rubric_cache_size);
  return s;
}

absl::Status CheckFlag(bool ok, absl::string_view flag,
                       absl::string_view requirement) {
  if (ok) return absl::OkStatus();
  const std::string error = absl::StrCat("--", flag, " must be ", requirement);
  Log(LogLevel::kError, "bad_flag", {{"error", error}});
  return absl::InvalidArgumentError(error);
}

// The --http_* flags; listen address, TLS and metrics are the Server's.
absl::StatusOr<GatewayOptions> GatewayOptionsFromFlags() {
  GatewayOptions g;
  g.threads = absl::GetFlag(FLAGS_http_threads);
  g.max_queued = absl::GetFlag(FLAGS_http_max_queued);
  const int64_t max_body = absl::GetFlag(FLAGS_http_max_body_bytes);
  const double deadline = absl::GetFlag(FLAGS_http_deadline_seconds);
  g.max_calls_per_request = absl::GetFlag(FLAGS_http_max_calls_per_request);
  const int keep_alive = absl::GetFlag(FLAGS_http_keep_alive_seconds);
  const int io_timeout = absl::GetFlag(FLAGS_http_io_timeout_seconds);
  REWARDD_RETURN_IF_ERROR(CheckFlag(g.threads >= 1, "http_threads", ">= 1"));
  REWARDD_RETURN_IF_ERROR(
      CheckFlag(g.max_queued >= 0, "http_max_queued", ">= 0"));
  REWARDD_RETURN_IF_ERROR(
      CheckFlag(max_body > 0, "http_max_body_bytes", "> 0"));
  REWARDD_RETURN_IF_ERROR(
      CheckFlag(deadline > 0, "http_deadline_seconds", "> 0"));
  REWARDD_RETURN_IF_ERROR(CheckFlag(g.max_calls_per_request >= 1,
                                    "http_max_calls_per_request", ">= 1"));
  REWARDD_RETURN_IF_ERROR(
      CheckFlag(keep_alive >= 1, "http_keep_alive_seconds", ">= 1"));
  REWARDD_RETURN_IF_ERROR(
      CheckFlag(io_timeout >= 1, "http_io_timeout_seconds", ">= 1"));
  g.max_body_bytes = static_cast<size_t>(max_body);
  g.deadline = absl::Seconds(deadline);
  g.keep_alive_timeout = absl::Seconds(keep_alive);
  g.io_timeout = absl::Seconds(io_timeout);
  g.default_rubric_set = absl::GetFlag(FLAGS_http_default_rubric_set);
  return g;
}

absl::Status SaturationFromFlags(ServerOptions* o) {
  const int64_t top_k = absl::GetFlag(FLAGS_saturation_top_k);
  const int64_t max_rubrics = absl::GetFlag(FLAGS_saturation_max_rubrics);
  const double half_life = absl::GetFlag(FLAGS_saturation_half_life_seconds);
  REWARDD_RETURN_IF_ERROR(
      CheckFlag(top_k >= 0 && top_k <= 100, "saturation_top_k", "in [0, 100]"));
  REWARDD_RETURN_IF_ERROR(
      CheckFlag(max_rubrics >= 0, "saturation_max_rubrics", ">= 0"));
  REWARDD_RETURN_IF_ERROR(
      CheckFlag(half_life > 0, "saturation_half_life_seconds", "> 0"));
  o->metrics.saturation_tracking = absl::GetFlag(FLAGS_saturation_tracking);
  REWARDD_RETURN_IF_ERROR(
      CheckFlag(o->metrics.saturation_tracking ||
                    absl::GetFlag(FLAGS_tail_log_dir).empty(),
                "saturation_tracking", "true when --tail_log_dir is set"));
  o->metrics.saturation_top_k = static_cast<size_t>(top_k);
  o->metrics.saturation.max_rubrics = static_cast<size_t>(max_rubrics);
  o->metrics.saturation.half_life = absl::Seconds(half_life);
  // The tail log's own checks (TailLog::Create) name its flags.
  TailLogOptions& t = o->tail_log;
  t.dir = absl::GetFlag(FLAGS_tail_log_dir);
  t.max_file_bytes = absl::GetFlag(FLAGS_tail_log_max_file_bytes);
  t.max_total_bytes = absl::GetFlag(FLAGS_tail_log_max_total_bytes);
  t.max_files = static_cast<size_t>(
      std::max<int64_t>(0, absl::GetFlag(FLAGS_tail_log_max_files)));
  t.samples_per_second = absl::GetFlag(FLAGS_tail_log_samples_per_second);
  t.window = absl::Seconds(absl::GetFlag(FLAGS_tail_log_window_seconds));
  return absl::OkStatus();
}

// The --rubric_* flags of RubricService.
absl::StatusOr<RubricServiceOptions> RubricServiceOptionsFromFlags() {
  RubricServiceOptions r;
  const int64_t active = absl::GetFlag(FLAGS_rubric_max_active_refinements);
  const int64_t candidates = absl::GetFlag(FLAGS_rubric_max_candidates);
  const int64_t iterations = absl::GetFlag(FLAGS_rubric_max_iterations);
  const int64_t criteria = absl::GetFlag(FLAGS_rubric_max_criteria);
  const double deadline = absl::GetFlag(FLAGS_rubric_default_deadline_seconds);
  const int64_t events = absl::GetFlag(FLAGS_rubric_max_queued_events);
  REWARDD_RETURN_IF_ERROR(CheckFlag(active >= 1 && active <= 1000000,
                                    "rubric_max_active_refinements",
                                    "in [1, 1000000]"));
  REWARDD_RETURN_IF_ERROR(CheckFlag(candidates >= 2 && candidates <= 4096,
                                    "rubric_max_candidates", "in [2, 4096]"));
  REWARDD_RETURN_IF_ERROR(CheckFlag(iterations >= 1 && iterations <= 1024,
                                    "rubric_max_iterations", "in [1, 1024]"));
  REWARDD_RETURN_IF_ERROR(CheckFlag(criteria >= 1 && criteria <= 1024,
                                    "rubric_max_criteria", "in [1, 1024]"));
  REWARDD_RETURN_IF_ERROR(
      CheckFlag(deadline > 0, "rubric_default_deadline_seconds", "> 0"));
  REWARDD_RETURN_IF_ERROR(CheckFlag(events >= 8 && events <= 1000000,
                                    "rubric_max_queued_events",
                                    "in [8, 1000000]"));
  r.engine.max_active = static_cast<size_t>(active);
  r.engine.max_candidates = static_cast<size_t>(candidates);
  r.engine.max_iterations = static_cast<uint32_t>(iterations);
  r.engine.max_criteria = static_cast<size_t>(criteria);
  r.default_deadline = absl::Seconds(deadline);
  r.max_queued_events = static_cast<size_t>(events);
  return r;
}

bool IsRewarddFlagFile(absl::string_view file) {
  return absl::StrContains(file, "server/main/flags.cc");
}

}  // namespace

void SetFlagsUsage() {
  absl::FlagsUsageConfig config;
  config.contains_help_flags = IsRewarddFlagFile;
  config.contains_helpshort_flags = IsRewarddFlagFile;
  absl::SetFlagsUsageConfig(config);
}

absl::StatusOr<ServerOptions> ServerOptionsFromFlags() {
  ServerOptions o;
  o.listen = absl::GetFlag(FLAGS_listen);
  o.port_file = absl::GetFlag(FLAGS_port_file);
  o.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  o.tls_cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  o.tls_key_file = absl::GetFlag(FLAGS_tls_key_file);
  o.tls_client_ca_file = absl::GetFlag(FLAGS_tls_client_ca_file);
  o.auth_token_files = absl::GetFlag(FLAGS_auth_token_files);

  o.store.dir = absl::GetFlag(FLAGS_rubric_dir);
  o.store.poll_interval =
      absl::Seconds(absl::GetFlag(FLAGS_rubric_poll_seconds));
  o.store.limits.max_file_bytes = absl::GetFlag(FLAGS_max_rubric_file_bytes);
  o.store.limits.max_criteria_per_rubric =
      absl::GetFlag(FLAGS_max_criteria_per_rubric);
  o.embedded.heuristic_threshold = absl::GetFlag(FLAGS_embedded_threshold);
  o.judges_config = absl::GetFlag(FLAGS_judges_config);
  o.default_judge = absl::GetFlag(FLAGS_default_judge);

  o.service = ServiceOptionsFromFlags();
  o.admission.max_concurrent_streams =
      absl::GetFlag(FLAGS_max_concurrent_streams);
  o.admission.max_inflight_requests =
      absl::GetFlag(FLAGS_max_inflight_requests);

  o.metrics = MetricsOptionsFromFlags();
  o.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  o.metrics_port_file = absl::GetFlag(FLAGS_metrics_port_file);
  o.drift_baseline_file = absl::GetFlag(FLAGS_drift_baseline_file);
  REWARDD_ASSIGN_OR_RETURN(o.drift_save_baseline, DriftSaveFromFlag());
  REWARDD_RETURN_IF_ERROR(SaturationFromFlags(&o));

  o.http_listen = absl::GetFlag(FLAGS_http_listen);
  o.http_port_file = absl::GetFlag(FLAGS_http_port_file);
  REWARDD_ASSIGN_OR_RETURN(o.http, GatewayOptionsFromFlags());
  REWARDD_ASSIGN_OR_RETURN(o.rubric_service, RubricServiceOptionsFromFlags());

  o.drain_grace = absl::Seconds(absl::GetFlag(FLAGS_drain_grace_seconds));
  o.drain_timeout = absl::Seconds(absl::GetFlag(FLAGS_drain_seconds));
  return o;
}

absl::StatusOr<LogLevel> LogLevelFromFlags() {
  LogLevel level;
  if (!ParseLogLevel(absl::GetFlag(FLAGS_log_level), &level)) {
    return absl::InvalidArgumentError(
        "--log_level must be debug, info, warning or error");
  }
  return level;
}

}  // namespace rewardd

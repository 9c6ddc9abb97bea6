// Everything a rewardd Server is configured with, one field per command-line
// flag (flags.h fills it from the flags; tests and benches fill it
// directly). Defaults match the flags' defaults except where noted.
//
//   ServerOptions options;
//   options.listen = "127.0.0.1:0";
//   options.store.dir = "examples/rubrics";
//
// Thread-safety: a plain struct.
#ifndef REWARDD_SERVER_MAIN_SERVER_OPTIONS_H_
#define REWARDD_SERVER_MAIN_SERVER_OPTIONS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "server/gateway/gateway_options.h"
#include "server/judge/embedded/embedded_judge.h"
#include "server/metrics/server_metrics.h"
#include "server/rubric/rubric_store.h"
#include "server/service/admission.h"
#include "server/service/rubric_service.h"
#include "server/service/service_options.h"

namespace rewardd {

struct ServerOptions {
  // gRPC address, host:port; port 0 picks a free one (Server::port()).
  std::string listen = "0.0.0.0:50051";
  // When set, the bound gRPC port is written here once listening.
  std::string port_file;
  // Largest gRPC message received or sent (bigger: RESOURCE_EXHAUSTED).
  int64_t max_message_bytes = 64 << 20;

  // TLS: cert and key turn it on; a client CA makes it mutual TLS. Empty:
  // insecure.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  // Files of bearer tokens; when set, every RewardService call needs one.
  std::vector<std::string> auth_token_files;

  // Rubric sets: directory, polling and per-file limits.
  RubricStore::Options store;
  // Judges: the embedded judge is always there; an optional judges config
  // (JSON or YAML) adds HTTP judges. Empty default_judge: the config's
  // first judge, or "embedded" without a config.
  EmbeddedJudgeOptions embedded;
  std::string judges_config;
  std::string default_judge;

  // Per-request limits of the RewardService, and the server-wide ones
  // (its `auth` is set by the Server from auth_token_files).
  ServiceOptions service;
  AdmissionOptions admission;
  // RubricService (rubric elicitation): engine limits and defaults; its
  // proposers come from the judges config's "proposers" list.
  RubricServiceOptions rubric_service;

  // Metrics: series options, the /metrics address (empty: no endpoint;
  // port 0 picks a free one, Server::metrics_port()) and its port file.
  MetricsOptions metrics;
  std::string metrics_listen = "0.0.0.0:9464";
  std::string metrics_port_file;
  // Drift reference windows read at start (when the file exists) and, when
  // drift_save_baseline is set, written at the end of Drain().
  std::string drift_baseline_file;
  std::optional<DriftBaselineSource> drift_save_baseline;
  // The tail log (--tail_log_dir and friends); off when dir is empty.
  TailLogOptions tail_log;

  // HTTP/JSON gateway (docs/http-gateway.md) on an in-process channel to
  // the gRPC server: host:port, empty = off; port 0 picks a free one
  // (Server::http_port()). The Server fills http's listen_address and port
  // from http_listen, its TLS files from tls_cert_file / tls_key_file (HTTPS
  // when set) and on_request with rewardd_http_requests_total when metrics
  // are on; the other fields are the gateway's limits and timeouts.
  std::string http_listen;
  std::string http_port_file;
  GatewayOptions http;

  // Drain (Server::Drain): health goes NOT_SERVING, RPCs are still
  // accepted for drain_grace, then refused with UNAVAILABLE for drain_grace
  // more while accepted ones get up to drain_timeout to finish.
  absl::Duration drain_grace = absl::Seconds(1);
  absl::Duration drain_timeout = absl::Seconds(25);
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_MAIN_SERVER_OPTIONS_H_

// Options of the HTTP/JSON gateway (HttpGateway::Start). Every field has a
// default that works on loopback; ValidateGatewayOptions() names the field
// that is out of range.
//
//   GatewayOptions options;
//   options.port = 8080;
//   options.default_rubric_set = "demo";
//   options.on_request = [&](std::string_view endpoint, int status) { ... };
//
// Thread-safety: a plain struct; HttpGateway copies it at Start(). The
// on_request callback is called from the gateway's HTTP threads, possibly
// several at once, and must be thread-safe.
#ifndef REWARDD_SERVER_GATEWAY_GATEWAY_OPTIONS_H_
#define REWARDD_SERVER_GATEWAY_GATEWAY_OPTIONS_H_

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace rewardd {

class GradeBackend;

struct GatewayOptions {
  // Address to listen on (an IP literal or a host name) and port; port 0
  // lets the kernel pick one (HttpGateway::port() reports it).
  std::string listen_address = "127.0.0.1";
  int port = 0;

  // HTTPS when both are set: PEM certificate chain and private key, the same
  // files as rewardd's --tls_cert_file / --tls_key_file.
  std::string tls_cert_file;
  std::string tls_key_file;

  // Request bodies above this get 413 before any of the body is parsed.
  size_t max_body_bytes = 8 << 20;

  // Deadline of each gRPC call the gateway makes for one HTTP request.
  absl::Duration deadline = absl::Seconds(300);

  // An OpenRLHF request with many samples makes one Grade call per sample,
  // at most this many at a time.
  int max_calls_per_request = 64;

  // Connections are served by `threads` threads (one connection at a time
  // each, for its keep-alive lifetime). Up to `max_queued` accepted
  // connections wait for a thread; beyond that a connection is answered
  // 503 with Retry-After: `retry_after_seconds` and closed. Clients that
  // keep N connections open (slime's aiohttp pool keeps up to 64) need
  // threads >= N to be served without waiting.
  int threads = 64;
  int max_queued = 256;
  int retry_after_seconds = 1;

  // A connection is closed after this many requests (the client opens a new
  // one); cpp-httplib's own default of 5 makes clients reconnect constantly.
  int keep_alive_max_requests = 10000;
  // An idle keep-alive connection gives its thread back after this long.
  absl::Duration keep_alive_timeout = absl::Seconds(5);
  // Reading a request (headers and body) and writing a response give up
  // after this long without progress.
  absl::Duration io_timeout = absl::Seconds(60);

  // The rubric set for OpenRLHF and slime requests whose label names no
  // set (a bare rubric id, or no label: the rubric is then found by
  // prompt). Empty: such requests get 400.
  std::string default_rubric_set;

  // Called once per HTTP response with the endpoint ("/v1/grade", ...,
  // or "other" for unknown paths) and the HTTP status sent.
  std::function<void(std::string_view endpoint, int http_status)> on_request;

  // When set, /v1/grade and single-sample /v1/slime and /v1/openrlhf call
  // it instead of the Grade RPC on the channel (grade_backend.h); the other
  // calls always use the channel. Not
  // owned; must outlive the gateway.
  GradeBackend* grade_backend = nullptr;
};

// OK, or INVALID_ARGUMENT naming the first bad field.
absl::Status ValidateGatewayOptions(const GatewayOptions& options);

}  // namespace rewardd

#endif  // REWARDD_SERVER_GATEWAY_GATEWAY_OPTIONS_H_

#include "server/gateway/gateway_options.h"

#include "absl/strings/str_cat.h"

namespace rewardd {

absl::Status ValidateGatewayOptions(const GatewayOptions& options) {
  auto bad = [](absl::string_view field, absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("GatewayOptions.", field, ": ", why));
  };
  if (options.listen_address.empty()) {
    return bad("listen_address", "empty");
  }
  if (options.port < 0 || options.port > 65535) {
    return bad("port", absl::StrCat(options.port, " is not in [0, 65535]"));
  }
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return bad(options.tls_cert_file.empty() ? "tls_cert_file" : "tls_key_file",
               "set both tls_cert_file and tls_key_file, or neither");
  }
  if (options.max_body_bytes == 0) return bad("max_body_bytes", "must be > 0");
  if (options.deadline <= absl::ZeroDuration()) {
    return bad("deadline", "must be > 0");
  }
  if (options.max_calls_per_request < 1) {
    return bad("max_calls_per_request", "must be >= 1");
  }
  if (options.threads < 1) return bad("threads", "must be >= 1");
  if (options.max_queued < 0) return bad("max_queued", "must be >= 0");
  if (options.retry_after_seconds < 0) {
    return bad("retry_after_seconds", "must be >= 0");
  }
  if (options.keep_alive_max_requests < 1) {
    return bad("keep_alive_max_requests", "must be >= 1");
  }
  if (options.keep_alive_timeout < absl::Seconds(1)) {
    return bad("keep_alive_timeout", "must be >= 1s");
  }
  if (options.io_timeout < absl::Seconds(1)) {
    return bad("io_timeout", "must be >= 1s");
  }
  return absl::OkStatus();
}

}  // namespace rewardd

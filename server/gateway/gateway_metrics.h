// A GatewayOptions::on_request callback that counts HTTP answers in a
// Prometheus registry: rewardd_http_requests_total{endpoint, code}, where
// endpoint is one of the gateway's paths or "other" and code the HTTP status.
// Both label sets are bounded (five paths and "other"; the statuses the
// gateway and cpp-httplib send).
//
//   options.on_request = GatewayRequestCounter(registry);
//
// Thread-safety: the returned callback may be called from any thread;
// the registry must outlive it.
#ifndef REWARDD_SERVER_GATEWAY_GATEWAY_METRICS_H_
#define REWARDD_SERVER_GATEWAY_GATEWAY_METRICS_H_

#include <prometheus/registry.h>

#include <functional>
#include <string_view>

namespace rewardd {

std::function<void(std::string_view endpoint, int http_status)>
GatewayRequestCounter(prometheus::Registry& registry);

}  // namespace rewardd

#endif  // REWARDD_SERVER_GATEWAY_GATEWAY_METRICS_H_

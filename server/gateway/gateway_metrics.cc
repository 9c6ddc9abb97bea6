#include "server/gateway/gateway_metrics.h"

#include <prometheus/counter.h>

#include <string>

namespace rewardd {

std::function<void(std::string_view, int)> GatewayRequestCounter(
    prometheus::Registry& registry) {
  prometheus::Family<prometheus::Counter>* family =
      &prometheus::BuildCounter()
           .Name("rewardd_http_requests_total")
           .Help("HTTP gateway answers by endpoint and HTTP status.")
           .Register(registry);
  return [family](std::string_view endpoint, int http_status) {
    // Family::Add returns the existing counter for known labels and is
    // thread-safe.
    family
        ->Add({{"endpoint", std::string(endpoint)},
               {"code", std::to_string(http_status)}})
        .Increment();
  };
}

}  // namespace rewardd

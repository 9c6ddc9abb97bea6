#include "server/metrics/serving_metrics.h"

#include <string>
#include <utility>

#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "server/judge/pool/judge_pool_metrics.h"

namespace rewardd {

absl::string_view ServingMetrics::CodeName(int code) {
  static constexpr absl::string_view kNames[kCodes] = {"OK",
                                                       "CANCELLED",
                                                       "UNKNOWN",
                                                       "INVALID_ARGUMENT",
                                                       "DEADLINE_EXCEEDED",
                                                       "NOT_FOUND",
                                                       "ALREADY_EXISTS",
                                                       "PERMISSION_DENIED",
                                                       "RESOURCE_EXHAUSTED",
                                                       "FAILED_PRECONDITION",
                                                       "ABORTED",
                                                       "OUT_OF_RANGE",
                                                       "UNIMPLEMENTED",
                                                       "INTERNAL",
                                                       "UNAVAILABLE",
                                                       "DATA_LOSS",
                                                       "UNAUTHENTICATED"};
  return code >= 0 && code < kCodes ? kNames[code] : "UNKNOWN";
}

ServingMetrics::ServingMetrics(prometheus::Registry& registry) {
  auto& requests = prometheus::BuildCounter()
                       .Name("rewardd_requests_total")
                       .Help("Finished gRPC calls by method and status code.")
                       .Register(registry);
  auto& latency =
      prometheus::BuildHistogram()
          .Name("rewardd_request_duration_seconds")
          .Help("gRPC call duration by method (streams: the whole stream).")
          .Register(registry);
  for (size_t m = 0; m < kMethods.size(); ++m) {
    const std::string method(kMethods[m]);
    for (int c = 0; c < kCodes; ++c) {
      methods_[m].by_code[c] = &requests.Add(
          {{"method", method}, {"code", std::string(CodeName(c))}});
    }
    methods_[m].latency = &latency.Add({{"method", method}}, LatencyBuckets());
  }
  stream_items_ = &prometheus::BuildCounter()
                       .Name("rewardd_stream_items_total")
                       .Help("Requests read from GradeStream streams.")
                       .Register(registry)
                       .Add({});
  group_size_ = &prometheus::BuildHistogram()
                     .Name("rewardd_group_size")
                     .Help("Responses per GradeGroup call.")
                     .Register(registry)
                     .Add({}, prometheus::Histogram::BucketBoundaries{
                                  1, 2, 4, 8, 16, 32, 64, 128, 256, 512});
}

void ServingMetrics::SetInFlightSource(std::function<int64_t()> source) {
  in_flight_source_ = std::move(source);
}

void ServingMetrics::RpcDone(absl::string_view method, absl::StatusCode code,
                             absl::Duration latency) {
  // Five short names: a linear scan beats hashing, and needs no map.
  size_t m = 0;
  while (m + 1 < kMethods.size() && kMethods[m] != method) ++m;
  const int c = static_cast<int>(code);
  methods_[m].by_code[c >= 0 && c < kCodes ? c : 2]->Increment();
  methods_[m].latency->Observe(absl::ToDoubleSeconds(latency));
}

void ServingMetrics::CollectDynamic(
    std::vector<prometheus::MetricFamily>* out) const {
  prometheus::MetricFamily family;
  family.name = "rewardd_requests_in_flight";
  family.help =
      "gRPC calls accepted and not finished (open streams count as one).";
  family.type = prometheus::MetricType::Gauge;
  family.metric.emplace_back();
  family.metric.back().gauge.value =
      in_flight_source_ ? static_cast<double>(in_flight_source_()) : 0.0;
  out->push_back(std::move(family));
}

}  // namespace rewardd

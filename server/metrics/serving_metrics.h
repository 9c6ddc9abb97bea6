// gRPC serving metrics: finished RPCs by method and status code, their
// latency, RPCs in flight, GradeStream items and GradeGroup sizes. Every
// (method, code) series exists from start-up at 0, so rates and ratios are
// defined before the first error happens.
//
//   ServingMetrics serving(registry);
//   serving.SetInFlightSource([&service] { return service.in_flight(); });
//   serving.RpcDone("Grade", absl::StatusCode::kOk, absl::Milliseconds(3));
//
// Series:
//   rewardd_requests_total{method,code}          counter
//   rewardd_request_duration_seconds{method}     histogram
//   rewardd_requests_in_flight                   gauge (read at scrape time)
//   rewardd_stream_items_total                   counter
//   rewardd_group_size                           histogram (responses)
//
// Thread-safety: RpcDone/StreamItem/GroupSize may be called from any thread
// and take no lock of ours (method and code map to array slots).
// SetInFlightSource() must be called before serving starts.
#ifndef REWARDD_SERVER_METRICS_SERVING_METRICS_H_
#define REWARDD_SERVER_METRICS_SERVING_METRICS_H_

#include <array>
#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/histogram.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"

namespace rewardd {

class ServingMetrics {
 public:
  // The RPC methods of reward.v1.RewardService, plus "other".
  static constexpr std::array<absl::string_view, 7> kMethods = {
      "Grade",     "GradeGroup",           "GradeStream", "ListRubricSets",
      "GetRubric", "ListSaturatedRubrics", "other"};
  // absl::StatusCode 0..16, numbered as gRPC numbers its codes.
  static constexpr int kCodes = 17;

  explicit ServingMetrics(prometheus::Registry& registry);

  void SetInFlightSource(std::function<int64_t()> source);

  void RpcDone(absl::string_view method, absl::StatusCode code,
               absl::Duration latency);
  void StreamItem() { stream_items_->Increment(); }
  void GroupSize(size_t responses) {
    group_size_->Observe(static_cast<double>(responses));
  }

  // Families computed at scrape time (the in-flight gauge).
  void CollectDynamic(std::vector<prometheus::MetricFamily>* out) const;

  // "OK", "CANCELLED", ... "UNAUTHENTICATED": the names gRPC uses.
  static absl::string_view CodeName(int code);

 private:
  struct MethodHandles {
    std::array<prometheus::Counter*, kCodes> by_code{};
    prometheus::Histogram* latency = nullptr;
  };
  std::array<MethodHandles, kMethods.size()> methods_;
  prometheus::Counter* stream_items_;
  prometheus::Histogram* group_size_;
  std::function<int64_t()> in_flight_source_;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_METRICS_SERVING_METRICS_H_

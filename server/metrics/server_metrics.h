// All of rewardd's Prometheus metrics behind one object: the service's
// GradeObserver (serving, reward, judge-verdict series), the rubric store's
// reload hook, the judge-pool metric families for the judge pools, and the
// drift detectors with their baseline file. See docs/observability.md for
// every series, and metrics_server.h for the /metrics endpoint.
//
//   ServerMetrics metrics(MetricsOptions{});
//   (void)metrics.LoadDriftBaseline("/var/lib/rewardd/drift.json");
//   RewardServiceImpl service(&store, &grader, options, &metrics);
//   metrics.SetInFlightSource([&service] { return service.in_flight(); });
//   store.SetReloadListener([&](const ReloadReport& r) {
//     metrics.OnRubricReload(r, *store.snapshot());
//   });
//   auto server = MetricsServer::Start("0.0.0.0:9464", metrics.collectable());
//   ...
//   (void)metrics.SaveDriftBaseline(path, DriftBaselineSource::kReference);
//
// Thread-safety: every method may be called from any thread. The
// GradeObserver methods never block: they update cached metric handles
// (lock-free look-ups; a mutex only the first time a label combination
// appears). SetInFlightSource() and LoadDriftBaseline() must be called before
// traffic starts.
#ifndef REWARDD_SERVER_METRICS_SERVER_METRICS_H_
#define REWARDD_SERVER_METRICS_SERVER_METRICS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "prometheus/collectable.h"
#include "prometheus/registry.h"
#include "server/grading/grade_observer.h"
#include "server/grading/saturation_tracker.h"
#include "server/judge/pool/judge_pool_metrics.h"
#include "server/metrics/judge_verdict_metrics.h"
#include "server/metrics/reward_metrics.h"
#include "server/metrics/rubric_store_metrics.h"
#include "server/metrics/saturation_metrics.h"
#include "server/metrics/serving_metrics.h"
#include "server/metrics/tail_log.h"
#include "server/rubric/rubric_store.h"

namespace rewardd {

struct MetricsOptions {
  RewardMetricsOptions reward;
  // Judges without a worker pool (graded in-process); they get the judge
  // call series from the service side.
  std::vector<std::string> local_judges = {"embedded"};
  // Log one JSON line per graded response (request id, rubric, judge,
  // reward, validity, timings; never the prompt or response text)
  // (--log_requests).
  bool log_requests = false;
  // Tail saturation: the per-rubric ranking (--saturation_max_rubrics,
  // --saturation_half_life) and how many rubrics the top-k gauge exports
  // (--saturation_top_k).
  SaturationTrackerOptions saturation;
  size_t saturation_top_k = 10;
  // Off: no saturation series, ranking or tail log, and GradeGroup keeps
  // no per-group results (--saturation_tracking; the overhead benchmark's
  // baseline).
  bool saturation_tracking = true;
};

// Which drift window a saved baseline holds.
enum class DriftBaselineSource {
  kReference,  // the reference windows (carry a baseline across restarts)
  kWindow,     // the recent windows (bless the current distribution)
};

class ServerMetrics final : public GradeObserver {
 public:
  explicit ServerMetrics(MetricsOptions options);
  ~ServerMetrics() override;

  // GradeObserver.
  void OnGraded(const GradeResult& result,
                const GradedRequest& request) override;
  void OnRpcDone(absl::string_view method, absl::StatusCode code,
                 absl::Duration latency) override;
  void OnGroupSize(size_t responses) override;
  void OnStreamItem() override;
  // Tail saturation: the per-set series, the rubric ranking and, when
  // attached, the tail log.
  void OnGroupGraded(const GradedGroup& group) override;
  bool WantsGroups() const override { return options_.saturation_tracking; }

  // Sends graded groups to `tail_log` too (may be null). Call before
  // traffic starts; `tail_log` must outlive the traffic.
  void SetTailLog(TailLog* tail_log) { tail_log_ = tail_log; }
  // Which rubrics saturated most recently (ListSaturatedRubrics).
  const SaturationTracker& saturation() const { return tracker_; }

  // From the rubric store's reload listener: store series, and the reward
  // series of every loaded set created at 0.
  void OnRubricReload(const ReloadReport& report,
                      const StoreSnapshot& snapshot);

  // Read at scrape time for rewardd_requests_in_flight.
  void SetInFlightSource(std::function<int64_t()> source);

  // Uses the reward windows of `path` as drift references. NOT_FOUND when
  // the file does not exist (a first run), INVALID_ARGUMENT when malformed.
  absl::Status LoadDriftBaseline(const std::string& path);
  // Writes the current reference (or recent) windows to `path`.
  absl::Status SaveDriftBaseline(const std::string& path,
                                 DriftBaselineSource source) const;

  // For the judge dispatcher: JudgePoolMetrics handles per judge pool.
  JudgeMetricFamilies& judge_pools() { return judge_pools_; }

  // The registry behind collectable(), for series owned elsewhere (the
  // HTTP gateway's request counter).
  prometheus::Registry& registry() { return *registry_; }

  // What the /metrics endpoint serves: the registry plus the gauges computed
  // at scrape time (drift, in-flight).
  std::shared_ptr<prometheus::Collectable> collectable() const {
    return collectable_;
  }
  // The text exposition format of collectable(), e.g. for tests.
  std::string RenderText() const;

 private:
  class Collector;

  // The --log_requests line of one graded response.
  void LogGraded(const GradeResult& result, const GradedRequest& request,
                 absl::string_view policy_version) const;

  const MetricsOptions options_;
  std::shared_ptr<prometheus::Registry> registry_;
  ServingMetrics serving_;
  RewardMetrics reward_;
  JudgeMetricFamilies judge_pools_;
  JudgeVerdictMetrics judge_verdicts_;
  RubricStoreMetrics store_;
  SaturationTracker tracker_;
  SaturationMetrics saturation_;
  TailLog* tail_log_ = nullptr;
  std::shared_ptr<prometheus::Collectable> collectable_;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_METRICS_SERVER_METRICS_H_

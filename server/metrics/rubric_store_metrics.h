// Rubric store metrics, updated from the store's reload listener: sets
// loaded, rubrics and criteria per set, reload outcomes, the time of the last
// successful reload and an info-style series carrying each set's version.
//
//   RubricStoreMetrics m(registry);
//   store.SetReloadListener([&](const ReloadReport& r) {
//     m.OnReload(r, *store.snapshot());
//   });
//
// Series:
//   rewardd_rubric_sets                                   gauge
//   rewardd_rubric_set_rubrics{rubric_set}                gauge
//   rewardd_rubric_set_criteria{rubric_set}               gauge
//   rewardd_rubric_set_info{rubric_set,version,format}    gauge, always 1
//   rewardd_rubric_reloads_total{result}                  counter (success,
//                                                         failure)
//   rewardd_rubric_file_errors                            gauge (files failing
//                                                         now)
//   rewardd_rubric_last_successful_reload_timestamp_seconds  gauge
//
// A reload is a failure when the directory could not be read or any file
// failed to load (its set keeps its previous version); the per-set series
// of removed sets are deleted, and the info series of a set moves to its new
// version label.
//
// Thread-safety: OnReload() may be called from any thread (the store calls
// it one at a time); it takes a mutex of its own, never on a request path.
#ifndef REWARDD_SERVER_METRICS_RUBRIC_STORE_METRICS_H_
#define REWARDD_SERVER_METRICS_RUBRIC_STORE_METRICS_H_

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "server/rubric/rubric_store.h"

namespace rewardd {

class RubricStoreMetrics {
 public:
  explicit RubricStoreMetrics(prometheus::Registry& registry);

  void OnReload(const ReloadReport& report, const StoreSnapshot& snapshot);

 private:
  struct SetSeries {
    prometheus::Gauge* rubrics = nullptr;
    prometheus::Gauge* criteria = nullptr;
    prometheus::Gauge* info = nullptr;
    std::string version;
  };

  prometheus::Gauge& sets_;
  prometheus::Family<prometheus::Gauge>& rubrics_;
  prometheus::Family<prometheus::Gauge>& criteria_;
  prometheus::Family<prometheus::Gauge>& info_;
  prometheus::Family<prometheus::Counter>& reloads_;
  prometheus::Counter& reload_success_;
  prometheus::Counter& reload_failure_;
  prometheus::Gauge& file_errors_;
  prometheus::Gauge& last_success_;

  absl::Mutex mu_;
  absl::flat_hash_map<std::string, SetSeries> series_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_METRICS_RUBRIC_STORE_METRICS_H_

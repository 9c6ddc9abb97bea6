#include "server/metrics/rubric_store_metrics.h"

#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace rewardd {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;

}  // namespace

RubricStoreMetrics::RubricStoreMetrics(prometheus::Registry& registry)
    : sets_(BuildGauge()
                .Name("rewardd_rubric_sets")
                .Help("Rubric sets loaded.")
                .Register(registry)
                .Add({})),
      rubrics_(BuildGauge()
                   .Name("rewardd_rubric_set_rubrics")
                   .Help("Rubrics in a loaded rubric set.")
                   .Register(registry)),
      criteria_(BuildGauge()
                    .Name("rewardd_rubric_set_criteria")
                    .Help("Criteria over all rubrics of a loaded rubric set.")
                    .Register(registry)),
      info_(BuildGauge()
                .Name("rewardd_rubric_set_info")
                .Help("Always 1; labels carry the loaded version (content "
                      "hash) and format of each rubric set.")
                .Register(registry)),
      reloads_(BuildCounter()
                   .Name("rewardd_rubric_reloads_total")
                   .Help("Rubric directory reloads; failure: the directory "
                         "was unreadable or a file failed to load.")
                   .Register(registry)),
      reload_success_(reloads_.Add({{"result", "success"}})),
      reload_failure_(reloads_.Add({{"result", "failure"}})),
      file_errors_(BuildGauge()
                       .Name("rewardd_rubric_file_errors")
                       .Help("Rubric files failing to load after the last "
                             "reload (their sets keep the previous version).")
                       .Register(registry)
                       .Add({})),
      last_success_(
          BuildGauge()
              .Name("rewardd_rubric_last_successful_reload_timestamp_seconds")
              .Help("Unix time of the last reload without errors (0: none "
                    "yet).")
              .Register(registry)
              .Add({})) {}

void RubricStoreMetrics::OnReload(const ReloadReport& report,
                                  const StoreSnapshot& snapshot) {
  if (report.ok()) {
    reload_success_.Increment();
    last_success_.Set(absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()));
  } else {
    reload_failure_.Increment();
  }
  file_errors_.Set(static_cast<double>(report.errors.size()));
  if (!report.dir_status.ok()) return;  // nothing changed

  absl::MutexLock lock(&mu_);
  sets_.Set(static_cast<double>(snapshot.sets.size()));
  // Drop the series of sets that are gone.
  std::vector<std::string> gone;
  for (const auto& [name, series] : series_) {
    if (!snapshot.sets.contains(name)) gone.push_back(name);
  }
  for (const std::string& name : gone) {
    SetSeries& s = series_[name];
    rubrics_.Remove(s.rubrics);
    criteria_.Remove(s.criteria);
    info_.Remove(s.info);
    series_.erase(name);
  }
  for (const auto& [name, set] : snapshot.sets) {
    SetSeries& s = series_[name];
    if (s.rubrics == nullptr) {
      s.rubrics = &rubrics_.Add({{"rubric_set", name}});
      s.criteria = &criteria_.Add({{"rubric_set", name}});
    }
    s.rubrics->Set(static_cast<double>(set->rubrics.size()));
    s.criteria->Set(static_cast<double>(set->criterion_count()));
    if (s.info == nullptr || s.version != set->version) {
      if (s.info != nullptr) info_.Remove(s.info);
      s.info = &info_.Add({{"rubric_set", name},
                           {"version", set->version},
                           {"format", set->format}});
      s.info->Set(1);
      s.version = set->version;
    }
  }
}

}  // namespace rewardd

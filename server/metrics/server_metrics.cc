#include "server/metrics/server_metrics.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "prometheus/gauge.h"
#include "prometheus/text_serializer.h"
#include "server/util/log.h"

#ifndef REWARDD_VERSION
#define REWARDD_VERSION "unknown"
#endif

namespace rewardd {

// Collects the registry plus the families computed at scrape time. Holds a
// plain pointer: ServerMetrics owns it and the exposer keeps only a
// weak_ptr, so it never outlives its owner's use.
class ServerMetrics::Collector : public prometheus::Collectable {
 public:
  explicit Collector(const ServerMetrics* owner) : owner_(owner) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> out = owner_->registry_->Collect();
    owner_->serving_.CollectDynamic(&out);
    owner_->reward_.CollectDrift(&out);
    owner_->saturation_.CollectTopK(&out);
    return out;
  }

 private:
  const ServerMetrics* owner_;
};

ServerMetrics::ServerMetrics(MetricsOptions options)
    : options_(std::move(options)),
      registry_(std::make_shared<prometheus::Registry>()),
      serving_(*registry_),
      reward_(*registry_, options_.reward),
      judge_pools_(*registry_),
      judge_verdicts_(*registry_, &judge_pools_, options_.local_judges),
      store_(*registry_),
      tracker_(options_.saturation),
      saturation_(*registry_, &tracker_, options_.saturation_top_k,
                  options_.reward.rubric_set_limit),
      collectable_(std::make_shared<Collector>(this)) {
  prometheus::BuildGauge()
      .Name("rewardd_build_info")
      .Help("Always 1; the version label is rewardd's version.")
      .Register(*registry_)
      .Add({{"version", REWARDD_VERSION}})
      .Set(1);
  prometheus::BuildGauge()
      .Name("rewardd_start_time_seconds")
      .Help("Unix time the process started.")
      .Register(*registry_)
      .Add({})
      .Set(absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()));
  // Inline rubrics have no reload to announce them.
  reward_.PrepareRubricSet(RewardMetrics::kInlineSet);
  saturation_.PrepareRubricSet(RewardMetrics::kInlineSet);
}

void ServerMetrics::OnGroupGraded(const GradedGroup& group) {
  if (group.base == nullptr) return;
  const GroupSaturation summary =
      SummarizeGroup(group.results, group.max_possible);
  saturation_.Record(group.base->rubric_set, summary);
  tracker_.Record(group, summary);
  if (tail_log_ != nullptr) tail_log_->OnGroup(group, summary);
}

ServerMetrics::~ServerMetrics() = default;

void ServerMetrics::OnGraded(const GradeResult& result,
                             const GradedRequest& request) {
  absl::string_view policy_version;
  for (const GradeLabel& label : request.labels) {
    if (label.first == "policy_version") policy_version = label.second;
  }
  reward_.OnGraded(result, policy_version);
  judge_verdicts_.OnGraded(result);
  if (options_.log_requests) LogGraded(result, request, policy_version);
}

void ServerMetrics::LogGraded(const GradeResult& result,
                              const GradedRequest& request,
                              absl::string_view policy_version) const {
  const GradeInput& input = *result.input;
  Log(LogLevel::kInfo, "graded",
      {{"request_id", std::string(request.request_id)},
       {"rubric_set", input.rubric_set},
       {"rubric_id", input.rubric->id},
       {"judge", result.judge},
       {"valid", result.score.valid ? "true" : "false"},
       {"reward", absl::StrCat(result.score.reward)},
       {"criteria", absl::StrCat(input.rubric->criteria.size())},
       {"response_bytes", absl::StrCat(input.response.size())},
       {"total_seconds",
        absl::StrCat(absl::ToDoubleSeconds(request.total_time))},
       {"policy_version",
        std::string(LabelValueLimiter::Truncate(policy_version))}});
}

void ServerMetrics::OnRpcDone(absl::string_view method, absl::StatusCode code,
                              absl::Duration latency) {
  serving_.RpcDone(method, code, latency);
}

void ServerMetrics::OnGroupSize(size_t responses) {
  serving_.GroupSize(responses);
}

void ServerMetrics::OnStreamItem() { serving_.StreamItem(); }

void ServerMetrics::OnRubricReload(const ReloadReport& report,
                                   const StoreSnapshot& snapshot) {
  store_.OnReload(report, snapshot);
  // Sets parsed now (new or changed) get their tag series too; the others
  // have them already.
  for (const auto& [name, set] : snapshot.sets) {
    const bool parsed = std::find(report.loaded.begin(), report.loaded.end(),
                                  name) != report.loaded.end();
    reward_.PrepareRubricSet(name, parsed ? set.get() : nullptr);
    saturation_.PrepareRubricSet(name);
  }
}

void ServerMetrics::SetInFlightSource(std::function<int64_t()> source) {
  serving_.SetInFlightSource(std::move(source));
}

absl::Status ServerMetrics::LoadDriftBaseline(const std::string& path) {
  absl::StatusOr<DriftBaseline> baseline = rewardd::LoadDriftBaseline(path);
  if (!baseline.ok()) return baseline.status();
  reward_.SetBaseline(*std::move(baseline));
  return absl::OkStatus();
}

absl::Status ServerMetrics::SaveDriftBaseline(
    const std::string& path, DriftBaselineSource source) const {
  DriftBaseline baseline =
      reward_.SnapshotDrift(source == DriftBaselineSource::kWindow);
  baseline.saved_at_unix = absl::ToUnixSeconds(absl::Now());
  return rewardd::SaveDriftBaseline(path, baseline);
}

std::string ServerMetrics::RenderText() const {
  return prometheus::TextSerializer().Serialize(collectable_->Collect());
}

}  // namespace rewardd

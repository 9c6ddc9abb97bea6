#include "server/metrics/saturation_metrics.h"

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "server/metrics/label_limiter.h"

namespace rewardd {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildHistogram;

const prometheus::Histogram::BucketBoundaries& GapBuckets() {
  static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
      0, 0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1};
  return *buckets;
}

}  // namespace

struct SaturationMetrics::SetCell {
  prometheus::Counter* groups = nullptr;
  prometheus::Counter* zero_variance = nullptr;
  prometheus::Counter* tied_at_max = nullptr;
  prometheus::Counter* responses = nullptr;
  prometheus::Counter* responses_at_max = nullptr;
  prometheus::Histogram* top2_gap = nullptr;
};

SaturationMetrics::SaturationMetrics(prometheus::Registry& registry,
                                     const SaturationTracker* tracker,
                                     size_t top_k, size_t rubric_set_limit)
    : tracker_(tracker),
      top_k_(top_k),
      groups_(BuildCounter()
                  .Name("rewardd_groups_graded_total")
                  .Help("GradeGroup calls whose responses were all graded.")
                  .Register(registry)),
      zero_variance_(BuildCounter()
                         .Name("rewardd_groups_zero_variance_total")
                         .Help("Graded groups with >= 2 valid responses, all "
                               "with the same reward (no advantage).")
                         .Register(registry)),
      tied_at_max_(BuildCounter()
                       .Name("rewardd_groups_tied_at_max_total")
                       .Help("Graded groups where >= 2 valid responses tie at "
                             "the maximum reward (saturated).")
                       .Register(registry)),
      responses_(BuildCounter()
                     .Name("rewardd_group_responses_total")
                     .Help("Valid responses of graded groups.")
                     .Register(registry)),
      responses_at_max_(BuildCounter()
                            .Name("rewardd_group_responses_at_max_total")
                            .Help("Valid responses of graded groups at the "
                                  "maximum reward.")
                            .Register(registry)),
      top2_gap_(BuildHistogram()
                    .Name("rewardd_group_top2_gap")
                    .Help("Top reward minus the second highest within a "
                          "group (groups with >= 2 valid responses).")
                    .Register(registry)),
      sets_(rubric_set_limit) {
  other_set_ = std::make_unique<SetCell>();
}

SaturationMetrics::~SaturationMetrics() = default;

void SaturationMetrics::Fill(const std::string& name, SetCell* cell) {
  const prometheus::Labels l = {{"rubric_set", name}};
  cell->groups = &groups_.Add(l);
  cell->zero_variance = &zero_variance_.Add(l);
  cell->tied_at_max = &tied_at_max_.Add(l);
  cell->responses = &responses_.Add(l);
  cell->responses_at_max = &responses_at_max_.Add(l);
  cell->top2_gap = &top2_gap_.Add(l, GapBuckets());
}

SaturationMetrics::SetCell* SaturationMetrics::FindSet(
    absl::string_view rubric_set) {
  const absl::string_view name =
      rubric_set.empty() ? SaturationTracker::kInlineSet : rubric_set;
  if (SetCell* cell = sets_.Find(name)) return cell;
  SetCell* cell = sets_.FindOrInsert(name, [&] {
    auto made = std::make_unique<SetCell>();
    Fill(std::string(name), made.get());
    return made;
  });
  if (cell != nullptr) return cell;
  // Only past the set limit: its series appear with the first such group.
  std::call_once(other_filled_, [this] {
    Fill(std::string(LabelValueLimiter::kOther), other_set_.get());
  });
  return other_set_.get();
}

void SaturationMetrics::PrepareRubricSet(absl::string_view rubric_set) {
  FindSet(rubric_set);
}

void SaturationMetrics::Record(absl::string_view rubric_set,
                               const GroupSaturation& summary) {
  SetCell* cell = FindSet(rubric_set);
  cell->groups->Increment();
  if (summary.zero_variance) cell->zero_variance->Increment();
  if (summary.tied_at_max) cell->tied_at_max->Increment();
  if (summary.valid > 0) {
    cell->responses->Increment(static_cast<double>(summary.valid));
  }
  if (summary.at_max > 0) {
    cell->responses_at_max->Increment(static_cast<double>(summary.at_max));
  }
  if (summary.has_gap) cell->top2_gap->Observe(summary.top2_gap);
}

void SaturationMetrics::CollectTopK(
    std::vector<prometheus::MetricFamily>* out) const {
  prometheus::MetricFamily family;
  family.name = "rewardd_rubric_saturation_score";
  family.help =
      "Decayed count of recent saturated groups (tied at the maximum "
      "reward) of the rubrics that saturated most (top k, "
      "--saturation_top_k).";
  family.type = prometheus::MetricType::Gauge;
  if (tracker_ != nullptr) {
    // Ids cut to the label length could collide: the first (higher score)
    // wins, so no two samples share a label set.
    absl::flat_hash_set<std::pair<std::string, std::string>> seen;
    for (const SaturatedRubric& r : tracker_->Top(top_k_)) {
      std::string id(LabelValueLimiter::Truncate(r.rubric_id));
      if (!seen.emplace(r.rubric_set, id).second) continue;
      prometheus::ClientMetric m;
      m.label.push_back({"rubric_id", std::move(id)});
      m.label.push_back({"rubric_set", r.rubric_set});
      m.gauge.value = r.score;
      family.metric.push_back(std::move(m));
    }
  }
  out->push_back(std::move(family));
}

}  // namespace rewardd

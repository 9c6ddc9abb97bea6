#include "server/metrics/reward_metrics.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/match.h"

namespace rewardd {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildHistogram;

const prometheus::Histogram::BucketBoundaries& LengthBuckets() {
  static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
      64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536};
  return *buckets;
}

prometheus::MetricFamily GaugeFamily(std::string name, std::string help) {
  prometheus::MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = prometheus::MetricType::Gauge;
  return f;
}

void AddGauge(prometheus::MetricFamily* family, const std::string& rubric_set,
              double value) {
  prometheus::ClientMetric m;
  m.label.push_back({"rubric_set", rubric_set});
  m.gauge.value = value;
  family->metric.push_back(std::move(m));
}

}  // namespace

struct RewardMetrics::TagCell {
  prometheus::Counter* pass = nullptr;
  prometheus::Counter* fail = nullptr;
  prometheus::Counter* no_verdict = nullptr;
};

struct RewardMetrics::PolicyCell {
  std::string policy_version;
  prometheus::Counter* valid = nullptr;
  prometheus::Counter* invalid = nullptr;
  prometheus::Counter* tail = nullptr;
  prometheus::Histogram* reward = nullptr;
  std::array<prometheus::Histogram*, kBands> length{};
  // Indexed like the tag limiter's slots, plus "all" at the end. Null until
  // the tag is first seen in this cell.
  std::unique_ptr<std::atomic<TagCell*>[]> tags;
};

struct RewardMetrics::SetCell {
  SetCell(std::string n, const DriftOptions& drift_options, size_t pv_slots)
      : name(std::move(n)),
        drift(drift_options),
        policies(std::make_unique<std::atomic<PolicyCell*>[]>(pv_slots)) {
    for (size_t i = 0; i < pv_slots; ++i) policies[i].store(nullptr);
  }
  const std::string name;
  DriftDetector drift;
  std::unique_ptr<std::atomic<PolicyCell*>[]> policies;
  // Creating cells only: the hot path reads the atomics above.
  absl::Mutex mu;
  std::vector<std::unique_ptr<PolicyCell>> owned_policies ABSL_GUARDED_BY(mu);
  std::vector<std::unique_ptr<TagCell>> owned_tags ABSL_GUARDED_BY(mu);
};

RewardMetrics::RewardMetrics(prometheus::Registry& registry,
                             RewardMetricsOptions options)
    : options_(std::move(options)),
      grades_(BuildCounter()
                  .Name("rewardd_grades_total")
                  .Help("Graded responses by rubric set, policy version and "
                        "result (valid, invalid: must not be used as a "
                        "reward).")
                  .Register(registry)),
      reward_(BuildHistogram()
                  .Name("rewardd_reward")
                  .Help("Rewards of valid graded responses.")
                  .Register(registry)),
      tail_(BuildCounter()
                .Name("rewardd_reward_tail_total")
                .Help("Valid rewards at or above rewardd_reward_tail_"
                      "threshold (the high-reward tail).")
                .Register(registry)),
      criteria_(BuildCounter()
                    .Name("rewardd_criterion_results_total")
                    .Help("Criterion outcomes by tag: pass (positive "
                          "criterion met or negative criterion not met), "
                          "fail, no_verdict (judge failure). tag=\"all\" "
                          "counts every criterion.")
                    .Register(registry)),
      length_(BuildHistogram()
                  .Name("rewardd_response_length_bytes")
                  .Help("Length of valid graded responses by reward band, "
                        "to spot length hacking.")
                  .Register(registry)),
      reward_buckets_{0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0},
      policy_versions_(options_.policy_version_limit),
      tags_(options_.criterion_tag_limit),
      sets_(options_.rubric_set_limit) {
  // The tail threshold is a bucket boundary too, so the histogram alone
  // answers "share at or above the threshold" up to the boundary's le.
  if (std::find(reward_buckets_.begin(), reward_buckets_.end(),
                options_.tail_threshold) == reward_buckets_.end()) {
    reward_buckets_.push_back(options_.tail_threshold);
    std::sort(reward_buckets_.begin(), reward_buckets_.end());
  }
  BuildGaugeThreshold(registry);
  other_set_ =
      std::make_unique<SetCell>(std::string(LabelValueLimiter::kOther),
                                options_.drift, policy_versions_.slots());
}

RewardMetrics::~RewardMetrics() = default;

void RewardMetrics::BuildGaugeThreshold(prometheus::Registry& registry) {
  prometheus::BuildGauge()
      .Name("rewardd_reward_tail_threshold")
      .Help(
          "Rewards at or above this count in rewardd_reward_tail_total "
          "(--tail_threshold).")
      .Register(registry)
      .Add({})
      .Set(options_.tail_threshold);
}

absl::string_view RewardMetrics::BandName(int band) {
  static constexpr absl::string_view kNames[kBands] = {
      "0.00_0.25", "0.25_0.50", "0.50_0.75", "0.75_1.00"};
  return kNames[std::max(0, std::min(kBands - 1, band))];
}

int RewardMetrics::BandOf(double reward) {
  if (!(reward >= 0.25)) return 0;  // NaN and negatives too
  if (reward < 0.5) return 1;
  if (reward < 0.75) return 2;
  return 3;
}

void RewardMetrics::SetBaseline(DriftBaseline baseline) {
  baseline_ = std::move(baseline);
  // Sets prepared before the baseline was read (e.g. "_inline") have seen
  // no rewards yet: give them their reference too.
  sets_.ForEach([&](const std::string& name, SetCell& set) {
    auto it = baseline_.sets.find(name);
    if (it != baseline_.sets.end() && set.drift.Window().empty()) {
      set.drift.SetReference(it->second);
    }
  });
}

RewardMetrics::SetCell* RewardMetrics::FindSet(absl::string_view name) {
  if (SetCell* s = sets_.Find(name)) return s;
  SetCell* s = sets_.FindOrInsert(name, [&] {
    auto cell = std::make_unique<SetCell>(std::string(name), options_.drift,
                                          policy_versions_.slots());
    if (auto it = baseline_.sets.find(std::string(name));
        it != baseline_.sets.end()) {
      cell->drift.SetReference(it->second);
    }
    return cell;
  });
  return s != nullptr ? s : other_set_.get();
}

RewardMetrics::PolicyCell* RewardMetrics::FindPolicy(
    SetCell& set, const LabelValueLimiter::Value& pv) {
  std::atomic<PolicyCell*>& slot = set.policies[pv.index];
  if (PolicyCell* cell = slot.load(std::memory_order_acquire)) return cell;
  absl::MutexLock lock(&set.mu);
  if (PolicyCell* cell = slot.load(std::memory_order_relaxed)) return cell;
  auto cell = std::make_unique<PolicyCell>();
  cell->policy_version = pv.name;
  const prometheus::Labels base = {{"rubric_set", set.name},
                                   {"policy_version", pv.name}};
  auto with = [&base](const char* name, std::string value) {
    prometheus::Labels l = base;
    l.emplace(name, std::move(value));
    return l;
  };
  cell->valid = &grades_.Add(with("result", "valid"));
  cell->invalid = &grades_.Add(with("result", "invalid"));
  cell->tail = &tail_.Add(base);
  cell->reward = &reward_.Add(base, reward_buckets_);
  for (int b = 0; b < kBands; ++b) {
    cell->length[b] = &length_.Add(
        with("reward_band", std::string(BandName(b))), LengthBuckets());
  }
  const size_t tag_slots = tags_.slots() + 1;
  cell->tags = std::make_unique<std::atomic<TagCell*>[]>(tag_slots);
  for (size_t i = 0; i < tag_slots; ++i) cell->tags[i].store(nullptr);
  // "all" exists from the start with the rest of the cell.
  {
    auto all = std::make_unique<TagCell>();
    const prometheus::Labels l = with("tag", "all");
    auto result = [&l](const char* r) {
      prometheus::Labels x = l;
      x.emplace("result", r);
      return x;
    };
    all->pass = &criteria_.Add(result("pass"));
    all->fail = &criteria_.Add(result("fail"));
    all->no_verdict = &criteria_.Add(result("no_verdict"));
    cell->tags[tags_.slots()].store(all.get(), std::memory_order_relaxed);
    set.owned_tags.push_back(std::move(all));
  }
  PolicyCell* raw = cell.get();
  set.owned_policies.push_back(std::move(cell));
  slot.store(raw, std::memory_order_release);
  return raw;
}

RewardMetrics::TagCell* RewardMetrics::FindTag(SetCell& set, PolicyCell& cell,
                                               size_t index,
                                               const std::string& tag) {
  std::atomic<TagCell*>& slot = cell.tags[index];
  if (TagCell* t = slot.load(std::memory_order_acquire)) return t;
  absl::MutexLock lock(&set.mu);
  if (TagCell* t = slot.load(std::memory_order_relaxed)) return t;
  auto t = std::make_unique<TagCell>();
  auto labels = [&](const char* result) {
    return prometheus::Labels{{"rubric_set", set.name},
                              {"policy_version", cell.policy_version},
                              {"tag", tag},
                              {"result", result}};
  };
  t->pass = &criteria_.Add(labels("pass"));
  t->fail = &criteria_.Add(labels("fail"));
  t->no_verdict = &criteria_.Add(labels("no_verdict"));
  TagCell* raw = t.get();
  set.owned_tags.push_back(std::move(t));
  slot.store(raw, std::memory_order_release);
  return raw;
}

bool RewardMetrics::TagCounted(absl::string_view tag) const {
  if (tag.empty()) return false;
  if (options_.criterion_tag_prefixes.empty()) return true;
  for (const std::string& prefix : options_.criterion_tag_prefixes) {
    if (absl::StartsWith(tag, prefix)) return true;
  }
  return false;
}

void RewardMetrics::PrepareRubricSet(absl::string_view rubric_set,
                                     const RubricSet* rubrics) {
  SetCell* set = FindSet(rubric_set.empty() ? kInlineSet : rubric_set);
  PolicyCell* cell = FindPolicy(*set, policy_versions_.Resolve(""));
  if (rubrics == nullptr) return;
  for (const std::shared_ptr<const Rubric>& rubric : rubrics->rubrics) {
    for (const Criterion& c : rubric->criteria) {
      for (const std::string& tag : c.tags) {
        if (!TagCounted(tag)) continue;
        const LabelValueLimiter::Value& v = tags_.Resolve(tag);
        FindTag(*set, *cell, v.index, v.name);
      }
    }
  }
}

void RewardMetrics::OnGraded(const GradeResult& result,
                             absl::string_view policy_version) {
  const GradeInput& input = *result.input;
  SetCell* set =
      FindSet(input.rubric_set.empty() ? kInlineSet : input.rubric_set);
  PolicyCell* cell = FindPolicy(*set, policy_versions_.Resolve(policy_version));

  if (result.score.valid) {
    const double reward = result.score.reward;
    cell->valid->Increment();
    cell->reward->Observe(reward);
    if (reward >= options_.tail_threshold) cell->tail->Increment();
    cell->length[BandOf(reward)]->Observe(
        static_cast<double>(input.response.size()));
    set->drift.Add(reward);
  } else {
    cell->invalid->Increment();
  }

  // Criterion outcomes by tag. Verdicts are parallel to the rubric's
  // criteria; a response without per-criterion results has none.
  if (input.rubric == nullptr) return;
  const std::vector<Criterion>& criteria = input.rubric->criteria;
  const size_t n = std::min(result.verdicts.size(), criteria.size());
  TagCell* all = cell->tags[tags_.slots()].load(std::memory_order_acquire);
  // The all-criteria cell is counted here and added once per outcome: a
  // counter increment is an atomic compare-and-swap on a line every
  // grading thread shares, 20 per response otherwise.
  double pass = 0, fail = 0, no_verdict = 0;
  for (size_t i = 0; i < n; ++i) {
    const Verdict& verdict = result.verdicts[i];
    prometheus::Counter* TagCell::*which = &TagCell::no_verdict;
    double* count = &no_verdict;
    if (verdict.status == CriterionStatus::kOk) {
      const bool desirable = criteria[i].weight >= 0;
      const bool passed = verdict.met == desirable;
      which = passed ? &TagCell::pass : &TagCell::fail;
      count = passed ? &pass : &fail;
    }
    *count += 1;
    for (const std::string& tag : criteria[i].tags) {
      if (!TagCounted(tag)) continue;
      const LabelValueLimiter::Value& v = tags_.Resolve(tag);
      (FindTag(*set, *cell, v.index, v.name)->*which)->Increment();
    }
  }
  if (pass > 0) all->pass->Increment(pass);
  if (fail > 0) all->fail->Increment(fail);
  if (no_verdict > 0) all->no_verdict->Increment(no_verdict);
}

void RewardMetrics::CollectDrift(
    std::vector<prometheus::MetricFamily>* out) const {
  prometheus::MetricFamily shift = GaugeFamily(
      "rewardd_reward_drift_mean_shift",
      "Mean reward of the recent window minus mean of the reference window "
      "(NaN until both are filled).");
  prometheus::MetricFamily psi = GaugeFamily(
      "rewardd_reward_drift_psi",
      "Population stability index of recent rewards against the reference "
      "(10 bins on [0,1]); > 0.25 is a real shift.");
  prometheus::MetricFamily ks = GaugeFamily(
      "rewardd_reward_drift_ks_statistic",
      "Two-sample Kolmogorov-Smirnov statistic, recent vs reference rewards.");
  prometheus::MetricFamily ks_p =
      GaugeFamily("rewardd_reward_drift_ks_p_value",
                  "Asymptotic p-value of the KS statistic.");
  prometheus::MetricFamily ref_n =
      GaugeFamily("rewardd_reward_drift_reference_samples",
                  "Rewards in the drift reference window.");
  prometheus::MetricFamily win_n =
      GaugeFamily("rewardd_reward_drift_window_samples",
                  "Rewards in the recent drift window.");
  prometheus::MetricFamily ref_mean =
      GaugeFamily("rewardd_reward_drift_reference_mean",
                  "Mean reward of the drift reference window.");
  prometheus::MetricFamily win_mean =
      GaugeFamily("rewardd_reward_drift_window_mean",
                  "Mean reward of the recent drift window.");
  auto add = [&](const SetCell& set) {
    const DriftStats s = set.drift.Compute();
    AddGauge(&shift, set.name, s.mean_shift);
    AddGauge(&psi, set.name, s.psi);
    AddGauge(&ks, set.name, s.ks_statistic);
    AddGauge(&ks_p, set.name, s.ks_p_value);
    AddGauge(&ref_n, set.name, static_cast<double>(s.reference_samples));
    AddGauge(&win_n, set.name, static_cast<double>(s.window_samples));
    AddGauge(&ref_mean, set.name, s.reference_mean);
    AddGauge(&win_mean, set.name, s.window_mean);
  };
  sets_.ForEach([&](const std::string&, SetCell& set) { add(set); });
  if (other_set_->drift.Compute().window_samples > 0) add(*other_set_);
  for (auto* f :
       {&shift, &psi, &ks, &ks_p, &ref_n, &win_n, &ref_mean, &win_mean}) {
    out->push_back(std::move(*f));
  }
}

DriftBaseline RewardMetrics::SnapshotDrift(bool recent_window) const {
  DriftBaseline b;
  b.source = recent_window ? "window" : "reference";
  sets_.ForEach([&](const std::string& name, SetCell& set) {
    std::vector<double> v =
        recent_window ? set.drift.Window() : set.drift.Reference();
    if (!v.empty()) b.sets[name] = std::move(v);
  });
  return b;
}

}  // namespace rewardd

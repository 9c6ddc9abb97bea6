#include "server/grading/saturation_tracker.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "absl/time/clock.h"

namespace rewardd {

struct SaturationTracker::Entry {
  SaturatedRubric info;
  // The undecayed score as of score_time.
  double score = 0;
  absl::Time score_time = absl::InfinitePast();
};

SaturationTracker::SaturationTracker(SaturationTrackerOptions options)
    : options_(std::move(options)) {}

SaturationTracker::~SaturationTracker() = default;

absl::Time SaturationTracker::Now() const {
  return options_.clock ? options_.clock() : absl::Now();
}

double SaturationTracker::Decayed(const Entry& entry, absl::Time now) const {
  if (entry.score_time == absl::InfinitePast()) return 0;
  const double half_lives =
      absl::FDivDuration(std::max(now - entry.score_time, absl::ZeroDuration()),
                         options_.half_life);
  return entry.score * std::exp2(-half_lives);
}

void SaturationTracker::Record(const GradedGroup& group,
                               const GroupSaturation& summary) {
  if (group.base == nullptr || group.base->rubric == nullptr) return;
  const absl::string_view set =
      group.base->rubric_set.empty() ? kInlineSet : group.base->rubric_set;
  const Rubric& rubric = *group.base->rubric;
  const Key key(set, rubric.id);
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (!summary.saturated || options_.max_rubrics == 0) return;
    const absl::Time now = Now();
    if (entries_.size() >= options_.max_rubrics) EvictLowest(now);
    auto entry = std::make_unique<Entry>();
    entry->info.rubric_set = std::string(set);
    entry->info.rubric_id = rubric.id;
    const Key owned(entry->info.rubric_set, entry->info.rubric_id);
    it = entries_.emplace(owned, std::move(entry)).first;
  }
  Entry& e = *it->second;
  ++e.info.groups;
  if (!summary.saturated) return;
  const absl::Time now = Now();
  e.score = Decayed(e, now) + 1;
  e.score_time = now;
  ++e.info.saturated_groups;
  e.info.last_saturated = now;
  // Versions change on reloads; only a saturated group pays for the copy.
  if (e.info.rubric_version != rubric.version) {
    e.info.rubric_version = rubric.version;
  }
  if (e.info.set_version != group.set_version) {
    e.info.set_version = std::string(group.set_version);
  }
}

void SaturationTracker::EvictLowest(absl::Time now) {
  auto lowest = entries_.end();
  double lowest_score = 0;
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    const double score = Decayed(*it->second, now);
    if (lowest == entries_.end() || score < lowest_score ||
        (score == lowest_score && it->second->info.last_saturated <
                                      lowest->second->info.last_saturated)) {
      lowest = it;
      lowest_score = score;
    }
  }
  if (lowest != entries_.end()) entries_.erase(lowest);
}

std::vector<SaturatedRubric> SaturationTracker::Top(
    size_t k, absl::string_view rubric_set) const {
  std::vector<SaturatedRubric> out;
  const absl::Time now = Now();
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [key, entry] : entries_) {
      if (!rubric_set.empty() && key.first != rubric_set) continue;
      out.push_back(entry->info);
      out.back().score = Decayed(*entry, now);
    }
  }
  auto higher = [](const SaturatedRubric& a, const SaturatedRubric& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.last_saturated != b.last_saturated) {
      return a.last_saturated > b.last_saturated;
    }
    return std::tie(a.rubric_set, a.rubric_id) <
           std::tie(b.rubric_set, b.rubric_id);
  };
  const size_t keep = std::min(k, out.size());
  std::partial_sort(out.begin(), out.begin() + keep, out.end(), higher);
  out.resize(keep);
  return out;
}

size_t SaturationTracker::size() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

}  // namespace rewardd

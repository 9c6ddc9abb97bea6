#include "client/cli/tail_report_model.h"

#include <algorithm>
#include <map>
#include <utility>

namespace rewardd::cli {
namespace {

// Adds `h` into `*sum` when the edges agree (the first one sets them).
bool AddHistogram(const std::optional<TailHistogram>& h,
                  std::optional<TailHistogram>* sum) {
  if (!h.has_value()) return true;
  if (!sum->has_value()) {
    *sum = *h;
    return true;
  }
  if ((*sum)->edges != h->edges) return false;
  for (size_t i = 0; i < h->counts.size(); ++i) {
    (*sum)->counts[i] += h->counts[i];
  }
  return true;
}

void AddWindows(const TailLog& log, TailReportModel& m) {
  std::vector<const WindowRecord*> windows;
  for (const WindowRecord& w : log.windows) {
    if (w.rubric_set == m.rubric_set) windows.push_back(&w);
  }
  std::stable_sort(windows.begin(), windows.end(),
                   [](const WindowRecord* a, const WindowRecord* b) {
                     return a->time < b->time;
                   });
  // Adjacent windows share a point when there are too many to draw.
  const size_t per_point =
      (windows.size() + kMaxSeriesPoints - 1) / kMaxSeriesPoints;
  for (size_t i = 0; i < windows.size(); ++i) {
    const WindowRecord& w = *windows[i];
    ++m.windows;
    if (!w.set_version.empty()) m.set_versions.insert(w.set_version);
    m.first = std::min(m.first, w.time);
    m.last = std::max(m.last, w.time);
    m.groups += w.groups;
    m.tied_at_max_groups += w.tied_at_max_groups;
    m.zero_variance_groups += w.zero_variance_groups;
    m.responses += w.responses;
    m.responses_at_max += w.responses_at_max;
    m.sampled += w.sampled;
    m.dropped_rate_limited += w.dropped_rate_limited;
    m.dropped_queue_full += w.dropped_queue_full;
    if (!AddHistogram(w.reward_histogram, &m.reward_histogram) ||
        !AddHistogram(w.top2_gap_histogram, &m.top2_gap_histogram)) {
      ++m.histogram_windows_other_edges;
    }
    if (i % per_point == 0) m.series.emplace_back();
    TailTimePoint& p = m.series.back();
    p.time = w.time;
    p.groups += w.groups;
    p.tied_at_max_groups += w.tied_at_max_groups;
    p.zero_variance_groups += w.zero_variance_groups;
    p.responses += w.responses;
    p.responses_at_max += w.responses_at_max;
  }
}

std::string PromptText(const SaturatedGroupRecord& g) {
  if (!g.prompt.empty() || !g.messages.is_array() || g.messages.empty()) {
    return g.prompt;
  }
  const nlohmann::json& last = g.messages.back();
  const auto content = last.find("content");
  return last.is_object() && content != last.end() && content->is_string()
             ? content->get<std::string>()
             : std::string();
}

void AddGroups(const TailLog& log, TailReportModel& m) {
  std::map<std::string, RubricSaturation> by_id;
  std::map<std::string, double> top_share_sum;
  for (const SaturatedGroupRecord& g : log.groups) {
    if (g.rubric_set != m.rubric_set) continue;
    ++m.saturated_groups;
    if (!g.set_version.empty()) m.set_versions.insert(g.set_version);
    m.first = std::min(m.first, g.time);
    m.last = std::max(m.last, g.time);
    RubricSaturation& r = by_id[g.rubric_id];
    r.rubric_id = g.rubric_id;
    ++r.groups;
    if (g.zero_variance) ++r.zero_variance;
    r.max_tied = std::max(r.max_tied, g.tied_at_top);
    top_share_sum[g.rubric_id] +=
        g.max_possible > 0 ? g.top_reward / g.max_possible : 0;
    if (g.time >= r.last_seen) {
      r.last_seen = g.time;
      r.last_seen_text = g.time_text;
      r.rubric_version = g.rubric_version;
      r.prompt = PromptText(g);
    }
    const auto policy = g.labels.find("policy_version");
    if (policy != g.labels.end()) r.policy_versions.insert(policy->second);
  }
  for (auto& [id, r] : by_id) {
    r.mean_top_reward = top_share_sum[id] / r.groups;
    m.rubrics.push_back(std::move(r));
  }
  std::stable_sort(m.rubrics.begin(), m.rubrics.end(),
                   [](const RubricSaturation& a, const RubricSaturation& b) {
                     if (a.groups != b.groups) return a.groups > b.groups;
                     return a.last_seen > b.last_seen;
                   });
}

}  // namespace

absl::StatusOr<TailReportModel> BuildTailReportModel(
    const TailLog& log, const std::string& rubric_set,
    std::vector<EvalSetResult> evals) {
  absl::StatusOr<std::string> set = ChooseRubricSet(log, rubric_set);
  if (!set.ok()) return set.status();
  TailReportModel m;
  m.rubric_set = *set;
  m.log_stats = log.stats;
  AddWindows(log, m);
  AddGroups(log, m);
  m.evals = std::move(evals);
  return m;
}

}  // namespace rewardd::cli

#include "server/metrics/tail_log_record.h"

#include <algorithm>
#include <cmath>

#include "nlohmann/json.hpp"
#include "server/grading/saturation_tracker.h"

namespace rewardd {
namespace {

using json = nlohmann::json;

int BinOf(double value) {
  if (!(value > 0)) return 0;  // NaN and negatives too
  return std::min(kTailBins - 1, static_cast<int>(value * kTailBins));
}

json Histogram(const std::array<uint64_t, kTailBins>& counts) {
  json edges = json::array();
  for (int i = 0; i <= kTailBins; ++i) {
    edges.push_back(static_cast<double>(i) / kTailBins);
  }
  json c = json::array();
  for (uint64_t n : counts) c.push_back(n);
  return json{{"edges", std::move(edges)}, {"counts", std::move(c)}};
}

absl::string_view VerdictName(const Verdict& v) {
  if (v.status != CriterionStatus::kOk) return "UNKNOWN";
  return v.met ? "MET" : "UNMET";
}

// Replaces invalid UTF-8 rather than failing the whole line.
std::string Dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

std::string Rfc3339Millis(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

SaturatedGroupRecord SaturatedGroupRecord::From(const GradedGroup& group,
                                                const GroupSaturation& summary,
                                                absl::Time now,
                                                size_t max_top) {
  SaturatedGroupRecord r;
  const GradeInput& base = *group.base;
  r.time = now;
  r.rubric_set = base.rubric_set.empty()
                     ? std::string(SaturationTracker::kInlineSet)
                     : base.rubric_set;
  if (base.rubric != nullptr) {
    r.rubric_id = base.rubric->id;
    r.rubric_version = base.rubric->version;
  }
  r.set_version = std::string(group.set_version);
  for (const GradeLabel& l : group.labels) {
    r.labels.emplace_back(std::string(l.first), std::string(l.second));
  }
  std::sort(r.labels.begin(), r.labels.end());
  // A request by rubric reference may leave the prompt out: the rubric's
  // own prompt is the one it was written for.
  r.prompt = base.prompt.empty() && base.rubric != nullptr ? base.rubric->prompt
                                                           : base.prompt;
  for (const ChatMessage& m : base.messages) {
    r.messages.emplace_back(m.role, m.content);
  }
  r.group_size = summary.responses;
  r.valid = summary.valid;
  r.max_possible = group.max_possible;
  r.top_reward = summary.top_reward;
  r.tied_at_top = summary.tied_at_top;
  r.zero_variance = summary.zero_variance;
  for (size_t i = 0; i < group.results.size(); ++i) {
    const GradeResult& g = group.results[i];
    if (g.score.valid) {
      r.rewards.emplace_back(g.score.reward);
    } else {
      r.rewards.emplace_back(std::nullopt);
    }
    if (r.top.size() >= max_top || !AtReward(g, summary.top_reward)) continue;
    TailTopResponse t;
    t.index = i;
    t.response = g.input != nullptr ? g.input->response : std::string();
    t.reward = g.score.reward;
    const Rubric* rubric = g.input != nullptr ? g.input->rubric.get() : nullptr;
    for (size_t c = 0; c < g.verdicts.size(); ++c) {
      TailVerdict v;
      if (rubric != nullptr && c < rubric->criteria.size()) {
        v.criterion_id = rubric->criteria[c].id;
      }
      v.verdict = std::string(VerdictName(g.verdicts[c]));
      v.status = std::string(CriterionStatusName(g.verdicts[c].status));
      t.verdicts.push_back(std::move(v));
    }
    r.top.push_back(std::move(t));
  }
  return r;
}

void WindowRecord::Add(const GradedGroup& group,
                       const GroupSaturation& summary) {
  ++groups;
  if (summary.zero_variance) ++zero_variance_groups;
  if (summary.tied_at_max) ++tied_at_max_groups;
  responses += summary.valid;
  responses_at_max += summary.at_max;
  for (const GradeResult& g : group.results) {
    if (g.score.valid) ++reward_counts[BinOf(g.score.reward)];
  }
  if (summary.has_gap) ++gap_counts[BinOf(summary.top2_gap)];
}

std::string FormatSaturatedGroup(const SaturatedGroupRecord& r) {
  json labels = json::object();
  for (const auto& [k, v] : r.labels) labels[k] = v;
  json rewards = json::array();
  for (const std::optional<double>& x : r.rewards) {
    rewards.push_back(x.has_value() ? json(*x) : json(nullptr));
  }
  json top = json::array();
  for (const TailTopResponse& t : r.top) {
    json verdicts = json::array();
    for (const TailVerdict& v : t.verdicts) {
      verdicts.push_back({{"criterion_id", v.criterion_id},
                          {"verdict", v.verdict},
                          {"status", v.status}});
    }
    top.push_back({{"index", t.index},
                   {"response", t.response},
                   {"reward", t.reward},
                   {"verdicts", std::move(verdicts)}});
  }
  json j = {{"schema", kTailLogSchema},
            {"kind", "saturated_group"},
            {"time", Rfc3339Millis(r.time)},
            {"rubric_set", r.rubric_set},
            {"rubric_id", r.rubric_id},
            {"rubric_version", r.rubric_version},
            {"set_version", r.set_version},
            {"labels", std::move(labels)},
            {"prompt", r.prompt},
            {"group_size", r.group_size},
            {"valid", r.valid},
            {"max_possible", r.max_possible},
            {"top_reward", r.top_reward},
            {"tied_at_top", r.tied_at_top},
            {"zero_variance", r.zero_variance},
            {"rewards", std::move(rewards)},
            {"top", std::move(top)}};
  if (!r.messages.empty()) {
    json messages = json::array();
    for (const auto& [role, content] : r.messages) {
      messages.push_back({{"role", role}, {"content", content}});
    }
    j["messages"] = std::move(messages);
  }
  return Dump(j);
}

std::string FormatWindow(const WindowRecord& r) {
  json j = {{"schema", kTailLogSchema},
            {"kind", "window"},
            {"time", Rfc3339Millis(r.time)},
            {"rubric_set", r.rubric_set},
            {"set_version", r.set_version},
            {"seconds", r.seconds},
            {"groups", r.groups},
            {"zero_variance_groups", r.zero_variance_groups},
            {"tied_at_max_groups", r.tied_at_max_groups},
            {"responses", r.responses},
            {"responses_at_max", r.responses_at_max},
            {"reward_histogram", Histogram(r.reward_counts)},
            {"top2_gap_histogram", Histogram(r.gap_counts)},
            {"sampled", r.sampled},
            {"dropped_rate_limited", r.dropped_rate_limited},
            {"dropped_queue_full", r.dropped_queue_full}};
  return Dump(j);
}

}  // namespace rewardd

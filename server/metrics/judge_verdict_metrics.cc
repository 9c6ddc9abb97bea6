#include "server/metrics/judge_verdict_metrics.h"

#include <algorithm>
#include <utility>

#include "absl/time/time.h"

namespace rewardd {
namespace {

// Verdict status -> index into the status names (the enum's order).
int StatusIndex(CriterionStatus status) {
  switch (status) {
    case CriterionStatus::kOk:
      return 0;
    case CriterionStatus::kJudgeError:
      return 1;
    case CriterionStatus::kParseError:
      return 2;
    case CriterionStatus::kMissing:
      return 3;
    case CriterionStatus::kTimeout:
      return 4;
    case CriterionStatus::kSkipped:
      break;
  }
  return 5;
}

// The call outcome of one locally graded response: its worst criterion.
JudgeCallOutcome LocalOutcome(const std::vector<Verdict>& verdicts) {
  JudgeCallOutcome outcome = JudgeCallOutcome::kOk;
  for (const Verdict& v : verdicts) {
    switch (v.status) {
      case CriterionStatus::kOk:
        break;
      case CriterionStatus::kTimeout:
        return JudgeCallOutcome::kTimeout;
      case CriterionStatus::kParseError:
      case CriterionStatus::kMissing:
        outcome = JudgeCallOutcome::kParseError;
        break;
      case CriterionStatus::kSkipped:
        if (outcome == JudgeCallOutcome::kOk) {
          outcome = JudgeCallOutcome::kCancelled;
        }
        break;
      case CriterionStatus::kJudgeError:
        return JudgeCallOutcome::kError;
    }
  }
  return outcome;
}

}  // namespace

struct JudgeVerdictMetrics::Cell {
  std::array<prometheus::Counter*, kStatuses> verdicts{};
  prometheus::Histogram* judge_seconds = nullptr;
  prometheus::Histogram* queue_seconds = nullptr;
  std::unique_ptr<JudgePoolMetrics> local;  // local judges only
};

absl::string_view JudgeVerdictMetrics::StatusName(int index) {
  static constexpr absl::string_view kNames[kStatuses] = {
      "ok", "judge_error", "parse_error", "missing", "timeout", "skipped"};
  return kNames[std::max(0, std::min(kStatuses - 1, index))];
}

JudgeVerdictMetrics::JudgeVerdictMetrics(prometheus::Registry& registry,
                                         JudgeMetricFamilies* pools,
                                         std::vector<std::string> local_judges,
                                         size_t judge_limit)
    : pools_(pools),
      local_judges_(std::move(local_judges)),
      verdicts_(prometheus::BuildCounter()
                    .Name("rewardd_judge_verdicts_total")
                    .Help("Criterion verdicts by judge and status (ok, or "
                          "why there is none).")
                    .Register(registry)),
      judge_seconds_(prometheus::BuildHistogram()
                         .Name("rewardd_grade_judge_seconds")
                         .Help("Judge wall time of one graded response, "
                               "first judge call to last.")
                         .Register(registry)),
      queue_seconds_(prometheus::BuildHistogram()
                         .Name("rewardd_grade_queue_seconds")
                         .Help("Time one graded response's judge work waited "
                               "for a worker.")
                         .Register(registry)),
      cells_(judge_limit),
      other_(MakeCell("other")) {
  for (const std::string& judge : local_judges_) FindJudge(judge);
}

JudgeVerdictMetrics::~JudgeVerdictMetrics() = default;

std::unique_ptr<JudgeVerdictMetrics::Cell> JudgeVerdictMetrics::MakeCell(
    const std::string& judge) {
  auto cell = std::make_unique<Cell>();
  for (int i = 0; i < kStatuses; ++i) {
    cell->verdicts[i] = &verdicts_.Add(
        {{"judge", judge}, {"status", std::string(StatusName(i))}});
  }
  cell->judge_seconds =
      &judge_seconds_.Add({{"judge", judge}}, LatencyBuckets());
  cell->queue_seconds =
      &queue_seconds_.Add({{"judge", judge}}, LatencyBuckets());
  if (pools_ != nullptr && std::find(local_judges_.begin(), local_judges_.end(),
                                     judge) != local_judges_.end()) {
    // A local judge has no queue; capacity 0 says so.
    cell->local = pools_->ForPool(judge, {"local"}, /*queue_capacity=*/0);
  }
  return cell;
}

JudgeVerdictMetrics::Cell* JudgeVerdictMetrics::FindJudge(
    absl::string_view judge) {
  if (Cell* c = cells_.Find(judge)) return c;
  Cell* c = cells_.FindOrInsert(judge, [&] {
    return MakeCell(std::string(judge.empty() ? "none" : judge));
  });
  return c != nullptr ? c : other_.get();
}

void JudgeVerdictMetrics::OnGraded(const GradeResult& result) {
  if (result.verdicts.empty()) return;  // never reached a judge
  Cell* cell = FindJudge(result.judge);
  // Counted here, then added once per status: a counter increment is a
  // compare-and-swap on a line every grading thread shares.
  std::array<int, kStatuses> counts{};
  for (const Verdict& v : result.verdicts) ++counts[StatusIndex(v.status)];
  for (int i = 0; i < kStatuses; ++i) {
    if (counts[i] > 0) cell->verdicts[i]->Increment(counts[i]);
  }
  const double judge_seconds = absl::ToDoubleSeconds(result.judge_time);
  cell->judge_seconds->Observe(judge_seconds);
  cell->queue_seconds->Observe(absl::ToDoubleSeconds(result.queue_time));
  if (cell->local != nullptr) {
    cell->local->replica(0).CallDone(LocalOutcome(result.verdicts),
                                     absl::Seconds(judge_seconds));
  }
}

}  // namespace rewardd

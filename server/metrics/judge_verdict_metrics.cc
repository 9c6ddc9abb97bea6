#include "server/metrics/judge_verdict_metrics.h"

#include <algorithm>
#include <utility>

#include "absl/time/time.h"

namespace rewardd {
namespace {

namespace pb = reward::v1;

// CriterionResult.Status -> index into the status names.
int StatusIndex(pb::CriterionResult::Status status) {
  switch (status) {
    case pb::CriterionResult::OK:
      return 0;
    case pb::CriterionResult::JUDGE_ERROR:
      return 1;
    case pb::CriterionResult::PARSE_ERROR:
      return 2;
    case pb::CriterionResult::MISSING:
      return 3;
    case pb::CriterionResult::TIMEOUT:
      return 4;
    default:
      return 5;  // SKIPPED, unspecified
  }
}

// The call outcome of one locally graded response: its worst criterion.
JudgeCallOutcome LocalOutcome(const pb::GradeResponse& response) {
  JudgeCallOutcome outcome = JudgeCallOutcome::kOk;
  for (const pb::CriterionResult& c : response.criteria()) {
    switch (c.status()) {
      case pb::CriterionResult::OK:
        break;
      case pb::CriterionResult::TIMEOUT:
        return JudgeCallOutcome::kTimeout;
      case pb::CriterionResult::PARSE_ERROR:
      case pb::CriterionResult::MISSING:
        outcome = JudgeCallOutcome::kParseError;
        break;
      case pb::CriterionResult::SKIPPED:
        if (outcome == JudgeCallOutcome::kOk) {
          outcome = JudgeCallOutcome::kCancelled;
        }
        break;
      default:
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

void JudgeVerdictMetrics::OnGraded(const pb::GradeResponse& response) {
  if (response.criteria_size() == 0) return;  // never reached a judge
  Cell* cell = FindJudge(response.judge());
  // Counted here, then added once per status: a counter increment is a
  // compare-and-swap on a line every grading thread shares.
  std::array<int, kStatuses> counts{};
  for (const pb::CriterionResult& c : response.criteria()) {
    ++counts[StatusIndex(c.status())];
  }
  for (int i = 0; i < kStatuses; ++i) {
    if (counts[i] > 0) cell->verdicts[i]->Increment(counts[i]);
  }
  const double judge_seconds = response.timings().judge_seconds();
  cell->judge_seconds->Observe(judge_seconds);
  cell->queue_seconds->Observe(response.timings().queue_seconds());
  if (cell->local != nullptr) {
    cell->local->replica(0).CallDone(LocalOutcome(response),
                                     absl::Seconds(judge_seconds));
  }
}

}  // namespace rewardd

#include "server/grading/grader.h"

#include <algorithm>
#include <atomic>

#include "absl/synchronization/mutex.h"

namespace rewardd {
namespace {

constexpr uint32_t kDefaultChunkSize = 5;

// Collects the answers of one response's judge work. Each piece writes only
// its own criteria's verdicts, so only the first refusal needs the mutex; the
// countdown's acq_rel ordering publishes the verdicts to the last finisher.
struct Aggregation {
  std::shared_ptr<const GradeInput> input;
  ScoringOptions scoring;
  std::string judge;
  GradeCallback done;
  std::vector<Verdict> verdicts;
  std::atomic<size_t> remaining{0};
  absl::Mutex mu;
  absl::Status refusal ABSL_GUARDED_BY(mu);
  absl::Duration queue_time ABSL_GUARDED_BY(mu) = absl::ZeroDuration();
  absl::Duration judge_time ABSL_GUARDED_BY(mu) = absl::ZeroDuration();

  void Answer(const std::vector<uint32_t>& criteria,
              absl::StatusOr<JudgeResult> result) {
    if (!result.ok()) {
      absl::MutexLock lock(&mu);
      if (refusal.ok()) refusal = result.status();
    } else {
      {
        absl::MutexLock lock(&mu);
        queue_time = std::max(queue_time, result->queue_time);
        judge_time = std::max(judge_time, result->judge_time);
      }
      const size_t n = std::min(criteria.size(), result->verdicts.size());
      for (size_t i = 0; i < n; ++i) {
        verdicts[criteria[i]] = std::move(result->verdicts[i]);
      }
      // A judge that answers fewer verdicts than asked leaves the rest as
      // kMissing rather than pretending they were graded.
      for (size_t i = n; i < criteria.size(); ++i) {
        verdicts[criteria[i]].status = CriterionStatus::kMissing;
      }
    }
    if (remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) Finish();
  }

  void Finish() {
    absl::Status status;
    GradeResult out;
    {
      absl::MutexLock lock(&mu);
      status = refusal;
      out.queue_time = queue_time;
      out.judge_time = judge_time;
    }
    if (!status.ok()) {
      std::move(done)(status);
      return;
    }
    out.score = ComputeScore(*input->rubric, verdicts, scoring);
    out.verdicts = std::move(verdicts);
    out.judge = std::move(judge);
    out.input = std::move(input);
    std::move(done)(std::move(out));
  }
};

}  // namespace

std::vector<std::vector<uint32_t>> Grader::Expand(size_t criteria,
                                                  GradingMode mode,
                                                  uint32_t chunk_size) {
  size_t per_piece = criteria;
  if (mode == GradingMode::kPerCriterion) per_piece = 1;
  if (mode == GradingMode::kChunked) {
    per_piece = chunk_size > 0 ? chunk_size : kDefaultChunkSize;
  }
  std::vector<std::vector<uint32_t>> pieces;
  pieces.reserve((criteria + per_piece - 1) / std::max<size_t>(per_piece, 1));
  for (size_t begin = 0; begin < criteria; begin += per_piece) {
    std::vector<uint32_t>& piece = pieces.emplace_back();
    const size_t end = std::min(criteria, begin + per_piece);
    piece.reserve(end - begin);
    for (size_t i = begin; i < end; ++i) piece.push_back(i);
  }
  return pieces;
}

void Grader::Grade(std::shared_ptr<const GradeInput> input,
                   absl::string_view judge_name, const ScoringOptions& scoring,
                   GradeCallback done) const {
  absl::StatusOr<Judge*> judge = judges_->Find(judge_name);
  if (!judge.ok()) {
    std::move(done)(judge.status());
    return;
  }
  GradingMode mode = input->mode;
  if (mode == GradingMode::kDefault) mode = (*judge)->default_mode();
  std::vector<std::vector<uint32_t>> pieces =
      Expand(input->rubric->criteria.size(), mode, input->chunk_size);

  auto agg = std::make_shared<Aggregation>();
  agg->input = input;
  agg->scoring = scoring;
  agg->judge = (*judge)->name();
  agg->done = std::move(done);
  agg->verdicts.resize(input->rubric->criteria.size());
  agg->remaining.store(pieces.size(), std::memory_order_relaxed);

  for (std::vector<uint32_t>& piece : pieces) {
    JudgeWork work{input, piece};
    (*judge)->Grade(std::move(work),
                    [agg, piece = std::move(piece)](
                        absl::StatusOr<JudgeResult> result) mutable {
                      agg->Answer(piece, std::move(result));
                    });
  }
}

}  // namespace rewardd

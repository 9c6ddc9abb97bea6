// Judge metrics seen from the service: for every graded response, the
// per-criterion verdict statuses and the judge and queue time of the
// response, by judge. These work for every judge, LLM or embedded, without
// help from the judge itself, and feed the judge error-rate alert.
//
// "Local" judges (the embedded one: no pool, no replicas) also get the pool
// call series of judge_pool_metrics.h, with replica="local" and one call per
// graded response, so dashboards show every judge the same way.
//
//   JudgeVerdictMetrics judges(registry, &pool_families, {"embedded"});
//   judges.OnGraded(result);  // a GradeResult
//
// Series:
//   rewardd_judge_verdicts_total{judge,status}   ok, judge_error,
//       parse_error, missing, timeout, skipped (one per criterion)
//   rewardd_grade_judge_seconds{judge}   histogram: judge wall time of one
//       response (first call to last)
//   rewardd_grade_queue_seconds{judge}   histogram: time its judge work
//       waited for a worker
//
// Thread-safety: OnGraded() may be called from any thread; judges are found
// in a read-mostly table without a lock. Judge names are bounded (at most
// judge_limit, later ones "other").
#ifndef REWARDD_SERVER_METRICS_JUDGE_VERDICT_METRICS_H_
#define REWARDD_SERVER_METRICS_JUDGE_VERDICT_METRICS_H_

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "server/grading/grader.h"
#include "server/judge/pool/judge_pool_metrics.h"
#include "server/metrics/read_mostly_map.h"

namespace rewardd {

class JudgeVerdictMetrics {
 public:
  static constexpr int kStatuses = 6;

  // `pools` (must outlive this) creates the call series of `local_judges`,
  // which exist at 0 from start-up.
  JudgeVerdictMetrics(prometheus::Registry& registry,
                      JudgeMetricFamilies* pools,
                      std::vector<std::string> local_judges,
                      size_t judge_limit = 32);
  ~JudgeVerdictMetrics();

  // One graded response; nothing when it has no verdicts (it never
  // reached a judge).
  void OnGraded(const GradeResult& result);

  // "ok", "judge_error", "parse_error", "missing", "timeout", "skipped".
  static absl::string_view StatusName(int index);

 private:
  struct Cell;
  Cell* FindJudge(absl::string_view judge);
  std::unique_ptr<Cell> MakeCell(const std::string& judge);

  JudgeMetricFamilies* pools_;
  const std::vector<std::string> local_judges_;
  prometheus::Family<prometheus::Counter>& verdicts_;
  prometheus::Family<prometheus::Histogram>& judge_seconds_;
  prometheus::Family<prometheus::Histogram>& queue_seconds_;
  ReadMostlyMap<Cell> cells_;
  std::unique_ptr<Cell> other_;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_METRICS_JUDGE_VERDICT_METRICS_H_

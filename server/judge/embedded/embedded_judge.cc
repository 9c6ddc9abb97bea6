#include "server/judge/embedded/embedded_judge.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/judge/embedded/check_evaluator.h"

namespace rewardd {
namespace {

void FillAll(std::vector<Verdict>& verdicts, CriterionStatus status,
             absl::string_view explanation, bool explain) {
  for (Verdict& v : verdicts) {
    v.status = status;
    if (explain) v.explanation = std::string(explanation);
  }
}

}  // namespace

EmbeddedJudge::EmbeddedJudge(EmbeddedJudgeOptions options)
    : options_(std::move(options)),
      heuristic_{options_.heuristic_threshold},
      profiles_(options_.profile_cache_capacity) {}

void EmbeddedJudge::Grade(JudgeWork work, JudgeCallback done) {
  const absl::Time start = absl::Now();
  JudgeResult result;
  result.verdicts.resize(work.criteria.size());
  const GradeInput* input = work.input.get();

  if (input == nullptr || input->rubric == nullptr) {
    // A caller bug, reported per criterion like any judge failure.
    FillAll(result.verdicts, CriterionStatus::kJudgeError,
            "judge work has no input or rubric", true);
  } else if (input->cancellation != nullptr &&
             input->cancellation->cancelled()) {
    FillAll(result.verdicts, CriterionStatus::kSkipped, "cancelled",
            input->include_explanations);
  } else if (start > input->deadline) {
    FillAll(result.verdicts, CriterionStatus::kTimeout,
            "deadline passed before grading", input->include_explanations);
  } else {
    const Rubric& rubric = *input->rubric;
    const bool explain = input->include_explanations;
    // Built only when some criterion of this work needs the heuristic.
    std::optional<ResponseIndex> index;
    std::shared_ptr<const RubricProfiles> profiles;
    // What several checks derive from the response (lowercase, word count),
    // computed once for all of them.
    CheckSubject subject(input->response);
    for (size_t k = 0; k < work.criteria.size(); ++k) {
      Verdict& v = result.verdicts[k];
      const uint32_t i = work.criteria[k];
      if (i >= rubric.criteria.size()) {
        v.status = CriterionStatus::kJudgeError;
        v.explanation =
            absl::StrCat("criterion index ", i, " out of range (rubric has ",
                         rubric.criteria.size(), ")");
        continue;
      }
      const Criterion& c = rubric.criteria[i];
      if (c.check != nullptr) {
        absl::StatusOr<CheckResult> r =
            EvaluateCheck(*c.check, subject, explain);
        if (!r.ok()) {
          v.status = CriterionStatus::kJudgeError;
          v.explanation = std::string(r.status().message());
          continue;
        }
        v.status = CriterionStatus::kOk;
        v.met = r->met;
        v.probability = r->met ? 1.0 : 0.0;
        v.explanation = std::move(r->explanation);
        continue;
      }
      if (!index) {
        index.emplace(input->response);
        profiles = profiles_.Get(input->rubric);
      }
      HeuristicResult h =
          EvaluateHeuristic((*profiles)[i], *index, heuristic_, explain);
      v.status = CriterionStatus::kOk;
      v.met = h.met;
      v.probability = h.coverage;
      v.explanation = std::move(h.explanation);
    }
  }
  result.judge_time = absl::Now() - start;
  std::move(done)(std::move(result));
}

}  // namespace rewardd

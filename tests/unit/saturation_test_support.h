// Builds graded groups for the tail-saturation tests: a rubric of
// `criteria` criteria (weight 1 each) and one GradeResult per reward, where
// nullopt is an invalid result (its verdicts a judge error); and a fake
// clock.
#ifndef REWARDD_TESTS_UNIT_SATURATION_TEST_SUPPORT_H_
#define REWARDD_TESTS_UNIT_SATURATION_TEST_SUPPORT_H_

#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "server/grading/grade_observer.h"
#include "server/grading/grader.h"

namespace rewardd::testing {

// A clock that moves only when told (2027-01-15T08:00:00Z at first).
class FakeClock {
 public:
  absl::Time Now() const { return now_; }
  void Advance(absl::Duration d) { now_ += d; }

 private:
  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
};

struct TestGroup {
  std::shared_ptr<GradeInput> base;
  std::vector<GradeResult> results;
  std::string set_version = "setv1";
  std::vector<GradeLabel> labels;

  GradedGroup View() const {
    GradedGroup g;
    g.base = base.get();
    g.set_version = set_version;
    g.labels = labels;
    g.max_possible = 1.0;
    g.results = results;
    return g;
  }
};

inline TestGroup MakeGroup(const std::string& set, const std::string& id,
                           const std::vector<std::optional<double>>& rewards,
                           int criteria = 4) {
  auto rubric = std::make_shared<Rubric>();
  rubric->id = id;
  rubric->prompt = "prompt of " + id;
  rubric->version = "v-" + id;
  for (int c = 0; c < criteria; ++c) {
    Criterion criterion;
    criterion.id = absl::StrCat("c", c);
    criterion.text = absl::StrCat("criterion ", c);
    rubric->criteria.push_back(std::move(criterion));
  }
  TestGroup group;
  group.base = std::make_shared<GradeInput>();
  group.base->rubric = rubric;
  group.base->rubric_set = set;
  group.base->prompt = rubric->prompt;
  for (size_t i = 0; i < rewards.size(); ++i) {
    auto input = std::make_shared<GradeInput>(*group.base);
    input->response = absl::StrCat("response ", i);
    GradeResult r;
    r.input = input;
    r.score.valid = rewards[i].has_value();
    r.score.reward = rewards[i].value_or(0);
    // Verdicts consistent with the reward: the first round(reward * n) met.
    const int met = static_cast<int>(std::lround(r.score.reward * criteria));
    for (int c = 0; c < criteria; ++c) {
      Verdict v;
      v.status =
          r.score.valid ? CriterionStatus::kOk : CriterionStatus::kJudgeError;
      v.met = r.score.valid && c < met;
      r.verdicts.push_back(v);
    }
    group.results.push_back(std::move(r));
  }
  return group;
}

}  // namespace rewardd::testing

#endif  // REWARDD_TESTS_UNIT_SATURATION_TEST_SUPPORT_H_

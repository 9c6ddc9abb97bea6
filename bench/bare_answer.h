// The answer of the bench's do-nothing servers (bare-server,
// bare-cq-server): what rewardd's embedded judge would give if every
// criterion were met, built without any work, so that the difference
// between rewardd and these servers is what rewardd itself costs.
//
//   rewardd::bench::Answer(request, request.request_id(), 20, &response);
//
// Thread-safety: a pure function of its arguments.
#ifndef REWARDD_BENCH_BARE_ANSWER_H_
#define REWARDD_BENCH_BARE_ANSWER_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "reward/v1/reward.pb.h"

namespace rewardd::bench {

// The answer rewardd's embedded judge would give if every criterion were
// met: same fields, same sizes (a probability per criterion, the three
// timings, the judge's name), no work. proto3 leaves out zero values, so the
// timings are small non-zero numbers, as rewardd's are. `criteria`: how many
// criteria to answer for a rubric given by reference.
template <typename Req>
void Answer(const Req& request, const std::string& request_id, int criteria,
            reward::v1::GradeResponse* out) {
  out->set_request_id(request_id);
  out->set_rubric_set(request.rubric_set());
  out->set_rubric_id(request.has_rubric() ? request.rubric().id()
                                          : request.rubric_id());
  out->set_rubric_version("0000000000000000");
  out->set_judge("embedded");
  double total = 0;
  if (request.has_rubric()) {
    for (const reward::v1::Criterion& c : request.rubric().criteria()) {
      reward::v1::CriterionResult* r = out->add_criteria();
      r->set_id(c.id());
      r->set_weight(c.weight());
      r->set_verdict(reward::v1::CriterionResult::MET);
      r->set_status(reward::v1::CriterionResult::OK);
      r->set_probability(1);
      if (c.weight() > 0) total += c.weight();
    }
  } else {
    for (int k = 0; k < criteria; ++k) {
      reward::v1::CriterionResult* r = out->add_criteria();
      r->set_id(absl::StrCat("c", k + 1));
      r->set_weight(1);
      r->set_verdict(reward::v1::CriterionResult::MET);
      r->set_status(reward::v1::CriterionResult::OK);
      r->set_probability(1);
      total += 1;
    }
  }
  out->set_score(total);
  out->set_max_score(total);
  out->set_reward(1);
  out->set_valid(true);
  reward::v1::Timings* t = out->mutable_timings();
  t->set_total_seconds(1e-5);
  t->set_queue_seconds(1e-6);
  t->set_judge_seconds(1e-5);
}

}  // namespace rewardd::bench

#endif  // REWARDD_BENCH_BARE_ANSWER_H_

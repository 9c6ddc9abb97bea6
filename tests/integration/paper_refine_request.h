// The RefineRubric request of the "Chasing the Tail" worked example
// (../shared/data/chasing_the_tail/paper_appendix_example.json, read by
// PaperExampleJson() in judge_test_support.h): its prompt, R1 and R2 as
// candidates, its initial rubric inline, verified by judge "verifier".
//
//   pb::RefineRubricRequest r = PaperRefineRequest(PaperExampleJson(), "p");
//
// Header-only (test support); a pure function.
#ifndef REWARDD_TESTS_INTEGRATION_PAPER_REFINE_REQUEST_H_
#define REWARDD_TESTS_INTEGRATION_PAPER_REFINE_REQUEST_H_

#include <string>

#include "nlohmann/json.hpp"
#include "reward/v1/rubric_service.pb.h"

namespace rewardd {

// `proposer` "" = the server's default proposer.
inline reward::v1::RefineRubricRequest PaperRefineRequest(
    const nlohmann::json& paper, const std::string& proposer) {
  reward::v1::RefineRubricRequest r;
  r.set_prompt(paper["prompt"].get<std::string>());
  for (const char* name : {"R1", "R2"}) {
    reward::v1::CandidateResponse* c = r.add_candidates();
    c->set_text(paper["responses"][name].get<std::string>());
    c->set_source(name);
  }
  reward::v1::Rubric* rubric = r.mutable_rubric();
  rubric->set_id("paper");
  for (const auto& c : paper["initial_rubric"]) {
    reward::v1::Criterion* out = rubric->add_criteria();
    out->set_id(c["local_id"].get<std::string>());
    out->set_text(c["criterion"].get<std::string>());
    out->set_weight(c["weight"].get<double>());
  }
  r.mutable_verifier()->set_judge("verifier");
  r.mutable_proposer()->set_proposer(proposer);
  return r;
}

}  // namespace rewardd

#endif  // REWARDD_TESTS_INTEGRATION_PAPER_REFINE_REQUEST_H_

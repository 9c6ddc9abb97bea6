// What the tests of the HTTP judge path share: the worked example of
// "Chasing the Tail" (../shared/data/chasing_the_tail/) as a Rubric and as
// judge-sim's oracle, a
// judges-config entry for a judge-sim replica, and a waiter for one
// Judge::Grade() answer that also counts its callbacks, so a test can check
// "exactly once".
//
//   const nlohmann::json paper = PaperExampleJson();
//   auto rubric = PaperRubric(paper);  // the refined rubric, id "paper"
//   nlohmann::json oracle = PaperOracle(paper);  // for SimOptions
//   nlohmann::json script = PaperScriptedRefinement(paper);  // proposer
//   JudgeWaiter w;
//   pool->Grade(std::move(work), w.Callback());
//   const JudgeOutcome& o = w.Wait();
//
// Thread-safety: a JudgeWaiter's callback may run on any thread, once or
// (in a failing test) more; Wait()/WaitFor() block the test thread.
#ifndef REWARDD_TESTS_INTEGRATION_JUDGE_TEST_SUPPORT_H_
#define REWARDD_TESTS_INTEGRATION_JUDGE_TEST_SUPPORT_H_

#include <atomic>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "server/judge/judge.h"
#include "server/rubric/rubric.h"

namespace rewardd {

inline nlohmann::json PaperExampleJson() {
  std::ifstream in(std::string(REWARDD_SHARED_DATA) +
                   "/chasing_the_tail/paper_appendix_example.json");
  return nlohmann::json::parse(in);
}

// `which`: "initial_rubric" or "refined_rubric".
inline std::shared_ptr<const Rubric> PaperRubric(
    const nlohmann::json& paper, const std::string& which = "refined_rubric",
    const std::string& id = "paper") {
  auto rubric = std::make_shared<Rubric>();
  rubric->id = id;
  rubric->prompt = paper["prompt"];
  for (const auto& c : paper[which]) {
    Criterion crit;
    crit.id = c["local_id"];
    crit.text = c["criterion"];
    crit.weight = c["weight"];
    rubric->criteria.push_back(crit);
  }
  rubric->version = RubricVersion(*rubric);
  return rubric;
}

// judge-sim's oracle file content for the paper example: the paper's 0/1
// verdicts per response and criterion text, for both rubrics.
inline nlohmann::json PaperOracle(const nlohmann::json& paper) {
  nlohmann::json oracle = {{"responses", paper["responses"]},
                           {"verdicts", nlohmann::json::object()}};
  for (const char* which : {"initial_rubric", "refined_rubric"}) {
    for (const auto& c : paper[which]) {
      for (const char* r : {"R1", "R2"}) {
        oracle["verdicts"][r][c["criterion"].get<std::string>()] = c[r];
      }
    }
  }
  return oracle;
}

// judge-sim's proposer script for the paper example: the refined rubric as
// a proposer would answer it, ids kept for criteria it keeps or rewrites
// (mapped to the initial rubric's ids), none for new ones. Refined ->
// initial: c8 rewrites c9 (and raises its weight), c9 rewrites c7; c10 has
// the text of the initial c8 (matched by text).
inline nlohmann::json PaperScriptedRefinement(const nlohmann::json& paper) {
  const std::map<std::string, std::string> ids = {
      {"c1", "c1"}, {"c2", "c2"}, {"c3", "c3"}, {"c4", "c4"},
      {"c5", "c5"}, {"c6", "c6"}, {"c8", "c9"}, {"c9", "c7"}};
  nlohmann::json rubric = nlohmann::json::array();
  for (const auto& c : paper["refined_rubric"]) {
    nlohmann::json item = {{"criterion", c["criterion"]},
                           {"weight", c["weight"]}};
    auto it = ids.find(c["local_id"].get<std::string>());
    if (it != ids.end()) item["id"] = it->second;
    rubric.push_back(item);
  }
  return {{"proposals",
           {{{"when", {"Current rubric:", "Includes medical disclaimer"}},
             {"rubric", rubric}}}}};
}

// One judge of a judges config served by a judge-sim replica (model
// "judge-sim"), with `extra` fields (mode, logprobs, ...) merged in.
inline nlohmann::json SimJudge(const std::string& name,
                               const std::string& replica,
                               const nlohmann::json& pool,
                               const nlohmann::json& extra = {}) {
  nlohmann::json judge = {{"name", name},
                          {"model", "judge-sim"},
                          {"replicas", nlohmann::json::array({replica})},
                          {"pool", pool}};
  if (extra.is_object()) judge.update(extra);
  return judge;
}

struct JudgeOutcome {
  absl::Status status;
  JudgeResult result;
};

// Keeps the first answer and counts every callback.
class JudgeWaiter {
 public:
  JudgeCallback Callback() {
    return [this](absl::StatusOr<JudgeResult> r) {
      if (calls_.fetch_add(1) > 0) return;
      if (r.ok()) {
        out_.result = *std::move(r);
      } else {
        out_.status = r.status();
      }
      done_.Notify();
    };
  }
  const JudgeOutcome& Wait() {
    done_.WaitForNotification();
    return out_;
  }
  // False when no answer came within `d`.
  bool WaitFor(absl::Duration d) {
    return done_.WaitForNotificationWithTimeout(d);
  }
  const JudgeOutcome& outcome() const { return out_; }
  bool Done() const { return done_.HasBeenNotified(); }
  int calls() const { return calls_.load(); }

 private:
  absl::Notification done_;
  JudgeOutcome out_;
  std::atomic<int> calls_{0};
};

}  // namespace rewardd

#endif  // REWARDD_TESTS_INTEGRATION_JUDGE_TEST_SUPPORT_H_

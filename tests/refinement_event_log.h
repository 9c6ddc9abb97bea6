// Collects the events of one refinement (server/elicitation/rtd_engine.h)
// for a test: every event in order, a wait for the final one, the events of
// one kind, and the order as a string of letters.
//
//   RefinementEventLog log;
//   engine.Refine(std::move(job), proposer, log.Callback());
//   log.Wait();
//   EXPECT_EQ(log.Sequence(), "SPAF");
//
// Thread-safety: the callback may run on any thread; the accessors take a
// lock and copy.
#ifndef REWARDD_TESTS_REFINEMENT_EVENT_LOG_H_
#define REWARDD_TESTS_REFINEMENT_EVENT_LOG_H_

#include <string>
#include <variant>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "server/elicitation/refinement_events.h"

namespace rewardd {

class RefinementEventLog {
 public:
  RefinementEventCallback Callback() {
    return [this](RefinementEvent e) {
      const bool final = std::holds_alternative<FinalRefinementEvent>(e);
      absl::MutexLock lock(&mu_);
      events_.push_back(std::move(e));
      if (final) done_.Notify();
    };
  }
  void Wait() { done_.WaitForNotification(); }
  std::vector<RefinementEvent> all() const {
    absl::MutexLock lock(&mu_);
    return events_;
  }
  template <typename T>
  std::vector<T> Of() const {
    std::vector<T> out;
    for (const RefinementEvent& e : all()) {
      if (const T* t = std::get_if<T>(&e)) out.push_back(*t);
    }
    return out;
  }
  FinalRefinementEvent Final() const {
    return Of<FinalRefinementEvent>().at(0);
  }
  // "S" scores, "P" pair, "A" accepted, "G" generated, "R" rejected, "F".
  std::string Sequence() const {
    std::string s;
    for (const RefinementEvent& e : all()) {
      if (std::holds_alternative<IterationScoresEvent>(e)) s += "S";
      if (std::holds_alternative<PairChosenEvent>(e)) s += "P";
      if (const auto* a = std::get_if<ProposalAcceptedEvent>(&e)) {
        s += a->generated ? "G" : "A";
      }
      if (std::holds_alternative<ProposalRejectedEvent>(e)) s += "R";
      if (std::holds_alternative<FinalRefinementEvent>(e)) s += "F";
    }
    return s;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<RefinementEvent> events_ ABSL_GUARDED_BY(mu_);
  absl::Notification done_;
};

}  // namespace rewardd

#endif  // REWARDD_TESTS_REFINEMENT_EVENT_LOG_H_

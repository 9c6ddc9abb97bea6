// How one rubric version differs from the one before it, criterion by
// criterion, matched by id (ids are stable within a lineage, see
// criterion_ids.h): criteria only in the new version are added, only in the
// old removed; the same id with other text is reworded; the same id with
// another weight is a weight change (a criterion can be both).
//
//   RubricDiff d = DiffRubrics(old_rubric, new_rubric);
//   if (d.empty()) { ... same criteria, same weights ... }
//   std::string line = d.Summary();  // "+2 -1 ~1 w1"
//
// Thread-safety: plain values and a stateless function.
#ifndef REWARDD_SERVER_ELICITATION_RUBRIC_DIFF_H_
#define REWARDD_SERVER_ELICITATION_RUBRIC_DIFF_H_

#include <string>
#include <vector>

#include "server/rubric/rubric.h"

namespace rewardd {

struct RubricDiff {
  struct Reworded {
    std::string id;
    std::string old_text;
    std::string new_text;
  };
  struct WeightChange {
    std::string id;
    double old_weight = 0;
    double new_weight = 0;
  };
  std::vector<Criterion> added;    // in the new rubric's order
  std::vector<Criterion> removed;  // in the old rubric's order
  std::vector<Reworded> reworded;
  std::vector<WeightChange> weight_changes;

  bool empty() const {
    return added.empty() && removed.empty() && reworded.empty() &&
           weight_changes.empty();
  }
  // "+<added> -<removed> ~<reworded> w<weight changes>".
  std::string Summary() const;
};

RubricDiff DiffRubrics(const Rubric& before, const Rubric& after);

}  // namespace rewardd

#endif  // REWARDD_SERVER_ELICITATION_RUBRIC_DIFF_H_

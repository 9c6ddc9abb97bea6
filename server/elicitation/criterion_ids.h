// Criterion ids within one rubric lineage: "c1", "c2", ... An id, once used
// by any version of the lineage, is never given to another criterion later,
// so "c7" means one criterion across every version (a removed criterion's id
// stays retired).
//
//   CriterionIdAllocator ids;
//   ids.Reserve(start_rubric);      // its ids are taken
//   std::string fresh = ids.Next(); // "c<k>", k above every id seen
//
// Thread-safety: not thread-safe; one refinement owns one allocator.
#ifndef REWARDD_SERVER_ELICITATION_CRITERION_IDS_H_
#define REWARDD_SERVER_ELICITATION_CRITERION_IDS_H_

#include <cstdint>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "server/rubric/rubric.h"

namespace rewardd {

class CriterionIdAllocator {
 public:
  // Marks `id` as used. "c<number>" ids also move the counter past them.
  void Reserve(absl::string_view id);
  void Reserve(const Rubric& rubric);
  bool Used(absl::string_view id) const { return used_.contains(id); }
  // A fresh id, reserved.
  std::string Next();

 private:
  absl::flat_hash_set<std::string> used_;
  uint64_t next_ = 1;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_ELICITATION_CRITERION_IDS_H_

#include "server/elicitation/rubric_diff.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

namespace rewardd {

std::string RubricDiff::Summary() const {
  return absl::StrCat("+", added.size(), " -", removed.size(), " ~",
                      reworded.size(), " w", weight_changes.size());
}

RubricDiff DiffRubrics(const Rubric& before, const Rubric& after) {
  RubricDiff d;
  absl::flat_hash_map<absl::string_view, const Criterion*> old_by_id;
  for (const Criterion& c : before.criteria) old_by_id.emplace(c.id, &c);
  absl::flat_hash_map<absl::string_view, bool> in_new;
  for (const Criterion& c : after.criteria) {
    in_new.emplace(c.id, true);
    auto it = old_by_id.find(c.id);
    if (it == old_by_id.end()) {
      d.added.push_back(c);
      continue;
    }
    const Criterion& old = *it->second;
    if (old.text != c.text) d.reworded.push_back({c.id, old.text, c.text});
    if (old.weight != c.weight) {
      d.weight_changes.push_back({c.id, old.weight, c.weight});
    }
  }
  for (const Criterion& c : before.criteria) {
    if (!in_new.contains(c.id)) d.removed.push_back(c);
  }
  return d;
}

}  // namespace rewardd

#include "server/elicitation/criterion_ids.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace rewardd {

void CriterionIdAllocator::Reserve(absl::string_view id) {
  used_.insert(std::string(id));
  uint64_t n = 0;
  if (absl::ConsumePrefix(&id, "c") && absl::SimpleAtoi(id, &n) &&
      n < (uint64_t{1} << 62)) {
    next_ = std::max(next_, n + 1);
  }
}

void CriterionIdAllocator::Reserve(const Rubric& rubric) {
  for (const Criterion& c : rubric.criteria) Reserve(c.id);
}

std::string CriterionIdAllocator::Next() {
  std::string id;
  do {
    id = absl::StrCat("c", next_++);
  } while (used_.contains(id));
  used_.insert(id);
  return id;
}

}  // namespace rewardd

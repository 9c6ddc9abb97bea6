#include "server/elicitation/rubric_lineage.h"

#include <utility>

namespace rewardd {

const RubricVersionInfo& RubricLineage::Add(const Rubric& rubric,
                                            RubricVersionInfo info) {
  info.version = RubricVersion(rubric);
  info.parent_version = entries_.empty() ? "" : entries_.back().version;
  entries_.push_back(std::move(info));
  return entries_.back();
}

}  // namespace rewardd

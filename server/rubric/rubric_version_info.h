// RubricVersionInfo: where one version of a rubric came from (mirrors
// reward.v1.RubricVersionInfo). The refinement engine records one per
// version (server/elicitation/rubric_lineage.h); a rubric file written by
// `reward-cli refine` stores the list as the rubric's "lineage", which the
// loader reads back into Rubric::lineage (docs/rubric-formats.md). Lineage
// is metadata: it never changes grading or RubricVersion().
//
//   RubricVersionInfo info;
//   info.origin = "refined";
//   info.iteration = 1;
//   info.pair = {3, 7};
//
// Thread-safety: a plain value.
#ifndef REWARDD_SERVER_RUBRIC_RUBRIC_VERSION_INFO_H_
#define REWARDD_SERVER_RUBRIC_RUBRIC_VERSION_INFO_H_

#include <cstdint>
#include <string>
#include <vector>

namespace rewardd {

struct RubricVersionInfo {
  std::string version;
  std::string parent_version;  // "" for the first entry
  uint32_t iteration = 0;      // 0 = the starting rubric
  std::string origin;          // "given", "generated", "refined"
  std::string proposer;
  std::string proposer_model;
  std::string template_version;
  std::vector<uint32_t> pair;  // candidate indices; refinements only
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_RUBRIC_RUBRIC_VERSION_INFO_H_

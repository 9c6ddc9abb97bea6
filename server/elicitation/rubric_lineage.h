// The history of one refinement: one entry per rubric version, oldest first
// (the starting rubric, then each accepted proposal), each with its content
// hash (RubricVersion: SHA-256 over the rubric id, criterion ids, texts,
// weights and checks, server/util/sha256.h), its parent's hash, where it
// came from and, for refinements, the pair of candidates the proposer was
// shown. Rejected proposals add nothing: the version in force stays the head.
//
//   RubricLineage lineage;
//   RubricVersionInfo given;
//   given.origin = "given";
//   lineage.Add(start, given);
//   RubricVersionInfo step;
//   step.origin = "refined";
//   step.iteration = 1;
//   step.pair = {3, 7};
//   lineage.Add(refined, step);
//   lineage.head().version == refined.version;  // parent = start's version
//
// Thread-safety: not thread-safe; one refinement owns one lineage.
#ifndef REWARDD_SERVER_ELICITATION_RUBRIC_LINEAGE_H_
#define REWARDD_SERVER_ELICITATION_RUBRIC_LINEAGE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "server/rubric/rubric.h"
#include "server/rubric/rubric_version_info.h"

namespace rewardd {

class RubricLineage {
 public:
  // Appends `rubric` (its version is recomputed, not trusted) with `info`'s
  // provenance; version and parent_version are filled in here.
  const RubricVersionInfo& Add(const Rubric& rubric, RubricVersionInfo info);

  bool empty() const { return entries_.empty(); }
  const RubricVersionInfo& head() const { return entries_.back(); }
  const std::vector<RubricVersionInfo>& entries() const { return entries_; }

 private:
  std::vector<RubricVersionInfo> entries_;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_ELICITATION_RUBRIC_LINEAGE_H_

// The drift baseline file: reward windows per rubric set saved by one run and
// loaded by a later one as its drift reference, so a restarted rewardd (or
// a new training run) keeps comparing against the same distribution instead
// of against whatever its first rewards happen to be.
//
//   DriftBaseline baseline;
//   baseline.sets["medical"] = {0.5, 0.75, ...};
//   absl::Status s =
//       SaveDriftBaseline("/var/lib/rewardd/drift.json", baseline);
//   absl::StatusOr<DriftBaseline> b = LoadDriftBaseline(path);
//
// Format (JSON, one object):
//   {"format": "rewardd-drift-baseline", "version": 1,
//    "saved_at_unix": 1767225600, "source": "reference",
//    "sets": {"medical": [0.5, 0.75, ...], ...}}
//
// Thread-safety: stateless functions; the file is written to a temporary
// name and renamed, so readers never see a half-written file.
#ifndef REWARDD_SERVER_METRICS_DRIFT_BASELINE_H_
#define REWARDD_SERVER_METRICS_DRIFT_BASELINE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace rewardd {

struct DriftBaseline {
  // Which window was saved: "reference" or "window".
  std::string source = "reference";
  int64_t saved_at_unix = 0;
  // Rubric set name -> rewards (finite numbers, at least one per set).
  std::map<std::string, std::vector<double>> sets;
};

// Reads and validates a baseline file. NOT_FOUND when it does not exist;
// INVALID_ARGUMENT (naming the field) when it is malformed.
absl::StatusOr<DriftBaseline> LoadDriftBaseline(const std::string& path);

// Writes `baseline` to `path` atomically (temporary file + rename).
absl::Status SaveDriftBaseline(const std::string& path,
                               const DriftBaseline& baseline);

}  // namespace rewardd

#endif  // REWARDD_SERVER_METRICS_DRIFT_BASELINE_H_

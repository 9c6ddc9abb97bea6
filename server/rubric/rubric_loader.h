// Reads rubric sets from files: the rewardd format and the published formats
// of rubric datasets (Chasing the Tail, HealthBench, BiGGen-Bench), as JSON
// (one array or object) or JSONL (one object a line). docs/rubric-formats.md
// describes every format.
//
//   // "medical.healthbench.jsonl": set "medical", format from the file name.
//   absl::StatusOr<RubricSet> set =
//       LoadRubricFile("rubrics/medical.healthbench.jsonl");
//   if (!set.ok()) {
//     // "medical.healthbench.jsonl line 3 (rubric 'x'): criterion #2:
//     //  points is not a number (got a string \"3\")"
//   }
//   for (const std::string& w : set->warnings) { ... }  // skipped records
//
// Every rubric passes ValidateRubric(), carries RubricVersion() and the set
// is indexed by FinalizeRubricSet(); a file is loaded whole or not at all
// (records are only skipped where a format says so, with a warning).
//
// Thread-safety: the functions are reentrant; they share no state.
#ifndef REWARDD_SERVER_RUBRIC_RUBRIC_LOADER_H_
#define REWARDD_SERVER_RUBRIC_RUBRIC_LOADER_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/rubric/rubric.h"

namespace rewardd {

enum class RubricFormat {
  kAuto,          // from the file-name infix, else from the first record
  kRewardd,       // "rewardd": this server's own format, with checks
  kPaperDataset,  // "paper_dataset": {prompt, rubrics: [{criterion, weight}]}
  kPaperCode,  // "paper_code": {id, criteria: [{criterion, weight, local_id}]}
  kHealthBench,    // "healthbench": {prompt_id, prompt, rubrics: [{criterion,
                   // points, tags}]}
  kBigGenBench,    // "biggen": {id, input, atomic_checklist: [str]}
  kPaperAppendix,  // "paper_appendix": {prompt, initial_rubric, refined_rubric}
};

// "auto", "rewardd", "paper_dataset", "paper_code", "healthbench", "biggen",
// "paper_appendix".
absl::string_view RubricFormatName(RubricFormat format);
// The inverse of RubricFormatName; also accepts "biggen_bench". Returns false
// for an unknown name.
bool ParseRubricFormat(absl::string_view name, RubricFormat* format);

// Bounds that keep one bad or hostile file from exhausting the server.
struct LoadLimits {
  // Largest file read. Parsing holds the file plus its JSON tree (several
  // times the file size) in memory while it loads.
  size_t max_file_bytes = 64 << 20;
  // More criteria than this make one judge prompt unreasonably long; the
  // largest public rubric (HealthBench) has 26.
  size_t max_criteria_per_rubric = 256;
  size_t max_rubrics_per_set = 200000;
};

// Splits "medical.healthbench.jsonl" into set "medical" and format
// kHealthBench; "demo.json" gives set "demo" and kAuto. Any directory part is
// ignored. Fails unless the name ends in .json or .jsonl, when the set name
// is empty, or when the infix (the part before the extension, after the last
// other dot) is not a format name -- set names therefore contain no dot
// before the format infix is stripped: "v1.2.json" is rejected.
absl::Status SplitRubricFileName(absl::string_view file_name,
                                 std::string* set_name, RubricFormat* format);

// Parses `content` (JSON or JSONL) as set `set_name`. `source_name` starts
// every error message (usually the file's base name). kAuto detects the
// format from the first record's keys. RubricSet::source_path is left empty;
// loaded_at_unix is now.
absl::StatusOr<RubricSet> ParseRubricSet(absl::string_view set_name,
                                         absl::string_view content,
                                         RubricFormat format,
                                         absl::string_view source_name,
                                         const LoadLimits& limits = {});

// Reads at most limits.max_file_bytes of `path` (following symlinks); fails
// with RESOURCE_EXHAUSTED when the file is larger, NOT_FOUND / other codes
// when it cannot be read.
absl::StatusOr<std::string> ReadRubricFile(const std::string& path,
                                           const LoadLimits& limits = {});

// ReadRubricFile + SplitRubricFileName + ParseRubricSet. An explicit `format`
// overrides the file-name infix. Sets source_path = path.
absl::StatusOr<RubricSet> LoadRubricFile(
    const std::string& path, RubricFormat format = RubricFormat::kAuto,
    const LoadLimits& limits = {});

}  // namespace rewardd

#endif  // REWARDD_SERVER_RUBRIC_RUBRIC_LOADER_H_

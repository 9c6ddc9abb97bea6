#include "client/cli/tail_dataset_command.h"

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "client/cli/atomic_file_set.h"
#include "client/cli/tail_dataset.h"
#include "client/cli/tail_log_flags.h"

ABSL_FLAG(std::string, refine_out, "",
          "tail-dataset: where the refine input goes (JSONL, one record per "
          "rubric: its tied top responses, the rubric by reference).");
ABSL_FLAG(std::string, groups_out, "",
          "tail-dataset: where the eval groups go (JSONL for eval-rubrics "
          "--groups: one per distinct logged group).");
ABSL_FLAG(int, max_responses_per_rubric, 16,
          "tail-dataset: most tied responses per refine record (newest "
          "first; RefineRubric takes 2-64).");

namespace rewardd::cli {

int RunTailDatasetCommand() {
  constexpr int kExitNothing = 1;
  constexpr int kExitUsage = 2;
  const std::string dir = absl::GetFlag(FLAGS_tail_log_dir);
  const std::string refine_out = absl::GetFlag(FLAGS_refine_out);
  const std::string groups_out = absl::GetFlag(FLAGS_groups_out);
  if (dir.empty() || (refine_out.empty() && groups_out.empty())) {
    std::fprintf(stderr,
                 "reward-cli: tail-dataset needs --tail_log_dir and "
                 "--refine_out and/or --groups_out\n");
    return kExitUsage;
  }
  if (refine_out == groups_out) {
    std::fprintf(stderr,
                 "reward-cli: --refine_out and --groups_out name the same "
                 "file\n");
    return kExitUsage;
  }
  // Refine input and eval groups carry no verdicts: do not hold them.
  TailLogReadOptions read;
  read.verdicts = false;
  absl::StatusOr<TailLog> log = ReadTailLog(dir, read);
  if (!log.ok()) {
    std::fprintf(stderr, "reward-cli: %s\n", log.status().ToString().c_str());
    return kExitUsage;
  }
  std::fprintf(stderr, "reward-cli: %s: %s\n", dir.c_str(),
               DescribeTailLogStats(log->stats).c_str());
  TailDatasetOptions options;
  options.rubric_set = absl::GetFlag(FLAGS_rubric_set);
  options.max_responses_per_rubric =
      absl::GetFlag(FLAGS_max_responses_per_rubric);
  absl::StatusOr<TailDataset> dataset = BuildTailDataset(*log, options);
  if (!dataset.ok()) {
    std::fprintf(stderr, "reward-cli: %s\n",
                 dataset.status().ToString().c_str());
    return kExitUsage;
  }
  if (dataset->stats.groups_used == 0) {
    std::fprintf(stderr,
                 "reward-cli: no saturated_group records of '%s' in %s: "
                 "nothing written\n",
                 dataset->rubric_set.c_str(), dir.c_str());
    return kExitNothing;
  }
  std::vector<std::pair<std::string, std::string>> files;
  if (!refine_out.empty()) {
    files.emplace_back(refine_out, ToJsonl(dataset->refine_records));
  }
  if (!groups_out.empty()) {
    files.emplace_back(groups_out, ToJsonl(dataset->eval_groups));
  }
  if (absl::Status s = WriteFilesAtomically(files); !s.ok()) {
    std::fprintf(stderr, "reward-cli: %s\n", s.ToString().c_str());
    return kExitUsage;
  }
  std::fprintf(stderr, "reward-cli: wrote %s\n",
               DescribeTailDataset(*dataset).c_str());
  return 0;
}

}  // namespace rewardd::cli

#include "client/cli/tail_log_flags.h"

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, tail_log_dir, "",
          "tail-dataset, report: the directory rewardd --tail_log_dir writes "
          "(every tail-*.jsonl in it is read, oldest first).");
ABSL_FLAG(std::string, rubric_set, "",
          "tail-dataset, report, refine --from_tail_log: the rubric set to "
          "take from the tail log (needed when it holds several); "
          "saturated: only this set.");

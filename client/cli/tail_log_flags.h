// Flags shared by the reward-cli commands that read a tail log
// (tail-dataset, report; refine --from_tail_log reads the same directory).
//
//   const std::string dir = absl::GetFlag(FLAGS_tail_log_dir);
//
// Thread-safety: absl flags (read them after parsing).
#ifndef REWARDD_CLIENT_CLI_TAIL_LOG_FLAGS_H_
#define REWARDD_CLIENT_CLI_TAIL_LOG_FLAGS_H_

#include <string>

#include "absl/flags/declare.h"

ABSL_DECLARE_FLAG(std::string, tail_log_dir);
ABSL_DECLARE_FLAG(std::string, rubric_set);

#endif  // REWARDD_CLIENT_CLI_TAIL_LOG_FLAGS_H_

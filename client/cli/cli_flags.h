// Flags that several reward-cli commands share (defined in cli_flags.cc);
// each command defines its own other flags in its file.
//
//   const std::string input = absl::GetFlag(FLAGS_input);
//
// Thread-safety: absl flags; read them from any thread.
#ifndef REWARDD_CLIENT_CLI_CLI_FLAGS_H_
#define REWARDD_CLIENT_CLI_CLI_FLAGS_H_

#include <string>

#include "absl/flags/declare.h"

ABSL_DECLARE_FLAG(std::string, input);
ABSL_DECLARE_FLAG(std::string, output);
ABSL_DECLARE_FLAG(int, concurrency);
ABSL_DECLARE_FLAG(bool, progress);
ABSL_DECLARE_FLAG(bool, quiet);
ABSL_DECLARE_FLAG(bool, json);

namespace rewardd::cli {

// Whether to draw a progress bar: not with --quiet; with --progress, or when
// stderr is a terminal.
bool ShowProgress();

// Prints "reward-cli: <message>" on stderr.
void PrintError(const std::string& message);

}  // namespace rewardd::cli

#endif  // REWARDD_CLIENT_CLI_CLI_FLAGS_H_

// Runs the reward-cli binary as a subprocess for integration tests and
// reads back what it wrote: its exit code, stdout and stderr, and the JSONL
// files it produces.
//
//   CliRun run = RunRewardCli(dir, {"list", "--target=" + server.address()});
//   EXPECT_EQ(run.exit_code, 0) << run.err;
//   std::vector<nlohmann::json> lines = ReadJsonl(dir.path() + "/out.jsonl");
//
// Thread-safety: RunRewardCli writes dir/cli.out and dir/cli.err; calls that
// share a directory must not run at once.
#ifndef REWARDD_TESTS_INTEGRATION_REWARD_CLI_RUN_H_
#define REWARDD_TESTS_INTEGRATION_REWARD_CLI_RUN_H_

#include <sys/wait.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "tests/integration/rewardd_process.h"

namespace rewardd::testing {

// One run of the reward-cli binary: its exit code (-1 when it did not exit
// normally) and what it printed.
struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs reward-cli with `args` and --quiet. No shell quoting: the tests'
// paths and arguments have no spaces or shell characters.
inline CliRun RunRewardCli(const TempDir& dir,
                           const std::vector<std::string>& args) {
  const std::string out = dir.path() + "/cli.out";
  const std::string err = dir.path() + "/cli.err";
  const std::string cmd =
      absl::StrCat(REWARDD_BINARY_DIR, "/client/reward-cli ",
                   absl::StrJoin(args, " "), " --quiet >", out, " 2>", err);
  const int status = std::system(cmd.c_str());
  CliRun run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = ReadFile(out);
  run.err = ReadFile(err);
  return run;
}

// Every line of a JSONL file, parsed (none when the file is absent).
inline std::vector<nlohmann::json> ReadJsonl(const std::string& path) {
  std::vector<nlohmann::json> out;
  for (absl::string_view line :
       absl::StrSplit(ReadFile(path), '\n', absl::SkipEmpty())) {
    out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

}  // namespace rewardd::testing

#endif  // REWARDD_TESTS_INTEGRATION_REWARD_CLI_RUN_H_

// `reward-cli report`: one self-contained HTML page with the tail picture of
// a rubric set (reward distribution, share tied at the top over time, the
// most saturated rubrics) and eval-rubrics results side by side
// (docs/rubric-refinement.md, "The tail report").
//
//   reward-cli report --tail_log_dir=DIR [--rubric_set=S]
//       [--eval old.json --eval new.json] --output=report.html
//
// Thread-safety: run from main() after flags are parsed.
#ifndef REWARDD_CLIENT_CLI_REPORT_COMMAND_H_
#define REWARDD_CLIENT_CLI_REPORT_COMMAND_H_

#include <string>
#include <vector>

namespace rewardd::cli {

// The command's lines in `reward-cli --help`.
inline constexpr char kReportUsage[] =
    R"(  report  One self-contained HTML page with a rubric set's tail picture
          and eval-rubrics results side by side (no server needed):
            reward-cli report --tail_log_dir=DIR [--rubric_set=S] \
                [--eval old.json --eval new.json] --output=report.html
          Exit codes: 0 written; 2 bad usage or a file that cannot be read
          or written.
)";

// Every value of `--name` in `argv` (--name=V, -name=V, --name V),
// comma-separated lists split, up to a "--": absl keeps only the last of a
// repeated flag, and --eval is meant to be repeated.
std::vector<std::string> RepeatedFlagValues(int argc, char** argv,
                                            const std::string& name);

// Exit code: 0 written; 2 bad usage or a file that cannot be read or
// written. `argc`/`argv`: the command line as main() got it.
int RunReportCommand(int argc, char** argv);

}  // namespace rewardd::cli

#endif  // REWARDD_CLIENT_CLI_REPORT_COMMAND_H_

#include "client/cli/grade_command.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "client/cli/cli_flags.h"
#include "client/jsonl_grader.h"
#include "client/progress.h"

ABSL_FLAG(std::string, mode, "unary",
          "grade: unary (one Grade call per line), group (one GradeGroup "
          "call per line) or stream (one GradeStream for all lines; lines "
          "without request_id get \"line-<N>\").");
ABSL_FLAG(bool, summary, false,
          "grade: print a table of rewards per request and totals on "
          "stderr at the end.");
ABSL_FLAG(int, summary_rows, 50, "grade: most rows in the --summary table.");
ABSL_FLAG(bool, ignore_unknown_fields, false,
          "grade: accept JSON fields that are not in the request message "
          "(default: such a line fails, which catches typos).");

namespace rewardd::cli {
namespace {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

// Lines of a regular file, for the progress bar's total; -1 otherwise.
int64_t CountLines(const std::string& path) {
  if (path == "-") return -1;
  std::ifstream f(path);
  if (!f) return -1;
  int64_t n = 0;
  std::string line;
  while (std::getline(f, line)) {
    if (line.find_first_not_of(" \t\r") != std::string::npos) ++n;
  }
  return n;
}

bool ParseMode(const std::string& mode, JsonlGradeOptions::Mode* out) {
  if (mode == "unary") {
    *out = JsonlGradeOptions::Mode::kUnary;
  } else if (mode == "group") {
    *out = JsonlGradeOptions::Mode::kGroup;
  } else if (mode == "stream") {
    *out = JsonlGradeOptions::Mode::kStream;
  } else {
    return false;
  }
  return true;
}

int Grade(CommandContext& context) {
  JsonlGradeOptions options;
  if (!ParseMode(absl::GetFlag(FLAGS_mode), &options.mode)) {
    PrintError("--mode must be unary, group or stream");
    return kExitUsage;
  }
  options.concurrency = absl::GetFlag(FLAGS_concurrency);
  options.ignore_unknown_fields = absl::GetFlag(FLAGS_ignore_unknown_fields);
  options.summary_rows = absl::GetFlag(FLAGS_summary_rows);

  const std::string input = absl::GetFlag(FLAGS_input);
  const std::string output = absl::GetFlag(FLAGS_output);
  std::ifstream in_file;
  if (input != "-") {
    in_file.open(input);
    if (!in_file) {
      PrintError("cannot read " + input);
      return kExitUsage;
    }
  }
  std::ofstream out_file;
  if (output != "-") {
    out_file.open(output, std::ios::trunc);
    if (!out_file) {
      PrintError("cannot write " + output);
      return kExitUsage;
    }
  }
  std::istream& in = input == "-" ? std::cin : in_file;
  std::ostream& out = output == "-" ? std::cout : out_file;

  std::unique_ptr<ProgressBar> progress;
  if (ShowProgress()) {
    progress = std::make_unique<ProgressBar>(CountLines(input));
    options.progress = progress.get();
    progress->Start();
  }
  absl::StatusOr<JsonlGradeStats> stats =
      GradeJsonl(context.client, options, in, out);
  if (progress != nullptr) progress->Stop();
  if (!stats.ok()) {
    PrintError(stats.status().ToString());
    return kExitUsage;
  }
  if (absl::GetFlag(FLAGS_summary)) {
    std::fputs(FormatSummary(*stats).c_str(), stderr);
  } else if (stats->failed > 0) {
    std::fprintf(stderr, "reward-cli: %lld of %lld lines failed\n",
                 static_cast<long long>(stats->failed),
                 static_cast<long long>(stats->lines));
  }
  return stats->failed > 0 ? kExitFailed : 0;
}

}  // namespace

const Command kGradeCommand = {
    "grade",
    R"(  grade   Grade a JSONL file of requests; write one JSON result per line.
            reward-cli grade --target=host:port --input=requests.jsonl \
                --output=results.jsonl [--mode=unary|group|stream] \
                [--concurrency=16] [--summary] [--progress]
          Exit codes: 0 success; 1 some lines failed (parse error, RPC
          error, or an item error on a stream); 2 bad usage or a file that
          cannot be read or written. An invalid reward (valid=false) is a
          result, not a failure.)",
    /*takes_args=*/false, Grade};

}  // namespace rewardd::cli

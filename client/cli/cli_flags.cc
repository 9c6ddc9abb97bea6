#include "client/cli/cli_flags.h"

#include <unistd.h>

#include <cstdio>

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, input, "-",
          "grade: JSONL of requests, one per line ('-' = stdin). Lines are "
          "reward.v1.GradeRequest in proto JSON (GradeGroupRequest with "
          "--mode=group); blank lines are skipped. generate / refine: the "
          "prompts (JSON list or JSONL; see --help).");
ABSL_FLAG(std::string, output, "-",
          "grade: where results go, one JSON per request in input order "
          "('-' = stdout). A failed line gives "
          "{\"line\":N,\"request_id\":...,\"error\":{\"code\":N,"
          "\"message\":...}}. generate / refine: the rubric set file "
          "written (rewardd format, e.g. refined.rewardd.json).");
ABSL_FLAG(int, concurrency, 16,
          "grade: requests in flight at once (stream mode: the stream's "
          "window). Also bounds results buffered to keep input order. "
          "generate / refine / eval-rubrics: calls in flight at once.");
ABSL_FLAG(bool, progress, false,
          "Draw a progress bar on stderr even when stderr is not a "
          "terminal (it is drawn on a terminal anyway, unless --quiet).");
ABSL_FLAG(bool, quiet, false, "No progress bar.");
ABSL_FLAG(bool, json, false,
          "list: print JSON instead of a table. eval-rubrics: `--json F` "
          "writes the results as JSON to F (also --json_out=F).");

namespace rewardd::cli {

bool ShowProgress() {
  return !absl::GetFlag(FLAGS_quiet) &&
         (absl::GetFlag(FLAGS_progress) || isatty(STDERR_FILENO));
}

void PrintError(const std::string& message) {
  std::fprintf(stderr, "reward-cli: %s\n", message.c_str());
}

}  // namespace rewardd::cli

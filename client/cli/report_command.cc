#include "client/cli/report_command.h"

#include <cstdio>
#include <utility>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "client/cli/atomic_file_set.h"
#include "client/cli/eval_rubrics_result.h"
#include "client/cli/tail_log_flags.h"
#include "client/cli/tail_log_reader.h"
#include "client/cli/tail_report_html.h"
#include "client/cli/tail_report_model.h"

ABSL_FLAG(std::vector<std::string>, eval, {},
          "report: an eval-rubrics --json result to show side by side; "
          "repeat it (--eval old.json --eval new.json) or give a comma list.");
// Defined by reward_cli.cc, shared with grade.
ABSL_DECLARE_FLAG(std::string, output);

namespace rewardd::cli {

std::vector<std::string> RepeatedFlagValues(int argc, char** argv,
                                            const std::string& name) {
  std::vector<std::string> raw;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (!absl::ConsumePrefix(&arg, "--")) {
      if (!absl::ConsumePrefix(&arg, "-")) continue;
    }
    if (!absl::ConsumePrefix(&arg, name)) continue;
    if (absl::ConsumePrefix(&arg, "=")) {
      raw.emplace_back(arg);
    } else if (arg.empty() && i + 1 < argc) {
      raw.emplace_back(argv[++i]);
    }
  }
  std::vector<std::string> out;
  for (const std::string& value : raw) {
    for (absl::string_view part :
         absl::StrSplit(value, ',', absl::SkipEmpty())) {
      out.emplace_back(part);
    }
  }
  return out;
}

int RunReportCommand(int argc, char** argv) {
  constexpr int kExitUsage = 2;
  const std::string dir = absl::GetFlag(FLAGS_tail_log_dir);
  const std::string output = absl::GetFlag(FLAGS_output);
  if (dir.empty()) {
    std::fprintf(stderr, "reward-cli: report needs --tail_log_dir\n");
    return kExitUsage;
  }
  std::vector<EvalSetResult> evals;
  for (const std::string& path : RepeatedFlagValues(argc, argv, "eval")) {
    absl::StatusOr<std::vector<EvalSetResult>> sets = ReadEvalRubricsFile(path);
    if (!sets.ok()) {
      std::fprintf(stderr, "reward-cli: %s\n",
                   sets.status().ToString().c_str());
      return kExitUsage;
    }
    for (EvalSetResult& r : *sets) evals.push_back(std::move(r));
  }
  // The page shows no response text or verdict: do not hold them.
  TailLogReadOptions read;
  read.responses = false;
  read.verdicts = false;
  absl::StatusOr<TailLog> log = ReadTailLog(dir, read);
  absl::StatusOr<TailReportModel> model =
      log.ok() ? BuildTailReportModel(*log, absl::GetFlag(FLAGS_rubric_set),
                                      std::move(evals))
               : absl::StatusOr<TailReportModel>(log.status());
  if (!model.ok()) {
    std::fprintf(stderr, "reward-cli: %s\n", model.status().ToString().c_str());
    return kExitUsage;
  }
  const std::string html = RenderTailReportHtml(*model, absl::Now());
  if (output == "-") {
    std::fwrite(html.data(), 1, html.size(), stdout);
    return std::fflush(stdout) == 0 ? 0 : kExitUsage;
  }
  if (absl::Status s = WriteFilesAtomically({{output, html}}); !s.ok()) {
    std::fprintf(stderr, "reward-cli: --output: %s\n", s.ToString().c_str());
    return kExitUsage;
  }
  std::fprintf(stderr, "reward-cli: wrote %s (rubric set '%s'; %s)\n",
               output.c_str(), model->rubric_set.c_str(),
               DescribeTailLogStats(log->stats).c_str());
  return 0;
}

}  // namespace rewardd::cli

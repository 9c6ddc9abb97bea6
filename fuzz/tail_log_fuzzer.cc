// Fuzz target: the tail log reader and what is built from it
// (client/cli/tail_log_reader.h, tail_dataset.h, tail_report_model.h,
// tail_report_html.h). A tail log holds prompts and responses from training
// traffic, and a log cut off by a full disk or written by another version is
// expected, so every input is read line by line as a log. Then, for the
// first rubric set in it, the refine input and eval groups must be well
// formed and the HTML report must hold no markup from the input: no element
// that is not the report's own.
//
//   fuzz/corpus/tail_log/   seeds: records of both kinds, garbage, markup
//   scripts/fuzz.sh 60 tail_log
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "client/cli/tail_dataset.h"
#include "client/cli/tail_log_reader.h"
#include "client/cli/tail_report_html.h"
#include "client/cli/tail_report_model.h"
#include "fuzz/fuzz_check.h"

namespace rewardd::cli {
namespace {

void CheckDataset(const TailDataset& d, int max_responses) {
  FUZZ_CHECK(d.refine_records.size() == d.refine_locations.size());
  for (const nlohmann::json& r : d.refine_records) {
    FUZZ_CHECK(!r["id"].get<std::string>().empty());
    FUZZ_CHECK(r["rubric_id"] == r["id"]);
    FUZZ_CHECK(r["rubric_set"] == d.rubric_set);
    const nlohmann::json& responses = r["responses"];
    FUZZ_CHECK(responses.size() >= 2);
    FUZZ_CHECK(static_cast<int>(responses.size()) <= max_responses);
    std::set<std::string> distinct;
    for (const nlohmann::json& x : responses) {
      distinct.insert(x["response"].get<std::string>());
    }
    FUZZ_CHECK(distinct.size() == responses.size());
  }
  std::set<std::string> ids;
  for (const nlohmann::json& g : d.eval_groups) {
    FUZZ_CHECK(ids.insert(g["id"].get<std::string>()).second);
    FUZZ_CHECK(g["responses"].size() >= 2);
  }
  // One line per record, whatever bytes the texts hold (never a throw).
  const std::string jsonl = ToJsonl(d.eval_groups);
  FUZZ_CHECK(static_cast<size_t>(std::count(jsonl.begin(), jsonl.end(),
                                            '\n')) == d.eval_groups.size());
}

// Every tag in the page is one the renderer writes.
void CheckHtml(const std::string& html) {
  FUZZ_CHECK(!absl::StrContains(html, "<script"));
  FUZZ_CHECK(!absl::StrContains(html, "<img"));
  FUZZ_CHECK(!absl::StrContains(html, "<iframe"));
  static const std::set<std::string>* const kTags = new std::set<std::string>{
      "!DOCTYPE", "html", "head",     "meta",   "style", "title",
      "body",     "h1",   "h2",       "p",      "code",  "section",
      "div",      "b",    "span",     "svg",    "g",     "line",
      "text",     "rect", "polyline", "circle", "table", "tr",
      "th",       "td",   "br",       "ul",     "li"};
  for (absl::string_view part : absl::StrSplit(html, '<')) {
    absl::ConsumePrefix(&part, "/");
    const size_t end = part.find_first_of(" >/\n");
    const std::string tag(part.substr(0, end));
    FUZZ_CHECK(tag.empty() || kTags->count(tag) == 1);
  }
}

}  // namespace
}  // namespace rewardd::cli

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace rewardd::cli;
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  TailLog log;
  int64_t lines = 0;
  for (absl::string_view line : absl::StrSplit(input, '\n')) {
    if (line.find_first_not_of(" \t\r") == absl::string_view::npos) continue;
    ++lines;
    ParseTailLogLine(line, absl::StrCat("f:", lines), &log);
  }
  const TailLogStats& s = log.stats;
  FUZZ_CHECK(s.lines == lines);
  FUZZ_CHECK(s.saturated_groups + s.windows + s.unparsable + s.unknown +
                 s.invalid ==
             lines);
  FUZZ_CHECK(s.problems.size() <= 10);
  if (log.groups.empty() && log.windows.empty()) return 0;
  const std::string set = !log.groups.empty() ? log.groups[0].rubric_set
                                              : log.windows[0].rubric_set;
  FUZZ_CHECK(!set.empty());
  TailDatasetOptions options;
  options.rubric_set = set;
  options.max_responses_per_rubric = 3;
  absl::StatusOr<TailDataset> d = BuildTailDataset(log, options);
  FUZZ_CHECK(d.ok() || set == kInlineRubricSet);
  if (d.ok()) CheckDataset(*d, options.max_responses_per_rubric);
  absl::StatusOr<TailReportModel> m = BuildTailReportModel(log, set, {});
  FUZZ_CHECK(m.ok());
  CheckHtml(RenderTailReportHtml(*m, absl::UnixEpoch()));
  return 0;
}

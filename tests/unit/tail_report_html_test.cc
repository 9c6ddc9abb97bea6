// The HTML tail report's parts: escaping, SVG charts, the model aggregated
// from a tail log, eval-rubrics results and the page
// (client/cli/tail_report_*.h, svg_chart.h, html_escape.h,
// eval_rubrics_result.h). The page as a browser renders it is checked by
// tests/integration/tail_report_test.py in headless Chromium.
#include "client/cli/tail_report_html.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/cli/eval_comparison_html.h"
#include "client/cli/eval_rubrics_result.h"
#include "client/cli/html_escape.h"
#include "client/cli/svg_chart.h"
#include "client/cli/tail_report_model.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rewardd::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kInjection[] =
    "<script>alert('x')</script><img src=x onerror=\"alert(1)\">";

int Count(const std::string& haystack, const std::string& needle) {
  int n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

std::string WindowLine(int minute, int groups, int tied,
                       std::vector<double> edges = {0, 0.5, 1}) {
  nlohmann::json counts = nlohmann::json::array();
  for (size_t i = 0; i + 1 < edges.size(); ++i) counts.push_back(i + 1);
  return nlohmann::json{
      {"schema", kTailLogSchema},
      {"kind", "window"},
      {"time", absl::StrFormat("2026-12-04T10:%02d:00Z", minute)},
      {"rubric_set", "hb"},
      {"set_version", "sv1"},
      {"groups", groups},
      {"zero_variance_groups", 1},
      {"tied_at_max_groups", tied},
      {"responses", groups * 2},
      {"responses_at_max", tied},
      {"reward_histogram", {{"edges", edges}, {"counts", counts}}},
      {"dropped_queue_full", 1}}
      .dump();
}

std::string GroupLine(const std::string& rubric_id, int minute,
                      const std::string& prompt = "Tides?") {
  return nlohmann::json{
      {"schema", kTailLogSchema},
      {"kind", "saturated_group"},
      {"time", absl::StrFormat("2026-12-04T10:%02d:30Z", minute)},
      {"rubric_set", "hb"},
      {"rubric_id", rubric_id},
      {"labels", {{"policy_version", "p1"}}},
      {"prompt", prompt},
      {"group_size", 4},
      {"top_reward", 0.5},
      {"max_possible", 2.0},
      {"tied_at_top", 3},
      {"top", {{{"response", "a"}}, {{"response", "b"}}}}}
      .dump();
}

TailLog LogOf(const std::vector<std::string>& lines) {
  TailLog log;
  for (const std::string& line : lines) ParseTailLogLine(line, "f:1", &log);
  return log;
}

TEST(HtmlEscapeTest, EscapesMarkupAndBrokenUtf8) {
  EXPECT_EQ(HtmlEscape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(HtmlEscape("caf\xC3\xA9 \xFF"), "caf\xC3\xA9 \xEF\xBF\xBD");
  EXPECT_EQ(HtmlEscape(std::string("a\0b", 3)),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(HtmlEscapeShort("\xC3\xA9\xC3\xA9\xC3\xA9", 2),
            "\xC3\xA9\xC3\xA9...");
  EXPECT_EQ(HtmlEscapeShort("<<", 2), "&lt;&lt;");
}

TEST(SvgChartTest, OneBarPerPresentValue) {
  BarChart chart;
  chart.id = "c";
  chart.title = kInjection;
  chart.categories = {"x<1", "x>=1"};
  chart.series = {"old", "new"};
  chart.values = {{1.0, 3.0}, {2.0, std::nullopt}};
  const std::string svg = RenderBarChart(chart);
  EXPECT_EQ(Count(svg, "<rect class=\"bar "), 3);
  EXPECT_EQ(Count(svg, "class=\"bar s1\""), 1);
  EXPECT_THAT(svg, HasSubstr("data-bars=\"3\""));
  EXPECT_THAT(svg, HasSubstr("x&lt;1"));
  EXPECT_THAT(svg, Not(HasSubstr("<script")));
  EXPECT_THAT(svg, Not(HasSubstr("<img")));
}

TEST(SvgChartTest, OnePointPerValueAndALinePerSeries) {
  LineChart chart;
  chart.id = "l";
  chart.series = {{"tied", {{0, 0.1}, {60, 0.5}, {120, 0.9}}},
                  {"zero", {{0, 0.0}, {120, 2.0}}}};  // clamped to the top
  chart.x_max = 120;
  const std::string svg = RenderLineChart(chart);
  EXPECT_EQ(Count(svg, "<circle class=\"point "), 5);
  EXPECT_EQ(Count(svg, "<polyline class=\"line "), 2);
  EXPECT_THAT(svg, HasSubstr("data-points=\"5\""));
}

TEST(TailReportModelTest, AggregatesWindowsAndRanksRubrics) {
  const TailLog log = LogOf(
      {WindowLine(0, 10, 2), WindowLine(1, 20, 10),
       WindowLine(2, 5, 1, {0, 0.25, 0.5, 0.75, 1}),  // other edges
       GroupLine("once", 1), GroupLine("twice", 2), GroupLine("twice", 3)});
  absl::StatusOr<TailReportModel> m = BuildTailReportModel(log, "", {});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->rubric_set, "hb");
  EXPECT_EQ(m->windows, 3);
  EXPECT_EQ(m->groups, 35);
  EXPECT_EQ(m->tied_at_max_groups, 13);
  EXPECT_EQ(m->dropped_queue_full, 3);
  ASSERT_TRUE(m->reward_histogram.has_value());
  EXPECT_EQ(m->reward_histogram->counts, (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(m->histogram_windows_other_edges, 1);
  ASSERT_EQ(m->series.size(), 3u);
  EXPECT_EQ(m->series[1].tied_at_max_groups, 10);
  ASSERT_EQ(m->rubrics.size(), 2u);
  EXPECT_EQ(m->rubrics[0].rubric_id, "twice");
  EXPECT_EQ(m->rubrics[0].groups, 2);
  EXPECT_EQ(m->rubrics[0].max_tied, 3);
  EXPECT_DOUBLE_EQ(m->rubrics[0].mean_top_reward, 0.25);
  EXPECT_EQ(m->rubrics[0].last_seen_text, "2026-12-04T10:03:30Z");
  EXPECT_EQ(m->saturated_groups, 3);
}

TEST(TailReportModelTest, ManyWindowsAreMergedIntoBoundedPoints) {
  std::vector<std::string> lines;
  for (int i = 0; i < 600; ++i) lines.push_back(WindowLine(i % 60, 4, 1));
  absl::StatusOr<TailReportModel> m =
      BuildTailReportModel(LogOf(lines), "", {});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_LE(m->series.size(), kMaxSeriesPoints);
  int64_t groups = 0;
  for (const TailTimePoint& p : m->series) groups += p.groups;
  EXPECT_EQ(groups, 2400);  // nothing lost in the merge
}

TEST(TailReportHtmlTest, UntrustedTextIsEscapedEverywhere) {
  std::string bad_kind =
      nlohmann::json{{"schema", kTailLogSchema}, {"kind", kInjection}}.dump();
  TailLog log = LogOf(
      {WindowLine(0, 10, 2), GroupLine(kInjection, 1, kInjection), bad_kind});
  nlohmann::json eval = {{"schema", kEvalRubricsSchema},
                         {"sets",
                          {{{"rubric_set", kInjection},
                            {"set_version", kInjection},
                            {"accuracy", 0.5}}}}};
  absl::StatusOr<std::vector<EvalSetResult>> evals =
      ParseEvalRubricsJson(eval, kInjection);
  ASSERT_TRUE(evals.ok()) << evals.status();
  absl::StatusOr<TailReportModel> m =
      BuildTailReportModel(log, "", *std::move(evals));
  ASSERT_TRUE(m.ok()) << m.status();
  const std::string html = RenderTailReportHtml(*m, absl::UnixEpoch());
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("<img")));
  EXPECT_THAT(html, Not(HasSubstr("onerror=\"")));
  EXPECT_GE(Count(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"), 4);
  EXPECT_THAT(html, HasSubstr("default-src 'none'"));
}

TEST(TailReportHtmlTest, SectionsAndEmptyStates) {
  absl::StatusOr<TailReportModel> full = BuildTailReportModel(
      LogOf({WindowLine(0, 10, 2), WindowLine(1, 10, 4), GroupLine("r", 0)}),
      "", {});
  ASSERT_TRUE(full.ok());
  const std::string html = RenderTailReportHtml(*full, absl::UnixEpoch());
  for (const char* id : {"summary", "reward-distribution", "reward-histogram",
                         "tied-over-time", "tied-share", "saturated-rubrics",
                         "rubric-table", "eval-comparison", "log-notes"}) {
    EXPECT_THAT(html, HasSubstr(absl::StrCat("id=\"", id, "\""))) << id;
  }
  EXPECT_EQ(Count(html, "<tr class=\"rubric-row\""), 1);
  EXPECT_THAT(html, HasSubstr("No eval-rubrics results given"));
  // Only saturated groups: no charts from windows, said so.
  absl::StatusOr<TailReportModel> groups_only =
      BuildTailReportModel(LogOf({GroupLine("r", 0)}), "hb", {});
  ASSERT_TRUE(groups_only.ok());
  const std::string sparse = RenderTailReportHtml(*groups_only, absl::Now());
  EXPECT_THAT(sparse, HasSubstr("No window records for this set."));
  EXPECT_THAT(sparse, Not(HasSubstr("id=\"reward-histogram\"")));
}

TEST(EvalRubricsResultTest, ReadsSetsAndNamesBadFields) {
  nlohmann::json doc = {{"schema", kEvalRubricsSchema},
                        {"sets",
                         {{{"rubric_set", "old"},
                           {"groups", 10},
                           {"tied_top_groups", 8},
                           {"separated_groups", 2}},
                          {{"rubric_set", "new"},
                           {"set_version", "v2"},
                           {"groups", 10},
                           {"tied_top_groups", 3},
                           {"separated_groups", 7}}}}};
  absl::StatusOr<std::vector<EvalSetResult>> sets =
      ParseEvalRubricsJson(doc, "e.json");
  ASSERT_TRUE(sets.ok()) << sets.status();
  ASSERT_EQ(sets->size(), 2u);
  EXPECT_EQ((*sets)[1].set_version, "v2");
  EXPECT_EQ((*sets)[1].separated_groups, 7);
  EXPECT_FALSE((*sets)[0].accuracy.has_value());  // pairs mode not run
  const std::string section = RenderEvalComparison(*sets);
  EXPECT_THAT(section, HasSubstr("<th class=\"num\">change</th>"));
  EXPECT_THAT(section, HasSubstr("+50.0 pts"));  // separated 20% -> 70%
  EXPECT_THAT(section, Not(HasSubstr("pairwise accuracy")));

  doc["sets"][1]["accuracy"] = "high";
  EXPECT_THAT(ParseEvalRubricsJson(doc, "e.json").status().message(),
              HasSubstr("--eval e.json: sets[1].accuracy: not a number"));
  doc["schema"] = "something.else";
  EXPECT_THAT(ParseEvalRubricsJson(doc, "e.json").status().message(),
              HasSubstr("--eval e.json: schema: expected"));
  EXPECT_EQ(ReadEvalRubricsFile("/nonexistent/e.json").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace rewardd::cli

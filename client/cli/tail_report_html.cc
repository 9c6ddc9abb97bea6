#include "client/cli/tail_report_html.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/cli/eval_comparison_html.h"
#include "client/cli/html_escape.h"
#include "client/cli/svg_chart.h"

namespace rewardd::cli {
namespace {

// No script may run and nothing may be fetched: the page is read offline,
// and a prompt that slipped past escaping still could not execute.
constexpr char kHead[] = R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:sans-serif;margin:24px auto;max-width:1040px;color:#222;background:#fff}
h1{font-size:22px;margin-bottom:4px} h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
.sub{color:#666;font-size:13px} .tiles{display:flex;flex-wrap:wrap;gap:10px}
.tile{border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:130px}
.tile b{display:block;font-size:20px} .tile span{font-size:12px;color:#555}
table{border-collapse:collapse;font-size:13px;width:100%}
td,th{border-bottom:1px solid #eee;padding:4px 6px;text-align:left;vertical-align:top}
td.num,th.num{text-align:right;white-space:nowrap} .prompt{color:#444;max-width:420px;overflow-wrap:anywhere}
.hbar{display:inline-block;height:10px;background:#ff725c;vertical-align:middle}
.empty{color:#888;font-style:italic} svg.chart{display:block;margin:8px 0}
code{font-size:12px} h1 code{font-size:inherit}
</style>
)";

std::string Pct(int64_t part, int64_t whole) {
  return whole > 0 ? absl::StrFormat("%.1f%%", 100.0 * part / whole) : "-";
}

std::string TimeText(absl::Time t) {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", t, absl::UTCTimeZone());
}

std::string Tile(absl::string_view value, absl::string_view label) {
  return absl::StrCat("<div class=\"tile\"><b>", HtmlEscape(value),
                      "</b><span>", HtmlEscape(label), "</span></div>");
}

std::string Summary(const TailReportModel& m) {
  std::string out = "<section id=\"summary\"><div class=\"tiles\">";
  absl::StrAppend(
      &out, Tile(absl::StrCat(m.groups), "groups graded (windows)"),
      Tile(Pct(m.tied_at_max_groups, m.groups), "groups tied at the max"),
      Tile(Pct(m.zero_variance_groups, m.groups), "zero-variance groups"),
      Tile(Pct(m.responses_at_max, m.responses), "responses at the max"),
      Tile(absl::StrCat(m.saturated_groups), "saturated groups logged"),
      Tile(absl::StrCat(m.rubrics.size()), "rubrics saturated"),
      Tile(absl::StrCat(m.dropped_rate_limited + m.dropped_queue_full),
           "samples dropped (rate limit, queue)"));
  return out + "</div></section>";
}

BarChart HistogramChart(const std::string& id, const std::string& title,
                        const TailHistogram& h) {
  BarChart chart;
  chart.id = id;
  chart.title = title;
  chart.series = {"count"};
  chart.values.emplace_back();
  for (size_t i = 0; i < h.counts.size(); ++i) {
    chart.categories.push_back(
        absl::StrFormat("%.3g-%.3g", h.edges[i], h.edges[i + 1]));
    chart.values[0].push_back(static_cast<double>(h.counts[i]));
  }
  return chart;
}

std::string Distribution(const TailReportModel& m) {
  std::string out =
      "<section id=\"reward-distribution\"><h2>Reward distribution of graded "
      "groups</h2>";
  if (!m.reward_histogram.has_value()) {
    return out +
           "<p class=\"empty\">No window record of this set carries a "
           "reward histogram.</p></section>";
  }
  absl::StrAppend(
      &out,
      "<p class=\"sub\">Rewards of every graded response, summed over the "
      "window records. A pile-up in the top bin is the tail the rubric no "
      "longer separates.</p>",
      RenderBarChart(HistogramChart("reward-histogram", "Reward histogram",
                                    *m.reward_histogram)));
  if (m.top2_gap_histogram.has_value()) {
    absl::StrAppend(
        &out,
        "<p class=\"sub\">Gap between the two best rewards of each group: "
        "groups in the first bin did not tell their best responses "
        "apart.</p>",
        RenderBarChart(HistogramChart("top2-gap-histogram",
                                      "Top-two reward gap histogram",
                                      *m.top2_gap_histogram)));
  }
  if (m.histogram_windows_other_edges > 0) {
    absl::StrAppend(&out, "<p class=\"sub\">", m.histogram_windows_other_edges,
                    " windows had other bin edges and are not summed.</p>");
  }
  return out + "</section>";
}

LineSeries ShareSeries(const TailReportModel& m, const std::string& name,
                       int64_t TailTimePoint::*part,
                       int64_t TailTimePoint::*whole) {
  LineSeries s;
  s.name = name;
  for (const TailTimePoint& p : m.series) {
    if (p.*whole <= 0) continue;
    s.points.emplace_back(absl::ToDoubleSeconds(p.time - m.series[0].time),
                          static_cast<double>(p.*part) / (p.*whole));
  }
  return s;
}

std::string OverTime(const TailReportModel& m) {
  std::string out =
      "<section id=\"tied-over-time\"><h2>Share tied at the top over "
      "time</h2>";
  if (m.series.empty()) {
    return out +
           "<p class=\"empty\">No window records for this set.</p>"
           "</section>";
  }
  LineChart chart;
  chart.id = "tied-share";
  chart.title = "Share of groups tied at the top";
  chart.series = {
      ShareSeries(m, "groups tied at the max",
                  &TailTimePoint::tied_at_max_groups, &TailTimePoint::groups),
      ShareSeries(m, "zero-variance groups",
                  &TailTimePoint::zero_variance_groups, &TailTimePoint::groups),
      ShareSeries(m, "responses at the max", &TailTimePoint::responses_at_max,
                  &TailTimePoint::responses)};
  chart.x_max = absl::ToDoubleSeconds(m.series.back().time - m.series[0].time);
  chart.x_min_label = TimeText(m.series[0].time);
  chart.x_max_label = TimeText(m.series.back().time);
  absl::StrAppend(
      &out, "<p class=\"sub\">One point per window record (", m.windows,
      " windows",
      static_cast<int64_t>(m.series.size()) < m.windows
          ? absl::StrCat(", merged into ", m.series.size(), " points")
          : std::string(),
      ").</p>", RenderLineChart(chart));
  return out + "</section>";
}

std::string RubricRow(const RubricSaturation& r, int64_t most) {
  const double width = most > 0 ? 120.0 * r.groups / most : 0;
  std::vector<std::string> policies(r.policy_versions.begin(),
                                    r.policy_versions.end());
  return absl::StrFormat(
      "<tr class=\"rubric-row\"><td><code>%s</code></td><td class=\"num\">"
      "%d <span class=\"hbar\" style=\"width:%.0fpx\"></span></td>"
      "<td class=\"num\">%d</td><td class=\"num\">%d</td><td class=\"num\">"
      "%.1f%%</td><td>%s</td><td>%s</td><td class=\"prompt\">%s</td></tr>",
      HtmlEscape(r.rubric_id), r.groups, width, r.zero_variance, r.max_tied,
      100 * r.mean_top_reward, HtmlEscape(r.last_seen_text),
      HtmlEscapeShort(absl::StrJoin(policies, ", "), 80),
      HtmlEscapeShort(r.prompt, 240));
}

std::string Rubrics(const TailReportModel& m) {
  std::string out =
      "<section id=\"saturated-rubrics\"><h2>Most saturated rubrics</h2>";
  if (m.rubrics.empty()) {
    return out +
           "<p class=\"empty\">No saturated_group records for this "
           "set.</p></section>";
  }
  absl::StrAppend(
      &out, "<p class=\"sub\">From the sampled saturated_group records (",
      m.saturated_groups,
      " groups). Refine these first: <code>reward-cli tail-dataset</code> "
      "turns their tied responses into a refinement dataset.</p>"
      "<table id=\"rubric-table\"><tr><th>rubric</th><th class=\"num\">"
      "groups</th><th class=\"num\">zero var.</th><th class=\"num\">most "
      "tied</th><th class=\"num\">mean top</th><th>last seen</th><th>policy "
      "versions</th><th>prompt (newest)</th></tr>");
  const size_t n = std::min(m.rubrics.size(), kReportMaxRubrics);
  for (size_t i = 0; i < n; ++i) {
    absl::StrAppend(&out, RubricRow(m.rubrics[i], m.rubrics[0].groups));
  }
  absl::StrAppend(&out, "</table>");
  if (m.rubrics.size() > n) {
    absl::StrAppend(&out, "<p class=\"sub\">", m.rubrics.size() - n,
                    " more rubrics not shown.</p>");
  }
  return out + "</section>";
}

std::string LogNotes(const TailReportModel& m) {
  std::string out = absl::StrCat(
      "<section id=\"log-notes\"><h2>About this report</h2><p class=\"sub\">",
      HtmlEscape(DescribeTailLogStats(m.log_stats)), ".</p>");
  if (!m.log_stats.problems.empty()) {
    absl::StrAppend(&out, "<ul class=\"sub\">");
    for (const std::string& p : m.log_stats.problems) {
      absl::StrAppend(&out, "<li>", HtmlEscapeShort(p, 300), "</li>");
    }
    absl::StrAppend(&out, "</ul>");
  }
  return out + "</section>";
}

}  // namespace

std::string RenderTailReportHtml(const TailReportModel& m,
                                 absl::Time generated_at) {
  std::vector<std::string> versions(m.set_versions.begin(),
                                    m.set_versions.end());
  return absl::StrCat(
      kHead, "<title>Tail report: ", HtmlEscape(m.rubric_set),
      "</title></head><body><h1>Tail report: rubric set <code>",
      HtmlEscape(m.rubric_set), "</code></h1><p class=\"sub\">",
      "set versions: ", HtmlEscapeShort(absl::StrJoin(versions, ", "), 200),
      " &middot; ", HtmlEscape(TimeText(m.first)), " to ",
      HtmlEscape(TimeText(m.last)), " &middot; generated ",
      HtmlEscape(TimeText(generated_at)), " by reward-cli report</p>",
      Summary(m), Distribution(m), OverTime(m), Rubrics(m),
      RenderEvalComparison(m.evals), LogNotes(m), "</body></html>\n");
}

}  // namespace rewardd::cli

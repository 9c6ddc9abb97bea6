#include "client/cli/eval_comparison_html.h"

#include <functional>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/cli/html_escape.h"
#include "client/cli/svg_chart.h"

namespace rewardd::cli {
namespace {

// One row of the table: a label, how to read it from a set, whether it is
// a share in [0, 1].
struct Metric {
  const char* label;
  std::function<std::optional<double>(const EvalSetResult&)> get;
  bool rate;
};

std::optional<double> Share(const std::optional<double>& part,
                            const std::optional<double>& whole) {
  if (!part.has_value() || !whole.has_value() || *whole <= 0) {
    return std::nullopt;
  }
  return *part / *whole;
}

const std::vector<Metric>& Metrics() {
  static const auto* metrics = new std::vector<Metric>{
      {"preference pairs", [](const EvalSetResult& r) { return r.pairs; },
       false},
      {"pairwise accuracy", [](const EvalSetResult& r) { return r.accuracy; },
       true},
      {"tie rate", [](const EvalSetResult& r) { return r.tie_rate; }, true},
      {"top-quartile pairs",
       [](const EvalSetResult& r) { return r.top_quartile_pairs; }, false},
      {"top-quartile accuracy",
       [](const EvalSetResult& r) { return r.top_quartile_accuracy; }, true},
      {"groups", [](const EvalSetResult& r) { return r.groups; }, false},
      {"groups tied at the top",
       [](const EvalSetResult& r) {
         return Share(r.tied_top_groups, r.groups);
       },
       true},
      {"groups separated (unique top)",
       [](const EvalSetResult& r) {
         return Share(r.separated_groups, r.groups);
       },
       true},
      {"zero-variance groups",
       [](const EvalSetResult& r) {
         return Share(r.zero_variance_groups, r.groups);
       },
       true},
      {"errors", [](const EvalSetResult& r) { return r.errors; }, false}};
  return *metrics;
}

std::string Cell(const std::optional<double>& v, bool rate) {
  if (!v.has_value()) return "<td class=\"num\">-</td>";
  return rate ? absl::StrFormat("<td class=\"num\">%.1f%%</td>", 100 * *v)
              : absl::StrFormat("<td class=\"num\">%.6g</td>", *v);
}

std::string ChangeCell(const std::optional<double>& a,
                       const std::optional<double>& b, bool rate) {
  if (!a.has_value() || !b.has_value()) return "<td class=\"num\">-</td>";
  const double d = *b - *a;
  return rate ? absl::StrFormat("<td class=\"num\">%+.1f pts</td>", 100 * d)
              : absl::StrFormat("<td class=\"num\">%+.6g</td>", d);
}

std::string SetLabel(const EvalSetResult& r) {
  return r.set_version.empty()
             ? r.rubric_set
             : absl::StrCat(r.rubric_set, " @ ", r.set_version);
}

std::string Table(const std::vector<EvalSetResult>& sets, BarChart& chart) {
  const bool change = sets.size() == 2;
  std::string out = "<table id=\"eval-table\"><tr><th>metric</th>";
  for (const EvalSetResult& r : sets) {
    absl::StrAppend(&out, "<th class=\"num\">", HtmlEscape(SetLabel(r)),
                    "<br><span class=\"sub\">", HtmlEscapeShort(r.source, 60),
                    "</span></th>");
    chart.series.push_back(SetLabel(r));
    chart.values.emplace_back();
  }
  absl::StrAppend(&out, change ? "<th class=\"num\">change</th>" : "", "</tr>");
  for (const Metric& metric : Metrics()) {
    bool any = false;
    for (const EvalSetResult& r : sets) any = any || metric.get(r).has_value();
    if (!any) continue;
    absl::StrAppend(&out, "<tr class=\"eval-row\"><td>", metric.label, "</td>");
    if (metric.rate) chart.categories.push_back(metric.label);
    for (size_t i = 0; i < sets.size(); ++i) {
      absl::StrAppend(&out, Cell(metric.get(sets[i]), metric.rate));
      if (metric.rate) chart.values[i].push_back(metric.get(sets[i]));
    }
    if (change) {
      absl::StrAppend(&out, ChangeCell(metric.get(sets[0]), metric.get(sets[1]),
                                       metric.rate));
    }
    absl::StrAppend(&out, "</tr>");
  }
  return out + "</table>";
}

}  // namespace

std::string RenderEvalComparison(const std::vector<EvalSetResult>& sets) {
  std::string out =
      "<section id=\"eval-comparison\"><h2>Rubric set versions side by "
      "side (eval-rubrics)</h2>";
  if (sets.empty()) {
    return out +
           "<p class=\"empty\">No eval-rubrics results given (--eval "
           "old.json --eval new.json).</p></section>";
  }
  BarChart chart;
  chart.id = "eval-chart";
  chart.title = "eval-rubrics rates by rubric set version";
  chart.y_max = 1;
  chart.percent = true;
  absl::StrAppend(&out, Table(sets, chart));
  if (!chart.categories.empty()) absl::StrAppend(&out, RenderBarChart(chart));
  return out + "</section>";
}

}  // namespace rewardd::cli

// Inline SVG charts for the self-contained HTML report (`reward-cli
// report`): grouped bar charts and line charts, drawn as plain SVG elements
// so the page needs no script, font or image from anywhere. Every text given
// here is escaped; ids are used as given (pass fixed ASCII ids).
//
// The elements carry classes a test (or a stylesheet) can count on:
//   <svg id=ID class="chart" data-bars=N | data-points=N>
//   bars:   <rect class="bar s<series>" data-value=V>  one per present value
//   lines:  <polyline class="line s<series>">, <circle class="point s<series>">
//
//   BarChart h;
//   h.id = "reward-histogram";
//   h.categories = {"0-0.5", "0.5-1"};
//   h.values = {{3, 7}};
//   absl::StrAppend(&html, RenderBarChart(h));
//
// Thread-safety: stateless functions.
#ifndef REWARDD_CLIENT_CLI_SVG_CHART_H_
#define REWARDD_CLIENT_CLI_SVG_CHART_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rewardd::cli {

struct BarChart {
  std::string id;
  std::string title;                    // the chart's accessible name
  std::vector<std::string> categories;  // x-axis labels
  std::vector<std::string> series;      // a legend when more than one
  // values[s][c]: series s in category c; nullopt draws no bar.
  std::vector<std::vector<std::optional<double>>> values;
  double y_max = 0;      // 0: the largest value
  bool percent = false;  // values are shares in [0, 1], shown as %
  int width = 960;
  int height = 300;
};

struct LineSeries {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y), x ascending
};

struct LineChart {
  std::string id;
  std::string title;
  std::vector<LineSeries> series;
  double x_min = 0;
  double x_max = 1;
  std::string x_min_label;  // under the left and right ends of the x axis
  std::string x_max_label;
  double y_max = 1;
  bool percent = true;
  int width = 960;
  int height = 300;
};

std::string RenderBarChart(const BarChart& chart);
std::string RenderLineChart(const LineChart& chart);

}  // namespace rewardd::cli

#endif  // REWARDD_CLIENT_CLI_SVG_CHART_H_

#include "client/cli/svg_chart.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/cli/html_escape.h"

namespace rewardd::cli {
namespace {

constexpr const char* kPalette[] = {"#4269d0", "#ef8a3c", "#3ca951",
                                    "#ff725c", "#6cc5b0", "#a463f2"};
constexpr int kLeft = 56;
constexpr int kRight = 16;
constexpr int kBottom = 44;

const char* Color(size_t series) {
  return kPalette[series % (sizeof(kPalette) / sizeof(kPalette[0]))];
}

std::string FormatValue(double v, bool percent) {
  return percent ? absl::StrFormat("%.1f%%", 100 * v)
                 : absl::StrFormat("%.4g", v);
}

// The plot area: where values are drawn, inside the axes.
struct Frame {
  int width, height, top;
  double plot_w() const { return width - kLeft - kRight; }
  double plot_h() const { return height - top - kBottom; }
  double Y(double v, double y_max) const {
    const double share = y_max > 0 ? std::clamp(v / y_max, 0.0, 1.0) : 0;
    return top + plot_h() * (1 - share);
  }
};

std::string OpenSvg(const std::string& id, const std::string& title,
                    const Frame& f, absl::string_view count_attr, size_t n) {
  return absl::StrFormat(
      "<svg id=\"%s\" class=\"chart\" %s=\"%d\" role=\"img\" "
      "aria-label=\"%s\" xmlns=\"http://www.w3.org/2000/svg\" "
      "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\">"
      "<title>%s</title>",
      HtmlEscape(id), count_attr, n, HtmlEscape(title), f.width, f.height,
      f.width, f.height, HtmlEscape(title));
}

// Horizontal grid lines with y labels at 0, 25, ..., 100% of y_max.
std::string Grid(const Frame& f, double y_max, bool percent) {
  std::string out = "<g class=\"grid\">";
  for (int i = 0; i <= 4; ++i) {
    const double v = y_max * i / 4;
    const double y = f.Y(v, y_max);
    absl::StrAppendFormat(
        &out,
        "<line x1=\"%d\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
        "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\" "
        "fill=\"#555\">%s</text>",
        kLeft, kLeft + f.plot_w(), y, y, kLeft - 6, y + 4,
        HtmlEscape(FormatValue(v, percent)));
  }
  absl::StrAppendFormat(&out,
                        "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%.1f\" "
                        "stroke=\"#888\"/></g>",
                        kLeft, kLeft, f.top, f.top + f.plot_h());
  return out;
}

std::string Legend(const std::vector<std::string>& names) {
  if (names.size() < 2) return "";
  std::string out = "<g class=\"legend\">";
  double x = kLeft;
  for (size_t s = 0; s < names.size(); ++s) {
    absl::StrAppendFormat(
        &out,
        "<rect x=\"%.0f\" y=\"4\" width=\"12\" height=\"12\" fill=\"%s\"/>"
        "<text x=\"%.0f\" y=\"14\" font-size=\"12\">%s</text>",
        x, Color(s), x + 16, HtmlEscapeShort(names[s], 60));
    x += 28 + 7.0 * std::min<size_t>(names[s].size(), 60);
  }
  return out + "</g>";
}

// The smallest 1, 2, 2.5 or 5 times a power of ten at or above `v`, so the
// grid lines fall on round numbers.
double NiceCeiling(double v) {
  if (v <= 0) return 1;
  const double magnitude = std::pow(10, std::floor(std::log10(v)));
  for (double step : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (step * magnitude >= v * (1 - 1e-9)) return step * magnitude;
  }
  return 10 * magnitude;
}

double LargestValue(const BarChart& chart) {
  double largest = 0;
  for (const auto& series : chart.values) {
    for (const std::optional<double>& v : series) {
      if (v.has_value()) largest = std::max(largest, *v);
    }
  }
  return largest;
}

}  // namespace

std::string RenderBarChart(const BarChart& chart) {
  const Frame f{chart.width, chart.height, chart.series.size() > 1 ? 28 : 12};
  const double y_max =
      chart.y_max > 0 ? chart.y_max : NiceCeiling(LargestValue(chart));
  const size_t n_cat = std::max<size_t>(chart.categories.size(), 1);
  const size_t n_series = std::max<size_t>(chart.values.size(), 1);
  const double band = f.plot_w() / n_cat;
  const double bar_w = band * 0.8 / n_series;
  std::string bars;
  size_t n_bars = 0;
  for (size_t s = 0; s < chart.values.size(); ++s) {
    for (size_t c = 0;
         c < chart.values[s].size() && c < chart.categories.size(); ++c) {
      const std::optional<double>& v = chart.values[s][c];
      if (!v.has_value()) continue;
      ++n_bars;
      const double y = f.Y(*v, y_max);
      // A non-zero value stays visible however small.
      const double h = std::max(f.top + f.plot_h() - y, *v > 0 ? 1.0 : 0.0);
      const std::string series =
          s < chart.series.size() ? chart.series[s] + ": " : "";
      absl::StrAppendFormat(
          &bars,
          "<rect class=\"bar s%d\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
          "height=\"%.1f\" fill=\"%s\" data-value=\"%.6g\"><title>%s%s: "
          "%s</title></rect>",
          s, kLeft + c * band + band * 0.1 + s * bar_w, f.top + f.plot_h() - h,
          bar_w, h, Color(s), *v, HtmlEscape(series),
          HtmlEscape(chart.categories[c]),
          HtmlEscape(FormatValue(*v, chart.percent)));
    }
  }
  std::string labels = "<g class=\"x-labels\">";
  const size_t step = (chart.categories.size() + 11) / 12;  // at most 12
  for (size_t c = 0; c < chart.categories.size();
       c += std::max<size_t>(step, 1)) {
    absl::StrAppendFormat(&labels,
                          "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                          "font-size=\"11\">%s</text>",
                          kLeft + (c + 0.5) * band, f.top + f.plot_h() + 16,
                          HtmlEscapeShort(chart.categories[c], 24));
  }
  labels += "</g>";
  return absl::StrCat(OpenSvg(chart.id, chart.title, f, "data-bars", n_bars),
                      Legend(chart.series), Grid(f, y_max, chart.percent), bars,
                      labels, "</svg>");
}

std::string RenderLineChart(const LineChart& chart) {
  const Frame f{chart.width, chart.height, chart.series.size() > 1 ? 28 : 12};
  const double y_max = chart.y_max > 0 ? chart.y_max : 1;
  const double span = chart.x_max - chart.x_min;
  auto x_px = [&](double x) {
    return kLeft + (span > 0 ? (x - chart.x_min) / span : 0.5) * f.plot_w();
  };
  std::string body;
  size_t n_points = 0;
  std::vector<std::string> names;
  for (size_t s = 0; s < chart.series.size(); ++s) {
    const LineSeries& series = chart.series[s];
    names.push_back(series.name);
    std::string polyline, points;
    for (const auto& [x, y] : series.points) {
      ++n_points;
      absl::StrAppendFormat(&polyline, "%.1f,%.1f ", x_px(x), f.Y(y, y_max));
      absl::StrAppendFormat(
          &points,
          "<circle class=\"point s%d\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\" "
          "fill=\"%s\" data-value=\"%.6g\"><title>%s: %s</title></circle>",
          s, x_px(x), f.Y(y, y_max), Color(s), y, HtmlEscape(series.name),
          HtmlEscape(FormatValue(y, chart.percent)));
    }
    absl::StrAppendFormat(&body,
                          "<polyline class=\"line s%d\" fill=\"none\" "
                          "stroke=\"%s\" stroke-width=\"2\" points=\"%s\"/>%s",
                          s, Color(s), polyline, points);
  }
  const double axis_y = f.top + f.plot_h();
  const std::string axis = absl::StrFormat(
      "<g class=\"x-labels\"><line x1=\"%d\" x2=\"%.1f\" y1=\"%.1f\" "
      "y2=\"%.1f\" stroke=\"#888\"/><text x=\"%d\" y=\"%.1f\" "
      "font-size=\"11\">%s</text><text x=\"%.1f\" y=\"%.1f\" "
      "text-anchor=\"end\" font-size=\"11\">%s</text></g>",
      kLeft, kLeft + f.plot_w(), axis_y, axis_y, kLeft, axis_y + 16,
      HtmlEscape(chart.x_min_label), kLeft + f.plot_w(), axis_y + 16,
      HtmlEscape(chart.x_max_label));
  return absl::StrCat(
      OpenSvg(chart.id, chart.title, f, "data-points", n_points), Legend(names),
      Grid(f, y_max, chart.percent), body, axis, "</svg>");
}

}  // namespace rewardd::cli

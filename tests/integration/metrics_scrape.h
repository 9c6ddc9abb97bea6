// One scrape of a rewardd /metrics endpoint (Prometheus text format) for
// integration tests, and the value of one series in it.
//
//   Scrape m = ScrapeMetrics(metrics_port);   // GET 127.0.0.1:<port>/metrics
//   double ok = m.Value("rewardd_judge_calls_total",
//                       {{"judge", "gpt"}, {"outcome", "ok"}});
//
// Header-only (test support). Thread-safety: a Scrape is an immutable copy.
#ifndef REWARDD_TESTS_INTEGRATION_METRICS_SCRAPE_H_
#define REWARDD_TESTS_INTEGRATION_METRICS_SCRAPE_H_

#include <algorithm>
#include <map>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "httplib.h"

namespace rewardd {
namespace testing {

class Scrape {
 public:
  explicit Scrape(const std::string& body) : body_(body) {}

  // The value of the one series named `name` that carries every label of
  // `labels`; -1 (and a test failure) when none or several match.
  double Value(const std::string& name,
               const std::map<std::string, std::string>& labels) const {
    double value = -1;
    int matches = 0;
    for (absl::string_view line : absl::StrSplit(body_, '\n')) {
      if (line.empty() || line[0] == '#') continue;
      const size_t brace = line.find('{');
      const size_t space = line.rfind(' ');
      if (space == absl::string_view::npos) continue;
      const absl::string_view series_name =
          line.substr(0, std::min(brace, space));
      if (series_name != name) continue;
      const absl::string_view series = line.substr(0, space);
      bool all = true;
      for (const auto& [k, v] : labels) {
        all = all && absl::StrContains(series, absl::StrCat(k, "=\"", v, "\""));
      }
      if (!all) continue;
      ++matches;
      if (!absl::SimpleAtod(line.substr(space + 1), &value)) value = -1;
    }
    EXPECT_EQ(matches, 1) << name << " matched " << matches << " series";
    return matches == 1 ? value : -1;
  }

  const std::string& body() const { return body_; }

 private:
  std::string body_;
};

// GET http://127.0.0.1:<port>/metrics; an empty Scrape (and a test
// failure) when it fails.
inline Scrape ScrapeMetrics(int port) {
  httplib::Client http("127.0.0.1", port);
  auto res = http.Get("/metrics");
  EXPECT_TRUE(res);
  if (!res) return Scrape("");
  EXPECT_EQ(res->status, 200);
  return Scrape(res->body);
}

}  // namespace testing
}  // namespace rewardd

#endif  // REWARDD_TESTS_INTEGRATION_METRICS_SCRAPE_H_

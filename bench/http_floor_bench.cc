// http-floor-bench: the CPU that rewardd's HTTP path costs with nothing of
// rewardd around it. It keeps --in_flight calls running against a judge (for
// bench scenarios 2 and 9: the same judge-sim) through CurlMultiLoop alone,
// with a per_criterion-shaped body of --body_bytes (or an all_in_one one
// listing --criteria criteria), and reports its own process CPU
// per completed call: libcurl, the loop and the kernel's TCP work, the floor
// under rewardd's "CPU per judge call". Scenario 2 prints rewardd's figure
// over this one as a ratio measured in the same run, which moves less with
// the host's load than either figure alone.
//
//   http-floor-bench --url=http://127.0.0.1:8000/v1 --in_flight=256
//       --body_bytes=3000 --warmup_s=2 --duration_s=8 --json_out=floor.json
//   http-floor-bench --url=... --in_flight=256 --body_bytes=4500 --criteria=20
// Exit status 1 when any call failed (the figure would not be the floor).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/load_generator.h"
#include "nlohmann/json.hpp"
#include "server/judge/http/curl_multi_loop.h"

ABSL_FLAG(std::string, url, "", "the judge's base URL (ends in /v1)");
ABSL_FLAG(int, in_flight, 256, "calls kept running");
ABSL_FLAG(int, body_bytes, 3000, "request body size");
ABSL_FLAG(int, criteria, 0,
          "0 = a per_criterion body (one verdict answered); N > 0 = an "
          "all_in_one body listing N criteria (N verdicts answered)");
ABSL_FLAG(int, shards, 8, "CurlMultiLoop::Options::shards");
ABSL_FLAG(double, warmup_s, 2, "seconds before measuring");
ABSL_FLAG(double, duration_s, 8, "seconds measured");
ABSL_FLAG(std::string, json_out, "", "write the result here as JSON");

namespace rewardd {
namespace {

// One chat request padded to `bytes` with response text. judge-sim answers
// it in the per_criterion format (one verdict: the text mentions
// "criteria_met") when `criteria` is 0, else in the all_in_one format (one
// verdict per listed criterion "[cK] ..."), so the reply is as long as the
// one rewardd reads in that mode.
std::string Body(size_t bytes, int criteria) {
  const std::string content =
      criteria == 0
          ? "Grade the response against the criterion. Answer a JSON object "
            "{\\\"criteria_met\\\": true|false, \\\"explanation\\\": "
            "\\\"...\\\"}.\\n<response-0f3a>\\n"
          : "Grade the response against every criterion. Answer a JSON "
            "object {\\\"<id>\\\": \\\"yes\\\"|\\\"no\\\", ...}."
            "\\n<response-0f3a>\\n";
  std::string tail = "\\n</response-0f3a>\\n";
  for (int k = 1; k <= std::max(1, criteria); ++k) {
    absl::StrAppend(&tail, k > 1 ? "\\n" : "", "[c", k,
                    "] The response names \\\"cavernous sinus thrombosis\\\"");
  }
  const std::string head =
      R"({"model":"judge-sim","messages":[{"role":"user","content":")";
  const std::string end = R"("}],"temperature":0,"max_tokens":512})";
  const size_t fixed = head.size() + content.size() + tail.size() + end.size();
  const std::string words =
      "The most likely diagnosis is cavernous sinus thrombosis after a "
      "facial infection. ";
  std::string text;
  while (fixed + text.size() < bytes) text += words;
  text.resize(bytes > fixed ? bytes - fixed : 0);
  return absl::StrCat(head, content, text, tail, end);
}

struct Driver {
  std::shared_ptr<CurlMultiLoop> loop;
  std::string url;
  std::string body;
  std::shared_ptr<const HttpHeaders> headers;
  std::atomic<int64_t> completed{0};
  std::atomic<int64_t> failed{0};
  std::atomic<bool> stop{false};

  void Send() {
    HttpRequest r;
    r.url = url;
    r.body = body;
    r.headers = headers;
    loop->Submit(std::move(r), [this](HttpResult res) {
      if (res.transport_ok() && res.status == 200) {
        completed.fetch_add(1, std::memory_order_relaxed);
      } else if (!res.cancelled) {
        failed.fetch_add(1, std::memory_order_relaxed);
      }
      if (!stop.load()) Send();
    });
  }
};

int Main() {
  if (absl::GetFlag(FLAGS_url).empty()) {
    std::fprintf(stderr, "--url is required\n");
    return 2;
  }
  CurlMultiLoop::Options options;
  options.shards = absl::GetFlag(FLAGS_shards);
  absl::StatusOr<std::shared_ptr<CurlMultiLoop>> loop =
      CurlMultiLoop::Create(options);
  if (!loop.ok()) {
    std::fprintf(stderr, "%s\n", loop.status().ToString().c_str());
    return 1;
  }
  Driver d;
  d.loop = *loop;
  d.url = absl::StrCat(absl::GetFlag(FLAGS_url), "/chat/completions");
  d.body = Body(static_cast<size_t>(absl::GetFlag(FLAGS_body_bytes)),
                absl::GetFlag(FLAGS_criteria));
  d.headers = HttpHeaders::Make({"Content-Type: application/json"});
  for (int i = 0; i < absl::GetFlag(FLAGS_in_flight); ++i) d.Send();
  absl::SleepFor(absl::Seconds(absl::GetFlag(FLAGS_warmup_s)));

  const absl::StatusOr<double> cpu0 = bench::ProcessCpuSeconds(getpid());
  const int64_t done0 = d.completed.load();
  const absl::Time t0 = absl::Now();
  absl::SleepFor(absl::Seconds(absl::GetFlag(FLAGS_duration_s)));
  const absl::StatusOr<double> cpu1 = bench::ProcessCpuSeconds(getpid());
  const int64_t calls = d.completed.load() - done0;
  const double seconds = absl::ToDoubleSeconds(absl::Now() - t0);
  d.stop.store(true);
  if (!cpu0.ok() || !cpu1.ok() || calls <= 0) {
    std::fprintf(stderr, "no measurement (%lld calls)\n",
                 static_cast<long long>(calls));
    return 1;
  }
  const double us_per_call = (*cpu1 - *cpu0) / calls * 1e6;
  nlohmann::json out = {{"calls", calls},
                        {"failed", d.failed.load()},
                        {"measured_seconds", seconds},
                        {"calls_per_second", calls / seconds},
                        {"cpu_us_per_call", us_per_call},
                        {"body_bytes", d.body.size()},
                        {"in_flight", absl::GetFlag(FLAGS_in_flight)}};
  std::printf(
      "%.1f calls/s, %.1f us CPU per call (%zu-byte bodies, %d in "
      "flight, %lld failed)\n",
      calls / seconds, us_per_call, d.body.size(),
      absl::GetFlag(FLAGS_in_flight), static_cast<long long>(d.failed.load()));
  if (!absl::GetFlag(FLAGS_json_out).empty()) {
    std::ofstream(absl::GetFlag(FLAGS_json_out)) << out.dump(2) << "\n";
  }
  // Calls still in flight are not waited for (the judge may be slow).
  std::fflush(stdout);
  // A failed call is not the floor's work: the figure would mislead.
  _exit(d.failed.load() == 0 ? 0 : 1);
}

}  // namespace
}  // namespace rewardd

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "CPU per HTTP judge call of CurlMultiLoop alone (bench scenario 2's "
      "floor)");
  absl::ParseCommandLine(argc, argv);
  return rewardd::Main();
}

// gateway-bench: closed-loop HTTP load on rewardd's HTTP/JSON gateway
// (`rewardd --http_listen`), the HTTP side of the "clients" scenario
// (bench/scenario_clients.py), whose gRPC side is reward-bench on the same
// requests. Each of --connections threads keeps one keep-alive connection
// and posts the GradeRequests of --requests (proto JSON lines, as written
// by `reward-bench --write_requests`) to /v1/grade back to back, round
// robin, for --duration_s after --warmup_s. Prints one JSON object.
//
//   build/bench/reward-bench --shape=unary --write_requests=req.jsonl ...
//   build/server/main/rewardd --http_listen=127.0.0.1:8080 ... &
//   build/bench/gateway-bench --http_target=127.0.0.1:8080
//       --requests=req.jsonl --connections=32
//
// A call counts as answered when the gateway returns 200 with "valid":true;
// any other answer is counted as failed, by HTTP status (or by httplib's
// error, e.g. "Read", when there was no answer).
#include <httplib.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"

ABSL_FLAG(std::string, http_target, "127.0.0.1:8080",
          "rewardd's HTTP gateway host:port (--http_listen).");
ABSL_FLAG(std::string, requests, "",
          "GradeRequest proto JSON lines (reward-bench --write_requests).");
ABSL_FLAG(int, connections, 16, "Concurrent callers (HTTP connections).");
ABSL_FLAG(double, warmup_s, 0.5, "Warm-up seconds (not recorded).");
ABSL_FLAG(double, duration_s, 3, "Measured seconds.");
ABSL_FLAG(int, server_pid, 0, "> 0: report this process's CPU seconds.");
ABSL_FLAG(std::string, json_out, "", "Also write the result here.");

namespace {

// The request bodies, one per non-blank line of `path`.
std::vector<std::string> ReadBodies(const std::string& path) {
  std::vector<std::string> bodies;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (!absl::StripAsciiWhitespace(line).empty()) bodies.push_back(line);
  }
  return bodies;
}

// utime + stime of `pid` in seconds, from /proc/<pid>/stat; -1 if unknown.
double ProcessCpuSeconds(int pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)), {});
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return -1;
  std::vector<std::string> f = absl::StrSplit(stat.substr(paren + 2), ' ');
  int64_t utime = 0, stime = 0;
  // Fields 14 and 15 of the whole line are 12 and 13 after "pid (comm) ".
  if (f.size() < 13 || !absl::SimpleAtoi(f[11], &utime) ||
      !absl::SimpleAtoi(f[12], &stime)) {
    return -1;
  }
  return static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK);
}

// What the callers share: whether calls are being counted, and the counts.
struct Tally {
  std::atomic<bool> measuring{false};
  std::atomic<bool> stop{false};
  std::atomic<int64_t> ok{0};
  std::mutex mu;
  // HTTP status, or httplib's error name when there was no answer.
  std::map<std::string, int64_t> failed_by_status;  // GUARDED_BY(mu)

  void Failed(const httplib::Result& res) {
    if (!measuring) return;
    std::lock_guard<std::mutex> lock(mu);
    ++failed_by_status[res ? std::to_string(res->status)
                           : httplib::to_string(res.error())];
  }
};

// One caller: one keep-alive connection, posting bodies round robin from
// its own offset until told to stop.
void Caller(const std::string& host, int port,
            const std::vector<std::string>& bodies, size_t offset,
            Tally* tally) {
  httplib::Client client(host, port);
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);
  client.set_read_timeout(60, 0);
  for (size_t i = offset; !tally->stop; ++i) {
    auto res =
        client.Post("/v1/grade", bodies[i % bodies.size()], "application/json");
    if (res && res->status == 200 &&
        res->body.find("\"valid\":true") != std::string::npos) {
      if (tally->measuring) ++tally->ok;
    } else {
      tally->Failed(res);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::vector<std::string> bodies =
      ReadBodies(absl::GetFlag(FLAGS_requests));
  if (bodies.empty()) {
    std::fprintf(stderr, "--requests: no request lines in '%s'\n",
                 absl::GetFlag(FLAGS_requests).c_str());
    return 1;
  }
  std::pair<std::string, std::string> hp =
      absl::StrSplit(absl::GetFlag(FLAGS_http_target), ':');
  int port = 0;
  if (!absl::SimpleAtoi(hp.second, &port)) {
    std::fprintf(stderr, "--http_target must be host:port\n");
    return 1;
  }
  const int n = absl::GetFlag(FLAGS_connections);
  const int pid = absl::GetFlag(FLAGS_server_pid);
  Tally tally;
  std::vector<std::thread> callers;
  for (int t = 0; t < n; ++t) {
    callers.emplace_back(Caller, hp.first, port, std::cref(bodies),
                         t * bodies.size() / n, &tally);
  }
  absl::SleepFor(absl::Seconds(absl::GetFlag(FLAGS_warmup_s)));
  const double cpu0 = pid > 0 ? ProcessCpuSeconds(pid) : -1;
  const absl::Time t0 = absl::Now();
  tally.measuring = true;
  absl::SleepFor(absl::Seconds(absl::GetFlag(FLAGS_duration_s)));
  tally.measuring = false;
  const double seconds = absl::ToDoubleSeconds(absl::Now() - t0);
  const double cpu1 = pid > 0 ? ProcessCpuSeconds(pid) : -1;
  tally.stop = true;
  for (std::thread& c : callers) c.join();

  nlohmann::json out;
  int64_t failed = 0;
  for (const auto& [status, count] : tally.failed_by_status) {
    out["errors"][status] = count;
    failed += count;
  }
  out["connections"] = n;
  out["calls"] = tally.ok.load();
  out["failed_total"] = failed;
  out["seconds"] = seconds;
  out["calls_per_second"] = tally.ok / seconds;
  if (cpu0 >= 0 && cpu1 >= 0) out["server_cpu_seconds"] = cpu1 - cpu0;
  const std::string text = out.dump();
  std::printf("%s\n", text.c_str());
  if (const std::string path = absl::GetFlag(FLAGS_json_out); !path.empty()) {
    std::ofstream(path) << text << "\n";
  }
  return 0;
}

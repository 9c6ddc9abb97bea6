// judge-sim: a simulated OpenAI-compatible judge server (see judge_sim.h for
// the verdict rules and docs/judges.md for the flags).
//
//   judge-sim --port=8000 --capacity=256 --latency_ms=200 --jitter_ms=50
//       --rate_429=0.01 --oracle=verdicts.json
//   curl -s localhost:8000/stats
#include <csignal>
#include <cstdio>
#include <iostream>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/synchronization/mutex.h"
#include "tools/judge-sim/judge_sim.h"

ABSL_FLAG(std::string, host, "127.0.0.1", "address to listen on");
ABSL_FLAG(int, port, 8000, "port (0 = any free port; printed on start)");
ABSL_FLAG(int, capacity, 64, "requests served at once; more wait");
ABSL_FLAG(int, threads, 0, "HTTP worker threads (0 = 2*capacity+8)");
ABSL_FLAG(double, latency_ms, 0, "mean service time");
ABSL_FLAG(double, jitter_ms, 0, "service time is uniform in mean +- jitter");
ABSL_FLAG(uint64_t, seed, 1, "seed of fault draws and jitter");
ABSL_FLAG(double, rate_429, 0, "share of requests answered 429");
ABSL_FLAG(double, rate_500, 0, "share answered 500");
ABSL_FLAG(double, rate_hang, 0, "share that hang for --hang_ms");
ABSL_FLAG(double, rate_reset, 0, "share whose connection is dropped");
ABSL_FLAG(double, rate_garbage, 0, "share answered with prose, no verdict");
ABSL_FLAG(double, rate_truncate, 0, "share cut short (finish_reason length)");
ABSL_FLAG(double, rate_think, 0, "share that open with a <think> block");
ABSL_FLAG(int, max_choices, 0,
          "answer at most this many choices whatever `n` asks (1 = an "
          "endpoint that ignores n); 0 = as many as asked");
ABSL_FLAG(bool, think_in_reasoning_content, false,
          "send think blocks as message.reasoning_content");
ABSL_FLAG(int, fail_first, 0, "the first N requests get --fail_first_kind");
ABSL_FLAG(std::string, fail_first_kind, "500",
          "429 500 hang reset garbage truncate think");
ABSL_FLAG(double, retry_after_s, 1, "Retry-After of 429 answers");
ABSL_FLAG(double, hang_ms, 30000, "how long a hang lasts");
ABSL_FLAG(std::string, oracle, "", "JSON file of fixed verdicts");
ABSL_FLAG(std::string, proposer_script, "",
          "JSON script for proposer calls (scripted mode, see "
          "sim_proposer.h); empty = the oracle proposer");
ABSL_FLAG(bool, sample, false,
          "answer requests at temperature > 0 by sampling (votes differ)");

namespace {
volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }
}  // namespace

int main(int argc, char** argv) {
  // Debian's abseil checks every Mutex for lock-order cycles (a global
  // graph update per lock); a benchmark tool should not pay for it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::SetProgramUsageMessage(
      "A simulated OpenAI-compatible LLM judge for rewardd tests and "
      "benchmarks.");
  absl::ParseCommandLine(argc, argv);
  rewardd::SimOptions o;
  o.host = absl::GetFlag(FLAGS_host);
  o.port = absl::GetFlag(FLAGS_port);
  o.capacity = absl::GetFlag(FLAGS_capacity);
  o.threads = absl::GetFlag(FLAGS_threads);
  o.latency_mean = absl::Milliseconds(absl::GetFlag(FLAGS_latency_ms));
  o.latency_jitter = absl::Milliseconds(absl::GetFlag(FLAGS_jitter_ms));
  o.seed = absl::GetFlag(FLAGS_seed);
  o.oracle_file = absl::GetFlag(FLAGS_oracle);
  o.sample = absl::GetFlag(FLAGS_sample);
  o.proposer_script = absl::GetFlag(FLAGS_proposer_script);
  rewardd::SimFaults& f = o.faults;
  f.rate_429 = absl::GetFlag(FLAGS_rate_429);
  f.rate_500 = absl::GetFlag(FLAGS_rate_500);
  f.rate_hang = absl::GetFlag(FLAGS_rate_hang);
  f.rate_reset = absl::GetFlag(FLAGS_rate_reset);
  f.rate_garbage = absl::GetFlag(FLAGS_rate_garbage);
  f.rate_truncate = absl::GetFlag(FLAGS_rate_truncate);
  f.rate_think = absl::GetFlag(FLAGS_rate_think);
  f.think_in_reasoning_content =
      absl::GetFlag(FLAGS_think_in_reasoning_content);
  f.max_choices = absl::GetFlag(FLAGS_max_choices);
  f.fail_first = absl::GetFlag(FLAGS_fail_first);
  f.fail_first_kind = absl::GetFlag(FLAGS_fail_first_kind);
  f.retry_after = absl::Milliseconds(1000 * absl::GetFlag(FLAGS_retry_after_s));
  f.hang = absl::Milliseconds(absl::GetFlag(FLAGS_hang_ms));
  const double total = f.rate_429 + f.rate_500 + f.rate_hang + f.rate_reset +
                       f.rate_garbage + f.rate_truncate + f.rate_think;
  if (total > 1) {
    std::cerr << "judge-sim: fault rates add up to more than 1\n";
    return 2;
  }
  auto sim = rewardd::JudgeSim::Start(o);
  if (!sim.ok()) {
    std::cerr << sim.status().message() << "\n";
    return 1;
  }
  std::printf("judge-sim listening on %s:%d (capacity %d)\n", o.host.c_str(),
              (*sim)->port(), o.capacity);
  std::fflush(stdout);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::printf("%s\n", (*sim)->stats().ToJson().c_str());
  (*sim)->Stop();
  return 0;
}

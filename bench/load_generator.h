// The load generator behind `reward-bench`: drives a reward.v1.RewardService
// with a closed loop (N calls outstanding, each completion starts the next
// call; no thread blocks per call: gRPC's callback API) or an open loop (a
// fixed call rate, latency measured from each call's scheduled start so that
// queueing shows instead of hiding: no coordinated omission), through unary
// Grade, GradeGroup, GradeStream or GetRubric calls.
//
//   LoadOptions o;
//   o.target = "127.0.0.1:50051";
//   o.shape = LoadOptions::Shape::kUnary;
//   o.concurrency = 64;
//   o.warmup = absl::Seconds(1);
//   o.duration = absl::Seconds(5);
//   absl::StatusOr<LoadResult> r = RunLoad(o, source);
//   std::cout << FormatText(*r);
//
// A run has three phases: warm-up (calls made, nothing recorded but
// errors), measurement (completions recorded: throughput, latency), drain
// (no new calls; outstanding ones finish or hit their deadline). Errors are
// counted over the whole run, so a run "with no failed request" means none
// in any phase.
//
// Optional side measurements over exactly the measurement window: the CPU
// time of a server process (/proc/<pid>/stat utime + stime) and the
// counters of a judge-sim (/stats before and after).
//
// Thread-safety: RunLoad blocks its caller until the run is over; it may be
// called from one thread at a time per process (it is a benchmark).
#ifndef REWARDD_BENCH_LOAD_GENERATOR_H_
#define REWARDD_BENCH_LOAD_GENERATOR_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bench/latency_histogram.h"
#include "bench/request_source.h"
#include "nlohmann/json.hpp"

namespace rewardd::bench {

struct LoadOptions {
  enum class Shape { kUnary, kGroup, kStream, kGetRubric };
  Shape shape = Shape::kUnary;
  std::string target = "127.0.0.1:50051";
  // Separate TCP connections; calls rotate over them.
  int channels = 1;
  // Closed loop: calls (stream items) outstanding at all times. Open loop:
  // the most outstanding at once; calls due beyond it are not sent and are
  // counted as errors ("CLIENT_BACKLOG").
  int concurrency = 16;
  // Open loop when > 0: calls started per second.
  double rate = 0;
  absl::Duration warmup = absl::Seconds(1);
  absl::Duration duration = absl::Seconds(5);
  // When > 0: the measurement ends after this many calls (duration still
  // caps it).
  int64_t count = 0;
  // When not empty: the measurement also ends as soon as this file exists
  // (lets a script end a run when some other event is over).
  std::string stop_file;
  // Per call (unary shapes). Streams have one deadline for the whole stream.
  absl::Duration deadline = absl::Seconds(30);
  // Stream shape: streams opened; concurrency is split between them.
  int streams = 1;
  // Prebuild up to this many distinct requests when the source repeats
  // (keeps the client's CPU cost per call low).
  int64_t prebuild_limit = 50000;

  // Side measurements.
  int server_pid = 0;           // 0 = none
  std::string judge_stats_url;  // e.g. "http://127.0.0.1:8000"; "" = none
  bool judge_reset = false;     // POST /reset when measurement starts
};

struct LoadResult {
  std::string shape;
  bool open_loop = false;
  double rate = 0;
  int concurrency = 0;
  absl::Duration measured;    // measurement window length
  int64_t calls = 0;          // completed OK in the window
  int64_t items = 0;          // responses graded in those calls
  int64_t invalid_items = 0;  // GradeResponse.valid == false
  int64_t item_errors = 0;    // GradeResponse.error set (group/stream items)
  int64_t calls_total = 0;    // every call that ended, all phases
  // Failed calls over the whole run, by gRPC status name (plus
  // "CLIENT_BACKLOG" for open-loop calls never sent).
  std::map<std::string, int64_t> errors;
  int64_t failed_total = 0;
  LatencyHistogram::Summary latency;
  double calls_per_second = 0;
  double items_per_second = 0;
  double client_cpu_seconds = 0;              // this process, in the window
  std::optional<double> server_cpu_seconds;   // --server_pid, in the window
  std::optional<nlohmann::json> judge_stats;  // deltas over the window
};

absl::StatusOr<LoadResult> RunLoad(const LoadOptions& options,
                                   const RequestSource& source);

nlohmann::json ToJson(const LoadResult& result);
std::string FormatText(const LoadResult& result);

// utime + stime of process `pid` in seconds (all its threads).
absl::StatusOr<double> ProcessCpuSeconds(int pid);

}  // namespace rewardd::bench

#endif  // REWARDD_BENCH_LOAD_GENERATOR_H_

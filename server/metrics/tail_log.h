// The tail log (--tail_log_dir): a rate-limited sample of saturated
// GradeGroup calls (group_saturation.h) and, every window, per-set group
// statistics, written as JSONL (tail_log_record.h, schema
// "rewardd.tail_log.v1") to rotating files with size caps
// (rotating_files.h). `reward-cli refine --from_tail_log` reads it back.
//
//   auto log = TailLog::Create(TailLogOptions{.dir = "/var/lib/rewardd/tail"},
//                              &registry);
//   if (!log.ok()) { /* bad flags, or the directory cannot be created */ }
//   (*log)->OnGroup(group, summary);  // on the grading thread
//   (*log)->Stop();                   // on shutdown: writes what is queued
//
// The grading thread never blocks and never does I/O: OnGroup() updates the
// window under a short mutex and, for a saturated group that passes the
// rate limit and finds room in the bounded queue, copies the record and
// queues it. Groups refused by the rate limit or a full queue are counted
// (metrics and the window record). One writer thread formats and writes;
// a write error (full disk, directory gone or read-only) is counted and
// logged at most every 10 seconds, never fatal: the next record tries a
// new file.
//
// Thread-safety: OnGroup() may be called from any thread; Stop() and
// WriteOnce() from one thread at a time.
#ifndef REWARDD_SERVER_METRICS_TAIL_LOG_H_
#define REWARDD_SERVER_METRICS_TAIL_LOG_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "server/grading/grade_observer.h"
#include "server/grading/group_saturation.h"
#include "server/metrics/rotating_files.h"
#include "server/metrics/tail_log_record.h"

namespace rewardd {

struct TailLogOptions {
  std::string dir;  // --tail_log_dir; created when its parent exists
  int64_t max_file_bytes = 64 << 20;           // --tail_log_max_file_bytes
  int64_t max_total_bytes = int64_t{1} << 30;  // --tail_log_max_total_bytes
  size_t max_files = 64;                       // --tail_log_max_files
  // --tail_log_samples_per_second; bursts of max(1, rate); 0 samples none
  // (window records only).
  double samples_per_second = 5;
  absl::Duration window = absl::Seconds(60);  // --tail_log_window_seconds
  size_t queue_capacity = 256;
  size_t max_top = 8;  // responses of a saturated group written
  size_t rubric_set_limit = 64;
  // The time source (records, rate limit, windows); absl::Now when empty.
  std::function<absl::Time()> clock;
  // False: no writer thread; the caller drives WriteOnce() (tests).
  bool start_thread = true;
};

class TailLog {
 public:
  struct Counts {
    uint64_t saturated_written = 0;
    uint64_t windows_written = 0;
    uint64_t dropped_rate_limited = 0;
    uint64_t dropped_queue_full = 0;
    uint64_t write_errors = 0;
    uint64_t files_deleted = 0;
  };

  // INVALID_ARGUMENT names the bad flag; FAILED_PRECONDITION when the
  // directory cannot be created (a missing parent) or written.
  // `registry` may be null (no metrics).
  static absl::StatusOr<std::unique_ptr<TailLog>> Create(
      TailLogOptions options, prometheus::Registry* registry);
  ~TailLog();  // Stop()

  void OnGroup(const GradedGroup& group, const GroupSaturation& summary);

  // Writes the queued records, and the window records when the window has
  // ended (or `final`). The writer thread's step.
  void WriteOnce(bool final);
  // Stops the writer thread after writing what is queued and the current
  // window. Idempotent.
  void Stop();

  Counts counts() const;
  // The file being written; only from the thread driving WriteOnce() (no
  // writer thread) or after Stop().
  const std::string& current_file() const { return files_.current_path(); }

 private:
  struct Metrics;
  TailLog(TailLogOptions options, prometheus::Registry* registry);

  absl::Time Now() const;
  WindowRecord& WindowFor(absl::string_view rubric_set)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes one rate-limit token if there is one.
  bool TakeToken(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool WriterHasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Run();
  // Appends one record; counts it as written (both counters) or as a
  // write error.
  void Write(const std::string& line, std::atomic<uint64_t>* written,
             prometheus::Counter* written_metric);

  const TailLogOptions options_;
  std::unique_ptr<Metrics> metrics_;
  RotatingFiles files_;  // the writer's

  mutable absl::Mutex mu_;
  std::vector<SaturatedGroupRecord> queue_ ABSL_GUARDED_BY(mu_);
  size_t reserved_ ABSL_GUARDED_BY(mu_) = 0;  // slots being filled
  double tokens_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time refilled_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, WindowRecord> windows_ ABSL_GUARDED_BY(mu_);
  absl::Time window_start_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  std::atomic<uint64_t> saturated_written_{0};
  std::atomic<uint64_t> windows_written_{0};
  std::atomic<uint64_t> dropped_rate_limited_{0};
  std::atomic<uint64_t> dropped_queue_full_{0};
  std::atomic<uint64_t> write_errors_{0};
  std::atomic<uint64_t> files_deleted_{0};
  // Errors since the last error log line, and when that was (writer only).
  uint64_t unlogged_errors_ = 0;
  absl::Time last_error_log_ = absl::InfinitePast();

  std::thread writer_;
  bool stopped_ = false;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_METRICS_TAIL_LOG_H_

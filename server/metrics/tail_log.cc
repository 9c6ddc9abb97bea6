#include "server/metrics/tail_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/grading/saturation_tracker.h"
#include "server/metrics/label_limiter.h"
#include "server/util/log.h"

namespace rewardd {
namespace {

constexpr absl::Duration kErrorLogInterval = absl::Seconds(10);

absl::Status CheckOptions(const TailLogOptions& o) {
  if (o.dir.empty()) {
    return absl::InvalidArgumentError("--tail_log_dir is empty");
  }
  if (o.max_file_bytes <= 0) {
    return absl::InvalidArgumentError(
        "--tail_log_max_file_bytes must be positive");
  }
  if (o.max_total_bytes < o.max_file_bytes) {
    return absl::InvalidArgumentError(
        "--tail_log_max_total_bytes must be at least "
        "--tail_log_max_file_bytes");
  }
  if (o.max_files < 1) {
    return absl::InvalidArgumentError("--tail_log_max_files must be >= 1");
  }
  if (!(o.samples_per_second >= 0)) {
    return absl::InvalidArgumentError(
        "--tail_log_samples_per_second must be >= 0");
  }
  if (o.window <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--tail_log_window_seconds must be positive");
  }
  if (o.queue_capacity < 1) {
    return absl::InvalidArgumentError("tail log queue capacity must be >= 1");
  }
  return absl::OkStatus();
}

// Creates `dir` (not its parents) and checks that a file can be created in
// it: a mistyped path fails at startup, not at the first saturated group.
absl::Status PrepareDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--tail_log_dir ", dir, " cannot be created: ", std::strerror(errno)));
  }
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("--tail_log_dir ", dir, " is not a directory"));
  }
  const std::string probe = absl::StrCat(dir, "/.rewardd-probe-", ::getpid());
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--tail_log_dir ", dir, " is not writable: ", std::strerror(errno)));
  }
  ::close(fd);
  ::unlink(probe.c_str());
  return absl::OkStatus();
}

}  // namespace

struct TailLog::Metrics {
  explicit Metrics(prometheus::Registry& registry)
      : records(prometheus::BuildCounter()
                    .Name("rewardd_tail_log_records_total")
                    .Help("Records written to the tail log, by kind.")
                    .Register(registry)),
        dropped(prometheus::BuildCounter()
                    .Name("rewardd_tail_log_dropped_total")
                    .Help("Saturated groups not written to the tail log: "
                          "reason rate_limited or queue_full.")
                    .Register(registry)),
        saturated(&records.Add({{"kind", "saturated_group"}})),
        window(&records.Add({{"kind", "window"}})),
        rate_limited(&dropped.Add({{"reason", "rate_limited"}})),
        queue_full(&dropped.Add({{"reason", "queue_full"}})),
        errors(&prometheus::BuildCounter()
                    .Name("rewardd_tail_log_write_errors_total")
                    .Help("Tail log records lost to a write error (full "
                          "disk, directory gone or read-only).")
                    .Register(registry)
                    .Add({})),
        deleted(&prometheus::BuildCounter()
                     .Name("rewardd_tail_log_files_deleted_total")
                     .Help("Tail log files deleted by the size or count cap.")
                     .Register(registry)
                     .Add({})) {}
  prometheus::Family<prometheus::Counter>& records;
  prometheus::Family<prometheus::Counter>& dropped;
  prometheus::Counter* saturated;
  prometheus::Counter* window;
  prometheus::Counter* rate_limited;
  prometheus::Counter* queue_full;
  prometheus::Counter* errors;
  prometheus::Counter* deleted;
};

absl::StatusOr<std::unique_ptr<TailLog>> TailLog::Create(
    TailLogOptions options, prometheus::Registry* registry) {
  if (absl::Status s = CheckOptions(options); !s.ok()) return s;
  if (absl::Status s = PrepareDir(options.dir); !s.ok()) return s;
  std::unique_ptr<TailLog> log(new TailLog(std::move(options), registry));
  if (log->options_.start_thread) {
    log->writer_ = std::thread([raw = log.get()] { raw->Run(); });
  }
  return log;
}

TailLog::TailLog(TailLogOptions options, prometheus::Registry* registry)
    : options_(std::move(options)),
      metrics_(registry != nullptr ? std::make_unique<Metrics>(*registry)
                                   : nullptr),
      files_(RotatingFilesOptions{options_.dir, "tail", options_.max_file_bytes,
                                  options_.max_total_bytes, options_.max_files,
                                  options_.clock}) {
  const absl::Time now = Now();
  absl::MutexLock lock(&mu_);
  tokens_ = std::max(1.0, options_.samples_per_second);
  refilled_ = now;
  window_start_ = now;
}

TailLog::~TailLog() { Stop(); }

absl::Time TailLog::Now() const {
  return options_.clock ? options_.clock() : absl::Now();
}

WindowRecord& TailLog::WindowFor(absl::string_view rubric_set) {
  const absl::string_view name =
      rubric_set.empty() ? SaturationTracker::kInlineSet : rubric_set;
  auto it = windows_.find(name);
  if (it != windows_.end()) return it->second;
  if (windows_.size() >= options_.rubric_set_limit) {
    return windows_[LabelValueLimiter::kOther];
  }
  return windows_[name];
}

bool TailLog::TakeToken(absl::Time now) {
  if (options_.samples_per_second <= 0) return false;
  const double burst = std::max(1.0, options_.samples_per_second);
  if (now > refilled_) {
    tokens_ =
        std::min(burst, tokens_ + options_.samples_per_second *
                                      absl::ToDoubleSeconds(now - refilled_));
    refilled_ = now;
  }
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

void TailLog::OnGroup(const GradedGroup& group,
                      const GroupSaturation& summary) {
  if (group.base == nullptr) return;
  const absl::Time now = Now();
  bool sample = false;
  {
    absl::MutexLock lock(&mu_);
    WindowRecord& window = WindowFor(group.base->rubric_set);
    window.Add(group, summary);
    if (window.set_version != group.set_version) {
      window.set_version = std::string(group.set_version);
    }
    if (!summary.saturated) return;
    if (queue_.size() + reserved_ >= options_.queue_capacity) {
      ++window.dropped_queue_full;
      dropped_queue_full_.fetch_add(1, std::memory_order_relaxed);
      if (metrics_) metrics_->queue_full->Increment();
    } else if (!TakeToken(now)) {
      ++window.dropped_rate_limited;
      dropped_rate_limited_.fetch_add(1, std::memory_order_relaxed);
      if (metrics_) metrics_->rate_limited->Increment();
    } else {
      ++window.sampled;
      ++reserved_;
      sample = true;
    }
  }
  if (!sample) return;
  // The copy happens outside the lock, in a reserved queue slot.
  SaturatedGroupRecord record =
      SaturatedGroupRecord::From(group, summary, now, options_.max_top);
  absl::MutexLock lock(&mu_);
  --reserved_;
  queue_.push_back(std::move(record));
}

void TailLog::Write(const std::string& line, std::atomic<uint64_t>* written,
                    prometheus::Counter* written_metric) {
  const uint64_t deleted_before = files_.files_deleted();
  absl::Status s = files_.Append(line);
  if (const uint64_t deleted = files_.files_deleted() - deleted_before) {
    files_deleted_.fetch_add(deleted, std::memory_order_relaxed);
    if (metrics_) metrics_->deleted->Increment(static_cast<double>(deleted));
  }
  if (s.ok()) {
    written->fetch_add(1, std::memory_order_relaxed);
    if (written_metric != nullptr) written_metric->Increment();
    return;
  }
  write_errors_.fetch_add(1, std::memory_order_relaxed);
  if (metrics_) metrics_->errors->Increment();
  ++unlogged_errors_;
  const absl::Time now = Now();
  if (now - last_error_log_ >= kErrorLogInterval) {
    Log(LogLevel::kError, "tail_log_write_failed",
        {{"error", s.ToString()},
         {"records_lost", absl::StrCat(unlogged_errors_)}});
    unlogged_errors_ = 0;
    last_error_log_ = now;
  }
}

void TailLog::WriteOnce(bool final) {
  std::vector<SaturatedGroupRecord> records;
  absl::flat_hash_map<std::string, WindowRecord> windows;
  const absl::Time now = Now();
  absl::Duration seconds;
  {
    absl::MutexLock lock(&mu_);
    records.swap(queue_);
    if (final || now - window_start_ >= options_.window) {
      windows.swap(windows_);
      seconds = now - window_start_;
      window_start_ = now;
    }
  }
  for (const SaturatedGroupRecord& r : records) {
    Write(FormatSaturatedGroup(r), &saturated_written_,
          metrics_ ? metrics_->saturated : nullptr);
  }
  std::vector<std::string> names;
  for (const auto& [name, w] : windows) names.push_back(name);
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    WindowRecord& w = windows[name];
    if (w.groups == 0) continue;
    w.rubric_set = name;
    w.time = now;
    w.seconds = absl::ToDoubleSeconds(seconds);
    Write(FormatWindow(w), &windows_written_,
          metrics_ ? metrics_->window : nullptr);
  }
}

bool TailLog::WriterHasWork() const { return stopping_ || !queue_.empty(); }

void TailLog::Run() {
  for (;;) {
    bool stop = false;
    {
      absl::MutexLock lock(&mu_);
      const absl::Duration left = std::max(
          absl::Milliseconds(1), window_start_ + options_.window - Now());
      mu_.AwaitWithTimeout(absl::Condition(this, &TailLog::WriterHasWork),
                           left);
      stop = stopping_;
    }
    if (stop) return;
    WriteOnce(/*final=*/false);
  }
}

void TailLog::Stop() {
  if (stopped_) return;
  stopped_ = true;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (writer_.joinable()) writer_.join();
  WriteOnce(/*final=*/true);
  files_.Close();
}

TailLog::Counts TailLog::counts() const {
  Counts c;
  c.saturated_written = saturated_written_.load(std::memory_order_relaxed);
  c.windows_written = windows_written_.load(std::memory_order_relaxed);
  c.dropped_rate_limited =
      dropped_rate_limited_.load(std::memory_order_relaxed);
  c.dropped_queue_full = dropped_queue_full_.load(std::memory_order_relaxed);
  c.write_errors = write_errors_.load(std::memory_order_relaxed);
  c.files_deleted = files_deleted_.load(std::memory_order_relaxed);
  return c;
}

}  // namespace rewardd

#include "client/progress.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace rewardd {
namespace {

// "1h02m", "3m05s", "12s".
std::string ShortDuration(double seconds) {
  int64_t s = static_cast<int64_t>(seconds + 0.5);
  if (s >= 3600) return absl::StrFormat("%dh%02dm", s / 3600, s % 3600 / 60);
  if (s >= 60) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%ds", s);
}

}  // namespace

ProgressBar::ProgressBar(int64_t total, FILE* out, absl::Duration interval)
    : total_(total), out_(out), interval_(interval) {}

ProgressBar::~ProgressBar() { Stop(); }

void ProgressBar::Start() {
  if (thread_.joinable()) return;
  start_time_ = absl::Now();
  thread_ = std::thread([this] {
    while (!stop_.WaitForNotificationWithTimeout(interval_)) Draw(false);
  });
}

void ProgressBar::Stop() {
  if (!thread_.joinable()) return;
  stop_.Notify();
  thread_.join();
  Draw(true);
}

void ProgressBar::Draw(bool final) {
  std::string line = Render(done_.load(std::memory_order_relaxed),
                            failed_.load(std::memory_order_relaxed), total_,
                            absl::Now() - start_time_);
  // \r and erase-to-end-of-line: redraw in place on a terminal.
  std::fprintf(out_, "\r%s\033[K%s", line.c_str(), final ? "\n" : "");
  std::fflush(out_);
}

std::string ProgressBar::Render(int64_t done, int64_t failed, int64_t total,
                                absl::Duration elapsed) {
  const double seconds = absl::ToDoubleSeconds(elapsed);
  const double rate = seconds > 0 ? done / seconds : 0;
  std::string out;
  if (total > 0) {
    constexpr int kWidth = 24;
    const double fraction =
        std::min(1.0, static_cast<double>(done) / static_cast<double>(total));
    const int filled = static_cast<int>(fraction * kWidth);
    absl::StrAppend(
        &out, "[", std::string(filled, '#'), std::string(kWidth - filled, ' '),
        "] ", absl::StrFormat("%d/%d %3.0f%%", done, total, fraction * 100));
  } else {
    absl::StrAppend(&out, done, " done");
  }
  absl::StrAppend(&out, absl::StrFormat("  %.1f/s", rate));
  if (total > 0 && done < total && rate > 0) {
    absl::StrAppend(&out, "  ETA ", ShortDuration((total - done) / rate));
  } else {
    absl::StrAppend(&out, "  ", ShortDuration(seconds));
  }
  if (failed > 0) absl::StrAppend(&out, "  ", failed, " failed");
  return out;
}

}  // namespace rewardd

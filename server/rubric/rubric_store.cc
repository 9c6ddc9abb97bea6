#include "server/rubric/rubric_store.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace rewardd {
namespace {

// RequestReload() runs in signal handlers, where only lock-free atomics are
// safe.
static_assert(std::atomic<bool>::is_always_lock_free);

bool IsRubricFileName(absl::string_view name) {
  return !name.empty() && name[0] != '.' &&
         (absl::EndsWith(name, ".json") || absl::EndsWith(name, ".jsonl"));
}

// The rubric file names in `dir`, sorted. Symlinks count (ConfigMap files
// are symlinks); directories do not.
absl::StatusOr<std::vector<std::string>> ListRubricFiles(
    const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  std::vector<std::string> names;
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (!IsRubricFileName(name)) continue;
    std::error_code status_ec;
    if (fs::is_directory(it->status(status_ec))) continue;
    // A dangling symlink stays in the list: reading it fails and the set
    // keeps its previous version, which is safer than dropping it.
    names.push_back(std::move(name));
  }
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot list rubric directory ", dir, ": ", ec.message()));
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

const RubricSet* StoreSnapshot::Find(absl::string_view name) const {
  auto it = sets.find(name);
  return it == sets.end() ? nullptr : it->second.get();
}

std::vector<std::string> StoreSnapshot::SortedNames() const {
  std::vector<std::string> names;
  names.reserve(sets.size());
  for (const auto& [name, set] : sets) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

RubricStore::RubricStore(Options options)
    : options_(std::move(options)),
      snapshot_(std::make_shared<const StoreSnapshot>()) {
  // Non-blocking on both ends: a signal handler must never block on a full
  // pipe (a full pipe already means a wake-up is pending).
  if (pipe2(wake_fd_, O_NONBLOCK | O_CLOEXEC) != 0) {
    wake_fd_[0] = wake_fd_[1] = -1;
  }
}

RubricStore::~RubricStore() {
  Stop();
  for (int fd : wake_fd_) {
    if (fd >= 0) close(fd);
  }
}

std::shared_ptr<const StoreSnapshot> RubricStore::snapshot() const {
  absl::ReaderMutexLock lock(&mu_);
  return snapshot_;
}

// One pass of Reload() over a directory's files: the next snapshot and
// file states are built from the old ones, file by file (unchanged bytes
// are not parsed again), and every outcome goes into the report.
class RubricStore::ReloadPass {
 public:
  ReloadPass(const RubricStore::Options& options,
             const absl::flat_hash_map<std::string, FileState>& files,
             std::shared_ptr<const StoreSnapshot> old, ReloadReport* report)
      : options_(options),
        files_(files),
        old_(std::move(old)),
        next_(std::make_shared<StoreSnapshot>()),
        report_(report) {}

  // Loads (or keeps) the set of one file of the directory.
  void Load(const std::string& file) {
    std::string set_name;
    RubricFormat format = RubricFormat::kAuto;
    if (absl::Status s = SplitRubricFileName(file, &set_name, &format);
        !s.ok()) {
      Fail(file, "", "", s.message(), /*keep_previous=*/false);
      return;
    }
    if (auto [it, inserted] = owner_.emplace(set_name, file); !inserted) {
      Fail(file, set_name, "",
           absl::StrCat(file, ": set '", set_name, "' is already defined by ",
                        it->second, "; this file is ignored"),
           /*keep_previous=*/false);
      return;
    }
    const std::string path = absl::StrCat(options_.dir, "/", file);
    absl::StatusOr<std::string> content = ReadRubricFile(path, options_.limits);
    if (!content.ok()) {
      Fail(file, set_name, "", content.status().message(),
           /*keep_previous=*/true);
      return;
    }
    std::string hash = ShortHash(*content);
    if (KeepUnchanged(file, set_name, hash)) return;
    absl::StatusOr<RubricSet> set =
        ParseRubricSet(set_name, *content, format, file, options_.limits);
    if (!set.ok()) {
      Fail(file, set_name, std::move(hash), set.status().message(),
           /*keep_previous=*/true);
      return;
    }
    set->source_path = path;
    report_->warnings.insert(report_->warnings.end(), set->warnings.begin(),
                             set->warnings.end());
    auto shared = std::make_shared<const RubricSet>(*std::move(set));
    next_->sets[set_name] = shared;
    next_files_[file] = FileState{std::move(hash), set_name, shared, ""};
    report_->loaded.push_back(set_name);
  }

  // After every Load(): lists the sets that are gone in the report and
  // returns whether the next snapshot differs from the old one.
  bool Changed() {
    for (const auto& [name, set] : old_->sets) {
      if (!next_->sets.contains(name)) report_->removed.push_back(name);
    }
    std::sort(report_->removed.begin(), report_->removed.end());
    bool changed =
        !report_->removed.empty() || next_->sets.size() != old_->sets.size();
    for (const auto& [name, set] : next_->sets) {
      auto it = old_->sets.find(name);
      changed = changed || it == old_->sets.end() || it->second != set;
    }
    return changed;
  }

  // The next snapshot, one generation after the old one.
  std::shared_ptr<const StoreSnapshot> TakeSnapshot() {
    next_->generation = old_->generation + 1;
    return std::move(next_);
  }
  absl::flat_hash_map<std::string, FileState> TakeFiles() {
    return std::move(next_files_);
  }

 private:
  // Bytes seen by the previous pass under the same set name: its set (or
  // its error) is kept without parsing. Returns false for new bytes.
  bool KeepUnchanged(const std::string& file, const std::string& set_name,
                     std::string& hash) {
    auto prev = files_.find(file);
    if (prev == files_.end() || prev->second.content_hash != hash ||
        prev->second.set_name != set_name) {
      return false;
    }
    if (prev->second.set != nullptr) {
      next_->sets[set_name] = prev->second.set;
      next_files_[file] = prev->second;
      report_->unchanged.push_back(set_name);
    } else {
      Fail(file, set_name, std::move(hash), prev->second.error,
           /*keep_previous=*/true);
    }
    return true;
  }

  // Records a failing file. `keep_previous`: its set keeps the version of
  // the old snapshot (not for a file that lost a set-name clash: the set
  // belongs to the other file). The state is remembered so that the same
  // failure on the next poll is marked `repeated` and not logged again.
  void Fail(const std::string& file, const std::string& set_name,
            std::string hash, absl::string_view message, bool keep_previous) {
    ReloadReport::FileError e;
    e.file = file;
    e.set_name = set_name;
    e.message = std::string(message);
    if (auto prev = files_.find(file); prev != files_.end()) {
      e.repeated =
          prev->second.set == nullptr && prev->second.content_hash == hash &&
          prev->second.set_name == set_name && prev->second.error == e.message;
    }
    if (keep_previous && !set_name.empty()) {
      if (auto it = old_->sets.find(set_name); it != old_->sets.end()) {
        next_->sets[set_name] = it->second;
        e.kept_previous = true;
      }
    }
    next_files_[file] =
        FileState{std::move(hash), set_name, nullptr, e.message};
    report_->errors.push_back(std::move(e));
  }

  const RubricStore::Options& options_;
  const absl::flat_hash_map<std::string, FileState>& files_;
  const std::shared_ptr<const StoreSnapshot> old_;
  std::shared_ptr<StoreSnapshot> next_;
  absl::flat_hash_map<std::string, FileState> next_files_;
  absl::flat_hash_map<std::string, std::string> owner_;  // set -> file
  ReloadReport* report_;
};

ReloadReport RubricStore::Reload() {
  const absl::Time start = absl::Now();
  ReloadReport report;
  absl::MutexLock reload_lock(&reload_mu_);
  report.generation = snapshot()->generation;
  if (options_.dir.empty()) {
    ready_.store(true, std::memory_order_release);
  } else if (absl::StatusOr<std::vector<std::string>> names =
                 ListRubricFiles(options_.dir);
             !names.ok()) {
    // Keep everything: a directory that vanishes for a moment (remount,
    // typo in a volume swap) must not unload every rubric.
    report.dir_status = names.status();
  } else {
    ReloadDir(*names, &report);
  }
  report.duration = absl::Now() - start;
  // Still under reload_mu_, so that listeners see reports in order.
  NotifyListener(report);
  return report;
}

void RubricStore::ReloadDir(const std::vector<std::string>& names,
                            ReloadReport* report) {
  ReloadPass pass(options_, files_, snapshot(), report);
  for (const std::string& file : names) pass.Load(file);
  if (pass.Changed()) {
    std::shared_ptr<const StoreSnapshot> publish = pass.TakeSnapshot();
    report->generation = publish->generation;
    report->published = true;
    absl::MutexLock lock(&mu_);
    // The old snapshot is released outside the lock when `publish` (now
    // holding it) goes out of scope; requests still holding it keep it.
    std::swap(snapshot_, publish);
  }
  files_ = pass.TakeFiles();
  if (!snapshot()->sets.empty() || names.empty()) {
    ready_.store(true, std::memory_order_release);
  }
}

void RubricStore::NotifyListener(const ReloadReport& report) {
  std::function<void(const ReloadReport&)> listener;
  {
    absl::MutexLock lock(&listener_mu_);
    listener = listener_;
  }
  if (listener) listener(report);
}

void RubricStore::SetReloadListener(
    std::function<void(const ReloadReport&)> listener) {
  absl::MutexLock lock(&listener_mu_);
  listener_ = std::move(listener);
}

void RubricStore::Start() {
  absl::MutexLock lock(&thread_mu_);
  if (thread_.joinable()) return;
  stop_.store(false);
  thread_ = std::thread([this] { PollLoop(); });
}

void RubricStore::RequestReload() {
  const int saved_errno = errno;  // signal handlers must preserve errno
  reload_requested_.store(true);
  if (wake_fd_[1] >= 0) {
    ssize_t ignored = write(wake_fd_[1], "r", 1);
    (void)ignored;  // EAGAIN: a wake-up is already pending
  }
  errno = saved_errno;
}

void RubricStore::Stop() {
  absl::MutexLock lock(&thread_mu_);
  if (!thread_.joinable()) return;
  stop_.store(true);
  if (wake_fd_[1] >= 0) {
    ssize_t ignored = write(wake_fd_[1], "s", 1);
    (void)ignored;
  }
  thread_.join();
}

void RubricStore::PollLoop() {
  const absl::Duration interval = options_.poll_interval;
  const bool polling = interval > absl::ZeroDuration();
  absl::Time next_poll =
      polling ? absl::Now() + interval : absl::InfiniteFuture();
  while (!stop_.load()) {
    if (!reload_requested_.load()) {
      int timeout_ms = -1;
      if (polling) {
        const absl::Duration wait =
            std::max(next_poll - absl::Now(), absl::ZeroDuration());
        timeout_ms = static_cast<int>(std::min<int64_t>(
            absl::ToInt64Milliseconds(absl::Ceil(wait, absl::Milliseconds(1))),
            INT_MAX));
      }
      if (wake_fd_[0] < 0 && (timeout_ms < 0 || timeout_ms > 1000)) {
        timeout_ms = 1000;  // no self-pipe: look at the flags every second
      }
      if (timeout_ms != 0) {
        pollfd pfd{wake_fd_[0], POLLIN, 0};
        const int n = poll(&pfd, wake_fd_[0] >= 0 ? 1 : 0, timeout_ms);
        if (n > 0) {
          char buf[64];
          while (read(wake_fd_[0], buf, sizeof(buf)) > 0) {
          }
        }
      }
    }
    if (stop_.load()) break;
    const bool requested = reload_requested_.exchange(false);
    if (requested || absl::Now() >= next_poll) {
      Reload();
      if (polling) next_poll = absl::Now() + interval;
    }
  }
}

}  // namespace rewardd

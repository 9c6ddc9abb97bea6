// The versioned rubric store: every *.json / *.jsonl file of a directory is
// one rubric set (see rubric_loader.h), reloaded when files change, handed
// out as immutable snapshots so that requests in flight keep grading with
// the rubrics they started with.
//
//   RubricStore::Options options;
//   options.dir = "/etc/rewardd/rubrics";
//   RubricStore store(options);
//   ReloadReport report = store.Reload();        // initial load, at startup
//   for (const auto& e : report.errors) LOG(e.file, e.message);
//   store.SetReloadListener([](const ReloadReport& r) { /* metrics, logs */ });
//   store.Start();                                 // poll every 10 s
//   // SIGHUP handler: store.RequestReload();
//
//   // Per request: take the snapshot once and use it throughout.
//   std::shared_ptr<const StoreSnapshot> snap = store.snapshot();
//   if (const RubricSet* set = snap->Find("medical")) { ... }
//
// Reloads are copy-on-write: files are read and parsed with no lock held,
// then the new snapshot replaces the old one under a short lock. A file that
// fails to load keeps the previous version of its set; a deleted file
// removes its set; files whose bytes did not change are not parsed again.
// Kubernetes ConfigMap volumes work as mounted: their files are symlinks
// into a "..data" directory that is swapped atomically; names starting with
// '.' are skipped and symlinks are followed.
#ifndef REWARDD_SERVER_RUBRIC_RUBRIC_STORE_H_
#define REWARDD_SERVER_RUBRIC_RUBRIC_STORE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/rubric/rubric.h"
#include "server/rubric/rubric_loader.h"

namespace rewardd {

// The rubric sets in effect at one moment. Immutable; shared by every request
// that took it.
struct StoreSnapshot {
  // Increases by one with every published change; 0 is the empty snapshot
  // before the first load.
  uint64_t generation = 0;
  absl::flat_hash_map<std::string, std::shared_ptr<const RubricSet>> sets;

  // nullptr when absent. Valid as long as the snapshot is held.
  const RubricSet* Find(absl::string_view name) const;
  // Set names in lexicographic order (for listings).
  std::vector<std::string> SortedNames() const;
};

// What one Reload() did. Every name list is in file-name order.
struct ReloadReport {
  struct FileError {
    std::string file;      // file name within the directory
    std::string set_name;  // "" when the file name itself is invalid
    std::string message;   // names the line / record and field
    // The set keeps the version loaded before (from an earlier good file).
    bool kept_previous = false;
    // The same bytes failed last time too: already reported once (listeners
    // may log only new errors).
    bool repeated = false;
  };

  uint64_t generation = 0;  // of the snapshot in effect after the reload
  bool published = false;   // a new snapshot replaced the previous one
  // Not OK when the directory could not be listed; then nothing changed.
  absl::Status dir_status;
  std::vector<std::string> loaded;     // sets parsed now (new or changed)
  std::vector<std::string> unchanged;  // same bytes as before: not re-parsed
  std::vector<std::string> removed;    // file gone: set dropped
  std::vector<FileError> errors;       // files failing now (new or repeated)
  std::vector<std::string> warnings;   // from sets parsed now, e.g. skipped
                                       // records
  absl::Duration duration;

  bool ok() const { return dir_status.ok() && errors.empty(); }
};

// Thread-safety: every method may be called from any thread. snapshot() is
// cheap (a short shared lock and a reference count) and never waits for a
// reload in progress. Reload() calls are serialized among themselves.
// RequestReload() is async-signal-safe.
class RubricStore {
 public:
  struct Options {
    // Directory of rubric files. Empty: no files; the store stays empty and
    // is ready at once (inline rubrics only).
    std::string dir;
    // How often the polling thread (Start()) reloads. Zero: no polling,
    // reloads happen only on RequestReload() or direct Reload() calls.
    // Polling is cheap: unchanged files are read and hashed, not parsed.
    absl::Duration poll_interval = absl::Seconds(10);
    // Applied to every file.
    LoadLimits limits;
  };

  explicit RubricStore(Options options);
  ~RubricStore();  // Stop()s.
  RubricStore(const RubricStore&) = delete;
  RubricStore& operator=(const RubricStore&) = delete;

  // The sets in effect now; never null. Hold it for the whole request.
  std::shared_ptr<const StoreSnapshot> snapshot() const;

  // Reads the directory, parses new or changed files, publishes a new
  // snapshot if anything changed, then calls the reload listener. Blocks for
  // the file I/O; do not call it on a gRPC thread.
  ReloadReport Reload();

  // True once a reload has read the directory and then held at least one
  // set, or found no rubric files at all (and once true, stays true): a
  // directory of only broken files keeps the server not ready.
  bool ready() const { return ready_.load(std::memory_order_acquire); }

  // Starts the polling thread (no-op when already started). It reloads every
  // poll_interval and whenever RequestReload() is called. The first poll is
  // one interval after Start(): call Reload() first for the initial load.
  void Start();
  // Asks the polling thread to reload soon. Async-signal-safe (an atomic
  // store and a write(2) to a self-pipe), so a SIGHUP handler may call it.
  // A request made before Start() is served when the thread starts.
  void RequestReload();
  // Stops and joins the polling thread; idempotent.
  void Stop();

  // Called after every Reload() (from the polling thread or the caller of
  // Reload()), one call at a time, in order. Must not call Reload() or
  // Stop() (it would deadlock) and should be quick: it delays the next
  // reload.
  void SetReloadListener(std::function<void(const ReloadReport&)> listener);

  const Options& options() const { return options_; }

 private:
  // What the last reload saw of one file, to skip unchanged bytes.
  struct FileState {
    std::string content_hash;
    std::string set_name;
    std::shared_ptr<const RubricSet> set;  // null: these bytes failed
    std::string error;
  };

  // One pass over the directory's files (rubric_store.cc).
  class ReloadPass;

  // Reload() of a directory that lists `names`: builds the next snapshot
  // from changed files, publishes it when it differs from the current one,
  // and records what the pass saw of each file.
  void ReloadDir(const std::vector<std::string>& names, ReloadReport* report)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_);
  // Calls the reload listener, if any, with `report`.
  void NotifyListener(const ReloadReport& report);
  void PollLoop();

  const Options options_;

  mutable absl::Mutex mu_;
  std::shared_ptr<const StoreSnapshot> snapshot_ ABSL_GUARDED_BY(mu_);

  // Held for a whole reload, file I/O included: it only orders reloads
  // against each other; readers never take it.
  absl::Mutex reload_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  absl::flat_hash_map<std::string, FileState> files_
      ABSL_GUARDED_BY(reload_mu_);

  absl::Mutex listener_mu_;
  std::function<void(const ReloadReport&)> listener_
      ABSL_GUARDED_BY(listener_mu_);

  std::atomic<bool> ready_{false};

  // Polling thread. The self-pipe wakes it from RequestReload() and Stop();
  // -1 when pipe() failed, then the thread polls the flags once a second.
  std::atomic<bool> reload_requested_{false};
  std::atomic<bool> stop_{false};
  int wake_fd_[2] = {-1, -1};
  absl::Mutex thread_mu_;
  std::thread thread_ ABSL_GUARDED_BY(thread_mu_);
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_RUBRIC_RUBRIC_STORE_H_

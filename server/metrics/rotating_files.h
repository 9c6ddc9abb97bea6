// A directory of rotating JSONL files, `DIR/<prefix>-<UTC yyyymmddThhmmssZ>-
// <seq>.jsonl`: lines are appended to the newest file; once it reaches the
// size cap the next line opens a new file, and the oldest files beyond the
// total byte cap or the file-count cap are deleted. The tail log's storage
// (tail_log.h).
//
//   RotatingFiles files({.dir = "/var/lib/rewardd/tail", .prefix = "tail"});
//   if (absl::Status s = files.Append(line); !s.ok()) { /* count, log */ }
//
// A failed open or write is returned and closes the current file, so the
// next Append starts a new one (a directory that came back, a disk with
// room again). Files of other names in the directory are left alone.
//
// Thread-safety: not thread-safe; one writer thread owns it.
#ifndef REWARDD_SERVER_METRICS_ROTATING_FILES_H_
#define REWARDD_SERVER_METRICS_ROTATING_FILES_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace rewardd {

struct RotatingFilesOptions {
  std::string dir;
  std::string prefix = "tail";
  int64_t max_file_bytes = 64 << 20;
  int64_t max_total_bytes = int64_t{1} << 30;
  size_t max_files = 64;
  // The time in file names; absl::Now when empty.
  std::function<absl::Time()> clock;
};

class RotatingFiles {
 public:
  explicit RotatingFiles(RotatingFilesOptions options);
  ~RotatingFiles();
  RotatingFiles(const RotatingFiles&) = delete;
  RotatingFiles& operator=(const RotatingFiles&) = delete;

  // Appends `line` and a newline (one write).
  absl::Status Append(absl::string_view line);
  // Closes the current file (the next Append opens a new one).
  void Close();

  // The current file's path ("" when none is open).
  const std::string& current_path() const { return path_; }
  // Files deleted by the caps so far.
  uint64_t files_deleted() const { return files_deleted_; }

 private:
  absl::Status Open();
  // Deletes the oldest files beyond the caps (never the current one).
  void Prune();

  const RotatingFilesOptions options_;
  int fd_ = -1;
  std::string path_;
  int64_t bytes_ = 0;  // in the current file
  uint64_t seq_ = 0;
  uint64_t files_deleted_ = 0;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_METRICS_ROTATING_FILES_H_

#include "server/metrics/rotating_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace rewardd {

namespace fs = std::filesystem;

RotatingFiles::RotatingFiles(RotatingFilesOptions options)
    : options_(std::move(options)) {}

RotatingFiles::~RotatingFiles() { Close(); }

void RotatingFiles::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  path_.clear();
  bytes_ = 0;
}

absl::Status RotatingFiles::Open() {
  const absl::Time now = options_.clock ? options_.clock() : absl::Now();
  const std::string stamp =
      absl::FormatTime("%Y%m%dT%H%M%SZ", now, absl::UTCTimeZone());
  // O_EXCL: a name left by an earlier run (same second, same sequence
  // number) is skipped rather than appended to.
  for (int attempt = 0; attempt < 1000; ++attempt) {
    std::string path = absl::StrFormat("%s/%s-%s-%06d.jsonl", options_.dir,
                                       options_.prefix, stamp, seq_++);
    const int fd = ::open(
        path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      fd_ = fd;
      path_ = std::move(path);
      bytes_ = 0;
      Prune();
      return absl::OkStatus();
    }
    if (errno != EEXIST) {
      return absl::UnavailableError(
          absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
    }
  }
  return absl::UnavailableError(
      absl::StrCat("cannot create a new file in ", options_.dir));
}

absl::Status RotatingFiles::Append(absl::string_view line) {
  if (fd_ >= 0 && bytes_ > 0 &&
      bytes_ + static_cast<int64_t>(line.size()) + 1 >
          options_.max_file_bytes) {
    Close();
  }
  if (fd_ < 0) {
    if (absl::Status s = Open(); !s.ok()) return s;
  }
  const std::string data = absl::StrCat(line, "\n");
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = n < 0 ? errno : EIO;
      const std::string path = path_;
      Close();
      return absl::UnavailableError(
          absl::StrCat("cannot write ", path, ": ", std::strerror(error)));
    }
    done += static_cast<size_t>(n);
  }
  bytes_ += static_cast<int64_t>(data.size());
  return absl::OkStatus();
}

void RotatingFiles::Prune() {
  struct File {
    std::string name;
    fs::path path;
    int64_t bytes;
  };
  std::vector<File> files;
  std::error_code ec;
  const std::string head = options_.prefix + "-";
  for (fs::directory_iterator it(options_.dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!absl::StartsWith(name, head) || !absl::EndsWith(name, ".jsonl")) {
      continue;
    }
    std::error_code size_ec;
    const auto size = fs::file_size(it->path(), size_ec);
    files.push_back(
        {name, it->path(), size_ec ? 0 : static_cast<int64_t>(size)});
  }
  // Names sort by time, then sequence number: oldest first.
  std::sort(files.begin(), files.end(),
            [](const File& a, const File& b) { return a.name < b.name; });
  int64_t total = 0;
  for (const File& f : files) total += f.bytes;
  size_t count = files.size();
  // Room for the new file to grow to its cap: the total never exceeds
  // max_total_bytes (when it is at least max_file_bytes).
  for (const File& f : files) {
    if (total + options_.max_file_bytes <= options_.max_total_bytes &&
        count <= options_.max_files) {
      break;
    }
    if (f.path.string() == path_) continue;
    std::error_code remove_ec;
    if (fs::remove(f.path, remove_ec)) {
      ++files_deleted_;
      total -= f.bytes;
      --count;
    }
  }
}

}  // namespace rewardd

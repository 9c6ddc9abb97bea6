#include "client/cli/atomic_file_set.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace rewardd::cli {
namespace {

// Writes `contents` to `temp`; errors name `target`, the file the user
// asked for.
absl::Status WriteWhole(const std::string& temp, const std::string& target,
                        const std::string& contents) {
  std::FILE* f = std::fopen(temp.c_str(), "wb");
  if (f == nullptr) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot write ", target, ": ", std::strerror(errno)));
  }
  const bool written =
      std::fwrite(contents.data(), 1, contents.size(), f) == contents.size() &&
      std::fflush(f) == 0 && fsync(fileno(f)) == 0;
  const int write_errno = errno;
  if (std::fclose(f) != 0 || !written) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot write ", target, ": ",
                     std::strerror(written ? errno : write_errno)));
  }
  return absl::OkStatus();
}

// ".<name>.tmp-<pid>" in the target's directory: rename() stays within one
// file system, and a hidden name is skipped by directory pollers such as
// rewardd's --rubric_dir.
std::string TempName(const std::string& path) {
  const size_t slash = path.rfind('/');
  const size_t name = slash == std::string::npos ? 0 : slash + 1;
  return absl::StrCat(path.substr(0, name), ".", path.substr(name), ".tmp-",
                      getpid());
}

}  // namespace

absl::Status WriteFilesAtomically(
    const std::vector<std::pair<std::string, std::string>>& files) {
  std::vector<std::string> temps;
  for (const auto& [path, contents] : files) {
    temps.push_back(TempName(path));
    if (absl::Status s = WriteWhole(temps.back(), path, contents); !s.ok()) {
      for (const std::string& t : temps) std::remove(t.c_str());
      return s;
    }
  }
  for (size_t i = 0; i < files.size(); ++i) {
    if (std::rename(temps[i].c_str(), files[i].first.c_str()) != 0) {
      const int rename_errno = errno;
      for (size_t j = i; j < temps.size(); ++j) std::remove(temps[j].c_str());
      return absl::PermissionDeniedError(absl::StrCat(
          "cannot write ", files[i].first, ": ", std::strerror(rename_errno)));
    }
  }
  return absl::OkStatus();
}

}  // namespace rewardd::cli

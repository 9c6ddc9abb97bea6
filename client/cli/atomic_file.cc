#include "client/cli/atomic_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace rewardd::cli {
namespace {

absl::Status WriteWhole(const std::string& path, const std::string& contents) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
  }
  const bool written =
      std::fwrite(contents.data(), 1, contents.size(), f) == contents.size() &&
      std::fflush(f) == 0 && fsync(fileno(f)) == 0;
  const int write_errno = errno;
  if (std::fclose(f) != 0 || !written) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot write ", path, ": ",
                     std::strerror(written ? errno : write_errno)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteFilesAtomically(
    const std::vector<std::pair<std::string, std::string>>& files) {
  std::vector<std::string> temps;
  const std::string suffix = absl::StrCat(".tmp.", getpid());
  for (const auto& [path, contents] : files) {
    temps.push_back(path + suffix);
    if (absl::Status s = WriteWhole(temps.back(), contents); !s.ok()) {
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

// WriteFileAtomically: replaces a file so that readers (and a later resumed
// run, and rewardd's --rubric_dir poller) only ever see the old or the new
// content, never a partial one: the content goes to a hidden temporary file
// in the same directory (".<name>.tmp-<pid>", which the rubric store
// ignores), is flushed to disk and renamed over the target.
//
//   absl::Status s = WriteFileAtomically("out/set.rewardd.json", json_text);
//
// Thread-safety: reentrant; concurrent writers of one path must be serialized
// by the caller (the temporary name is per process).
#ifndef REWARDD_CLIENT_CLI_ATOMIC_FILE_H_
#define REWARDD_CLIENT_CLI_ATOMIC_FILE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rewardd::cli {

absl::Status WriteFileAtomically(const std::string& path,
                                 absl::string_view content);

// The whole file; NOT_FOUND when it does not exist, another error naming
// the path when it cannot be read.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path);

}  // namespace rewardd::cli

#endif  // REWARDD_CLIENT_CLI_ATOMIC_FILE_H_

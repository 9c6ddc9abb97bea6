// Writes output files so a reader never sees half of one: each file goes to
// a temporary name beside it first and is renamed over the target only when
// every file of the call was written completely. A failure leaves the
// targets as they were (and removes the temporaries).
//
//   absl::Status s = WriteFilesAtomically({{"refine.jsonl", refine_text},
//                                          {"groups.jsonl", groups_text}});
//   if (!s.ok()) ...  // "groups.jsonl: cannot write ...: No space left"
//
// Thread-safety: stateless; concurrent calls must name different files.
#ifndef REWARDD_CLIENT_CLI_ATOMIC_FILE_H_
#define REWARDD_CLIENT_CLI_ATOMIC_FILE_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace rewardd::cli {

// (path, contents) pairs. An error names the path that failed.
absl::Status WriteFilesAtomically(
    const std::vector<std::pair<std::string, std::string>>& files);

}  // namespace rewardd::cli

#endif  // REWARDD_CLIENT_CLI_ATOMIC_FILE_H_

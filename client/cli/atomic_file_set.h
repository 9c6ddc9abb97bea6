// Writes a set of output files that belong together (tail-dataset's refine
// input and eval groups) so a reader never sees half of one and none is
// replaced unless all were written: each file goes to a hidden temporary
// beside it (".<name>.tmp-<pid>", flushed to disk) and the temporaries are
// renamed over the targets only when every one is complete. A failed write
// leaves the targets as they were and removes the temporaries. (The renames
// are one after another: only a rename failing between two of them, which
// in one directory takes e.g. a target turned into a directory, leaves the
// earlier ones replaced.)
//
//   absl::Status s = WriteFilesAtomically({{"refine.jsonl", refine_text},
//                                          {"groups.jsonl", groups_text}});
//   if (!s.ok()) ...  // "groups.jsonl: cannot write ...: No space left"
//
// Thread-safety: stateless; concurrent calls must name different files.
#ifndef REWARDD_CLIENT_CLI_ATOMIC_FILE_SET_H_
#define REWARDD_CLIENT_CLI_ATOMIC_FILE_SET_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace rewardd::cli {

// (path, contents) pairs. An error names the path that failed.
absl::Status WriteFilesAtomically(
    const std::vector<std::pair<std::string, std::string>>& files);

}  // namespace rewardd::cli

#endif  // REWARDD_CLIENT_CLI_ATOMIC_FILE_SET_H_

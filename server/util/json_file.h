// Reading small config files (prompt templates, scripts) whole: as text, or
// as a JSON object, with errors that name the file.
//
//   absl::StatusOr<nlohmann::json> j = ReadJsonObjectFile(path);
//   if (!j.ok()) return j.status();  // "<path>: not a JSON object", ...
//   std::string dir = FileDirectory(path);  // for relative *_file paths
//
// Thread-safety: stateless.
#ifndef REWARDD_SERVER_UTIL_JSON_FILE_H_
#define REWARDD_SERVER_UTIL_JSON_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace rewardd {

// NOT_FOUND ("cannot read <path>") when the file cannot be opened.
absl::StatusOr<std::string> ReadTextFile(const std::string& path);

// INVALID_ARGUMENT ("<path>: not a JSON object") unless the file holds one.
absl::StatusOr<nlohmann::json> ReadJsonObjectFile(const std::string& path);

// The directory part of `path` ("." when it has none).
std::string FileDirectory(const std::string& path);

}  // namespace rewardd

#endif  // REWARDD_SERVER_UTIL_JSON_FILE_H_

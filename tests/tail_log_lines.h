// Reads a tail log directory (server/metrics/tail_log.h) back for a test:
// its files in name order (oldest first) and every line of them, parsed.
//
//   for (const nlohmann::json& record : ReadTailLog(dir)) { ... }
//
// Thread-safety: plain functions; call them while nothing writes the log.
#ifndef REWARDD_TESTS_TAIL_LOG_LINES_H_
#define REWARDD_TESTS_TAIL_LOG_LINES_H_

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace rewardd::testing {

// Every file of `dir`, sorted by name.
inline std::vector<std::filesystem::path> TailLogFiles(const std::string& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Every line of every file of `dir`, parsed (throws on a line that is not
// JSON: the writer must never leave one).
inline std::vector<nlohmann::json> ReadTailLog(const std::string& dir) {
  std::vector<nlohmann::json> out;
  for (const std::filesystem::path& f : TailLogFiles(dir)) {
    std::ifstream in(f);
    for (std::string line; std::getline(in, line);) {
      out.push_back(nlohmann::json::parse(line));
    }
  }
  return out;
}

}  // namespace rewardd::testing

#endif  // REWARDD_TESTS_TAIL_LOG_LINES_H_

// Structured logs: one JSON object per line on stderr, e.g.
//   {"ts":"2026-11-26T08:00:00.123Z","level":"info","event":"reload","sets":4}
//
//   Log(LogLevel::kInfo, "listening", {{"address", addr}});
//
// Never pass secrets or response texts: logs leave the pod.
// Thread-safety: safe from any thread; one line is written atomically.
#ifndef REWARDD_SERVER_UTIL_LOG_H_
#define REWARDD_SERVER_UTIL_LOG_H_

#include <initializer_list>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"

namespace rewardd {

enum class LogLevel { kDebug = 0, kInfo, kWarning, kError };

// Lines below `level` are dropped. Default kInfo.
void SetLogLevel(LogLevel level);
bool ParseLogLevel(absl::string_view name, LogLevel* level);

using LogField = std::pair<absl::string_view, std::string>;
void Log(LogLevel level, absl::string_view event,
         std::initializer_list<LogField> fields = {});

}  // namespace rewardd

#endif  // REWARDD_SERVER_UTIL_LOG_H_

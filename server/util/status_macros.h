// Early-return helpers for absl::Status and absl::StatusOr, so that a
// function that calls several fallible steps reads as the steps:
//
//   absl::StatusOr<Config> ReadConfig(absl::string_view path) {
//     REWARDD_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
//     REWARDD_ASSIGN_OR_RETURN(nlohmann::json json, ParseJson(text));
//     REWARDD_RETURN_IF_ERROR(Validate(json));
//     return ConfigFrom(json);
//   }
//
// Both return the failed status unchanged (code and message), so the caller
// sees the error of the step that failed. Each evaluates `expr` once.
#ifndef REWARDD_SERVER_UTIL_STATUS_MACROS_H_
#define REWARDD_SERVER_UTIL_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Evaluates `expr` (an absl::Status); returns it from the enclosing
// function when it is not OK.
#define REWARDD_RETURN_IF_ERROR(expr)                  \
  do {                                                 \
    const ::absl::Status rewardd_status_ = (expr);     \
    if (!rewardd_status_.ok()) return rewardd_status_; \
  } while (0)

// Evaluates `expr` (an absl::StatusOr<T>); returns its status from the
// enclosing function on error, otherwise moves the value into `lhs` (a
// declaration such as `std::string s`, or an lvalue).
#define REWARDD_ASSIGN_OR_RETURN(lhs, expr) \
  REWARDD_ASSIGN_OR_RETURN_IMPL_(           \
      REWARDD_STATUS_MACROS_CONCAT_(rewardd_status_or_, __LINE__), lhs, expr)

// Implementation details follow.
#define REWARDD_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return std::move(tmp).status();       \
  lhs = std::move(tmp).value()
#define REWARDD_STATUS_MACROS_CONCAT_(a, b) REWARDD_STATUS_MACROS_CONCAT2_(a, b)
#define REWARDD_STATUS_MACROS_CONCAT2_(a, b) a##b

#endif  // REWARDD_SERVER_UTIL_STATUS_MACROS_H_

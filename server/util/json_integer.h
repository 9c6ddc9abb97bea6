// Checked integer reads from nlohmann::json, for operator-written config
// files.
//
// nlohmann's `value.get<int>()` converts a JSON float with a plain C++ cast,
// which is undefined behaviour when the number does not fit (`1e30` into an
// int64), and silently wraps a negative number into an unsigned type. A
// config typo must give an error naming the field, so config readers use
// GetInteger instead:
//
//   try {
//     options.max_queue_size = GetInteger<size_t>(doc["max_queue_size"]);
//   } catch (const std::exception& e) {
//     return absl::InvalidArgumentError(
//         absl::StrCat("max_queue_size: ", e.what()));
//   }
//
// Accepts JSON integers, and floats with no fractional part (`5.0`), when
// they fit T. Throws nlohmann::json::type_error for non-numbers (as get<>
// does) and std::out_of_range, with a message saying what is accepted, for
// numbers that do not fit or are not whole.
//
// Thread-safety: stateless.
#ifndef REWARDD_SERVER_UTIL_JSON_INTEGER_H_
#define REWARDD_SERVER_UTIL_JSON_INTEGER_H_

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "nlohmann/json.hpp"

namespace rewardd {

template <typename T>
T GetInteger(const nlohmann::json& value) {
  static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>);
  using Limits = std::numeric_limits<T>;
  auto out_of_range = [] {
    return std::out_of_range("must be a whole number in [" +
                             std::to_string(Limits::min()) + ", " +
                             std::to_string(Limits::max()) + "]");
  };
  if (value.is_number_unsigned()) {
    const uint64_t u = value.get<uint64_t>();
    if (u > static_cast<uint64_t>(Limits::max())) throw out_of_range();
    return static_cast<T>(u);
  }
  if (value.is_number_integer()) {
    const int64_t i = value.get<int64_t>();
    if constexpr (std::is_unsigned_v<T>) {
      if (i < 0 || static_cast<uint64_t>(i) > Limits::max())
        throw out_of_range();
    } else {
      if (i < static_cast<int64_t>(Limits::min()) ||
          i > static_cast<int64_t>(Limits::max()))
        throw out_of_range();
    }
    return static_cast<T>(i);
  }
  if (value.is_number_float()) {
    const double d = value.get<double>();
    // 2^digits is the first value past T's range and exactly representable
    // as a double; min() is 0 or -2^digits, also exact.
    const double upper = std::ldexp(1.0, Limits::digits);
    if (!(d >= static_cast<double>(Limits::min()) && d < upper) ||
        d != std::trunc(d)) {
      throw out_of_range();
    }
    return static_cast<T>(d);
  }
  // Not a number: let nlohmann raise its usual type_error.
  return value.get<T>();
}

}  // namespace rewardd

#endif  // REWARDD_SERVER_UTIL_JSON_INTEGER_H_

// Finds numbers in free text the way people write them: "42", "-3.5",
// "1,234,567.89", "6.02e23", ".5", "−7" (U+2212 minus). Shared by the numeric
// check and the lexical heuristic so both read numbers alike.
//
//   size_t pos = 0;
//   while (std::optional<ScannedNumber> n = FindNumber(text, pos)) {
//     Use(n->value);
//     pos = n->end;
//   }
//
// Rules: a sign counts only when the character before it is not a letter or
// digit ("x-3" is 3, "= -3" is -3). A comma is a thousands separator only
// after a first group of 1-3 digits and before exactly three digits
// ("1,234" is 1234; "1,23" and "1, 2" are two numbers each). A '.' is a
// decimal point only when a digit follows ("3." is 3). Fractions ("3/4") and
// percentages are read as their plain numbers (3, 4; "50%" is 50).
//
// Thread-safety: pure functions; safe from any thread.
#ifndef REWARDD_SERVER_JUDGE_EMBEDDED_NUMBER_SCANNER_H_
#define REWARDD_SERVER_JUDGE_EMBEDDED_NUMBER_SCANNER_H_

#include <cstddef>
#include <optional>

#include "absl/strings/string_view.h"

namespace rewardd {

struct ScannedNumber {
  size_t begin = 0;  // byte offsets into the scanned text: [begin, end)
  size_t end = 0;
  double value = 0;
};

// The first number that starts at or after byte `pos` of `text`.
std::optional<ScannedNumber> FindNumber(absl::string_view text, size_t pos);

}  // namespace rewardd

#endif  // REWARDD_SERVER_JUDGE_EMBEDDED_NUMBER_SCANNER_H_

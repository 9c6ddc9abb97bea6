#include "server/judge/embedded/number_scanner.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"

namespace rewardd {
namespace {

// U+2212 MINUS SIGN in UTF-8; models and typeset text use it for negatives.
constexpr absl::string_view kUnicodeMinus = "\xE2\x88\x92";

bool IsDigitAt(absl::string_view text, size_t i) {
  return i < text.size() &&
         absl::ascii_isdigit(static_cast<unsigned char>(text[i]));
}

// A sign may open a number only when it does not continue a word or a number
// ("x-3", "3-4": the '-' is a hyphen or an operator, not a sign).
bool SignAllowedAfter(absl::string_view text, size_t sign_pos) {
  if (sign_pos == 0) return true;
  return !absl::ascii_isalnum(static_cast<unsigned char>(text[sign_pos - 1]));
}

// Length of the sign at `i` (0 when none): '-', '+' or U+2212.
size_t SignLength(absl::string_view text, size_t i) {
  if (text[i] == '-' || text[i] == '+') return 1;
  if (text.substr(i, kUnicodeMinus.size()) == kUnicodeMinus) {
    return kUnicodeMinus.size();
  }
  return 0;
}

// Whether a number body (digits, or '.' then a digit) starts at `i`.
bool BodyStartsAt(absl::string_view text, size_t i) {
  if (IsDigitAt(text, i)) return true;
  return i < text.size() && text[i] == '.' && IsDigitAt(text, i + 1) &&
         (i == 0 ||
          !absl::ascii_isdigit(static_cast<unsigned char>(text[i - 1])));
}

size_t SkipDigits(absl::string_view text, size_t i) {
  while (IsDigitAt(text, i)) ++i;
  return i;
}

}  // namespace

std::optional<ScannedNumber> FindNumber(absl::string_view text, size_t pos) {
  for (size_t i = pos; i < text.size(); ++i) {
    size_t body = i;
    bool negative = false;
    if (size_t sign = SignLength(text, i); sign > 0) {
      if (!SignAllowedAfter(text, i) || !BodyStartsAt(text, i + sign)) continue;
      negative = text[i] != '+';
      body = i + sign;
    } else if (!BodyStartsAt(text, i)) {
      continue;
    }

    // Integer part, with thousands groups only after a 1-3 digit lead.
    std::string cleaned;
    if (negative) cleaned.push_back('-');
    size_t j = SkipDigits(text, body);
    cleaned.append(text.data() + body, j - body);
    if (j - body >= 1 && j - body <= 3) {
      while (j < text.size() && text[j] == ',' && IsDigitAt(text, j + 1) &&
             IsDigitAt(text, j + 2) && IsDigitAt(text, j + 3) &&
             !IsDigitAt(text, j + 4)) {
        cleaned.append(text.data() + j + 1, 3);
        j += 4;
      }
    }
    // Fraction.
    if (j < text.size() && text[j] == '.' && IsDigitAt(text, j + 1)) {
      const size_t end = SkipDigits(text, j + 1);
      cleaned.append(text.data() + j, end - j);
      j = end;
    }
    // Exponent: only when digits follow, so "3 eggs" and "5e" stay plain.
    if (j < text.size() && (text[j] == 'e' || text[j] == 'E')) {
      size_t k = j + 1;
      if (k < text.size() && (text[k] == '+' || text[k] == '-')) ++k;
      if (IsDigitAt(text, k)) {
        const size_t end = SkipDigits(text, k);
        cleaned.push_back('e');
        cleaned.append(text.data() + j + 1, end - j - 1);
        j = end;
      }
    }
    ScannedNumber n;
    n.begin = i;
    n.end = j;
    // Locale-independent, unlike strtod. The scanned text is always valid.
    if (!absl::SimpleAtod(cleaned, &n.value)) n.value = 0;
    return n;
  }
  return std::nullopt;
}

}  // namespace rewardd

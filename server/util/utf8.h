// UTF-8 helpers without ICU, shared by the embedded judge's check evaluator
// (char_count checks, quotes cut in explanations) and its lexical heuristic
// (tokens, lowercasing). Malformed input is never rejected: a bad byte
// decodes as U+FFFD and counts as one code point.
//
//   char32_t cp;
//   for (size_t i = 0; i < s.size();) i += DecodeUtf8(s, i, &cp);
//   CountUtf8CodePoints("naïve");       // 5
//   Utf8Prefix("naïve", 3);             // "na": never half a code point
//   LowerUtf8("ÉCOLE Ωmega");           // "école ωmega", same byte length
//
// Thread-safety: pure functions; safe from any thread.
#ifndef REWARDD_SERVER_UTIL_UTF8_H_
#define REWARDD_SERVER_UTIL_UTF8_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace rewardd {

// True for a continuation byte (10xxxxxx), which does not start a code
// point.
inline bool IsUtf8Continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Decodes the code point at byte `i` of `s` (i < s.size()); returns its byte
// length (1 for a malformed byte, decoded as U+FFFD so it is never a
// letter).
size_t DecodeUtf8(absl::string_view s, size_t i, char32_t* cp);

// Code points in `s`: the bytes that are not continuation bytes (malformed
// UTF-8 is counted approximately).
int64_t CountUtf8CodePoints(absl::string_view s);

// `s` cut to at most `max_bytes` bytes, backing up to the start of a code
// point so the cut never splits one. `s` itself when it fits.
absl::string_view Utf8Prefix(absl::string_view s, size_t max_bytes);

// Letters: ASCII letters and every non-ASCII code point outside the common
// punctuation and symbol blocks. Without ICU this is an approximation that
// keeps Latin, Greek, Cyrillic, CJK, ... words together and splits on
// “quotes”, dashes, arrows, emoji and the like.
bool IsLetter(char32_t cp);

// Lowercases `s` for the alphabets rubrics are written in (ASCII, Latin-1,
// Greek, Cyrillic). The mapping preserves UTF-8 byte lengths, so offsets
// into the result are offsets into `s` (the heuristic's tokenizer relies on
// it).
std::string LowerUtf8(absl::string_view s);

}  // namespace rewardd

#endif  // REWARDD_SERVER_UTIL_UTF8_H_

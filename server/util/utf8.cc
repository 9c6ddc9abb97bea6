#include "server/util/utf8.h"

#include "absl/strings/ascii.h"

namespace rewardd {
namespace {

// Lowercase for the alphabets rubrics are written in; a length-preserving
// mapping (in UTF-8 bytes), so lowered text lines up with the original.
char32_t Lower(char32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 32;
  if (cp < 0xC0) return cp;
  if (cp <= 0xDE && cp != 0xD7) return cp + 32;                   // Latin-1
  if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) return cp + 32;  // Greek
  if (cp >= 0x410 && cp <= 0x42F) return cp + 32;                 // Cyrillic
  if (cp >= 0x400 && cp <= 0x40F) return cp + 80;                 // Ѐ..Џ
  return cp;
}

}  // namespace

size_t DecodeUtf8(absl::string_view s, size_t i, char32_t* cp) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  size_t len;
  char32_t v;
  if ((c & 0xE0) == 0xC0) {
    len = 2;
    v = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    v = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    v = c & 0x07;
  } else {
    *cp = 0xFFFD;
    return 1;
  }
  if (i + len > s.size()) {
    *cp = 0xFFFD;
    return 1;
  }
  for (size_t k = 1; k < len; ++k) {
    const unsigned char cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) {
      *cp = 0xFFFD;
      return 1;
    }
    v = (v << 6) | (cc & 0x3F);
  }
  *cp = v;
  return len;
}

bool IsLetter(char32_t cp) {
  if (cp < 0x80) return absl::ascii_isalpha(static_cast<unsigned char>(cp));
  if (cp <= 0xBF || cp == 0xD7 || cp == 0xF7) return false;  // Latin-1 symbols
  if (cp >= 0x2000 && cp <= 0x2BFF) return false;  // punctuation, symbols
  if (cp >= 0x3000 && cp <= 0x303F) return false;  // CJK punctuation
  if (cp >= 0xFE30 && cp <= 0xFE4F) return false;
  if (cp >= 0xFF00 && cp <= 0xFF20) return false;    // fullwidth punctuation
  if (cp >= 0x1F000 && cp <= 0x1FAFF) return false;  // emoji
  if (cp == 0xFFFD) return false;
  return true;
}

std::string LowerUtf8(absl::string_view s) {
  std::string out(s);
  for (size_t i = 0; i < out.size();) {
    const unsigned char c = static_cast<unsigned char>(out[i]);
    if (c < 0x80) {
      out[i] = absl::ascii_tolower(c);
      ++i;
      continue;
    }
    char32_t cp;
    const size_t len = DecodeUtf8(out, i, &cp);
    const char32_t lower = Lower(cp);
    if (lower != cp) {
      // Every mapping in Lower() keeps the 2-byte UTF-8 length.
      if (len == 2 && lower < 0x800) {
        out[i] = static_cast<char>(0xC0 | (lower >> 6));
        out[i + 1] = static_cast<char>(0x80 | (lower & 0x3F));
      }
    }
    i += len;
  }
  return out;
}

int64_t CountUtf8CodePoints(absl::string_view s) {
  int64_t n = 0;
  for (char c : s) {
    if (!IsUtf8Continuation(static_cast<unsigned char>(c))) ++n;
  }
  return n;
}

absl::string_view Utf8Prefix(absl::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  size_t cut = max_bytes;
  while (cut > 0 && IsUtf8Continuation(static_cast<unsigned char>(s[cut]))) {
    --cut;
  }
  return s.substr(0, cut);
}

}  // namespace rewardd

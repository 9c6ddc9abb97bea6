#include "server/util/substring_search.h"

#include <cstring>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace rewardd {

size_t FindSubstring(std::string_view haystack, std::string_view needle) {
  const size_t n = needle.size();
  const size_t len = haystack.size();
  if (n == 0) return 0;
  if (n > len) return std::string_view::npos;
  const char* const hay = haystack.data();
  if (n == 1) {
    const void* hit = std::memchr(hay, needle[0], len);
    return hit == nullptr ? std::string_view::npos
                          : static_cast<const char*>(hit) - hay;
  }
#ifdef __SSE2__
  // Candidate starts i have hay[i] == needle[0] and hay[i + n - 1] ==
  // needle[n - 1]; 16 starts per step. A step reads hay[i .. i + n + 14],
  // so it runs while that stays inside the haystack.
  const __m128i first = _mm_set1_epi8(needle[0]);
  const __m128i last = _mm_set1_epi8(needle[n - 1]);
  const char* const middle = needle.data() + 1;
  const size_t middle_len = n - 2;
  size_t i = 0;
  for (; i + n + 15 <= len; i += 16) {
    const __m128i a =
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(hay + i));
    const __m128i b =
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(hay + i + n - 1));
    unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(
        _mm_and_si128(_mm_cmpeq_epi8(a, first), _mm_cmpeq_epi8(b, last))));
    while (mask != 0) {
      const unsigned bit = static_cast<unsigned>(__builtin_ctz(mask));
      if (std::memcmp(hay + i + bit + 1, middle, middle_len) == 0) {
        return i + bit;
      }
      mask &= mask - 1;
    }
  }
  // The last starts (fewer than 16): the plain search over the rest.
  const size_t rest = haystack.substr(i).find(needle);
  return rest == std::string_view::npos ? rest : i + rest;
#else
  return haystack.find(needle);
#endif
}

}  // namespace rewardd

#include "server/util/substring_search.h"

#include <cstring>

#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define REWARDD_SUBSTRING_AVX2 1
#endif

namespace rewardd {
namespace {

#ifdef REWARDD_SUBSTRING_AVX2
// 32 candidate starts per step where the CPU has AVX2 (checked once at run
// time: the build targets baseline x86-64). Same filter as the SSE2 loop.
// Returns the match, or npos with *next at the first start not examined.
__attribute__((target("avx2"))) size_t FindAvx2(const char* hay, size_t len,
                                                std::string_view needle,
                                                size_t* next) {
  const size_t n = needle.size();
  const __m256i first = _mm256_set1_epi8(needle[0]);
  const __m256i last = _mm256_set1_epi8(needle[n - 1]);
  size_t i = 0;
  for (; i + n + 31 <= len; i += 32) {
    const __m256i a =
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(hay + i));
    const __m256i b =
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(hay + i + n - 1));
    uint32_t mask = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_and_si256(
        _mm256_cmpeq_epi8(a, first), _mm256_cmpeq_epi8(b, last))));
    while (mask != 0) {
      const unsigned bit = static_cast<unsigned>(__builtin_ctz(mask));
      if (std::memcmp(hay + i + bit + 1, needle.data() + 1, n - 2) == 0) {
        return i + bit;
      }
      mask &= mask - 1;
    }
  }
  *next = i;
  return std::string_view::npos;
}

bool HasAvx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}
#endif

}  // namespace

namespace internal {

size_t FindSubstringWith(std::string_view haystack, std::string_view needle,
                         bool allow_avx2) {
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
  size_t i = 0;
#ifdef REWARDD_SUBSTRING_AVX2
  if (allow_avx2) {
    const size_t found = FindAvx2(hay, len, needle, &i);
    if (found != std::string_view::npos) return found;
  }
#else
  (void)allow_avx2;
#endif
#ifdef __SSE2__
  // Candidate starts i have hay[i] == needle[0] and hay[i + n - 1] ==
  // needle[n - 1]; 16 starts per step. A step reads hay[i .. i + n + 14],
  // so it runs while that stays inside the haystack.
  const __m128i first = _mm_set1_epi8(needle[0]);
  const __m128i last = _mm_set1_epi8(needle[n - 1]);
  for (; i + n + 15 <= len; i += 16) {
    const __m128i a =
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(hay + i));
    const __m128i b =
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(hay + i + n - 1));
    unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(
        _mm_and_si128(_mm_cmpeq_epi8(a, first), _mm_cmpeq_epi8(b, last))));
    while (mask != 0) {
      const unsigned bit = static_cast<unsigned>(__builtin_ctz(mask));
      if (std::memcmp(hay + i + bit + 1, needle.data() + 1, n - 2) == 0) {
        return i + bit;
      }
      mask &= mask - 1;
    }
  }
#endif
  // The last starts (fewer than a step): the plain search over the rest.
  const size_t rest = haystack.substr(i).find(needle);
  return rest == std::string_view::npos ? rest : i + rest;
}

}  // namespace internal

size_t FindSubstring(std::string_view haystack, std::string_view needle) {
#ifdef REWARDD_SUBSTRING_AVX2
  return internal::FindSubstringWith(haystack, needle, HasAvx2());
#else
  return internal::FindSubstringWith(haystack, needle, false);
#endif
}

}  // namespace rewardd

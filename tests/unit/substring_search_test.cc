// FindSubstring must answer exactly what std::string_view::find answers: it
// decides `contains` verdicts and which regexes the prefilter skips.
#include "server/util/substring_search.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace rewardd {
namespace {

TEST(SubstringSearchTest, AgreesWithStdFindOnRandomTextOverSmallAlphabets) {
  std::mt19937 rng(7);
  // Small alphabets make first/last-byte candidates that fail in the
  // middle frequent, and real matches land at every offset. Haystacks up
  // to 200 bytes: the 32-wide loop, the 16-wide loop and the tail all run.
  for (int alphabet : {2, 3, 4, 26}) {
    std::uniform_int_distribution<int> letter(0, alphabet - 1);
    for (int round = 0; round < 4000; ++round) {
      std::string hay(rng() % 200, ' ');
      for (char& c : hay) c = static_cast<char>('a' + letter(rng));
      std::string needle(rng() % 12, ' ');
      for (char& c : needle) c = static_cast<char>('a' + letter(rng));
      // Half the time take the needle from the haystack itself.
      if (!hay.empty() && round % 2 == 0) {
        const size_t at = rng() % hay.size();
        needle = hay.substr(at, 1 + rng() % 20);
      }
      // An exact-size buffer, no terminator: under ASan (CI's second pass)
      // a read one byte past the haystack fails the test.
      const std::vector<char> exact(hay.begin(), hay.end());
      const std::string_view view(exact.data(), exact.size());
      const size_t expected = std::string_view(hay).find(needle);
      ASSERT_EQ(FindSubstring(view, needle), expected)
          << "haystack '" << hay << "' needle '" << needle << "'";
      // The SSE2 path too, where the machine would take the AVX2 one.
      ASSERT_EQ(internal::FindSubstringWith(view, needle, false), expected)
          << "haystack '" << hay << "' needle '" << needle << "'";
    }
  }
}

TEST(SubstringSearchTest, FindsTheFirstOccurrenceAtEveryPosition) {
  const std::string needle = "cavernous sinus";
  for (size_t len = needle.size(); len < 100; ++len) {
    for (size_t at = 0; at + needle.size() <= len; ++at) {
      std::string hay(len, 'c');  // the needle's first byte everywhere
      hay.replace(at, needle.size(), needle);
      for (bool avx2 : {true, false}) {
        ASSERT_EQ(internal::FindSubstringWith(hay, needle, avx2), at)
            << "len " << len;
        // A later copy must not win.
        ASSERT_EQ(internal::FindSubstringWith(hay + needle, needle, avx2), at)
            << "len " << len;
      }
    }
  }
}

TEST(SubstringSearchTest, EdgeCases) {
  EXPECT_EQ(FindSubstring("", ""), 0u);
  EXPECT_EQ(FindSubstring("abc", ""), 0u);
  EXPECT_EQ(FindSubstring("", "a"), std::string_view::npos);
  EXPECT_EQ(FindSubstring("ab", "abc"), std::string_view::npos);
  EXPECT_EQ(FindSubstring("xxa", "a"), 2u);
  EXPECT_EQ(FindSubstring("xxab", "ab"), 2u);
  // Bytes above 0x7f (UTF-8) compare as bytes.
  EXPECT_EQ(FindSubstring("na\xc3\xafve na\xc3\xafve", "\xc3\xafve"), 2u);
  const std::string with_nul("a\0b\0c", 5);
  EXPECT_EQ(FindSubstring(with_nul, std::string_view("\0c", 2)), 3u);
  EXPECT_TRUE(ContainsSubstring("The response names the drug.", "drug"));
  EXPECT_FALSE(ContainsSubstring("The response names the drug.", "Drug"));
}

}  // namespace
}  // namespace rewardd

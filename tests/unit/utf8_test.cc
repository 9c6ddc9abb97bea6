// server/util/utf8.h: decoding (valid, truncated and malformed sequences),
// code point counts, cuts that never split a code point, letters and the
// length-preserving lowercase.
#include "server/util/utf8.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace rewardd {
namespace {

// Every code point of `s`, with DecodeUtf8's lengths summing to s.size().
std::vector<char32_t> Decode(const std::string& s) {
  std::vector<char32_t> out;
  size_t i = 0;
  while (i < s.size()) {
    char32_t cp = 0;
    const size_t len = DecodeUtf8(s, i, &cp);
    EXPECT_GE(len, 1u);
    out.push_back(cp);
    i += len;
  }
  EXPECT_EQ(i, s.size());
  return out;
}

TEST(Utf8Test, DecodesOneToFourByteSequences) {
  EXPECT_EQ(Decode("a\xC3\xA9\xE6\x97\xA5\xF0\x9F\x99\x82"),
            (std::vector<char32_t>{U'a', U'é', U'日', U'🙂'}));
}

TEST(Utf8Test, MalformedBytesDecodeAsReplacementOneByteEach) {
  // A lone continuation byte, a truncated 3-byte sequence at the end, a lead
  // byte followed by ASCII, and an invalid lead byte.
  EXPECT_EQ(Decode("\x80"), (std::vector<char32_t>{0xFFFD}));
  EXPECT_EQ(Decode("x\xE6\x97"), (std::vector<char32_t>{U'x', 0xFFFD, 0xFFFD}));
  EXPECT_EQ(Decode("\xC3z"), (std::vector<char32_t>{0xFFFD, U'z'}));
  EXPECT_EQ(Decode("\xFF"), (std::vector<char32_t>{0xFFFD}));
}

TEST(Utf8Test, CountsCodePointsNotBytes) {
  const std::string text = "naïve café 日本 🙂";  // 15 code points
  ASSERT_GT(text.size(), 15u);
  EXPECT_EQ(CountUtf8CodePoints(text), 15);
  EXPECT_EQ(CountUtf8CodePoints(""), 0);
  EXPECT_TRUE(IsUtf8Continuation(0xA9));
  EXPECT_FALSE(IsUtf8Continuation('a'));
  EXPECT_FALSE(IsUtf8Continuation(0xC3));
}

TEST(Utf8Test, PrefixNeverSplitsACodePoint) {
  const std::string text = "na\xC3\xAFve";  // "naïve": ï is bytes 2-3
  EXPECT_EQ(Utf8Prefix(text, 100), text);
  EXPECT_EQ(Utf8Prefix(text, text.size()), text);
  EXPECT_EQ(Utf8Prefix(text, 4), "na\xC3\xAF");
  EXPECT_EQ(Utf8Prefix(text, 3), "na");  // would end inside ï
  EXPECT_EQ(Utf8Prefix(text, 2), "na");
  EXPECT_EQ(Utf8Prefix("\xF0\x9F\x99\x82!", 3), "");
}

TEST(Utf8Test, LettersExcludePunctuationSymbolsAndEmoji) {
  for (char32_t cp : {U'a', U'Z', U'é', U'ω', U'ж', U'日'}) {
    EXPECT_TRUE(IsLetter(cp)) << static_cast<uint32_t>(cp);
  }
  for (char32_t cp : {U'1', U' ', U'-', U'×', U'“', U'—', U'→', U'、', U'🙂',
                      char32_t{0xFFFD}}) {
    EXPECT_FALSE(IsLetter(cp)) << static_cast<uint32_t>(cp);
  }
}

TEST(Utf8Test, LowercaseKeepsByteLengths) {
  const std::string upper = "ÉCOLE Ωmega ПРИВЕТ Ѐ ABC 日本 \xFF";
  const std::string lower = LowerUtf8(upper);
  EXPECT_EQ(lower, "école ωmega привет ѐ abc 日本 \xFF");
  EXPECT_EQ(lower.size(), upper.size());
  // × (U+D7) is not an uppercase letter; ς has no uppercase slot (U+3A2).
  EXPECT_EQ(LowerUtf8("×"), "×");
}

}  // namespace
}  // namespace rewardd

// Sha256 (server/util/sha256.h): known vectors, digests fed in pieces, and
// threads hashing at once.
#include "server/util/sha256.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rewardd {
namespace {

std::string Hex(const Sha256::Digest& d) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

// Cache keys and rubric content hashes rest on this: FIPS 180-2's vectors,
// digests fed in pieces, and threads hashing at once on their own contexts.
TEST(Sha256Test, KnownVectorsPiecesAndThreads) {
  const std::string kEmpty =
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  const std::string kAbc =
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  const std::string k448 =
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
  const std::string long_input =
      "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  EXPECT_EQ(Hex(Sha256::Of("")), kEmpty);
  EXPECT_EQ(Hex(Sha256::Of("abc")), kAbc);
  EXPECT_EQ(Hex(Sha256::Of(long_input)), k448);
  {
    Sha256 h;
    h.Update("ab");
    h.Update("");
    h.Update("c");
    EXPECT_EQ(Hex(h.Final()), kAbc);
  }
  // The thread's context is reused: a second digest starts afresh.
  EXPECT_EQ(Hex(Sha256::Of("abc")), kAbc);
  // Two live digests on one thread would share its context: refused loudly.
  EXPECT_DEATH(
      {
        Sha256 outer;
        Sha256 inner;
      },
      "");
  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        if (Hex(Sha256::Of(i % 2 ? "abc" : long_input)) !=
            (i % 2 ? kAbc : k448)) {
          ++wrong[t];
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_THAT(wrong, ::testing::Each(0));
}

}  // namespace
}  // namespace rewardd

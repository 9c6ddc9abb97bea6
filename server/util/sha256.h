// SHA-256 without OpenSSL 3's per-call algorithm look-up. The one-shot
// SHA256() of OpenSSL 3 fetches the digest implementation from the provider
// registry on every call (EVP_Q_digest -> EVP_MD_fetch: a lock and a
// name look-up), which cost more than hashing a short cache key. This
// fetches the implementation once per process and keeps one digest context
// per thread, so hashing allocates nothing after a thread's first call.
//
//   Sha256 h;                  // starts a digest on this thread's context
//   h.Update("abc");
//   h.Update(other_bytes);
//   Sha256::Digest d = h.Final();
//
//   Sha256::Digest d2 = Sha256::Of("abc");  // one shot
//
// Thread-safety: an Sha256 is used by one thread, and only one Sha256 may be
// live per thread at a time (they share the thread's context; a second one
// aborts the process rather than corrupt the first's digest). Different
// threads hash independently.
#ifndef REWARDD_SERVER_UTIL_SHA256_H_
#define REWARDD_SERVER_UTIL_SHA256_H_

#include <array>
#include <cstdint>

#include "absl/strings/string_view.h"

namespace rewardd {

class Sha256 {
 public:
  using Digest = std::array<uint8_t, 32>;

  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(absl::string_view bytes);
  void Update(const void* data, size_t size);
  // Ends the digest; the object may not be updated afterwards.
  Digest Final();

  static Digest Of(absl::string_view bytes);

 private:
  void* ctx_;     // this thread's EVP_MD_CTX
  bool* in_use_;  // this thread's context is taken (by this object)
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_UTIL_SHA256_H_

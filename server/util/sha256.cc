#include "server/util/sha256.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace rewardd {
namespace {

// Fetched once: the provider look-up is what made SHA256() slow. Never
// freed (it lives as long as the process and OpenSSL's own tables).
const EVP_MD* Algorithm() {
  static const EVP_MD* md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (fetched == nullptr) std::abort();  // OpenSSL without SHA-256
    return fetched;
  }();
  return md;
}

struct ThreadContext {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool in_use = false;
  ~ThreadContext() { EVP_MD_CTX_free(ctx); }
};

ThreadContext& ThisThreadsContext() {
  thread_local ThreadContext t;
  if (t.ctx == nullptr) std::abort();  // out of memory
  return t;
}

}  // namespace

Sha256::Sha256() {
  ThreadContext& t = ThisThreadsContext();
  // Two live digests on one thread would interleave in one context.
  if (t.in_use) std::abort();
  t.in_use = true;
  in_use_ = &t.in_use;
  ctx_ = t.ctx;
  if (EVP_DigestInit_ex2(static_cast<EVP_MD_CTX*>(ctx_), Algorithm(),
                         nullptr) != 1) {
    std::abort();
  }
}

Sha256::~Sha256() { *in_use_ = false; }

void Sha256::Update(const void* data, size_t size) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data, size);
}

void Sha256::Update(absl::string_view bytes) {
  Update(bytes.data(), bytes.size());
}

Sha256::Digest Sha256::Final() {
  Digest d;
  unsigned int n = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), d.data(), &n);
  return d;
}

Sha256::Digest Sha256::Of(absl::string_view bytes) {
  Sha256 h;
  h.Update(bytes);
  return h.Final();
}

}  // namespace rewardd

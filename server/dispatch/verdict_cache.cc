#include "server/dispatch/verdict_cache.h"

#include <openssl/sha.h>

#include <cstring>
#include <string>

namespace rewardd {
namespace {

// Per-entry overhead beyond the explanation text: the list node, the index
// slot and the Verdict itself (approximate, on the safe side).
constexpr size_t kEntryOverhead =
    3 * sizeof(void*) + sizeof(Verdict) + 64 + sizeof(CacheKey) * 2;

// One-shot SHA256() over a reused thread-local buffer: the streaming
// SHA256_* calls are deprecated in OpenSSL 3 and EVP contexts allocate.
void Append(std::string* buf, absl::string_view s) {
  const uint64_t n = s.size();
  buf->append(reinterpret_cast<const char*>(&n), sizeof(n));
  buf->append(s.data(), s.size());
}

void AppendRaw(std::string* buf, const void* p, size_t n) {
  buf->append(static_cast<const char*>(p), n);
}

CacheKey Digest(const std::string& buf) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(buf.data()), buf.size(),
         digest);
  CacheKey k;
  std::memcpy(&k.hi, digest, 8);
  std::memcpy(&k.lo, digest + 8, 8);
  return k;
}

std::string& Buffer() {
  thread_local std::string buf;
  buf.clear();
  return buf;
}

}  // namespace

CacheKey CacheKey::Base(absl::string_view fingerprint, GradingMode mode,
                        absl::string_view prompt, absl::string_view response) {
  std::string& buf = Buffer();
  Append(&buf, fingerprint);
  const int m = static_cast<int>(mode);
  AppendRaw(&buf, &m, sizeof(m));
  Append(&buf, prompt);
  Append(&buf, response);
  CacheKey k = Digest(buf);
  if (buf.capacity() > (1 << 20)) std::string().swap(buf);
  return k;
}

CacheKey CacheKey::ForCriterion(const CacheKey& base, const Criterion& c) {
  std::string& buf = Buffer();
  AppendRaw(&buf, &base, sizeof(base));
  Append(&buf, c.id);
  Append(&buf, c.text);
  return Digest(buf);
}

CacheKey CacheKey::ForCall(const CacheKey& base,
                           absl::Span<const CacheKey> criteria) {
  std::string& buf = Buffer();
  AppendRaw(&buf, &base, sizeof(base));
  for (const CacheKey& k : criteria) AppendRaw(&buf, &k, sizeof(k));
  return Digest(buf);
}

std::optional<Verdict> VerdictCache::Lookup(const CacheKey& key) {
  absl::MutexLock lock(&mu_);
  auto it = index_.find(key);
  if (it == index_.end()) {
    ++misses_;
    return std::nullopt;
  }
  ++hits_;
  lru_.splice(lru_.begin(), lru_, it->second);
  Verdict v = it->second->verdict;
  v.cached = true;
  return v;
}

void VerdictCache::Insert(const CacheKey& key, const Verdict& verdict) {
  if (verdict.status != CriterionStatus::kOk) return;
  const size_t bytes = kEntryOverhead + verdict.explanation.size();
  if (bytes > max_bytes_) return;
  absl::MutexLock lock(&mu_);
  auto it = index_.find(key);
  if (it != index_.end()) {
    bytes_ -= it->second->bytes;
    lru_.erase(it->second);
    index_.erase(it);
  }
  lru_.push_front(Entry{key, verdict, bytes});
  lru_.front().verdict.cached = false;
  index_[key] = lru_.begin();
  bytes_ += bytes;
  EvictLocked();
}

void VerdictCache::EvictLocked() {
  while (bytes_ > max_bytes_ && !lru_.empty()) {
    Entry& last = lru_.back();
    bytes_ -= last.bytes;
    index_.erase(last.key);
    lru_.pop_back();
    ++evictions_;
  }
}

VerdictCache::Stats VerdictCache::stats() const {
  absl::MutexLock lock(&mu_);
  return Stats{lru_.size(), bytes_, hits_, misses_, evictions_};
}

}  // namespace rewardd

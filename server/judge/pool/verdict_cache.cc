#include "server/judge/pool/verdict_cache.h"

#include <cstring>

#include "server/util/sha256.h"

namespace rewardd {
namespace {

// Per-entry overhead beyond the explanation text: the list node, the index
// slot and the Verdict itself (approximate, on the safe side).
constexpr size_t kEntryOverhead =
    3 * sizeof(void*) + sizeof(Verdict) + 64 + sizeof(CacheKey) * 2;

// Fields are length-prefixed, so that boundaries cannot shift between them.
void AppendField(Sha256* h, absl::string_view s) {
  const uint64_t n = s.size();
  h->Update(&n, sizeof(n));
  h->Update(s);
}

CacheKey KeyOf(Sha256* h) {
  const Sha256::Digest digest = h->Final();
  CacheKey k;
  std::memcpy(&k.hi, digest.data(), 8);
  std::memcpy(&k.lo, digest.data() + 8, 8);
  return k;
}

}  // namespace

CacheKey CacheKey::Base(absl::string_view fingerprint, GradingMode mode,
                        absl::string_view prompt, absl::string_view response) {
  Sha256 h;
  AppendField(&h, fingerprint);
  const int m = static_cast<int>(mode);
  h.Update(&m, sizeof(m));
  AppendField(&h, prompt);
  AppendField(&h, response);
  return KeyOf(&h);
}

CacheKey CacheKey::ForCriterion(const CacheKey& base, const Criterion& c) {
  Sha256 h;
  h.Update(&base, sizeof(base));
  AppendField(&h, c.id);
  AppendField(&h, c.text);
  return KeyOf(&h);
}

CacheKey CacheKey::ForCall(const CacheKey& base,
                           absl::Span<const CacheKey> criteria) {
  Sha256 h;
  h.Update(&base, sizeof(base));
  for (const CacheKey& k : criteria) h.Update(&k, sizeof(k));
  return KeyOf(&h);
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

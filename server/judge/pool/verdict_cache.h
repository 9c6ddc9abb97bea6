// A content-addressed cache of judge verdicts, bounded by memory, with LRU
// eviction. A key hashes everything that decides a verdict: the judge's
// fingerprint (name, model, sampling parameters, template version), the
// grading mode, the prompt, the response and the criterion (id and text).
//
//   VerdictCache cache(64 << 20);
//   CacheKey base = CacheKey::Base(fingerprint, mode, prompt, response);
//   CacheKey key = CacheKey::ForCriterion(base, criterion);
//   if (std::optional<Verdict> v = cache.Lookup(key)) { ... }
//   cache.Insert(key, verdict);  // only kOk verdicts are kept
//
// Keys are 128 bits of SHA-256: collisions are not a practical concern.
//
// Thread-safety: all methods are thread-safe (one mutex, held for a hash
// look-up and a list splice; never across I/O).
#ifndef REWARDD_SERVER_JUDGE_POOL_VERDICT_CACHE_H_
#define REWARDD_SERVER_JUDGE_POOL_VERDICT_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "server/judge/judge.h"

namespace rewardd {

struct CacheKey {
  uint64_t hi = 0;
  uint64_t lo = 0;

  // Hashes fingerprint, mode, prompt and response (length-prefixed, so
  // boundaries cannot shift).
  static CacheKey Base(absl::string_view fingerprint, GradingMode mode,
                       absl::string_view prompt, absl::string_view response);
  static CacheKey ForCriterion(const CacheKey& base, const Criterion& c);
  // The key of a whole call: its criteria keys in order.
  static CacheKey ForCall(const CacheKey& base,
                          absl::Span<const CacheKey> criteria);

  bool operator==(const CacheKey& o) const { return hi == o.hi && lo == o.lo; }
  template <typename H>
  friend H AbslHashValue(H h, const CacheKey& k) {
    return H::combine(std::move(h), k.hi, k.lo);
  }
};

class VerdictCache {
 public:
  explicit VerdictCache(size_t max_bytes) : max_bytes_(max_bytes) {}

  // The cached verdict with cached = true; refreshes its recency.
  std::optional<Verdict> Lookup(const CacheKey& key);
  // Keeps kOk verdicts only (failures must be retried, not remembered).
  void Insert(const CacheKey& key, const Verdict& verdict);

  struct Stats {
    size_t entries = 0;
    size_t bytes = 0;
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t evictions = 0;
  };
  Stats stats() const;

 private:
  struct Entry {
    CacheKey key;
    Verdict verdict;
    size_t bytes;
  };
  void EvictLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t max_bytes_;
  mutable absl::Mutex mu_;
  std::list<Entry> lru_ ABSL_GUARDED_BY(mu_);  // front = most recent
  absl::flat_hash_map<CacheKey, std::list<Entry>::iterator> index_
      ABSL_GUARDED_BY(mu_);
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t hits_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t misses_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t evictions_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_JUDGE_POOL_VERDICT_CACHE_H_

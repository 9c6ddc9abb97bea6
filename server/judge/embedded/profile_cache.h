// A bounded cache of the lexical-heuristic profiles of a rubric's criteria,
// so the many responses graded against one rubric (RL samples several per
// prompt) do not re-tokenize its criteria every time.
//
//   ProfileCache cache(/*capacity=*/1024);
//   std::shared_ptr<const RubricProfiles> p = cache.Get(input->rubric);
//   const CriterionProfile& c = (*p)[i];  // parallel to rubric->criteria
//
// Keyed by the Rubric's address, validated by a weak_ptr (a freed rubric
// whose address is reused never hits) and the rubric version. Profiles are
// built outside the lock; two threads missing at once both build, one wins.
// When full, expired entries are dropped first, then arbitrary ones.
//
// Thread-safety: all methods may be called concurrently.
#ifndef REWARDD_SERVER_JUDGE_EMBEDDED_PROFILE_CACHE_H_
#define REWARDD_SERVER_JUDGE_EMBEDDED_PROFILE_CACHE_H_

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "server/judge/embedded/lexical_heuristic.h"
#include "server/rubric/rubric.h"

namespace rewardd {

// Parallel to Rubric::criteria; criteria with a check get an empty profile.
using RubricProfiles = std::vector<CriterionProfile>;

RubricProfiles BuildRubricProfiles(const Rubric& rubric);

class ProfileCache {
 public:
  // capacity 0 disables caching (every Get builds).
  explicit ProfileCache(size_t capacity) : capacity_(capacity) {}

  std::shared_ptr<const RubricProfiles> Get(
      const std::shared_ptr<const Rubric>& rubric);

  size_t size() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Entry {
    std::weak_ptr<const Rubric> rubric;
    std::string version;
    std::shared_ptr<const RubricProfiles> profiles;
  };

  const size_t capacity_;
  // std::mutex, not absl::Mutex: the distribution's abseil is not built with
  // ThreadSanitizer, so TSan cannot see absl::Mutex and reports false races.
  mutable std::mutex mu_;
  absl::flat_hash_map<const Rubric*, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_JUDGE_EMBEDDED_PROFILE_CACHE_H_

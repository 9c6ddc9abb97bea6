// A bounded cache of validated inline rubrics. Validating a rubric compiles
// its regexes and hashes its content; a GRPO worker sends the same inline
// rubric with every response of a group and with every group of a prompt,
// so rewardd validates each distinct rubric once, not per request.
//
//   InlineRubricCache cache(1024);
//   absl::StatusOr<std::shared_ptr<const Rubric>> r =
//   cache.Get(request.rubric());
//
// The key is the rubric's deterministic serialization, compared in full (no
// hash-collision risk). Invalid rubrics are not cached: they are rare and
// their error must be reported every time. When the cache holds `capacity`
// rubrics it is cleared: simple, bounded, and a steady workload refills it
// with what it still uses.
//
// Thread-safety: Get() may be called from any thread; the lock is held only
// for the map look-up and insert, never while validating.
#ifndef REWARDD_SERVER_SERVICE_INLINE_RUBRIC_CACHE_H_
#define REWARDD_SERVER_SERVICE_INLINE_RUBRIC_CACHE_H_

#include <memory>
#include <mutex>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "reward/v1/reward.pb.h"
#include "server/rubric/rubric.h"

namespace rewardd {

class InlineRubricCache {
 public:
  explicit InlineRubricCache(size_t capacity) : capacity_(capacity) {}

  // The validated rubric (RubricFromProto) for `proto`; INVALID_ARGUMENT
  // when it does not validate.
  absl::StatusOr<std::shared_ptr<const Rubric>> Get(
      const reward::v1::Rubric& proto);

  size_t size() const;

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<const Rubric>> rubrics_;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_SERVICE_INLINE_RUBRIC_CACHE_H_

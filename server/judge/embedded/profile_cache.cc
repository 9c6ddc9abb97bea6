#include "server/judge/embedded/profile_cache.h"

#include <utility>

namespace rewardd {

RubricProfiles BuildRubricProfiles(const Rubric& rubric) {
  RubricProfiles profiles(rubric.criteria.size());
  for (size_t i = 0; i < rubric.criteria.size(); ++i) {
    const Criterion& c = rubric.criteria[i];
    if (c.check == nullptr) {
      profiles[i] = BuildCriterionProfile(c.text);
    }
  }
  return profiles;
}

std::shared_ptr<const RubricProfiles> ProfileCache::Get(
    const std::shared_ptr<const Rubric>& rubric) {
  if (capacity_ == 0) {
    return std::make_shared<const RubricProfiles>(BuildRubricProfiles(*rubric));
  }
  const Rubric* key = rubric.get();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end() && !it->second.rubric.expired() &&
        it->second.version == rubric->version) {
      return it->second.profiles;
    }
  }
  // Build without the lock: it is the expensive part and needs no state.
  auto profiles =
      std::make_shared<const RubricProfiles>(BuildRubricProfiles(*rubric));
  std::lock_guard<std::mutex> lock(mu_);
  if (entries_.size() >= capacity_ && !entries_.contains(key)) {
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (it->second.rubric.expired()) {
        entries_.erase(it++);
      } else {
        ++it;
      }
    }
    while (entries_.size() >= capacity_) entries_.erase(entries_.begin());
  }
  entries_[key] = Entry{rubric, rubric->version, profiles};
  return profiles;
}

size_t ProfileCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

}  // namespace rewardd

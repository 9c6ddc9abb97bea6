// Whether a weak_ptr kept in a per-thread memo still refers to the very
// object a shared_ptr owns. Memos of values derived from one GradeInput
// (its cache key, its rendered prompt) use it: a response's judge calls come
// one after another on one thread, so a one-entry memo per thread saves the
// repeated work.
//
//   thread_local std::weak_ptr<const GradeInput> memo_input;
//   if (!SameLiveObject(memo_input, input)) { recompute; memo_input = input; }
//
// Equal owners mean the same live object: its control block cannot be
// reused while the weak_ptr refers to it, so a new object at a freed one's
// address never matches (a raw pointer compare would).
#ifndef REWARDD_SERVER_UTIL_SAME_OBJECT_H_
#define REWARDD_SERVER_UTIL_SAME_OBJECT_H_

#include <memory>

namespace rewardd {

template <typename T>
bool SameLiveObject(const std::weak_ptr<T>& memo,
                    const std::shared_ptr<T>& object) {
  return !memo.expired() && !memo.owner_before(object) &&
         !object.owner_before(memo);
}

}  // namespace rewardd

#endif  // REWARDD_SERVER_UTIL_SAME_OBJECT_H_

// A bounded string-keyed map for the metrics hot path: lookups take no lock
// (one atomic load and a hash look-up), inserts are rare (a new rubric set,
// policy version, criterion tag or judge) and copy the table under a mutex.
// Values never move and are never freed before the map, so callers may cache
// the returned pointers.
//
//   ReadMostlyMap<Cell> cells(/*capacity=*/64);
//   Cell* c = cells.Find(name);          // lock-free; nullptr when absent
//   if (c == nullptr) {
//     c = cells.FindOrInsert(name, [&] { return std::make_unique<Cell>(); });
//   }
//   if (c == nullptr) { /* full: use an overflow cell */ }
//
// Memory: every published table is kept until the map is destroyed (a reader
// may still be looking at an old one), so k inserts cost O(k^2) entries in
// total. That is why the map is bounded: with the capacities used here (at
// most a few hundred keys) this is a few hundred kilobytes at worst.
//
// Thread-safety: all methods may be called from any thread. Find() is
// lock-free; FindOrInsert() takes the mutex only when the key is absent and
// calls `make` under it (make must not call back into this map).
#ifndef REWARDD_SERVER_METRICS_READ_MOSTLY_MAP_H_
#define REWARDD_SERVER_METRICS_READ_MOSTLY_MAP_H_

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace rewardd {

template <typename V>
class ReadMostlyMap {
 public:
  explicit ReadMostlyMap(size_t capacity) : capacity_(capacity) {
    auto empty = std::make_unique<Table>();
    table_.store(empty.get(), std::memory_order_release);
    absl::MutexLock lock(&mu_);
    tables_.push_back(std::move(empty));
  }
  ReadMostlyMap(const ReadMostlyMap&) = delete;
  ReadMostlyMap& operator=(const ReadMostlyMap&) = delete;

  // The value for `key`, or nullptr. Lock-free.
  V* Find(absl::string_view key) const {
    const Table* table = table_.load(std::memory_order_acquire);
    auto it = table->find(key);
    return it == table->end() ? nullptr : it->second;
  }

  // The value for `key`, inserting make() when absent and the map holds
  // fewer than `capacity` values; nullptr when the map is full.
  V* FindOrInsert(absl::string_view key,
                  absl::FunctionRef<std::unique_ptr<V>()> make) {
    if (V* v = Find(key)) return v;
    absl::MutexLock lock(&mu_);
    const Table* current = table_.load(std::memory_order_relaxed);
    if (auto it = current->find(key); it != current->end()) return it->second;
    if (values_.size() >= capacity_) return nullptr;
    values_.push_back(make());
    V* value = values_.back().get();
    auto next = std::make_unique<Table>(*current);
    next->emplace(std::string(key), value);
    // Release: a reader that sees the new table also sees the value built
    // by make().
    table_.store(next.get(), std::memory_order_release);
    tables_.push_back(std::move(next));
    return value;
  }

  // Calls f(key, value) for every entry, in no particular order, under the
  // insert mutex (inserts wait; lookups do not).
  void ForEach(absl::FunctionRef<void(const std::string&, V&)> f) const {
    absl::MutexLock lock(&mu_);
    for (const auto& [key, value] : *table_.load(std::memory_order_relaxed)) {
      f(key, *value);
    }
  }

  size_t size() const { return table_.load(std::memory_order_acquire)->size(); }
  size_t capacity() const { return capacity_; }

 private:
  using Table = absl::flat_hash_map<std::string, V*>;

  const size_t capacity_;
  std::atomic<const Table*> table_{nullptr};
  mutable absl::Mutex mu_;
  // Every table ever published; readers may hold any of them.
  std::vector<std::unique_ptr<const Table>> tables_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<V>> values_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_METRICS_READ_MOSTLY_MAP_H_

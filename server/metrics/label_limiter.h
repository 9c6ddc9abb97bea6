// Keeps a metric label's values bounded: the first `limit` distinct values
// seen are kept, every later one becomes "other", and an empty value becomes
// "none". Each kept value gets a small stable index, so callers can keep
// per-value metric handles in a plain array instead of a map.
//
//   LabelValueLimiter versions(/*limit=*/8);
//   const LabelValueLimiter::Value& v = versions.Resolve("ckpt-1200");
//   cells[v.index]->Increment();      // v.name is the label value to export
//
// Values longer than kMaxValueBytes are cut (at a UTF-8 character boundary)
// before they are looked up, so a client cannot export huge label values.
//
// Thread-safety: all methods may be called from any thread; Resolve() of a
// value seen before is lock-free (see ReadMostlyMap).
#ifndef REWARDD_SERVER_METRICS_LABEL_LIMITER_H_
#define REWARDD_SERVER_METRICS_LABEL_LIMITER_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"
#include "server/metrics/read_mostly_map.h"

namespace rewardd {

class LabelValueLimiter {
 public:
  static constexpr size_t kMaxValueBytes = 64;
  static constexpr absl::string_view kOther = "other";
  static constexpr absl::string_view kNone = "none";

  struct Value {
    // [0, limit) for kept values; other_index() or none_index() otherwise.
    size_t index;
    std::string name;  // the label value to export
  };

  explicit LabelValueLimiter(size_t limit);

  // The value `raw` maps to. The returned reference stays valid as long as
  // the limiter.
  const Value& Resolve(absl::string_view raw);

  size_t limit() const { return limit_; }
  size_t other_index() const { return limit_; }
  size_t none_index() const { return limit_ + 1; }
  // Indices run over [0, slots()).
  size_t slots() const { return limit_ + 2; }
  // Distinct values kept so far.
  size_t kept() const { return kept_.size(); }

  // `raw` cut to at most kMaxValueBytes without splitting a UTF-8 sequence.
  static absl::string_view Truncate(absl::string_view raw);

 private:
  const size_t limit_;
  const Value other_;
  const Value none_;
  ReadMostlyMap<Value> kept_;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_METRICS_LABEL_LIMITER_H_

// The budget that caps a judge pool's hedges (JudgePoolOptions::
// max_hedge_ratio): every call started earns `ratio` of a hedge, up to
// `burst` saved while the pool is quiet, and a hedge spends one. Hedges are
// thus at most that share of calls, and cannot double the load on a
// saturated judge.
//
//   HedgeBudget budget(options.max_hedge_ratio);
//   budget.OnStart();                 // a first attempt started
//   if (budget.TrySpend()) hedge();   // a straggler is due
//
// Thread-safety: none; JudgePool guards it with its mutex.
#ifndef REWARDD_SERVER_JUDGE_POOL_HEDGE_BUDGET_H_
#define REWARDD_SERVER_JUDGE_POOL_HEDGE_BUDGET_H_

#include <algorithm>

namespace rewardd {

class HedgeBudget {
 public:
  // The hedges a quiet pool may save up.
  static constexpr double kDefaultBurst = 10;

  explicit HedgeBudget(double ratio, double burst = kDefaultBurst)
      : ratio_(ratio), burst_(burst) {}

  // A call started: earns `ratio` of a hedge (capped at the burst).
  void OnStart() { tokens_ = std::min(burst_, tokens_ + ratio_); }
  // Whether a whole hedge is saved up; without spending it.
  bool CanSpend() const { return tokens_ >= 1; }
  // Spends one hedge if a whole one is saved up.
  bool TrySpend() {
    if (!CanSpend()) return false;
    tokens_ -= 1;
    return true;
  }
  double tokens() const { return tokens_; }

 private:
  const double ratio_;
  const double burst_;
  double tokens_ = 0;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_JUDGE_POOL_HEDGE_BUDGET_H_

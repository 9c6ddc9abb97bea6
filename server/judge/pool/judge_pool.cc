#include "server/judge/pool/judge_pool.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "server/judge/pool/vote_tally.h"
#include "server/util/same_object.h"

namespace rewardd {
namespace {

// The hedges a quiet pool may save up (see max_hedge_ratio).
constexpr double kHedgeBurst = 10;
// Successful call times kept for hedge_after_percentile, how many must be
// seen before it is used, and how often it is recomputed.
constexpr size_t kLatencyRing = 256;
constexpr uint64_t kLatencyMinSamples = 20;
constexpr uint64_t kLatencyRecomputeEvery = 16;

// The replica a released batch goes to: set by its first call to start.
// Guarded by the pool's mu_.
struct BatchPin {
  int replica = -1;
};

}  // namespace

struct JudgePool::Call {
  struct Waiter {
    JudgeCallback done;
    std::shared_ptr<const Cancellation> cancellation;
    absl::Time enqueued;
    bool follower = false;
  };

  std::shared_ptr<const GradeInput> input;
  std::vector<uint32_t> criteria;
  GradingMode mode = GradingMode::kAllInOne;
  std::vector<CacheKey> keys;  // per criterion; empty without cache/dedup
  CacheKey call_key;
  uint64_t affinity = 0;
  absl::Time enqueued;

  // Guarded by the pool's mu_ (followers join while the call runs).
  std::vector<Waiter> waiters;
  absl::Time deadline = absl::InfiniteFuture();
  bool in_dedup = false;
  // The batch this call was released in (until it starts).
  std::shared_ptr<BatchPin> pin;
  // Attempts in flight: slot 0 is the attempt, slot 1 its hedge. The first
  // good answer wins (`won`); the other attempt's result is ignored.
  int live = 0;
  bool won = false;
  bool hedged = false;  // at most one hedge per call
  uint32_t sends = 0;   // attempts started; names the current one
  uint64_t transfer[2] = {0, 0};
  int replica[2] = {-1, -1};

  // Touched only by whoever holds the call outside the queue (the sender,
  // then the completion on the loop thread): never concurrently.
  absl::Time first_start = absl::InfiniteFuture();
  CallParams params;
  int attempts = 0;
  int parse_retries = 0;
  int length_retries = 0;
  int avoid = -1;

  // Set before the call is queued, then read-only.
  bool sample = false;    // a vote sample: never cached
  double est_tokens = 0;  // request bytes / 4 (only with a tokens limit)
  // The tokens the rate limiter charged for the attempt in flight (mu_).
  double reserved_tokens = 0;

  // A call is abandoned only when every request waiting on it is.
  bool AllCancelled() const {
    if (waiters.empty()) return false;
    for (const Waiter& w : waiters) {
      if (w.cancellation == nullptr || !w.cancellation->cancelled()) {
        return false;
      }
    }
    return true;
  }
};

absl::Duration RetryBackoff(int retry, const JudgePoolOptions& options,
                            absl::BitGen& gen) {
  double factor = std::pow(options.backoff_multiplier, std::max(0, retry - 1));
  absl::Duration d = options.initial_backoff * factor;
  if (d > options.max_backoff) d = options.max_backoff;
  if (options.backoff_jitter > 0) {
    d = d * absl::Uniform(gen, 1 - options.backoff_jitter,
                          1 + options.backoff_jitter);
  }
  return std::min(d, options.max_backoff);
}

absl::StatusOr<std::shared_ptr<JudgePool>> JudgePool::Create(
    HttpJudgeConfig config, JudgePoolOptions options,
    std::shared_ptr<CurlMultiLoop> loop, std::shared_ptr<VerdictCache> cache,
    JudgeMetricFamilies* metrics) {
  if (loop == nullptr) return absl::InvalidArgumentError("no HTTP loop");
  if (config.replicas.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("judge '", config.name, "' has no replicas"));
  }
  if (options.max_in_flight_per_replica <= 0 || options.max_attempts <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "judge '", config.name,
        "': max_in_flight_per_replica and max_attempts must be positive"));
  }
  if (options.max_votes < 1 || config.votes < 1 ||
      config.votes > options.max_votes) {
    return absl::InvalidArgumentError(
        absl::StrCat("judge '", config.name, "': votes (", config.votes,
                     ") must be in [1, max_votes = ", options.max_votes, "]"));
  }
  if (options.max_queue_delay < absl::ZeroDuration() ||
      options.max_batch_size < 1 ||
      options.hedge_delay < absl::ZeroDuration() ||
      options.hedge_after_percentile < 0 ||
      options.hedge_after_percentile >= 100 || options.max_hedge_ratio < 0 ||
      options.max_hedge_ratio > 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "judge '", config.name,
        "': max_queue_delay and hedge_delay must be >= 0, max_batch_size >= "
        "1, hedge_after_percentile in [0, 100) and max_hedge_ratio in [0, "
        "1]"));
  }
  if (options.requests_per_minute < 0 || options.tokens_per_minute < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("judge '", config.name,
                     "': requests_per_minute and tokens_per_minute must be "
                     ">= 0 (0 = no limit)"));
  }
  PromptTemplates templates = PromptTemplates::Default();
  if (!config.templates_file.empty()) {
    absl::StatusOr<PromptTemplates> t =
        PromptTemplates::LoadFile(config.templates_file);
    if (!t.ok()) return t.status();
    templates = *std::move(t);
  }
  absl::StatusOr<std::string> key = ResolveApiKey(config);
  if (!key.ok()) return key.status();
  ChatJudgeCodec codec(config, std::move(templates));
  std::shared_ptr<JudgePool> pool(
      new JudgePool(std::move(config), options, std::move(loop),
                    std::move(cache), std::move(codec), *std::move(key)));
  if (metrics != nullptr) {
    // Replica labels are indices, never URLs (which may carry keys).
    std::vector<std::string> labels;
    for (size_t i = 0; i < pool->config_.replicas.size(); ++i) {
      labels.push_back(absl::StrCat(i));
    }
    pool->metrics_ =
        metrics->ForPool(pool->config_.name, labels, options.max_queue_size);
    absl::MutexLock lock(&pool->mu_);
    pool->exported_breakers_.assign(labels.size(),
                                    ReplicaSet::BreakerState::kClosed);
  }
  return pool;
}

JudgePool::JudgePool(HttpJudgeConfig config, JudgePoolOptions options,
                     std::shared_ptr<CurlMultiLoop> loop,
                     std::shared_ptr<VerdictCache> cache, ChatJudgeCodec codec,
                     std::string api_key)
    : config_(std::move(config)),
      options_(options),
      loop_(std::move(loop)),
      cache_(std::move(cache)),
      codec_(std::move(codec)),
      replicas_(static_cast<int>(config_.replicas.size()),
                ReplicaSet::Options{
                    options.max_in_flight_per_replica, options.breaker_failures,
                    options.breaker_open_time, options.affinity_slack}),
      rate_limited_(options.requests_per_minute > 0 ||
                    options.tokens_per_minute > 0),
      limiter_(options.requests_per_minute, options.tokens_per_minute,
               options.rate_limit_burst, absl::Now()),
      batching_(options.max_queue_delay > absl::ZeroDuration() &&
                options.max_batch_size > 1),
      // A hedge needs another replica to go to.
      hedging_((options.hedge_delay > absl::ZeroDuration() ||
                options.hedge_after_percentile > 0) &&
               options.max_hedge_ratio > 0 && config_.replicas.size() > 1) {
  if (hedging_ && options.hedge_after_percentile > 0) {
    absl::MutexLock lock(&mu_);
    latency_ring_.reserve(kLatencyRing);
  }
  std::vector<std::string> lines = {"Content-Type: application/json",
                                    "Expect:"};
  if (!api_key.empty()) lines.push_back("Authorization: Bearer " + api_key);
  headers_ = HttpHeaders::Make(lines);
  for (const std::string& base : config_.replicas) {
    endpoints_.push_back(base + "/chat/completions");
  }
  fingerprint_ = absl::StrCat(
      config_.name, "\x1f", config_.model, "\x1f", config_.temperature, "\x1f",
      config_.seed.value_or(-1), "\x1f", config_.top_p.value_or(-1), "\x1f",
      config_.max_tokens.value_or(-1), "\x1f", config_.extra_body_json, "\x1f",
      codec_.templates().version(), "\x1f", config_.logprobs, "\x1f",
      config_.top_logprobs);
}

JudgePool::~JudgePool() { Shutdown(); }

void JudgePool::Grade(JudgeWork work, JudgeCallback done) {
  // One call answers one verdict in per_criterion mode: more criteria in
  // one piece would leave all but the first without an answer (the Grader
  // splits its work; another caller must too).
  if (codec_.Resolve(work.input->mode) == GradingMode::kPerCriterion &&
      work.criteria.size() != 1) {
    std::move(done)(absl::InvalidArgumentError(
        absl::StrCat("judge '", config_.name,
                     "': per_criterion mode grades one criterion "
                     "per piece of work; this one has ",
                     work.criteria.size())));
    return;
  }
  const uint32_t votes = work.input->votes > 0
                             ? work.input->votes
                             : static_cast<uint32_t>(config_.votes);
  if (votes > 1) {
    if (votes > static_cast<uint32_t>(options_.max_votes)) {
      std::move(done)(absl::InvalidArgumentError(
          absl::StrCat("judge '", config_.name, "' allows at most ",
                       options_.max_votes, " votes; ", votes, " were asked")));
      return;
    }
    GradeVotes(std::move(work), std::move(done), static_cast<int>(votes));
    return;
  }
  Enqueue(std::move(work), std::move(done), nullptr);
}

namespace {

// CacheKey::Base (a SHA-256 of the prompt and the response) for `input`. A
// response's work comes in one piece per criterion in per_criterion mode,
// one after another on one thread, so the last input's key is kept per
// thread (server/util/same_object.h).
CacheKey BaseKeyOf(const std::shared_ptr<const GradeInput>& input,
                   const std::string& fingerprint, GradingMode mode,
                   absl::string_view prompt) {
  struct Memo {
    std::weak_ptr<const GradeInput> input;
    std::string fingerprint;
    GradingMode mode = GradingMode::kAllInOne;
    CacheKey key;
  };
  thread_local Memo memo;
  if (SameLiveObject(memo.input, input) && memo.mode == mode &&
      memo.fingerprint == fingerprint) {
    return memo.key;
  }
  memo.key = CacheKey::Base(fingerprint, mode, prompt, input->response);
  memo.input = input;
  memo.fingerprint = fingerprint;
  memo.mode = mode;
  return memo.key;
}

}  // namespace

void JudgePool::Enqueue(JudgeWork work, JudgeCallback done,
                        const Sample* sample) {
  const absl::Time now = absl::Now();
  const GradeInput& in = *work.input;
  if (in.deadline <= now) {
    std::move(done)(absl::DeadlineExceededError(absl::StrCat(
        "judge '", config_.name, "': the deadline passed before grading")));
    return;
  }
  if (in.cancellation != nullptr && in.cancellation->cancelled()) {
    JudgeResult r;
    r.verdicts.resize(work.criteria.size());
    for (Verdict& v : r.verdicts) {
      v.status = CriterionStatus::kSkipped;
      v.explanation = "the request was cancelled";
    }
    std::move(done)(std::move(r));
    return;
  }

  auto call = std::make_shared<Call>();
  call->mode = codec_.Resolve(in.mode);
  const bool dedup = options_.dedup && !in.skip_cache;
  std::string storage;
  const absl::string_view prompt = JudgePromptText(in, &storage);
  if (cache_ != nullptr || dedup) {
    const CacheKey base = BaseKeyOf(
        work.input, sample != nullptr ? sample->fingerprint : fingerprint_,
        call->mode, prompt);
    call->keys.reserve(work.criteria.size());
    for (uint32_t i : work.criteria) {
      call->keys.push_back(
          CacheKey::ForCriterion(base, in.rubric->criteria[i]));
    }
    call->call_key = CacheKey::ForCall(base, call->keys);
  }
  if (cache_ != nullptr && !in.skip_cache && sample == nullptr) {
    JudgeResult r;
    r.verdicts.reserve(call->keys.size());
    for (const CacheKey& k : call->keys) {
      std::optional<Verdict> v = cache_->Lookup(k);
      if (!v.has_value()) break;
      r.verdicts.push_back(*std::move(v));
    }
    const bool hit =
        r.verdicts.size() == call->keys.size() && !call->keys.empty();
    if (metrics_ != nullptr && !call->keys.empty()) metrics_->CacheLookup(hit);
    if (hit) {
      counters_.cache_hits.fetch_add(1, std::memory_order_relaxed);
      std::move(done)(std::move(r));
      return;
    }
  }
  // Affinity: one prompt and rubric land on one replica (warm prefix cache).
  call->affinity =
      absl::Hash<std::pair<absl::string_view, absl::string_view>>{}(
          {prompt, in.rubric->version});
  call->input = std::move(work.input);
  call->criteria = std::move(work.criteria);
  call->enqueued = now;
  call->deadline = in.deadline;
  call->params.temperature = config_.temperature;
  call->params.max_tokens = config_.max_tokens;
  if (sample != nullptr) {
    call->params = sample->params;
    call->sample = true;
  }
  if (options_.tokens_per_minute > 0) {
    // What a tokens-per-minute limit charges before the answer's usage is
    // known: the request's bytes / 4.
    thread_local std::string body;
    codec_.EncodeBody(call->mode, call->input, call->criteria, call->params,
                      &body);
    call->est_tokens = static_cast<double>(body.size()) / 4;
    if (body.capacity() > (1 << 20)) std::string().swap(body);
  }

  absl::Status refusal;
  bool arm = false;
  const uint64_t affinity = call->affinity;
  absl::Time release_at = absl::InfiniteFuture();
  uint64_t batch = 0;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      refusal = absl::UnavailableError(
          absl::StrCat("judge '", config_.name, "' is shutting down"));
    } else if (auto it = dedup ? dedup_.find(call->call_key) : dedup_.end();
               it != dedup_.end()) {
      Call* leader = it->second;
      leader->waiters.push_back(
          Call::Waiter{std::move(done), in.cancellation, now, true});
      leader->deadline = std::max(leader->deadline, call->deadline);
      counters_.dedup_joins.fetch_add(1, std::memory_order_relaxed);
      if (metrics_ != nullptr) metrics_->DedupJoin();
      return;
    } else if (QueuedLocked() >= options_.max_queue_size) {
      counters_.refused_queue_full.fetch_add(1, std::memory_order_relaxed);
      if (metrics_ != nullptr) metrics_->QueueRefused();
      refusal = absl::ResourceExhaustedError(
          absl::StrCat("judge '", config_.name, "' queue is full (",
                       QueuedLocked(), " calls waiting); retry after ",
                       absl::FormatDuration(RetryHintLocked())));
    } else {
      call->waiters.push_back(
          Call::Waiter{std::move(done), in.cancellation, now, false});
      if (dedup) {
        dedup_[call->call_key] = call.get();
        call->in_dedup = true;
      }
      if (batching_) {
        release_at = HoldLocked(std::move(call), now, &batch);
      } else {
        queue_.push_back(std::move(call));
      }
      PublishGaugesLocked();
      ++outstanding_;
      arm = !sweep_armed_;
      sweep_armed_ = true;
    }
  }
  if (!refusal.ok()) {
    std::move(done)(std::move(refusal));
    return;
  }
  if (arm) {
    loop_->RunAt(now + options_.sweep_interval,
                 [self = shared_from_this()] { self->Sweep(); });
  }
  if (release_at != absl::InfiniteFuture()) {
    ArmRelease(affinity, batch, release_at);
  }
  Pump();
}

absl::Time JudgePool::HoldLocked(CallPtr call, absl::Time now,
                                 uint64_t* batch) {
  // Never held so long that a typical call (the running average of
  // answered ones) could not finish before the deadline; the second
  // min_time_to_start absorbs a late timer.
  const absl::Time latest =
      call->deadline - 2 * options_.min_time_to_start - latency_ewma_;
  const uint64_t affinity = call->affinity;
  Batch& b = forming_[affinity];
  absl::Time timer = absl::InfiniteFuture();
  if (b.calls.empty()) {
    b.id = ++next_batch_id_;
    b.release_at = now + options_.max_queue_delay;
    timer = b.release_at;
  }
  if (latest < b.release_at) {
    // An earlier timer for the same batch; the later one finds it gone.
    b.release_at = latest;
    timer = latest;
  }
  b.calls.push_back(std::move(call));
  ++held_;
  *batch = b.id;
  const bool full = b.calls.size() >= options_.max_batch_size;
  if (full || b.release_at <= now) {
    ReleaseLocked(affinity, full);
    return absl::InfiniteFuture();
  }
  return timer;
}

void JudgePool::ReleaseLocked(uint64_t affinity, bool full) {
  auto it = forming_.find(affinity);
  if (it == forming_.end()) return;
  std::vector<CallPtr>& calls = it->second.calls;
  std::shared_ptr<BatchPin> pin =
      calls.size() > 1 ? std::make_shared<BatchPin>() : nullptr;
  held_ -= calls.size();
  // Back-to-back at the tail: Pump() sends them in one go when slots allow.
  for (CallPtr& c : calls) {
    c->pin = pin;
    queue_.push_back(std::move(c));
  }
  forming_.erase(it);
  counters_.batches_released.fetch_add(1, std::memory_order_relaxed);
  if (full) counters_.batches_full.fetch_add(1, std::memory_order_relaxed);
  if (metrics_ != nullptr) metrics_->BatchReleased(full);
}

void JudgePool::ArmRelease(uint64_t affinity, uint64_t batch, absl::Time when) {
  // Weak: a long window's timer must not keep a shut-down pool (and its
  // loop and connections) alive until it fires.
  loop_->RunAt(when, [weak = weak_from_this(), affinity, batch] {
    if (std::shared_ptr<JudgePool> self = weak.lock()) {
      self->ReleaseDue(affinity, batch);
    }
  });
}

void JudgePool::ReleaseDue(uint64_t affinity, uint64_t batch) {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    auto it = forming_.find(affinity);
    // Released already (full, an earlier deadline, swept empty).
    if (it == forming_.end() || it->second.id != batch) return;
    ReleaseLocked(affinity, /*full=*/false);
    PublishGaugesLocked();
  }
  Pump();
}

absl::Duration JudgePool::RetryHintLocked() const {
  const absl::Duration latency =
      latency_ewma_ > absl::ZeroDuration() ? latency_ewma_ : absl::Seconds(1);
  const double capacity = std::max(1, replicas_.capacity());
  const double queued = static_cast<double>(QueuedLocked());
  absl::Duration hint = latency * (queued / capacity);
  if (options_.requests_per_minute > 0) {
    // Under a requests limit the queue drains no faster than the limit.
    hint = std::max(hint,
                    absl::Minutes(1) * (queued / options_.requests_per_minute));
  }
  return std::max(absl::Milliseconds(100),
                  absl::Trunc(hint, absl::Milliseconds(1)));
}

void JudgePool::Pump() {
  std::vector<Dispatch> start;
  std::vector<Finished> finished;
  absl::Time limit_wake = absl::InfiniteFuture();
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    const absl::Time now = absl::Now();
    while (!queue_.empty()) {
      CallPtr& c = queue_.front();
      if (c->AllCancelled()) {
        finished.push_back({std::move(c),
                            {},
                            CriterionStatus::kSkipped,
                            "the request was cancelled"});
        queue_.pop_front();
        continue;
      }
      if (c->deadline - now < options_.min_time_to_start) {
        finished.push_back(
            {std::move(c),
             {},
             CriterionStatus::kTimeout,
             "the deadline was too close to start a judge call"});
        queue_.pop_front();
        continue;
      }
      if (rate_limited_) {
        const absl::Time ready = limiter_.ReadyAt(c->est_tokens, now);
        if (ready > now) {
          if (c->deadline - ready < options_.min_time_to_start) {
            finished.push_back(
                {std::move(c),
                 {},
                 CriterionStatus::kTimeout,
                 absl::StrCat("judge '", config_.name,
                              "': its requests/tokens-per-minute limit would "
                              "start the call only after the deadline")});
            queue_.pop_front();
            continue;
          }
          // Wait in the queue; a loop timer pumps again when it may start.
          if (!limit_timer_armed_) {
            limit_timer_armed_ = true;
            limit_wake = ready;
          }
          break;
        }
      }
      int r = -1;
      ReplicaSet::Pick pick;
      if (c->pin != nullptr && c->pin->replica >= 0 &&
          replicas_.TryTake(c->pin->replica, now)) {
        // The rest of a batch follows its first call (warm prefix cache).
        r = c->pin->replica;
        pick = ReplicaSet::Pick::kPicked;
      } else {
        pick = replicas_.Choose(c->affinity, c->avoid, now, &r);
      }
      if (pick == ReplicaSet::Pick::kBusy) break;
      if (pick == ReplicaSet::Pick::kAllOpen) {
        finished.push_back(
            {std::move(c),
             {},
             CriterionStatus::kJudgeError,
             absl::StrCat("every replica of judge '", config_.name,
                          "' is failing (circuit breaker open)")});
        queue_.pop_front();
        continue;
      }
      if (rate_limited_) {
        limiter_.Take(c->est_tokens, now);
        c->reserved_tokens = c->est_tokens;
      }
      if (c->pin != nullptr) {
        if (c->pin->replica < 0) c->pin->replica = r;
        c->pin.reset();  // a retry goes wherever it is best
      }
      in_flight_.insert(c.get());
      c->live = 1;
      c->replica[0] = r;
      const uint32_t seq = ++c->sends;
      if (hedging_) {
        hedge_tokens_ =
            std::min(kHedgeBurst, hedge_tokens_ + options_.max_hedge_ratio);
      }
      start.push_back({std::move(c), r, seq});
      queue_.pop_front();
    }
    PublishGaugesLocked();
  }
  if (limit_wake != absl::InfiniteFuture()) {
    counters_.rate_limit_waits.fetch_add(1, std::memory_order_relaxed);
    loop_->RunAt(limit_wake, [self = shared_from_this()] {
      {
        absl::MutexLock lock(&self->mu_);
        self->limit_timer_armed_ = false;
      }
      self->Pump();
    });
  }
  FinishAll(finished);
  for (Dispatch& s : start) Send(s.call, s.replica, /*slot=*/0, s.seq);
}

void JudgePool::Send(const CallPtr& call, int replica, int slot, uint32_t seq) {
  const absl::Time now = absl::Now();
  absl::Time deadline;
  {
    absl::MutexLock lock(&mu_);
    deadline = call->deadline;
  }
  if (slot == 0 && call->first_start == absl::InfiniteFuture()) {
    call->first_start = now;
    if (metrics_ != nullptr) {
      metrics_->QueueWait(now - call->enqueued);
      metrics_->BatchSize(call->criteria.size());
    }
  }
  HttpRequest req;
  req.url = endpoints_[replica];
  codec_.EncodeBody(call->mode, call->input, call->criteria, call->params,
                    &req.body);
  req.headers = headers_;
  req.timeout = std::min(config_.timeout, deadline - now);
  req.max_response_bytes = static_cast<size_t>(config_.max_reply_bytes);
  counters_.calls_started.fetch_add(1, std::memory_order_relaxed);
  const uint64_t id = loop_->Submit(
      std::move(req),
      [self = shared_from_this(), call, replica, slot](HttpResult r) {
        self->OnHttpDone(call, replica, slot, std::move(r));
      });
  bool cancel = false;
  absl::Time hedge_at = absl::InfiniteFuture();
  {
    absl::MutexLock lock(&mu_);
    // A stale id (the attempt completed already) is harmless: cancelling a
    // finished transfer is a no-op.
    if (call->sends == seq) call->transfer[slot] = id;
    cancel = stopping_ && in_flight_.contains(call.get());
    if (slot == 0 && hedging_ && !cancel && !call->hedged &&
        call->sends == seq && call->live == 1) {
      const absl::Duration delay = HedgeDelayLocked();
      if (delay != absl::InfiniteDuration()) {
        hedge_watch_.push_back(HedgeWatch{now, call, seq});
        if (!hedge_timer_armed_) {
          hedge_timer_armed_ = true;
          hedge_at = now + delay;
        }
      }
    }
  }
  if (cancel) loop_->Cancel(id);
  if (hedge_at != absl::InfiniteFuture()) ArmHedgeTimer(hedge_at);
}

void JudgePool::ArmHedgeTimer(absl::Time when) {
  // Weak, like the batch timers: the delay may be long (a percentile).
  loop_->RunAt(when, [weak = weak_from_this()] {
    if (std::shared_ptr<JudgePool> self = weak.lock()) self->HedgeTick();
  });
}

absl::Duration JudgePool::HedgeDelayLocked() const {
  if (!hedging_) return absl::InfiniteDuration();
  if (options_.hedge_after_percentile > 0) {
    if (latency_percentile_ == absl::InfiniteDuration()) {
      return options_.hedge_delay > absl::ZeroDuration()
                 ? options_.hedge_delay
                 : absl::InfiniteDuration();
    }
    return std::max(options_.hedge_delay, latency_percentile_);
  }
  return options_.hedge_delay;
}

void JudgePool::RecordLatencyLocked(absl::Duration elapsed) {
  if (!hedging_ || options_.hedge_after_percentile <= 0) return;
  const int64_t us = absl::ToInt64Microseconds(elapsed);
  if (latency_ring_.size() < kLatencyRing) {
    latency_ring_.push_back(us);
  } else {
    latency_ring_[latency_count_ % kLatencyRing] = us;
  }
  ++latency_count_;
  if (latency_count_ < kLatencyMinSamples ||
      (latency_count_ != kLatencyMinSamples &&
       latency_count_ % kLatencyRecomputeEvery != 0)) {
    return;
  }
  // Every 16th answer: a selection over <= 256 numbers on the stack.
  int64_t scratch[kLatencyRing];
  const size_t n = latency_ring_.size();
  std::copy(latency_ring_.begin(), latency_ring_.end(), scratch);
  const double rank =
      std::ceil(options_.hedge_after_percentile / 100 * static_cast<double>(n));
  const size_t k =
      std::min(n - 1, static_cast<size_t>(std::max(1.0, rank)) - 1);
  std::nth_element(scratch, scratch + k, scratch + n);
  latency_percentile_ = absl::Microseconds(scratch[k]);
}

void JudgePool::HedgeTick() {
  std::vector<Dispatch> hedges;
  absl::Time next = absl::InfiniteFuture();
  const absl::Time now = absl::Now();
  {
    absl::MutexLock lock(&mu_);
    hedge_timer_armed_ = false;
    const absl::Duration delay = HedgeDelayLocked();
    if (stopping_ || delay == absl::InfiniteDuration()) {
      hedge_watch_.clear();
      return;
    }
    while (!hedge_watch_.empty()) {
      HedgeWatch& w = hedge_watch_.front();
      Call& c = *w.call;
      const bool current =
          c.sends == w.seq && c.live == 1 && !c.won && !c.hedged;
      if (current && w.sent + delay > now) {
        next = w.sent + delay;
        break;
      }
      // Due. Hedge only with budget, when nothing waits for a slot (a
      // hedge must not delay first attempts), with time left, and on
      // another healthy replica with a free slot; else it is not hedged.
      int r = -1;
      if (current && queue_.empty() && hedge_tokens_ >= 1 &&
          c.deadline - now >= options_.min_time_to_start && !c.AllCancelled() &&
          (!rate_limited_ || limiter_.ReadyAt(c.est_tokens, now) <= now) &&
          replicas_.ChooseHedge(c.replica[0], now, &r)) {
        if (rate_limited_) limiter_.Take(c.est_tokens, now);
        hedge_tokens_ -= 1;
        c.hedged = true;
        ++c.live;
        // The attempt that loses holds this until it completes, so that
        // Shutdown() waits for it too (it still updates metrics).
        ++outstanding_;
        c.replica[1] = r;
        hedges.push_back(Dispatch{std::move(w.call), r, w.seq});
      }
      hedge_watch_.pop_front();
    }
    if (next != absl::InfiniteFuture()) hedge_timer_armed_ = true;
    if (!hedges.empty()) PublishGaugesLocked();
  }
  if (next != absl::InfiniteFuture()) ArmHedgeTimer(next);
  for (Dispatch& h : hedges) {
    counters_.hedges_sent.fetch_add(1, std::memory_order_relaxed);
    if (metrics_ != nullptr) metrics_->HedgeSent();
    Send(h.call, h.replica, /*slot=*/1, h.seq);
  }
}

void JudgePool::OnHttpDone(const CallPtr& call, int replica, int slot,
                           HttpResult result) {
  const absl::Time now = absl::Now();
  DecodedCall decoded;
  const bool answered = result.transport_ok() && result.status == 200;
  if (answered) {
    decoded =
        codec_.Decode(call->mode, *call->input, call->criteria, result.body);
    if (call->params.n > 1) {
      // Several samples in one call: it is good when any choice is (the
      // others' verdicts are then failures, which are not votes), and
      // retried only when none could be read.
      for (const DecodedCall& d : decoded.more_choices) {
        if (d.outcome == DecodedCall::Outcome::kOk) {
          decoded.outcome = DecodedCall::Outcome::kOk;
        }
      }
      if (1 + decoded.more_choices.size() <
          static_cast<size_t>(call->params.n)) {
        counters_.short_choices.fetch_add(1, std::memory_order_relaxed);
        if (metrics_ != nullptr) {
          metrics_->ParseFailure(JudgeParseFailure::kShortChoices);
        }
      }
    }
    counters_.calls_succeeded.fetch_add(1, std::memory_order_relaxed);
    counters_.unknown_ids.fetch_add(decoded.unknown_ids,
                                    std::memory_order_relaxed);
    counters_.prompt_tokens.fetch_add(decoded.prompt_tokens,
                                      std::memory_order_relaxed);
    counters_.completion_tokens.fetch_add(decoded.completion_tokens,
                                          std::memory_order_relaxed);
  }
  std::optional<Finished> fin;
  bool retry = false;
  absl::Duration delay = absl::ZeroDuration();
  // A hedged call's other attempt, to abort when this one won.
  uint64_t abort_other = 0;
  bool hedge_won = false;
  bool ignored = false;  // the losing (or failed, overtaken) hedge attempt
  {
    absl::MutexLock lock(&mu_);
    replicas_.Release(replica);
    --call->live;
    call->transfer[slot] = 0;
    if (call->live == 0) in_flight_.erase(call.get());
    if (rate_limited_ && answered && decoded.prompt_tokens > 0) {
      limiter_.Correct(call->reserved_tokens,
                       static_cast<double>(decoded.prompt_tokens +
                                           decoded.completion_tokens),
                       now);
    }
    const absl::Time deadline = call->deadline;
    const bool retryable_status =
        result.transport_ok() && (result.status == 429 || result.status >= 500);
    const bool good = answered && decoded.outcome == DecodedCall::Outcome::kOk;
    if (call->won || (call->live > 0 && !good)) {
      // A hedged call: the other attempt answered already, or may still
      // answer; this result is ignored, but the replica's health counts.
      ignored = true;
      if (!call->won && !result.cancelled) {
        if (!result.transport_ok()) {
          if (!result.timed_out() || now + absl::Milliseconds(5) < deadline) {
            replicas_.OnFailure(replica, now);
          }
        } else if (result.status == 429) {
          replicas_.OnRateLimited(
              replica,
              now + std::min(result.retry_after.value_or(absl::ZeroDuration()),
                             options_.max_retry_after));
        } else if (result.status >= 500) {
          replicas_.OnFailure(replica, now);
        } else {
          replicas_.OnSuccess(replica);
        }
      }
    } else if (result.cancelled) {
      if (stopping_) {
        fin = Finished{call,
                       {},
                       CriterionStatus::kJudgeError,
                       "the judge pool shut down during the call"};
      } else if (call->AllCancelled()) {
        fin = Finished{
            call, {}, CriterionStatus::kSkipped, "the request was cancelled"};
      } else {
        fin = Finished{call,
                       {},
                       CriterionStatus::kTimeout,
                       "the deadline passed during the judge call"};
      }
    } else if (!result.transport_ok() || retryable_status) {
      std::string what;
      if (!result.transport_ok()) {
        if (result.timed_out() && now + absl::Milliseconds(5) >= deadline) {
          fin =
              Finished{call,
                       {},
                       CriterionStatus::kTimeout,
                       absl::StrCat("the deadline passed during the judge "
                                    "call (after ",
                                    absl::FormatDuration(result.elapsed), ")")};
        } else {
          replicas_.OnFailure(replica, now);
          what = absl::StrCat("judge '", config_.name, "' replica ",
                              config_.replicas[replica], ": ", result.error);
        }
      } else if (result.status == 429) {
        const absl::Duration cool =
            std::min(result.retry_after.value_or(absl::ZeroDuration()),
                     options_.max_retry_after);
        replicas_.OnRateLimited(replica, now + cool);
        what = absl::StrCat("judge '", config_.name, "' answered HTTP 429");
      } else {
        replicas_.OnFailure(replica, now);
        what = absl::StrCat("judge '", config_.name, "' answered HTTP ",
                            result.status, ": ",
                            absl::string_view(result.body).substr(0, 200));
      }
      if (!fin.has_value()) {
        ++call->attempts;
        if (call->attempts >= options_.max_attempts) {
          fin =
              Finished{call,
                       {},
                       CriterionStatus::kJudgeError,
                       absl::StrCat(what, " (", call->attempts, " attempts)")};
        } else {
          delay = RetryBackoff(call->attempts, options_, rng_);
          if (result.retry_after.has_value()) {
            delay = std::max(
                delay, std::min(*result.retry_after, options_.max_retry_after));
          }
          if (now + delay + options_.min_time_to_start > deadline) {
            fin = Finished{call,
                           {},
                           CriterionStatus::kJudgeError,
                           absl::StrCat(what,
                                        "; no time left before the deadline "
                                        "to retry")};
          } else {
            retry = true;
            call->avoid = replica;
            counters_.retries.fetch_add(1, std::memory_order_relaxed);
            if (metrics_ != nullptr) {
              metrics_->Retry(
                  !result.transport_ok() ? JudgeRetryReason::kTransport
                  : result.status == 429 ? JudgeRetryReason::kRateLimited
                                         : JudgeRetryReason::kServerError);
            }
          }
        }
      }
    } else if (!answered) {
      // 4xx other than 429: the request itself is wrong; retrying cannot
      // help, and the replica is healthy.
      replicas_.OnSuccess(replica);
      fin =
          Finished{call,
                   {},
                   CriterionStatus::kJudgeError,
                   absl::StrCat("judge '", config_.name, "' answered HTTP ",
                                result.status, ": ",
                                absl::string_view(result.body).substr(0, 300))};
    } else {
      replicas_.OnSuccess(replica);
      latency_ewma_ = latency_ewma_ == absl::ZeroDuration()
                          ? result.elapsed
                          : latency_ewma_ * 0.8 + result.elapsed * 0.2;
      RecordLatencyLocked(result.elapsed);
      switch (decoded.outcome) {
        case DecodedCall::Outcome::kOk:
          fin = Finished{call, std::move(decoded.verdicts),
                         CriterionStatus::kOk, ""};
          break;
        case DecodedCall::Outcome::kTruncated:
          if (call->length_retries < config_.length_retries) {
            ++call->length_retries;
            call->params.max_tokens =
                call->params.max_tokens.has_value()
                    ? std::max(*call->params.max_tokens * 2,
                               config_.length_retry_tokens)
                    : config_.length_retry_tokens;
            retry = true;
          } else {
            fin = Finished{call, std::move(decoded.verdicts),
                           CriterionStatus::kOk, ""};
          }
          break;
        case DecodedCall::Outcome::kUnparsable:
          if (call->parse_retries < config_.parse_retries) {
            ++call->parse_retries;
            call->params.temperature =
                std::min(1.0, call->params.temperature +
                                  config_.parse_retry_temperature_step);
            retry = true;
          } else {
            fin = Finished{call, std::move(decoded.verdicts),
                           CriterionStatus::kOk, ""};
          }
          break;
      }
      if (fin.has_value()) {
        for (DecodedCall& d : decoded.more_choices) {
          fin->more_choices.push_back(std::move(d.verdicts));
        }
      }
      if (retry) {
        counters_.parse_retries.fetch_add(1, std::memory_order_relaxed);
        if (metrics_ != nullptr) {
          metrics_->Retry(decoded.outcome == DecodedCall::Outcome::kTruncated
                              ? JudgeRetryReason::kTruncated
                              : JudgeRetryReason::kUnparsable);
        }
      }
    }
    if (retry) {
      if (stopping_) {
        retry = false;
        fin = Finished{call,
                       {},
                       CriterionStatus::kJudgeError,
                       "the judge pool shut down before a retry"};
      } else if (delay <= absl::ZeroDuration()) {
        queue_.push_front(call);
        retry = false;  // queued: Pump() below sends it
      } else {
        backing_off_.insert(call);
      }
    }
    if (fin.has_value() && call->live > 0) {
      // First good answer of a hedged call: abort the other attempt.
      call->won = true;
      abort_other = call->transfer[1 - slot];
    }
    hedge_won = slot == 1 && good && fin.has_value();
    PublishGaugesLocked();
  }
  if (abort_other != 0) loop_->Cancel(abort_other);
  if (hedge_won) {
    counters_.hedges_won.fetch_add(1, std::memory_order_relaxed);
    if (metrics_ != nullptr) metrics_->HedgeWon();
  }
  if (metrics_ != nullptr)
    RecordAttempt(replica, result, decoded, answered, fin);
  if (fin.has_value()) Finish(*std::move(fin));
  if (retry) {
    loop_->RunAt(now + delay, [self = shared_from_this(), call] {
      {
        absl::MutexLock lock(&self->mu_);
        // Shutdown() may have answered it already.
        if (self->backing_off_.erase(call) == 0) return;
        self->queue_.push_front(call);
      }
      self->Pump();
    });
  }
  Pump();
  if (ignored) {
    absl::MutexLock lock(&mu_);
    if (--outstanding_ == 0) idle_.SignalAll();
  }
}

void JudgePool::FinishAll(std::vector<Finished>& finished) {
  for (Finished& f : finished) Finish(std::move(f));
  finished.clear();
}

void JudgePool::Finish(Finished f) {
  Call& c = *f.call;
  std::vector<Call::Waiter> waiters;
  {
    absl::MutexLock lock(&mu_);
    if (c.in_dedup) {
      dedup_.erase(c.call_key);
      c.in_dedup = false;
    }
    waiters.swap(c.waiters);
  }
  if (f.verdicts.empty()) {
    f.verdicts.resize(c.criteria.size());
    for (Verdict& v : f.verdicts) {
      v.status = f.status;
      v.explanation = f.message;
    }
  }
  if (cache_ != nullptr && !c.sample && c.keys.size() == f.verdicts.size()) {
    for (size_t i = 0; i < f.verdicts.size(); ++i) {
      cache_->Insert(c.keys[i], f.verdicts[i]);
    }
  }
  const absl::Time now = absl::Now();
  const bool started = c.first_start != absl::InfiniteFuture();
  const absl::Duration judge_time =
      started ? now - c.first_start : absl::ZeroDuration();
  for (size_t i = 0; i < waiters.size(); ++i) {
    Call::Waiter& w = waiters[i];
    JudgeResult r;
    const bool last = i + 1 == waiters.size();
    r.verdicts = last ? std::move(f.verdicts) : f.verdicts;
    r.more_samples = last ? std::move(f.more_choices) : f.more_choices;
    if (w.follower) {
      for (Verdict& v : r.verdicts) {
        if (v.status == CriterionStatus::kOk) v.cached = true;
      }
    }
    r.queue_time = std::max(absl::ZeroDuration(),
                            (started ? c.first_start : now) - w.enqueued);
    r.judge_time = judge_time;
    std::move(w.done)(std::move(r));
  }
  absl::MutexLock lock(&mu_);
  if (--outstanding_ == 0) idle_.SignalAll();
}

void JudgePool::Sweep() {
  std::vector<Finished> finished;
  std::vector<uint64_t> cancel;
  bool arm = false;
  const absl::Time now = absl::Now();
  {
    absl::MutexLock lock(&mu_);
    sweep_armed_ = false;
    if (stopping_) return;
    bool removed = false;
    // Held work (batching windows) is swept like queued work.
    std::vector<uint64_t> emptied;
    for (auto& [affinity, batch] : forming_) {
      bool removed_here = false;
      for (CallPtr& c : batch.calls) {
        if (c->AllCancelled()) {
          finished.push_back({std::move(c),
                              {},
                              CriterionStatus::kSkipped,
                              "the request was cancelled"});
        } else if (c->deadline - now < options_.min_time_to_start) {
          finished.push_back({std::move(c),
                              {},
                              CriterionStatus::kTimeout,
                              "the deadline passed while the work was held"});
        } else {
          continue;
        }
        removed_here = true;
        --held_;
      }
      if (!removed_here) continue;
      removed = true;
      batch.calls.erase(
          std::remove(batch.calls.begin(), batch.calls.end(), nullptr),
          batch.calls.end());
      if (batch.calls.empty()) emptied.push_back(affinity);
    }
    for (uint64_t affinity : emptied) forming_.erase(affinity);
    for (CallPtr& c : queue_) {
      if (c->AllCancelled()) {
        finished.push_back({std::move(c),
                            {},
                            CriterionStatus::kSkipped,
                            "the request was cancelled"});
        removed = true;
      } else if (c->deadline - now < options_.min_time_to_start) {
        finished.push_back({std::move(c),
                            {},
                            CriterionStatus::kTimeout,
                            "the deadline passed while the work was queued"});
        removed = true;
      }
    }
    if (removed) {
      queue_.erase(std::remove(queue_.begin(), queue_.end(), nullptr),
                   queue_.end());
      PublishGaugesLocked();
    }
    for (Call* c : in_flight_) {
      if (c->AllCancelled() || c->deadline <= now) {
        for (uint64_t id : c->transfer) {
          if (id != 0) cancel.push_back(id);
        }
      }
    }
    if (outstanding_ > static_cast<int64_t>(finished.size())) {
      arm = true;
      sweep_armed_ = true;
    }
  }
  FinishAll(finished);
  for (uint64_t id : cancel) loop_->Cancel(id);
  if (arm) {
    loop_->RunAt(now + options_.sweep_interval,
                 [self = shared_from_this()] { self->Sweep(); });
  }
  Pump();
}

void JudgePool::Shutdown() {
  std::vector<CallPtr> queued;
  std::vector<CallPtr> backing;
  std::vector<uint64_t> cancel;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    queued.assign(std::make_move_iterator(queue_.begin()),
                  std::make_move_iterator(queue_.end()));
    queue_.clear();
    // Held work never reached a judge either.
    for (auto& [affinity, batch] : forming_) {
      for (CallPtr& c : batch.calls) queued.push_back(std::move(c));
    }
    forming_.clear();
    held_ = 0;
    hedge_watch_.clear();
    PublishGaugesLocked();
    backing.assign(backing_off_.begin(), backing_off_.end());
    backing_off_.clear();
    for (Call* c : in_flight_) {
      for (uint64_t id : c->transfer) {
        if (id != 0) cancel.push_back(id);
      }
    }
  }
  // Queued work never reached a judge: refuse it as a whole.
  for (CallPtr& c : queued) {
    std::vector<Call::Waiter> waiters;
    {
      absl::MutexLock lock(&mu_);
      if (c->in_dedup) dedup_.erase(c->call_key);
      c->in_dedup = false;
      waiters.swap(c->waiters);
    }
    for (Call::Waiter& w : waiters) {
      std::move(w.done)(absl::UnavailableError(
          absl::StrCat("judge '", config_.name, "' is shutting down")));
    }
    absl::MutexLock lock(&mu_);
    if (--outstanding_ == 0) idle_.SignalAll();
  }
  for (CallPtr& c : backing) {
    Finish(Finished{c,
                    {},
                    CriterionStatus::kJudgeError,
                    "the judge pool shut down before a retry"});
  }
  for (uint64_t id : cancel) loop_->Cancel(id);
  if (loop_->InLoopThread()) return;
  absl::MutexLock lock(&mu_);
  while (outstanding_ > 0) idle_.Wait(&mu_);
}

void JudgePool::PublishGaugesLocked() {
  if (metrics_ == nullptr) return;
  metrics_->SetQueueDepth(QueuedLocked());
  for (int r = 0; r < replicas_.size(); ++r) {
    metrics_->replica(r).SetInFlight(replicas_.in_flight(r));
    // Choose() may half-open any replica, OnFailure/OnSuccess open and
    // close them: compare all (a handful) rather than hook each.
    const ReplicaSet::BreakerState state = replicas_.state(r);
    if (state == exported_breakers_[r]) continue;
    exported_breakers_[r] = state;
    switch (state) {
      case ReplicaSet::BreakerState::kClosed:
        metrics_->replica(r).SetBreakerState(JudgeBreakerState::kClosed);
        break;
      case ReplicaSet::BreakerState::kOpen:
        metrics_->replica(r).SetBreakerState(JudgeBreakerState::kOpen);
        break;
      case ReplicaSet::BreakerState::kHalfOpen:
        metrics_->replica(r).SetBreakerState(JudgeBreakerState::kHalfOpen);
        break;
    }
  }
}

void JudgePool::RecordAttempt(int replica, const HttpResult& result,
                              const DecodedCall& decoded, bool answered,
                              const std::optional<Finished>& fin) {
  const bool deadline =
      fin.has_value() && fin->status == CriterionStatus::kTimeout;
  JudgeCallOutcome outcome;
  if (result.cancelled) {
    outcome =
        deadline ? JudgeCallOutcome::kTimeout : JudgeCallOutcome::kCancelled;
  } else if (!result.transport_ok()) {
    outcome = deadline ? JudgeCallOutcome::kTimeout
                       : JudgeCallOutcome::kTransportError;
  } else if (result.status == 429) {
    outcome = JudgeCallOutcome::kRateLimited;
  } else if (!answered) {
    outcome = JudgeCallOutcome::kHttpError;
  } else if (decoded.outcome == DecodedCall::Outcome::kOk) {
    outcome = JudgeCallOutcome::kOk;
  } else {
    outcome = JudgeCallOutcome::kParseError;
  }
  metrics_->replica(replica).CallDone(outcome, result.elapsed);
  if (!answered) return;
  metrics_->Tokens(
      static_cast<uint64_t>(std::max<int64_t>(0, decoded.prompt_tokens)),
      static_cast<uint64_t>(std::max<int64_t>(0, decoded.completion_tokens)));
  if (decoded.unknown_ids > 0) {
    metrics_->ParseFailure(JudgeParseFailure::kUnknownId,
                           static_cast<uint64_t>(decoded.unknown_ids));
  }
  switch (decoded.outcome) {
    case DecodedCall::Outcome::kUnparsable:
      metrics_->ParseFailure(JudgeParseFailure::kUnparsable);
      break;
    case DecodedCall::Outcome::kTruncated:
      metrics_->ParseFailure(JudgeParseFailure::kTruncated);
      break;
    case DecodedCall::Outcome::kOk: {
      // A final answer's per-criterion gaps: left out, or not a verdict.
      // (OnHttpDone moved the verdicts into `fin`.)
      const std::vector<Verdict>& verdicts =
          fin.has_value() && !fin->verdicts.empty() ? fin->verdicts
                                                    : decoded.verdicts;
      uint64_t missing = 0, bad = 0;
      for (const Verdict& v : verdicts) {
        missing += v.status == CriterionStatus::kMissing;
        bad += v.status == CriterionStatus::kParseError;
      }
      if (missing > 0) {
        metrics_->ParseFailure(JudgeParseFailure::kMissingCriterion, missing);
      }
      if (bad > 0) metrics_->ParseFailure(JudgeParseFailure::kBadValue, bad);
      break;
    }
  }
}

JudgePool::Stats JudgePool::stats() const {
  Stats s;
  s.calls_started = counters_.calls_started.load(std::memory_order_relaxed);
  s.calls_succeeded = counters_.calls_succeeded.load(std::memory_order_relaxed);
  s.retries = counters_.retries.load(std::memory_order_relaxed);
  s.parse_retries = counters_.parse_retries.load(std::memory_order_relaxed);
  s.refused_queue_full =
      counters_.refused_queue_full.load(std::memory_order_relaxed);
  s.dedup_joins = counters_.dedup_joins.load(std::memory_order_relaxed);
  s.cache_hits = counters_.cache_hits.load(std::memory_order_relaxed);
  s.unknown_ids = counters_.unknown_ids.load(std::memory_order_relaxed);
  s.short_choices = counters_.short_choices.load(std::memory_order_relaxed);
  s.prompt_tokens = counters_.prompt_tokens.load(std::memory_order_relaxed);
  s.completion_tokens =
      counters_.completion_tokens.load(std::memory_order_relaxed);
  s.votes = counters_.votes.load(std::memory_order_relaxed);
  s.rate_limit_waits =
      counters_.rate_limit_waits.load(std::memory_order_relaxed);
  s.batches_released =
      counters_.batches_released.load(std::memory_order_relaxed);
  s.batches_full = counters_.batches_full.load(std::memory_order_relaxed);
  s.hedges_sent = counters_.hedges_sent.load(std::memory_order_relaxed);
  s.hedges_won = counters_.hedges_won.load(std::memory_order_relaxed);
  absl::MutexLock lock(&mu_);
  s.queued = queue_.size();
  s.held = held_;
  s.in_flight = replicas_.total_in_flight();
  for (int i = 0; i < replicas_.size(); ++i) {
    s.breakers.push_back(replicas_.state(i));
  }
  return s;
}

namespace {

// The samples of one grading by vote; the last sample to answer tallies.
struct VoteState {
  explicit VoteState(int n) : samples(n), remaining(n) {}

  std::vector<CacheKey> keys;  // of the tallied verdicts; empty: no cache
  JudgeCallback done;
  // Slot i is written only by sample i's callback; `remaining` orders the
  // writes before the tally.
  std::vector<absl::StatusOr<JudgeResult>> samples;
  std::atomic<int> remaining;
};

void TallyAndAnswer(VoteState& state, VoteAggregation how,
                    VerdictCache* cache) {
  JudgeResult out;
  std::vector<std::vector<Verdict>> votes;
  votes.reserve(state.samples.size());
  for (absl::StatusOr<JudgeResult>& s : state.samples) {
    // A sample refused as a whole (deadline, shutdown) refuses the grading:
    // a vote short of samples would not be the vote that was asked for.
    if (!s.ok()) {
      std::move(state.done)(s.status());
      return;
    }
    out.queue_time = std::max(out.queue_time, s->queue_time);
    out.judge_time = std::max(out.judge_time, s->judge_time);
    votes.push_back(std::move(s->verdicts));
  }
  out.verdicts = TallyVotes(votes, how);
  if (cache != nullptr && state.keys.size() == out.verdicts.size()) {
    for (size_t i = 0; i < out.verdicts.size(); ++i) {
      cache->Insert(state.keys[i], out.verdicts[i]);
    }
  }
  std::move(state.done)(std::move(out));
}

// The samples of a vote drawn as the choices of one call (vote_via_n):
// `samples[i]` gets choice i. A call refused or failed as a whole fails every
// sample the same way; choices the reply lacks are failed samples, never
// copies of the ones it has (they would be made-up agreeing votes).
void SplitChoices(absl::StatusOr<JudgeResult> r, int votes,
                  std::vector<absl::StatusOr<JudgeResult>>& samples) {
  if (!r.ok()) {
    for (int i = 0; i < votes; ++i) samples[i] = r.status();
    return;
  }
  const bool call_failed =
      r->more_samples.empty() &&
      std::none_of(
          r->verdicts.begin(), r->verdicts.end(),
          [](const Verdict& v) { return v.status == CriterionStatus::kOk; });
  const size_t returned = 1 + r->more_samples.size();
  for (int i = 0; i < votes; ++i) {
    JudgeResult one;
    one.queue_time = r->queue_time;
    one.judge_time = r->judge_time;
    if (i == 0 || call_failed) {
      one.verdicts = r->verdicts;
    } else if (static_cast<size_t>(i) < returned) {
      one.verdicts = std::move(r->more_samples[i - 1]);
    } else {
      one.verdicts.resize(r->verdicts.size());
      for (Verdict& v : one.verdicts) {
        v.status = CriterionStatus::kJudgeError;
        v.explanation =
            absl::StrCat("the judge returned ", returned, " of ", votes,
                         " choices; set vote_via_n: false if it ignores n");
      }
    }
    samples[i] = std::move(one);
  }
}

}  // namespace

void JudgePool::GradeVotes(JudgeWork work, JudgeCallback done, int votes) {
  const GradeInput& in = *work.input;
  const GradingMode mode = codec_.Resolve(in.mode);
  auto state = std::make_shared<VoteState>(votes);
  if (cache_ != nullptr) {
    // The tallied verdicts are cached under the vote's own fingerprint: a
    // 5-vote verdict is not a single call's, nor a 3-vote one's.
    const std::string fingerprint =
        absl::StrCat(fingerprint_, "\x1fvotes\x1f", votes, "\x1f",
                     static_cast<int>(config_.vote_aggregation), "\x1f",
                     config_.vote_temperature);
    std::string storage;
    const CacheKey base = CacheKey::Base(
        fingerprint, mode, JudgePromptText(in, &storage), in.response);
    state->keys.reserve(work.criteria.size());
    for (uint32_t i : work.criteria) {
      state->keys.push_back(
          CacheKey::ForCriterion(base, in.rubric->criteria[i]));
    }
    if (!in.skip_cache) {
      JudgeResult r;
      for (const CacheKey& k : state->keys) {
        std::optional<Verdict> v = cache_->Lookup(k);
        if (!v.has_value()) break;
        r.verdicts.push_back(*std::move(v));
      }
      const bool hit =
          !state->keys.empty() && r.verdicts.size() == state->keys.size();
      if (metrics_ != nullptr && !state->keys.empty()) {
        metrics_->CacheLookup(hit);
      }
      if (hit) {
        counters_.cache_hits.fetch_add(1, std::memory_order_relaxed);
        std::move(done)(std::move(r));
        return;
      }
    }
  }
  // Every call of the vote needs a queue slot: refuse the grading as a
  // whole rather than start samples that could not be tallied.
  const int calls = config_.vote_via_n ? 1 : votes;
  absl::Status refusal;
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_ &&
        QueuedLocked() + static_cast<size_t>(calls) > options_.max_queue_size) {
      counters_.refused_queue_full.fetch_add(1, std::memory_order_relaxed);
      if (metrics_ != nullptr) metrics_->QueueRefused();
      refusal = absl::ResourceExhaustedError(absl::StrCat(
          "judge '", config_.name, "' queue has no room for ", calls,
          " vote call(s) (", QueuedLocked(), " calls waiting); retry after ",
          absl::FormatDuration(RetryHintLocked())));
    }
  }
  if (!refusal.ok()) {
    std::move(done)(std::move(refusal));
    return;
  }
  counters_.votes.fetch_add(1, std::memory_order_relaxed);
  state->done = std::move(done);
  const int64_t first_seed = config_.seed.value_or(1);
  if (config_.vote_via_n) {
    // One call drawing all the samples as choices (the API's `n`).
    Sample sample;
    sample.params = CallParams{config_.vote_temperature, config_.max_tokens,
                               first_seed, votes};
    sample.fingerprint =
        absl::StrCat(fingerprint_, "\x1fsample\x1f", config_.vote_temperature,
                     "\x1f", first_seed, "\x1fn\x1f", votes);
    Enqueue(
        JudgeWork{work.input, work.criteria},
        [state, votes, how = config_.vote_aggregation,
         cache = cache_](absl::StatusOr<JudgeResult> r) {
          SplitChoices(std::move(r), votes, state->samples);
          TallyAndAnswer(*state, how, cache.get());
        },
        &sample);
    return;
  }
  for (int i = 0; i < votes; ++i) {
    Sample sample;
    sample.params = CallParams{config_.vote_temperature, config_.max_tokens,
                               first_seed + i};
    sample.fingerprint =
        absl::StrCat(fingerprint_, "\x1fsample\x1f", config_.vote_temperature,
                     "\x1f", first_seed + i);
    Enqueue(
        JudgeWork{work.input, work.criteria},
        [state, i, how = config_.vote_aggregation,
         cache = cache_](absl::StatusOr<JudgeResult> r) {
          state->samples[i] = std::move(r);
          if (state->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            TallyAndAnswer(*state, how, cache.get());
          }
        },
        &sample);
  }
}

}  // namespace rewardd

#include "server/judge/pool/judge_pool.h"

#include <algorithm>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "server/judge/pool/judge_pool_call.h"
#include "server/util/same_object.h"
#include "server/util/status_macros.h"

namespace rewardd {

absl::StatusOr<std::shared_ptr<JudgePool>> JudgePool::Create(
    HttpJudgeConfig config, JudgePoolOptions options,
    std::shared_ptr<CurlMultiLoop> loop, std::shared_ptr<VerdictCache> cache,
    JudgeMetricFamilies* metrics) {
  if (loop == nullptr) return absl::InvalidArgumentError("no HTTP loop");
  if (config.replicas.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("judge '", config.name, "' has no replicas"));
  }
  if (absl::Status valid = ValidateJudgePoolOptions(options); !valid.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("judge '", config.name, "': pool: ", valid.message()));
  }
  if (config.votes < 1 || config.votes > options.max_votes) {
    return absl::InvalidArgumentError(
        absl::StrCat("judge '", config.name, "': votes (", config.votes,
                     ") must be in [1, max_votes = ", options.max_votes, "]"));
  }
  PromptTemplates templates = PromptTemplates::Default();
  if (!config.templates_file.empty()) {
    REWARDD_ASSIGN_OR_RETURN(templates,
                             PromptTemplates::LoadFile(config.templates_file));
  }
  REWARDD_ASSIGN_OR_RETURN(std::string key, ResolveApiKey(config));
  ChatJudgeCodec codec(config, std::move(templates));
  std::shared_ptr<JudgePool> pool(
      new JudgePool(std::move(config), options, std::move(loop),
                    std::move(cache), std::move(codec), std::move(key)));
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
      window_({options.max_queue_delay, options.max_batch_size,
               options.min_time_to_start}),
      // A hedge needs another replica to go to.
      hedging_((options.hedge_delay > absl::ZeroDuration() ||
                options.hedge_after_percentile > 0) &&
               options.max_hedge_ratio > 0 && config_.replicas.size() > 1),
      hedge_watch_(options.sweep_interval),
      hedge_budget_(options.max_hedge_ratio, options.max_hedge_burst),
      hedge_delay_(options.hedge_delay,
                   hedging_ ? options.hedge_after_percentile : 0) {
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
                        const VoteSample* sample) {
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
  const bool dedup = options_.dedup && !in.skip_cache;
  CallPtr call = NewCall(work, done, sample, now);
  if (call == nullptr) return;  // answered from the cache
  const uint64_t affinity = call->affinity;
  bool joined = false;
  bool arm_sweep = false;
  BatchWindow<CallPtr>::Held held;
  absl::Status refusal;
  {
    absl::MutexLock lock(&mu_);
    refusal =
        AdmitLocked(std::move(call), done, dedup, &joined, &arm_sweep, &held);
  }
  if (!refusal.ok()) {
    std::move(done)(std::move(refusal));
    return;
  }
  if (joined) return;
  if (arm_sweep) ArmSweep(now);
  if (held.timer != absl::InfiniteFuture()) {
    ArmRelease(affinity, held.batch, held.timer);
  }
  Pump();
}

JudgePool::CallPtr JudgePool::NewCall(JudgeWork& work, JudgeCallback& done,
                                      const VoteSample* sample,
                                      absl::Time now) {
  const GradeInput& in = *work.input;
  auto call = std::make_shared<Call>();
  call->mode = codec_.Resolve(in.mode);
  std::string storage;
  const absl::string_view prompt = JudgePromptText(in, &storage);
  if (cache_ != nullptr || (options_.dedup && !in.skip_cache)) {
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
    if (std::optional<JudgeResult> hit = LookupAll(call->keys)) {
      std::move(done)(*std::move(hit));
      return nullptr;
    }
  }
  // Affinity: one prompt and rubric land on one replica (warm prefix cache).
  call->affinity =
      absl::Hash<std::pair<absl::string_view, absl::string_view>>{}(
          {prompt, in.rubric->version});
  call->enqueued = now;
  call->deadline = in.deadline;
  call->params.temperature = config_.temperature;
  call->params.max_tokens = config_.max_tokens;
  if (sample != nullptr) {
    call->params = sample->params;
    call->sample = true;
  }
  // `in` and `prompt` stay valid: the call holds the input from here on.
  call->input = std::move(work.input);
  call->criteria = std::move(work.criteria);
  if (options_.tokens_per_minute > 0) {
    // What a tokens-per-minute limit charges before the answer's usage is
    // known: the request's bytes / 4.
    thread_local std::string body;
    codec_.EncodeBody(call->mode, call->input, call->criteria, call->params,
                      &body);
    call->est_tokens = static_cast<double>(body.size()) / 4;
    if (body.capacity() > (1 << 20)) std::string().swap(body);
  }
  return call;
}

std::optional<JudgeResult> JudgePool::LookupAll(
    const std::vector<CacheKey>& keys) {
  JudgeResult r;
  r.verdicts.reserve(keys.size());
  for (const CacheKey& k : keys) {
    std::optional<Verdict> v = cache_->Lookup(k);
    if (!v.has_value()) break;
    r.verdicts.push_back(*std::move(v));
  }
  const bool hit = r.verdicts.size() == keys.size() && !keys.empty();
  if (metrics_ != nullptr && !keys.empty()) metrics_->CacheLookup(hit);
  if (!hit) return std::nullopt;
  counters_.cache_hits.fetch_add(1, std::memory_order_relaxed);
  return r;
}

absl::Status JudgePool::AdmitLocked(CallPtr call, JudgeCallback& done,
                                    bool dedup, bool* joined, bool* arm_sweep,
                                    BatchWindow<CallPtr>::Held* held) {
  if (stopping_) {
    return absl::UnavailableError(
        absl::StrCat("judge '", config_.name, "' is shutting down"));
  }
  const std::shared_ptr<const Cancellation>& cancellation =
      call->input->cancellation;
  if (auto it = dedup ? dedup_.find(call->call_key) : dedup_.end();
      it != dedup_.end()) {
    Call* leader = it->second;
    leader->waiters.push_back(
        Call::Waiter{std::move(done), cancellation, call->enqueued, true});
    leader->deadline = std::max(leader->deadline, call->deadline);
    counters_.dedup_joins.fetch_add(1, std::memory_order_relaxed);
    if (metrics_ != nullptr) metrics_->DedupJoin();
    *joined = true;
    return absl::OkStatus();
  }
  if (QueuedLocked() >= options_.max_queue_size) {
    counters_.refused_queue_full.fetch_add(1, std::memory_order_relaxed);
    if (metrics_ != nullptr) metrics_->QueueRefused();
    return absl::ResourceExhaustedError(
        absl::StrCat("judge '", config_.name, "' queue is full (",
                     QueuedLocked(), " calls waiting); retry after ",
                     absl::FormatDuration(RetryHintLocked())));
  }
  call->waiters.push_back(
      Call::Waiter{std::move(done), cancellation, call->enqueued, false});
  if (dedup) {
    dedup_[call->call_key] = call.get();
    call->in_dedup = true;
  }
  if (batching_) {
    const uint64_t affinity = call->affinity;
    const absl::Time deadline = call->deadline;
    const absl::Time now = call->enqueued;
    *held =
        window_.Hold(affinity, std::move(call), deadline, latency_ewma_, now);
    if (held->release_now) ReleaseLocked(affinity, held->full);
  } else {
    queue_.push_back(std::move(call));
  }
  PublishGaugesLocked();
  ++outstanding_;
  *arm_sweep = !sweep_armed_;
  sweep_armed_ = true;
  return absl::OkStatus();
}

void JudgePool::ReleaseLocked(uint64_t affinity, bool full) {
  std::vector<CallPtr> calls = window_.Take(affinity);
  if (calls.empty()) return;
  std::shared_ptr<BatchPin> pin =
      calls.size() > 1 ? std::make_shared<BatchPin>() : nullptr;
  // Back-to-back at the tail: Pump() sends them in one go when slots allow.
  for (CallPtr& c : calls) {
    c->pin = pin;
    queue_.push_back(std::move(c));
  }
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
    // Released already (full, an earlier deadline, swept empty).
    if (!window_.IsForming(affinity, batch)) return;
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

std::optional<JudgePool::Finished> JudgePool::SweepOne(CallPtr& c,
                                                       absl::Time now,
                                                       const char* where) {
  if (c->AllCancelled()) {
    return Finished{std::move(c),
                    {},
                    CriterionStatus::kSkipped,
                    "the request was cancelled"};
  }
  if (c->deadline - now < options_.min_time_to_start) {
    return Finished{
        std::move(c),
        {},
        CriterionStatus::kTimeout,
        absl::StrCat("the deadline passed while the work was ", where)};
  }
  return std::nullopt;
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
    auto swept = [&](CallPtr& c, const char* where) {
      std::optional<Finished> f = SweepOne(c, now, where);
      if (f.has_value()) finished.push_back(*std::move(f));
      return f.has_value();
    };
    // Held work (batching windows) is swept like queued work.
    bool removed = window_.Sweep([&](CallPtr& c) { return swept(c, "held"); });
    const auto kept =
        std::remove_if(queue_.begin(), queue_.end(),
                       [&](CallPtr& c) { return swept(c, "queued"); });
    if (kept != queue_.end()) {
      queue_.erase(kept, queue_.end());
      removed = true;
    }
    if (removed) PublishGaugesLocked();
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
  if (arm) ArmSweep(now);
  Pump();
}

void JudgePool::ArmSweep(absl::Time now) {
  loop_->RunAt(now + options_.sweep_interval,
               [self = shared_from_this()] { self->Sweep(); });
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
    for (CallPtr& c : window_.TakeAll()) queued.push_back(std::move(c));
    hedge_watch_.Clear();
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
  s.held = window_.held();
  s.in_flight = replicas_.total_in_flight();
  for (int i = 0; i < replicas_.size(); ++i) {
    s.breakers.push_back(replicas_.state(i));
  }
  return s;
}

void JudgePool::GradeVotes(JudgeWork work, JudgeCallback done, int votes) {
  const GradeInput& in = *work.input;
  std::vector<CacheKey> keys;  // of the tallied verdicts; empty: no cache
  if (cache_ != nullptr) {
    std::string storage;
    const CacheKey base = CacheKey::Base(
        VoteFingerprint(config_, fingerprint_, votes), codec_.Resolve(in.mode),
        JudgePromptText(in, &storage), in.response);
    keys.reserve(work.criteria.size());
    for (uint32_t i : work.criteria) {
      keys.push_back(CacheKey::ForCriterion(base, in.rubric->criteria[i]));
    }
    if (!in.skip_cache) {
      if (std::optional<JudgeResult> hit = LookupAll(keys)) {
        std::move(done)(*std::move(hit));
        return;
      }
    }
  }
  // Every call of the vote needs a queue slot: refuse the grading as a
  // whole rather than start samples that could not be tallied.
  const std::vector<VoteSample> samples =
      PlanVoteSamples(config_, fingerprint_, votes);
  absl::Status refusal;
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_ &&
        QueuedLocked() + samples.size() > options_.max_queue_size) {
      counters_.refused_queue_full.fetch_add(1, std::memory_order_relaxed);
      if (metrics_ != nullptr) metrics_->QueueRefused();
      refusal = absl::ResourceExhaustedError(absl::StrCat(
          "judge '", config_.name, "' queue has no room for ", samples.size(),
          " vote call(s) (", QueuedLocked(), " calls waiting); retry after ",
          absl::FormatDuration(RetryHintLocked())));
    }
  }
  if (!refusal.ok()) {
    std::move(done)(std::move(refusal));
    return;
  }
  counters_.votes.fetch_add(1, std::memory_order_relaxed);
  auto collector = std::make_shared<VoteCollector>(votes, std::move(done),
                                                   config_.vote_aggregation,
                                                   cache_, std::move(keys));
  if (config_.vote_via_n) {
    Enqueue(
        JudgeWork{work.input, work.criteria},
        [collector](absl::StatusOr<JudgeResult> r) {
          collector->AddChoices(std::move(r));
        },
        &samples[0]);
    return;
  }
  for (int i = 0; i < votes; ++i) {
    Enqueue(
        JudgeWork{work.input, work.criteria},
        [collector, i](absl::StatusOr<JudgeResult> r) {
          collector->AddSample(i, std::move(r));
        },
        &samples[i]);
  }
}

}  // namespace rewardd

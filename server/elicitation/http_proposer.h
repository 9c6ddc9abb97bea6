// A proposer behind an OpenAI-compatible Chat Completions endpoint (vLLM,
// SGLang, a hosted API), called over the process's CurlMultiLoop: no thread
// waits on a call.
//
//   absl::StatusOr<HttpProposerConfig> c = ParseHttpProposerConfig(j, dir);
//   absl::StatusOr<std::shared_ptr<HttpProposer>> p =
//       HttpProposer::Create(*c, loop);
//   (*p)->Propose(std::move(request), std::move(done));
//
// One call per proposal: messages = [system (the template's rules), user
// (prompt, rubric, fenced responses)], temperature (0 by default: the paper
// ran its proposer at 0), max_tokens, seed and configured extra fields.
// Replicas are picked as the judge pool picks them (proposer_dispatch.h,
// server/judge/pool/replica_set.h): least outstanding calls, a cool-down
// after a 429, and a circuit breaker per replica (breaker_failures
// consecutive failures open it for breaker_open_time; then one probe). When
// every replica's breaker is open a proposal fails at once (UNAVAILABLE)
// without a call; a retry avoids the replica that just failed. Optional
// RPM/TPM limits (requests_per_minute, tokens_per_minute; the pool's
// RateLimiter) hold an attempt until the budget allows it, never past the
// deadline (a cancelled one is noticed within cancel_poll).
// Metrics (with a JudgeMetricFamilies): the judge pool's rewardd_judge_*
// families with role="proposer" and judge=<proposer name>: calls by
// outcome, call latency, in flight and breaker state per replica, queue
// depth / capacity / wait / refusals, retries by reason, tokens.
// Retries:
//   - connection errors, 429 and 5xx: up to max_attempts tries, exponential
//     backoff (initial_backoff * multiplier^k, capped at max_backoff, +-50%
//     jitter), raised to the server's Retry-After (capped at
//     max_retry_after); never past the request's deadline;
//   - finish_reason "length": up to length_retries more tries with twice
//     the token budget;
//   - an answer with no readable list of criteria (ParseProposal): up to
//     parse_retries more tries at a temperature raised by
//     parse_retry_temperature_step (capped at 1).
// Other 4xx answers fail at once (the request is wrong; retrying cannot
// help). Each HTTP attempt is bounded by `timeout` and by the deadline; a
// cancelled request aborts its transfer within `cancel_poll`.
// Bounded: at most max_in_flight proposals run (retries keep their slot);
// the rest wait in FIFO order in a queue of max_queue, and a queued
// proposal's deadline and cancellation are checked when it starts.
//
// Thread-safety: Propose() from any thread; callbacks run on the loop
// thread.
#ifndef REWARDD_SERVER_ELICITATION_HTTP_PROPOSER_H_
#define REWARDD_SERVER_ELICITATION_HTTP_PROPOSER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "nlohmann/json_fwd.hpp"
#include "server/elicitation/proposer.h"
#include "server/elicitation/proposer_dispatch.h"
#include "server/elicitation/proposer_templates.h"
#include "server/judge/http/curl_multi_loop.h"
#include "server/judge/http/http_judge_config.h"
#include "server/judge/pool/judge_pool_metrics.h"

namespace rewardd {

struct HttpProposerConfig {
  HttpProposerConfig();
  // What a proposer shares with an HTTP judge, read by the same parser
  // (ParseHttpJudgeConfig): name, replicas, model, temperature, seed,
  // max_tokens, extra_body, api_key_env / api_key_file, timeout_ms,
  // max_reply_bytes, parse_retries, parse_retry_temperature_step,
  // length_retries, length_retry_tokens, templates_file (here: a proposer
  // template file, proposer_templates.h). Judge-only fields (mode, logprobs,
  // votes) are ignored. The defaults differ from a judge's where a rubric
  // is a longer answer than a verdict: timeout 180 s, length_retry_tokens
  // 8192, max_reply_bytes 8 MiB, parse_retries 1 at +0.3 temperature.
  HttpJudgeConfig http;
  // Transport / 429 / 5xx retries (a proposer has no pool of its own yet).
  int max_attempts = 4;
  absl::Duration initial_backoff = absl::Milliseconds(200);
  double backoff_multiplier = 2;
  absl::Duration max_backoff = absl::Seconds(10);
  absl::Duration max_retry_after = absl::Seconds(60);
  absl::Duration cancel_poll = absl::Milliseconds(100);
  // Proposals in flight at once (a rubric is a long generation: keep it to
  // what the endpoint serves concurrently); more wait in a queue of at most
  // max_queue, beyond which Propose() answers RESOURCE_EXHAUSTED at once.
  int max_in_flight = 64;
  size_t max_queue = 4096;
  // Replica health and rate limits (ProposerDispatchOptions; `replicas`
  // and `max_in_flight_per_replica` are filled in by Create()).
  ProposerDispatchOptions dispatch;
};

// Reads one proposer entry of a judges config: the fields above plus
// "max_attempts", "initial_backoff_ms", "max_backoff_ms",
// "max_retry_after_ms", "max_in_flight", "max_queue", "breaker_failures",
// "breaker_open_time_ms", "requests_per_minute", "tokens_per_minute",
// "rate_limit_burst_ms". Relative paths are
// resolved against `base_dir`. Fails naming the proposer and the field that is
// wrong.
absl::StatusOr<HttpProposerConfig> ParseHttpProposerConfig(
    const nlohmann::json& j, const std::string& base_dir);

class HttpProposer : public Proposer,
                     public std::enable_shared_from_this<HttpProposer> {
 public:
  // With `metrics` (which must outlive the proposer) its series are
  // exported there with role="proposer"; null: no metrics.
  static absl::StatusOr<std::shared_ptr<HttpProposer>> Create(
      HttpProposerConfig config, std::shared_ptr<CurlMultiLoop> loop,
      JudgeMetricFamilies* metrics = nullptr);

  const std::string& name() const override { return config_.http.name; }
  const std::string& model() const override { return config_.http.model; }
  const std::string& template_version() const override {
    return templates_.version();
  }
  void Propose(ProposalRequest request, ProposerCallback done) override;

  struct Stats {
    uint64_t attempts = 0;          // HTTP attempts started
    uint64_t retries = 0;           // transport / 429 / 5xx retries
    uint64_t length_retries = 0;    // finish_reason "length" retried
    uint64_t parse_retries = 0;     // unreadable answers retried
    uint64_t breaker_refusals = 0;  // failed at once: every breaker open
    // Times an attempt was held back and looked at again later (RPM/TPM
    // limits, every replica busy or cooling down, a half-open probe out).
    uint64_t limit_waits = 0;
  };
  Stats stats() const;

 private:
  struct Call;
  // Takes a slot and starts `call`, or queues it, or refuses it.
  void Admit(std::shared_ptr<Call> call);
  // A proposal finished: its slot goes to the next queued one, if any.
  void ReleaseSlot();
  // CANCELLED or DEADLINE_EXCEEDED when `call` may no longer start.
  static absl::Status Startable(const Call& call);
  HttpProposer(HttpProposerConfig config, ProposerTemplates templates,
               std::shared_ptr<CurlMultiLoop> loop, const std::string& api_key,
               JudgeMetricFamilies* metrics);
  // Starts an attempt on the replica the dispatcher picks, waits for the
  // rate limit, or fails when every breaker is open.
  void Start(std::shared_ptr<Call> call);
  void Send(std::shared_ptr<Call> call, int replica, absl::Time now);
  void OnResult(const std::shared_ptr<Call>& call, uint64_t serial, int replica,
                HttpResult result);
  // Ends one attempt on `replica`: its health, tokens and metrics.
  void EndAttempt(const Call& call, int replica, ProposerDispatch::End end,
                  JudgeCallOutcome outcome, absl::Duration elapsed,
                  absl::Time cool_until = absl::InfinitePast(),
                  double actual_tokens = 0);
  void ExportReplica(int replica);
  void ExportQueue(size_t depth, const Call* started);
  // Handles a 200 answer: the reply, or a length / parse retry.
  void OnAnswer(const std::shared_ptr<Call>& call, int replica,
                HttpResult& result);
  // Retries after `delay`, or fails with `what` when no attempt or time is
  // left.
  void RetryOrFail(const std::shared_ptr<Call>& call, absl::Duration delay,
                   JudgeRetryReason reason, const std::string& what);
  void WatchCancellation(std::shared_ptr<Call> call, uint64_t serial,
                         uint64_t transfer);
  std::string Body(const Call& call) const;
  absl::Duration Backoff(int retry);

  const HttpProposerConfig config_;
  const ProposerTemplates templates_;
  const std::shared_ptr<CurlMultiLoop> loop_;
  std::shared_ptr<const HttpHeaders> headers_;
  ProposerDispatch dispatch_;
  std::unique_ptr<JudgePoolMetrics> metrics_;  // null: metrics off
  absl::Mutex slots_mu_;
  int in_flight_ ABSL_GUARDED_BY(slots_mu_) = 0;
  std::deque<std::shared_ptr<Call>> waiting_ ABSL_GUARDED_BY(slots_mu_);
  absl::Mutex rng_mu_;
  absl::BitGen rng_ ABSL_GUARDED_BY(rng_mu_);
  std::atomic<uint64_t> attempts_{0}, retries_{0}, length_retries_{0},
      parse_retries_{0}, breaker_refusals_{0}, limit_waits_{0};
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_ELICITATION_HTTP_PROPOSER_H_

#include "server/elicitation/http_proposer.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "server/elicitation/proposal_parser.h"
#include "server/judge/http/chat_completion.h"
#include "server/judge/http/http_judge_config.h"

namespace rewardd {

struct HttpProposer::Call {
  std::string system;
  std::string user;
  double temperature = 0;
  std::optional<int64_t> max_tokens;
  int http_failures = 0;  // transport / 429 / 5xx answers so far
  int attempts = 0;       // HTTP attempts started
  int parse_retries = 0;
  int length_retries = 0;
  uint64_t serial = 0;    // bumped per attempt: tells stale watchers apart
  int last_replica = -1;  // the replica of the last attempt (a retry avoids it)
  double est_tokens = 0;  // what one attempt is charged to the TPM limit
  uint64_t affinity = 0;  // keeps a proposal's retries' choice stable
  absl::Time enqueued = absl::InfinitePast();  // queued at (metrics)
  bool finished = false;
  absl::Time start;
  absl::Time deadline = absl::InfiniteFuture();
  std::shared_ptr<const Cancellation> cancellation;
  ProposerCallback done;
  // Gives the call's slot back; empty for a call that never had one.
  absl::AnyInvocable<void() &&> release;

  void Finish(absl::StatusOr<ProposerReply> reply) {
    if (finished) return;
    finished = true;
    if (release) std::move(release)();
    std::move(done)(std::move(reply));
  }
};

namespace {

// Proposer-only fields; everything else goes to ParseHttpJudgeConfig.
constexpr const char* kProposerFields[] = {"type",
                                           "max_attempts",
                                           "initial_backoff_ms",
                                           "max_backoff_ms",
                                           "max_retry_after_ms",
                                           "max_in_flight",
                                           "max_queue",
                                           "breaker_failures",
                                           "breaker_open_time_ms",
                                           "requests_per_minute",
                                           "tokens_per_minute",
                                           "rate_limit_burst_ms"};
// Fields whose proposer default differs from the judge default.
constexpr const char* kOwnDefaults[] = {"timeout_ms", "length_retry_tokens",
                                        "max_reply_bytes", "parse_retries",
                                        "parse_retry_temperature_step"};

// "judge 'x': ..." from the shared parser reads "proposer 'x': ...".
absl::Status AsProposerError(const absl::Status& s) {
  std::string message(s.message());
  if (message.rfind("judge '", 0) == 0) message.replace(0, 5, "proposer");
  if (message.rfind("a judge", 0) == 0) message.replace(2, 5, "proposer");
  return absl::Status(s.code(), message);
}

absl::Status ReadProposerField(const std::string& key, const nlohmann::json& v,
                               HttpProposerConfig* c) {
  const double number = v.get<double>();
  const bool count = key == "max_attempts" || key == "max_in_flight" ||
                     key == "breaker_failures";
  if (!(number >= 0) || (count && number < 1) || number > 1e9) {
    return absl::InvalidArgumentError(absl::StrCat(
        key, ": must be ", count ? "at least 1" : ">= 0", " (and <= 1e9)"));
  }
  if (key == "max_attempts") c->max_attempts = static_cast<int>(number);
  if (key == "max_in_flight") c->max_in_flight = static_cast<int>(number);
  if (key == "max_queue") c->max_queue = static_cast<size_t>(number);
  if (key == "initial_backoff_ms") {
    c->initial_backoff = absl::Milliseconds(number);
  }
  if (key == "max_backoff_ms") c->max_backoff = absl::Milliseconds(number);
  ProposerDispatchOptions& d = c->dispatch;
  if (key == "breaker_failures") d.breaker_failures = static_cast<int>(number);
  if (key == "breaker_open_time_ms") {
    d.breaker_open_time = absl::Milliseconds(number);
  }
  if (key == "requests_per_minute") d.requests_per_minute = number;
  if (key == "tokens_per_minute") d.tokens_per_minute = number;
  if (key == "rate_limit_burst_ms") {
    d.rate_limit_burst = absl::Milliseconds(number);
  }
  if (key == "max_retry_after_ms") {
    c->max_retry_after = absl::Milliseconds(number);
  }
  return absl::OkStatus();
}

}  // namespace

HttpProposerConfig::HttpProposerConfig() {
  http.timeout = absl::Seconds(180);
  http.length_retry_tokens = 8192;
  http.max_reply_bytes = int64_t{8} << 20;
  http.parse_retries = 1;
  http.parse_retry_temperature_step = 0.3;
}

absl::StatusOr<HttpProposerConfig> ParseHttpProposerConfig(
    const nlohmann::json& j, const std::string& base_dir) {
  if (!j.is_object()) {
    return absl::InvalidArgumentError("a proposer must be an object");
  }
  HttpProposerConfig c;
  nlohmann::json shared = nlohmann::json::object();
  for (const auto& [key, value] : j.items()) {
    bool own = false;
    for (const char* f : kProposerFields) own = own || key == f;
    if (!own) {
      shared[key] = value;
      continue;
    }
    if (key == "type") continue;
    absl::Status s;
    try {
      s = ReadProposerField(key, value, &c);
    } catch (const nlohmann::json::exception& e) {
      s = absl::InvalidArgumentError(
          absl::StrCat(key, ": wrong type (", e.what(), ")"));
    }
    if (!s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "proposer '", j.value("name", std::string()), "': ", s.message()));
    }
  }
  absl::StatusOr<HttpJudgeConfig> http = ParseHttpJudgeConfig(shared, base_dir);
  if (!http.ok()) return AsProposerError(http.status());
  const HttpJudgeConfig defaults = c.http;
  c.http = *std::move(http);
  for (const char* f : kOwnDefaults) {
    if (shared.contains(f)) continue;
    const std::string key = f;
    if (key == "timeout_ms") c.http.timeout = defaults.timeout;
    if (key == "length_retry_tokens") {
      c.http.length_retry_tokens = defaults.length_retry_tokens;
    }
    if (key == "max_reply_bytes") {
      c.http.max_reply_bytes = defaults.max_reply_bytes;
    }
    if (key == "parse_retries") c.http.parse_retries = defaults.parse_retries;
    if (key == "parse_retry_temperature_step") {
      c.http.parse_retry_temperature_step =
          defaults.parse_retry_temperature_step;
    }
  }
  return c;
}

absl::StatusOr<std::shared_ptr<HttpProposer>> HttpProposer::Create(
    HttpProposerConfig config, std::shared_ptr<CurlMultiLoop> loop,
    JudgeMetricFamilies* metrics) {
  const HttpJudgeConfig& http = config.http;
  if (http.replicas.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("proposer '", http.name, "': no replicas"));
  }
  if (loop == nullptr) {
    return absl::InvalidArgumentError("HttpProposer needs an HTTP loop");
  }
  nlohmann::json extra =
      nlohmann::json::parse(http.extra_body_json, nullptr, false);
  if (!extra.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "proposer '", http.name, "': extra_body is not a JSON object"));
  }
  ProposerTemplates templates = ProposerTemplates::Default();
  if (!http.templates_file.empty()) {
    absl::StatusOr<ProposerTemplates> t =
        ProposerTemplates::LoadFile(http.templates_file);
    if (!t.ok()) return AsProposerError(t.status());
    templates = *std::move(t);
  }
  absl::StatusOr<std::string> api_key = ResolveApiKey(http);
  if (!api_key.ok()) return AsProposerError(api_key.status());
  config.dispatch.replicas = static_cast<int>(http.replicas.size());
  // The proposer-wide cap bounds the calls; one replica may take them all.
  config.dispatch.max_in_flight_per_replica = config.max_in_flight;
  return std::shared_ptr<HttpProposer>(
      new HttpProposer(std::move(config), std::move(templates), std::move(loop),
                       *api_key, metrics));
}

HttpProposer::HttpProposer(HttpProposerConfig config,
                           ProposerTemplates templates,
                           std::shared_ptr<CurlMultiLoop> loop,
                           const std::string& api_key,
                           JudgeMetricFamilies* metrics)
    : config_(std::move(config)),
      templates_(std::move(templates)),
      loop_(std::move(loop)),
      dispatch_(config_.dispatch, absl::Now()) {
  if (metrics != nullptr) {
    std::vector<std::string> labels;
    for (size_t r = 0; r < config_.http.replicas.size(); ++r) {
      labels.push_back(absl::StrCat(r));
    }
    metrics_ = metrics->ForPool(config_.http.name, labels, config_.max_queue,
                                "proposer");
  }
  std::vector<std::string> lines = {"Content-Type: application/json"};
  if (!api_key.empty()) {
    lines.push_back(absl::StrCat("Authorization: Bearer ", api_key));
  }
  headers_ = HttpHeaders::Make(lines);
}

HttpProposer::Stats HttpProposer::stats() const {
  Stats s;
  s.attempts = attempts_.load();
  s.retries = retries_.load();
  s.length_retries = length_retries_.load();
  s.parse_retries = parse_retries_.load();
  s.breaker_refusals = breaker_refusals_.load();
  s.limit_waits = limit_waits_.load();
  return s;
}

void HttpProposer::Propose(ProposalRequest request, ProposerCallback done) {
  auto call = std::make_shared<Call>();
  call->start = absl::Now();
  call->deadline = request.deadline;
  call->cancellation = request.cancellation;
  call->done = std::move(done);
  call->temperature = config_.http.temperature;
  call->max_tokens = config_.http.max_tokens;
  if (request.kind == ProposalKind::kInitial) {
    call->system = templates_.initial_system();
    InitialPromptInput in;
    in.prompt = std::move(request.prompt);
    in.references = std::move(request.references);
    in.limits = request.limits;
    call->user = templates_.RenderInitial(in);
  } else {
    call->system = templates_.refine_system();
    RefinePromptInput in;
    in.prompt = std::move(request.prompt);
    in.rubric = request.rubric.get();
    in.response_a = std::move(request.response_a);
    in.response_b = std::move(request.response_b);
    in.verdicts = std::move(request.verdicts);
    in.limits = request.limits;
    call->user = templates_.RenderRefine(in);
  }
  // The pool's estimate: about four bytes of prompt per token.
  call->est_tokens =
      static_cast<double>(call->system.size() + call->user.size()) / 4;
  call->affinity = std::hash<std::string>()(call->user);
  Admit(std::move(call));
}

void HttpProposer::Admit(std::shared_ptr<Call> call) {
  {
    absl::MutexLock lock(&slots_mu_);
    if (in_flight_ >= config_.max_in_flight) {
      if (waiting_.size() < config_.max_queue) {
        call->enqueued = absl::Now();
        waiting_.push_back(std::move(call));
        ExportQueue(waiting_.size(), nullptr);
        return;
      }
    } else {
      ++in_flight_;
      call->release = [self = shared_from_this()] { self->ReleaseSlot(); };
    }
  }
  // Admitted at once: no time in the queue (as the judge pools count it).
  if (call->release && metrics_ != nullptr) {
    metrics_->QueueWait(absl::ZeroDuration());
  }
  if (!call->release) {
    if (metrics_ != nullptr) metrics_->QueueRefused();
    call->Finish(absl::ResourceExhaustedError(
        absl::StrCat("proposer '", config_.http.name,
                     "': ", config_.max_in_flight, " proposals in flight and ",
                     config_.max_queue, " waiting; retry later")));
    return;
  }
  Start(std::move(call));
}

void HttpProposer::ReleaseSlot() {
  // A loop, not a chain of Finish() -> ReleaseSlot() calls: a queue full of
  // cancelled proposals must not grow the stack.
  while (true) {
    std::shared_ptr<Call> next;
    {
      absl::MutexLock lock(&slots_mu_);
      if (waiting_.empty()) {
        --in_flight_;
        return;
      }
      next = std::move(waiting_.front());
      waiting_.pop_front();
      ExportQueue(waiting_.size(), next.get());
    }
    if (absl::Status s = Startable(*next); !s.ok()) {
      next->Finish(s);  // holds no slot: this one passes on
      continue;
    }
    next->release = [self = shared_from_this()] { self->ReleaseSlot(); };
    Start(std::move(next));
    return;
  }
}

absl::Status HttpProposer::Startable(const Call& call) {
  if (call.cancellation != nullptr && call.cancellation->cancelled()) {
    return absl::CancelledError("the proposal was cancelled");
  }
  if (absl::Now() >= call.deadline) {
    return absl::DeadlineExceededError(
        "the deadline passed before the proposer could be called");
  }
  return absl::OkStatus();
}

std::string HttpProposer::Body(const Call& call) const {
  nlohmann::json body =
      nlohmann::json::parse(config_.http.extra_body_json, nullptr, false);
  body["model"] = config_.http.model;
  body["messages"] =
      nlohmann::json::array({{{"role", "system"}, {"content", call.system}},
                             {{"role", "user"}, {"content", call.user}}});
  body["temperature"] = call.temperature;
  if (config_.http.seed.has_value()) body["seed"] = *config_.http.seed;
  if (call.max_tokens.has_value()) body["max_tokens"] = *call.max_tokens;
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void HttpProposer::Start(std::shared_ptr<Call> call) {
  if (absl::Status s = Startable(*call); !s.ok()) {
    call->Finish(s);
    return;
  }
  const absl::Time now = absl::Now();
  const ProposerDispatch::Decision d = dispatch_.Acquire(
      call->est_tokens, call->affinity, call->last_replica, now);
  if (d.kind == ProposerDispatch::Decision::kAllOpen) {
    breaker_refusals_.fetch_add(1, std::memory_order_relaxed);
    call->Finish(absl::UnavailableError(absl::StrCat(
        "proposer '", config_.http.name,
        "' is failing (circuit breaker open on every replica); not called")));
    return;
  }
  if (d.kind == ProposerDispatch::Decision::kWait) {
    if (d.until >= call->deadline) {
      call->Finish(absl::DeadlineExceededError(absl::StrCat(
          "proposer '", config_.http.name,
          "': its rate limit (or busy replicas) would hold the call past the "
          "deadline")));
      return;
    }
    limit_waits_.fetch_add(1, std::memory_order_relaxed);
    // A cancelled proposal must not sit out a long rate-limit wait: look
    // again within cancel_poll (Start() checks cancellation first).
    absl::Time when = d.until;
    if (call->cancellation != nullptr) {
      when = std::min(when, now + config_.cancel_poll);
    }
    loop_->RunAt(when, [self = shared_from_this(), call]() mutable {
      self->Start(std::move(call));
    });
    return;
  }
  Send(std::move(call), d.replica, now);
}

void HttpProposer::Send(std::shared_ptr<Call> call, int replica,
                        absl::Time now) {
  ExportReplica(replica);
  call->last_replica = replica;
  HttpRequest req;
  req.url = absl::StrCat(config_.http.replicas[replica], "/chat/completions");
  req.body = Body(*call);
  req.headers = headers_;
  req.timeout = std::min(config_.http.timeout, call->deadline - now);
  req.max_response_bytes = static_cast<size_t>(config_.http.max_reply_bytes);
  const uint64_t serial = ++call->serial;
  ++call->attempts;
  attempts_.fetch_add(1, std::memory_order_relaxed);
  const uint64_t transfer =
      loop_->Submit(std::move(req), [self = shared_from_this(), call, serial,
                                     replica](HttpResult result) mutable {
        self->OnResult(call, serial, replica, std::move(result));
      });
  if (call->cancellation != nullptr) {
    WatchCancellation(std::move(call), serial, transfer);
  }
}

void HttpProposer::EndAttempt(const Call& call, int replica,
                              ProposerDispatch::End end,
                              JudgeCallOutcome outcome, absl::Duration elapsed,
                              absl::Time cool_until, double actual_tokens) {
  dispatch_.Finish(replica, end, cool_until, call.est_tokens, actual_tokens,
                   absl::Now());
  if (metrics_ == nullptr) return;
  metrics_->replica(replica).CallDone(outcome, elapsed);
  ExportReplica(replica);
}

void HttpProposer::ExportReplica(int replica) {
  if (metrics_ == nullptr) return;
  metrics_->replica(replica).SetInFlight(dispatch_.in_flight(replica));
  // ReplicaSet::BreakerState and JudgeBreakerState list the same states.
  metrics_->replica(replica).SetBreakerState(
      static_cast<JudgeBreakerState>(dispatch_.state(replica)));
}

void HttpProposer::ExportQueue(size_t depth, const Call* started) {
  if (metrics_ == nullptr) return;
  metrics_->SetQueueDepth(depth);
  if (started != nullptr) metrics_->QueueWait(absl::Now() - started->enqueued);
}

void HttpProposer::WatchCancellation(std::shared_ptr<Call> call,
                                     uint64_t serial, uint64_t transfer) {
  loop_->RunAt(absl::Now() + config_.cancel_poll,
               [self = shared_from_this(), call = std::move(call), serial,
                transfer]() mutable {
                 // Loop thread, like OnResult: `call` is not shared.
                 if (call->finished || call->serial != serial) return;
                 if (call->cancellation->cancelled()) {
                   self->loop_->Cancel(transfer);
                   return;
                 }
                 self->WatchCancellation(std::move(call), serial, transfer);
               });
}

absl::Duration HttpProposer::Backoff(int retry) {
  absl::Duration d =
      config_.initial_backoff *
      std::pow(config_.backoff_multiplier, std::max(0, retry - 1));
  d = std::min(d, config_.max_backoff);
  absl::MutexLock lock(&rng_mu_);
  return std::min(d * absl::Uniform(rng_, 0.5, 1.5), config_.max_backoff);
}

void HttpProposer::RetryOrFail(const std::shared_ptr<Call>& call,
                               absl::Duration delay, JudgeRetryReason reason,
                               const std::string& what) {
  if (call->http_failures >= config_.max_attempts) {
    call->Finish(absl::UnavailableError(
        absl::StrCat(what, " (", call->http_failures, " attempts)")));
    return;
  }
  const absl::Time when = absl::Now() + delay;
  if (when >= call->deadline) {
    call->Finish(absl::UnavailableError(
        absl::StrCat(what, "; no time left before the deadline to retry")));
    return;
  }
  retries_.fetch_add(1, std::memory_order_relaxed);
  if (metrics_ != nullptr) metrics_->Retry(reason);
  loop_->RunAt(when, [self = shared_from_this(), call]() mutable {
    self->Start(std::move(call));
  });
}

void HttpProposer::OnResult(const std::shared_ptr<Call>& call, uint64_t serial,
                            int replica, HttpResult result) {
  using End = ProposerDispatch::End;
  const absl::Duration elapsed = result.elapsed;
  if (call->finished || serial != call->serial) {
    EndAttempt(*call, replica, End::kNeutral, JudgeCallOutcome::kCancelled,
               elapsed);
    return;
  }
  const std::string who = absl::StrCat("proposer '", config_.http.name, "'");
  if (result.cancelled) {
    EndAttempt(*call, replica, End::kNeutral, JudgeCallOutcome::kCancelled,
               elapsed);
    call->Finish(absl::CancelledError(absl::StrCat(who, ": call cancelled")));
    return;
  }
  if (!result.transport_ok()) {
    if (result.timed_out() && absl::Now() >= call->deadline) {
      EndAttempt(*call, replica, End::kNeutral, JudgeCallOutcome::kTimeout,
                 elapsed);
      call->Finish(absl::DeadlineExceededError(
          absl::StrCat(who, ": the deadline passed during the call (after ",
                       absl::FormatDuration(elapsed), ")")));
      return;
    }
    EndAttempt(*call, replica, End::kFailure, JudgeCallOutcome::kTransportError,
               elapsed);
    ++call->http_failures;
    RetryOrFail(call, Backoff(call->http_failures),
                JudgeRetryReason::kTransport,
                absl::StrCat(who, ": ", result.error));
    return;
  }
  if (result.status == 429 || result.status >= 500) {
    ++call->http_failures;
    absl::Duration delay = Backoff(call->http_failures);
    if (result.retry_after.has_value()) {
      delay = std::max(delay,
                       std::min(*result.retry_after, config_.max_retry_after));
    }
    const bool limited = result.status == 429;
    EndAttempt(
        *call, replica, limited ? End::kRateLimited : End::kFailure,
        limited ? JudgeCallOutcome::kRateLimited : JudgeCallOutcome::kHttpError,
        elapsed, absl::Now() + delay);
    RetryOrFail(call, delay,
                limited ? JudgeRetryReason::kRateLimited
                        : JudgeRetryReason::kServerError,
                absl::StrCat(who, " answered HTTP ", result.status));
    return;
  }
  if (result.status != 200) {
    EndAttempt(*call, replica, End::kNeutral, JudgeCallOutcome::kHttpError,
               elapsed);
    call->Finish(absl::FailedPreconditionError(
        absl::StrCat(who, " answered HTTP ", result.status, ": ",
                     absl::string_view(result.body).substr(0, 200))));
    return;
  }
  OnAnswer(call, replica, result);
}

void HttpProposer::OnAnswer(const std::shared_ptr<Call>& call, int replica,
                            HttpResult& result) {
  using End = ProposerDispatch::End;
  absl::StatusOr<ChatCompletion> completion = ParseChatCompletion(result.body);
  if (!completion.ok()) {
    // A proxy's HTML error page or a broken reply: retried like a failure.
    EndAttempt(*call, replica, End::kFailure, JudgeCallOutcome::kParseError,
               result.elapsed);
    ++call->http_failures;
    RetryOrFail(
        call, Backoff(call->http_failures), JudgeRetryReason::kUnparsable,
        absl::StrCat(
            "proposer '", config_.http.name,
            "': not a chat completion: ", completion.status().message()));
    return;
  }
  ChatChoice& choice = completion->choices[0];
  const bool truncated = choice.finish_reason == "length";
  const bool readable = !truncated && ParseProposal(choice.content).found;
  // The endpoint answered: healthy, whatever the text is worth.
  EndAttempt(*call, replica, End::kSuccess,
             readable ? JudgeCallOutcome::kOk : JudgeCallOutcome::kParseError,
             result.elapsed, absl::InfinitePast(),
             static_cast<double>(completion->prompt_tokens +
                                 completion->completion_tokens));
  if (metrics_ != nullptr) {
    metrics_->Tokens(static_cast<uint64_t>(completion->prompt_tokens),
                     static_cast<uint64_t>(completion->completion_tokens));
  }
  if (truncated && call->length_retries < config_.http.length_retries) {
    if (metrics_ != nullptr) metrics_->Retry(JudgeRetryReason::kTruncated);
    ++call->length_retries;
    length_retries_.fetch_add(1, std::memory_order_relaxed);
    call->max_tokens =
        2 * call->max_tokens.value_or(config_.http.length_retry_tokens / 2);
    Start(call);
    return;
  }
  if (!truncated && call->parse_retries < config_.http.parse_retries &&
      !readable) {
    if (metrics_ != nullptr) metrics_->Retry(JudgeRetryReason::kUnparsable);
    ++call->parse_retries;
    parse_retries_.fetch_add(1, std::memory_order_relaxed);
    call->temperature = std::min(
        1.0, call->temperature + config_.http.parse_retry_temperature_step);
    Start(call);
    return;
  }
  ProposerReply reply;
  reply.text = std::move(choice.content);
  reply.truncated = truncated;
  reply.model = config_.http.model;
  reply.attempts = call->attempts;
  reply.prompt_tokens = completion->prompt_tokens;
  reply.completion_tokens = completion->completion_tokens;
  reply.elapsed = absl::Now() - call->start;
  call->Finish(std::move(reply));
}

}  // namespace rewardd

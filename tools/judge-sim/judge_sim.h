// judge-sim: a real HTTP server speaking the subset of the OpenAI Chat
// Completions API that rewardd's HTTP judge uses, with deterministic
// verdicts, a latency distribution, a concurrency capacity, fault injection
// and prefix-cache accounting. For tests, benchmarks and demos of the HTTP
// path; runs in-process (tests) or as the `judge-sim` binary.
//
//   SimOptions o;
//   o.capacity = 8;
//   o.latency_mean = absl::Milliseconds(20);
//   absl::StatusOr<std::unique_ptr<JudgeSim>> sim = JudgeSim::Start(o);
//   std::string url = (*sim)->base_url();  // "http://127.0.0.1:<port>/v1"
//   SimStats s = (*sim)->stats();
//
// How it reads a request (rewardd's default templates follow this):
//   - mode: per_criterion when the messages mention "criteria_met", else
//     all_in_one (answer: {"<id>": "yes"|"no", ...});
//   - the response: the text between "<response-XXXX>\n" and
//     "\n</response-XXXX>" (the fence rewardd writes);
//   - criteria: lines "[<id>] <text>" outside the fenced prompt/response.
// Verdict rule, in order:
//   1. the oracle file, when it has the response and the criterion text:
//      {"responses": {"R1": "<response text>", ...},
//       "verdicts":  {"R1": {"<criterion text>": 1, ...}, ...}}
//   2. quoted terms: when the criterion quotes terms ("..." or '...'), it is
//      met iff the response contains every one (ASCII case-insensitive);
//   3. otherwise: met iff at least half of the criterion's words of 4+
//      letters occur in the response (case-insensitive).
// Soft scores: with "logprobs": true, the verdict token has probability
// SimConfidence(criterion text) and the opposite answer the rest.
// Sampling (SimOptions::sample, off by default so that verdicts stay fixed):
// a request with "temperature" > 0 is answered like a sampling judge would:
// the verdict above with probability SimConfidence(criterion text), else its
// opposite, drawn from the request's "seed" (or its arrival number when it
// has none), the criterion and the response: SimSampledVerdict(). Its
// logprobs then give the answered token that same probability.
// Choices: a request with "n": k (up to 64) gets k choices; choice i is drawn
// as above with seed + i, so one request with n = k samples what k requests
// with seeds seed .. seed + k - 1 would (SimFaults::max_choices caps k, as an
// endpoint that ignores n would). Stats count the request as one call.
//
// Proposer calls: a request carrying rewardd's proposer marker, or for a
// model named "proposer...", is answered as a rubric proposer would
// (sim_proposer.h: scripted from SimOptions::proposer_script, or the
// oracle), with the same faults (429, 500, hang, reset, garbage, truncate,
// think) drawn as for judge calls.
//
// Thread-safety: JudgeSim's methods may be called from any thread.
#ifndef REWARDD_TOOLS_JUDGE_SIM_JUDGE_SIM_H_
#define REWARDD_TOOLS_JUDGE_SIM_JUDGE_SIM_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace rewardd {

// Fault injection. Each request draws one fault (or none) with these
// probabilities (their sum must be <= 1); the first `fail_first` requests
// get `fail_first_kind` instead.
struct SimFaults {
  double rate_429 = 0;       // 429 with Retry-After: retry_after
  double rate_500 = 0;       // 500 Internal Server Error
  double rate_hang = 0;      // no answer for `hang` (past client timeouts)
  double rate_reset = 0;     // connection dropped mid-response
  double rate_garbage = 0;   // 200 with prose instead of a verdict
  double rate_truncate = 0;  // answer cut in half, finish_reason "length"
  double rate_think = 0;     // answer after a <think> block (with a decoy)
  int fail_first = 0;
  std::string fail_first_kind =
      "500";  // 429 500 hang reset garbage truncate think
  absl::Duration retry_after = absl::Seconds(1);
  absl::Duration hang = absl::Seconds(30);
  // Put think blocks in message.reasoning_content instead of content.
  bool think_in_reasoning_content = false;
  // Answer at most this many choices whatever `n` asks (1: an endpoint that
  // ignores n); 0 = as many as asked.
  int max_choices = 0;
};

struct SimOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0 = any free port
  // Requests served at once; more wait (as on a busy GPU server).
  int capacity = 64;
  // HTTP worker threads; 0 = 2 * capacity + 8 (keep-alive connections each
  // hold one while open).
  int threads = 0;
  // Service time: uniform in [mean - jitter, mean + jitter].
  absl::Duration latency_mean = absl::ZeroDuration();
  absl::Duration latency_jitter = absl::ZeroDuration();
  uint64_t seed = 1;
  SimFaults faults;
  std::string oracle_file;  // see above; "" = rules only
  // Proposer calls (see sim_proposer.h): a script file for the scripted
  // mode; "" = the oracle proposer.
  std::string proposer_script;
  bool sample = false;  // see "Sampling" above
  size_t prefix_memory_bytes = 256u << 20;
};

struct SimStats {
  int64_t calls = 0;  // chat completion requests received
  int64_t completed = 0;
  int64_t concurrent_peak = 0;  // most requests in service at once
  int64_t prompt_bytes = 0;
  int64_t prefix_reused_bytes =
      0;  // bytes an earlier prompt already began with
  double prefix_reuse_share() const {
    return prompt_bytes > 0 ? double(prefix_reused_bytes) / prompt_bytes : 0;
  }
  int64_t all_in_one = 0, per_criterion = 0;
  int64_t verdicts_met = 0, verdicts_unmet = 0;
  int64_t oracle_hits = 0;
  int64_t sampled_calls = 0;  // temperature > 0 with sampling on
  int64_t sampled_flips = 0;  // verdicts a sample answered the other way
  // Proposer calls (sim_proposer.h) by how they were answered; faults are
  // drawn for them like for judge calls.
  int64_t proposer_calls = 0, proposer_scripted = 0, proposer_oracle = 0,
          proposer_unmatched = 0;
  int64_t faults_429 = 0, faults_500 = 0, faults_hang = 0, faults_reset = 0,
          faults_garbage = 0, faults_truncate = 0, faults_think = 0;
  std::string ToJson() const;
};

// The parts of a judge request the simulator reads.
struct SimRequest {
  bool per_criterion = false;
  bool has_response = false;
  std::string response;
  std::vector<std::pair<std::string, std::string>> criteria;  // (id, text)
};
SimRequest ParseSimRequest(absl::string_view all_text);

// The rule-based verdict (rules 2 and 3 above).
bool SimRuleVerdict(absl::string_view criterion, absl::string_view response);
// The probability the simulated judge gives its own verdict, in
// [0.75, 0.99), a fixed function of the criterion text.
double SimConfidence(absl::string_view criterion);
// With sampling on, the verdict answered at temperature > 0: `verdict` (the
// oracle's or the rule's) kept with probability SimConfidence(criterion),
// else flipped; a fixed function of its arguments.
bool SimSampledVerdict(bool verdict, absl::string_view criterion,
                       absl::string_view response, int64_t seed);

class JudgeSim {
 public:
  static absl::StatusOr<std::unique_ptr<JudgeSim>> Start(SimOptions options);
  ~JudgeSim();  // Stop()

  int port() const;
  std::string base_url() const;  // http://host:port/v1

  SimStats stats() const;
  void ResetStats();
  void SetFaults(SimFaults faults);
  void SetLatency(absl::Duration mean, absl::Duration jitter);

  // Ends hangs and waits, stops serving. Idempotent.
  void Stop();

  class Impl;

 private:
  explicit JudgeSim(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rewardd

#endif  // REWARDD_TOOLS_JUDGE_SIM_JUDGE_SIM_H_

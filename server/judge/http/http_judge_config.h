// The configuration of one OpenAI-compatible judge (a model behind one or
// more replica base URLs), as read from one entry of the judges config file
// (see docs/judges.md and examples/judges.json).
//
//   nlohmann::json j = ...;  // {"name": "qwen", "replicas": [...], ...}
//   absl::StatusOr<HttpJudgeConfig> c =
//       ParseHttpJudgeConfig(j, "/etc/rewardd");
//   absl::StatusOr<std::string> key = ResolveApiKey(*c);  // never logged
//
// Thread-safety: a plain value.
#ifndef REWARDD_SERVER_JUDGE_HTTP_HTTP_JUDGE_CONFIG_H_
#define REWARDD_SERVER_JUDGE_HTTP_HTTP_JUDGE_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json_fwd.hpp"
#include "server/judge/judge.h"
#include "server/judge/vote_aggregation.h"

namespace rewardd {

struct HttpJudgeConfig {
  std::string name;
  // Base URLs ending in the API root, e.g. "http://10.0.0.7:8000/v1";
  // calls go to <base>/chat/completions.
  std::vector<std::string> replicas;
  std::string model;
  GradingMode default_mode = GradingMode::kAllInOne;

  // Sampling. Temperature 0 by default: grading should be repeatable.
  double temperature = 0;
  std::optional<int64_t> seed;
  std::optional<double> top_p;
  std::optional<int64_t> max_tokens;  // unset: the server's default
  // Extra request fields passed through as they are (e.g.
  // {"chat_template_kwargs": {"enable_thinking": false}}), serialized JSON
  // object; may not repeat a field rewardd sets.
  std::string extra_body_json = "{}";

  // Soft scores: ask for token log-probabilities.
  bool logprobs = false;
  int top_logprobs = 5;

  // API key: from this environment variable, or the first line of this file.
  std::string api_key_env;
  std::string api_key_file;

  // Per-call timeout (a hung replica); the request deadline may cut it
  // shorter.
  absl::Duration timeout = absl::Seconds(60);
  // A reply body larger than this ends the call as failed (retried like a
  // dropped connection): a misbehaving or hostile endpoint cannot make
  // rewardd buffer without bound. 64 MiB holds n = 8 choices of 32k tokens
  // with 20 top_logprobs each.
  int64_t max_reply_bytes = int64_t{64} << 20;

  // Unparsable answers are retried this many times, each at a temperature
  // raised by `parse_retry_temperature_step` (capped at 1).
  int parse_retries = 2;
  double parse_retry_temperature_step = 0.5;
  // finish_reason "length" is retried this many times with twice the token
  // budget (starting from max_tokens, or `length_retry_tokens` when unset).
  int length_retries = 1;
  int64_t length_retry_tokens = 2048;

  // Optional prompt template file (see prompt_template.h); "" = default.
  std::string templates_file;

  // Votes: samples per grading (1 = a single call; a request may override
  // with GradeOptions.votes). Samples are drawn at `vote_temperature` (as n
  // choices of one call with `seed`, or, without `vote_via_n`, one call each
  // with seeds seed, seed + 1, ...; seed defaults to 1 when unset), so they
  // differ; `vote_aggregation` combines them.
  int votes = 1;
  VoteAggregation vote_aggregation = VoteAggregation::kMajority;
  double vote_temperature = 0.7;
  // How the samples are drawn: one call asking for `n` choices (true, the
  // default: the prompt is sent, billed and prefilled once; vLLM, SGLang,
  // OpenAI and LiteLLM accept `n`), or one call per sample (false: for
  // endpoints that ignore or refuse `n`). A reply with fewer choices than
  // asked is tallied over the choices it has and counted
  // (rewardd_judge_parse_failures_total{kind="short_choices"}).
  bool vote_via_n = true;
};

// Reads one judge entry. Relative file paths are resolved against
// `base_dir`. Fails naming the field that is wrong.
absl::StatusOr<HttpJudgeConfig> ParseHttpJudgeConfig(
    const nlohmann::json& j, const std::string& base_dir);

// "" when neither api_key_env nor api_key_file is set; an error when the
// variable is unset or the file unreadable (the message never has the key).
absl::StatusOr<std::string> ResolveApiKey(const HttpJudgeConfig& config);

// "all_in_one", "per_criterion", "chunked".
absl::StatusOr<GradingMode> ParseGradingModeName(absl::string_view name);

}  // namespace rewardd

#endif  // REWARDD_SERVER_JUDGE_HTTP_HTTP_JUDGE_CONFIG_H_

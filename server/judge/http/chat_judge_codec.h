// The wire format of one judge call: builds the Chat Completions request
// body for a piece of judge work and turns the response body into
// per-criterion verdicts. No I/O; the dispatcher (server/judge/pool/) moves the
// bytes, retries and balances.
//
//   ChatJudgeCodec codec(config, PromptTemplates::Default());
//   std::string body;
//   codec.EncodeBody(GradingMode::kAllInOne, input, {0, 1}, {0.0, {}}, &body);
//   ... POST body to <replica>/chat/completions ...
//   DecodedCall d = codec.Decode(GradingMode::kAllInOne, input, {0, 1}, reply);
//   switch (d.outcome) { case DecodedCall::Outcome::kOk: ... }
//
// Requests follow what vLLM, SGLang and OpenAI accept: model, messages
// (system = instructions, user = rubric/prompt/response), temperature, seed,
// top_p, max_tokens, logprobs/top_logprobs, plus configured extra fields.
// The constant head of the body (model, system message) is serialized once.
//
// Thread-safety: immutable after construction; any thread.
#ifndef REWARDD_SERVER_JUDGE_HTTP_CHAT_JUDGE_CODEC_H_
#define REWARDD_SERVER_JUDGE_HTTP_CHAT_JUDGE_CODEC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "server/judge/http/chat_completion.h"
#include "server/judge/http/http_judge_config.h"
#include "server/judge/http/prompt_template.h"
#include "server/judge/http/verdict_parser.h"
#include "server/judge/judge.h"

namespace rewardd {

// What may change between attempts of one call.
struct CallParams {
  double temperature = 0;
  std::optional<int64_t> max_tokens;
  // Replaces the configured seed (vote samples must differ); unset = the
  // judge's `seed`, if any.
  std::optional<int64_t> seed;
  // Choices asked for in one call (the API's `n`): votes drawn by one
  // request, so the prompt is sent, billed and prefilled once.
  int n = 1;
};

struct DecodedCall {
  enum class Outcome {
    kOk,          // verdicts are final (some may be kMissing/kParseError)
    kTruncated,   // finish_reason "length" before a complete answer
    kUnparsable,  // no answer could be read: retry at a higher temperature
  };
  Outcome outcome = Outcome::kUnparsable;
  // Parallel to the criteria. For kTruncated/kUnparsable: what could be read
  // (kOk verdicts), the rest kParseError, to use when retries run out.
  std::vector<Verdict> verdicts;
  int unknown_ids = 0;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  std::string error;  // why not kOk
  // A call with n > 1 choices: choices 1, 2, ... decoded the same way (the
  // fields above are choice 0's). A choice the reply lacks is absent here.
  std::vector<DecodedCall> more_choices;
};

class ChatJudgeCodec {
 public:
  ChatJudgeCodec(const HttpJudgeConfig& config, PromptTemplates templates);

  // kDefault resolves to the configured default; kChunked grades with the
  // all_in_one format.
  GradingMode Resolve(GradingMode mode) const {
    return mode == GradingMode::kDefault ? default_mode_ : mode;
  }

  // Replaces *body. The escaped user text up to the criteria (the same for
  // all of a response's per_criterion calls) is kept per thread for the
  // last `input` and reused while the same live input comes back.
  void EncodeBody(GradingMode mode,
                  const std::shared_ptr<const GradeInput>& input,
                  absl::Span<const uint32_t> criteria, const CallParams& params,
                  std::string* body) const;

  DecodedCall Decode(GradingMode mode, const GradeInput& input,
                     absl::Span<const uint32_t> criteria,
                     absl::string_view body) const;

  const PromptTemplates& templates() const { return templates_; }

 private:
  DecodedCall DecodeChoice(GradingMode mode, const GradeInput& input,
                           absl::Span<const uint32_t> criteria,
                           const ChatChoice& choice) const;

  GradingMode default_mode_;
  PromptTemplates templates_;
  std::string head_all_in_one_;     // {"model":..,"messages":[{system},
  std::string head_per_criterion_;  //   {"role":"user","content":
  std::string fixed_tail_;          // seed, top_p, logprobs, extras
  std::string fixed_tail_no_seed_;  // the same without seed
  // Tells codecs apart in the per-thread memo (an address may be reused).
  const uint64_t id_;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_JUDGE_HTTP_CHAT_JUDGE_CODEC_H_

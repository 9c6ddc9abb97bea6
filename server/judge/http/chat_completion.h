// The parts of an OpenAI-compatible Chat Completions response that rewardd
// reads, and the parser that reads them from a judge's HTTP reply body.
//
//   absl::StatusOr<ChatCompletion> c = ParseChatCompletion(body);
//   if (!c.ok()) { ... retry: the reply was not a chat completion ... }
//   for (const ChatChoice& choice : c->choices) Use(choice.content);
//
// What is read: choices[].message.content, choices[].message.
// reasoning_content (or `reasoning`, as some vLLM versions name it),
// choices[].finish_reason, choices[].logprobs.content[] (token, logprob,
// top_logprobs[]) and usage.prompt_tokens / usage.completion_tokens. Every
// other field is skipped. A repeated key: the last one counts. The reply is
// untrusted: not JSON, no choices, or a field rewardd reads with the wrong
// type ("logprob": "x") or a number no 64-bit integer or double holds is an
// error (INVALID_ARGUMENT), never a guess.
//
// Thread-safety: ParseChatCompletion may be called from any thread; each
// thread keeps its own parser buffers (reused: no allocation per reply once
// a thread has seen a reply that large).
#ifndef REWARDD_SERVER_JUDGE_HTTP_CHAT_COMPLETION_H_
#define REWARDD_SERVER_JUDGE_HTTP_CHAT_COMPLETION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/judge/http/verdict_parser.h"

namespace rewardd {

// One choice of a Chat Completions response: the parts rewardd reads.
struct ChatChoice {
  std::string content;
  std::string reasoning_content;  // vLLM/SGLang reasoning parsers
  std::string finish_reason;
  std::vector<TokenLogprob> logprobs;
};

// The parts of a Chat Completions response rewardd reads.
struct ChatCompletion {
  // In the reply's order; never empty once parsed. Choices past the first
  // come from calls that ask for n > 1.
  std::vector<ChatChoice> choices;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
};

// Fails (INVALID_ARGUMENT) when `body` is not a chat completion.
absl::StatusOr<ChatCompletion> ParseChatCompletion(absl::string_view body);

}  // namespace rewardd

#endif  // REWARDD_SERVER_JUDGE_HTTP_CHAT_COMPLETION_H_

// Turns what an LLM judge wrote into per-criterion verdicts. Real judges do
// not answer cleanly: reasoning models open with <think> blocks, chat models
// wrap JSON in ``` fences and prose, and values come as yes/no/true/false/1/0
// in any case. The parser finds the last JSON object (lenient: single quotes,
// bare words, trailing commas) that answers the question, or, failing that,
// "id: yes" lines (all_in_one) or a bare yes/no (per_criterion).
//
//   std::vector<absl::string_view> ids = {"c1", "c2"};
//   VerdictParse p = ParseVerdictObject(content, ids, logprobs);
//   if (!p.found) { /* unparsable: retry at a higher temperature */ }
//   for (const ParsedVerdict& v : p.verdicts) { ... }  // parallel to ids
//
// Soft scores: given the completion's token log-probabilities, the token
// that carries a verdict value is located by its character offset and
// P(met) = mass(yes-like alternatives) / mass(yes-like + no-like).
//
// Thread-safety: stateless functions.
#ifndef REWARDD_SERVER_JUDGE_HTTP_VERDICT_PARSER_H_
#define REWARDD_SERVER_JUDGE_HTTP_VERDICT_PARSER_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace rewardd {

// One generated token with its log-probability and the top alternatives the
// server reported at that position (OpenAI `logprobs.content[]`).
struct TokenLogprob {
  std::string token;
  double logprob = 0;
  std::vector<std::pair<std::string, double>> top;  // (token, logprob)
};

struct ParsedVerdict {
  enum class State {
    kAbsent,    // the answer did not mention this criterion
    kOk,        // met is the verdict
    kBadValue,  // mentioned with a value that is not a verdict ("maybe")
  };
  State state = State::kAbsent;
  bool met = false;
  std::optional<double> probability;  // from logprobs, when available
  std::string explanation;
};

struct VerdictParse {
  bool found = false;  // an answer was found at all
  std::vector<ParsedVerdict> verdicts;
  int unknown_ids = 0;  // keys that are not criterion ids (ignored)
  std::string error;    // why nothing was found
};

// yes/y/true/1/met/pass -> true; no/n/false/0/unmet/not met/fail -> false,
// any case, surrounding quotes, spaces and final punctuation ignored.
std::optional<bool> ParseVerdictWord(absl::string_view word);

// The part of `content` after the last </think> (all of it when there is no
// think block; empty when a <think> is never closed). `*offset` gets where
// the returned view starts in `content`.
absl::string_view StripThinking(absl::string_view content, size_t* offset);

// all_in_one / chunked answers: an object of criterion id -> verdict (values
// may also be objects such as {"met": true, "explanation": "..."}), possibly
// nested one level ({"verdicts": {...}}). `verdicts` is parallel to `ids`.
VerdictParse ParseVerdictObject(absl::string_view content,
                                absl::Span<const absl::string_view> ids,
                                absl::Span<const TokenLogprob> logprobs = {});

// per_criterion answers: {"criteria_met": true, "explanation": "..."} (also
// met / verdict / answer keys), or a bare yes/no. `verdicts` has one entry.
VerdictParse ParseSingleVerdict(absl::string_view content,
                                absl::Span<const TokenLogprob> logprobs = {});

}  // namespace rewardd

#endif  // REWARDD_SERVER_JUDGE_HTTP_VERDICT_PARSER_H_

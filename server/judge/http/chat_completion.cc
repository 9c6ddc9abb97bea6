#include "server/judge/http/chat_completion.h"

#include <simdjson.h>

#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"

namespace rewardd {
namespace {

// Why simdjson: a judge call's reply is parsed on the HTTP loop's thread,
// once per call. The nlohmann SAX reader this replaces was several times
// slower on a typical per_criterion reply (its lexer copies every token byte
// by byte); build-perf/bench/judge-reply-parse-bench compares the two with
// nlohmann::json::parse, and docs/benchmark-history.md has the figures when
// this was added. Both gave the same result on 2.8
// million mutated replies, except that integers beyond 64 bits (and numbers
// beyond a double's range) are refused here as not JSON where nlohmann
// rounded them: no judge sends them, and a refusal is retried, not guessed.
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

// `v` as an int64_t, clamped: a plain static_cast is undefined behaviour
// for values out of range, and a reply may carry 1e65 anywhere (found by
// fuzz/chat_completion_fuzzer.cc).
int64_t SaturatingInt64(double v) {
  if (std::isnan(v)) return 0;
  if (v >= 9223372036854775807.0) return std::numeric_limits<int64_t>::max();
  if (v <= -9223372036854775808.0) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(v);
}

// A JSON number (true/false count as 1/0, as they always have here) as a
// double and as a whole number; false when `e` is not one.
bool NumberOf(element e, double* value, int64_t* whole) {
  switch (e.type()) {
    case element_type::INT64: {
      const int64_t v = e.get_int64().value_unsafe();
      *value = static_cast<double>(v);
      *whole = v;
      return true;
    }
    case element_type::UINT64: {
      const uint64_t v = e.get_uint64().value_unsafe();
      *value = static_cast<double>(v);
      *whole = static_cast<int64_t>(v);
      return true;
    }
    case element_type::DOUBLE: {
      const double v = e.get_double().value_unsafe();
      *value = v;
      *whole = SaturatingInt64(v);
      return true;
    }
    case element_type::BOOL: {
      const bool v = e.get_bool().value_unsafe();
      *value = v ? 1.0 : 0.0;
      *whole = v ? 1 : 0;
      return true;
    }
    default:
      return false;
  }
}

// Sets `*out` to the string `e`, or clears it; true when `e` was one.
bool AssignString(element e, std::string* out) {
  std::string_view s;
  if (e.get_string().get(s) == simdjson::SUCCESS) {
    out->assign(s.data(), s.size());
    return true;
  }
  out->clear();
  return false;
}

class Reader {
 public:
  ChatCompletion out;
  bool choices_array = false;
  bool choice0_object = false;
  std::string type_error;  // the first field of the wrong type

  void Root(object root) {
    for (auto [key, value] : root) {
      if (key == "choices") {
        Choices(value);
      } else if (key == "usage") {
        Usage(value);
      }
    }
  }

  // Each choice's reasoning text: reasoning_content, else reasoning (vLLM
  // versions differ in the name).
  void FinishReasoning() {
    for (size_t i = 0; i < out.choices.size(); ++i) {
      Reasoning& r = reasoning_[i];
      out.choices[i].reasoning_content =
          r.has_content ? std::move(r.content)
                        : (r.has_alt ? std::move(r.alt) : std::string());
    }
  }

 private:
  struct Reasoning {
    std::string content, alt;
    bool has_content = false, has_alt = false;
  };

  void WrongType(const char* field) {
    if (type_error.empty()) type_error = field;
  }

  void Choices(element value) {
    out.choices.clear();
    reasoning_.clear();
    choice0_object = false;
    array choices;
    choices_array = value.get_array().get(choices) == simdjson::SUCCESS;
    if (!choices_array) return;
    for (element e : choices) {
      // Every element gets a choice, so indices stay aligned; one that is
      // not an object stays empty (it decodes as unparsable).
      ChatChoice& choice = out.choices.emplace_back();
      Reasoning& reasoning = reasoning_.emplace_back();
      object fields;
      const bool is_object = e.get_object().get(fields) == simdjson::SUCCESS;
      if (out.choices.size() == 1) choice0_object = is_object;
      if (is_object) Choice(fields, &choice, &reasoning);
    }
  }

  void Choice(object fields, ChatChoice* choice, Reasoning* reasoning) {
    for (auto [key, value] : fields) {
      if (key == "message") {
        choice->content.clear();
        *reasoning = Reasoning();
        object message;
        if (value.get_object().get(message) != simdjson::SUCCESS) continue;
        for (auto [mkey, mvalue] : message) {
          if (mkey == "content") {
            AssignString(mvalue, &choice->content);
          } else if (mkey == "reasoning_content") {
            reasoning->has_content = AssignString(mvalue, &reasoning->content);
          } else if (mkey == "reasoning") {
            reasoning->has_alt = AssignString(mvalue, &reasoning->alt);
          }
        }
      } else if (key == "finish_reason") {
        AssignString(value, &choice->finish_reason);
      } else if (key == "logprobs") {
        choice->logprobs.clear();
        object logprobs;
        if (value.get_object().get(logprobs) != simdjson::SUCCESS) continue;
        for (auto [lkey, lvalue] : logprobs) {
          if (lkey != "content") continue;
          choice->logprobs.clear();
          array tokens;
          if (lvalue.get_array().get(tokens) != simdjson::SUCCESS) continue;
          for (element t : tokens) {
            object token;
            if (t.get_object().get(token) != simdjson::SUCCESS) continue;
            TokenLogprob& lp = choice->logprobs.emplace_back();
            Token(token, &lp.token, &lp.logprob, &lp.top);
          }
        }
      }
    }
  }

  // One entry of logprobs.content (its token, logprob and alternatives),
  // or with `top` null one of its alternatives (token and logprob only).
  // Fields in the reply's order, so that the first wrong type is reported.
  void Token(object fields, std::string* token, double* logprob,
             std::vector<std::pair<std::string, double>>* top) {
    *logprob = -1e9;
    for (auto [key, value] : fields) {
      if (key == "token") {
        if (!AssignString(value, token)) WrongType("token");
      } else if (key == "logprob") {
        int64_t whole;
        if (!NumberOf(value, logprob, &whole)) WrongType("logprob");
      } else if (top != nullptr && key == "top_logprobs") {
        array alternatives;
        if (value.get_array().get(alternatives) != simdjson::SUCCESS) {
          continue;
        }
        top->clear();
        for (element alt : alternatives) {
          object alt_fields;
          if (alt.get_object().get(alt_fields) != simdjson::SUCCESS) continue;
          auto& [alt_token, alt_logprob] = top->emplace_back();
          Token(alt_fields, &alt_token, &alt_logprob, nullptr);
        }
      }
    }
  }

  void Usage(element value) {
    out.prompt_tokens = 0;
    out.completion_tokens = 0;
    object usage;
    if (value.get_object().get(usage) != simdjson::SUCCESS) return;
    for (auto [key, v] : usage) {
      const bool prompt = key == "prompt_tokens";
      if (!prompt && key != "completion_tokens") continue;
      double ignored;
      int64_t whole;
      if (NumberOf(v, &ignored, &whole)) {
        (prompt ? out.prompt_tokens : out.completion_tokens) = whole;
      } else {
        WrongType(prompt ? "prompt_tokens" : "completion_tokens");
      }
    }
  }

  std::vector<Reasoning> reasoning_;  // parallel to out.choices
};

}  // namespace

absl::StatusOr<ChatCompletion> ParseChatCompletion(absl::string_view body) {
  // One parser per thread, reused (a parse copies the body into its padded
  // buffer, and its buffers grow to the largest body seen); a reply over
  // 1 MiB gets a parser of its own, so that an idle thread does not keep
  // the memory of the largest reply it ever read.
  constexpr size_t kKeptParserBytes = 1 << 20;
  thread_local simdjson::dom::parser kept;
  simdjson::dom::parser one_off;  // allocates only if used
  simdjson::dom::parser& parser =
      body.size() <= kKeptParserBytes ? kept : one_off;
  element doc;
  object root;
  if (parser.parse(body.data(), body.size(), /*realloc_if_needed=*/true)
              .get(doc) != simdjson::SUCCESS ||
      doc.get_object().get(root) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("the judge's reply is not JSON");
  }
  Reader reader;
  reader.Root(root);
  if (!reader.choices_array || reader.out.choices.empty() ||
      !reader.choice0_object) {
    return absl::InvalidArgumentError("the judge's reply has no choices");
  }
  // The reply is untrusted: a field of another type ("logprob": "x") is
  // refused like any other malformed reply.
  if (!reader.type_error.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the judge's reply has a field of the wrong type (",
                     reader.type_error, ")"));
  }
  reader.FinishReasoning();
  return std::move(reader.out);
}

}  // namespace rewardd

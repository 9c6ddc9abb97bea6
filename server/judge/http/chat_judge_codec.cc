#include "server/judge/http/chat_judge_codec.h"

#include <atomic>
#include <cmath>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "server/util/same_object.h"

namespace rewardd {
namespace {

// JSON string escaping for the large, per-call user message: one pass, no
// intermediate json value. Bytes >= 0x80 pass through (UTF-8). Escaping is
// per byte, so the escaped parts of a text concatenate to its escaping.
void AppendJsonEscaped(absl::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->reserve(out->size() + s.size() + s.size() / 16 + 2);
  size_t run = 0;  // start of the pending run of plain bytes
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = s[i];
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 15]);
    }
  }
  out->append(s.data() + run, s.size() - run);
}

void AppendJsonString(absl::string_view s, std::string* out) {
  out->push_back('"');
  AppendJsonEscaped(s, out);
  out->push_back('"');
}

std::atomic<uint64_t> next_codec_id{1};

std::string Head(const HttpJudgeConfig& config, const std::string& system) {
  std::string head = "{\"model\":";
  AppendJsonString(config.model, &head);
  head.append(",\"messages\":[{\"role\":\"system\",\"content\":");
  AppendJsonString(system, &head);
  head.append("},{\"role\":\"user\",\"content\":");
  return head;
}

}  // namespace

ChatJudgeCodec::ChatJudgeCodec(const HttpJudgeConfig& config,
                               PromptTemplates templates)
    : default_mode_(config.default_mode),
      templates_(std::move(templates)),
      id_(next_codec_id.fetch_add(1, std::memory_order_relaxed)) {
  head_all_in_one_ = Head(config, templates_.System(GradingMode::kAllInOne));
  head_per_criterion_ =
      Head(config, templates_.System(GradingMode::kPerCriterion));
  nlohmann::json tail =
      nlohmann::json::parse(config.extra_body_json, nullptr, false);
  if (!tail.is_object()) tail = nlohmann::json::object();
  if (config.top_p.has_value()) tail["top_p"] = *config.top_p;
  if (config.logprobs) {
    tail["logprobs"] = true;
    if (config.top_logprobs > 0) tail["top_logprobs"] = config.top_logprobs;
  }
  // Serialized without braces so it can follow the per-call fields.
  auto inner = [](const nlohmann::json& j) {
    std::string dumped = j.dump();
    return dumped.size() > 2 ? dumped.substr(1, dumped.size() - 2) : "";
  };
  fixed_tail_no_seed_ = inner(tail);
  if (config.seed.has_value()) tail["seed"] = *config.seed;
  fixed_tail_ = inner(tail);
}

void ChatJudgeCodec::EncodeBody(GradingMode mode,
                                const std::shared_ptr<const GradeInput>& input,
                                absl::Span<const uint32_t> criteria,
                                const CallParams& params,
                                std::string* body) const {
  mode = Resolve(mode);
  // The escaped prefix (instructions, fenced prompt and response: nearly
  // all of a per_criterion call's bytes) is rendered, fence-tagged and
  // escaped once per response per thread, not once per criterion.
  struct PrefixMemo {
    std::weak_ptr<const GradeInput> input;
    uint64_t codec = 0;
    GradingMode mode = GradingMode::kDefault;
    std::string escaped;
  };
  thread_local PrefixMemo memo;
  thread_local std::string user;  // reused: no allocation once warm
  if (!SameLiveObject(memo.input, input) || memo.codec != id_ ||
      memo.mode != mode) {
    user.clear();
    templates_.RenderUserPrefix(mode, *input, &user);
    memo.escaped.clear();
    AppendJsonEscaped(user, &memo.escaped);
    memo.input = input;
    memo.codec = id_;
    memo.mode = mode;
  }
  user.clear();
  templates_.RenderUserSuffix(mode, *input, criteria, &user);
  const std::string& head = mode == GradingMode::kPerCriterion
                                ? head_per_criterion_
                                : head_all_in_one_;
  body->clear();
  // One allocation for the whole body (escapes rarely add more than 1/16).
  body->reserve(head.size() + memo.escaped.size() + user.size() +
                user.size() / 16 + fixed_tail_.size() + 96);
  body->append(head);
  body->push_back('"');
  body->append(memo.escaped);
  AppendJsonEscaped(user, body);
  body->push_back('"');
  absl::StrAppend(body, "}],\"temperature\":", params.temperature);
  if (params.max_tokens.has_value()) {
    absl::StrAppend(body, ",\"max_tokens\":", *params.max_tokens);
  }
  if (params.seed.has_value()) {
    absl::StrAppend(body, ",\"seed\":", *params.seed);
  }
  if (params.n > 1) absl::StrAppend(body, ",\"n\":", params.n);
  const std::string& tail =
      params.seed.has_value() ? fixed_tail_no_seed_ : fixed_tail_;
  if (!tail.empty()) {
    body->push_back(',');
    body->append(tail);
  }
  body->push_back('}');
  if (user.capacity() > (1 << 20)) std::string().swap(user);
  if (memo.escaped.capacity() > (1 << 20)) {
    // A huge response's text is not kept alive on an idle thread.
    memo = PrefixMemo();
  }
}

namespace {

// Reads the fields of a chat completion straight off nlohmann's SAX events:
// no DOM of the reply is built (that was most of the parse's cost, one
// allocation per value). Same results as reading them from a parsed
// document (a repeated key: the last one counts); a field rewardd reads
// with the wrong type is reported after the whole reply parsed.
// `v` as an int64_t, clamped: a plain static_cast is undefined behaviour
// for values out of range, and a reply may carry 1e65 anywhere (found by
// fuzz/chat_completion_fuzzer.cc).
int64_t SaturatingInt64(double v) {
  if (std::isnan(v)) return 0;
  if (v >= 9223372036854775807.0) return std::numeric_limits<int64_t>::max();
  if (v <= -9223372036854775808.0) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(v);
}

class CompletionReader : public nlohmann::json_sax<nlohmann::json> {
 public:
  ChatCompletion out;
  bool root_object = false;
  bool choices_array = false;
  bool choice0_object = false;
  std::string type_error;  // the first field of the wrong type

  // Sets each choice's reasoning text: reasoning_content, else reasoning
  // (vLLM versions differ in the name).
  void FinishReasoning() {
    for (size_t i = 0; i < out.choices.size(); ++i) {
      Reasoning& r = reasoning_[i];
      out.choices[i].reasoning_content =
          r.has_content ? std::move(r.content)
                        : (r.has_alt ? std::move(r.alt) : std::string());
    }
  }

  bool null() override { return Scalar(kNull, {}); }
  bool boolean(bool v) override {
    return Scalar(kNumber, {}, v ? 1.0 : 0.0, v ? 1 : 0);
  }
  bool number_integer(number_integer_t v) override {
    return Scalar(kNumber, {}, static_cast<double>(v), v);
  }
  bool number_unsigned(number_unsigned_t v) override {
    return Scalar(kNumber, {}, static_cast<double>(v), static_cast<int64_t>(v));
  }
  bool number_float(number_float_t v, const string_t&) override {
    return Scalar(kNumber, {}, v, SaturatingInt64(v));
  }
  bool string(string_t& v) override { return Scalar(kString, &v); }
  bool binary(binary_t&) override { return Scalar(kNull, {}); }
  bool start_object(std::size_t) override { return Open(true); }
  bool start_array(std::size_t) override { return Open(false); }
  bool end_object() override { return Close(); }
  bool end_array() override { return Close(); }
  bool key(string_t& k) override {
    Frame& f = stack_.back();
    f.key = Classify(f.ctx, k);
    return true;
  }
  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  enum class Ctx : uint8_t {
    kRoot,
    kChoices,
    kChoice,
    kMessage,
    kLogprobs,
    kLpContent,
    kToken,
    kTop,
    kAlt,
    kUsage,
    kSkip,
  };
  enum class Key : uint8_t {
    kOther,
    kChoices,
    kUsage,
    kMessage,
    kFinish,
    kLogprobs,
    kContent,
    kReasoningContent,
    kReasoning,
    kToken,
    kLogprob,
    kTopLogprobs,
    kPromptTokens,
    kCompletionTokens,
  };
  enum Kind { kNull, kNumber, kString, kObject, kArray };
  struct Frame {
    Ctx ctx;
    Key key = Key::kOther;
    size_t index = 0;  // arrays: the element being read
  };

  static Key Classify(Ctx ctx, const std::string& k) {
    switch (ctx) {
      case Ctx::kRoot:
        if (k == "choices") return Key::kChoices;
        if (k == "usage") return Key::kUsage;
        break;
      case Ctx::kChoice:
        if (k == "message") return Key::kMessage;
        if (k == "finish_reason") return Key::kFinish;
        if (k == "logprobs") return Key::kLogprobs;
        break;
      case Ctx::kMessage:
        if (k == "content") return Key::kContent;
        if (k == "reasoning_content") return Key::kReasoningContent;
        if (k == "reasoning") return Key::kReasoning;
        break;
      case Ctx::kLogprobs:
        if (k == "content") return Key::kContent;
        break;
      case Ctx::kToken:
      case Ctx::kAlt:
        if (k == "token") return Key::kToken;
        if (k == "logprob") return Key::kLogprob;
        if (ctx == Ctx::kToken && k == "top_logprobs") {
          return Key::kTopLogprobs;
        }
        break;
      case Ctx::kUsage:
        if (k == "prompt_tokens") return Key::kPromptTokens;
        if (k == "completion_tokens") return Key::kCompletionTokens;
        break;
      default:
        break;
    }
    return Key::kOther;
  }

  void WrongType(const char* field) {
    if (type_error.empty()) type_error = field;
  }

  // One value at the current position; returns the context to push when
  // the value is a container (kSkip when rewardd does not read inside it).
  Ctx Place(Kind kind, std::string* str, double num, int64_t whole) {
    if (stack_.empty()) {
      root_object = kind == kObject;
      return root_object ? Ctx::kRoot : Ctx::kSkip;
    }
    Frame& f = stack_.back();
    const size_t index = f.index++;
    switch (f.ctx) {
      case Ctx::kRoot:
        if (f.key == Key::kChoices) {
          choices_array = kind == kArray;
          choice0_object = false;
          out.choices.clear();
          reasoning_.clear();
          return choices_array ? Ctx::kChoices : Ctx::kSkip;
        }
        if (f.key == Key::kUsage) {
          out.prompt_tokens = 0;
          out.completion_tokens = 0;
          return kind == kObject ? Ctx::kUsage : Ctx::kSkip;
        }
        return Ctx::kSkip;
      case Ctx::kChoices:
        // Every element gets a choice, so indices stay aligned; one that
        // is not an object stays empty (it decodes as unparsable).
        out.choices.emplace_back();
        reasoning_.emplace_back();
        if (index == 0) choice0_object = kind == kObject;
        return kind == kObject ? Ctx::kChoice : Ctx::kSkip;
      case Ctx::kChoice:
        switch (f.key) {
          case Key::kMessage:
            out.choices.back().content.clear();
            reasoning_.back() = Reasoning();
            return kind == kObject ? Ctx::kMessage : Ctx::kSkip;
          case Key::kFinish:
            if (kind == kString) {
              out.choices.back().finish_reason = std::move(*str);
            } else {
              out.choices.back().finish_reason.clear();
            }
            return Ctx::kSkip;
          case Key::kLogprobs:
            out.choices.back().logprobs.clear();
            return kind == kObject ? Ctx::kLogprobs : Ctx::kSkip;
          default:
            return Ctx::kSkip;
        }
      case Ctx::kMessage: {
        std::string* target = nullptr;
        bool* has = nullptr;
        if (f.key == Key::kContent) {
          target = &out.choices.back().content;
        } else if (f.key == Key::kReasoningContent) {
          target = &reasoning_.back().content;
          has = &reasoning_.back().has_content;
        } else if (f.key == Key::kReasoning) {
          target = &reasoning_.back().alt;
          has = &reasoning_.back().has_alt;
        }
        if (target != nullptr) {
          if (kind == kString) {
            *target = std::move(*str);
          } else {
            target->clear();
          }
          if (has != nullptr) *has = kind == kString;
        }
        return Ctx::kSkip;
      }
      case Ctx::kLogprobs:
        if (f.key == Key::kContent) {
          out.choices.back().logprobs.clear();
          return kind == kArray ? Ctx::kLpContent : Ctx::kSkip;
        }
        return Ctx::kSkip;
      case Ctx::kLpContent:
        if (kind != kObject) return Ctx::kSkip;
        out.choices.back().logprobs.emplace_back().logprob = -1e9;
        return Ctx::kToken;
      case Ctx::kToken:
      case Ctx::kAlt: {
        std::string* token = nullptr;
        double* logprob = nullptr;
        TokenLogprob& lp = out.choices.back().logprobs.back();
        if (f.ctx == Ctx::kToken) {
          token = &lp.token;
          logprob = &lp.logprob;
        } else {
          token = &lp.top.back().first;
          logprob = &lp.top.back().second;
        }
        if (f.key == Key::kToken) {
          if (kind == kString) {
            *token = std::move(*str);
          } else {
            WrongType("token");
          }
        } else if (f.key == Key::kLogprob) {
          if (kind == kNumber) {
            *logprob = num;
          } else {
            WrongType("logprob");
          }
        } else if (f.key == Key::kTopLogprobs && kind == kArray) {
          lp.top.clear();
          return Ctx::kTop;
        }
        return Ctx::kSkip;
      }
      case Ctx::kTop:
        if (kind != kObject) return Ctx::kSkip;
        out.choices.back().logprobs.back().top.emplace_back("", -1e9);
        return Ctx::kAlt;
      case Ctx::kUsage:
        if (f.key == Key::kPromptTokens || f.key == Key::kCompletionTokens) {
          if (kind == kNumber) {
            (f.key == Key::kPromptTokens ? out.prompt_tokens
                                         : out.completion_tokens) = whole;
          } else {
            WrongType(f.key == Key::kPromptTokens ? "prompt_tokens"
                                                  : "completion_tokens");
          }
        }
        return Ctx::kSkip;
      case Ctx::kSkip:
        return Ctx::kSkip;
    }
    return Ctx::kSkip;
  }

  bool Scalar(Kind kind, std::string* str, double num = 0, int64_t whole = 0) {
    Place(kind, str, num, whole);
    return true;
  }
  bool Open(bool object) {
    const Ctx ctx = Place(object ? kObject : kArray, nullptr, 0, 0);
    stack_.push_back(Frame{ctx});
    return true;
  }
  bool Close() {
    stack_.pop_back();
    return true;
  }
  // A choice's reasoning under either name, until FinishReasoning().
  struct Reasoning {
    std::string content, alt;
    bool has_content = false, has_alt = false;
  };

  std::vector<Frame> stack_;
  std::vector<Reasoning> reasoning_;  // parallel to out.choices
};

}  // namespace

absl::StatusOr<ChatCompletion> ParseChatCompletion(absl::string_view body) {
  CompletionReader reader;
  bool parsed = false;
  try {
    parsed = nlohmann::json::sax_parse(body.begin(), body.end(), &reader);
  } catch (const nlohmann::json::exception&) {
    parsed = false;
  }
  if (!parsed || !reader.root_object) {
    return absl::InvalidArgumentError("the judge's reply is not JSON");
  }
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

DecodedCall ChatJudgeCodec::Decode(GradingMode mode, const GradeInput& input,
                                   absl::Span<const uint32_t> criteria,
                                   absl::string_view body) const {
  mode = Resolve(mode);
  absl::StatusOr<ChatCompletion> c = ParseChatCompletion(body);
  if (!c.ok()) {
    DecodedCall out;
    out.verdicts.resize(criteria.size());
    out.error = std::string(c.status().message());
    for (Verdict& v : out.verdicts) {
      v.status = CriterionStatus::kParseError;
      v.explanation = out.error;
    }
    return out;
  }
  DecodedCall out = DecodeChoice(mode, input, criteria, c->choices[0]);
  out.prompt_tokens = c->prompt_tokens;
  out.completion_tokens = c->completion_tokens;
  for (size_t i = 1; i < c->choices.size(); ++i) {
    out.more_choices.push_back(
        DecodeChoice(mode, input, criteria, c->choices[i]));
  }
  return out;
}

DecodedCall ChatJudgeCodec::DecodeChoice(GradingMode mode,
                                         const GradeInput& input,
                                         absl::Span<const uint32_t> criteria,
                                         const ChatChoice& choice) const {
  DecodedCall out;
  out.verdicts.resize(criteria.size());
  for (Verdict& v : out.verdicts) v.status = CriterionStatus::kParseError;
  // Reasoning models sometimes put the whole answer in reasoning_content.
  absl::string_view text = choice.content;
  absl::Span<const TokenLogprob> logprobs = choice.logprobs;
  if (absl::StripAsciiWhitespace(text).empty()) {
    text = choice.reasoning_content;
    logprobs = {};
  }
  VerdictParse parse;
  if (mode == GradingMode::kPerCriterion) {
    parse = ParseSingleVerdict(text, logprobs);
  } else {
    std::vector<absl::string_view> ids;
    ids.reserve(criteria.size());
    for (uint32_t i : criteria) ids.push_back(input.rubric->criteria[i].id);
    parse = ParseVerdictObject(text, ids, logprobs);
  }
  out.unknown_ids = parse.unknown_ids;
  bool complete = parse.found;
  for (size_t i = 0; i < criteria.size() && i < parse.verdicts.size(); ++i) {
    ParsedVerdict& p = parse.verdicts[i];
    Verdict& v = out.verdicts[i];
    switch (p.state) {
      case ParsedVerdict::State::kOk:
        v.status = CriterionStatus::kOk;
        v.met = p.met;
        v.probability = p.probability;
        v.explanation = std::move(p.explanation);
        break;
      case ParsedVerdict::State::kAbsent:
        complete = false;
        v.status = CriterionStatus::kMissing;
        v.explanation = "the judge's answer left this criterion out";
        break;
      case ParsedVerdict::State::kBadValue:
        v.status = CriterionStatus::kParseError;
        v.explanation = std::move(p.explanation);
        break;
    }
  }
  const bool truncated = choice.finish_reason == "length";
  if (truncated && !complete) {
    out.outcome = DecodedCall::Outcome::kTruncated;
    out.error = "the judge's answer was cut off (finish_reason: length)";
    for (Verdict& v : out.verdicts) {
      if (v.status != CriterionStatus::kOk) {
        v.status = CriterionStatus::kParseError;
        v.explanation = out.error;
      }
    }
    return out;
  }
  if (!parse.found || (mode == GradingMode::kPerCriterion &&
                       out.verdicts[0].status != CriterionStatus::kOk)) {
    out.outcome = DecodedCall::Outcome::kUnparsable;
    out.error =
        parse.error.empty() ? "no verdict in the judge's answer" : parse.error;
    for (Verdict& v : out.verdicts) {
      v.status = CriterionStatus::kParseError;
      if (v.explanation.empty()) v.explanation = out.error;
    }
    return out;
  }
  out.outcome = DecodedCall::Outcome::kOk;
  return out;
}

}  // namespace rewardd

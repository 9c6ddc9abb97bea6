#include "server/judge/http/chat_judge_codec.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace rewardd {
namespace {

// JSON string escaping for the large, per-call user message: one pass, no
// intermediate json value. Bytes >= 0x80 pass through (UTF-8).
void AppendJsonString(absl::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->reserve(out->size() + s.size() + s.size() / 16 + 2);
  out->push_back('"');
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
  out->push_back('"');
}

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
    : default_mode_(config.default_mode), templates_(std::move(templates)) {
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

void ChatJudgeCodec::EncodeBody(GradingMode mode, const GradeInput& input,
                                absl::Span<const uint32_t> criteria,
                                const CallParams& params,
                                std::string* body) const {
  mode = Resolve(mode);
  thread_local std::string user;  // reused: no allocation once warm
  user.clear();
  templates_.RenderUser(mode, input, criteria, &user);
  body->clear();
  body->append(mode == GradingMode::kPerCriterion ? head_per_criterion_
                                                  : head_all_in_one_);
  AppendJsonString(user, body);
  absl::StrAppend(body, "}],\"temperature\":", params.temperature);
  if (params.max_tokens.has_value()) {
    absl::StrAppend(body, ",\"max_tokens\":", *params.max_tokens);
  }
  if (params.seed.has_value()) {
    absl::StrAppend(body, ",\"seed\":", *params.seed);
  }
  const std::string& tail =
      params.seed.has_value() ? fixed_tail_no_seed_ : fixed_tail_;
  if (!tail.empty()) {
    body->push_back(',');
    body->append(tail);
  }
  body->push_back('}');
  if (user.capacity() > (1 << 20)) std::string().swap(user);
}

namespace {

// ParseChatCompletion without the exception guard.
absl::StatusOr<ChatCompletion> ParseChatCompletionFields(
    absl::string_view body) {
  nlohmann::json j =
      nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError("the judge's reply is not JSON");
  }
  ChatCompletion c;
  auto choices = j.find("choices");
  if (choices == j.end() || !choices->is_array() || choices->empty() ||
      !(*choices)[0].is_object()) {
    return absl::InvalidArgumentError("the judge's reply has no choices");
  }
  const nlohmann::json& choice = (*choices)[0];
  auto message = choice.find("message");
  if (message != choice.end() && message->is_object()) {
    auto content = message->find("content");
    if (content != message->end() && content->is_string()) {
      c.content = content->get<std::string>();
    }
    for (const char* key : {"reasoning_content", "reasoning"}) {
      auto r = message->find(key);
      if (r != message->end() && r->is_string()) {
        c.reasoning_content = r->get<std::string>();
        break;
      }
    }
  }
  auto finish = choice.find("finish_reason");
  if (finish != choice.end() && finish->is_string()) {
    c.finish_reason = finish->get<std::string>();
  }
  auto logprobs = choice.find("logprobs");
  if (logprobs != choice.end() && logprobs->is_object()) {
    auto content = logprobs->find("content");
    if (content != logprobs->end() && content->is_array()) {
      c.logprobs.reserve(content->size());
      for (const nlohmann::json& t : *content) {
        if (!t.is_object()) continue;
        TokenLogprob& tok = c.logprobs.emplace_back();
        tok.token = t.value("token", "");
        tok.logprob = t.value("logprob", -1e9);
        auto top = t.find("top_logprobs");
        if (top != t.end() && top->is_array()) {
          for (const nlohmann::json& alt : *top) {
            if (!alt.is_object()) continue;
            tok.top.emplace_back(alt.value("token", ""),
                                 alt.value("logprob", -1e9));
          }
        }
      }
    }
  }
  auto usage = j.find("usage");
  if (usage != j.end() && usage->is_object()) {
    c.prompt_tokens = usage->value("prompt_tokens", int64_t{0});
    c.completion_tokens = usage->value("completion_tokens", int64_t{0});
  }
  return c;
}

}  // namespace

absl::StatusOr<ChatCompletion> ParseChatCompletion(absl::string_view body) {
  // json::value() throws when a field has another type ("logprob": "x");
  // the reply is untrusted and the caller runs on the HTTP loop thread, so
  // such a reply is refused like any other malformed one.
  try {
    return ParseChatCompletionFields(body);
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the judge's reply has a field of the wrong type (", e.what(), ")"));
  }
}

DecodedCall ChatJudgeCodec::Decode(GradingMode mode, const GradeInput& input,
                                   absl::Span<const uint32_t> criteria,
                                   absl::string_view body) const {
  mode = Resolve(mode);
  DecodedCall out;
  out.verdicts.resize(criteria.size());
  for (Verdict& v : out.verdicts) v.status = CriterionStatus::kParseError;
  absl::StatusOr<ChatCompletion> c = ParseChatCompletion(body);
  if (!c.ok()) {
    out.error = std::string(c.status().message());
    for (Verdict& v : out.verdicts) v.explanation = out.error;
    return out;
  }
  out.prompt_tokens = c->prompt_tokens;
  out.completion_tokens = c->completion_tokens;
  // Reasoning models sometimes put the whole answer in reasoning_content.
  absl::string_view text = c->content;
  absl::Span<const TokenLogprob> logprobs = c->logprobs;
  if (absl::StripAsciiWhitespace(text).empty()) {
    text = c->reasoning_content;
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
  const bool truncated = c->finish_reason == "length";
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

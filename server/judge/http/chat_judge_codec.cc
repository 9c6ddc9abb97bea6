#include "server/judge/http/chat_judge_codec.h"

#include <atomic>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "server/util/json_escape.h"
#include "server/util/same_object.h"

namespace rewardd {
namespace {

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

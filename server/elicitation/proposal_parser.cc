#include "server/elicitation/proposal_parser.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "server/judge/http/verdict_parser.h"

namespace rewardd {
namespace {

// Bounds the work on adversarial prose full of brackets.
constexpr int kMaxListAttempts = 256;

// One past the bracket that closes the list opening at `open`, or npos when
// the text ends first. String-aware ("]" inside a string does not count).
size_t MatchingClose(absl::string_view s, size_t open) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = open; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if (c == ']' || c == '}') {
      if (--depth == 0) return c == ']' ? i + 1 : absl::string_view::npos;
    }
  }
  return absl::string_view::npos;
}

// Drops commas that directly precede a closing bracket (outside strings):
// models write them, strict JSON refuses them.
std::string RemoveTrailingCommas(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      out.push_back(c);
      if (c == '\\' && i + 1 < s.size()) {
        out.push_back(s[++i]);
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') in_string = true;
    if (c == ',') {
      size_t j = i + 1;
      while (j < s.size() && absl::ascii_isspace(s[j])) ++j;
      if (j < s.size() && (s[j] == ']' || s[j] == '}')) continue;
    }
    out.push_back(c);
  }
  return out;
}

const nlohmann::json* FindKey(const nlohmann::json& obj,
                              std::initializer_list<absl::string_view> names) {
  for (const auto& [key, value] : obj.items()) {
    for (absl::string_view n : names) {
      if (absl::EqualsIgnoreCase(key, n)) return &value;
    }
  }
  return nullptr;
}

constexpr std::initializer_list<absl::string_view> kTextKeys = {
    "criterion", "text", "description", "rubric_item", "item", "requirement"};

bool ReadItem(const nlohmann::json& item, ProposedCriterion* out) {
  if (item.is_string()) {
    out->text = item.get<std::string>();
    return true;
  }
  if (!item.is_object()) return false;
  const nlohmann::json* text = FindKey(item, kTextKeys);
  if (text == nullptr || !text->is_string()) return false;
  out->text = text->get<std::string>();
  if (const nlohmann::json* id = FindKey(item, {"id", "local_id"});
      id != nullptr && id->is_string()) {
    out->id = id->get<std::string>();
  }
  const nlohmann::json* w = FindKey(item, {"weight", "points", "importance"});
  if (w == nullptr || w->is_null()) return true;
  double value = 0;
  if (w->is_number()) {
    value = w->get<double>();
  } else if (!w->is_string() ||
             !absl::SimpleAtod(
                 absl::StripAsciiWhitespace(w->get_ref<const std::string&>()),
                 &value)) {
    out->weight_error =
        absl::StrCat("weight is not a number: ", w->dump().substr(0, 40));
    return true;
  }
  if (!std::isfinite(value)) {
    out->weight_error = "weight is not a finite number";
    return true;
  }
  out->weight = value;
  return true;
}

// A list reads as a rubric when most items are criteria and at least one is
// an object with a criterion text (a list of bare strings alone is more
// often an example than an answer, but is accepted when nothing else is).
bool ReadList(const nlohmann::json& list, bool allow_strings,
              std::vector<ProposedCriterion>* out) {
  if (!list.is_array() || list.empty()) return false;
  size_t objects = 0;
  std::vector<ProposedCriterion> items;
  for (const nlohmann::json& item : list) {
    ProposedCriterion c;
    if (!ReadItem(item, &c)) continue;
    objects += item.is_object() ? 1 : 0;
    items.push_back(std::move(c));
  }
  if (2 * items.size() < list.size()) return false;
  if (objects == 0 && !allow_strings) return false;
  *out = std::move(items);
  return true;
}

// An unclosed list that looks like the start of an answer: "[" followed by
// an object or a string.
bool LooksLikeAnswerStart(absl::string_view s, size_t open) {
  size_t j = open + 1;
  while (j < s.size() && absl::ascii_isspace(s[j])) ++j;
  return j == s.size() || s[j] == '{' || s[j] == '"';
}

}  // namespace

ProposalParse ParseProposal(absl::string_view content, bool finish_truncated) {
  ProposalParse out;
  out.truncated = finish_truncated;
  size_t base = 0;
  const absl::string_view text = StripThinking(content, &base);
  if (text.empty() && absl::StrContains(content, "<think>")) {
    out.truncated = true;
    out.error = "the answer ended inside its <think> block";
    return out;
  }
  std::vector<ProposedCriterion> best, best_strings;
  bool have_best = false, have_strings = false;
  size_t best_end = 0;
  size_t unclosed = absl::string_view::npos;  // last unclosed answer start
  size_t pos = 0;
  for (int attempts = 0; attempts < kMaxListAttempts; ++attempts) {
    pos = text.find('[', pos);
    if (pos == absl::string_view::npos) break;
    const size_t end = MatchingClose(text, pos);
    if (end == absl::string_view::npos) {
      if (LooksLikeAnswerStart(text, pos)) unclosed = pos;
      ++pos;
      continue;
    }
    nlohmann::json list = nlohmann::json::parse(
        RemoveTrailingCommas(text.substr(pos, end - pos)), nullptr, false);
    std::vector<ProposedCriterion> items;
    if (!list.is_discarded() && ReadList(list, false, &items)) {
      best = std::move(items);
      have_best = true;
      best_end = end;
      pos = end;
      continue;
    }
    if (!list.is_discarded() && ReadList(list, true, &items)) {
      best_strings = std::move(items);
      have_strings = true;
    }
    ++pos;
  }
  if (unclosed != absl::string_view::npos &&
      (!have_best || unclosed >= best_end)) {
    out.truncated = true;
    out.error =
        "the answer was cut off: a list of criteria was opened and never "
        "closed";
    return out;
  }
  if (!have_best && have_strings) {
    best = std::move(best_strings);
    have_best = true;
  }
  if (!have_best) {
    out.error = out.truncated
                    ? "the answer was cut off before a complete list of "
                      "criteria"
                    : "no JSON list of criteria in the proposer's answer";
    return out;
  }
  out.found = true;
  out.criteria = std::move(best);
  return out;
}

}  // namespace rewardd

#include "server/judge/http/verdict_parser.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"

namespace rewardd {
namespace {

// A lenient JSON value: enough of JSON to read judge answers, and tolerant
// of what models write instead (single quotes, bare words, trailing commas).
// Offsets are into the scanned text so logprobs can be matched to values.
struct JValue {
  enum class Kind { kString, kBool, kNumber, kNull, kWord, kObject, kArray };
  Kind kind = Kind::kNull;
  std::string text;   // decoded string / number / word
  size_t offset = 0;  // where the scalar's characters start
  bool boolean = false;
  std::vector<std::pair<std::string, JValue>> members;
  std::vector<JValue> items;
};

class Scanner {
 public:
  explicit Scanner(absl::string_view s) : s_(s) {}

  // Parses an object starting at `pos` (which must be '{'); on success
  // `*end` is one past its closing brace.
  bool ParseObjectAt(size_t pos, JValue* out, size_t* end) {
    pos_ = pos;
    depth_ = 0;
    if (!ParseValue(out) || out->kind != JValue::Kind::kObject) return false;
    *end = pos_;
    return true;
  }

 private:
  static constexpr int kMaxDepth = 8;

  void SkipSpace() {
    while (pos_ < s_.size() && absl::ascii_isspace(s_[pos_])) ++pos_;
  }
  static bool IsWordChar(char c) {
    return absl::ascii_isalnum(c) || c == '_' || c == '-' || c == '.' ||
           c == '+';
  }

  bool ParseString(std::string* out, size_t* offset) {
    const char quote = s_[pos_++];
    *offset = pos_;
    while (pos_ < s_.size()) {
      const char c = s_[pos_++];
      if (c == quote) return true;
      if (c == '\\' && pos_ < s_.size()) {
        const char e = s_[pos_++];
        switch (e) {
          case 'n':
            out->push_back('\n');
            break;
          case 't':
            out->push_back('\t');
            break;
          case 'r':
            out->push_back('\r');
            break;
          case 'b':
            out->push_back('\b');
            break;
          case 'f':
            out->push_back('\f');
            break;
          case 'u':
            // Judges' ids and verdicts are ASCII; keep other code points
            // as a placeholder rather than decoding UTF-16.
            pos_ = std::min(s_.size(), pos_ + 4);
            out->push_back('?');
            break;
          default:
            out->push_back(e);
        }
        continue;
      }
      if (c == '\n' && quote == '\'') return false;  // an apostrophe in prose
      out->push_back(c);
    }
    return false;
  }

  bool ParseValue(JValue* v) {
    SkipSpace();
    if (pos_ >= s_.size()) return false;
    const char c = s_[pos_];
    if (c == '{') return ParseObject(v);
    if (c == '[') return ParseArray(v);
    if (c == '"' || c == '\'') {
      v->kind = JValue::Kind::kString;
      return ParseString(&v->text, &v->offset);
    }
    if (!IsWordChar(c)) return false;
    v->offset = pos_;
    while (pos_ < s_.size() && IsWordChar(s_[pos_])) ++pos_;
    v->text = std::string(s_.substr(v->offset, pos_ - v->offset));
    if (v->text == "true" || v->text == "false") {
      v->kind = JValue::Kind::kBool;
      v->boolean = v->text == "true";
    } else if (v->text == "null") {
      v->kind = JValue::Kind::kNull;
    } else if (absl::ascii_isdigit(v->text[0]) || v->text[0] == '-') {
      v->kind = JValue::Kind::kNumber;
    } else {
      v->kind = JValue::Kind::kWord;
    }
    return true;
  }

  bool ParseObject(JValue* v) {
    if (++depth_ > kMaxDepth) return false;
    v->kind = JValue::Kind::kObject;
    v->offset = pos_;
    ++pos_;  // '{'
    while (true) {
      SkipSpace();
      if (pos_ >= s_.size()) return false;
      if (s_[pos_] == '}') {
        ++pos_;
        --depth_;
        return true;
      }
      std::string key;
      size_t key_offset = 0;
      if (s_[pos_] == '"' || s_[pos_] == '\'') {
        if (!ParseString(&key, &key_offset)) return false;
      } else if (IsWordChar(s_[pos_])) {
        const size_t start = pos_;
        while (pos_ < s_.size() && IsWordChar(s_[pos_])) ++pos_;
        key = std::string(s_.substr(start, pos_ - start));
      } else {
        return false;
      }
      SkipSpace();
      if (pos_ >= s_.size() || (s_[pos_] != ':' && s_[pos_] != '=')) {
        return false;
      }
      ++pos_;
      JValue value;
      if (!ParseValue(&value)) return false;
      v->members.emplace_back(std::move(key), std::move(value));
      SkipSpace();
      if (pos_ < s_.size() && (s_[pos_] == ',' || s_[pos_] == ';')) ++pos_;
    }
  }

  bool ParseArray(JValue* v) {
    if (++depth_ > kMaxDepth) return false;
    v->kind = JValue::Kind::kArray;
    v->offset = pos_;
    ++pos_;  // '['
    while (true) {
      SkipSpace();
      if (pos_ >= s_.size()) return false;
      if (s_[pos_] == ']') {
        ++pos_;
        --depth_;
        return true;
      }
      JValue item;
      if (!ParseValue(&item)) return false;
      v->items.push_back(std::move(item));
      SkipSpace();
      if (pos_ < s_.size() && s_[pos_] == ',') ++pos_;
    }
  }

  absl::string_view s_;
  size_t pos_ = 0;
  int depth_ = 0;
};

// Every top-level object in `text`, in order. Bounded so that prose full of
// braces cannot make parsing expensive.
std::vector<JValue> FindObjects(absl::string_view text) {
  std::vector<JValue> objects;
  Scanner scanner(text);
  size_t pos = 0;
  int attempts = 0;
  while (attempts < 64) {
    pos = text.find('{', pos);
    if (pos == absl::string_view::npos) break;
    ++attempts;
    JValue v;
    size_t end = 0;
    if (scanner.ParseObjectAt(pos, &v, &end)) {
      objects.push_back(std::move(v));
      pos = end;
    } else {
      ++pos;
    }
  }
  return objects;
}

enum class TokenClass { kNone, kYes, kNo };

TokenClass ClassifyToken(absl::string_view token) {
  while (!token.empty() && (absl::ascii_isspace(token.front()) ||
                            absl::ascii_ispunct(token.front()))) {
    token.remove_prefix(1);
  }
  while (!token.empty() && (absl::ascii_isspace(token.back()) ||
                            absl::ascii_ispunct(token.back()))) {
    token.remove_suffix(1);
  }
  if (token.empty() || token.size() > 5) return TokenClass::kNone;
  char lower[6];
  for (size_t i = 0; i < token.size(); ++i) {
    lower[i] = absl::ascii_tolower(token[i]);
  }
  const absl::string_view t(lower, token.size());
  if (t == "1" || absl::StartsWith("yes", t) || absl::StartsWith("true", t)) {
    return TokenClass::kYes;
  }
  if (t == "0" || absl::StartsWith("no", t) || absl::StartsWith("false", t)) {
    return TokenClass::kNo;
  }
  return TokenClass::kNone;
}

// Maps character offsets of the content to tokens. Servers that split the
// reasoning into reasoning_content may still report its tokens, so the
// content is matched as a suffix of the concatenated tokens.
class TokenIndex {
 public:
  TokenIndex(absl::string_view content, absl::Span<const TokenLogprob> tokens)
      : tokens_(tokens) {
    if (tokens.empty()) return;
    starts_.reserve(tokens.size());
    size_t total = 0;
    for (const TokenLogprob& t : tokens) {
      starts_.push_back(total);
      total += t.token.size();
    }
    if (total < content.size()) return;
    // Check the tail matches the content before trusting offsets.
    size_t shift = total - content.size();
    size_t checked = 0;
    for (size_t i = 0; i < tokens.size() && checked < content.size(); ++i) {
      const std::string& tok = tokens[i].token;
      for (size_t k = 0; k < tok.size(); ++k) {
        const size_t global = starts_[i] + k;
        if (global < shift) continue;
        if (content[global - shift] != tok[k]) return;
        ++checked;
      }
    }
    shift_ = shift;
    valid_ = true;
  }

  std::optional<double> ProbabilityMetAt(size_t content_offset) const {
    if (!valid_) return std::nullopt;
    const size_t global = content_offset + shift_;
    auto it = std::upper_bound(starts_.begin(), starts_.end(), global);
    if (it == starts_.begin()) return std::nullopt;
    const TokenLogprob& tok = tokens_[(it - starts_.begin()) - 1];
    double yes = 0, no = 0;
    bool chosen_listed = false;
    for (const auto& [alt, lp] : tok.top) {
      if (alt == tok.token) chosen_listed = true;
      const TokenClass c = ClassifyToken(alt);
      if (c == TokenClass::kYes) yes += std::exp(lp);
      if (c == TokenClass::kNo) no += std::exp(lp);
    }
    if (!chosen_listed) {
      const TokenClass c = ClassifyToken(tok.token);
      const double p = std::exp(tok.logprob);
      if (c == TokenClass::kYes) yes += p;
      if (c == TokenClass::kNo) no += p;
      // Without alternatives, the rest of the mass is the other answer.
      if (tok.top.empty()) {
        if (c == TokenClass::kYes) no += std::max(0.0, 1 - p);
        if (c == TokenClass::kNo) yes += std::max(0.0, 1 - p);
      }
    }
    if (yes + no <= 0) return std::nullopt;
    return yes / (yes + no);
  }

 private:
  absl::Span<const TokenLogprob> tokens_;
  std::vector<size_t> starts_;
  size_t shift_ = 0;
  bool valid_ = false;
};

bool KeyIs(absl::string_view key,
           std::initializer_list<absl::string_view> names) {
  for (absl::string_view n : names) {
    if (absl::EqualsIgnoreCase(key, n)) return true;
  }
  return false;
}

// Reads a verdict from a JSON value: a bool, a number, a word or string, or
// an object holding one of those under met/criteria_met/verdict/...
void ReadVerdictValue(const JValue& v, size_t base, const TokenIndex& index,
                      ParsedVerdict* out) {
  switch (v.kind) {
    case JValue::Kind::kBool:
    case JValue::Kind::kNumber:
    case JValue::Kind::kString:
    case JValue::Kind::kWord: {
      std::optional<bool> met = v.kind == JValue::Kind::kBool
                                    ? std::optional<bool>(v.boolean)
                                    : ParseVerdictWord(v.text);
      if (!met.has_value()) {
        out->state = ParsedVerdict::State::kBadValue;
        out->explanation = "not a verdict: '" + v.text.substr(0, 40) + "'";
        return;
      }
      out->state = ParsedVerdict::State::kOk;
      out->met = *met;
      out->probability = index.ProbabilityMetAt(base + v.offset);
      return;
    }
    case JValue::Kind::kObject: {
      const JValue* verdict = nullptr;
      for (const auto& [key, member] : v.members) {
        if (verdict == nullptr &&
            KeyIs(key, {"criteria_met", "met", "verdict", "answer", "value",
                        "satisfied", "meets_criterion", "result"})) {
          verdict = &member;
        } else if (KeyIs(key, {"explanation", "reason", "rationale"}) &&
                   member.kind == JValue::Kind::kString) {
          out->explanation = member.text;
        }
      }
      if (verdict == nullptr || verdict->kind == JValue::Kind::kObject) {
        out->state = ParsedVerdict::State::kBadValue;
        out->explanation = "no verdict field in the object";
        return;
      }
      std::string explanation = std::move(out->explanation);
      ReadVerdictValue(*verdict, base, index, out);
      if (out->state == ParsedVerdict::State::kOk) {
        out->explanation = std::move(explanation);
      }
      return;
    }
    default:
      out->state = ParsedVerdict::State::kBadValue;
      out->explanation = "not a verdict";
  }
}

int FindId(absl::string_view key, absl::Span<const absl::string_view> ids) {
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] == key) return static_cast<int>(i);
  }
  // "[c1]" or "C1": tolerated spellings of an id.
  absl::string_view k = absl::StripAsciiWhitespace(key);
  if (k.size() >= 2 && k.front() == '[' && k.back() == ']') {
    k = k.substr(1, k.size() - 2);
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    if (absl::EqualsIgnoreCase(ids[i], k)) return static_cast<int>(i);
  }
  return -1;
}

int CountIds(const JValue& obj, absl::Span<const absl::string_view> ids) {
  int n = 0;
  for (const auto& member : obj.members) {
    if (FindId(member.first, ids) >= 0) ++n;
  }
  return n;
}

void FillFromObject(const JValue& obj, absl::Span<const absl::string_view> ids,
                    size_t base, const TokenIndex& index, VerdictParse* out) {
  out->found = true;
  for (const auto& [key, value] : obj.members) {
    const int i = FindId(key, ids);
    if (i < 0) {
      ++out->unknown_ids;
      continue;
    }
    ParsedVerdict& v = out->verdicts[i];
    if (v.state == ParsedVerdict::State::kOk) continue;  // first answer wins
    ReadVerdictValue(value, base, index, &v);
  }
}

// "c1: yes" / "- [c2] = No" lines, for judges that ignore the JSON request.
bool ParseLines(absl::string_view text, absl::Span<const absl::string_view> ids,
                VerdictParse* out) {
  bool any = false;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    while (!line.empty() && (line.front() == '-' || line.front() == '*' ||
                             line.front() == '"' || line.front() == '`')) {
      line.remove_prefix(1);
    }
    const size_t sep = line.find_first_of(":=");
    if (sep == absl::string_view::npos) continue;
    absl::string_view key = absl::StripAsciiWhitespace(line.substr(0, sep));
    key = absl::StripSuffix(key, "\"");
    const int i = FindId(key, ids);
    if (i < 0) continue;
    std::optional<bool> met = ParseVerdictWord(line.substr(sep + 1));
    if (!met.has_value()) continue;
    ParsedVerdict& v = out->verdicts[i];
    if (v.state == ParsedVerdict::State::kOk) continue;
    v.state = ParsedVerdict::State::kOk;
    v.met = *met;
    any = true;
  }
  out->found = any;
  return any;
}

}  // namespace

std::optional<bool> ParseVerdictWord(absl::string_view word) {
  word = absl::StripAsciiWhitespace(word);
  while (!word.empty() &&
         (word.back() == '.' || word.back() == '!' || word.back() == ',' ||
          word.back() == '"' || word.back() == '\'' || word.back() == '`' ||
          word.back() == '*' || absl::ascii_isspace(word.back()))) {
    word.remove_suffix(1);
  }
  while (!word.empty() &&
         (word.front() == '"' || word.front() == '\'' || word.front() == '`' ||
          word.front() == '*' || absl::ascii_isspace(word.front()))) {
    word.remove_prefix(1);
  }
  if (word.size() > 8) return std::nullopt;
  std::string w = absl::AsciiStrToLower(word);
  if (w == "yes" || w == "y" || w == "true" || w == "1" || w == "1.0" ||
      w == "met" || w == "pass") {
    return true;
  }
  if (w == "no" || w == "n" || w == "false" || w == "0" || w == "0.0" ||
      w == "unmet" || w == "not met" || w == "fail") {
    return false;
  }
  return std::nullopt;
}

absl::string_view StripThinking(absl::string_view content, size_t* offset) {
  *offset = 0;
  constexpr absl::string_view kClose = "</think>";
  const size_t close = content.rfind(kClose);
  if (close != absl::string_view::npos) {
    *offset = close + kClose.size();
    return content.substr(*offset);
  }
  const size_t open = content.find("<think>");
  if (open != absl::string_view::npos) {
    // Cut off mid-thought: whatever came before the tag is all there is.
    return content.substr(0, open);
  }
  return content;
}

VerdictParse ParseVerdictObject(absl::string_view content,
                                absl::Span<const absl::string_view> ids,
                                absl::Span<const TokenLogprob> logprobs) {
  VerdictParse out;
  out.verdicts.resize(ids.size());
  size_t base = 0;
  const absl::string_view text = StripThinking(content, &base);
  const TokenIndex index(content, logprobs);
  std::vector<JValue> objects = FindObjects(text);
  // The last object that names a criterion is the answer; earlier ones are
  // usually examples quoted in prose.
  for (auto it = objects.rbegin(); it != objects.rend(); ++it) {
    if (CountIds(*it, ids) > 0) {
      FillFromObject(*it, ids, base, index, &out);
      return out;
    }
  }
  for (auto it = objects.rbegin(); it != objects.rend(); ++it) {
    for (const auto& member : it->members) {
      if (member.second.kind == JValue::Kind::kObject &&
          CountIds(member.second, ids) > 0) {
        FillFromObject(member.second, ids, base, index, &out);
        return out;
      }
    }
  }
  if (ParseLines(text, ids, &out)) return out;
  out.error = objects.empty() ? "no JSON object in the judge's answer"
                              : "no criterion id in the judge's answer";
  return out;
}

VerdictParse ParseSingleVerdict(absl::string_view content,
                                absl::Span<const TokenLogprob> logprobs) {
  VerdictParse out;
  out.verdicts.resize(1);
  size_t base = 0;
  const absl::string_view text = StripThinking(content, &base);
  const TokenIndex index(content, logprobs);
  std::vector<JValue> objects = FindObjects(text);
  for (auto it = objects.rbegin(); it != objects.rend(); ++it) {
    bool has_verdict = false;
    for (const auto& member : it->members) {
      if (KeyIs(member.first, {"criteria_met", "met", "verdict", "answer",
                               "satisfied", "meets_criterion", "result"})) {
        has_verdict = true;
        break;
      }
    }
    if (!has_verdict) continue;
    out.found = true;
    ReadVerdictValue(*it, base, index, &out.verdicts[0]);
    return out;
  }
  // A bare answer ("Yes.", "false").
  std::optional<bool> met = ParseVerdictWord(text);
  if (met.has_value()) {
    out.found = true;
    out.verdicts[0].state = ParsedVerdict::State::kOk;
    out.verdicts[0].met = *met;
    const size_t lead = text.find_first_not_of(" \t\r\n\"'`*");
    if (lead != absl::string_view::npos) {
      out.verdicts[0].probability = index.ProbabilityMetAt(base + lead);
    }
    return out;
  }
  out.error = objects.empty() ? "no JSON object in the judge's answer"
                              : "no criteria_met field in the judge's answer";
  return out;
}

}  // namespace rewardd

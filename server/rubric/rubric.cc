#include "server/rubric/rubric.h"

#include <cmath>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "re2/re2.h"
#include "server/rubric/regex_prefilter.h"
#include "server/util/sha256.h"

namespace rewardd {
namespace {

struct KindName {
  Check::Kind kind;
  absl::string_view name;
};
constexpr KindName kKindNames[] = {
    {Check::Kind::kNone, "none"},
    {Check::Kind::kRegex, "regex"},
    {Check::Kind::kContains, "contains"},
    {Check::Kind::kNotContains, "not_contains"},
    {Check::Kind::kWordCount, "word_count"},
    {Check::Kind::kCharCount, "char_count"},
    {Check::Kind::kLineCount, "line_count"},
    {Check::Kind::kValidJson, "valid_json"},
    {Check::Kind::kStartsWith, "starts_with"},
    {Check::Kind::kEndsWith, "ends_with"},
    {Check::Kind::kNumeric, "numeric"},
};

// True when `pattern` is exactly \bLITERAL\b with LITERAL made of ASCII
// word bytes and spaces, first and last a word byte (so RE2's \b there means
// "the neighbouring byte is not a word byte").
bool IsWholeWordLiteral(absl::string_view pattern) {
  if (!absl::ConsumePrefix(&pattern, "\\b") ||
      !absl::ConsumeSuffix(&pattern, "\\b") || pattern.empty() ||
      !IsRegexWordByte(pattern.front()) || !IsRegexWordByte(pattern.back())) {
    return false;
  }
  for (char c : pattern) {
    if (!IsRegexWordByte(c) && c != ' ') return false;
  }
  return true;
}

absl::Status ValidateCheck(const std::string& where, Check& check) {
  switch (check.kind) {
    case Check::Kind::kNone:
    case Check::Kind::kValidJson:
      return absl::OkStatus();
    case Check::Kind::kRegex: {
      if (check.pattern.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": check.pattern is empty"));
      }
      RE2::Options options;
      options.set_log_errors(false);
      options.set_case_sensitive(!check.case_insensitive);
      auto re = std::make_shared<RE2>(check.pattern, options);
      if (!re->ok()) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": check.pattern is not a valid RE2 regex: ", re->error()));
      }
      check.regex = std::move(re);
      check.prefilter =
          RegexPrefilter::Create(check.pattern, !check.case_insensitive);
      check.whole_word = IsWholeWordLiteral(check.pattern);
      return absl::OkStatus();
    }
    case Check::Kind::kContains:
    case Check::Kind::kNotContains:
    case Check::Kind::kStartsWith:
    case Check::Kind::kEndsWith:
      if (check.values.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": check of kind ", CheckKindName(check.kind),
                         " needs at least one entry in check.values"));
      }
      for (const std::string& v : check.values) {
        if (v.empty()) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, ": check.values has an empty string"));
        }
      }
      return absl::OkStatus();
    case Check::Kind::kWordCount:
    case Check::Kind::kCharCount:
    case Check::Kind::kLineCount:
      if (!check.min && !check.max) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": check of kind ", CheckKindName(check.kind),
                         " needs check.min or check.max"));
      }
      if (check.min && check.max && *check.min > *check.max) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": check.min (", *check.min,
                         ") is above check.max (", *check.max, ")"));
      }
      return absl::OkStatus();
    case Check::Kind::kNumeric:
      if (!std::isfinite(check.value) || !std::isfinite(check.tolerance) ||
          check.tolerance < 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            where,
            ": numeric check needs a finite check.value and a finite, "
            "non-negative check.tolerance"));
      }
      return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat(where, ": unknown check kind"));
}

std::string HexSha256(absl::string_view data, size_t hex_digits) {
  const Sha256::Digest digest = Sha256::Of(data);
  std::string hex = absl::BytesToHexString(absl::string_view(
      reinterpret_cast<const char*>(digest.data()), digest.size()));
  hex.resize(hex_digits);
  return hex;
}

// Appends a length-prefixed field so that different field splits never hash
// alike.
void AppendField(std::string& out, absl::string_view field) {
  absl::StrAppend(&out, field.size(), ":", field, ";");
}

}  // namespace

absl::string_view CheckKindName(Check::Kind kind) {
  for (const KindName& k : kKindNames) {
    if (k.kind == kind) return k.name;
  }
  return "unknown";
}

bool ParseCheckKind(absl::string_view name, Check::Kind* kind) {
  for (const KindName& k : kKindNames) {
    if (k.name == name) {
      *kind = k.kind;
      return true;
    }
  }
  return false;
}

absl::Status ValidateRubric(Rubric& rubric) {
  if (rubric.criteria.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "rubric '", rubric.id, "' has no criteria; add at least one"));
  }
  absl::flat_hash_set<absl::string_view> ids;
  bool any_positive = false;
  for (size_t i = 0; i < rubric.criteria.size(); ++i) {
    Criterion& c = rubric.criteria[i];
    const std::string where =
        absl::StrCat("rubric '", rubric.id, "' criterion #", i + 1,
                     c.id.empty() ? "" : absl::StrCat(" ('", c.id, "')"));
    if (c.id.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": id is empty"));
    }
    if (!ids.insert(c.id).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": duplicate criterion id '", c.id,
                       "'; criterion ids must be unique within a rubric"));
    }
    if (c.text.find_first_not_of(" \t\r\n") == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": text is empty"));
    }
    if (!std::isfinite(c.weight)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": weight is not a finite number"));
    }
    if (c.weight > 0) any_positive = true;
    if (c.check != nullptr) {
      // Validation compiles the regex into the check: work on a copy, as
      // the check may be shared with another rubric.
      auto check = std::make_shared<Check>(*c.check);
      absl::Status s = ValidateCheck(where, *check);
      if (!s.ok()) return s;
      c.check = std::move(check);
    }
  }
  if (!any_positive) {
    return absl::InvalidArgumentError(
        absl::StrCat("rubric '", rubric.id,
                     "' has no criterion with a positive weight; the reward "
                     "would have no denominator"));
  }
  return absl::OkStatus();
}

std::string RubricVersion(const Rubric& rubric) {
  std::string canon;
  AppendField(canon, rubric.id);
  for (const Criterion& c : rubric.criteria) {
    AppendField(canon, c.id);
    AppendField(canon, c.text);
    AppendField(canon, absl::StrCat(c.weight));
    const Check none;
    const Check& check = c.check != nullptr ? *c.check : none;
    AppendField(canon, CheckKindName(check.kind));
    if (check.kind != Check::Kind::kNone) {
      AppendField(canon, check.pattern);
      AppendField(canon, absl::StrJoin(check.values, "\x1f"));
      AppendField(canon, absl::StrCat(check.match_any, check.case_insensitive,
                                      check.min ? *check.min : INT64_MIN, ",",
                                      check.max ? *check.max : INT64_MAX, ",",
                                      check.value, ",", check.tolerance));
    }
  }
  return HexSha256(canon, 16);
}

std::string ShortHash(absl::string_view data) { return HexSha256(data, 16); }

std::string PromptDerivedId(absl::string_view prompt) {
  return absl::StrCat("p-", HexSha256(prompt, 16));
}

std::string CanonicalPrompt(const std::vector<ChatMessage>& messages) {
  if (messages.size() == 1 && messages[0].role == "user") {
    return messages[0].content;
  }
  std::string out;
  for (const ChatMessage& m : messages) {
    if (!out.empty()) out += "\n\n";
    absl::StrAppend(&out, m.role, ": ", m.content);
  }
  return out;
}

size_t RubricSet::criterion_count() const {
  size_t n = 0;
  for (const auto& r : rubrics) n += r->criteria.size();
  return n;
}

const std::shared_ptr<const Rubric>* RubricSet::FindById(
    absl::string_view id) const {
  auto it = by_id.find(id);
  return it == by_id.end() ? nullptr : &rubrics[it->second];
}

const std::shared_ptr<const Rubric>* RubricSet::FindByPrompt(
    absl::string_view prompt) const {
  auto it = by_prompt.find(prompt);
  return it == by_prompt.end() ? nullptr : &rubrics[it->second];
}

absl::Status FinalizeRubricSet(RubricSet& set) {
  set.by_id.clear();
  set.by_prompt.clear();
  set.by_id.reserve(set.rubrics.size());
  std::string versions;
  versions.reserve(set.rubrics.size() * 17);
  for (size_t i = 0; i < set.rubrics.size(); ++i) {
    const Rubric& r = *set.rubrics[i];
    auto [it, inserted] = set.by_id.emplace(r.id, i);
    if (!inserted) {
      return absl::InvalidArgumentError(
          absl::StrCat("rubric set '", set.name, "': records ", it->second + 1,
                       " and ", i + 1, " both have rubric id '", r.id, "'"));
    }
    if (!r.prompt.empty()) set.by_prompt.emplace(r.prompt, i);
    absl::StrAppend(&versions, r.version, "\n");
  }
  set.version = HexSha256(versions, 16);
  return absl::OkStatus();
}

}  // namespace rewardd

// The rewardd format: rubrics written for this server, with optional machine
// checks per criterion (docs/rubric-formats.md).
//
//   {"id": "q1", "prompt": "...",            // or "messages": [{role,
//   content}]
//    "criteria": [{"id": "c1", "text": "...", "weight": 2, "tags": ["x"],
//                  "check": {"type": "regex", "pattern": "\\bCST\\b"}}]}
#include <cstdint>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/rubric/formats/record_parser.h"

namespace rewardd {
namespace rubric_formats {
namespace {

// Which fields a check of each kind may carry besides "type". Unknown fields
// are rejected: a misspelt "patern" would otherwise silently make the check
// meaningless.
std::vector<absl::string_view> AllowedCheckFields(Check::Kind kind) {
  switch (kind) {
    case Check::Kind::kRegex:
      return {"pattern", "case_insensitive"};
    case Check::Kind::kContains:
      return {"values", "match", "case_insensitive"};
    case Check::Kind::kNotContains:
    case Check::Kind::kStartsWith:
    case Check::Kind::kEndsWith:
      return {"values", "case_insensitive"};
    case Check::Kind::kWordCount:
    case Check::Kind::kCharCount:
    case Check::Kind::kLineCount:
      return {"min", "max"};
    case Check::Kind::kNumeric:
      return {"value", "tolerance"};
    case Check::Kind::kNone:
    case Check::Kind::kValidJson:
      return {};
  }
  return {};
}

absl::StatusOr<std::optional<int64_t>> OptionalInt(const Json& check,
                                                   const char* key,
                                                   const RecordContext& ctx,
                                                   absl::string_view where) {
  auto it = check.find(key);
  if (it == check.end() || it->is_null()) return std::optional<int64_t>();
  if (it->is_number_unsigned() &&
      it->get<uint64_t>() >
          static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return ctx.Error(absl::StrCat(where, "check.", key, " is out of range"));
  }
  if (!it->is_number_integer()) {
    return ctx.Error(absl::StrCat(
        where, "check.", key, " is not an integer (got ", Preview(*it), ")"));
  }
  return std::optional<int64_t>(it->get<int64_t>());
}

// A non-negative integer that fits uint32 at `key` of lineage entry `where`;
// 0 when absent.
absl::StatusOr<uint32_t> LineageIndex(const Json& value,
                                      const RecordContext& ctx,
                                      const std::string& what) {
  if (!value.is_number_unsigned() ||
      value.get<uint64_t>() > std::numeric_limits<uint32_t>::max()) {
    return ctx.Error(absl::StrCat(what, " is not a non-negative integer (got ",
                                  Preview(value), ")"));
  }
  return static_cast<uint32_t>(value.get<uint64_t>());
}

// The optional "lineage" of a rubric written by reward-cli refine: a list of
// version entries, oldest first. Metadata only, so unknown keys in an entry
// are ignored (tools may add their own, e.g. "pair_sources"), but the known
// ones must have their types.
absl::Status ParseLineage(const Json& record, const RecordContext& ctx,
                          Rubric& rubric) {
  auto it = record.find("lineage");
  if (it == record.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_array()) {
    return ctx.Error(
        absl::StrCat("lineage is not a list (got ", Preview(*it), ")"));
  }
  auto lineage = std::make_shared<std::vector<RubricVersionInfo>>();
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& e = (*it)[i];
    const std::string where = absl::StrCat("lineage[", i, "]: ");
    if (!e.is_object()) {
      return ctx.Error(absl::StrCat("lineage[", i, "] is not an object"));
    }
    RubricVersionInfo info;
    REWARDD_ASSIGN_OR_RETURN(info.version,
                             RequiredString(e, "version", ctx, where));
    REWARDD_ASSIGN_OR_RETURN(info.parent_version,
                             OptionalString(e, "parent_version", ctx, where));
    REWARDD_ASSIGN_OR_RETURN(info.origin,
                             OptionalString(e, "origin", ctx, where));
    REWARDD_ASSIGN_OR_RETURN(info.proposer,
                             OptionalString(e, "proposer", ctx, where));
    REWARDD_ASSIGN_OR_RETURN(info.proposer_model,
                             OptionalString(e, "proposer_model", ctx, where));
    REWARDD_ASSIGN_OR_RETURN(info.template_version,
                             OptionalString(e, "template_version", ctx, where));
    if (auto n = e.find("iteration"); n != e.end() && !n->is_null()) {
      REWARDD_ASSIGN_OR_RETURN(
          info.iteration,
          LineageIndex(*n, ctx, absl::StrCat(where, "iteration")));
    }
    if (auto p = e.find("pair"); p != e.end() && !p->is_null()) {
      if (!p->is_array()) {
        return ctx.Error(absl::StrCat(where, "pair is not a list"));
      }
      for (size_t j = 0; j < p->size(); ++j) {
        REWARDD_ASSIGN_OR_RETURN(
            uint32_t index,
            LineageIndex((*p)[j], ctx, absl::StrCat(where, "pair[", j, "]")));
        info.pair.push_back(index);
      }
    }
    lineage->push_back(std::move(info));
  }
  if (!lineage->empty()) rubric.lineage = std::move(lineage);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Check> ParseCheckJson(const Json& json, const RecordContext& ctx,
                                     absl::string_view where) {
  Check check;
  if (!json.is_object()) {
    return ctx.Error(absl::StrCat(where, "check is not an object (got ",
                                  Preview(json), ")"));
  }
  const std::string check_where = absl::StrCat(where, "check.");
  REWARDD_ASSIGN_OR_RETURN(std::string type,
                           RequiredString(json, "type", ctx, check_where));
  if (!ParseCheckKind(type, &check.kind)) {
    return ctx.Error(absl::StrCat(
        where, "unknown check type \"", type,
        "\" (known: regex, contains, not_contains, word_count, char_count, "
        "line_count, valid_json, starts_with, ends_with, numeric)"));
  }
  const auto allowed = AllowedCheckFields(check.kind);
  for (auto it = json.begin(); it != json.end(); ++it) {
    if (it.key() == "type") continue;
    bool ok = false;
    for (absl::string_view a : allowed) ok = ok || it.key() == a;
    if (!ok) {
      return ctx.Error(absl::StrCat(
          where, "check field \"", it.key(), "\" does not apply to a ", type,
          " check (allowed: ",
          allowed.empty() ? "none" : absl::StrJoin(allowed, ", "), ")"));
    }
  }
  REWARDD_ASSIGN_OR_RETURN(check.pattern,
                           OptionalString(json, "pattern", ctx, check_where));
  REWARDD_ASSIGN_OR_RETURN(check.values,
                           StringArray(json, "values", ctx, check_where));
  REWARDD_ASSIGN_OR_RETURN(std::string match,
                           OptionalString(json, "match", ctx, check_where));
  if (match == "any") {
    check.match_any = true;
  } else if (!match.empty() && match != "all") {
    return ctx.Error(absl::StrCat(where,
                                  "check.match must be \"all\" or "
                                  "\"any\" (got \"",
                                  match, "\")"));
  }
  if (auto it = json.find("case_insensitive"); it != json.end()) {
    if (!it->is_boolean()) {
      return ctx.Error(
          absl::StrCat(where, "check.case_insensitive is not a boolean"));
    }
    check.case_insensitive = it->get<bool>();
  }
  REWARDD_ASSIGN_OR_RETURN(check.min, OptionalInt(json, "min", ctx, where));
  REWARDD_ASSIGN_OR_RETURN(check.max, OptionalInt(json, "max", ctx, where));
  const bool numeric = check.kind == Check::Kind::kNumeric;
  REWARDD_ASSIGN_OR_RETURN(
      check.value, NumberField(json, "value", numeric, 0, ctx, check_where));
  REWARDD_ASSIGN_OR_RETURN(
      check.tolerance,
      NumberField(json, "tolerance", false, 0, ctx, check_where));
  return check;
}

absl::Status ParseRewarddRecord(const Json& record, RecordContext& ctx,
                                std::vector<Rubric>& out) {
  Rubric rubric;
  if (record.contains("prompt") && record.contains("messages")) {
    return ctx.Error("give either \"prompt\" or \"messages\", not both");
  }
  REWARDD_ASSIGN_OR_RETURN(
      rubric.prompt,
      PromptField(record, record.contains("messages") ? "messages" : "prompt",
                  /*required=*/false, ctx));
  REWARDD_ASSIGN_OR_RETURN(rubric.id,
                           RubricIdField(record, "id", rubric.prompt, ctx));
  REWARDD_ASSIGN_OR_RETURN(const Json* criteria,
                           RequiredArray(record, "criteria", ctx, ""));
  rubric.criteria.reserve(criteria->size());
  for (size_t i = 0; i < criteria->size(); ++i) {
    const Json& c = (*criteria)[i];
    const std::string where = CriterionWhere(i);
    if (!c.is_object()) {
      return ctx.Error(absl::StrCat(where, "is not an object"));
    }
    Criterion criterion;
    REWARDD_ASSIGN_OR_RETURN(criterion.id, OptionalString(c, "id", ctx, where));
    if (criterion.id.empty()) criterion.id = DefaultCriterionId(i);
    REWARDD_ASSIGN_OR_RETURN(criterion.text,
                             RequiredString(c, "text", ctx, where));
    REWARDD_ASSIGN_OR_RETURN(criterion.weight,
                             NumberField(c, "weight", false, 1, ctx, where));
    REWARDD_ASSIGN_OR_RETURN(criterion.tags,
                             StringArray(c, "tags", ctx, where));
    if (auto it = c.find("check"); it != c.end() && !it->is_null()) {
      REWARDD_ASSIGN_OR_RETURN(Check check, ParseCheckJson(*it, ctx, where));
      // {"type": "none"} means no check: keep the null that says so.
      if (check.kind != Check::Kind::kNone) {
        criterion.check = std::make_shared<const Check>(std::move(check));
      }
    }
    rubric.criteria.push_back(std::move(criterion));
  }
  REWARDD_RETURN_IF_ERROR(ParseLineage(record, ctx, rubric));
  out.push_back(std::move(rubric));
  return absl::OkStatus();
}

}  // namespace rubric_formats
}  // namespace rewardd

// Field helpers shared by the format parsers (see record_parser.h).
#include <cmath>

#include "absl/strings/str_cat.h"
#include "server/rubric/formats/record_parser.h"

namespace rewardd {
namespace rubric_formats {
namespace {

// Warnings beyond this many are only counted (RubricSet::skipped_records),
// so that a file of thousands of skipped records cannot bloat a snapshot.
constexpr size_t kMaxWarnings = 100;

absl::string_view TypeName(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return "a boolean";
    case Json::value_t::string:
      return "a string";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::object:
      return "an object";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return "a number";
    default:
      return "an unexpected value";
  }
}

}  // namespace

std::string RecordContext::Prefix() const {
  if (rubric_id_.empty()) return location_;
  return absl::StrCat(location_, " (rubric '", rubric_id_, "')");
}

absl::Status RecordContext::Error(absl::string_view message) const {
  return absl::InvalidArgumentError(absl::StrCat(Prefix(), ": ", message));
}

void RecordContext::Warn(absl::string_view message) const {
  if (warnings_ != nullptr && warnings_->size() < kMaxWarnings) {
    warnings_->push_back(absl::StrCat(Prefix(), ": ", message));
  }
}

std::string Preview(const Json& value) {
  // Never dump a container: records can be large or deeply nested, and the
  // message only needs to say what was there.
  if (value.is_array()) return absl::StrCat("[... ", value.size(), " items]");
  if (value.is_object()) return absl::StrCat("{... ", value.size(), " fields}");
  constexpr size_t kMax = 40;
  if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    if (s.size() <= kMax) return value.dump();
    // Cutting may split a UTF-8 sequence; `replace` keeps dump() from
    // throwing on it.
    return Json(s.substr(0, kMax))
               .dump(-1, ' ', false, Json::error_handler_t::replace) +
           "...";
  }
  return value.dump();
}

std::string CriterionWhere(size_t index) {
  return absl::StrCat("criterion #", index + 1, ": ");
}

std::string DefaultCriterionId(size_t index) {
  return absl::StrCat("c", index + 1);
}

absl::StatusOr<std::string> RequiredString(const Json& obj, const char* key,
                                           const RecordContext& ctx,
                                           absl::string_view where) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    return ctx.Error(absl::StrCat(where, "missing field \"", key, "\""));
  }
  if (!it->is_string()) {
    return ctx.Error(absl::StrCat(where, key, " is not a string (got ",
                                  TypeName(*it), " ", Preview(*it), ")"));
  }
  return it->get<std::string>();
}

absl::StatusOr<std::string> OptionalString(const Json& obj, const char* key,
                                           const RecordContext& ctx,
                                           absl::string_view where) {
  if (!obj.contains(key)) return std::string();
  return RequiredString(obj, key, ctx, where);
}

absl::StatusOr<double> NumberField(const Json& obj, const char* key,
                                   bool required, double fallback,
                                   const RecordContext& ctx,
                                   absl::string_view where) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) {
      return ctx.Error(absl::StrCat(where, "missing field \"", key, "\""));
    }
    return fallback;
  }
  // Strict on purpose: "3" in a weight is more often a broken export than an
  // intended number, and silently reading it would change rewards.
  if (!it->is_number()) {
    return ctx.Error(absl::StrCat(where, key, " is not a number (got ",
                                  TypeName(*it), " ", Preview(*it), ")"));
  }
  const double v = it->get<double>();
  if (!std::isfinite(v)) {
    return ctx.Error(absl::StrCat(where, key, " is not a finite number"));
  }
  return v;
}

absl::StatusOr<std::vector<std::string>> StringArray(const Json& obj,
                                                     const char* key,
                                                     const RecordContext& ctx,
                                                     absl::string_view where) {
  std::vector<std::string> out;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return out;
  if (!it->is_array()) {
    return ctx.Error(absl::StrCat(
        where, key, " is not an array of strings (got ", TypeName(*it), ")"));
  }
  out.reserve(it->size());
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& item = (*it)[i];
    if (!item.is_string()) {
      return ctx.Error(absl::StrCat(where, key, "[", i,
                                    "] is not a string (got ", TypeName(item),
                                    " ", Preview(item), ")"));
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

absl::StatusOr<const Json*> RequiredArray(const Json& obj, const char* key,
                                          const RecordContext& ctx,
                                          absl::string_view where) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    return ctx.Error(absl::StrCat(where, "missing field \"", key, "\""));
  }
  if (!it->is_array()) {
    return ctx.Error(
        absl::StrCat(where, key, " is not an array (got ", TypeName(*it), ")"));
  }
  return &*it;
}

absl::StatusOr<std::string> PromptField(const Json& obj, const char* key,
                                        bool required,
                                        const RecordContext& ctx) {
  auto it = obj.find(key);
  if (it == obj.end() || (!required && it->is_null())) {
    if (required) {
      return ctx.Error(absl::StrCat("missing field \"", key, "\""));
    }
    return std::string();
  }
  if (it->is_string()) return it->get<std::string>();
  if (!it->is_array()) {
    return ctx.Error(absl::StrCat(
        key,
        " is neither a string nor a list of {role, content} messages (got ",
        TypeName(*it), ")"));
  }
  std::vector<ChatMessage> messages;
  messages.reserve(it->size());
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& m = (*it)[i];
    const std::string where = absl::StrCat(key, "[", i, "]: ");
    if (!m.is_object()) {
      return ctx.Error(absl::StrCat(where, "is not a {role, content} object"));
    }
    ChatMessage msg;
    REWARDD_ASSIGN_OR_RETURN(msg.role, RequiredString(m, "role", ctx, where));
    REWARDD_ASSIGN_OR_RETURN(msg.content,
                            RequiredString(m, "content", ctx, where));
    messages.push_back(std::move(msg));
  }
  if (messages.empty()) {
    return ctx.Error(absl::StrCat(key, " is an empty message list"));
  }
  return CanonicalPrompt(messages);
}

absl::StatusOr<std::string> RubricIdField(const Json& obj, const char* key,
                                          absl::string_view prompt,
                                          RecordContext& ctx) {
  std::string id;
  auto it = obj.find(key);
  if (it != obj.end() && !it->is_null()) {
    if (it->is_string()) {
      id = it->get<std::string>();
    } else if (it->is_number_integer()) {
      id = it->dump();  // numeric ids (common in datasets) as decimal text
    } else {
      return ctx.Error(absl::StrCat(key, " is not a string (got ",
                                    TypeName(*it), " ", Preview(*it), ")"));
    }
    if (id.empty()) {
      return ctx.Error(absl::StrCat(key, " is empty"));
    }
  } else if (!prompt.empty()) {
    id = PromptDerivedId(prompt);
  } else {
    return ctx.Error(
        absl::StrCat("record has neither \"", key,
                     "\" nor a prompt, so it cannot be given a rubric id"));
  }
  ctx.set_rubric_id(id);
  return id;
}

absl::Status ParseCriterionList(const Json& list, const char* text_key,
                                const char* weight_key, bool weight_required,
                                const char* id_key, const RecordContext& ctx,
                                std::vector<Criterion>& out) {
  out.reserve(out.size() + list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    const Json& c = list[i];
    const std::string where = CriterionWhere(i);
    if (!c.is_object()) {
      return ctx.Error(
          absl::StrCat(where, "is not an object (got ", TypeName(c), ")"));
    }
    Criterion criterion;
    if (id_key != nullptr) {
      REWARDD_ASSIGN_OR_RETURN(criterion.id,
                              OptionalString(c, id_key, ctx, where));
    }
    if (criterion.id.empty()) criterion.id = DefaultCriterionId(i);
    REWARDD_ASSIGN_OR_RETURN(criterion.text,
                            RequiredString(c, text_key, ctx, where));
    REWARDD_ASSIGN_OR_RETURN(
        criterion.weight,
        NumberField(c, weight_key, weight_required, 1, ctx, where));
    REWARDD_ASSIGN_OR_RETURN(criterion.tags, StringArray(c, "tags", ctx, where));
    out.push_back(std::move(criterion));
  }
  return absl::OkStatus();
}

}  // namespace rubric_formats
}  // namespace rewardd

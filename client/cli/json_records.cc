#include "client/cli/json_records.h"

#include <iostream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/cli/atomic_file.h"
#include "server/util/status_macros.h"

namespace rewardd::cli {
namespace {

using Json = nlohmann::json;

std::string BaseName(const std::string& path) {
  if (path == "-") return "stdin";
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// nlohmann's message without its "[json.exception...] " tag.
std::string JsonErrorText(const Json::exception& e) {
  absl::string_view text = e.what();
  if (size_t pos = text.find("] "); pos != absl::string_view::npos) {
    text.remove_prefix(pos + 2);
  }
  return std::string(text);
}

absl::StatusOr<std::string> ReadInput(const std::string& path) {
  if (path != "-") return ReadWholeFile(path);
  std::stringstream buffer;
  buffer << std::cin.rdbuf();
  return buffer.str();
}

absl::Status AddRecord(Json value, std::string location,
                       std::vector<JsonRecord>& out) {
  if (!value.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(location, ": record is not a JSON object"));
  }
  out.push_back(JsonRecord{std::move(value), std::move(location)});
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<JsonRecord>> ReadJsonRecords(
    const std::string& path) {
  absl::StatusOr<std::string> content = ReadInput(path);
  if (!content.ok()) return content.status();
  const std::string name = BaseName(path);
  std::vector<JsonRecord> out;
  const absl::string_view text = absl::StripAsciiWhitespace(*content);
  if (absl::StartsWith(text, "[")) {
    Json list;
    try {
      list = Json::parse(text);
    } catch (const Json::exception& e) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": invalid JSON: ", JsonErrorText(e)));
    }
    for (size_t i = 0; i < list.size(); ++i) {
      REWARDD_RETURN_IF_ERROR(AddRecord(
          std::move(list[i]), absl::StrCat(name, " record ", i + 1), out));
    }
  } else {
    int line_number = 0;
    for (absl::string_view line : absl::StrSplit(*content, '\n')) {
      ++line_number;
      if (absl::StripAsciiWhitespace(line).empty()) continue;
      const std::string location = absl::StrCat(name, " line ", line_number);
      Json value;
      try {
        value = Json::parse(line.begin(), line.end());
      } catch (const Json::exception& e) {
        return absl::InvalidArgumentError(
            absl::StrCat(location, ": invalid JSON: ", JsonErrorText(e)));
      }
      REWARDD_RETURN_IF_ERROR(AddRecord(std::move(value), location, out));
    }
  }
  if (out.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": no records"));
  }
  return out;
}

absl::Status RecordError(const JsonRecord& record, absl::string_view message) {
  std::string where = record.location;
  if (auto it = record.value.find("id");
      it != record.value.end() && it->is_string()) {
    absl::StrAppend(&where, " (id '", it->get<std::string>(), "')");
  }
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", message));
}

absl::StatusOr<std::string> RecordId(const JsonRecord& record) {
  auto it = record.value.find("id");
  if (it == record.value.end() || it->is_null()) {
    return RecordError(record, "missing field \"id\"");
  }
  if (it->is_number_integer()) return it->dump();
  if (!it->is_string() || it->get<std::string>().empty()) {
    return RecordError(
        record,
        absl::StrCat("id is not a non-empty string (got ", it->dump(), ")"));
  }
  return it->get<std::string>();
}

absl::StatusOr<std::string> OptionalStringField(const JsonRecord& record,
                                                const char* key) {
  auto it = record.value.find(key);
  if (it == record.value.end() || it->is_null()) return std::string();
  if (!it->is_string()) {
    return RecordError(record, absl::StrCat(key, " is not a string"));
  }
  return it->get<std::string>();
}

absl::Status PromptFromRecord(
    const JsonRecord& record, std::string* prompt,
    google::protobuf::RepeatedPtrField<reward::v1::Message>* messages) {
  const Json& v = record.value;
  const bool has_prompt = v.contains("prompt") && !v["prompt"].is_null();
  const bool has_messages = v.contains("messages") && !v["messages"].is_null();
  if (has_prompt == has_messages) {
    return RecordError(record, has_prompt
                                   ? "give \"prompt\" or \"messages\", not both"
                                   : "missing field \"prompt\" (or "
                                     "\"messages\")");
  }
  const char* key = has_prompt ? "prompt" : "messages";
  const Json& p = v[key];
  if (p.is_string()) {
    if (!has_prompt) return RecordError(record, "messages is not a list");
    if (absl::StripAsciiWhitespace(p.get<std::string>()).empty()) {
      return RecordError(record, "prompt is empty");
    }
    *prompt = p.get<std::string>();
    return absl::OkStatus();
  }
  if (!p.is_array() || p.empty()) {
    return RecordError(record, absl::StrCat(key,
                                            " is not a string or a non-empty "
                                            "list of {role, content}"));
  }
  for (size_t i = 0; i < p.size(); ++i) {
    const Json& m = p[i];
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string() ||
        !m.contains("content") || !m["content"].is_string()) {
      return RecordError(record,
                         absl::StrCat(key, "[", i,
                                      "] is not {\"role\": str, \"content\": "
                                      "str}"));
    }
    reward::v1::Message* out = messages->Add();
    out->set_role(m["role"].get<std::string>());
    out->set_content(m["content"].get<std::string>());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> StringListField(
    const JsonRecord& record, const char* key, bool required) {
  std::vector<std::string> out;
  auto it = record.value.find(key);
  if (it == record.value.end() || it->is_null()) {
    if (required) {
      return RecordError(record, absl::StrCat("missing field \"", key, "\""));
    }
    return out;
  }
  if (!it->is_array()) {
    return RecordError(record, absl::StrCat(key, " is not a list"));
  }
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& e = (*it)[i];
    if (!e.is_string() || e.get<std::string>().empty()) {
      return RecordError(
          record, absl::StrCat(key, "[", i, "] is not a non-empty string"));
    }
    out.push_back(e.get<std::string>());
  }
  return out;
}

}  // namespace rewardd::cli

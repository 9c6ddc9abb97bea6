#include "client/cli/keyed_record_file.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/cli/atomic_file.h"

namespace rewardd::cli {

using Json = nlohmann::json;

absl::StatusOr<KeyedRecordFile> KeyedRecordFile::Open(std::string path,
                                                      Layout layout,
                                                      std::string key) {
  KeyedRecordFile file(std::move(path), layout, std::move(key));
  absl::StatusOr<std::string> content = ReadWholeFile(file.path_);
  if (absl::IsNotFound(content.status())) return file;
  if (!content.ok()) return content.status();
  absl::Status s = file.Load(*content);
  if (!s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot resume from ", file.path_, ": ", s.message(),
                     " (move it away to start afresh)"));
  }
  return file;
}

absl::Status KeyedRecordFile::Load(const std::string& content) {
  try {
    if (layout_ == Layout::kRubricSet) {
      if (absl::StripAsciiWhitespace(content).empty()) return absl::OkStatus();
      Json whole = Json::parse(content);
      if (!whole.is_object() || !whole.contains("rubrics") ||
          !whole["rubrics"].is_array()) {
        return absl::InvalidArgumentError(
            "not a rubric set written by reward-cli ({\"rubrics\": [...]})");
      }
      if (whole.contains("provenance")) provenance_ = whole["provenance"];
      Json& list = whole["rubrics"];
      for (size_t i = 0; i < list.size(); ++i) {
        absl::Status s =
            Add(std::move(list[i]), absl::StrCat("rubrics[", i, "]"));
        if (!s.ok()) return s;
      }
      return absl::OkStatus();
    }
    int line_number = 0;
    for (absl::string_view line : absl::StrSplit(content, '\n')) {
      ++line_number;
      if (absl::StripAsciiWhitespace(line).empty()) continue;
      absl::Status s = Add(Json::parse(line.begin(), line.end()),
                           absl::StrCat("line ", line_number));
      if (!s.ok()) return s;
    }
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("invalid JSON: ", e.what()));
  }
  return absl::OkStatus();
}

absl::Status KeyedRecordFile::Add(Json record, const std::string& location) {
  auto it = record.find(key_);
  if (!record.is_object() || it == record.end() || !it->is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat(location, " has no string \"", key_, "\""));
  }
  Put(std::move(record));
  return absl::OkStatus();
}

const Json* KeyedRecordFile::Find(const std::string& key) const {
  auto it = index_.find(key);
  return it == index_.end() ? nullptr : &records_[it->second];
}

void KeyedRecordFile::Put(Json record) {
  const std::string key = record[key_].get<std::string>();
  auto [it, inserted] = index_.emplace(key, records_.size());
  if (inserted) {
    records_.push_back(std::move(record));
  } else {
    records_[it->second] = std::move(record);
  }
}

absl::Status KeyedRecordFile::Write() const {
  std::string out;
  if (layout_ == Layout::kRubricSet) {
    // One rubric a line inside the wrapper: still one JSON document, and a
    // diff of two versions shows which rubrics changed.
    out = "{\"provenance\": " +
          provenance_.dump(-1, ' ', false, Json::error_handler_t::replace) +
          ",\n \"rubrics\": [";
    for (size_t i = 0; i < records_.size(); ++i) {
      absl::StrAppend(
          &out, i == 0 ? "\n  " : ",\n  ",
          records_[i].dump(-1, ' ', false, Json::error_handler_t::replace));
    }
    out += "\n]}\n";
  } else {
    for (const Json& r : records_)
      absl::StrAppend(
          &out, r.dump(-1, ' ', false, Json::error_handler_t::replace), "\n");
  }
  return WriteFileAtomically(path_, out);
}

}  // namespace rewardd::cli

#include "server/rubric/rubric_loader.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/rubric/formats/record_parser.h"

namespace rewardd {
namespace {

using rubric_formats::Json;
using rubric_formats::RecordContext;
using rubric_formats::RecordParser;

struct FormatEntry {
  RubricFormat format;
  absl::string_view name;
  RecordParser parser;  // nullptr for kAuto
};

constexpr FormatEntry kFormats[] = {
    {RubricFormat::kAuto, "auto", nullptr},
    {RubricFormat::kRewardd, "rewardd", &rubric_formats::ParseRewarddRecord},
    {RubricFormat::kPaperDataset, "paper_dataset",
     &rubric_formats::ParsePaperDatasetRecord},
    {RubricFormat::kPaperCode, "paper_code",
     &rubric_formats::ParsePaperCodeRecord},
    {RubricFormat::kHealthBench, "healthbench",
     &rubric_formats::ParseHealthBenchRecord},
    {RubricFormat::kBigGenBench, "biggen", &rubric_formats::ParseBigGenRecord},
    {RubricFormat::kPaperAppendix, "paper_appendix",
     &rubric_formats::ParsePaperAppendixRecord},
};

const FormatEntry& Entry(RubricFormat format) {
  for (const FormatEntry& e : kFormats) {
    if (e.format == format) return e;
  }
  return kFormats[0];
}

std::string KnownFormatNames() {
  std::string out;
  for (const FormatEntry& e : kFormats) {
    if (e.format == RubricFormat::kAuto) continue;
    absl::StrAppend(&out, out.empty() ? "" : ", ", e.name);
  }
  return out;
}

std::string KeyList(const Json& obj) {
  std::string out;
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    absl::StrAppend(&out, out.empty() ? "" : ", ", it.key());
  }
  return out;
}

// The format of a record, from the keys only the format has.
absl::StatusOr<RubricFormat> DetectFormat(const Json& record,
                                          const std::string& location) {
  auto first_element_has = [&](const char* list, const char* key) {
    auto it = record.find(list);
    return it != record.end() && it->is_array() && !it->empty() &&
           (*it)[0].is_object() && (*it)[0].contains(key);
  };
  if (record.contains("prompt_id")) return RubricFormat::kHealthBench;
  if (record.contains("atomic_checklist")) return RubricFormat::kBigGenBench;
  if (record.contains("initial_rubric") || record.contains("refined_rubric")) {
    return RubricFormat::kPaperAppendix;
  }
  if (record.contains("criteria")) {
    return first_element_has("criteria", "criterion") ? RubricFormat::kPaperCode
                                                      : RubricFormat::kRewardd;
  }
  if (first_element_has("rubrics", "points")) return RubricFormat::kHealthBench;
  if (first_element_has("rubrics", "criterion")) {
    return RubricFormat::kPaperDataset;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      location, ": cannot tell the rubric format from the record's fields (",
      KeyList(record), "); name the file <set>.<format>.json[l] with one of: ",
      KnownFormatNames()));
}

// {"rubrics": [{..., "criteria": [...]}, ...]}: the whole-file object form
// of the rewardd format. Told apart from dataset records, which also have a
// "rubrics" list, by their prompt and by criterion-shaped list entries.
bool IsWrapper(const Json& record) {
  auto it = record.find("rubrics");
  if (it == record.end() || !it->is_array()) return false;
  if (record.contains("prompt") || record.contains("prompt_id")) return false;
  if (it->empty()) return true;
  const Json& first = (*it)[0];
  return first.is_object() && !first.contains("criterion") &&
         !first.contains("points");
}

// nlohmann's message without its "[json.exception.parse_error.101] " tag.
// Parsing throws parse_error for syntax and out_of_range for numbers that do
// not fit a double (1e400); both are input errors.
std::string ParseErrorText(const Json::exception& e, bool single_line) {
  absl::string_view text = e.what();
  if (size_t pos = text.find("] "); pos != absl::string_view::npos) {
    text.remove_prefix(pos + 2);
  }
  std::string out(text);
  // In JSONL mode the caller names the file line; nlohmann's own "line 1"
  // would only confuse.
  if (single_line)
    out = absl::StrReplaceAll(out, {{"at line 1, column", "at column"}});
  return out;
}

// Accumulates the rubrics of one file.
class SetBuilder {
 public:
  SetBuilder(absl::string_view set_name, RubricFormat format,
             absl::string_view source_name, const LoadLimits& limits)
      : format_(format), source_(source_name), limits_(limits) {
    set_.name = std::string(set_name);
  }

  const std::string& source() const { return source_; }

  // `top_level`: the record may be the whole-file {"rubrics": [...]} form.
  // Only there: unwrapping nested wrappers would recurse as deep as the
  // input is nested.
  absl::Status Add(const Json& record, const std::string& location,
                   bool top_level = true) {
    if (!record.is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat(location, ": record is not a JSON object (got ",
                       rubric_formats::Preview(record), ")"));
    }
    if (top_level && IsWrapper(record) &&
        (format_ == RubricFormat::kAuto || format_ == RubricFormat::kRewardd)) {
      absl::Status s = AddProvenance(record, location);
      if (!s.ok()) return s;
      const Json& list = record["rubrics"];
      for (size_t i = 0; i < list.size(); ++i) {
        absl::Status s =
            Add(list[i], absl::StrCat(location, " rubrics[", i, "]"), false);
        if (!s.ok()) return s;
      }
      return absl::OkStatus();
    }
    if (format_ == RubricFormat::kAuto) {
      absl::StatusOr<RubricFormat> detected = DetectFormat(record, location);
      if (!detected.ok()) return detected.status();
      format_ = *detected;
    }
    RecordContext ctx(location, &set_.warnings);
    produced_.clear();
    absl::Status s = Entry(format_).parser(record, ctx, produced_);
    if (!s.ok()) return s;
    if (produced_.empty()) ++set_.skipped_records;
    for (Rubric& r : produced_) {
      const std::string where =
          absl::StrCat(location, " (rubric '", r.id, "')");
      if (r.criteria.size() > limits_.max_criteria_per_rubric) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": ", r.criteria.size(), " criteria exceed the limit of ",
            limits_.max_criteria_per_rubric, " per rubric"));
      }
      s = ValidateRubric(r);
      if (!s.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(location, ": ", s.message()));
      }
      auto [it, inserted] = first_seen_.emplace(r.id, location);
      if (!inserted) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": duplicate rubric id '", r.id,
                         "' (first used at ", it->second, ")"));
      }
      if (set_.rubrics.size() >= limits_.max_rubrics_per_set) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": more than ", limits_.max_rubrics_per_set,
            " rubrics in one set (LoadLimits.max_rubrics_per_set)"));
      }
      r.version = RubricVersion(r);
      set_.rubrics.push_back(std::make_shared<const Rubric>(std::move(r)));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<RubricSet> Finish() && {
    if (set_.rubrics.empty()) {
      if (set_.skipped_records > 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            source_, ": no gradable records (", set_.skipped_records,
            " skipped, e.g. ",
            set_.warnings.empty() ? "" : set_.warnings.front(), ")"));
      }
      return absl::InvalidArgumentError(
          absl::StrCat(source_, ": empty file (no records)"));
    }
    // Warnings are capped (RecordContext::Warn); the last one then says how
    // many went unlisted, keeping the list within the cap.
    if (static_cast<size_t>(set_.skipped_records) > set_.warnings.size() &&
        !set_.warnings.empty()) {
      set_.warnings.back() = absl::StrCat(
          "... and ", set_.skipped_records - (set_.warnings.size() - 1),
          " more skipped records");
    }
    set_.format = std::string(RubricFormatName(format_));
    set_.loaded_at_unix = absl::ToUnixSeconds(absl::Now());
    // Duplicate ids were rejected above with better locations, so this only
    // builds the indexes and the version.
    absl::Status s = FinalizeRubricSet(set_);
    if (!s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source_, ": ", s.message()));
    }
    return std::move(set_);
  }

 private:
  // The whole-file form's optional "provenance" (files written by
  // reward-cli): {"derived_from", "derived_from_version", "produced_by"},
  // strings; other keys are metadata this server does not read.
  absl::Status AddProvenance(const Json& record, const std::string& location) {
    auto it = record.find("provenance");
    if (it == record.end() || it->is_null()) return absl::OkStatus();
    if (!it->is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat(location, ": provenance is not an object (got ",
                       rubric_formats::Preview(*it), ")"));
    }
    rubric_formats::RecordContext ctx(location, &set_.warnings);
    for (auto [key, field] :
         {std::pair{"derived_from", &set_.derived_from},
          std::pair{"derived_from_version", &set_.derived_from_version},
          std::pair{"produced_by", &set_.produced_by}}) {
      absl::StatusOr<std::string> value =
          rubric_formats::OptionalString(*it, key, ctx, "provenance.");
      if (!value.ok()) return value.status();
      *field = *std::move(value);
    }
    return absl::OkStatus();
  }

  RubricFormat format_;
  std::string source_;
  const LoadLimits& limits_;
  RubricSet set_;
  std::vector<Rubric> produced_;
  absl::flat_hash_map<std::string, std::string> first_seen_;  // id -> location
};

bool IsBlank(absl::string_view line) {
  return absl::StripAsciiWhitespace(line).empty();
}

absl::Status ParseJsonLines(absl::string_view content, SetBuilder& builder) {
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    ++line_number;
    if (IsBlank(line)) continue;
    const std::string location =
        absl::StrCat(builder.source(), " line ", line_number);
    Json record;
    try {
      record = Json::parse(line.begin(), line.end());
    } catch (const Json::exception& e) {
      return absl::InvalidArgumentError(
          absl::StrCat(location, ": invalid JSON: ", ParseErrorText(e, true)));
    }
    absl::Status s = builder.Add(record, location);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status ParseJsonDocument(absl::string_view content, SetBuilder& builder) {
  Json doc;
  try {
    doc = Json::parse(content.begin(), content.end());
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        builder.source(), ": invalid JSON: ", ParseErrorText(e, false)));
  }
  if (doc.is_array()) {
    for (size_t i = 0; i < doc.size(); ++i) {
      absl::Status s = builder.Add(
          doc[i], absl::StrCat(builder.source(), " record ", i + 1));
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }
  return builder.Add(doc, builder.source());
}

}  // namespace

absl::string_view RubricFormatName(RubricFormat format) {
  return Entry(format).name;
}

bool ParseRubricFormat(absl::string_view name, RubricFormat* format) {
  if (name == "biggen_bench") {
    *format = RubricFormat::kBigGenBench;
    return true;
  }
  for (const FormatEntry& e : kFormats) {
    if (e.name == name) {
      *format = e.format;
      return true;
    }
  }
  return false;
}

absl::Status SplitRubricFileName(absl::string_view file_name,
                                 std::string* set_name, RubricFormat* format) {
  if (size_t slash = file_name.rfind('/'); slash != absl::string_view::npos) {
    file_name.remove_prefix(slash + 1);
  }
  absl::string_view stem = file_name;
  if (!absl::ConsumeSuffix(&stem, ".jsonl") &&
      !absl::ConsumeSuffix(&stem, ".json")) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_name, ": rubric files end in .json or .jsonl"));
  }
  *format = RubricFormat::kAuto;
  if (size_t dot = stem.rfind('.'); dot != absl::string_view::npos) {
    absl::string_view infix = stem.substr(dot + 1);
    if (!ParseRubricFormat(infix, format)) {
      return absl::InvalidArgumentError(absl::StrCat(
          file_name, ": unknown format '", infix,
          "' in the file name (<set>.<format>.json[l]); known formats: ",
          KnownFormatNames()));
    }
    stem = stem.substr(0, dot);
  }
  if (stem.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_name, ": the file name gives an empty set name"));
  }
  *set_name = std::string(stem);
  return absl::OkStatus();
}

absl::StatusOr<RubricSet> ParseRubricSet(absl::string_view set_name,
                                         absl::string_view content,
                                         RubricFormat format,
                                         absl::string_view source_name,
                                         const LoadLimits& limits) {
  if (content.size() > limits.max_file_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        source_name, ": ", content.size(), " bytes exceed the limit of ",
        limits.max_file_bytes, " (LoadLimits.max_file_bytes)"));
  }
  absl::ConsumePrefix(&content, "\xEF\xBB\xBF");  // UTF-8 byte-order mark
  SetBuilder builder(set_name, format, source_name, limits);
  const size_t start = content.find_first_not_of(" \t\r\n");
  if (start == absl::string_view::npos) {
    return std::move(builder).Finish();  // "empty file"
  }
  absl::Status s;
  if (content[start] == '[') {
    s = ParseJsonDocument(content, builder);
  } else if (content[start] == '{') {
    // JSONL when the first line is a whole JSON value by itself (a one-line
    // JSON object reads the same either way); otherwise one pretty-printed
    // document.
    absl::string_view first_line = content.substr(start);
    first_line = first_line.substr(0, first_line.find('\n'));
    bool jsonl = false;
    try {
      jsonl = Json::accept(first_line.begin(), first_line.end());
    } catch (const Json::exception&) {
      // Not a clean first line: read as one document, which reports why.
    }
    s = jsonl ? ParseJsonLines(content, builder)
              : ParseJsonDocument(content, builder);
  } else {
    s = absl::InvalidArgumentError(absl::StrCat(
        source_name,
        ": expected JSON (an array or object) or JSONL (one object a line)"));
  }
  if (!s.ok()) return s;
  return std::move(builder).Finish();
}

absl::StatusOr<std::string> ReadRubricFile(const std::string& path,
                                           const LoadLimits& limits) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"),
                                          &std::fclose);
  if (f == nullptr) {
    const int err = errno;
    const std::string msg =
        absl::StrCat(path, ": cannot open: ", std::strerror(err));
    return err == ENOENT ? absl::NotFoundError(msg)
                         : absl::UnavailableError(msg);
  }
  // Read in chunks up to one byte past the limit instead of trusting a stat
  // size: the file may grow while it is read.
  std::string content;
  char buf[64 << 10];
  while (true) {
    const size_t n = std::fread(buf, 1, sizeof(buf), f.get());
    content.append(buf, n);
    if (content.size() > limits.max_file_bytes) {
      return absl::ResourceExhaustedError(absl::StrCat(
          path, ": larger than the limit of ", limits.max_file_bytes,
          " bytes (LoadLimits.max_file_bytes)"));
    }
    if (n < sizeof(buf)) break;
  }
  if (std::ferror(f.get())) {
    return absl::UnavailableError(absl::StrCat(path, ": read error"));
  }
  return content;
}

absl::StatusOr<RubricSet> LoadRubricFile(const std::string& path,
                                         RubricFormat format,
                                         const LoadLimits& limits) {
  std::string set_name;
  RubricFormat from_name = RubricFormat::kAuto;
  absl::Status s = SplitRubricFileName(path, &set_name, &from_name);
  if (!s.ok()) return s;
  if (format == RubricFormat::kAuto) format = from_name;
  absl::StatusOr<std::string> content = ReadRubricFile(path, limits);
  if (!content.ok()) return content.status();
  absl::string_view base = path;
  if (size_t slash = base.rfind('/'); slash != absl::string_view::npos) {
    base.remove_prefix(slash + 1);
  }
  absl::StatusOr<RubricSet> set =
      ParseRubricSet(set_name, *content, format, base, limits);
  if (set.ok()) set->source_path = path;
  return set;
}

}  // namespace rewardd

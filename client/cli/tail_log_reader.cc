#include "client/cli/tail_log_reader.h"

#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace rewardd::cli {
namespace {

constexpr size_t kMaxProblems = 10;

void NoteProblem(TailLogStats& stats, std::string problem) {
  if (stats.problems.size() < kMaxProblems) {
    stats.problems.push_back(std::move(problem));
  }
}

// Typed access to a record's fields; the first failure names its field and
// makes ok() false, later reads are no-ops.
class FieldReader {
 public:
  explicit FieldReader(const nlohmann::json& record) : record_(record) {}

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  const nlohmann::json* Find(const char* name, bool required) {
    if (!ok()) return nullptr;
    auto it = record_.find(name);
    if (it == record_.end() || it->is_null()) {
      if (required) Fail(name, "missing");
      return nullptr;
    }
    return &*it;
  }

  std::string String(const char* name, bool required) {
    const nlohmann::json* v = Find(name, required);
    if (v == nullptr) return "";
    if (!v->is_string()) {
      Fail(name, "not a string");
      return "";
    }
    return v->get<std::string>();
  }

  // A required string that may not be empty (a rubric set is chosen by
  // name; an empty one could not be).
  std::string NonEmptyString(const char* name) {
    std::string s = String(name, true);
    if (ok() && s.empty()) Fail(name, "empty");
    return s;
  }

  int64_t Int(const char* name, bool required) {
    const nlohmann::json* v = Find(name, required);
    if (v == nullptr) return 0;
    if (!v->is_number_integer() || v->get<int64_t>() < 0) {
      Fail(name, "not a non-negative integer");
      return 0;
    }
    return v->get<int64_t>();
  }

  double Number(const char* name, bool required, double fallback) {
    const nlohmann::json* v = Find(name, required);
    if (v == nullptr) return fallback;
    if (!v->is_number()) {
      Fail(name, "not a number");
      return fallback;
    }
    return v->get<double>();
  }

  bool Bool(const char* name) {
    const nlohmann::json* v = Find(name, false);
    if (v == nullptr) return false;
    if (!v->is_boolean()) {
      Fail(name, "not a boolean");
      return false;
    }
    return v->get<bool>();
  }

  absl::Time Time(const char* name, std::string* text) {
    *text = String(name, true);
    if (!ok()) return absl::InfinitePast();
    absl::Time t;
    std::string err;
    if (!absl::ParseTime(absl::RFC3339_full, *text, &t, &err)) {
      Fail(name, "not an RFC 3339 time");
      return absl::InfinitePast();
    }
    return t;
  }

  std::optional<TailHistogram> Histogram(const char* name) {
    const nlohmann::json* v = Find(name, false);
    if (v == nullptr) return std::nullopt;
    const auto edges = v->find("edges");
    const auto counts = v->find("counts");
    TailHistogram h;
    if (!v->is_object() || edges == v->end() || counts == v->end() ||
        !edges->is_array() || !counts->is_array() ||
        edges->size() != counts->size() + 1 || counts->empty()) {
      Fail(name, "needs edges and counts, one more edge than counts");
      return std::nullopt;
    }
    for (const nlohmann::json& e : *edges) {
      if (!e.is_number()) {
        Fail(name, "edges: not a number");
        return std::nullopt;
      }
      h.edges.push_back(e.get<double>());
    }
    for (const nlohmann::json& c : *counts) {
      if (!c.is_number_integer() || c.get<int64_t>() < 0) {
        Fail(name, "counts: not a non-negative integer");
        return std::nullopt;
      }
      h.counts.push_back(c.get<int64_t>());
    }
    if (!std::is_sorted(h.edges.begin(), h.edges.end())) {
      Fail(name, "edges: not ascending");
      return std::nullopt;
    }
    return h;
  }

  void Fail(absl::string_view field, absl::string_view what) {
    if (ok()) error_ = absl::StrCat("field '", field, "': ", what);
  }

 private:
  const nlohmann::json& record_;
  std::string error_;
};

// `object[key]` when it is a string, else "" (verdict details are shown,
// never relied on).
std::string StringOr(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

void ReadTop(FieldReader& r, const TailLogReadOptions& options,
             SaturatedGroupRecord& g) {
  const nlohmann::json* top = r.Find("top", true);
  if (top == nullptr) return;
  if (!top->is_array()) return r.Fail("top", "not a list");
  for (size_t i = 0; i < top->size(); ++i) {
    const std::string field = absl::StrCat("top[", i, "]");
    if (!(*top)[i].is_object()) return r.Fail(field, "not an object");
    FieldReader item((*top)[i]);
    TailTopResponse t;
    t.index = static_cast<int>(item.Int("index", false));
    t.response = item.String("response", true);
    t.reward = item.Number("reward", false, 0);
    if (!options.responses) t.response.clear();
    if (const nlohmann::json* vs = item.Find("verdicts", false);
        options.verdicts && vs != nullptr && vs->is_array()) {
      for (const nlohmann::json& v : *vs) {
        if (!v.is_object()) continue;
        t.verdicts.push_back({StringOr(v, "criterion_id"),
                              StringOr(v, "verdict"), StringOr(v, "status")});
      }
    }
    if (!item.ok()) return r.Fail(field, item.error());
    g.top.push_back(std::move(t));
  }
}

void ReadRewardsAndLabels(FieldReader& r, SaturatedGroupRecord& g) {
  if (const nlohmann::json* rewards = r.Find("rewards", false)) {
    if (!rewards->is_array()) return r.Fail("rewards", "not a list");
    for (const nlohmann::json& v : *rewards) {
      if (v.is_number()) {
        g.rewards.push_back(v.get<double>());
      } else if (v.is_null()) {
        g.rewards.push_back(std::nullopt);
      } else {
        return r.Fail("rewards", "not a number or null");
      }
    }
  }
  if (const nlohmann::json* labels = r.Find("labels", false)) {
    if (!labels->is_object()) return r.Fail("labels", "not an object");
    for (const auto& [key, value] : labels->items()) {
      if (value.is_string()) g.labels[key] = value.get<std::string>();
    }
  }
  if (const nlohmann::json* messages = r.Find("messages", false)) {
    if (!messages->is_array()) return r.Fail("messages", "not a list");
    g.messages = *messages;
  }
}

std::string ReadSaturatedGroup(const nlohmann::json& record,
                               const std::string& source,
                               const TailLogReadOptions& options,
                               TailLog& log) {
  FieldReader r(record);
  SaturatedGroupRecord g;
  g.source = source;
  g.time = r.Time("time", &g.time_text);
  g.rubric_set = r.NonEmptyString("rubric_set");
  g.rubric_id = r.String("rubric_id", true);
  g.rubric_version = r.String("rubric_version", false);
  g.set_version = r.String("set_version", false);
  g.prompt = r.String("prompt", false);
  g.group_size = r.Int("group_size", true);
  g.valid = r.Int("valid", false);
  g.max_possible = r.Number("max_possible", false, 1.0);
  g.top_reward = r.Number("top_reward", false, 0);
  g.tied_at_top = r.Int("tied_at_top", false);
  g.zero_variance = r.Bool("zero_variance");
  ReadRewardsAndLabels(r, g);
  ReadTop(r, options, g);
  if (r.ok() && g.prompt.empty() && g.messages.is_null()) {
    r.Fail("prompt", "missing (and no messages)");
  }
  if (!r.ok()) return r.error();
  log.groups.push_back(std::move(g));
  ++log.stats.saturated_groups;
  return "";
}

std::string ReadWindow(const nlohmann::json& record, TailLog& log) {
  FieldReader r(record);
  WindowRecord w;
  w.time = r.Time("time", &w.time_text);
  w.rubric_set = r.NonEmptyString("rubric_set");
  w.set_version = r.String("set_version", false);
  w.seconds = r.Number("seconds", false, 0);
  w.groups = r.Int("groups", true);
  w.zero_variance_groups = r.Int("zero_variance_groups", false);
  w.tied_at_max_groups = r.Int("tied_at_max_groups", true);
  w.responses = r.Int("responses", false);
  w.responses_at_max = r.Int("responses_at_max", false);
  w.reward_histogram = r.Histogram("reward_histogram");
  w.top2_gap_histogram = r.Histogram("top2_gap_histogram");
  w.sampled = r.Int("sampled", false);
  w.dropped_rate_limited = r.Int("dropped_rate_limited", false);
  w.dropped_queue_full = r.Int("dropped_queue_full", false);
  if (r.ok() && w.tied_at_max_groups > w.groups) {
    r.Fail("tied_at_max_groups", "more than groups");
  }
  if (!r.ok()) return r.error();
  log.windows.push_back(std::move(w));
  ++log.stats.windows;
  return "";
}

// The sort key of a file name: (0, stamp, seq, name) for names that follow
// tail-<stamp>-<seq>.jsonl, else (1, "", 0, name).
std::tuple<int, std::string, uint64_t, std::string> FileOrder(
    const std::string& name) {
  absl::string_view rest = name;
  if (absl::ConsumePrefix(&rest, "tail-") &&
      absl::ConsumeSuffix(&rest, ".jsonl")) {
    std::vector<absl::string_view> parts = absl::StrSplit(rest, '-');
    uint64_t seq = 0;
    if (parts.size() == 2 && parts[0].size() == 16 &&
        absl::EndsWith(parts[0], "Z") && absl::SimpleAtoi(parts[1], &seq)) {
      return {0, std::string(parts[0]), seq, name};
    }
  }
  return {1, "", 0, name};
}

}  // namespace

void ParseTailLogLine(absl::string_view line, const std::string& source,
                      TailLog* log, const TailLogReadOptions& options) {
  TailLogStats& stats = log->stats;
  ++stats.lines;
  nlohmann::json record =
      nlohmann::json::parse(line, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (record.is_discarded() || !record.is_object()) {
    ++stats.unparsable;
    NoteProblem(stats, absl::StrCat(source, ": not a JSON object"));
    return;
  }
  const auto schema = record.find("schema");
  const auto kind = record.find("kind");
  const bool known_schema = schema != record.end() && schema->is_string() &&
                            schema->get<std::string>() == kTailLogSchema;
  const std::string kind_text =
      kind != record.end() && kind->is_string() ? kind->get<std::string>() : "";
  std::string error;
  if (known_schema && kind_text == "saturated_group") {
    error = ReadSaturatedGroup(record, source, options, *log);
  } else if (known_schema && kind_text == "window") {
    error = ReadWindow(record, *log);
  } else {
    ++stats.unknown;
    NoteProblem(stats, absl::StrCat(source, ": unknown ",
                                    known_schema ? "kind '" + kind_text + "'"
                                                 : std::string("schema")));
    return;
  }
  if (!error.empty()) {
    ++stats.invalid;
    NoteProblem(stats, absl::StrCat(source, ": ", kind_text, ": ", error));
  }
}

absl::StatusOr<std::vector<std::string>> ListTailLogFiles(
    const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    return absl::NotFoundError(absl::StrCat("--tail_log_dir: cannot list ", dir,
                                            ": ", std::strerror(errno)));
  }
  std::vector<std::string> names;
  while (const dirent* entry = readdir(d)) {
    const std::string name = entry->d_name;
    if (absl::StartsWith(name, "tail-") && absl::EndsWith(name, ".jsonl")) {
      names.push_back(name);
    }
  }
  closedir(d);
  std::sort(names.begin(), names.end(),
            [](const std::string& a, const std::string& b) {
              return FileOrder(a) < FileOrder(b);
            });
  for (std::string& name : names) {
    name = absl::StrCat(absl::StripSuffix(dir, "/"), "/", name);
  }
  return names;
}

absl::StatusOr<TailLog> ReadTailLog(const std::string& dir,
                                    const TailLogReadOptions& options) {
  absl::StatusOr<std::vector<std::string>> files = ListTailLogFiles(dir);
  if (!files.ok()) return files.status();
  TailLog log;
  for (const std::string& path : *files) {
    std::ifstream in(path);
    if (!in) {
      // Rotated away or removed between the listing and now: the rest of
      // the log is still worth reading.
      NoteProblem(log.stats, absl::StrCat(path, ": cannot read"));
      continue;
    }
    ++log.stats.files;
    log.files.push_back(path);
    std::string line;
    for (int64_t n = 1; std::getline(in, line); ++n) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      ParseTailLogLine(line, absl::StrCat(path, ":", n), &log, options);
    }
  }
  return log;
}

absl::StatusOr<std::string> ChooseRubricSet(const TailLog& log,
                                            const std::string& wanted) {
  std::set<std::string> sets;
  for (const SaturatedGroupRecord& g : log.groups) sets.insert(g.rubric_set);
  for (const WindowRecord& w : log.windows) sets.insert(w.rubric_set);
  if (sets.empty()) {
    return absl::NotFoundError(
        absl::StrCat("--tail_log_dir: no usable records (",
                     DescribeTailLogStats(log.stats), ")"));
  }
  const std::string found = absl::StrJoin(sets, ", ");
  if (!wanted.empty()) {
    if (sets.count(wanted) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--rubric_set: '", wanted,
          "' has no records in the tail log (sets found: ", found, ")"));
    }
    return wanted;
  }
  if (sets.size() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--rubric_set: the tail log holds ", sets.size(),
                     " rubric sets (", found, "); choose one"));
  }
  return *sets.begin();
}

std::string DescribeTailLogStats(const TailLogStats& s) {
  return absl::StrCat(
      "read ", s.files, " files, ", s.saturated_groups + s.windows,
      " records (", s.saturated_groups, " saturated groups, ", s.windows,
      " windows); skipped ", s.unparsable, " unparsable lines, ", s.unknown,
      " records of unknown kind or schema, ", s.invalid, " invalid records");
}

}  // namespace rewardd::cli

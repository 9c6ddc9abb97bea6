// The rubric model: criteria, their optional machine checks, rubrics and
// rubric sets. Plain immutable values once built; the store hands them out as
// shared_ptr<const ...> so requests in flight keep the snapshot they started
// with.
//
//   absl::StatusOr<Rubric> r = ...;       // from a loader or an inline request
//   absl::Status s = ValidateRubric(*r);   // names the field that is wrong
//   r->version = RubricVersion(*r);
//
// Thread-safety: the types are values; a const object may be read from any
// number of threads.
#ifndef REWARDD_SERVER_RUBRIC_RUBRIC_H_
#define REWARDD_SERVER_RUBRIC_RUBRIC_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "server/rubric/rubric_version_info.h"

namespace re2 {
class RE2;
}

namespace rewardd {

class RegexPrefilter;  // server/rubric/regex_prefilter.h

// A machine-checkable condition (mirrors reward.v1.Check; see the proto for
// what each kind means).
struct Check {
  enum class Kind {
    kNone = 0,
    kRegex,
    kContains,
    kNotContains,
    kWordCount,
    kCharCount,
    kLineCount,
    kValidJson,
    kStartsWith,
    kEndsWith,
    kNumeric,
  };
  Kind kind = Kind::kNone;
  std::string pattern;              // kRegex
  std::vector<std::string> values;  // contains / starts / ends
  bool match_any = false;           // kContains: any instead of all
  bool case_insensitive = false;
  // Set when validated and the pattern is a whole-word literal,
  // `\bLITERAL\b` (LITERAL of ASCII letters, digits, '_' and spaces,
  // starting and ending with a word byte): the usual shape of a rubric
  // regex, matched as a substring with word boundaries instead of through
  // RE2 (same verdicts, see check_evaluator.cc). A flag, not a copy of the
  // literal: it sits in padding, and rubric sets hold millions of checks.
  bool whole_word = false;
  std::optional<int64_t> min;  // counts
  std::optional<int64_t> max;
  double value = 0;  // kNumeric
  double tolerance = 0;
  // Compiled once when the rubric is validated (kRegex only); shared so that
  // copies of a rubric share it. RE2 is thread-safe for matching.
  std::shared_ptr<const re2::RE2> regex;
  // Literals every match contains (regex_prefilter.h), compiled with
  // `regex`; null when the pattern has none worth testing.
  std::shared_ptr<const RegexPrefilter> prefilter;
};

// RE2's word bytes (\w, and so what \b separates): ASCII letters, digits
// and '_'. Check::whole_word patterns are made of them (and spaces).
inline bool IsRegexWordByte(char c) {
  const char lower = static_cast<char>(c | 0x20);
  return (c >= '0' && c <= '9') || (lower >= 'a' && lower <= 'z') || c == '_';
}

// Stable names used in JSON files and messages: "regex", "contains", ...
absl::string_view CheckKindName(Check::Kind kind);
// Returns false when `name` is not a check kind.
bool ParseCheckKind(absl::string_view name, Check::Kind* kind);

struct Criterion {
  std::string id;
  std::string text;
  double weight = 1;
  std::vector<std::string> tags;
  // Null: no check (the judge reads the text). Held out of line because
  // most criteria have none and a Check is ~140 bytes: rubric sets of
  // millions of criteria stay compact.
  std::shared_ptr<const Check> check;
};

struct Rubric {
  std::string id;
  std::string prompt;  // canonical prompt text; may be empty
  std::vector<Criterion> criteria;
  std::string version;  // RubricVersion(*this), set by whoever builds it
  // The versions this rubric went through, oldest first, when its file
  // records them (sets written by reward-cli refine); null otherwise.
  // Metadata only: not part of RubricVersion(), never used for grading.
  // Out of line: most rubrics have none.
  std::shared_ptr<const std::vector<RubricVersionInfo>> lineage;
};

// Checks what every grader relies on: at least one criterion, non-empty
// unique criterion ids, non-empty text, finite weights, at least one
// positive weight, well-formed checks (regexes compile; compiles them into
// Check::regex). The message names the criterion and the field.
absl::Status ValidateRubric(Rubric& rubric);

// Content hash of what decides grading (id, criteria text, weights, checks):
// 16 lowercase hex digits of SHA-256.
std::string RubricVersion(const Rubric& rubric);

// "p-" + 16 hex digits of SHA-256 of the prompt: the id of records without
// one. Stable across runs and machines.
std::string PromptDerivedId(absl::string_view prompt);

// 16 hex digits of SHA-256 of `data`.
std::string ShortHash(absl::string_view data);

struct ChatMessage {
  std::string role;
  std::string content;
};

// The canonical text of a chat prompt: the content of a single user message,
// or each message as "<role>: <content>" joined by blank lines. Loaders and
// requests use the same function, so prompt look-ups match.
std::string CanonicalPrompt(const std::vector<ChatMessage>& messages);

// A named, versioned collection of rubrics: one file of --rubric_dir.
struct RubricSet {
  std::string name;
  std::string format;       // "rewardd", "paper_dataset", "healthbench", ...
  std::string source_path;  // file it was read from ("" for generated sets)
  std::string version;      // hash over the rubric versions
  int64_t loaded_at_unix = 0;
  // From the file's "provenance" (sets written by reward-cli): the set the
  // rubrics were derived from, its version, and the tool that wrote it.
  std::string derived_from;
  std::string derived_from_version;
  std::string produced_by;
  std::vector<std::shared_ptr<const Rubric>> rubrics;
  absl::flat_hash_map<std::string, size_t> by_id;      // id -> index
  absl::flat_hash_map<std::string, size_t> by_prompt;  // prompt -> index
  // Records the loader skipped without failing the file (e.g. a BiGGen-Bench
  // record with an empty checklist), one message each naming the record; at
  // most 100 (the last then says how many more there were); skipped_records
  // counts all of them.
  std::vector<std::string> warnings;
  int64_t skipped_records = 0;

  size_t criterion_count() const;
  // nullptr when absent.
  const std::shared_ptr<const Rubric>* FindById(absl::string_view id) const;
  const std::shared_ptr<const Rubric>* FindByPrompt(
      absl::string_view prompt) const;
};

// Builds the indexes and the set version from `rubrics`. Fails on duplicate
// rubric ids (naming both records). A prompt shared by several rubrics maps
// to the first one.
absl::Status FinalizeRubricSet(RubricSet& set);

}  // namespace rewardd

#endif  // REWARDD_SERVER_RUBRIC_RUBRIC_H_

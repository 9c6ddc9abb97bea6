// RequestSource: the requests the load generator sends, either read from a
// JSONL file (reward.v1.GradeRequest or GradeGroupRequest in proto JSON, one
// a line) or synthesized from a few knobs: rubric size, response size, group
// size, inline rubrics (with exact checks or free text) or a rubric set
// reference, and how much of the work repeats (for cache and dedup
// scenarios).
//
//   SynthOptions o;
//   o.criteria = 20;
//   o.response_bytes = 1500;
//   o.rubric = SynthOptions::RubricKind::kInlineChecks;
//   absl::StatusOr<std::unique_ptr<RequestSource>> src =
//       RequestSource::Synthesize(o);
//   reward::v1::GradeRequest r = (*src)->Unary(17);   // the 18th request
//   reward::v1::GradeGroupRequest g = (*src)->Group(17);
//
// Request i is a pure function of i (and the options), so two runs against
// two servers send exactly the same work.
//
// Thread-safety: after construction every method is const and may be called
// from any number of threads.
#ifndef REWARDD_BENCH_REQUEST_SOURCE_H_
#define REWARDD_BENCH_REQUEST_SOURCE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "reward/v1/reward.pb.h"

namespace rewardd::bench {

struct SynthOptions {
  enum class RubricKind {
    // Inline rubric whose criteria all carry exact checks (contains, regex,
    // word count, ...): the embedded judge decides them without heuristics.
    kInlineChecks,
    // Inline rubric of free-text criteria that quote terms ('The response
    // mentions "term17"'): what an LLM judge (or judge-sim) reads.
    kInlineText,
    // A reference to a loaded set: rubric_set plus rubric ids
    // "<rubric_id_prefix><k>" for k in [0, rubric_count), chosen by a fixed
    // pseudo-random sequence (or rubric_id when rubric_count is 0).
    kReference,
    // The kInlineChecks rubric of each prompt, but by reference: rubric_set
    // plus rubric id "bench-<prompt>", from a set written by
    // RubricSetJsonl(). Same grading work as kInlineChecks without sending
    // (and parsing) the rubric in every request.
    kChecksByReference,
  };
  RubricKind rubric = RubricKind::kInlineChecks;
  int criteria = 20;
  int prompt_bytes = 300;
  int response_bytes = 1500;
  // Responses per GradeGroup (and per "prompt" in unary/stream mode: request
  // i grades response i % group_size of prompt i / group_size, so the three
  // API shapes grade the same work).
  int group_size = 16;
  // Distinct responses within a group; the others repeat them (duplicates a
  // dedup layer can share). 0 = all distinct.
  int distinct_per_group = 0;
  // Distinct prompts (rubrics): prompt k = (i / group_size) % distinct_prompts.
  // When the run sends more prompts than this, whole requests repeat (what a
  // verdict cache can answer). 0 = never repeat: every prompt is new.
  int64_t distinct_prompts = 0;

  std::string rubric_set;
  std::string rubric_id;
  std::string rubric_id_prefix = "r";
  int64_t rubric_count = 0;

  // GradeOptions.
  std::string judge;
  reward::v1::GradingMode grading_mode = reward::v1::GRADING_MODE_UNSPECIFIED;
  uint32_t chunk_size = 0;
  bool skip_cache = false;
  uint64_t seed = 1;
};

class RequestSource {
 public:
  static absl::StatusOr<std::unique_ptr<RequestSource>> Synthesize(
      const SynthOptions& options);
  // Reads `path`: GradeRequest lines when `group` is false, else
  // GradeGroupRequest lines. Request i is line i % lines.
  static absl::StatusOr<std::unique_ptr<RequestSource>> FromJsonl(
      const std::string& path, bool group);

  // The i-th request of the unary / stream shape. request_id is "u<i>".
  reward::v1::GradeRequest Unary(int64_t i) const;
  // The i-th group: responses of prompt i. request_id is "g<i>".
  reward::v1::GradeGroupRequest Group(int64_t i) const;
  // Responses graded per Group() call (1 for file-based unary sources).
  int items_per_group() const { return group_size_; }
  // The kInlineChecks rubric of `prompt` as one line of a rewardd-format
  // rubric set (docs/rubric-formats.md), id "bench-<prompt>".
  std::string RubricSetJsonl(int64_t prompt) const;
  // Writes requests [0, count) as proto JSON lines to `path` (GradeRequest
  // lines, or GradeGroupRequest lines when `group`), the form FromJsonl()
  // and other clients (bench/python_client_bench.py) read: the same work
  // for a load generator in another language.
  absl::Status WriteJsonl(const std::string& path, bool group,
                          int64_t count) const;

  // How many Unary() (or Group()) requests there are before they repeat;
  // 0 = they never repeat. Callers may prebuild that many and reuse them.
  int64_t unary_period() const;
  int64_t group_period() const;

 private:
  RequestSource() = default;

  // Synthesized: one prebuilt base per distinct prompt slot is too much
  // memory for "never repeat", so requests are built on demand from these.
  reward::v1::GradeRequest BuildUnary(int64_t prompt, int member) const;
  std::string Response(int64_t prompt, int member) const;
  void FillRubric(int64_t prompt, reward::v1::GradeRequest* r) const;

  SynthOptions options_;
  bool synthesized_ = false;
  int group_size_ = 1;
  std::vector<std::string> vocabulary_;
  // File-based.
  std::vector<reward::v1::GradeRequest> unary_;
  std::vector<reward::v1::GradeGroupRequest> groups_;
};

// Exposed for tests: the terms a synthesized criterion k of prompt p quotes,
// and whether response `member` of prompt p contains it.
std::string SynthTerm(int64_t prompt, int criterion);

}  // namespace rewardd::bench

#endif  // REWARDD_BENCH_REQUEST_SOURCE_H_

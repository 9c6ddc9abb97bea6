// The asynchronous judge interface: what decides, per criterion, whether a
// response meets it. The grading engine expands a request into JudgeWork
// items (one response against some criteria of one rubric) and hands them to
// a Judge; the judge answers each item exactly once through a callback, on
// any thread, possibly before Grade() returns. Nothing here blocks a gRPC
// reaction: a judge that does I/O (the HTTP judge) queues the work and
// returns at once.
//
//   JudgeWork work{input, {0, 1, 2}};
//   judge->Grade(std::move(work), [](absl::StatusOr<JudgeResult> r) {
//     if (!r.ok()) { /* refused: queue full, shutting down */ }
//     for (const Verdict& v : r->verdicts) { ... }  // parallel to criteria
//   });
//
// Implementations: embedded/ (exact checks plus a lexical heuristic; no LLM)
// and pool/ (JudgePool: OpenAI-compatible endpoints over http/).
#ifndef REWARDD_SERVER_JUDGE_JUDGE_H_
#define REWARDD_SERVER_JUDGE_JUDGE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/rubric/rubric.h"

namespace rewardd {

// How an LLM judge is called (mirrors reward.v1.GradingMode).
enum class GradingMode {
  kDefault = 0,   // the judge's configured default
  kAllInOne,      // one call grades all criteria of a response
  kPerCriterion,  // one call per criterion
  kChunked,       // chunk_size criteria per call
};

// Per-criterion outcome status (mirrors reward.v1.CriterionResult.Status).
enum class CriterionStatus {
  kOk = 0,      // a verdict
  kJudgeError,  // the call failed
  kParseError,  // the judge answered, no verdict could be parsed
  kMissing,     // the judge answered but left this criterion out
  kTimeout,     // the deadline passed first
  kSkipped,     // not graded (cancelled)
};

absl::string_view CriterionStatusName(CriterionStatus status);

// A cancellation flag shared between an RPC and its judge work. Set once;
// judges check it before starting work and may abandon work in flight.
class Cancellation {
 public:
  void Cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> cancelled_{false};
};

// Everything about one response to grade. Immutable once built; shared by
// all JudgeWork items of the response, so judges may keep string_views into
// it for as long as they hold the shared_ptr.
struct GradeInput {
  std::shared_ptr<const Rubric> rubric;
  std::string rubric_set;             // "" for inline rubrics
  std::string prompt;                 // canonical prompt text (may be empty)
  std::vector<ChatMessage> messages;  // the chat form, when given
  std::string response;

  GradingMode mode = GradingMode::kDefault;
  uint32_t chunk_size = 0;  // kChunked; 0 = the judge's default
  bool include_explanations = false;
  bool skip_cache = false;
  // Samples per grading (majority/mean vote); 0 = the judge's configured
  // `votes`. Judges without sampling (the embedded one) ignore it.
  uint32_t votes = 0;

  absl::Time received = absl::InfinitePast();
  absl::Time deadline = absl::InfiniteFuture();
  std::shared_ptr<const Cancellation> cancellation;  // may be null
};

// One unit of judge work: the response in `input` against the criteria at
// `criteria` (indices into input->rubric->criteria). In per_criterion mode
// a piece has exactly one criterion (Grader::Expand splits the work so).
struct JudgeWork {
  std::shared_ptr<const GradeInput> input;
  std::vector<uint32_t> criteria;
};

struct Verdict {
  CriterionStatus status = CriterionStatus::kSkipped;
  bool met = false;                   // meaningful when status == kOk
  std::optional<double> probability;  // P(met), when the judge has one
  std::string explanation;
  bool cached = false;
  // With votes: the share of valid samples that agree with `met`.
  std::optional<double> agreement;
};

struct JudgeResult {
  std::vector<Verdict> verdicts;  // parallel to JudgeWork::criteria
  // When one call drew several samples (a vote through the API's `n`): the
  // verdicts of samples 2, 3, ..., each parallel to `verdicts`. Empty
  // otherwise.
  std::vector<std::vector<Verdict>> more_samples;
  absl::Duration queue_time = absl::ZeroDuration();
  absl::Duration judge_time = absl::ZeroDuration();
};

// Called exactly once per Grade() call. A non-OK status means the work was
// refused as a whole and no judge saw it: RESOURCE_EXHAUSTED (queue full),
// UNAVAILABLE (shutting down), DEADLINE_EXCEEDED (could not start in time),
// INVALID_ARGUMENT (more votes than the judge allows, or a per_criterion
// piece of work with other than one criterion).
// Failures of judge calls themselves come back as OK results whose verdicts
// carry kJudgeError / kTimeout / kParseError, so they are reported per
// criterion.
using JudgeCallback = absl::AnyInvocable<void(absl::StatusOr<JudgeResult>) &&>;

// Thread-safety: implementations are safe to call from any thread.
class Judge {
 public:
  virtual ~Judge() = default;

  // The name requests use in GradeOptions.judge.
  virtual const std::string& name() const = 0;

  // The mode used for GradingMode::kDefault.
  virtual GradingMode default_mode() const { return GradingMode::kAllInOne; }

  // Starts grading `work` and calls `done` exactly once.
  virtual void Grade(JudgeWork work, JudgeCallback done) = 0;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_JUDGE_JUDGE_H_

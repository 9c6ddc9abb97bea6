// A LEXICAL HEURISTIC for criteria that have no machine check. It exists so
// that rewardd runs offline (demo, tests, CI, load tests) without an LLM. It
// is NOT a substitute for an LLM judge: it measures word overlap between the
// criterion text and the response and knows nothing about meaning, negation
// or correctness. "Does not recommend aspirin" and "Recommends aspirin" look
// the same to it. Use an LLM judge (judge/http) for any reward you train on.
//
//   CriterionProfile p = BuildCriterionProfile(criterion.text);  // once
//   ResponseIndex index(response);                      // once per response
//   HeuristicResult r = EvaluateHeuristic(p, index, HeuristicOptions{});
//   // r.met, r.coverage (also used as the verdict's probability)
//
// The rule (see docs/embedded-judge.md for examples):
//  * Required phrases: text in "...", “...”, ‘...’, «...» or '...' quotes in
//    the criterion, trimmed of surrounding punctuation, of 1 to 8 words, and
//    not a bare role label ("User", "Assistant", "model", ...). Each must
//    occur in the response, case-insensitively.
//  * Keys: numbers (read as values, so "1,000" matches "1000"), words of >= 4
//    letters, and 2-3 letter all-capital acronyms ("TSH", "BMI"); lowercased,
//    crudely suffix-stemmed ("recommends", "recommended", "recommendation"
//    -> "recommend"), minus English stopwords and rubric boilerplate
//    ("response", "mentions", "states", "should", "includes", "clearly",
//    "provides", ...). Duplicates count once.
//  * coverage = (phrases found + keys found) / (phrases + keys).
//    met iff every phrase is found AND coverage >= threshold (default 0.5).
//    A criterion with neither phrases nor keys is never met (coverage 0).
//  * Negative-weight criteria are decided the same way: met means the
//    described (bad) behaviour appears to be present.
//
// Deterministic: no randomness, no locale, results depend only on the two
// texts and the threshold. Lowercasing covers ASCII, Latin-1, Greek and
// Cyrillic; stemming is English-only; other scripts are compared as written.
//
// Thread-safety: CriterionProfile and ResponseIndex are immutable values
// after construction; const access from any number of threads is safe.
#ifndef REWARDD_SERVER_JUDGE_EMBEDDED_LEXICAL_HEURISTIC_H_
#define REWARDD_SERVER_JUDGE_EMBEDDED_LEXICAL_HEURISTIC_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"

namespace rewardd {

struct HeuristicOptions {
  // Minimum coverage for "met", in [0, 1].
  double threshold = 0.5;
};

// What the heuristic looks for, extracted from one criterion text.
struct CriterionProfile {
  std::vector<std::string> phrases;  // lowercased required phrases
  std::vector<std::string> keys;     // unique stems and canonical numbers
};

CriterionProfile BuildCriterionProfile(absl::string_view criterion_text);

// A response prepared for matching against many criteria: its lowercased
// text (for phrases) and the set of its stems and numbers (for keys). Every
// word of >= 2 letters is indexed, so acronyms in criteria can match.
class ResponseIndex {
 public:
  explicit ResponseIndex(absl::string_view response);

  bool HasKey(absl::string_view key) const { return keys_.contains(key); }
  // `lowered_phrase` must be lowercased as BuildCriterionProfile does.
  bool HasPhrase(absl::string_view lowered_phrase) const;

  size_t key_count() const { return keys_.size(); }

 private:
  std::string lowered_;
  absl::flat_hash_set<std::string> keys_;
};

struct HeuristicResult {
  bool met = false;
  double coverage = 0;  // in [0, 1]
  // "heuristic: 3/4 key terms (75% >= 50%); missing: therapi". Empty unless
  // requested.
  std::string explanation;
};

HeuristicResult EvaluateHeuristic(const CriterionProfile& profile,
                                  const ResponseIndex& response,
                                  const HeuristicOptions& options,
                                  bool explain = false);

// Convenience for one-off use and tests: builds both sides and evaluates.
HeuristicResult EvaluateHeuristic(absl::string_view criterion_text,
                                  absl::string_view response,
                                  const HeuristicOptions& options = {},
                                  bool explain = false);

// The normalisation used for keys, exposed for tests: lowercases `word` (as
// above) and strips common English suffixes.
std::string StemForTest(absl::string_view word);

}  // namespace rewardd

#endif  // REWARDD_SERVER_JUDGE_EMBEDDED_LEXICAL_HEURISTIC_H_

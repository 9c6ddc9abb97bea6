// A cheap necessary condition for a regex check: the literal strings any
// match must contain, tested with memmem on the lowercased response before
// RE2 runs at all.
//
// RE2 matches in linear time, but a pattern such as `\bpenicillin\b` (the
// usual shape of a rubric regex) gives it no literal prefix to scan for, so
// every response that does not match is read byte by byte through the DFA.
// RE2's FilteredRE2 derives the atoms (lowercase literals) and the AND/OR
// tree over them that a match implies; a response lacking them cannot match.
//
//   std::unique_ptr<RegexPrefilter> p = RegexPrefilter::Create(pattern, opts);
//   if (p != nullptr && p->Excludes(lowered_response)) { /* no match */ }
//
// Fidelity: the prefilter may only ever say "cannot match" when RE2 would
// not match. FilteredRE2 expects text lowercased with Unicode case folding;
// rewardd lowercases ASCII only, so callers must not use Excludes() on text
// with non-ASCII bytes (a Kelvin sign matches (?i)k), and Create() refuses
// patterns whose atoms are not ASCII.
//
// Thread-safety: immutable after Create(); Excludes() is safe from any
// thread.
#ifndef REWARDD_SERVER_RUBRIC_REGEX_PREFILTER_H_
#define REWARDD_SERVER_RUBRIC_REGEX_PREFILTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace re2 {
class FilteredRE2;
}

namespace rewardd {

class RegexPrefilter {
 public:
  // nullptr when the pattern yields no usable literal (e.g. `\d+`), when an
  // atom is not ASCII, or when the pattern does not compile.
  // `case_sensitive` as in the check.
  static std::unique_ptr<RegexPrefilter> Create(const std::string& pattern,
                                                bool case_sensitive);
  ~RegexPrefilter();

  // True when no match is possible in the text whose ASCII-lowercased form
  // is `lowered` (which must be all ASCII, see above).
  bool Excludes(absl::string_view lowered) const;

  const std::vector<std::string>& atoms() const { return atoms_; }

 private:
  RegexPrefilter(std::unique_ptr<re2::FilteredRE2> filter,
                 std::vector<std::string> atoms);

  std::unique_ptr<re2::FilteredRE2> filter_;
  std::vector<std::string> atoms_;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_RUBRIC_REGEX_PREFILTER_H_

#include "server/rubric/regex_prefilter.h"

#include <utility>

#include "absl/strings/match.h"
#include "re2/filtered_re2.h"
#include "re2/re2.h"
#include "server/util/substring_search.h"

namespace rewardd {

// Atoms shorter than this are not worth a memmem (and would rarely exclude
// anything): such patterns get no prefilter.
constexpr int kMinAtomLength = 3;

std::unique_ptr<RegexPrefilter> RegexPrefilter::Create(
    const std::string& pattern, bool case_sensitive) {
  auto filter = std::make_unique<re2::FilteredRE2>(kMinAtomLength);
  RE2::Options options;
  options.set_log_errors(false);
  options.set_case_sensitive(case_sensitive);
  int id = 0;
  if (filter->Add(pattern, options, &id) != RE2::NoError) return nullptr;
  std::vector<std::string> atoms;
  filter->Compile(&atoms);
  if (atoms.empty()) return nullptr;  // unfiltered: every text passes
  for (const std::string& atom : atoms) {
    for (char c : atom) {
      if (static_cast<unsigned char>(c) >= 0x80) return nullptr;
    }
  }
  // The filter must exclude something with no atom present, or it is a
  // pattern FilteredRE2 passes unconditionally.
  std::vector<int> potentials;
  filter->AllPotentials({}, &potentials);
  if (!potentials.empty()) return nullptr;
  return std::unique_ptr<RegexPrefilter>(
      new RegexPrefilter(std::move(filter), std::move(atoms)));
}

RegexPrefilter::RegexPrefilter(std::unique_ptr<re2::FilteredRE2> filter,
                               std::vector<std::string> atoms)
    : filter_(std::move(filter)), atoms_(std::move(atoms)) {}

RegexPrefilter::~RegexPrefilter() = default;

bool RegexPrefilter::Excludes(absl::string_view lowered) const {
  std::vector<int> matched;
  matched.reserve(atoms_.size());
  for (size_t i = 0; i < atoms_.size(); ++i) {
    if (ContainsSubstring(lowered, atoms_[i])) {
      matched.push_back(static_cast<int>(i));
    }
  }
  // One atom, present: the common `\bterm\b` case needs no tree walk.
  if (atoms_.size() == 1 && !matched.empty()) return false;
  std::vector<int> potentials;
  filter_->AllPotentials(matched, &potentials);
  return potentials.empty();
}

}  // namespace rewardd

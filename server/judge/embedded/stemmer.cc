#include "server/judge/embedded/stemmer.h"

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"

namespace rewardd {
namespace {

bool IsAsciiLower(const std::string& s) {
  for (char c : s) {
    if (c < 'a' || c > 'z') return false;
  }
  return true;
}

}  // namespace

void StemInPlace(std::string& w) {
  if (!IsAsciiLower(w)) return;  // English rules only
  constexpr size_t kMinStem = 3;
  struct Rule {
    absl::string_view suffix;
    absl::string_view replacement;
    bool undouble;  // "stopping" -> "stopp" -> "stop"
  };
  static constexpr Rule kRules[] = {
      {"ization", "ize", false}, {"ations", "", false}, {"ation", "", false},
      {"ments", "", false},      {"ment", "", false},   {"ness", "", false},
      {"ings", "", true},        {"ing", "", true},     {"edly", "", true},
      {"ies", "y", false},       {"ied", "y", false},   {"ed", "", true},
      {"ly", "", false},
  };
  bool stripped = false;
  for (const Rule& r : kRules) {
    if (w.size() < r.suffix.size() + kMinStem || !absl::EndsWith(w, r.suffix)) {
      continue;
    }
    const char before = w[w.size() - r.suffix.size() - 1];
    if (r.suffix == "ed" && before == 'e') continue;  // "need", "bleed"
    if (r.suffix == "ly" && (before == 'i' || before == 'p')) continue;
    w.resize(w.size() - r.suffix.size());
    w.append(r.replacement.data(), r.replacement.size());
    if (r.undouble && w.size() >= 2 && w[w.size() - 1] == w[w.size() - 2] &&
        !absl::StrContains("aeioulsz", w.back())) {
      w.pop_back();
    }
    stripped = true;
    break;
  }
  if (!stripped && w.size() > kMinStem && w.back() == 's') {
    const absl::string_view head(w.data(), w.size() - 1);
    const bool sibilant_es =
        head.size() - 1 >= kMinStem &&
        (absl::EndsWith(head, "se") || absl::EndsWith(head, "xe") ||
         absl::EndsWith(head, "ze") || absl::EndsWith(head, "che") ||
         absl::EndsWith(head, "she"));
    if (sibilant_es) {
      w.resize(w.size() - 2);  // "glasses" -> "glass", "doses" -> "dos"
    } else if (!absl::EndsWith(w, "ss") && !absl::EndsWith(w, "us") &&
               !absl::EndsWith(w, "is")) {
      w.pop_back();  // "symptoms" -> "symptom"
    }
  }
  // A final silent 'e' goes so "provide" meets "provid(es|ed|ing)".
  if (w.size() >= 4 && w.back() == 'e' && w[w.size() - 2] != 'e') w.pop_back();
}

}  // namespace rewardd

// Micro-benchmark: the embedded judge's substring search (FindSubstring)
// against absl::StrContains, which it replaced, on English text. Prints ns
// per search for both and their ratio, measured side by side in one run.
//
//   ninja -C build-perf substring-search-bench
//   build-perf/bench/substring-search-bench
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "server/util/substring_search.h"

namespace {

// A clinical answer of the kind HealthBench grades, repeated to 1.5 KB.
constexpr char kParagraph[] =
    "The combination of periorbital swelling, proptosis, painful eye "
    "movements and a cranial nerve palsy after a facial infection makes "
    "cavernous sinus thrombosis the most likely diagnosis. Obtain a contrast "
    "enhanced MRI with venography urgently, draw blood cultures, and start "
    "broad spectrum intravenous antibiotics that cover Staphylococcus aureus "
    "without waiting for imaging. Consider anticoagulation after discussion "
    "with neurology and ophthalmology. ";

template <typename Fn>
double NanosPerSearch(const std::string& text,
                      const std::vector<std::string>& needles, Fn contains,
                      int* sink) {
  constexpr int kRounds = 20000;
  const auto start = std::chrono::steady_clock::now();
  for (int r = 0; r < kRounds; ++r) {
    for (const std::string& n : needles) *sink += contains(text, n) ? 1 : 0;
  }
  const std::chrono::duration<double, std::nano> took =
      std::chrono::steady_clock::now() - start;
  return took.count() / (kRounds * needles.size());
}

}  // namespace

int main() {
  std::string text;
  while (text.size() < 1500) text += kParagraph;
  // Present and absent needles, as rubric `contains` values are.
  const std::vector<std::string> needles = {"cavernous sinus thrombosis",
                                            "antibiotics",
                                            "lumbar puncture",
                                            "anticoagulation",
                                            "steroids",
                                            "orbital cellulitis",
                                            "MRI",
                                            "not an emergency"};
  int sink = 0;
  double absl_ns = 0, ours_ns = 0;
  for (int trial = 0; trial < 3; ++trial) {  // interleaved: same noise
    absl_ns += NanosPerSearch(
        text, needles,
        [](const std::string& t, const std::string& n) {
          return absl::StrContains(t, n);
        },
        &sink);
    ours_ns += NanosPerSearch(
        text, needles,
        [](const std::string& t, const std::string& n) {
          return rewardd::ContainsSubstring(t, n);
        },
        &sink);
  }
  std::printf(
      "substring search over %zu bytes, %zu needles: absl::StrContains "
      "%.1f ns, FindSubstring %.1f ns per search; ratio %.2fx (checksum "
      "%d)\n",
      text.size(), needles.size(), absl_ns / 3, ours_ns / 3, absl_ns / ours_ns,
      sink);
  return 0;
}

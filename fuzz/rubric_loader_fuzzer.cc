// Fuzz target: the rubric set loaders (server/rubric/rubric_loader.h). Rubric
// files come from operators but are often converted from public datasets, and
// a hot reload must never take the server down: every input must either load
// into a set that satisfies what graders rely on, or fail with a message.
// Each input is parsed with format detection (kAuto) and with every explicit
// format, so one corpus covers all record parsers.
//
//   fuzz/corpus/rubric_loader/   seeds: examples/rubrics, ../shared/data
//   scripts/fuzz.sh 60 rubric_loader
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "fuzz/fuzz_check.h"
#include "server/rubric/rubric.h"
#include "server/rubric/rubric_loader.h"

namespace rewardd {
namespace {

constexpr RubricFormat kAllFormats[] = {
    RubricFormat::kAuto,          RubricFormat::kRewardd,
    RubricFormat::kPaperDataset,  RubricFormat::kPaperCode,
    RubricFormat::kHealthBench,   RubricFormat::kBigGenBench,
    RubricFormat::kPaperAppendix,
};

// What a loaded set promises (rubric_loader.h, rubric.h).
void CheckSet(const RubricSet& set, const LoadLimits& limits) {
  FUZZ_CHECK(set.name == "fuzz");
  FUZZ_CHECK(!set.version.empty());
  FUZZ_CHECK(set.rubrics.size() <= limits.max_rubrics_per_set);
  FUZZ_CHECK(set.by_id.size() == set.rubrics.size());
  FUZZ_CHECK(set.warnings.size() <= 100);
  FUZZ_CHECK(set.skipped_records >= static_cast<int64_t>(set.warnings.size()));
  for (size_t i = 0; i < set.rubrics.size(); ++i) {
    const Rubric& rubric = *set.rubrics[i];
    FUZZ_CHECK(!rubric.criteria.empty());
    FUZZ_CHECK(rubric.criteria.size() <= limits.max_criteria_per_rubric);
    FUZZ_CHECK(rubric.version == RubricVersion(rubric));
    const std::shared_ptr<const Rubric>* found = set.FindById(rubric.id);
    FUZZ_CHECK(found != nullptr && found->get() == &rubric);
    // A loaded rubric must pass validation again (graders assume it did).
    Rubric copy = rubric;
    FUZZ_CHECK(ValidateRubric(copy).ok());
  }
}

}  // namespace
}  // namespace rewardd

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace rewardd;  // NOLINT: a fuzz entry point outside the namespace
  const absl::string_view content(reinterpret_cast<const char*>(data), size);
  const LoadLimits limits;
  for (RubricFormat format : kAllFormats) {
    absl::StatusOr<RubricSet> set =
        ParseRubricSet("fuzz", content, format, "fuzz.jsonl", limits);
    if (set.ok()) {
      CheckSet(*set, limits);
    } else {
      FUZZ_CHECK(!set.status().message().empty());
    }
  }
  // The file-name splitter sees names from directory listings.
  std::string set_name;
  RubricFormat format;
  if (SplitRubricFileName(content.substr(0, 256), &set_name, &format).ok()) {
    FUZZ_CHECK(!set_name.empty());
  }
  return 0;
}

// Fuzz target: the rubric proposal parser and validator
// (server/elicitation/proposal_parser.h, proposal_validator.h). Their input
// is whatever a proposer LLM wrote after reading candidate responses, which
// can steer it into writing nearly anything. Every input is parsed as is and
// as cut off (finish_reason "length"); what parses is validated against a
// previous rubric with the default limits and with pitfalls allowed, and the
// rubric that comes out must be one rewardd can grade with.
//
//   fuzz/corpus/proposal_parser/   seeds: proposer answers in the shapes
//                                  models write them
//   scripts/fuzz.sh 60 proposal_parser
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "fuzz/fuzz_check.h"
#include "server/elicitation/proposal_parser.h"
#include "server/elicitation/proposal_validator.h"

namespace rewardd {
namespace {

Rubric Previous() {
  Rubric r;
  r.id = "r";
  r.prompt = "p";
  for (const char* id : {"c1", "c2", "c7"}) {
    Criterion c;
    c.id = id;
    c.text = std::string("Mentions ") + id;
    c.weight = 2;
    r.criteria.push_back(c);
  }
  return r;
}

void CheckValidated(const ValidatedProposal& v, const ValidationOptions& o,
                    const CriterionIdAllocator& ids) {
  const Rubric& r = v.rubric;
  FUZZ_CHECK(!r.criteria.empty());
  FUZZ_CHECK(r.criteria.size() <= o.limits.max_criteria);
  FUZZ_CHECK(r.version == RubricVersion(r));
  absl::flat_hash_set<std::string> seen;
  bool positive = false;
  for (const Criterion& c : r.criteria) {
    FUZZ_CHECK(seen.insert(c.id).second);  // ids unique
    FUZZ_CHECK(ids.Used(c.id));            // and known to the lineage
    FUZZ_CHECK(!c.text.empty());
    const double w = std::fabs(c.weight);
    FUZZ_CHECK(w >= o.limits.min_weight && w <= o.limits.max_weight);
    FUZZ_CHECK(c.weight > 0 || o.limits.allow_pitfalls);
    positive = positive || c.weight > 0;
  }
  FUZZ_CHECK(positive);
}

}  // namespace
}  // namespace rewardd

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace rewardd;  // NOLINT: a fuzz entry point outside the namespace
  const absl::string_view content(reinterpret_cast<const char*>(data), size);
  const Rubric previous = Previous();
  for (bool truncated : {false, true}) {
    const ProposalParse parse = ParseProposal(content, truncated);
    if (!parse.found) {
      FUZZ_CHECK(!parse.error.empty());
      continue;
    }
    FUZZ_CHECK(!parse.criteria.empty());
    for (bool pitfalls : {false, true}) {
      ValidationOptions o;
      o.limits.max_criteria = 8;
      o.limits.allow_pitfalls = pitfalls;
      CriterionIdAllocator ids;
      ids.Reserve(previous);
      absl::StatusOr<ValidatedProposal> v =
          ValidateProposal(parse.criteria, &previous, o, ids);
      if (v.ok()) CheckValidated(*v, o, ids);
    }
  }
  return 0;
}

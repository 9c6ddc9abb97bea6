// OpenAI HealthBench records (docs/rubric-formats.md):
//
//   {"prompt_id": "...", "prompt": [{"role", "content"}, ...],
//    "rubrics": [{"criterion": "...", "points": -10..10, "tags": [...]}]}
//
// id = prompt_id, prompt = CanonicalPrompt(messages), weight = points
// (negative points: undesirable behaviour), criteria numbered c1..cN.
#include "server/rubric/formats/record_parser.h"

namespace rewardd {
namespace rubric_formats {

absl::Status ParseHealthBenchRecord(const Json& record, RecordContext& ctx,
                                    std::vector<Rubric>& out) {
  Rubric rubric;
  REWARDD_ASSIGN_OR_RETURN(rubric.prompt,
                          PromptField(record, "prompt", false, ctx));
  REWARDD_ASSIGN_OR_RETURN(
      rubric.id, RubricIdField(record, "prompt_id", rubric.prompt, ctx));
  REWARDD_ASSIGN_OR_RETURN(const Json* list,
                          RequiredArray(record, "rubrics", ctx, ""));
  // Points are what HealthBench scores with, so a criterion without them is
  // a broken record rather than a weight-1 criterion.
  REWARDD_RETURN_IF_ERROR(ParseCriterionList(*list, "criterion", "points",
                                            /*weight_required=*/true,
                                            /*id_key=*/nullptr, ctx,
                                            rubric.criteria));
  out.push_back(std::move(rubric));
  return absl::OkStatus();
}

}  // namespace rubric_formats
}  // namespace rewardd

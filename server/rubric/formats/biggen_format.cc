// BiGGen-Bench records (prometheus-eval; docs/rubric-formats.md):
//
//   {"id": "...", "system_prompt": "...", "input": "...",
//    "atomic_checklist": ["Does the response ...?", ...]}
//
// Each checklist item is a weight-1 criterion (c1..cN). The rubric's prompt is
// `input` alone: requests find the rubric by the user's question, and the
// system prompt is a property of the policy's chat template, not of the
// task. Records with an empty checklist cannot be graded; they are skipped
// with a warning instead of failing the file (the published data has some).
#include "server/rubric/formats/record_parser.h"

namespace rewardd {
namespace rubric_formats {

absl::Status ParseBigGenRecord(const Json& record, RecordContext& ctx,
                               std::vector<Rubric>& out) {
  if (!record.contains("atomic_checklist")) {
    return ctx.Error("missing field \"atomic_checklist\"");
  }
  Rubric rubric;
  REWARDD_ASSIGN_OR_RETURN(rubric.prompt,
                          PromptField(record, "input", false, ctx));
  REWARDD_ASSIGN_OR_RETURN(rubric.id,
                          RubricIdField(record, "id", rubric.prompt, ctx));
  REWARDD_ASSIGN_OR_RETURN(std::vector<std::string> items,
                          StringArray(record, "atomic_checklist", ctx, ""));
  if (items.empty()) {
    ctx.Warn("atomic_checklist is empty; record skipped");
    return absl::OkStatus();
  }
  rubric.criteria.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    Criterion c;
    c.id = DefaultCriterionId(i);
    c.text = std::move(items[i]);
    c.weight = 1;
    rubric.criteria.push_back(std::move(c));
  }
  out.push_back(std::move(rubric));
  return absl::OkStatus();
}

}  // namespace rubric_formats
}  // namespace rewardd

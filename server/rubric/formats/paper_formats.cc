// The formats of "Chasing the Tail" (arXiv 2509.21500): its released rubric
// dataset, the output of its rubric-generation code, and the worked example
// of its Appendix I (docs/rubric-formats.md).
//
//   paper_dataset:  {"prompt": "...", "rubrics": [{"criterion", "weight"}]}
//   paper_code:     {"id": "...", "criteria": [{"criterion", "weight",
//                                               "local_id"}]}
//   paper_appendix: {"prompt", "initial_rubric": [{local_id, criterion,
//                    weight, R1, R2}], "refined_rubric": [...]}
#include "absl/strings/str_cat.h"
#include "server/rubric/formats/record_parser.h"

namespace rewardd {
namespace rubric_formats {

namespace {

// The paper's dataset records and its code's output differ only in the name
// of the criteria list ("rubrics" vs "criteria").
absl::Status ParsePaperRecord(const Json& record, const char* list_key,
                              RecordContext& ctx, std::vector<Rubric>& out) {
  Rubric rubric;
  REWARDD_ASSIGN_OR_RETURN(rubric.prompt,
                          PromptField(record, "prompt", false, ctx));
  REWARDD_ASSIGN_OR_RETURN(rubric.id,
                          RubricIdField(record, "id", rubric.prompt, ctx));
  REWARDD_ASSIGN_OR_RETURN(const Json* list,
                          RequiredArray(record, list_key, ctx, ""));
  REWARDD_RETURN_IF_ERROR(ParseCriterionList(*list, "criterion", "weight",
                                            /*weight_required=*/false,
                                            /*id_key=*/"local_id", ctx,
                                            rubric.criteria));
  out.push_back(std::move(rubric));
  return absl::OkStatus();
}

}  // namespace

absl::Status ParsePaperDatasetRecord(const Json& record, RecordContext& ctx,
                                     std::vector<Rubric>& out) {
  return ParsePaperRecord(record, "rubrics", ctx, out);
}

absl::Status ParsePaperCodeRecord(const Json& record, RecordContext& ctx,
                                  std::vector<Rubric>& out) {
  return ParsePaperRecord(record, "criteria", ctx, out);
}

absl::Status ParsePaperAppendixRecord(const Json& record, RecordContext& ctx,
                                      std::vector<Rubric>& out) {
  REWARDD_ASSIGN_OR_RETURN(std::string prompt,
                          PromptField(record, "prompt", false, ctx));
  // A file with one example (the paper's) names its rubrics "initial" and
  // "refined"; records with an "id" get "<id>/initial", "<id>/refined" so
  // that several examples can share a file.
  REWARDD_ASSIGN_OR_RETURN(std::string record_id,
                          OptionalString(record, "id", ctx, ""));
  bool any = false;
  for (const char* stage : {"initial", "refined"}) {
    const std::string key = absl::StrCat(stage, "_rubric");
    if (!record.contains(key)) continue;
    any = true;
    Rubric rubric;
    rubric.prompt = prompt;
    rubric.id = record_id.empty() ? std::string(stage)
                                  : absl::StrCat(record_id, "/", stage);
    ctx.set_rubric_id(rubric.id);
    REWARDD_ASSIGN_OR_RETURN(const Json* list,
                            RequiredArray(record, key.c_str(), ctx, ""));
    REWARDD_RETURN_IF_ERROR(ParseCriterionList(*list, "criterion", "weight",
                                              /*weight_required=*/false,
                                              /*id_key=*/"local_id", ctx,
                                              rubric.criteria));
    out.push_back(std::move(rubric));
  }
  if (!any) {
    return ctx.Error(
        "record has neither \"initial_rubric\" nor \"refined_rubric\"");
  }
  return absl::OkStatus();
}

}  // namespace rubric_formats
}  // namespace rewardd

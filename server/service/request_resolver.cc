#include "server/service/request_resolver.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/service/proto_convert.h"
#include "server/util/status_macros.h"

namespace rewardd {

namespace pb = reward::v1;

RequestResolver::RequestResolver(const RubricStore* store,
                                 const JudgeRegistry* judges,
                                 ResolveLimits limits, size_t inline_cache_size)
    : store_(store),
      judges_(judges),
      limits_(limits),
      inline_rubrics_(inline_cache_size) {}

absl::StatusOr<std::shared_ptr<GradeInput>> RequestResolver::Resolve(
    const pb::GradeRequest& request) const {
  return ResolveAny(request);
}

absl::StatusOr<std::shared_ptr<GradeInput>> RequestResolver::Resolve(
    const pb::GradeGroupRequest& request) const {
  return ResolveAny(request);
}

absl::Status RequestResolver::CheckResponse(absl::string_view response,
                                            const ResolveLimits& limits) {
  if (response.size() > limits.max_response_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the response is ", response.size(), " bytes; the limit is ",
        limits.max_response_bytes, " (--max_response_bytes)"));
  }
  return absl::OkStatus();
}

template <typename Req>
absl::StatusOr<std::shared_ptr<GradeInput>> RequestResolver::ResolveAny(
    const Req& request) const {
  auto input = std::make_shared<GradeInput>();
  REWARDD_RETURN_IF_ERROR(
      ResolvePrompt(request.messages(), request.prompt(), input.get()));

  // The rubric: inline or by reference.
  if (request.has_rubric()) {
    if (!request.rubric_set().empty() || !request.rubric_id().empty()) {
      return absl::InvalidArgumentError(
          "set either an inline rubric or rubric_set/rubric_id, not both");
    }
    REWARDD_RETURN_IF_ERROR(ResolveInlineRubric(request.rubric(), input.get()));
  } else {
    REWARDD_RETURN_IF_ERROR(ResolveStoredRubric(
        request.rubric_set(), request.rubric_id(), input.get()));
  }

  // An unknown judge is a bad field of this request (INVALID_ARGUMENT), not
  // a missing resource: the registry is fixed at start-up.
  const pb::GradeOptions& options = request.options();
  if (absl::StatusOr<Judge*> judge = judges_->Find(options.judge());
      !judge.ok()) {
    return absl::InvalidArgumentError(judge.status().message());
  }
  input->mode = GradingModeFromProto(options.mode());
  input->chunk_size = options.chunk_size();
  input->include_explanations = options.include_explanations();
  input->skip_cache = options.skip_cache();
  input->votes = options.votes();
  return input;
}

absl::Status RequestResolver::ResolvePrompt(
    const google::protobuf::RepeatedPtrField<pb::Message>& messages,
    const std::string& prompt, GradeInput* input) const {
  // The prompt: text or chat messages, not both.
  if (!prompt.empty() && !messages.empty()) {
    return absl::InvalidArgumentError(
        "set either prompt or messages, not both");
  }
  size_t prompt_bytes = prompt.size();
  if (!messages.empty()) {
    input->messages.reserve(messages.size());
    for (int i = 0; i < messages.size(); ++i) {
      const pb::Message& m = messages[i];
      if (m.role().empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("messages[", i, "].role is empty"));
      }
      prompt_bytes += m.content().size();
      input->messages.push_back({m.role(), m.content()});
    }
    input->prompt = CanonicalPrompt(input->messages);
  } else {
    input->prompt = prompt;
  }
  if (prompt_bytes > limits_.max_prompt_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the prompt is ", prompt_bytes, " bytes; the limit is ",
                     limits_.max_prompt_bytes, " (--max_prompt_bytes)"));
  }
  return absl::OkStatus();
}

absl::Status RequestResolver::ResolveInlineRubric(const pb::Rubric& rubric,
                                                  GradeInput* input) const {
  if (static_cast<size_t>(rubric.criteria_size()) >
      limits_.max_criteria_per_rubric) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the inline rubric has ", rubric.criteria_size(),
        " criteria; the limit is ", limits_.max_criteria_per_rubric,
        " (--max_criteria_per_rubric)"));
  }
  REWARDD_ASSIGN_OR_RETURN(input->rubric, inline_rubrics_.Get(rubric));
  return absl::OkStatus();
}

absl::Status RequestResolver::ResolveStoredRubric(const std::string& set_name,
                                                  const std::string& rubric_id,
                                                  GradeInput* input) const {
  if (set_name.empty()) {
    return absl::InvalidArgumentError(
        "no rubric: set rubric_set (and rubric_id, or a prompt that a "
        "rubric of the set was written for), or an inline rubric");
  }
  const std::shared_ptr<const StoreSnapshot> snapshot = store_->snapshot();
  const RubricSet* set = snapshot->Find(set_name);
  if (set == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "rubric set '", set_name,
        "' is not loaded; ListRubricSets shows the sets there are"));
  }
  const RubricSet& found = *set;
  const std::shared_ptr<const Rubric>* rubric = nullptr;
  if (!rubric_id.empty()) {
    rubric = found.FindById(rubric_id);
    if (rubric == nullptr) {
      return absl::NotFoundError(absl::StrCat(
          "rubric set '", found.name, "' has no rubric '", rubric_id, "'"));
    }
  } else {
    rubric = found.FindByPrompt(input->prompt);
    if (rubric == nullptr) {
      return absl::NotFoundError(absl::StrCat(
          "rubric set '", found.name,
          "' has no rubric written for this prompt; set rubric_id"));
    }
  }
  input->rubric = *rubric;
  input->rubric_set = found.name;
  return absl::OkStatus();
}

}  // namespace rewardd

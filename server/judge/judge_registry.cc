#include "server/judge/judge_registry.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace rewardd {

absl::string_view CriterionStatusName(CriterionStatus status) {
  switch (status) {
    case CriterionStatus::kOk:
      return "OK";
    case CriterionStatus::kJudgeError:
      return "JUDGE_ERROR";
    case CriterionStatus::kParseError:
      return "PARSE_ERROR";
    case CriterionStatus::kMissing:
      return "MISSING";
    case CriterionStatus::kTimeout:
      return "TIMEOUT";
    case CriterionStatus::kSkipped:
      return "SKIPPED";
  }
  return "UNKNOWN";
}

absl::Status JudgeRegistry::Add(std::shared_ptr<Judge> judge) {
  const std::string name = judge->name();
  if (!judges_.emplace(name, std::move(judge)).second) {
    return absl::AlreadyExistsError(
        absl::StrCat("two judges are named '", name, "'"));
  }
  order_.push_back(name);
  if (default_name_.empty()) default_name_ = name;
  return absl::OkStatus();
}

absl::Status JudgeRegistry::SetDefault(const std::string& name) {
  if (!judges_.contains(name)) {
    return absl::NotFoundError(absl::StrCat(
        "default judge '", name,
        "' is not configured; judges: ", absl::StrJoin(order_, ", ")));
  }
  default_name_ = name;
  return absl::OkStatus();
}

absl::StatusOr<Judge*> JudgeRegistry::Find(absl::string_view name) const {
  if (name.empty()) name = default_name_;
  auto it = judges_.find(name);
  if (it == judges_.end()) {
    return absl::NotFoundError(absl::StrCat(
        "unknown judge '", name, "'; set options.judge to one of: ",
        absl::StrJoin(order_, ", "), " (or leave it empty)"));
  }
  return it->second.get();
}

std::vector<std::string> JudgeRegistry::names() const { return order_; }

}  // namespace rewardd

#include "server/gateway/openrlhf_codec.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "server/gateway/json_fields.h"
#include "server/gateway/rubric_label.h"

namespace rewardd {
namespace {

namespace pb = reward::v1;

// `body[key]` as a list of strings; `required` lists must be present.
absl::Status StringList(const nlohmann::json& body, const char* key,
                        std::vector<std::string>* out) {
  auto it = body.find(key);
  if (it == body.end()) return FieldError(key, "missing");
  if (!it->is_array()) return FieldError(key, "must be a list of strings");
  for (size_t i = 0; i < it->size(); ++i) {
    const nlohmann::json& v = (*it)[i];
    if (!v.is_string()) {
      return FieldError(absl::StrCat(key, "[", i, "]"),
                        absl::StrCat("must be a string, got ", v.type_name()));
    }
    out->push_back(v.get<std::string>());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> CutResponse(const std::string& query,
                                        const std::string& prompt, size_t i) {
  if (query.compare(0, prompt.size(), prompt) == 0) {
    return query.substr(prompt.size());
  }
  const size_t common = std::min(query.size(), prompt.size());
  size_t at = 0;
  while (at < common && query[at] == prompt[at]) ++at;
  return FieldError(
      absl::StrCat("query[", i, "]"),
      absl::StrCat("does not start with prompts[", i,
                   "] (they differ from "
                   "byte ",
                   at, "; the query is ", query.size(), " bytes, the prompt ",
                   prompt.size(),
                   "); the response is taken as the rest of the query after "
                   "its prompt, so the query must begin with the prompt "
                   "exactly"));
}

}  // namespace

absl::StatusOr<std::vector<pb::GradeRequest>> ParseOpenRlhfRequest(
    const nlohmann::json& body, const std::string& default_rubric_set) {
  if (!body.is_object()) {
    return FieldError("request body", "must be a JSON object");
  }
  if (absl::Status s = CheckFields(body, {"query", "prompts", "labels"}, "",
                                   "an OpenRLHF request");
      !s.ok()) {
    return s;
  }
  std::vector<std::string> queries;
  std::vector<std::string> prompts;
  if (absl::Status s = StringList(body, "query", &queries); !s.ok()) return s;
  if (absl::Status s = StringList(body, "prompts", &prompts); !s.ok()) return s;
  if (queries.empty()) return FieldError("query", "is empty");
  if (prompts.size() != queries.size()) {
    return FieldError(
        "prompts", absl::StrCat("has ", prompts.size(), " entries; query has ",
                                queries.size()));
  }
  const nlohmann::json* labels = nullptr;
  if (auto it = body.find("labels"); it != body.end() && !it->is_null()) {
    if (!it->is_array() || it->size() != queries.size()) {
      return FieldError("labels", absl::StrCat("must be a list of ",
                                               queries.size(), " labels"));
    }
    labels = &*it;
  }
  std::vector<pb::GradeRequest> requests(queries.size());
  for (size_t i = 0; i < queries.size(); ++i) {
    pb::GradeRequest& r = requests[i];
    r.set_request_id(absl::StrCat(i));
    absl::StatusOr<std::string> response =
        CutResponse(queries[i], prompts[i], i);
    if (!response.ok()) return response.status();
    r.set_response(*std::move(response));
    r.set_prompt(std::move(prompts[i]));
    absl::Status s = ApplyRubricLabel(
        labels != nullptr ? (*labels)[i] : nlohmann::json(),
        absl::StrCat("labels[", i, "]"), default_rubric_set, &r);
    if (!s.ok()) return s;
  }
  return requests;
}

nlohmann::json OpenRlhfResponse(const std::vector<pb::GradeResponse>& results) {
  nlohmann::json rewards = nlohmann::json::array();
  nlohmann::json score = nlohmann::json::array();
  nlohmann::json max_score = nlohmann::json::array();
  nlohmann::json met_fraction = nlohmann::json::array();
  for (const pb::GradeResponse& r : results) {
    rewards.push_back(r.reward());
    score.push_back(r.score());
    max_score.push_back(r.max_score());
    int met = 0;
    for (const pb::CriterionResult& c : r.criteria()) {
      met += c.verdict() == pb::CriterionResult::MET;
    }
    met_fraction.push_back(r.criteria_size() == 0
                               ? 0.0
                               : static_cast<double>(met) / r.criteria_size());
  }
  return {{"rewards", rewards},
          {"scores", rewards},
          {"extra_logs",
           {{"rubric_score", score},
            {"rubric_max_score", max_score},
            {"criteria_met_fraction", met_fraction}}}};
}

}  // namespace rewardd

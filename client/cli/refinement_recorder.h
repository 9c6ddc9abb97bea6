// RefinementRecorder: follows one RefineRubric event stream and turns it
// into what `reward-cli refine` writes for the prompt: the report line
// (scores per iteration with the top score and ties, the pair, the
// proposal's diff or the rejection's reason, the summary, the status) and
// the rubric with its lineage for the set file.
//
//   RefinementRecorder recorder(item, start_rubric);
//   absl::Status s = client.RefineRubric(request, deadline,
//       [&](const reward::v1::RefineRubricEvent& e) { recorder.OnEvent(e); });
//   recorder.Finish(s);
//   report.Put(recorder.Report());
//   if (auto r = recorder.SetRecord()) set.Put(*r);
//
// Statuses: "refined" (proposals accepted, none rejected), "unchanged"
// (no proposal made, e.g. fewer than 2 candidates), "rejected_proposals"
// (at least one proposal rejected; the rubric before it was kept), "failed"
// (the call failed or the refinement stopped early: deadline, verifier
// failure, ...; the starting rubric, or the last accepted one, is kept).
//
// Thread-safety: not thread-safe; one recorder per stream.
#ifndef REWARDD_CLIENT_CLI_REFINEMENT_RECORDER_H_
#define REWARDD_CLIENT_CLI_REFINEMENT_RECORDER_H_

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "client/cli/refine_input.h"
#include "google/protobuf/message.h"
#include "reward/v1/rubric_service.pb.h"

namespace rewardd::cli {

// A proto as JSON (proto field names, defaults printed).
nlohmann::json ProtoJson(const google::protobuf::Message& message);

class RefinementRecorder {
 public:
  // `start`: the starting rubric (nullopt when none could be had);
  // `start_lineage`: its lineage entries when it was generated or loaded
  // with one (written before the refinement's own).
  RefinementRecorder(const RefineItem& item,
                     std::optional<reward::v1::Rubric> start,
                     std::string start_origin,
                     std::vector<reward::v1::RubricVersionInfo> start_lineage);

  void OnEvent(const reward::v1::RefineRubricEvent& event);
  // The end of the work for this prompt: the stream's status, or the error
  // that kept it from starting.
  void Finish(const absl::Status& status);
  // Extra fields for the report line (e.g. "derived_from").
  void AddReportField(const std::string& key, nlohmann::json value) {
    extra_[key] = std::move(value);
  }

  const std::string& status() const { return status_; }
  const std::string& reason() const { return reason_; }
  nlohmann::json Report() const;
  // The rubric record for the set file; nullopt when there is no rubric
  // (a generation that failed).
  std::optional<nlohmann::json> SetRecord() const;

 private:
  nlohmann::json& Iteration(uint32_t iteration);
  std::vector<std::string> PairSources(
      const reward::v1::RubricVersionInfo& info) const;
  nlohmann::json LineageJson() const;

  const RefineItem& item_;
  std::optional<reward::v1::Rubric> rubric_;  // in force
  std::string start_origin_;
  std::vector<reward::v1::RubricVersionInfo> lineage_;
  std::optional<reward::v1::FinalEvent> final_;
  nlohmann::json iterations_ = nlohmann::json::array();
  nlohmann::json extra_ = nlohmann::json::object();
  uint32_t accepted_ = 0;
  uint32_t rejected_ = 0;
  std::string status_ = "failed";
  std::string reason_;
};

}  // namespace rewardd::cli

#endif  // REWARDD_CLIENT_CLI_REFINEMENT_RECORDER_H_

#include "client/cli/refinement_recorder.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/cli/rubric_json.h"

namespace rewardd::cli {

using Json = nlohmann::json;
namespace pb = reward::v1;

Json ProtoJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions print;
  print.preserve_proto_field_names = true;
  print.always_print_primitive_fields = true;
  std::string text;
  (void)google::protobuf::util::MessageToJsonString(message, &text, print);
  return Json::parse(text, nullptr, /*allow_exceptions=*/false);
}

RefinementRecorder::RefinementRecorder(
    const RefineItem& item, std::optional<pb::Rubric> start,
    std::string start_origin, std::vector<pb::RubricVersionInfo> start_lineage)
    : item_(item),
      rubric_(std::move(start)),
      start_origin_(std::move(start_origin)),
      lineage_(std::move(start_lineage)) {}

Json& RefinementRecorder::Iteration(uint32_t iteration) {
  for (Json& it : iterations_) {
    if (it["iteration"] == iteration) return it;
  }
  iterations_.push_back({{"iteration", iteration}});
  return iterations_.back();
}

void RefinementRecorder::OnEvent(const pb::RefineRubricEvent& event) {
  switch (event.event_case()) {
    case pb::RefineRubricEvent::kScores: {
      const pb::IterationScores& s = event.scores();
      Json& it = Iteration(s.iteration());
      it["rubric_version"] = s.rubric_version();
      it["top_score"] = s.top_score();
      it["tied_at_top"] = s.tied_at_top();
      it["scores"] = ProtoJson(s)["scores"];
      break;
    }
    case pb::RefineRubricEvent::kPair: {
      const pb::PairChosen& p = event.pair();
      Json pair = ProtoJson(p);
      pair.erase("iteration");
      const auto& c = item_.request.candidates();
      if (p.first() < static_cast<uint32_t>(c.size()) &&
          p.second() < static_cast<uint32_t>(c.size())) {
        pair["sources"] = {c[p.first()].source(), c[p.second()].source()};
      }
      Iteration(p.iteration())["pair"] = std::move(pair);
      break;
    }
    case pb::RefineRubricEvent::kGenerated:
    case pb::RefineRubricEvent::kProposal: {
      const pb::ProposalAccepted& a =
          event.event_case() == pb::RefineRubricEvent::kProposal
              ? event.proposal()
              : event.generated();
      Json proposal = ProtoJson(a);
      proposal.erase("iteration");
      proposal.erase("rubric");  // the set file has it
      Iteration(
          a.iteration())[event.has_generated() ? "generated" : "proposal"] =
          std::move(proposal);
      rubric_ = a.rubric();
      lineage_.push_back(a.version());
      if (event.has_proposal()) ++accepted_;
      break;
    }
    case pb::RefineRubricEvent::kRejected: {
      const pb::ProposalRejected& r = event.rejected();
      Iteration(r.iteration())["rejected"] = {
          {"reason", r.reason()}, {"kept_version", r.kept_version()}};
      ++rejected_;
      break;
    }
    case pb::RefineRubricEvent::kFinal: {
      final_ = event.final();
      rubric_ = final_->rubric();
      // The refinement's lineage starts with the rubric it was given; when
      // that rubric was generated or loaded with a lineage, its own entries
      // come first and say more than "given".
      std::vector<pb::RubricVersionInfo> merged;
      size_t start_entries = lineage_.size() - accepted_;
      merged.assign(lineage_.begin(), lineage_.begin() + start_entries);
      for (const pb::RubricVersionInfo& v : final_->lineage()) {
        if (!merged.empty() && merged.back().version() == v.version()) {
          continue;
        }
        merged.push_back(v);
      }
      lineage_ = std::move(merged);
      break;
    }
    default:
      break;
  }
}

void RefinementRecorder::Finish(const absl::Status& status) {
  if (!status.ok()) {
    status_ = "failed";
    reason_ = absl::StrCat(absl::StatusCodeToString(status.code()), ": ",
                           status.message());
    return;
  }
  if (!final_.has_value()) {
    status_ = "failed";
    reason_ = "the stream ended without a final event";
    return;
  }
  const std::string& stop = final_->stop_reason();
  if (stop != "iterations done" &&
      !absl::StartsWith(stop, "fewer than 2 candidates")) {
    status_ = "failed";
    reason_ = absl::StrCat("stopped early: ", stop);
    return;
  }
  if (rejected_ > 0) {
    status_ = "rejected_proposals";
    std::vector<std::string> reasons;
    for (const Json& it : iterations_) {
      if (it.contains("rejected")) {
        reasons.push_back(
            absl::StrCat("iteration ", it["iteration"].get<uint32_t>(), ": ",
                         it["rejected"]["reason"].get<std::string>()));
      }
    }
    reason_ = absl::StrJoin(reasons, "; ");
  } else {
    status_ = accepted_ > 0 ? "refined" : "unchanged";
  }
}

std::vector<std::string> RefinementRecorder::PairSources(
    const pb::RubricVersionInfo& info) const {
  std::vector<std::string> out;
  const auto& c = item_.request.candidates();
  for (uint32_t i : info.pair()) {
    if (i < static_cast<uint32_t>(c.size())) out.push_back(c[i].source());
  }
  return out;
}

Json RefinementRecorder::LineageJson() const {
  Json out = Json::array();
  for (const pb::RubricVersionInfo& v : lineage_) {
    out.push_back(VersionInfoJson(v, v.origin() == "refined"
                                         ? PairSources(v)
                                         : std::vector<std::string>()));
  }
  return out;
}

Json RefinementRecorder::Report() const {
  Json r = {{"id", item_.id},
            {"status", status_},
            {"start", start_origin_},
            {"proposals_accepted", accepted_},
            {"proposals_rejected", rejected_}};
  if (rubric_.has_value()) r["rubric_id"] = rubric_->id();
  if (!reason_.empty()) r["reason"] = reason_;
  if (final_.has_value()) {
    r["stop_reason"] = final_->stop_reason();
    r["final_version"] = final_->rubric().version();
    r["summary"] = ProtoJson(final_->summary());
  }
  if (!lineage_.empty()) r["initial_version"] = lineage_.front().version();
  r["iterations"] = iterations_;
  r["lineage"] = LineageJson();
  r.update(extra_);
  return r;
}

std::optional<Json> RefinementRecorder::SetRecord() const {
  if (!rubric_.has_value()) return std::nullopt;
  Json record = RubricRecordJson(*rubric_, item_.request.prompt(),
                                 item_.request.messages());
  if (!lineage_.empty()) record["lineage"] = LineageJson();
  record["refine_status"] = status_;
  return record;
}

}  // namespace rewardd::cli

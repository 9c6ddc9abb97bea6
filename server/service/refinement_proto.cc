#include "server/service/refinement_proto.h"

#include <cmath>
#include <type_traits>
#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "server/service/proto_convert.h"

namespace rewardd {
namespace {

namespace pb = reward::v1;

void CandidateScoreToProto(const CandidateScore& s, pb::CandidateScore* p) {
  p->set_candidate(s.candidate);
  p->set_source(s.source);
  p->set_score(s.score);
  p->set_max_score(s.max_score);
  p->set_valid(s.valid);
  p->set_invalid_reason(s.invalid_reason);
  for (const std::string& id : s.met) p->add_met(id);
}

void CriterionToProto(const Criterion& c, pb::Criterion* p) {
  // One criterion through the rubric converter, so checks and tags match.
  Rubric one;
  one.criteria.push_back(c);
  pb::Rubric r;
  RubricToProto(one, &r);
  if (r.criteria_size() == 1) p->Swap(r.mutable_criteria(0));
}

void DiffToProto(const RubricDiff& d, pb::RubricDiff* p) {
  for (const Criterion& c : d.added) CriterionToProto(c, p->add_added());
  for (const Criterion& c : d.removed) CriterionToProto(c, p->add_removed());
  for (const RubricDiff::Reworded& r : d.reworded) {
    pb::RubricDiff::Reworded* out = p->add_reworded();
    out->set_id(r.id);
    out->set_old_text(r.old_text);
    out->set_new_text(r.new_text);
  }
  for (const RubricDiff::WeightChange& w : d.weight_changes) {
    pb::RubricDiff::WeightChange* out = p->add_weight_changes();
    out->set_id(w.id);
    out->set_old_weight(w.old_weight);
    out->set_new_weight(w.new_weight);
  }
}

pb::PairSelection PairSelectionToProto(PairStrategy s) {
  return s == PairStrategy::kTop2Diverse ? pb::TOP2_DIVERSE : pb::TOP2;
}

void AcceptedToProto(const ProposalAcceptedEvent& e, pb::ProposalAccepted* p) {
  p->set_iteration(e.iteration);
  if (e.rubric != nullptr) RubricToProto(*e.rubric, p->mutable_rubric());
  DiffToProto(e.diff, p->mutable_diff());
  RubricVersionInfoToProto(e.version, p->mutable_version());
  for (const std::string& w : e.warnings) p->add_warnings(w);
  for (const CandidateScore& s : e.pair_scores) {
    CandidateScoreToProto(s, p->add_pair_scores());
  }
}

void SummaryToProto(const RefinementSummary& s, pb::RefinementSummary* p) {
  p->set_top_pair_gap_before(s.top_pair_gap_before);
  p->set_tied_at_top_before(s.tied_at_top_before);
  p->set_top_pair_gap_after(s.top_pair_gap_after);
  p->set_tied_at_top_after(s.tied_at_top_after);
  p->set_iterations_run(s.iterations_run);
  p->set_proposals_accepted(s.proposals_accepted);
  p->set_proposals_rejected(s.proposals_rejected);
  p->set_before_measured(s.before_measured);
  p->set_after_measured(s.after_measured);
}

// One overload per event kind, for std::visit.
struct EventWriter {
  pb::RefineRubricEvent* out;

  void operator()(const IterationScoresEvent& e) const {
    pb::IterationScores* p = out->mutable_scores();
    p->set_iteration(e.iteration);
    p->set_rubric_version(e.rubric_version);
    for (const CandidateScore& s : e.scores) {
      CandidateScoreToProto(s, p->add_scores());
    }
    p->set_top_score(e.top_score);
    p->set_tied_at_top(e.tied_at_top);
  }
  void operator()(const PairChosenEvent& e) const {
    pb::PairChosen* p = out->mutable_pair();
    p->set_iteration(e.iteration);
    p->set_first(e.first);
    p->set_second(e.second);
    p->set_selection(PairSelectionToProto(e.selection));
    p->set_verdict_differences(e.verdict_differences);
  }
  void operator()(const ProposalAcceptedEvent& e) const {
    AcceptedToProto(
        e, e.generated ? out->mutable_generated() : out->mutable_proposal());
  }
  void operator()(const ProposalRejectedEvent& e) const {
    pb::ProposalRejected* p = out->mutable_rejected();
    p->set_iteration(e.iteration);
    p->set_reason(e.reason);
    p->set_kept_version(e.kept_version);
  }
  void operator()(const FinalRefinementEvent& e) const {
    pb::FinalEvent* p = out->mutable_final();
    if (e.rubric != nullptr) RubricToProto(*e.rubric, p->mutable_rubric());
    for (const RubricVersionInfo& v : e.lineage) {
      RubricVersionInfoToProto(v, p->add_lineage());
    }
    SummaryToProto(e.summary, p->mutable_summary());
    p->set_stop_reason(e.stop_reason);
  }
};

}  // namespace

void RefinementEventToProto(const RefinementEvent& event,
                            pb::RefineRubricEvent* proto) {
  std::visit(EventWriter{proto}, event);
}

absl::StatusOr<std::string> PromptFromProto(
    const std::string& prompt,
    const google::protobuf::RepeatedPtrField<pb::Message>& messages,
    std::vector<ChatMessage>* chat) {
  if (!prompt.empty() && !messages.empty()) {
    return absl::InvalidArgumentError(
        "prompt and messages: give one of them, not both");
  }
  if (messages.empty()) return prompt;
  for (int i = 0; i < messages.size(); ++i) {
    if (messages[i].role().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("messages[", i, "].role is empty"));
    }
    chat->push_back({messages[i].role(), messages[i].content()});
  }
  return CanonicalPrompt(*chat);
}

absl::StatusOr<ValidationOptions> ValidationFromProto(
    const pb::ProposerOptions& options, size_t max_criteria_ceiling) {
  ValidationOptions v;
  ProposalLimits& l = v.limits;
  if (options.max_criteria() > max_criteria_ceiling) {
    return absl::InvalidArgumentError(
        absl::StrCat("proposer.max_criteria: at most ", max_criteria_ceiling,
                     ", got ", options.max_criteria()));
  }
  if (options.max_criteria() != 0) l.max_criteria = options.max_criteria();
  if (options.min_weight() != 0 || options.max_weight() != 0) {
    l.min_weight = options.min_weight();
    l.max_weight = options.max_weight();
  }
  if (!std::isfinite(l.min_weight) || !std::isfinite(l.max_weight) ||
      l.min_weight <= 0 || l.min_weight > l.max_weight) {
    return absl::InvalidArgumentError(absl::StrCat(
        "proposer.min_weight/max_weight: need 0 < min_weight <= max_weight "
        "(or both 0 for 1..3), got ",
        options.min_weight(), " and ", options.max_weight()));
  }
  l.allow_pitfalls = options.allow_pitfalls();
  return v;
}

RefineSettings RefineSettingsFromProto(const pb::RefineOptions& o) {
  RefineSettings s;
  if (o.iterations() != 0) s.iterations = o.iterations();
  s.pair_selection = o.pair_selection() == pb::TOP2_DIVERSE
                         ? PairStrategy::kTop2Diverse
                         : PairStrategy::kTop2;
  if (o.top_k() != 0) s.top_k = o.top_k();
  if (o.has_exclude_used()) s.exclude_used = o.exclude_used();
  s.show_verdicts = o.show_verdicts();
  if (o.has_final_rescore()) s.final_rescore = o.final_rescore();
  return s;
}

VerifierSettings VerifierFromProto(const pb::GradeOptions& o) {
  VerifierSettings v;
  v.judge = o.judge();
  v.mode = GradingModeFromProto(o.mode());
  v.chunk_size = o.chunk_size();
  v.votes = o.votes();
  v.skip_cache = o.skip_cache();
  v.scoring = ScoringFromProto(o);
  return v;
}

}  // namespace rewardd

#include "server/service/proto_convert.h"

#include "absl/time/time.h"

namespace rewardd {
namespace {

namespace pb = reward::v1;

struct KindPair {
  pb::Check::Kind proto;
  Check::Kind domain;
};
constexpr KindPair kKinds[] = {
    {pb::Check::KIND_UNSPECIFIED, Check::Kind::kNone},
    {pb::Check::REGEX, Check::Kind::kRegex},
    {pb::Check::CONTAINS, Check::Kind::kContains},
    {pb::Check::NOT_CONTAINS, Check::Kind::kNotContains},
    {pb::Check::WORD_COUNT, Check::Kind::kWordCount},
    {pb::Check::CHAR_COUNT, Check::Kind::kCharCount},
    {pb::Check::LINE_COUNT, Check::Kind::kLineCount},
    {pb::Check::VALID_JSON, Check::Kind::kValidJson},
    {pb::Check::STARTS_WITH, Check::Kind::kStartsWith},
    {pb::Check::ENDS_WITH, Check::Kind::kEndsWith},
    {pb::Check::NUMERIC, Check::Kind::kNumeric},
};

pb::CriterionResult::Status StatusToProto(CriterionStatus s) {
  switch (s) {
    case CriterionStatus::kOk:
      return pb::CriterionResult::OK;
    case CriterionStatus::kJudgeError:
      return pb::CriterionResult::JUDGE_ERROR;
    case CriterionStatus::kParseError:
      return pb::CriterionResult::PARSE_ERROR;
    case CriterionStatus::kMissing:
      return pb::CriterionResult::MISSING;
    case CriterionStatus::kTimeout:
      return pb::CriterionResult::TIMEOUT;
    case CriterionStatus::kSkipped:
      return pb::CriterionResult::SKIPPED;
  }
  return pb::CriterionResult::STATUS_UNSPECIFIED;
}

}  // namespace

absl::StatusOr<Rubric> RubricFromProto(const pb::Rubric& proto) {
  Rubric r;
  r.id = proto.id().empty() ? "inline" : proto.id();
  r.prompt = proto.prompt();
  r.criteria.reserve(proto.criteria_size());
  for (const pb::Criterion& pc : proto.criteria()) {
    Criterion& c = r.criteria.emplace_back();
    c.id = pc.id();
    c.text = pc.text();
    c.weight = pc.weight();
    c.tags.assign(pc.tags().begin(), pc.tags().end());
    if (pc.has_check() && pc.check().kind() != pb::Check::KIND_UNSPECIFIED) {
      const pb::Check& pk = pc.check();
      auto check = std::make_shared<Check>();
      bool known = false;
      for (const KindPair& k : kKinds) {
        if (k.proto == pk.kind()) {
          check->kind = k.domain;
          known = true;
        }
      }
      if (!known) {
        return absl::InvalidArgumentError("criterion '" + pc.id() +
                                          "': unknown check kind " +
                                          std::to_string(pk.kind()));
      }
      check->pattern = pk.pattern();
      check->values.assign(pk.values().begin(), pk.values().end());
      check->match_any = pk.match() == pb::Check::ANY;
      check->case_insensitive = pk.case_insensitive();
      if (pk.has_min()) check->min = pk.min();
      if (pk.has_max()) check->max = pk.max();
      check->value = pk.value();
      check->tolerance = pk.tolerance();
      c.check = std::move(check);
    }
  }
  absl::Status s = ValidateRubric(r);
  if (!s.ok()) {
    return absl::InvalidArgumentError("inline rubric: " +
                                      std::string(s.message()));
  }
  r.version = RubricVersion(r);
  return r;
}

void RubricToProto(const Rubric& rubric, pb::Rubric* proto) {
  proto->set_id(rubric.id);
  proto->set_prompt(rubric.prompt);
  proto->set_version(rubric.version);
  for (const Criterion& c : rubric.criteria) {
    pb::Criterion* pc = proto->add_criteria();
    pc->set_id(c.id);
    pc->set_text(c.text);
    pc->set_weight(c.weight);
    for (const std::string& t : c.tags) pc->add_tags(t);
    if (c.check == nullptr) continue;
    const Check& check = *c.check;
    pb::Check* pk = pc->mutable_check();
    for (const KindPair& k : kKinds) {
      if (k.domain == check.kind) pk->set_kind(k.proto);
    }
    pk->set_pattern(check.pattern);
    for (const std::string& v : check.values) pk->add_values(v);
    pk->set_match(check.match_any ? pb::Check::ANY : pb::Check::ALL);
    pk->set_case_insensitive(check.case_insensitive);
    if (check.min) pk->set_min(*check.min);
    if (check.max) pk->set_max(*check.max);
    pk->set_value(check.value);
    pk->set_tolerance(check.tolerance);
  }
}

GradingMode GradingModeFromProto(pb::GradingMode mode) {
  switch (mode) {
    case pb::ALL_IN_ONE:
      return GradingMode::kAllInOne;
    case pb::PER_CRITERION:
      return GradingMode::kPerCriterion;
    case pb::CHUNKED:
      return GradingMode::kChunked;
    default:
      return GradingMode::kDefault;
  }
}

ScoringOptions ScoringFromProto(const pb::GradeOptions& options) {
  ScoringOptions s;
  switch (options.formula()) {
    case pb::HEALTHBENCH:
      s.formula = ScoringFormula::kHealthBench;
      break;
    case pb::RAW_SUM:
      s.formula = ScoringFormula::kRawSum;
      break;
    default:
      s.formula = ScoringFormula::kWeightedFraction;
  }
  switch (options.missing_policy()) {
    case pb::RENORMALIZE:
      s.missing = MissingPolicy::kRenormalize;
      break;
    case pb::INVALID:
      s.missing = MissingPolicy::kInvalid;
      break;
    default:
      s.missing = MissingPolicy::kStrict;
  }
  s.clip = options.clip();
  return s;
}

void GradeResultToProto(const GradeResult& result, bool include_explanations,
                        pb::GradeResponse* proto) {
  const GradeInput& input = *result.input;
  const Rubric& rubric = *input.rubric;
  proto->set_reward(result.score.reward);
  proto->set_valid(result.score.valid);
  proto->set_score(result.score.score);
  proto->set_max_score(result.score.max_score);
  if (!result.score.valid)
    proto->set_invalid_reason(result.score.invalid_reason);
  if (result.score.expected_reward.has_value()) {
    proto->set_expected_reward(*result.score.expected_reward);
  }
  proto->set_rubric_set(input.rubric_set);
  proto->set_rubric_id(rubric.id);
  proto->set_rubric_version(rubric.version);
  proto->set_judge(result.judge);
  proto->mutable_criteria()->Reserve(rubric.criteria.size());
  for (size_t i = 0; i < rubric.criteria.size(); ++i) {
    const Verdict& v = result.verdicts[i];
    pb::CriterionResult* c = proto->add_criteria();
    c->set_id(rubric.criteria[i].id);
    c->set_weight(rubric.criteria[i].weight);
    c->set_status(StatusToProto(v.status));
    c->set_verdict(
        v.status != CriterionStatus::kOk
            ? pb::CriterionResult::UNKNOWN
            : (v.met ? pb::CriterionResult::MET : pb::CriterionResult::UNMET));
    if (v.probability) c->set_probability(*v.probability);
    // Errors always carry their explanation: it says what went wrong.
    if (include_explanations || v.status != CriterionStatus::kOk) {
      c->set_explanation(v.explanation);
    }
    c->set_cached(v.cached);
    if (v.agreement) c->set_agreement(*v.agreement);
  }
  pb::Timings* t = proto->mutable_timings();
  t->set_queue_seconds(absl::ToDoubleSeconds(result.queue_time));
  t->set_judge_seconds(absl::ToDoubleSeconds(result.judge_time));
}

void SaturatedRubricToProto(const SaturatedRubric& rubric,
                            pb::SaturatedRubric* out) {
  out->set_rubric_set(rubric.rubric_set);
  out->set_rubric_id(rubric.rubric_id);
  out->set_rubric_version(rubric.rubric_version);
  out->set_set_version(rubric.set_version);
  out->set_saturated_groups(rubric.saturated_groups);
  out->set_groups(rubric.groups);
  out->set_last_saturated_unix(
      absl::ToDoubleSeconds(rubric.last_saturated - absl::UnixEpoch()));
  out->set_score(rubric.score);
}

void RubricSetInfoToProto(const RubricSet& set, pb::RubricSetInfo* info) {
  info->set_name(set.name);
  info->set_version(set.version);
  info->set_format(set.format);
  info->set_rubric_count(set.rubrics.size());
  info->set_criterion_count(set.criterion_count());
  info->set_source_path(set.source_path);
  info->set_loaded_at_unix(set.loaded_at_unix);
  info->set_derived_from(set.derived_from);
  info->set_derived_from_version(set.derived_from_version);
  info->set_produced_by(set.produced_by);
}

void RubricVersionInfoToProto(const RubricVersionInfo& info,
                              pb::RubricVersionInfo* proto) {
  proto->set_version(info.version);
  proto->set_parent_version(info.parent_version);
  proto->set_iteration(info.iteration);
  proto->set_origin(info.origin);
  proto->set_proposer(info.proposer);
  proto->set_proposer_model(info.proposer_model);
  proto->set_template_version(info.template_version);
  for (uint32_t i : info.pair) proto->add_pair(i);
}

}  // namespace rewardd

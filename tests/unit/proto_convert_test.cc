// Conversions between the reward.v1 protos and the grading engine's types:
// inline rubrics in and out (every check field and kind), grading and
// scoring options, and a GradeResult into a GradeResponse.
#include "server/service/proto_convert.h"

#include <memory>
#include <string>
#include <utility>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rewardd {
namespace {

namespace pb = reward::v1;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

pb::Rubric CheckedRubric() {
  pb::Rubric r;
  r.set_id("checked");
  r.set_prompt("What is 2 + 2?");
  pb::Criterion* regex = r.add_criteria();
  regex->set_id("answer-line");
  regex->set_text("Ends with 'Answer: <n>'");
  regex->set_weight(2);
  regex->add_tags("axis:format");
  regex->mutable_check()->set_kind(pb::Check::REGEX);
  regex->mutable_check()->set_pattern("Answer: [0-9]+$");
  regex->mutable_check()->set_case_insensitive(true);
  pb::Criterion* contains = r.add_criteria();
  contains->set_id("four");
  contains->set_text("Says four");
  contains->set_weight(3);
  contains->mutable_check()->set_kind(pb::Check::CONTAINS);
  contains->mutable_check()->add_values("4");
  contains->mutable_check()->add_values("four");
  contains->mutable_check()->set_match(pb::Check::ANY);
  pb::Criterion* words = r.add_criteria();
  words->set_id("short");
  words->set_text("5 to 50 words");
  words->set_weight(1);
  words->mutable_check()->set_kind(pb::Check::WORD_COUNT);
  words->mutable_check()->set_min(5);
  words->mutable_check()->set_max(50);
  pb::Criterion* number = r.add_criteria();
  number->set_id("value");
  number->set_text("The answer is 4");
  number->set_weight(1);
  number->mutable_check()->set_kind(pb::Check::NUMERIC);
  number->mutable_check()->set_value(4);
  number->mutable_check()->set_tolerance(0.01);
  pb::Criterion* judged = r.add_criteria();
  judged->set_id("rude");
  judged->set_text("Is rude");
  judged->set_weight(-1);
  return r;
}

TEST(RubricFromProto, KeepsEveryFieldAndSetsTheVersion) {
  absl::StatusOr<Rubric> rubric = RubricFromProto(CheckedRubric());
  ASSERT_TRUE(rubric.ok()) << rubric.status();
  EXPECT_EQ(rubric->id, "checked");
  EXPECT_EQ(rubric->prompt, "What is 2 + 2?");
  EXPECT_EQ(rubric->version, RubricVersion(*rubric));
  ASSERT_EQ(rubric->criteria.size(), 5u);
  const Criterion& regex = rubric->criteria[0];
  EXPECT_EQ(regex.id, "answer-line");
  EXPECT_EQ(regex.weight, 2);
  EXPECT_THAT(regex.tags, ElementsAre("axis:format"));
  ASSERT_NE(regex.check, nullptr);
  EXPECT_EQ(regex.check->kind, Check::Kind::kRegex);
  EXPECT_EQ(regex.check->pattern, "Answer: [0-9]+$");
  EXPECT_TRUE(regex.check->case_insensitive);
  EXPECT_NE(regex.check->regex, nullptr);  // compiled by validation
  const Check& contains = *rubric->criteria[1].check;
  EXPECT_EQ(contains.kind, Check::Kind::kContains);
  EXPECT_THAT(contains.values, ElementsAre("4", "four"));
  EXPECT_TRUE(contains.match_any);
  const Check& words = *rubric->criteria[2].check;
  EXPECT_EQ(words.kind, Check::Kind::kWordCount);
  EXPECT_EQ(words.min, 5);
  EXPECT_EQ(words.max, 50);
  const Check& number = *rubric->criteria[3].check;
  EXPECT_EQ(number.kind, Check::Kind::kNumeric);
  EXPECT_EQ(number.value, 4);
  EXPECT_DOUBLE_EQ(number.tolerance, 0.01);
  EXPECT_EQ(rubric->criteria[4].check, nullptr);  // no check: judged
  EXPECT_EQ(rubric->criteria[4].weight, -1);
}

TEST(RubricFromProto, RoundTripsThroughRubricToProto) {
  absl::StatusOr<Rubric> rubric = RubricFromProto(CheckedRubric());
  ASSERT_TRUE(rubric.ok());
  pb::Rubric out;
  RubricToProto(*rubric, &out);
  pb::Rubric expected = CheckedRubric();
  expected.set_version(rubric->version);
  EXPECT_EQ(out.SerializeAsString(), expected.SerializeAsString())
      << out.DebugString() << "\nvs\n"
      << expected.DebugString();
}

TEST(RubricFromProto, AnUnnamedRubricIsInline) {
  pb::Rubric proto = CheckedRubric();
  proto.clear_id();
  absl::StatusOr<Rubric> rubric = RubricFromProto(proto);
  ASSERT_TRUE(rubric.ok());
  EXPECT_EQ(rubric->id, "inline");
}

TEST(RubricFromProto, ErrorsAreInvalidArgumentNamingTheProblem) {
  pb::Rubric empty;
  absl::Status s = RubricFromProto(empty).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("inline rubric: "));

  pb::Rubric unknown_kind = CheckedRubric();
  unknown_kind.mutable_criteria(1)->mutable_check()->set_kind(
      static_cast<pb::Check::Kind>(99));
  s = RubricFromProto(unknown_kind).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "criterion 'four': unknown check kind 99");

  pb::Rubric bad_regex = CheckedRubric();
  bad_regex.mutable_criteria(0)->mutable_check()->set_pattern("(unclosed");
  s = RubricFromProto(bad_regex).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("answer-line"));
}

TEST(RubricToProto, EveryCheckKindHasItsProtoKind) {
  const std::pair<Check::Kind, pb::Check::Kind> kinds[] = {
      {Check::Kind::kRegex, pb::Check::REGEX},
      {Check::Kind::kContains, pb::Check::CONTAINS},
      {Check::Kind::kNotContains, pb::Check::NOT_CONTAINS},
      {Check::Kind::kWordCount, pb::Check::WORD_COUNT},
      {Check::Kind::kCharCount, pb::Check::CHAR_COUNT},
      {Check::Kind::kLineCount, pb::Check::LINE_COUNT},
      {Check::Kind::kValidJson, pb::Check::VALID_JSON},
      {Check::Kind::kStartsWith, pb::Check::STARTS_WITH},
      {Check::Kind::kEndsWith, pb::Check::ENDS_WITH},
      {Check::Kind::kNumeric, pb::Check::NUMERIC},
  };
  Rubric rubric;
  for (const auto& [domain, proto] : kinds) {
    Criterion& c = rubric.criteria.emplace_back();
    auto check = std::make_shared<Check>();
    check->kind = domain;
    c.check = std::move(check);
  }
  pb::Rubric out;
  RubricToProto(rubric, &out);
  ASSERT_EQ(out.criteria_size(), static_cast<int>(std::size(kinds)));
  for (size_t i = 0; i < std::size(kinds); ++i) {
    EXPECT_EQ(out.criteria(i).check().kind(), kinds[i].second) << i;
  }
}

TEST(OptionsFromProto, ModesFormulasAndPolicies) {
  EXPECT_EQ(GradingModeFromProto(pb::GRADING_MODE_UNSPECIFIED),
            GradingMode::kDefault);
  EXPECT_EQ(GradingModeFromProto(pb::ALL_IN_ONE), GradingMode::kAllInOne);
  EXPECT_EQ(GradingModeFromProto(pb::PER_CRITERION),
            GradingMode::kPerCriterion);
  EXPECT_EQ(GradingModeFromProto(pb::CHUNKED), GradingMode::kChunked);

  pb::GradeOptions options;
  ScoringOptions s = ScoringFromProto(options);
  EXPECT_EQ(s.formula, ScoringFormula::kWeightedFraction);
  EXPECT_EQ(s.missing, MissingPolicy::kStrict);
  EXPECT_FALSE(s.clip);

  options.set_formula(pb::HEALTHBENCH);
  options.set_missing_policy(pb::RENORMALIZE);
  options.set_clip(true);
  s = ScoringFromProto(options);
  EXPECT_EQ(s.formula, ScoringFormula::kHealthBench);
  EXPECT_EQ(s.missing, MissingPolicy::kRenormalize);
  EXPECT_TRUE(s.clip);

  options.set_formula(pb::RAW_SUM);
  options.set_missing_policy(pb::INVALID);
  s = ScoringFromProto(options);
  EXPECT_EQ(s.formula, ScoringFormula::kRawSum);
  EXPECT_EQ(s.missing, MissingPolicy::kInvalid);
}

// A result with one verdict of each kind that matters on the wire.
GradeResult SampleResult() {
  auto rubric = std::make_shared<Rubric>();
  rubric->id = "r1";
  rubric->version = "v1";
  for (const char* id : {"met", "unmet", "timeout"}) {
    Criterion& c = rubric->criteria.emplace_back();
    c.id = id;
    c.weight = 2;
  }
  auto input = std::make_shared<GradeInput>();
  input->rubric = rubric;
  input->rubric_set = "set";
  GradeResult result;
  result.input = input;
  result.judge = "embedded";
  result.verdicts.resize(3);
  Verdict& met = result.verdicts[0];
  met.status = CriterionStatus::kOk;
  met.met = true;
  met.probability = 0.9;
  met.explanation = "because";
  met.cached = true;
  met.agreement = 0.8;
  Verdict& unmet = result.verdicts[1];
  unmet.status = CriterionStatus::kOk;
  unmet.explanation = "why not";
  Verdict& timeout = result.verdicts[2];
  timeout.status = CriterionStatus::kTimeout;
  timeout.explanation = "deadline passed";
  result.score.valid = false;
  result.score.invalid_reason = "1 of 3 criteria have no verdict";
  result.queue_time = absl::Milliseconds(250);
  result.judge_time = absl::Milliseconds(500);
  return result;
}

TEST(GradeResultToProto, FillsEveryCriterionAndTheTimings) {
  pb::GradeResponse out;
  GradeResultToProto(SampleResult(), /*include_explanations=*/true, &out);
  EXPECT_FALSE(out.valid());
  EXPECT_EQ(out.invalid_reason(), "1 of 3 criteria have no verdict");
  EXPECT_EQ(out.rubric_set(), "set");
  EXPECT_EQ(out.rubric_id(), "r1");
  EXPECT_EQ(out.rubric_version(), "v1");
  EXPECT_EQ(out.judge(), "embedded");
  EXPECT_FALSE(out.has_expected_reward());
  ASSERT_EQ(out.criteria_size(), 3);
  const pb::CriterionResult& met = out.criteria(0);
  EXPECT_EQ(met.id(), "met");
  EXPECT_EQ(met.weight(), 2);
  EXPECT_EQ(met.status(), pb::CriterionResult::OK);
  EXPECT_EQ(met.verdict(), pb::CriterionResult::MET);
  EXPECT_DOUBLE_EQ(met.probability(), 0.9);
  EXPECT_DOUBLE_EQ(met.agreement(), 0.8);
  EXPECT_TRUE(met.cached());
  EXPECT_EQ(met.explanation(), "because");
  EXPECT_EQ(out.criteria(1).verdict(), pb::CriterionResult::UNMET);
  EXPECT_EQ(out.criteria(2).status(), pb::CriterionResult::TIMEOUT);
  EXPECT_EQ(out.criteria(2).verdict(), pb::CriterionResult::UNKNOWN);
  EXPECT_DOUBLE_EQ(out.timings().queue_seconds(), 0.25);
  EXPECT_DOUBLE_EQ(out.timings().judge_seconds(), 0.5);
  EXPECT_TRUE(out.request_id().empty());  // the caller's to set
}

TEST(GradeResultToProto, ExplanationsOnlyWhenAskedOrForErrors) {
  pb::GradeResponse out;
  GradeResultToProto(SampleResult(), /*include_explanations=*/false, &out);
  EXPECT_EQ(out.criteria(0).explanation(), "");
  EXPECT_EQ(out.criteria(1).explanation(), "");
  // An error always says what went wrong.
  EXPECT_EQ(out.criteria(2).explanation(), "deadline passed");
}

TEST(GradeResultToProto, AValidResultHasNoInvalidReason) {
  GradeResult result = SampleResult();
  result.score.valid = true;
  result.score.invalid_reason.clear();
  result.score.reward = 0.5;
  result.score.expected_reward = 0.45;
  pb::GradeResponse out;
  GradeResultToProto(result, false, &out);
  EXPECT_TRUE(out.valid());
  EXPECT_EQ(out.invalid_reason(), "");
  EXPECT_DOUBLE_EQ(out.reward(), 0.5);
  EXPECT_DOUBLE_EQ(out.expected_reward(), 0.45);
}

}  // namespace
}  // namespace rewardd

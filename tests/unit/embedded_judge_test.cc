// The embedded judge as the grading engine sees it: the Judge contract
// (callback exactly once, verdicts parallel to the work, cancellation and
// deadlines), exact checks and the heuristic through one interface, and the
// profile cache never changing a result.
#include "server/judge/embedded/embedded_judge.h"

#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/judge/embedded/lexical_heuristic.h"
#include "server/judge/embedded/profile_cache.h"
#include "server/judge/judge_registry.h"

namespace rewardd {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

Criterion WithCheck(std::string id, Check check) {
  Criterion c;
  c.id = std::move(id);
  c.text = "machine-checked";
  c.check = std::make_shared<const Check>(std::move(check));
  return c;
}

Criterion Plain(std::string id, std::string text, double weight = 1) {
  Criterion c;
  c.id = std::move(id);
  c.text = std::move(text);
  c.weight = weight;
  return c;
}

// c0: contains "ibuprofen"; c1: heuristic; c2: word_count <= 5;
// c3: regex "\bfever\b".
std::shared_ptr<const Rubric> MixedRubric() {
  auto r = std::make_shared<Rubric>();
  r->id = "mixed";
  Check contains;
  contains.kind = Check::Kind::kContains;
  contains.values = {"ibuprofen"};
  r->criteria.push_back(WithCheck("c0", contains));
  r->criteria.push_back(
      Plain("c1", "Recommends hydration and rest for the fever."));
  Check words;
  words.kind = Check::Kind::kWordCount;
  words.max = 5;
  r->criteria.push_back(WithCheck("c2", words));
  Check regex;
  regex.kind = Check::Kind::kRegex;
  regex.pattern = R"(\bfever\b)";
  r->criteria.push_back(WithCheck("c3", regex));
  const absl::Status s = ValidateRubric(*r);
  EXPECT_TRUE(s.ok()) << s;
  r->version = RubricVersion(*r);
  return r;
}

std::shared_ptr<GradeInput> Input(std::shared_ptr<const Rubric> rubric,
                                  std::string response) {
  auto in = std::make_shared<GradeInput>();
  in->rubric = std::move(rubric);
  in->response = std::move(response);
  return in;
}

// Grades and returns the result, checking the callback ran exactly once and
// before Grade() returned.
JudgeResult GradeNow(Judge& judge, std::shared_ptr<const GradeInput> input,
                     std::vector<uint32_t> criteria) {
  int calls = 0;
  absl::StatusOr<JudgeResult> got;
  judge.Grade(JudgeWork{std::move(input), std::move(criteria)},
              [&](absl::StatusOr<JudgeResult> r) {
                ++calls;
                got = std::move(r);
              });
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(got.ok()) << got.status();
  return got.ok() ? *std::move(got) : JudgeResult{};
}

TEST(EmbeddedJudge, NameAndMode) {
  EXPECT_EQ(EmbeddedJudge().name(), "embedded");
  EmbeddedJudgeOptions options;
  options.name = "offline";
  EmbeddedJudge judge(options);
  EXPECT_EQ(judge.name(), "offline");
  EXPECT_EQ(judge.default_mode(), GradingMode::kAllInOne);
}

TEST(EmbeddedJudge, VerdictsAreParallelToTheWorkCriteria) {
  EmbeddedJudge judge;
  const std::string response =
      "For the fever, take ibuprofen, plus hydration and rest.";
  const JudgeResult r =
      GradeNow(judge, Input(MixedRubric(), response), {3, 2, 0, 1});
  ASSERT_EQ(r.verdicts.size(), 4u);
  for (const Verdict& v : r.verdicts) {
    EXPECT_EQ(v.status, CriterionStatus::kOk);
    ASSERT_TRUE(v.probability.has_value());
  }
  // c3 regex: met; c2 word count (9 words > 5): not met; c0: met.
  EXPECT_TRUE(r.verdicts[0].met);
  EXPECT_EQ(*r.verdicts[0].probability, 1.0);
  EXPECT_FALSE(r.verdicts[1].met);
  EXPECT_EQ(*r.verdicts[1].probability, 0.0);
  EXPECT_TRUE(r.verdicts[2].met);
  // c1 heuristic: 3 of its 4 key terms (all but "recommends") are there.
  EXPECT_TRUE(r.verdicts[3].met);
  EXPECT_GT(*r.verdicts[3].probability, 0.5);
  EXPECT_LE(*r.verdicts[3].probability, 1.0);
}

TEST(EmbeddedJudge, EmptyWorkStillAnswersOnce) {
  EmbeddedJudge judge;
  EXPECT_THAT(GradeNow(judge, Input(MixedRubric(), "x"), {}).verdicts,
              IsEmpty());
}

TEST(EmbeddedJudge, ExplanationsOnlyWhenAsked) {
  EmbeddedJudge judge;
  auto in = Input(MixedRubric(), "Take aspirin.");
  const JudgeResult quiet = GradeNow(judge, in, {0, 1, 2, 3});
  for (const Verdict& v : quiet.verdicts) EXPECT_THAT(v.explanation, IsEmpty());

  in->include_explanations = true;
  const JudgeResult loud = GradeNow(judge, in, {0, 1, 2, 3});
  EXPECT_THAT(loud.verdicts[0].explanation, HasSubstr("missing 'ibuprofen'"));
  EXPECT_THAT(loud.verdicts[1].explanation, HasSubstr("heuristic"));
  EXPECT_THAT(loud.verdicts[2].explanation, HasSubstr("2 words"));
  EXPECT_THAT(loud.verdicts[3].explanation, HasSubstr("not found"));
}

TEST(EmbeddedJudge, CancelledInputIsSkipped) {
  EmbeddedJudge judge;
  auto in = Input(MixedRubric(), "fever ibuprofen");
  auto cancel = std::make_shared<Cancellation>();
  cancel->Cancel();
  in->cancellation = cancel;
  const JudgeResult r = GradeNow(judge, in, {0, 1, 2});
  ASSERT_EQ(r.verdicts.size(), 3u);
  for (const Verdict& v : r.verdicts) {
    EXPECT_EQ(v.status, CriterionStatus::kSkipped);
  }
}

TEST(EmbeddedJudge, UncancelledFlagDoesNotSkip) {
  EmbeddedJudge judge;
  auto in = Input(MixedRubric(), "fever ibuprofen");
  in->cancellation = std::make_shared<Cancellation>();
  const JudgeResult r = GradeNow(judge, in, {0});
  EXPECT_EQ(r.verdicts[0].status, CriterionStatus::kOk);
}

TEST(EmbeddedJudge, PastDeadlineTimesOut) {
  EmbeddedJudge judge;
  auto in = Input(MixedRubric(), "fever ibuprofen");
  in->deadline = absl::Now() - absl::Seconds(1);
  const JudgeResult r = GradeNow(judge, in, {0, 1});
  ASSERT_EQ(r.verdicts.size(), 2u);
  for (const Verdict& v : r.verdicts) {
    EXPECT_EQ(v.status, CriterionStatus::kTimeout);
  }
}

TEST(EmbeddedJudge, BadIndexAndBadRegexAreJudgeErrorsForThatCriterionOnly) {
  auto rubric = std::make_shared<Rubric>();
  rubric->id = "unvalidated";
  Check bad;
  bad.kind = Check::Kind::kRegex;
  bad.pattern = "(unclosed";
  rubric->criteria.push_back(WithCheck("bad", bad));
  rubric->criteria.push_back(Plain("ok", "Mentions hydration."));
  EmbeddedJudge judge;
  const JudgeResult r = GradeNow(judge, Input(rubric, "hydration"), {0, 7, 1});
  EXPECT_EQ(r.verdicts[0].status, CriterionStatus::kJudgeError);
  EXPECT_THAT(r.verdicts[0].explanation, HasSubstr("RE2"));
  EXPECT_EQ(r.verdicts[1].status, CriterionStatus::kJudgeError);
  EXPECT_THAT(r.verdicts[1].explanation, HasSubstr("out of range"));
  EXPECT_EQ(r.verdicts[2].status, CriterionStatus::kOk);
  EXPECT_TRUE(r.verdicts[2].met);
}

TEST(EmbeddedJudge, MissingInputIsReportedNotCrashed) {
  EmbeddedJudge judge;
  const JudgeResult r = GradeNow(judge, nullptr, {0, 1});
  ASSERT_EQ(r.verdicts.size(), 2u);
  EXPECT_EQ(r.verdicts[0].status, CriterionStatus::kJudgeError);
}

TEST(EmbeddedJudge, IsFoundThroughTheRegistry) {
  JudgeRegistry judges;
  ASSERT_TRUE(judges.Add(std::make_shared<EmbeddedJudge>()).ok());
  absl::StatusOr<Judge*> j = judges.Find("");
  ASSERT_TRUE(j.ok()) << j.status();
  EXPECT_EQ((*j)->name(), "embedded");
}

// --- real data, cache, threads ------------------------------------------

struct HealthBenchCase {
  std::shared_ptr<const Rubric> rubric;
  std::string ideal;
};

std::vector<HealthBenchCase> LoadHealthBench() {
  std::ifstream in(std::string(REWARDD_SHARED_DATA) +
                   "/healthbench/healthbench_oss_eval_sample.jsonl");
  EXPECT_TRUE(in.good());
  std::vector<HealthBenchCase> cases;
  std::string line;
  while (std::getline(in, line)) {
    const nlohmann::json j = nlohmann::json::parse(line);
    if (j.at("ideal_completions_data").is_null()) continue;
    auto r = std::make_shared<Rubric>();
    r->id = j.at("prompt_id").get<std::string>();
    int n = 0;
    for (const auto& c : j.at("rubrics")) {
      r->criteria.push_back(Plain(absl::StrCat("c", ++n),
                                  c.at("criterion").get<std::string>(),
                                  c.at("points").get<double>()));
    }
    EXPECT_TRUE(ValidateRubric(*r).ok());
    r->version = RubricVersion(*r);
    cases.push_back({r, j.at("ideal_completions_data")
                            .at("ideal_completion")
                            .get<std::string>()});
  }
  return cases;
}

std::vector<uint32_t> All(const Rubric& r) {
  std::vector<uint32_t> all(r.criteria.size());
  for (uint32_t i = 0; i < all.size(); ++i) all[i] = i;
  return all;
}

// met/probability per criterion, for comparing runs.
std::vector<std::pair<bool, double>> Outcome(const JudgeResult& r) {
  std::vector<std::pair<bool, double>> out;
  for (const Verdict& v : r.verdicts) {
    out.emplace_back(v.met, v.probability.value_or(-1));
  }
  return out;
}

TEST(EmbeddedJudgeHealthBench, CachedProfilesGiveTheSameVerdictsAsFreshOnes) {
  const std::vector<HealthBenchCase> cases = LoadHealthBench();
  ASSERT_FALSE(cases.empty());
  EmbeddedJudge cached;
  EmbeddedJudgeOptions no_cache_options;
  no_cache_options.profile_cache_capacity = 0;
  EmbeddedJudge uncached(no_cache_options);
  int met = 0;
  for (size_t k = 0; k < cases.size(); ++k) {
    const HealthBenchCase& c = cases[k];
    // Each rubric twice (a miss then a hit), with two responses.
    for (const std::string* response :
         {&c.ideal, &cases[(k + 1) % cases.size()].ideal}) {
      auto in = Input(c.rubric, *response);
      const JudgeResult a = GradeNow(cached, in, All(*c.rubric));
      const JudgeResult b = GradeNow(uncached, in, All(*c.rubric));
      EXPECT_EQ(Outcome(a), Outcome(b));
      // And the judge agrees with the heuristic used directly.
      for (size_t i = 0; i < a.verdicts.size(); ++i) {
        const HeuristicResult h =
            EvaluateHeuristic(c.rubric->criteria[i].text, *response);
        EXPECT_EQ(a.verdicts[i].met, h.met);
        met += a.verdicts[i].met;
      }
    }
  }
  EXPECT_GT(met, 0);  // the comparison above is not vacuous
}

TEST(EmbeddedJudgeHealthBench, ConcurrentGradingMatchesSerialGrading) {
  const std::vector<HealthBenchCase> cases = LoadHealthBench();
  ASSERT_FALSE(cases.empty());
  EmbeddedJudgeOptions options;
  options.profile_cache_capacity = 4;  // smaller than the rubric count: evicts
  EmbeddedJudge judge(options);
  std::vector<std::vector<std::pair<bool, double>>> serial;
  for (const HealthBenchCase& c : cases) {
    serial.push_back(
        Outcome(GradeNow(judge, Input(c.rubric, c.ideal), All(*c.rubric))));
  }
  std::vector<std::vector<std::vector<std::pair<bool, double>>>> parallel(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round) {
        for (size_t k = 0; k < cases.size(); ++k) {
          const HealthBenchCase& c = cases[(k + t) % cases.size()];
          JudgeResult r;
          judge.Grade(
              JudgeWork{Input(c.rubric, c.ideal), All(*c.rubric)},
              [&](absl::StatusOr<JudgeResult> got) { r = *std::move(got); });
          if (round == 0) parallel[t].push_back(Outcome(r));
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < 4; ++t) {
    for (size_t k = 0; k < cases.size(); ++k) {
      EXPECT_EQ(parallel[t][k], serial[(k + t) % cases.size()]);
    }
  }
}

TEST(ProfileCache, IsBoundedAndForgetsFreedRubrics) {
  ProfileCache cache(3);
  std::vector<std::shared_ptr<const Rubric>> alive;
  for (int i = 0; i < 10; ++i) {
    auto r = std::make_shared<Rubric>();
    r->id = absl::StrCat("r", i);
    r->criteria.push_back(Plain("c1", absl::StrCat("Mentions topic", i)));
    std::shared_ptr<const Rubric> cr = r;
    EXPECT_EQ(cache.Get(cr)->size(), 1u);
    EXPECT_LE(cache.size(), 3u);
    if (i % 2 == 0) alive.push_back(cr);
  }
  // A hit returns the same profiles object; a rubric with the same address
  // but a new version (or a new object) does not.
  auto r = std::make_shared<Rubric>();
  r->criteria.push_back(Plain("c1", "Mentions hydration"));
  r->version = "v1";
  std::shared_ptr<const Rubric> cr = r;
  auto first = cache.Get(cr);
  EXPECT_EQ(cache.Get(cr), first);
  r->criteria[0].text = "Mentions rest";
  r->version = "v2";
  auto second = cache.Get(cr);
  EXPECT_NE(second, first);
  EXPECT_THAT((*second)[0].keys, Not(IsEmpty()));
  EXPECT_NE((*second)[0].keys, (*first)[0].keys);
}

}  // namespace
}  // namespace rewardd

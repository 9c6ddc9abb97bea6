// The lexical heuristic of the embedded judge: its documented rules (phrases,
// keys, stemming, threshold) and, on real HealthBench rubrics, the one
// behavioural property it is for: a response written for a prompt meets more
// of that prompt's positive criteria than a response written for another.
#include "server/judge/embedded/lexical_heuristic.h"

#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace rewardd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// --- rules -----------------------------------------------------------------

TEST(LexicalHeuristic, StemmingJoinsInflections) {
  const std::string recommend = StemForTest("recommend");
  EXPECT_EQ(StemForTest("Recommends"), recommend);
  EXPECT_EQ(StemForTest("recommended"), recommend);
  EXPECT_EQ(StemForTest("recommendation"), recommend);
  EXPECT_EQ(StemForTest("recommendations"), recommend);
  EXPECT_EQ(StemForTest("therapies"), StemForTest("therapy"));
  EXPECT_EQ(StemForTest("provides"), StemForTest("provide"));
  EXPECT_EQ(StemForTest("providing"), StemForTest("provided"));
  EXPECT_EQ(StemForTest("stopping"), StemForTest("stop"));
  EXPECT_EQ(StemForTest("doses"), StemForTest("dose"));
  EXPECT_EQ(StemForTest("glasses"), StemForTest("glass"));
  EXPECT_EQ(StemForTest("symptoms"), StemForTest("symptom"));
  // Words that only look inflected stay apart.
  EXPECT_NE(StemForTest("diagnosis"), StemForTest("diagnose"));
}

TEST(LexicalHeuristic, ProfileDropsStopwordsAndBoilerplate) {
  const CriterionProfile p = BuildCriterionProfile(
      "The response clearly mentions that the patient should rest, and "
      "includes hydration.");
  EXPECT_THAT(p.phrases, IsEmpty());
  EXPECT_THAT(p.keys, ElementsAre(StemForTest("patient"), StemForTest("rest"),
                                  StemForTest("hydration")));
}

TEST(LexicalHeuristic, AcronymsAndNumbersAreKeys) {
  const CriterionProfile p =
      BuildCriterionProfile("Checks TSH within 48 hours; dose 1,000 mg.");
  EXPECT_THAT(p.keys,
              ElementsAre(StemForTest("checks"), "tsh", "48",
                          StemForTest("hours"), StemForTest("dose"), "1000"));
  // Numbers match by value, words by stem, regardless of case.
  EXPECT_TRUE(
      EvaluateHeuristic("Checks TSH within 48 hours; dose 1,000 mg.",
                        "We checked the tsh at 48 HOURS; a 1000 mg dose.")
          .met);
}

TEST(LexicalHeuristic, QuotedPhrasesMustAllOccur) {
  const std::string criterion =
      "Uses the term \"subclinical hypothyroidism\" when explaining the "
      "thyroid results.";
  const std::string without =
      "Your thyroid results suggest mild hypothyroidism; explaining the "
      "results, this is subclinical.";
  const std::string with =
      "Your thyroid results suggest SUBCLINICAL HYPOTHYROIDISM.";
  const HeuristicResult miss = EvaluateHeuristic(criterion, without, {}, true);
  EXPECT_FALSE(miss.met);
  EXPECT_GE(miss.coverage, 0.5);  // the words are there, the phrase is not
  EXPECT_THAT(miss.explanation,
              HasSubstr("missing quoted 'subclinical hypothyroidism'"));
  EXPECT_TRUE(EvaluateHeuristic(criterion, with).met);
}

TEST(LexicalHeuristic, QuoteStylesRoleLabelsAndApostrophes) {
  EXPECT_THAT(
      BuildCriterionProfile("Says “seek care” or ‘call 911’ or «срочно» "
                            "or 'rest now'.")
          .phrases,
      ElementsAre("seek care", "call 911", "срочно", "rest now"));
  // HealthBench cluster boilerplate names the parties in quotes; the
  // response need not contain "User".
  EXPECT_THAT(BuildCriterionProfile("A non-health professional (\"User\") is "
                                    "conversing with (\"Assistant\").")
                  .phrases,
              IsEmpty());
  // Apostrophes are not quotes.
  EXPECT_THAT(BuildCriterionProfile("Notes the patient's and doctor's views, "
                                    "don't guess, it’s fine.")
                  .phrases,
              IsEmpty());
  // Long quotes are example wording, not required text.
  EXPECT_THAT(
      BuildCriterionProfile("Says something like \"I wanted to let you "
                            "know that your recent results are great\".")
          .phrases,
      IsEmpty());
}

TEST(LexicalHeuristic, CyrillicPhrasesMatchIgnoringCase) {
  const std::string criterion =
      "Translates as \"Продолжительные грибковые нарушения\".";
  EXPECT_TRUE(EvaluateHeuristic(criterion,
                                "Перевод: продолжительные ГРИБКОВЫЕ нарушения.")
                  .met);
  EXPECT_FALSE(
      EvaluateHeuristic(criterion, "Перевод: грибковые нарушения.").met);
}

TEST(LexicalHeuristic, ThresholdDecidesMetButNotCoverage) {
  const std::string criterion =
      "Recommends hydration, rest, paracetamol and monitoring temperature.";
  const std::string response = "Drink fluids for hydration and get rest.";
  const HeuristicResult low = EvaluateHeuristic(criterion, response, {0.3});
  const HeuristicResult high = EvaluateHeuristic(criterion, response, {0.9});
  EXPECT_DOUBLE_EQ(low.coverage, high.coverage);
  EXPECT_GT(low.coverage, 0.3);
  EXPECT_LT(low.coverage, 0.9);
  EXPECT_TRUE(low.met);
  EXPECT_FALSE(high.met);
}

TEST(LexicalHeuristic, CriterionWithoutKeysIsNeverMet) {
  const HeuristicResult r =
      EvaluateHeuristic("The response should be clear.", "anything", {}, true);
  EXPECT_FALSE(r.met);
  EXPECT_EQ(r.coverage, 0);
  EXPECT_THAT(r.explanation, HasSubstr("no key terms"));
}

TEST(LexicalHeuristic, ExplanationNamesMissingTerms) {
  const HeuristicResult r = EvaluateHeuristic(
      "Recommends hydration and paracetamol.", "Hydration matters.", {}, true);
  EXPECT_THAT(r.explanation, HasSubstr("/3 key terms"));
  EXPECT_THAT(r.explanation, HasSubstr(StemForTest("paracetamol")));
  EXPECT_TRUE(EvaluateHeuristic("Recommends hydration and paracetamol.",
                                "Hydration matters.")
                  .explanation.empty());
}

// --- real HealthBench data -------------------------------------------------

struct Record {
  std::vector<std::string> criteria;
  std::vector<double> points;
  std::string ideal;  // empty when the record has none
  std::vector<std::string> references;
};

std::vector<Record> LoadHealthBench() {
  std::ifstream in(std::string(REWARDD_SHARED_DATA) +
                   "/healthbench/healthbench_oss_eval_sample.jsonl");
  EXPECT_TRUE(in.good()) << "HealthBench sample missing";
  std::vector<Record> records;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const nlohmann::json j = nlohmann::json::parse(line);
    Record r;
    for (const auto& c : j.at("rubrics")) {
      r.criteria.push_back(c.at("criterion").get<std::string>());
      r.points.push_back(c.at("points").get<double>());
    }
    const auto& ideal = j.at("ideal_completions_data");
    if (!ideal.is_null()) {
      r.ideal = ideal.at("ideal_completion").get<std::string>();
      for (const auto& ref : ideal.at("ideal_completions_ref_completions")) {
        r.references.push_back(ref.get<std::string>());
      }
    }
    records.push_back(std::move(r));
  }
  return records;
}

// Positive criteria of `record` the heuristic says `response` meets.
int PositiveMet(const Record& record, const std::string& response) {
  const ResponseIndex index(response);
  int met = 0;
  for (size_t i = 0; i < record.criteria.size(); ++i) {
    if (record.points[i] <= 0) continue;
    met += EvaluateHeuristic(BuildCriterionProfile(record.criteria[i]), index,
                             HeuristicOptions{})
               .met;
  }
  return met;
}

TEST(LexicalHeuristicHealthBench, OnTopicResponsesMeetMorePositiveCriteria) {
  const std::vector<Record> records = LoadHealthBench();
  std::vector<const Record*> with_ideal;
  for (const Record& r : records) {
    if (!r.ideal.empty()) with_ideal.push_back(&r);
  }
  ASSERT_GE(with_ideal.size(), 10u);

  // Each ideal completion against its own rubric and against the rubric of
  // the next record (an unrelated but equally fluent medical answer).
  int own_total = 0, other_total = 0, wins = 0, losses = 0;
  for (size_t k = 0; k < with_ideal.size(); ++k) {
    const Record& own = *with_ideal[k];
    const Record& other = *with_ideal[(k + 1) % with_ideal.size()];
    const int own_met = PositiveMet(own, own.ideal);
    const int other_met = PositiveMet(own, other.ideal);
    own_total += own_met;
    other_total += other_met;
    wins += own_met > other_met;
    losses += own_met < other_met;
  }
  EXPECT_GT(own_total, 2 * other_total)
      << "own " << own_total << " vs unrelated " << other_total;
  EXPECT_GT(wins, 3 * losses) << wins << " wins, " << losses << " losses";

  // The physicians' reference completions are on topic too.
  int ref_total = 0, ref_other_total = 0;
  for (size_t k = 0; k < with_ideal.size(); ++k) {
    const Record& own = *with_ideal[k];
    const Record& other = *with_ideal[(k + 1) % with_ideal.size()];
    for (size_t j = 0; j < own.references.size() && j < other.references.size();
         ++j) {
      ref_total += PositiveMet(own, own.references[j]);
      ref_other_total += PositiveMet(own, other.references[j]);
    }
  }
  EXPECT_GT(ref_total, 2 * ref_other_total)
      << "own " << ref_total << " vs unrelated " << ref_other_total;
}

TEST(LexicalHeuristicHealthBench, DeterministicAcrossRuns) {
  const std::vector<Record> records = LoadHealthBench();
  auto run = [&] {
    std::vector<std::pair<bool, double>> out;
    for (const Record& r : records) {
      if (r.ideal.empty()) continue;
      const ResponseIndex index(r.ideal);
      for (const std::string& c : r.criteria) {
        const HeuristicResult h =
            EvaluateHeuristic(BuildCriterionProfile(c), index, {});
        out.emplace_back(h.met, h.coverage);
      }
    }
    return out;
  };
  const auto first = run();
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(first, run());
  for (const auto& [met, coverage] : first) {
    EXPECT_GE(coverage, 0.0);
    EXPECT_LE(coverage, 1.0);
  }
}

}  // namespace
}  // namespace rewardd

// judge-sim's proposer: which requests are proposer calls, the scripted
// mode's matching, and the oracle's criteria from content one response of
// the pair has and the other lacks, read back by rewardd's own parser from a
// prompt rendered by rewardd's own templates.
#include "tools/judge-sim/sim_proposer.h"

#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/elicitation/proposal_parser.h"
#include "server/elicitation/proposer_templates.h"

namespace rewardd {
namespace {

using ::testing::HasSubstr;

std::string RefinePrompt(const Rubric& rubric, std::string a, std::string b) {
  const ProposerTemplates t = ProposerTemplates::Default();
  RefinePromptInput in;
  in.prompt = "What helps a fever?";
  in.rubric = &rubric;
  in.response_a = std::move(a);
  in.response_b = std::move(b);
  return t.refine_system() + "\n" + t.RenderRefine(in);
}

Rubric OneCriterion() {
  Rubric r;
  Criterion c;
  c.id = "c1";
  c.text = "The response mentions \"fluids\"";
  c.weight = 3;
  r.criteria.push_back(c);
  return r;
}

TEST(SimProposerTest, RecognisesProposerCallsByMarkerOrModel) {
  EXPECT_TRUE(SimProposer::IsProposerRequest(
      "m", RefinePrompt(OneCriterion(), "a", "b")));
  EXPECT_TRUE(SimProposer::IsProposerRequest("proposer-sim", "anything"));
  EXPECT_FALSE(SimProposer::IsProposerRequest("judge-sim", "[c1] Mentions"));
}

TEST(SimProposerTest, OracleAddsTermsOfTheRicherResponseOnly) {
  const std::string text =
      RefinePrompt(OneCriterion(), "Drink fluids.",
                   "Drink fluids, take paracetamol, and monitor temperature.");
  const ProposalParse p = ParseProposal(SimOracleProposal(text));
  ASSERT_TRUE(p.found) << p.error;
  ASSERT_EQ(p.criteria.size(), 3u);
  EXPECT_EQ(p.criteria[0].id, "c1");  // the current rubric is kept
  EXPECT_EQ(p.criteria[1].text, "The response mentions \"paracetamol\"");
  EXPECT_EQ(p.criteria[2].text, "The response mentions \"monitor\"");
  EXPECT_EQ(p.criteria[2].weight, 2);
  // Nothing tells the pair apart: the rubric comes back unchanged.
  const ProposalParse same = ParseProposal(SimOracleProposal(
      RefinePrompt(OneCriterion(), "Drink fluids.", "drink FLUIDS")));
  ASSERT_TRUE(same.found);
  EXPECT_EQ(same.criteria.size(), 1u);
}

TEST(SimProposerTest, OracleWritesAnInitialRubricFromThePrompt) {
  const ProposerTemplates t = ProposerTemplates::Default();
  InitialPromptInput in;
  in.prompt = "Explain fever management for toddlers at night";
  const ProposalParse p = ParseProposal(SimOracleProposal(t.RenderInitial(in)));
  ASSERT_TRUE(p.found) << p.error;
  ASSERT_EQ(p.criteria.size(), 4u);
  EXPECT_EQ(p.criteria[0].text, "The response mentions \"explain\"");
}

TEST(SimProposerTest, ScriptedModeAnswersTheFirstMatchingEntry) {
  const std::string path = ::testing::TempDir() + "/script.json";
  std::ofstream(path) << R"({"proposals": [
      {"when": ["Current rubric:", "paracetamol"],
       "rubric": [{"criterion": "Mentions dosing", "weight": 2}]},
      {"when": ["Current rubric:"], "text": "```json\n[]\n```"}]})";
  absl::StatusOr<SimProposer> p = SimProposer::Load(path);
  ASSERT_TRUE(p.ok()) << p.status();
  SimProposer::Answer a =
      p->Respond(RefinePrompt(OneCriterion(), "x", "paracetamol"));
  EXPECT_EQ(a.kind, SimProposer::Kind::kScripted);
  EXPECT_THAT(a.content, HasSubstr("Mentions dosing"));
  a = p->Respond(RefinePrompt(OneCriterion(), "x", "y"));
  EXPECT_EQ(a.content, "```json\n[]\n```");
  a = p->Respond("Write a rubric");
  EXPECT_EQ(a.kind, SimProposer::Kind::kUnmatched);
  EXPECT_FALSE(ParseProposal(a.content).found);

  std::ofstream(path) << R"({"proposals": [{"when": "x", "text": "y"}]})";
  EXPECT_THAT(SimProposer::Load(path).status().message(),
              HasSubstr("proposals[0].when must be a list"));
}

}  // namespace
}  // namespace rewardd

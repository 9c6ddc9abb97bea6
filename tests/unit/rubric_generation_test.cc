// Initial rubrics and the reading of proposer replies: a reply is parsed
// and validated in one step whose error says what was wrong (cut off, no
// list, a bad criterion); GenerateRubric passes a failed call's status on,
// numbers the criteria c1..cN and records where the rubric came from.
#include "server/elicitation/rubric_generation.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rewardd {
namespace {

using ::testing::HasSubstr;

// Answers every request at once with a fixed reply (or error), keeping
// the last request it saw.
class FixedProposer : public Proposer {
 public:
  explicit FixedProposer(absl::StatusOr<ProposerReply> reply)
      : reply_(std::move(reply)) {}
  const std::string& name() const override { return name_; }
  const std::string& model() const override { return model_; }
  const std::string& template_version() const override { return version_; }
  void Propose(ProposalRequest request, ProposerCallback done) override {
    last_ = std::move(request);
    std::move(done)(reply_);
  }
  const ProposalRequest& last() const { return last_; }

 private:
  const absl::StatusOr<ProposerReply> reply_;
  const std::string name_ = "fixed", model_ = "m", version_ = "rtd-v1-x";
  ProposalRequest last_;
};

ProposerReply Reply(std::string text, bool truncated = false) {
  ProposerReply r;
  r.text = std::move(text);
  r.truncated = truncated;
  r.model = "served-model";
  return r;
}

absl::StatusOr<GeneratedRubric> Generate(std::shared_ptr<Proposer> p,
                                         GenerateJob job) {
  absl::StatusOr<GeneratedRubric> out = absl::UnknownError("not called");
  GenerateRubric(
      std::move(p), std::move(job),
      [&out](absl::StatusOr<GeneratedRubric> g) { out = std::move(g); });
  return out;
}

TEST(RubricGenerationTest, ReadProposalReplySaysWhatWasWrong) {
  CriterionIdAllocator ids;
  ValidationOptions o;
  EXPECT_THAT(
      ReadProposalReply(Reply("[{\"criterion\": \"a\", \"wei"), nullptr, o, ids)
          .status()
          .message(),
      HasSubstr("truncated answer"));
  EXPECT_THAT(
      ReadProposalReply(Reply("no rubric"), nullptr, o, ids).status().message(),
      HasSubstr("unusable answer: no JSON list"));
  EXPECT_THAT(ReadProposalReply(Reply("[{\"criterion\": \"a\", \"weight\": "
                                      "\"x\"}]"),
                                nullptr, o, ids)
                  .status()
                  .message(),
              HasSubstr("invalid proposal: criterion #1"));
  absl::StatusOr<ValidatedProposal> ok = ReadProposalReply(
      Reply("[{\"criterion\": \"a\", \"weight\": 2}]", true), nullptr, o, ids);
  // A complete list is used even when the API said "length" afterwards.
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->rubric.criteria[0].id, "c1");
}

TEST(RubricGenerationTest, GeneratesANumberedRubricWithProvenance) {
  auto p = std::make_shared<FixedProposer>(
      Reply("```json\n[{\"criterion\": \"Names CST\", \"weight\": 3}, "
            "{\"id\": \"x9\", \"criterion\": \"States urgency\", \"weight\": "
            "2}]\n```"));
  GenerateJob job;
  job.prompt = "Diagnose.";
  job.references = {"CST."};
  job.validation.limits.max_criteria = 5;
  absl::StatusOr<GeneratedRubric> g = Generate(p, std::move(job));
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->rubric->id, PromptDerivedId("Diagnose."));
  EXPECT_EQ(g->rubric->prompt, "Diagnose.");
  ASSERT_EQ(g->rubric->criteria.size(), 2u);
  EXPECT_EQ(g->rubric->criteria[1].id, "c2");  // invented ids are ignored
  EXPECT_EQ(g->provenance.origin, "generated");
  EXPECT_EQ(g->provenance.version, g->rubric->version);
  EXPECT_EQ(g->provenance.proposer, "fixed");
  EXPECT_EQ(g->provenance.proposer_model, "served-model");
  EXPECT_EQ(g->provenance.template_version, "rtd-v1-x");
  EXPECT_EQ(g->warnings.size(), 1u);  // the ignored id
  EXPECT_EQ(p->last().kind, ProposalKind::kInitial);
  EXPECT_EQ(p->last().references.size(), 1u);
  EXPECT_EQ(p->last().limits.max_criteria, 5u);
}

TEST(RubricGenerationTest, AFailedCallKeepsItsStatus) {
  auto p =
      std::make_shared<FixedProposer>(absl::DeadlineExceededError("too slow"));
  GenerateJob job;
  job.prompt = "Diagnose.";
  job.validation.rubric_id = "mine";
  absl::StatusOr<GeneratedRubric> g = Generate(p, std::move(job));
  EXPECT_EQ(g.status().code(), absl::StatusCode::kDeadlineExceeded);
  auto garbage = std::make_shared<FixedProposer>(Reply("I like both."));
  GenerateJob job2;
  job2.prompt = "Diagnose.";
  g = Generate(garbage, std::move(job2));
  EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace rewardd

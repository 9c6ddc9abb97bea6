// RequestResolver against real rubric files (examples/rubrics and the
// shared HealthBench sample) and a real judge registry, without a gRPC
// server: every request error names its field and has the code the README
// promises, and good requests resolve to the rubric and options they name.
#include "server/service/request_resolver.h"

#include <fstream>
#include <functional>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/judge/embedded/embedded_judge.h"

namespace rewardd {
namespace {

namespace pb = reward::v1;
using ::testing::HasSubstr;

const std::string kExamples =
    std::string(REWARDD_SOURCE_DIR) + "/examples/rubrics";
const std::string kHealthBench =
    std::string(REWARDD_SHARED_DATA) + "/healthbench";

// A store loaded once from `dir`; the test fails when nothing loads.
std::unique_ptr<RubricStore> LoadedStore(const std::string& dir) {
  RubricStore::Options options;
  options.dir = dir;
  options.poll_interval = absl::ZeroDuration();
  auto store = std::make_unique<RubricStore>(options);
  const ReloadReport report = store->Reload();
  EXPECT_FALSE(report.loaded.empty()) << dir;
  return store;
}

pb::Rubric InlineRubric(int criteria) {
  pb::Rubric rubric;
  rubric.set_id("inline-paris");
  for (int i = 0; i < criteria; ++i) {
    pb::Criterion* c = rubric.add_criteria();
    c->set_id("c" + std::to_string(i));
    c->set_text("Names Paris");
    c->set_weight(1);
    c->mutable_check()->set_kind(pb::Check::CONTAINS);
    c->mutable_check()->add_values("Paris");
  }
  return rubric;
}

class RequestResolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = LoadedStore(kExamples);
    ASSERT_TRUE(judges_.Add(std::make_shared<EmbeddedJudge>()).ok());
    limits_.max_prompt_bytes = 1000;
    limits_.max_criteria_per_rubric = 4;
    limits_.max_response_bytes = 100;
    resolver_ = std::make_unique<RequestResolver>(store_.get(), &judges_,
                                                  limits_, /*cache=*/16);
  }

  absl::Status ErrorOf(const pb::GradeRequest& request) const {
    return resolver_->Resolve(request).status();
  }

  std::unique_ptr<RubricStore> store_;
  JudgeRegistry judges_;
  ResolveLimits limits_;
  std::unique_ptr<RequestResolver> resolver_;
};

TEST_F(RequestResolverTest, RubricByIdFromALoadedSet) {
  pb::GradeRequest request;
  request.set_rubric_set("demo");
  request.set_rubric_id("arith-1");
  request.set_prompt("any prompt");
  request.mutable_options()->set_mode(pb::PER_CRITERION);
  request.mutable_options()->set_chunk_size(3);
  request.mutable_options()->set_votes(5);
  request.mutable_options()->set_include_explanations(true);
  request.mutable_options()->set_skip_cache(true);
  absl::StatusOr<std::shared_ptr<GradeInput>> input =
      resolver_->Resolve(request);
  ASSERT_TRUE(input.ok()) << input.status();
  const GradeInput& in = **input;
  EXPECT_EQ(in.rubric_set, "demo");
  EXPECT_EQ(in.rubric->id, "arith-1");
  EXPECT_EQ(in.rubric->criteria.size(), 4u);
  EXPECT_EQ(in.prompt, "any prompt");
  EXPECT_EQ(in.mode, GradingMode::kPerCriterion);
  EXPECT_EQ(in.chunk_size, 3u);
  EXPECT_EQ(in.votes, 5u);
  EXPECT_TRUE(in.include_explanations);
  EXPECT_TRUE(in.skip_cache);
  EXPECT_TRUE(in.response.empty());  // the caller's to set
  EXPECT_EQ(in.cancellation, nullptr);
}

TEST_F(RequestResolverTest, RubricByPromptFromALoadedSet) {
  std::shared_ptr<const StoreSnapshot> snapshot = store_->snapshot();
  const RubricSet* demo = snapshot->Find("demo");
  ASSERT_NE(demo, nullptr);
  const std::shared_ptr<const Rubric>* arith = demo->FindById("arith-1");
  ASSERT_NE(arith, nullptr);

  pb::GradeRequest request;
  request.set_rubric_set("demo");
  request.set_prompt((*arith)->prompt);
  absl::StatusOr<std::shared_ptr<GradeInput>> input =
      resolver_->Resolve(request);
  ASSERT_TRUE(input.ok()) << input.status();
  EXPECT_EQ((*input)->rubric->id, "arith-1");
  EXPECT_EQ((*input)->rubric.get(), arith->get());  // the store's own rubric
  EXPECT_EQ((*input)->mode, GradingMode::kDefault);
}

TEST(RequestResolverHealthBench, ChatMessagesFindTheRubricWrittenForThem) {
  std::unique_ptr<RubricStore> store = LoadedStore(kHealthBench);
  JudgeRegistry judges;
  ASSERT_TRUE(judges.Add(std::make_shared<EmbeddedJudge>()).ok());
  RequestResolver resolver(store.get(), &judges, ResolveLimits{}, 0);

  std::ifstream in(kHealthBench + "/healthbench_oss_eval_sample.jsonl");
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  const nlohmann::json record = nlohmann::json::parse(line);

  pb::GradeRequest request;
  request.set_rubric_set("healthbench_oss_eval_sample");
  for (const nlohmann::json& m : record["prompt"]) {
    pb::Message* message = request.add_messages();
    message->set_role(m["role"].get<std::string>());
    message->set_content(m["content"].get<std::string>());
  }
  absl::StatusOr<std::shared_ptr<GradeInput>> input = resolver.Resolve(request);
  ASSERT_TRUE(input.ok()) << input.status();
  EXPECT_EQ((*input)->rubric->id, record["prompt_id"].get<std::string>());
  EXPECT_EQ((*input)->rubric->criteria.size(), record["rubrics"].size());
  ASSERT_EQ((*input)->messages.size(), record["prompt"].size());
  EXPECT_EQ((*input)->messages[0].role, "user");
  EXPECT_EQ((*input)->prompt, CanonicalPrompt((*input)->messages));
}

TEST_F(RequestResolverTest, InlineRubricIsValidatedAndCached) {
  pb::GradeRequest request;
  *request.mutable_rubric() = InlineRubric(2);
  absl::StatusOr<std::shared_ptr<GradeInput>> first =
      resolver_->Resolve(request);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ((*first)->rubric_set, "");
  EXPECT_EQ((*first)->rubric->id, "inline-paris");
  EXPECT_FALSE((*first)->rubric->version.empty());
  absl::StatusOr<std::shared_ptr<GradeInput>> second =
      resolver_->Resolve(request);
  ASSERT_TRUE(second.ok());
  // Validated once: both inputs share the cached rubric.
  EXPECT_EQ((*first)->rubric.get(), (*second)->rubric.get());
}

TEST_F(RequestResolverTest, GroupRequestsResolveLikeSingleOnes) {
  pb::GradeGroupRequest group;
  group.set_rubric_set("demo");
  group.set_rubric_id("arith-1");
  group.add_responses("80");
  absl::StatusOr<std::shared_ptr<GradeInput>> input = resolver_->Resolve(group);
  ASSERT_TRUE(input.ok()) << input.status();
  EXPECT_EQ((*input)->rubric->id, "arith-1");

  group.set_rubric_set("no-such-set");
  EXPECT_EQ(resolver_->Resolve(group).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(RequestResolverTest, MissingSetsAndRubricsAreNotFound) {
  pb::GradeRequest request;
  request.set_rubric_set("no-such-set");
  absl::Status s = ErrorOf(request);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("'no-such-set' is not loaded"));

  request.set_rubric_set("demo");
  request.set_rubric_id("no-such-rubric");
  s = ErrorOf(request);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("has no rubric 'no-such-rubric'"));

  request.clear_rubric_id();
  request.set_prompt("a prompt no rubric was written for");
  s = ErrorOf(request);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("no rubric written for this prompt"));
}

TEST_F(RequestResolverTest, BadFieldsAreInvalidArgumentNamingTheField) {
  struct Case {
    std::string what;
    std::function<void(pb::GradeRequest*)> edit;
    std::string message;
  };
  const Case cases[] = {
      {"no rubric", [](pb::GradeRequest*) {}, "no rubric: set rubric_set"},
      {"inline and set",
       [](pb::GradeRequest* r) {
         *r->mutable_rubric() = InlineRubric(1);
         r->set_rubric_set("demo");
       },
       "either an inline rubric or rubric_set/rubric_id"},
      {"prompt and messages",
       [](pb::GradeRequest* r) {
         r->set_prompt("p");
         r->add_messages()->set_content("m");
       },
       "set either prompt or messages"},
      {"empty role",
       [](pb::GradeRequest* r) {
         r->add_messages()->set_role("user");
         r->add_messages()->set_content("no role");
       },
       "messages[1].role is empty"},
      {"long prompt",
       [](pb::GradeRequest* r) {
         *r->mutable_rubric() = InlineRubric(1);
         r->set_prompt(std::string(1001, 'x'));
       },
       "the prompt is 1001 bytes; the limit is 1000 (--max_prompt_bytes)"},
      {"too many criteria",
       [](pb::GradeRequest* r) { *r->mutable_rubric() = InlineRubric(5); },
       "has 5 criteria; the limit is 4 (--max_criteria_per_rubric)"},
      {"bad inline rubric",
       [](pb::GradeRequest* r) { r->mutable_rubric()->set_id("empty"); },
       "inline rubric: "},
      {"unknown judge",
       [](pb::GradeRequest* r) {
         *r->mutable_rubric() = InlineRubric(1);
         r->mutable_options()->set_judge("gpt-nine");
       },
       "unknown judge 'gpt-nine'; set options.judge to one of: embedded"},
  };
  for (const Case& c : cases) {
    pb::GradeRequest request;
    c.edit(&request);
    const absl::Status s = ErrorOf(request);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.what << s;
    EXPECT_THAT(s.message(), HasSubstr(c.message)) << c.what;
  }
}

TEST_F(RequestResolverTest, ResponseLimit) {
  EXPECT_TRUE(
      RequestResolver::CheckResponse(std::string(100, 'x'), limits_).ok());
  const absl::Status s =
      RequestResolver::CheckResponse(std::string(101, 'x'), limits_);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "the response is 101 bytes; the limit is 100 "
            "(--max_response_bytes)");
}

}  // namespace
}  // namespace rewardd

// End-to-end behaviour of rewardd over loopback: a real rewardd process on
// the embedded judge, called through the real client library. Covers every
// RPC, health and reflection, bad inputs and their status codes, a bad item
// in a stream, and a broken rubric file reloaded under load.
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/reward_client.h"
#include "gmock/gmock.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/rewardd_process.h"

namespace rewardd {
namespace {

namespace pb = reward::v1;
using ::rewardd::testing::ReadFile;
using ::rewardd::testing::RewarddProcess;
using ::rewardd::testing::TempDir;
using ::testing::HasSubstr;

const std::string kExamples =
    std::string(REWARDD_SOURCE_DIR) + "/examples/rubrics";
const std::string kShared = REWARDD_SHARED_DATA;

// An inline rubric decided by exact checks only, so rewards are known.
pb::Rubric CheckedRubric() {
  pb::Rubric r;
  r.set_id("checked");
  auto* a = r.add_criteria();
  a->set_id("has-paris");
  a->set_text("Mentions Paris");
  a->set_weight(3);
  a->mutable_check()->set_kind(pb::Check::CONTAINS);
  a->mutable_check()->add_values("paris");
  a->mutable_check()->set_case_insensitive(true);
  auto* b = r.add_criteria();
  b->set_id("short");
  b->set_text("At most 5 words");
  b->set_weight(1);
  b->mutable_check()->set_kind(pb::Check::WORD_COUNT);
  b->mutable_check()->set_max(5);
  auto* c = r.add_criteria();
  c->set_id("rude");
  c->set_text("Says 'stupid question'");
  c->set_weight(-2);
  c->mutable_check()->set_kind(pb::Check::CONTAINS);
  c->mutable_check()->add_values("stupid question");
  return r;
}

pb::GradeRequest InlineRequest(const std::string& id,
                               const std::string& response) {
  pb::GradeRequest req;
  req.set_request_id(id);
  *req.mutable_rubric() = CheckedRubric();
  req.set_prompt("What is the capital of France?");
  req.set_response(response);
  return req;
}

class RewarddTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rubrics_ = new TempDir();
    for (const auto& entry : std::filesystem::directory_iterator(kExamples)) {
      if (entry.path().extension() == ".json" ||
          entry.path().extension() == ".jsonl") {
        rubrics_->Write(entry.path().filename(), ReadFile(entry.path()));
      }
    }
    rubrics_->Write(
        "healthbench.healthbench.jsonl",
        ReadFile(kShared + "/healthbench/healthbench_oss_eval_sample.jsonl"));
    server_ = new RewarddProcess(
        {"--rubric_dir=" + rubrics_->path(), "--rubric_poll_seconds=0",
         "--max_response_bytes=4096", "--max_message_bytes=1000000",
         "--max_group_size=64"});
    ASSERT_TRUE(server_->Start().ok()) << server_->Log();
    RewardClient::Options options;
    options.target = server_->address();
    options.deadline = absl::Seconds(30);
    options.wait_for_ready = true;
    auto client = RewardClient::Create(options);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = client->release();
    // Wait until SERVING (rubric sets loaded).
    for (int i = 0; i < 500; ++i) {
      auto h = client_->Health("reward.v1.RewardService");
      if (h.ok() && *h == grpc::health::v1::HealthCheckResponse::SERVING) break;
      absl::SleepFor(absl::Milliseconds(20));
    }
  }
  static void TearDownTestSuite() {
    delete client_;
    delete server_;
    delete rubrics_;
  }

  static TempDir* rubrics_;
  static RewarddProcess* server_;
  static RewardClient* client_;
};
TempDir* RewarddTest::rubrics_ = nullptr;
RewarddProcess* RewarddTest::server_ = nullptr;
RewardClient* RewarddTest::client_ = nullptr;

TEST_F(RewarddTest, HealthIsServingForServerAndService) {
  auto overall = client_->Health("");
  ASSERT_TRUE(overall.ok()) << overall.status();
  EXPECT_EQ(*overall, grpc::health::v1::HealthCheckResponse::SERVING);
  auto service = client_->Health("reward.v1.RewardService");
  ASSERT_TRUE(service.ok());
  EXPECT_EQ(*service, grpc::health::v1::HealthCheckResponse::SERVING);
  EXPECT_EQ(client_->Health("no.such.Service").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(RewarddTest, ReflectionListsTheServices) {
  auto channel = grpc::CreateChannel(server_->address(),
                                     grpc::InsecureChannelCredentials());
  auto stub = grpc::reflection::v1alpha::ServerReflection::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto stream = stub->ServerReflectionInfo(&ctx);
  grpc::reflection::v1alpha::ServerReflectionRequest req;
  req.set_list_services("");
  ASSERT_TRUE(stream->Write(req));
  grpc::reflection::v1alpha::ServerReflectionResponse resp;
  ASSERT_TRUE(stream->Read(&resp));
  std::set<std::string> names;
  for (const auto& s : resp.list_services_response().service())
    names.insert(s.name());
  EXPECT_TRUE(names.count("reward.v1.RewardService"));
  EXPECT_TRUE(names.count("grpc.health.v1.Health"));
  // The descriptor of our API is served too, so grpcurl can call it.
  req.set_file_containing_symbol("reward.v1.GradeRequest");
  ASSERT_TRUE(stream->Write(req));
  ASSERT_TRUE(stream->Read(&resp));
  EXPECT_GT(resp.file_descriptor_response().file_descriptor_proto_size(), 0);
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(RewarddTest, ListsEveryLoadedSetWithCounts) {
  auto list = client_->ListRubricSets();
  ASSERT_TRUE(list.ok()) << list.status();
  std::map<std::string, pb::RubricSetInfo> sets;
  for (const auto& s : list->sets()) sets[s.name()] = s;
  ASSERT_TRUE(sets.count("demo"));
  ASSERT_TRUE(sets.count("healthbench"));
  // The HealthBench sample has 30 records and 352 criteria (shared/data
  // README).
  EXPECT_EQ(sets["healthbench"].rubric_count(), 30u);
  EXPECT_EQ(sets["healthbench"].criterion_count(), 352u);
  EXPECT_EQ(sets["healthbench"].format(), "healthbench");
  EXPECT_EQ(sets["demo"].version().size(), 16u);
}

TEST_F(RewarddTest, GetRubricReturnsItsCriteria) {
  auto r = client_->GetRubric("demo", "arith-1");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->rubric().id(), "arith-1");
  ASSERT_EQ(r->rubric().criteria_size(), 4);
  EXPECT_EQ(r->rubric().criteria(0).check().kind(), pb::Check::NUMERIC);
  EXPECT_EQ(r->rubric().version().size(), 16u);
  EXPECT_EQ(client_->GetRubric("demo", "nope").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(client_->GetRubric("nope", "arith-1").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(RewarddTest, GradesAnInlineRubricExactly) {
  auto good = client_->Grade(InlineRequest("a", "Paris."));
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_EQ(good->request_id(), "a");
  EXPECT_TRUE(good->valid());
  EXPECT_DOUBLE_EQ(good->reward(), 1.0);
  EXPECT_DOUBLE_EQ(good->score(), 4.0);
  EXPECT_DOUBLE_EQ(good->max_score(), 4.0);
  ASSERT_EQ(good->criteria_size(), 3);
  EXPECT_EQ(good->criteria(0).verdict(), pb::CriterionResult::MET);
  EXPECT_EQ(good->criteria(2).verdict(), pb::CriterionResult::UNMET);
  EXPECT_EQ(good->criteria(2).status(), pb::CriterionResult::OK);
  EXPECT_EQ(good->judge(), "embedded");
  EXPECT_GE(good->timings().total_seconds(), 0);

  // Rude and long: only "has-paris" (3) and "rude" (-2) met -> 1/4.
  auto bad = client_->Grade(InlineRequest(
      "b", "That is a stupid question, everybody knows it is Paris of course"));
  ASSERT_TRUE(bad.ok());
  EXPECT_TRUE(bad->valid());
  EXPECT_DOUBLE_EQ(bad->score(), 1.0);
  EXPECT_DOUBLE_EQ(bad->reward(), 0.25);

  // HealthBench formula, unclipped: only the negative criterion met -> -2/4.
  auto req = InlineRequest("c", "stupid question, I won't answer that one");
  req.mutable_options()->set_formula(pb::HEALTHBENCH);
  auto neg = client_->Grade(req);
  ASSERT_TRUE(neg.ok());
  EXPECT_DOUBLE_EQ(neg->reward(), -0.5);
}

TEST_F(RewarddTest, GradesByRubricIdAndByPrompt) {
  pb::GradeRequest req;
  req.set_rubric_set("demo");
  req.set_rubric_id("arith-1");
  req.set_response("Speed = 120 km / 1.5 h = 80 km/h.\nAnswer: 80");
  auto by_id = client_->Grade(req);
  ASSERT_TRUE(by_id.ok()) << by_id.status();
  EXPECT_TRUE(by_id->valid());
  EXPECT_EQ(by_id->rubric_set(), "demo");
  EXPECT_EQ(by_id->criteria(0).verdict(),
            pb::CriterionResult::MET);  // numeric 80

  auto rubric = client_->GetRubric("demo", "arith-1");
  ASSERT_TRUE(rubric.ok());
  req.clear_rubric_id();
  req.set_prompt(rubric->rubric().prompt());
  auto by_prompt = client_->Grade(req);
  ASSERT_TRUE(by_prompt.ok()) << by_prompt.status();
  EXPECT_EQ(by_prompt->rubric_id(), "arith-1");
  EXPECT_EQ(by_prompt->rubric_version(), by_id->rubric_version());
  EXPECT_DOUBLE_EQ(by_prompt->reward(), by_id->reward());

  req.set_prompt("a prompt no rubric was written for");
  auto none = client_->Grade(req);
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(none.status().message()), HasSubstr("rubric_id"));
}

TEST_F(RewarddTest, FindsAMultiTurnHealthBenchRubricByItsMessages) {
  std::ifstream in(kShared + "/healthbench/healthbench_oss_eval_sample.jsonl");
  std::string line;
  nlohmann::json record;
  while (std::getline(in, line)) {
    record = nlohmann::json::parse(line);
    if (record["prompt"].size() > 1) break;  // a multi-turn record
  }
  ASSERT_GT(record["prompt"].size(), 1u);
  pb::GradeRequest req;
  req.set_rubric_set("healthbench");
  for (const auto& m : record["prompt"]) {
    auto* msg = req.add_messages();
    msg->set_role(m["role"]);
    msg->set_content(m["content"]);
  }
  req.set_response("I am not sure; please see a doctor.");
  req.mutable_options()->set_formula(pb::HEALTHBENCH);
  auto r = client_->Grade(req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->rubric_id(), record["prompt_id"].get<std::string>());
  EXPECT_EQ(r->criteria_size(), static_cast<int>(record["rubrics"].size()));
  EXPECT_TRUE(r->valid());
  double positive = 0;
  for (const auto& c : record["rubrics"])
    positive += std::max(0.0, c["points"].get<double>());
  EXPECT_DOUBLE_EQ(r->max_score(), positive);
}

TEST_F(RewarddTest, BadRequestsGetClearErrors) {
  pb::GradeRequest unknown_set = InlineRequest("x", "Paris");
  unknown_set.clear_rubric();
  unknown_set.set_rubric_set("no-such-set");
  unknown_set.set_rubric_id("r");
  auto s = client_->Grade(unknown_set);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("no-such-set"));

  pb::GradeRequest unknown_id = unknown_set;
  unknown_id.set_rubric_set("demo");
  s = client_->Grade(unknown_id);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kNotFound);

  pb::GradeRequest no_criteria = InlineRequest("x", "Paris");
  no_criteria.mutable_rubric()->clear_criteria();
  s = client_->Grade(no_criteria);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("no criteria"));

  pb::GradeRequest dup = InlineRequest("x", "Paris");
  dup.mutable_rubric()->mutable_criteria(1)->set_id("has-paris");
  s = client_->Grade(dup);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.status().message()),
              HasSubstr("duplicate criterion id 'has-paris'"));

  pb::GradeRequest bad_regex = InlineRequest("x", "Paris");
  bad_regex.mutable_rubric()->mutable_criteria(0)->mutable_check()->set_kind(
      pb::Check::REGEX);
  bad_regex.mutable_rubric()->mutable_criteria(0)->mutable_check()->set_pattern(
      "(unclosed");
  s = client_->Grade(bad_regex);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("regex"));

  pb::GradeRequest judge = InlineRequest("x", "Paris");
  judge.mutable_options()->set_judge("gpt-99");
  s = client_->Grade(judge);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("embedded"));

  pb::GradeRequest big = InlineRequest("x", std::string(5000, 'a'));
  s = client_->Grade(big);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.status().message()),
              HasSubstr("4096 (--max_response_bytes)"));

  // Over gRPC's own message limit: RESOURCE_EXHAUSTED from the transport.
  pb::GradeRequest huge = InlineRequest("x", std::string(2000000, 'a'));
  s = client_->Grade(huge);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kResourceExhausted);

  pb::GradeRequest both = InlineRequest("x", "Paris");
  both.add_messages()->set_role("user");
  s = client_->Grade(both);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);

  // The server is still fine.
  auto ok = client_->Grade(InlineRequest("after", "Paris"));
  ASSERT_TRUE(ok.ok());
  EXPECT_DOUBLE_EQ(ok->reward(), 1.0);
}

TEST_F(RewarddTest, GradeGroupAnswersInOrderWithGroupStatistics) {
  pb::GradeGroupRequest req;
  req.set_request_id("g");
  *req.mutable_rubric() = CheckedRubric();
  const std::vector<std::string> responses = {
      "Paris", "London", "Paris, stupid question",
      "It is Paris, obviously, my friend, yes"};
  for (const auto& r : responses) req.add_responses(r);
  auto group = client_->GradeGroup(req);
  ASSERT_TRUE(group.ok()) << group.status();
  ASSERT_EQ(group->results_size(), 4);
  std::vector<double> rewards;
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(group->results(i).request_id(), absl::StrCat("g/", i));
    // Each group item equals grading it alone.
    auto single = client_->Grade(InlineRequest("s", responses[i]));
    ASSERT_TRUE(single.ok());
    EXPECT_DOUBLE_EQ(group->results(i).reward(), single->reward()) << i;
    rewards.push_back(single->reward());
  }
  double mean = 0;
  for (double r : rewards) mean += r / rewards.size();
  double var = 0;
  for (double r : rewards) var += (r - mean) * (r - mean) / rewards.size();
  EXPECT_EQ(group->valid_count(), 4u);
  EXPECT_NEAR(group->mean_reward(), mean, 1e-12);
  EXPECT_NEAR(group->std_reward(), std::sqrt(var), 1e-12);

  pb::GradeGroupRequest empty = req;
  empty.clear_responses();
  EXPECT_EQ(client_->GradeGroup(empty).status().code(),
            absl::StatusCode::kInvalidArgument);
  pb::GradeGroupRequest too_big = req;
  for (int i = 0; i < 70; ++i) too_big.add_responses("x");
  auto s = client_->GradeGroup(too_big);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("--max_group_size"));
}

TEST_F(RewarddTest, StreamAnswersEveryItemOnceAndSurvivesABadItem) {
  std::vector<pb::GradeRequest> requests;
  for (int i = 0; i < 200; ++i) {
    pb::GradeRequest req =
        InlineRequest(absl::StrCat("item-", i), i % 2 ? "Paris" : "Rome");
    if (i == 100) {  // a bad item in the middle
      req.clear_rubric();
      req.set_rubric_set("no-such-set");
    }
    requests.push_back(req);
  }
  auto results = client_->GradeStreamAll(requests, 16);
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 200u);
  for (int i = 0; i < 200; ++i) {
    const auto& r = (*results)[i];
    ASSERT_TRUE(r.ok()) << i << " " << r.status();
    EXPECT_EQ(r->request_id(), absl::StrCat("item-", i));
    if (i == 100) {
      EXPECT_FALSE(r->valid());
      EXPECT_EQ(r->error().code(),
                static_cast<int>(absl::StatusCode::kNotFound));
      EXPECT_THAT(r->error().message(), HasSubstr("no-such-set"));
    } else {
      EXPECT_TRUE(r->valid()) << i;
      EXPECT_FALSE(r->has_error());
      EXPECT_DOUBLE_EQ(r->reward(), i % 2 ? 1.0 : 0.25) << i;
    }
  }
}

// A broken rubric file reloaded while requests flow: the old version keeps
// serving and no request fails; a good edit then swaps in the new version.
TEST_F(RewarddTest, BrokenReloadUnderLoadKeepsTheOldVersion) {
  const std::string original = ReadFile(rubrics_->path() + "/demo.json");
  auto before = client_->GetRubric("demo", "arith-1");
  ASSERT_TRUE(before.ok());

  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> load;
  for (int t = 0; t < 4; ++t) {
    load.emplace_back([&] {
      while (!stop) {
        pb::GradeRequest req;
        req.set_rubric_set("demo");
        req.set_rubric_id("arith-1");
        req.set_response("Answer: 80");
        auto r = client_->Grade(req);
        (r.ok() && r->valid() ? ok : failed)++;
      }
    });
  }
  absl::SleepFor(absl::Milliseconds(200));
  rubrics_->Write("demo.json",
                  "{\"rubrics\": [ {\"id\": \"arith-1\", \"criteria\": [ "
                  "{\"text\": \"x\", \"weight\": \"heavy\"} ] } ]}");
  server_->Signal(SIGHUP);
  absl::SleepFor(absl::Milliseconds(500));
  auto during = client_->GetRubric("demo", "arith-1");
  ASSERT_TRUE(during.ok());
  EXPECT_EQ(during->rubric().version(), before->rubric().version());
  EXPECT_THAT(server_->Log(), HasSubstr("demo.json"));  // the failure is logged

  // A good edit: one more criterion.
  nlohmann::json doc = nlohmann::json::parse(original);
  doc["rubrics"][0]["criteria"].push_back(
      {{"id", "extra"}, {"text", "Mentions hours"}, {"weight", 1}});
  rubrics_->Write("demo.json", doc.dump());
  server_->Signal(SIGHUP);
  bool swapped = false;
  for (int i = 0; i < 200 && !swapped; ++i) {
    auto after = client_->GetRubric("demo", "arith-1");
    swapped = after.ok() && after->rubric().criteria_size() == 5;
    absl::SleepFor(absl::Milliseconds(20));
  }
  stop = true;
  for (auto& t : load) t.join();
  EXPECT_TRUE(swapped);
  EXPECT_GT(ok.load(), 0);
  EXPECT_EQ(failed.load(), 0);
  rubrics_->Write("demo.json", original);
  server_->Signal(SIGHUP);
}

// SIGTERM under load: health goes NOT_SERVING, every request the server
// accepted gets a complete answer, and rewardd exits 0.
TEST(RewarddDrain, SigtermFinishesInFlightRequests) {
  RewarddProcess server({"--drain_grace_seconds=0.3", "--drain_seconds=10"});
  ASSERT_TRUE(server.Start().ok()) << server.Log();
  RewardClient::Options options;
  options.target = server.address();
  options.max_attempts = 1;  // count refusals instead of retrying them
  auto client = RewardClient::Create(options);
  ASSERT_TRUE(client.ok());
  std::atomic<bool> stop{false};
  std::atomic<int> complete{0}, refused{0}, other{0};
  std::vector<std::thread> load;
  for (int t = 0; t < 4; ++t) {
    load.emplace_back([&] {
      while (!stop) {
        auto r = (*client)->Grade(InlineRequest("d", "Paris"));
        if (r.ok() && r->valid() && r->reward() == 1.0) {
          complete++;
        } else if (r.status().code() == absl::StatusCode::kUnavailable) {
          // Never accepted: a real client retries on another replica and
          // stops sending here, as this one does.
          refused++;
          return;
        } else {
          other++;
          ADD_FAILURE() << "unexpected answer during drain: " << r.status();
        }
      }
    });
  }
  absl::SleepFor(absl::Milliseconds(300));
  server.Signal(SIGTERM);
  const int code = server.Wait(absl::Seconds(30));
  stop = true;
  for (auto& t : load) t.join();
  EXPECT_EQ(code, 0) << server.Log();
  EXPECT_GT(complete.load(), 0);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(refused.load(), 4);  // each caller was told to go elsewhere
  EXPECT_THAT(server.Log(), HasSubstr("draining")) << server.Log();
  if (other.load() > 0) ADD_FAILURE() << server.Log();
}

}  // namespace
}  // namespace rewardd

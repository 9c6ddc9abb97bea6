// The judges config reader (judges_config.h) and the judge entry parser it
// uses: the shipped example, errors that name the field, vote and rate-limit
// fields, out-of-range numbers.
#include "server/judge/pool/judges_config.h"

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/judge/http/http_judge_config.h"
#include "server/judge/pool/judge_pool_options.h"

namespace rewardd {
namespace {

TEST(JudgesConfigTest, LoadsTheShippedExampleWithDefaultFirst) {
  setenv("OPENAI_API_KEY", "sk-test", 0);
  absl::StatusOr<std::vector<std::shared_ptr<Judge>>> judges = LoadJudgesConfig(
      std::string(REWARDD_SOURCE_DIR) + "/examples/judges.json");
  ASSERT_TRUE(judges.ok()) << judges.status();
  ASSERT_GE(judges->size(), 2u);
  std::ifstream in(std::string(REWARDD_SOURCE_DIR) + "/examples/judges.json");
  nlohmann::json doc = nlohmann::json::parse(in);
  EXPECT_EQ((*judges)[0]->name(), doc["default"].get<std::string>());
  ShutdownJudges(*judges);
}

TEST(JudgesConfigTest, ErrorsNameTheProblem) {
  auto build = [](const std::string& text) {
    return BuildJudges(nlohmann::json::parse(text), ".").status();
  };
  EXPECT_THAT(std::string(build(R"({"judges": []})").message()),
              testing::HasSubstr("judges"));
  EXPECT_THAT(std::string(build(R"({"judges": [{"name": "a", "model": "m",
          "replicas": ["http://x/v1"], "pool": {"max_queue_sise": 3}}]})")
                              .message()),
              testing::HasSubstr("max_queue_sise"));
  EXPECT_THAT(std::string(build(R"({"default": "zz", "judges": [{"name": "a",
          "model": "m", "replicas": ["http://x/v1"]}]})")
                              .message()),
              testing::HasSubstr("zz"));
  EXPECT_THAT(std::string(build(R"({"judges": [
          {"name": "a", "model": "m", "replicas": ["http://x/v1"]},
          {"name": "a", "model": "m", "replicas": ["http://x/v1"]}]})")
                              .message()),
              testing::HasSubstr("two judges"));
  EXPECT_THAT(std::string(build(R"({"judges": [{"name": "a", "model": "m",
          "replicas": ["http://x/v1"], "api_key_env": "REWARDD_NO_SUCH_VAR"}]})")
                              .message()),
              testing::HasSubstr("REWARDD_NO_SUCH_VAR"));
}

TEST(JudgesConfigTest, VoteAndRateLimitFields) {
  absl::StatusOr<HttpJudgeConfig> c =
      ParseHttpJudgeConfig(nlohmann::json::parse(R"({"name": "a", "model": "m",
          "replicas": ["http://x/v1"], "votes": 5, "vote_aggregation": "mean",
          "vote_temperature": 1.0})"),
                           ".");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->votes, 5);
  EXPECT_EQ(c->vote_aggregation, VoteAggregation::kMean);
  EXPECT_DOUBLE_EQ(c->vote_temperature, 1.0);
  for (const char* bad : {R"("votes": 0)", R"("vote_aggregation": "median")",
                          R"("vote_temperature": 0)"}) {
    absl::StatusOr<HttpJudgeConfig> b = ParseHttpJudgeConfig(
        nlohmann::json::parse(absl::StrCat(
            R"({"name": "a", "model": "m", "replicas": ["http://x/v1"], )", bad,
            "}")),
        ".");
    EXPECT_FALSE(b.ok()) << bad;
  }
  absl::StatusOr<JudgePoolOptions> o =
      ParseJudgePoolOptions(nlohmann::json::parse(
          R"({"max_votes": 8, "requests_per_minute": 500,
              "tokens_per_minute": 200000, "rate_limit_burst_ms": 250})"));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->max_votes, 8);
  EXPECT_DOUBLE_EQ(o->requests_per_minute, 500);
  EXPECT_DOUBLE_EQ(o->tokens_per_minute, 200000);
  EXPECT_EQ(o->rate_limit_burst, absl::Milliseconds(250));
  EXPECT_FALSE(ParseJudgePoolOptions(
                   nlohmann::json::parse(R"({"tokens_per_minute": -1})"))
                   .ok());
  // A judge asking for more votes than its pool allows is refused at load.
  EXPECT_THAT(std::string(BuildJudges(nlohmann::json::parse(R"({"judges": [
          {"name": "a", "model": "m", "replicas": ["http://x/v1"],
           "votes": 9, "pool": {"max_votes": 8}}]})"),
                                      ".")
                              .status()
                              .message()),
              testing::HasSubstr("max_votes"));
}

// Numbers that do not fit the field (found by the judges_config fuzzer: a
// plain get<int64_t>() of 1e30 is undefined behaviour) are refused with an
// error naming the field; whole floats are accepted.
TEST(JudgesConfigTest, IntegersOutOfRangeAreErrorsNamingTheField) {
  auto judge = [](const std::string& field) {
    return ParseHttpJudgeConfig(
        nlohmann::json::parse(absl::StrCat(
            R"({"name": "a", "model": "m", "replicas": ["http://x/v1"], )",
            field, "}")),
        ".");
  };
  for (const char* bad :
       {R"("timeout_ms": 1e30)", R"("seed": -1e300)", R"("votes": 3e9)",
        R"("max_tokens": 2.5)", R"("top_logprobs": 18446744073709551615)"}) {
    absl::StatusOr<HttpJudgeConfig> c = judge(bad);
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
    const std::string field =
        std::string(bad).substr(1, std::string(bad).find('"', 1) - 1);
    EXPECT_THAT(std::string(c.status().message()), testing::HasSubstr(field));
    EXPECT_THAT(std::string(c.status().message()),
                testing::HasSubstr("whole number"));
  }
  absl::StatusOr<HttpJudgeConfig> whole = judge(R"("timeout_ms": 1500.0)");
  ASSERT_TRUE(whole.ok()) << whole.status();
  EXPECT_EQ(whole->timeout, absl::Milliseconds(1500));

  for (const char* bad :
       {R"({"max_queue_size": -1})", R"({"max_in_flight_per_replica": 1e19})",
        R"({"sweep_interval_ms": 1e300})"}) {
    absl::StatusOr<JudgePoolOptions> o =
        ParseJudgePoolOptions(nlohmann::json::parse(bad));
    EXPECT_FALSE(o.ok()) << bad;
  }
  EXPECT_THAT(std::string(BuildJudges(nlohmann::json::parse(R"({
          "http": {"max_host_connections": 1e40},
          "judges": [{"name": "a", "model": "m", "replicas": ["http://x/v1"]}]})"),
                                      ".")
                              .status()
                              .message()),
              testing::HasSubstr("max_host_connections"));
  EXPECT_THAT(std::string(BuildJudges(nlohmann::json::parse(R"({
          "cache_max_bytes": -5,
          "judges": [{"name": "a", "model": "m", "replicas": ["http://x/v1"]}]})"),
                                      ".")
                              .status()
                              .message()),
              testing::HasSubstr("cache_max_bytes"));
}

}  // namespace
}  // namespace rewardd

// The judges config in YAML: examples/judges.yaml configures exactly what
// examples/judges.json does, YAML values get the JSON types an operator
// expects (YAML 1.2 core schema), and a broken file is reported with its
// name and line.
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/judge/pool/judge_pool.h"
#include "server/judge/pool/judges_config.h"
#include "server/util/yaml_json.h"

namespace rewardd {
namespace {

using ::testing::HasSubstr;

std::string Example(const std::string& name) {
  return std::string(REWARDD_SOURCE_DIR) + "/examples/" + name;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes `text` to a fresh file named `name` under the test's temp dir.
std::string WriteTemp(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::trunc) << text;
  return path;
}

// nlohmann's == says 0 == 0.0 and 5 == 5u; a config reader can treat those
// differently (an integer field refuses 1.5 but not 1), so compare kinds too.
void ExpectSameTypedJson(const nlohmann::json& a, const nlohmann::json& b,
                         const std::string& where) {
  ASSERT_EQ(a.type_name(), std::string(b.type_name())) << where;
  ASSERT_EQ(a.is_number_integer(), b.is_number_integer()) << where;
  if (a.is_object()) {
    ASSERT_EQ(a.size(), b.size()) << where;
    for (const auto& [key, value] : a.items()) {
      ASSERT_TRUE(b.contains(key)) << where << "/" << key;
      ExpectSameTypedJson(value, b[key], where + "/" + key);
    }
  } else if (a.is_array()) {
    ASSERT_EQ(a.size(), b.size()) << where;
    for (size_t i = 0; i < a.size(); ++i) {
      ExpectSameTypedJson(a[i], b[i], absl::StrCat(where, "/", i));
    }
  } else {
    EXPECT_EQ(a, b) << where;
  }
}

void ExpectSameJudgeConfig(const HttpJudgeConfig& a, const HttpJudgeConfig& b) {
  SCOPED_TRACE(a.name);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.replicas, b.replicas);
  EXPECT_EQ(a.model, b.model);
  EXPECT_EQ(a.default_mode, b.default_mode);
  EXPECT_EQ(a.temperature, b.temperature);
  EXPECT_EQ(a.seed, b.seed);
  EXPECT_EQ(a.top_p, b.top_p);
  EXPECT_EQ(a.max_tokens, b.max_tokens);
  EXPECT_EQ(nlohmann::json::parse(a.extra_body_json),
            nlohmann::json::parse(b.extra_body_json));
  EXPECT_EQ(a.logprobs, b.logprobs);
  EXPECT_EQ(a.top_logprobs, b.top_logprobs);
  EXPECT_EQ(a.api_key_env, b.api_key_env);
  EXPECT_EQ(a.api_key_file, b.api_key_file);
  EXPECT_EQ(a.timeout, b.timeout);
  EXPECT_EQ(a.parse_retries, b.parse_retries);
  EXPECT_EQ(a.parse_retry_temperature_step, b.parse_retry_temperature_step);
  EXPECT_EQ(a.length_retries, b.length_retries);
  EXPECT_EQ(a.length_retry_tokens, b.length_retry_tokens);
  EXPECT_EQ(a.templates_file, b.templates_file);
  EXPECT_EQ(a.votes, b.votes);
  EXPECT_EQ(a.vote_aggregation, b.vote_aggregation);
  EXPECT_EQ(a.vote_temperature, b.vote_temperature);
}

void ExpectSamePoolOptions(const JudgePoolOptions& a,
                           const JudgePoolOptions& b) {
  EXPECT_EQ(a.max_queue_size, b.max_queue_size);
  EXPECT_EQ(a.max_in_flight_per_replica, b.max_in_flight_per_replica);
  EXPECT_EQ(a.affinity_slack, b.affinity_slack);
  EXPECT_EQ(a.max_attempts, b.max_attempts);
  EXPECT_EQ(a.initial_backoff, b.initial_backoff);
  EXPECT_EQ(a.backoff_multiplier, b.backoff_multiplier);
  EXPECT_EQ(a.max_backoff, b.max_backoff);
  EXPECT_EQ(a.backoff_jitter, b.backoff_jitter);
  EXPECT_EQ(a.max_retry_after, b.max_retry_after);
  EXPECT_EQ(a.breaker_failures, b.breaker_failures);
  EXPECT_EQ(a.breaker_open_time, b.breaker_open_time);
  EXPECT_EQ(a.min_time_to_start, b.min_time_to_start);
  EXPECT_EQ(a.sweep_interval, b.sweep_interval);
  EXPECT_EQ(a.dedup, b.dedup);
  EXPECT_EQ(a.max_votes, b.max_votes);
  EXPECT_EQ(a.requests_per_minute, b.requests_per_minute);
  EXPECT_EQ(a.tokens_per_minute, b.tokens_per_minute);
  EXPECT_EQ(a.rate_limit_burst, b.rate_limit_burst);
}

TEST(YamlJudgesConfig, ExampleYamlBuildsTheSameJudgesAsExampleJson) {
  setenv("OPENAI_API_KEY", "sk-test", 0);
  absl::StatusOr<std::vector<std::shared_ptr<Judge>>> from_yaml =
      LoadJudgesConfig(Example("judges.yaml"));
  ASSERT_TRUE(from_yaml.ok()) << from_yaml.status();
  absl::StatusOr<std::vector<std::shared_ptr<Judge>>> from_json =
      LoadJudgesConfig(Example("judges.json"));
  ASSERT_TRUE(from_json.ok()) << from_json.status();

  // Same judges, same order (the default one first), same settings.
  ASSERT_EQ(from_yaml->size(), from_json->size());
  ASSERT_GE(from_json->size(), 3u);
  for (size_t i = 0; i < from_json->size(); ++i) {
    auto* y = dynamic_cast<JudgePool*>((*from_yaml)[i].get());
    auto* j = dynamic_cast<JudgePool*>((*from_json)[i].get());
    ASSERT_NE(y, nullptr);
    ASSERT_NE(j, nullptr);
    ExpectSameJudgeConfig(y->config(), j->config());
  }
  ShutdownJudges(*from_yaml);
  ShutdownJudges(*from_json);

  // JudgePool does not expose its options, so compare the documents (kinds
  // included) and the pool options each document's "pool" parses to.
  absl::StatusOr<nlohmann::json> yaml_doc =
      YamlToJson(Slurp(Example("judges.yaml")));
  ASSERT_TRUE(yaml_doc.ok()) << yaml_doc.status();
  const nlohmann::json json_doc =
      nlohmann::json::parse(Slurp(Example("judges.json")));
  ExpectSameTypedJson(*yaml_doc, json_doc, "");
  for (size_t i = 0; i < json_doc["judges"].size(); ++i) {
    SCOPED_TRACE(json_doc["judges"][i]["name"].get<std::string>());
    absl::StatusOr<JudgePoolOptions> y =
        ParseJudgePoolOptions((*yaml_doc)["judges"][i]["pool"]);
    absl::StatusOr<JudgePoolOptions> j =
        ParseJudgePoolOptions(json_doc["judges"][i]["pool"]);
    ASSERT_TRUE(y.ok()) << y.status();
    ASSERT_TRUE(j.ok()) << j.status();
    ExpectSamePoolOptions(*y, *j);
  }
}

TEST(YamlJudgesConfig, ScalarsAreTypedByTheCoreSchema) {
  absl::StatusOr<nlohmann::json> doc = YamlToJson(R"(
timeout_ms: 1500
negative: -3
hex: 0x1F
octal: 0o17
http2: true
upper: FALSE
quoted_number: "123"
single_quoted_bool: 'true'
temperature: 0.7
exponent: 1e3
infinity: -.inf
tilde: ~
empty:
null_word: null
yes_is_text: yes
version: 1.2.3
tagged: !!str 42
block: |
  line one
anchor: &pool {max_votes: 9, dedup: false}
alias: *pool
)");
  ASSERT_TRUE(doc.ok()) << doc.status();
  const nlohmann::json& d = *doc;
  EXPECT_TRUE(d["timeout_ms"].is_number_integer());
  EXPECT_EQ(d["timeout_ms"].get<int64_t>(), 1500);
  EXPECT_EQ(d["negative"].get<int64_t>(), -3);
  EXPECT_EQ(d["hex"].get<int64_t>(), 31);
  EXPECT_EQ(d["octal"].get<int64_t>(), 15);
  EXPECT_TRUE(d["http2"].is_boolean());
  EXPECT_TRUE(d["http2"].get<bool>());
  EXPECT_TRUE(d["upper"].is_boolean());
  EXPECT_FALSE(d["upper"].get<bool>());
  EXPECT_TRUE(d["quoted_number"].is_string());
  EXPECT_EQ(d["quoted_number"].get<std::string>(), "123");
  EXPECT_EQ(d["single_quoted_bool"], nlohmann::json("true"));
  EXPECT_TRUE(d["temperature"].is_number_float());
  EXPECT_DOUBLE_EQ(d["temperature"].get<double>(), 0.7);
  EXPECT_TRUE(d["exponent"].is_number_float());
  EXPECT_DOUBLE_EQ(d["exponent"].get<double>(), 1000);
  EXPECT_TRUE(std::isinf(d["infinity"].get<double>()));
  EXPECT_LT(d["infinity"].get<double>(), 0);
  EXPECT_TRUE(d["tilde"].is_null());
  EXPECT_TRUE(d["empty"].is_null());
  EXPECT_TRUE(d["null_word"].is_null());
  // YAML 1.1's yes/no booleans are gone in 1.2: "yes" stays text.
  EXPECT_EQ(d["yes_is_text"], nlohmann::json("yes"));
  EXPECT_EQ(d["version"], nlohmann::json("1.2.3"));
  EXPECT_EQ(d["tagged"], nlohmann::json("42"));
  EXPECT_EQ(d["block"], nlohmann::json("line one\n"));
  const nlohmann::json pool = {{"max_votes", 9}, {"dedup", false}};
  EXPECT_EQ(d["anchor"], pool);
  EXPECT_EQ(d["alias"], pool);
  EXPECT_TRUE(d["alias"]["max_votes"].is_number_integer());
}

TEST(YamlJudgesConfig, ValuesThatCannotBeTypedAreErrorsWithTheirLine) {
  auto error = [](const std::string& text) {
    absl::StatusOr<nlohmann::json> doc = YamlToJson(text);
    EXPECT_FALSE(doc.ok()) << text;
    return std::string(doc.status().message());
  };
  // Too big for 64 bits: an error, not a silently rounded float.
  EXPECT_THAT(error("a: 1\nmax_queue_size: 99999999999999999999\n"),
              HasSubstr("line 2"));
  EXPECT_THAT(error("a: 1\na: 2\n"), HasSubstr("duplicate key \"a\""));
  EXPECT_THAT(error("temperature: 1e400\n"), HasSubstr("out of range"));
  EXPECT_THAT(error("n: !!int twelve\n"), HasSubstr("not a valid int"));
  EXPECT_THAT(error("a: 1\n---\nb: 2\n"), HasSubstr("second YAML document"));
  // An alias to an enclosing node is a cycle: bounded, not a stack overflow.
  EXPECT_THAT(error("a: &x [1, *x]\n"), HasSubstr("nested deeper"));
}

TEST(YamlJudgesConfig, SyntaxErrorIsInvalidArgumentNamingFileAndLine) {
  const std::string path = WriteTemp("broken_judges.yaml",
                                     "default: a\n"
                                     "judges:\n"
                                     "  - name: a\n"
                                     "    replicas: [http://x/v1\n"
                                     "    model: m\n");
  absl::StatusOr<std::vector<std::shared_ptr<Judge>>> judges =
      LoadJudgesConfig(path);
  ASSERT_FALSE(judges.ok());
  EXPECT_EQ(judges.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(judges.status().message());
  EXPECT_THAT(message, HasSubstr(path));
  EXPECT_THAT(message, HasSubstr("not valid YAML"));
  // yaml-cpp reports the unclosed flow sequence where it gives up on it.
  EXPECT_THAT(message, testing::ContainsRegex("line [45], column [0-9]+"));
}

TEST(YamlJudgesConfig, ShortExtensionAndFieldErrorsNameTheFile) {
  const std::string ok_path =
      WriteTemp("judges.yml",
                "judges:\n"
                "  - name: tiny\n"
                "    replicas: [http://127.0.0.1:9/v1]\n"
                "    model: m\n"
                "    timeout_ms: 1500\n");
  absl::StatusOr<std::vector<std::shared_ptr<Judge>>> judges =
      LoadJudgesConfig(ok_path);
  ASSERT_TRUE(judges.ok()) << judges.status();
  ASSERT_EQ(judges->size(), 1u);
  auto* pool = dynamic_cast<JudgePool*>((*judges)[0].get());
  ASSERT_NE(pool, nullptr);
  EXPECT_EQ(pool->config().timeout, absl::Milliseconds(1500));
  ShutdownJudges(*judges);

  // A quoted number is a string, and the JSON reader behind says so.
  const std::string bad_path =
      WriteTemp("typed_judges.yaml",
                "judges:\n"
                "  - name: tiny\n"
                "    replicas: [http://x/v1]\n"
                "    model: m\n"
                "    pool: {max_queue_size: \"12\"}\n");
  judges = LoadJudgesConfig(bad_path);
  ASSERT_FALSE(judges.ok());
  EXPECT_EQ(judges.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(judges.status().message()), HasSubstr(bad_path));
  EXPECT_THAT(std::string(judges.status().message()),
              HasSubstr("max_queue_size"));
}

}  // namespace
}  // namespace rewardd

// The "proposers" section of the judges config (proposers_config.h), read
// from a YAML file by the judges' reader (LoadJudgesConfigFile) so the
// proposers run on the judges' HTTP loop: order (default first), absence,
// and errors that name the entry and field.
#include "server/elicitation/proposers_config.h"

#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/elicitation/http_proposer.h"
#include "server/judge/pool/judges_config.h"

namespace rewardd {
namespace {

using ::testing::HasSubstr;

constexpr char kJudge[] =
    R"({"name": "v", "model": "m", "replicas": ["http://127.0.0.1:9/v1"]})";

std::string BuildError(const std::string& proposers) {
  const nlohmann::json doc =
      nlohmann::json::parse(std::string(R"({"judges": [)") + kJudge +
                            R"(], "proposers": )" + proposers + "}");
  absl::StatusOr<std::shared_ptr<CurlMultiLoop>> loop =
      CurlMultiLoop::Create({});
  EXPECT_TRUE(loop.ok());
  absl::StatusOr<std::vector<std::shared_ptr<Proposer>>> p =
      BuildProposers(doc, ".", *loop);
  (*loop)->Shutdown();
  return p.ok() ? "" : std::string(p.status().message());
}

TEST(ProposersConfigTest, ReadsYamlOnTheJudgesLoopDefaultFirst) {
  const std::string path = ::testing::TempDir() + "/judges.yaml";
  std::ofstream(path) << "judges:\n"
                         "  - {name: v, model: m, replicas: "
                         "[\"http://127.0.0.1:9/v1\"]}\n"
                         "proposers:\n"
                         "  - {name: writer, model: big, replicas: "
                         "[\"http://127.0.0.1:9/v1\"], max_in_flight: 2}\n"
                         "  - {name: second, model: small, replicas: "
                         "[\"http://127.0.0.1:9/v1\"]}\n";
  absl::StatusOr<JudgesConfigFile> file = LoadJudgesConfigFile(path);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_NE(file->loop, nullptr);
  absl::StatusOr<std::vector<std::shared_ptr<Proposer>>> proposers =
      BuildProposers(*file->document, file->base_dir, file->loop);
  ASSERT_TRUE(proposers.ok()) << proposers.status();
  ASSERT_EQ(proposers->size(), 2u);
  EXPECT_EQ((*proposers)[0]->name(), "writer");
  EXPECT_EQ((*proposers)[0]->model(), "big");
  EXPECT_EQ((*proposers)[1]->name(), "second");
  ShutdownJudges(file->judges);
  file->loop->Shutdown();
}

TEST(ProposersConfigTest, NoSectionMeansNoProposers) {
  const nlohmann::json doc =
      nlohmann::json::parse(std::string(R"({"judges": [)") + kJudge + "]}");
  absl::StatusOr<std::vector<std::shared_ptr<Proposer>>> p =
      BuildProposers(doc, ".", nullptr);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->empty());
}

TEST(ProposersConfigTest, ErrorsNameTheEntryAndField) {
  EXPECT_THAT(BuildError(R"({"name": "w"})"),
              HasSubstr("\"proposers\" must be a list"));
  EXPECT_THAT(BuildError(R"([{"name": "w", "model": "m",
                      "replicas": ["http://127.0.0.1:9/v1"]},
                     {"name": "w", "model": "m",
                      "replicas": ["http://127.0.0.1:9/v1"]}])"),
              HasSubstr("proposers[1]: two proposers are named 'w'"));
  const std::string missing = BuildError(R"([{"name": "w", "model": "m"}])");
  EXPECT_THAT(missing, HasSubstr("proposers[0]"));
  EXPECT_THAT(missing, HasSubstr("replicas"));
}

TEST(ProposersConfigTest, ReadsBreakerAndRateLimitFields) {
  const nlohmann::json j = nlohmann::json::parse(R"({
      "name": "w", "model": "m", "replicas": ["http://127.0.0.1:9/v1"],
      "breaker_failures": 3, "breaker_open_time_ms": 2500,
      "requests_per_minute": 120, "tokens_per_minute": 90000,
      "rate_limit_burst_ms": 2000})");
  absl::StatusOr<HttpProposerConfig> c = ParseHttpProposerConfig(j, ".");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->dispatch.breaker_failures, 3);
  EXPECT_EQ(c->dispatch.breaker_open_time, absl::Milliseconds(2500));
  EXPECT_EQ(c->dispatch.requests_per_minute, 120);
  EXPECT_EQ(c->dispatch.tokens_per_minute, 90000);
  EXPECT_EQ(c->dispatch.rate_limit_burst, absl::Seconds(2));
  // The same fields from YAML, through the judges config reader.
  const std::string path = ::testing::TempDir() + "/limits.yaml";
  std::ofstream(path) << "judges:\n"
                         "  - {name: v, model: m, replicas: "
                         "[\"http://127.0.0.1:9/v1\"]}\n"
                         "proposers:\n"
                         "  - name: writer\n"
                         "    model: big\n"
                         "    replicas: [\"http://127.0.0.1:9/v1\"]\n"
                         "    breaker_failures: 2\n"
                         "    requests_per_minute: 30\n";
  absl::StatusOr<JudgesConfigFile> file = LoadJudgesConfigFile(path);
  ASSERT_TRUE(file.ok()) << file.status();
  absl::StatusOr<HttpProposerConfig> yaml =
      ParseHttpProposerConfig((*file->document)["proposers"][0], ".");
  ASSERT_TRUE(yaml.ok()) << yaml.status();
  EXPECT_EQ(yaml->dispatch.breaker_failures, 2);
  EXPECT_EQ(yaml->dispatch.requests_per_minute, 30);
  ShutdownJudges(file->judges);
  file->loop->Shutdown();
}

TEST(ProposersConfigTest, BadBreakerAndRateLimitFieldsNameTheField) {
  auto entry = [](const std::string& field) {
    return std::string(R"([{"name": "w", "model": "m",
        "replicas": ["http://127.0.0.1:9/v1"], )") +
           field + "}]";
  };
  EXPECT_THAT(BuildError(entry(R"("breaker_failures": 0)")),
              HasSubstr("proposers[0]: proposer 'w': breaker_failures: must "
                        "be at least 1"));
  EXPECT_THAT(BuildError(entry(R"("breaker_open_time_ms": -5)")),
              HasSubstr("breaker_open_time_ms: must be >= 0"));
  EXPECT_THAT(BuildError(entry(R"("requests_per_minute": -1)")),
              HasSubstr("requests_per_minute: must be >= 0"));
  EXPECT_THAT(BuildError(entry(R"("tokens_per_minute": "lots")")),
              HasSubstr("tokens_per_minute: wrong type"));
  EXPECT_THAT(BuildError(entry(R"("rate_limit_burst_ms": 1e12)")),
              HasSubstr("rate_limit_burst_ms: must be >= 0 (and <= 1e9)"));
}

}  // namespace
}  // namespace rewardd

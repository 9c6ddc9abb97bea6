// Saturated groups -> refine input records and eval groups
// (client/cli/tail_dataset.h).
#include "client/cli/tail_dataset.h"

#include <stdlib.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rewardd::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A saturated_group line of set `set` whose top holds `responses`.
std::string GroupLine(const std::string& rubric_id,
                      const std::vector<std::string>& responses,
                      const std::string& prompt = "Explain tides.",
                      const std::string& policy = "p1",
                      const std::string& set = "hb") {
  nlohmann::json top = nlohmann::json::array();
  for (size_t i = 0; i < responses.size(); ++i) {
    top.push_back({{"index", i}, {"response", responses[i]}, {"reward", 1.0}});
  }
  return nlohmann::json{{"schema", kTailLogSchema},
                        {"kind", "saturated_group"},
                        {"time", "2026-12-04T10:00:00.000Z"},
                        {"rubric_set", set},
                        {"rubric_id", rubric_id},
                        {"labels", {{"policy_version", policy}}},
                        {"prompt", prompt},
                        {"group_size", 8},
                        {"tied_at_top", responses.size()},
                        {"top", top}}
      .dump();
}

TailLog LogOf(const std::vector<std::string>& lines) {
  TailLog log;
  for (size_t i = 0; i < lines.size(); ++i) {
    ParseTailLogLine(lines[i], absl::StrCat("f:", i + 1), &log);
  }
  return log;
}

std::vector<std::string> Texts(const nlohmann::json& record) {
  std::vector<std::string> out;
  for (const nlohmann::json& r : record["responses"]) {
    out.push_back(r["response"].get<std::string>());
  }
  return out;
}

TEST(TailDatasetTest, OneRefineRecordPerRubricNewestResponsesFirst) {
  const TailLog log =
      LogOf({GroupLine("tides", {"A", "B"}, "Explain tides.", "p1"),
             GroupLine("moon", {"M1", "M2"}, "Why phases?"),
             GroupLine("tides", {"C", "A", "D"}, "Explain tides.", "p2")});
  absl::StatusOr<TailDataset> d = BuildTailDataset(log, {});
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->rubric_set, "hb");
  ASSERT_EQ(d->refine_records.size(), 2u);
  const nlohmann::json& tides = d->refine_records[1];  // sorted by id
  EXPECT_EQ(tides["id"], "tides");
  EXPECT_EQ(tides["prompt"], "Explain tides.");
  EXPECT_EQ(tides["rubric_set"], "hb");
  EXPECT_EQ(tides["rubric_id"], "tides");
  EXPECT_THAT(Texts(tides), ElementsAre("C", "A", "D", "B"));
  EXPECT_EQ(tides["responses"][0]["generator"], "tail-log policy_version=p2");
  EXPECT_EQ(tides["responses"][3]["generator"], "tail-log policy_version=p1");
  EXPECT_EQ(d->refine_records[0]["id"], "moon");
  EXPECT_EQ(d->refine_locations[1],
            "tail log: rubric 'tides' of set 'hb' (2 saturated groups)");
  EXPECT_EQ(d->stats.groups_used, 3);
  EXPECT_EQ(d->stats.rubrics, 2);
}

TEST(TailDatasetTest, ResponsesAreBounded) {
  const TailLog log =
      LogOf({GroupLine("r", {"1", "2", "3"}), GroupLine("r", {"4", "5", "3"})});
  TailDatasetOptions options;
  options.max_responses_per_rubric = 3;
  absl::StatusOr<TailDataset> d = BuildTailDataset(log, options);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_THAT(Texts(d->refine_records[0]), ElementsAre("4", "5", "3"));
  EXPECT_EQ(d->stats.responses_dropped_bound, 2);
  options.max_responses_per_rubric = 1;
  absl::StatusOr<TailDataset> bad = BuildTailDataset(log, options);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("max_responses_per_rubric"));
}

TEST(TailDatasetTest, IdenticalTiedResponsesCannotBeRefined) {
  // The policy answered the same text twice: it ties on any rubric.
  const TailLog log =
      LogOf({GroupLine("same", {"X", "X"}), GroupLine("ok", {"Y", "Z"})});
  absl::StatusOr<TailDataset> d = BuildTailDataset(log, {});
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->refine_records.size(), 1u);
  EXPECT_EQ(d->refine_records[0]["id"], "ok");
  EXPECT_EQ(d->stats.rubrics_too_few_responses, 1);
  ASSERT_EQ(d->eval_groups.size(), 1u);
  EXPECT_EQ(d->stats.eval_groups_too_few, 1);
}

TEST(TailDatasetTest, ARubricSharedByPromptsUsesItsMostLoggedPrompt) {
  const TailLog log = LogOf({GroupLine("r", {"a1", "a2"}, "prompt A"),
                             GroupLine("r", {"b1", "b2"}, "prompt B"),
                             GroupLine("r", {"b3", "b1"}, "prompt B")});
  absl::StatusOr<TailDataset> d = BuildTailDataset(log, {});
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->refine_records.size(), 1u);
  EXPECT_EQ(d->refine_records[0]["prompt"], "prompt B");
  EXPECT_THAT(Texts(d->refine_records[0]), ElementsAre("b3", "b1", "b2"));
  EXPECT_EQ(d->stats.groups_other_prompt, 1);
  // Every group is an eval group with its own prompt.
  ASSERT_EQ(d->eval_groups.size(), 3u);
  EXPECT_EQ(d->eval_groups[0]["prompt"], "prompt A");
}

TEST(TailDatasetTest, EvalGroupsOnePerDistinctGroup) {
  const TailLog log =
      LogOf({GroupLine("r", {"a", "b"}), GroupLine("q", {"c", "d"}),
             GroupLine("r", {"b", "a"}),  // the same group
             GroupLine("r", {"a", "e"})});
  absl::StatusOr<TailDataset> d = BuildTailDataset(log, {});
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->eval_groups.size(), 3u);
  EXPECT_EQ(d->eval_groups[0], (nlohmann::json{{"id", "r/1"},
                                               {"rubric_id", "r"},
                                               {"prompt", "Explain tides."},
                                               {"responses", {"a", "b"}}}));
  EXPECT_EQ(d->eval_groups[1]["id"], "q/1");
  EXPECT_EQ(d->eval_groups[2]["id"], "r/2");
  EXPECT_EQ(d->stats.eval_groups_duplicate, 1);
}

TEST(TailDatasetTest, MessagesArePassedOnAsThePrompt) {
  nlohmann::json g = nlohmann::json::parse(GroupLine("r", {"a", "b"}));
  g.erase("prompt");
  g["messages"] = {{{"role", "system"}, {"content", "Be brief."}},
                   {{"role", "user"}, {"content", "Tides?"}}};
  absl::StatusOr<TailDataset> d = BuildTailDataset(LogOf({g.dump()}), {});
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->refine_records[0]["prompt"], g["messages"]);
  EXPECT_EQ(d->eval_groups[0]["prompt"], g["messages"]);
}

TEST(TailDatasetTest, OneRubricSetAtATime) {
  const TailLog log = LogOf({GroupLine("r", {"a", "b"}),
                             GroupLine("r", {"c", "d"}, "P", "p1", "other")});
  absl::StatusOr<TailDataset> ambiguous = BuildTailDataset(log, {});
  EXPECT_EQ(ambiguous.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ambiguous.status().message(), HasSubstr("--rubric_set"));
  TailDatasetOptions options;
  options.rubric_set = "other";
  absl::StatusOr<TailDataset> d = BuildTailDataset(log, options);
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->refine_records.size(), 1u);
  EXPECT_THAT(Texts(d->refine_records[0]), ElementsAre("c", "d"));
  EXPECT_EQ(d->refine_records[0]["rubric_set"], "other");
  EXPECT_EQ(d->stats.groups_used, 1);
}

TEST(TailDatasetTest, InlineRubricsCannotBeReferenced) {
  const TailLog log =
      LogOf({GroupLine("", {"a", "b"}, "P", "p1", "_inline"),
             GroupLine("", {"a", "b"}), GroupLine("r", {"c", "d"})});
  TailDatasetOptions options;
  options.rubric_set = "_inline";
  absl::StatusOr<TailDataset> inline_set = BuildTailDataset(log, options);
  EXPECT_EQ(inline_set.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(inline_set.status().message(),
              HasSubstr("cannot be refined by reference"));
  options.rubric_set = "hb";
  absl::StatusOr<TailDataset> d = BuildTailDataset(log, options);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->stats.groups_no_rubric_id, 1);
  ASSERT_EQ(d->refine_records.size(), 1u);
  EXPECT_EQ(d->refine_records[0]["id"], "r");
  EXPECT_EQ(d->eval_groups.size(), 1u);
}

TEST(TailDatasetTest, JsonlOneRecordPerLineEvenWithBrokenUtf8) {
  const std::string jsonl =
      ToJsonl({nlohmann::json{{"a", "x\ny"}}, nlohmann::json{{"b", "\xC3("}}});
  const std::vector<std::string> lines =
      absl::StrSplit(jsonl, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(lines[0])["a"], "x\ny");
  EXPECT_EQ(nlohmann::json::parse(lines[1])["b"], "\xEF\xBF\xBD(");
}

TEST(TailDatasetTest, ReadsTheDirectoryForRefineFromTailLog) {
  std::string dir = ::testing::TempDir() + "/tail_dataset_XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  std::ofstream(dir + "/tail-20261204T100000Z-1.jsonl")
      << GroupLine("r", {"a", "b"}) << "\n";
  absl::StatusOr<TailDataset> d = ReadTailDataset(dir, {});
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->refine_records.size(), 1u);
  EXPECT_THAT(DescribeTailDataset(*d),
              HasSubstr("1 refine records (1 rubrics;"));
  EXPECT_EQ(ReadTailDataset(dir + "/missing", {}).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace rewardd::cli

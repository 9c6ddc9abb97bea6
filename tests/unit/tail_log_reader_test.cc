// The tail log reader (client/cli/tail_log_reader.h): records of both kinds,
// garbage and truncated lines, unknown schemas and kinds, invalid fields,
// and the order of rotated files.
#include "client/cli/tail_log_reader.h"

#include <stdlib.h>

#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace rewardd::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string MakeDir() {
  std::string tmpl = ::testing::TempDir() + "/tail_log_reader_XXXXXX";
  EXPECT_NE(mkdtemp(tmpl.data()), nullptr);
  return tmpl;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

nlohmann::json Group(const std::string& rubric_id, const std::string& time) {
  return {
      {"schema", kTailLogSchema},
      {"kind", "saturated_group"},
      {"time", time},
      {"rubric_set", "hb"},
      {"rubric_id", rubric_id},
      {"rubric_version", "rv1"},
      {"set_version", "sv1"},
      {"labels", {{"policy_version", "p3"}}},
      {"prompt", "What helps a migraine?"},
      {"group_size", 4},
      {"valid", 3},
      {"max_possible", 1.0},
      {"top_reward", 1.0},
      {"tied_at_top", 2},
      {"zero_variance", false},
      {"rewards", {1.0, nullptr, 1.0, 0.5}},
      {"top",
       {{{"index", 0},
         {"response", "Rest in a dark room."},
         {"reward", 1.0},
         {"verdicts",
          {{{"criterion_id", "c1"}, {"verdict", "MET"}, {"status", "OK"}}}}},
        {{"index", 2}, {"response", "Hydrate."}, {"reward", 1.0}}}}};
}

nlohmann::json Window(const std::string& time, int groups, int tied) {
  return {{"schema", kTailLogSchema},
          {"kind", "window"},
          {"time", time},
          {"rubric_set", "hb"},
          {"set_version", "sv1"},
          {"seconds", 60.0},
          {"groups", groups},
          {"zero_variance_groups", 1},
          {"tied_at_max_groups", tied},
          {"responses", groups * 4},
          {"responses_at_max", tied * 2},
          {"reward_histogram", {{"edges", {0, 0.5, 1}}, {"counts", {3, 5}}}},
          {"sampled", 1},
          {"dropped_rate_limited", 2},
          {"dropped_queue_full", 0}};
}

TEST(TailLogReaderTest, ReadsBothKinds) {
  TailLog log;
  ParseTailLogLine(Group("r1", "2026-12-04T10:00:00.250Z").dump(), "f:1", &log);
  ParseTailLogLine(Window("2026-12-04T10:01:00.000Z", 10, 4).dump(), "f:2",
                   &log);
  ASSERT_EQ(log.groups.size(), 1u);
  ASSERT_EQ(log.windows.size(), 1u);
  const SaturatedGroupRecord& g = log.groups[0];
  EXPECT_EQ(g.rubric_id, "r1");
  EXPECT_EQ(g.time, absl::FromUnixMillis(1796378400250));
  EXPECT_EQ(g.labels.at("policy_version"), "p3");
  EXPECT_EQ(g.tied_at_top, 2);
  ASSERT_EQ(g.rewards.size(), 4u);
  EXPECT_FALSE(g.rewards[1].has_value());
  ASSERT_EQ(g.top.size(), 2u);
  EXPECT_EQ(g.top[1].index, 2);
  EXPECT_EQ(g.top[1].response, "Hydrate.");
  ASSERT_EQ(g.top[0].verdicts.size(), 1u);
  EXPECT_EQ(g.top[0].verdicts[0].verdict, "MET");
  EXPECT_EQ(g.source, "f:1");
  const WindowRecord& w = log.windows[0];
  EXPECT_EQ(w.groups, 10);
  EXPECT_EQ(w.tied_at_max_groups, 4);
  EXPECT_EQ(w.dropped_rate_limited, 2);
  ASSERT_TRUE(w.reward_histogram.has_value());
  EXPECT_THAT(w.reward_histogram->counts, ElementsAre(3, 5));
  EXPECT_FALSE(w.top2_gap_histogram.has_value());
  EXPECT_EQ(log.stats.saturated_groups, 1);
  EXPECT_EQ(log.stats.windows, 1);
  EXPECT_EQ(log.stats.lines, 2);
}

TEST(TailLogReaderTest, CountsGarbageAndUnknownRecords) {
  TailLog log;
  for (const char* line : {"{not json", "[1, 2]", "42", "\"text\""}) {
    ParseTailLogLine(line, "f:1", &log);
  }
  nlohmann::json other_schema = Window("2026-12-04T10:00:00Z", 1, 0);
  other_schema["schema"] = "rewardd.tail_log.v9";
  nlohmann::json future_kind = Window("2026-12-04T10:00:00Z", 1, 0);
  future_kind["kind"] = "future_kind";
  nlohmann::json no_kind = Window("2026-12-04T10:00:00Z", 1, 0);
  no_kind.erase("kind");
  for (const nlohmann::json& j : {other_schema, future_kind, no_kind}) {
    ParseTailLogLine(j.dump(), "f:2", &log);
  }
  EXPECT_EQ(log.stats.unparsable, 4);
  EXPECT_EQ(log.stats.unknown, 3);
  EXPECT_EQ(log.stats.invalid, 0);
  EXPECT_TRUE(log.groups.empty());
  EXPECT_TRUE(log.windows.empty());
  EXPECT_THAT(log.stats.problems,
              ::testing::Contains(HasSubstr("unknown kind 'future_kind'")));
  EXPECT_THAT(DescribeTailLogStats(log.stats),
              HasSubstr("skipped 4 unparsable lines, 3 records of unknown "
                        "kind or schema, 0 invalid records"));
}

TEST(TailLogReaderTest, InvalidRecordsNameTheField) {
  struct Case {
    nlohmann::json record;
    std::string problem;
  };
  nlohmann::json no_id = Group("r1", "2026-12-04T10:00:00Z");
  no_id.erase("rubric_id");
  nlohmann::json bad_time = Group("r1", "yesterday");
  nlohmann::json bad_top = Group("r1", "2026-12-04T10:00:00Z");
  bad_top["top"][1].erase("response");
  nlohmann::json no_prompt = Group("r1", "2026-12-04T10:00:00Z");
  no_prompt.erase("prompt");
  nlohmann::json bad_reward = Group("r1", "2026-12-04T10:00:00Z");
  bad_reward["rewards"][0] = "high";
  nlohmann::json too_tied = Window("2026-12-04T10:00:00Z", 3, 4);
  nlohmann::json bad_hist = Window("2026-12-04T10:00:00Z", 3, 1);
  bad_hist["reward_histogram"]["counts"] = {1, 2, 3};
  nlohmann::json no_set = Window("2026-12-04T10:00:00Z", 3, 1);
  no_set["rubric_set"] = "";
  nlohmann::json negative = Window("2026-12-04T10:00:00Z", 3, 1);
  negative["groups"] = -3;
  const Case cases[] = {
      {no_id, "field 'rubric_id': missing"},
      {bad_time, "field 'time': not an RFC 3339 time"},
      {bad_top, "field 'top[1]': field 'response': missing"},
      {no_prompt, "field 'prompt': missing (and no messages)"},
      {bad_reward, "field 'rewards': not a number or null"},
      {too_tied, "field 'tied_at_max_groups': more than groups"},
      {bad_hist, "field 'reward_histogram': needs edges and counts"},
      {negative, "field 'groups': not a non-negative integer"},
      {no_set, "field 'rubric_set': empty"},
  };
  for (const Case& c : cases) {
    TailLog log;
    ParseTailLogLine(c.record.dump(), "x.jsonl:7", &log);
    EXPECT_EQ(log.stats.invalid, 1) << c.problem;
    ASSERT_EQ(log.stats.problems.size(), 1u) << c.problem;
    EXPECT_THAT(log.stats.problems[0], HasSubstr("x.jsonl:7: "));
    EXPECT_THAT(log.stats.problems[0], HasSubstr(c.problem));
    EXPECT_TRUE(log.groups.empty() && log.windows.empty());
  }
}

TEST(TailLogReaderTest, MessagesStandInForThePrompt) {
  nlohmann::json g = Group("r1", "2026-12-04T10:00:00Z");
  g.erase("prompt");
  g["messages"] = {{{"role", "user"}, {"content", "Hi"}}};
  TailLog log;
  ParseTailLogLine(g.dump(), "f:1", &log);
  ASSERT_EQ(log.groups.size(), 1u);
  EXPECT_EQ(log.groups[0].messages[0]["content"], "Hi");
}

TEST(TailLogReaderTest, ReadsRotatedFilesInTimeOrder) {
  const std::string dir = MakeDir();
  // seq 10 after seq 9 although "10" < "9" as text; an earlier stamp first;
  // a name off the pattern last; other files ignored.
  WriteFile(dir + "/tail-20261204T100000Z-10.jsonl",
            Group("third", "2026-12-04T10:00:03Z").dump() + "\n");
  WriteFile(dir + "/tail-20261204T100000Z-9.jsonl",
            Group("second", "2026-12-04T10:00:02Z").dump() + "\n\n");
  WriteFile(dir + "/tail-20261204T095959Z-11.jsonl",
            Group("first", "2026-12-04T10:00:01Z").dump() + "\n");
  WriteFile(dir + "/tail-manual.jsonl",
            Group("last", "2026-12-04T10:00:04Z").dump() + "\n");
  WriteFile(dir + "/notes.txt", "not a tail file\n");
  WriteFile(dir + "/tail-20261204T100000Z-12.jsonl.tmp", "{partial\n");
  absl::StatusOr<std::vector<std::string>> files = ListTailLogFiles(dir + "/");
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_THAT(*files, ElementsAre(dir + "/tail-20261204T095959Z-11.jsonl",
                                  dir + "/tail-20261204T100000Z-9.jsonl",
                                  dir + "/tail-20261204T100000Z-10.jsonl",
                                  dir + "/tail-manual.jsonl"));
  absl::StatusOr<TailLog> log = ReadTailLog(dir);
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_EQ(log->groups.size(), 4u);
  EXPECT_EQ(log->groups[0].rubric_id, "first");
  EXPECT_EQ(log->groups[1].rubric_id, "second");
  EXPECT_EQ(log->groups[2].rubric_id, "third");
  EXPECT_EQ(log->groups[3].rubric_id, "last");
  EXPECT_EQ(log->groups[1].source, dir + "/tail-20261204T100000Z-9.jsonl:1");
  EXPECT_EQ(log->stats.files, 4);
  EXPECT_EQ(log->stats.lines, 4);  // blank lines are not lines
}

TEST(TailLogReaderTest, ALineCutOffByTheWriterIsSkipped) {
  const std::string dir = MakeDir();
  const std::string whole = Group("r1", "2026-12-04T10:00:00Z").dump();
  WriteFile(dir + "/tail-20261204T100000Z-1.jsonl",
            whole + "\n" + whole.substr(0, whole.size() / 2));
  absl::StatusOr<TailLog> log = ReadTailLog(dir);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(log->groups.size(), 1u);
  EXPECT_EQ(log->stats.unparsable, 1);
  EXPECT_THAT(log->stats.problems[0],
              HasSubstr("tail-20261204T100000Z-1.jsonl:2: not a JSON object"));
}

TEST(TailLogReaderTest, MissingDirectoryIsAnErrorAnEmptyOneIsNot) {
  absl::StatusOr<TailLog> missing = ReadTailLog(MakeDir() + "/nope");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("--tail_log_dir"));
  absl::StatusOr<TailLog> empty = ReadTailLog(MakeDir());
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->stats.files, 0);
  EXPECT_EQ(ChooseRubricSet(*empty, "").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(TailLogReaderTest, ChoosesTheRubricSet) {
  TailLog log;
  ParseTailLogLine(Group("r1", "2026-12-04T10:00:00Z").dump(), "f:1", &log);
  EXPECT_EQ(*ChooseRubricSet(log, ""), "hb");
  nlohmann::json other = Window("2026-12-04T10:00:00Z", 2, 1);
  other["rubric_set"] = "biggen";
  ParseTailLogLine(other.dump(), "f:2", &log);
  absl::StatusOr<std::string> ambiguous = ChooseRubricSet(log, "");
  EXPECT_EQ(ambiguous.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ambiguous.status().message(),
              HasSubstr("--rubric_set: the tail log holds 2 rubric sets "
                        "(biggen, hb)"));
  EXPECT_EQ(*ChooseRubricSet(log, "biggen"), "biggen");
  EXPECT_THAT(ChooseRubricSet(log, "nope").status().message(),
              HasSubstr("--rubric_set: 'nope' has no records"));
}

}  // namespace
}  // namespace rewardd::cli

// The tail log on an injected clock with no writer thread (the test drives
// WriteOnce): record content, rotation by size, the total and count caps,
// the rate limit, a full queue, and a directory that goes away (a write
// error is counted, never fatal). Also the saturation series of
// ServerMetrics.
#include "server/metrics/tail_log.h"

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/metrics/saturation_metrics.h"
#include "server/metrics/server_metrics.h"
#include "tests/tail_log_lines.h"
#include "tests/unit/saturation_test_support.h"

namespace rewardd {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ::rewardd::testing::FakeClock;
using ::rewardd::testing::MakeGroup;
using ::rewardd::testing::TestGroup;

class TailLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tail_log_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  TailLogOptions Options() {
    TailLogOptions o;
    o.dir = dir_.string();
    o.clock = [this] { return clock_.Now(); };
    o.start_thread = false;
    o.samples_per_second = 1000;
    o.window = absl::Seconds(60);
    return o;
  }

  std::unique_ptr<TailLog> Make(TailLogOptions o) {
    absl::StatusOr<std::unique_ptr<TailLog>> log =
        TailLog::Create(std::move(o), &registry_);
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? *std::move(log) : nullptr;
  }

  static void Offer(TailLog& log, const TestGroup& g) {
    log.OnGroup(g.View(), SummarizeGroup(g.results, 1.0));
  }

  std::vector<fs::path> Files() const {
    return ::rewardd::testing::TailLogFiles(dir_.string());
  }
  std::vector<json> Lines() const {
    return ::rewardd::testing::ReadTailLog(dir_.string());
  }

  FakeClock clock_;
  fs::path dir_;
  prometheus::Registry registry_;
};

TEST_F(TailLogTest, WritesSaturatedGroupsAndWindowsInTheSharedFormat) {
  std::unique_ptr<TailLog> log = Make(Options());
  ASSERT_NE(log, nullptr);
  TestGroup hot = MakeGroup("med", "hot", {1.0, std::nullopt, 1.0, 0.5});
  hot.labels = {{"policy_version", "ckpt-7"}};
  Offer(*log, hot);
  Offer(*log, MakeGroup("med", "cold", {1.0, 0.5}));  // not saturated
  Offer(*log, MakeGroup("other", "x", {0.5, 0.5}));   // zero variance
  clock_.Advance(absl::Seconds(61));
  log->WriteOnce(/*final=*/false);

  const std::vector<json> lines = Lines();
  ASSERT_EQ(lines.size(), 3u);  // one group, two windows
  const json& g = lines[0];
  EXPECT_EQ(g["schema"], "rewardd.tail_log.v1");
  EXPECT_EQ(g["kind"], "saturated_group");
  EXPECT_EQ(g["time"], "2027-01-15T08:00:00.000Z");
  EXPECT_EQ(g["rubric_set"], "med");
  EXPECT_EQ(g["rubric_id"], "hot");
  EXPECT_EQ(g["rubric_version"], "v-hot");
  EXPECT_EQ(g["set_version"], "setv1");
  EXPECT_EQ(g["labels"], json({{"policy_version", "ckpt-7"}}));
  EXPECT_EQ(g["prompt"], "prompt of hot");
  EXPECT_FALSE(g.contains("messages"));
  EXPECT_EQ(g["group_size"], 4);
  EXPECT_EQ(g["valid"], 3);
  EXPECT_EQ(g["max_possible"], 1.0);
  EXPECT_EQ(g["top_reward"], 1.0);
  EXPECT_EQ(g["tied_at_top"], 2);
  EXPECT_EQ(g["zero_variance"], false);
  EXPECT_EQ(g["rewards"], json::parse("[1.0, null, 1.0, 0.5]"));
  ASSERT_EQ(g["top"].size(), 2u);
  EXPECT_EQ(g["top"][0]["index"], 0);
  EXPECT_EQ(g["top"][1]["index"], 2);
  EXPECT_EQ(g["top"][1]["response"], "response 2");
  EXPECT_EQ(g["top"][1]["reward"], 1.0);
  ASSERT_EQ(g["top"][1]["verdicts"].size(), 4u);
  EXPECT_EQ(
      g["top"][1]["verdicts"][3],
      json({{"criterion_id", "c3"}, {"verdict", "MET"}, {"status", "OK"}}));

  const json& med = lines[1];
  EXPECT_EQ(med["kind"], "window");
  EXPECT_EQ(med["rubric_set"], "med");
  EXPECT_EQ(med["set_version"], "setv1");
  EXPECT_EQ(med["seconds"], 61.0);
  EXPECT_EQ(med["groups"], 2);
  EXPECT_EQ(med["zero_variance_groups"], 0);
  EXPECT_EQ(med["tied_at_max_groups"], 1);
  EXPECT_EQ(med["responses"], 5);
  EXPECT_EQ(med["responses_at_max"], 3);
  EXPECT_EQ(med["reward_histogram"]["edges"].size(), 11u);
  EXPECT_EQ(med["reward_histogram"]["counts"],
            json::parse("[0,0,0,0,0,2,0,0,0,3]"));
  EXPECT_EQ(med["top2_gap_histogram"]["counts"],
            json::parse("[1,0,0,0,0,1,0,0,0,0]"));
  EXPECT_EQ(med["sampled"], 1);
  EXPECT_EQ(med["dropped_rate_limited"], 0);
  EXPECT_EQ(med["dropped_queue_full"], 0);
  EXPECT_EQ(lines[2]["rubric_set"], "other");
  EXPECT_EQ(lines[2]["zero_variance_groups"], 1);

  // The name carries the UTC time of the file's first record.
  const std::string name = Files()[0].filename().string();
  EXPECT_TRUE(absl::StartsWith(name, "tail-20270115T080101Z-")) << name;
  EXPECT_TRUE(absl::EndsWith(name, ".jsonl")) << name;
  EXPECT_EQ(log->counts().saturated_written, 1u);
  EXPECT_EQ(log->counts().windows_written, 2u);
}

TEST_F(TailLogTest, ChatPromptsKeepTheirMessages) {
  std::unique_ptr<TailLog> log = Make(Options());
  TestGroup g = MakeGroup("med", "hot", {1.0, 1.0});
  g.base->messages = {{"system", "Be brief."}, {"user", "Two letters?"}};
  g.base->prompt = "Two letters?";
  Offer(*log, g);
  log->WriteOnce(false);
  const std::vector<json> lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["prompt"], "Two letters?");
  EXPECT_EQ(lines[0]["messages"], json::parse(R"([
      {"role": "system", "content": "Be brief."},
      {"role": "user", "content": "Two letters?"}])"));
}

TEST_F(TailLogTest, NoWindowBeforeItEndsAndNoneWithoutTraffic) {
  std::unique_ptr<TailLog> log = Make(Options());
  Offer(*log, MakeGroup("med", "cold", {1.0, 0.5}));
  clock_.Advance(absl::Seconds(30));
  log->WriteOnce(false);
  EXPECT_TRUE(Lines().empty());
  clock_.Advance(absl::Seconds(30));
  log->WriteOnce(false);
  EXPECT_EQ(Lines().size(), 1u);
  clock_.Advance(absl::Seconds(120));
  log->WriteOnce(false);  // a window without traffic writes nothing
  EXPECT_EQ(Lines().size(), 1u);
}

TEST_F(TailLogTest, RotatesBySizeAndKeepsTheTotalUnderItsCap) {
  TailLogOptions o = Options();
  o.max_file_bytes = 2000;
  o.max_total_bytes = 6000;
  o.max_files = 100;
  std::unique_ptr<TailLog> log = Make(o);
  for (int i = 0; i < 60; ++i) {
    Offer(*log, MakeGroup("med", "hot", {1.0, 1.0, 1.0}));
    clock_.Advance(absl::Milliseconds(10));
    log->WriteOnce(false);
  }
  const std::vector<fs::path> files = Files();
  ASSERT_GE(files.size(), 2u);
  uintmax_t total = 0;
  for (const fs::path& f : files) {
    EXPECT_LE(fs::file_size(f), 2000u) << f;
    total += fs::file_size(f);
  }
  EXPECT_LE(total, 6000u);
  EXPECT_GT(log->counts().files_deleted, 0u);
  EXPECT_EQ(log->counts().saturated_written, 60u);
  EXPECT_EQ(log->counts().write_errors, 0u);
  // The newest records survive: the last file ends with the last group.
  EXPECT_EQ(Lines().back()["kind"], "saturated_group");
}

TEST_F(TailLogTest, KeepsAtMostMaxFiles) {
  TailLogOptions o = Options();
  o.max_file_bytes = 500;  // one record per file
  o.max_files = 3;
  std::unique_ptr<TailLog> log = Make(o);
  for (int i = 0; i < 10; ++i) {
    Offer(*log, MakeGroup("med", "hot", {1.0, 1.0}));
    log->WriteOnce(false);
  }
  EXPECT_EQ(Files().size(), 3u);
  EXPECT_EQ(log->counts().files_deleted, 7u);
}

TEST_F(TailLogTest, RateLimitDropsAreCounted) {
  TailLogOptions o = Options();
  o.samples_per_second = 2;  // burst 2, then 2 per second
  std::unique_ptr<TailLog> log = Make(o);
  for (int i = 0; i < 5; ++i) Offer(*log, MakeGroup("med", "hot", {1.0, 1.0}));
  EXPECT_EQ(log->counts().dropped_rate_limited, 3u);
  clock_.Advance(absl::Milliseconds(500));  // one token back
  Offer(*log, MakeGroup("med", "hot", {1.0, 1.0}));
  Offer(*log, MakeGroup("med", "hot", {1.0, 1.0}));
  EXPECT_EQ(log->counts().dropped_rate_limited, 4u);
  clock_.Advance(absl::Seconds(60));
  log->WriteOnce(false);
  const std::vector<json> lines = Lines();
  ASSERT_EQ(lines.size(), 4u);  // 3 sampled + the window
  EXPECT_EQ(lines[3]["sampled"], 3);
  EXPECT_EQ(lines[3]["dropped_rate_limited"], 4);
  EXPECT_EQ(lines[3]["tied_at_max_groups"], 7);
}

TEST_F(TailLogTest, ZeroRateSamplesNothing) {
  TailLogOptions o = Options();
  o.samples_per_second = 0;
  std::unique_ptr<TailLog> log = Make(o);
  Offer(*log, MakeGroup("med", "hot", {1.0, 1.0}));
  clock_.Advance(absl::Seconds(60));
  log->WriteOnce(false);
  const std::vector<json> lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["kind"], "window");
  EXPECT_EQ(lines[0]["dropped_rate_limited"], 1);
}

TEST_F(TailLogTest, FullQueueDropsAreCounted) {
  TailLogOptions o = Options();
  o.queue_capacity = 2;
  std::unique_ptr<TailLog> log = Make(o);
  for (int i = 0; i < 5; ++i) Offer(*log, MakeGroup("med", "hot", {1.0, 1.0}));
  EXPECT_EQ(log->counts().dropped_queue_full, 3u);
  log->WriteOnce(false);  // drains the queue: room again
  Offer(*log, MakeGroup("med", "hot", {1.0, 1.0}));
  EXPECT_EQ(log->counts().dropped_queue_full, 3u);
  log->Stop();
  EXPECT_EQ(log->counts().saturated_written, 3u);
}

TEST_F(TailLogTest, DirectoryGoneIsACountedErrorNotACrash) {
  TailLogOptions o = Options();
  o.max_file_bytes = 500;  // every record opens a new file
  std::unique_ptr<TailLog> log = Make(o);
  Offer(*log, MakeGroup("med", "hot", {1.0, 1.0}));
  log->WriteOnce(false);
  ASSERT_EQ(log->counts().saturated_written, 1u);
  // The directory is replaced by a plain file: opening a new file fails
  // (unlike a chmod, this stops root too).
  fs::remove_all(dir_);
  { std::ofstream(dir_.string()) << "not a directory"; }
  for (int i = 0; i < 3; ++i) Offer(*log, MakeGroup("med", "hot", {1.0, 1.0}));
  log->WriteOnce(false);
  EXPECT_EQ(log->counts().write_errors, 3u);
  EXPECT_EQ(log->counts().saturated_written, 1u);
  // Create() refuses such a path up front.
  EXPECT_FALSE(TailLog::Create(o, nullptr).ok());
  // The directory comes back: the next record is written.
  fs::remove(dir_);
  fs::create_directory(dir_);
  Offer(*log, MakeGroup("med", "hot", {1.0, 1.0}));
  log->WriteOnce(false);
  EXPECT_EQ(log->counts().saturated_written, 2u);
  EXPECT_EQ(log->counts().write_errors, 3u);
}

// The writer thread against four grading threads: every saturated group is
// written or counted as dropped, and the shutdown window counts them all.
TEST_F(TailLogTest, WriterThreadAndConcurrentProducersAgree) {
  TailLogOptions o = Options();
  o.start_thread = true;
  o.clock = nullptr;           // the writer waits on real time
  o.samples_per_second = 1e9;  // never rate-limited
  o.queue_capacity = 8;        // but the queue may fill
  o.window = absl::Hours(1);   // one window: the shutdown flush
  std::unique_ptr<TailLog> log = Make(o);
  constexpr int kThreads = 4, kGroups = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&log, t] {
      for (int i = 0; i < kGroups; ++i) {
        Offer(*log, MakeGroup("med", absl::StrCat("r", t), {1.0, 1.0, 0.5}));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  log->Stop();
  const TailLog::Counts c = log->counts();
  EXPECT_EQ(c.saturated_written + c.dropped_queue_full,
            static_cast<uint64_t>(kThreads * kGroups));
  EXPECT_EQ(c.dropped_rate_limited, 0u);
  EXPECT_EQ(c.write_errors, 0u);
  const std::vector<json> lines = Lines();
  ASSERT_EQ(lines.size(), c.saturated_written + 1);
  const json& window = lines.back();
  EXPECT_EQ(window["kind"], "window");
  EXPECT_EQ(window["groups"], kThreads * kGroups);
  EXPECT_EQ(window["sampled"], c.saturated_written);
  EXPECT_EQ(window["dropped_queue_full"], c.dropped_queue_full);
}

TEST_F(TailLogTest, CreateNamesTheBadFlag) {
  TailLogOptions o = Options();
  o.max_total_bytes = 10;
  o.max_file_bytes = 100;
  absl::StatusOr<std::unique_ptr<TailLog>> log = TailLog::Create(o, nullptr);
  ASSERT_FALSE(log.ok());
  EXPECT_THAT(log.status().message(),
              ::testing::HasSubstr("--tail_log_max_total_bytes"));
  o = Options();
  o.dir = (dir_ / "missing-parent" / "tail").string();
  log = TailLog::Create(o, nullptr);
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(log.status().message(), ::testing::HasSubstr("--tail_log_dir"));
}

TEST(SaturationMetricsTest, ServerMetricsExportsPerSetSeriesAndTopK) {
  MetricsOptions options;
  options.saturation_top_k = 1;
  // A still clock: the decayed score stays a whole count.
  options.saturation.clock = [] {
    return absl::FromUnixSeconds(1'800'000'000);
  };
  ServerMetrics metrics(options);
  for (int i = 0; i < 3; ++i) {
    const TestGroup g = MakeGroup("med", "hot", {1.0, 1.0, 0.5});
    metrics.OnGroupGraded(g.View());
  }
  const TestGroup other = MakeGroup("med", "warm", {1.0, 1.0});
  metrics.OnGroupGraded(other.View());
  const TestGroup flat = MakeGroup("med", "flat", {0.5, 0.5});
  metrics.OnGroupGraded(flat.View());
  const TestGroup invalid =
      MakeGroup("med", "broken", {std::nullopt, 1.0, std::nullopt});
  metrics.OnGroupGraded(invalid.View());
  const std::string text = metrics.RenderText();
  EXPECT_THAT(text, ::testing::HasSubstr(
                        "rewardd_groups_graded_total{rubric_set=\"med\"} 6"));
  EXPECT_THAT(text, ::testing::HasSubstr("rewardd_groups_zero_variance_total{"
                                         "rubric_set=\"med\"} 2"));
  EXPECT_THAT(text, ::testing::HasSubstr("rewardd_groups_tied_at_max_total{"
                                         "rubric_set=\"med\"} 4"));
  EXPECT_THAT(text,
              ::testing::HasSubstr(
                  "rewardd_group_responses_total{rubric_set=\"med\"} 14"));
  EXPECT_THAT(text, ::testing::HasSubstr("rewardd_group_responses_at_max_total{"
                                         "rubric_set=\"med\"} 9"));
  EXPECT_THAT(text, ::testing::HasSubstr(
                        "rewardd_group_top2_gap_count{rubric_set=\"med\"} 5"));
  // Top 1 only: "hot" (3 saturated groups), not "warm".
  EXPECT_THAT(text, ::testing::HasSubstr("rewardd_rubric_saturation_score{"
                                         "rubric_id=\"hot\",rubric_set="
                                         "\"med\"} 3"));
  EXPECT_THAT(text, ::testing::Not(::testing::HasSubstr("rubric_id=\"warm\"")));
  ASSERT_EQ(metrics.saturation().Top(10).size(), 2u);
}

TEST(SaturationMetricsTest, SetsBeyondTheLimitCountAsOther) {
  prometheus::Registry registry;
  SaturationTracker tracker(SaturationTrackerOptions{});
  SaturationMetrics metrics(registry, &tracker, /*top_k=*/5,
                            /*rubric_set_limit=*/1);
  const TestGroup a = MakeGroup("a", "x", {1.0, 1.0});
  const TestGroup b = MakeGroup("b", "x", {1.0, 1.0});
  metrics.Record("a", SummarizeGroup(a.results, 1.0));
  auto text = [&registry] {
    std::string out;
    for (const prometheus::MetricFamily& f : registry.Collect()) {
      for (const prometheus::ClientMetric& m : f.metric) {
        for (const prometheus::ClientMetric::Label& l : m.label) {
          out += f.name + "{" + l.name + "=" + l.value + "} " +
                 std::to_string(static_cast<int>(m.counter.value)) + "\n";
        }
      }
    }
    return out;
  };
  // No "other" series until a set overflows.
  EXPECT_THAT(text(), ::testing::Not(::testing::HasSubstr("other")));
  metrics.Record("b", SummarizeGroup(b.results, 1.0));
  EXPECT_THAT(text(), ::testing::HasSubstr(
                          "rewardd_groups_tied_at_max_total{rubric_set=a} 1"));
  EXPECT_THAT(text(),
              ::testing::HasSubstr(
                  "rewardd_groups_tied_at_max_total{rubric_set=other} 1"));
  EXPECT_THAT(text(), ::testing::Not(::testing::HasSubstr("rubric_set=b")));
}

}  // namespace
}  // namespace rewardd

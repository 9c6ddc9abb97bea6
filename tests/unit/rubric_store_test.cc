// Tests of the versioned rubric store in a private temporary directory, with
// rubric content taken from the real data in REWARDD_SHARED_DATA.
#include "server/rubric/rubric_store.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rewardd {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

const std::string kData = REWARDD_SHARED_DATA;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The first `n` records of the shared HealthBench sample, as JSONL.
std::string HealthBenchLines(size_t from, size_t n) {
  std::vector<std::string> lines = absl::StrSplit(
      ReadAll(kData + "/healthbench/healthbench_oss_eval_sample.jsonl"), '\n',
      absl::SkipEmpty());
  std::string out;
  for (size_t i = from; i < from + n && i < lines.size(); ++i) {
    absl::StrAppend(&out, lines[i], "\n");
  }
  return out;
}

std::string Appendix() {
  return ReadAll(kData + "/chasing_the_tail/paper_appendix_example.json");
}

// A one-rubric rewardd set whose single criterion says `text`.
std::string OwnSet(absl::string_view text) {
  return absl::StrCat(R"({"id": "r1", "prompt": "p", "criteria": [{"text": ")",
                      text, R"("}]})", "\n");
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "rubric_store_XXXXXX";
    dir_ = mkdtemp(tmpl.data());
    options_.dir = dir_;
    options_.poll_interval = absl::ZeroDuration();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes through a temporary file and rename(2), as editors and deploy
  // tools do, so a reload never sees half a file.
  void Write(const std::string& name, const std::string& content) {
    const std::string tmp = dir_ + "/.tmp-" + name;
    std::ofstream(tmp, std::ios::binary) << content;
    fs::rename(tmp, dir_ + "/" + name);
  }

  std::string dir_;
  RubricStore::Options options_;
};

TEST_F(StoreTest, LoadsEveryRubricFileAndSkipsTheRest) {
  Write("medical.healthbench.jsonl", HealthBenchLines(0, 3));
  Write("appendix.json", Appendix());
  Write("own.jsonl", OwnSet("is polite"));
  Write(".hidden.json", OwnSet("hidden"));
  Write("notes.txt", "not a rubric");
  fs::create_directory(dir_ + "/sub.json");  // a directory, not a file

  RubricStore store(options_);
  EXPECT_FALSE(store.ready());
  EXPECT_EQ(store.snapshot()->generation, 0u);
  EXPECT_TRUE(store.snapshot()->sets.empty());

  ReloadReport report = store.Reload();
  EXPECT_TRUE(report.ok()) << report.dir_status;
  EXPECT_TRUE(report.published);
  EXPECT_EQ(report.generation, 1u);
  EXPECT_THAT(report.loaded, ElementsAre("appendix", "medical", "own"));
  EXPECT_TRUE(store.ready());

  auto snap = store.snapshot();
  EXPECT_EQ(snap->generation, 1u);
  EXPECT_THAT(snap->SortedNames(), ElementsAre("appendix", "medical", "own"));
  const RubricSet* medical = snap->Find("medical");
  ASSERT_NE(medical, nullptr);
  EXPECT_EQ(medical->format, "healthbench");
  EXPECT_EQ(medical->rubrics.size(), 3u);
  EXPECT_EQ(medical->source_path, dir_ + "/medical.healthbench.jsonl");
  EXPECT_EQ(snap->Find("appendix")->format, "paper_appendix");
  EXPECT_EQ(snap->Find("hidden"), nullptr);
}

TEST_F(StoreTest, EditedFileIsReloadedAndOthersAreNotReparsed) {
  Write("a.jsonl", OwnSet("first"));
  Write("b.healthbench.jsonl", HealthBenchLines(0, 2));
  RubricStore store(options_);
  ASSERT_TRUE(store.Reload().ok());
  auto before = store.snapshot();

  Write("a.jsonl", OwnSet("second"));
  ReloadReport report = store.Reload();
  EXPECT_TRUE(report.ok());
  EXPECT_TRUE(report.published);
  EXPECT_THAT(report.loaded, ElementsAre("a"));
  EXPECT_THAT(report.unchanged, ElementsAre("b"));
  auto after = store.snapshot();
  EXPECT_EQ(after->generation, before->generation + 1);
  EXPECT_EQ(after->Find("a")->rubrics[0]->criteria[0].text, "second");
  EXPECT_NE(after->Find("a")->version, before->Find("a")->version);
  // Not re-parsed: the very same object.
  EXPECT_EQ(after->sets.at("b"), before->sets.at("b"));
}

TEST_F(StoreTest, UnchangedBytesAreNeitherReparsedNorRepublished) {
  Write("a.jsonl", OwnSet("same"));
  Write("b.json", Appendix());
  RubricStore store(options_);
  ASSERT_TRUE(store.Reload().ok());
  auto before = store.snapshot();

  // Rewriting identical bytes (new inode, new mtime) changes nothing.
  Write("a.jsonl", OwnSet("same"));
  ReloadReport report = store.Reload();
  EXPECT_TRUE(report.ok());
  EXPECT_FALSE(report.published);
  EXPECT_THAT(report.loaded, IsEmpty());
  EXPECT_THAT(report.unchanged, ElementsAre("a", "b"));
  EXPECT_EQ(report.generation, before->generation);
  auto after = store.snapshot();
  EXPECT_EQ(after, before);  // the same snapshot object
}

TEST_F(StoreTest, BadEditKeepsPreviousVersionAndReportsWhy) {
  Write("good.jsonl", OwnSet("fine"));
  Write("med.jsonl", OwnSet("v1"));
  RubricStore store(options_);
  ASSERT_TRUE(store.Reload().ok());
  auto before = store.snapshot();

  Write(
      "med.jsonl",
      absl::StrCat(
          OwnSet("v2"),
          R"({"id": "r2", "criteria": [{"text": "x", "weight": "2"}]})", "\n"));
  ReloadReport report = store.Reload();
  EXPECT_FALSE(report.ok());
  ASSERT_EQ(report.errors.size(), 1u);
  const ReloadReport::FileError e =
      report.errors[0];  // a copy: report is reused
  EXPECT_EQ(e.file, "med.jsonl");
  EXPECT_EQ(e.set_name, "med");
  EXPECT_THAT(e.message, HasSubstr("med.jsonl line 2 (rubric 'r2'): "
                                   "criterion #1: weight is not a number"));
  EXPECT_TRUE(e.kept_previous);
  EXPECT_FALSE(e.repeated);
  EXPECT_THAT(report.unchanged, ElementsAre("good"));
  // Nothing changed for readers: the old set is still served.
  EXPECT_FALSE(report.published);
  auto snap = store.snapshot();
  EXPECT_EQ(snap->sets.at("med"), before->sets.at("med"));
  EXPECT_EQ(snap->Find("med")->rubrics[0]->criteria[0].text, "v1");

  // The same bad bytes again: reported as repeated, not parsed again.
  report = store.Reload();
  ASSERT_EQ(report.errors.size(), 1u);
  EXPECT_TRUE(report.errors[0].repeated);
  EXPECT_EQ(report.errors[0].message, e.message);

  // Fixed: the new version goes live.
  Write("med.jsonl", OwnSet("v3"));
  report = store.Reload();
  EXPECT_TRUE(report.ok());
  EXPECT_THAT(report.loaded, ElementsAre("med"));
  EXPECT_EQ(store.snapshot()->Find("med")->rubrics[0]->criteria[0].text, "v3");
}

TEST_F(StoreTest, NewBadFileDoesNotAffectOthers) {
  Write("good.jsonl", OwnSet("fine"));
  Write("bad.jsonl", "");
  Write("worse.helthbench.jsonl", HealthBenchLines(0, 1));  // typo infix
  RubricStore store(options_);
  ReloadReport report = store.Reload();
  ASSERT_EQ(report.errors.size(), 2u);
  EXPECT_EQ(report.errors[0].file, "bad.jsonl");
  EXPECT_THAT(report.errors[0].message, HasSubstr("empty file"));
  EXPECT_FALSE(report.errors[0].kept_previous);
  EXPECT_EQ(report.errors[1].file, "worse.helthbench.jsonl");
  EXPECT_THAT(report.errors[1].message,
              HasSubstr("unknown format 'helthbench'"));
  EXPECT_THAT(store.snapshot()->SortedNames(), ElementsAre("good"));
  EXPECT_TRUE(store.ready());

  // Polled again unchanged: the same failures, marked as already reported.
  report = store.Reload();
  ASSERT_EQ(report.errors.size(), 2u);
  EXPECT_TRUE(report.errors[0].repeated);
  EXPECT_TRUE(report.errors[1].repeated);
}

TEST_F(StoreTest, OnlyBrokenFilesIsNotReadyButEmptyDirIs) {
  Write("bad.jsonl", "{");
  RubricStore broken(options_);
  EXPECT_FALSE(broken.Reload().ok());
  EXPECT_FALSE(broken.ready());

  fs::remove(dir_ + "/bad.jsonl");
  RubricStore empty(options_);
  EXPECT_TRUE(empty.Reload().ok());
  EXPECT_TRUE(empty.ready());
}

TEST_F(StoreTest, DeletedFileRemovesItsSet) {
  Write("a.jsonl", OwnSet("a"));
  Write("b.jsonl", OwnSet("b"));
  RubricStore store(options_);
  ASSERT_TRUE(store.Reload().ok());
  fs::remove(dir_ + "/a.jsonl");
  ReloadReport report = store.Reload();
  EXPECT_TRUE(report.published);
  EXPECT_THAT(report.removed, ElementsAre("a"));
  EXPECT_THAT(store.snapshot()->SortedNames(), ElementsAre("b"));
}

TEST_F(StoreTest, TwoFilesForOneSetNameKeepTheFirst) {
  Write("med.json", Appendix());
  Write("med.healthbench.jsonl", HealthBenchLines(0, 1));
  RubricStore store(options_);
  ReloadReport report = store.Reload();
  ASSERT_EQ(report.errors.size(), 1u);
  // Sorted: "med.healthbench.jsonl" < "med.json".
  EXPECT_EQ(report.errors[0].file, "med.json");
  EXPECT_THAT(report.errors[0].message,
              HasSubstr("already defined by med.healthbench.jsonl"));
  EXPECT_EQ(store.snapshot()->Find("med")->format, "healthbench");
  EXPECT_FALSE(report.errors[0].repeated);
  report = store.Reload();
  ASSERT_EQ(report.errors.size(), 1u);
  EXPECT_TRUE(report.errors[0].repeated);
}

TEST_F(StoreTest, VanishedDirectoryKeepsEverything) {
  Write("a.jsonl", OwnSet("a"));
  RubricStore store(options_);
  ASSERT_TRUE(store.Reload().ok());
  const std::string moved = dir_ + ".moved";
  fs::rename(dir_, moved);
  ReloadReport report = store.Reload();
  fs::rename(moved, dir_);
  EXPECT_FALSE(report.dir_status.ok());
  EXPECT_FALSE(report.published);
  EXPECT_THAT(store.snapshot()->SortedNames(), ElementsAre("a"));
}

// Kubernetes mounts a ConfigMap as: <dir>/..<timestamp>/<files>,
// <dir>/..data -> ..<timestamp>, and <dir>/<file> -> ..data/<file>. An update
// writes a new timestamped dir and renames a new ..data symlink over the old
// one (atomic), then adds/removes the top-level links.
TEST_F(StoreTest, ConfigMapStyleSymlinkSwap) {
  auto make_version =
      [&](const std::string& version,
          const std::vector<std::pair<std::string, std::string>>& files) {
        fs::create_directory(dir_ + "/" + version);
        for (const auto& [name, content] : files) {
          std::ofstream(dir_ + "/" + version + "/" + name, std::ios::binary)
              << content;
        }
      };
  auto point_data_at = [&](const std::string& version) {
    fs::create_directory_symlink(version, dir_ + "/..data_tmp");
    fs::rename(dir_ + "/..data_tmp", dir_ + "/..data");
  };
  make_version("..2024_01_01",
               {{"medical.healthbench.jsonl", HealthBenchLines(0, 2)},
                {"own.jsonl", OwnSet("v1")}});
  point_data_at("..2024_01_01");
  fs::create_symlink("..data/medical.healthbench.jsonl",
                     dir_ + "/medical.healthbench.jsonl");
  fs::create_symlink("..data/own.jsonl", dir_ + "/own.jsonl");

  RubricStore store(options_);
  ReloadReport report = store.Reload();
  EXPECT_TRUE(report.ok());
  EXPECT_THAT(report.loaded, ElementsAre("medical", "own"));
  auto v1 = store.snapshot();
  EXPECT_EQ(v1->Find("medical")->rubrics.size(), 2u);

  // Update: medical grows to 3 records, own is unchanged, new.json appears.
  make_version("..2024_01_02",
               {{"medical.healthbench.jsonl", HealthBenchLines(0, 3)},
                {"own.jsonl", OwnSet("v1")},
                {"new.json", Appendix()}});
  point_data_at("..2024_01_02");
  fs::create_symlink("..data/new.json", dir_ + "/new.json");
  fs::remove_all(dir_ + "/..2024_01_01");

  report = store.Reload();
  EXPECT_TRUE(report.ok());
  EXPECT_THAT(report.loaded, ElementsAre("medical", "new"));
  EXPECT_THAT(report.unchanged, ElementsAre("own"));
  auto v2 = store.snapshot();
  EXPECT_EQ(v2->Find("medical")->rubrics.size(), 3u);
  EXPECT_THAT(v2->SortedNames(), ElementsAre("medical", "new", "own"));
  // The timestamped dirs and ..data never become sets.
  for (const auto& [name, set] : v2->sets) {
    EXPECT_NE(name.front(), '.') << name;
  }

  // A key removed from the ConfigMap: its link goes away, so does the set.
  make_version("..2024_01_03",
               {{"own.jsonl", OwnSet("v1")}, {"new.json", Appendix()}});
  point_data_at("..2024_01_03");
  fs::remove(dir_ + "/medical.healthbench.jsonl");
  report = store.Reload();
  EXPECT_THAT(report.removed, ElementsAre("medical"));
  EXPECT_THAT(store.snapshot()->SortedNames(), ElementsAre("new", "own"));
}

TEST_F(StoreTest, RequestInFlightKeepsItsSnapshotAcrossSwaps) {
  Write("a.jsonl", OwnSet("old text"));
  RubricStore store(options_);
  ASSERT_TRUE(store.Reload().ok());

  // A "request" takes the snapshot and a rubric from it...
  std::shared_ptr<const StoreSnapshot> held = store.snapshot();
  const Rubric& rubric = **held->Find("a")->FindById("r1");
  std::weak_ptr<const RubricSet> old_set = held->sets.at("a");

  // ...while the set is replaced and then deleted.
  Write("a.jsonl", OwnSet("new text"));
  ASSERT_TRUE(store.Reload().published);
  EXPECT_EQ(store.snapshot()->Find("a")->rubrics[0]->criteria[0].text,
            "new text");
  fs::remove(dir_ + "/a.jsonl");
  ASSERT_TRUE(store.Reload().published);
  EXPECT_EQ(store.snapshot()->Find("a"), nullptr);

  // The request still grades with what it started with.
  EXPECT_EQ(rubric.criteria[0].text, "old text");
  EXPECT_EQ(held->Find("a")->rubrics[0]->criteria[0].text, "old text");
  EXPECT_FALSE(old_set.expired());
  // Once the request ends, the old version is freed (nothing leaks).
  held.reset();
  EXPECT_TRUE(old_set.expired());
}

TEST_F(StoreTest, ReadersNeverSeeATornSnapshot) {
  Write("a.jsonl", OwnSet("v0"));
  RubricStore store(options_);
  ASSERT_TRUE(store.Reload().ok());
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      uint64_t last_generation = 0;
      while (!done.load()) {
        auto snap = store.snapshot();
        const RubricSet* set = snap->Find("a");
        // Generations only go up, and a set's text matches its version.
        if (snap->generation < last_generation || set == nullptr ||
            set->rubrics[0]->version != RubricVersion(*set->rubrics[0])) {
          bad.fetch_add(1);
        }
        last_generation = snap->generation;
      }
    });
  }
  for (int i = 1; i <= 20; ++i) {
    Write("a.jsonl", OwnSet(absl::StrCat("v", i)));
    ASSERT_TRUE(store.Reload().published);
  }
  done.store(true);
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(store.snapshot()->generation, 21u);
}

TEST_F(StoreTest, ListenerSeesEveryReloadInOrder) {
  Write("a.jsonl", OwnSet("a"));
  RubricStore store(options_);
  std::vector<uint64_t> generations;
  std::vector<bool> published;
  store.SetReloadListener([&](const ReloadReport& r) {
    generations.push_back(r.generation);
    published.push_back(r.published);
  });
  store.Reload();
  store.Reload();
  Write("a.jsonl", OwnSet("b"));
  store.Reload();
  EXPECT_THAT(generations, ElementsAre(1u, 1u, 2u));
  EXPECT_THAT(published, ElementsAre(true, false, true));
}

// Waits (without a timing assertion: the bound only keeps a broken build from
// hanging) until the listener has seen a report matching `pred`.
class ReportWaiter {
 public:
  void operator()(const ReloadReport& r) {
    absl::MutexLock lock(&mu_);
    reports_.push_back(r);
  }
  bool WaitFor(std::function<bool(const ReloadReport&)> pred) {
    absl::MutexLock lock(&mu_);
    auto seen = [&] {
      for (const auto& r : reports_) {
        if (pred(r)) return true;
      }
      return false;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&seen), absl::Seconds(60));
  }

 private:
  absl::Mutex mu_;
  std::vector<ReloadReport> reports_ ABSL_GUARDED_BY(mu_);
};

TEST_F(StoreTest, RequestReloadWakesThePollingThread) {
  Write("a.jsonl", OwnSet("a"));
  options_.poll_interval = absl::ZeroDuration();  // on demand only
  RubricStore store(options_);
  auto waiter = std::make_shared<ReportWaiter>();
  store.SetReloadListener([waiter](const ReloadReport& r) { (*waiter)(r); });
  // Requested before Start(): served once the thread runs.
  store.RequestReload();
  store.Start();
  ASSERT_TRUE(
      waiter->WaitFor([](const ReloadReport& r) { return r.generation == 1; }));
  EXPECT_TRUE(store.ready());

  Write("a.jsonl", OwnSet("b"));
  store.RequestReload();
  ASSERT_TRUE(
      waiter->WaitFor([](const ReloadReport& r) { return r.generation == 2; }));
  EXPECT_EQ(store.snapshot()->Find("a")->rubrics[0]->criteria[0].text, "b");
  store.Stop();
  store.Stop();  // idempotent
}

TEST_F(StoreTest, PollingPicksUpChangesOnItsOwn) {
  Write("a.jsonl", OwnSet("a"));
  options_.poll_interval = absl::Milliseconds(5);
  RubricStore store(options_);
  auto waiter = std::make_shared<ReportWaiter>();
  store.SetReloadListener([waiter](const ReloadReport& r) { (*waiter)(r); });
  store.Start();
  ASSERT_TRUE(
      waiter->WaitFor([](const ReloadReport& r) { return r.generation == 1; }));
  Write("b.json", Appendix());
  ASSERT_TRUE(waiter->WaitFor([](const ReloadReport& r) {
    return r.generation == 2 && r.loaded == std::vector<std::string>{"b"};
  }));
  EXPECT_THAT(store.snapshot()->SortedNames(), ElementsAre("a", "b"));
  // The destructor stops the thread.
}

TEST(StoreWithoutDirTest, EmptyDirOptionIsReadyAndEmpty) {
  RubricStore store(RubricStore::Options{});
  ReloadReport report = store.Reload();
  EXPECT_TRUE(report.ok());
  EXPECT_TRUE(store.ready());
  EXPECT_TRUE(store.snapshot()->sets.empty());
}

}  // namespace
}  // namespace rewardd

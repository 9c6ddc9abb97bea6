// Tests of the rubric format loaders against the real public data in
// REWARDD_SHARED_DATA. Expected counts are computed from the raw files with an
// independent JSON read, so the tests follow the data, not hand-copied
// numbers (the README's numbers are checked once as a sanity anchor).
#include "server/rubric/rubric_loader.h"

#include <openssl/sha.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "re2/re2.h"

namespace rewardd {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using Json = nlohmann::json;

const std::string kData = REWARDD_SHARED_DATA;
const std::string kHealthBench =
    kData + "/healthbench/healthbench_oss_eval_sample.jsonl";
const std::string kBigGen = kData + "/biggen_bench/biggen_bench_sample.jsonl";
const std::string kAppendix =
    kData + "/chasing_the_tail/paper_appendix_example.json";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<Json> ReadJsonLines(const std::string& path) {
  std::vector<Json> out;
  for (absl::string_view line : absl::StrSplit(ReadAll(path), '\n')) {
    if (line.find_first_not_of(" \t\r") == absl::string_view::npos) continue;
    out.push_back(Json::parse(line.begin(), line.end()));
  }
  return out;
}

std::vector<std::string> Lines(const std::string& path) {
  std::vector<std::string> out;
  for (absl::string_view line : absl::StrSplit(ReadAll(path), '\n')) {
    if (!line.empty()) out.emplace_back(line);
  }
  return out;
}

// A private temporary directory, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = ::testing::TempDir() + "rubric_loader_XXXXXX";
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& content) {
    const std::string p = path_ + "/" + name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }

 private:
  std::string path_;
};

// gMock prints absl::string_view (not std::string_view here) char by char.
std::string Msg(const absl::Status& s) { return std::string(s.message()); }

absl::StatusOr<RubricSet> Parse(absl::string_view content,
                                RubricFormat format = RubricFormat::kAuto,
                                const LoadLimits& limits = {}) {
  return ParseRubricSet("t", content, format, "t.jsonl", limits);
}

// ----------------------------------------------------------------------------
// HealthBench

TEST(HealthBenchTest, LoadsEveryRecordWithPointsTagsAndPrompts) {
  const std::vector<Json> raw = ReadJsonLines(kHealthBench);
  absl::StatusOr<RubricSet> set = LoadRubricFile(kHealthBench);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->name, "healthbench_oss_eval_sample");
  EXPECT_EQ(set->format, "healthbench");
  EXPECT_EQ(set->source_path, kHealthBench);
  ASSERT_EQ(set->rubrics.size(), raw.size());

  size_t criteria = 0, negative = 0, multi_turn = 0;
  for (size_t i = 0; i < raw.size(); ++i) {
    const Json& rec = raw[i];
    const Rubric& r = *set->rubrics[i];
    EXPECT_EQ(r.id, rec["prompt_id"].get<std::string>());
    std::vector<ChatMessage> messages;
    for (const Json& m : rec["prompt"]) {
      messages.push_back(
          {m["role"].get<std::string>(), m["content"].get<std::string>()});
    }
    if (messages.size() > 1) ++multi_turn;
    EXPECT_EQ(r.prompt, CanonicalPrompt(messages));
    ASSERT_EQ(r.criteria.size(), rec["rubrics"].size()) << r.id;
    for (size_t j = 0; j < r.criteria.size(); ++j) {
      const Json& c = rec["rubrics"][j];
      const Criterion& got = r.criteria[j];
      EXPECT_EQ(got.id, absl::StrCat("c", j + 1));
      EXPECT_EQ(got.text, c["criterion"].get<std::string>());
      EXPECT_EQ(got.weight, c["points"].get<double>());
      EXPECT_EQ(got.tags, c["tags"].get<std::vector<std::string>>());
      EXPECT_EQ(got.check, nullptr);
      if (got.weight < 0) ++negative;
    }
    criteria += r.criteria.size();
    EXPECT_EQ(r.version, RubricVersion(r));
    ASSERT_NE(set->FindById(r.id), nullptr);
    EXPECT_EQ(set->FindById(r.id)->get(), set->rubrics[i].get());
  }
  EXPECT_EQ(set->criterion_count(), criteria);
  // The README's description of the sample, as an anchor that the oracle
  // above read the same data.
  EXPECT_EQ(raw.size(), 30u);
  EXPECT_EQ(criteria, 352u);
  EXPECT_EQ(negative, 102u);
  EXPECT_EQ(multi_turn, 9u);
  EXPECT_TRUE(set->warnings.empty());
  EXPECT_EQ(set->skipped_records, 0);
}

TEST(HealthBenchTest, FindByPromptUsesCanonicalPromptOfSingleUserTurn) {
  const std::vector<Json> raw = ReadJsonLines(kHealthBench);
  absl::StatusOr<RubricSet> set = LoadRubricFile(kHealthBench);
  ASSERT_TRUE(set.ok()) << set.status();
  for (const Json& rec : raw) {
    if (rec["prompt"].size() != 1) continue;
    const std::string text = rec["prompt"][0]["content"].get<std::string>();
    const auto* found = set->FindByPrompt(text);
    ASSERT_NE(found, nullptr);
    EXPECT_EQ((*found)->id, rec["prompt_id"].get<std::string>());
  }
}

TEST(HealthBenchTest, FileNameInfixSelectsFormatAndSetName) {
  TempDir dir;
  const std::vector<std::string> lines = Lines(kHealthBench);
  const std::string path =
      dir.Write("medical.healthbench.jsonl",
                absl::StrCat(lines[0], "\n\n", lines[1], "\n", lines[2], "\n"));
  absl::StatusOr<RubricSet> set = LoadRubricFile(path);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->name, "medical");
  EXPECT_EQ(set->format, "healthbench");
  EXPECT_EQ(set->rubrics.size(), 3u);

  // The infix is obeyed, not second-guessed: HealthBench records named as
  // BiGGen-Bench fail on the field BiGGen-Bench needs.
  const std::string wrong = dir.Write("medical.biggen.jsonl", lines[0]);
  absl::StatusOr<RubricSet> bad = LoadRubricFile(wrong);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(Msg(bad.status()), AllOf(HasSubstr("medical.biggen.jsonl line 1"),
                                       HasSubstr("atomic_checklist")));
}

TEST(HealthBenchTest, NonNumericPointsNameLineRubricAndCriterion) {
  const std::vector<std::string> lines = Lines(kHealthBench);
  Json rec = Json::parse(lines[1]);
  rec["rubrics"][1]["points"] = "5";
  const std::string id = rec["prompt_id"].get<std::string>();
  absl::StatusOr<RubricSet> set =
      ParseRubricSet("med", absl::StrCat(lines[0], "\n", rec.dump(), "\n"),
                     RubricFormat::kHealthBench, "med.jsonl");
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Msg(set.status()),
              HasSubstr(absl::StrCat("med.jsonl line 2 (rubric '", id,
                                     "'): criterion #2: points is not a "
                                     "number")));
}

TEST(HealthBenchTest, MissingPointsIsAnErrorNotWeightOne) {
  Json rec = Json::parse(Lines(kHealthBench)[0]);
  rec["rubrics"][0].erase("points");
  absl::StatusOr<RubricSet> set = Parse(rec.dump());
  ASSERT_FALSE(set.ok());
  EXPECT_THAT(Msg(set.status()),
              AllOf(HasSubstr("line 1"), HasSubstr("criterion #1"),
                    HasSubstr("\"points\"")));
}

// ----------------------------------------------------------------------------
// BiGGen-Bench

TEST(BigGenTest, LoadsChecklistsAndSkipsEmptyOnesWithWarnings) {
  const std::vector<Json> raw = ReadJsonLines(kBigGen);
  absl::StatusOr<RubricSet> set = LoadRubricFile(kBigGen);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->format, "biggen");
  EXPECT_EQ(set->name, "biggen_bench_sample");

  std::vector<std::string> empty_ids;
  size_t criteria = 0, j = 0;
  for (const Json& rec : raw) {
    const auto& items = rec["atomic_checklist"];
    if (items.empty()) {
      empty_ids.push_back(rec["id"].get<std::string>());
      EXPECT_EQ(set->FindById(rec["id"].get<std::string>()), nullptr);
      continue;
    }
    ASSERT_LT(j, set->rubrics.size());
    const Rubric& r = *set->rubrics[j++];
    EXPECT_EQ(r.id, rec["id"].get<std::string>());
    EXPECT_EQ(r.prompt, rec["input"].get<std::string>());
    ASSERT_EQ(r.criteria.size(), items.size());
    for (size_t k = 0; k < items.size(); ++k) {
      EXPECT_EQ(r.criteria[k].id, absl::StrCat("c", k + 1));
      EXPECT_EQ(r.criteria[k].text, items[k].get<std::string>());
      EXPECT_EQ(r.criteria[k].weight, 1.0);
    }
    criteria += items.size();
  }
  EXPECT_EQ(j, set->rubrics.size());
  EXPECT_EQ(set->criterion_count(), criteria);
  EXPECT_EQ(empty_ids.size(), 9u);  // README: 9 records with empty lists
  EXPECT_EQ(set->skipped_records, static_cast<int64_t>(empty_ids.size()));
  ASSERT_EQ(set->warnings.size(), empty_ids.size());
  for (size_t k = 0; k < empty_ids.size(); ++k) {
    EXPECT_THAT(set->warnings[k],
                AllOf(HasSubstr("biggen_bench_sample.jsonl line "),
                      HasSubstr(absl::StrCat("(rubric '", empty_ids[k], "')")),
                      HasSubstr("atomic_checklist is empty")));
  }
}

TEST(BigGenTest, FileOfOnlyEmptyChecklistsFails) {
  std::string content;
  for (const std::string& line : Lines(kBigGen)) {
    if (Json::parse(line)["atomic_checklist"].empty()) {
      absl::StrAppend(&content, line, "\n");
    }
  }
  absl::StatusOr<RubricSet> set = Parse(content);
  ASSERT_FALSE(set.ok());
  EXPECT_THAT(Msg(set.status()), HasSubstr("no gradable records (9 skipped"));
}

TEST(BigGenTest, WarningsAreCappedButAllSkipsCounted) {
  Json empty;
  std::string good;
  for (const std::string& line : Lines(kBigGen)) {
    Json rec = Json::parse(line);
    if (rec["atomic_checklist"].empty() && empty.is_null()) empty = rec;
    if (!rec["atomic_checklist"].empty() && good.empty()) good = line;
  }
  ASSERT_FALSE(empty.is_null());
  std::string content = good + "\n";
  for (int i = 0; i < 150; ++i) {
    empty["id"] = absl::StrCat("empty-", i);
    absl::StrAppend(&content, empty.dump(), "\n");
  }
  absl::StatusOr<RubricSet> set = Parse(content);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->rubrics.size(), 1u);
  EXPECT_EQ(set->skipped_records, 150);
  ASSERT_EQ(set->warnings.size(), 100u);
  EXPECT_THAT(set->warnings[98], HasSubstr("line 100 (rubric 'empty-98')"));
  EXPECT_EQ(set->warnings[99], "... and 51 more skipped records");
}

// ----------------------------------------------------------------------------
// Chasing the Tail: the appendix example and the paper's two formats.

double WeightSum(const Rubric& r) {
  double sum = 0;
  for (const Criterion& c : r.criteria) sum += c.weight;
  return sum;
}

TEST(PaperAppendixTest, LoadsInitialAndRefinedRubrics) {
  const Json raw = Json::parse(ReadAll(kAppendix));
  absl::StatusOr<RubricSet> set = LoadRubricFile(kAppendix);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->name, "paper_appendix_example");
  EXPECT_EQ(set->format, "paper_appendix");
  ASSERT_EQ(set->rubrics.size(), 2u);
  const std::pair<const char*, const char*> stages[] = {
      {"initial", "initial_rubric"}, {"refined", "refined_rubric"}};
  for (const auto& [id, key] : stages) {
    const auto* found = set->FindById(id);
    ASSERT_NE(found, nullptr) << id;
    const Rubric& r = **found;
    EXPECT_EQ(r.prompt, raw["prompt"].get<std::string>());
    ASSERT_EQ(r.criteria.size(), raw[key].size());
    for (size_t i = 0; i < r.criteria.size(); ++i) {
      EXPECT_EQ(r.criteria[i].id, raw[key][i]["local_id"].get<std::string>());
      EXPECT_EQ(r.criteria[i].text,
                raw[key][i]["criterion"].get<std::string>());
      EXPECT_EQ(r.criteria[i].weight, raw[key][i]["weight"].get<double>());
    }
  }
  // The paper's denominators: 18/20 on the initial rubric, 25/27 refined.
  EXPECT_EQ(WeightSum(**set->FindById("initial")), 20);
  EXPECT_EQ(WeightSum(**set->FindById("refined")), 27);
  EXPECT_EQ(set->FindByPrompt(raw["prompt"].get<std::string>())->get()->id,
            "initial");
}

// The refined rubric of the appendix, rewritten in each other format: the
// formats must agree on what the rubric is.
TEST(PaperFormatsTest, SameRubricInEveryFormatLoadsTheSame) {
  const Json raw = Json::parse(ReadAll(kAppendix));
  absl::StatusOr<RubricSet> appendix = LoadRubricFile(kAppendix);
  ASSERT_TRUE(appendix.ok()) << appendix.status();
  const Rubric& refined = **appendix->FindById("refined");

  Json dataset = {{"prompt", raw["prompt"]}, {"rubrics", Json::array()}};
  Json code = {{"id", "refined"}, {"criteria", Json::array()}};
  Json own = {{"id", "refined"},
              {"prompt", raw["prompt"]},
              {"criteria", Json::array()}};
  for (const Json& c : raw["refined_rubric"]) {
    dataset["rubrics"].push_back(
        {{"criterion", c["criterion"]}, {"weight", c["weight"]}});
    code["criteria"].push_back({{"criterion", c["criterion"]},
                                {"weight", c["weight"]},
                                {"local_id", c["local_id"]}});
    own["criteria"].push_back({{"id", c["local_id"]},
                               {"text", c["criterion"]},
                               {"weight", c["weight"]}});
  }

  absl::StatusOr<RubricSet> d = Parse(dataset.dump());
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->format, "paper_dataset");
  ASSERT_EQ(d->rubrics.size(), 1u);
  const Rubric& dr = *d->rubrics[0];
  EXPECT_EQ(dr.id, PromptDerivedId(raw["prompt"].get<std::string>()));
  EXPECT_EQ(dr.prompt, refined.prompt);
  ASSERT_EQ(dr.criteria.size(), refined.criteria.size());
  for (size_t i = 0; i < dr.criteria.size(); ++i) {
    EXPECT_EQ(dr.criteria[i].id, refined.criteria[i].id);
    EXPECT_EQ(dr.criteria[i].text, refined.criteria[i].text);
    EXPECT_EQ(dr.criteria[i].weight, refined.criteria[i].weight);
  }

  // Same id and criteria: the same version, i.e. the same grading.
  absl::StatusOr<RubricSet> c = Parse(code.dump());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->format, "paper_code");
  EXPECT_EQ(c->rubrics[0]->version, refined.version);
  absl::StatusOr<RubricSet> o = Parse(own.dump());
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->format, "rewardd");
  EXPECT_EQ(o->rubrics[0]->version, refined.version);
}

TEST(PaperFormatsTest, NonNumericWeightNamesRecordAndCriterion) {
  const std::string content = R"([
    {"id": "a", "criteria": [{"criterion": "x", "weight": 1, "local_id": "c1"}]},
    {"id": "b", "criteria": [{"criterion": "x", "weight": 1, "local_id": "c1"},
                             {"criterion": "y", "weight": "high", "local_id": "c2"}]}
  ])";
  absl::StatusOr<RubricSet> set =
      ParseRubricSet("p", content, RubricFormat::kAuto, "p.json");
  ASSERT_FALSE(set.ok());
  EXPECT_THAT(Msg(set.status()),
              HasSubstr("p.json record 2 (rubric 'b'): criterion #2: weight is "
                        "not a number (got a string \"high\")"));
}

// ----------------------------------------------------------------------------
// Prompt-derived ids

std::string IndependentPromptId(const std::string& prompt) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(prompt.data()), prompt.size(),
         digest);
  std::string hex = absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), 8));
  return "p-" + hex;
}

TEST(PromptDerivedIdTest, RecordsWithoutIdsGetStableSha256Ids) {
  const Json raw = Json::parse(ReadAll(kAppendix));
  const std::string prompt = raw["prompt"].get<std::string>();
  const std::string record =
      Json({{"prompt", prompt},
            {"rubrics", {{{"criterion", "Identifies CST"}, {"weight", 3}}}}})
          .dump();
  absl::StatusOr<RubricSet> a = Parse(record);
  absl::StatusOr<RubricSet> b = Parse(absl::StrCat("\n", record, "\n"));
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(a->rubrics[0]->id, IndependentPromptId(prompt));
  EXPECT_EQ(a->rubrics[0]->id, b->rubrics[0]->id);
  EXPECT_EQ(a->rubrics[0]->version, b->rubrics[0]->version);
  EXPECT_EQ(a->version, b->version);
}

TEST(PromptDerivedIdTest, RecordWithNeitherIdNorPromptFails) {
  absl::StatusOr<RubricSet> set =
      Parse(R"({"criteria": [{"text": "is polite"}]})");
  ASSERT_FALSE(set.ok());
  EXPECT_THAT(Msg(set.status()),
              AllOf(HasSubstr("t.jsonl line 1"), HasSubstr("neither \"id\"")));
}

// ----------------------------------------------------------------------------
// The rewardd format

TEST(RewarddFormatTest, ParsesEveryCheckKind) {
  const std::string content = R"({"id": "q", "prompt": "p", "criteria": [
    {"id": "re", "text": "t", "check": {"type": "regex", "pattern": "a+b", "case_insensitive": true}},
    {"id": "any", "text": "t", "weight": 2, "tags": ["x", "y"],
     "check": {"type": "contains", "values": ["a", "b"], "match": "any"}},
    {"id": "none", "text": "t", "check": {"type": "not_contains", "values": ["z"]}},
    {"id": "wc", "text": "t", "check": {"type": "word_count", "min": 2, "max": 9}},
    {"id": "cc", "text": "t", "check": {"type": "char_count", "max": 100}},
    {"id": "lc", "text": "t", "check": {"type": "line_count", "min": 3}},
    {"id": "js", "text": "t", "check": {"type": "valid_json"}},
    {"id": "sw", "text": "t", "check": {"type": "starts_with", "values": ["{"]}},
    {"id": "ew", "text": "t", "check": {"type": "ends_with", "values": ["."]}},
    {"id": "num", "text": "t", "weight": 0.5, "check": {"type": "numeric", "value": 80, "tolerance": 0.01}},
    {"text": "no id, no weight"}
  ]})";
  absl::StatusOr<RubricSet> set = Parse(content);
  ASSERT_TRUE(set.ok()) << set.status();
  const Rubric& r = *set->rubrics[0];
  ASSERT_EQ(r.criteria.size(), 11u);
  const Check& re = *r.criteria[0].check;
  EXPECT_EQ(re.kind, Check::Kind::kRegex);
  EXPECT_EQ(re.pattern, "a+b");
  EXPECT_TRUE(re.case_insensitive);
  ASSERT_NE(re.regex, nullptr);  // compiled by validation
  EXPECT_TRUE(RE2::PartialMatch("xAAB", *re.regex));
  EXPECT_EQ(r.criteria[1].check->kind, Check::Kind::kContains);
  EXPECT_TRUE(r.criteria[1].check->match_any);
  EXPECT_THAT(r.criteria[1].check->values, ElementsAreArray({"a", "b"}));
  EXPECT_THAT(r.criteria[1].tags, ElementsAreArray({"x", "y"}));
  EXPECT_EQ(r.criteria[1].weight, 2);
  EXPECT_EQ(r.criteria[2].check->kind, Check::Kind::kNotContains);
  EXPECT_FALSE(r.criteria[2].check->match_any);
  EXPECT_EQ(r.criteria[3].check->kind, Check::Kind::kWordCount);
  EXPECT_EQ(r.criteria[3].check->min, 2);
  EXPECT_EQ(r.criteria[3].check->max, 9);
  EXPECT_EQ(r.criteria[4].check->kind, Check::Kind::kCharCount);
  EXPECT_FALSE(r.criteria[4].check->min.has_value());
  EXPECT_EQ(r.criteria[4].check->max, 100);
  EXPECT_EQ(r.criteria[5].check->kind, Check::Kind::kLineCount);
  EXPECT_EQ(r.criteria[6].check->kind, Check::Kind::kValidJson);
  EXPECT_EQ(r.criteria[7].check->kind, Check::Kind::kStartsWith);
  EXPECT_EQ(r.criteria[8].check->kind, Check::Kind::kEndsWith);
  EXPECT_EQ(r.criteria[9].check->kind, Check::Kind::kNumeric);
  EXPECT_EQ(r.criteria[9].check->value, 80);
  EXPECT_EQ(r.criteria[9].check->tolerance, 0.01);
  EXPECT_EQ(r.criteria[9].weight, 0.5);
  EXPECT_EQ(r.criteria[10].id, "c11");  // numbered by position
  EXPECT_EQ(r.criteria[10].weight, 1);  // default weight
  EXPECT_EQ(r.criteria[10].check, nullptr);
}

TEST(RewarddFormatTest, MessagesBecomeTheCanonicalPrompt) {
  absl::StatusOr<RubricSet> set = Parse(
      R"({"id": "m", "messages": [{"role": "system", "content": "Be brief."},
          {"role": "user", "content": "Hi"}], "criteria": [{"text": "greets"}]})"
      "\n");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->rubrics[0]->prompt,
            CanonicalPrompt({{"system", "Be brief."}, {"user", "Hi"}}));
}

TEST(RewarddFormatTest, JsonArrayJsonlAndWrapperObjectAgree) {
  const std::string a =
      R"({"id": "a", "prompt": "p1", "criteria": [{"text": "x", "weight": 2}]})";
  const std::string b =
      R"({"id": "b", "prompt": "p2", "criteria": [{"text": "y"}, {"text": "z", "weight": -1}]})";
  absl::StatusOr<RubricSet> jsonl =
      Parse(absl::StrCat("\n", a, "\r\n\n  \n", b));
  absl::StatusOr<RubricSet> array =
      Parse(absl::StrCat("[\n", a, ",\n", b, "\n]"));
  absl::StatusOr<RubricSet> wrapper =
      Parse(absl::StrCat("{\n  \"rubrics\": [\n", a, ",\n", b, "]\n}\n"));
  for (const auto* set : {&jsonl, &array, &wrapper}) {
    ASSERT_TRUE(set->ok()) << set->status();
    EXPECT_EQ((*set)->format, "rewardd");
    ASSERT_EQ((*set)->rubrics.size(), 2u);
    EXPECT_EQ((*set)->rubrics[1]->criteria[1].weight, -1);
  }
  EXPECT_EQ(jsonl->version, array->version);
  EXPECT_EQ(jsonl->version, wrapper->version);
}

// Sets written by reward-cli refine: each rubric's lineage and the file's
// provenance are read back, and neither changes the versions (grading).
TEST(RewarddFormatTest, LineageAndProvenanceAreMetadataOnly) {
  const std::string plain =
      R"({"id": "a", "prompt": "p1", "criteria": [{"text": "x", "weight": 2}]})";
  const std::string with_lineage =
      R"({"id": "a", "prompt": "p1", "criteria": [{"text": "x", "weight": 2}],
          "refine_status": "refined",
          "lineage": [{"version": "v0", "parent_version": "", "iteration": 0,
                       "origin": "given"},
                      {"version": "v1", "parent_version": "v0",
                       "iteration": 1, "origin": "refined",
                       "proposer": "gpt", "proposer_model": "m",
                       "template_version": "rtd-v1-x", "pair": [3, 7],
                       "pair_sources": ["R3", "R7"]}]})";
  absl::StatusOr<RubricSet> before = Parse(plain);
  absl::StatusOr<RubricSet> after = Parse(absl::StrCat(
      R"({"provenance": {"produced_by": "reward-cli refine",
          "derived_from": "initial", "derived_from_version": "abc",
          "options": {"iterations": 4}},
          "rubrics": [)",
      with_lineage, "]}"));
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(before->version, after->version);
  EXPECT_EQ(before->rubrics[0]->version, after->rubrics[0]->version);
  EXPECT_EQ(before->rubrics[0]->lineage, nullptr);
  EXPECT_EQ(before->derived_from, "");
  EXPECT_EQ(after->derived_from, "initial");
  EXPECT_EQ(after->derived_from_version, "abc");
  EXPECT_EQ(after->produced_by, "reward-cli refine");
  ASSERT_NE(after->rubrics[0]->lineage, nullptr);
  const std::vector<RubricVersionInfo>& lineage = *after->rubrics[0]->lineage;
  ASSERT_EQ(lineage.size(), 2u);
  EXPECT_EQ(lineage[0].origin, "given");
  EXPECT_EQ(lineage[1].parent_version, "v0");
  EXPECT_EQ(lineage[1].iteration, 1u);
  EXPECT_EQ(lineage[1].proposer, "gpt");
  EXPECT_EQ(lineage[1].template_version, "rtd-v1-x");
  EXPECT_THAT(lineage[1].pair, ::testing::ElementsAre(3u, 7u));
}

TEST(RewarddFormatTest, BadLineageAndProvenanceNameTheField) {
  const std::string head =
      R"({"id": "a", "prompt": "p", "criteria": [{"text": "x"}], "lineage": )";
  struct Case {
    std::string content;
    std::string message;
  };
  const std::vector<Case> cases = {
      {head + R"("v1"})", "lineage is not a list"},
      {head + R"([{"origin": "given"}]})",
       "lineage[0]: missing field \"version\""},
      {head + R"([{"version": "v", "iteration": -1}]})",
       "lineage[0]: iteration is not a non-negative integer"},
      {head + R"([{"version": "v", "pair": [1, "x"]}]})",
       "lineage[0]: pair[1] is not a non-negative integer"},
      {R"({"provenance": [], "rubrics": []})", "provenance is not an object"},
      {R"({"provenance": {"derived_from": 3}, "rubrics": []})",
       "provenance.derived_from is not a string"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<RubricSet> set = Parse(c.content);
    ASSERT_FALSE(set.ok()) << c.content;
    EXPECT_THAT(set.status().message(), HasSubstr(c.message)) << c.content;
    EXPECT_THAT(set.status().message(), HasSubstr("t.jsonl")) << c.content;
  }
}

// ----------------------------------------------------------------------------
// Rejections: every message names the line (or record) and the field.

struct BadCase {
  const char* name;
  std::string content;
  std::vector<std::string> expected;  // substrings of the message
};

class RejectTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(RejectTest, NamesLineAndField) {
  const BadCase& c = GetParam();
  absl::StatusOr<RubricSet> set =
      ParseRubricSet("med", c.content, RubricFormat::kAuto, "med.jsonl");
  ASSERT_FALSE(set.ok()) << c.name;
  for (const std::string& want : c.expected) {
    EXPECT_THAT(Msg(set.status()), HasSubstr(want)) << c.name;
  }
}

const char kGood[] =
    R"({"id": "ok", "prompt": "p0", "criteria": [{"text": "fine"}]})";

INSTANTIATE_TEST_SUITE_P(
    Loader, RejectTest,
    ::testing::Values(
        BadCase{
            "criterion_without_text",
            absl::StrCat(
                kGood, "\n\n",
                R"({"id": "x", "criteria": [{"text": "a"}, {"id": "c2", "weight": 2}]})"),
            {"med.jsonl line 3 (rubric 'x'): criterion #2: missing field "
             "\"text\""}},
        BadCase{"blank_text",
                R"({"id": "x", "criteria": [{"text": "a"}, {"text": "  "}]})",
                {"med.jsonl line 1", "criterion #2", "text is empty"}},
        BadCase{
            "non_numeric_weight",
            absl::StrCat(
                kGood, "\n",
                R"({"id": "x", "criteria": [{"text": "a"}, {"text": "b", "weight": "2"}]})"),
            {"med.jsonl line 2 (rubric 'x'): criterion #2: weight is not "
             "a number"}},
        BadCase{
            "duplicate_criterion_ids",
            R"({"id": "x", "criteria": [{"id": "c1", "text": "a"}, {"id": "c1", "text": "b"}]})",
            {"med.jsonl line 1", "criterion #2",
             "duplicate criterion id 'c1'"}},
        BadCase{
            "no_positive_weight",
            absl::StrCat(
                kGood, "\n",
                R"({"id": "x", "criteria": [{"text": "a", "weight": 0}, {"text": "b", "weight": -2}]})"),
            {"med.jsonl line 2", "rubric 'x'", "positive weight"}},
        BadCase{
            "invalid_regex",
            R"({"id": "x", "criteria": [{"text": "a", "check": {"type": "regex", "pattern": "a(b"}}]})",
            {"med.jsonl line 1", "criterion #1",
             "check.pattern is not a valid RE2"}},
        BadCase{
            "unknown_check_type",
            absl::StrCat(
                kGood, "\n",
                R"({"id": "x", "criteria": [{"text": "a", "check": {"type": "regexp", "pattern": "a"}}]})"),
            {"med.jsonl line 2 (rubric 'x'): criterion #1: unknown check "
             "type \"regexp\""}},
        BadCase{
            "misspelt_check_field",
            R"({"id": "x", "criteria": [{"text": "a", "check": {"type": "regex", "patern": "a"}}]})",
            {"line 1", "criterion #1", "check field \"patern\""}},
        BadCase{
            "count_check_without_bounds",
            R"({"id": "x", "criteria": [{"text": "a", "check": {"type": "word_count"}}]})",
            {"line 1", "criterion #1", "check.min or check.max"}},
        BadCase{
            "duplicate_rubric_ids",
            absl::StrCat(kGood, "\n",
                         R"({"id": "x", "criteria": [{"text": "a"}]})", "\n",
                         R"({"id": "ok", "criteria": [{"text": "b"}]})"),
            {"med.jsonl line 3 (rubric 'ok'): duplicate rubric id 'ok'",
             "first used at med.jsonl line 1"}},
        BadCase{"empty_file", "", {"med.jsonl: empty file"}},
        BadCase{"blank_file", " \n\n \t\n", {"med.jsonl: empty file"}},
        BadCase{"empty_array", "[]", {"med.jsonl: empty file"}},
        BadCase{"broken_json_line",
                absl::StrCat(kGood, "\n", R"({"id": "x", "criteria": [}")"),
                {"med.jsonl line 2: invalid JSON"}},
        BadCase{"broken_pretty_json",
                "{\n  \"id\": \"x\",\n  \"criteria\": [,]\n}\n",
                {"med.jsonl: invalid JSON", "line 3"}},
        BadCase{"record_not_object",
                "[1]",
                {"med.jsonl record 1", "not a JSON object"}},
        BadCase{"undetectable_format",
                R"({"question": "q", "answer": "a"})",
                {"med.jsonl line 1", "cannot tell the rubric format", "answer",
                 "question", "<set>.<format>.json[l]"}},
        BadCase{"criteria_not_array",
                R"({"id": "x", "criteria": {"text": "a"}})",
                {"line 1 (rubric 'x')", "criteria is not an array"}},
        BadCase{"prompt_and_messages",
                R"({"id": "x", "prompt": "a", "messages": [], "criteria": []})",
                {"line 1", "not both"}},
        BadCase{"no_criteria",
                R"({"id": "x", "criteria": []})",
                {"line 1", "rubric 'x' has no criteria"}},
        BadCase{
            "bad_message",
            R"({"id": "x", "messages": [{"role": "user"}], "criteria": [{"text": "a"}]})",
            {"line 1", "messages[0]: missing field \"content\""}}),
    [](const ::testing::TestParamInfo<BadCase>& info) {
      return std::string(info.param.name);
    });

TEST(HostileInputTest, DeepNestingAndCutUtf8DoNotCrash) {
  // A record nested 100,000 levels deep: reported, not dumped recursively.
  const std::string deep =
      "[" + std::string(100000, '[') + std::string(100000, ']') + "]";
  absl::StatusOr<RubricSet> set = Parse(deep);
  ASSERT_FALSE(set.ok());
  EXPECT_THAT(Msg(set.status()),
              HasSubstr("record 1: record is not a JSON object"));

  // Wrappers inside wrappers are not unwrapped (no recursion on input depth).
  std::string nested;
  for (int i = 0; i < 50000; ++i) nested += R"({"rubrics": [)";
  nested += "{}";
  for (int i = 0; i < 50000; ++i) nested += "]}";
  set = Parse(nested);
  ASSERT_FALSE(set.ok());
  EXPECT_THAT(Msg(set.status()),
              HasSubstr("rubrics[0]: cannot tell the rubric format"));

  // Numbers beyond double range are a JSON error, not an exception.
  set = Parse(R"({"id": "x", "criteria": [{"text": "a", "weight": 1e400}]})");
  ASSERT_FALSE(set.ok());
  EXPECT_THAT(Msg(set.status()), HasSubstr("t.jsonl: invalid JSON"));

  // A long non-numeric weight whose preview cuts a 3-byte UTF-8 character.
  std::string euros;
  for (int i = 0; i < 20; ++i) euros += "\xE2\x82\xAC";
  set = Parse(
      Json({{"id", "x"}, {"criteria", {{{"text", "a"}, {"weight", euros}}}}})
          .dump());
  ASSERT_FALSE(set.ok());
  EXPECT_THAT(Msg(set.status()),
              HasSubstr("criterion #1: weight is not a number (got a string"));
}

// ----------------------------------------------------------------------------
// Limits, file names, format names

TEST(LimitsTest, EachLimitIsEnforcedWithAClearError) {
  const std::string content = ReadAll(kHealthBench);
  LoadLimits limits;
  limits.max_file_bytes = content.size() - 1;
  absl::StatusOr<RubricSet> set =
      ParseRubricSet("h", content, RubricFormat::kAuto, "h.jsonl", limits);
  EXPECT_EQ(set.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(Msg(set.status()), HasSubstr("max_file_bytes"));
  EXPECT_EQ(
      LoadRubricFile(kHealthBench, RubricFormat::kAuto, limits).status().code(),
      absl::StatusCode::kResourceExhausted);

  limits = LoadLimits();
  limits.max_criteria_per_rubric = 10;  // record 1 has 19
  set = ParseRubricSet("h", content, RubricFormat::kAuto, "h.jsonl", limits);
  ASSERT_FALSE(set.ok());
  EXPECT_THAT(Msg(set.status()),
              AllOf(HasSubstr("h.jsonl line 1"),
                    HasSubstr("criteria exceed the limit of 10")));

  limits = LoadLimits();
  limits.max_rubrics_per_set = 2;
  set = ParseRubricSet("h", content, RubricFormat::kAuto, "h.jsonl", limits);
  ASSERT_FALSE(set.ok());
  EXPECT_THAT(Msg(set.status()), AllOf(HasSubstr("h.jsonl line 3"),
                                       HasSubstr("max_rubrics_per_set")));
}

TEST(FileNameTest, SetNameAndFormatInfix) {
  struct Case {
    const char* file;
    const char* set;
    RubricFormat format;
  } cases[] = {
      {"demo.json", "demo", RubricFormat::kAuto},
      {"/etc/rubrics/medical.healthbench.jsonl", "medical",
       RubricFormat::kHealthBench},
      {"a.b.biggen_bench.jsonl", "a.b", RubricFormat::kBigGenBench},
      {"p.paper_dataset.json", "p", RubricFormat::kPaperDataset},
      {"p.paper_code.jsonl", "p", RubricFormat::kPaperCode},
      {"x.rewardd.json", "x", RubricFormat::kRewardd},
      {"x.paper_appendix.json", "x", RubricFormat::kPaperAppendix},
  };
  for (const Case& c : cases) {
    std::string set;
    RubricFormat format;
    ASSERT_TRUE(SplitRubricFileName(c.file, &set, &format).ok()) << c.file;
    EXPECT_EQ(set, c.set) << c.file;
    EXPECT_EQ(format, c.format) << c.file;
  }
  std::string set;
  RubricFormat format;
  EXPECT_THAT(Msg(SplitRubricFileName("med.helthbench.jsonl", &set, &format)),
              AllOf(HasSubstr("unknown format 'helthbench'"),
                    HasSubstr("healthbench")));
  EXPECT_FALSE(SplitRubricFileName("notes.txt", &set, &format).ok());
  EXPECT_FALSE(SplitRubricFileName(".json", &set, &format).ok());
  EXPECT_FALSE(SplitRubricFileName(".healthbench.json", &set, &format).ok());
}

TEST(FormatNameTest, RoundTripsEveryFormat) {
  for (RubricFormat f : {RubricFormat::kAuto, RubricFormat::kRewardd,
                         RubricFormat::kPaperDataset, RubricFormat::kPaperCode,
                         RubricFormat::kHealthBench, RubricFormat::kBigGenBench,
                         RubricFormat::kPaperAppendix}) {
    RubricFormat back;
    ASSERT_TRUE(ParseRubricFormat(RubricFormatName(f), &back))
        << RubricFormatName(f);
    EXPECT_EQ(back, f);
  }
  RubricFormat f;
  EXPECT_FALSE(ParseRubricFormat("HealthBench", &f));
}

TEST(ReadFileTest, MissingFileIsNotFound) {
  EXPECT_EQ(LoadRubricFile(kData + "/no/such/file.jsonl").status().code(),
            absl::StatusCode::kNotFound);
}

// ----------------------------------------------------------------------------
// The shipped examples stay loadable, in the format their README promises.

TEST(ExamplesTest, EveryExampleRubricFileLoads) {
  const std::string dir = std::string(REWARDD_SOURCE_DIR) + "/examples/rubrics";
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"demo.json", "rewardd"},
      {"paper.paper_dataset.jsonl", "paper_dataset"},
      {"paper_code_sample.paper_code.jsonl", "paper_code"},
      {"healthbench_sample.healthbench.jsonl", "healthbench"},
      {"biggen_sample.jsonl", "biggen"},
      {"chasing_the_tail.json", "paper_appendix"},
  };
  for (const auto& [file, format] : expected) {
    absl::StatusOr<RubricSet> set = LoadRubricFile(dir + "/" + file);
    ASSERT_TRUE(set.ok()) << set.status();
    EXPECT_EQ(set->format, format) << file;
    EXPECT_TRUE(set->warnings.empty()) << file;
  }
  absl::StatusOr<RubricSet> demo = LoadRubricFile(dir + "/demo.json");
  std::set<Check::Kind> kinds;
  for (const auto& r : demo->rubrics) {
    for (const Criterion& c : r->criteria) {
      kinds.insert(c.check ? c.check->kind : Check::Kind::kNone);
    }
  }
  EXPECT_GE(kinds.size(), 8u) << "demo.json shows most check kinds";
  EXPECT_TRUE(kinds.count(Check::Kind::kNone)) << "and plain criteria";
}

}  // namespace
}  // namespace rewardd

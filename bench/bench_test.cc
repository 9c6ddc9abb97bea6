// Tests of the load generator's arithmetic and request synthesis.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <random>
#include <set>
#include <vector>

#include "absl/strings/match.h"
#include "bench/latency_histogram.h"
#include "bench/load_generator.h"
#include "bench/request_source.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/rubric/rubric_loader.h"

namespace rewardd::bench {
namespace {

TEST(LatencyHistogramTest, BucketsAreContiguousAndOrdered) {
  for (int b = 1; b < LatencyHistogram::kBuckets; ++b) {
    EXPECT_EQ(LatencyHistogram::BucketLow(b),
              LatencyHistogram::BucketHigh(b - 1) + 1)
        << b;
  }
  for (int64_t v :
       {int64_t{0}, int64_t{1}, int64_t{127}, int64_t{128}, int64_t{129},
        int64_t{1000}, int64_t{123456789}, int64_t{1} << 38}) {
    const int b = LatencyHistogram::BucketOf(v);
    EXPECT_LE(LatencyHistogram::BucketLow(b), v);
    EXPECT_GE(LatencyHistogram::BucketHigh(b), v);
  }
}

TEST(LatencyHistogramTest, PercentilesMatchSortedSamplesWithinOnePercent) {
  std::mt19937_64 gen(7);
  // A long-tailed mix: most calls ~1 ms, some ~50 ms.
  std::lognormal_distribution<double> fast(std::log(1e6), 0.3);
  std::lognormal_distribution<double> slow(std::log(5e7), 0.5);
  std::vector<int64_t> samples;
  LatencyHistogram h;
  for (int i = 0; i < 20000; ++i) {
    const int64_t ns =
        static_cast<int64_t>(i % 50 == 0 ? slow(gen) : fast(gen));
    samples.push_back(ns);
    h.Record(absl::Nanoseconds(ns));
  }
  std::sort(samples.begin(), samples.end());
  for (double q : {50.0, 90.0, 99.0, 99.9}) {
    const size_t rank =
        static_cast<size_t>(std::ceil(q / 100 * samples.size()));
    const double exact = double(samples[rank - 1]);
    const double got = double(absl::ToInt64Nanoseconds(h.Percentile(q)));
    EXPECT_NEAR(got, exact, exact * 0.01) << "q=" << q;
  }
  LatencyHistogram::Summary s = h.Summarize();
  EXPECT_EQ(s.count, 20000);
  EXPECT_EQ(absl::ToInt64Nanoseconds(s.min), samples.front());
  EXPECT_EQ(absl::ToInt64Nanoseconds(s.max), samples.back());
}

TEST(LatencyHistogramTest, MergeAddsSamples) {
  LatencyHistogram a, b;
  for (int i = 1; i <= 100; ++i) a.Record(absl::Microseconds(i));
  for (int i = 101; i <= 200; ++i) b.Record(absl::Microseconds(i));
  a.Merge(b);
  EXPECT_EQ(a.count(), 200);
  EXPECT_NEAR(absl::ToDoubleMicroseconds(a.Percentile(50)), 100, 1);
  EXPECT_NEAR(absl::ToDoubleMicroseconds(a.Summarize().max), 200, 0.001);
}

TEST(LatencyHistogramTest, EmptyIsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.Percentile(99), absl::ZeroDuration());
  EXPECT_EQ(h.Summarize().count, 0);
}

SynthOptions Checks() {
  SynthOptions o;
  o.criteria = 20;
  o.response_bytes = 800;
  o.group_size = 16;
  return o;
}

TEST(RequestSourceTest, SameIndexSameRequest) {
  auto a = RequestSource::Synthesize(Checks());
  auto b = RequestSource::Synthesize(Checks());
  ASSERT_TRUE(a.ok() && b.ok());
  for (int64_t i : {0, 5, 16, 999}) {
    EXPECT_EQ((*a)->Unary(i).SerializeAsString(),
              (*b)->Unary(i).SerializeAsString());
  }
}

TEST(RequestSourceTest, ShapesGradeTheSameWork) {
  auto src = RequestSource::Synthesize(Checks());
  ASSERT_TRUE(src.ok());
  // Group g holds exactly the responses of unary requests 16g .. 16g+15.
  reward::v1::GradeGroupRequest g = (*src)->Group(3);
  ASSERT_EQ(g.responses_size(), 16);
  for (int m = 0; m < 16; ++m) {
    reward::v1::GradeRequest u = (*src)->Unary(3 * 16 + m);
    EXPECT_EQ(u.response(), g.responses(m));
    EXPECT_EQ(u.rubric().SerializeAsString(), g.rubric().SerializeAsString());
    EXPECT_EQ(u.prompt(), g.prompt());
  }
  EXPECT_EQ(g.rubric().criteria_size(), 20);
  EXPECT_GE(g.responses(0).size(), 800u);
}

TEST(RequestSourceTest, ChecksAreExactAndTermsVaryVerdicts) {
  auto src = RequestSource::Synthesize(Checks());
  ASSERT_TRUE(src.ok());
  reward::v1::GradeGroupRequest g = (*src)->Group(0);
  int contains_met = 0, contains_total = 0;
  for (const reward::v1::Criterion& c : g.rubric().criteria()) {
    EXPECT_NE(c.check().kind(), reward::v1::Check::KIND_UNSPECIFIED) << c.id();
    if (c.check().kind() == reward::v1::Check::CONTAINS &&
        c.check().match() == reward::v1::Check::ALL) {
      for (const std::string& r : g.responses()) {
        ++contains_total;
        if (absl::StrContains(r, c.check().values(0))) ++contains_met;
      }
    }
  }
  // Some responses meet the term criteria, some do not.
  EXPECT_GT(contains_met, 0);
  EXPECT_LT(contains_met, contains_total);
}

TEST(RequestSourceTest, DuplicatesAndRepeatsAreWhatWasAskedFor) {
  SynthOptions o = Checks();
  o.distinct_per_group = 4;
  o.distinct_prompts = 10;
  auto src = RequestSource::Synthesize(o);
  ASSERT_TRUE(src.ok());
  reward::v1::GradeGroupRequest g = (*src)->Group(2);
  std::set<std::string> distinct(g.responses().begin(), g.responses().end());
  EXPECT_EQ(distinct.size(), 4u);
  // Group 12 repeats group 2 (10 distinct prompts), apart from its id.
  reward::v1::GradeGroupRequest again = (*src)->Group(12);
  again.set_request_id(g.request_id());
  EXPECT_EQ(again.SerializeAsString(), g.SerializeAsString());
  EXPECT_EQ((*src)->group_period(), 10);
  EXPECT_EQ((*src)->unary_period(), 160);
}

TEST(RequestSourceTest, NeverRepeatsByDefault) {
  auto src = RequestSource::Synthesize(Checks());
  ASSERT_TRUE(src.ok());
  std::set<std::string> responses;
  for (int64_t i = 0; i < 500; ++i)
    responses.insert((*src)->Unary(i).response());
  EXPECT_EQ(responses.size(), 500u);
  EXPECT_EQ((*src)->unary_period(), 0);
}

TEST(RequestSourceTest, ReferencesSpreadOverTheRubricIds) {
  SynthOptions o = Checks();
  o.rubric = SynthOptions::RubricKind::kReference;
  o.rubric_set = "scale";
  o.rubric_count = 1000;
  o.group_size = 1;
  auto src = RequestSource::Synthesize(o);
  ASSERT_TRUE(src.ok());
  std::set<std::string> ids;
  for (int64_t i = 0; i < 2000; ++i) {
    reward::v1::GradeRequest r = (*src)->Unary(i);
    EXPECT_EQ(r.rubric_set(), "scale");
    EXPECT_FALSE(r.has_rubric());
    ASSERT_TRUE(absl::StartsWith(r.rubric_id(), "r"));
    EXPECT_LT(std::stoll(r.rubric_id().substr(1)), 1000);
    ids.insert(r.rubric_id());
  }
  EXPECT_GT(ids.size(), 800u);  // spread, not a handful of hot ids
}

TEST(RequestSourceTest, RejectsBadOptions) {
  SynthOptions o = Checks();
  o.criteria = 0;
  EXPECT_FALSE(RequestSource::Synthesize(o).ok());
  o = Checks();
  o.rubric = SynthOptions::RubricKind::kReference;
  EXPECT_FALSE(RequestSource::Synthesize(o).ok());
}

TEST(RequestSourceTest, ReadsJsonl) {
  const std::string path = ::testing::TempDir() + "/bench_requests.jsonl";
  {
    std::ofstream out(path);
    out << R"({"rubricSet":"demo","rubricId":"arith-1","response":"Answer: 80"})"
        << "\n\n"
        << R"({"rubricSet":"demo","rubricId":"json-profile","response":"{}"})"
        << "\n";
  }
  auto src = RequestSource::FromJsonl(path, false);
  ASSERT_TRUE(src.ok()) << src.status();
  EXPECT_EQ((*src)->Unary(0).rubric_id(), "arith-1");
  EXPECT_EQ((*src)->Unary(1).rubric_id(), "json-profile");
  EXPECT_EQ((*src)->Unary(2).rubric_id(), "arith-1");
  EXPECT_EQ((*src)->Unary(2).request_id(), "u2");
  EXPECT_EQ((*src)->Group(1).responses(0), "{}");

  std::ofstream(path) << "{not json\n";
  EXPECT_FALSE(RequestSource::FromJsonl(path, false).ok());
  std::remove(path.c_str());
}

TEST(RequestSourceTest, RubricSetByReferenceIsTheInlineRubric) {
  SynthOptions o = Checks();
  auto src = RequestSource::Synthesize(o);
  ASSERT_TRUE(src.ok());
  std::string jsonl;
  for (int64_t p = 0; p < 3; ++p) jsonl += (*src)->RubricSetJsonl(p) + "\n";
  // rewardd's own loader accepts the set and sees the same criteria, with
  // checks of the same kinds, as the inline rubric.
  absl::StatusOr<RubricSet> set = ParseRubricSet(
      "benchset", jsonl, RubricFormat::kRewardd, "benchset.jsonl");
  ASSERT_TRUE(set.ok()) << set.status();
  ASSERT_EQ(set->rubrics.size(), 3u);
  reward::v1::GradeRequest inline_request = (*src)->Unary(2 * 16);
  const std::shared_ptr<const Rubric>* loaded = set->FindById("bench-2");
  ASSERT_NE(loaded, nullptr);
  ASSERT_EQ((*loaded)->criteria.size(),
            static_cast<size_t>(inline_request.rubric().criteria_size()));
  for (size_t k = 0; k < (*loaded)->criteria.size(); ++k) {
    const Criterion& c = (*loaded)->criteria[k];
    const reward::v1::Criterion& pc = inline_request.rubric().criteria(k);
    EXPECT_EQ(c.id, pc.id());
    EXPECT_EQ(c.text, pc.text());
    EXPECT_EQ(c.weight, pc.weight());
    EXPECT_EQ(static_cast<int>(c.check ? c.check->kind : Check::Kind::kNone),
              static_cast<int>(pc.check().kind()))
        << c.id;
  }
  EXPECT_EQ((*loaded)->prompt, inline_request.prompt());

  o.rubric = SynthOptions::RubricKind::kChecksByReference;
  o.rubric_set = "benchset";
  auto by_ref = RequestSource::Synthesize(o);
  ASSERT_TRUE(by_ref.ok());
  reward::v1::GradeRequest r = (*by_ref)->Unary(2 * 16 + 5);
  EXPECT_EQ(r.rubric_set(), "benchset");
  EXPECT_EQ(r.rubric_id(), "bench-2");
  EXPECT_FALSE(r.has_rubric());
  EXPECT_EQ(r.response(), (*src)->Unary(2 * 16 + 5).response());
  // A group by reference too: an empty inline rubric next to the reference
  // would be refused by rewardd (INVALID_ARGUMENT, both kinds set).
  reward::v1::GradeGroupRequest g = (*by_ref)->Group(2);
  EXPECT_EQ(g.rubric_set(), "benchset");
  EXPECT_EQ(g.rubric_id(), "bench-2");
  EXPECT_FALSE(g.has_rubric());
  EXPECT_EQ(g.responses_size(), 16);
}

TEST(ProcessCpuTest, ReadsOwnCpuTime) {
  // Burn a little CPU so the figure is not trivially zero-by-construction.
  volatile double x = 0;
  for (int i = 0; i < 20000000; ++i) x = x + i * 0.5;
  absl::StatusOr<double> cpu = ProcessCpuSeconds(getpid());
  ASSERT_TRUE(cpu.ok());
  EXPECT_GT(*cpu, 0);
  EXPECT_FALSE(ProcessCpuSeconds(-1).ok());
}

}  // namespace
}  // namespace rewardd::bench

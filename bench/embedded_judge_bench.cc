// Micro-benchmark: the embedded judge's grading work alone, on the requests
// of bench scenario 1 (20 exact checks per rubric, 1.5 KB responses, 64
// prompts x 16 responses), without gRPC. Prints ns per response graded and
// per check; run it before and after a change to the check evaluator.
//
//   ninja -C build-perf embedded-judge-bench
//   build-perf/bench/embedded-judge-bench [--rounds=200]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "bench/request_source.h"
#include "server/judge/embedded/embedded_judge.h"
#include "server/rubric/rubric_loader.h"

namespace {

int Fail(const std::string& what) {
  std::fprintf(stderr, "embedded-judge-bench: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 200;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--rounds=", 0) == 0) rounds = std::atoi(arg.c_str() + 9);
  }
  constexpr int kPrompts = 64, kGroup = 16;
  rewardd::bench::SynthOptions s;
  s.rubric = rewardd::bench::SynthOptions::RubricKind::kChecksByReference;
  s.rubric_set = "benchset";
  s.criteria = 20;
  s.response_bytes = 1500;
  s.group_size = kGroup;
  s.distinct_prompts = kPrompts;
  auto source = rewardd::bench::RequestSource::Synthesize(s);
  if (!source.ok()) return Fail(std::string(source.status().message()));
  const std::string path =
      std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") +
      "/embedded-judge-bench.jsonl";
  {
    std::ofstream out(path);
    for (int p = 0; p < kPrompts; ++p)
      out << (*source)->RubricSetJsonl(p) << "\n";
  }
  absl::StatusOr<rewardd::RubricSet> set = rewardd::LoadRubricFile(path);
  std::remove(path.c_str());
  if (!set.ok()) return Fail(std::string(set.status().message()));

  std::vector<std::shared_ptr<const rewardd::GradeInput>> inputs;
  size_t checks = 0;
  for (int i = 0; i < kPrompts * kGroup; ++i) {
    const reward::v1::GradeRequest r = (*source)->Unary(i);
    const std::shared_ptr<const rewardd::Rubric>* rubric =
        set->FindById(r.rubric_id());
    if (rubric == nullptr) return Fail("no rubric " + r.rubric_id());
    auto input = std::make_shared<rewardd::GradeInput>();
    input->rubric = *rubric;
    input->response = r.response();
    checks += (*rubric)->criteria.size();
    inputs.push_back(std::move(input));
  }
  rewardd::EmbeddedJudge judge;
  size_t met = 0;
  auto grade_all = [&] {
    for (const auto& input : inputs) {
      rewardd::JudgeWork work{input, {}};
      for (uint32_t k = 0; k < input->rubric->criteria.size(); ++k) {
        work.criteria.push_back(k);
      }
      judge.Grade(std::move(work),
                  [&met](absl::StatusOr<rewardd::JudgeResult> r) {
                    for (const rewardd::Verdict& v : r->verdicts) met += v.met;
                  });
    }
  };
  grade_all();  // warm-up
  const auto start = std::chrono::steady_clock::now();
  for (int r = 0; r < rounds; ++r) grade_all();
  const std::chrono::duration<double, std::nano> took =
      std::chrono::steady_clock::now() - start;
  const double per_response = took.count() / (rounds * inputs.size());
  std::printf(
      "embedded judge: %.0f ns per response (%zu responses x %d rounds), "
      "%.1f ns per check; %.1f%% met\n",
      per_response, inputs.size(), rounds,
      took.count() / (static_cast<double>(rounds) * checks),
      100.0 * met / (static_cast<double>(rounds + 1) * checks));
  return 0;
}

// reward-bench: a gRPC load generator for reward.v1.RewardService (rewardd or
// bench/bare-server). See bench/load_generator.h for the loop semantics and
// docs/benchmarks.md for the scenarios that use it.
//
//   reward-bench --target=127.0.0.1:50051 --shape=unary --concurrency=64
//       --warmup_s=1 --duration_s=5 --criteria=20 --response_bytes=1500
//   reward-bench --target=... --rate=2000 --duration_s=10     # open loop
//   reward-bench --target=... --shape=group --group_size=16 --rubric=text
//       --judge=sim --grading_mode=per_criterion
//       --judge_stats=http://127.0.0.1:8000
//   reward-bench --target=... --requests=reqs.jsonl --json_out=result.json
#include <cstdio>
#include <fstream>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "bench/load_generator.h"
#include "bench/request_source.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051", "server host:port");
ABSL_FLAG(std::string, shape, "unary", "unary, group, stream or get_rubric");
ABSL_FLAG(int, concurrency, 16,
          "closed loop: calls (stream items) outstanding; open loop: the most "
          "outstanding at once");
ABSL_FLAG(double, rate, 0, "> 0: open loop at this many calls per second");
ABSL_FLAG(double, warmup_s, 1, "warm-up seconds (not recorded)");
ABSL_FLAG(double, duration_s, 5, "measurement seconds (cap with --count)");
ABSL_FLAG(int64_t, count, 0, "> 0: measure this many calls, then stop");
ABSL_FLAG(double, deadline_ms, 30000, "per-call deadline");
ABSL_FLAG(int, channels, 1, "TCP connections (calls rotate over them)");
ABSL_FLAG(int, streams, 1, "stream shape: streams opened");

ABSL_FLAG(std::string, requests, "",
          "JSONL of reward.v1.GradeRequest (GradeGroupRequest for "
          "--shape=group) in proto JSON; empty = synthesize");
ABSL_FLAG(
    std::string, rubric, "checks",
    "synthesized rubrics: checks (inline, exact checks), text (inline, "
    "free-text criteria quoting terms), ref (--rubric_set, ids "
    "<prefix><k>) or checks_ref (the checks rubrics by reference to a set "
    "written with --write_rubric_set)");
ABSL_FLAG(std::string, write_rubric_set, "",
          "write the checks rubrics of the first --distinct_prompts prompts as "
          "a rewardd-format JSONL rubric set to this file, then exit");
ABSL_FLAG(std::string, write_requests, "",
          "write the first --count requests of --shape (unary or group) as "
          "proto JSON lines to this file, then exit (for other clients)");
ABSL_FLAG(int, criteria, 20, "criteria per synthesized rubric");
ABSL_FLAG(int, prompt_bytes, 300, "synthesized prompt size");
ABSL_FLAG(int, response_bytes, 1500, "synthesized response size");
ABSL_FLAG(int, group_size, 16, "responses per group (and per prompt)");
ABSL_FLAG(int, distinct_per_group, 0,
          "distinct responses per group (the rest repeat them); 0 = all");
ABSL_FLAG(int64_t, distinct_prompts, 0,
          "distinct prompts before requests repeat (0 = never repeat)");
ABSL_FLAG(std::string, rubric_set, "", "--rubric=ref: the set");
ABSL_FLAG(std::string, rubric_id, "", "--rubric=ref: one rubric id");
ABSL_FLAG(std::string, rubric_id_prefix, "r",
          "--rubric=ref: ids are <prefix><k>, k < --rubric_count");
ABSL_FLAG(int64_t, rubric_count, 0,
          "--rubric=ref: how many ids to spread over");
ABSL_FLAG(std::string, judge, "", "GradeOptions.judge");
ABSL_FLAG(std::string, grading_mode, "",
          "all_in_one, per_criterion, chunked (empty: the judge's default)");
ABSL_FLAG(int, chunk_size, 0, "GradeOptions.chunk_size");
ABSL_FLAG(bool, skip_cache, false, "GradeOptions.skip_cache");
ABSL_FLAG(uint64_t, seed, 1, "synthesis seed");

ABSL_FLAG(int, server_pid, 0,
          "measure this process's CPU time over the measurement window");
ABSL_FLAG(std::string, judge_stats, "",
          "judge-sim base URL (http://127.0.0.1:PORT): /stats deltas over the "
          "measurement window");
ABSL_FLAG(bool, judge_reset, false,
          "POST /reset to --judge_stats when measurement starts");
ABSL_FLAG(std::string, stop_file, "",
          "end the measurement early once this file exists");
ABSL_FLAG(std::string, json_out, "", "write the result as JSON here");
ABSL_FLAG(std::string, label, "", "copied into the JSON result");

namespace {

using rewardd::bench::LoadOptions;
using rewardd::bench::SynthOptions;

int Fail(const std::string& message) {
  std::cerr << "reward-bench: " << message << "\n";
  return 2;
}

absl::StatusOr<LoadOptions::Shape> ShapeFromFlag() {
  const std::string shape = absl::GetFlag(FLAGS_shape);
  if (shape == "unary") return LoadOptions::Shape::kUnary;
  if (shape == "group") return LoadOptions::Shape::kGroup;
  if (shape == "stream") return LoadOptions::Shape::kStream;
  if (shape == "get_rubric") return LoadOptions::Shape::kGetRubric;
  return absl::InvalidArgumentError(
      "--shape must be unary, group, stream or get_rubric");
}

absl::StatusOr<LoadOptions> LoadOptionsFromFlags() {
  LoadOptions o;
  absl::StatusOr<LoadOptions::Shape> shape = ShapeFromFlag();
  if (!shape.ok()) return shape.status();
  o.shape = *shape;
  o.target = absl::GetFlag(FLAGS_target);
  o.concurrency = absl::GetFlag(FLAGS_concurrency);
  o.rate = absl::GetFlag(FLAGS_rate);
  o.warmup = absl::Milliseconds(1000 * absl::GetFlag(FLAGS_warmup_s));
  o.duration = absl::Milliseconds(1000 * absl::GetFlag(FLAGS_duration_s));
  o.count = absl::GetFlag(FLAGS_count);
  o.deadline = absl::Milliseconds(absl::GetFlag(FLAGS_deadline_ms));
  o.channels = absl::GetFlag(FLAGS_channels);
  o.streams = absl::GetFlag(FLAGS_streams);
  o.server_pid = absl::GetFlag(FLAGS_server_pid);
  o.judge_stats_url = absl::GetFlag(FLAGS_judge_stats);
  o.judge_reset = absl::GetFlag(FLAGS_judge_reset);
  o.stop_file = absl::GetFlag(FLAGS_stop_file);
  if (o.concurrency <= 0) {
    return absl::InvalidArgumentError("--concurrency must be positive");
  }
  return o;
}

absl::StatusOr<SynthOptions::RubricKind> RubricKindFromFlag() {
  const std::string rubric = absl::GetFlag(FLAGS_rubric);
  if (rubric == "checks") return SynthOptions::RubricKind::kInlineChecks;
  if (rubric == "text") return SynthOptions::RubricKind::kInlineText;
  if (rubric == "ref") return SynthOptions::RubricKind::kReference;
  if (rubric == "checks_ref") {
    return SynthOptions::RubricKind::kChecksByReference;
  }
  return absl::InvalidArgumentError(
      "--rubric must be checks, text, ref or checks_ref");
}

absl::StatusOr<SynthOptions> SynthOptionsFromFlags() {
  SynthOptions s;
  absl::StatusOr<SynthOptions::RubricKind> rubric = RubricKindFromFlag();
  if (!rubric.ok()) return rubric.status();
  s.rubric = *rubric;
  s.criteria = absl::GetFlag(FLAGS_criteria);
  s.prompt_bytes = absl::GetFlag(FLAGS_prompt_bytes);
  s.response_bytes = absl::GetFlag(FLAGS_response_bytes);
  s.group_size = absl::GetFlag(FLAGS_group_size);
  s.distinct_per_group = absl::GetFlag(FLAGS_distinct_per_group);
  s.distinct_prompts = absl::GetFlag(FLAGS_distinct_prompts);
  s.rubric_set = absl::GetFlag(FLAGS_rubric_set);
  s.rubric_id = absl::GetFlag(FLAGS_rubric_id);
  s.rubric_id_prefix = absl::GetFlag(FLAGS_rubric_id_prefix);
  s.rubric_count = absl::GetFlag(FLAGS_rubric_count);
  s.judge = absl::GetFlag(FLAGS_judge);
  const std::string mode = absl::GetFlag(FLAGS_grading_mode);
  if (mode == "all_in_one") {
    s.grading_mode = reward::v1::ALL_IN_ONE;
  } else if (mode == "per_criterion") {
    s.grading_mode = reward::v1::PER_CRITERION;
  } else if (mode == "chunked") {
    s.grading_mode = reward::v1::CHUNKED;
  } else if (!mode.empty()) {
    return absl::InvalidArgumentError(
        "--grading_mode must be all_in_one, per_criterion or chunked");
  }
  s.chunk_size = static_cast<uint32_t>(absl::GetFlag(FLAGS_chunk_size));
  s.skip_cache = absl::GetFlag(FLAGS_skip_cache);
  s.seed = absl::GetFlag(FLAGS_seed);
  return s;
}

// --write_rubric_set: the synthetic rubrics as a rewardd-format set file.
int WriteRubricSet(SynthOptions s, const std::string& path) {
  if (s.distinct_prompts <= 0) return Fail("set --distinct_prompts");
  s.rubric = SynthOptions::RubricKind::kInlineChecks;
  auto src = rewardd::bench::RequestSource::Synthesize(s);
  if (!src.ok()) return Fail(std::string(src.status().message()));
  std::ofstream out(path);
  for (int64_t p = 0; p < s.distinct_prompts; ++p) {
    out << (*src)->RubricSetJsonl(p) << "\n";
  }
  return out ? 0 : Fail(absl::StrCat("cannot write ", path));
}

// The result as text on stdout and, with --json_out, as JSON.
int Report(const rewardd::bench::LoadResult& result, const LoadOptions& o) {
  std::cout << rewardd::bench::FormatText(result) << std::flush;
  if (const std::string path = absl::GetFlag(FLAGS_json_out); !path.empty()) {
    nlohmann::json j = rewardd::bench::ToJson(result);
    j["label"] = absl::GetFlag(FLAGS_label);
    j["target"] = o.target;
    std::ofstream out(path);
    out << j.dump(2) << "\n";
    if (!out) return Fail(absl::StrCat("cannot write ", path));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "gRPC load generator for rewardd: closed or open loop, unary / group / "
      "stream, text and JSON results.");
  absl::ParseCommandLine(argc, argv);
  // Debian's abseil is built with mutex deadlock detection on, which puts
  // every Mutex lock through a global graph (measured: 3x the cost of a
  // lock/unlock); a benchmark must not pay for it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  absl::StatusOr<LoadOptions> o = LoadOptionsFromFlags();
  if (!o.ok()) return Fail(std::string(o.status().message()));
  const bool groups = o->shape == LoadOptions::Shape::kGroup;
  absl::StatusOr<std::unique_ptr<rewardd::bench::RequestSource>> source;
  if (const std::string file = absl::GetFlag(FLAGS_requests); !file.empty()) {
    source = rewardd::bench::RequestSource::FromJsonl(file, groups);
  } else {
    absl::StatusOr<SynthOptions> s = SynthOptionsFromFlags();
    if (!s.ok()) return Fail(std::string(s.status().message()));
    if (const std::string path = absl::GetFlag(FLAGS_write_rubric_set);
        !path.empty()) {
      return WriteRubricSet(*s, path);
    }
    source = rewardd::bench::RequestSource::Synthesize(*s);
    if (const std::string path = absl::GetFlag(FLAGS_write_requests);
        source.ok() && !path.empty()) {
      const int64_t count = absl::GetFlag(FLAGS_count);
      const absl::Status w =
          (*source)->WriteJsonl(path, groups, count > 0 ? count : 1000);
      return w.ok() ? 0 : Fail(std::string(w.message()));
    }
  }
  if (!source.ok()) return Fail(std::string(source.status().message()));

  absl::StatusOr<rewardd::bench::LoadResult> result =
      rewardd::bench::RunLoad(*o, **source);
  if (!result.ok()) return Fail(std::string(result.status().message()));
  return Report(*result, *o);
}

// Reads the judges config file (--judges_config): the named LLM judges a
// server offers, each an OpenAI-compatible endpoint with its worker pool.
// See docs/judges.md for every field and examples/judges.json (or
// examples/judges.yaml) for a sample.
//
//   absl::StatusOr<std::vector<std::shared_ptr<Judge>>> judges =
//       LoadJudgesConfig("/etc/rewardd/judges.json");
//   for (auto& j : *judges) registry.Add(j);  // the default judge is first
//   ...
//   ShutdownJudges(*judges);  // before exit: answers or aborts pending work
//
// File format: JSON, or YAML when the name ends in .yaml/.yml (the same
// document; see server/util/yaml_json.h for how YAML values are typed):
//   {"default": "qwen",                     // optional; else the first judge
//    "cache_max_bytes": 67108864,           // shared verdict cache; 0 = off
//    "http": {"http2": true, "max_host_connections": 0},
//    "judges": [{"name": "qwen", "replicas": ["http://h:8000/v1"],
//                "model": "Qwen/Qwen3-8B", ..., "pool": {...}}]}
// Judge fields: see HttpJudgeConfig (http_judge_config.h); "pool" fields:
// the JudgePoolOptions names, durations in milliseconds with an _ms suffix
// (e.g. "initial_backoff_ms").
//
// Thread-safety: LoadJudgesConfig is a pure function of the file (plus the
// environment for API keys); the judges it returns are thread-safe.
#ifndef REWARDD_SERVER_JUDGE_POOL_JUDGES_CONFIG_H_
#define REWARDD_SERVER_JUDGE_POOL_JUDGES_CONFIG_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json_fwd.hpp"
#include "server/judge/http/curl_multi_loop.h"
#include "server/judge/judge.h"
#include "server/judge/pool/judge_pool.h"
#include "server/judge/pool/judge_pool_metrics.h"

namespace rewardd {

// The judges of `path`, the default one first. All pools share one HTTP
// event loop and one verdict cache. Fails naming the judge and field that
// are wrong, or the missing API key variable. With `metrics` (which must
// outlive the judges), every pool exports its rewardd_judge_* series there
// (see JudgePool::Create); null: no pool metrics.
absl::StatusOr<std::vector<std::shared_ptr<Judge>>> LoadJudgesConfig(
    const std::string& path, JudgeMetricFamilies* metrics = nullptr);

// The same from an already parsed document; relative paths resolve against
// `base_dir`.
absl::StatusOr<std::vector<std::shared_ptr<Judge>>> BuildJudges(
    const nlohmann::json& doc, const std::string& base_dir,
    JudgeMetricFamilies* metrics = nullptr);

// A judges config as read from its file: the judges, the HTTP event loop
// they share (which other HTTP clients of the same file use too, e.g. the
// proposers of rubric elicitation), and the parsed document for the
// sections this file does not read.
struct JudgesConfigFile {
  std::vector<std::shared_ptr<Judge>> judges;  // the default first
  std::shared_ptr<CurlMultiLoop> loop;
  std::shared_ptr<const nlohmann::json> document;
  std::string base_dir;  // relative paths resolve against it
};

// As LoadJudgesConfig, keeping the loop and the document.
absl::StatusOr<JudgesConfigFile> LoadJudgesConfigFile(
    const std::string& path, JudgeMetricFamilies* metrics = nullptr);

// Reads a "pool" object into options (unknown fields are errors).
absl::StatusOr<JudgePoolOptions> ParseJudgePoolOptions(const nlohmann::json& j);

// Calls Shutdown() on every JudgePool among `judges` (others are left as
// they are). Blocks until their pending callbacks ran.
void ShutdownJudges(const std::vector<std::shared_ptr<Judge>>& judges);

}  // namespace rewardd

#endif  // REWARDD_SERVER_JUDGE_POOL_JUDGES_CONFIG_H_

#include "server/judge/pool/judges_config.h"

#include <fstream>
#include <sstream>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "server/util/json_integer.h"
#include "server/util/status_macros.h"
#include "server/util/yaml_json.h"

namespace rewardd {

absl::StatusOr<JudgePoolOptions> ParseJudgePoolOptions(
    const nlohmann::json& j) {
  JudgePoolOptions o;
  if (!j.is_object())
    return absl::InvalidArgumentError("pool: must be an object");
  for (const auto& [key, value] : j.items()) {
    try {
      // Init-capture: clang (C++17) cannot capture a structured binding.
      auto ms = [&value = value] {
        return absl::Milliseconds(GetInteger<int64_t>(value));
      };
      if (key == "max_queue_size") {
        o.max_queue_size = GetInteger<size_t>(value);
      } else if (key == "max_in_flight_per_replica") {
        o.max_in_flight_per_replica = GetInteger<int>(value);
      } else if (key == "affinity_slack") {
        o.affinity_slack = GetInteger<int>(value);
      } else if (key == "max_attempts") {
        o.max_attempts = GetInteger<int>(value);
      } else if (key == "initial_backoff_ms") {
        o.initial_backoff = ms();
      } else if (key == "backoff_multiplier") {
        o.backoff_multiplier = value.get<double>();
      } else if (key == "max_backoff_ms") {
        o.max_backoff = ms();
      } else if (key == "backoff_jitter") {
        o.backoff_jitter = value.get<double>();
      } else if (key == "max_retry_after_ms") {
        o.max_retry_after = ms();
      } else if (key == "breaker_failures") {
        o.breaker_failures = GetInteger<int>(value);
      } else if (key == "breaker_open_time_ms") {
        o.breaker_open_time = ms();
      } else if (key == "min_time_to_start_ms") {
        o.min_time_to_start = ms();
      } else if (key == "sweep_interval_ms") {
        o.sweep_interval = ms();
      } else if (key == "dedup") {
        o.dedup = value.get<bool>();
      } else if (key == "max_votes") {
        o.max_votes = GetInteger<int>(value);
      } else if (key == "requests_per_minute") {
        o.requests_per_minute = value.get<double>();
      } else if (key == "tokens_per_minute") {
        o.tokens_per_minute = value.get<double>();
      } else if (key == "rate_limit_burst_ms") {
        o.rate_limit_burst = ms();
      } else if (key == "max_queue_delay_ms") {
        o.max_queue_delay = ms();
      } else if (key == "max_batch_size") {
        o.max_batch_size = GetInteger<size_t>(value);
      } else if (key == "hedge_delay_ms") {
        o.hedge_delay = ms();
      } else if (key == "hedge_after_percentile") {
        o.hedge_after_percentile = value.get<double>();
      } else if (key == "max_hedge_ratio") {
        o.max_hedge_ratio = value.get<double>();
      } else if (key == "max_hedge_burst") {
        o.max_hedge_burst = value.get<double>();
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("pool: ", key, ": unknown field"));
      }
    } catch (const nlohmann::json::exception& e) {
      return absl::InvalidArgumentError(
          absl::StrCat("pool: ", key, ": wrong type (", e.what(), ")"));
    } catch (const std::out_of_range& e) {
      return absl::InvalidArgumentError(
          absl::StrCat("pool: ", key, ": ", e.what()));
    }
  }
  if (absl::Status valid = ValidateJudgePoolOptions(o); !valid.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("pool: ", valid.message()));
  }
  return o;
}

namespace {

// The document's fields besides "judges".
struct TopLevel {
  CurlMultiLoop::Options http;
  size_t cache_bytes = 64u << 20;
  std::string default_name;
};

absl::StatusOr<TopLevel> ParseTopLevel(const nlohmann::json& doc,
                                       const std::string& base_dir) {
  TopLevel top;
  CurlMultiLoop::Options& http = top.http;
  // The field being read, so an error names it.
  std::string field;
  try {
    auto integer = [&](const nlohmann::json& obj, const char* name,
                       auto fallback) {
      field = name;
      return obj.contains(name) ? GetInteger<decltype(fallback)>(obj[name])
                                : fallback;
    };
    if (doc.contains("http")) {
      const nlohmann::json& h = doc["http"];
      field = "http";
      http.http2 = h.value("http2", http.http2);
      http.http2_prior_knowledge =
          h.value("http2_prior_knowledge", http.http2_prior_knowledge);
      http.max_host_connections =
          integer(h, "max_host_connections", http.max_host_connections);
      http.max_total_connections =
          integer(h, "max_total_connections", http.max_total_connections);
      http.shards = integer(h, "shards", http.shards);
      if (http.shards < 1 || http.shards > 64) {
        throw std::out_of_range("must be 1 to 64");
      }
      if (h.contains("ca_file")) {
        field = "http.ca_file";
        http.ca_file = h["ca_file"].get<std::string>();
        if (!http.ca_file.empty() && http.ca_file[0] != '/') {
          http.ca_file = base_dir + "/" + http.ca_file;
        }
      }
    }
    top.cache_bytes = integer(doc, "cache_max_bytes", top.cache_bytes);
    field = "default";
    top.default_name = doc.value("default", std::string());
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        "judges config: ", field, ": wrong type (", e.what(), ")"));
  } catch (const std::out_of_range& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("judges config: ", field, ": ", e.what()));
  }
  return top;
}

// One entry of "judges" as a pool on the shared loop and cache; `names`
// collects the names seen so far.
absl::StatusOr<std::shared_ptr<JudgePool>> BuildJudge(
    const nlohmann::json& j, const std::string& base_dir,
    std::shared_ptr<CurlMultiLoop> loop, std::shared_ptr<VerdictCache> cache,
    JudgeMetricFamilies* metrics, absl::flat_hash_set<std::string>& names) {
  if (j.is_object() && j.contains("type")) {
    const std::string type =
        j["type"].is_string() ? j["type"].get<std::string>() : "";
    if (type != "openai" && type != "http") {
      return absl::InvalidArgumentError(
          absl::StrCat("judges config: judge type '", type,
                       "' is not an HTTP judge (use \"openai\")"));
    }
  }
  REWARDD_ASSIGN_OR_RETURN(HttpJudgeConfig config,
                           ParseHttpJudgeConfig(j, base_dir));
  if (!names.insert(config.name).second) {
    return absl::InvalidArgumentError(absl::StrCat(
        "judges config: two judges are named '", config.name, "'"));
  }
  JudgePoolOptions options;
  if (j.contains("pool")) {
    absl::StatusOr<JudgePoolOptions> o = ParseJudgePoolOptions(j["pool"]);
    if (!o.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("judge '", config.name, "': ", o.status().message()));
    }
    options = *o;
  }
  return JudgePool::Create(std::move(config), options, std::move(loop),
                           std::move(cache), metrics);
}

}  // namespace

namespace {

// BuildJudges, also handing back the loop the judges share.
absl::StatusOr<std::vector<std::shared_ptr<Judge>>> BuildJudgesOnLoop(
    const nlohmann::json& doc, const std::string& base_dir,
    JudgeMetricFamilies* metrics, std::shared_ptr<CurlMultiLoop>* loop_out) {
  if (!doc.is_object() || !doc.contains("judges") ||
      !doc["judges"].is_array() || doc["judges"].empty()) {
    return absl::InvalidArgumentError(
        "judges config: needs a non-empty \"judges\" list");
  }
  REWARDD_ASSIGN_OR_RETURN(TopLevel top, ParseTopLevel(doc, base_dir));
  REWARDD_ASSIGN_OR_RETURN(std::shared_ptr<CurlMultiLoop> loop,
                           CurlMultiLoop::Create(top.http));
  std::shared_ptr<VerdictCache> cache =
      top.cache_bytes > 0 ? std::make_shared<VerdictCache>(top.cache_bytes)
                          : nullptr;
  std::vector<std::shared_ptr<Judge>> judges;
  absl::flat_hash_set<std::string> names;
  for (const nlohmann::json& j : doc["judges"]) {
    REWARDD_ASSIGN_OR_RETURN(
        std::shared_ptr<JudgePool> pool,
        BuildJudge(j, base_dir, loop, cache, metrics, names));
    judges.push_back(std::move(pool));
  }
  const std::string& default_name = top.default_name;
  if (!default_name.empty()) {
    auto it = std::find_if(judges.begin(), judges.end(), [&](const auto& j) {
      return j->name() == default_name;
    });
    if (it == judges.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "judges config: default judge '", default_name, "' is not defined"));
    }
    std::rotate(judges.begin(), it, it + 1);
  }
  *loop_out = std::move(loop);
  return judges;
}

}  // namespace

absl::StatusOr<std::vector<std::shared_ptr<Judge>>> BuildJudges(
    const nlohmann::json& doc, const std::string& base_dir,
    JudgeMetricFamilies* metrics) {
  std::shared_ptr<CurlMultiLoop> loop;
  return BuildJudgesOnLoop(doc, base_dir, metrics, &loop);
}

absl::StatusOr<JudgesConfigFile> LoadJudgesConfigFile(
    const std::string& path, JudgeMetricFamilies* metrics) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  // The extension picks the syntax: a YAML file holds the same document.
  nlohmann::json doc;
  if (absl::EndsWithIgnoreCase(path, ".yaml") ||
      absl::EndsWithIgnoreCase(path, ".yml")) {
    absl::StatusOr<nlohmann::json> yaml = YamlToJson(ss.str());
    if (!yaml.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": not valid YAML: ", yaml.status().message()));
    }
    doc = *std::move(yaml);
  } else {
    doc = nlohmann::json::parse(ss.str(), nullptr, false);
    if (doc.is_discarded()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": not valid JSON"));
    }
  }
  const std::string dir = path.find('/') == std::string::npos
                              ? "."
                              : path.substr(0, path.rfind('/'));
  JudgesConfigFile file;
  absl::StatusOr<std::vector<std::shared_ptr<Judge>>> judges =
      BuildJudgesOnLoop(doc, dir, metrics, &file.loop);
  if (!judges.ok()) {
    return absl::Status(judges.status().code(),
                        absl::StrCat(path, ": ", judges.status().message()));
  }
  file.judges = *std::move(judges);
  file.document = std::make_shared<const nlohmann::json>(std::move(doc));
  file.base_dir = dir;
  return file;
}

absl::StatusOr<std::vector<std::shared_ptr<Judge>>> LoadJudgesConfig(
    const std::string& path, JudgeMetricFamilies* metrics) {
  REWARDD_ASSIGN_OR_RETURN(JudgesConfigFile file,
                           LoadJudgesConfigFile(path, metrics));
  return std::move(file.judges);
}

void ShutdownJudges(const std::vector<std::shared_ptr<Judge>>& judges) {
  for (const auto& j : judges) {
    if (auto* pool = dynamic_cast<JudgePool*>(j.get())) pool->Shutdown();
  }
}

}  // namespace rewardd

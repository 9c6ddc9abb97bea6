#include "server/judge/http/http_judge_config.h"

#include <cstdlib>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "server/util/json_integer.h"

namespace rewardd {
namespace {

// Fields rewardd writes itself; extra_body may not override them, so a
// config cannot silently change what the verdict cache keys describe.
constexpr const char* kReservedFields[] = {
    "model",      "messages", "temperature",  "top_p", "seed",
    "max_tokens", "logprobs", "top_logprobs", "n",     "stream"};

std::string Resolve(const std::string& base_dir, const std::string& path) {
  if (path.empty() || path[0] == '/' || base_dir.empty()) return path;
  return base_dir + "/" + path;
}

// The field setters of ParseHttpJudgeConfig, one per group of fields: true
// when `key` is theirs and was set, false when it is not theirs, an error
// (the message only: the caller names the judge and field) when the value
// is bad. nlohmann's exceptions for values of the wrong type propagate.

// A bad value; the caller adds the judge's name and the field.
absl::Status Bad(absl::string_view what) {
  return absl::InvalidArgumentError(what);
}

// What goes into the request body, and where it is sent.
absl::StatusOr<bool> SetRequestField(const std::string& key,
                                     const nlohmann::json& value,
                                     HttpJudgeConfig& c) {
  if (key == "replicas") {
    if (!value.is_array()) return Bad("must be a list of base URLs");
    for (const auto& r : value) {
      std::string url = r.get<std::string>();
      while (!url.empty() && url.back() == '/') url.pop_back();
      if (!absl::StartsWith(url, "http://") &&
          !absl::StartsWith(url, "https://")) {
        return Bad(absl::StrCat("'", url, "' is not an http(s) URL"));
      }
      c.replicas.push_back(std::move(url));
    }
  } else if (key == "model") {
    c.model = value.get<std::string>();
  } else if (key == "mode") {
    absl::StatusOr<GradingMode> m =
        ParseGradingModeName(value.get<std::string>());
    if (!m.ok()) return Bad(m.status().message());
    c.default_mode = *m;
  } else if (key == "temperature") {
    c.temperature = value.get<double>();
    if (c.temperature < 0 || c.temperature > 2) return Bad("must be in [0, 2]");
  } else if (key == "seed") {
    c.seed = GetInteger<int64_t>(value);
  } else if (key == "top_p") {
    c.top_p = value.get<double>();
  } else if (key == "max_tokens") {
    c.max_tokens = GetInteger<int64_t>(value);
    if (*c.max_tokens <= 0) return Bad("must be positive");
  } else if (key == "extra_body") {
    if (!value.is_object()) return Bad("must be an object");
    for (const char* reserved : kReservedFields) {
      if (value.contains(reserved)) {
        return Bad(absl::StrCat("may not set \"", reserved,
                                "\" (use the judge field)"));
      }
    }
    c.extra_body_json = value.dump();
  } else if (key == "logprobs") {
    c.logprobs = value.get<bool>();
  } else if (key == "top_logprobs") {
    c.top_logprobs = GetInteger<int>(value);
    if (c.top_logprobs < 0 || c.top_logprobs > 20) {
      return Bad("must be in [0, 20]");
    }
  } else {
    return false;
  }
  return true;
}

// How one call is made and retried: credentials, limits, templates.
absl::StatusOr<bool> SetCallField(const std::string& key,
                                  const nlohmann::json& value,
                                  const std::string& base_dir,
                                  HttpJudgeConfig& c) {
  if (key == "api_key_env") {
    c.api_key_env = value.get<std::string>();
  } else if (key == "api_key_file") {
    c.api_key_file = Resolve(base_dir, value.get<std::string>());
  } else if (key == "timeout_ms") {
    c.timeout = absl::Milliseconds(GetInteger<int64_t>(value));
    if (c.timeout <= absl::ZeroDuration()) return Bad("must be positive");
  } else if (key == "max_reply_bytes") {
    c.max_reply_bytes = GetInteger<int64_t>(value);
    if (c.max_reply_bytes < 1) return Bad("must be positive");
  } else if (key == "parse_retries") {
    c.parse_retries = GetInteger<int>(value);
    if (c.parse_retries < 0) return Bad("must be >= 0");
  } else if (key == "parse_retry_temperature_step") {
    c.parse_retry_temperature_step = value.get<double>();
  } else if (key == "length_retries") {
    c.length_retries = GetInteger<int>(value);
    if (c.length_retries < 0) return Bad("must be >= 0");
  } else if (key == "length_retry_tokens") {
    c.length_retry_tokens = GetInteger<int64_t>(value);
  } else if (key == "templates_file") {
    c.templates_file = Resolve(base_dir, value.get<std::string>());
  } else {
    return false;
  }
  return true;
}

// Votes: samples per grading and how they become one verdict.
absl::StatusOr<bool> SetVoteField(const std::string& key,
                                  const nlohmann::json& value,
                                  HttpJudgeConfig& c) {
  if (key == "votes") {
    c.votes = GetInteger<int>(value);
    if (c.votes < 1) return Bad("must be >= 1");
  } else if (key == "vote_aggregation") {
    const std::string how = value.get<std::string>();
    if (how == "majority") {
      c.vote_aggregation = VoteAggregation::kMajority;
    } else if (how == "mean") {
      c.vote_aggregation = VoteAggregation::kMean;
    } else {
      return Bad("must be \"majority\" or \"mean\"");
    }
  } else if (key == "vote_temperature") {
    c.vote_temperature = value.get<double>();
    if (c.vote_temperature <= 0 || c.vote_temperature > 2) {
      return Bad("must be in (0, 2]: samples at 0 would not differ");
    }
  } else if (key == "vote_via_n") {
    c.vote_via_n = value.get<bool>();
  } else {
    return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<GradingMode> ParseGradingModeName(absl::string_view name) {
  if (name == "all_in_one") return GradingMode::kAllInOne;
  if (name == "per_criterion") return GradingMode::kPerCriterion;
  if (name == "chunked") return GradingMode::kChunked;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown grading mode '", name,
                   "' (all_in_one, per_criterion, chunked)"));
}

absl::StatusOr<HttpJudgeConfig> ParseHttpJudgeConfig(
    const nlohmann::json& j, const std::string& base_dir) {
  HttpJudgeConfig c;
  if (!j.is_object())
    return absl::InvalidArgumentError("a judge must be an object");
  const std::string name = j.contains("name") && j["name"].is_string()
                               ? j["name"].get<std::string>()
                               : "";
  auto err = [&](absl::string_view field, absl::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat("judge '", name, "': ", field, ": ", what));
  };
  if (name.empty())
    return absl::InvalidArgumentError("a judge needs a \"name\"");
  c.name = name;
  for (const auto& [key, value] : j.items()) {
    // "type" and "pool" belong to the judge pool's reader.
    if (key == "name" || key == "type" || key == "pool") continue;
    absl::StatusOr<bool> known = false;
    try {
      known = SetRequestField(key, value, c);
      if (known.ok() && !*known) known = SetCallField(key, value, base_dir, c);
      if (known.ok() && !*known) known = SetVoteField(key, value, c);
    } catch (const nlohmann::json::exception& e) {
      return err(key, absl::StrCat("wrong type (", e.what(), ")"));
    } catch (const std::out_of_range& e) {
      return err(key, e.what());
    }
    if (!known.ok()) return err(key, known.status().message());
    if (!*known) return err(key, "unknown field");
  }
  if (c.replicas.empty()) return err("replicas", "needs at least one base URL");
  if (c.model.empty()) return err("model", "is required");
  return c;
}

absl::StatusOr<std::string> ResolveApiKey(const HttpJudgeConfig& config) {
  if (!config.api_key_env.empty()) {
    const char* v = std::getenv(config.api_key_env.c_str());
    if (v == nullptr || *v == '\0') {
      return absl::FailedPreconditionError(
          absl::StrCat("judge '", config.name, "': environment variable ",
                       config.api_key_env, " (api_key_env) is not set"));
    }
    return std::string(v);
  }
  if (!config.api_key_file.empty()) {
    std::ifstream in(config.api_key_file);
    std::string line;
    if (!in || !std::getline(in, line)) {
      return absl::FailedPreconditionError(
          absl::StrCat("judge '", config.name, "': cannot read api_key_file ",
                       config.api_key_file));
    }
    return std::string(absl::StripAsciiWhitespace(line));
  }
  return std::string();
}

}  // namespace rewardd

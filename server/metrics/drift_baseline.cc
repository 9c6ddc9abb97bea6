#include "server/metrics/drift_baseline.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace rewardd {
namespace {

constexpr char kFormat[] = "rewardd-drift-baseline";
constexpr int kVersion = 1;

}  // namespace

absl::StatusOr<DriftBaseline> LoadDriftBaseline(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) {
      return absl::NotFoundError(absl::StrCat(path, ": no such file"));
    }
    return absl::UnavailableError(
        absl::StrCat(path, ": ", std::strerror(errno)));
  }
  std::stringstream content;
  content << in.rdbuf();
  nlohmann::json doc = nlohmann::json::parse(content.str(), nullptr,
                                             /*allow_exceptions=*/false);
  auto bad = [&](absl::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a drift baseline file: ", what));
  };
  if (doc.is_discarded() || !doc.is_object()) return bad("not a JSON object");
  if (doc.value("format", "") != kFormat) {
    return bad(absl::StrCat("\"format\" must be \"", kFormat, "\""));
  }
  if (!doc.contains("version") || !doc["version"].is_number_integer() ||
      doc["version"].get<int>() != kVersion) {
    return bad(absl::StrCat("\"version\" must be ", kVersion));
  }
  DriftBaseline baseline;
  if (doc.contains("source") && doc["source"].is_string()) {
    baseline.source = doc["source"].get<std::string>();
  }
  if (doc.contains("saved_at_unix") && doc["saved_at_unix"].is_number()) {
    baseline.saved_at_unix = doc["saved_at_unix"].get<int64_t>();
  }
  if (!doc.contains("sets") || !doc["sets"].is_object()) {
    return bad("\"sets\" must be an object of rubric set -> rewards");
  }
  for (const auto& [name, rewards] : doc["sets"].items()) {
    if (!rewards.is_array() || rewards.empty()) {
      return bad(absl::StrCat("sets.", name, " must be a non-empty array"));
    }
    std::vector<double>& out = baseline.sets[name];
    out.reserve(rewards.size());
    for (const nlohmann::json& r : rewards) {
      if (!r.is_number() || !std::isfinite(r.get<double>())) {
        return bad(absl::StrCat("sets.", name, " holds a non-number"));
      }
      out.push_back(r.get<double>());
    }
  }
  return baseline;
}

absl::Status SaveDriftBaseline(const std::string& path,
                               const DriftBaseline& baseline) {
  nlohmann::json doc = {{"format", kFormat},
                        {"version", kVersion},
                        {"saved_at_unix", baseline.saved_at_unix},
                        {"source", baseline.source},
                        {"sets", nlohmann::json::object()}};
  for (const auto& [name, rewards] : baseline.sets) {
    doc["sets"][name] = rewards;
  }
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      return absl::UnavailableError(
          absl::StrCat(tmp, ": ", std::strerror(errno)));
    }
    out << doc.dump() << "\n";
    out.flush();
    if (!out) {
      return absl::UnavailableError(absl::StrCat(tmp, ": write failed"));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    return absl::UnavailableError(
        absl::StrCat("rename to ", path, ": ", std::strerror(err)));
  }
  return absl::OkStatus();
}

}  // namespace rewardd

#include "client/cli/saturated_command.h"

#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "client/cli/cli_flags.h"
#include "client/cli/tail_log_flags.h"
#include "nlohmann/json.hpp"

ABSL_FLAG(int, limit, 0,
          "saturated: at most this many rubrics (0 = the server's 20; at most "
          "1000).");

namespace rewardd::cli {
namespace {

namespace pb = reward::v1;
using Json = nlohmann::json;

// Counts stay JSON numbers (proto JSON would print the uint64 counts as
// strings), so scripts can compare them directly.
Json ToJson(const pb::ListSaturatedRubricsResponse& response) {
  Json rubrics = Json::array();
  for (const pb::SaturatedRubric& r : response.rubrics()) {
    rubrics.push_back({{"rubric_set", r.rubric_set()},
                       {"rubric_id", r.rubric_id()},
                       {"rubric_version", r.rubric_version()},
                       {"set_version", r.set_version()},
                       {"saturated_groups", r.saturated_groups()},
                       {"groups", r.groups()},
                       {"last_saturated_unix", r.last_saturated_unix()},
                       {"score", r.score()}});
  }
  return {{"rubrics", rubrics}};
}

std::string LastSaturated(double unix_seconds) {
  if (unix_seconds <= 0) return "-";
  return absl::FormatTime(
      "%Y-%m-%dT%H:%M:%SZ",
      absl::FromUnixSeconds(static_cast<int64_t>(unix_seconds)),
      absl::UTCTimeZone());
}

void PrintTable(const pb::ListSaturatedRubricsResponse& response) {
  absl::PrintF("%-20s %-24s %10s %8s %6s %8s  %-20s %-16s %s\n", "RUBRIC SET",
               "RUBRIC", "SATURATED", "GROUPS", "SHARE", "SCORE",
               "LAST SATURATED", "RUBRIC VERSION", "SET VERSION");
  for (const pb::SaturatedRubric& r : response.rubrics()) {
    const double share =
        r.groups() > 0 ? static_cast<double>(r.saturated_groups()) / r.groups()
                       : 0;
    absl::PrintF("%-20s %-24s %10d %8d %6.2f %8.2f  %-20s %-16s %s\n",
                 r.rubric_set(), r.rubric_id(), r.saturated_groups(),
                 r.groups(), share, r.score(),
                 LastSaturated(r.last_saturated_unix()), r.rubric_version(),
                 r.set_version());
  }
}

int Saturated(CommandContext& context) {
  const int limit = absl::GetFlag(FLAGS_limit);
  if (limit < 0 || limit > 1000) {
    PrintError("saturated: --limit must be 0..1000");
    return 2;
  }
  absl::StatusOr<pb::ListSaturatedRubricsResponse> response =
      context.client.ListSaturatedRubrics(absl::GetFlag(FLAGS_rubric_set),
                                          static_cast<uint32_t>(limit));
  if (!response.ok()) {
    PrintError(response.status().ToString());
    return 1;
  }
  if (absl::GetFlag(FLAGS_json)) {
    std::fputs((ToJson(*response).dump(2) + "\n").c_str(), stdout);
    return 0;
  }
  PrintTable(*response);
  if (response->rubrics().empty()) {
    std::fputs("reward-cli: no rubric saturated since the server started\n",
               stderr);
  }
  return 0;
}

}  // namespace

const Command kSaturatedCommand = {
    "saturated",
    R"(  saturated  The rubrics whose GradeGroup calls tied at the maximum
          reward most recently (highest decayed score first): set,
          rubric, saturated groups, groups graded since it first
          saturated, their share, score, when it last saturated,
          versions. Per server process, empty after a restart.
            reward-cli saturated [--rubric_set=S] [--limit=N] [--json]
          Exit codes: 0 ok (also when none saturated); 1 the call failed;
          2 bad usage.)",
    /*takes_args=*/false, Saturated};

}  // namespace rewardd::cli

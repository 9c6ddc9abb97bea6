#include "client/cli/list_command.h"

#include <google/protobuf/util/json_util.h>

#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/cli/cli_flags.h"

namespace rewardd::cli {
namespace {

int List(CommandContext& context) {
  absl::StatusOr<reward::v1::ListRubricSetsResponse> sets =
      context.client.ListRubricSets();
  if (!sets.ok()) {
    PrintError(sets.status().ToString());
    return 1;
  }
  if (absl::GetFlag(FLAGS_json)) {
    std::string json;
    google::protobuf::util::JsonPrintOptions print;
    print.preserve_proto_field_names = true;
    print.add_whitespace = true;
    (void)google::protobuf::util::MessageToJsonString(*sets, &json, print);
    std::fputs(json.c_str(), stdout);
    return 0;
  }
  std::printf("%-24s %-16s %8s %9s  %-16s %-19s %s\n", "NAME", "FORMAT",
              "RUBRICS", "CRITERIA", "VERSION", "LOADED", "DERIVED FROM");
  for (const reward::v1::RubricSetInfo& s : sets->sets()) {
    std::string loaded =
        s.loaded_at_unix() > 0
            ? absl::FormatTime("%Y-%m-%d %H:%M:%S",
                               absl::FromUnixSeconds(s.loaded_at_unix()),
                               absl::LocalTimeZone())
            : std::string("-");
    std::string derived = "-";
    if (!s.derived_from().empty()) {
      derived = s.derived_from();
      if (!s.derived_from_version().empty()) {
        absl::StrAppend(&derived, "@", s.derived_from_version());
      }
    }
    std::printf("%-24s %-16s %8u %9u  %-16s %-19s %s\n", s.name().c_str(),
                s.format().c_str(), s.rubric_count(), s.criterion_count(),
                s.version().c_str(), loaded.c_str(), derived.c_str());
  }
  return 0;
}

}  // namespace

const Command kListCommand = {
    "list",
    R"(  list    The rubric sets loaded on the server (name, format, rubrics,
          criteria, version, and for refined sets the set they were derived
          from); --json for JSON. Exit code 1 when the call fails.)",
    /*takes_args=*/false, List};

}  // namespace rewardd::cli

#include "client/cli/get_command.h"

#include <google/protobuf/util/json_util.h>

#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "client/cli/cli_flags.h"

ABSL_FLAG(std::string, set, "", "get: the rubric set.");
ABSL_FLAG(std::string, id, "", "get: the rubric id within --set.");

namespace rewardd::cli {
namespace {

int Get(CommandContext& context) {
  const std::string set = absl::GetFlag(FLAGS_set);
  const std::string id = absl::GetFlag(FLAGS_id);
  if (set.empty() || id.empty()) {
    PrintError("get needs --set and --id");
    return 2;
  }
  absl::StatusOr<reward::v1::GetRubricResponse> rubric =
      context.client.GetRubric(set, id);
  if (!rubric.ok()) {
    PrintError(rubric.status().ToString());
    return 1;
  }
  std::string json;
  google::protobuf::util::JsonPrintOptions print;
  print.preserve_proto_field_names = true;
  print.add_whitespace = true;
  (void)google::protobuf::util::MessageToJsonString(*rubric, &json, print);
  std::fputs(json.c_str(), stdout);
  return 0;
}

}  // namespace

const Command kGetCommand = {
    "get",
    R"(  get     One rubric as JSON (with its lineage, for refined sets):
            reward-cli get --set=NAME --id=RUBRIC_ID)",
    /*takes_args=*/false, Get};

}  // namespace rewardd::cli

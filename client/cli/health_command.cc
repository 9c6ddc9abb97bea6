#include "client/cli/health_command.h"

#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "client/cli/cli_flags.h"

ABSL_FLAG(std::string, service, "",
          "health: the service to check: '' (the whole server) or "
          "reward.v1.RewardService.");

namespace rewardd::cli {
namespace {

int Health(CommandContext& context) {
  using grpc::health::v1::HealthCheckResponse;
  absl::StatusOr<HealthCheckResponse::ServingStatus> status =
      context.client.Health(absl::GetFlag(FLAGS_service));
  if (!status.ok()) {
    PrintError(status.status().ToString());
    return 1;
  }
  std::printf("%s\n", HealthCheckResponse::ServingStatus_Name(*status).c_str());
  return *status == HealthCheckResponse::SERVING ? 0 : 1;
}

}  // namespace

const Command kHealthCommand = {
    "health",
    R"(  health  Prints SERVING / NOT_SERVING / ...; exit code 0 only if SERVING.)",
    /*takes_args=*/false, Health};

}  // namespace rewardd::cli

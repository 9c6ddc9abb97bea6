// reward-cli health: the server's grpc.health.v1 status.
//
// Exit codes: 0 SERVING; 1 anything else or the RPC failed.
#ifndef REWARDD_CLIENT_CLI_HEALTH_COMMAND_H_
#define REWARDD_CLIENT_CLI_HEALTH_COMMAND_H_

#include "client/cli/command.h"

namespace rewardd::cli {

extern const Command kHealthCommand;

}  // namespace rewardd::cli

#endif  // REWARDD_CLIENT_CLI_HEALTH_COMMAND_H_

// reward-cli get: one rubric as JSON, with its lineage when its file has one.
//
// Exit codes: 0 success; 1 the RPC failed; 2 --set or --id missing.
#ifndef REWARDD_CLIENT_CLI_GET_COMMAND_H_
#define REWARDD_CLIENT_CLI_GET_COMMAND_H_

#include "client/cli/command.h"

namespace rewardd::cli {

extern const Command kGetCommand;

}  // namespace rewardd::cli

#endif  // REWARDD_CLIENT_CLI_GET_COMMAND_H_

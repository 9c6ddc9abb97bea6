// reward-cli list: the rubric sets loaded on the server, as a table or JSON
// (with --json), including the set a refined set was derived from.
//
// Exit codes: 0 success; 1 the RPC failed.
#ifndef REWARDD_CLIENT_CLI_LIST_COMMAND_H_
#define REWARDD_CLIENT_CLI_LIST_COMMAND_H_

#include "client/cli/command.h"

namespace rewardd::cli {

extern const Command kListCommand;

}  // namespace rewardd::cli

#endif  // REWARDD_CLIENT_CLI_LIST_COMMAND_H_

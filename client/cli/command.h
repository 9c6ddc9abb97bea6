// Command: one reward-cli subcommand (grade, list, refine, ...). reward_cli.cc
// holds the table of commands; each command lives in its own file and
// exports a `const Command k<Name>Command`. Adding a command is one new file
// plus one row of that table.
//
//   extern const Command kListCommand;
//   int code = kListCommand.run(context);
//
// Thread-safety: a Command is a constant; `run` is called once, on the main
// thread.
#ifndef REWARDD_CLIENT_CLI_COMMAND_H_
#define REWARDD_CLIENT_CLI_COMMAND_H_

#include <string>
#include <vector>

#include "client/reward_client.h"

namespace rewardd::cli {

struct CommandContext {
  RewardClient& client;
  // Positional arguments after the command name (usually none).
  std::vector<std::string> args;
};

struct Command {
  const char* name;
  // Lines of `reward-cli --help` describing the command (indented by two
  // spaces, starting with the name).
  const char* usage;
  // Whether positional arguments after the name are allowed (the command
  // checks them); otherwise they are a usage error.
  bool takes_args;
  // Returns the process exit code (each command documents its codes).
  int (*run)(CommandContext& context);
};

}  // namespace rewardd::cli

#endif  // REWARDD_CLIENT_CLI_COMMAND_H_

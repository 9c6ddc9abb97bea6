// reward-cli grade: grades a JSONL file of requests (client/jsonl_grader.h)
// and writes one JSON result per line.
//
// Exit codes: 0 success; 1 some lines failed; 2 bad usage or a file that
// cannot be read or written.
#ifndef REWARDD_CLIENT_CLI_GRADE_COMMAND_H_
#define REWARDD_CLIENT_CLI_GRADE_COMMAND_H_

#include "client/cli/command.h"

namespace rewardd::cli {

extern const Command kGradeCommand;

}  // namespace rewardd::cli

#endif  // REWARDD_CLIENT_CLI_GRADE_COMMAND_H_

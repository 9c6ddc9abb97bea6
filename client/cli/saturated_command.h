// reward-cli saturated: the rubrics whose GradeGroup calls tied at the
// maximum reward most recently (rewardd's ListSaturatedRubrics), as a table
// or JSON (with --json), optionally for one --rubric_set. The first step of
// the tail runbook (docs/observability.md, "RewarddRubricSetSaturated"):
// which rubrics to refine from the tail log.
//
//   reward-cli saturated --target=rewardd:50051 [--rubric_set=hb] [--limit=20]
//
// Exit codes: 0 success (also when nothing saturated); 1 the RPC failed;
// 2 bad usage.
#ifndef REWARDD_CLIENT_CLI_SATURATED_COMMAND_H_
#define REWARDD_CLIENT_CLI_SATURATED_COMMAND_H_

#include "client/cli/command.h"

namespace rewardd::cli {

extern const Command kSaturatedCommand;

}  // namespace rewardd::cli

#endif  // REWARDD_CLIENT_CLI_SATURATED_COMMAND_H_

// reward-cli generate: an initial rubric per prompt (GenerateRubric) for
// every record of an input file ({id, prompt | messages, optional
// reference_responses: [str]}, JSON list or JSONL), written as a rubric set
// file in rewardd's format with each rubric's provenance as its lineage.
// Bounded concurrency; the file is rewritten atomically as rubrics arrive;
// ids already in the output are skipped (resume).
//
// Exit codes (elicitation_common.h): 0 every prompt has a rubric; 1 bad
// usage or input; 2 the server cannot be reached or the output cannot be
// written; 3 some generations failed (each printed with its reason).
#ifndef REWARDD_CLIENT_CLI_GENERATE_COMMAND_H_
#define REWARDD_CLIENT_CLI_GENERATE_COMMAND_H_

#include "client/cli/command.h"

namespace rewardd::cli {

extern const Command kGenerateCommand;

}  // namespace rewardd::cli

#endif  // REWARDD_CLIENT_CLI_GENERATE_COMMAND_H_

// reward-cli refine: Refinement-through-Differentiation for every prompt of
// an input file (refine_input.h), with bounded concurrency (one
// RefineRubric stream per prompt in flight), a progress bar and resume.
// Writes (a) a rubric set file in rewardd's format, loadable by
// `rewardd --rubric_dir` as is, each rubric with its lineage, and (b) a
// JSONL report with one line per prompt (refinement_recorder.h). Both are
// rewritten atomically as prompts complete; a rerun skips the ids reported
// "refined" or "unchanged" and does the others again. Nothing is dropped: a prompt whose
// refinement failed keeps its starting rubric and says why.
//
// Exit codes (elicitation_common.h): 0 every prompt refined or unchanged;
// 1 bad usage or input; 2 the server cannot be reached or an output cannot
// be written; 3 some prompts failed or had proposals rejected.
#ifndef REWARDD_CLIENT_CLI_REFINE_COMMAND_H_
#define REWARDD_CLIENT_CLI_REFINE_COMMAND_H_

#include "client/cli/command.h"

namespace rewardd::cli {

extern const Command kRefineCommand;

}  // namespace rewardd::cli

#endif  // REWARDD_CLIENT_CLI_REFINE_COMMAND_H_

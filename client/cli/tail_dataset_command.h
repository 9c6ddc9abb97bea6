// `reward-cli tail-dataset`: the tail log's saturated groups as a refinement
// dataset (refine input, one record per rubric) and as eval groups, both
// written atomically (docs/rubric-refinement.md, "From the tail log back to
// refinement").
//
//   reward-cli tail-dataset --tail_log_dir=DIR --refine_out=refine.jsonl
//       --groups_out=groups.jsonl [--rubric_set=S]
//
// Thread-safety: run from main() after flags are parsed.
#ifndef REWARDD_CLIENT_CLI_TAIL_DATASET_COMMAND_H_
#define REWARDD_CLIENT_CLI_TAIL_DATASET_COMMAND_H_

namespace rewardd::cli {

// The command's lines in `reward-cli --help`.
inline constexpr char kTailDatasetUsage[] =
    R"(  tail-dataset  The tail log's saturated groups as refine input and
          eval groups (no server needed):
            reward-cli tail-dataset --tail_log_dir=DIR \
                --refine_out=refine.jsonl --groups_out=groups.jsonl \
                [--rubric_set=S] [--max_responses_per_rubric=16]
          Exit codes: 0 written; 1 no saturated group of the set (nothing
          written); 2 bad usage or a file that cannot be read or written.
)";

// Exit code: 0 written; 1 the log holds no saturated group of the set
// (nothing written); 2 bad usage or a file that cannot be read or written.
int RunTailDatasetCommand();

}  // namespace rewardd::cli

#endif  // REWARDD_CLIENT_CLI_TAIL_DATASET_COMMAND_H_

#include "client/cli/generate_command.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "client/cli/cli_flags.h"
#include "client/cli/elicitation_common.h"
#include "client/cli/json_records.h"
#include "client/cli/keyed_record_file.h"
#include "client/cli/parallel_for.h"
#include "client/cli/rubric_json.h"
#include "client/progress.h"
#include "server/util/status_macros.h"

namespace rewardd::cli {
namespace {

namespace pb = reward::v1;
using Json = nlohmann::json;

absl::StatusOr<std::vector<pb::GenerateRubricRequest>> ParseInput(
    const std::vector<JsonRecord>& records) {
  std::vector<pb::GenerateRubricRequest> out;
  absl::flat_hash_set<std::string> ids;
  const pb::ProposerOptions options = ProposerOptionsFromFlags();
  for (const JsonRecord& record : records) {
    pb::GenerateRubricRequest r;
    REWARDD_ASSIGN_OR_RETURN(std::string id, RecordId(record));
    if (!ids.insert(id).second) {
      return RecordError(record, absl::StrCat("duplicate id '", id, "'"));
    }
    r.set_rubric_id(id);
    REWARDD_RETURN_IF_ERROR(
        PromptFromRecord(record, r.mutable_prompt(), r.mutable_messages()));
    REWARDD_ASSIGN_OR_RETURN(
        std::vector<std::string> refs,
        StringListField(record, "reference_responses", /*required=*/false));
    for (std::string& ref : refs) r.add_reference_responses(std::move(ref));
    *r.mutable_options() = options;
    out.push_back(std::move(r));
  }
  return out;
}

// Shared by the workers: the set being written and what went wrong.
struct GenerateRun {
  absl::Mutex mu;
  KeyedRecordFile* set;
  ProgressBar* progress = nullptr;
  int failed ABSL_GUARDED_BY(mu) = 0;
  absl::Status write_error ABSL_GUARDED_BY(mu);
  absl::Status run_wide ABSL_GUARDED_BY(mu);
  std::atomic<bool> stop{false};
};

void GenerateOne(RewardClient& client, const pb::GenerateRubricRequest& r,
                 GenerateRun& run) {
  absl::StatusOr<pb::GenerateRubricResponse> g =
      client.GenerateRubric(r, RubricCallDeadline());
  absl::MutexLock lock(&run.mu);
  if (run.progress != nullptr) run.progress->Add(1, g.ok() ? 0 : 1);
  if (!g.ok()) {
    if (IsRunWideError(g.status())) {
      run.run_wide = absl::Status(
          g.status().code(),
          absl::StrCat("id '", r.rubric_id(), "': ", g.status().message()));
      run.stop = true;
      return;
    }
    ++run.failed;
    PrintError(absl::StrCat(r.rubric_id(), ": ", g.status().ToString()));
    return;
  }
  Json record = RubricRecordJson(g->rubric(), r.prompt(), r.messages());
  record["lineage"] = Json::array({VersionInfoJson(g->provenance(), {})});
  if (g->warnings_size() > 0) {
    record["warnings"] =
        std::vector<std::string>(g->warnings().begin(), g->warnings().end());
  }
  run.set->Put(std::move(record));
  if (absl::Status s = run.set->Write(); !s.ok() && run.write_error.ok()) {
    run.write_error = s;
    run.stop = true;
  }
}

int Generate(CommandContext& context) {
  const std::string output = absl::GetFlag(FLAGS_output);
  if (output.empty() || output == "-") {
    PrintError("generate needs --output=FILE (the rubric set written)");
    return kExitInput;
  }
  const std::string input = absl::GetFlag(FLAGS_input);
  absl::StatusOr<std::vector<JsonRecord>> records = ReadJsonRecords(input);
  absl::StatusOr<std::vector<pb::GenerateRubricRequest>> requests =
      records.ok() ? ParseInput(*records) : records.status();
  absl::StatusOr<KeyedRecordFile> set =
      requests.ok()
          ? KeyedRecordFile::Open(output, KeyedRecordFile::Layout::kRubricSet)
          : requests.status();
  if (!set.ok()) {
    PrintError(std::string(set.status().message()));
    return kExitInput;
  }
  std::vector<const pb::GenerateRubricRequest*> todo;
  for (const pb::GenerateRubricRequest& r : *requests) {
    if (!set->Has(r.rubric_id())) todo.push_back(&r);
  }
  if (todo.size() < requests->size()) {
    std::fprintf(stderr, "reward-cli: %zu of %zu prompts already in %s\n",
                 requests->size() - todo.size(), requests->size(),
                 output.c_str());
  }
  if (todo.empty()) return kExitOk;
  if (int code = CheckReachable(context.client); code != kExitOk) return code;
  const size_t slash = input.rfind('/');
  set->set_provenance(
      {{"produced_by", "reward-cli generate"},
       {"derived_from",
        slash == std::string::npos ? input : input.substr(slash + 1)},
       {"updated", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(),
                                    absl::UTCTimeZone())}});
  std::unique_ptr<ProgressBar> progress;
  if (ShowProgress()) {
    progress = std::make_unique<ProgressBar>(todo.size());
    progress->Start();
  }
  GenerateRun run;
  run.set = &*set;
  run.progress = progress.get();
  ParallelFor(
      todo.size(), absl::GetFlag(FLAGS_concurrency),
      [&](size_t i) { GenerateOne(context.client, *todo[i], run); }, &run.stop);
  if (progress != nullptr) progress->Stop();
  absl::MutexLock lock(&run.mu);
  if (!run.run_wide.ok()) {
    PrintError(absl::StrCat("stopped: ", run.run_wide.ToString()));
    return kExitInput;
  }
  if (!run.write_error.ok()) {
    PrintError(run.write_error.ToString());
    return kExitUnreachable;
  }
  std::fprintf(
      stderr, "reward-cli: %zu prompts: %zu rubrics, %d failed -> %s\n",
      todo.size(), todo.size() - run.failed, run.failed, output.c_str());
  return run.failed > 0 ? kExitPartial : kExitOk;
}

}  // namespace

const Command kGenerateCommand = {
    "generate",
    R"(  generate  Write an initial rubric per prompt (GenerateRubric):
            reward-cli generate --input=prompts.jsonl \
                --output=initial.rewardd.json [--proposer=NAME] \
                [--max_criteria=N] [--concurrency=16]
          Input: {id, prompt | messages, optional reference_responses}.
          Ids already in --output are skipped. Exit codes: 0 ok; 1 bad
          usage or input; 2 server unreachable or output not writable;
          3 some generations failed.)",
    /*takes_args=*/false, Generate};

}  // namespace rewardd::cli

#include "client/cli/eval_rubrics_command.h"

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "client/cli/atomic_file.h"
#include "client/cli/cli_flags.h"
#include "client/cli/elicitation_common.h"
#include "client/cli/eval_metrics.h"
#include "client/cli/json_records.h"
#include "client/cli/parallel_for.h"
#include "server/util/status_macros.h"

ABSL_FLAG(std::string, pairs, "",
          "eval-rubrics: JSONL of preference pairs {prompt | messages | "
          "rubric_id, chosen, rejected}.");
ABSL_FLAG(std::string, groups, "",
          "eval-rubrics: JSONL of groups {id, rubric_id, prompt | messages, "
          "responses}.");
ABSL_FLAG(std::string, sets, "",
          "eval-rubrics: comma-separated rubric sets to compare (the first "
          "defines the top-quartile pairs).");
ABSL_FLAG(std::string, json_out, "",
          "eval-rubrics: write the results as JSON to this file (same as "
          "`--json FILE`).");

namespace rewardd::cli {
namespace {

namespace pb = reward::v1;
using Json = nlohmann::json;

// One pair or group: what GradeGroup needs besides the set.
struct EvalItem {
  pb::GradeGroupRequest request;  // rubric_id, prompt/messages, responses
};

absl::StatusOr<EvalItem> ParseItem(const JsonRecord& record, bool pair,
                                   const pb::GradeOptions& options) {
  EvalItem item;
  pb::GradeGroupRequest& r = item.request;
  REWARDD_ASSIGN_OR_RETURN(*r.mutable_rubric_id(),
                           OptionalStringField(record, "rubric_id"));
  const bool has_prompt =
      record.value.contains("prompt") || record.value.contains("messages");
  if (has_prompt) {
    REWARDD_RETURN_IF_ERROR(
        PromptFromRecord(record, r.mutable_prompt(), r.mutable_messages()));
  } else if (r.rubric_id().empty()) {
    return RecordError(record,
                       "give \"rubric_id\" or \"prompt\" to find "
                       "the rubric in each set");
  }
  if (pair) {
    for (const char* key : {"chosen", "rejected"}) {
      REWARDD_ASSIGN_OR_RETURN(std::string text,
                               OptionalStringField(record, key));
      if (text.empty()) {
        return RecordError(record,
                           absl::StrCat("missing or empty \"", key, "\""));
      }
      r.add_responses(std::move(text));
    }
  } else {
    REWARDD_ASSIGN_OR_RETURN(
        std::vector<std::string> responses,
        StringListField(record, "responses", /*required=*/true));
    if (responses.size() < 2) {
      return RecordError(record, "responses: need at least 2");
    }
    for (std::string& text : responses) r.add_responses(std::move(text));
  }
  *r.mutable_options() = options;
  return item;
}

absl::StatusOr<std::vector<EvalItem>> ReadItems(
    const std::string& path, bool pair, const pb::GradeOptions& options) {
  REWARDD_ASSIGN_OR_RETURN(std::vector<JsonRecord> records,
                           ReadJsonRecords(path));
  std::vector<EvalItem> items;
  for (const JsonRecord& record : records) {
    REWARDD_ASSIGN_OR_RETURN(EvalItem item, ParseItem(record, pair, options));
    items.push_back(std::move(item));
  }
  return items;
}

// Grades every item with every set: out[s][i].
std::vector<std::vector<absl::StatusOr<pb::GradeGroupResponse>>> GradeAll(
    RewardClient& client, const std::vector<std::string>& sets,
    const std::vector<EvalItem>& items) {
  std::vector<std::vector<absl::StatusOr<pb::GradeGroupResponse>>> out(
      sets.size(), std::vector<absl::StatusOr<pb::GradeGroupResponse>>(
                       items.size(), absl::UnknownError("not graded")));
  ParallelFor(sets.size() * items.size(), absl::GetFlag(FLAGS_concurrency),
              [&](size_t k) {
                const size_t s = k / items.size();
                const size_t i = k % items.size();
                pb::GradeGroupRequest request = items[i].request;
                request.set_rubric_set(sets[s]);
                request.set_request_id(absl::StrCat("eval-", s, "-", i));
                out[s][i] = client.GradeGroup(request);
              });
  return out;
}

std::optional<double> ValidReward(const pb::GradeResponse& r) {
  if (!r.valid() || r.has_error()) return std::nullopt;
  return r.reward();
}

std::vector<PairOutcome> PairOutcomes(
    const std::vector<absl::StatusOr<pb::GradeGroupResponse>>& graded) {
  std::vector<PairOutcome> out;
  for (const auto& g : graded) {
    PairOutcome o;
    if (g.ok() && g->results_size() == 2) {
      std::optional<double> chosen = ValidReward(g->results(0));
      std::optional<double> rejected = ValidReward(g->results(1));
      if (chosen && rejected) o = {false, *chosen, *rejected};
    }
    out.push_back(o);
  }
  return out;
}

GroupOutcome ToGroupOutcome(const absl::StatusOr<pb::GradeGroupResponse>& g) {
  GroupOutcome o;
  if (!g.ok()) return o;
  o.error = false;
  for (const pb::GradeResponse& r : g->results()) {
    o.rewards.push_back(ValidReward(r));
  }
  return o;
}

// The first error message per set, to say why errors were counted.
void ReportFirstError(
    const std::string& set,
    const std::vector<absl::StatusOr<pb::GradeGroupResponse>>& graded) {
  for (size_t i = 0; i < graded.size(); ++i) {
    const auto& g = graded[i];
    std::string why;
    if (!g.ok()) {
      why = g.status().ToString();
    } else {
      for (const pb::GradeResponse& r : g->results()) {
        if (!r.valid()) {
          why = absl::StrCat("invalid reward: ", r.invalid_reason(),
                             r.error().message());
          break;
        }
      }
    }
    if (!why.empty()) {
      PrintError(absl::StrCat(set, ": item ", i + 1, ": ", why));
      return;
    }
  }
}

void PrintTable(const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows) {
  std::printf("%-24s", "");
  for (const std::string& h : header) std::printf(" %16s", h.c_str());
  std::printf("\n");
  for (const auto& row : rows) {
    std::printf("%-24s", row[0].c_str());
    for (size_t i = 1; i < row.size(); ++i)
      std::printf(" %16s", row[i].c_str());
    std::printf("\n");
  }
}

// Resolves --sets against the server: name -> version. Unknown sets are an
// input error.
absl::StatusOr<std::vector<std::string>> SetVersions(
    RewardClient& client, const std::vector<std::string>& sets) {
  REWARDD_ASSIGN_OR_RETURN(pb::ListRubricSetsResponse loaded,
                           client.ListRubricSets());
  absl::flat_hash_map<std::string, std::string> versions;
  std::vector<std::string> names;
  for (const pb::RubricSetInfo& s : loaded.sets()) {
    versions[s.name()] = s.version();
    names.push_back(s.name());
  }
  std::vector<std::string> out;
  for (const std::string& s : sets) {
    auto it = versions.find(s);
    if (it == versions.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--sets: rubric set '", s,
          "' is not loaded (loaded: ", absl::StrJoin(names, ", "), ")"));
    }
    out.push_back(it->second);
  }
  return out;
}

struct EvalInputs {
  std::vector<std::string> sets;
  std::string json_path;
  std::optional<std::vector<EvalItem>> pairs;
  std::optional<std::vector<EvalItem>> groups;
};

absl::StatusOr<EvalInputs> InputsFromFlags(const CommandContext& context) {
  EvalInputs in;
  in.json_path = absl::GetFlag(FLAGS_json_out);
  if (!context.args.empty()) {
    if (!absl::GetFlag(FLAGS_json) || context.args.size() != 1 ||
        !in.json_path.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unexpected argument '", context.args[0],
          "' (the JSON output is `--json FILE` or --json_out=FILE)"));
    }
    in.json_path = context.args[0];
  } else if (absl::GetFlag(FLAGS_json)) {
    return absl::InvalidArgumentError("--json needs a file: --json FILE");
  }
  for (absl::string_view s :
       absl::StrSplit(absl::GetFlag(FLAGS_sets), ',', absl::SkipEmpty())) {
    in.sets.emplace_back(s);
  }
  if (in.sets.empty()) {
    return absl::InvalidArgumentError("eval-rubrics needs --sets=a,b");
  }
  const std::string pairs = absl::GetFlag(FLAGS_pairs);
  const std::string groups = absl::GetFlag(FLAGS_groups);
  if (pairs.empty() && groups.empty()) {
    return absl::InvalidArgumentError(
        "eval-rubrics needs --pairs=FILE and/or --groups=FILE");
  }
  REWARDD_ASSIGN_OR_RETURN(const pb::GradeOptions options,
                           VerifierOptionsFromFlags());
  if (!pairs.empty()) {
    REWARDD_ASSIGN_OR_RETURN(in.pairs, ReadItems(pairs, true, options));
  }
  if (!groups.empty()) {
    REWARDD_ASSIGN_OR_RETURN(in.groups, ReadItems(groups, false, options));
  }
  return in;
}

std::string Fixed(double v) { return absl::StrFormat("%.3f", v); }

// The side-by-side table, the JSON "sets" and the error count being built.
struct EvalReport {
  std::vector<std::vector<std::string>> rows;
  Json sets = Json::array();
  int errors = 0;

  // Appends rows named `names`; returns the index of the first.
  size_t AddRows(std::initializer_list<const char*> names) {
    for (const char* n : names) rows.push_back({n});
    return rows.size() - names.size();
  }
  void AddErrors(size_t set, int n) {
    sets[set]["errors"] = sets[set]["errors"].get<int>() + n;
    errors += n;
  }
};

void EvaluatePairs(RewardClient& client, const EvalInputs& in,
                   EvalReport& report) {
  auto graded = GradeAll(client, in.sets, *in.pairs);
  std::vector<std::vector<PairOutcome>> outcomes;
  for (const auto& g : graded) outcomes.push_back(PairOutcomes(g));
  const std::vector<PairStats> stats = ComputePairStats(outcomes);
  const size_t r =
      report.AddRows({"pairs", "accuracy", "tie rate", "top-quartile pairs",
                      "top-quartile accuracy", "pair errors"});
  for (size_t s = 0; s < stats.size(); ++s) {
    const PairStats& p = stats[s];
    report.rows[r].push_back(absl::StrCat(p.pairs));
    report.rows[r + 1].push_back(Fixed(p.accuracy));
    report.rows[r + 2].push_back(Fixed(p.tie_rate));
    report.rows[r + 3].push_back(absl::StrCat(p.top_quartile_pairs));
    report.rows[r + 4].push_back(Fixed(p.top_quartile_accuracy));
    report.rows[r + 5].push_back(absl::StrCat(p.errors));
    report.sets[s].update({{"pairs", p.pairs},
                           {"accuracy", p.accuracy},
                           {"tie_rate", p.tie_rate},
                           {"top_quartile_pairs", p.top_quartile_pairs},
                           {"top_quartile_accuracy", p.top_quartile_accuracy}});
    report.AddErrors(s, p.errors);
    if (p.errors > 0) ReportFirstError(in.sets[s], graded[s]);
  }
}

void EvaluateGroups(RewardClient& client, const EvalInputs& in,
                    EvalReport& report) {
  auto graded = GradeAll(client, in.sets, *in.groups);
  const size_t r = report.AddRows(
      {"groups", "tied at top", "separated", "zero variance", "group errors"});
  for (size_t s = 0; s < graded.size(); ++s) {
    std::vector<GroupOutcome> outcomes;
    for (const auto& g : graded[s]) outcomes.push_back(ToGroupOutcome(g));
    const GroupStats g = ComputeGroupStats(outcomes);
    report.rows[r].push_back(absl::StrCat(g.groups));
    report.rows[r + 1].push_back(absl::StrCat(g.tied_top));
    report.rows[r + 2].push_back(absl::StrCat(g.separated));
    report.rows[r + 3].push_back(absl::StrCat(g.zero_variance));
    report.rows[r + 4].push_back(absl::StrCat(g.errors));
    report.sets[s].update({{"groups", g.groups},
                           {"tied_top_groups", g.tied_top},
                           {"separated_groups", g.separated},
                           {"zero_variance_groups", g.zero_variance}});
    report.AddErrors(s, g.errors);
    if (g.errors > 0) ReportFirstError(in.sets[s], graded[s]);
  }
}

int EvalRubrics(CommandContext& context) {
  absl::StatusOr<EvalInputs> in = InputsFromFlags(context);
  if (!in.ok()) {
    PrintError(std::string(in.status().message()));
    return kExitInput;
  }
  if (int code = CheckReachable(context.client); code != kExitOk) return code;
  absl::StatusOr<std::vector<std::string>> versions =
      SetVersions(context.client, in->sets);
  if (!versions.ok()) {
    PrintError(versions.status().ToString());
    return absl::IsInvalidArgument(versions.status()) ? kExitInput
                                                      : kExitUnreachable;
  }
  EvalReport report;
  report.rows.push_back({"set version"});
  for (size_t s = 0; s < in->sets.size(); ++s) {
    report.rows[0].push_back((*versions)[s]);
    report.sets.push_back({{"rubric_set", in->sets[s]},
                           {"set_version", (*versions)[s]},
                           {"errors", 0}});
  }
  if (in->pairs.has_value()) EvaluatePairs(context.client, *in, report);
  if (in->groups.has_value()) EvaluateGroups(context.client, *in, report);
  PrintTable(in->sets, report.rows);
  if (!in->json_path.empty()) {
    const Json out = {{"schema", "rewardd.eval_rubrics.v1"},
                      {"sets", report.sets}};
    if (absl::Status s = WriteFileAtomically(in->json_path, out.dump(2) + "\n");
        !s.ok()) {
      PrintError(s.ToString());
      return kExitUnreachable;
    }
  }
  return report.errors > 0 ? kExitPartial : kExitOk;
}

}  // namespace

const Command kEvalRubricsCommand = {
    "eval-rubrics",
    R"(  eval-rubrics  Compare rubric sets on held-out data, side by side:
            reward-cli eval-rubrics --pairs=pairs.jsonl --sets=initial,refined \
                [--groups=groups.jsonl] [--json out.json]
          Pairs {prompt | rubric_id, chosen, rejected}: accuracy (chosen >
          rejected), tie rate, accuracy on the top-quartile pairs (by the
          first set's chosen reward). Groups {id, rubric_id, prompt,
          responses}: tied at top, separated, zero variance. Errors are
          counted apart, never as ties. Exit codes: 0 ok; 1 bad usage or
          input or unknown set; 2 server unreachable or JSON not writable;
          3 some pairs or groups could not be graded.)",
    /*takes_args=*/true, EvalRubrics};

}  // namespace rewardd::cli

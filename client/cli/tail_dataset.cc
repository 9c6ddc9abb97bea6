#include "client/cli/tail_dataset.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/util/sha256.h"

namespace rewardd::cli {
namespace {

// What refine and eval-rubrics read as the prompt: the messages when the
// request had them, else the canonical prompt text.
nlohmann::json PromptValue(const SaturatedGroupRecord& g) {
  if (g.messages.is_array()) return g.messages;
  return g.prompt;
}

// Equal for groups asked with the same prompt.
std::string PromptKey(const SaturatedGroupRecord& g) {
  return g.messages.is_array() ? absl::StrCat("m", g.messages.dump())
                               : absl::StrCat("p", g.prompt);
}

// The group's tied top responses, distinct texts in logged order.
std::vector<std::string> DistinctTop(const SaturatedGroupRecord& g) {
  std::vector<std::string> out;
  absl::flat_hash_set<std::string> seen;
  for (const TailTopResponse& t : g.top) {
    if (seen.insert(t.response).second) out.push_back(t.response);
  }
  return out;
}

// The prompt a rubric's refine record uses: the one most of its groups were
// asked with; on a tie, the one asked most recently.
std::string MainPromptKey(const TailLog& log, const std::vector<size_t>& idx) {
  std::map<std::string, std::pair<int64_t, size_t>> seen;  // count, newest
  for (size_t i : idx) {
    auto& [count, newest] = seen[PromptKey(log.groups[i])];
    ++count;
    newest = i;
  }
  auto best = seen.begin();
  for (auto it = seen.begin(); it != seen.end(); ++it) {
    if (it->second > best->second) best = it;
  }
  return best->first;
}

// One refine record for a rubric whose groups are log.groups[idx...] (in
// log order); nullopt when fewer than two distinct responses tied.
std::optional<nlohmann::json> RefineRecord(const TailLog& log,
                                           const std::string& rubric_set,
                                           const std::string& rubric_id,
                                           const std::vector<size_t>& idx,
                                           int max_responses,
                                           TailDatasetStats& stats) {
  const std::string main_key = MainPromptKey(log, idx);
  nlohmann::json responses = nlohmann::json::array();
  absl::flat_hash_set<std::string> seen;
  const SaturatedGroupRecord* main_group = nullptr;
  // Newest first: the policy's latest tail is what the rubric must separate.
  for (auto it = idx.rbegin(); it != idx.rend(); ++it) {
    const SaturatedGroupRecord& g = log.groups[*it];
    if (PromptKey(g) != main_key) {
      ++stats.groups_other_prompt;
      continue;
    }
    if (main_group == nullptr) main_group = &g;
    const auto policy = g.labels.find("policy_version");
    const std::string generator =
        policy == g.labels.end()
            ? std::string("tail-log")
            : absl::StrCat("tail-log policy_version=", policy->second);
    for (const std::string& text : DistinctTop(g)) {
      if (!seen.insert(text).second) continue;
      if (static_cast<int>(responses.size()) >= max_responses) {
        ++stats.responses_dropped_bound;
        continue;
      }
      responses.push_back({{"generator", generator}, {"response", text}});
    }
  }
  if (responses.size() < 2) {
    ++stats.rubrics_too_few_responses;
    return std::nullopt;
  }
  return nlohmann::json{{"id", rubric_id},
                        {"prompt", PromptValue(*main_group)},
                        {"responses", std::move(responses)},
                        {"rubric_set", rubric_set},
                        {"rubric_id", rubric_id}};
}

// Equal for groups of one rubric and prompt whose responses are the same
// set. A digest, not the text: the log may hold hundreds of megabytes of it.
Sha256::Digest GroupDigest(const SaturatedGroupRecord& g,
                           std::vector<std::string> responses) {
  std::sort(responses.begin(), responses.end());
  Sha256 h;
  // Length-prefixed parts: no text can fake a boundary.
  auto add = [&h](absl::string_view part) {
    h.Update(absl::StrCat(part.size(), ":"));
    h.Update(part);
  };
  add(g.rubric_id);
  add(PromptKey(g));
  for (const std::string& r : responses) add(r);
  return h.Final();
}

// One eval group per distinct logged group with at least two distinct
// responses, ids "<rubric_id>/<n>" numbered per rubric in log order.
std::vector<nlohmann::json> EvalGroups(const TailLog& log,
                                       const std::vector<size_t>& chosen,
                                       TailDatasetStats& stats) {
  std::vector<nlohmann::json> out;
  absl::flat_hash_set<Sha256::Digest> seen;
  absl::flat_hash_map<std::string, int> ordinal;
  for (size_t i : chosen) {
    const SaturatedGroupRecord& g = log.groups[i];
    std::vector<std::string> responses = DistinctTop(g);
    if (responses.size() < 2) {
      ++stats.eval_groups_too_few;
      continue;
    }
    if (!seen.insert(GroupDigest(g, responses)).second) {
      ++stats.eval_groups_duplicate;
      continue;
    }
    out.push_back(
        {{"id", absl::StrCat(g.rubric_id, "/", ++ordinal[g.rubric_id])},
         {"rubric_id", g.rubric_id},
         {"prompt", PromptValue(g)},
         {"responses", std::move(responses)}});
  }
  return out;
}

}  // namespace

absl::StatusOr<TailDataset> BuildTailDataset(
    const TailLog& log, const TailDatasetOptions& options) {
  if (options.max_responses_per_rubric < 2) {
    return absl::InvalidArgumentError(
        "max_responses_per_rubric: must be at least 2 (refining needs a "
        "pair)");
  }
  absl::StatusOr<std::string> set = ChooseRubricSet(log, options.rubric_set);
  if (!set.ok()) return set.status();
  if (*set == kInlineRubricSet) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--rubric_set: '", kInlineRubricSet,
        "' holds rubrics sent inline with requests, which no rubric set "
        "holds: they cannot be refined by reference"));
  }
  TailDataset dataset;
  dataset.rubric_set = *set;
  std::vector<size_t> chosen;
  std::map<std::string, std::vector<size_t>> by_rubric;  // sorted ids
  for (size_t i = 0; i < log.groups.size(); ++i) {
    if (log.groups[i].rubric_set != *set) continue;
    if (log.groups[i].rubric_id.empty()) {
      ++dataset.stats.groups_no_rubric_id;
      continue;
    }
    chosen.push_back(i);
    by_rubric[log.groups[i].rubric_id].push_back(i);
  }
  dataset.stats.groups_used = static_cast<int64_t>(chosen.size());
  dataset.stats.rubrics = static_cast<int64_t>(by_rubric.size());
  for (const auto& [rubric_id, idx] : by_rubric) {
    std::optional<nlohmann::json> record =
        RefineRecord(log, *set, rubric_id, idx,
                     options.max_responses_per_rubric, dataset.stats);
    if (!record.has_value()) continue;
    dataset.refine_records.push_back(*std::move(record));
    dataset.refine_locations.push_back(
        absl::StrCat("tail log: rubric '", rubric_id, "' of set '", *set, "' (",
                     idx.size(), " saturated groups)"));
  }
  dataset.eval_groups = EvalGroups(log, chosen, dataset.stats);
  return dataset;
}

absl::StatusOr<TailDataset> ReadTailDataset(const std::string& dir,
                                            const TailDatasetOptions& options) {
  // Refine input and eval groups carry no verdicts: do not hold them.
  TailLogReadOptions read;
  read.verdicts = false;
  absl::StatusOr<TailLog> log = ReadTailLog(dir, read);
  if (!log.ok()) return log.status();
  return BuildTailDataset(*log, options);
}

std::string ToJsonl(const std::vector<nlohmann::json>& records) {
  std::string out;
  for (const nlohmann::json& r : records) {
    // Replace invalid UTF-8 rather than throw: the text came from a log.
    absl::StrAppend(
        &out, r.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
        "\n");
  }
  return out;
}

std::string DescribeTailDataset(const TailDataset& d) {
  const TailDatasetStats& s = d.stats;
  return absl::StrCat(
      d.refine_records.size(), " refine records (", s.rubrics,
      " rubrics; skipped ", s.rubrics_too_few_responses,
      " with fewer than 2 distinct tied responses; ", s.responses_dropped_bound,
      " responses past the bound), ", d.eval_groups.size(), " eval groups (",
      s.eval_groups_duplicate, " duplicates and ", s.eval_groups_too_few,
      " with fewer than 2 distinct responses dropped) from ", s.groups_used,
      " saturated groups of '", d.rubric_set, "'",
      s.groups_no_rubric_id > 0
          ? absl::StrCat(" (", s.groups_no_rubric_id,
                         " more without a rubric id skipped)")
          : std::string());
}

}  // namespace rewardd::cli

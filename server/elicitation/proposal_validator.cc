#include "server/elicitation/proposal_validator.h"

#include <algorithm>
#include <cmath>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace rewardd {
namespace {

struct Item {
  std::string id;  // as proposed
  std::string text;
  std::string normalized;
  double weight = 0;
  size_t position = 0;  // 1-based, in the proposal (for messages)
};

std::string Quote(absl::string_view text) {
  return text.size() <= 60 ? absl::StrCat("'", text, "'")
                           : absl::StrCat("'", text.substr(0, 57), "...'");
}

// Reads text and weight of each item; drops what cannot count.
absl::StatusOr<std::vector<Item>> ReadItems(
    const std::vector<ProposedCriterion>& proposal,
    const ValidationOptions& options, std::vector<std::string>* warnings) {
  const ProposalLimits& limits = options.limits;
  std::vector<Item> items;
  for (size_t i = 0; i < proposal.size(); ++i) {
    const ProposedCriterion& p = proposal[i];
    const std::string where = absl::StrCat("criterion #", i + 1);
    Item item;
    item.position = i + 1;
    item.id = std::string(absl::StripAsciiWhitespace(p.id));
    item.text = std::string(absl::StripAsciiWhitespace(p.text));
    if (item.text.empty()) {
      warnings->push_back(absl::StrCat(where, ": empty text, dropped"));
      continue;
    }
    if (item.text.size() > options.max_criterion_chars) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": text is ", item.text.size(), " characters, more than the ",
          options.max_criterion_chars, " allowed"));
    }
    if (!p.weight_error.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, " ", Quote(item.text), ": ", p.weight_error));
    }
    double w = p.weight.value_or(limits.min_weight);
    if (!p.weight.has_value()) {
      warnings->push_back(absl::StrCat(where, ": no weight, given ", w));
    }
    if (w == 0 || (w < 0 && !limits.allow_pitfalls)) {
      warnings->push_back(absl::StrCat(
          where, " ", Quote(item.text), ": weight ", w,
          w == 0 ? " counts nothing" : " (pitfalls are not allowed)",
          ", dropped"));
      continue;
    }
    const double magnitude =
        std::clamp(std::fabs(w), limits.min_weight, limits.max_weight);
    const double clamped = w < 0 ? -magnitude : magnitude;
    if (clamped != w) {
      warnings->push_back(
          absl::StrCat(where, ": weight ", w, " clamped to ", clamped));
    }
    item.weight = clamped;
    item.normalized = NormalizeCriterionText(item.text);
    items.push_back(std::move(item));
  }
  if (items.empty()) {
    return absl::InvalidArgumentError(
        "the proposal has no usable criterion (every item was empty or "
        "dropped)");
  }
  return items;
}

// Merges exact and near duplicates into the first of them.
std::vector<Item> MergeDuplicates(std::vector<Item> items, double threshold,
                                  std::vector<std::string>* warnings) {
  std::vector<Item> kept;
  for (Item& item : items) {
    Item* twin = nullptr;
    for (Item& k : kept) {
      if ((k.weight > 0) != (item.weight > 0)) continue;
      if (k.normalized == item.normalized ||
          WordSetSimilarity(k.normalized, item.normalized) >= threshold) {
        twin = &k;
        break;
      }
    }
    if (twin == nullptr) {
      kept.push_back(std::move(item));
      continue;
    }
    warnings->push_back(
        absl::StrCat("criterion #", item.position, " ", Quote(item.text),
                     " duplicates criterion #", twin->position, ", merged"));
    if (std::fabs(item.weight) > std::fabs(twin->weight)) {
      twin->weight = item.weight;
    }
    if (twin->id.empty()) twin->id = item.id;
  }
  return kept;
}

// Ids: explicit previous ids first, then text matches, then fresh ones.
std::vector<std::string> AssignIds(const std::vector<Item>& items,
                                   const Rubric* previous,
                                   CriterionIdAllocator& ids,
                                   std::vector<std::string>* warnings) {
  absl::flat_hash_set<std::string> previous_ids;
  absl::flat_hash_map<std::string, std::string> by_text;  // normalized -> id
  if (previous != nullptr) {
    for (const Criterion& c : previous->criteria) {
      previous_ids.insert(c.id);
      by_text.emplace(NormalizeCriterionText(c.text), c.id);
    }
  }
  std::vector<std::string> out(items.size());
  absl::flat_hash_set<std::string> taken;
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string& id = items[i].id;
    if (id.empty()) continue;
    if (previous_ids.contains(id) && taken.insert(id).second) {
      out[i] = id;
    } else if (!previous_ids.contains(id)) {
      warnings->push_back(absl::StrCat("criterion #", items[i].position,
                                       ": id '", id.substr(0, 40),
                                       "' is not in the current rubric; "
                                       "given a fresh id"));
    }
  }
  for (size_t i = 0; i < items.size(); ++i) {
    if (!out[i].empty()) continue;
    auto it = by_text.find(items[i].normalized);
    if (it != by_text.end() && taken.insert(it->second).second) {
      out[i] = it->second;
    }
  }
  for (size_t i = 0; i < items.size(); ++i) {
    if (out[i].empty()) out[i] = ids.Next();
  }
  return out;
}

}  // namespace

std::string NormalizeCriterionText(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool space = false;
  for (char c : text) {
    if (absl::ascii_isalnum(c) || (static_cast<unsigned char>(c) >= 0x80)) {
      if (space && !out.empty()) out.push_back(' ');
      space = false;
      out.push_back(absl::ascii_tolower(c));
    } else {
      space = true;
    }
  }
  return out;
}

double WordSetSimilarity(absl::string_view a, absl::string_view b) {
  const std::vector<absl::string_view> wa =
      absl::StrSplit(a, ' ', absl::SkipEmpty());
  const std::vector<absl::string_view> wb =
      absl::StrSplit(b, ' ', absl::SkipEmpty());
  const absl::flat_hash_set<absl::string_view> sa(wa.begin(), wa.end());
  const absl::flat_hash_set<absl::string_view> sb(wb.begin(), wb.end());
  if (sa.empty() && sb.empty()) return 1;
  size_t common = 0;
  for (absl::string_view w : sa) common += sb.contains(w) ? 1 : 0;
  return double(common) / double(sa.size() + sb.size() - common);
}

absl::StatusOr<ValidatedProposal> ValidateProposal(
    const std::vector<ProposedCriterion>& proposal, const Rubric* previous,
    const ValidationOptions& options, CriterionIdAllocator& ids) {
  ValidatedProposal out;
  absl::StatusOr<std::vector<Item>> read =
      ReadItems(proposal, options, &out.warnings);
  if (!read.ok()) return read.status();
  std::vector<Item> items =
      MergeDuplicates(*std::move(read), options.near_duplicate, &out.warnings);
  const size_t max = std::max<size_t>(options.limits.max_criteria, 1);
  if (items.size() > max) {
    out.warnings.push_back(absl::StrCat("the proposal has ", items.size(),
                                        " criteria after merging; kept the "
                                        "first ",
                                        max));
    items.resize(max);
  }
  // Ids are drawn from a copy: the lineage's allocator only changes once
  // the proposal is accepted.
  CriterionIdAllocator trial = ids;
  const std::vector<std::string> assigned =
      AssignIds(items, previous, trial, &out.warnings);
  Rubric& r = out.rubric;
  r.id = !options.rubric_id.empty() ? options.rubric_id
         : previous != nullptr      ? previous->id
                                    : std::string();
  r.prompt = !options.prompt.empty() ? options.prompt
             : previous != nullptr   ? previous->prompt
                                     : std::string();
  for (size_t i = 0; i < items.size(); ++i) {
    Criterion c;
    c.id = assigned[i];
    c.text = std::move(items[i].text);
    c.weight = items[i].weight;
    r.criteria.push_back(std::move(c));
  }
  if (absl::Status s = ValidateRubric(r); !s.ok()) return s;
  r.version = RubricVersion(r);
  ids = std::move(trial);
  return out;
}

}  // namespace rewardd

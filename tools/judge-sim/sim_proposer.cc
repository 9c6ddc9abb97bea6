#include "tools/judge-sim/sim_proposer.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "server/elicitation/proposer_templates.h"
#include "server/util/json_file.h"
#include "tools/judge-sim/sim_fence.h"

namespace rewardd {
namespace {

constexpr size_t kMinTermLetters = 5;
constexpr size_t kOracleNewCriteria = 2;
constexpr size_t kInitialCriteria = 4;

std::string Fenced(absl::string_view text, absl::string_view name) {
  size_t b = 0, e = 0;
  absl::string_view inner;
  return FindFence(text, name, &b, &e, &inner) ? std::string(inner)
                                               : std::string();
}

// Lower-case words of at least kMinTermLetters letters, in order, distinct.
std::vector<std::string> Terms(absl::string_view text) {
  std::vector<std::string> out;
  absl::flat_hash_set<std::string> seen;
  std::string word;
  auto flush = [&] {
    if (word.size() >= kMinTermLetters && seen.insert(word).second) {
      out.push_back(word);
    }
    word.clear();
  };
  for (char c : text) {
    if (absl::ascii_isalpha(c)) {
      word.push_back(absl::ascii_tolower(c));
    } else {
      flush();
    }
  }
  flush();
  return out;
}

// The current rubric of a refine request: the JSON list after
// "Current rubric:" (rewardd's template renders one object a line and the
// closing bracket on its own line).
nlohmann::json CurrentRubric(absl::string_view text) {
  const size_t marker = text.find("Current rubric:");
  if (marker == absl::string_view::npos) return nlohmann::json::array();
  const size_t open = text.find('[', marker);
  const size_t close = text.find("\n]", open);
  if (open == absl::string_view::npos || close == absl::string_view::npos) {
    return nlohmann::json::array();
  }
  nlohmann::json j = nlohmann::json::parse(text.substr(open, close + 2 - open),
                                           nullptr, false);
  return j.is_array() ? j : nlohmann::json::array();
}

nlohmann::json MentionCriterion(const std::string& term) {
  return {{"criterion", absl::StrCat("The response mentions \"", term, "\"")},
          {"weight", 2}};
}

// Terms of `a` that `b` lacks and no criterion already quotes.
std::vector<std::string> Distinctive(const std::vector<std::string>& a,
                                     absl::string_view b_text,
                                     const std::string& rubric_text) {
  const std::vector<std::string> b = Terms(b_text);
  const absl::flat_hash_set<std::string> in_b(b.begin(), b.end());
  std::vector<std::string> out;
  for (const std::string& t : a) {
    if (in_b.contains(t)) continue;
    if (absl::StrContains(rubric_text, absl::StrCat("\"", t, "\""))) continue;
    out.push_back(t);
  }
  return out;
}

}  // namespace

std::string SimOracleProposal(absl::string_view all_text) {
  const std::string a = Fenced(all_text, "candidate-a");
  const std::string b = Fenced(all_text, "candidate-b");
  nlohmann::json rubric = nlohmann::json::array();
  if (a.empty() && b.empty()) {
    // An initial request: criteria from the prompt's words.
    for (const std::string& t : Terms(Fenced(all_text, "prompt"))) {
      if (rubric.size() == kInitialCriteria) break;
      rubric.push_back(MentionCriterion(t));
    }
    return rubric.dump();
  }
  rubric = CurrentRubric(all_text);
  std::string rubric_text;
  for (const nlohmann::json& c : rubric) {
    if (c.is_object() && c.contains("criterion") &&
        c["criterion"].is_string()) {
      absl::StrAppend(&rubric_text, c["criterion"].get<std::string>(), "\n");
    }
  }
  const std::vector<std::string> only_a = Distinctive(Terms(a), b, rubric_text);
  const std::vector<std::string> only_b = Distinctive(Terms(b), a, rubric_text);
  const std::vector<std::string>& pick =
      only_a.size() >= only_b.size() ? only_a : only_b;
  for (size_t i = 0; i < pick.size() && i < kOracleNewCriteria; ++i) {
    rubric.push_back(MentionCriterion(pick[i]));
  }
  return rubric.dump();
}

absl::StatusOr<SimProposer> SimProposer::Load(const std::string& script_path) {
  SimProposer p;
  if (script_path.empty()) return p;
  absl::StatusOr<nlohmann::json> file = ReadJsonObjectFile(script_path);
  if (!file.ok()) return file.status();
  const nlohmann::json& j = *file;
  if (!j.contains("proposals") || !j["proposals"].is_array()) {
    return absl::InvalidArgumentError(script_path +
                                      ": needs a \"proposals\" list");
  }
  for (size_t i = 0; i < j["proposals"].size(); ++i) {
    const nlohmann::json& e = j["proposals"][i];
    Entry entry;
    const std::string where = absl::StrCat(script_path, ": proposals[", i, "]");
    if (e.contains("when")) {
      if (!e["when"].is_array()) {
        return absl::InvalidArgumentError(where + ".when must be a list");
      }
      for (const auto& w : e["when"]) {
        if (!w.is_string()) {
          return absl::InvalidArgumentError(where + ".when: strings only");
        }
        entry.when.push_back(w.get<std::string>());
      }
    }
    if (e.contains("text") && e["text"].is_string()) {
      entry.content = e["text"].get<std::string>();
    } else if (e.contains("rubric") && e["rubric"].is_array()) {
      entry.content = e["rubric"].dump();
    } else {
      return absl::InvalidArgumentError(where +
                                        " needs \"rubric\" (a list) or "
                                        "\"text\" (a string)");
    }
    p.script_.push_back(std::move(entry));
  }
  p.scripted_ = true;
  return p;
}

bool SimProposer::IsProposerRequest(absl::string_view model,
                                    absl::string_view all_text) {
  return absl::StartsWith(model, "proposer") ||
         absl::StrContains(all_text, kProposerMarker);
}

SimProposer::Answer SimProposer::Respond(absl::string_view all_text) const {
  if (!scripted_) return {SimOracleProposal(all_text), Kind::kOracle};
  for (const Entry& e : script_) {
    bool match = true;
    for (const std::string& w : e.when) {
      if (!absl::StrContains(all_text, w)) {
        match = false;
        break;
      }
    }
    if (match) return {e.content, Kind::kScripted};
  }
  return {"I could not find a scripted proposal for this request.",
          Kind::kUnmatched};
}

}  // namespace rewardd

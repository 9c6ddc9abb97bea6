// judge-sim as a rubric proposer: answers the calls rewardd's rubric
// elicitation makes (server/elicitation/), so refinement can be tested end to
// end over HTTP without an LLM.
//
// A request is a proposer call when one of its messages contains
// kProposerMarker (rewardd's default proposer templates start with it) or
// its model name starts with "proposer". Two modes:
//   scripted (SimOptions::proposer_script set): the script's first entry
//     whose "when" strings all occur in the request's text answers; an entry
//     answers "rubric" (a JSON list, sent as is) or "text" (sent verbatim,
//     e.g. a reply wrapped in prose or a think block):
//       {"proposals": [
//          {"when": ["Current rubric:", "medical disclaimer"],
//           "rubric": [{"criterion": "...", "weight": 3}, ...]},
//          {"text": "no list here"}]}
//     No entry matching: an answer with no rubric in it (counted).
//   oracle (no script): a refine call keeps the current rubric and adds up
//     to two criteria 'The response mentions "<term>"' (weight 2) for terms
//     found in one response of the pair and not the other - from the
//     response with more such terms, the first one on a tie - which the
//     simulated judge's quoted-term rule then grades exactly. An initial
//     call gets one such criterion for each of the prompt's first four
//     distinct words of five or more letters. A pair with nothing to tell
//     them apart gets the current rubric back unchanged.
// This makes refinement tests tests of the workflow, not of an LLM.
//
// Thread-safety: immutable after Load(); Answer() from any thread.
#ifndef REWARDD_TOOLS_JUDGE_SIM_SIM_PROPOSER_H_
#define REWARDD_TOOLS_JUDGE_SIM_SIM_PROPOSER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rewardd {

class SimProposer {
 public:
  // `script_path` "" = oracle mode.
  static absl::StatusOr<SimProposer> Load(const std::string& script_path);

  static bool IsProposerRequest(absl::string_view model,
                                absl::string_view all_text);

  enum class Kind { kScripted, kOracle, kUnmatched };
  struct Answer {
    std::string content;
    Kind kind = Kind::kOracle;
  };
  // `all_text`: every message's content, joined.
  Answer Respond(absl::string_view all_text) const;

 private:
  struct Entry {
    std::vector<std::string> when;
    std::string content;
  };
  std::vector<Entry> script_;
  bool scripted_ = false;
};

// The oracle's answer to a proposer request (see above).
std::string SimOracleProposal(absl::string_view all_text);

}  // namespace rewardd

#endif  // REWARDD_TOOLS_JUDGE_SIM_SIM_PROPOSER_H_

// Reads the rubric a proposer LLM wrote. Real models do not answer cleanly:
// reasoning models open with <think> blocks, chat models wrap the JSON in
// ``` fences and prose, quote an example before the answer, leave trailing
// commas, or run out of tokens mid-list. The parser takes the LAST complete
// JSON list of criteria outside any think block (a list may also sit in an
// object under "rubric" / "criteria" / "items"), and reports an answer that
// was cut off - finish_reason "length", or a list opened after the last
// complete one and never closed - as truncated rather than using an earlier
// draft.
//
//   ProposalParse p = ParseProposal(reply.text, reply.truncated);
//   if (!p.found) { reject(p.error); }            // names what was wrong
//   for (const ProposedCriterion& c : p.criteria) { ... c.text, c.weight }
//
// Items: {"criterion"|"text"|"description"|"rubric_item": str,
//         "weight"|"points"|"importance": number or numeric string,
//         "id": optional str}, or a bare string (weight unset). What the
// items mean is for the validator (proposal_validator.h); the parser only
// reads them.
//
// Thread-safety: stateless functions.
#ifndef REWARDD_SERVER_ELICITATION_PROPOSAL_PARSER_H_
#define REWARDD_SERVER_ELICITATION_PROPOSAL_PARSER_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace rewardd {

struct ProposedCriterion {
  std::string id;    // as the proposer wrote it; may be empty
  std::string text;  // may be empty (the validator drops it)
  std::optional<double> weight;
  // Set when a weight was given but is not a number ("high").
  std::string weight_error;
};

struct ProposalParse {
  bool found = false;
  // The answer was cut off (finish_reason "length" or an unclosed list).
  bool truncated = false;
  std::vector<ProposedCriterion> criteria;
  std::string error;  // why nothing was found
};

// `finish_truncated`: the API reported finish_reason "length".
ProposalParse ParseProposal(absl::string_view content,
                            bool finish_truncated = false);

}  // namespace rewardd

#endif  // REWARDD_SERVER_ELICITATION_PROPOSAL_PARSER_H_

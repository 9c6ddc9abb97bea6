// The proposer prompts: what a rubric-writing LLM is told when it writes an
// initial rubric for a prompt, and when it refines a rubric so that it tells
// two strong responses apart (Refinement-through-Differentiation). The
// wording is rewardd's own, written from the rules of "Chasing the Tail"
// (binary criteria, "yes" means good, atomic, specific, self-contained,
// checkable without search, mutually exclusive and complete, no double
// penalty, diverse, a strong response fails about half, weights for how much
// a criterion matters). A JSON file can replace any of the texts.
//
//   ProposerTemplates t = ProposerTemplates::Default();
//   InitialPromptInput in{prompt, references, limits};
//   std::string user = t.RenderInitial(in);
//   const std::string& system = t.initial_system();
//   std::string v = t.version();  // "rtd-v1-<16 hex>", into the lineage
//
// Every default system text starts with kProposerMarker, so a simulator (or
// a log reader) can tell a proposer call from a judge call.
//
// Template file (JSON; each key optional, *_file paths relative to the file):
//   {"initial": {"system": "...", "user": "...{{prompt}}..."},
//    "refine":  {"system_file": "sys.txt", "user_file": "user.txt"}}
// Placeholders in user texts: {{prompt}} (fenced), {{references}} (fenced,
// initial), {{rubric}} (JSON list, refine), {{response_a}} {{response_b}}
// (fenced, refine), {{verdicts}} (refine; empty unless the verdicts are
// shown), {{limits}} (criteria count, weight range, pitfall rule). An unknown
// placeholder fails the load, naming it.
//
// Responses and the prompt are fenced with tags that hash their own text
// (server/judge/http/prompt_template.h), so a response cannot close its
// fence and pose as instructions.
//
// Thread-safety: immutable after construction; Render* from any thread.
#ifndef REWARDD_SERVER_ELICITATION_PROPOSER_TEMPLATES_H_
#define REWARDD_SERVER_ELICITATION_PROPOSER_TEMPLATES_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/rubric/rubric.h"

namespace rewardd {

// First line of every default proposer system text.
inline constexpr absl::string_view kProposerMarker =
    "[rewardd-rubric-proposer]";
// The name of the default wording; bump when its meaning changes.
inline constexpr absl::string_view kProposerTemplateName = "rtd-v1";

// What a proposal may contain; the same limits the validator enforces.
struct ProposalLimits {
  size_t max_criteria = 24;
  double min_weight = 1;
  double max_weight = 3;
  // Criteria for undesirable behaviour (negative weight: met = the bad
  // behaviour is present). Off: "yes" always means good (the paper).
  bool allow_pitfalls = false;
};

struct InitialPromptInput {
  std::string prompt;
  std::vector<std::string> references;
  ProposalLimits limits;
};

// The verifier's verdicts on the pair, per criterion of the current rubric
// (parallel to its criteria): 1 met, 0 unmet, -1 no verdict.
struct PairVerdicts {
  std::vector<int> a;
  std::vector<int> b;
};

struct RefinePromptInput {
  std::string prompt;
  const Rubric* rubric = nullptr;  // the current rubric
  std::string response_a;
  std::string response_b;
  std::optional<PairVerdicts> verdicts;
  ProposalLimits limits;
};

class ProposerTemplates {
 public:
  static ProposerTemplates Default();
  // Fails naming the field (or placeholder) that is wrong.
  static absl::StatusOr<ProposerTemplates> LoadFile(const std::string& path);

  const std::string& initial_system() const { return initial_.system; }
  const std::string& refine_system() const { return refine_.system; }
  std::string RenderInitial(const InitialPromptInput& in) const;
  std::string RenderRefine(const RefinePromptInput& in) const;

  // kProposerTemplateName + "-" + 16 hex digits over every text.
  const std::string& version() const { return version_; }

 private:
  struct Texts {
    std::string system;
    std::string user;
  };
  static absl::Status CheckPlaceholders(absl::string_view where,
                                        absl::string_view user, bool refine);
  void ComputeVersion();

  Texts initial_;
  Texts refine_;
  std::string version_;
};

// The rubric as the proposer sees it and answers: a JSON list, one
// {"id", "criterion", "weight"} object a line.
std::string RubricAsProposalJson(const Rubric& rubric);

}  // namespace rewardd

#endif  // REWARDD_SERVER_ELICITATION_PROPOSER_TEMPLATES_H_

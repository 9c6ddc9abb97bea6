// The asynchronous proposer interface: what writes and rewrites rubrics (an
// LLM behind an OpenAI-compatible endpoint, see http_proposer.h, or a fake
// in tests). Like Judge (server/judge/judge.h) it never blocks its caller:
// Propose() starts the work and `done` runs exactly once, on any thread,
// possibly before Propose() returns.
//
//   ProposalRequest req;
//   req.kind = ProposalKind::kRefine;
//   req.prompt = prompt;  req.rubric = current;
//   req.response_a = a;   req.response_b = b;
//   proposer->Propose(std::move(req), [](absl::StatusOr<ProposerReply> r) {
//     if (!r.ok()) { /* the call failed: r.status() says why */ }
//     ParseProposal(r->text, r->truncated);  // proposal_parser.h
//   });
//
// A non-OK status means no usable answer came back: the endpoint failed
// after retries (UNAVAILABLE), answered a client error (FAILED_PRECONDITION),
// the deadline passed (DEADLINE_EXCEEDED), or the request was cancelled
// (CANCELLED). An answer that came back but cannot be read is an OK reply;
// the caller's parser judges it.
//
// Thread-safety: implementations are safe to call from any thread.
#ifndef REWARDD_SERVER_ELICITATION_PROPOSER_H_
#define REWARDD_SERVER_ELICITATION_PROPOSER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/elicitation/proposer_templates.h"
#include "server/judge/judge.h"
#include "server/rubric/rubric.h"

namespace rewardd {

enum class ProposalKind {
  kInitial,  // write a rubric for the prompt
  kRefine,   // rewrite `rubric` so that it separates the pair
};

struct ProposalRequest {
  ProposalKind kind = ProposalKind::kRefine;
  std::string prompt;  // canonical prompt text
  // kInitial: optional reference responses.
  std::vector<std::string> references;
  // kRefine: the current rubric and the two responses.
  std::shared_ptr<const Rubric> rubric;
  std::string response_a;
  std::string response_b;
  // kRefine, when the proposer is to see the verifier's verdicts.
  std::optional<PairVerdicts> verdicts;
  ProposalLimits limits;
  absl::Time deadline = absl::InfiniteFuture();
  std::shared_ptr<const Cancellation> cancellation;  // may be null
};

struct ProposerReply {
  std::string text;        // the answer's content, as written
  bool truncated = false;  // finish_reason "length" on the last attempt
  std::string model;
  int attempts = 0;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  absl::Duration elapsed = absl::ZeroDuration();
};

using ProposerCallback =
    absl::AnyInvocable<void(absl::StatusOr<ProposerReply>) &&>;

class Proposer {
 public:
  virtual ~Proposer() = default;
  virtual const std::string& name() const = 0;
  virtual const std::string& model() const = 0;
  // The prompt templates' version (ProposerTemplates::version()).
  virtual const std::string& template_version() const = 0;
  // Starts the work; `done` runs exactly once.
  virtual void Propose(ProposalRequest request, ProposerCallback done) = 0;
};

}  // namespace rewardd

#endif  // REWARDD_SERVER_ELICITATION_PROPOSER_H_

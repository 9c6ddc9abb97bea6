#include "server/elicitation/rtd_engine.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/elicitation/rubric_generation.h"

namespace rewardd {
namespace {

constexpr uint32_t kDefaultIterations = 4;
constexpr uint32_t kDefaultTopK = 4;

using ScoresCallback = absl::AnyInvocable<void(std::vector<CandidateScore>) &&>;

// One scoring round: grades `indices` with one rubric, all at once, and
// answers once every grading is in (in the order of `indices`).
struct ScoringRound {
  std::shared_ptr<const Rubric> rubric;
  std::vector<CandidateScore> scores;
  ScoresCallback done;
  absl::Mutex mu;
  size_t remaining ABSL_GUARDED_BY(mu) = 0;

  void Answer(size_t slot, absl::StatusOr<GradeResult> r) {
    CandidateScore& s = scores[slot];
    if (!r.ok()) {
      s.invalid_reason = std::string(r.status().message());
    } else {
      s.valid = r->score.valid;
      s.invalid_reason = r->score.invalid_reason;
      s.score = r->score.score;
      s.max_score = r->score.max_score;
      s.verdicts.resize(rubric->criteria.size(), -1);
      for (size_t i = 0; i < r->verdicts.size() && i < s.verdicts.size(); ++i) {
        const Verdict& v = r->verdicts[i];
        if (v.status != CriterionStatus::kOk) continue;
        s.verdicts[i] = v.met ? 1 : 0;
        if (v.met) s.met.push_back(rubric->criteria[i].id);
      }
    }
    {
      absl::MutexLock lock(&mu);
      if (--remaining > 0) return;
    }
    std::move(done)(std::move(scores));
  }
};

std::vector<ScoredCandidate> ForSelection(
    const std::vector<CandidateScore>& scores) {
  std::vector<ScoredCandidate> out;
  out.reserve(scores.size());
  for (const CandidateScore& s : scores) {
    out.push_back({s.candidate, s.score, s.valid, s.verdicts});
  }
  return out;
}

const CandidateScore* Find(const std::vector<CandidateScore>& scores,
                           uint32_t candidate) {
  for (const CandidateScore& s : scores) {
    if (s.candidate == candidate) return &s;
  }
  return nullptr;
}

// One refinement, alive while a step of it is pending (each callback holds
// a reference). Steps run one after another, so its state needs no lock:
// each step is started from the callback that ended the one before, and
// the judge's and proposer's hand-offs order the memory accesses.
class Refinement : public std::enable_shared_from_this<Refinement> {
 public:
  Refinement(const Grader* grader, RefineJob job,
             std::shared_ptr<Proposer> proposer,
             RefinementEventCallback on_event,
             std::shared_ptr<std::atomic<size_t>> active)
      : grader_(grader),
        job_(std::move(job)),
        proposer_(std::move(proposer)),
        on_event_(std::move(on_event)),
        active_(std::move(active)) {
    prompt_ = !job_.prompt.empty()     ? job_.prompt
              : !job_.messages.empty() ? CanonicalPrompt(job_.messages)
              : job_.start != nullptr  ? job_.start->prompt
                                       : std::string();
    rubric_id_ = !job_.rubric_id.empty() ? job_.rubric_id
                 : job_.start != nullptr ? job_.start->id
                                         : PromptDerivedId(prompt_);
    job_.validation.rubric_id = rubric_id_;
    job_.validation.prompt = prompt_;
    iterations_ = job_.refine.iterations > 0 ? job_.refine.iterations
                                             : kDefaultIterations;
    for (uint32_t i = 0; i < job_.candidates.size(); ++i) {
      remaining_.push_back(i);
    }
  }

  void Begin() {
    if (job_.start != nullptr) {
      Rubric start = *job_.start;  // validated by ValidateRefineJob
      start.id = rubric_id_;
      if (start.prompt.empty()) start.prompt = prompt_;
      ValidateRubric(start).IgnoreError();  // compiles regex checks
      start.version = RubricVersion(start);
      Adopt(std::make_shared<const Rubric>(std::move(start)), "given", {}, {});
      NextIteration();
      return;
    }
    GenerateJob gen;
    gen.prompt = prompt_;
    gen.references = job_.references;
    gen.validation = job_.validation;
    gen.deadline = job_.deadline;
    gen.cancellation = job_.cancellation;
    GenerateRubric(
        proposer_, std::move(gen),
        [self = shared_from_this()](absl::StatusOr<GeneratedRubric> g) {
          self->OnGenerated(std::move(g));
        });
  }

 private:
  void OnGenerated(absl::StatusOr<GeneratedRubric> g) {
    if (!g.ok()) {
      EmitFinal(absl::StrCat("could not generate a starting rubric: ",
                             g.status().message()),
                /*ok=*/false);
      return;
    }
    ProposalAcceptedEvent e;
    e.generated = true;
    e.rubric = g->rubric;
    e.warnings = std::move(g->warnings);
    e.version = Adopt(g->rubric, "generated", {}, g->provenance.proposer_model);
    for (const Criterion& c : g->rubric->criteria) e.diff.added.push_back(c);
    Emit(std::move(e));
    NextIteration();
  }

  // Makes `rubric` the current one and records it in the lineage.
  RubricVersionInfo Adopt(std::shared_ptr<const Rubric> rubric,
                          absl::string_view origin, std::vector<uint32_t> pair,
                          std::string model) {
    RubricVersionInfo info;
    info.iteration = iteration_;
    info.origin = std::string(origin);
    if (origin != "given") {
      info.proposer = proposer_->name();
      info.proposer_model = model.empty() ? proposer_->model() : model;
      info.template_version = proposer_->template_version();
    }
    info.pair = std::move(pair);
    ids_.Reserve(*rubric);
    rubric_ = std::move(rubric);
    return lineage_.Add(*rubric_, std::move(info));
  }

  void NextIteration() {
    if (Cancelled()) return Finish("cancelled");
    if (absl::Now() >= job_.deadline) return Finish("deadline");
    if (iteration_ >= iterations_) return Finish("iterations done");
    if (remaining_.size() < 2) {
      return Finish(absl::StrCat("fewer than 2 candidates left (",
                                 remaining_.size(), ")"));
    }
    ++iteration_;
    Score(remaining_, rubric_,
          [self = shared_from_this()](std::vector<CandidateScore> s) {
            self->OnScored(std::move(s));
          });
  }

  // Grades `indices` (a copy: the last grading may finish this step and
  // start the next one, which changes remaining_, before the loop below
  // has returned) with `rubric`. Touches no mutable member after its first
  // Grade() call.
  void Score(std::vector<uint32_t> indices,
             std::shared_ptr<const Rubric> rubric, ScoresCallback done) {
    if (indices.empty()) return std::move(done)({});
    auto round = std::make_shared<ScoringRound>();
    round->rubric = rubric;
    round->done = std::move(done);
    round->scores.resize(indices.size());
    {
      absl::MutexLock lock(&round->mu);
      round->remaining = indices.size();
    }
    for (size_t slot = 0; slot < indices.size(); ++slot) {
      const RefineCandidate& c = job_.candidates[indices[slot]];
      round->scores[slot].candidate = indices[slot];
      round->scores[slot].source = c.source;
    }
    const VerifierSettings& v = job_.verifier;
    for (size_t slot = 0; slot < indices.size(); ++slot) {
      auto input = std::make_shared<GradeInput>();
      input->rubric = rubric;
      input->prompt = prompt_;
      input->messages = job_.messages;
      input->response = job_.candidates[indices[slot]].text;
      input->mode = v.mode;
      input->chunk_size = v.chunk_size;
      input->votes = v.votes;
      input->skip_cache = v.skip_cache;
      input->received = absl::Now();
      input->deadline = job_.deadline;
      input->cancellation = job_.cancellation;
      grader_->Grade(std::move(input), v.judge, v.scoring,
                     [round, slot](absl::StatusOr<GradeResult> r) {
                       round->Answer(slot, std::move(r));
                     });
    }
  }

  void OnScored(std::vector<CandidateScore> scores) {
    const std::vector<ScoredCandidate> ranked = ForSelection(scores);
    const TopStats top = ComputeTopStats(ranked);
    if (iteration_ == 1) {
      summary_.top_pair_gap_before = top.top_pair_gap;
      summary_.tied_at_top_before = top.tied_at_top;
      before_measured_ = top.valid >= 2;
    }
    summary_.iterations_run = iteration_;
    IterationScoresEvent e;
    e.iteration = iteration_;
    e.rubric_version = rubric_->version;
    e.scores = scores;
    e.top_score = top.top_score;
    e.tied_at_top = top.tied_at_top;
    Emit(std::move(e));

    const std::optional<PairChoice> pair =
        SelectPair(ranked, job_.refine.pair_selection,
                   job_.refine.top_k > 0 ? job_.refine.top_k : kDefaultTopK);
    if (!pair.has_value()) {
      return Finish(absl::StrCat(
          "verifier failed: ", top.valid, " of ", scores.size(),
          " candidates have a valid score (", FirstInvalidReason(scores), ")"));
    }
    PairChosenEvent p;
    p.iteration = iteration_;
    p.first = pair->first;
    p.second = pair->second;
    p.selection = job_.refine.pair_selection;
    p.verdict_differences = pair->differences;
    Emit(p);
    AskProposer(*pair, scores);
  }

  static std::string FirstInvalidReason(
      const std::vector<CandidateScore>& scores) {
    for (const CandidateScore& s : scores) {
      if (!s.valid) {
        return absl::StrCat("candidate ", s.candidate, ": ", s.invalid_reason);
      }
    }
    return "no candidates";
  }

  void AskProposer(const PairChoice& pair,
                   const std::vector<CandidateScore>& scores) {
    ProposalRequest req;
    req.kind = ProposalKind::kRefine;
    req.prompt = prompt_;
    req.rubric = rubric_;
    req.response_a = job_.candidates[pair.first].text;
    req.response_b = job_.candidates[pair.second].text;
    if (job_.refine.show_verdicts) {
      PairVerdicts v;
      v.a = Find(scores, pair.first)->verdicts;
      v.b = Find(scores, pair.second)->verdicts;
      req.verdicts = std::move(v);
    }
    req.limits = job_.validation.limits;
    req.deadline = job_.deadline;
    req.cancellation = job_.cancellation;
    proposer_->Propose(std::move(req), [self = shared_from_this(),
                                        pair](absl::StatusOr<ProposerReply> r) {
      self->OnProposal(pair, std::move(r));
    });
  }

  void OnProposal(const PairChoice& pair, absl::StatusOr<ProposerReply> reply) {
    if (job_.refine.exclude_used) {
      remaining_.erase(
          std::remove_if(
              remaining_.begin(), remaining_.end(),
              [&](uint32_t i) { return i == pair.first || i == pair.second; }),
          remaining_.end());
    }
    if (!reply.ok()) {
      return Reject(
          RejectionKind::kProposerError,
          absl::StrCat("proposer call failed (",
                       absl::StatusCodeToString(reply.status().code()),
                       "): ", reply.status().message()));
    }
    absl::StatusOr<ValidatedProposal> v =
        ReadProposalReply(*reply, rubric_.get(), job_.validation, ids_);
    if (!v.ok()) {
      return Reject(RejectionKind::kUnusable,
                    std::string(v.status().message()));
    }
    if (v->rubric.version == rubric_->version) {
      return Reject(RejectionKind::kUnchanged,
                    "the proposal left the rubric unchanged");
    }
    auto next = std::make_shared<const Rubric>(std::move(v->rubric));
    auto event = std::make_shared<ProposalAcceptedEvent>();
    event->iteration = iteration_;
    event->rubric = next;
    event->diff = DiffRubrics(*rubric_, *next);
    event->warnings = std::move(v->warnings);
    event->version =
        Adopt(next, "refined", {pair.first, pair.second}, reply->model);
    ++summary_.proposals_accepted;
    Score({pair.first, pair.second}, next,
          [self = shared_from_this(), event](std::vector<CandidateScore> s) {
            event->pair_scores = std::move(s);
            self->Emit(std::move(*event));
            self->NextIteration();
          });
  }

  void Reject(RejectionKind kind, std::string reason) {
    ++summary_.proposals_rejected;
    ProposalRejectedEvent e;
    e.iteration = iteration_;
    e.kind = kind;
    e.reason = std::move(reason);
    e.kept_version = rubric_->version;
    Emit(std::move(e));
    NextIteration();
  }

  void Finish(std::string reason) {
    const bool rescore = job_.refine.final_rescore &&
                         summary_.proposals_accepted > 0 && !Cancelled() &&
                         absl::Now() < job_.deadline;
    if (!rescore) {
      if (summary_.proposals_accepted == 0) {
        // The rubric never changed: "after" is "before".
        summary_.top_pair_gap_after = summary_.top_pair_gap_before;
        summary_.tied_at_top_after = summary_.tied_at_top_before;
        after_measured_ = before_measured_;
      }
      return EmitFinal(std::move(reason), true);
    }
    std::vector<uint32_t> all;
    for (uint32_t i = 0; i < job_.candidates.size(); ++i) all.push_back(i);
    Score(all, rubric_,
          [self = shared_from_this(),
           reason = std::move(reason)](std::vector<CandidateScore> s) mutable {
            const TopStats top = ComputeTopStats(ForSelection(s));
            self->summary_.top_pair_gap_after = top.top_pair_gap;
            self->summary_.tied_at_top_after = top.tied_at_top;
            self->after_measured_ = top.valid >= 2;
            self->EmitFinal(std::move(reason), true);
          });
  }

  void EmitFinal(std::string reason, bool ok) {
    FinalRefinementEvent e;
    e.rubric = rubric_;
    e.lineage = lineage_.entries();
    e.summary = summary_;
    e.summary.before_measured = before_measured_;
    e.summary.after_measured = after_measured_;
    e.stop_reason = std::move(reason);
    e.ok = ok;
    active_->fetch_sub(1);
    Emit(std::move(e));
  }

  void Emit(RefinementEvent e) { on_event_(std::move(e)); }

  bool Cancelled() const {
    return job_.cancellation != nullptr && job_.cancellation->cancelled();
  }

  const Grader* const grader_;
  RefineJob job_;
  const std::shared_ptr<Proposer> proposer_;
  RefinementEventCallback on_event_;
  const std::shared_ptr<std::atomic<size_t>> active_;
  std::string prompt_;
  std::string rubric_id_;
  uint32_t iterations_ = kDefaultIterations;
  uint32_t iteration_ = 0;
  std::vector<uint32_t> remaining_;
  std::shared_ptr<const Rubric> rubric_;
  RubricLineage lineage_;
  CriterionIdAllocator ids_;
  RefinementSummary summary_;
  bool before_measured_ = false;
  bool after_measured_ = false;
};

absl::Status CheckLimits(const ProposalLimits& l, const EngineLimits& limits) {
  if (!std::isfinite(l.min_weight) || !std::isfinite(l.max_weight) ||
      l.min_weight <= 0 || l.min_weight > l.max_weight) {
    return absl::InvalidArgumentError(absl::StrCat(
        "proposer.min_weight/max_weight: need 0 < min_weight <= max_weight, "
        "got ",
        l.min_weight, " and ", l.max_weight));
  }
  if (l.max_criteria == 0 || l.max_criteria > limits.max_criteria) {
    return absl::InvalidArgumentError(
        absl::StrCat("proposer.max_criteria: must be 1 to ",
                     limits.max_criteria, ", got ", l.max_criteria));
  }
  return absl::OkStatus();
}

absl::Status CheckCandidates(const std::vector<RefineCandidate>& candidates,
                             const EngineLimits& limits) {
  if (candidates.size() < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("candidates: need at least 2 candidate responses, got ",
                     candidates.size()));
  }
  if (candidates.size() > limits.max_candidates) {
    return absl::InvalidArgumentError(
        absl::StrCat("candidates: at most ", limits.max_candidates,
                     " candidate responses, got ", candidates.size()));
  }
  absl::flat_hash_map<absl::string_view, size_t> seen;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const std::string& text = candidates[i].text;
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("candidates[", i, "].text is empty"));
    }
    if (text.size() > limits.max_candidate_bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("candidates[", i, "].text is ", text.size(),
                       " bytes, more than ", limits.max_candidate_bytes));
    }
    auto [it, inserted] = seen.emplace(text, i);
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat(
          "candidates[", i, "].text duplicates candidates[", it->second, "]"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateRefineJob(const RefineJob& job,
                               const EngineLimits& limits) {
  if (!job.prompt.empty() && !job.messages.empty()) {
    return absl::InvalidArgumentError(
        "prompt and messages: give one of them, not both");
  }
  const size_t prompt_bytes = job.messages.empty()
                                  ? job.prompt.size()
                                  : CanonicalPrompt(job.messages).size();
  if (prompt_bytes == 0 &&
      (job.start == nullptr || job.start->prompt.empty())) {
    return absl::InvalidArgumentError(
        "prompt: required (plain text or messages)");
  }
  if (prompt_bytes > limits.max_prompt_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("prompt: ", prompt_bytes,
                                                   " bytes, more than ",
                                                   limits.max_prompt_bytes));
  }
  if (absl::Status s = CheckCandidates(job.candidates, limits); !s.ok()) {
    return s;
  }
  if (job.refine.iterations > limits.max_iterations) {
    return absl::InvalidArgumentError(
        absl::StrCat("refine.iterations: at most ", limits.max_iterations,
                     ", got ", job.refine.iterations));
  }
  if (job.refine.top_k > limits.max_top_k || job.refine.top_k == 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("refine.top_k: 0 (default) or 2 to ", limits.max_top_k,
                     ", got ", job.refine.top_k));
  }
  if (absl::Status s = CheckLimits(job.validation.limits, limits); !s.ok()) {
    return s;
  }
  if (job.start != nullptr) {
    Rubric copy = *job.start;
    if (copy.criteria.size() > limits.max_criteria) {
      return absl::InvalidArgumentError(
          absl::StrCat("rubric: ", copy.criteria.size(),
                       " criteria, more than ", limits.max_criteria));
    }
    if (absl::Status s = ValidateRubric(copy); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("rubric: ", s.message()));
    }
  }
  return absl::OkStatus();
}

RtdEngine::RtdEngine(const Grader* grader, EngineLimits limits)
    : grader_(grader),
      limits_(limits),
      active_(std::make_shared<std::atomic<size_t>>(0)) {}

absl::Status RtdEngine::Refine(RefineJob job,
                               std::shared_ptr<Proposer> proposer,
                               RefinementEventCallback on_event) {
  if (proposer == nullptr) {
    return absl::InvalidArgumentError("proposer: none given");
  }
  if (absl::Status s = ValidateRefineJob(job, limits_); !s.ok()) return s;
  if (active_->fetch_add(1) >= limits_.max_active) {
    active_->fetch_sub(1);
    return absl::ResourceExhaustedError(absl::StrCat(
        "already ", limits_.max_active, " refinements running; retry later"));
  }
  auto run =
      std::make_shared<Refinement>(grader_, std::move(job), std::move(proposer),
                                   std::move(on_event), active_);
  run->Begin();
  return absl::OkStatus();
}

}  // namespace rewardd

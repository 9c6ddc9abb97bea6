"""What rewardd's RubricService answers, as small frozen dataclasses.

GenerateRubric gives a `GeneratedRubric`; RefineRubric streams `RefineEvent`s,
one per step, in order:

    ScoresEvent      the candidates scored with the current rubric
    PairEvent        the two candidates the proposer is shown
    ProposalEvent    a proposal replaced the rubric (`generated` marks the
                     starting rubric, when the request had none)
    RejectedEvent    a proposal was rejected; the previous rubric stays
    FinalEvent       the last event: final rubric, lineage, summary

Every event has `kind` ("scores", "pair", "generated", "proposal",
"rejected", "final") and `iteration` (0 for the starting rubric, i for RtD
iteration i; FinalEvent: iterations run), so `match`/`if` on either works.
Enum values are their proto names as strings ("TOP2", ...).

Thread-safety: immutable values; picklable.
"""

import dataclasses
from typing import Any, Optional, Tuple, Union

from rewardd._stubs import reward_pb2, rubric_service_pb2
from rewardd.results import Criterion, Rubric, RubricVersion, lineage_from_proto

pb = rubric_service_pb2


def _rubric(r: Any) -> Rubric:
    return Rubric.from_rubric_proto(r)


def _criteria(cs: Any) -> Tuple[Criterion, ...]:
    return _rubric(reward_pb2.Rubric(criteria=list(cs))).criteria


@dataclasses.dataclass(frozen=True)
class GeneratedRubric:
    """A rubric written by the proposer (proto GenerateRubricResponse)."""

    rubric: Rubric
    #: Where it came from: origin "generated", the proposer and its model.
    provenance: RubricVersion
    #: What validation changed (duplicates merged, weights clamped, ...).
    warnings: Tuple[str, ...] = ()

    @classmethod
    def from_proto(cls, r: "pb.GenerateRubricResponse") -> "GeneratedRubric":
        return cls(_rubric(r.rubric), RubricVersion.from_proto(r.provenance), tuple(r.warnings))


@dataclasses.dataclass(frozen=True)
class CandidateScore:
    """One candidate's score under a rubric (proto CandidateScore)."""

    #: Index into the request's candidates.
    candidate: int
    source: str
    #: Sum of the weights of met criteria, and of positive weights.
    score: float
    max_score: float
    #: False: the verifier failed for this candidate; it is not ranked.
    valid: bool
    invalid_reason: str = ""
    #: Ids of the criteria the verifier found met.
    met: Tuple[str, ...] = ()

    @classmethod
    def from_proto(cls, s: "pb.CandidateScore") -> "CandidateScore":
        return cls(s.candidate, s.source, s.score, s.max_score, s.valid, s.invalid_reason,
                   tuple(s.met))


def _scores(ss: Any) -> Tuple[CandidateScore, ...]:
    return tuple(CandidateScore.from_proto(s) for s in ss)


@dataclasses.dataclass(frozen=True)
class ScoresEvent:
    """The candidates scored with the current rubric (proto IterationScores)."""

    iteration: int
    rubric_version: str
    scores: Tuple[CandidateScore, ...]
    top_score: float
    #: Candidates scoring exactly top_score (2 or more: the rubric ties them).
    tied_at_top: int
    kind: str = "scores"


@dataclasses.dataclass(frozen=True)
class PairEvent:
    """The pair the proposer is shown (proto PairChosen); first scores >= second."""

    iteration: int
    first: int
    second: int
    #: "TOP2" or "TOP2_DIVERSE".
    selection: str
    #: TOP2_DIVERSE: criteria on which the pair's verdicts differ.
    verdict_differences: int = 0
    kind: str = "pair"


@dataclasses.dataclass(frozen=True)
class Reworded:
    id: str
    old_text: str
    new_text: str


@dataclasses.dataclass(frozen=True)
class WeightChange:
    id: str
    old_weight: float
    new_weight: float


@dataclasses.dataclass(frozen=True)
class RubricDiff:
    """How a rubric differs from the one before (proto RubricDiff)."""

    added: Tuple[Criterion, ...] = ()
    removed: Tuple[Criterion, ...] = ()
    reworded: Tuple[Reworded, ...] = ()
    weight_changes: Tuple[WeightChange, ...] = ()

    @classmethod
    def from_proto(cls, d: "pb.RubricDiff") -> "RubricDiff":
        return cls(_criteria(d.added), _criteria(d.removed),
                   tuple(Reworded(w.id, w.old_text, w.new_text) for w in d.reworded),
                   tuple(WeightChange(w.id, w.old_weight, w.new_weight)
                         for w in d.weight_changes))


@dataclasses.dataclass(frozen=True)
class ProposalEvent:
    """A proposal that replaced the rubric (proto ProposalAccepted); kind
    "generated" for the starting rubric generated first, else "proposal"."""

    iteration: int
    rubric: Rubric
    diff: RubricDiff
    version: RubricVersion
    #: What validation changed (duplicates merged, weights clamped, ...).
    warnings: Tuple[str, ...] = ()
    #: The pair scored with the new rubric: does it now tell them apart?
    pair_scores: Tuple[CandidateScore, ...] = ()
    kind: str = "proposal"


@dataclasses.dataclass(frozen=True)
class RejectedEvent:
    """A rejected proposal (proto ProposalRejected): the rubric of version
    `kept_version` stays in force."""

    iteration: int
    reason: str
    kept_version: str
    kind: str = "rejected"


@dataclasses.dataclass(frozen=True)
class RefinementSummary:
    """Over all candidates, with the starting rubric (before) and the final
    one (after): the gap between the two highest scores and how many tie at
    the top (proto RefinementSummary)."""

    top_pair_gap_before: float
    tied_at_top_before: int
    top_pair_gap_after: float
    tied_at_top_after: int
    iterations_run: int
    proposals_accepted: int
    proposals_rejected: int
    #: Whether the before / after figures were measured.
    before_measured: bool
    after_measured: bool

    @classmethod
    def from_proto(cls, s: "pb.RefinementSummary") -> "RefinementSummary":
        return cls(s.top_pair_gap_before, s.tied_at_top_before, s.top_pair_gap_after,
                   s.tied_at_top_after, s.iterations_run, s.proposals_accepted,
                   s.proposals_rejected, s.before_measured, s.after_measured)


@dataclasses.dataclass(frozen=True)
class FinalEvent:
    """The refinement's result (proto FinalEvent): always the last event of
    a stream that ends OK."""

    rubric: Rubric
    #: One entry per version, oldest first: the starting rubric, then each
    #: accepted refinement.
    lineage: Tuple[RubricVersion, ...]
    summary: RefinementSummary
    #: Why the loop ended: "iterations done", "fewer than 2 candidates left
    #: ...", "deadline", "cancelled", "verifier failed: ...".
    stop_reason: str
    kind: str = "final"

    @property
    def iteration(self) -> int:
        return self.summary.iterations_run


RefineEvent = Union[ScoresEvent, PairEvent, ProposalEvent, RejectedEvent, FinalEvent]


def _proposal(p: "pb.ProposalAccepted", kind: str) -> ProposalEvent:
    return ProposalEvent(p.iteration, _rubric(p.rubric), RubricDiff.from_proto(p.diff),
                         RubricVersion.from_proto(p.version), tuple(p.warnings),
                         _scores(p.pair_scores), kind)


def event_from_proto(e: "pb.RefineRubricEvent") -> Optional[RefineEvent]:
    """The dataclass of one RefineRubricEvent; None for an event kind this
    client does not know (a newer server's), which the iterators skip."""
    which = e.WhichOneof("event")
    if which == "scores":
        s = e.scores
        return ScoresEvent(s.iteration, s.rubric_version, _scores(s.scores), s.top_score,
                           s.tied_at_top)
    if which == "pair":
        p = e.pair
        return PairEvent(p.iteration, p.first, p.second, pb.PairSelection.Name(p.selection),
                         p.verdict_differences)
    if which in ("generated", "proposal"):
        return _proposal(getattr(e, which), which)
    if which == "rejected":
        r = e.rejected
        return RejectedEvent(r.iteration, r.reason, r.kept_version)
    if which == "final":
        f = e.final
        return FinalEvent(_rubric(f.rubric), lineage_from_proto(f.lineage),
                          RefinementSummary.from_proto(f.summary), f.stop_reason)
    return None

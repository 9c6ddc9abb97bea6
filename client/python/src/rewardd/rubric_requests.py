"""Requests to rewardd's RubricService (rubric generation and refinement),
built from plain Python values and checked before anything is sent.

    generate_request("How should an adult treat a mild fever?", proposer="writer")
    refine_request(prompt, ["response A", "response B"], rubric={"criteria": [...]},
                   refine=RefineOptions(iterations=2))

Bad values raise ValueError (or TypeError for a value of the wrong type)
naming the field, like rewardd.requests. See protos/reward/v1/
rubric_service.proto for what each field means on the server.

Thread-safety: pure functions and immutable values.
"""

import dataclasses
from typing import Any, List, Mapping, Optional, Sequence, Tuple, Union

from rewardd._stubs import reward_pb2, rubric_service_pb2
from rewardd.requests import OptionsLike, Prompt, _messages, _rubric, options_proto
from rewardd.results import Rubric

pb = rubric_service_pb2

# The server's limits (rubric_service.proto), checked here so that a bad
# request fails before a connection is made.
MIN_CANDIDATES = 2
MAX_CANDIDATES = 64
MAX_ITERATIONS = 16


@dataclasses.dataclass(frozen=True)
class ProposerOptions:
    """proto ProposerOptions: which proposer and what it may propose."""

    #: Proposer name from the server's judges config; "" = the default one.
    proposer: str = ""
    #: Most criteria a rubric may have (0 = the server's default).
    max_criteria: int = 0
    #: Allowed weights (0/0 = the paper's 1..3).
    min_weight: float = 0.0
    max_weight: float = 0.0
    #: Whether criteria for undesirable behaviour (negative weights) are allowed.
    allow_pitfalls: bool = False

    def to_proto(self) -> "pb.ProposerOptions":
        if not isinstance(self.proposer, str):
            raise TypeError("proposer: must be a string, got %s" % type(self.proposer).__name__)
        _non_negative_int("proposer.max_criteria", self.max_criteria)
        if self.max_weight and self.min_weight > self.max_weight:
            raise ValueError("proposer.min_weight: %r is above max_weight %r"
                             % (self.min_weight, self.max_weight))
        return pb.ProposerOptions(proposer=self.proposer, max_criteria=self.max_criteria,
                                  min_weight=self.min_weight, max_weight=self.max_weight,
                                  allow_pitfalls=self.allow_pitfalls)


@dataclasses.dataclass(frozen=True)
class RefineOptions:
    """proto RefineOptions: how Refinement-through-Differentiation runs."""

    #: RtD iterations (0 = the server's default, 4; at most 16).
    iterations: int = 0
    #: "TOP2" (the paper's rule) or "TOP2_DIVERSE" (None = TOP2).
    pair_selection: Optional[str] = None
    #: TOP2_DIVERSE: how many top candidates to consider (0 = 4).
    top_k: int = 0
    #: Drop the pair used from later iterations (None = the server's default, True).
    exclude_used: Optional[bool] = None
    #: Show the proposer the verifier's per-criterion verdicts for the pair.
    show_verdicts: bool = False
    #: Score every candidate with the final rubric once more (None = True).
    final_rescore: Optional[bool] = None

    def to_proto(self) -> "pb.RefineOptions":
        _non_negative_int("refine.iterations", self.iterations)
        if self.iterations > MAX_ITERATIONS:
            raise ValueError("refine.iterations: at most %d, got %d"
                             % (MAX_ITERATIONS, self.iterations))
        _non_negative_int("refine.top_k", self.top_k)
        o = pb.RefineOptions(iterations=self.iterations, top_k=self.top_k,
                             show_verdicts=self.show_verdicts)
        if self.pair_selection:
            try:
                o.pair_selection = pb.PairSelection.Value(str(self.pair_selection).upper())
            except ValueError:
                raise ValueError("refine.pair_selection: unknown value %r (one of %s)" % (
                    self.pair_selection, ", ".join(pb.PairSelection.keys()[1:]))) from None
        if self.exclude_used is not None:
            o.exclude_used = bool(self.exclude_used)
        if self.final_rescore is not None:
            o.final_rescore = bool(self.final_rescore)
        return o


ProposerLike = Union[str, ProposerOptions, Mapping[str, Any], None]
RefineLike = Union[RefineOptions, Mapping[str, Any], None]
#: A candidate: its text, a (text, source) pair, or {"text": ..., "source": ...}.
CandidateLike = Union[str, Tuple[str, str], Mapping[str, str]]
RubricLike = Union[Rubric, Mapping[str, Any], "reward_pb2.Rubric", None]
#: How the verifier grades: a judge name, GradeOptions or a dict of its fields.
VerifierLike = Union[str, OptionsLike]


def _non_negative_int(field: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("%s: must be an integer, got %s" % (field, type(value).__name__))
    if value < 0:
        raise ValueError("%s: must not be negative, got %d" % (field, value))


def _from(value: Any, cls: Any, field: str) -> Any:
    """An options dataclass from itself, a dict of its fields, or None."""
    if value is None:
        return cls()
    if isinstance(value, cls):
        return value
    if isinstance(value, Mapping):
        try:
            return cls(**value)
        except TypeError as e:
            raise TypeError("%s: %s" % (field, e)) from None
    raise TypeError("%s: expected rewardd.%s or a dict, got %s"
                    % (field, cls.__name__, type(value).__name__))


def proposer_proto(proposer: ProposerLike) -> "pb.ProposerOptions":
    """ProposerOptions from a proposer name, ProposerOptions, a dict or None."""
    if isinstance(proposer, str):
        return ProposerOptions(proposer=proposer).to_proto()
    return _from(proposer, ProposerOptions, "proposer").to_proto()


def _fill_prompt(req: Any, prompt: Prompt) -> None:
    if isinstance(prompt, str):
        if not prompt.strip():
            raise ValueError("prompt: must not be empty")
        req.prompt = prompt
    elif prompt is None:
        raise ValueError("prompt: required (text or chat messages)")
    elif isinstance(prompt, Sequence):
        if not prompt:
            raise ValueError("prompt: must not be an empty list of messages")
        req.messages.extend(_messages(prompt, "prompt"))
    else:
        raise TypeError("prompt: must be a string or a list of chat messages, got %s"
                        % type(prompt).__name__)


def _strings(field: str, values: Optional[Sequence[str]]) -> List[str]:
    if values is None:
        return []
    if isinstance(values, str):
        raise TypeError("%s: must be a list of strings, not a string" % field)
    out = []
    for i, v in enumerate(values):
        if not isinstance(v, str):
            raise TypeError("%s[%d]: must be a string, got %s" % (field, i, type(v).__name__))
        out.append(v)
    return out


def generate_request(prompt: Prompt, *, reference_responses: Optional[Sequence[str]] = None,
                     proposer: ProposerLike = None,
                     rubric_id: str = "") -> "pb.GenerateRubricRequest":
    """A GenerateRubricRequest (see RewardClient.generate_rubric)."""
    req = pb.GenerateRubricRequest(rubric_id=rubric_id)
    _fill_prompt(req, prompt)
    req.reference_responses.extend(_strings("reference_responses", reference_responses))
    req.options.CopyFrom(proposer_proto(proposer))
    return req


def _candidate(i: int, c: Any) -> "pb.CandidateResponse":
    field = "candidates[%d]" % i
    if isinstance(c, str):
        text, source = c, ""
    elif isinstance(c, tuple) and len(c) == 2:
        text, source = c
    elif isinstance(c, Mapping):
        unknown = set(c) - {"text", "source"}
        if unknown or "text" not in c:
            raise ValueError("%s: a dict needs 'text' (and optionally 'source'), got keys %s"
                             % (field, sorted(c)))
        text, source = c["text"], c.get("source", "")
    else:
        raise TypeError("%s: must be a string, a (text, source) pair or a dict, got %s"
                        % (field, type(c).__name__))
    if not isinstance(text, str) or not isinstance(source, str):
        raise TypeError("%s: text and source must be strings" % field)
    return pb.CandidateResponse(text=text, source=source)


def _candidates(candidates: Sequence[CandidateLike]) -> List["pb.CandidateResponse"]:
    if isinstance(candidates, (str, Mapping)) or not isinstance(candidates, Sequence):
        raise TypeError("candidates: must be a list, got %s" % type(candidates).__name__)
    if not MIN_CANDIDATES <= len(candidates) <= MAX_CANDIDATES:
        raise ValueError("candidates: need at least %d and at most %d, got %d"
                         % (MIN_CANDIDATES, MAX_CANDIDATES, len(candidates)))
    out, seen = [], {}
    for i, c in enumerate(candidates):
        proto = _candidate(i, c)
        if proto.text in seen:
            raise ValueError("candidates[%d]: same text as candidates[%d]" % (i, seen[proto.text]))
        seen[proto.text] = i
        out.append(proto)
    return out


def _starting_rubric(req: Any, rubric: RubricLike, rubric_set: str, rubric_id: str) -> None:
    if rubric is not None:
        if rubric_set or rubric_id:
            raise ValueError("rubric: an inline rubric cannot be combined with rubric_set/rubric_id")
        if isinstance(rubric, Rubric):
            rubric = rubric.to_dict()
        req.rubric.CopyFrom(_rubric(rubric))
    elif rubric_set or rubric_id:
        if not (rubric_set and rubric_id):
            raise ValueError("rubric_set, rubric_id: a rubric by reference needs both")
        req.rubric_ref.CopyFrom(pb.RubricRef(rubric_set=rubric_set, rubric_id=rubric_id))


def refine_request(prompt: Prompt, candidates: Sequence[CandidateLike], *,
                   rubric: RubricLike = None, rubric_set: str = "", rubric_id: str = "",
                   refine: RefineLike = None, proposer: ProposerLike = None,
                   verifier: VerifierLike = None,
                   deadline_seconds: float = 0) -> "pb.RefineRubricRequest":
    """A RefineRubricRequest (see RewardClient.refine_rubric)."""
    req = pb.RefineRubricRequest()
    _fill_prompt(req, prompt)
    req.candidates.extend(_candidates(candidates))
    _starting_rubric(req, rubric, rubric_set, rubric_id)
    req.refine.CopyFrom(_from(refine, RefineOptions, "refine").to_proto())
    req.proposer.CopyFrom(proposer_proto(proposer))
    if isinstance(verifier, str):
        verifier = {"judge": verifier}
    try:
        o = options_proto(verifier)
    except (TypeError, ValueError) as e:
        raise type(e)("verifier: %s" % str(e).replace("options: ", "", 1)) from None
    if o is not None:
        req.verifier.CopyFrom(o)
    if isinstance(deadline_seconds, bool) or not isinstance(deadline_seconds, (int, float)):
        raise TypeError("deadline_seconds: must be a number, got %s"
                        % type(deadline_seconds).__name__)
    if deadline_seconds < 0:
        raise ValueError("deadline_seconds: must not be negative, got %r" % (deadline_seconds,))
    req.deadline_ms = int(round(deadline_seconds * 1000))
    return req


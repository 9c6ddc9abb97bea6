"""What rewardd answers, as small frozen dataclasses.

A `GradeResult` is a reward only when `valid` is true: when it is false,
`reward` is 0 and must not be used (`invalid_reason` says why; each
criterion's `status` says which judge call failed). Enum values are their
proto names as strings ("MET", "OK", "JUDGE_ERROR", ...).

Thread-safety: immutable values; picklable.
"""

import collections.abc
import dataclasses
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from rewardd._stubs import reward_pb2
from rewardd.errors import RewardError, status_code

_VERDICT = reward_pb2.CriterionResult.Verdict
_STATUS = reward_pb2.CriterionResult.Status


@dataclasses.dataclass(frozen=True)
class CriterionVerdict:
    """One criterion's verdict (proto CriterionResult)."""

    id: str
    weight: float
    #: "MET", "UNMET" or "UNKNOWN" (no verdict: see status).
    verdict: str
    #: "OK", "JUDGE_ERROR", "PARSE_ERROR", "MISSING", "TIMEOUT", "SKIPPED".
    status: str
    #: The judge's probability that the criterion is met, when it has one.
    probability: Optional[float] = None
    explanation: str = ""
    cached: bool = False
    agreement: Optional[float] = None

    @property
    def met(self) -> Optional[bool]:
        """True / False with a verdict, None without one."""
        if self.verdict == "MET":
            return True
        if self.verdict == "UNMET":
            return False
        return None

    @classmethod
    def from_proto(cls, c: "reward_pb2.CriterionResult") -> "CriterionVerdict":
        return cls(id=c.id, weight=c.weight, verdict=_VERDICT.Name(c.verdict),
                   status=_STATUS.Name(c.status),
                   probability=c.probability if c.HasField("probability") else None,
                   explanation=c.explanation, cached=c.cached,
                   agreement=c.agreement if c.HasField("agreement") else None)


def _frozen(cls: Any, **fields: Any) -> Any:
    """An instance of the frozen dataclass `cls` with every field given.

    What the generated __init__ does (it sets each field through
    object.__setattr__, which cost more than the rest of converting a
    response), in one dict update. Callers pass every field.
    """
    obj = object.__new__(cls)
    obj.__dict__.update(fields)
    return obj


class _LazyVerdicts(collections.abc.Sequence):
    """A response's CriterionVerdicts, made from the proto on first use.

    A GRPO step reads the rewards of thousands of responses and the verdicts
    of few: converting every criterion of every response up front was most
    of the Python client's CPU per GradeGroup. It behaves as the tuple it
    stands for (equality with tuples, hashing, repr, pickling and deepcopy
    give that tuple), and converting twice from two threads is harmless.
    One difference: `dataclasses.asdict(result)` copies the verdicts as
    CriterionVerdict values, not dicts (apply asdict to each if needed).
    """

    __slots__ = ("_protos", "_items")

    def __init__(self, protos: Sequence["reward_pb2.CriterionResult"]) -> None:
        self._protos: Optional[Sequence[Any]] = protos
        self._items: Optional[Tuple[CriterionVerdict, ...]] = None

    def _tuple(self) -> Tuple[CriterionVerdict, ...]:
        if self._items is None:
            self._items = tuple(CriterionVerdict.from_proto(c) for c in self._protos or ())
            self._protos = None
        return self._items

    def __len__(self) -> int:
        return len(self._tuple()) if self._protos is None else len(self._protos)

    def __getitem__(self, index: Any) -> Any:
        return self._tuple()[index]

    def __iter__(self) -> Iterator[CriterionVerdict]:
        return iter(self._tuple())

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, (tuple, _LazyVerdicts)):
            return self._tuple() == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._tuple())

    def __repr__(self) -> str:
        return repr(self._tuple())

    def __reduce__(self) -> Any:
        return (tuple, (self._tuple(),))

    def __deepcopy__(self, memo: Any) -> Tuple[CriterionVerdict, ...]:
        return self._tuple()  # immutable values: no copy needed


@dataclasses.dataclass(frozen=True)
class Timings:
    queue_seconds: float = 0.0
    judge_seconds: float = 0.0
    total_seconds: float = 0.0


@dataclasses.dataclass(frozen=True)
class GradeResult:
    """One graded response (proto GradeResponse)."""

    request_id: str
    #: Meaningful only when `valid`; 0 otherwise.
    reward: float
    valid: bool
    invalid_reason: str = ""
    score: float = 0.0
    max_score: float = 0.0
    #: A tuple of CriterionVerdict (converted from the proto on first use).
    criteria: Sequence[CriterionVerdict] = ()
    rubric_set: str = ""
    rubric_id: str = ""
    rubric_version: str = ""
    judge: str = ""
    #: The soft reward (probabilities instead of 0/1), when every criterion has one.
    expected_reward: Optional[float] = None
    timings: Timings = Timings()
    #: Set on stream / group items the server rejected (the call succeeded).
    error: Optional[RewardError] = None

    @property
    def verdicts(self) -> Dict[str, Optional[bool]]:
        """criterion id -> met (None when it has no verdict)."""
        return {c.id: c.met for c in self.criteria}

    @property
    def met_count(self) -> int:
        return sum(1 for c in self.criteria if c.verdict == "MET")

    @property
    def failed_criteria(self) -> List[str]:
        """Ids of criteria without a verdict (status other than OK)."""
        return [c.id for c in self.criteria if c.status != "OK"]

    @classmethod
    def from_proto(cls, r: "reward_pb2.GradeResponse") -> "GradeResult":
        error = None
        if r.HasField("error"):
            error = RewardError(status_code(r.error.code), r.error.message)
        t = r.timings
        return _frozen(cls, request_id=r.request_id, reward=r.reward, valid=r.valid,
                       invalid_reason=r.invalid_reason, score=r.score, max_score=r.max_score,
                       criteria=_LazyVerdicts(r.criteria),
                       rubric_set=r.rubric_set, rubric_id=r.rubric_id,
                       rubric_version=r.rubric_version, judge=r.judge,
                       expected_reward=(r.expected_reward if r.HasField("expected_reward")
                                        else None),
                       timings=_frozen(Timings, queue_seconds=t.queue_seconds,
                                       judge_seconds=t.judge_seconds,
                                       total_seconds=t.total_seconds),
                       error=error)


@dataclasses.dataclass(frozen=True)
class GroupResult:
    """A graded GRPO group (proto GradeGroupResponse); results in request order."""

    request_id: str
    results: Tuple[GradeResult, ...]
    #: Over valid results only (population std: what GRPO normalizes with).
    mean_reward: float
    std_reward: float
    valid_count: int

    @classmethod
    def from_proto(cls, r: "reward_pb2.GradeGroupResponse") -> "GroupResult":
        return cls(request_id=r.request_id,
                   results=tuple(GradeResult.from_proto(x) for x in r.results),
                   mean_reward=r.mean_reward, std_reward=r.std_reward,
                   valid_count=r.valid_count)


@dataclasses.dataclass(frozen=True)
class RubricSetInfo:
    name: str
    version: str
    format: str
    rubric_count: int
    criterion_count: int
    source_path: str
    loaded_at_unix: int

    @classmethod
    def from_proto(cls, s: "reward_pb2.RubricSetInfo") -> "RubricSetInfo":
        return cls(s.name, s.version, s.format, s.rubric_count, s.criterion_count,
                   s.source_path, s.loaded_at_unix)


@dataclasses.dataclass(frozen=True)
class Criterion:
    id: str
    text: str
    weight: float
    tags: Tuple[str, ...] = ()
    #: The machine check as its proto JSON mapping ({} when none).
    check: Dict[str, object] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Rubric:
    """One rubric of a loaded set (proto GetRubricResponse)."""

    id: str
    prompt: str
    criteria: Tuple[Criterion, ...]
    version: str
    rubric_set: str
    set_version: str

    @classmethod
    def from_proto(cls, r: "reward_pb2.GetRubricResponse") -> "Rubric":
        from google.protobuf import json_format

        criteria = tuple(
            Criterion(c.id, c.text, c.weight, tuple(c.tags),
                      json_format.MessageToDict(c.check) if c.HasField("check") else {})
            for c in r.rubric.criteria)
        return cls(r.rubric.id, r.rubric.prompt, criteria, r.rubric.version, r.rubric_set,
                   r.set_version)

"""What rewardd answers, as small frozen dataclasses.

A `GradeResult` is a reward only when `valid` is true: when it is false,
`reward` is 0 and must not be used (`invalid_reason` says why; each
criterion's `status` says which judge call failed). Enum values are their
proto names as strings ("MET", "OK", "JUDGE_ERROR", ...).

A GradeResult from a client's answer reads its fields other than
`request_id`, `reward` and `valid` from the answer on first use (see
GradeResult.__getattr__); it reads, compares, hashes, pickles and copies as
the value it stands for.

Thread-safety: immutable values; picklable.
"""

import collections.abc
import dataclasses
import datetime
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from rewardd import _lazy_proto
from rewardd._stubs import reward_pb2
from rewardd.errors import RewardError, status_code

_VERDICT = reward_pb2.CriterionResult.Verdict
_STATUS = reward_pb2.CriterionResult.Status
# Enum number -> name (a number missing here goes to .Name, which raises).
_VERDICT_NAMES = {number: name for name, number in _VERDICT.items()}
_STATUS_NAMES = {number: name for name, number in _STATUS.items()}


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
        # Runs once per criterion of every response whose verdicts are read
        # (320 per GradeGroup of 16 x 20): enum names from dicts and one dict
        # update instead of EnumTypeWrapper.Name and the frozen __init__.
        v, st = c.verdict, c.status
        obj = object.__new__(cls)
        obj.__dict__.update(id=c.id, weight=c.weight,
                            verdict=_VERDICT_NAMES.get(v) or _VERDICT.Name(v),
                            status=_STATUS_NAMES.get(st) or _STATUS.Name(st),
                            probability=c.probability if c.HasField("probability") else None,
                            explanation=c.explanation, cached=c.cached,
                            agreement=c.agreement if c.HasField("agreement") else None)
        return obj


def _frozen(cls: Any, **fields: Any) -> Any:
    """An instance of the frozen dataclass `cls` with every field given.

    What the generated __init__ does (it sets each field through
    object.__setattr__, which cost more than the rest of converting a
    response), in one dict update. Callers pass every field, except
    GradeResult.from_proto, which leaves a client answer's later fields to
    _fill_rest.
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

    def __init__(self, protos: Sequence[Any]) -> None:
        """`protos`: CriterionResult messages or their serialized bytes."""
        self._protos: Optional[Sequence[Any]] = protos
        self._items: Optional[Tuple[CriterionVerdict, ...]] = None

    def _tuple(self) -> Tuple[CriterionVerdict, ...]:
        if self._items is None:
            # Serialized CriterionResults when the answer was parsed with
            # _lazy_proto (the clients' Grade / GradeGroup), protos otherwise.
            protos = self._protos or ()
            if protos and isinstance(protos[0], bytes):
                protos = _lazy_proto.parse_criteria(protos)
            convert = CriterionVerdict.from_proto
            self._items = tuple([convert(c) for c in protos])
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
        obj = _frozen(cls, request_id=r.request_id, reward=r.reward, valid=r.valid)
        if type(r) is _lazy_proto.GradeResponse:
            # A client's answer (private: nothing else can change it): the
            # other fields are read on first use (see __getattr__).
            obj.__dict__["_proto"] = r
        else:
            _fill_rest(obj.__dict__, r)
        return obj

    # Reached only for a name missing from the instance: a result from a
    # client's answer whose fields beyond request_id, reward and valid were
    # not read yet (their class defaults are removed below the class, so
    # that lookups get here). A trainer reads the rewards of every response
    # and the rest of few: building all 14 fields of all 16 results of a
    # GradeGroup was the largest piece of the client's own Python per call.
    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        proto = d.get("_proto")
        if proto is not None:
            _fill_rest(d, proto)
        try:
            return d[name]
        except KeyError:
            raise AttributeError("%r object has no attribute %r"
                                 % (type(self).__name__, name)) from None

    def __getstate__(self) -> Dict[str, Any]:
        """Pickles (and copies) with every field read and no proto."""
        d = self.__dict__
        proto = d.get("_proto")
        if proto is not None:
            _fill_rest(d, proto)
        return {k: v for k, v in d.items() if k != "_proto"}


# Fields of GradeResult read at once by from_proto (the rest: _fill_rest).
_EAGER = ("request_id", "reward", "valid")
for _field in dataclasses.fields(GradeResult):
    if _field.name not in _EAGER and _field.name in GradeResult.__dict__:
        delattr(GradeResult, _field.name)  # __init__ keeps its defaults


def _fill_rest(d: Dict[str, Any], r: Any) -> None:
    """Sets every GradeResult field but _EAGER's in `d` from proto `r`.

    Idempotent and harmless if two threads race: both write equal values.
    """
    error = None
    if r.HasField("error"):
        error = RewardError(status_code(r.error.code), r.error.message)
    t = r.timings
    d.update(invalid_reason=r.invalid_reason, score=r.score, max_score=r.max_score,
             criteria=_LazyVerdicts(r.criteria), rubric_set=r.rubric_set,
             rubric_id=r.rubric_id, rubric_version=r.rubric_version, judge=r.judge,
             expected_reward=(r.expected_reward if r.HasField("expected_reward") else None),
             timings=_frozen(Timings, queue_seconds=t.queue_seconds,
                             judge_seconds=t.judge_seconds, total_seconds=t.total_seconds),
             error=error)
    d.pop("_proto", None)


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
    """A loaded rubric set (proto RubricSetInfo)."""

    name: str
    version: str
    format: str
    rubric_count: int
    criterion_count: int
    source_path: str
    loaded_at_unix: int
    #: Sets written by `reward-cli refine` / `generate` (the file's
    #: "provenance"): the set its rubrics were derived from, that set's
    #: version, and what wrote the file. "" for other sets.
    derived_from: str = ""
    derived_from_version: str = ""
    produced_by: str = ""

    @classmethod
    def from_proto(cls, s: "reward_pb2.RubricSetInfo") -> "RubricSetInfo":
        return cls(s.name, s.version, s.format, s.rubric_count, s.criterion_count,
                   s.source_path, s.loaded_at_unix, s.derived_from, s.derived_from_version,
                   s.produced_by)


@dataclasses.dataclass(frozen=True)
class RubricVersion:
    """Where one version of a rubric came from (proto RubricVersionInfo)."""

    #: Content hash of the rubric (Rubric.version).
    version: str
    #: The version it was derived from; "" for the first one.
    parent_version: str = ""
    #: 0 = the starting rubric (given or generated); i = after RtD iteration i.
    iteration: int = 0
    #: "given", "generated", "refined".
    origin: str = ""
    #: The proposer's name and model ("" for a given rubric).
    proposer: str = ""
    proposer_model: str = ""
    #: Version of the proposer prompt templates used.
    template_version: str = ""
    #: The candidate indices the refinement was shown; () for other origins.
    pair: Tuple[int, ...] = ()

    @classmethod
    def from_proto(cls, v: "reward_pb2.RubricVersionInfo") -> "RubricVersion":
        return cls(version=v.version, parent_version=v.parent_version, iteration=v.iteration,
                   origin=v.origin, proposer=v.proposer, proposer_model=v.proposer_model,
                   template_version=v.template_version, pair=tuple(v.pair))


def lineage_from_proto(versions: Sequence["reward_pb2.RubricVersionInfo"]) -> Tuple[RubricVersion, ...]:
    return tuple(RubricVersion.from_proto(v) for v in versions)


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
    """A rubric: one of a loaded set (proto GetRubricResponse), or one that
    RubricService generated or refined (then rubric_set and set_version are
    "")."""

    id: str
    prompt: str
    criteria: Tuple[Criterion, ...]
    version: str
    rubric_set: str = ""
    set_version: str = ""
    #: The versions this rubric went through, oldest first, when its file
    #: records them (sets written by `reward-cli refine`); () otherwise. The
    #: last entry is the version written (equal to `version` unless the
    #: criteria were edited since).
    lineage: Tuple[RubricVersion, ...] = ()

    @classmethod
    def from_proto(cls, r: "reward_pb2.GetRubricResponse") -> "Rubric":
        return cls.from_rubric_proto(r.rubric, rubric_set=r.rubric_set, set_version=r.set_version,
                                     lineage=lineage_from_proto(r.lineage))

    @classmethod
    def from_rubric_proto(cls, r: "reward_pb2.Rubric", *, rubric_set: str = "",
                          set_version: str = "",
                          lineage: Tuple[RubricVersion, ...] = ()) -> "Rubric":
        """A Rubric from a proto Rubric (e.g. one RubricService returned)."""
        from google.protobuf import json_format

        criteria = tuple(
            Criterion(c.id, c.text, c.weight, tuple(c.tags),
                      json_format.MessageToDict(c.check) if c.HasField("check") else {})
            for c in r.criteria)
        return cls(r.id, r.prompt, criteria, r.version, rubric_set, set_version, lineage)

    def to_dict(self) -> Dict[str, Any]:
        """The rubric in the proto JSON mapping: what `grade(rubric=...)` and
        `refine_rubric(rubric=...)` take inline."""
        criteria = []
        for c in self.criteria:
            item: Dict[str, Any] = {"id": c.id, "text": c.text, "weight": c.weight}
            if c.tags:
                item["tags"] = list(c.tags)
            if c.check:
                item["check"] = dict(c.check)
            criteria.append(item)
        return {"id": self.id, "prompt": self.prompt, "criteria": criteria}


@dataclasses.dataclass(frozen=True)
class SaturatedRubric:
    """A rubric whose GradeGroup calls saturated recently: two or more valid
    responses tied at the maximum reward (proto SaturatedRubric). See
    docs/observability.md, "Tail saturation"."""

    rubric_set: str
    rubric_id: str
    #: Rubric.version hash and the set version of the last saturated group.
    rubric_version: str
    set_version: str
    #: Groups tied at the maximum reward, and all groups graded with this
    #: rubric since it first saturated.
    saturated_groups: int
    groups: int
    #: When it last saturated: Unix seconds (float), see `last_saturated`.
    last_saturated_unix: float
    #: The ranking score: saturated groups, each weighted by
    #: 2^(-age / half-life) (the server's --saturation_half_life_seconds).
    score: float

    @property
    def last_saturated(self) -> datetime.datetime:
        """`last_saturated_unix` as an aware UTC datetime."""
        return datetime.datetime.fromtimestamp(self.last_saturated_unix, datetime.timezone.utc)

    @property
    def saturated_fraction(self) -> float:
        """saturated_groups / groups (0 when no group was counted)."""
        return self.saturated_groups / self.groups if self.groups else 0.0

    @classmethod
    def from_proto(cls, r: "reward_pb2.SaturatedRubric") -> "SaturatedRubric":
        return cls(rubric_set=r.rubric_set, rubric_id=r.rubric_id,
                   rubric_version=r.rubric_version, set_version=r.set_version,
                   saturated_groups=r.saturated_groups, groups=r.groups,
                   last_saturated_unix=r.last_saturated_unix, score=r.score)

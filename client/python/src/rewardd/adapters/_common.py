"""What every framework adapter shares: the rubric reference, the on_invalid
policy and its counters, per-criterion summaries, and grouping.

The rubric reference (a dataset's label / ground truth / answer column) is
one of:
  - a rubric id (str): the rubric of that id in the adapter's `rubric_set`;
  - a dict, or a JSON object text, with `rubric_set` and/or `rubric_id`, or
    an inline `rubric` (proto JSON mapping); other keys are an error;
  - None or "": the rubric of `rubric_set` whose prompt equals the prompt.

on_invalid (a result with valid=false must never silently become a reward):
  "raise" -> InvalidRewardError; "none" -> None (TRL drops it from the group
  baseline); "nan" -> float("nan"); "zero" -> 0.0, and every such zero is
  counted (stats.as_zero) and logged as a warning. "zero" is never a default.

Thread-safety: AdapterBase may be called from several threads at once
(counters are locked); it pickles without its channels.
"""

import json
import logging
import math
import threading
from typing import (Any, Callable, Dict, Hashable, List, Mapping, Optional, Sequence, Tuple,
                    Union)

from rewardd.aio import AsyncRewardClient
from rewardd.client import RewardClient
from rewardd.errors import InvalidRewardError
from rewardd.options import ClientOptions
from rewardd.requests import GradeOptions, Group, message_text
from rewardd.results import GradeResult

logger = logging.getLogger("rewardd.adapters")

ON_INVALID = ("raise", "none", "nan", "zero")
_REFERENCE_KEYS = ("rubric_set", "rubric_id", "rubric")

Reward = Optional[float]


class AdapterStats:
    """Counters of one adapter object in one process."""

    FIELDS = ("graded", "valid", "invalid", "raised", "as_none", "as_nan", "as_zero")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(self.FIELDS, 0)

    def add(self, **deltas: int) -> None:
        with self._lock:
            for k, v in deltas.items():
                self._counts[k] += v

    def snapshot(self) -> Dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def __getattr__(self, name: str) -> int:
        if name in AdapterStats.FIELDS:
            return self.snapshot()[name]
        raise AttributeError(name)


def parse_reference(reference: Any, field: str) -> Dict[str, Any]:
    """The rubric reference as {rubric_set?, rubric_id?, rubric?}."""
    if reference is None:
        return {}
    if isinstance(reference, str):
        text = reference.strip()
        if not text:
            return {}
        if text.startswith("{"):
            try:
                reference = json.loads(text)
            except ValueError as e:
                raise ValueError("%s: not a rubric id nor valid JSON: %s" % (field, e)) from None
        else:
            return {"rubric_id": text}
    if isinstance(reference, Mapping):
        unknown = sorted(set(reference) - set(_REFERENCE_KEYS))
        if unknown:
            raise ValueError("%s: unknown key(s) %s in the rubric reference (expected %s)"
                             % (field, ", ".join(map(repr, unknown)), ", ".join(_REFERENCE_KEYS)))
        return {k: reference[k] for k in _REFERENCE_KEYS if reference.get(k)}
    raise TypeError("%s: a rubric reference is a rubric id, a dict or JSON text, got %s"
                    % (field, type(reference).__name__))


def completion_text(completion: Any, field: str = "completion") -> str:
    """The response text of a completion: a string, or chat messages (the
    assistant messages' contents, joined by newlines)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Mapping):
        return message_text(completion.get("content"))
    if isinstance(completion, Sequence):
        msgs = [m for m in completion if isinstance(m, Mapping)]
        assistant = [m for m in msgs if m.get("role") == "assistant"] or msgs
        return "\n".join(message_text(m.get("content")) for m in assistant)
    raise TypeError("%s: expected a string or chat messages, got %s"
                    % (field, type(completion).__name__))


def prompt_value(prompt: Any, field: str = "prompt") -> Union[str, List[Dict[str, str]], None]:
    """A prompt as the request takes it: text, or chat messages."""
    if prompt is None or isinstance(prompt, str):
        return prompt
    if isinstance(prompt, Sequence):
        return [{"role": str(m.get("role", "")), "content": message_text(m.get("content"))}
                for m in prompt if isinstance(m, Mapping)]
    raise TypeError("%s: expected a string or chat messages, got %s" % (field, type(prompt).__name__))


def summary(result: GradeResult) -> Dict[str, Any]:
    """Fixed-key, per-response numbers for a framework's logs."""
    n = len(result.criteria)
    return {
        "rewardd_valid": 1.0 if result.valid else 0.0,
        "rewardd_met": float(result.met_count),
        "rewardd_criteria": float(n),
        "rewardd_met_fraction": result.met_count / n if n else 0.0,
        "rewardd_failed_criteria": float(len(result.failed_criteria)),
    }


def verdict_string(result: GradeResult) -> str:
    """"id=MET id2=UNMET id3=UNKNOWN/JUDGE_ERROR": one response's criteria."""
    parts = []
    for c in result.criteria:
        parts.append("%s=%s" % (c.id, c.verdict if c.status == "OK" else c.verdict + "/" + c.status))
    return " ".join(parts)


def runs(keys: Sequence[Hashable]) -> List[Tuple[int, int]]:
    """[start, end) of each run of equal, contiguous keys."""
    out: List[Tuple[int, int]] = []
    start = 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[start]:
            out.append((start, i))
            start = i
    return out


class Item:
    """One response to grade, with where its rubric and prompt came from."""

    __slots__ = ("response", "prompt", "reference", "group_key")

    def __init__(self, response: str, prompt: Any, reference: Dict[str, Any],
                 group_key: Hashable = None) -> None:
        self.response = response
        self.prompt = prompt
        self.reference = reference
        self.group_key = group_key

    def key(self) -> str:
        return json.dumps([self.group_key, self.prompt, self.reference], sort_keys=True, default=str)


class AdapterBase:
    """Client, rubric defaults and the on_invalid policy of an adapter."""

    framework = "?"
    default_on_invalid = "raise"

    def __init__(self, target: Union[str, Sequence[str], None] = None, *,
                 client_options: Optional[ClientOptions] = None, rubric_set: str = "",
                 options: Union[GradeOptions, Mapping[str, Any], None] = None,
                 labels: Optional[Mapping[str, str]] = None, on_invalid: Optional[str] = None,
                 concurrency: int = 16, name: str = "rewardd", **client_kwargs: Any) -> None:
        """`target` and `client_kwargs` are ClientOptions fields (or pass
        `client_options`); `rubric_set` is the default set of references that
        do not name one; `options` are GradeOptions for every request;
        `labels` are metric labels (e.g. {"policy_version": "v3"})."""
        policy = self.default_on_invalid if on_invalid is None else on_invalid
        if policy not in ON_INVALID:
            raise ValueError("on_invalid must be one of %s, got %r" % (", ".join(ON_INVALID), policy))
        self.on_invalid = policy
        self.rubric_set = rubric_set
        self.options = options
        self.labels = dict(labels) if labels else None
        self.concurrency = concurrency
        self.__name__ = name  # frameworks name reward functions by __name__
        if client_options is None:
            client_options = ClientOptions(**dict(client_kwargs, **({"target": target} if target else {})))
        elif target is not None or client_kwargs:
            raise ValueError("pass either client_options or target/client keyword options")
        self.client = RewardClient(options=client_options)
        self.aclient = AsyncRewardClient(options=client_options)
        self.stats = AdapterStats()

    def __getstate__(self) -> Dict[str, Any]:
        state = dict(self.__dict__)
        state["stats"] = None  # counters are per process
        return state

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.stats = AdapterStats()

    # --- references -----------------------------------------------------
    def reference(self, reference: Any, field: str, overrides: Optional[Mapping[str, Any]] = None,
                  default_set: str = "") -> Dict[str, Any]:
        """The request's rubric fields from a reference and optional
        overrides (e.g. extra_info's rubric_set / rubric_id / rubric)."""
        ref = parse_reference(reference, field)
        if overrides:
            ref.update({k: overrides[k] for k in _REFERENCE_KEYS if overrides.get(k)})
        if "rubric" in ref:
            return {"rubric": ref["rubric"]}
        ref.setdefault("rubric_set", self.rubric_set or default_set)
        if not ref["rubric_set"]:
            raise ValueError("%s: no rubric set: the reference %r names none and the adapter has no "
                             "rubric_set" % (field, reference))
        return ref

    # --- grading --------------------------------------------------------
    def _groups(self, items: Sequence[Item]) -> Tuple[List[Group], List[Tuple[int, int]]]:
        spans = runs([it.key() for it in items])
        groups = [Group([it.response for it in items[a:b]], prompt=items[a].prompt,
                        options=self.options, labels=self.labels, **items[a].reference)
                  for a, b in spans]
        return groups, spans

    def grade_items(self, items: Sequence[Item]) -> List[GradeResult]:
        """Grades items, contiguous runs with one rubric and prompt as one
        GradeGroup each (blocking)."""
        groups, spans = self._groups(items)
        results = self.client.grade_groups(groups, concurrency=self.concurrency)
        return _flatten(results, spans, len(items))

    async def agrade_items(self, items: Sequence[Item]) -> List[GradeResult]:
        groups, spans = self._groups(items)
        results = await self.aclient.grade_groups(groups, concurrency=self.concurrency)
        return _flatten(results, spans, len(items))

    # --- the on_invalid policy -------------------------------------------
    def rewards(self, results: Sequence[GradeResult], where: str) -> List[Reward]:
        """Each result's reward under the on_invalid policy."""
        invalid = [r for r in results if not r.valid]
        self.stats.add(graded=len(results), valid=len(results) - len(invalid), invalid=len(invalid))
        if invalid and self.on_invalid == "raise":
            self.stats.add(raised=len(invalid))
            first = invalid[0]
            raise InvalidRewardError(
                "rewardd (%s): %d of %d results are invalid (first: %s: %s); on_invalid='raise'"
                % (where, len(invalid), len(results), first.request_id or "?",
                   first.invalid_reason or (first.error and str(first.error)) or "invalid"),
                invalid)
        out: List[Reward] = []
        for r in results:
            out.append(r.reward if r.valid else self._substitute(r, where))
        return out

    def _substitute(self, r: GradeResult, where: str) -> Reward:
        if self.on_invalid == "none":
            self.stats.add(as_none=1)
            return None
        if self.on_invalid == "nan":
            self.stats.add(as_nan=1)
            return math.nan
        self.stats.add(as_zero=1)
        logger.warning("rewardd (%s): invalid result %s (%s) reported as reward 0.0 because "
                       "on_invalid='zero'; %d zeroed so far in this process", where,
                       r.request_id or "?", r.invalid_reason or "invalid", self.stats.as_zero)
        return 0.0


def _flatten(results: Sequence[Any], spans: Sequence[Tuple[int, int]], n: int) -> List[GradeResult]:
    out: List[Any] = [None] * n
    for group, (a, b) in zip(results, spans):
        for i, r in enumerate(group.results):
            out[a + i] = r
    return out


def column(columns: Mapping[str, Any], name: Optional[str], i: int, n: int) -> Any:
    """Row i of a per-sample column (None when the column is absent)."""
    if not name or name not in columns or columns[name] is None:
        return None
    values = columns[name]
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Sequence):
        raise TypeError("column %r: expected one value per sample, got %s"
                        % (name, type(values).__name__))
    if len(values) != n:
        raise ValueError("column %r has %d values for %d samples" % (name, len(values), n))
    return values[i]


Logger = Callable[..., Any]

"""Requests to rewardd, built from plain Python values.

The rubric is given by reference (`rubric_set` + `rubric_id`, or
`rubric_set` alone and the rubric whose prompt equals `prompt`) or inline
(`rubric`: a dict in the proto JSON mapping, e.g. {"criteria": [{"id": "c1",
"text": "...", "weight": 1, "check": {"kind": "CONTAINS", "values": ["x"]}}]}).
The prompt is a string or chat messages ([{"role": "user", "content": "..."}];
OpenAI-style content parts are joined). Bad values raise ValueError naming
the field.

Thread-safety: immutable values.
"""

import dataclasses
from typing import Any, List, Mapping, Optional, Sequence, Union

from google.protobuf import json_format

from rewardd import _rubric_bytes
from rewardd._stubs import reward_pb2

Messages = Sequence[Mapping[str, Any]]
Prompt = Union[str, Messages, None]


@dataclasses.dataclass(frozen=True)
class GradeOptions:
    """proto GradeOptions; enum fields take their proto names."""

    judge: str = ""
    #: "ALL_IN_ONE", "PER_CRITERION", "CHUNKED" (None = the judge's default).
    mode: Optional[str] = None
    chunk_size: int = 0
    #: "WEIGHTED_FRACTION" (default), "HEALTHBENCH", "RAW_SUM".
    formula: Optional[str] = None
    #: "STRICT" (default), "RENORMALIZE", "INVALID".
    missing_policy: Optional[str] = None
    clip: bool = False
    include_explanations: bool = False
    skip_cache: bool = False
    votes: int = 0

    def to_proto(self) -> "reward_pb2.GradeOptions":
        o = reward_pb2.GradeOptions(judge=self.judge, chunk_size=self.chunk_size, clip=self.clip,
                                    include_explanations=self.include_explanations,
                                    skip_cache=self.skip_cache, votes=self.votes)
        enums: Any = (("mode", reward_pb2.GradingMode), ("formula", reward_pb2.ScoringFormula),
                      ("missing_policy", reward_pb2.MissingVerdictPolicy))
        for field, enum in enums:
            value = getattr(self, field)
            if value:
                try:
                    setattr(o, field, enum.Value(str(value).upper()))
                except ValueError:
                    raise ValueError("GradeOptions.%s: unknown value %r (one of %s)" % (
                        field, value, ", ".join(enum.keys()[1:]))) from None
        return o


OptionsLike = Union[GradeOptions, Mapping[str, Any], None]


def options_proto(options: OptionsLike) -> Optional["reward_pb2.GradeOptions"]:
    if options is None:
        return None
    if isinstance(options, GradeOptions):
        return options.to_proto()
    if isinstance(options, Mapping):
        try:
            return json_format.ParseDict(dict(options), reward_pb2.GradeOptions())
        except json_format.ParseError as e:
            raise ValueError("options: %s" % e) from None
    raise TypeError("options must be GradeOptions or a dict, got %s" % type(options).__name__)


def message_text(content: Any) -> str:
    """The text of a chat message's content (a string or OpenAI-style parts)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, Mapping) and part.get("type", "text") == "text":
                parts.append(str(part.get("text", "")))
        return "".join(parts)
    return str(content)


def _messages(prompt: Messages, field: str) -> List["reward_pb2.Message"]:
    out = []
    for i, m in enumerate(prompt):
        if not isinstance(m, Mapping) or "role" not in m:
            raise ValueError("%s[%d]: a chat message needs a 'role' (got %r)" % (field, i, m))
        out.append(reward_pb2.Message(role=str(m["role"]), content=message_text(m.get("content"))))
    return out


def _rubric(rubric: Any) -> "reward_pb2.Rubric":
    if isinstance(rubric, reward_pb2.Rubric):
        return rubric
    if not isinstance(rubric, Mapping):
        raise TypeError("rubric must be a dict (proto JSON mapping), got %s" % type(rubric).__name__)
    return _rubric_bytes.parse(rubric)


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Target:
    """The rubric, prompt, options and labels of a request (keyword-only)."""

    rubric_set: str = ""
    rubric_id: str = ""
    #: An inline rubric (proto JSON mapping); then rubric_set/rubric_id stay empty.
    rubric: Optional[Mapping[str, Any]] = None
    #: Text, or chat messages.
    prompt: Prompt = None
    options: OptionsLike = None
    #: Metric labels, e.g. {"policy_version": "step-120"}.
    labels: Optional[Mapping[str, str]] = None
    request_id: str = ""

    def _fill(self, req: Any) -> None:
        if self.rubric is not None:
            if self.rubric_set or self.rubric_id:
                raise ValueError("rubric: an inline rubric cannot be combined with rubric_set/rubric_id")
            if isinstance(self.rubric, Mapping):  # converted once per distinct rubric
                req.rubric.MergeFromString(_rubric_bytes.rubric_bytes(self.rubric))
            else:
                req.rubric.CopyFrom(_rubric(self.rubric))
        req.request_id = self.request_id
        req.rubric_set = self.rubric_set or ""
        req.rubric_id = self.rubric_id or ""
        if isinstance(self.prompt, str):
            req.prompt = self.prompt
        elif self.prompt is not None:
            req.messages.extend(_messages(self.prompt, "prompt"))
        o = options_proto(self.options)
        if o is not None:
            req.options.CopyFrom(o)
        for k, v in (self.labels or {}).items():
            req.labels[str(k)] = str(v)


@dataclasses.dataclass(frozen=True)
class Request(_Target):
    """One response to grade (proto GradeRequest): Request(response, rubric_set=..., ...)."""

    response: str

    def to_proto(self) -> "reward_pb2.GradeRequest":
        if not isinstance(self.response, str):
            raise TypeError("response must be a string, got %s" % type(self.response).__name__)
        req = reward_pb2.GradeRequest(response=self.response)
        self._fill(req)
        return req


@dataclasses.dataclass(frozen=True)
class Group(_Target):
    """N responses to one prompt, graded against one rubric (proto
    GradeGroupRequest): a GRPO group. Same keyword fields as Request."""

    responses: Sequence[str]

    def to_proto(self) -> "reward_pb2.GradeGroupRequest":
        responses = self.responses
        if isinstance(responses, str) or not all(isinstance(r, str) for r in responses):
            raise TypeError("responses must be a list of strings")
        req = reward_pb2.GradeGroupRequest(responses=list(responses))
        self._fill(req)
        return req


RequestLike = Union[Request, Mapping[str, Any], "reward_pb2.GradeRequest"]
GroupLike = Union[Group, Mapping[str, Any], "reward_pb2.GradeGroupRequest"]


def _to_proto(value: Any, cls: Any, proto_cls: Any) -> Any:
    if isinstance(value, proto_cls):
        return value
    if isinstance(value, cls):
        return value.to_proto()
    if isinstance(value, Mapping):
        try:
            return cls(**value).to_proto()
        except TypeError as e:
            raise TypeError("%s dict: %s" % (cls.__name__, e)) from None
    raise TypeError("expected rewardd.%s, a dict or a %s, got %s"
                    % (cls.__name__, proto_cls.__name__, type(value).__name__))


def request_proto(request: RequestLike) -> "reward_pb2.GradeRequest":
    """A GradeRequest from a Request, a dict of Request's fields, or a proto."""
    return _to_proto(request, Request, reward_pb2.GradeRequest)


def group_proto(group: GroupLike) -> "reward_pb2.GradeGroupRequest":
    """A GradeGroupRequest from a Group, a dict of Group's fields, or a proto."""
    return _to_proto(group, Group, reward_pb2.GradeGroupRequest)


def saturated_request(rubric_set: str, limit: int) -> "reward_pb2.ListSaturatedRubricsRequest":
    """A ListSaturatedRubricsRequest; `limit` 0 = the server's default (the
    server caps larger limits rather than refusing them)."""
    if not isinstance(rubric_set, str):
        raise TypeError("rubric_set: must be a string, got %s" % type(rubric_set).__name__)
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise TypeError("limit: must be an integer, got %s" % type(limit).__name__)
    if not 0 <= limit < 2**32:
        raise ValueError("limit: must be a non-negative 32-bit integer, got %d" % limit)
    return reward_pb2.ListSaturatedRubricsRequest(rubric_set=rubric_set, limit=limit)

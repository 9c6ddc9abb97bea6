"""Inline rubrics (proto JSON dicts) converted once, kept as serialized
reward_pb2.Rubric bytes.

`json_format.ParseDict` on a 20-criterion rubric costs more client CPU than
the rest of a GradeGroup call (it walks the dict in Python, field by field),
and a trainer sends the same few rubrics again and again. The cache key is
the dict's canonical JSON text (`json.dumps` with sorted keys), so a dict
changed after a call is a new key; the cache is a bounded LRU.

    req.rubric.MergeFromString(rubric_bytes({"id": "r1", "criteria": [...]}))

Thread-safety: safe from any thread (functools.lru_cache).
"""

import functools
import json
from typing import Any, Mapping

from google.protobuf import json_format

from rewardd._stubs import reward_pb2

#: Distinct inline rubrics kept (a few MB at most for 20-criterion rubrics).
CACHE_SIZE = 1024


def parse(rubric: Mapping[str, Any]) -> "reward_pb2.Rubric":
    """A Rubric from its proto JSON mapping; ValueError naming the field."""
    try:
        return json_format.ParseDict(dict(rubric), reward_pb2.Rubric())
    except json_format.ParseError as e:
        raise ValueError("rubric: %s" % e) from None


def rubric_bytes(rubric: Mapping[str, Any]) -> bytes:
    """The serialized Rubric of `rubric`, converted once per distinct dict."""
    try:
        key = json.dumps(rubric, sort_keys=True)
    except (TypeError, ValueError):  # not JSON data: ParseDict says what is wrong
        return parse(rubric).SerializePartialToString()
    return _cached(key)


@functools.lru_cache(maxsize=CACHE_SIZE)
def _cached(key: str) -> bytes:
    return parse(json.loads(key)).SerializePartialToString()

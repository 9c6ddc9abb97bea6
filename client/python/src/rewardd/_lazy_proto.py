"""Grade answers parsed with their criteria left as bytes.

Parsing a GradeGroupResponse with python3-protobuf's C++ backend (a
reflection-driven DynamicMessage) builds one message per CriterionResult:
16 responses x 20 criteria were the largest share of the Python client's CPU
per GradeGroup, although a GRPO step reads the rewards of every response and
the verdicts of few. This module derives, from the generated descriptor of
reward/v1/reward.proto (so it can never drift from the proto), a copy of
GradeResponse whose `criteria` field is `repeated bytes`: the same wire
format (a length-delimited sub-message is a length-delimited byte string),
so the server's answer parses as is, and each criterion stays one byte
string until `parse_criteria` turns a response's into reward_pb2.CriterionResults
(results._LazyVerdicts does that on first use).

    deserialize = _lazy_proto.GradeGroupResponse.FromString   # a response_deserializer
    _lazy_proto.parse_criteria([raw, ...]) -> the reward_pb2.CriterionResults

The classes live in a private descriptor pool (same full names as the real
ones, never registered in the default pool). Every other field reads as on
reward_pb2's classes.

Thread-safety: built at import; the classes are immutable and safe to use
from any thread (the messages they make are not shared).
"""

from typing import Any, Sequence

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from rewardd._stubs import reward_pb2


def _lazy_pool() -> descriptor_pool.DescriptorPool:
    """A pool holding reward.proto (and its imports) with
    GradeResponse.criteria as repeated bytes."""
    pool = descriptor_pool.DescriptorPool()
    added = set()

    def add(file_descriptor: Any, edit: bool = False) -> None:
        for dep in file_descriptor.dependencies:
            if dep.name not in added:
                add(dep)
        proto = descriptor_pb2.FileDescriptorProto()
        file_descriptor.CopyToProto(proto)
        if edit:
            _criteria_as_bytes(proto)
        pool.Add(proto)
        added.add(file_descriptor.name)

    add(reward_pb2.DESCRIPTOR, edit=True)
    return pool


def _criteria_as_bytes(proto: descriptor_pb2.FileDescriptorProto) -> None:
    for message in proto.message_type:
        if message.name != "GradeResponse":
            continue
        for field in message.field:
            if field.name == "criteria":
                if field.type_name not in (".reward.v1.CriterionResult", "CriterionResult"):
                    raise RuntimeError("GradeResponse.criteria is %s, not CriterionResult"
                                       % field.type_name)
                field.type = descriptor_pb2.FieldDescriptorProto.TYPE_BYTES
                field.ClearField("type_name")
                return
    raise RuntimeError("reward.proto has no GradeResponse.criteria")


_POOL = _lazy_pool()
_FACTORY = message_factory.MessageFactory(_POOL)

#: GradeResponse with `criteria` as a list of serialized CriterionResults.
GradeResponse: Any = _FACTORY.GetPrototype(_POOL.FindMessageTypeByName("reward.v1.GradeResponse"))
#: GradeGroupResponse whose `results` are the GradeResponse above.
GradeGroupResponse: Any = _FACTORY.GetPrototype(
    _POOL.FindMessageTypeByName("reward.v1.GradeGroupResponse"))

def _varint(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


# The tag of GradeResponse.criteria (field number, length-delimited).
_CRITERIA_TAG = _varint(
    reward_pb2.GradeResponse.DESCRIPTOR.fields_by_name["criteria"].number << 3 | 2)


def parse_criteria(raw: Sequence[bytes]) -> Sequence["reward_pb2.CriterionResult"]:
    """Serialized CriterionResults -> the messages, in one parse: framed as
    the criteria of one reward_pb2.GradeResponse (a parse per criterion
    cost several times more)."""
    parts = []
    for c in raw:
        parts += (_CRITERIA_TAG, _varint(len(c)), c)
    return reward_pb2.GradeResponse.FromString(b"".join(parts)).criteria


class LazyGradeStub:
    """RewardService's Grade and GradeGroup on `channel` (sync or grpc.aio),
    answers parsed into the classes above. Requests are serialized without
    the initialization check: reward.proto is proto3 (no required fields),
    and the check walks every field of a large request."""

    def __init__(self, channel: Any) -> None:
        self.Grade = channel.unary_unary(
            "/reward.v1.RewardService/Grade",
            request_serializer=reward_pb2.GradeRequest.SerializePartialToString,
            response_deserializer=GradeResponse.FromString)
        self.GradeGroup = channel.unary_unary(
            "/reward.v1.RewardService/GradeGroup",
            request_serializer=reward_pb2.GradeGroupRequest.SerializePartialToString,
            response_deserializer=GradeGroupResponse.FromString)

"""Grade answers parsed with their criteria left as bytes (rewardd._lazy_proto):
the same results as a full parse, from a real rewardd and from hand-made protos."""

import asyncio
import copy
import dataclasses
import pickle
import threading

import grpc

from rewardd import AsyncRewardClient, RewardClient, _lazy_proto
from rewardd._stubs import reward_pb2, reward_pb2_grpc
from rewardd.results import GradeResult, GroupResult
from test_client import GOOD, WRONG
from test_results import _response


def _full_and_lazy(proto):
    """GroupResults of one serialized GradeGroupResponse, parsed both ways."""
    data = proto.SerializeToString()
    return (GroupResult.from_proto(reward_pb2.GradeGroupResponse.FromString(data)),
            GroupResult.from_proto(_lazy_proto.GradeGroupResponse.FromString(data)))


def test_lazy_parse_gives_the_results_of_a_full_parse():
    g = reward_pb2.GradeGroupResponse(request_id="g", mean_reward=0.5, valid_count=2)
    g.results.append(_response("r0"))
    g.results.append(_response("r1"))
    g.results[1].error.code = 5
    g.results[1].error.message = "no such rubric"
    g.results[1].expected_reward = 0.25
    full, lazy = _full_and_lazy(g)
    assert isinstance(_lazy_proto.GradeGroupResponse.FromString(
        g.SerializeToString()).results[0].criteria[0], bytes)
    # RewardError compares by identity: compare the item with an error without it.
    assert lazy.results[0] == full.results[0]
    assert (dataclasses.replace(lazy.results[1], error=None)
            == dataclasses.replace(full.results[1], error=None))
    assert lazy.mean_reward == full.mean_reward and lazy.valid_count == full.valid_count
    assert [c.probability for c in lazy.results[0].criteria] == [0.9, None]
    assert lazy.results[1].criteria[1].status == "TIMEOUT"
    assert lazy.results[1].error.code == grpc.StatusCode.NOT_FOUND
    assert lazy.results[1].expected_reward == 0.25 and lazy.results[0].expected_reward is None
    back = pickle.loads(pickle.dumps(lazy))
    assert back.results[0] == full.results[0] and isinstance(back.results[0].criteria, tuple)


def test_generated_classes_are_untouched():
    # The lazy copy lives in its own pool: reward_pb2 still parses criteria.
    r = reward_pb2.GradeResponse.FromString(_response().SerializeToString())
    assert r.criteria[0].id == "c1"
    assert GradeResult.from_proto(
        _lazy_proto.GradeResponse.FromString(r.SerializeToString())).criteria[0].id == "c1"


def _summary(group):
    """What must not depend on the parse: rewards and verdicts (timings and
    the cache flag differ from call to call)."""
    return [(r.reward, r.valid, [(c.id, c.verdict, c.status, c.probability) for c in r.criteria])
            for r in group.results]


def _expected(server, group):
    """What the generated stub (a full parse) answers for `group`."""
    with grpc.insecure_channel(server.address) as channel:
        return _summary(GroupResult.from_proto(
            reward_pb2_grpc.RewardServiceStub(channel).GradeGroup(group, timeout=30)))


def test_clients_answer_what_the_generated_stub_answers(server):
    group = reward_pb2.GradeGroupRequest(rubric_set="demo", rubric_id="arith-1",
                                         responses=[GOOD, WRONG, GOOD])
    want = _expected(server, group)
    assert want[0][2] and want[0] != want[1]
    with RewardClient(server.address, deadline=30, max_attempts=1) as client:
        assert _summary(client.grade_group_request(group)) == want
        one = client.grade(WRONG, rubric_set="demo", rubric_id="arith-1")
        assert _summary(GroupResult("", (one,), 0, 0, 1)) == want[1:2]

    async def main():
        async with AsyncRewardClient(server.address, deadline=30, max_attempts=1) as aclient:
            assert _summary(await aclient.grade_group_request(group)) == want
    asyncio.run(main())


def _lazy_result():
    r = _response("r9")
    r.error.code = 8
    r.error.message = "busy"
    r.timings.total_seconds = 0.5
    return GradeResult.from_proto(_lazy_proto.GradeResponse.FromString(r.SerializeToString()))


def _fields(result):
    return [getattr(result, f.name) for f in dataclasses.fields(GradeResult) if f.name != "error"]


def test_fields_of_a_client_answer_read_on_first_use_equal_an_eager_result():
    eager = GradeResult.from_proto(_response("r9"))
    lazy = _lazy_result()
    assert "_proto" in vars(lazy) and "rubric_id" not in vars(lazy)  # not read yet
    assert (lazy.request_id, lazy.reward, lazy.valid) == ("r9", 0.5, True)
    assert lazy.timings.total_seconds == 0.5 and "_proto" not in vars(lazy)
    assert lazy.error.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert _fields(dataclasses.replace(lazy, timings=eager.timings)) == _fields(eager)
    assert isinstance(lazy, GradeResult) and lazy.verdicts == {"c1": True, "c2": None}
    try:
        lazy.no_such_field
        raise AssertionError("no AttributeError")
    except AttributeError as e:
        assert "no_such_field" in str(e)


def test_unread_lazy_results_compare_hash_pickle_and_copy_as_values():
    a, b = _lazy_result(), _lazy_result()
    assert hash(dataclasses.replace(a, error=None)) == hash(dataclasses.replace(b, error=None))
    c = _lazy_result()
    assert "r9" in repr(c) and "busy" in repr(c)
    for copied in (pickle.loads(pickle.dumps(_lazy_result())), copy.deepcopy(_lazy_result()),
                   copy.copy(_lazy_result())):
        assert "_proto" not in vars(copied)
        assert copied.rubric_version == "" and copied.timings.total_seconds == 0.5
        assert copied.error.message == "busy" and copied.criteria[0].id == "c1"
    assert dataclasses.asdict(_lazy_result())["timings"]["total_seconds"] == 0.5
    # A GradeResult built by hand has every field and no proto.
    plain = GradeResult("x", 1.0, True)
    assert plain.rubric_id == "" and plain.criteria == () and plain.timings.total_seconds == 0


def test_threads_reading_one_lazy_result_see_the_same_fields():
    result = _lazy_result()
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(
        (result.judge, result.score, result.timings.total_seconds))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == [("", 0.0, 0.5)] * 8


def test_criteria_of_any_size_parse_as_one_message_would():
    r = _response()
    r.criteria[0].explanation = "why " * 5000  # a length that takes 3 varint bytes
    r.criteria.add(id="c3", weight=1, verdict=reward_pb2.CriterionResult.UNMET,
                   status=reward_pb2.CriterionResult.OK, agreement=0.75, cached=True)
    lazy = GradeResult.from_proto(_lazy_proto.GradeResponse.FromString(r.SerializeToString()))
    assert lazy.criteria == GradeResult.from_proto(r).criteria
    assert lazy.criteria[0].explanation == "why " * 5000
    assert (lazy.criteria[2].agreement, lazy.criteria[2].cached, lazy.criteria[2].met) == (
        0.75, True, False)
    assert len(_lazy_proto.parse_criteria([])) == 0

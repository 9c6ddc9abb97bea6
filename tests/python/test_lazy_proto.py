"""Grade answers parsed with their criteria left as bytes (rewardd._lazy_proto):
the same results as a full parse, from a real rewardd and from hand-made protos."""

import asyncio
import dataclasses
import pickle

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

"""AsyncRewardClient (grpc.aio) against a real rewardd: every call, streams
with a bounded window, item errors, channels per event loop."""

import asyncio

import grpc
import pytest

from rewardd import AsyncRewardClient, Request, RewardError
from test_client import GOOD, JSON_MESSAGES, WRONG


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def aclient(server):
    return AsyncRewardClient(server.address, deadline=30, max_attempts=1)


def test_unary_calls(aclient):
    async def main():
        r = await aclient.grade(GOOD, rubric_set="demo", rubric_id="arith-1", request_id="a1")
        assert r.valid and r.request_id == "a1" and r.verdicts["answer"] is True
        js = await aclient.grade('{"name": "Ada", "age": 30}', rubric_set="demo", prompt=JSON_MESSAGES)
        assert js.rubric_id == "json-profile"
        g = await aclient.grade_group([GOOD, WRONG], rubric_set="demo", rubric_id="arith-1")
        assert [x.reward for x in g.results] == [r.reward, g.results[1].reward]
        assert g.valid_count == 2 and g.results[1].reward < r.reward
        assert "demo" in {s.name for s in await aclient.list_rubric_sets()}
        assert (await aclient.get_rubric("demo", "haiku")).prompt == "Write a haiku about autumn rain."
        assert await aclient.health() == "SERVING"
        with pytest.raises(RewardError) as e:
            await aclient.grade(GOOD, rubric_set="demo", rubric_id="missing")
        assert e.value.code == grpc.StatusCode.NOT_FOUND
        await aclient.close()
    run(main())


def test_grade_many_and_grade_groups_in_order(aclient):
    async def main():
        reqs = [Request(GOOD if i % 3 else WRONG, rubric_set="demo", rubric_id="arith-1",
                        request_id=str(i)) for i in range(30)]
        out = await aclient.grade_many(reqs, concurrency=5)
        assert [r.request_id for r in out] == [str(i) for i in range(30)]
        assert out[0].reward < out[1].reward
        groups = await aclient.grade_groups([{"responses": [GOOD] * n, "rubric_set": "demo",
                                              "rubric_id": "arith-1"} for n in (1, 2, 3)],
                                            concurrency=2)
        assert [len(g.results) for g in groups] == [1, 2, 3]
        errs = await aclient.grade_many([{"response": GOOD, "rubric_set": "nope"}],
                                        return_exceptions=True)
        assert isinstance(errs[0], RewardError) and errs[0].code == grpc.StatusCode.NOT_FOUND
    run(main())


def test_stream_answers_every_request_once_within_the_window(aclient):
    async def main():
        n, window = 50, 4
        sent = []

        async def requests():
            for i in range(n):
                sent.append(i)
                yield Request(GOOD if i % 2 else WRONG, rubric_set="demo", rubric_id="arith-1",
                              request_id="s%d" % i)

        seen = {}
        async for r in aclient.stream(requests(), window=window):
            seen[r.request_id] = r
            # Never more than `window` requests taken and unanswered.
            assert len(sent) - len(seen) <= window
        assert sorted(seen) == sorted("s%d" % i for i in range(n))
        assert seen["s1"].reward > seen["s0"].reward
    run(main())


def test_stream_item_error_does_not_end_the_stream(aclient):
    async def main():
        reqs = [Request(GOOD, rubric_set="demo", rubric_id="arith-1"),
                Request(GOOD, rubric_set="demo", rubric_id="no-such-rubric"),
                Request(GOOD, rubric_set="demo", rubric_id="arith-1")]
        out = {r.request_id: r async for r in aclient.stream(reqs)}  # ids default to indexes
        assert sorted(out) == ["0", "1", "2"]
        assert out["0"].valid and out["2"].valid and out["0"].error is None
        assert not out["1"].valid and out["1"].error.code == grpc.StatusCode.NOT_FOUND
    run(main())


def test_stream_rejects_duplicate_ids_in_flight(aclient):
    async def main():
        reqs = [Request(GOOD, rubric_set="demo", rubric_id="arith-1", options={"judge": "hang"},
                        request_id="same")] * 2
        with pytest.raises(ValueError, match="already in flight"):
            async for _ in aclient.stream(reqs, window=2, timeout=20):
                pass
    run(main())


def test_stream_failure_raises_reward_error(server):
    async def main():
        c = AsyncRewardClient(server.address, bearer_token="")
        bad = AsyncRewardClient("127.0.0.1:1", max_attempts=1)
        with pytest.raises(RewardError) as e:
            async for _ in bad.stream([Request(GOOD, rubric_set="demo")]):
                pass
        assert e.value.code == grpc.StatusCode.UNAVAILABLE
        # A consumer that stops early cancels the stream cleanly.
        agen = c.stream([Request(GOOD, rubric_set="demo", rubric_id="arith-1")] * 10, window=2)
        first = await agen.__anext__()
        assert first.valid
        await agen.aclose()
    run(main())


def test_one_client_across_event_loops(aclient):
    # Each asyncio.run is a new loop: the client opens channels in each.
    for _ in range(3):
        r = run(aclient.grade(GOOD, rubric_set="demo", rubric_id="arith-1"))
        assert r.valid

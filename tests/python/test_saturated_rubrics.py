"""list_saturated_rubrics (ListSaturatedRubrics) against a real rewardd:
GradeGroup traffic graded by the embedded judge with exact checks, where
every response meets every criterion, saturates the rubric (two or more
valid responses tied at the maximum reward)."""

import asyncio
import datetime
import json
import time

import pytest

from rewardd import AsyncRewardClient, RewardClient, SaturatedRubric

# Every criterion has a check: the embedded judge decides it exactly.
TAIL_SET = {"rubrics": [
    {"id": "easy", "prompt": "Say yes.", "criteria": [
        {"id": "yes", "text": "The response says yes.", "weight": 2,
         "check": {"type": "contains", "values": ["yes"], "case_insensitive": True}},
        {"id": "short", "text": "The response is at most 10 words.", "weight": 1,
         "check": {"type": "word_count", "max": 10}}]},
    {"id": "hard", "prompt": "Say no.", "criteria": [
        {"id": "no", "text": "The response says no.", "weight": 1,
         "check": {"type": "contains", "values": ["no"]}}]},
]}
INLINE = {"id": "inline-yes", "criteria": [
    {"id": "c1", "text": "says yes", "weight": 1, "check": {"kind": "CONTAINS", "values": ["yes"]}}]}


@pytest.fixture(scope="module")
def tail_server(start_rewardd, tmp_path_factory):
    d = tmp_path_factory.mktemp("tail-rubrics")
    (d / "tail.json").write_text(json.dumps(TAIL_SET))
    return start_rewardd("--rubric_dir=%s" % d, "--default_judge=embedded")


def _wait_for(fetch, done, what):
    """Polls `fetch()` until `done(value)`; the bound only catches a hang."""
    end = time.monotonic() + 60
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() > end:
            pytest.fail("%s: last answer %r" % (what, value))
        time.sleep(0.02)


def test_saturating_group_traffic_is_listed(tail_server):
    client = RewardClient(tail_server.address, wait_for_ready=True)
    assert client.list_saturated_rubrics() == ()  # nothing graded yet
    before = time.time()
    for _ in range(3):  # both responses meet both criteria: tied at 1.0
        g = client.grade_group(["yes", "Yes, indeed."], rubric_set="tail", rubric_id="easy")
        assert [r.reward for r in g.results] == [1.0, 1.0]
    # One group that does not saturate: counted in `groups` only.
    g = client.grade_group(["yes", "nope " * 20], rubric_set="tail", rubric_id="easy")
    assert g.results[0].reward == 1.0 and g.results[1].reward < 1.0
    # A rubric whose groups never tie at the top is not listed.
    client.grade_group(["no", "yes"], rubric_set="tail", rubric_id="hard")
    client.grade_group(["yes", "yes!"], rubric=INLINE)
    after = time.time()

    ranked = _wait_for(client.list_saturated_rubrics,
                       lambda v: len(v) == 2 and v[0].groups == 4, "two saturated rubrics")
    top, inline = ranked
    assert isinstance(top, SaturatedRubric)
    assert (top.rubric_set, top.rubric_id) == ("tail", "easy")
    assert (top.saturated_groups, top.groups) == (3, 4)
    assert top.saturated_fraction == 0.75
    assert top.rubric_version == client.get_rubric("tail", "easy").version
    (info,) = [s for s in client.list_rubric_sets() if s.name == "tail"]
    assert top.set_version == info.version
    assert before - 1 <= top.last_saturated_unix <= after + 1
    assert isinstance(top.last_saturated, datetime.datetime)
    assert top.last_saturated.tzinfo is datetime.timezone.utc
    assert abs(top.last_saturated.timestamp() - top.last_saturated_unix) < 1e-3
    # Decayed counts: at most the raw count, more for the busier rubric.
    assert 0 < top.score <= 3 and top.score > inline.score
    assert (inline.rubric_set, inline.rubric_id) == ("_inline", "inline-yes")
    assert (inline.saturated_groups, inline.groups) == (1, 1)

    assert [r.rubric_id for r in client.list_saturated_rubrics(limit=1)] == ["easy"]
    assert [r.rubric_id for r in client.list_saturated_rubrics("_inline")] == ["inline-yes"]
    assert client.list_saturated_rubrics(rubric_set="no-such-set") == ()
    client.close()

    async def run():
        async with AsyncRewardClient(tail_server.address, wait_for_ready=True) as aclient:
            return await aclient.list_saturated_rubrics("tail", limit=5)

    (atop,) = asyncio.run(run())
    assert (atop.rubric_id, atop.saturated_groups, atop.groups) == ("easy", 3, 4)


def test_bad_arguments_raise_before_sending():
    # Nothing listens at port 1: a call that was sent would fail UNAVAILABLE.
    client = RewardClient("127.0.0.1:1", deadline=5)
    with pytest.raises(ValueError, match="limit"):
        client.list_saturated_rubrics(limit=-1)
    with pytest.raises(TypeError, match="limit"):
        client.list_saturated_rubrics(limit="5")
    with pytest.raises(TypeError, match="rubric_set"):
        client.list_saturated_rubrics(rubric_set=3)
    aclient = AsyncRewardClient("127.0.0.1:1", deadline=5)
    with pytest.raises(ValueError, match="limit"):
        asyncio.run(aclient.list_saturated_rubrics(limit=-2))

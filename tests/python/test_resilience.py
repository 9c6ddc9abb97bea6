"""Retries across two rewardd processes with one killed, and the client in
process pools (forked workers, pickled clients)."""

import concurrent.futures
import json
import multiprocessing
import os
import pickle
import subprocess
import sys

import grpc
import pytest

from rewardd import AsyncRewardClient, RewardClient, RewardError
from conftest import RUBRICS
from test_client import GOOD


def _pair(start_rewardd):
    return start_rewardd("--rubric_dir=" + RUBRICS), start_rewardd("--rubric_dir=" + RUBRICS)


def _grade(client):
    return client.grade(GOOD, rubric_set="demo", rubric_id="arith-1")


@pytest.mark.parametrize("form", ["ip-list", "host-names"])
def test_a_killed_replica_is_failed_over(start_rewardd, form):
    a, b = _pair(start_rewardd)
    if form == "ip-list":  # one channel, round robin over both addresses
        target = "%s,%s" % (a.address, b.address)
    else:  # one channel per address; the client rotates over them
        target = "localhost:%d,%s" % (a.port, b.address)
    client = RewardClient(target, max_attempts=4, initial_backoff=0.05, max_backoff=0.2)
    done = 0
    failures = []
    pool = concurrent.futures.ThreadPoolExecutor(8)
    futures = [pool.submit(_grade, client) for _ in range(40)]
    for f in concurrent.futures.as_completed(futures):
        done += 1
        if done == 10:  # killed while calls are in flight, after some finished
            a.kill()
        try:
            assert f.result().valid
        except RewardError as e:
            failures.append(e)
    pool.shutdown()
    assert failures == []
    # Everything after the kill goes to the survivor.
    assert all(_grade(client).valid for _ in range(20))


def test_without_retries_the_dead_channel_fails_half_the_calls(start_rewardd):
    # The control for the test above: the same two-channel target with
    # max_attempts=1 loses the calls that rotate onto the dead replica.
    a, b = _pair(start_rewardd)
    client = RewardClient("localhost:%d,%s" % (a.port, b.address), max_attempts=1)
    assert all(_grade(client).valid for _ in range(4))
    a.kill()
    codes = []
    for _ in range(10):
        try:
            _grade(client)
            codes.append("OK")
        except RewardError as e:
            codes.append(e.code.name)
    assert codes.count("UNAVAILABLE") == 5 and codes.count("OK") == 5


def test_async_client_fails_over(start_rewardd):
    import asyncio
    a, b = _pair(start_rewardd)
    client = AsyncRewardClient("localhost:%d,%s" % (a.port, b.address), initial_backoff=0.05)

    async def main():
        assert (await client.grade(GOOD, rubric_set="demo", rubric_id="arith-1")).valid
        a.kill()
        results = await client.grade_many([{"response": GOOD, "rubric_set": "demo",
                                            "rubric_id": "arith-1"}] * 20, concurrency=4)
        assert all(r.valid for r in results)
    asyncio.run(main())


def test_all_replicas_down_is_unavailable_after_max_attempts(start_rewardd):
    a, b = _pair(start_rewardd)
    client = RewardClient("%s,%s" % (a.address, b.address), max_attempts=3, initial_backoff=0.01)
    assert _grade(client).valid
    a.kill()
    b.kill()
    with pytest.raises(RewardError) as e:
        _grade(client)
    assert e.value.code == grpc.StatusCode.UNAVAILABLE and e.value.attempts == 3


# --- process pools ----------------------------------------------------------


def _run_fork_check(server, mode, env):
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fork_check.py")
    full_env = dict(os.environ, **env)
    proc = subprocess.run([sys.executable, script, server.address, mode],
                          env=full_env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_client_used_before_fork_works_in_forked_workers(server):
    # gRPC core needs its fork support to be usable in a child after the
    # parent made calls (docs/python.md, "Processes and fork"); the client's
    # part is to open fresh channels in each worker.
    out = _run_fork_check(server, "used", {"GRPC_ENABLE_FORK_SUPPORT": "true",
                                           "GRPC_POLL_STRATEGY": "poll"})
    rewards = {r for _, _, r in out["workers"]}
    assert all(valid for _, valid, _ in out["workers"]) and rewards == {out["parent"]}
    assert out["parent_pid"] not in {pid for pid, _, _ in out["workers"]}
    assert out["after"] == out["parent"]


def test_client_created_but_unused_before_fork_needs_no_setting(server):
    out = _run_fork_check(server, "unused", {})
    assert len(out["workers"]) == 8 and all(valid for _, valid, _ in out["workers"])
    assert out["after"] == out["workers"][0][2]


def _grade_with_argument(client):
    r = _grade(client)
    return os.getpid(), r.valid, r.reward


def test_pickled_client_in_spawned_workers(server):
    client = RewardClient(server.address)
    expected = _grade(client).reward
    assert b"Channel" not in pickle.dumps(client)
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=ctx) as pool:
        out = list(pool.map(_grade_with_argument, [client] * 2))
    assert [r for _, _, r in out] == [expected, expected]

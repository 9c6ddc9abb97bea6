"""Run by test_resilience.py in a fresh interpreter: uses a RewardClient in
forked ProcessPoolExecutor workers and prints what happened as JSON.

    fork_check.py TARGET MODE
MODE "used": the parent grades before forking (its channel is open at fork
time); "unused": the parent only creates the client (channels open lazily,
in each worker).
"""

import concurrent.futures
import json
import multiprocessing
import os
import sys

import rewardd

CLIENT = None


def work(client):
    c = client or CLIENT
    r = c.grade("Answer: 80", rubric_set="demo", rubric_id="arith-1")
    return os.getpid(), r.valid, r.reward


def main():
    global CLIENT
    target, mode = sys.argv[1:3]
    CLIENT = rewardd.RewardClient(target)
    parent = work(None)[2] if mode == "used" else None
    ctx = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=ctx) as pool:
        out = list(pool.map(work, [None] * 6 + [CLIENT] * 2))  # global, then pickled
    after = work(None)[2]
    print(json.dumps({"parent_pid": os.getpid(), "parent": parent, "after": after, "workers": out}))


if __name__ == "__main__":
    main()

"""Scenario 10, "GRPO step with stragglers" (issue 17).

An RL step waits for its slowest reward, so what decides GPU idle time is
when the last group of a step is answered. A step here is 64 groups x 16
responses sent at once as GradeGroup calls (all_in_one: one judge call per
response, 1,024 calls), over 4 judge-sim replicas of bounded capacity c
and latency L each: several waves per step. Three conditions, each with its
own rewardd and replicas, run round after round alternately:

  healthy  four replicas at L;
  slow     one replica at 5L (a GPU node swapping, a long prefill);
  flaky    one replica answering 5% of calls with 500 and hanging 1% until
           the call timeout.

Figures: step time (all 64 groups answered), p50 / p99 group latency, judge
calls made (retries and hedges above 1,024), invalid results. The bound:
Little's law over the replicas, step >= calls / sum(c_i / L_i); a slow
replica removes capacity no scheduler can recover, so the slow condition is
measured against its own bound. Targets: slow step <= 1.15x its bound; flaky
step <= 1.25x healthy with no invalid result (a retry could have saved it).

The pool settings are the ones docs/judges.md recommends for this shape
(pool_options below): hedging after the 90th percentile of recent call
times (the 95th would learn the slow replica's latency: it answers ~6% of
the calls), a hedge burst of one replica's slots (at the end of a step the
slow replica holds that many calls, its youngest the last to finish),
least-outstanding choice (affinity_slack 0), a short first backoff and a
call timeout a few times the slowest latency, so a hung call is retried
rather than holding its group for the default 60 s.

Usage: registered in bench/scenarios.py (run(suite) with a Suite).
"""

import json
import statistics
import urllib.request

REPLICAS = 4
GROUPS = 64
GROUP_SIZE = 16
CALLS = GROUPS * GROUP_SIZE
SLOW_FACTOR = 5
SLOW_TARGET = 1.15
FLAKY_TARGET = 1.25


def pool_options(capacity, latency_ms):
    """The recommended pool settings for a step of whole groups (docs/judges.md)."""
    return {"max_queue_size": 100000, "max_in_flight_per_replica": capacity,
            "affinity_slack": 0, "hedge_after_percentile": 90,
            "hedge_delay_ms": int(latency_ms * 1.5), "max_hedge_ratio": 0.1,
            "max_hedge_burst": capacity,
            "initial_backoff_ms": 10, "max_backoff_ms": int(latency_ms),
            "breaker_failures": 5, "breaker_open_time_ms": 1000}


def timeout_ms(latency_ms):
    # A few times the slowest replica's latency: a hung call is retried
    # elsewhere instead of holding its group for the default 60 s.
    return int(latency_ms * SLOW_FACTOR * 3)


def start_condition(suite, name, latency_ms, capacity):
    """Four replicas (one slow or flaky) and a rewardd over them."""
    sims = []
    for i in range(REPLICAS):
        lat, extra = latency_ms, []
        if i == REPLICAS - 1 and name == "slow":
            lat = latency_ms * SLOW_FACTOR
        if i == REPLICAS - 1 and name == "flaky":
            extra = ["--rate_500=0.05", "--rate_hang=0.01",
                     "--hang_ms=%d" % (timeout_ms(latency_ms) + 1000),
                     "--seed=%d" % (17 + i)]
        sims.append(suite.start_sim("s10-%s-sim%d" % (name, i), lat, capacity,
                                    jitter_ms=lat / 10, extra=extra))
        sims[-1].latency_ms = lat
    path = suite.file("s10-%s-judges.json" % name)
    with open(path, "w") as f:
        json.dump({"default": "sim", "cache_max_bytes": 64 << 20,
                   "judges": [{"name": "sim", "model": "judge-sim",
                               "replicas": [s.url + "/v1" for s in sims],
                               "mode": "all_in_one",
                               "timeout_ms": timeout_ms(latency_ms),
                               "pool": pool_options(capacity, latency_ms)}]}, f)
    rw = suite.start_rewardd("s10-%s-rewardd" % name, ["--judges_config=" + path])
    # Little's law: the most calls per second the replicas can answer.
    rate = sum(capacity / (s.latency_ms / 1000.0) for s in sims)
    return {"name": name, "sims": sims, "rewardd": rw, "bound_s": CALLS / rate,
            "steps": []}


def judge_calls(sims):
    total = 0
    for s in sims:
        with urllib.request.urlopen(s.url + "/stats", timeout=10) as r:
            total += json.load(r)["calls"]
    return total


def step(suite, cond, seed, groups=GROUPS):
    """One step: `groups` GradeGroup calls at once; distinct responses."""
    before = judge_calls(cond["sims"])
    res = suite.bench(cond["rewardd"], "--shape=group",
                      "--group_size=%d" % GROUP_SIZE, "--criteria=20",
                      "--rubric=text", "--response_bytes=2000", "--judge=sim",
                      "--grading_mode=all_in_one", "--channels=2",
                      "--concurrency=%d" % groups, "--count=%d" % groups,
                      "--warmup_s=0", "--duration_s=300", "--deadline_ms=120000",
                      "--seed=%d" % seed)
    return {"step_s": res["measured_seconds"], "p50_ms": res["latency_ms"]["p50"],
            "p99_ms": res["latency_ms"]["p99"], "max_ms": res["latency_ms"]["max"],
            "judge_calls": judge_calls(cond["sims"]) - before,
            "invalid": res["invalid_items"], "item_errors": res["item_errors"],
            "failed": res["failed_total"], "groups": res["calls"]}


def summary(cond):
    steps = cond["steps"]
    return {"step_s_median": statistics.median(s["step_s"] for s in steps),
            "step_s_each": [round(s["step_s"], 3) for s in steps],
            "group_p50_ms": round(statistics.median(s["p50_ms"] for s in steps), 1),
            "group_p99_ms": round(max(s["p99_ms"] for s in steps), 1),
            "judge_calls_per_step": [s["judge_calls"] for s in steps],
            "bound_s": round(cond["bound_s"], 3),
            "invalid_results": sum(s["invalid"] for s in steps),
            "item_errors": sum(s["item_errors"] for s in steps),
            "failed_calls": sum(s["failed"] for s in steps),
            "groups_answered": sum(s["groups"] for s in steps)}


def run(suite):
    s = suite
    latency, capacity = 100, 16
    conds = [start_condition(s, name, latency, capacity)
             for name in ("healthy", "slow", "flaky")]
    seed = 900
    for c in conds:  # a small step opens connections and seeds the percentile
        seed += 1
        step(s, c, seed, groups=8)
    for r in range(s.d(1, 4)):
        for c in (conds if r % 2 == 0 else list(reversed(conds))):
            seed += 1
            c["steps"].append(step(s, c, seed))
    for c in conds:
        s.stop(c["rewardd"], *c["sims"])
    got = {c["name"]: summary(c) for c in conds}
    h, sl, fl = got["healthy"], got["slow"], got["flaky"]
    metrics = {"latency_ms": latency, "capacity_per_replica": capacity,
               "replicas": REPLICAS, "calls_per_step": CALLS,
               "pool": pool_options(capacity, latency),
               "timeout_ms": timeout_ms(latency), "conditions": got}
    slow_ratio = sl["step_s_median"] / sl["bound_s"]
    bad = lambda x: x["failed_calls"] + x["item_errors"] + x["invalid_results"]
    s.record(
        "10a", "GRPO step, 64x16 over 4 replicas, one %dx slower" % SLOW_FACTOR,
        metrics, ratio=slow_ratio, ratio_name="step / Little's-law bound",
        target="<= %.2f" % SLOW_TARGET,
        passed=slow_ratio <= SLOW_TARGET and bad(sl) == 0,
        note="step %.2f s (bound %.2f s); healthy %.2f s (bound %.2f s, %.2fx); "
             "group p50/p99 %.0f/%.0f ms (healthy %.0f/%.0f); judge calls %s" % (
                 sl["step_s_median"], sl["bound_s"], h["step_s_median"],
                 h["bound_s"], h["step_s_median"] / h["bound_s"],
                 sl["group_p50_ms"], sl["group_p99_ms"], h["group_p50_ms"],
                 h["group_p99_ms"], sl["judge_calls_per_step"]))
    flaky_ratio = fl["step_s_median"] / h["step_s_median"]
    s.record(
        "10b", "GRPO step, one replica 5% 500 + 1% hangs", {"conditions": got},
        ratio=flaky_ratio, ratio_name="step flaky / healthy",
        target="<= %.2f, 0 invalid results" % FLAKY_TARGET,
        passed=flaky_ratio <= FLAKY_TARGET and bad(fl) == 0,
        note="step %.2f s vs healthy %.2f s; group p50/p99 %.0f/%.0f ms; judge "
             "calls %s; %d invalid, %d item errors, %d failed calls" % (
                 fl["step_s_median"], h["step_s_median"], fl["group_p50_ms"],
                 fl["group_p99_ms"], fl["judge_calls_per_step"],
                 fl["invalid_results"], fl["item_errors"], fl["failed_calls"]))

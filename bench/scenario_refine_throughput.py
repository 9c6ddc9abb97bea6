"""Bench scenario "refinement throughput": many prompts refined at once.

1,000 prompts x 16 responses x 4 RtD iterations (RubricService.RefineRubric,
TOP2, exclude used, final rescore) against judge-sim: the verifier with
L = 200 ms per call and capacity C = 256 (rewardd's pool capped at C), the
oracle proposer on a judge-sim of its own (same L, C = 256). One prompt's
iterations are sequential (score, propose, rescore the pair), so only many
prompts in flight keep the verifier busy: the client keeps `streams`
refinements open at once.

Ratio = elapsed / (Little's-law bound of the calls made): judge calls x L / C
plus proposer calls x L / C_proposer, the calls counted by the simulators.
Target <= 1.2. The proposer calls overlap the judge calls, so the sum is a
generous bound: the ratio to the judge calls' bound alone is reported too.
--quick refines 120 prompts instead of 1,000 and warms up with a
one-iteration refinement, so the suite stays short.
"""

import concurrent.futures
import time

import rubric_bench_support as rb

LATENCY_MS = 200
CAPACITY = 256
PROPOSER_CAPACITY = 256
STREAMS = 192


def run(suite, sid, name):
    import grpc
    stubs = rb.load_stubs(suite.work)
    n_prompts = suite.d(120, 1000)
    items = rb.synthetic_prompts(n_prompts, 16, seed=4)
    requests = [rb.refine_request(stubs, it, "verifier") for it in items]
    verifier = suite.start_sim("thr-verifier", latency_ms=LATENCY_MS,
                               capacity=CAPACITY)
    proposer = suite.start_sim("thr-proposer", latency_ms=LATENCY_MS,
                               capacity=PROPOSER_CAPACITY)
    config = rb.write_judges_config(suite, verifier, proposer, CAPACITY,
                                    PROPOSER_CAPACITY)
    rw = suite.start_rewardd("thr-rewardd", ["--judges_config=" + config])
    channel = grpc.insecure_channel("127.0.0.1:%d" % rw.port)
    stub = stubs.rpc.RubricServiceStub(channel)
    # One warm-up refinement: connections and threads exist before timing
    # (--quick: one iteration, the chain of calls is what takes the time).
    rb.refine(stub, rb.refine_request(stubs, items[0], "verifier",
                                      iterations=suite.d(1, 4)), 120)
    before_v, before_p = rb.sim_stats(verifier), rb.sim_stats(proposer)
    finals = []
    try:
        start = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(STREAMS) as pool:
            for events in pool.map(lambda r: rb.refine(stub, r, 600), requests):
                finals.append(events[-1].final if events[-1].HasField("final")
                              else None)
        elapsed = time.monotonic() - start
        after_v, after_p = rb.sim_stats(verifier), rb.sim_stats(proposer)
        peak = after_v["concurrent_peak"]
    finally:
        channel.close()
        suite.stop(rw, verifier, proposer)
    judge_calls = after_v["completed"] - before_v["completed"]
    proposer_calls = after_p["completed"] - before_p["completed"]
    judge_bound = judge_calls * LATENCY_MS / 1000.0 / CAPACITY
    proposer_bound = proposer_calls * LATENCY_MS / 1000.0 / PROPOSER_CAPACITY
    bound = judge_bound + proposer_bound
    ratio = elapsed / bound if bound > 0 else float("inf")
    incomplete = sum(1 for f in finals if f is None)
    iterations = sum(f.summary.iterations_run for f in finals if f is not None)
    accepted = sum(f.summary.proposals_accepted for f in finals if f is not None)
    judge_ratio = elapsed / judge_bound if judge_bound > 0 else float("inf")
    passed = ratio <= 1.2 and incomplete == 0
    suite.record(
        sid, name,
        {"prompts": n_prompts, "responses_per_prompt": 16, "iterations": 4,
         "streams": STREAMS, "latency_ms": LATENCY_MS, "capacity": CAPACITY,
         "elapsed_s": round(elapsed, 2), "judge_calls": judge_calls,
         "proposer_calls": proposer_calls,
         "judge_bound_s": round(judge_bound, 2),
         "proposer_bound_s": round(proposer_bound, 2),
         "elapsed_over_judge_bound": round(judge_ratio, 3),
         "verifier_concurrent_peak": peak, "iterations_run": iterations,
         "proposals_accepted": accepted, "incomplete": incomplete},
        ratio=ratio, ratio_name="elapsed / Little's-law bound",
        target="<= 1.2", passed=passed,
        note="%d prompts in %.1f s; %d judge calls (bound %.1f s) + %d "
             "proposer calls (bound %.1f s); elapsed / judge bound alone "
             "%.3f; verifier peak %d of %d" % (
                 n_prompts, elapsed, judge_calls, judge_bound, proposer_calls,
                 proposer_bound, judge_ratio, peak, CAPACITY))

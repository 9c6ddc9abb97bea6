"""Bench scenario "synthetic tail": does refinement separate the best responses?

Prompts whose 16 responses carry a latent quality made of common and rare
features (bench/rubric_bench_support.py). The starting rubric checks the
common features only, so most of the best responses tie at the top. Each
prompt is refined by RubricService.RefineRubric (4 iterations, TOP2,
exclude used) with judge-sim's ORACLE proposer, which adds criteria for the
words one response of the top pair has and the other lacks; judge-sim's
verifier grades 'mentions "<word>"' criteria exactly. Then every response is
graded with the final rubric (RewardService.GradeGroup).

Reported, mean over prompts, before (starting rubric) and after (final):
  - responses tied at the top score;
  - Spearman rank correlation of score with latent quality among the top
    quartile by latent quality (the tail), 0 when the rubric ties them all;
  - the same over all responses.
PASS when ties at the top fall and the tail correlation rises.

The oracle proposer knows what to look for by construction: this measures
the workflow (server, engine, events, lineage), not what an LLM proposer
would write.
"""

import concurrent.futures

import rubric_bench_support as rb


def tail_metrics(quality, scores, quartile):
    top = sorted(range(len(quality)), key=lambda i: -quality[i])[:quartile]
    best = max(scores)
    return {"tied_at_top": sum(1 for s in scores if s == best),
            "tail_spearman": rb.spearman([scores[i] for i in top],
                                         [quality[i] for i in top]),
            "all_spearman": rb.spearman(scores, quality)}


def refine_one(stubs, channel, item, timeout):
    stub = stubs.rpc.RubricServiceStub(channel)
    events = rb.refine(stub, rb.refine_request(stubs, item, "verifier"), timeout)
    first = events[0]
    if not first.HasField("scores") or not events[-1].HasField("final"):
        raise RuntimeError("%s: unexpected events %s" % (item["id"], events[:1]))
    before = [0.0] * len(item["responses"])
    for c in first.scores.scores:
        before[c.candidate] = c.score
    final = events[-1].final
    group = stubs.reward_pb.GradeGroupRequest(prompt=item["prompt"])
    group.rubric.CopyFrom(final.rubric)
    group.options.judge = "verifier"
    for r in item["responses"]:
        group.responses.append(r["text"])
    graded = stubs.reward_rpc.RewardServiceStub(channel).GradeGroup(
        group, timeout=timeout, wait_for_ready=True)
    after = [r.score for r in graded.results]
    return before, after, final.summary


def run(suite, sid, name):
    import grpc
    stubs = rb.load_stubs(suite.work)
    n_prompts = suite.d(12, 48)
    items = rb.synthetic_prompts(n_prompts, 16, seed=2509)
    sim = suite.start_sim("tail-sim", latency_ms=0, capacity=64)
    config = rb.write_judges_config(suite, sim, sim, 64, 16)
    rw = suite.start_rewardd("tail-rewardd", ["--judges_config=" + config])
    channel = grpc.insecure_channel("127.0.0.1:%d" % rw.port)
    try:
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            runs = list(pool.map(
                lambda it: refine_one(stubs, channel, it, 120), items))
    finally:
        channel.close()
        suite.stop(rw, sim)
    sums = {"before": {}, "after": {}}
    accepted = rejected = 0
    for item, (before, after, summary) in zip(items, runs):
        quality = [r["quality"] for r in item["responses"]]
        for side, scores in (("before", before), ("after", after)):
            for k, v in tail_metrics(quality, scores, len(quality) // 4).items():
                sums[side][k] = sums[side].get(k, 0) + v
        accepted += summary.proposals_accepted
        rejected += summary.proposals_rejected
    mean = {side: {k: round(v / n_prompts, 3) for k, v in m.items()}
            for side, m in sums.items()}
    improved = (mean["after"]["tied_at_top"] < mean["before"]["tied_at_top"]
                and mean["after"]["tail_spearman"] > mean["before"]["tail_spearman"])
    suite.record(
        sid, name,
        {"prompts": n_prompts, "responses_per_prompt": 16, "iterations": 4,
         "proposals_accepted": accepted, "proposals_rejected": rejected,
         "before": mean["before"], "after": mean["after"]},
        ratio=mean["after"]["tail_spearman"], ratio_name="tail Spearman after",
        target="ties at top fall, tail Spearman rises (oracle proposer: a "
               "workflow test, not an LLM's)",
        passed=improved,
        note="ties at top %.2f -> %.2f; tail Spearman %.3f -> %.3f; all "
             "Spearman %.3f -> %.3f; proposals accepted %d, rejected %d" % (
                 mean["before"]["tied_at_top"], mean["after"]["tied_at_top"],
                 mean["before"]["tail_spearman"], mean["after"]["tail_spearman"],
                 mean["before"]["all_spearman"], mean["after"]["all_spearman"],
                 accepted, rejected))

"""Driving RubricService from the bench scenarios (bench/scenarios.py).

Generates the Python gRPC stubs with client/python/gen_stubs.py (Debian's
protoc and grpc_python_plugin, as the Python client does) into the suite's
work dir, and builds the synthetic data the rubric scenarios share:
prompts whose candidate responses carry a latent quality made of features
(common ones most responses have, rare ones few have), each feature a made-up
word so that judge-sim's quoted-term rule grades 'The response mentions
"<word>"' exactly and its oracle proposer can find the words one response of
a pair has and the other lacks.

    stubs = load_stubs(suite.work)     # .pb, .rpc: RubricService; .reward_pb, .reward_rpc
    data = synthetic_prompts(n_prompts=20, n_responses=16, seed=7)
    request = refine_request(stubs, data[0], "verifier", iterations=4)
"""

import os
import random
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Features per prompt: how many, how likely a response has each, and the
# latent quality each adds. Rare features are worth more and unequal, so
# the best responses differ in quality where an initial rubric built from
# the common features cannot see it.
COMMON_FEATURES = 4
COMMON_SHARE = 0.85
COMMON_VALUE = 1.0
RARE_FEATURES = 8
RARE_SHARE = 0.3
RARE_VALUES = (1.1, 1.3, 1.5, 1.7, 1.9, 2.1, 2.3, 2.5)
INITIAL_WEIGHT = 3
FILLER = ("Here is a careful answer to the question. It explains the idea "
          "step by step and closes with a short summary.")


class Stubs:
    def __init__(self, pb, rpc, reward_pb, reward_rpc):
        self.pb = pb
        self.rpc = rpc
        self.reward_pb = reward_pb
        self.reward_rpc = reward_rpc


def load_stubs(work):
    """Generates the stubs into `work`/rb_gen and imports them."""
    out = os.path.join(work, "rb_gen")
    if not os.path.isdir(out):
        subprocess.run([sys.executable,
                        os.path.join(REPO, "client/python/gen_stubs.py"),
                        "--out", out, "--package", "rb_gen"],
                       check=True, capture_output=True)
    if work not in sys.path:
        sys.path.insert(0, work)
    from rb_gen.reward.v1 import rubric_service_pb2, rubric_service_pb2_grpc
    from rb_gen.reward.v1 import reward_pb2, reward_pb2_grpc
    return Stubs(rubric_service_pb2, rubric_service_pb2_grpc, reward_pb2,
                 reward_pb2_grpc)


def _word(rng, used):
    while True:
        w = "".join(rng.choice("bcdfghklmnprstvz") + rng.choice("aeiou")
                    for _ in range(4))
        if w not in used:
            used.add(w)
            return w


def synthetic_prompts(n_prompts, n_responses, seed):
    """Prompts with responses of known latent quality.

    Each item: {"id", "prompt", "common": [word], "responses":
    [{"text", "quality", "features": [word]}]}. Responses of one prompt are
    distinct texts; the words outside features are the same in all of them.
    """
    rng = random.Random(seed)
    used = set()
    items = []
    for p in range(n_prompts):
        common = [_word(rng, used) for _ in range(COMMON_FEATURES)]
        rare = [_word(rng, used) for _ in range(RARE_FEATURES)]
        values = dict((w, COMMON_VALUE) for w in common)
        values.update(zip(rare, RARE_VALUES))
        responses = []
        for r in range(n_responses):
            have = [w for w in common if rng.random() < COMMON_SHARE]
            have += [w for w in rare if rng.random() < RARE_SHARE]
            # Digits are no terms: the draft number keeps texts distinct
            # without giving the oracle a word to pick.
            text = "%s Points: %s. (draft %d)" % (
                FILLER, ", ".join(have) if have else "none", r)
            responses.append({"text": text, "features": have,
                              "quality": round(sum(values[w] for w in have), 2)})
        items.append({"id": "p%04d" % p,
                      "prompt": "Question %d: explain the topic well." % p,
                      "common": common, "responses": responses})
    return items


def initial_rubric(stubs, item):
    """The starting rubric: one criterion per common feature."""
    rubric = stubs.reward_pb.Rubric()
    rubric.id = item["id"]
    for i, w in enumerate(item["common"]):
        c = rubric.criteria.add()
        c.id = "c%d" % (i + 1)
        c.text = 'The response mentions "%s"' % w
        c.weight = INITIAL_WEIGHT
    return rubric


def refine_request(stubs, item, verifier, iterations=4):
    pb = stubs.pb
    req = pb.RefineRubricRequest(prompt=item["prompt"])
    for i, r in enumerate(item["responses"]):
        req.candidates.add(text=r["text"], source="r%d" % i)
    req.rubric.CopyFrom(initial_rubric(stubs, item))
    req.refine.iterations = iterations
    req.verifier.judge = verifier
    return req


def write_judges_config(suite, verifier_sim, proposer_sim, capacity,
                        proposer_capacity):
    """A judges config: judge "verifier" (all_in_one) and proposer "oracle",
    each on its judge-sim with rewardd's cap at the sim's capacity."""
    import json
    path = suite.file("rubric-judges.json")
    with open(path, "w") as f:
        json.dump({"default": "verifier", "cache_max_bytes": 0,
                   "judges": [{"name": "verifier", "model": "judge-sim",
                               "replicas": [verifier_sim.url + "/v1"],
                               "mode": "all_in_one", "timeout_ms": 60000,
                               "pool": {"max_queue_size": 1000000,
                                        "max_in_flight_per_replica": capacity}}],
                   "proposers": [{"name": "oracle", "model": "judge-sim",
                                  "replicas": [proposer_sim.url + "/v1"],
                                  "max_in_flight": proposer_capacity,
                                  "max_queue": 1000000}]}, f)
    return path


def sim_stats(sim):
    import json
    import urllib.request
    with urllib.request.urlopen(sim.url + "/stats", timeout=10) as r:
        return json.load(r)


def refine(stub, request, timeout):
    """The events of one RefineRubric stream, in order."""
    return list(stub.RefineRubric(request, timeout=timeout,
                                  wait_for_ready=True))


def average_ranks(values):
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2.0 + 1
        i = j + 1
    return ranks


def spearman(xs, ys):
    """Spearman's rho with average ranks; 0 when either side is constant
    (a rubric that ties them all orders nothing)."""
    rx, ry = average_ranks(xs), average_ranks(ys)
    n = len(xs)
    mx, my = sum(rx) / n, sum(ry) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    sxx = sum((a - mx) ** 2 for a in rx)
    syy = sum((b - my) ** 2 for b in ry)
    if sxx == 0 or syy == 0:
        return 0.0
    return sxy / (sxx * syy) ** 0.5

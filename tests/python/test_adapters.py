"""Each framework adapter called exactly as its framework calls it (keyword
names and shapes), against a real rewardd: rubric references, chat prompts,
groups (also split across calls), logging channels, and every on_invalid
policy on invalid results (the "broken" judge fails every call)."""

import asyncio
import concurrent.futures
import inspect
import json
import logging
import math
import multiprocessing
import pickle

import pytest

from rewardd import InvalidRewardError, RewardClient
from rewardd.adapters import parse_reference
from rewardd.adapters.areal import ArealReward
from rewardd.adapters.openrlhf import OpenRLHFReward, response_from_query
from rewardd.adapters.slime import SlimeGroupReward, SlimeReward
from rewardd.adapters.trl import TrlReward
from rewardd.adapters.verifiers import VerifiersReward
from rewardd.adapters.verl import VerlBatchReward, VerlReward
from test_client import GOOD, HAIKU_PROMPT, JSON_MESSAGES, WRONG

ARITH_PROMPT = ("A train travels 120 km in 1.5 hours. What is its average speed in km/h? "
                "Show your work and end with 'Answer: <number>'.")
HAIKU = "Autumn rain at dusk\nred leaves drown in the puddles\nthe window weeps too"
JSON_GOOD = '{"name": "Ada", "age": 30}'
JSON_PROSE = 'Sure! Here is the JSON you asked for: {"name": "Ada", "age": 30}'


@pytest.fixture(scope="module")
def expected(server):
    """Rewards graded directly, to compare adapters with."""
    c = RewardClient(server.address)
    g = lambda resp, **kw: c.grade(resp, rubric_set="demo", **kw).reward  # noqa: E731
    return {"good": g(GOOD, rubric_id="arith-1"), "wrong": g(WRONG, rubric_id="arith-1"),
            "haiku": g(HAIKU, prompt=HAIKU_PROMPT), "json": g(JSON_GOOD, prompt=JSON_MESSAGES),
            "prose": g(JSON_PROSE, prompt=JSON_MESSAGES),
            "good_met": c.grade(GOOD, rubric_set="demo", rubric_id="arith-1").met_count}


class Sample:
    """The fields of slime's Sample that the adapter reads."""

    def __init__(self, prompt, response, label=None, metadata=None, group_index=None):
        self.prompt, self.response, self.label = prompt, response, label
        self.metadata = {} if metadata is None else metadata
        self.group_index = group_index


class Args:
    reward_key = None


# --- veRL ------------------------------------------------------------------

def test_verl_single_with_data_source_as_rubric_set(server, expected):
    fn = VerlReward(server.address).compute_score
    out = fn(data_source="demo", solution_str=GOOD, ground_truth="arith-1",
             extra_info={"index": 3, "split": "train", "prompt": ARITH_PROMPT})
    assert out["score"] == expected["good"] and out["rewardd_valid"] == 1.0
    assert out["rewardd_criteria"] == 4.0 and out["rewardd_met"] == expected["good_met"]
    # Positional, as the naive manager calls it; the prompt from extra_info
    # (chat messages) finds the rubric when ground_truth names none.
    out = fn("demo", JSON_GOOD, "", {"prompt": JSON_MESSAGES})
    assert out["score"] == expected["json"]
    # extra_info's rubric keys override ground_truth.
    out = fn("other_source", GOOD, "ignored", {"rubric_set": "demo", "rubric_id": "arith-1"})
    assert out["score"] == expected["good"]
    plain = VerlReward(server.address, rubric_set="demo", return_dict=False)
    assert plain(data_source="gsm8k", solution_str=WRONG, ground_truth='{"rubric_id": "arith-1"}') \
        == expected["wrong"]


def test_verl_async_compute_score_is_a_coroutine_function(server, expected):
    fn = VerlReward(server.address).async_compute_score
    assert inspect.iscoroutinefunction(fn)  # how veRL's reward loop tells
    out = asyncio.run(fn(data_source="demo", solution_str=GOOD, ground_truth="arith-1", extra_info=None))
    assert out["score"] == expected["good"]


def test_verl_batch_groups_contiguous_rollouts(server, expected):
    fn = VerlBatchReward(server.address, concurrency=2).compute_score
    n = 3  # rollouts per prompt, contiguous as veRL hands them over
    sols = [GOOD, WRONG, GOOD] + [HAIKU] * n
    out = fn(data_sources=["demo"] * 6, solution_strs=sols,
             ground_truths=["arith-1"] * n + [None] * n,
             extra_infos=[{"prompt": ARITH_PROMPT}] * n + [{"prompt": HAIKU_PROMPT}] * n,
             return_dict=True)
    assert [o["score"] for o in out] == [expected["good"], expected["wrong"], expected["good"]] + \
        [expected["haiku"]] * n
    assert len({tuple(sorted(o)) for o in out}) == 1  # same keys for every sample
    async_out = asyncio.run(VerlBatchReward(server.address, return_dict=False).async_compute_score(
        data_sources=["demo"], solution_strs=[GOOD], ground_truths=["arith-1"], extra_infos=[{}]))
    assert async_out == [expected["good"]]
    with pytest.raises(ValueError, match="ground_truths"):
        fn(data_sources=["demo"] * 2, solution_strs=[GOOD] * 2, ground_truths=["arith-1"],
           extra_infos=[{}, {}])


# --- TRL -------------------------------------------------------------------

class TrlLogs:
    def __init__(self):
        self.extra, self.metrics = {}, {}

    def log_extra(self, column, values):
        self.extra[column] = values

    def log_metric(self, name, value):
        self.metrics[name] = value


def trl_call(fn, prompts, completions, logs=None, **columns):
    """The keywords GRPOTrainer passes (dataset columns included)."""
    logs = logs or TrlLogs()
    return fn(prompts=prompts, completions=completions,
              completion_ids=[[1, 2, 3]] * len(completions), trainer_state=object(),
              log_extra=logs.log_extra, log_metric=logs.log_metric, **columns)


def test_trl_standard_format_with_rubric_column(server, expected):
    fn = TrlReward(server.address, rubric_set="demo")
    assert fn.__name__ == "rewardd" and fn.on_invalid == "none"
    logs = TrlLogs()
    out = trl_call(fn, [ARITH_PROMPT] * 4, [GOOD, WRONG, GOOD, WRONG], logs,
                   rubric_id=["arith-1"] * 4, answer=["80"] * 4)
    assert out == [expected["good"], expected["wrong"]] * 2
    assert logs.extra["rewardd_valid"] == [True] * 4
    assert logs.extra["rewardd_verdicts"][0].startswith("answer=MET format=MET")
    assert logs.metrics["rewardd/invalid"] == 0.0 and logs.metrics["rewardd/zeroed"] == 0.0


def test_trl_conversational_prompts_found_by_prompt(server, expected):
    fn = TrlReward(server.address, rubric_set="demo")
    completions = [[{"role": "assistant", "content": JSON_GOOD}],
                   [{"role": "assistant", "content": JSON_PROSE}]]
    assert trl_call(fn, [JSON_MESSAGES] * 2, completions) == [expected["json"], expected["prose"]]


def test_trl_group_split_across_calls_matches_one_call(server, expected):
    fn = TrlReward(server.address, rubric_set="demo")
    completions = [GOOD, WRONG, WRONG, GOOD]
    whole = trl_call(fn, [ARITH_PROMPT] * 4, completions, rubric_id=["arith-1"] * 4)
    parts = (trl_call(fn, [ARITH_PROMPT] * 2, completions[:2], rubric_id=["arith-1"] * 2) +
             trl_call(fn, [ARITH_PROMPT] * 2, completions[2:], rubric_id=["arith-1"] * 2))
    assert whole == parts == [expected["good"], expected["wrong"], expected["wrong"], expected["good"]]


def test_trl_async_call(server, expected):
    fn = TrlReward(server.address, rubric_set="demo")
    out = asyncio.run(fn.async_call(prompts=[HAIKU_PROMPT], completions=[HAIKU], completion_ids=[[1]]))
    assert out == [expected["haiku"]]


# --- OpenRLHF --------------------------------------------------------------

def templated(prompt):
    return "<|im_start|>user\n%s<|im_end|>\n<|im_start|>assistant\n" % prompt


def test_openrlhf_reward_func(server, expected):
    fn = OpenRLHFReward(server.address, rubric_set="demo")
    prompts = [templated(ARITH_PROMPT)] * 2 + [templated(HAIKU_PROMPT)]
    queries = [prompts[0] + GOOD + "<|im_end|>", prompts[1] + WRONG + "<|im_end|>\n",
               prompts[2] + HAIKU]
    labels = ["arith-1", json.dumps({"rubric_set": "demo", "rubric_id": "arith-1"}),
              {"rubric_id": "haiku"}]
    out = fn(queries, prompts, labels)
    assert out["rewards"] == out["scores"] == [expected["good"], expected["wrong"], expected["haiku"]]
    assert out["extra_logs"]["rewardd_valid"] == [1.0, 1.0, 1.0]
    assert out["extra_logs"]["rewardd_zeroed"] == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="does not start with its prompt"):
        fn(queries=["something else"], prompts=[prompts[0]], labels=["arith-1"])


def test_openrlhf_response_cut():
    p = templated("q")
    assert response_from_query(p + " Answer: 80 <|im_end|>", p) == "Answer: 80"
    assert response_from_query(p + "x</s>", p) == "x"
    assert response_from_query(p + "x", p, stop_suffixes=()) == "x"


# --- slime -----------------------------------------------------------------

def test_slime_single_and_reward_key(server, expected):
    rm = SlimeReward(server.address, rubric_set="demo")
    sample = Sample(ARITH_PROMPT, GOOD, label="arith-1")
    assert asyncio.run(rm(Args(), sample)) == expected["good"]
    assert sample.metadata["rewardd"]["rewardd_valid"] == 1.0
    assert "answer=MET" in sample.metadata["rewardd"]["verdicts"]
    args = Args()
    args.reward_key = "score"
    chat = Sample(JSON_MESSAGES, JSON_GOOD, label=None, metadata={"rubric_set": "demo"})
    out = asyncio.run(rm(args, chat))
    assert out["score"] == expected["json"] and out["rewardd_valid"] == 1.0


def test_slime_group_rm(server, expected):
    rm = SlimeGroupReward(server.address, rubric_set="demo")
    samples = [Sample(ARITH_PROMPT, r, "arith-1", group_index=0) for r in (GOOD, WRONG)] + \
              [Sample(HAIKU_PROMPT, HAIKU, None, group_index=1)] * 2
    out = asyncio.run(rm(Args(), samples))
    assert out == [expected["good"], expected["wrong"], expected["haiku"], expected["haiku"]]


# --- verifiers -------------------------------------------------------------

def test_verifiers_reward_function(server, expected):
    f = VerifiersReward(server.address, rubric_set="demo", name="rubric_reward")
    assert f.__name__ == "rubric_reward"
    params = inspect.signature(f).parameters
    assert list(params)[:5] == ["prompt", "completion", "answer", "state", "info"]
    state = {}
    out = asyncio.run(f(prompt=JSON_MESSAGES, completion=[{"role": "assistant", "content": JSON_GOOD}],
                        answer="", state=state, info={}, task="default"))
    assert out == expected["json"] and state["rewardd"]["rewardd_valid"] == 1.0
    out = asyncio.run(f(prompt=[{"role": "user", "content": ARITH_PROMPT}], completion=GOOD,
                        answer="arith-1", state={}, info={"rubric_set": "demo"}))
    assert out == expected["good"]


# --- AReaL -----------------------------------------------------------------

def _areal_in_worker(fn):
    return fn("<templated prompt>", GOOD, [1, 2], [3, 4], rubric_id="arith-1", answer="80")


def test_areal_reward_fn_in_a_process_pool(server, expected):
    fn = ArealReward(server.address, rubric_set="demo")
    assert fn("<templated prompt>", WRONG, [1, 2], [3], rubric_id="arith-1") == expected["wrong"]
    # AReaL runs reward_fn in a process pool: the adapter is pickled, and the
    # worker opens its own channel.
    assert b"Channel" not in pickle.dumps(fn)
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=ctx) as pool:
        assert list(pool.map(_areal_in_worker, [fn, fn])) == [expected["good"]] * 2
    by_messages = ArealReward(server.address, rubric_set="demo", reference_column="none",
                              prompt_column="messages")
    assert by_messages(prompt="<templated>", completions=JSON_GOOD, prompt_ids=[1], completion_ids=[2],
                       messages=JSON_MESSAGES) == expected["json"]


# --- references ------------------------------------------------------------

def test_rubric_references():
    assert parse_reference("arith-1", "f") == {"rubric_id": "arith-1"}
    assert parse_reference(' {"rubric_set": "s", "rubric_id": "r"}', "f") == {"rubric_set": "s", "rubric_id": "r"}
    assert parse_reference(None, "f") == parse_reference("", "f") == {}
    with pytest.raises(ValueError, match="rubric_ID"):
        parse_reference({"rubric_ID": "x"}, "labels[0]")
    with pytest.raises(ValueError, match="labels\\[0\\]"):
        parse_reference("{not json", "labels[0]")


def test_inline_rubric_as_label(server):
    rubric = {"criteria": [{"id": "c", "text": "says hi", "weight": 1,
                            "check": {"kind": "CONTAINS", "values": ["hi"]}}]}
    fn = VerlReward(server.address, return_dict=False)
    assert fn("any", "hi there", {"rubric": rubric}) == 1.0
    assert fn("any", "bye", json.dumps({"rubric": rubric})) == 0.0


def test_no_rubric_set_is_a_clear_error(server):
    with pytest.raises(ValueError, match="no rubric set"):
        TrlReward(server.address)(prompts=["p"], completions=["c"])


# --- on_invalid --------------------------------------------------------------

def _verl(a):
    return [a.compute_score(data_source="demo", solution_str=GOOD, ground_truth="arith-1",
                            extra_info={})["score"]]


def _verl_batch(a):
    return [d["score"] for d in a.compute_score(data_sources=["demo"] * 2, solution_strs=[GOOD, WRONG],
                                                ground_truths=["arith-1"] * 2, extra_infos=[{}, {}])]


def _trl(a):
    return trl_call(a, [ARITH_PROMPT] * 2, [GOOD, WRONG], rubric_id=["arith-1"] * 2)


def _openrlhf(a):
    p = templated(ARITH_PROMPT)
    return a([p + GOOD, p + WRONG], [p, p], ["arith-1", "arith-1"])["rewards"]


def _slime(a):
    return [asyncio.run(a(Args(), Sample(ARITH_PROMPT, GOOD, "arith-1")))]


def _slime_group(a):
    return asyncio.run(a(Args(), [Sample(ARITH_PROMPT, r, "arith-1", group_index=0) for r in (GOOD, WRONG)]))


def _verifiers(a):
    return [asyncio.run(a(prompt=ARITH_PROMPT, completion=GOOD, answer="arith-1", state={}, info={}))]


def _areal(a):
    return [a("p", GOOD, [1], [2], rubric_id="arith-1")]


ADAPTERS = {
    "verl": (VerlReward, _verl, "raise"), "verl_batch": (VerlBatchReward, _verl_batch, "raise"),
    "trl": (TrlReward, _trl, "none"), "openrlhf": (OpenRLHFReward, _openrlhf, "raise"),
    "slime": (SlimeReward, _slime, "raise"), "slime_group": (SlimeGroupReward, _slime_group, "raise"),
    "verifiers": (VerifiersReward, _verifiers, "raise"), "areal": (ArealReward, _areal, "raise"),
}


@pytest.mark.parametrize("name", sorted(ADAPTERS))
def test_defaults_are_never_zero(server, name):
    cls, _, default = ADAPTERS[name]
    assert cls(server.address).on_invalid == default != "zero"
    with pytest.raises(ValueError, match="on_invalid"):
        cls(server.address, on_invalid="zeros")


@pytest.mark.parametrize("policy", ["raise", "none", "nan", "zero"])
@pytest.mark.parametrize("name", sorted(ADAPTERS))
def test_invalid_results_under_each_policy(server, name, policy, caplog):
    cls, call, _ = ADAPTERS[name]
    adapter = cls(server.address, rubric_set="demo", options={"judge": "broken"}, on_invalid=policy)
    caplog.set_level(logging.WARNING, logger="rewardd.adapters")
    if policy == "raise":
        with pytest.raises(InvalidRewardError) as e:
            call(adapter)
        assert e.value.results and not e.value.results[0].valid
        assert "JUDGE_ERROR" in str(e.value) or "no verdict" in str(e.value)
        assert adapter.stats.raised >= 1
        return
    values = list(call(adapter))
    n = len(values)
    assert adapter.stats.invalid == n and adapter.stats.valid == 0
    if policy == "none":
        # OpenRLHF has no per-sample "unscorable": None travels as NaN there.
        assert all(v is None for v in values) or (name == "openrlhf" and all(math.isnan(v) for v in values))
        assert adapter.stats.as_none == n
    elif policy == "nan":
        assert all(math.isnan(v) for v in values) and adapter.stats.as_nan == n
    else:
        assert values == [0.0] * n
        assert adapter.stats.as_zero == n  # counted ...
        warnings = [r for r in caplog.records if "on_invalid='zero'" in r.getMessage()]
        assert len(warnings) == n  # ... and logged, every time

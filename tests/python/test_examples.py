"""The Python examples (examples/python) run against a real rewardd."""

import importlib.util
import os
import subprocess
import sys

from conftest import SOURCE_DIR
from test_adapters import ARITH_PROMPT, Args, Sample, templated
from test_client import GOOD

EXAMPLES = os.path.join(SOURCE_DIR, "examples", "python")


def _load(name, monkeypatch, server):
    monkeypatch.setenv("REWARDD_TARGET", server.address)
    monkeypatch.setenv("REWARDD_RUBRIC_SET", "demo")
    spec = importlib.util.spec_from_file_location(name, os.path.join(EXAMPLES, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_grpo_loop(server):
    out = subprocess.run([sys.executable, os.path.join(EXAMPLES, "grpo_loop.py"),
                          "--target=" + server.address, "--steps=2", "--group_size=4"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 4 and all("valid 4/4" in line for line in lines)


def test_reward_files(server, monkeypatch):
    import asyncio
    verl = _load("verl_reward", monkeypatch, server)
    score = verl.compute_score(data_source="demo", solution_str=GOOD, ground_truth="arith-1",
                               extra_info={"prompt": ARITH_PROMPT})
    assert score["rewardd_valid"] == 1.0
    batch = verl.compute_score_batch(data_sources=["demo"], solution_strs=[GOOD],
                                     ground_truths=["arith-1"], extra_infos=[{}])
    assert batch[0]["score"] == score["score"]
    trl = _load("trl_reward", monkeypatch, server)
    assert trl.rubric_reward(prompts=[ARITH_PROMPT], completions=[GOOD], completion_ids=[[1]],
                             rubric_id=["arith-1"])[0] > 0
    openrlhf = _load("openrlhf_reward_func", monkeypatch, server)
    p = templated(ARITH_PROMPT)
    assert openrlhf.reward_func([p + GOOD], [p], ["arith-1"])["rewards"] == [score["score"]]
    slime = _load("slime_rm", monkeypatch, server)
    assert asyncio.run(slime.custom_rm(Args(), Sample(ARITH_PROMPT, GOOD, "arith-1"))) == score["score"]

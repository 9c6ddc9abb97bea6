"""judge-sim processes for the Python tests: a simulated OpenAI-compatible
judge and proposer (tools/judge-sim) on a kernel-picked loopback port.

    sim = JudgeSim(["--oracle=oracle.json"]).start()
    sim.base_url   # "http://127.0.0.1:<port>/v1", a judges-config replica
    sim.stats()    # its /stats counters (dict)
    sim.stop()

The binary is $JUDGE_SIM_BINARY (ctest sets it; by hand:
build/tools/judge-sim/judge-sim). A process dies with pytest
(conftest.die_with_parent). Also: the "Chasing the Tail" worked example as
judge-sim's oracle and proposer script, like tests/integration/
judge_test_support.h.

Thread-safety: none needed (test fixtures).
"""

import json
import os
import re
import signal
import subprocess
import urllib.request

import pytest

from conftest import die_with_parent

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("REWARDD_SOURCE_DIR", os.path.abspath(os.path.join(HERE, "..", "..")))


def binary():
    path = os.environ.get("JUDGE_SIM_BINARY") or os.path.join(
        SOURCE_DIR, "build", "tools", "judge-sim", "judge-sim")
    if not os.access(path, os.X_OK):
        pytest.fail("JUDGE_SIM_BINARY: %s is not an executable; build it (ninja -C build "
                    "judge-sim) or set JUDGE_SIM_BINARY" % path)
    return path


class JudgeSim:
    def __init__(self, flags):
        self.flags = list(flags)
        self.proc = None
        self.port = 0

    def start(self):
        self.proc = subprocess.Popen(die_with_parent([binary(), "--port=0"] + self.flags),
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        # Its first line names the port; it prints nothing before listening.
        line = self.proc.stdout.readline()
        m = re.search(r"listening on [0-9.]+:(\d+)", line)
        if not m:
            self.stop()
            raise RuntimeError("judge-sim did not start: %r" % line)
        self.port = int(m.group(1))
        return self

    @property
    def base_url(self):
        return "http://127.0.0.1:%d/v1" % self.port

    def stats(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/stats" % self.port, timeout=30) as r:
            return json.loads(r.read())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()


def paper_example(shared_data):
    path = os.path.join(shared_data, "chasing_the_tail", "paper_appendix_example.json")
    with open(path) as f:
        return json.load(f)


def paper_oracle(paper):
    """judge-sim's fixed verdicts: the paper's, for both rubrics, R1 and R2."""
    verdicts = {"R1": {}, "R2": {}}
    for which in ("initial_rubric", "refined_rubric"):
        for c in paper[which]:
            for r in ("R1", "R2"):
                verdicts[r][c["criterion"]] = c[r]
    return {"responses": paper["responses"], "verdicts": verdicts}


def paper_script(paper):
    """judge-sim's proposer script: the paper's refined rubric, ids mapped to
    the initial rubric's for the criteria it keeps or rewrites."""
    ids = {"c1": "c1", "c2": "c2", "c3": "c3", "c4": "c4", "c5": "c5", "c6": "c6",
           "c8": "c9", "c9": "c7"}
    rubric = []
    for c in paper["refined_rubric"]:
        item = {"criterion": c["criterion"], "weight": c["weight"]}
        if c["local_id"] in ids:
            item["id"] = ids[c["local_id"]]
        rubric.append(item)
    return {"proposals": [{"when": ["Current rubric:", "Includes medical disclaimer"],
                           "rubric": rubric}]}


def paper_initial_rubric(paper):
    """The paper's initial rubric as an inline rubric dict."""
    return {"id": "paper", "criteria": [
        {"id": c["local_id"], "text": c["criterion"], "weight": c["weight"]}
        for c in paper["initial_rubric"]]}

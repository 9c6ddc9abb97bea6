"""generate_rubric / refine_rubric (RubricService) against a real rewardd
whose verifier judge and proposers are judge-sim processes.

Golden: the worked example of "Chasing the Tail" (Appendix I,
../shared/data/chasing_the_tail): the initial rubric ties R1 and R2 at
18/20; the scripted proposer answers the paper's refined rubric, which
scores them 25/27 vs 22/27. A refinement abandoned midway is cancelled on
the server (its RubricService metrics say CANCELLED) and the next one runs.
"""

import asyncio
import json
import pickle
import re
import time
import urllib.request

import pytest

import judge_sim
from conftest import SHARED_DATA
from rewardd import (AsyncRewardClient, FinalEvent, GeneratedRubric, PairEvent, ProposalEvent,
                     RefineOptions, RejectedEvent, RewardClient, RewardError, Rubric,
                     ScoresEvent)


@pytest.fixture(scope="module")
def paper():
    return judge_sim.paper_example(SHARED_DATA)


@pytest.fixture(scope="module")
def sims(paper, tmp_path_factory):
    d = tmp_path_factory.mktemp("sims")
    (d / "oracle.json").write_text(json.dumps(judge_sim.paper_oracle(paper)))
    (d / "script.json").write_text(json.dumps(judge_sim.paper_script(paper)))
    started = {}
    try:
        # Verifier and scripted proposer; the oracle proposer; one that hangs.
        started["verifier"] = judge_sim.JudgeSim(
            ["--oracle=%s" % (d / "oracle.json"),
             "--proposer_script=%s" % (d / "script.json")]).start()
        started["oracle"] = judge_sim.JudgeSim([]).start()
        started["hang"] = judge_sim.JudgeSim(["--rate_hang=1", "--hang_ms=600000"]).start()
        started["garbage"] = judge_sim.JudgeSim(["--rate_garbage=1"]).start()
        yield started
    finally:
        for s in started.values():
            s.stop()


@pytest.fixture(scope="module")
def rubric_server(start_rewardd, sims, paper, tmp_path_factory):
    d = tmp_path_factory.mktemp("rubric-service")

    def proposer(name, sim):
        return {"name": name, "model": "judge-sim", "replicas": [sim.base_url],
                "initial_backoff_ms": 10, "max_backoff_ms": 50}

    (d / "judges.json").write_text(json.dumps({
        "judges": [{"name": "verifier", "model": "judge-sim",
                    "replicas": [sims["verifier"].base_url], "pool": {}, "mode": "all_in_one"}],
        "proposers": [proposer("scripted", sims["verifier"]), proposer("oracle", sims["oracle"]),
                      proposer("hang", sims["hang"]), proposer("garbage", sims["garbage"])]}))
    # The paper's initial rubric as a loaded set, for refinement by reference.
    rubrics = d / "rubrics"
    rubrics.mkdir()
    start = dict(judge_sim.paper_initial_rubric(paper), prompt=paper["prompt"])
    (rubrics / "paper_start.json").write_text(json.dumps({"rubrics": [start]}))
    server = start_rewardd("--judges_config=%s" % (d / "judges.json"),
                           "--rubric_dir=%s" % rubrics,
                           "--metrics_listen=127.0.0.1:0",
                           "--metrics_port_file=%s" % (d / "metrics_port"))
    server.metrics_port = int((d / "metrics_port").read_text().strip())
    return server


def paper_call(paper, proposer="scripted"):
    """The arguments of the paper's refinement."""
    return dict(prompt=paper["prompt"],
                candidates=[(paper["responses"]["R1"], "R1"), (paper["responses"]["R2"], "R2")],
                rubric=judge_sim.paper_initial_rubric(paper), verifier="verifier",
                proposer=proposer)


def score(s):
    return "%g/%g" % (s.score, s.max_score)


def check_paper_refinement(events):
    assert [e.kind for e in events] == ["scores", "pair", "proposal", "final"]
    scores, pair, proposal, final = events
    assert isinstance(scores, ScoresEvent) and isinstance(pair, PairEvent)
    assert [score(s) for s in scores.scores] == ["18/20", "18/20"]
    assert all(s.valid for s in scores.scores) and scores.tied_at_top == 2
    assert (pair.first, pair.second, pair.selection) == (0, 1, "TOP2")

    assert isinstance(proposal, ProposalEvent) and proposal.iteration == 1
    assert [(s.source, score(s)) for s in proposal.pair_scores] == [("R1", "25/27"),
                                                                    ("R2", "22/27")]
    assert len(proposal.rubric.criteria) == 12
    assert (len(proposal.diff.added), len(proposal.diff.reworded)) == (3, 6)
    assert (proposal.version.origin, proposal.version.proposer) == ("refined", "scripted")

    assert isinstance(final, FinalEvent)
    assert final.stop_reason.startswith("fewer than 2 candidates left")
    s = final.summary
    assert (s.tied_at_top_before, s.tied_at_top_after, s.top_pair_gap_after) == (2, 1, 3)
    assert s.after_measured and s.proposals_accepted == 1
    assert [v.origin for v in final.lineage] == ["given", "refined"]
    assert final.lineage[1].parent_version == final.lineage[0].version
    assert final.lineage[1].pair == (0, 1)
    assert final.rubric.version == final.lineage[1].version == proposal.rubric.version
    assert isinstance(final.rubric, Rubric)


def test_refine_paper_example_breaks_the_tie(rubric_server, paper):
    with RewardClient(rubric_server.address, wait_for_ready=True) as client:
        with client.refine_rubric(**paper_call(paper)) as stream:
            events = list(stream)
        check_paper_refinement(events)
        assert stream.final is events[-1]
        assert pickle.loads(pickle.dumps(events)) == events  # values, e.g. for a Ray driver
        # The refined rubric grades inline like any rubric (by the verifier).
        r = client.grade(paper["responses"]["R1"], rubric=events[-1].rubric.to_dict(),
                         options={"judge": "verifier"}, prompt=paper["prompt"])
        assert (r.score, r.max_score) == (25, 27)


def test_refine_async_and_result(rubric_server, paper):
    async def run():
        async with AsyncRewardClient(rubric_server.address, wait_for_ready=True) as client:
            events = [e async for e in client.refine_rubric(**paper_call(paper))]
            final = await client.refine_rubric(**paper_call(paper)).result()
            return events, final

    events, final = asyncio.run(run())
    check_paper_refinement(events)
    assert final.rubric.version == events[-1].rubric.version


def test_refine_options_are_sent(rubric_server, paper):
    # One iteration and no final rescore: the summary has no "after" figures.
    with RewardClient(rubric_server.address, wait_for_ready=True) as client:
        final = client.refine_rubric(
            **paper_call(paper), refine=RefineOptions(iterations=1, final_rescore=False)).result()
    assert final.summary.iterations_run == 1 and not final.summary.after_measured


def test_refine_from_a_loaded_rubric(rubric_server, paper):
    with RewardClient(rubric_server.address, wait_for_ready=True) as client:
        by_ref = dict(paper_call(paper), rubric=None, rubric_set="paper_start", rubric_id="paper")
        check_paper_refinement(list(client.refine_rubric(**by_ref)))
        # A Rubric from get_rubric goes back inline.
        loaded = client.get_rubric("paper_start", "paper")
        check_paper_refinement(list(client.refine_rubric(**dict(paper_call(paper),
                                                                rubric=loaded))))


def test_refine_without_a_rubric_generates_one_first(rubric_server, paper):
    with RewardClient(rubric_server.address, wait_for_ready=True) as client:
        call = dict(paper_call(paper, proposer="oracle"), rubric=None, refine={"iterations": 1})
        events = list(client.refine_rubric(**call))
    assert events[0].kind == "generated" and isinstance(events[0], ProposalEvent)
    assert events[0].iteration == 0 and events[0].version.origin == "generated"
    assert events[-1].kind == "final" and events[-1].lineage[0].origin == "generated"


def test_an_unusable_proposal_is_a_rejected_event(rubric_server, paper):
    with RewardClient(rubric_server.address, wait_for_ready=True) as client:
        events = list(client.refine_rubric(**paper_call(paper, proposer="garbage")))
    assert [e.kind for e in events] == ["scores", "pair", "rejected", "final"]
    rejected, final = events[2], events[3]
    assert isinstance(rejected, RejectedEvent) and rejected.iteration == 1
    assert "no JSON list of criteria" in rejected.reason
    assert rejected.kept_version == events[0].rubric_version == final.rubric.version
    assert final.summary.proposals_rejected == 1 and final.summary.tied_at_top_after == 2


def test_generate_rubric(rubric_server):
    prompt = "How should an adult treat a mild fever at home?"
    with RewardClient(rubric_server.address, wait_for_ready=True) as client:
        g = client.generate_rubric(prompt, proposer="oracle", rubric_id="fever")
    assert isinstance(g, GeneratedRubric)
    assert g.rubric.id == "fever" and g.rubric.criteria and g.rubric.version
    assert (g.provenance.origin, g.provenance.proposer) == ("generated", "oracle")
    assert g.provenance.version == g.rubric.version

    async def run():
        async with AsyncRewardClient(rubric_server.address, wait_for_ready=True) as client:
            return await client.generate_rubric([{"role": "user", "content": prompt}],
                                                proposer={"proposer": "oracle"})

    ag = asyncio.run(run())
    assert ag.rubric.criteria and ag.provenance.origin == "generated"


def test_server_errors_are_reward_errors(rubric_server, paper):
    with RewardClient(rubric_server.address, wait_for_ready=True) as client:
        with pytest.raises(RewardError) as e:
            client.generate_rubric("a prompt", proposer="no-such-proposer")
        assert e.value.code_name == "INVALID_ARGUMENT"
        with pytest.raises(RewardError) as e:
            list(client.refine_rubric(**dict(paper_call(paper), verifier="no-such-judge")))
        assert e.value.code_name == "INVALID_ARGUMENT" and "no-such-judge" in str(e.value)


def _metrics(server):
    url = "http://127.0.0.1:%d/metrics" % server.metrics_port
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.read().decode()


def _sample(text, name, **labels):
    """The value of one series of a Prometheus text exposition (0 if absent)."""
    for line in text.splitlines():
        m = re.match(r"^%s(\{[^}]*\})?\s+(\S+)$" % re.escape(name), line)
        if m and all('%s="%s"' % kv in (m.group(1) or "") for kv in labels.items()):
            return float(m.group(2))
    return 0.0


def _cancelled(server):
    return _sample(_metrics(server), "rewardd_rubric_service_requests_total",
                   method="RefineRubric", code="CANCELLED")


def _wait_until(what, predicate):
    end = time.monotonic() + 120  # catches a hang, never a slow machine
    while not predicate():
        if time.monotonic() > end:
            pytest.fail("timed out waiting for: " + what)
        time.sleep(0.02)


def _wait_cancel_seen(server, cancelled_before):
    _wait_until("the server counts the refinement CANCELLED",
                lambda: _cancelled(server) == cancelled_before + 1)
    _wait_until("no refinement is active", lambda: _sample(
        _metrics(server), "rewardd_rubric_service_refinements_active") == 0)


def test_refine_abandoned_midway_is_cancelled_on_the_server(rubric_server, sims, paper):
    hang = sims["hang"]
    with RewardClient(rubric_server.address, wait_for_ready=True) as client:
        cancelled = _cancelled(rubric_server)
        hangs = hang.stats()["faults"]["hang"]
        kinds = []
        # Scores and pair come before the proposer call, which never answers.
        for event in client.refine_rubric(**paper_call(paper, proposer="hang")):
            kinds.append(event.kind)
            if event.kind == "pair":
                _wait_until("the proposer call reached the hanging proposer",
                            lambda: hang.stats()["faults"]["hang"] > hangs)
                break  # drops the stream: its call is cancelled
        assert kinds == ["scores", "pair"]
        _wait_cancel_seen(rubric_server, cancelled)
        # Leaving a `with` block cancels a stream that is still referenced.
        hangs = hang.stats()["faults"]["hang"]
        with client.refine_rubric(**paper_call(paper, proposer="hang")) as stream:
            assert [next(stream).kind, next(stream).kind] == ["scores", "pair"]
            _wait_until("the proposer call reached the hanging proposer",
                        lambda: hang.stats()["faults"]["hang"] > hangs)
        assert stream.cancelled and list(stream) == [] and stream.final is None
        _wait_cancel_seen(rubric_server, cancelled + 1)
        # The next call on the same client works.
        check_paper_refinement(list(client.refine_rubric(**paper_call(paper))))


def test_refine_abandoned_midway_async(rubric_server, sims, paper):
    hang = sims["hang"]
    cancelled = _cancelled(rubric_server)
    hangs = hang.stats()["faults"]["hang"]

    async def run():
        async with AsyncRewardClient(rubric_server.address, wait_for_ready=True) as client:
            async with client.refine_rubric(**paper_call(paper, proposer="hang")) as stream:
                async for event in stream:
                    if event.kind == "pair":
                        while hang.stats()["faults"]["hang"] == hangs:
                            await asyncio.sleep(0.02)
                        break
            assert stream.cancelled
            assert [e async for e in stream] == []  # ended, no error
            await asyncio.get_running_loop().run_in_executor(
                None, _wait_cancel_seen, rubric_server, cancelled)
            return [e async for e in client.refine_rubric(**paper_call(paper))]

    check_paper_refinement(asyncio.run(run()))


def test_bad_input_raises_naming_the_field_before_sending(paper):
    # Nothing listens at port 1: a call that was sent would fail UNAVAILABLE.
    client = RewardClient("127.0.0.1:1", deadline=5)
    aclient = AsyncRewardClient("127.0.0.1:1", deadline=5)
    good = paper_call(paper)
    cases = [
        (dict(good, candidates=["only one"]), ValueError, "candidates: need at least 2"),
        (dict(good, candidates=["a", "b", "a"]), ValueError, r"candidates\[2\]: same text"),
        (dict(good, candidates=["a", 7]), TypeError, r"candidates\[1\]"),
        (dict(good, candidates="ab"), TypeError, "candidates"),
        (dict(good, prompt=""), ValueError, "prompt"),
        (dict(good, prompt=None), ValueError, "prompt"),
        (dict(good, rubric_set="demo"), ValueError, "rubric"),
        (dict(good, rubric=None, rubric_set="demo"), ValueError, "rubric_id"),
        (dict(good, rubric={"criteria": [{"wieght": 1}]}), ValueError, "rubric"),
        (dict(good, refine={"iterations": 17}), ValueError, "refine.iterations"),
        (dict(good, refine={"pair_selection": "best"}), ValueError, "refine.pair_selection"),
        (dict(good, refine={"iteratons": 1}), TypeError, "refine"),
        (dict(good, proposer={"max_criteria": -1}), ValueError, "proposer.max_criteria"),
        (dict(good, proposer=5), TypeError, "proposer"),
        (dict(good, verifier={"mode": "sometimes"}), ValueError, "verifier"),
        (dict(good, deadline_seconds=-1), ValueError, "deadline_seconds"),
    ]
    for kwargs, error, field in cases:
        with pytest.raises(error, match=field):
            client.refine_rubric(**kwargs)

    async def async_cases():
        for kwargs, error, field in cases:
            with pytest.raises(error, match=field):
                aclient.refine_rubric(**kwargs)
        with pytest.raises(ValueError, match="prompt"):
            await aclient.generate_rubric("   ")

    asyncio.run(async_cases())
    with pytest.raises(ValueError, match=r"prompt\[0\]"):
        client.generate_rubric([{"content": "no role"}])
    with pytest.raises(TypeError, match="reference_responses"):
        client.generate_rubric("p", reference_responses="not a list")

"""Lineage and provenance of a rubric set file (docs/rubric-formats.md,
"Lineage and provenance"): get_rubric's `lineage`, RubricSetInfo's
derived_from / derived_from_version / produced_by, against a real rewardd."""

import asyncio
import json

import pytest

from rewardd import AsyncRewardClient, RewardClient, RubricVersion

V0, V1 = "a1b2c3d4e5f60718", "c3d4e5f607182930"
REFINED_SET = {
    "provenance": {"produced_by": "reward-cli refine", "derived_from": "initial",
                   "derived_from_version": "9f2c0011aabbccdd",
                   "updated": "2026-12-05T00:10:00Z", "options": {"iterations": 4}},
    "rubrics": [
        {"id": "q17", "prompt": "Say yes.", "refine_status": "refined",
         "criteria": [{"id": "yes", "text": "The response says yes.", "weight": 2,
                       "check": {"type": "contains", "values": ["yes"]}}],
         "lineage": [
             {"version": V0, "parent_version": "", "iteration": 0, "origin": "given"},
             {"version": V1, "parent_version": V0, "iteration": 1, "origin": "refined",
              "proposer": "writer", "proposer_model": "Qwen/Qwen3-32B",
              "template_version": "rtd-v1-test", "pair": [3, 7],
              "pair_sources": ["gpt-4.1", "o3"]}]},
        {"id": "plain", "prompt": "Say no.",
         "criteria": [{"id": "no", "text": "The response says no.", "weight": 1,
                       "check": {"type": "contains", "values": ["no"]}}]},
    ]}


@pytest.fixture(scope="module")
def lineage_server(start_rewardd, tmp_path_factory):
    d = tmp_path_factory.mktemp("lineage-rubrics")
    (d / "refined.json").write_text(json.dumps(REFINED_SET))
    return start_rewardd("--rubric_dir=%s" % d, "--default_judge=embedded")


EXPECTED = (
    RubricVersion(version=V0, parent_version="", iteration=0, origin="given"),
    RubricVersion(version=V1, parent_version=V0, iteration=1, origin="refined",
                  proposer="writer", proposer_model="Qwen/Qwen3-32B",
                  template_version="rtd-v1-test", pair=(3, 7)),
)


def test_get_rubric_carries_the_lineage_and_the_set_its_provenance(lineage_server):
    with RewardClient(lineage_server.address, wait_for_ready=True) as client:
        r = client.get_rubric("refined", "q17")
        assert r.lineage == EXPECTED
        assert r.lineage[-1].parent_version == r.lineage[0].version
        # A rubric of the same file without a lineage: ().
        assert client.get_rubric("refined", "plain").lineage == ()
        (info,) = client.list_rubric_sets()
        assert (info.name, info.derived_from, info.derived_from_version, info.produced_by) == (
            "refined", "initial", "9f2c0011aabbccdd", "reward-cli refine")
        # Grading with it is unaffected by the metadata.
        assert client.grade("yes", rubric_set="refined", rubric_id="q17").reward == 1.0

    async def run():
        async with AsyncRewardClient(lineage_server.address, wait_for_ready=True) as aclient:
            return (await aclient.get_rubric("refined", "q17"),
                    await aclient.list_rubric_sets())

    ar, sets = asyncio.run(run())
    assert ar == r and sets[0].produced_by == "reward-cli refine"


def test_sets_without_provenance_have_empty_fields(server):
    with RewardClient(server.address, wait_for_ready=True) as client:
        demo = [s for s in client.list_rubric_sets() if s.name == "demo"][0]
        assert (demo.derived_from, demo.derived_from_version, demo.produced_by) == ("", "", "")
        assert client.get_rubric("demo", "arith-1").lineage == ()

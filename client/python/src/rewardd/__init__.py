"""rewardd: the Python client of the rubric reward server.

    from rewardd import RewardClient, AsyncRewardClient
    client = RewardClient("127.0.0.1:50051")
    result = client.grade("Answer: 80", rubric_set="demo", rubric_id="arith-1")
    hot = client.list_saturated_rubrics(limit=5)       # tail saturation
    for event in client.refine_rubric(prompt, candidates, rubric=rubric):
        ...                                            # RubricService (RtD)

Framework adapters (veRL, TRL, OpenRLHF, slime, verifiers, AReaL) are in
rewardd.adapters. See docs/python.md.
"""

from rewardd.aio import AsyncRewardClient
from rewardd.client import RewardClient
from rewardd.errors import InvalidRewardError, RewardError
from rewardd.options import ClientOptions
from rewardd.requests import GradeOptions, Group, Request
from rewardd.refine_stream import AsyncRefineStream, RefineStream
from rewardd.results import (Criterion, CriterionVerdict, GradeResult, GroupResult, Rubric,
                             RubricSetInfo, RubricVersion, SaturatedRubric, Timings)
from rewardd.rubric_requests import ProposerOptions, RefineOptions
from rewardd.rubric_results import (CandidateScore, FinalEvent, GeneratedRubric, PairEvent,
                                    ProposalEvent, RefineEvent, RefinementSummary, RejectedEvent,
                                    RubricDiff, ScoresEvent)

__version__ = "0.1.0"

__all__ = [
    "AsyncRefineStream", "AsyncRewardClient", "CandidateScore", "ClientOptions", "Criterion",
    "CriterionVerdict", "FinalEvent", "GeneratedRubric", "GradeOptions", "GradeResult", "Group",
    "GroupResult", "InvalidRewardError", "PairEvent", "ProposalEvent", "ProposerOptions",
    "RefineEvent", "RefineOptions", "RefineStream", "RefinementSummary", "RejectedEvent",
    "Request", "RewardClient", "RewardError", "Rubric", "RubricDiff", "RubricSetInfo",
    "RubricVersion", "SaturatedRubric", "ScoresEvent", "Timings",
]

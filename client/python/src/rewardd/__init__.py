"""rewardd: the Python client of the rubric reward server.

    from rewardd import RewardClient, AsyncRewardClient
    client = RewardClient("127.0.0.1:50051")
    result = client.grade("Answer: 80", rubric_set="demo", rubric_id="arith-1")

Framework adapters (veRL, TRL, OpenRLHF, slime, verifiers, AReaL) are in
rewardd.adapters. See docs/python.md.
"""

from rewardd.aio import AsyncRewardClient
from rewardd.client import RewardClient
from rewardd.errors import InvalidRewardError, RewardError
from rewardd.options import ClientOptions
from rewardd.requests import GradeOptions, Group, Request
from rewardd.results import (Criterion, CriterionVerdict, GradeResult, GroupResult, Rubric,
                             RubricSetInfo, Timings)

__version__ = "0.1.0"

__all__ = [
    "AsyncRewardClient", "ClientOptions", "Criterion", "CriterionVerdict", "GradeOptions",
    "GradeResult", "Group", "GroupResult", "InvalidRewardError", "Request", "RewardClient",
    "RewardError", "Rubric", "RubricSetInfo", "Timings",
]

"""A veRL reward file backed by rewardd.

veRL config:
    custom_reward_function.path=examples/python/verl_reward.py
    custom_reward_function.name=compute_score          # naive / dapo / prime managers
    # reward_model.reward_manager=batch with name=compute_score_batch
    # the async reward loop: name=compute_score_async

Data preparation puts the rubric reference in reward_model.ground_truth (a
rubric id, or {"rubric_set": ..., "rubric_id": ...} as JSON) and the prompt in
extra_info["prompt"] (veRL does not pass the prompt to compute_score). The
data_source names the rubric set unless rubric_set is given here.
"""

import os

from rewardd.adapters.verl import VerlBatchReward, VerlReward

_TARGET = os.environ.get("REWARDD_TARGET", "127.0.0.1:50051")

_single = VerlReward(_TARGET, on_invalid="raise", deadline=120)
compute_score = _single.compute_score
compute_score_async = _single.async_compute_score
compute_score_batch = VerlBatchReward(_TARGET, on_invalid="raise", deadline=120,
                                      concurrency=32).compute_score

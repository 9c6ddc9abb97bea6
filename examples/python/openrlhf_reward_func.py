"""OpenRLHF's function form: --remote_rm_url examples/python/openrlhf_reward_func.py

The dataset's label column (--label_key rubric) holds each prompt's rubric
id in the set "healthbench", or {"rubric_set": ..., "rubric_id": ...} JSON.
The response is cut out of each query by removing the templated prompt.
"""

import os

from rewardd.adapters.openrlhf import OpenRLHFReward

reward_func = OpenRLHFReward(os.environ.get("REWARDD_TARGET", "127.0.0.1:50051"),
                             rubric_set=os.environ.get("REWARDD_RUBRIC_SET", "healthbench"),
                             on_invalid="raise", deadline=120)

"""A TRL GRPOTrainer reward function backed by rewardd.

The dataset has a "prompt" column (text or chat messages) and a "rubric_id"
column naming each prompt's rubric in the set "healthbench" (or no rubric_id
column: the rubric is then found by prompt). Invalid results come back as
None, which GRPOTrainer leaves out of the group's baseline.

    from trl import GRPOConfig, GRPOTrainer
    from trl_reward import rubric_reward
    trainer = GRPOTrainer(model="Qwen/Qwen3-0.6B", reward_funcs=[rubric_reward],
                          args=GRPOConfig(num_generations=8, log_completions=True),
                          train_dataset=dataset)
"""

import os

from rewardd.adapters.trl import TrlReward

rubric_reward = TrlReward(
    os.environ.get("REWARDD_TARGET", "127.0.0.1:50051"),  # or "dns:///rewardd.ml.svc:50051"
    rubric_set=os.environ.get("REWARDD_RUBRIC_SET", "healthbench"),
    reference_column="rubric_id",
    options={"formula": "HEALTHBENCH", "clip": True},
    on_invalid="none",  # the default for TRL, spelled out
    deadline=120,
)

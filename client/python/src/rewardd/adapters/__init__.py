"""Adapters that make rewardd a reward function of an RL framework.

One module per framework; none imports its framework:

  rewardd.adapters.verl       VerlReward, VerlBatchReward (compute_score)
  rewardd.adapters.trl        TrlReward (GRPOTrainer reward_funcs)
  rewardd.adapters.openrlhf   OpenRLHFReward (reward_func)
  rewardd.adapters.slime      SlimeReward, SlimeGroupReward (custom_rm)
  rewardd.adapters.verifiers  VerifiersReward (Rubric reward function)
  rewardd.adapters.areal      ArealReward (reward_fn)

Each takes the client's options (target, bearer_token, tls, ...), a default
`rubric_set`, GradeOptions, and `on_invalid` ("raise", "none", "nan",
"zero"); see rewardd.adapters._common and docs/python.md.
"""

from rewardd.adapters._common import ON_INVALID, AdapterStats, parse_reference

__all__ = ["ON_INVALID", "AdapterStats", "parse_reference"]

"""slime custom reward: --custom-rm-path examples.python.slime_rm.custom_rm
(or, with --group-rm, examples.python.slime_rm.group_rm).

sample.label holds the rubric id (or JSON with rubric_set / rubric_id);
sample.prompt (text or messages) and sample.response are graded.
"""

import os

from rewardd.adapters.slime import SlimeGroupReward, SlimeReward

_TARGET = os.environ.get("REWARDD_TARGET", "127.0.0.1:50051")
_SET = os.environ.get("REWARDD_RUBRIC_SET", "healthbench")

custom_rm = SlimeReward(_TARGET, rubric_set=_SET, on_invalid="raise", deadline=120)
group_rm = SlimeGroupReward(_TARGET, rubric_set=_SET, on_invalid="raise", deadline=120)

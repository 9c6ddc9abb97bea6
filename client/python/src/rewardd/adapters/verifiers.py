"""verifiers: a reward function for a vf.Rubric backed by rewardd.

    from rewardd.adapters.verifiers import VerifiersReward
    rubric = vf.Rubric(funcs=[VerifiersReward("rewardd.ml.svc:50051", rubric_set="healthbench")])

verifiers awaits f(prompt, completion, answer, state, info, **kwargs) -> float
per rollout, and names the metric after f.__name__ (`name`, default "rewardd").

Where things come from:
  - the prompt: `prompt` (chat messages or text);
  - the response: `completion` (the assistant messages' contents, or text);
  - the rubric reference: `answer` (the dataset's answer column: a rubric
    id, or JSON with rubric_set / rubric_id / rubric); rubric_set /
    rubric_id / rubric in `info` override it.
Groups: verifiers scores one rollout per call; use the client's grade_group
in a custom Rubric to grade a group at once.
Logging: state["rewardd"] gets validity, counts and per-criterion verdicts.
on_invalid default: "raise". Some verifiers versions catch an exception from
a reward function and score 0: there, prefer on_invalid="nan" and filter.
"""

from typing import Any, Mapping, Optional

from rewardd.adapters._common import (AdapterBase, Item, Reward, completion_text, prompt_value,
                                      summary, verdict_string)


class VerifiersReward(AdapterBase):
    framework = "verifiers"
    default_on_invalid = "raise"

    async def __call__(self, prompt: Any, completion: Any, answer: Any = None,
                       state: Optional[dict] = None, info: Optional[Mapping[str, Any]] = None,
                       **kwargs: Any) -> Reward:
        ref = self.reference(answer, "answer", info if isinstance(info, Mapping) else None)
        item = Item(completion_text(completion), prompt_value(prompt), ref)
        result = (await self.agrade_items([item]))[0]
        if isinstance(state, dict):
            state["rewardd"] = dict(summary(result), verdicts=verdict_string(result),
                                    invalid_reason=result.invalid_reason)
        return self.rewards([result], "verifiers reward")[0]

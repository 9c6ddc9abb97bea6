"""slime: custom reward functions (--custom-rm-path) backed by rewardd.

    # my_rm.py, then --custom-rm-path my_rm.custom_rm
    from rewardd.adapters.slime import SlimeReward, SlimeGroupReward
    custom_rm = SlimeReward("rewardd.ml.svc:50051", rubric_set="healthbench")
    # with --group-rm: --custom-rm-path my_rm.group_rm
    group_rm = SlimeGroupReward("rewardd.ml.svc:50051", rubric_set="healthbench")

slime awaits custom_rm(args, sample) -> reward, or with --group-rm
custom_rm(args, samples) -> list of rewards. (--rm-type remote_rm
--rm-url URL needs rewardd's HTTP gateway, --http_listen.)

Where things come from:
  - the prompt: sample.prompt (text or chat messages);
  - the response: sample.response;
  - the rubric reference: sample.label (a rubric id, or JSON/dict with
    rubric_set / rubric_id / rubric); rubric_set / rubric_id / rubric in
    sample.metadata override it.
Groups: the group form sends contiguous runs of one group_index, prompt and
rubric as one GradeGroup each.
Logging: when args.reward_key is set the reward is a dict {reward_key:
reward, rewardd_valid, rewardd_met, ...} (slime reads reward_key; the rest
is kept on the sample); always, sample.metadata["rewardd"] gets the
per-criterion verdicts and validity.
on_invalid default: "raise" (slime's own remote reward raises on failure).
"""

from typing import Any, Dict, List, Mapping, Sequence, Union

from rewardd.adapters._common import (AdapterBase, Item, Reward, prompt_value, summary,
                                      verdict_string)

SlimeRewardValue = Union[Reward, Dict[str, Any]]


class _SlimeBase(AdapterBase):
    framework = "slime"
    default_on_invalid = "raise"

    def _item(self, sample: Any, where: str) -> Item:
        metadata = getattr(sample, "metadata", None)
        overrides = metadata if isinstance(metadata, Mapping) else None
        ref = self.reference(getattr(sample, "label", None), where + ".label", overrides)
        response = getattr(sample, "response", None)
        if not isinstance(response, str):
            raise TypeError("%s.response: expected a string, got %s" % (where, type(response).__name__))
        return Item(response, prompt_value(getattr(sample, "prompt", None), where + ".prompt"), ref,
                    group_key=getattr(sample, "group_index", None))

    def _values(self, args: Any, samples: Sequence[Any], results: Sequence[Any]) -> List[SlimeRewardValue]:
        rewards = self.rewards(results, "slime custom_rm")
        key = getattr(args, "reward_key", None)
        out: List[SlimeRewardValue] = []
        for sample, result, value in zip(samples, results, rewards):
            info = dict(summary(result), verdicts=verdict_string(result),
                        invalid_reason=result.invalid_reason)
            metadata = getattr(sample, "metadata", None)
            if isinstance(metadata, dict):
                metadata["rewardd"] = info
            out.append(dict(summary(result), **{key: value}) if key else value)
        return out


class SlimeReward(_SlimeBase):
    """async custom_rm(args, sample) -> reward."""

    async def __call__(self, args: Any, sample: Any) -> SlimeRewardValue:
        results = await self.agrade_items([self._item(sample, "sample")])
        return self._values(args, [sample], results)[0]


class SlimeGroupReward(_SlimeBase):
    """async custom_rm(args, samples) -> [reward] (--group-rm)."""

    async def __call__(self, args: Any, samples: Sequence[Any]) -> List[SlimeRewardValue]:
        items = [self._item(s, "samples[%d]" % i) for i, s in enumerate(samples)]
        results = await self.agrade_items(items)
        return self._values(args, samples, results)

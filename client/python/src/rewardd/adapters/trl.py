"""TRL: a `reward_funcs` entry for GRPOTrainer backed by rewardd.

    from rewardd.adapters.trl import TrlReward
    rubric_reward = TrlReward("rewardd.ml.svc:50051", rubric_set="healthbench")
    trainer = GRPOTrainer(model=..., reward_funcs=[rubric_reward], train_dataset=dataset, ...)

TRL calls reward_func(prompts=, completions=, completion_ids=, <every dataset
column>=, trainer_state=, log_extra=, log_metric=) and takes a list of float
or None (None: unscorable, left out of the group's baseline).

Where things come from:
  - the prompt: `prompts` (text, or chat messages for conversational data);
  - the response: `completions` (text, or a list of messages: the assistant
    messages' contents);
  - the rubric reference: the dataset column `reference_column` (default
    "rubric_id": a rubric id, or JSON/dict with rubric_set / rubric_id /
    rubric); a `rubric_set_column` ("rubric_set") overrides the set per row.
    Without a reference column the rubric is found by prompt in `rubric_set`.
Groups: TRL repeats each prompt num_generations times contiguously; each
contiguous run of one prompt and rubric goes as one GradeGroup. A group that
TRL splits across calls (per-device batches) is graded in parts with the
same result (grading is per response).
Logging: log_extra("rewardd_valid", ...) and log_extra("rewardd_verdicts",
...) add per-completion columns to TRL's completions table; log_metric
reports rewardd/invalid, rewardd/zeroed and rewardd/met_fraction per call.
on_invalid default: "none".
"""

from typing import Any, Callable, List, Optional, Sequence

from rewardd.adapters._common import (AdapterBase, Item, Reward, column, completion_text,
                                      prompt_value, summary, verdict_string)


class TrlReward(AdapterBase):
    framework = "TRL"
    default_on_invalid = "none"

    def __init__(self, *args: Any, reference_column: str = "rubric_id",
                 rubric_set_column: str = "rubric_set", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reference_column = reference_column
        self.rubric_set_column = rubric_set_column

    def _items(self, prompts: Sequence[Any], completions: Sequence[Any],
               columns: Any) -> List[Item]:
        n = len(completions)
        if len(prompts) != n:
            raise ValueError("TRL: %d prompts for %d completions" % (len(prompts), n))
        items = []
        for i in range(n):
            overrides = {"rubric_set": column(columns, self.rubric_set_column, i, n)}
            ref = self.reference(column(columns, self.reference_column, i, n),
                                 "TRL column %r [%d]" % (self.reference_column, i), overrides)
            items.append(Item(completion_text(completions[i], "completions[%d]" % i),
                              prompt_value(prompts[i], "prompts[%d]" % i), ref))
        return items

    def _report(self, results: Sequence[Any], log_extra: Optional[Callable[..., Any]],
                log_metric: Optional[Callable[..., Any]]) -> List[Reward]:
        before = self.stats.as_zero
        rewards = self.rewards(results, "TRL reward_func")
        if log_extra is not None:
            log_extra("rewardd_valid", [bool(r.valid) for r in results])
            log_extra("rewardd_verdicts", [verdict_string(r) for r in results])
        if log_metric is not None:
            valid = [summary(r)["rewardd_met_fraction"] for r in results if r.valid]
            log_metric("rewardd/invalid", float(sum(1 for r in results if not r.valid)))
            log_metric("rewardd/zeroed", float(self.stats.as_zero - before))
            if valid:
                log_metric("rewardd/met_fraction", sum(valid) / len(valid))
        return rewards

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any],
                 completion_ids: Optional[Sequence[Any]] = None, trainer_state: Any = None,
                 log_extra: Optional[Callable[..., Any]] = None,
                 log_metric: Optional[Callable[..., Any]] = None, **columns: Any) -> List[Reward]:
        results = self.grade_items(self._items(prompts, completions, columns))
        return self._report(results, log_extra, log_metric)

    async def async_call(self, prompts: Sequence[Any], completions: Sequence[Any],
                         completion_ids: Optional[Sequence[Any]] = None, trainer_state: Any = None,
                         log_extra: Optional[Callable[..., Any]] = None,
                         log_metric: Optional[Callable[..., Any]] = None,
                         **columns: Any) -> List[Reward]:
        """The same as an `async def`, for TRL versions with async reward functions."""
        results = await self.agrade_items(self._items(prompts, completions, columns))
        return self._report(results, log_extra, log_metric)

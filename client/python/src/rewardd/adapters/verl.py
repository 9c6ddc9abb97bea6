"""veRL: `compute_score` functions backed by rewardd.

Single form (naive / prime / dapo reward managers, and the async reward loop):

    # my_reward.py, named in the veRL config:
    #   custom_reward_function.path=my_reward.py custom_reward_function.name=compute_score
    from rewardd.adapters.verl import VerlReward
    compute_score = VerlReward("rewardd.ml.svc:50051", rubric_set="healthbench").compute_score
    # or .async_compute_score (an `async def`) for the reward loop

veRL calls compute_score(data_source=, solution_str=, ground_truth=,
extra_info=) per response. Batch form (reward_manager=batch):

    compute_score = VerlBatchReward(...).compute_score
    # compute_score(data_sources=, solution_strs=, ground_truths=, extra_infos=, **kwargs) -> list

Where things come from:
  - the response: solution_str (decoded, special tokens skipped by veRL);
  - the rubric reference: ground_truth (the dataset's reward_model.ground_truth:
    a rubric id, or JSON/dict with rubric_set / rubric_id / rubric); keys
    rubric_set / rubric_id / rubric in extra_info override it;
  - the rubric set, when neither names one: the adapter's `rubric_set`, else
    data_source (name the rubric set after the dataset);
  - the prompt: extra_info[prompt_key] (text or chat messages; veRL does not
    pass the prompt: put it in extra_info when preparing the data). Without
    it the rubric must be named by id.
Groups: the batch form sends contiguous runs of equal rubric and prompt (veRL's
n rollouts of a prompt arrive contiguous) as one GradeGroup each.
Logging: with return_dict (default) the result is {"score": reward, plus
rewardd_valid / rewardd_met / rewardd_criteria / rewardd_met_fraction /
rewardd_failed_criteria}: veRL puts the extra keys in reward_extra_info
(per-sample metrics and dumps). Keys are the same for every sample.
on_invalid default: "raise" (the step fails loudly: veRL's prime and
rate-limited managers would turn an exception into 0, so pass on_invalid="nan"
and filter, rather than let a failed judge call train as 0).
"""

from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from rewardd.adapters._common import AdapterBase, Item, Reward, column, prompt_value, summary

Score = Union[Reward, Dict[str, Any]]


class _VerlBase(AdapterBase):
    framework = "veRL"
    default_on_invalid = "raise"

    def __init__(self, *args: Any, prompt_key: str = "prompt", return_dict: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prompt_key = prompt_key
        self.return_dict = return_dict

    def _item(self, data_source: Any, solution_str: Any, ground_truth: Any,
              extra_info: Optional[Mapping[str, Any]], where: str) -> Item:
        if not isinstance(solution_str, str):
            raise TypeError("%s solution_str: expected a string, got %s"
                            % (where, type(solution_str).__name__))
        extra = extra_info if isinstance(extra_info, Mapping) else {}
        ref = self.reference(ground_truth, where + " ground_truth", extra,
                             default_set=str(data_source or ""))
        return Item(solution_str, prompt_value(extra.get(self.prompt_key),
                                               "%s extra_info[%r]" % (where, self.prompt_key)), ref)

    def _scores(self, results: Sequence[Any], where: str) -> List[Score]:
        rewards = self.rewards(results, where)
        if not self.return_dict:
            return list(rewards)
        return [dict(summary(r), score=v) for r, v in zip(results, rewards)]


class VerlReward(_VerlBase):
    """compute_score(data_source, solution_str, ground_truth, extra_info=None)."""

    def compute_score(self, data_source: Any, solution_str: str, ground_truth: Any,
                      extra_info: Optional[Mapping[str, Any]] = None, **kwargs: Any) -> Score:
        item = self._item(data_source, solution_str, ground_truth, extra_info, "veRL")
        return self._scores(self.grade_items([item]), "veRL compute_score")[0]

    async def async_compute_score(self, data_source: Any, solution_str: str, ground_truth: Any,
                                  extra_info: Optional[Mapping[str, Any]] = None,
                                  **kwargs: Any) -> Score:
        item = self._item(data_source, solution_str, ground_truth, extra_info, "veRL")
        return self._scores(await self.agrade_items([item]), "veRL compute_score")[0]

    __call__ = compute_score


class VerlBatchReward(_VerlBase):
    """compute_score(data_sources=, solution_strs=, ground_truths=, extra_infos=)."""

    def _items(self, data_sources: Sequence[Any], solution_strs: Sequence[str],
               ground_truths: Sequence[Any], extra_infos: Optional[Sequence[Any]]) -> List[Item]:
        n = len(solution_strs)
        cols = {"data_sources": data_sources, "ground_truths": ground_truths,
                "extra_infos": extra_infos}
        return [self._item(column(cols, "data_sources", i, n), solution_strs[i],
                           column(cols, "ground_truths", i, n), column(cols, "extra_infos", i, n),
                           "veRL [%d]" % i) for i in range(n)]

    def compute_score(self, data_sources: Sequence[Any], solution_strs: Sequence[str],
                      ground_truths: Sequence[Any], extra_infos: Optional[Sequence[Any]] = None,
                      **kwargs: Any) -> List[Score]:
        items = self._items(data_sources, solution_strs, ground_truths, extra_infos)
        return self._scores(self.grade_items(items), "veRL batch compute_score")

    async def async_compute_score(self, data_sources: Sequence[Any], solution_strs: Sequence[str],
                                  ground_truths: Sequence[Any],
                                  extra_infos: Optional[Sequence[Any]] = None,
                                  **kwargs: Any) -> List[Score]:
        items = self._items(data_sources, solution_strs, ground_truths, extra_infos)
        return self._scores(await self.agrade_items(items), "veRL batch compute_score")

    __call__ = compute_score

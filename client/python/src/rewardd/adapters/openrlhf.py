"""OpenRLHF: a `reward_func` (the function form of --remote_rm_url /
--reward.remote_url pointing at a .py file) backed by rewardd.

    # reward_func.py, passed as --remote_rm_url reward_func.py (with --label_key rubric)
    from rewardd.adapters.openrlhf import OpenRLHFReward
    reward_func = OpenRLHFReward("rewardd.ml.svc:50051", rubric_set="healthbench")

OpenRLHF calls reward_func(queries, prompts, labels, **kwargs) and reads a dict
{"rewards", "scores", "extra_logs"}. (The URL form, POSTing
{"query", "prompts", "labels"}, needs rewardd's HTTP gateway, --http_listen.)

Where things come from:
  - the response: each query is the chat-templated prompt followed by the
    response; the response is the query with prompts[i] cut off the front
    (a query that does not start with its prompt is a ValueError), then the
    first of `stop_suffixes` found at its end (EOS / end-of-turn tokens) and
    surrounding whitespace removed;
  - the rubric reference: labels[i] (the dataset's --label_key column: a
    rubric id, or JSON with rubric_set / rubric_id / rubric). The prompt is
    the templated text, which no rubric's prompt equals, so label the data;
  - the prompt sent to the judge: prompts[i] as given.
Groups: contiguous runs of one prompt and label (the n_samples_per_prompt
samples of a prompt) go as one GradeGroup each.
Logging: extra_logs carries rewardd_valid, rewardd_met_fraction and
rewardd_zeroed per sample (OpenRLHF logs their means).
Returns torch tensors when torch is importable (as OpenRLHF expects), lists
otherwise (as_tensors=False forces lists). on_invalid default: "raise"
(OpenRLHF has no per-sample "unscorable").
"""

from typing import Any, Dict, List, Optional, Sequence

from rewardd.adapters._common import AdapterBase, Item, summary

DEFAULT_STOP_SUFFIXES = ("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end|>", "</s>",
                         "<end_of_turn>", "<eos>")


def response_from_query(query: str, prompt: str, stop_suffixes: Sequence[str] = DEFAULT_STOP_SUFFIXES,
                        field: str = "queries") -> str:
    """The response part of an OpenRLHF query (see the module docstring)."""
    if not query.startswith(prompt):
        raise ValueError("%s: the query does not start with its prompt (prompts[i]); cannot cut "
                         "the response out" % field)
    response = query[len(prompt):].rstrip()
    for suffix in stop_suffixes:
        if suffix and response.endswith(suffix):
            response = response[: -len(suffix)].rstrip()
            break
    return response.strip()


class OpenRLHFReward(AdapterBase):
    framework = "OpenRLHF"
    default_on_invalid = "raise"

    def __init__(self, *args: Any, stop_suffixes: Sequence[str] = DEFAULT_STOP_SUFFIXES,
                 as_tensors: Optional[bool] = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stop_suffixes = tuple(stop_suffixes)
        self.as_tensors = as_tensors

    def __call__(self, queries: Sequence[str], prompts: Sequence[str],
                 labels: Optional[Sequence[Any]] = None, **kwargs: Any) -> Dict[str, Any]:
        n = len(queries)
        if len(prompts) != n or (labels is not None and len(labels) != n):
            raise ValueError("OpenRLHF: %d queries, %d prompts, %s labels"
                             % (n, len(prompts), "no" if labels is None else len(labels)))
        items = []
        for i in range(n):
            ref = self.reference(None if labels is None else labels[i], "labels[%d]" % i)
            response = response_from_query(queries[i], prompts[i], self.stop_suffixes,
                                           "queries[%d]" % i)
            items.append(Item(response, prompts[i], ref))
        results = self.grade_items(items)
        rewards = self.rewards(results, "OpenRLHF reward_func")
        values = [float("nan") if v is None else float(v) for v in rewards]
        zeroed = [1.0 if (not r.valid and v == 0.0) else 0.0 for r, v in zip(results, values)]
        extra = {
            "rewardd_valid": [summary(r)["rewardd_valid"] for r in results],
            "rewardd_met_fraction": [summary(r)["rewardd_met_fraction"] for r in results],
            "rewardd_zeroed": zeroed,
        }
        return {"rewards": self._out(values), "scores": self._out(values),
                "extra_logs": {k: self._out(v) for k, v in extra.items()}}

    def _out(self, values: List[float]) -> Any:
        if self.as_tensors is False:
            return values
        try:
            import torch  # OpenRLHF's own dependency; never required here
        except ImportError:
            if self.as_tensors:
                raise
            return values
        return torch.tensor(values, dtype=torch.float32)

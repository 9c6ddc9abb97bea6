"""AReaL: a `reward_fn` backed by rewardd.

    from rewardd.adapters.areal import ArealReward
    reward_fn = ArealReward("rewardd.ml.svc:50051", rubric_set="healthbench")
    workflow = RLVRWorkflow(reward_fn=reward_fn, ...)

AReaL calls reward_fn(prompt, completions, prompt_ids, completion_ids, **row)
-> float, one completion per call, in a process pool (the function is
pickled; the adapter opens its channel in the worker on first use).

Where things come from:
  - the response: `completions` (the decoded completion text);
  - the rubric reference: row[reference_column] (default "rubric_id"; a
    rubric id, or JSON/dict with rubric_set / rubric_id / rubric); a
    row["rubric_set"] overrides the set;
  - the prompt: row[prompt_column] when set (e.g. "messages": the raw chat
    messages), else `prompt` (AReaL's decoded, chat-templated prompt, which
    no rubric's prompt equals: then name the rubric by id).
Groups: one completion per call; no grouping.
Logging: AReaL's reward_fn has no logging channel: results go to the
"rewardd.adapters" logger (invalid ones as warnings) and `stats` (per
worker process).
on_invalid default: "raise". AReaL's reward wrapper may turn an exception
into 0 with a warning; on_invalid="nan" keeps an invalid result visible.
"""

from typing import Any, Optional

from rewardd.adapters._common import AdapterBase, Item, Reward, completion_text, logger, prompt_value


class ArealReward(AdapterBase):
    framework = "AReaL"
    default_on_invalid = "raise"

    def __init__(self, *args: Any, reference_column: str = "rubric_id",
                 prompt_column: Optional[str] = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reference_column = reference_column
        self.prompt_column = prompt_column

    def __call__(self, prompt: Any, completions: Any, prompt_ids: Any = None,
                 completion_ids: Any = None, **row: Any) -> Reward:
        ref = self.reference(row.get(self.reference_column), "row[%r]" % self.reference_column,
                             {"rubric_set": row.get("rubric_set")})
        p = row.get(self.prompt_column) if self.prompt_column else prompt
        item = Item(completion_text(completions, "completions"),
                    prompt_value(p, "row[%r]" % self.prompt_column if self.prompt_column else "prompt"),
                    ref)
        result = self.grade_items([item])[0]
        if not result.valid:
            logger.warning("rewardd (AReaL): invalid result: %s", result.invalid_reason)
        return self.rewards([result], "AReaL reward_fn")[0]

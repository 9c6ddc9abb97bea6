#!/usr/bin/python3
"""A GRPO-style loop over groups with AsyncRewardClient.

Each step samples G responses per prompt (here: canned responses standing in
for the policy), grades every group with one GradeGroup call, several groups
at once, and computes group-normalized advantages from the valid rewards
only. Invalid results (a failed judge call) get no advantage: they are left
out, never trained on as 0.

    rewardd --rubric_dir=examples/rubrics --listen=127.0.0.1:50051 &
    PYTHONPATH=build/python examples/python/grpo_loop.py --target=127.0.0.1:50051
"""

import argparse
import asyncio
import random

from rewardd import AsyncRewardClient, Group

PROMPTS = [  # (rubric set, rubric id, prompt)
    ("demo", "arith-1", "A train travels 120 km in 1.5 hours. What is its average speed in km/h? "
                        "Show your work and end with 'Answer: <number>'."),
    ("demo", "haiku", "Write a haiku about autumn rain."),
]
CANDIDATES = {
    "arith-1": ["120 km / 1.5 h = 80 km/h.\nAnswer: 80", "It is fast.\nAnswer: 180",
                "Distance over time: 120/1.5 = 80.\nAnswer: 80 km/h", "Answer: 75"],
    "haiku": ["Autumn rain at dusk\nred leaves drown in the puddles\nthe window weeps too",
              "Rain. Autumn. Leaves.", "Title: Rain\nAutumn rain falls\nsoft on the window\nleaves drift"],
}


def sample_group(rubric_id, g, rng):
    """Stands in for the policy: G responses to one prompt."""
    return [rng.choice(CANDIDATES[rubric_id]) for _ in range(g)]


def advantages(group_result):
    """(r - mean) / std over the group's valid results; None for invalid ones."""
    mean, std = group_result.mean_reward, group_result.std_reward
    return [((r.reward - mean) / (std + 1e-6)) if r.valid else None for r in group_result.results]


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--target", default="127.0.0.1:50051")
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--group_size", type=int, default=8)
    args = p.parse_args()
    rng = random.Random(0)
    client = AsyncRewardClient(args.target, deadline=120)
    for step in range(args.steps):
        groups = [Group(sample_group(rid, args.group_size, rng), rubric_set=rset, rubric_id=rid,
                        prompt=prompt, labels={"policy_version": "step-%d" % step},
                        request_id="step%d-%s" % (step, rid))
                  for rset, rid, prompt in PROMPTS]
        results = await client.grade_groups(groups, concurrency=16)
        for group, result in zip(groups, results):
            adv = advantages(result)
            used = [a for a in adv if a is not None]
            print("step %d %-8s mean %.3f std %.3f valid %d/%d  advantages %s" % (
                step, group.rubric_id, result.mean_reward, result.std_reward, result.valid_count,
                len(adv), " ".join("%+.2f" % a for a in used)))
    await client.close()


if __name__ == "__main__":
    asyncio.run(main())

#!/usr/bin/python3
"""Generates a large rubric set for the rubric-scale benchmark (scenario 5).

Writes one rewardd-format JSONL file (docs/rubric-formats.md): one rubric a
line, ids r0 .. r<N-1>, each with a prompt and `--criteria` weighted criteria
whose text lengths follow real data (HealthBench criteria average ~240
characters with a median of ~150, BiGGen-Bench checklist items ~90; the
default here averages ~120). Deterministic for a given seed; stdlib only.

  bench/gen_rubrics.py --rubrics 100000 --criteria 20 --out /tmp/scale/scale.jsonl

Prints one JSON line: {"path", "rubrics", "criteria", "bytes", "seconds"}.
"""

import argparse
import json
import os
import random
import sys
import time

VERBS = ["mentions", "explains", "recommends", "identifies", "warns about",
         "asks about", "distinguishes", "quantifies", "cites", "avoids",
         "summarizes", "justifies", "compares", "prioritizes", "describes"]
OBJECTS = ["the most likely diagnosis", "the dosage range", "a follow-up plan",
           "the main risk factor", "the expected outcome", "an alternative",
           "the relevant guideline", "the contraindications", "the final answer",
           "the underlying assumption", "the time complexity", "an edge case",
           "the unit of measurement", "the trade-off", "the source of error"]
QUALIFIERS = ["clearly and early in the response",
              "without unnecessary jargon", "with a concrete example",
              "in a way a non-expert can follow", "and gives a reason",
              "before any other advice", "consistent with current evidence",
              "using the numbers given in the question", "", "", ""]
FILLER = ("patient user context history symptom value result method step "
          "reason option answer evidence question detail risk plan dose "
          "period level change effect factor cause test range limit").split()


def criterion_text(rng):
    # Lengths follow a skewed distribution: mostly short, some long.
    text = "The response %s %s %s" % (rng.choice(VERBS), rng.choice(OBJECTS),
                                      rng.choice(QUALIFIERS))
    text = text.strip()
    target = int(rng.lognormvariate(4.6, 0.45))  # median ~100, mean ~110
    words = []
    while len(text) + sum(len(w) + 1 for w in words) < target:
        words.append(rng.choice(FILLER))
    if words:
        text += ", considering " + " ".join(words)
    return text + "."


def prompt_text(rng, k):
    words = [rng.choice(FILLER) for _ in range(rng.randint(20, 70))]
    return "Question %d: %s?" % (k, " ".join(words))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rubrics", type=int, default=100000)
    ap.add_argument("--criteria", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    start = time.time()
    rng = random.Random(args.seed)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as out:
        for k in range(args.rubrics):
            criteria = []
            for c in range(args.criteria):
                criteria.append({"id": "c%d" % (c + 1),
                                 "text": criterion_text(rng),
                                 "weight": rng.choice((1, 1, 2, 3))})
            record = {"id": "r%d" % k, "prompt": prompt_text(rng, k),
                      "criteria": criteria}
            out.write(json.dumps(record, separators=(",", ":")))
            out.write("\n")
    # Rename: a server polling the directory never sees a half-written file.
    os.replace(tmp, args.out)
    print(json.dumps({"path": args.out, "rubrics": args.rubrics,
                      "criteria": args.criteria,
                      "bytes": os.path.getsize(args.out),
                      "seconds": round(time.time() - start, 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

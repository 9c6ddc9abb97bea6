#!/usr/bin/env python3
"""Builds the seed corpora of the fuzz targets under fuzz/corpus/<target>/.

Seeds are small slices of the project's examples (examples/) and of the real
rubric data (../shared/data), plus hand-written inputs for the shapes real
judges and configs take. Files are named seed-*; crash inputs that the
fuzzers found are kept beside them (named after what they reproduce) and are
never touched by this script. Rerun after changing it:

    python3 fuzz/make_corpus.py          # needs protoc (protobuf-compiler)

The corpora stay small (< 1 MiB together): libFuzzer grows its own working
corpus under build-fuzz/ when scripts/fuzz.sh runs.
"""
import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"
EXAMPLES = ROOT / "examples"
SHARED = (ROOT / ".." / "shared" / "data").resolve()
MAX_SEED = 16 * 1024  # bytes per seed file


def write(target, name, data):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (d / ("seed-" + name)).write_bytes(data[:MAX_SEED])


def clear_seeds(target):
    d = CORPUS / target
    if d.exists():
        for f in d.glob("seed-*"):
            f.unlink()


def jsonl_head(path, lines, max_bytes=MAX_SEED):
    """The first `lines` records of a JSONL file that fit in max_bytes."""
    out = []
    size = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            if len(out) == lines or size + len(line) > max_bytes:
                break
            out.append(line)
            size += len(line)
    return "".join(out)


def rubric_loader():
    clear_seeds("rubric_loader")
    for f in sorted((EXAMPLES / "rubrics").glob("*.json*")):
        text = f.read_text(encoding="utf-8")
        if f.suffix == ".jsonl":
            text = jsonl_head(f, 3)
        write("rubric_loader", f.name, text)
    # Real data: a few records each, picked for their edge cases.
    hb = SHARED / "healthbench" / "healthbench_oss_eval_sample.jsonl"
    records = [json.loads(l) for l in hb.read_text(encoding="utf-8").splitlines() if l]
    small = sorted(records, key=lambda r: len(json.dumps(r)))
    write("rubric_loader", "healthbench-small.jsonl",
          "".join(json.dumps(r) + "\n" for r in small[:2]))
    negative = [r for r in small if any(c["points"] < 0 for c in r["rubrics"])]
    multi = [r for r in small if len(r["prompt"]) > 1]
    for name, rs in (("healthbench-negative.jsonl", negative),
                     ("healthbench-multiturn.jsonl", multi)):
        if rs:
            write("rubric_loader", name, json.dumps(rs[0]) + "\n")
    bg = SHARED / "biggen_bench" / "biggen_bench_sample.jsonl"
    records = [json.loads(l) for l in bg.read_text(encoding="utf-8").splitlines() if l]
    empty = [r for r in records if not r["atomic_checklist"]]
    full = sorted((r for r in records if r["atomic_checklist"]),
                  key=lambda r: len(json.dumps(r)))
    write("rubric_loader", "biggen.jsonl",
          "".join(json.dumps(r) + "\n" for r in full[:2] + empty[:1]))
    write("rubric_loader", "paper_appendix.json",
          (SHARED / "chasing_the_tail" / "paper_appendix_example.json").read_text())
    # Shapes the loaders must refuse cleanly.
    for i, text in enumerate([
        "", "[]", "{}", "null", "[1, 2]", '{"rubrics": {}}',
        '{"rubrics": [{"id": "a", "criteria": []}]}',
        '{"rubrics": [{"id": "a", "criteria": [{"id": "x", "text": "t", '
        '"weight": 1e400}]}]}',
        '{"rubrics": [{"id": "a", "criteria": [{"id": "x", "text": "t", '
        '"check": {"type": "regex", "pattern": "(a"}}]}]}',
        '{"prompt": "p", "rubrics": [{"criterion": "c", "weight": "3"}]}\n'
        '{"prompt": "p", "rubrics": [{"criterion": "c", "weight": 3}]}\n',
        '{"id": "a", "input": "q", "atomic_checklist": [1, null]}',
        '{"prompt_id": "x", "prompt": [{"role": "user"}], "rubrics": []}',
        "[" * 5000 + "]" * 5000,
    ]):
        write("rubric_loader", f"edge-{i}.json", text)


def rubric_proto():
    clear_seeds("rubric_proto")
    kinds = {"regex": "REGEX", "contains": "CONTAINS",
             "not_contains": "NOT_CONTAINS", "word_count": "WORD_COUNT",
             "char_count": "CHAR_COUNT", "line_count": "LINE_COUNT",
             "valid_json": "VALID_JSON", "starts_with": "STARTS_WITH",
             "ends_with": "ENDS_WITH", "numeric": "NUMERIC"}

    def text_proto(rubric):
        out = [f"id: {json.dumps(rubric['id'])}"]
        if "prompt" in rubric:
            out.append(f"prompt: {json.dumps(rubric['prompt'])}")
        for i, c in enumerate(rubric["criteria"]):
            out.append("criteria {")
            cid = c.get("id", f"c{i + 1}")
            out.append(f"  id: {json.dumps(cid)} text: {json.dumps(c['text'])}")
            out.append(f"  weight: {c.get('weight', 1)}")
            for t in c.get("tags", []):
                out.append(f"  tags: {json.dumps(t)}")
            chk = c.get("check")
            if chk:
                out.append("  check {")
                out.append(f"    kind: {kinds[chk['type']]}")
                if "pattern" in chk:
                    out.append(f"    pattern: {json.dumps(chk['pattern'])}")
                for v in chk.get("values", []):
                    out.append(f"    values: {json.dumps(v)}")
                if chk.get("match") == "any":
                    out.append("    match: ANY")
                if chk.get("case_insensitive"):
                    out.append("    case_insensitive: true")
                for k in ("min", "max", "value", "tolerance"):
                    if k in chk:
                        out.append(f"    {k}: {chk[k]}")
                out.append("  }")
            out.append("}")
        return "\n".join(out)

    def encode(text):
        return subprocess.run(
            ["protoc", f"--proto_path={ROOT / 'protos'}",
             "--encode=reward.v1.Rubric", "reward/v1/reward.proto"],
            input=text.encode(), capture_output=True, check=True).stdout

    demo = json.loads((EXAMPLES / "rubrics" / "demo.json").read_text())
    for r in demo["rubrics"]:
        write("rubric_proto", r["id"] + ".pb", encode(text_proto(r)))
    # Refused: duplicate ids, no criteria, a regex that does not compile.
    write("rubric_proto", "dup-ids.pb", encode(
        'id: "d" criteria { id: "a" text: "x" weight: 1 } '
        'criteria { id: "a" text: "y" weight: 1 }'))
    write("rubric_proto", "empty.pb", encode('id: "e"'))
    write("rubric_proto", "bad-regex.pb", encode(
        'id: "r" criteria { id: "a" text: "x" weight: 1 '
        'check { kind: REGEX pattern: "(a" } }'))


# Judge answers seen from real models: clean JSON, fenced JSON, think blocks,
# nested verdicts, prose lines, bare words, truncation.
ANSWERS = [
    '{"c1": "yes", "c2": "no", "3": "yes"}',
    '```json\n{"c1": true, "c2": false, "3": 1}\n```',
    "<think>The response says 4, so c1 is met.</think>\n"
    '{"c1": {"met": true, "explanation": "says 4"}, "c2": {"met": false}}',
    '{"verdicts": {"c1": "Yes", "c2": "No", "accuracy": "maybe"}}',
    "Here is my assessment:\nc1: yes\nc2: no\n3: met\nsafety-1: not met\n",
    "{'c1': 'yes', 'c2': 'no',}",
    '{"criteria_met": true, "explanation": "The response is correct."}',
    '{"criteria_met": false}',
    "Yes.",
    "no",
    "<think>unfinished reasoning",
    '{"c1": "yes", "c2": ',
    'Example: {"c1": "no"}. My answer: {"c1": "yes", "c2": "yes", "3": "no"}',
    '{"met": "true", "explanation": "\\u00e9\\n"}',
]


def verdict_parser():
    clear_seeds("verdict_parser")
    for i, a in enumerate(ANSWERS):
        write("verdict_parser", f"answer-{i}.txt", a)


def completion(content, finish="stop", reasoning=None, logprobs=False):
    msg = {"role": "assistant", "content": content}
    if reasoning is not None:
        msg["reasoning_content"] = reasoning
    choice = {"index": 0, "message": msg, "finish_reason": finish}
    if logprobs:
        toks = []
        for i in range(0, len(content), 3):
            t = content[i:i + 3]
            toks.append({"token": t, "logprob": -0.1 * (i % 7),
                         "top_logprobs": [{"token": t, "logprob": -0.1},
                                          {"token": "no", "logprob": -2.5}]})
        choice["logprobs"] = {"content": toks}
    return json.dumps({"id": "chatcmpl-1", "object": "chat.completion",
                       "model": "m", "choices": [choice],
                       "usage": {"prompt_tokens": 812, "completion_tokens": 27,
                                 "total_tokens": 839}})


def chat_completion():
    clear_seeds("chat_completion")
    for i, a in enumerate(ANSWERS):
        write("chat_completion", f"reply-{i}.json", completion(a))
    write("chat_completion", "logprobs.json",
          completion('{"c1": "yes", "c2": "no", "3": "yes"}', logprobs=True))
    write("chat_completion", "logprobs-single.json",
          completion('{"criteria_met": true}', logprobs=True))
    write("chat_completion", "reasoning-only.json",
          completion("", reasoning='{"c1": "yes", "c2": "no", "3": "no"}'))
    write("chat_completion", "length.json",
          completion('{"c1": "yes", "c2', finish="length"))
    for i, text in enumerate([
        '{"choices": []}', '{"choices": [null]}',
        '{"error": {"message": "overloaded", "code": 503}}',
        '{"choices": [{"message": {"content": 5}}], "usage": {"prompt_tokens": "x"}}',
        '{"choices": [{"message": {"content": "yes"}, "logprobs": {"content": '
        '[{"token": 1, "logprob": "a", "top_logprobs": [{"token": null}]}]}}]}',
        "<html>502 Bad Gateway</html>",
    ]):
        write("chat_completion", f"edge-{i}.json", text)


def judges_config():
    clear_seeds("judges_config")
    write("judges_config", "example.json", (EXAMPLES / "judges.json").read_text())
    minimal = {"judges": [{"name": "j", "replicas": ["http://127.0.0.1:1/v1"],
                           "model": "m"}]}
    write("judges_config", "minimal.json", json.dumps(minimal))
    full = {"default": "b", "cache_max_bytes": 0,
            "http": {"http2": False, "http2_prior_knowledge": True,
                     "max_host_connections": 4, "max_total_connections": 8},
            "judges": [
                {"name": "a", "type": "openai", "model": "m",
                 "replicas": ["http://127.0.0.1:1/v1/"], "mode": "chunked",
                 "top_p": 0.9, "parse_retries": 0, "length_retries": 3,
                 "length_retry_tokens": 64, "parse_retry_temperature_step": 0.2,
                 "api_key_file": "key.txt", "templates_file": "t.json"},
                {"name": "b", "type": "http", "model": "m",
                 "replicas": ["https://a/v1", "https://b/v1"],
                 "pool": {"dedup": True, "backoff_jitter": 0.5,
                          "backoff_multiplier": 1.5, "sweep_interval_ms": 10,
                          "max_retry_after_ms": 100}}]}
    write("judges_config", "full.json", json.dumps(full))
    for i, text in enumerate([
        '{"judges": []}', '{"judges": [{"name": "j"}]}',
        '{"judges": [{"name": "j", "replicas": ["ftp://x"], "model": "m"}]}',
        '{"judges": [{"name": "j", "replicas": [1], "model": "m", "pool": {"max_attempts": "3"}}]}',
        '{"judges": [{"name": "j", "replicas": ["http://h/v1"], "model": "m", "extra_body": {"model": "x"}}]}',
        '{"default": 3, "http": {"http2": "yes"}, "judges": [{"name": "j"}]}',
        '{"judges": [{"name": "j", "replicas": ["http://h/v1"], "model": "m"}, '
        '{"name": "j", "replicas": ["http://h/v1"], "model": "m"}]}',
    ]):
        write("judges_config", f"edge-{i}.json", text)


PROPOSALS = [
    '[{"criterion": "Identifies CST as the most likely diagnosis", "weight": 3},'
    ' {"criterion": "States it is a medical emergency", "weight": 3}]',
    '<think>Draft: [{"criterion": "draft", "weight": 1}]</think>\n'
    'Here is the rubric:\n```json\n[{"id": "c1", "criterion": "Names CST",'
    ' "weight": 3},\n {"criterion": "Urgent MRI/MRV", "weight": "2"},]\n```',
    '{"rubric": [{"text": "Mentions IV antibiotics", "points": 2.5},'
    ' {"description": "Avoids aspirin", "importance": -2}]}',
    '["Mentions the dose", "Warns about overdose"]',
    '[{"criterion": "Mentions MRI", "weight": "high"}, {"criterion": "", "weight": 1}]',
    'Final:\n[{"criterion": "new A", "weight": 2}, {"criterion": "new',
    'Both responses are excellent [1]; I would keep the rubric.',
    '[{"criterion": "Cites [1] and ]2[ correctly", "weight": 1e308},'
    ' {"criterion": "Cites [1] and ]2[ correctly.", "weight": 0},'
    ' {"id": "c7", "criterion": "mentions C7", "weight": -0.0}]',
]


def proposal_parser():
    clear_seeds("proposal_parser")
    for i, p in enumerate(PROPOSALS):
        write("proposal_parser", f"answer-{i}.txt", p)


def tail_log():
    """Tail log files (rewardd --tail_log_dir) as reward-cli reads them."""
    clear_seeds("tail_log")
    ex = json.loads((SHARED / "chasing_the_tail" /
                     "paper_appendix_example.json").read_text(encoding="utf-8"))
    schema = "rewardd.tail_log.v1"
    edges = [i / 10 for i in range(11)]

    def group(rubric_id, text, responses, **extra):
        rec = {"schema": schema, "kind": "saturated_group",
               "time": "2026-12-04T10:00:00.123Z", "rubric_set": "hb",
               "rubric_id": rubric_id, "rubric_version": "rv1",
               "set_version": "sv1", "labels": {"policy_version": "p3"},
               "prompt": text, "group_size": 4, "valid": 3,
               "max_possible": 1.0, "top_reward": 1.0,
               "tied_at_top": len(responses), "zero_variance": False,
               "rewards": [1.0] * len(responses) + [None],
               "top": [{"index": i, "response": r[:600], "reward": 1.0,
                        "verdicts": [{"criterion_id": "c1", "verdict": "MET",
                                      "status": "OK"}]}
                       for i, r in enumerate(responses)]}
        rec.update(extra)
        return json.dumps(rec)

    window = json.dumps({
        "schema": schema, "kind": "window", "time": "2026-12-04T10:01:00.000Z",
        "rubric_set": "hb", "set_version": "sv1", "seconds": 60.0,
        "groups": 40, "zero_variance_groups": 3, "tied_at_max_groups": 12,
        "responses": 160, "responses_at_max": 30,
        "reward_histogram": {"edges": edges, "counts": [1] * 9 + [31]},
        "top2_gap_histogram": {"edges": edges, "counts": [12] + [3] * 9},
        "sampled": 4, "dropped_rate_limited": 1, "dropped_queue_full": 0})
    r1, r2 = ex["responses"]["R1"], ex["responses"]["R2"]
    write("tail_log", "paper.jsonl",
          "\n".join([window, group("paper", ex["prompt"][:400], [r1, r2])]))
    write("tail_log", "messages.jsonl", group(
        "chat", None, ["A", "B", "A"],
        messages=[{"role": "system", "content": "Be brief."},
                  {"role": "user", "content": "Tides?"}]))
    write("tail_log", "mixed.jsonl", "\n".join([
        window, "{not json", json.dumps({"schema": schema, "kind": "later"}),
        group("x", "p", ["same", "same"]),
        group("", "p", ["a", "b"], rubric_set="_inline"),
        window.replace('"groups": 40', '"groups": 2')]))
    write("tail_log", "markup.jsonl", group(
        "<b>id</b>", "<script>alert(1)</script><img src=x onerror=alert(2)>",
        ["</td></table><svg onload=alert(3)>", "\u2028\x00\xff"]))


def main():
    if not SHARED.is_dir():
        sys.exit(f"no shared data at {SHARED}")
    rubric_loader()
    rubric_proto()
    verdict_parser()
    chat_completion()
    judges_config()
    proposal_parser()
    tail_log()
    total = sum(f.stat().st_size for f in CORPUS.rglob("*") if f.is_file())
    print(f"corpora: {total} bytes under {CORPUS}")
    if total > 1 << 20:
        sys.exit("corpora exceed 1 MiB")


if __name__ == "__main__":
    main()

"""Scenario 8, "clients": what users' client paths cost next to reward-bench.

Two figures, each measured side by side with reward-bench in one run on the
same rewardd and the same requests (reward-bench --write_requests writes
them; request i is a pure function of i):

  8a  Python AsyncRewardClient, GradeGroup of 16 on scenario 6's work
      (inline 20-check rubrics, 1.5 KB responses): responses/s over
      reward-bench's group shape.            target >= 0.7
      (grpc.aio's generated stub alone, no client code and a full parse of
      the answer, is measured beside them; python_client_bench.py --mode
      measures the lower floors by hand, docs/benchmarks.md "Issue 16")
  8b  The HTTP/JSON gateway (rewardd --http_listen), POST /v1/grade on
      scenario 1a's work (rubrics by reference), gateway-bench over
      reward-bench's gRPC unary calls.      target >= 0.5

Both sides run alternately, round after round, and the best round of each
is kept (bench/scenarios.py says why). The clients share the machine with
rewardd, so a client that spends more CPU per call leaves rewardd less:
that is part of what users pay, and part of the figure.
"""

import json
import os
import subprocess


def _python_bench(suite, server, requests, concurrency, duration, raw=False):
    out = suite.file("py.json")
    env = dict(os.environ, PYTHONPATH=os.path.join(suite.build, "python"))
    cmd = ["/usr/bin/python3", os.path.join(os.path.dirname(__file__), "python_client_bench.py"),
           "--target=127.0.0.1:%d" % server.port, "--requests=" + requests,
           "--concurrency=%d" % concurrency, suite.warmup(),
           "--duration_s=%g" % duration, "--json_out=" + out] + (["--raw"] if raw else [])
    if suite.args.nice:
        cmd = ["nice", "-n", str(suite.args.nice)] + cmd
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    if r.returncode != 0:
        raise RuntimeError("python_client_bench failed (%d): %s" % (r.returncode, r.stderr[-2000:]))
    with open(out) as f:
        return json.load(f)


def _gateway_bench(suite, server, requests, connections, duration):
    out = suite.file("gw.json")
    cmd = [suite.bin["gateway"], "--http_target=127.0.0.1:%d" % server.http_port,
           "--requests=" + requests, "--connections=%d" % connections,
           suite.warmup(), "--duration_s=%g" % duration,
           "--server_pid=%d" % server.pid, "--json_out=" + out]
    if suite.args.nice:
        cmd = ["nice", "-n", str(suite.args.nice)] + cmd
    subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True)
    with open(out) as f:
        return json.load(f)


def _python_vs_bench(suite):
    work = ["--rubric=checks", "--criteria=20", "--response_bytes=1500",
            "--distinct_prompts=64", "--group_size=16"]
    requests = suite.file("groups.jsonl")
    subprocess.run([suite.bin["bench"], "--shape=group", "--count=64",
                    "--write_requests=" + requests] + work, check=True)
    rw = suite.start_rewardd("s8a-rewardd")
    dur = suite.d(1, 5)
    got = suite.alternate({
        "reward-bench": lambda: suite.bench(rw, *work, "--shape=group", "--concurrency=4",
                                            "--channels=2", suite.warmup(),
                                            "--duration_s=%g" % dur),
        "python": lambda: _python_bench(suite, rw, requests, 8, dur),
        "grpc.aio stub": lambda: _python_bench(suite, rw, requests, 8, dur, raw=True)})
    suite.stop(rw)
    items = {k: max(x["items_per_second"] for x in v) for k, v in got.items()}
    failed = sum(x["failed_total"] for v in got.values() for x in v)
    invalid = sum(x["invalid_items"] for v in got.values() for x in v)
    ratio = items["python"] / items["reward-bench"]
    suite.record(
        "8a", "Python AsyncRewardClient, GradeGroup of 16 (scenario 6's work)",
        {"responses_per_s": {k: round(v) for k, v in items.items()},
         "python_client_cpu_us_per_call": {k: round(min(
             x["client_cpu_seconds"] / max(x["calls"], 1) for x in got[k]) * 1e6, 1)
             for k in ("python", "grpc.aio stub")},
         "failed_calls": failed, "invalid_results": invalid},
        ratio=ratio, ratio_name="python/reward-bench", target=">= 0.7",
        passed=ratio >= 0.7 and failed == 0 and invalid == 0,
        note="responses/s: python %d (8 calls in flight), grpc.aio's stub alone %d, "
             "reward-bench %d (4 in flight, 2 channels)" % (
                 items["python"], items["grpc.aio stub"], items["reward-bench"]))


def _gateway_vs_grpc(suite):
    rdir = suite.file("s8b-rubrics")
    os.makedirs(rdir)
    common = ["--criteria=20", "--response_bytes=1500", "--distinct_prompts=64",
              "--group_size=16"]
    subprocess.run([suite.bin["bench"], "--write_rubric_set=" +
                    os.path.join(rdir, "benchset.jsonl")] + common, check=True)
    work = common + ["--rubric=checks_ref", "--rubric_set=benchset"]
    requests = suite.file("unary.jsonl")
    subprocess.run([suite.bin["bench"], "--shape=unary", "--count=1024",
                    "--write_requests=" + requests] + work, check=True)
    port_file = suite.file("s8b.http_port")
    rw = suite.start_rewardd("s8b-rewardd", ["--rubric_dir=" + rdir,
                                             "--http_listen=127.0.0.1:0",
                                             "--http_port_file=" + port_file])
    rw.wait_file(port_file, 20)
    with open(port_file) as f:
        rw.http_port = int(f.read().strip())
    dur = suite.d(1, 5)
    got = suite.alternate({
        "grpc": lambda: suite.bench(rw, *work, "--shape=unary", "--concurrency=64",
                                    "--channels=2", suite.warmup(), "--duration_s=%g" % dur,
                                    "--server_pid=%d" % rw.pid),
        "http": lambda: _gateway_bench(suite, rw, requests, 32, dur)})
    suite.stop(rw)
    calls = {k: max(x["calls_per_second"] for x in v) for k, v in got.items()}
    cpu = {k: round(min(x["server_cpu_seconds"] / max(x["calls"], 1) for x in v) * 1e6, 1)
           for k, v in got.items()}
    failed = sum(x["failed_total"] for v in got.values() for x in v)
    ratio = calls["http"] / calls["grpc"]
    suite.record(
        "8b", "HTTP gateway /v1/grade vs gRPC unary (scenario 1a's work)",
        {"calls_per_s": {k: round(v) for k, v in calls.items()},
         "server_cpu_us_per_call": cpu, "failed_calls": failed,
         # HTTP status (0 = no answer) or gRPC code -> count, per round.
         "errors": {k: [x.get("errors") for x in v if x["failed_total"]]
                    for k, v in got.items()}},
        ratio=ratio, ratio_name="http/grpc", target=">= 0.5",
        passed=ratio >= 0.5 and failed == 0,
        note="calls/s: http %d (32 connections), grpc %d (64 in flight, 2 channels); "
             "rewardd CPU per call %s vs %s us" % (calls["http"], calls["grpc"],
                                                   cpu["http"], cpu["grpc"]))


def run(suite):
    """Scenario 8: both client paths (8a, 8b)."""
    if not os.access(suite.bin["gateway"], os.X_OK):
        raise RuntimeError("missing %s (ninja gateway-bench)" % suite.bin["gateway"])
    _python_vs_bench(suite)
    _gateway_vs_grpc(suite)

"""Scenario 11: the cost of tail-saturation tracking and the tail log.

Scenario 6's GradeGroup shape (16 responses x 20 exact checks, inline
rubrics, 4 calls in flight over 2 channels) against two rewardd processes
side by side: one with tracking off (--saturation_tracking=false), one with
tracking on and the tail log writing (--tail_log_dir, a window record every
second, up to 100 sampled groups a second). Rounds alternate which server
goes first; the best round of each counts. Target: on/off throughput >= 0.95.
Then, as information, the same with 2 criteria and 2 distinct responses per
group, so that most groups saturate and the tail log samples and drops.

Registered in scenarios.py as scenario 11 (`bench/run.sh --only 11 --quick`).
"""
import glob
import json
import os


def tail_log_counts(tail_dir):
    """Records per kind in the tail log, and lines that did not parse."""
    counts = {"saturated_group": 0, "window": 0, "unparsed": 0}
    for path in sorted(glob.glob(os.path.join(tail_dir, "tail-*.jsonl"))):
        with open(path) as f:
            for line in f:
                try:
                    kind = json.loads(line).get("kind")
                except ValueError:
                    counts["unparsed"] += 1
                    continue
                counts[kind] = counts.get(kind, 0) + 1
    return counts


def side_by_side(suite, servers, work, rounds):
    """Alternating rounds against each server; best items/s, CPU/call, failures."""
    got = {name: [] for name in servers}
    for r in range(rounds):
        order = list(servers.items())
        if r % 2:
            order.reverse()
        for name, srv in order:
            got[name].append(suite.bench(srv, *work, "--server_pid=%d" % srv.pid))
    items = {k: max(x["items_per_second"] for x in v) for k, v in got.items()}
    cpu = {k: round(min(x["server_cpu_seconds"] / max(1, x["calls"]) * 1e6
                        for x in v), 1) for k, v in got.items()}
    failed = sum(x["failed_total"] for v in got.values() for x in v)
    return items, cpu, failed, len(got["on"])


def tail_overhead(suite, skip_error):
    if not suite.has_flag("tail_log_dir") or not suite.has_flag("saturation_tracking"):
        raise skip_error("this rewardd has no --tail_log_dir / --saturation_tracking")
    tail_dir = suite.file("s8-tail")
    off = suite.start_rewardd("s8-off", ["--saturation_tracking=false"])
    on = suite.start_rewardd("s8-on", ["--tail_log_dir=" + tail_dir,
                                       "--tail_log_window_seconds=1",
                                       "--tail_log_samples_per_second=100"])
    servers = {"off": off, "on": on}
    common = ["--rubric=checks", "--response_bytes=1500", "--distinct_prompts=64",
              "--group_size=16", "--channels=2", "--shape=group", "--concurrency=4",
              suite.warmup(), "--duration_s=%g" % suite.d(1, 5)]
    load_before = os.getloadavg()
    # Scenario 6's work: 20 checks, about 60% met each, so groups almost
    # never tie at the max: the cost of tracking every group.
    items, cpu, failed, rounds = side_by_side(suite, servers,
                                              common + ["--criteria=20"],
                                              suite.d(2, 5))
    # Information: groups that do saturate (2 criteria, 2 distinct responses
    # per group), so the tail log samples at its rate limit and drops the
    # rest. Quick mode gives it one round.
    sat_items, _, sat_failed, _ = side_by_side(
        suite, servers, common + ["--criteria=2", "--distinct_per_group=2"],
        suite.d(1, 5))
    load_after = os.getloadavg()
    suite.stop(off, on, wait=True)  # SIGTERM: the tail log writes what it holds
    failed += sat_failed
    logged = tail_log_counts(tail_dir)
    ratio = items["on"] / items["off"]
    sat_ratio = sat_items["on"] / sat_items["off"]
    suite.record(
        11, "tail saturation tracking + tail log on vs off (scenario 6 group shape)",
        {"responses_per_s": {k: round(v) for k, v in items.items()},
         "server_cpu_us_per_call": cpu,
         "saturating_variant_responses_per_s": {k: round(v) for k, v in sat_items.items()},
         "saturating_variant_on_over_off": round(sat_ratio, 3),
         "tail_log_records": logged,
         "failed_calls": failed,
         "load_average": {"before": [round(x, 2) for x in load_before],
                          "after": [round(x, 2) for x in load_after]},
         "rounds": rounds},
        ratio=ratio, ratio_name="throughput on/off", target=">= 0.95",
        passed=ratio >= 0.95 and failed == 0 and logged["unparsed"] == 0,
        note="responses/s: off %d, on %d; server CPU/call off %s us, on %s us; "
             "saturating variant on/off %.3f; tail log: %d saturated groups, "
             "%d windows; load %.2f -> %.2f" % (
                 items["off"], items["on"], cpu["off"], cpu["on"], sat_ratio,
                 logged["saturated_group"], logged["window"], load_before[0],
                 load_after[0]))

#!/usr/bin/python3
"""The rewardd benchmark scenarios (bench/run.sh runs this; see docs/benchmarks.md).

Every figure is a ratio or a count measured side by side in one run, because
the machine is shared and noisy: the two sides of a ratio run alternately,
round after round, and the best round of each side is kept (noise only ever
slows a run down, so the best round is the closest to what the code can do).
Only loopback (127.0.0.1) traffic; every process and every run is bounded in
time; every process started here is stopped by its own pid.

  bench/run.sh --quick                 # < 2 minutes
  bench/run.sh --json out.json         # full run, < 15 minutes
  bench/run.sh --only 2,3 --quick      # some scenarios
"""

import argparse
import datetime
import json
import math
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

import scenario_clients
import scenario_grpo_step
import scenario_seed_shape
from scenario_tail import tail_overhead  # bench/scenario_tail.py

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# --quick's warm-up before a measurement window: the 2-minute budget of the
# quick suite pays it for every window.
QUICK_WARMUP_S = 0.3


class Skip(Exception):
    """A scenario cannot run here; the message says why."""


class Proc:
    """A server process started by this script (stopped by its pid only)."""

    def __init__(self, name, cmd, work, cpus=None, env=None, nice=0):
        self.name = name
        self.log_path = os.path.join(work, name + ".log")
        if cpus is not None:
            cmd = ["taskset", "-c", cpus] + cmd
        if nice:
            cmd = ["nice", "-n", str(nice)] + cmd
        self.cmd = cmd
        self.log = open(self.log_path, "w")
        self.started = time.monotonic()
        self.popen = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                      env=env, start_new_session=True)
        self.pid = self.popen.pid

    def wait_file(self, path, timeout):
        """Seconds until `path` exists (the server wrote its port)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(path):
                return time.monotonic() - self.started
            if self.popen.poll() is not None:
                raise RuntimeError("%s exited with %s; log %s:\n%s" % (
                    self.name, self.popen.returncode, self.log_path, self.tail()))
            time.sleep(0.01)
        raise RuntimeError("%s did not start within %ss" % (self.name, timeout))

    def tail(self, n=20):
        try:
            with open(self.log_path) as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def rss_bytes(self):
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def hwm_bytes(self):
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        return 0

    def terminate(self):
        """Sends SIGTERM (once) without waiting for the exit."""
        if self.popen.poll() is None and not getattr(self, "terminated", False):
            self.popen.send_signal(signal.SIGTERM)
            self.terminated = True

    def stop(self):
        """SIGTERM, then waits for the exit (SIGKILL after 8 s)."""
        self.terminate()
        if self.popen.poll() is None:
            try:
                self.popen.wait(timeout=8)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=5)
        self.log.close()


class Suite:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.build = os.path.abspath(args.build_dir)
        self.bin = {
            "rewardd": os.path.join(self.build, "server/main/rewardd"),
            "bench": os.path.join(self.build, "bench/reward-bench"),
            "bare": os.path.join(self.build, "bench/bare-server"),
            "sim": os.path.join(self.build, "tools/judge-sim/judge-sim"),
            "floor": os.path.join(self.build, "bench/http-floor-bench"),
            "gateway": os.path.join(self.build, "bench/gateway-bench"),
        }
        for key in ("rewardd", "bench", "bare"):
            if not os.access(self.bin[key], os.X_OK):
                sys.exit("missing %s: build it first:\n  cmake -S %s -B %s -G Ninja "
                         "-DCMAKE_BUILD_TYPE=Release && ninja -C %s rewardd "
                         "reward-bench bare-server judge-sim http-floor-bench gateway-bench rewardd_python"
                         % (self.bin[key], REPO, self.build, self.build))
        self.work = tempfile.mkdtemp(prefix="rewardd-bench.")
        self.procs = []
        self.stopping = []  # --quick: sent SIGTERM, exit not yet waited for
        self.results = []
        self.counter = 0
        self.scenario_seconds = {}  # scenario number -> wall seconds
        helpfull = subprocess.run([self.bin["rewardd"], "--helpfull"],
                                  capture_output=True, text=True)
        self.rewardd_help = helpfull.stdout + helpfull.stderr

    # ---------------------------------------------------------------- helpers
    def has_flag(self, flag):
        return ("--%s " % flag) in self.rewardd_help or ("--%s(" % flag) in self.rewardd_help

    def file(self, name):
        self.counter += 1
        return os.path.join(self.work, "%02d-%s" % (self.counter, name))

    def start_rewardd(self, name, extra=(), cpus=None, timeout=60):
        port_file = self.file(name + ".port")
        cmd = [self.bin["rewardd"], "--listen=127.0.0.1:0",
               "--port_file=" + port_file, "--log_level=info",
               "--rubric_poll_seconds=0"]
        for flag, value in (("metrics_listen", "127.0.0.1:0"),
                            ("drain_grace_seconds", "0"), ("drain_seconds", "1")):
            if self.has_flag(flag):
                cmd.append("--%s=%s" % (flag, value))
        cmd += list(extra)
        p = Proc(name, cmd, self.work, cpus=cpus, nice=self.args.nice)
        self.procs.append(p)
        p.load_seconds = p.wait_file(port_file, timeout)
        with open(port_file) as f:
            p.port = int(f.read().strip())
        return p

    def start_bare(self, name, cpus=None):
        port_file = self.file(name + ".port")
        p = Proc(name, [self.bin["bare"], "--listen=127.0.0.1:0",
                        "--port_file=" + port_file, "--criteria=20"],
                 self.work, cpus=cpus, nice=self.args.nice)
        self.procs.append(p)
        p.wait_file(port_file, 20)
        with open(port_file) as f:
            p.port = int(f.read().strip())
        return p

    def start_sim(self, name, latency_ms, capacity, jitter_ms=0, extra=()):
        if not os.access(self.bin["sim"], os.X_OK):
            raise Skip("judge-sim is not built (%s)" % self.bin["sim"])
        p = Proc(name, [self.bin["sim"], "--port=0", "--capacity=%d" % capacity,
                        "--latency_ms=%g" % latency_ms, "--jitter_ms=%g" % jitter_ms]
                 + list(extra),
                 self.work, nice=self.args.nice)
        self.procs.append(p)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            text = open(p.log_path).read()
            if "listening on" in text:
                p.port = int(text.split("listening on")[1].split()[0].rsplit(":", 1)[1])
                p.url = "http://127.0.0.1:%d" % p.port
                return p
            if p.popen.poll() is not None:
                raise RuntimeError("judge-sim exited: " + p.tail())
            time.sleep(0.02)
        raise RuntimeError("judge-sim did not start")

    def judges_config(self, sim, capacity, mode="per_criterion"):
        if not self.has_flag("judges_config"):
            raise Skip("rewardd has no --judges_config flag (the HTTP judge is not "
                       "wired into rewardd_main.cc yet)")
        path = self.file("judges.json")
        with open(path, "w") as f:
            json.dump({"default": "sim", "cache_max_bytes": 256 << 20,
                       "judges": [{"name": "sim", "model": "judge-sim",
                                   "replicas": [sim.url + "/v1"], "mode": mode,
                                   "timeout_ms": 60000,
                                   "pool": {"max_queue_size": 1000000,
                                            "max_in_flight_per_replica": capacity}}]},
                      f)
        return path

    def http_floor(self, sim, in_flight, body_bytes, warmup_s, duration_s,
                   criteria=0):
        """http-floor-bench against `sim` (the HTTP path alone, see
        docs/benchmarks.md): its JSON result, or None when it is not built.
        `criteria` 0 sends per_criterion bodies, N > 0 all_in_one ones."""
        if not os.access(self.bin["floor"], os.X_OK):
            return None
        out = self.file("floor.json")
        cmd = [self.bin["floor"], "--url=%s/v1" % sim.url,
               "--in_flight=%d" % in_flight, "--body_bytes=%d" % body_bytes,
               "--criteria=%d" % criteria, "--warmup_s=%g" % warmup_s,
               "--duration_s=%g" % duration_s, "--json_out=" + out]
        if self.args.nice:
            cmd = ["nice", "-n", str(self.args.nice)] + cmd
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            raise RuntimeError("http-floor-bench failed (%d): %s" % (
                r.returncode, r.stderr.strip()))
        with open(out) as f:
            return json.load(f)

    def stop(self, *procs, wait=False):
        """Stops `procs`, all signalled at once. A rewardd is slow to exit
        after SIGTERM (its metrics endpoint's shutdown), which nothing
        measured here needs: --quick waits for the exits only when `wait`
        (a scenario that reads what the process writes at exit) and
        otherwise at the end of the run; the full run always waits."""
        for p in procs:
            p.terminate()
            if p in self.procs:
                self.procs.remove(p)
        if wait or not self.quick:
            for p in procs:
                p.stop()
        else:
            self.stopping.extend(procs)

    def bench(self, server, *flags, timeout=None, background=False):
        """Runs reward-bench against `server`; returns its JSON result."""
        out = self.file("bench.json")
        cmd = [self.bin["bench"], "--target=127.0.0.1:%d" % server.port,
               "--json_out=" + out] + list(flags)
        if self.args.nice:
            cmd = ["nice", "-n", str(self.args.nice)] + cmd
        if background:
            log = open(out + ".log", "w")
            p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
            p.out = out
            p.logf = log
            return p
        r = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=timeout or 300)
        if r.returncode != 0:
            raise RuntimeError("reward-bench failed (%d): %s %s" % (
                r.returncode, r.stderr.strip(), " ".join(cmd)))
        with open(out) as f:
            return json.load(f)

    def record(self, sid, name, metrics, ratio=None, ratio_name="", target="",
               passed=None, note=""):
        self.results.append({"id": sid, "name": name, "metrics": metrics,
                             "ratio": ratio, "ratio_name": ratio_name,
                             "target": target, "pass": passed, "note": note})
        verdict = {True: "PASS", False: "FAIL", None: "INFO"}[passed]
        ratio_text = "" if ratio is None else "%s = %.3f" % (ratio_name, ratio)
        print("[%s] %s: %s  target: %s  %s" % (sid, name, ratio_text, target or "-",
                                               verdict), flush=True)
        if note:
            print("    " + note, flush=True)

    def skip(self, sid, name, reason):
        self.results.append({"id": sid, "name": name, "skipped": reason,
                             "pass": None})
        print("[%s] %s: SKIPPED: %s" % (sid, name, reason), flush=True)

    def cleanup(self):
        for p in list(self.procs) + self.stopping:
            try:
                p.stop()
            except Exception:  # best effort at exit
                pass
        if not self.args.keep:
            shutil.rmtree(self.work, ignore_errors=True)

    # ------------------------------------------------------------- durations
    def alternate(self, sides, rounds=None):
        """Runs each side (name -> fn returning a result) once per round
        (`rounds`, by default 2 quick and 3 full), reversing the order every
        other round; returns name -> results."""
        got = {k: [] for k in sides}
        for r in range(rounds or self.d(2, 3)):
            names = list(sides)
            if r % 2:
                names.reverse()
            for name in names:
                got[name].append(sides[name]())
        return got

    def d(self, quick, full):
        return quick if self.quick else full

    def warmup(self, full=0.5):
        """reward-bench's --warmup_s: `full` seconds, or QUICK_WARMUP_S with
        --quick (enough for the connections and the server's threads)."""
        return "--warmup_s=%g" % self.d(QUICK_WARMUP_S, full)

    # -------------------------------------------------------------- scenarios
    def s1_overhead(self):
        """rewardd (embedded judge) vs bare-server on the same messages.

        Two workloads, same grading work (20 exact checks on a 1.5 KB
        response): rubrics by reference to a loaded set (the production path)
        and the same rubrics inline in every request (parsed, validated and
        regex-compiled per request).
        """
        rdir = self.file("s1-rubrics")
        os.makedirs(rdir)
        common = ["--criteria=20", "--response_bytes=1500", "--distinct_prompts=64",
                  "--group_size=16"]
        subprocess.run([self.bin["bench"], "--write_rubric_set=" +
                        os.path.join(rdir, "benchset.jsonl")] + common, check=True)
        bare = self.start_bare("s1-bare")
        rw = self.start_rewardd("s1-rewardd", ["--rubric_dir=" + rdir])
        workloads = [("1a", "by reference", ["--rubric=checks_ref", "--rubric_set=benchset"]),
                     ("1b", "inline", ["--rubric=checks"])]
        for sid, label, extra in workloads:
            self.overhead_pair(sid, label, bare, rw, common + extra + ["--channels=2"])
        self.stop(bare, rw)

    def overhead_pair(self, sid, label, bare, rw, work):
        rounds = self.d(2, 3)
        dur = self.d(1, 5)
        sat = {"bare": [], "rewardd": []}
        cpu = {"bare": [], "rewardd": []}
        for r in range(rounds):
            order = [("bare", bare), ("rewardd", rw)]
            if r % 2:
                order.reverse()
            for name, srv in order:
                res = self.bench(srv, *work, "--concurrency=64", self.warmup(),
                                 "--duration_s=%g" % dur, "--server_pid=%d" % srv.pid)
                sat[name].append(res)
                if res["calls"]:
                    cpu[name].append(res["server_cpu_seconds"] / res["calls"] * 1e6)
        thr = {k: max(x["calls_per_second"] for x in v) for k, v in sat.items()}
        ratio = thr["rewardd"] / thr["bare"]
        # Half of rewardd's saturation load, open loop, both servers.
        rate = 0.5 * thr["rewardd"]
        half = {"bare": [], "rewardd": []}
        for r in range(self.d(1, rounds)):  # quick: one round of each side
            order = [("bare", bare), ("rewardd", rw)]
            if r % 2:
                order.reverse()
            for name, srv in order:
                res = self.bench(srv, *work, "--rate=%g" % rate, "--concurrency=20000",
                                 self.warmup(), "--duration_s=%g" % self.d(1, 6))
                half[name].append(res)
        p99 = {k: min(x["latency_ms"]["p99"] for x in v) for k, v in half.items()}
        p50 = {k: min(x["latency_ms"]["p50"] for x in v) for k, v in half.items()}
        added = p99["rewardd"] - p99["bare"]
        failed = sum(x["failed_total"] for v in list(sat.values()) + list(half.values())
                     for x in v)
        invalid = sum(x["invalid_items"] for x in sat["rewardd"] + half["rewardd"])
        cpu_best = {k: round(min(v), 1) if v else None for k, v in cpu.items()}
        self.record(
            sid, "overhead vs bare gRPC server, rubric %s" % label,
            {"bare_calls_per_s": round(thr["bare"]), "rewardd_calls_per_s":
             round(thr["rewardd"]), "half_load_rate": round(rate),
             "p50_ms": {k: round(v, 3) for k, v in p50.items()},
             "p99_ms": {k: round(v, 3) for k, v in p99.items()},
             "p99_added_ms": round(added, 3),
             "server_cpu_us_per_call": cpu_best,
             "failed_calls": failed, "invalid_results": invalid,
             "rounds": rounds},
            ratio=ratio, ratio_name="throughput rewardd/bare",
            target=">= 0.7 and p99 added < 1 ms at half load",
            passed=ratio >= 0.7 and added < 1.0 and failed == 0,
            note="%d vs %d calls/s; server CPU/call %s vs %s us; p99 at %d/s: "
                 "rewardd %.3f ms, bare %.3f ms (added %.3f ms)" % (
                     thr["rewardd"], thr["bare"], cpu_best["rewardd"],
                     cpu_best["bare"], rate, p99["rewardd"], p99["bare"], added))

    def s2_judge_saturation(self):
        latency = self.d(100, 200)
        capacity = self.d(64, 256)
        sim = self.start_sim("s2-sim", latency, capacity, jitter_ms=latency / 10)
        cfg = self.judges_config(sim, capacity)
        rw = self.start_rewardd("s2-rewardd", ["--judges_config=" + cfg])
        criteria = 20
        # Twice the judge's capacity in flight: the pool queue keeps it busy.
        conc = max(1, math.ceil(2 * capacity / criteria))
        def window(duration_s, *shape):
            res = self.bench(rw, *shape, "--rubric=text", "--criteria=%d" % criteria,
                             "--response_bytes=1500", "--judge=sim",
                             "--grading_mode=per_criterion", "--skip_cache",
                             "--warmup_s=%g" % self.d(1, 2),
                             "--duration_s=%g" % duration_s, "--deadline_ms=60000",
                             "--server_pid=%d" % rw.pid, "--judge_stats=" + sim.url,
                             "--judge_reset")
            if not res.get("judge_stats"):
                raise RuntimeError("no judge-sim /stats")
            return res

        # The HTTP path alone (http-floor-bench: CurlMultiLoop, libcurl and
        # the kernel's TCP work, nothing of rewardd) against the same judge,
        # with bodies of the size rewardd sent: the floor under rewardd's
        # figure. Each rewardd window is followed by a floor window, so the
        # ratio of the two sees the same host.
        def floor_window(duration_s, body_bytes):
            return self.http_floor(sim, capacity, body_bytes, self.d(1, 2),
                                   duration_s)

        # Several measurement windows, the best kept (as scenario 1 keeps its
        # best round): a busy host only ever adds CPU time per call (cache
        # and SMT contention), never removes it.
        runs, floors = [], []
        for _ in range(self.d(1, 3)):
            runs.append(window(self.d(2.5, 10), "--concurrency=%d" % conc))
            js = runs[-1]["judge_stats"]
            # judge-sim counts the messages' text; the JSON around it adds
            # about 150 bytes.
            body = int(js["prompt_bytes"] / max(1, js["calls"])) + 150
            floors.append(floor_window(self.d(2.5, 10), body))
        # The same work as GRPO sends it, a group of 16 responses per call
        # (GradeGroup): information only, the target is on unary calls.
        group_runs = [window(self.d(2, 8), "--shape=group", "--group_size=16",
                             "--concurrency=%d" % max(1, math.ceil(conc / 16)))
                      for _ in range(self.d(1, 2))]
        self.stop(rw, sim)
        ideal = capacity / (latency / 1000.0)
        cpu_runs = [r["server_cpu_seconds"] / max(1, r["judge_stats"]["completed"]) * 1e6
                    for r in runs]
        group_cpu = min(r["server_cpu_seconds"] / max(1, r["judge_stats"]["completed"]) * 1e6
                        for r in group_runs)
        group_ratio = max(r["judge_stats"]["completed"] / r["measured_seconds"]
                          for r in group_runs) / ideal
        res = runs[cpu_runs.index(min(cpu_runs))]
        js = res["judge_stats"]
        calls_per_s = max(r["judge_stats"]["completed"] / r["measured_seconds"]
                          for r in runs)
        ratio = calls_per_s / ideal
        cpu_us = min(cpu_runs)
        floor_us = [f["cpu_us_per_call"] for f in floors if f]
        over_floor = [c / f for c, f in zip(cpu_runs, floor_us)]
        failed = sum(r["failed_total"] for r in runs + group_runs)
        invalid = sum(r["invalid_items"] for r in runs + group_runs)
        self.record(
            2, "judge saturation (judge-sim L=%d ms, C=%d)" % (latency, capacity),
            {"judge_calls_per_s": round(calls_per_s, 1), "ideal_C_over_L": ideal,
             "concurrent_peak": js.get("concurrent_peak"),
             "rewardd_cpu_us_per_judge_call": round(cpu_us, 1),
             "cpu_us_per_judge_call_each_run": [round(c, 1) for c in cpu_runs],
             "group16_cpu_us_per_judge_call": round(group_cpu, 1),
             "group16_judge_calls_over_C_L": round(group_ratio, 3),
             "grade_calls_per_s": round(res["calls_per_second"], 1),
             "http_floor_cpu_us_per_call_each_run": [round(f, 1) for f in floor_us],
             "rewardd_over_http_floor_each_run": [round(r, 2) for r in over_floor],
             "failed_calls": failed, "invalid_results": invalid},
            ratio=ratio, ratio_name="judge calls/s / (C/L)",
            # "< 100 us per judge call" was set where the HTTP floor was ~50
            # us: microseconds do not carry across machines, the ratio does.
            target=">= 0.95, and rewardd CPU per judge call <= 2.0x the HTTP "
                   "floor (was: < 100 us)",
            passed=(ratio >= 0.95 and failed == 0 and
                    (min(over_floor) <= 2.0 if over_floor else cpu_us < 100)),
            note="rewardd CPU per judge call: %.1f us (best of %s us); "
                 "in groups of 16 (GradeGroup): %.1f us at %.3f of C/L; "
                 "HTTP floor (http-floor-bench, same judge): %s us, rewardd "
                 "over the floor %s" % (
                cpu_us, ", ".join("%.1f" % c for c in cpu_runs), group_cpu,
                group_ratio, ", ".join("%.1f" % f for f in floor_us) or "not built",
                ", ".join("%.2f" % r for r in over_floor) or "-"))

    def s3_prefix_sharing(self):
        sim = self.start_sim("s3-sim", 2, 64)
        cfg = self.judges_config(sim, 64)
        rw = self.start_rewardd("s3-rewardd", ["--judges_config=" + cfg])
        groups = self.d(3, 12)
        shares = {}
        calls = {}
        for mode in ("per_criterion", "all_in_one", "chunked"):
            res = self.bench(rw, "--shape=group", "--group_size=16", "--criteria=20",
                             "--rubric=text", "--response_bytes=1500", "--judge=sim",
                             "--grading_mode=" + mode, "--chunk_size=5",
                             "--concurrency=1", "--warmup_s=0", "--count=%d" % groups,
                             "--duration_s=120", "--deadline_ms=60000",
                             "--judge_stats=" + sim.url, "--judge_reset",
                             "--seed=%d" % (len(shares) + 1))
            js = res["judge_stats"]
            shares[mode] = js["prefix_reuse_share"]
            calls[mode] = js["calls"]
        self.stop(rw, sim)
        self.record(
            3, "prefix sharing, groups of 16 x 20 criteria",
            {"prefix_reuse_share": {k: round(v, 4) for k, v in shares.items()},
             "judge_calls": calls, "groups": groups},
            ratio=shares["per_criterion"], ratio_name="per_criterion reuse share",
            target=">= 0.9 (per_criterion)", passed=shares["per_criterion"] >= 0.9,
            note="all_in_one %.3f, chunked(5) %.3f" % (shares["all_in_one"],
                                                     shares["chunked"]))

    def s4_work_saved(self):
        sim = self.start_sim("s4-sim", 10, 64)
        cfg = self.judges_config(sim, 64)
        rw = self.start_rewardd("s4-rewardd", ["--judges_config=" + cfg])
        prompts = self.d(6, 24)
        group, distinct = 16, 4
        out = {}
        ok = True
        for seed, (mode, per_response) in enumerate(
                (("all_in_one", 1), ("per_criterion", 20)), start=11):
            res = self.bench(rw, "--shape=group", "--group_size=%d" % group,
                             "--distinct_per_group=%d" % distinct,
                             "--distinct_prompts=%d" % prompts,
                             "--count=%d" % (2 * prompts), "--criteria=20",
                             "--rubric=text", "--response_bytes=1500", "--judge=sim",
                             "--grading_mode=" + mode, "--concurrency=4",
                             "--warmup_s=0", "--duration_s=120", "--deadline_ms=60000",
                             "--judge_stats=" + sim.url, "--seed=%d" % seed)
            calls = res["judge_stats"]["calls"]
            naive = 2 * prompts * group * per_response
            minimum = prompts * distinct * per_response
            out[mode] = {"judge_calls": calls, "naive_calls": naive,
                         "distinct_work": minimum,
                         "saved_share": round(1 - calls / naive, 4),
                         "ideal_saved_share": round(1 - minimum / naive, 4),
                         "failed_calls": res["failed_total"],
                         "invalid_results": res["invalid_items"]}
            ok = ok and calls <= minimum and res["failed_total"] == 0
        self.stop(rw, sim)
        pc = out["per_criterion"]
        self.record(
            4, "work saved by cache + dedup (16/group, 4 distinct, each group twice)",
            out, ratio=pc["saved_share"], ratio_name="judge calls saved (per_criterion)",
            target="calls == distinct work (ideal saved %.3f)" % pc["ideal_saved_share"],
            passed=ok,
            note="all_in_one: %d calls vs naive %d; per_criterion: %d vs %d" % (
                out["all_in_one"]["judge_calls"], out["all_in_one"]["naive_calls"],
                pc["judge_calls"], pc["naive_calls"]))

    def generate_rubrics(self, n, criteria, seed=None):
        """bench/gen_rubrics.py's set of `n` rubrics, kept in --cache_dir
        (the output is a pure function of the arguments)."""
        cache = os.path.abspath(self.args.cache_dir)
        os.makedirs(cache, exist_ok=True)
        name = "scale-%d-%d" % (n, criteria)
        if seed is not None:
            name += "-seed%d" % seed
        path = os.path.join(cache, name + ".jsonl")
        if not os.path.exists(path):  # gen_rubrics.py renames into place
            subprocess.run([sys.executable, os.path.join(REPO, "bench/gen_rubrics.py"),
                            "--rubrics=%d" % n, "--criteria=%d" % criteria,
                            "--out=" + path]
                           + ([] if seed is None else ["--seed=%d" % seed]),
                           check=True, capture_output=True, timeout=900)
        return path

    def s5_rubric_scale(self):
        n = self.d(10000, 100000)
        criteria = 20
        source = self.generate_rubrics(n, criteria)
        rdir = self.file("rubrics")
        os.makedirs(rdir)
        shutil.copyfile(source, os.path.join(rdir, "scale.jsonl"))
        shutil.copyfile(self.generate_rubrics(10, criteria, seed=5),
                        os.path.join(rdir, "small.jsonl"))
        raw = sum(os.path.getsize(os.path.join(rdir, f)) for f in os.listdir(rdir))
        empty = self.file("empty")
        os.makedirs(empty)
        base = self.start_rewardd("s5-empty", ["--rubric_dir=" + empty])
        base_rss, base_start = base.rss_bytes(), base.load_seconds
        self.stop(base)
        rw = self.start_rewardd("s5-rewardd", ["--rubric_dir=" + rdir,
                                               "--max_rubric_file_bytes=%d" % (2 << 30)],
                                timeout=600)
        load_s = rw.load_seconds - base_start
        time.sleep(0.5)
        rss = rw.rss_bytes()
        hwm = rw.hwm_bytes()
        # Look-ups: a random rubric of the big set vs of a 10-rubric set.
        look = {"scale": [], "small": []}
        for r in range(self.d(1, 2)):
            for name, count in (("scale", n), ("small", 10)):
                res = self.bench(rw, "--shape=get_rubric", "--rubric=ref",
                                 "--rubric_set=" + name, "--rubric_count=%d" % count,
                                 "--group_size=1", "--concurrency=8", "--warmup_s=0.3",
                                 "--duration_s=%g" % self.d(0.7, 3))
                look[name].append(res)
        lp50 = {k: min(x["latency_ms"]["p50"] for x in v) for k, v in look.items()}
        lp99 = {k: min(x["latency_ms"]["p99"] for x in v) for k, v in look.items()}
        # Reload under load: Grade by reference while the set is replaced.
        stop_file = self.file("stop")
        bg = self.bench(rw, "--shape=unary", "--rubric=ref", "--rubric_set=scale",
                        "--rubric_count=%d" % n, "--group_size=1",
                        "--concurrency=16", "--warmup_s=0.5", "--duration_s=900",
                        "--stop_file=" + stop_file, background=True)
        time.sleep(self.d(0.8, 1.5))  # past the 0.5 s warm-up: calls measured
        new = os.path.join(rdir, ".scale.new")
        shutil.copyfile(source, new)
        with open(new, "a") as f:
            f.write(json.dumps({"id": "r%d" % n, "prompt": "added by the reload test",
                                "criteria": [{"text": "The response is polite.",
                                              "weight": 1}]}) + "\n")
        os.replace(new, os.path.join(rdir, "scale.jsonl"))
        reload_start = time.monotonic()
        os.kill(rw.pid, signal.SIGHUP)
        reloaded = None
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and reloaded is None:
            with open(rw.log_path) as f:
                for line in f:
                    if '"rubric_reload"' in line and '"generation":"2"' in line:
                        reloaded = time.monotonic() - reload_start
            time.sleep(0.05)
        time.sleep(self.d(0.3, 1.0))  # calls to the new set, then stop
        open(stop_file, "w").close()
        bg.wait(timeout=120)
        bg.logf.close()
        with open(bg.out) as f:
            under = json.load(f)
        check = self.bench(rw, "--shape=get_rubric", "--rubric=ref",
                           "--rubric_set=scale", "--rubric_id=r%d" % n,
                           "--group_size=1", "--warmup_s=0", "--count=1",
                           "--concurrency=1")
        self.stop(rw)
        ratio = rss / raw
        ok = (ratio < 2 and reloaded is not None and under["failed_total"] == 0
              and check["failed_total"] == 0)
        self.record(
            5, "rubric scale (%d rubrics x %d criteria)" % (n, criteria),
            {"raw_bytes": raw, "load_seconds": round(load_s, 2),
             "rss_bytes": rss, "rss_peak_bytes": hwm, "empty_server_rss_bytes": base_rss,
             "rss_minus_empty_over_raw": round((rss - base_rss) / raw, 3),
             "get_rubric_p50_ms": lp50, "get_rubric_p99_ms": lp99,
             "lookup_p50_ratio_scale_over_small": round(lp50["scale"] / lp50["small"], 3),
             "reload_seconds_under_load": None if reloaded is None else round(reloaded, 2),
             "calls_during_reload_run": under["calls_total"],
             "failed_during_reload": under["failed_total"],
             "errors_during_reload": under["errors"],
             "new_rubric_served": check["failed_total"] == 0},
            ratio=ratio, ratio_name="RSS / raw text",
            target="< 2x; reload under load with 0 failed requests", passed=ok,
            note="load %.1f s, RSS %.0f MiB for %.0f MiB of JSONL; reload %s s with %d "
                 "calls, %d failed; GetRubric p50 %.3f ms (%d-rubric set) vs %.3f ms "
                 "(10-rubric set)" % (load_s, rss / 2**20, raw / 2**20,
                               "n/a" if reloaded is None else "%.1f" % reloaded,
                               under["calls_total"], under["failed_total"],
                               lp50["scale"], n, lp50["small"]))

    def s6_api_shapes(self):
        rw = self.start_rewardd("s6-rewardd")
        work = ["--rubric=checks", "--criteria=20", "--response_bytes=1500",
                "--distinct_prompts=64", "--group_size=16", "--channels=2",
                self.warmup(), "--duration_s=%g" % self.d(1, 5)]
        shapes = {"unary": ["--shape=unary", "--concurrency=64"],
                  "group": ["--shape=group", "--concurrency=4"],
                  "stream": ["--shape=stream", "--concurrency=64", "--streams=2"]}
        # No target here (information): one round in quick mode.
        got = self.alternate({name: (lambda f=flags: self.bench(rw, *work, *f))
                              for name, flags in shapes.items()},
                             rounds=self.d(1, 3))
        self.stop(rw)
        items = {k: max(x["items_per_second"] for x in v) for k, v in got.items()}
        failed = sum(x["failed_total"] for v in got.values() for x in v)
        # Which status each failure had, per shape: a failure here is a bug
        # to chase (one call in ~2M failed once, 2026-11-26, not reproduced).
        errors = {k: [x["errors"] for x in v if x["failed_total"]]
                  for k, v in got.items()}
        self.record(
            6, "API shapes, same work (16 responses/prompt, 20 checks)",
            {"responses_per_s": {k: round(v) for k, v in items.items()},
             "group_over_unary": round(items["group"] / items["unary"], 3),
             "stream_over_unary": round(items["stream"] / items["unary"], 3),
             "failed_calls": failed,
             "errors": {k: v for k, v in errors.items() if v}},
            ratio=items["group"] / items["unary"], ratio_name="group/unary",
            target="(none: shows the cost of the call shape)",
            passed=None if failed == 0 else False,
            note="responses/s: unary %d, group %d, stream %d (stream/unary %.3f)%s" % (
                items["unary"], items["group"], items["stream"],
                items["stream"] / items["unary"],
                "; FAILED calls: %s" % errors if failed else ""))

    def s7_cores(self):
        if (os.cpu_count() or 1) < 2 or shutil.which("taskset") is None:
            raise Skip("needs 2 CPUs and taskset")
        one = self.start_rewardd("s7-1core", cpus="0")
        two = self.start_rewardd("s7-2core", cpus="0,1")
        work = ["--rubric=text", "--criteria=20", "--response_bytes=3000",
                "--distinct_prompts=64", "--group_size=16", "--channels=2",
                "--concurrency=64", self.warmup(), "--duration_s=%g" % self.d(1, 5)]
        got = {"1": [], "2": []}
        for r in range(self.d(1, 3)):  # no target: one round in quick mode
            order = [("1", one), ("2", two)]
            if r % 2:
                order.reverse()
            for name, srv in order:
                got[name].append(self.bench(srv, *work, "--server_pid=%d" % srv.pid))
        self.stop(one, two)
        best = {k: max(v, key=lambda x: x["calls_per_second"]) for k, v in got.items()}
        thr = {k: v["calls_per_second"] for k, v in best.items()}
        cpu = {k: v["server_cpu_seconds"] / max(1, v["calls"]) * 1e6
               for k, v in best.items()}
        self.record(
            7, "cores: rewardd on 1 vs 2 cores (taskset; client unpinned)",
            {"calls_per_s": {k + "_core": round(v) for k, v in thr.items()},
             "server_cpu_us_per_call": {k + "_core": round(v, 1) for k, v in cpu.items()},
             "cpus_on_machine": os.cpu_count()},
            ratio=thr["2"] / thr["1"], ratio_name="throughput 2 cores / 1 core",
            target="(none: shows scaling; the load generator shares the 2 cores)",
            passed=None)

    # Rubric elicitation (RubricService); each in a file of its own.
    def s20_synthetic_tail(self):
        import scenario_synthetic_tail
        scenario_synthetic_tail.run(self, 20, "synthetic tail: refinement with "
                                    "the oracle proposer (workflow, not an LLM)")

    def s21_refine_throughput(self):
        import scenario_refine_throughput
        scenario_refine_throughput.run(self, 21, "refinement throughput: 16 "
                                       "responses x 4 iterations, L=200ms C=256")

    SCENARIOS = [(1, "overhead", "s1_overhead"), (2, "judge saturation", "s2_judge_saturation"),
                 (3, "prefix sharing", "s3_prefix_sharing"), (4, "work saved", "s4_work_saved"),
                 (5, "rubric scale", "s5_rubric_scale"), (6, "API shapes", "s6_api_shapes"),
                 (7, "cores", "s7_cores"), (8, "clients", scenario_clients.run),
                 (9, "seed shape", scenario_seed_shape.run),
                 (10, "GRPO step with stragglers", scenario_grpo_step.run),
                 (11, "tail overhead", "s11_tail_overhead"),
                 (20, "synthetic tail", "s20_synthetic_tail"),
                 (21, "refinement throughput", "s21_refine_throughput")]

    def s11_tail_overhead(self):
        tail_overhead(self, Skip)

    def run(self):
        only = None
        if self.args.only:
            only = {int(x) for x in self.args.only.split(",")}
        started = time.monotonic()
        for sid, name, method in self.SCENARIOS:
            if only and sid not in only:
                continue
            t = time.monotonic()
            before = len(self.results)
            try:
                # A method of this class, or a scenario module's run(suite).
                method(self) if callable(method) else getattr(self, method)()
            except Skip as e:
                self.skip(sid, name, str(e))
            except Exception as e:  # report and go on with the next scenario
                for p in list(self.procs):
                    self.stop(p)
                self.results.append({"id": sid, "name": name, "error": str(e),
                                     "pass": False})
                print("[%s] %s: ERROR: %s" % (sid, name, e), flush=True)
            elapsed = time.monotonic() - t
            self.scenario_seconds[str(sid)] = round(elapsed, 1)
            for r in self.results[before:]:
                r["scenario"] = sid  # rows 1a, 1b come from scenario 1
                r["seconds"] = round(elapsed, 1)  # the whole scenario's
            # Per-scenario wall time: what a user trims with --only, and what
            # keeps --quick inside its budget.
            print("    [%s] took %.1f s" % (sid, elapsed), flush=True)
        total = time.monotonic() - started
        return total


def machine():
    model, mhz = "", ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and not model:
                    model = line.split(":", 1)[1].strip()
                if line.startswith("cpu MHz") and not mhz:
                    mhz = line.split(":", 1)[1].strip()
    except OSError:
        pass
    mem = ""
    try:
        free = subprocess.run(["free", "-m"], capture_output=True, text=True).stdout
        for line in free.splitlines():
            if line.startswith("Mem:"):
                mem = "%s MiB total, %s MiB available" % (line.split()[1], line.split()[-1])
    except OSError:
        pass
    load = os.getloadavg()
    return {"cpu_model": model, "cpu_mhz": mhz, "cpus": os.cpu_count(), "memory": mem,
            "kernel": platform.release(), "load_average_at_start": [round(x, 2) for x in load]}


def markdown(report):
    lines = ["| # | scenario | ratio / figure | target | result | s |",
             "|---|---|---|---|---|---|"]
    seen = set()
    for r in report["scenarios"]:
        # A scenario's wall time on its first row only (1a and 1b share it).
        secs = "" if r.get("scenario") in seen else r.get("seconds", "")
        seen.add(r.get("scenario"))
        if "skipped" in r:
            lines.append("| %s | %s | - | - | SKIPPED: %s | %s |" % (
                r["id"], r["name"], r["skipped"], secs))
            continue
        if "error" in r:
            lines.append("| %s | %s | - | - | ERROR: %s | %s |" % (
                r["id"], r["name"], r["error"], secs))
            continue
        verdict = {True: "PASS", False: "**FAIL**", None: "info"}[r["pass"]]
        ratio = "" if r["ratio"] is None else "%s **%.3f**" % (r["ratio_name"], r["ratio"])
        if r.get("note"):
            ratio += "<br>" + r["note"]
        lines.append("| %s | %s | %s | %s | %s | %s |" % (
            r["id"], r["name"], ratio, r["target"] or "-", verdict, secs))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description="rewardd benchmark scenarios")
    ap.add_argument("--quick", action="store_true", help="short run (< 2 minutes)")
    ap.add_argument("--json", help="write the results as JSON here")
    ap.add_argument("--markdown", help="write the results table (Markdown) here")
    ap.add_argument("--only", help="comma-separated scenario numbers")
    ap.add_argument("--build_dir", default=os.path.join(REPO, "build-bench"))
    ap.add_argument("--cache_dir", default=os.path.join(tempfile.gettempdir(),
                                                        "rewardd-bench-cache"),
                    help="generated rubric sets are kept here between runs")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (logs)")
    ap.add_argument("--nice", type=int, default=0,
                    help="run servers and load generators at this nice level; a "
                         "negative value (root only) shields the figures from other "
                         "work on a shared machine")
    args = ap.parse_args()
    suite = Suite(args)
    report = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec="seconds"), "mode": "quick" if args.quick else "full",
        "command": "bench/run.sh " + " ".join(sys.argv[1:]), "machine": machine()}
    print("rewardd benchmarks (%s) on %s, %s CPUs, load %s; work dir %s" % (
        report["mode"], report["machine"]["cpu_model"], report["machine"]["cpus"],
        report["machine"]["load_average_at_start"], suite.work), flush=True)
    try:
        total = suite.run()
    finally:
        suite.cleanup()
    report["seconds"] = round(total, 1)
    report["scenario_seconds"] = suite.scenario_seconds
    report["scenarios"] = suite.results
    table = markdown(report)
    print("\n" + table + "\n\ntotal %.0f s (%s)" % (total, ", ".join(
        "%s: %.0f s" % kv for kv in suite.scenario_seconds.items())))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table + "\n")
    failed = [r for r in suite.results if r.get("pass") is False]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

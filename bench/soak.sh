#!/usr/bin/env bash
# Bounded soak: rewardd graded through judge-sim with injected faults (429,
# 500, resets, garbage, truncation, hangs) under steady load, for a few
# minutes, sampling rewardd's RSS and open file descriptors every few seconds.
# After warm-up neither may grow beyond a small margin.
#
#   bench/soak.sh [SECONDS=180] [BUILD_DIR=build]
#
# Prints the samples, then one line per check with PASS/FAIL; exits 1 on a
# failure. Only loopback traffic; every process it starts is stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-180}
BUILD_DIR=${BUILD_DIR:-build}
WARMUP=${WARMUP:-60}
INTERVAL=5
RSS_MARGIN=${RSS_MARGIN:-0.10}   # growth allowed after warm-up (10%)
FD_MARGIN=${FD_MARGIN:-8}        # open fds allowed above the warm-up count

bin() { find "$BUILD_DIR" -type f -name "$1" -perm -u+x | head -n1; }
REWARDD=$(bin rewardd); SIM=$(bin judge-sim); BENCH=$(bin reward-bench)
for b in "$REWARDD" "$SIM" "$BENCH"; do
  [[ -x "$b" ]] || { echo "missing binaries: run scripts/build.sh first" >&2; exit 2; }
done
WORK=$(mktemp -d /tmp/rewardd-soak.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SIM_PORT=$(free_port)
"$SIM" --port="$SIM_PORT" --capacity=64 --latency_ms=20 --jitter_ms=10 \
  --rate_429=0.03 --retry_after_s=0 --rate_500=0.03 --rate_reset=0.02 \
  --rate_garbage=0.02 --rate_truncate=0.02 --rate_hang=0.005 --hang_ms=3000 \
  >"$WORK/sim.log" 2>&1 &
PIDS+=($!)
cat >"$WORK/judges.json" <<JSON
{"cache_max_bytes": 1048576,
 "judges": [{"name": "sim", "model": "judge-sim", "mode": "per_criterion",
             "timeout_ms": 1000, "replicas": ["http://127.0.0.1:$SIM_PORT/v1"],
             "pool": {"max_attempts": 3, "initial_backoff_ms": 10, "max_backoff_ms": 100}}]}
JSON
"$REWARDD" --listen=127.0.0.1:0 --port_file="$WORK/port" --metrics_listen=127.0.0.1:0 \
  --judges_config="$WORK/judges.json" --log_level=warning --inline_rubric_cache_size=256 2>"$WORK/rewardd.log" &
RPID=$!
PIDS+=($RPID)
for _ in $(seq 1 200); do [[ -s "$WORK/port" ]] && break; sleep 0.05; done
TARGET=127.0.0.1:$(cat "$WORK/port")

# Steady load: distinct prompts keep the verdict cache churning (bounded).
"$BENCH" --target="$TARGET" --judge=sim --rubric=text --criteria=8 \
  --concurrency=32 --duration_s="$DURATION" --warmup_s=0 --deadline_ms=5000 \
  --distinct_prompts=0 --json_out="$WORK/bench.json" >"$WORK/bench.log" 2>&1 &
BPID=$!
PIDS+=($BPID)

echo "t_s rss_kib fds"
: >"$WORK/samples"
start=$(date +%s)
while kill -0 "$BPID" 2>/dev/null; do
  sleep "$INTERVAL"
  t=$(( $(date +%s) - start ))
  rss=$(awk '/VmRSS/ {print $2}' /proc/$RPID/status)
  fds=$(ls /proc/$RPID/fd | wc -l)
  echo "$t $rss $fds" | tee -a "$WORK/samples"
done
wait "$BPID" || true
kill -0 "$RPID" || { echo "FAIL  rewardd died"; cat "$WORK/rewardd.log" | tail; exit 1; }

/usr/bin/python3 - "$WORK/samples" "$WARMUP" "$RSS_MARGIN" "$FD_MARGIN" "$WORK/bench.json" <<'PY'
import json, sys
rows = [tuple(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
warm, rss_margin, fd_margin = int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
after = [r for r in rows if r[0] >= warm]
ok = True
if len(after) < 3:
    print("FAIL  too few samples after warm-up"); sys.exit(1)
base_rss = after[0][1]; peak_rss = max(r[1] for r in after); last_rss = after[-1][1]
base_fd = after[0][2]; peak_fd = max(r[2] for r in after)
growth = (last_rss - base_rss) / base_rss
print(f"rss after warm-up {base_rss} KiB, last {last_rss} KiB, peak {peak_rss} KiB, growth {growth:+.1%} (limit {rss_margin:.0%})")
print(f"fds after warm-up {base_fd}, peak {peak_fd} (limit +{fd_margin})")
b = json.load(open(sys.argv[5]))
print("load:", json.dumps({k: b.get(k) for k in ("calls", "ok", "errors", "throughput") if k in b}))
if growth > rss_margin: print("FAIL  RSS grew"); ok = False
else: print("PASS  RSS bounded")
if peak_fd > base_fd + fd_margin: print("FAIL  fds grew"); ok = False
else: print("PASS  fds bounded")
sys.exit(0 if ok else 1)
PY

#!/usr/bin/env bash
# Side-by-side comparison of two rewardd binaries (say, before and after a
# change) on the shapes of bench scenarios 1a and 2, alternating round after
# round so that the host's noise hits both alike (docs/benchmarks.md).
#
#   bench/compare.sh overhead OLD_REWARDD NEW_REWARDD [rounds]
#       scenario 1a's shape (embedded judge, 20 checks, rubric by reference),
#       closed loop at saturation: calls/s and rewardd CPU per call for
#       OLD, NEW and bare-server.
#   bench/compare.sh judge OLD_REWARDD NEW_REWARDD [rounds]
#       scenario 2's shape (judge-sim L = 200 ms, C = 256, per_criterion):
#       judge calls/s and rewardd CPU per judge call.
#   bench/compare.sh seed OLD_REWARDD NEW_REWARDD [rounds]
#       scenario 9a's shape (all_in_one: one judge call per graded response,
#       20 criteria, 2 KB distinct responses, rubric by reference, 2C in
#       flight against judge-sim L = 200 ms, C = 256): judge calls/s,
#       rewardd CPU per graded response, and after each run the HTTP floor
#       (http-floor-bench, same body size, C in flight) and the ratio.
#   bench/compare.sh gateway OLD_REWARDD NEW_REWARDD [rounds]
#       scenario 8b's shape (scenario 1a's work over the HTTP/JSON gateway:
#       gateway-bench, 32 keep-alive connections posting /v1/grade): calls/s
#       and rewardd CPU per call for OLD and NEW, each round followed by
#       reward-bench's gRPC unary calls on NEW (64 in flight, 2 channels)
#       and each HTTP figure over that gRPC figure.
#
# The other binaries (reward-bench, bare-server, judge-sim) come from
# BUILD_DIR (default build-perf). Prints one line per run, then the means.
set -euo pipefail
mode="${1:?overhead, judge, seed or gateway}"
old="$(realpath "${2:?old rewardd}")"
new="$(realpath "${3:?new rewardd}")"
rounds="${4:-3}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="$(realpath "${BUILD_DIR:-${here}/../build-perf}")"
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Starts "$@" in the background; its port is read from $work/$name.port.
start() {
  local name="$1"
  shift
  nice -n -10 "$@" --port_file="$work/$name.port" >"$work/$name.log" 2>&1 &
  pids+=($!)
  eval "${name}_pid=$!"
  for _ in $(seq 200); do
    [[ -s "$work/$name.port" ]] && break
    sleep 0.05
  done
  eval "${name}_port=$(cat "$work/$name.port")"
}

report() {  # label json [floor json]: one line from reward-bench's JSON
  /usr/bin/python3 - "$1" "$2" "$mode" "${3:-}" <<'EOF' | tee -a "$work/lines"
import json, sys
label, path, mode, floor = sys.argv[1:5]
r = json.load(open(path))
if mode == "seed":
    done = r["judge_stats"]["completed"]
    cpu = r["server_cpu_seconds"] / max(1, r["items"]) * 1e6
    f = json.load(open(floor))["cpu_us_per_call"]
    print("%-4s judge calls/s %7.1f  rewardd CPU/response %6.1f us  floor "
          "%6.1f us  over floor %5.2f" % (label, done / r["measured_seconds"],
                                          cpu, f, cpu / f))
elif mode == "judge":
    done = r["judge_stats"]["completed"]
    print("%-4s judge calls/s %7.1f  rewardd CPU/judge call %6.1f us" % (
        label, done / r["measured_seconds"],
        r["server_cpu_seconds"] / max(1, done) * 1e6))
else:
    line = "%-4s calls/s %8.0f  server CPU/call %5.1f us" % (
        label, r["calls_per_second"],
        r["server_cpu_seconds"] / max(1, r["calls"]) * 1e6)
    if floor:  # gateway mode: over the same round's gRPC unary figure
        line += "  over grpc %5.3f" % (
            r["calls_per_second"] / json.load(open(floor))["calls_per_second"])
    print(line)
EOF
}

if [[ "$mode" == overhead ]]; then
  common=(--criteria=20 --response_bytes=1500 --distinct_prompts=64
          --group_size=16)
  mkdir -p "$work/rubrics"
  "$build/bench/reward-bench" --write_rubric_set="$work/rubrics/benchset.jsonl" \
    "${common[@]}" >/dev/null
  for who in old new; do
    bin="$old"; [[ "$who" == new ]] && bin="$new"
    start "$who" "$bin" --listen=127.0.0.1:0 --rubric_dir="$work/rubrics" \
      --rubric_poll_seconds=0 --metrics_listen=127.0.0.1:0
  done
  start bare "$build/bench/bare-server" --listen=127.0.0.1:0 --criteria=20
  for r in $(seq "$rounds"); do
    for who in old new bare; do
      pid_var="${who}_pid"; port_var="${who}_port"
      nice -n -10 "$build/bench/reward-bench" --target="127.0.0.1:${!port_var}" \
        "${common[@]}" --rubric=checks_ref --rubric_set=benchset --channels=2 \
        --concurrency=64 --warmup_s=0.5 --duration_s=4 \
        --server_pid="${!pid_var}" --json_out="$work/$who.json" >/dev/null
      report "$who" "$work/$who.json"
    done
  done
elif [[ "$mode" == gateway ]]; then
  common=(--criteria=20 --response_bytes=1500 --distinct_prompts=64
          --group_size=16)
  work_flags=("${common[@]}" --rubric=checks_ref --rubric_set=benchset)
  mkdir -p "$work/rubrics"
  "$build/bench/reward-bench" --write_rubric_set="$work/rubrics/benchset.jsonl" \
    "${common[@]}" >/dev/null
  "$build/bench/reward-bench" --shape=unary --count=1024 \
    --write_requests="$work/unary.jsonl" "${work_flags[@]}" >/dev/null
  for who in old new; do
    bin="$old"; [[ "$who" == new ]] && bin="$new"
    start "$who" "$bin" --listen=127.0.0.1:0 --rubric_dir="$work/rubrics" \
      --rubric_poll_seconds=0 --metrics_listen=127.0.0.1:0 \
      --http_listen=127.0.0.1:0 --http_port_file="$work/$who.http_port"
    for _ in $(seq 200); do
      [[ -s "$work/$who.http_port" ]] && break
      sleep 0.05
    done
  done
  for r in $(seq "$rounds"); do
    nice -n -10 "$build/bench/reward-bench" --target="127.0.0.1:$new_port" \
      "${work_flags[@]}" --shape=unary --channels=2 --concurrency=64 \
      --warmup_s=0.5 --duration_s=4 --server_pid="$new_pid" \
      --json_out="$work/grpc.json" >/dev/null
    report grpc "$work/grpc.json"
    for who in old new; do
      pid_var="${who}_pid"
      nice -n -10 "$build/bench/gateway-bench" \
        --http_target="127.0.0.1:$(cat "$work/$who.http_port")" \
        --requests="$work/unary.jsonl" --connections=32 --warmup_s=0.5 \
        --duration_s=4 --server_pid="${!pid_var}" \
        --json_out="$work/$who.json" >/dev/null
      report "$who" "$work/$who.json" "$work/grpc.json"
    done
  done
elif [[ "$mode" == judge || "$mode" == seed ]]; then
  grading=per_criterion
  work_flags=(--rubric=text --criteria=20 --response_bytes=1500 --skip_cache
              --concurrency=26)
  rw_flags=()
  if [[ "$mode" == seed ]]; then
    grading=all_in_one
    mkdir -p "$work/rubrics"
    /usr/bin/python3 "$here/gen_rubrics.py" --rubrics=1000 --criteria=20 \
      --out="$work/rubrics/seed.jsonl" >/dev/null
    rw_flags=(--rubric_dir="$work/rubrics")
    work_flags=(--rubric=ref --rubric_set=seed --rubric_count=1000
                --criteria=20 --response_bytes=2000 --group_size=16
                --channels=2 --concurrency=512)
  fi
  seed=0
  for r in $(seq "$rounds"); do
    for who in old new; do
      bin="$old"; [[ "$who" == new ]] && bin="$new"
      nice -n -10 "$build/tools/judge-sim/judge-sim" --port=0 --capacity=256 \
        --latency_ms=200 --jitter_ms=20 >"$work/sim.log" 2>&1 &
      sim=$!
      for _ in $(seq 200); do
        grep -q "listening on" "$work/sim.log" && break
        sleep 0.05
      done
      url="http://$(grep -o 'listening on [^ ]*' "$work/sim.log" | cut -d' ' -f3)"
      cat >"$work/judges.json" <<EOF
{"default": "sim", "cache_max_bytes": 268435456, "judges": [{"name": "sim",
 "model": "judge-sim", "replicas": ["$url/v1"], "mode": "$grading",
 "timeout_ms": 60000, "pool": {"max_queue_size": 1000000,
 "max_in_flight_per_replica": 256}}]}
EOF
      start rw "$bin" --listen=127.0.0.1:0 --judges_config="$work/judges.json" \
        --rubric_poll_seconds=0 --metrics_listen=127.0.0.1:0 "${rw_flags[@]}"
      # A new seed per run: distinct responses, whatever the cache holds.
      seed=$((seed + 1))
      nice -n -10 "$build/bench/reward-bench" --target="127.0.0.1:$rw_port" \
        "${work_flags[@]}" --judge=sim --grading_mode="$grading" \
        --seed="$seed" --warmup_s=2 --duration_s=8 --deadline_ms=60000 \
        --server_pid="$rw_pid" --judge_stats="$url" --judge_reset \
        --json_out="$work/$who.json" >/dev/null
      kill "$rw_pid"
      wait "$rw_pid" 2>/dev/null || true
      rm -f "$work/rw.port"
      if [[ "$mode" == seed ]]; then
        # The HTTP floor against the same judge, bodies of the size sent.
        body=$(/usr/bin/python3 -c "import json, sys
j = json.load(open(sys.argv[1]))['judge_stats']
print(j['prompt_bytes'] // max(1, j['calls']) + 150)" "$work/$who.json")
        nice -n -10 "$build/bench/http-floor-bench" --url="$url/v1" \
          --in_flight=256 --body_bytes="$body" --criteria=20 --warmup_s=2 \
          --duration_s=8 --json_out="$work/$who.floor.json" >/dev/null
      fi
      kill "$sim"
      wait "$sim" 2>/dev/null || true
      report "$who" "$work/$who.json" "$work/$who.floor.json"
    done
  done
else
  echo "mode must be overhead, judge, seed or gateway" >&2
  exit 2
fi
awk '{k=$1; n[k]++; for (i=2;i<=NF;i++) if ($i ~ /^[0-9.]+$/) v[k,i]+=$i; m=NF}
     END {for (k in n) {printf "%s mean:", k;
          for (i=2;i<=m;i++) if ((k,i) in v) printf " %.1f", v[k,i]/n[k];
          printf "  (%d runs)\n", n[k]}}' "$work/lines"

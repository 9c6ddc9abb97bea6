#!/usr/bin/env bash
# The demo: installs what is needed, builds, starts rewardd on the embedded
# judge with the example rubric sets, grades the example responses through
# the real gRPC client (reward-cli), prints the rewards, and stops the server.
#   scripts/run-demo.sh
#   REQUESTS=my.jsonl scripts/run-demo.sh     # your own requests
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD_DIR=${BUILD_DIR:-build}
REQUESTS=${REQUESTS:-examples/requests/demo.jsonl}

scripts/bootstrap.sh
scripts/build.sh rewardd reward-cli

REWARDD=$(find "$BUILD_DIR" -type f -name rewardd -perm -u+x | head -n1)
CLI=$(find "$BUILD_DIR" -type f -name reward-cli -perm -u+x | head -n1)
WORK=$(mktemp -d /tmp/rewardd-demo.XXXXXX)
cleanup() {
  if [[ -n "${PID:-}" ]] && kill -0 "$PID" 2>/dev/null; then
    kill -TERM "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== starting rewardd (embedded judge, rubric sets from examples/rubrics)"
"$REWARDD" --listen=127.0.0.1:0 --port_file="$WORK/port" \
  --rubric_dir="$ROOT/examples/rubrics" --metrics_listen=127.0.0.1:0 \
  --drain_grace_seconds=0 2>"$WORK/rewardd.log" &
PID=$!
for _ in $(seq 1 300); do
  [[ -s "$WORK/port" ]] && break
  kill -0 "$PID" 2>/dev/null || { cat "$WORK/rewardd.log"; exit 1; }
  sleep 0.05
done
TARGET=127.0.0.1:$(cat "$WORK/port")
"$CLI" health --target="$TARGET" --service=reward.v1.RewardService --wait_for_ready

echo
echo "== rubric sets loaded"
"$CLI" list --target="$TARGET"

echo
echo "== grading $REQUESTS through reward-cli (gRPC)"
"$CLI" grade --target="$TARGET" --input="$REQUESTS" --output="$WORK/results.jsonl" \
  --concurrency=8 --quiet

echo
echo "== rewards"
/usr/bin/python3 - "$WORK/results.jsonl" <<'PY'
import json, sys
print(f"{'request':<24} {'reward':>8} {'valid':>6}  {'score':>11}  criteria met")
for line in open(sys.argv[1]):
    r = json.loads(line)
    if "error" in r and not r.get("criteria"):
        print(f"{r.get('requestId', r.get('request_id', '?')):<24} ERROR {r['error']}")
        continue
    crit = r.get("criteria", [])
    met = sum(1 for c in crit if c.get("verdict") == "MET")
    print(f"{r.get('requestId', r.get('request_id')):<24} {r.get('reward', 0):>8.3f} "
          f"{str(r.get('valid', False)):>6}  {r.get('score', 0):>5g}/{r.get('maxScore', r.get('max_score', 0)):<5g}  "
          f"{met}/{len(crit)} ({r.get('rubricSet', r.get('rubric_set', 'inline')) or 'inline'}:{r.get('rubricId', r.get('rubric_id'))})")
PY
echo
echo "(the embedded judge decides 'check' criteria exactly and the others with a"
echo " lexical heuristic: fine for a demo and tests, not a substitute for an LLM judge)"

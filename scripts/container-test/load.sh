# The judged and loaded checks of scripts/container-test.sh (sourced; uses
# its globals and helpers.sh): an HTTP judge in its own container, `docker
# stop` with requests in flight, and replicas with one killed mid-run.

# rewardd on the judge-sim replicas at PORTS (a judges config in $WORK).
http_rewardd_container() {
  local name=$1 grpc=$2 metrics=$3 config=$WORK/judges-$1.json
  shift 3
  judges_config "$config" "$@"
  rewardd_container "$name" "$grpc" "$metrics" --read-only --tmpfs /tmp \
    -v "$config:/etc/rewardd/judges.json:ro" -- \
    --judges_config=/etc/rewardd/judges.json --drain_seconds=150
  wait_healthy "$name"
}

sim_stat() { curl -fsS "http://127.0.0.1:$1/stats" | jq -r ".$2"; }

# logged NAME TEXT: the container's log has TEXT (grep reads it all: with
# pipefail, an early exit would fail the pipeline through SIGPIPE).
logged() { docker logs "$1" 2>&1 | grep -F -- "$2" >/dev/null; }

# sim_at_least PORT FIELD N: judge-sim's /stats FIELD is at least N.
sim_at_least() { (($(sim_stat "$1" "$2") >= $3)); }

test_http_judge() {
  local sim grpc metrics calls
  free_port sim
  free_port grpc
  free_port metrics
  # Shared with test_replicas: a little latency so that calls overlap.
  SIM_PORT=$sim
  judge_sim_container "judge-sim-$RUN_ID" "$sim" --latency_ms=100 --capacity=256
  http_rewardd_container "rewardd-http-$RUN_ID" "$grpc" "$metrics" "$sim"
  cli grade --target="127.0.0.1:$grpc" --quiet <examples/requests/demo.jsonl \
    >"$WORK/http.jsonl" || fail "grading through the HTTP judge failed"
  check_results examples/requests/demo.jsonl "$WORK/http.jsonl" "HTTP judge"
  [[ $(jq -s 'map(select(.valid == true)) | length' "$WORK/http.jsonl") -gt 0 ]] ||
    fail "no valid result through the HTTP judge"
  calls=$(sim_stat "$sim" completed)
  ((calls > 0)) || fail "judge-sim answered no call"
  [[ $(metric "$metrics" rewardd_judge_calls_total 'judge="sim"' 'outcome="ok"') -eq $calls ]] ||
    fail "rewardd's judge call count differs from judge-sim's $calls"
  echo "graded through judge-sim in its container: $calls judge calls, counted on both sides"
  docker rm -f "rewardd-http-$RUN_ID" >/dev/null
}

# `docker stop` while every request waits at the judge: each one must be
# answered and rewardd must exit 0. A judge with one slot answers the calls
# one after another, so most are still waiting when the drain starts; if a
# slow host let all of them finish first, the round is repeated with a
# slower judge (nothing is asserted about time).
test_stop_under_load() {
  local n=24 latency round sim grpc metrics client stopper done_at_drain name
  unique_requests "$n" "$WORK/load.jsonl"
  for round in 1 2 3; do
    latency=$((250 << (round - 1)))
    name=rewardd-stop$round-$RUN_ID
    free_port sim
    free_port grpc
    free_port metrics
    # Threads for every request: each one is at the judge (counted in
    # calls), waiting for the one slot.
    judge_sim_container "judge-sim-stop$round-$RUN_ID" "$sim" --capacity=1 --threads=$((n + 8)) \
      --latency_ms="$latency"
    http_rewardd_container "$name" "$grpc" "$metrics" "$sim"
    cli grade --target="127.0.0.1:$grpc" --concurrency=$n --max_attempts=1 --quiet \
      <"$WORK/load.jsonl" >"$WORK/load-out.jsonl" &
    client=$!
    wait_for 120 "$n requests at the judge" sim_at_least "$sim" calls "$n"
    docker stop -t 170 "$name" >/dev/null &
    stopper=$!
    wait_for 60 "rewardd to start draining" logged "$name" '"event":"draining"'
    done_at_drain=$(sim_stat "$sim" completed)
    wait "$stopper" || fail "docker stop $name failed"
    wait "$client" || fail "reward-cli reported failed requests across docker stop"
    check_results "$WORK/load.jsonl" "$WORK/load-out.jsonl" "docker stop under load"
    [[ $(docker inspect -f '{{.State.ExitCode}}' "$name") == 0 ]] ||
      fail "rewardd exited $(docker inspect -f '{{.State.ExitCode}}' "$name") on docker stop"
    logged "$name" '"in_flight_cancelled":"0"' ||
      fail "rewardd cancelled requests at the end of its drain: $(docker logs "$name" 2>&1 | grep drained)"
    if ((done_at_drain < n)); then
      echo "docker stop: $((n - done_at_drain)) of $n requests were still at the judge when" \
        "rewardd began draining; all $n answered, exit status 0"
      return 0
    fi
    echo "round $round: every request was answered before the drain began; again with a slower judge"
  done
  fail "the stop never landed while requests were in flight (3 rounds)"
}

# Three replicas, reward-cli round-robin over them (one channel, gRPC's
# round_robin, UNAVAILABLE retried), one killed with SIGKILL while requests
# are in flight on it: every request is answered exactly once, none fails.
test_replicas() {
  local n=450 i grpc metrics targets="" client before_kill in_flight total=0
  local -a grpcs=() metricss=()
  unique_requests "$n" "$WORK/replicas.jsonl"
  for i in 1 2 3; do
    free_port grpc
    free_port metrics
    grpcs+=("$grpc")
    metricss+=("$metrics")
    targets+="${targets:+,}127.0.0.1:$grpc"
    http_rewardd_container "rewardd-r$i-$RUN_ID" "$grpc" "$metrics" "$SIM_PORT"
  done
  cli grade --target="$targets" --concurrency=30 --max_attempts=5 --quiet \
    <"$WORK/replicas.jsonl" >"$WORK/replicas-out.jsonl" &
  client=$!
  # Kill replica 2 once it has answered some requests, i.e. mid-run.
  wait_for 120 "replica 2 to answer 20 requests" \
    replica_answered_at_least "${metricss[1]}" 20
  in_flight=$(metric "${metricss[1]}" rewardd_requests_in_flight)
  before_kill=$(metric "${metricss[1]}" rewardd_requests_total 'code="OK"')
  docker kill "rewardd-r2-$RUN_ID" >/dev/null
  wait "$client" || fail "reward-cli reported failed requests after a replica was killed"
  check_results "$WORK/replicas.jsonl" "$WORK/replicas-out.jsonl" "replicas"
  [[ $(jq -r '.request_id // .requestId' "$WORK/replicas-out.jsonl" | sort | uniq -d) == "" ]] ||
    fail "replicas: a request was answered twice"
  for i in 0 2; do
    total=$((total + $(metric "${metricss[i]}" rewardd_requests_total 'code="OK"')))
  done
  ((total > 0 && before_kill > 0)) || fail "replicas: the requests were not spread"
  echo "replicas: $before_kill answered by replica 2 before its kill ($in_flight in flight" \
    "just before), $total by the other two; all $n answered once"
}

replica_answered_at_least() {
  (($(metric "$1" rewardd_requests_total 'code="OK"') >= $2))
}

# Helpers of scripts/container-test.sh (sourced; uses its globals): failure
# reporting, step timing, free ports, waiting for conditions, reading
# /metrics, starting containers and running the image's reward-cli.

fail() {
  echo "container-test: FAIL: $*" >&2
  exit 1
}

# timed NAME COMMAND...: runs a step and prints how long it took.
timed() {
  local name=$1 start=$SECONDS
  shift
  echo "== container-test: $name"
  "$@"
  echo "== container-test: $name passed in $((SECONDS - start)) s"
}

# docker, as the engine's own CLI (Debian's /usr/bin/docker when present: a
# newer CLI elsewhere on PATH may want plugins this engine lacks).
docker() { "$DOCKER_BIN" "$@"; }

# free_port VAR: a loopback TCP port no socket uses (listening or connected,
# from /proc/net/tcp*), below the kernel's ephemeral range so that no
# outgoing connection takes it before the container binds it, and not handed
# out before.
USED_PORTS=" "
free_port() {
  local p hex low
  read -r low _ </proc/sys/net/ipv4/ip_local_port_range
  ((low > 12000)) || fail "the ephemeral port range starts at $low; no room below it"
  for _ in $(seq 1 500); do
    p=$((10000 + RANDOM % (low - 10000)))
    [[ $USED_PORTS == *" $p "* ]] && continue
    printf -v hex ':%04X ' "$p"
    if ! grep -qF "$hex" /proc/net/tcp /proc/net/tcp6 2>/dev/null; then
      USED_PORTS+="$p "
      printf -v "$1" '%s' "$p"
      return 0
    fi
  done
  fail "found no free loopback port"
}

# wait_for SECONDS WHAT COMMAND...: polls COMMAND until it succeeds. The
# bound only keeps a broken run from hanging; nothing is timed.
wait_for() {
  local limit=$1 what=$2
  shift 2
  local end=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < end)) || fail "gave up after ${limit} s waiting for $what"
    sleep 0.3
  done
}

# metric PORT QUERY: the sum of the samples of a metric on rewardd's
# /metrics; QUERY is a name, optionally followed by label matchers that must
# all appear, e.g. 'rewardd_judge_calls_total judge="sim" outcome="ok"'.
metric() {
  local port=$1 name=$2
  shift 2
  curl -fsS "http://127.0.0.1:$port/metrics" | awk -v name="$name" -v want="$*" '
    BEGIN { n = split(want, w, " ") }
    $1 == name || index($1, name "{") == 1 {
      for (i = 1; i <= n; i++) if (index($1, w[i]) == 0) next
      sum += $NF
    }
    END { printf "%d\n", sum }'
}

# container_health NAME: Docker's health status of a container (empty when
# the image has no HEALTHCHECK).
container_health() {
  docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$1"
}

# wait_healthy NAME: waits until Docker reports NAME healthy (the image's own
# HEALTHCHECK); fails with the container's log if it stops or turns unhealthy.
wait_healthy() {
  local name=$1 end=$((SECONDS + 180)) status
  while :; do
    status=$(container_health "$name")
    [[ $status == healthy ]] && return 0
    if [[ $(docker inspect -f '{{.State.Running}}' "$name") != true ||
      $status == unhealthy ]]; then
      docker logs "$name" 2>&1 | tail -n 30 >&2
      fail "container $name is ${status:-not running} instead of healthy"
    fi
    ((SECONDS < end)) || fail "container $name not healthy after 180 s ($status)"
    sleep 0.5
  done
}

# rewardd_container NAME GRPC_PORT METRICS_PORT [docker args] -- [rewardd
# flags]: starts a detached rewardd container on the host's network.
rewardd_container() {
  local name=$1 grpc=$2 metrics=$3
  shift 3
  local docker_args=()
  while (($#)) && [[ $1 != -- ]]; do docker_args+=("$1"); shift; done
  (($#)) && shift
  docker run -d --name "$name" --label "$LABEL" --network=host \
    --env REWARDD_HEALTH_TARGET="127.0.0.1:$grpc" --health-interval=1s \
    ${docker_args[@]+"${docker_args[@]}"} "$IMG" \
    --listen="127.0.0.1:$grpc" --metrics_listen="127.0.0.1:$metrics" \
    --rubric_dir=/etc/rewardd/rubrics "$@" >/dev/null
}

# judge_sim_container NAME PORT [judge-sim flags]: a detached judge-sim.
judge_sim_container() {
  local name=$1 port=$2
  shift 2
  docker run -d --name "$name" --label "$LABEL" --network=host --read-only \
    "$SIM_IMG" --host=127.0.0.1 --port="$port" "$@" >/dev/null
  wait_for 60 "judge-sim $name on port $port" curl -fsS "http://127.0.0.1:$port/stats"
}

# judges_config FILE PORT...: a judges config whose default judge "sim" is
# the judge-sim replicas on these loopback ports.
judges_config() {
  local file=$1 replicas="" p
  shift
  for p in "$@"; do replicas+="${replicas:+, }\"http://127.0.0.1:$p/v1\""; done
  cat >"$file" <<EOF
{"default": "sim", "cache_max_bytes": 0,
 "judges": [{"name": "sim", "type": "openai", "replicas": [$replicas],
             "model": "judge-sim", "timeout_ms": 30000}]}
EOF
  chmod 0644 "$file"
}

# cli ARGS...: the image's reward-cli on the host's network; stdin and
# stdout pass through (grade reads requests on stdin, writes results out).
cli() {
  docker run --rm -i --label "$LABEL" --network=host \
    --entrypoint /usr/local/bin/reward-cli "$IMG" "$@"
}

# unique_requests N FILE: N requests made from the demo's, each with its own
# request_id and response text (so the verdict cache cannot answer them).
unique_requests() {
  local n=$1 out=$2
  jq -c --argjson n "$n" -s '
    . as $d | range(0; $n) as $i | $d[$i % ($d | length)]
    | .request_id = "\(.request_id)-\($i)" | .response = "\(.response) (\($i))"' \
    "$ROOT/examples/requests/demo.jsonl" >"$out"
}

# check_results REQUESTS RESULTS WHAT: one result per request, in order, with
# the same request_id, and no error (neither a failed call nor an item error).
check_results() {
  local requests=$1 results=$2 what=$3
  local want got bad
  want=$(jq -r .request_id "$requests")
  got=$(jq -r '.request_id // .requestId // "?"' "$results") ||
    fail "$what: results are not JSON lines: $(head -c 300 "$results")"
  bad=$(jq -c 'select(.error != null and .error != {})' "$results" | head -n 3)
  [[ -z $bad ]] || fail "$what: failed results, e.g. $bad"
  [[ $want == "$got" ]] || fail "$what: result ids differ from request ids
$(diff <(echo "$want") <(echo "$got") | head -n 10)"
  echo "$what: $(grep -c . "$results") results, one per request, no error"
}

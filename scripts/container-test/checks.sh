# The checks of scripts/container-test.sh (sourced; uses its globals and
# helpers.sh). Each function is one step; any failure exits through fail().

# stamp: prefixes each line with the time of day (the build log then shows
# how long bootstrap and the compile took).
stamp() { while IFS= read -r line; do printf '%(%T)T %s\n' -1 "$line"; done; }

build_images() {
  local start=$SECONDS
  docker build --network=host -t "$IMG" . 2>&1 | stamp >"$WORK/build.log" || {
    tail -n 40 "$WORK/build.log" >&2
    fail "docker build of the rewardd image failed (log above)"
  }
  BUILT_IMAGES+=("$IMG")
  echo "rewardd image built in $((SECONDS - start)) s; its steps:"
  grep -E '^[0-9:]+ Step [0-9]+/' "$WORK/build.log" | cut -c1-100
  # Same Dockerfile: every layer up to judge-sim is cached by now.
  docker build --network=host --target=judge-sim -t "$SIM_IMG" . \
    >"$WORK/build-sim.log" 2>&1 || {
    tail -n 40 "$WORK/build-sim.log" >&2
    fail "docker build --target=judge-sim failed (log above)"
  }
  BUILT_IMAGES+=("$SIM_IMG")
  start=$SECONDS
  docker build --network=host -t "$PROM_IMG" deploy/compose/prometheus \
    >"$WORK/build-prom.log" 2>&1 || {
    tail -n 40 "$WORK/build-prom.log" >&2
    fail "docker build of deploy/compose/prometheus failed (log above)"
  }
  BUILT_IMAGES+=("$PROM_IMG")
  echo "prometheus image built in $((SECONDS - start)) s"
}

# The runtime image: what it contains and how it is configured.
check_image() {
  docker history "$IMG"
  local size base
  size=$(docker image inspect -f '{{.Size}}' "$IMG")
  base=$(docker image inspect -f '{{.Size}}' debian:bookworm-slim)
  echo "rewardd image: $((size / 1048576)) MiB, $(((size - base) / 1048576)) MiB over debian:bookworm-slim"
  [[ $(docker image inspect -f '{{.Config.User}}' "$IMG") == 65532:65532 ]] ||
    fail "the image's user is not 65532:65532"
  [[ -n $(docker image inspect -f '{{if .Config.Healthcheck}}{{.Config.Healthcheck.Test}}{{end}}' "$IMG") ]] ||
    fail "the image has no HEALTHCHECK"
  # Inside: no compiler or build tool, no docs beyond copyright files, no man
  # pages, no apt lists or package cache; every shared library resolves.
  local report
  report=$(docker run --rm --user 0 --entrypoint /bin/sh "$IMG" -c '
    for t in gcc g++ cc c++ clang make cmake ninja ld as; do
      command -v "$t" >/dev/null && echo "build tool: $t"
    done
    find /usr/share/doc -type f ! -name copyright | head -n 3 | sed "s/^/doc: /"
    find /usr/share/man /usr/share/info -type f | head -n 3 | sed "s/^/doc: /"
    find /var/lib/apt/lists -type f ! -name lock | head -n 3 | sed "s/^/apt list: /"
    find /var/cache/apt -name "*.deb" -o -name "*.bin" | head -n 3 | sed "s/^/apt cache: /"
    for b in /usr/local/bin/*; do
      ldd "$b" | grep "not found" | sed "s|^|$b: |"
    done') || fail "could not inspect the image's files"
  [[ -z $report ]] || fail "the runtime image has what it should not:
$report"
  echo "no build tools, docs, apt lists or package cache; every library resolves"
  report=$(docker run --rm --entrypoint /bin/sh "$SIM_IMG" -c \
    'ldd /usr/local/bin/judge-sim | grep "not found"') && fail "judge-sim image: $report"
  return 0
}

# One rewardd on the embedded judge, as locked down as a cluster runs it.
test_single() {
  local name=rewardd-$RUN_ID grpc metrics n port served
  free_port grpc
  free_port metrics
  rewardd_container "$name" "$grpc" "$metrics" \
    --read-only --tmpfs /tmp:rw,nosuid,nodev,size=1m \
    --cap-drop=ALL --security-opt=no-new-privileges -- \
    --port_file=/tmp/rewardd.port --metrics_port_file=/tmp/metrics.port
  wait_healthy "$name"
  echo "docker reports the container healthy (the image's HEALTHCHECK)"
  for service in "" reward.v1.RewardService; do
    [[ $(cli health --target="127.0.0.1:$grpc" --service="$service") == SERVING ]] ||
      fail "health of '$service' is not SERVING"
  done
  echo "gRPC health: SERVING ('' and reward.v1.RewardService)"

  cli grade --target="127.0.0.1:$grpc" --quiet \
    <examples/requests/demo.jsonl >"$WORK/demo.jsonl" || fail "reward-cli grade of the demo failed"
  check_results examples/requests/demo.jsonl "$WORK/demo.jsonl" "demo"
  jq -r '"  \(.request_id // .requestId): reward \(.reward // 0) valid \(.valid // false)"' \
    "$WORK/demo.jsonl"

  n=$(metric "$metrics" rewardd_requests_total 'code="OK"') || fail "no /metrics on port $metrics"
  ((n >= $(grep -c . examples/requests/demo.jsonl))) ||
    fail "/metrics counts $n OK requests, fewer than the demo's"
  echo "/metrics served: rewardd_requests_total{code=\"OK\"} = $n"

  local pid uid
  pid=$(docker inspect -f '{{.State.Pid}}' "$name")
  uid=$(awk '/^Uid:/ {print $2 ":" $3} /^Gid:/ {print $2 ":" $3}' "/proc/$pid/status" | paste -sd' ')
  [[ $uid == "65532:65532 65532:65532" ]] || fail "rewardd runs as uid/gid $uid, not 65532"
  echo "rewardd runs as uid 65532, gid 65532 (read from /proc)"

  # The root filesystem refuses writes; the port files went to the tmpfs.
  docker exec "$name" /bin/sh -c 'echo x > /etc/rewardd/x' 2>/dev/null &&
    fail "the root filesystem is writable despite --read-only"
  port=$(docker exec "$name" cat /tmp/rewardd.port)
  served=$(docker exec "$name" cat /tmp/metrics.port)
  [[ $port == "$grpc" && $served == "$metrics" ]] ||
    fail "port files on the tmpfs say $port/$served, not $grpc/$metrics"
  echo "read-only root filesystem; rewardd wrote its port files to the /tmp tmpfs"

  docker stop -t 40 "$name" >/dev/null
  [[ $(docker inspect -f '{{.State.ExitCode}}' "$name") == 0 ]] ||
    fail "rewardd exited $(docker inspect -f '{{.State.ExitCode}}' "$name") on docker stop"
  docker rm "$name" >/dev/null
  echo "docker stop: exit status 0"
}

# The Docker engine of scripts/container-test.sh (sourced): packages, a
# private dockerd when no engine answers, and cleanup of everything the test
# made.

ensure_packages() {
  local need=() cmd pkg
  for cmd in dockerd:docker.io docker-compose:docker-compose \
    debootstrap:debootstrap curl:curl jq:jq; do
    pkg=${cmd#*:}
    command -v "${cmd%%:*}" >/dev/null || need+=("$pkg")
  done
  if ((${#need[@]})); then
    [[ $(id -u) -eq 0 ]] || fail "needs root to install ${need[*]}"
    echo "installing ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${need[@]}" >/dev/null || fail "apt-get install ${need[*]} failed"
  fi
  DOCKER_BIN=/usr/bin/docker
  [[ -x $DOCKER_BIN ]] || DOCKER_BIN=$(command -v docker) ||
    fail "no docker CLI (package docker.io)"
}

# Uses the engine that answers (DOCKER_HOST, or the default socket); starts a
# private one otherwise.
ensure_engine() {
  if docker version >/dev/null 2>&1; then
    echo "using the running engine (${DOCKER_HOST:-default socket})"
    return 0
  fi
  [[ -z ${DOCKER_HOST:-} ]] || fail "DOCKER_HOST=$DOCKER_HOST does not answer"
  [[ $(id -u) -eq 0 ]] || fail "starting a private dockerd needs root"
  local d=$WORK/dockerd
  mkdir -p "$d/data" "$d/exec"
  # No bridge and no iptables rules: containers use the host's network (or a
  # user-defined network), and the host's firewall is left alone.
  dockerd --iptables=false --bridge=none --host="unix://$d/docker.sock" \
    --data-root="$d/data" --exec-root="$d/exec" --pidfile="$d/docker.pid" \
    >"$d/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  export DOCKER_HOST=unix://$d/docker.sock
  local end=$((SECONDS + 60))
  until docker version >/dev/null 2>&1; do
    if ! kill -0 "$DOCKERD_PID" 2>/dev/null || ((SECONDS >= end)); then
      tail -n 20 "$d/dockerd.log" >&2
      fail "the private dockerd did not start (log above)"
    fi
    sleep 0.3
  done
  echo "started a private dockerd (pid $DOCKERD_PID, $DOCKER_HOST)"
}

stop_private_engine() {
  [[ -n $DOCKERD_PID ]] || return 0
  kill -TERM "$DOCKERD_PID" 2>/dev/null
  local end=$((SECONDS + 60))
  while kill -0 "$DOCKERD_PID" 2>/dev/null && ((SECONDS < end)); do sleep 0.3; done
  if kill -0 "$DOCKERD_PID" 2>/dev/null; then
    echo "container-test: dockerd ignored SIGTERM; killing it" >&2
    kill -KILL "$DOCKERD_PID" 2>/dev/null
  fi
  wait "$DOCKERD_PID" 2>/dev/null
  # Mounts a killed engine may leave (overlays, shm), deepest first, so that
  # removing the directory never reaches into a container's filesystem.
  awk -v d="$WORK/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null; done
  DOCKERD_PID=""
}

# Runs on every exit: removes the test's containers, compose project,
# networks and images, stops the private engine, deletes the temp dir.
cleanup() {
  local rc=$?
  set +e
  trap - EXIT
  if [[ -n ${DOCKER_BIN:-} ]] && docker version >/dev/null 2>&1; then
    [[ -n $COMPOSE_UP ]] && compose down -v --remove-orphans >/dev/null 2>&1
    local ids
    mapfile -t ids < <(docker ps -aq --filter "label=$LABEL")
    ((${#ids[@]})) && docker rm -f "${ids[@]}" >/dev/null
    mapfile -t ids < <(docker network ls -q --filter "label=$LABEL")
    ((${#ids[@]})) && docker network rm "${ids[@]}" >/dev/null
    ((${#BUILT_IMAGES[@]})) && docker rmi -f "${BUILT_IMAGES[@]}" >/dev/null 2>&1
  fi
  stop_private_engine
  rm -rf "$WORK"
  if ((rc != 0)); then echo "container-test: failed (exit $rc)" >&2; fi
  exit "$rc"
}

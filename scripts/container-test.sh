#!/usr/bin/env bash
# Builds rewardd's container images from source and proves them on a real
# Docker engine (CI's last phase; docs/deploy.md#what-ci-proves):
#   1. the images: rewardd (the Dockerfile's default stage), judge-sim
#      (--target=judge-sim) and the compose stack's Prometheus; the runtime
#      image has no build tools, docs or apt lists, every shared library
#      resolves, and a HEALTHCHECK;
#   2. one rewardd container, read-only root and a tmpfs on /tmp: Docker
#      reports it healthy, gRPC health is SERVING, the demo requests are graded
#      through the image's reward-cli, /metrics is served, it runs as uid 65532;
#   3. an HTTP-judged request through a judge-sim container, then `docker
#      stop` with requests in flight: each one is answered, exit status 0;
#   4. three replicas, reward-cli round-robin over them, one `docker kill`ed
#      mid-run: every request answered exactly once, no error;
#   5. deploy/compose: up, grade through judge-sim, Prometheus returns rewardd's
#      series and has the project's rules, down.
# Containers use the host's network on loopback (the private engine has no
# bridge for them) and free ports picked at start.
#
#   scripts/container-test.sh          # as root, on Debian bookworm
#   DOCKER_HOST=unix:///run/x.sock scripts/container-test.sh   # that engine
#
# Installs docker.io, docker-compose, debootstrap, curl and jq when missing.
# Uses the engine DOCKER_HOST (or the default socket) names when it answers;
# otherwise starts a private dockerd (own socket, data and exec roots in a
# temp dir; --iptables=false --bridge=none) and stops it at the end. Makes the
# local debian:bookworm(-slim) base when missing (scripts/make-base-image.sh).
# Removes every container, network and image it made, also on failure.
# Exits non-zero with "container-test: FAIL: <reason>" when a check fails.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUN_ID=ctest-$$
LABEL=rewardd-container-test=$RUN_ID
IMG=rewardd:$RUN_ID
SIM_IMG=rewardd-judge-sim:$RUN_ID
PROM_IMG=rewardd-prometheus:$RUN_ID
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rewardd-ctest.XXXXXX")
chmod 0755 "$WORK"
DOCKERD_PID=""
COMPOSE_UP=""
BUILT_IMAGES=()
export DOCKER_BUILDKIT=0  # the classic builder: no frontend image to pull

# Helpers, the engine and cleanup, and the checks (one file each).
# shellcheck source=scripts/container-test/helpers.sh
source "$ROOT/scripts/container-test/helpers.sh"
# shellcheck source=scripts/container-test/engine.sh
source "$ROOT/scripts/container-test/engine.sh"
# shellcheck source=scripts/container-test/checks.sh
source "$ROOT/scripts/container-test/checks.sh"
# shellcheck source=scripts/container-test/load.sh
source "$ROOT/scripts/container-test/load.sh"
# shellcheck source=scripts/container-test/compose.sh
source "$ROOT/scripts/container-test/compose.sh"

main() {
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  timed "packages" ensure_packages
  timed "engine" ensure_engine
  timed "base image" env DOCKER="$DOCKER_BIN" scripts/make-base-image.sh
  timed "build images" build_images
  timed "image contents" check_image
  timed "single container" test_single
  timed "HTTP judge" test_http_judge
  timed "docker stop under load" test_stop_under_load
  timed "replicas" test_replicas
  timed "compose stack" test_compose
  echo "container-test: all checks passed in $SECONDS s"
}

main "$@"

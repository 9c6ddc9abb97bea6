#!/usr/bin/env bash
# Installs the Debian bookworm packages rewardd needs to build, test and run.
# Idempotent: packages already present are not reinstalled, and apt's package
# lists are refreshed only when something is missing.
#   scripts/bootstrap.sh               # build, test and develop
#   scripts/bootstrap.sh --build-only  # only what compiling needs (the
#                                      # Dockerfile's builder)
set -euo pipefail

BUILD_PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto
  libabsl-dev prometheus-cpp-dev libcurl4-openssl-dev nlohmann-json3-dev libsimdjson-dev
  libcpp-httplib-dev libssl-dev libyaml-cpp-dev libjemalloc-dev
  libgtest-dev libgmock-dev
)
# Tests, tools and development: Prometheus and promtool, the Python tests'
# gRPC and pytest, openssl (test certificates), ccache, clang-format,
# chromium (tail_report_test renders the HTML tail report headless),
# iproute2 (http_gateway_test reads the gateway's listen backlog with ss).
OTHER_PACKAGES=(
  ccache git prometheus python3-grpcio python3-protobuf python3-pytest openssl
  curl procps clang-format chromium iproute2
)
PACKAGES=("${BUILD_PACKAGES[@]}")
if [[ "${1:-}" != --build-only ]]; then PACKAGES+=("${OTHER_PACKAGES[@]}"); fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "bootstrap: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "bootstrap: installing ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "bootstrap: done"

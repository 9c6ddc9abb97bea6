#!/usr/bin/env bash
# Configures and builds rewardd with CMake + Ninja (+ ccache) into build/.
#   scripts/build.sh                 # RelWithDebInfo into build/
#   BUILD_DIR=build-asan SANITIZE=address scripts/build.sh
#   scripts/build.sh rewardd reward-cli   # only these targets
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo}
SANITIZE=${SANITIZE:-}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" \
    -DREWARDD_SANITIZE="$SANITIZE" >/dev/null
fi
ninja -C "$BUILD_DIR" "$@"

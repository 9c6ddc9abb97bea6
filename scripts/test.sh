#!/usr/bin/env bash
# Installs what the project needs (Debian packages), builds, and runs every
# test with ctest. Prints ctest's summary; exits non-zero if any test fails.
#   scripts/test.sh                    # everything
#   scripts/test.sh -L unit            # extra arguments go to ctest
#   scripts/test.sh --sanitize=address # ASan+UBSan build in build-asan/
#   scripts/test.sh --sanitize=thread -R 'dispatch|service'  # TSan, build-tsan/
#   REWARDD_BUILD_TARGETS=selected scripts/test.sh -R service
#       # builds only the executables of the tests that ctest selects
# Sanitizer runtime options and suppressions: scripts/sanitizers/.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" == --sanitize=* ]]; then
  # Sets BUILD_DIR, SANITIZE, SANITIZER_CTEST_ARGS and the *SAN_OPTIONS the
  # tests (and the rewardd processes they start) run with.
  source scripts/sanitizers/env.sh "${1#--sanitize=}"
  shift
fi
scripts/bootstrap.sh
targets=()
if [[ "${REWARDD_BUILD_TARGETS:-}" == selected ]]; then
  # Configure, ask ctest which tests the arguments select, and build just
  # their executables (ninja follows their dependencies, e.g. on rewardd).
  # Every test that runs a built program is named after its target; the
  # others (deploy_validation, promtool's check) have no target to build.
  scripts/build.sh build.ninja >/dev/null
  dir=${BUILD_DIR:-build}
  known=$(ninja -C "$dir" -t targets all | sed 's/:.*//')
  while read -r name; do
    if grep -qxF "$name" <<<"$known"; then targets+=("$name"); fi
  done < <(cd "$dir" && ctest -N "$@" | sed -n 's/^ *Test *#[0-9]*: //p')
  echo "test.sh: building ${targets[*]}"
fi
scripts/build.sh ${targets[@]+"${targets[@]}"}
cd "${BUILD_DIR:-build}"
ctest --output-on-failure --timeout 600 ${SANITIZER_CTEST_ARGS[@]+"${SANITIZER_CTEST_ARGS[@]}"} "$@"

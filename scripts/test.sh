#!/usr/bin/env bash
# Installs what the project needs (Debian packages), builds, and runs every
# test with ctest. Prints ctest's summary; exits non-zero if any test fails.
#   scripts/test.sh                    # everything
#   scripts/test.sh -L unit            # extra arguments go to ctest
#   scripts/test.sh --sanitize=address # ASan+UBSan build in build-asan/
#   scripts/test.sh --sanitize=thread -R 'dispatch|service'  # TSan, build-tsan/
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
scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure --timeout 600 ${SANITIZER_CTEST_ARGS[@]+"${SANITIZER_CTEST_ARGS[@]}"} "$@"

#!/usr/bin/env bash
# Installs what the project needs (Debian packages), builds, and runs every
# test with ctest. Prints ctest's summary; exits non-zero if any test fails.
#   scripts/test.sh                    # everything
#   scripts/test.sh -L unit            # extra arguments go to ctest
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure --timeout 600 "$@"

#!/usr/bin/env bash
# Runs the rewardd benchmark scenarios (see docs/benchmarks.md).
#
#   bench/run.sh --quick                   # a quick check, < 2 minutes
#   bench/run.sh --json out.json           # the full run, < 15 minutes
#   bench/run.sh --only 1,6 --keep         # some scenarios; keep the logs
#
# Needs a Release build with the bench targets (default build dir:
# build-bench; override with --build_dir):
#   cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release
#   ninja -C build-bench rewardd reward-bench bare-server judge-sim http-floor-bench gateway-bench rewardd_python
# Each scenario prints its ratio, its target and PASS/FAIL (or INFO when it
# has no target, SKIPPED with the reason when it cannot run here). Exit
# status 1 when any target failed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec /usr/bin/python3 "${here}/scenarios.py" "$@"

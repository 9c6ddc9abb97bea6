#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang, ASan and UBSan into
# build-fuzz/ and runs each for a given time, one after the other.
#   scripts/fuzz.sh 60                    # 60 s per target, every target
#   scripts/fuzz.sh 300 verdict_parser    # one target (or several)
#   JOBS=2 scripts/fuzz.sh 60             # build parallelism (default 2)
# A target starts from its committed corpus (fuzz/corpus/<t>/) plus what
# earlier runs found (build-fuzz/fuzz-work/<t>/, not committed). A crash,
# leak, timeout or sanitizer report stops that target and leaves the input in
# build-fuzz/fuzz-artifacts/<t>/; reproduce it with
#   build-fuzz/fuzz/<t>_fuzzer <file>
# and, once fixed, copy it into fuzz/corpus/<t>/ so the replay test
# (ctest -L fuzz) keeps it fixed. Exits non-zero if any target failed.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:?usage: scripts/fuzz.sh SECONDS [TARGET...]}
shift
BUILD_DIR=${BUILD_DIR:-build-fuzz}
JOBS=${JOBS:-2}
TARGETS=("$@")
if ((${#TARGETS[@]} == 0)); then
  TARGETS=(rubric_loader rubric_proto verdict_parser chat_completion judges_config)
fi

scripts/bootstrap.sh
# clang-14 and its sanitizer/libFuzzer runtimes (Debian bookworm). Only the
# fuzz build needs them, so bootstrap.sh does not install them.
need=()
for p in clang-14 libclang-rt-14-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if ((${#need[@]})); then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
  # fuzzer-no-link instruments every library for coverage; the fuzz targets
  # alone link libFuzzer (fuzz/CMakeLists.txt). Debian's gRPC, protobuf and
  # abseil are built with gcc against libstdc++, which clang also uses.
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER=clang++-14 -DREWARDD_SANITIZE=address \
    -DREWARDD_FUZZ=ON -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link" >/dev/null
fi
ninja -C "$BUILD_DIR" -j"$JOBS" "${TARGETS[@]/%/_fuzzer}"

san_dir=$PWD/scripts/sanitizers
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:print_stacktrace=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$san_dir/ubsan.supp"
export LSAN_OPTIONS="suppressions=$san_dir/lsan.supp:print_suppressions=0"

failed=()
for t in "${TARGETS[@]}"; do
  work="$BUILD_DIR/fuzz-work/$t"
  artifacts="$BUILD_DIR/fuzz-artifacts/$t"
  log="$BUILD_DIR/fuzz-$t.log"
  mkdir -p "$work" "$artifacts"
  dict=()
  if [[ "$t" != rubric_proto ]]; then dict=(-dict=fuzz/json.dict); fi
  echo "=== $t: ${SECONDS_PER_TARGET}s (log: $log)"
  # -timeout: one input taking 10 s is a hang worth reporting;
  # -rss_limit_mb: the parsers bound memory, so 2 GiB means a bug.
  if ! "$BUILD_DIR/fuzz/${t}_fuzzer" "${dict[@]}" \
      -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
      -max_len=16384 -print_final_stats=1 -artifact_prefix="$artifacts/" \
      "$work" "fuzz/corpus/$t" >"$log" 2>&1; then
    failed+=("$t")
    grep -vE '^\s+#[0-9]+ 0x' "$log" | tail -n 25
    grep -E '^\s+#[0-9]+ 0x.* in (rewardd|LLVMFuzzerTestOneInput)' "$log" | head -n 15
  fi
  # The last status line: executions, coverage, corpus, speed, memory.
  echo "    $(grep -E '^#[0-9]+' "$log" | tail -n 1)"
done
if ((${#failed[@]})); then
  echo "fuzz: FAILED: ${failed[*]} (inputs in $BUILD_DIR/fuzz-artifacts/)"
  exit 1
fi
echo "fuzz: ${#TARGETS[@]} targets ran ${SECONDS_PER_TARGET}s each without findings"

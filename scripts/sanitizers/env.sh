#!/usr/bin/env bash
# Sourced by scripts/test.sh --sanitize=MODE (and usable by hand:
# `source scripts/sanitizers/env.sh address`). Exports the build directory,
# the REWARDD_SANITIZE mode for scripts/build.sh, and the sanitizer runtime
# options. The integration tests start rewardd as a subprocess; it inherits
# these variables, so the same options and suppressions apply to it.
#   MODE = address  -> build-asan/, ASan + UBSan (+ LeakSanitizer)
#   MODE = thread   -> build-tsan/, TSan
# Every suppression entry is commented with why it is a false positive.
_san_mode=${1:?usage: source scripts/sanitizers/env.sh address|thread}
_san_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Extra ctest arguments for sanitizer passes: deploy_validation checks that
# the release image has every shared library rewardd links; a sanitizer
# build links libasan/libtsan, which are never shipped.
SANITIZER_CTEST_ARGS=(-LE deploy)
case "$_san_mode" in
  address)
    export BUILD_DIR=build-asan SANITIZE=address
    # detect_leaks: LeakSanitizer runs at exit of every test and rewardd.
    export ASAN_OPTIONS="halt_on_error=1:abort_on_error=0:detect_leaks=1:strict_string_checks=1:check_initialization_order=1:print_stacktrace=1:allocator_may_return_null=0"
    export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$_san_dir/ubsan.supp"
    export LSAN_OPTIONS="suppressions=$_san_dir/lsan.supp:print_suppressions=0"
    ;;
  thread)
    export BUILD_DIR=build-tsan SANITIZE=thread
    # The annotations that let TSan see absl::Mutex and gRPC's completion
    # queues synchronize (tsan_annotations.cc) are linked into every
    # executable by CMake (REWARDD_SANITIZE=thread).
    # ignore_noninstrumented_modules: accesses made by interceptors (memcpy,
    # operator delete, ...) called from gRPC's own code are not checked, as
    # TSan cannot see the synchronization gRPC does with its atomics; races
    # in rewardd's code, including callbacks run on gRPC threads, still are.
    # second_deadlock_stack: both stacks of a lock-order inversion.
    export TSAN_OPTIONS="halt_on_error=1:ignore_noninstrumented_modules=1:print_stacktrace=1:second_deadlock_stack=1:history_size=4:suppressions=$_san_dir/tsan.supp"
    ;;
  *)
    echo "unknown sanitizer mode '$_san_mode' (address or thread)" >&2
    return 2 2>/dev/null || exit 2
    ;;
esac
unset _san_mode _san_dir

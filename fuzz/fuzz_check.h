// FUZZ_CHECK: the invariant check of the fuzz targets. A failed check prints
// the condition and aborts, which libFuzzer reports as a crash (and saves the
// input) and which fails the corpus replay tests in the normal build. Unlike
// assert() it is on in every build type (the fuzz build is RelWithDebInfo,
// i.e. NDEBUG).
//
//   FUZZ_CHECK(parse.verdicts.size() == ids.size());
//
// Thread-safety: a macro; the fuzz targets are single-threaded.
#ifndef REWARDD_FUZZ_FUZZ_CHECK_H_
#define REWARDD_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                               \
  do {                                                                 \
    if (!(cond)) {                                                     \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, \
                   __LINE__, #cond);                                   \
      std::abort();                                                    \
    }                                                                  \
  } while (0)

#endif  // REWARDD_FUZZ_FUZZ_CHECK_H_

/* fuzz.h - the libFuzzer entry point every fuzz_<name>.c defines. The same
 * file links with libFuzzer (clang, ZC_FUZZ=ON) or with replay_main.c (any
 * compiler, a ctest test replaying corpus/<name> and regression/<name>). */
#ifndef ZC_FUZZ_H
#define ZC_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant failed: abort so libFuzzer saves the input as a crasher and
 * the replay test fails. */
#define FUZZ_CHECK(cond)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__,         \
                    __LINE__, #cond);                                          \
            abort();                                                           \
        }                                                                      \
    } while (0)

#endif /* ZC_FUZZ_H */

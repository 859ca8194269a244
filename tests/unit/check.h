/* check.h - the smallest test harness: CHECK counts, SUMMARY prints the
 * closing line "N passed, N failed" and returns the exit status. */
#ifndef CHECK_H
#define CHECK_H
#include <stdio.h>

static int check_passed, check_failed;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (cond) {                                                                                \
            check_passed++;                                                                        \
        } else {                                                                                   \
            check_failed++;                                                                        \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                            \
            printf(__VA_ARGS__);                                                                   \
            printf("\n");                                                                          \
        }                                                                                          \
    } while (0)

#define SUMMARY()                                                                                  \
    (printf("%d passed, %d failed\n", check_passed, check_failed), check_failed ? 1 : 0)
#endif

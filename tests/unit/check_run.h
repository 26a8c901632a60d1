/* Shared by the unit tests: runs a suite and turns its result into the
 * process exit status ctest reads. */
#ifndef TKL_CHECK_RUN_H
#define TKL_CHECK_RUN_H

#include <check.h>
#include <stdlib.h>

static inline int tkl_check_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif

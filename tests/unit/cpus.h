/* Shared by the unit tests of what uses a second CPU when it has one
 * (core/mem.c's prefault thread): whether this process may run threads on
 * more than one CPU, read apart from the code under test. */
#ifndef TKL_TEST_CPUS_H
#define TKL_TEST_CPUS_H

#include <sched.h>
#include <stdbool.h>

static inline bool tkl_test_several_cpus(void)
{
    cpu_set_t set;
    return sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 1;
}

#endif

/* libFuzzer: the deadline text parser (daemon/store/deadline.c). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/deadline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = strndup((const char *)data, size);
    if (!text)
        return 0;
    struct tkl_deadline d;
    if (tkl_deadline_parse(text, &d) == 0) {
        /* a dated kind has a day; the others have none */
        bool dated = d.kind == TKL_DEADLINE_DATE || d.kind == TKL_DEADLINE_REVIEW;
        if (dated != (d.day != TKL_NO_DAY))
            abort();
        if (d.kind == TKL_DEADLINE_UNDATED && d.day != TKL_NO_DAY)
            abort();
        tkl_deadline_clear(&d);
    }
    free(text);
    return 0;
}

/* libFuzzer: the iCalendar loader of the calendar plugin
 * (plugins/calendar/ics.c) and the expansion of every event it accepts. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include <tickler/day.h>

#include "ics.h"

static void quiet(void *data, unsigned line, const char *msg)
{
    (void)line;
    (void)msg;
    ++*(unsigned *)data;
}

struct check {
    int32_t last;
    unsigned n;
};

static int on_occurrence(void *data, int32_t first, int32_t last)
{
    struct check *c = data;
    if (last < first || first <= c->last) /* ascending, each once */
        abort();
    c->last = first;
    return ++c->n > 200000 ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ics_file *f = NULL;
    unsigned problems = 0;
    int r = ics_parse("fuzz.ics", (const char *)data, size, quiet, &problems, &f);
    if (r == -EINVAL && problems == 0)
        abort(); /* refused without saying why */
    if (r < 0)
        return 0;
    int32_t from = tkl_day_from_civil(2025, 1, 1), to = tkl_day_from_civil(2036, 12, 31);
    for (size_t i = 0; i < f->n; i++) {
        struct check c = {.last = INT32_MIN};
        if (!f->events[i].uid || !f->events[i].summary || f->events[i].span < 1)
            abort();
        ics_occurrences(&f->events[i], from, to, on_occurrence, &c);
    }
    ics_file_free(f);
    return 0;
}

/* libFuzzer: the e-mail header encoder (plugins/common/digest.c) with text
 * from the plan: a header must stay one header (CRLF only at its end or
 * folding before a space, no bare CR or LF, under 998 octets a line), so
 * plan text cannot add one. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"

static void check_one_header(const struct dg_buf *b)
{
    if (b->oom)
        return;
    if (b->len < 2 || memcmp(b->data + b->len - 2, "\r\n", 2) != 0)
        abort();
    size_t col = 0;
    for (size_t i = 0; i < b->len - 2; i++) {
        char c = b->data[i];
        if (c == '\n' || c == '\0')
            abort();
        if (c == '\r') { /* folding only: CRLF then a space */
            if (b->data[i + 1] != '\n' || i + 2 >= b->len - 2 || b->data[i + 2] != ' ')
                abort();
            i++;
            col = 0;
            continue;
        }
        if (++col > 998)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the input holds up to three texts separated by NUL: a title, a team
     * name, an address */
    char *in = malloc(size + 3);
    if (!in)
        return 0;
    memcpy(in, data, size);
    in[size] = in[size + 1] = in[size + 2] = '\0';
    const char *title = in;
    const char *name = title + strlen(title) + 1;
    const char *addr = name < in + size + 1 ? name + strlen(name) + 1 : name;
    if (addr > in + size + 2)
        addr = in + size + 2;

    struct dg_buf b = {0};
    dg_header(&b, "X-Title", title, "\r\n");
    check_one_header(&b);
    free(b.data);

    b = (struct dg_buf){0};
    dg_puts(&b, "To: ");
    dg_mailbox(&b, name, addr, "\r\n");
    dg_puts(&b, "\r\n");
    check_one_header(&b);
    free(b.data);

    struct tkl_notice_entry e = {.size = sizeof(e),
                                 .item_id = "F1",
                                 .title = title,
                                 .deadline_day = 19000,
                                 .kind = TKL_DEADLINE_DATE,
                                 .stage = TKL_STAGE_LEAD,
                                 .days_left = 3};
    struct tkl_notice n = {
        .size = sizeof(n), .recipient = addr, .team_name = name, .entries = &e, .n_entries = 1};
    char subject[512];
    dg_subject(&n, subject, sizeof(subject));
    b = (struct dg_buf){0};
    dg_header(&b, "Subject", subject, "\r\n");
    check_one_header(&b);
    free(b.data);
    free(in);
    return 0;
}

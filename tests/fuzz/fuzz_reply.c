/* libFuzzer: server replies, as a peer sends them, through what tickler
 * does with them: the status line kept (plugins/common/digest.c
 * dg_reply_capture), then shown in a failure report in text, HTML and a
 * subject. Nothing from the peer may reach a header unescaped or break
 * the HTML. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char ok[256] = "", fail[256] = "";
    /* a reply arrives in lines, as libcurl hands them over */
    size_t pos = 0;
    while (pos < size) {
        const char *nl = memchr(data + pos, '\n', size - pos);
        size_t n = nl ? (size_t)(nl - (const char *)data) + 1 - pos : size - pos;
        dg_reply_capture((const char *)data + pos, n, ok, fail, sizeof(ok));
        pos += n;
    }
    for (const char *p = fail; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
            abort();
    struct tkl_notice_entry e = {.size = sizeof(e),
                                 .item_id = "notice-7",
                                 .title = fail[0] ? fail : ok,
                                 .progress = fail,
                                 .deadline_day = TKL_NO_DAY,
                                 .stage = TKL_STAGE_REPORT};
    struct tkl_notice n = {.size = sizeof(n),
                           .recipient = "admin@example.org",
                           .team_name = "Admin",
                           .entries = &e,
                           .n_entries = 1};
    struct dg_render_opts o = {.now = 1700000000};
    struct dg_buf b = {0};
    dg_render(&b, NULL, &n, &o, DG_HTML, "\r\n");
    if (!b.oom && b.data && (strstr(b.data, "<script") || strstr(b.data, "<img")))
        abort();
    free(b.data);
    b = (struct dg_buf){0};
    dg_render(&b, NULL, &n, &o, DG_SUBJECT, " ");
    for (size_t i = 0; !b.oom && i < b.len; i++)
        if (b.data[i] == '\r' || b.data[i] == '\n')
            abort();
    free(b.data);
    b = (struct dg_buf){0};
    dg_render(&b, NULL, &n, &o, DG_TEXT, "\r\n");
    free(b.data);
    return 0;
}

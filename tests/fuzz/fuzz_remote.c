/* libFuzzer: what daemon/store/remote.c reads of a server's answer and of
 * a configured URL: the input is a URL, a Content-Disposition and a
 * Content-Type separated by NUL bytes. The format is one of the endings
 * known or none; the place shown never holds the URL's query or userinfo. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/remote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 3);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = buf[size + 1] = buf[size + 2] = '\0';
    const char *url = buf, *cd = url + strlen(url) + 1;
    if (cd > buf + size)
        cd = buf + size + 1;
    const char *ct = cd + strlen(cd) + 1;
    if (ct > buf + size + 2)
        ct = buf + size + 2;
    const char *ext = tkl_remote_format(url, *cd ? cd : NULL, *ct ? ct : NULL);
    if (ext && strcmp(ext, ".csv") && strcmp(ext, ".xlsx") && strcmp(ext, ".ods") &&
        strcmp(ext, ".docx"))
        abort();
    char err[200];
    (void)tkl_remote_check_url(url, err, sizeof(err));
    char *place = tkl_remote_place(url);
    /* the query begins at the first '?' before any '#' */
    const char *q = strchr(url, '?'), *frag = strchr(url, '#');
    if (place && q && (!frag || q < frag) && q[1] && strstr(place, q))
        abort();
    free(place);
    free(buf);
    return 0;
}

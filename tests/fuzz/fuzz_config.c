/* libFuzzer: the configuration loader (daemon/config/config.c), through
 * libconfig, reading the input as a file. */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("fuzz-config", 0);
        if (fd < 0)
            abort();
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
    struct tkl_config *c = NULL;
    struct tkl_diags diags = {0};
    int r = tkl_config_load(path, &c, &diags);
    /* a refused file says why; an accepted one has no errors */
    if (r < 0 && r != -ENOMEM && diags.n_errors == 0)
        abort();
    if (r == 0 && diags.n_errors)
        abort();
    tkl_config_free(c);
    tkl_diags_free(&diags);
    return 0;
}

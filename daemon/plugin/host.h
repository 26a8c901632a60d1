/*
 * The services the host lends each plugin instance (struct tkl_host): the
 * loop, logging, the clock, transfers on the shared curl multi handle, and
 * secret reading. ticklerd and `tickler send-test` share them.
 */
#ifndef TKL_HOST_H
#define TKL_HOST_H

#include <stdint.h>

#include <uv.h>

#include "../transfer/transfer.h"
#include "loader.h"

struct tkl_host_services {
    uv_loop_t *loop;
    struct tkl_transfers *transfers; /* NULL: transfers are refused */
    int64_t clock_offset;            /* seconds added to time(NULL) */
    void (*items_changed)(void *data, const char *instance);
    void *data;
};

/* Points p->host at svc (which must outlive the instance) and the given
 * directories (which must outlive it too). */
void tkl_host_fill(struct tkl_plugin_instance *p, struct tkl_host_services *svc,
                   const char *config_dir, const char *state_dir);

#endif

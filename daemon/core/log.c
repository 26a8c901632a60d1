#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static int max_level = TKL_LOG_INFO;

void tkl_log_set_level(int level)
{
    max_level = level;
}

int tkl_log_get_level(void)
{
    return max_level;
}

int tkl_log_parse_level(const char *name)
{
    static const struct {
        const char *name;
        int level;
    } names[] = {
        {"err", TKL_LOG_ERR},      {"error", TKL_LOG_ERR},     {"warning", TKL_LOG_WARNING},
        {"warn", TKL_LOG_WARNING}, {"notice", TKL_LOG_NOTICE}, {"info", TKL_LOG_INFO},
        {"debug", TKL_LOG_DEBUG},
    };
    if (!name)
        return -EINVAL;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(name, names[i].name) == 0)
            return names[i].level;
    if (name[0] >= '3' && name[0] <= '7' && name[1] == '\0')
        return name[0] - '0';
    return -EINVAL;
}

void tkl_logv(int level, const char *fmt, va_list ap)
{
    char line[4096];
    if (level > max_level)
        return;
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    if (n < 0)
        return;
    /* One write per line, and no line breaks inside a record: journald and
     * grep both read a log line as one event. */
    for (char *p = line; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    fprintf(stderr, "<%d>%s\n", level, line);
}

void tkl_log(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tkl_logv(level, fmt, ap);
    va_end(ap);
}

int tkl_std_streams_open(void)
{
    for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        /* the lowest number free: this one, as those below are open */
        int null = open("/dev/null", fd == STDIN_FILENO ? O_RDONLY : O_WRONLY);
        if (null < 0)
            return -errno;
        if (null != fd) { /* cannot be, as said; never left open elsewhere */
            (void)close(null);
            return -EBADF;
        }
    }
    return 0;
}

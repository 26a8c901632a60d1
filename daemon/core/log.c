#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "text.h"

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
    size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
    if ((size_t)n >= sizeof(line)) { /* cut: not inside a character */
        size_t lead = len;
        while (lead > 0 && len - lead < 3 && ((unsigned char)line[lead - 1] & 0xc0) == 0x80)
            lead--;
        if (lead > 0 && (unsigned char)line[lead - 1] >= 0xc0 &&
            !tkl_utf8_decode(line + lead - 1, len - (lead - 1), NULL))
            len = lead - 1;
    }
    /* One write per line, and no line breaks inside a record: journald and
     * grep both read a log line as one event. The other controls (a
     * terminal's escapes) become spaces too, and a byte that starts no
     * UTF-8 character is written \xNN: journalctl shows a record holding
     * either as "[N blob data]", not as its text. */
    tkl_text_printable(line, len, true);
    char out[sizeof(line)];
    size_t o = 0;
    for (size_t i = 0; i < len && o < sizeof(out) - 1;) {
        size_t k = tkl_utf8_decode(line + i, len - i, NULL);
        if (k && k > sizeof(out) - 1 - o)
            break;
        if (k) {
            memcpy(out + o, line + i, k);
            o += k;
            i += k;
            continue;
        }
        if (sizeof(out) - 1 - o < 4)
            break;
        tkl_byte_escape((unsigned char)line[i++], out + o);
        o += 4;
    }
    out[o] = '\0';
    fprintf(stderr, "<%d>%s\n", level, out);
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

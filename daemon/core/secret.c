#include "secret.h"

#include "diag.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECRET_MAX 65536

static void wipe_free(char *buf, size_t len)
{
    explicit_bzero(buf, len);
    free(buf);
}

/* Grows buf to cap bytes (at most SECRET_MAX + 1), wiping what the old
 * block held: a secret leaves no copy behind in freed memory. */
static int grow(char **buf, size_t len, size_t *cap)
{
    size_t want = *cap * 2 > SECRET_MAX + 1 ? SECRET_MAX + 1 : *cap * 2;
    char *n = malloc(want);
    if (!n)
        return -ENOMEM;
    memcpy(n, *buf, len);
    wipe_free(*buf, len);
    *buf = n;
    *cap = want;
    return 0;
}

/* Reads fd whole into a block sized to the file (a secret is a few bytes:
 * reading thousands of destinations' files must not touch 64 KiB each). */
static int read_all(int fd, bool lines, char **ret)
{
    struct stat st;
    size_t cap = 256, len = 0;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= (off_t)cap)
        cap = st.st_size < SECRET_MAX ? (size_t)st.st_size + 2 : SECRET_MAX + 1;
    char *buf = malloc(cap);
    if (!buf)
        return -ENOMEM;
    for (;;) {
        if (len == cap) {
            int r = cap > SECRET_MAX ? -EFBIG : grow(&buf, len, &cap);
            if (r < 0) {
                wipe_free(buf, len);
                return r;
            }
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int r = -errno;
            wipe_free(buf, len);
            return r;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > SECRET_MAX) {
            wipe_free(buf, len);
            return -EFBIG;
        }
    }
    /* len < cap: a full block grows before the read that finds the end */
    buf[len] = '\0';
    if (!lines && len && buf[len - 1] == '\n')
        buf[--len] = '\0';
    if (!lines && len && buf[len - 1] == '\r')
        buf[--len] = '\0';
    if (!len || strlen(buf) != len || (!lines && strpbrk(buf, "\r\n"))) {
        int r = len ? -EBADMSG : -ENODATA;
        wipe_free(buf, len);
        return r;
    }
    *ret = buf;
    return 0;
}

static const char *credentials_fallback;
static struct tkl_diags *exposure_diags;

void tkl_secret_set_diags(struct tkl_diags *diags)
{
    exposure_diags = diags;
}

/* Whether every user of the machine can reach real, a resolved path: each
 * directory above it lets others through. Unsure (out of memory) is no. */
static bool reachable_by_all(const char *real)
{
    char *dir = strdup(real);
    if (!dir)
        return false;
    bool all = true;
    for (char *slash = strrchr(dir, '/'); all && slash; slash = strrchr(dir, '/')) {
        struct stat st;
        slash[slash == dir] = '\0'; /* the directory above; "/" last */
        all = stat(dir, &st) == 0 && (st.st_mode & S_IXOTH);
        if (slash == dir)
            break;
    }
    free(dir);
    return all;
}

/* While a load collects diagnostics, a secret file that every user of the
 * machine can read or change is a warning at the file (the file a link
 * names, when path is one), once however it is named. A file in a
 * directory others cannot enter (/etc/tickler/credentials/, a state
 * directory) is not. */
static void check_mode(const struct stat *st, const char *path)
{
    if (!exposure_diags || !S_ISREG(st->st_mode) || !(st->st_mode & (S_IROTH | S_IWOTH)))
        return;
    char *real = realpath(path, NULL);
    if (!real) /* unsure: say nothing */
        return;
    bool told = !reachable_by_all(real);
    for (size_t i = 0; !told && i < exposure_diags->n; i++) {
        const struct tkl_diag *g = &exposure_diags->items[i];
        struct stat was;
        told = g->file && strstr(g->message, "this secret's mode is") && stat(g->file, &was) == 0 &&
               was.st_dev == st->st_dev && was.st_ino == st->st_ino;
    }
    const char *can = (st->st_mode & (S_IROTH | S_IWOTH)) == (S_IROTH | S_IWOTH) ? "read and change"
                      : st->st_mode & S_IROTH                                    ? "read"
                                                                                 : "change";
    if (!told)
        tkl_diag_add(exposure_diags, TKL_SEV_WARNING, real, 0, NULL,
                     "this secret's mode is %04o: every user of this machine can %s it; make it "
                     "0600 (or 0640 for a group that runs tickler), or keep it in a directory "
                     "other users cannot enter%s%s",
                     (unsigned)(st->st_mode & 07777), can, strcmp(real, path) ? "; named as " : "",
                     strcmp(real, path) ? path : "");
    free(real);
}

void tkl_secret_set_credentials_fallback(const char *dir)
{
    credentials_fallback = dir;
}

/* The file spec names, as a new string in *ret. Returns 0, -EINVAL,
 * -ENOENT (a credential with no directory to read it from) or -ENOMEM. */
static int secret_path(const char *base_dir, const char *spec, char **ret)
{
    char *path = NULL;
    int r;
    if (!spec || !*spec)
        return -EINVAL;
    if (strncmp(spec, "credential:", 11) == 0) {
        const char *name = spec + 11, *dir = getenv("CREDENTIALS_DIRECTORY");
        if (!*name || strchr(name, '/'))
            return -EINVAL;
        if (dir && *dir)
            r = asprintf(&path, "%s/%s", dir, name);
        else if (credentials_fallback && !strncmp(name, "tickler_", 8) && name[8])
            r = asprintf(&path, "%s/%s", credentials_fallback, name + 8);
        else
            return -ENOENT;
    } else if (spec[0] == '/' || !base_dir) {
        r = asprintf(&path, "%s", spec);
    } else {
        r = asprintf(&path, "%s/%s", base_dir, spec);
    }
    if (r < 0)
        return -ENOMEM;
    *ret = path;
    return 0;
}

void tkl_secret_check(const char *base_dir, const char *spec)
{
    char *path = NULL;
    struct stat st;
    if (!exposure_diags || secret_path(base_dir, spec, &path) < 0)
        return;
    if (stat(path, &st) == 0)
        check_mode(&st, path);
    free(path);
}

static int secret_read(const char *base_dir, const char *spec, bool lines, char **ret)
{
    char *path = NULL;
    struct stat st;
    int r = secret_path(base_dir, spec, &path);
    if (r < 0)
        return r;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        r = -errno;
        free(path);
        return r;
    }
    if (fstat(fd, &st) == 0)
        check_mode(&st, path);
    free(path);
    r = read_all(fd, lines, ret);
    close(fd);
    return r;
}

int tkl_secret_read(const char *base_dir, const char *spec, char **ret)
{
    return secret_read(base_dir, spec, false, ret);
}

int tkl_secret_read_text(const char *base_dir, const char *spec, char **ret)
{
    return secret_read(base_dir, spec, true, ret);
}

void tkl_secret_free(char *secret)
{
    if (!secret)
        return;
    explicit_bzero(secret, strlen(secret));
    free(secret);
}

#include "remote.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include "../core/text.h"
#include "dynlib/libcurl.h"

static const struct {
    const char *ext;
    const char *type; /* its Content-Type, without parameters */
} formats[] = {
    {".csv", "text/csv"},
    {".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    {".ods", "application/vnd.oasis.opendocument.spreadsheet"},
    {".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
};

#define N_FORMATS (sizeof(formats) / sizeof(formats[0]))

bool tkl_remote_is_url(const char *path)
{
    const char *p = path;
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '+' || *p == '.' ||
           *p == '-' || (p > path && *p >= '0' && *p <= '9'))
        p++;
    return p > path && strncmp(p, "://", 3) == 0;
}

/* url parsed by curl (spaces allowed: a sheet's name in the fragment), or
 * NULL (refused, out of memory, or libcurl cannot be loaded). */
static CURLU *parse(const char *url)
{
    char err[256];
    if (tkl_libcurl_load(err, sizeof(err)) < 0)
        return NULL;
    CURLU *u = sym_curl_url();
    if (u && sym_curl_url_set(u, CURLUPART_URL, url, CURLU_ALLOW_SPACE) != CURLUE_OK) {
        sym_curl_url_cleanup(u);
        return NULL;
    }
    return u;
}

int tkl_remote_check_url(const char *url, char *err, size_t size)
{
    if (tkl_libcurl_load(err, size) < 0)
        return -EINVAL;
    CURLU *u = parse(url);
    char *scheme = NULL, *host = NULL;
    int r = -EINVAL;
    size_t request = strcspn(url, "#"); /* what is sent: all but the fragment */
    bool blank = false;
    for (size_t i = 0; i < request; i++)
        blank = blank || (unsigned char)url[i] <= ' ';
    if (!u || blank)
        (void)snprintf(err, size, "not a URL curl can read (write a space as %%20)");
    else if (sym_curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
             strcasecmp(scheme, "https") != 0)
        (void)snprintf(err, size,
                       "%s:// is refused: the plan (and any token) would travel unprotected; "
                       "use https://",
                       scheme ? scheme : "this scheme");
    else if (sym_curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host)
        (void)snprintf(err, size, "the URL names no host");
    else
        r = 0;
    sym_curl_free(scheme);
    sym_curl_free(host);
    sym_curl_url_cleanup(u);
    return r;
}

/* Whether seg[0..len) reads as a file name: something, a dot, then one to
 * five letters or digits ("plan.xlsx"). A share's token ("EaBc...",
 * "s!AbCd", "2PACX-...") does not. */
static bool file_name(const char *seg, size_t len)
{
    const char *dot = memrchr(seg, '.', len);
    if (!dot || dot == seg)
        return false;
    size_t ext = len - (size_t)(dot + 1 - seg);
    if (ext < 1 || ext > 5)
        return false;
    for (const char *c = dot + 1; c < seg + len; c++)
        if (!isalnum((unsigned char)*c))
            return false;
    return true;
}

/* What may be shown of a URL's path: "/" as it is; its last segment when
 * that is a file name, after "/…/" when segments come before it; else
 * "/…". A shared link's path is its key ("/:x:/g/personal/a/EaBc",
 * "/spreadsheets/d/e/2PACX-.../pub"): only a file name is shown. */
static const char *shown_path(const char *path, char *buf, size_t size)
{
    if (!strcmp(path, "/") || !*path)
        return "/";
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        len--;
    const char *last = memrchr(path, '/', len);
    last = last ? last + 1 : path;
    size_t n = len - (size_t)(last - path);
    if (!file_name(last, n))
        return "/…";
    bool more = last > path + 1;
    (void)snprintf(buf, size, "%s%.*s", more ? "/…/" : "/", (int)n, last);
    return buf;
}

char *tkl_remote_place(const char *url)
{
    char err[256];
    if (tkl_libcurl_load(err, sizeof(err)) < 0)
        return strdup("(a URL: libcurl cannot be loaded to read it)");
    CURLU *u = parse(url);
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *frag = NULL, *out = NULL;
    if (!u)
        return strdup("(a URL tickler cannot read)");
    if (sym_curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        sym_curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        sym_curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK) {
        (void)sym_curl_url_get(u, CURLUPART_PORT, &port, 0);
        (void)sym_curl_url_get(u, CURLUPART_FRAGMENT, &frag, CURLU_URLDECODE);
        char buf[512];
        if (asprintf(&out, "%s://%s%s%s%s%s%s", scheme, host, port ? ":" : "", port ? port : "",
                     shown_path(path, buf, sizeof(buf)), frag ? "#" : "", frag ? frag : "") < 0)
            out = NULL;
    } else {
        out = strdup("(a URL tickler cannot read)");
    }
    sym_curl_free(scheme);
    sym_curl_free(host);
    sym_curl_free(port);
    sym_curl_free(path);
    sym_curl_free(frag);
    sym_curl_url_cleanup(u);
    return out;
}

/* The format whose ending ends name[0..len), or NULL. */
static const char *ext_of(const char *name, size_t len)
{
    for (size_t i = 0; i < N_FORMATS; i++) {
        size_t e = strlen(formats[i].ext);
        if (len > e && strncasecmp(name + len - e, formats[i].ext, e) == 0)
            return formats[i].ext;
    }
    return NULL;
}

/* The ending of the file name a Content-Disposition value gives
 * (filename*=charset''name or filename="name"), or NULL. */
static const char *disposition_ext(const char *cd)
{
    const char *p = strcasestr(cd, "filename*=");
    if (p) {
        p += strlen("filename*=");
        const char *q = strstr(p, "''");
        p = q && q < p + strcspn(p, ";") ? q + 2 : p;
    } else if ((p = strcasestr(cd, "filename="))) {
        p += strlen("filename=");
    } else {
        return NULL;
    }
    p += strspn(p, " \t\"");
    size_t n = *p == '"' ? 0 : strcspn(p, ";\"");
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    return ext_of(p, n);
}

const char *tkl_remote_format(const char *url, const char *content_disposition,
                              const char *content_type)
{
    CURLU *u = parse(url);
    char *path = NULL;
    const char *ext = NULL;
    if (u && sym_curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK)
        ext = ext_of(path, strlen(path));
    if (u) {
        sym_curl_free(path);
        sym_curl_url_cleanup(u);
    }
    if (!ext && content_disposition)
        ext = disposition_ext(content_disposition);
    if (!ext && content_type) {
        size_t n = strcspn(content_type, "; \t");
        for (size_t i = 0; i < N_FORMATS && !ext; i++)
            if (strlen(formats[i].type) == n && strncasecmp(content_type, formats[i].type, n) == 0)
                ext = formats[i].ext;
    }
    return ext;
}

char *tkl_remote_cache_stem(const char *dir, const char *url)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    char hex[2 * EVP_MAX_MD_SIZE + 1] = "", *out = NULL;
    if (!EVP_Digest(url, strlen(url), md, &n, EVP_sha256(), NULL))
        return NULL;
    for (size_t i = 0; i < n; i++)
        (void)snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return asprintf(&out, "%s/%s", dir, hex) < 0 ? NULL : out;
}

int tkl_remote_ensure_dir(char *dir)
{
    if (mkdir(dir, 0700) == 0 || errno == EEXIST)
        return 0;
    char *slash = strrchr(dir, '/');
    if (errno != ENOENT || !slash || slash == dir)
        return -errno;
    *slash = '\0';
    int r = mkdir(dir, 0700) == 0 || errno == EEXIST ? 0 : -errno;
    *slash = '/';
    if (r == 0 && mkdir(dir, 0700) < 0 && errno != EEXIST)
        r = -errno;
    return r;
}

int tkl_remote_write_all(int fd, const char *data, size_t len)
{
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno != EINTR)
            return -errno;
        if (w > 0)
            off += (size_t)w;
    }
    return 0;
}

/* Writes data to a new file tmp, flushed, with mtime when not 0. */
static int write_tmp(const char *tmp, const char *data, size_t len, int64_t mtime)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    int r = tkl_remote_write_all(fd, data, len);
    if (r == 0 && mtime) {
        struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_sec = (time_t)mtime}};
        if (futimens(fd, ts) < 0)
            r = -errno;
    }
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (close(fd) < 0 && r == 0)
        r = -errno;
    return r;
}

int tkl_remote_sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
    if (!dir)
        return -ENOMEM;
    int fd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (fd < 0)
        return -errno;
    int r = fsync(fd) < 0 ? -errno : 0;
    (void)close(fd); /* read only */
    return r;
}

int tkl_remote_save(const char *stem, const char *ext, const char *const *exts, const char *data,
                    size_t len, int64_t mtime)
{
    char *tmp = NULL, *final = NULL, *dir = NULL;
    int r = -ENOMEM;
    if (asprintf(&tmp, "%s%s.tmp", stem, ext) < 0)
        return -ENOMEM;
    if (asprintf(&final, "%s%s", stem, ext) < 0 || !(dir = tkl_path_dir(stem)))
        goto out;
    if ((r = tkl_remote_ensure_dir(dir)) < 0 || (r = write_tmp(tmp, data, len, mtime)) < 0)
        goto out;
    if (rename(tmp, final) < 0) {
        r = -errno;
        goto out;
    }
    for (size_t i = 0; exts && exts[i]; i++) {
        char *other = NULL;
        if (strcasecmp(exts[i], ext) == 0)
            continue;
        if (asprintf(&other, "%s%s", stem, exts[i]) < 0) {
            r = -ENOMEM;
            goto out;
        }
        (void)unlink(other); /* absent as a rule */
        free(other);
    }
    r = tkl_remote_sync_dir(stem);
out:
    if (r < 0 && tmp)
        (void)unlink(tmp);
    free(tmp);
    free(final);
    free(dir);
    return r;
}

char *tkl_remote_cached(const char *dir, const char *url, const char *const *exts, int *err)
{
    char *stem = dir ? tkl_remote_cache_stem(dir, url) : NULL, *path = NULL;
    if (dir && !stem)
        *err = -ENOMEM;
    for (size_t i = 0; stem && !path && exts[i]; i++) {
        struct stat st;
        if (asprintf(&path, "%s%s", stem, exts[i]) < 0) {
            *err = -ENOMEM;
            path = NULL;
            break;
        }
        if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
            free(path);
            path = NULL;
        }
    }
    free(stem);
    return path;
}

bool tkl_remote_same(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "rbe");
    if (!f)
        return false;
    char chunk[65536];
    size_t off = 0, n;
    bool same = true;
    while (same && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        same = off + n <= len && memcmp(chunk, data + off, n) == 0;
        off += n;
    }
    same = same && !ferror(f) && off == len;
    (void)fclose(f); /* read only */
    return same;
}

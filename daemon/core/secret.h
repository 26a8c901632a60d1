/*
 * Secrets (SMTP passwords, OAuth tokens, webhook URLs) are read from files
 * or systemd credentials, never from the command line or the log.
 */
#ifndef TKL_SECRET_H
#define TKL_SECRET_H

#include <tickler/text.h>

/*
 * Reads the secret named by spec: a file path (relative paths are read
 * relative to base_dir) or "credential:NAME" for
 * $CREDENTIALS_DIRECTORY/NAME. One trailing CR/LF is removed; nothing at
 * all is -ENODATA, a secret holding a NUL or a further line break
 * -EBADMSG, one over 64 KiB -EFBIG, a spec that names no file -EINVAL.
 * Returns 0 with *ret a new string, or a negative errno (-ENOENT also when
 * the credential directory is not set); tkl_secret_strerror
 * (<tickler/text.h>) says each.
 */
int tkl_secret_read(const char *base_dir, const char *spec, char **ret);

/* As tkl_secret_read, for a secret of several lines (a PEM private key):
 * kept as read, line breaks included. */
int tkl_secret_read_text(const char *base_dir, const char *spec, char **ret);

/*
 * Where "credential:tickler_NAME" is read from when $CREDENTIALS_DIRECTORY
 * is not set (a command run by hand as root, not by the unit): dir/NAME,
 * the file the unit's LoadCredential=tickler:DIR loads as tickler_NAME.
 * NULL (the default): such a credential is -ENOENT. dir is borrowed.
 */
void tkl_secret_set_credentials_fallback(const char *dir);

struct tkl_diags;

/*
 * Where a secret file read from here on that every user of the machine can
 * read or change is told: a warning in diags (a load, which `tickler check`
 * prints and the daemon logs). NULL (the default) tells nobody: a token
 * file read again between loads is not warned of at each renewal. diags
 * is borrowed until the next call.
 */
void tkl_secret_set_diags(struct tkl_diags *diags);

/* Tells, as a read would, that the secret spec names (a file) is exposed,
 * without reading it: for a secret read later than the load (a TLS key,
 * PostgreSQL's conninfo, a token fetched with). A spec that names nothing
 * says nothing: its read says why. */
void tkl_secret_check(const char *base_dir, const char *spec);

/* Overwrites and frees a secret. Accepts NULL. */
void tkl_secret_free(char *secret);

#endif

/*
 * tickler: check, preview and inspect what ticklerd does.
 *
 *   tickler [-c FILE] [--store FILE] actions [--json]
 *   tickler [-c FILE] check
 *   tickler [-c FILE] [--state-dir DIR] upcoming [--from DATE] [--days N] [--owner NAME]
 *                                                [--held] [--json]
 *   tickler [-c FILE] holidays [--year YYYY]
 *   tickler [-c FILE] [--state-dir DIR] status [--json]
 *   tickler [-c FILE] [--state-dir DIR] outbox [--failed] [--json]
 *   tickler [-c FILE] [--state-dir DIR] retry ID...|--failed
 *   tickler [-c FILE] send-test NOTIFIER --to RECIPIENT
 *   tickler [-c FILE] calendar [--from DATE] [--to DATE] [--format ics|html|json]
 *                              [--category NAME]
 *   tickler [-c FILE] [--state-dir DIR] report [--from DATE] [--to DATE]
 *                              [--format html|docx|csv|md] [-o FILE]
 *   tickler [-c FILE] [--state-dir DIR] updates [--since DATE] [--json|--csv]
 *   tickler [-c FILE] link ACTION-ID RECIPIENT [--expires-in DAYS]
 *
 * Exit status: 0 done, 1 failed (or, for status, not healthy), 2 usage, and
 * for status 3 when there is no state yet (ticklerd has not run).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>

#include <jansson.h>
#include <uv.h>

#include "config/config.h"
#include "core/day.h"
#include "dynlib/libcurl.h"
#include "core/diag.h"
#include "core/log.h"
#include "core/secret.h"
#include "core/text.h"
#include "delivery/queue.h"
#include "export/export.h"
#include "outbox/dump.h"
#include "outbox/outbox.h"
#include "outbox/updates.h"
#include "plugin/host.h"
#include "plugin/loader.h"
#include "plugin/set.h"
#include "report/report.h"
#include "report/request_updates.h"
#include "report/word.h"
#include "route/route.h"
#include "runtime/runtime.h"
#include "schedule/holidays.h"
#include "schedule/scheduler.h"
#include "schedule/standing.h"
#include "source/source.h"
#include "state/migrate.h"
#include "core/dirlock.h"
#include "state/pg_outbox.h"
#include "state/pg_status.h"
#include "state/pg_updates.h"
#include "store/fetch.h"
#include "store/remote.h"
#include "store/store.h"
#include "token/token.h"
#include "update/update.h"

#ifndef TICKLER_VERSION
#define TICKLER_VERSION "0"
#endif
#ifndef TICKLER_DEFAULT_CONFIG
#define TICKLER_DEFAULT_CONFIG "/etc/tickler/tickler.conf"
#endif
/* tickler status: no state database yet (as LSB's "program is not running") */
#define TICKLER_EXIT_NO_STATE 3

struct cli;

/* A command of tickler: its name, what runs it (returning the exit code),
 * its arguments as the usage shows them and one line on what it does. */
struct command {
    const char *name;
    int (*run)(struct cli *c, int argc, char **argv);
    const char *args;
    const char *what;
};

struct cli {
    const char *config;
    const char *store;
    const char *state_dir;
    const char *plugin_dir;
    const struct command *cmd; /* the command being run, NULL before */
    struct tkl_config *cfg;
    struct tkl_store *st;
    struct tkl_diags diags;
    struct tkl_host_services svc;
    struct tkl_plugin_set plugins; /* the sources only */
    struct tkl_sources sources;
    char *fresh_dir; /* plans at URLs fetched now; removed at exit */
};

/* ---- arguments --------------------------------------------------------- */

#define CLI_MAX_OPTS 8
#define CLI_HELP     'h'   /* --help, -h of every command */
#define CLI_LONG     0x100 /* getopt value of opts[i] without a short name: CLI_LONG + i */

/* An option of tickler or of one of its commands: --name, and -short_name
 * when that is set. It sets *value to its value when value is set, else
 * *flag to true; given twice, the last one counts. */
struct cli_opt {
    const char *name;
    char short_name;
    const char **value;
    bool *flag;
};

/* The arguments that are not options: up to max of them go to v. With
 * stop, the first one ends the options (tickler's own options end at the
 * command); next gets the index of the argument after it. */
struct cli_args {
    const char **v;
    size_t max;
    bool stop;
    size_t n;
    int next;
};

/* Prints the usage line of cmd (NULL: of tickler) to out. */
static void print_synopsis(FILE *out, const struct command *cmd)
{
    if (cmd)
        fprintf(out, "Usage: tickler [OPTIONS] %s%s%s\n", cmd->name, *cmd->args ? " " : "",
                cmd->args);
    else
        fprintf(out, "Usage: tickler [OPTIONS] COMMAND [ARGS]\n");
}

/* Says on stderr how the command (or tickler) is used. */
static void usage_hint(const struct cli *c)
{
    print_synopsis(stderr, c->cmd);
    fprintf(stderr, "Run 'tickler --help' for the commands and their options.\n");
}

/* Says what is wrong with the option getopt_long just refused (opt is
 * what it returned, arg the argument it was reading). Returns -EINVAL. */
static int bad_option(const struct cli *c, const struct option *lo, int opt, const char *arg)
{
    const char *who = c->cmd ? c->cmd->name : NULL;
    size_t len = strcspn(arg, "=");
    size_t matches = 0;
    for (size_t i = 0; lo[i].name && !strncmp(arg, "--", 2); i++)
        matches += len > 2 && !strncmp(lo[i].name, arg + 2, len - 2);
    fprintf(stderr, "tickler%s%s: ", who ? " " : "", who ? who : "");
    if (opt == ':')
        fprintf(stderr, "option '%s' needs a value\n", arg);
    else if (optopt && !strncmp(arg, "--", 2))
        fprintf(stderr, "option '%.*s' takes no value\n", (int)len, arg);
    else if (optopt)
        fprintf(stderr, "unknown option '-%c'\n", optopt);
    else
        fprintf(stderr, "%s option '%s'\n", matches > 1 ? "ambiguous" : "unknown", arg);
    usage_hint(c);
    return -EINVAL;
}

/* Keeps the argument arg that is not an option. Returns 0, or -EINVAL
 * after saying there is one too many. */
static int add_arg(const struct cli *c, struct cli_args *a, const char *arg)
{
    if (!a || a->n == a->max) {
        const char *who = c->cmd ? c->cmd->name : NULL;
        if (a && a->max > 1)
            fprintf(stderr, "tickler%s%s: too many arguments (at most %zu)\n", who ? " " : "",
                    who ? who : "", a->max);
        else
            fprintf(stderr, "tickler%s%s: unexpected argument '%s'\n", who ? " " : "",
                    who ? who : "", arg);
        usage_hint(c);
        return -EINVAL;
    }
    a->v[a->n++] = arg;
    return 0;
}

/* getopt_long's view of opts (at most CLI_MAX_OPTS, ended by a NULL name),
 * with --help when help is set: the long options into lo, the short ones
 * into shorts. */
static void getopt_view(const struct cli_opt *opts, bool help, struct option *lo, char *shorts)
{
    size_t n = 0, k = strlen(shorts);
    for (; opts && n < CLI_MAX_OPTS && opts[n].name; n++) {
        int has_arg = opts[n].value ? required_argument : no_argument;
        lo[n] = (struct option){opts[n].name, has_arg, NULL,
                                opts[n].short_name ? opts[n].short_name : CLI_LONG + (int)n};
        if (opts[n].short_name) {
            shorts[k++] = opts[n].short_name;
            if (has_arg == required_argument)
                shorts[k++] = ':';
        }
    }
    if (help) {
        lo[n++] = (struct option){"help", no_argument, NULL, CLI_HELP};
        shorts[k++] = CLI_HELP;
    }
    lo[n] = (struct option){0};
    shorts[k] = '\0';
}

/* Sets what option opt (getopt_long's value) of opts names. */
static void set_option(const struct cli_opt *opts, int opt)
{
    size_t i = 0;
    if (opt >= CLI_LONG)
        i = (size_t)(opt - CLI_LONG);
    else
        while (opts[i].short_name != opt)
            i++;
    if (opts[i].value)
        *opts[i].value = optarg;
    else
        *opts[i].flag = true;
}

/*
 * Reads the arguments of c->cmd (argv[0] is its name), or tickler's own
 * when c->cmd is NULL, into what opts (NULL: none) and a (NULL: none)
 * point to. Every command has --help. Returns 0, 1 when the usage was
 * printed for --help (exit 0), or -EINVAL after saying on stderr what is
 * wrong (exit 2).
 */
/* Whether arg ("--name" or "--name=value") names the option name exactly:
 * getopt_long takes any unambiguous prefix, and `retry --f` must not
 * re-send every failed notice. */
static bool exact_long(const char *arg, const char *name)
{
    size_t n = strcspn(arg + 2, "=");
    return !strncmp(arg, "--", 2) && strlen(name) == n && !strncmp(arg + 2, name, n);
}

static int read_args(const struct cli *c, int argc, char **argv, const struct cli_opt *opts,
                     struct cli_args *a)
{
    struct option lo[CLI_MAX_OPTS + 2];
    char shorts[2 * CLI_MAX_OPTS + 4] = "-:"; /* arguments in order; ':' for a missing value */
    getopt_view(opts, c->cmd != NULL, lo, shorts);
    int opt;
    optind = 0; /* start afresh: tickler's own options were read before */
    opterr = 0;
    for (;;) {
        int at = optind ? optind : 1, idx = -1; /* a long option is the whole of argv[at] */
        if ((opt = getopt_long(argc, argv, shorts, lo, &idx)) == -1)
            break;
        if (opt == ':' || opt == '?')
            return bad_option(c, lo, opt, argv[optind - 1]);
        if (idx >= 0 && !exact_long(argv[at], lo[idx].name)) /* no abbreviations */
            return bad_option(c, lo, '?', argv[at]);
        if (opt == CLI_HELP && c->cmd) {
            print_synopsis(stdout, c->cmd);
            printf("%s\n", c->cmd->what);
            return 1;
        }
        if (opt != 1)
            set_option(opts, opt);
        else if (add_arg(c, a, optarg) < 0)
            return -EINVAL;
        else if (a && a->stop)
            break;
    }
    /* after "--", only arguments */
    while (optind < argc && !(a && a->stop && a->n))
        if (add_arg(c, a, argv[optind++]) < 0)
            return -EINVAL;
    if (a)
        a->next = optind;
    return 0;
}

/* The exit code for what read_args returned when it was not 0. */
static int args_exit(int r)
{
    return r < 0 ? 2 : 0;
}

/* A private directory for the plans at URLs fetched now, made once.
 * Returns it, or NULL (then the daemon's copies are read). */
static const char *fresh_dir(struct cli *c)
{
    const char *tmp = getenv("TMPDIR");
    char *dir = NULL;
    if (c->fresh_dir)
        return c->fresh_dir;
    if (asprintf(&dir, "%s/tickler-plans-XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0)
        return NULL;
    if (!mkdtemp(dir)) {
        free(dir);
        return NULL;
    }
    return c->fresh_dir = dir;
}

/* Removes the plans fetched now and their directory. */
static void remove_fresh_dir(struct cli *c)
{
    DIR *d = c->fresh_dir ? opendir(c->fresh_dir) : NULL;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        char *p = NULL;
        if (de->d_name[0] != '.' && asprintf(&p, "%s/%s", c->fresh_dir, de->d_name) >= 0) {
            (void)unlink(p); /* a leftover in the temporary directory at worst */
            free(p);
        }
    }
    if (d)
        closedir(d);
    if (c->fresh_dir)
        (void)rmdir(c->fresh_dir);
    free(c->fresh_dir);
    c->fresh_dir = NULL;
}

/* Loads the config and the store; prints problems. A plan at a URL is
 * fetched now when the store is needed, else the daemon's copy is read.
 * Returns 0, or 1 when the config or the store has errors. */
static int load(struct cli *c, bool need_store)
{
    int r = tkl_config_load(c->config, &c->cfg, &c->diags);
    if (r < 0 || tkl_tz_set(c->cfg->timezone) < 0)
        return 1;
    if (c->store && tkl_store_opts_use_file(&c->cfg->store, c->store) < 0)
        return 1;
    const char *state = c->state_dir ? c->state_dir : c->cfg->state_dir;
    if (!need_store)
        return tkl_store_opts_cache_in(&c->cfg->store, state) < 0 ? 1 : 0;
    /* what the fetch says is printed now: every command shows where its
     * plan came from */
    bool urls = tkl_fetch_count(&c->cfg->store) > 0;
    const char *fresh = urls ? fresh_dir(c) : NULL;
    if (urls && !fresh)
        fprintf(stderr, "tickler: warning: cannot make a temporary directory to fetch the plan "
                        "into; reading the daemon's copy\n");
    struct tkl_diags fetched = {0};
    if (tkl_fetch_prepare(&c->cfg->store, &c->cfg->teams, state, fresh, false, &fetched) < 0) {
        tkl_diags_free(&fetched);
        return 1;
    }
    tkl_diags_print(&fetched, stderr);
    tkl_diags_free(&fetched);
    c->cfg->store.once = true; /* a command reads its plan once */
    if (tkl_store_load(&c->cfg->store, &c->cfg->teams, &c->st, &c->diags) < 0)
        return 1;
    return 0;
}

/* Opens the configured sources (calendars); problems are printed.
 * Returns 0, or 1 when a source could not be opened. */
static int open_sources(struct cli *c)
{
    const char *dir = c->plugin_dir ? c->plugin_dir : c->cfg->plugin_dir;
    int r = tkl_plugin_set_open(dir, &c->cfg->plugins, TKL_PLUGIN_SOURCE, &c->svc,
                                c->cfg->state_dir, &c->plugins, &c->diags);
    if (r == 0 && (r = tkl_sources_view(&c->plugins, c->cfg->sources, &c->sources)) < 0)
        fprintf(stderr, "tickler: out of memory\n");
    return r < 0 ? 1 : 0;
}

static json_t *jstr(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* Set when a member or element could not be added (out of memory): the
 * document being built is short, and json_print refuses to print it. The
 * CLI builds its documents one at a time, on one thread. */
static bool json_short;

/* json_object_set_new, a failure (or a NULL value) noted in json_short. */
static void jset(json_t *o, const char *key, json_t *v)
{
    if (!v || json_object_set_new(o, key, v) < 0)
        json_short = true;
}

/* json_array_append_new, a failure (or a NULL value) noted in json_short. */
static void jadd(json_t *a, json_t *v)
{
    if (!v || json_array_append_new(a, v) < 0)
        json_short = true;
}

/* Prints root (taking it) and a line break. Returns the exit code: 1 when
 * root is NULL or short (nothing printed) or stdout refused it (a write
 * error found later, at the flush, is main's: output_status). */
static int json_print(json_t *root)
{
    if (!root || json_short) {
        json_decref(root);
        fprintf(stderr, "tickler: out of memory\n");
        return 1;
    }
    int r = json_dumpf(root, stdout, JSON_INDENT(2));
    json_decref(root);
    if (r == 0 && fputc('\n', stdout) == EOF)
        r = -1;
    if (r != 0)
        fprintf(stderr, "tickler: cannot write the output: %s\n", strerror(errno));
    return r == 0 ? 0 : 1;
}

static json_t *strv_json(char **v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        jadd(a, json_string(v[i]));
    return a;
}

/* One action as `tickler actions --json` prints it; standing is its
 * standing today (null for an observance). */
static json_t *action_json(const struct tkl_action *a, enum tkl_standing standing)
{
    char day[11];
    json_t *o = json_object();
    jset(o, "id", json_string(a->id));
    jset(o, "file", json_string(a->file));
    jset(o, "line", json_integer(a->line));
    jset(o, "title", json_string(a->title));
    jset(o, "commitment", jstr(*a->commitment ? a->commitment : NULL));
    jset(o, "objective", jstr(*a->objective ? a->objective : NULL));
    jset(o, "owners", json_string(a->owners));
    jset(o, "teams", strv_json(a->teams, a->n_teams));
    jset(o, "unmatched_owners",
         strv_json(tkl_action_rare(a)->unmatched, tkl_action_rare(a)->n_unmatched));
    jset(o, "deadline_text", json_string(a->deadline_text));
    jset(o, "deadline",
         a->deadline.day == TKL_NO_DAY ? json_null()
                                       : json_string(tkl_day_format(a->deadline.day, day)));
    jset(o, "deadline_note", jstr(a->deadline.note));
    jset(o, "kind", json_string(tkl_deadline_kind_name(a->deadline.kind)));
    jset(o, "status_text", json_string(a->status_text));
    jset(o, "status", json_string(tkl_status_name(a->status)));
    jset(o, "active", json_boolean(tkl_action_active(a)));
    jset(o, "standing",
         standing == TKL_STANDING_COUNT ? json_null() : json_string(tkl_standing_name(standing)));
    jset(o, "progress", jstr(*a->progress ? a->progress : NULL));
    jset(o, "measure", jstr(a->measure && *a->measure ? a->measure : NULL));
    jset(o, "warnings", strv_json(tkl_action_rare(a)->warnings, tkl_action_rare(a)->n_warnings));
    return o;
}

static int read_answers(struct cli *c, const char *cmd, struct tkl_answers *ret);

/* The store as a JSON array, each action with its standing today (as
 * /status.json gives it: complete while an officer's completion holds,
 * the plan's own beside it), and the count per standing on standard
 * error. */
static int actions_json(struct cli *c)
{
    int32_t today = tkl_local_day((int64_t)time(NULL));
    size_t counts[TKL_STANDING_COUNT + 1] = {0};
    struct tkl_answers answers;
    if (read_answers(c, "actions", &answers))
        return 1;
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < c->st->n; i++) {
        const struct tkl_action *a = &c->st->actions[i];
        enum tkl_standing plan, st = tkl_action_standing_answered(&c->cfg->schedule, &c->cfg->teams,
                                                                  &answers, a, today, &plan);
        counts[st]++;
        json_t *o = action_json(a, st);
        if (o)
            jset(o, "plan_standing", json_string(tkl_standing_name(plan)));
        jadd(arr, o);
    }
    tkl_answers_free(&answers);
    char day[11];
    fprintf(stderr, "standing on %s:", tkl_day_format(today, day));
    for (unsigned st = 0; st < TKL_STANDING_COUNT; st++)
        fprintf(stderr, " %zu %s%s", counts[st], tkl_standing_name((enum tkl_standing)st),
                st + 1 < TKL_STANDING_COUNT ? "," : "\n");
    return json_print(arr);
}

static int cmd_actions(struct cli *c, int argc, char **argv)
{
    bool json = false;
    const struct cli_opt opts[] = {{"json", 0, NULL, &json}, {0}};
    int ar = read_args(c, argc, argv, opts, NULL);
    if (ar)
        return args_exit(ar);
    if (load(c, true)) {
        tkl_diags_print(&c->diags, stderr);
        return 1;
    }
    if (json)
        return actions_json(c);
    /* the ids in a column as wide as the widest (in characters), up to 24 */
    size_t width = 0;
    for (size_t i = 0; i < c->st->n && width < 24; i++) {
        size_t w = tkl_utf8_chars(c->st->actions[i].id, strlen(c->st->actions[i].id));
        if (w > width)
            width = w < 24 ? w : 24;
    }
    for (size_t i = 0; i < c->st->n; i++) {
        const struct tkl_action *a = &c->st->actions[i];
        char day[11] = "-";
        if (a->deadline.day != TKL_NO_DAY)
            tkl_day_format(a->deadline.day, day);
        /* at most 70 bytes, cut at a character boundary, and the id and
         * title printable on a terminal (plan text) */
        char *title = strndup(a->title, tkl_utf8_prefix(a->title, 70)), *id = strdup(a->id);
        if (!title || !id) {
            free(title);
            free(id);
            fprintf(stderr, "tickler actions: out of memory\n");
            return 1;
        }
        tkl_text_printable(title, strlen(title), true);
        tkl_text_printable(id, strlen(id), true);
        size_t w = tkl_utf8_chars(id, strlen(id));
        printf("%s%*s  %-10s %-8s %-8s %s\n", id, (int)(w < width ? width - w : 0), "", day,
               tkl_deadline_kind_name(a->deadline.kind), tkl_status_name(a->status), title);
        free(title);
        free(id);
    }
    size_t warnings = c->diags.n - c->diags.n_errors;
    fprintf(stderr,
            "%zu action%s, %zu warning%s in the plan and the configuration (tickler check lists "
            "them, and the notifiers')\n",
            c->st->n, tkl_plural(c->st->n), warnings, tkl_plural(warnings));
    return 0;
}

/* A name that matched no team, and how many actions (or observances)
 * named it. */
struct unmatched {
    const char *name;
    size_t n;
};

/* The distinct names that matched no team, first met first. */
struct unmatched_list {
    struct unmatched *v;
    size_t n;
};

/* Counts name in l, adding it when new. Returns 0 or -ENOMEM. */
static int unmatched_count(struct unmatched_list *l, const char *name)
{
    size_t j = 0;
    while (j < l->n && strcmp(l->v[j].name, name) != 0)
        j++;
    if (j == l->n) {
        struct unmatched *w = realloc(l->v, (l->n + 1) * sizeof(*w));
        if (!w)
            return -ENOMEM;
        l->v = w;
        l->v[l->n++] = (struct unmatched){.name = name};
    }
    l->v[j].n++;
    return 0;
}

/* Gathers the owner names st's plan actions (into owners) and its
 * observances (into named) gave that matched no team, in one walk of the
 * actions, none when the store counted none. Returns 0 or -ENOMEM (the
 * lists then hold part, for the caller to free). */
static int gather_unmatched(const struct tkl_store *st, struct unmatched_list *owners,
                            struct unmatched_list *named)
{
    if (!st->n_unmatched)
        return 0;
    for (size_t i = 0; i < st->n; i++) {
        const struct tkl_action *a = &st->actions[i];
        if (!a->rare)
            continue;
        struct unmatched_list *l = a->deadline.kind == TKL_DEADLINE_EVENT ? named : owners;
        for (size_t k = 0; k < a->rare->n_unmatched; k++)
            if (unmatched_count(l, a->rare->unmatched[k]) < 0)
                return -ENOMEM;
    }
    return 0;
}

/* Prints l's names, each with how many (unit) named it, on one line after
 * what (nothing when there are none). Returns 0 or -ENOMEM. */
static int print_unmatched(const struct unmatched_list *l, const char *what, const char *unit)
{
    if (!l->n)
        return 0;
    fputs(what, stdout);
    for (size_t j = 0; j < l->n; j++) {
        char *name = strdup(l->v[j].name); /* plan text, on a terminal */
        if (!name)
            return -ENOMEM;
        tkl_text_printable(name, strlen(name), true);
        printf("%s\"%s\" (%zu %s%s)", j ? ", " : " ", name, l->v[j].n, unit, tkl_plural(l->v[j].n));
        free(name);
    }
    putchar('\n');
    return 0;
}

/* The one check ticklerd --check-config makes too: configuration,
 * plugins (each recipient asked of its notifier), store and calendars. */
static int cmd_check(struct cli *c, int argc, char **argv)
{
    int ar = read_args(c, argc, argv, NULL, NULL);
    if (ar)
        return args_exit(ar);
    struct tkl_runtime_env env = {.config_path = c->config,
                                  .plugin_dir = c->plugin_dir,
                                  .store_file = c->store,
                                  .state_dir = c->state_dir ? strdup(c->state_dir) : NULL,
                                  .own_fetch = true,
                                  .fresh_dir = fresh_dir(c),
                                  .read_once = true,
                                  .svc = &c->svc};
    struct tkl_runtime *rt = NULL;
    int r = c->state_dir && !env.state_dir ? -ENOMEM : tkl_runtime_load(&env, &rt, &c->diags);
    tkl_diags_print(&c->diags, stdout);
    size_t errors = c->diags.n_errors + c->svc.n_errors;
    if (r == 0 && !errors) {
        const struct tkl_store *st = rt->store;
        for (size_t i = 0; i < st->n_maps; i++)
            tkl_column_map_print(&st->maps[i], stdout);
        char what[160];
        snprintf(what, sizeof(what), "owner names that match no team (%s%s%s):",
                 rt->cfg->teams.fallback ? "their actions go to the fallback team \"" : "",
                 rt->cfg->teams.fallback ? rt->cfg->teams.fallback : "their actions go to no team",
                 rt->cfg->teams.fallback ? "\"" : "");
        struct unmatched_list owners = {0}, named = {0};
        int pr = gather_unmatched(st, &owners, &named);
        if (pr == 0)
            pr = print_unmatched(&owners, what, "action");
        if (pr == 0)
            pr = print_unmatched(&named,
                                 "teams named by observances that match none:", "observance");
        free(owners.v);
        free(named.v);
        if (pr < 0) {
            fprintf(stderr, "tickler: out of memory\n");
            tkl_runtime_free(rt);
            free(env.state_dir);
            return 1;
        }
        size_t actions = st->n - st->n_events, warnings = c->diags.n - c->diags.n_errors;
        printf("ok: %zu action%s, %zu observance%s, %zu team%s, %zu owner name%s matched no "
               "team, %zu warning%s\n",
               actions, tkl_plural(actions), st->n_events, tkl_plural(st->n_events),
               rt->cfg->teams.n, tkl_plural(rt->cfg->teams.n), owners.n, tkl_plural(owners.n),
               warnings, tkl_plural(warnings));
    } else {
        printf("errors: %zu\n", errors ? errors : 1);
    }
    tkl_runtime_free(rt);
    free(env.state_dir);
    return r == 0 && !errors ? 0 : 1;
}

static bool owner_matches(const struct tkl_config *cfg, size_t team, const char *owner)
{
    const struct tkl_team *t = &cfg->teams.teams[team];
    if (!strcasecmp(t->id, owner))
        return true;
    struct tkl_team_dir one = {.teams = (struct tkl_team *)t, .n = 1};
    const struct tkl_team *m = NULL;
    return tkl_team_match(&one, owner, &m) == 0 && m;
}

/* Reads a whole decimal number; anything else (empty, "30x") gives INT_MIN,
 * which every range check refuses. */
static int int_arg(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < INT_MIN + 1 || v > INT_MAX)
        return INT_MIN;
    return (int)v;
}

struct upcoming_opts {
    const char *from;  /* YYYY-MM-DD, or NULL for today */
    const char *owner; /* only this owner's reminders, or NULL */
    int days;
    bool held; /* list the reminders officers' updates hold back too */
    bool json;
};

/* Reads the options of tickler upcoming. Returns what read_args returns,
 * -EINVAL too after saying which value is wrong. */
static int upcoming_args(struct cli *c, int argc, char **argv, struct upcoming_opts *ret)
{
    struct upcoming_opts u = {.days = 30};
    const char *days = NULL;
    const struct cli_opt opts[] = {{"from", 0, &u.from, NULL},   {"days", 0, &days, NULL},
                                   {"owner", 0, &u.owner, NULL}, {"held", 0, NULL, &u.held},
                                   {"json", 0, NULL, &u.json},   {0}};
    int r = read_args(c, argc, argv, opts, NULL);
    if (r)
        return r;
    if (days)
        u.days = int_arg(days);
    if (u.days < 1 || u.days > 3660) {
        fprintf(stderr, "tickler upcoming: --days must be 1 to 3660\n");
        return -EINVAL;
    }
    *ret = u;
    return 0;
}

/* The instant --from names (local time), or now without it. Returns 0, or
 * -EINVAL after saying what is wrong. */
static int upcoming_start(const char *from, int64_t *ret)
{
    int64_t start;
    if (!from) {
        start = (int64_t)time(NULL);
    } else if (tkl_parse_datetime(from, &start) < 0) {
        fprintf(stderr, "tickler upcoming: --from \"%s\" is not a date (YYYY-MM-DD)\n", from);
        return -EINVAL;
    }
    *ret = start;
    return 0;
}

/* A reminder as tickler upcoming --json shows it: at and dl are its time
 * and its deadline formatted, b where it goes, hold what holds it back. */
static json_t *due_json(const struct tkl_due *due, const struct tkl_team *t,
                        const struct tkl_route_batch *b, const char *at, const char *dl,
                        enum tkl_hold hold)
{
    json_t *o = json_object();
    json_t *rec = json_array();
    for (size_t i = 0; i < b->n; i++) {
        json_t *r = json_object();
        jset(r, "channel", json_string(b->digests[i].channel));
        jset(r, "recipient", json_string(b->digests[i].recipient));
        jset(r, "team", json_string(b->digests[i].team->id));
        jadd(rec, r);
    }
    jset(o, "at", json_string(at));
    jset(o, "item", json_string(due->action->id));
    jset(o, "title", json_string(due->action->title));
    jset(o, "stage", json_string(due->r.key));
    jset(o, "escalated", json_boolean(due->r.escalate));
    jset(o, "deadline", due->action->deadline.day == TKL_NO_DAY ? json_null() : json_string(dl));
    jset(o, "team", json_string(t->id));
    jset(o, "recipients", rec);
    jset(o, "held", hold ? json_string(tkl_hold_name(hold)) : json_null());
    return o;
}

/* Where tickler upcoming shows reminders: printed as text, or as the
 * elements of one JSON array (the text json_print gives), each written as
 * soon as it is made, so no list of them is held. */
struct upcoming_out {
    bool json;
    size_t n_json; /* elements written */
    bool failed;   /* one could not be made (out of memory) or written */
    /* the text of the last instant shown: reminders come in order of
     * time, many at each */
    bool at_set;
    int64_t at;
    char at_text[32];
    size_t at_len;
    /* deadlines formatted, by day modulo the table's size */
    bool dl_set[256];
    int32_t dl_day[256];
    char dl_text[256][11];
    /* text lines made in place, written to stdout a block at a time */
    size_t len;
    char text[65536];
};

/* Writes what o holds of its text to stdout. */
static void out_flush(struct upcoming_out *o)
{
    if (o->len && fwrite_unlocked(o->text, 1, o->len, stdout) != o->len)
        o->failed = true;
    o->len = 0;
}

/* Appends the n bytes of s to o's text, then spaces to width bytes when n
 * is shorter (printf's %-*s); o has room (text_room). */
static void out_put(struct upcoming_out *o, const char *s, size_t n, size_t width)
{
    memcpy(o->text + o->len, s, n);
    o->len += n;
    if (n < width) {
        memset(o->text + o->len, ' ', width - n);
        o->len += width - n;
    }
}

/* Makes room for need bytes of text in o; false when a line that long
 * does not fit its buffer at all (then o holds nothing). */
static bool text_room(struct upcoming_out *o, size_t need)
{
    if (need > sizeof(o->text) - o->len)
        out_flush(o);
    return need <= sizeof(o->text);
}

/* The text of deadline day, "YYYY-MM-DD", formatted once per day seen. */
static const char *deadline_text(struct upcoming_out *o, int32_t day)
{
    size_t i = (uint32_t)day % 256;
    if (!o->dl_set[i] || o->dl_day[i] != day) {
        tkl_day_format(day, o->dl_text[i]);
        o->dl_day[i] = day;
        o->dl_set[i] = true;
    }
    return o->dl_text[i];
}

/* A reminder as tickler upcoming prints it: one line, then one line for
 * each recipient, or what holds it back. The text of
 * printf("%s  %-12s %-10s %-22s %.60s\n", ...) (the title cut at a
 * character, not inside one, and printable on a terminal) and then
 * printf("%s-> %s:%s\n", indent, ...) for each recipient, made in o's
 * buffer without parsing a format for each of millions of lines (stdout
 * is only written from this thread). */
static void print_due(struct upcoming_out *o, const struct tkl_due *due, const struct tkl_team *t,
                      const struct tkl_route_batch *b, const char *dl, enum tkl_hold hold)
{
    static const char indent[] = "                           "; /* 27 */
    static const char none[] = "-> (team has no recipients)\n";
    const size_t ind = sizeof(indent) - 1;
    size_t key = strlen(due->r.key), dll = strlen(dl), id = strlen(t->id);
    size_t title = tkl_utf8_prefix(due->action->title, 60);
    const char *hold_name = hold ? tkl_hold_name(hold) : NULL;
    size_t hold_len = hold_name ? strlen(hold_name) : 0;
    /* the longest a field is padded to, then the separators */
    size_t need = o->at_len + 2 + (key > 12 ? key : 12) + 1 + (dll > 10 ? dll : 10) + 1 +
                  (id > 22 ? id : 22) + 1 + title + 1;
    if (hold)
        need += ind + 9 + hold_len + 1;
    else if (!b->n)
        need += ind + sizeof(none) - 1;
    for (size_t i = 0; !hold && i < b->n; i++)
        need += ind + 3 + strlen(b->digests[i].channel) + 1 + strlen(b->digests[i].recipient) + 1;
    if (!text_room(o, need)) { /* recipients by the thousand */
        char shown[61];
        memcpy(shown, due->action->title, title);
        shown[title] = '\0';
        tkl_text_printable(shown, title, true);
        printf("%s  %-12s %-10s %-22s %s\n", o->at_text, due->r.key, dl, t->id, shown);
        if (hold)
            printf("%s-> held: %s\n", indent, hold_name);
        for (size_t i = 0; !hold && i < b->n; i++)
            printf("%s-> %s:%s\n", indent, b->digests[i].channel, b->digests[i].recipient);
        if (!hold && !b->n)
            printf("%s%s", indent, none);
        return;
    }
    out_put(o, o->at_text, o->at_len, 0);
    out_put(o, "  ", 2, 0);
    out_put(o, due->r.key, key, 12);
    out_put(o, " ", 1, 0);
    out_put(o, dl, dll, 10);
    out_put(o, " ", 1, 0);
    out_put(o, t->id, id, 22);
    out_put(o, " ", 1, 0);
    out_put(o, due->action->title, title, 0);
    tkl_text_printable(o->text + o->len - title, title, true); /* plan text, on a terminal */
    out_put(o, "\n", 1, 0);
    if (hold) {
        out_put(o, indent, ind, 0);
        out_put(o, "-> held: ", 9, 0);
        out_put(o, hold_name, hold_len, 0);
        out_put(o, "\n", 1, 0);
    } else if (!b->n) {
        out_put(o, indent, ind, 0);
        out_put(o, none, sizeof(none) - 1, 0);
    }
    for (size_t i = 0; !hold && i < b->n; i++) {
        const char *ch = b->digests[i].channel, *rc = b->digests[i].recipient;
        out_put(o, indent, ind, 0);
        out_put(o, "-> ", 3, 0);
        out_put(o, ch, strlen(ch), 0);
        out_put(o, ":", 1, 0);
        out_put(o, rc, strlen(rc), 0);
        out_put(o, "\n", 1, 0);
    }
}

/* Writes o's JSON element e (taking it) as a whole array's JSON_INDENT(2)
 * dump holds it; an element made short (json_short) fails o. */
static void stream_json(struct upcoming_out *o, json_t *e)
{
    json_t *one = json_array();
    char *text = NULL;
    if (json_short) {
        json_decref(e);
        e = NULL;
    }
    if (one && e && json_array_append_new(one, e) == 0)
        text = json_dumps(one, JSON_INDENT(2));
    else if (!one)
        json_decref(e);
    json_decref(one);
    if (!text) {
        o->failed = true;
        return;
    }
    /* "[\n  {...}\n]": the element after its newline and indent */
    size_t len = strlen(text) - 3;
    if (fwrite(o->n_json++ ? "," : "[", 1, 1, stdout) != 1 ||
        fwrite(text + 1, 1, len, stdout) != len)
        o->failed = true;
    free(text);
}

/* Ends what o wrote. Returns the exit status. */
static int upcoming_out_end(struct upcoming_out *o)
{
    out_flush(o);
    bool failed = o->failed;
    /* a list short of a reminder is left without its closing bracket: no
     * JSON reader takes it for the whole list */
    if (o->json && !failed && fputs(o->n_json ? "\n]\n" : "[]\n", stdout) == EOF)
        failed = true;
    if (fflush(stdout) != 0 || ferror(stdout))
        failed = true;
    if (failed)
        fprintf(stderr, "tickler upcoming: a reminder could not be listed (out of memory, "
                        "or the output refused it)\n");
    return failed;
}

/* Routes the reminder due and shows it as o says. Returns 0, or a
 * negative errno when it cannot be routed (then nothing is shown). */
static int show_due(const struct tkl_config *cfg, const struct tkl_answers *answers,
                    const struct tkl_due *due, enum tkl_hold hold, struct upcoming_out *o)
{
    const struct tkl_team *t = &cfg->teams.teams[due->team];
    const struct tkl_answer *ans = tkl_answers_find(answers, due->action->id);
    struct tkl_route_batch b = {0};
    size_t routed = 0;
    int r = hold ? 0
                 : tkl_route_add(&b, &cfg->teams, cfg->schedule.escalate_to, due, ans, due->r.day,
                                 &routed);
    if (r < 0) {
        tkl_route_batch_free(&b);
        return r;
    }
    if (!o->at_set || o->at != due->at) {
        tkl_format_instant(due->at, o->at_text);
        o->at_len = strlen(o->at_text);
        o->at = due->at;
        o->at_set = true;
    }
    const char *dl = "-";
    if (due->action->deadline.day != TKL_NO_DAY)
        dl = deadline_text(o, due->action->deadline.day);
    if (o->json)
        stream_json(o, due_json(due, t, &b, o->at_text, dl, hold));
    else
        print_due(o, due, t, &b, dl, hold);
    tkl_route_batch_free(&b);
    return 0;
}

/* The update requests asked from lo to hi (report.request_updates), one
 * per (action, team), in order of time. */
struct upcoming_requests {
    struct tkl_due *v;
    size_t n, next;
};

/* What tickler upcoming counted. */
struct upcoming_count {
    size_t shown, held;
};

/* Shows the requests of r due at or before until, for u->owner when
 * given, counting them in *ret. Returns 0, or -1 when one cannot be
 * routed. */
static int show_requests(struct cli *c, const struct tkl_answers *answers,
                         struct upcoming_requests *r, int64_t until, const struct upcoming_opts *u,
                         struct upcoming_out *o, struct upcoming_count *ret)
{
    for (; r->next < r->n && r->v[r->next].at <= until; r->next++) {
        const struct tkl_due *due = &r->v[r->next];
        if (u->owner && !owner_matches(c->cfg, due->team, u->owner))
            continue;
        if (show_due(c->cfg, answers, due, TKL_HOLD_NONE, o) < 0)
            return -1;
        ret->shown++;
    }
    return 0;
}

/* Shows the reminders s has due from lo to hi, and the update requests of
 * req among them, for u->owner when given, until one cannot be routed,
 * less those answers hold back (listed too with --held). *ret gets how
 * many were shown and how many held. */
static void show_upcoming(struct cli *c, struct tkl_scheduler *s, const struct tkl_answers *answers,
                          struct upcoming_requests *req, int64_t lo, int64_t hi,
                          const struct upcoming_opts *u, struct upcoming_out *o,
                          struct upcoming_count *ret)
{
    const struct tkl_config *cfg = c->cfg;
    struct tkl_due due;
    enum tkl_hold hold;
    int r;
    while ((r = tkl_queue_pop(s, &cfg->schedule, &cfg->teams, c->st, answers, hi, INT64_MIN, &due,
                              &hold)) != -ENOENT) {
        if (r < 0)
            break;
        if (due.at < lo)
            continue;
        if (show_requests(c, answers, req, due.at, u, o, ret) < 0)
            return;
        if (u->owner && !owner_matches(cfg, due.team, u->owner))
            continue;
        ret->held += hold != TKL_HOLD_NONE;
        if (hold != TKL_HOLD_NONE && !u->held)
            continue;
        if (show_due(cfg, answers, &due, hold, o) < 0)
            break;
        ret->shown++;
    }
    (void)show_requests(c, answers, req, hi, u, o, ret);
}

/*
 * state.backend "postgresql": every update recorded in the shared
 * database into *ret (nothing there yet: none, said on stderr for cmd).
 * Returns 0, or 1 after saying why it cannot be read.
 */
static int read_updates_pg(struct cli *c, const char *cmd, struct tkl_updates *ret)
{
    char *err = NULL;
    int r = tkl_pg_updates_read(c->cfg->state.conninfo_file, ret, &err);
    if (r == -ENOENT)
        fprintf(stderr, "tickler %s: %s: no updates recorded%s\n", cmd, err,
                strcmp(cmd, "report") ? "" : "; the report shows the plan alone");
    else if (r < 0)
        fprintf(stderr, "tickler %s: PostgreSQL (%s): %s\n", cmd, c->cfg->state.conninfo_file, err);
    free(err);
    return r < 0 && r != -ENOENT ? 1 : 0;
}

/* Whether the state directory named by --state-dir does not exist (for
 * report and updates, whose point is the officers' updates, a mistyped
 * name would otherwise read as a state with none); said on stderr for
 * cmd. The configured one may not exist yet: a ticklerd that has run
 * makes it. */
static bool state_dir_missing(const struct cli *c, const char *cmd)
{
    struct stat st;
    if (!c->state_dir || stat(c->state_dir, &st) == 0 || errno != ENOENT)
        return false;
    fprintf(stderr, "tickler %s: --state-dir %s: no such directory\n", cmd, c->state_dir);
    return true;
}

/*
 * The answers of the officers' updates recorded in the state database, for
 * the store of c; none when there is no database yet. The database is
 * only read. Returns 0, or 1 after saying why it cannot be read.
 */
static int read_answers(struct cli *c, const char *cmd, struct tkl_answers *ret)
{
    const char *dir = c->state_dir ? c->state_dir : c->cfg->state_dir;
    struct tkl_updates updates = {0};
    struct tkl_outbox *o = NULL;
    char *err = NULL;
    if (c->cfg->state.backend == TKL_STATE_POSTGRESQL) {
        if (read_updates_pg(c, cmd, &updates))
            return 1;
        if (tkl_answers_build(ret, &updates, c->st, &c->cfg->schedule, &c->cfg->teams) < 0) {
            fprintf(stderr, "tickler: out of memory\n");
            return 1;
        }
        return 0;
    }
    int r = tkl_outbox_open_readonly(dir, &o, &err);
    if (r == -ENOENT) {
        *ret = (struct tkl_answers){0};
        return 0;
    }
    if (r == 0) {
        r = tkl_outbox_updates(o, NULL, 0, INT64_MAX, &updates);
        tkl_outbox_close(o);
    }
    if (r == 0)
        r = tkl_answers_build(ret, &updates, c->st, &c->cfg->schedule, &c->cfg->teams);
    if (r < 0) {
        fprintf(stderr, "tickler: cannot read the officers' updates in %s: %s\n", dir,
                err ? err : strerror(-r));
        free(err);
        return 1;
    }
    return 0;
}

static int cmd_upcoming(struct cli *c, int argc, char **argv)
{
    struct upcoming_opts u;
    int ar = upcoming_args(c, argc, argv, &u);
    if (ar)
        return args_exit(ar);
    if (load(c, true)) {
        tkl_diags_print(&c->diags, stderr);
        return 1;
    }
    bool known = !u.owner;
    for (size_t t = 0; !known && t < c->cfg->teams.n; t++)
        known = owner_matches(c->cfg, t, u.owner);
    if (!known) {
        /* a typo would otherwise look like nothing due */
        fprintf(stderr,
                "tickler upcoming: --owner \"%s\" matches no team (by id, name or alias); "
                "the teams:",
                u.owner);
        for (size_t t = 0; t < c->cfg->teams.n; t++)
            fprintf(stderr, "%s %s", t ? "," : "", c->cfg->teams.teams[t].id);
        fputc('\n', stderr);
        return 2;
    }
    int64_t start;
    if (upcoming_start(u.from, &start) < 0)
        return 2;
    /* the window starts at local midnight of the --from day */
    int32_t first = tkl_local_day(start);
    if (open_sources(c) ||
        tkl_sources_add_to_store(&c->sources, first, c->st, &c->cfg->teams, &c->diags) < 0) {
        tkl_diags_print(&c->diags, stderr);
        return 1;
    }
    if (u.days > TKL_SOURCE_DAYS_AHEAD - 60 && c->sources.n)
        fprintf(stderr,
                "tickler upcoming: observances are read %d days ahead; prompts near "
                "the end of %d days may be missing\n",
                TKL_SOURCE_DAYS_AHEAD, u.days);
    int64_t lo = tkl_local_instant(first, 0);
    int64_t hi = tkl_local_instant(first + u.days, 0) - 1;
    struct tkl_scheduler s = {0};
    struct tkl_answers answers;
    if (read_answers(c, "upcoming", &answers))
        return 1;
    struct upcoming_requests req = {0};
    const struct tkl_requests_ctx rc = {.report = &c->cfg->report,
                                        .policy = &c->cfg->schedule.policy,
                                        .teams = &c->cfg->teams,
                                        .store = c->st};
    /* made at the window's start, a day no reminder has been sent on yet:
     * none of the day before is brought to it (scheduler.c, passed_over) */
    if (tkl_scheduler_build(&s, &c->cfg->schedule, &c->cfg->teams, c->st, lo, lo) < 0 ||
        tkl_queue_snoozes(&s, &c->cfg->schedule, &c->cfg->teams, c->st, &answers, NULL, lo - 1,
                          false) < 0 ||
        tkl_requests_asks(&rc, lo, hi, &req.v, &req.n) < 0) {
        tkl_scheduler_free(&s);
        tkl_answers_free(&answers);
        free(req.v);
        fprintf(stderr, "tickler: out of memory\n");
        return 1;
    }
    struct upcoming_out out = {.json = u.json};
    struct upcoming_count n = {0};
    show_upcoming(c, &s, &answers, &req, lo, hi, &u, &out, &n);
    tkl_scheduler_free(&s);
    tkl_answers_free(&answers);
    free(req.v);
    if (!u.json)
        fprintf(stderr, "%zu reminders in %d days from %s\n", n.shown - (u.held ? n.held : 0),
                u.days, tkl_day_format(first, (char[11]){0}));
    if (n.held)
        fprintf(stderr, "%zu reminder%s held back by officers' updates%s\n", n.held,
                tkl_plural(n.held), u.held ? "" : " (tickler upcoming --held lists them)");
    return upcoming_out_end(&out);
}

struct calendar_args {
    const char *from, *to, *format, *category;
    char slug[TKL_CATEGORY_SLUG_SIZE]; /* the category's, when given */
};

/* Reads the options of tickler calendar. Returns 0, or the exit status
 * (0 after --help, 2 for bad usage) plus one. */
static int calendar_args(struct cli *c, int argc, char **argv, struct calendar_args *a)
{
    *a = (struct calendar_args){.format = "ics"};
    const struct cli_opt opts[] = {{"from", 0, &a->from, NULL},
                                   {"to", 0, &a->to, NULL},
                                   {"format", 0, &a->format, NULL},
                                   {"category", 0, &a->category, NULL},
                                   {0}};
    int ar = read_args(c, argc, argv, opts, NULL);
    if (ar)
        return args_exit(ar) + 1;
    if (strcmp(a->format, "ics") != 0 && strcmp(a->format, "html") != 0 &&
        strcmp(a->format, "json") != 0) {
        fprintf(stderr, "tickler calendar: --format must be ics, html or json\n");
        return 3;
    }
    if (a->category && !*tkl_category_slug(a->category, a->slug)) {
        fprintf(stderr, "tickler calendar: --category \"%s\" names no category\n", a->category);
        return 3;
    }
    return 0;
}

/* Reads --from and --to (default: today and twelve whole months on).
 * Returns 0, or 2 (bad usage). */
static int calendar_days(const struct calendar_args *a, int32_t *ret_lo, int32_t *ret_hi)
{
    int32_t lo, hi;
    if (a->from && tkl_day_parse_iso(a->from, &lo) < 0) {
        fprintf(stderr, "tickler calendar: --from \"%s\" is not a date (YYYY-MM-DD)\n", a->from);
        return 2;
    }
    if (a->to && tkl_day_parse_iso(a->to, &hi) < 0) {
        fprintf(stderr, "tickler calendar: --to \"%s\" is not a date (YYYY-MM-DD)\n", a->to);
        return 2;
    }
    if (!a->from)
        lo = tkl_local_day((int64_t)time(NULL));
    if (!a->to) {
        int y, m, d;
        tkl_day_to_civil(lo, &y, &m, &d);
        hi = tkl_day_from_civil(y + 1, m, 1) - 1; /* twelve whole months on */
    }
    if (hi < lo || hi - lo > 366 * 50) {
        fprintf(stderr, "tickler calendar: --to must be after --from, within 50 years\n");
        return 2;
    }
    *ret_lo = lo;
    *ret_hi = hi;
    return 0;
}

/* Says on standard error that a.category, no category tickler knows of,
 * has no observance in the events of all (from lo to hi), and which
 * categories there are: a mistyped name gives an empty calendar. */
static void calendar_no_category(const struct calendar_args *a, const struct tkl_event_list *all,
                                 int32_t lo, int32_t hi)
{
    char from[11], to[11];
    fprintf(stderr,
            "tickler calendar: no observance from %s to %s has the category \"%s\"; the "
            "calendar is empty. The categories:",
            tkl_day_format(lo, from), tkl_day_format(hi, to), a->slug);
    const char *sep = " ";
    for (size_t k = 0; tkl_category_palette(k); k++, sep = ", ") {
        char slug[TKL_CATEGORY_SLUG_SIZE];
        fprintf(stderr, "%s%s", sep, tkl_category_slug(tkl_category_palette(k), slug));
    }
    for (size_t i = 0; i < all->n; i++) {
        char slug[TKL_CATEGORY_SLUG_SIZE], other[TKL_CATEGORY_SLUG_SIZE];
        if (!*tkl_category_slug(all->v[i].category, slug) || tkl_category_known(slug))
            continue;
        size_t j = 0; /* each once, as the events first name it */
        while (j < i && strcmp(tkl_category_slug(all->v[j].category, other), slug) != 0)
            j++;
        if (j == i)
            fprintf(stderr, ", %s", slug);
    }
    fputc('\n', stderr);
}

/* Writes the events of [lo, hi] (of a.category only, when given) in
 * a.format. Returns 0 or a negative errno. */
static int calendar_write(struct cli *c, const struct calendar_args *a,
                          const struct tkl_event_list *all, int32_t lo, int32_t hi)
{
    struct tkl_event_list view = {0};
    const struct tkl_event_list *l = all;
    char title[TKL_EXPORT_TITLE_SIZE];
    const char *name = a->category ? tkl_category_known(a->slug) : NULL;
    if (a->category) {
        int r = tkl_events_in_category(all, a->slug, &view);
        if (r < 0)
            return r;
        if (!view.n && !name)
            calendar_no_category(a, all, lo, hi);
        l = &view;
        snprintf(title, sizeof(title), "%s: %s", c->cfg->calendar_title,
                 name     ? name
                 : view.n ? view.v[0].category
                          : a->category);
    } else {
        snprintf(title, sizeof(title), "%s", c->cfg->calendar_title);
    }
    struct tkl_ics_opts ics = {
        .name = title, .stamp = (int64_t)time(NULL), .refresh_hours = TKL_ICS_REFRESH_HOURS};
    int r = !strcmp(a->format, "ics")    ? tkl_export_ics(stdout, l, &ics)
            : !strcmp(a->format, "html") ? tkl_export_html(stdout, l, lo, hi, title, &c->cfg->teams)
                                         : tkl_export_json(stdout, l, lo, hi);
    tkl_event_view_free(&view);
    return r;
}

static int cmd_calendar(struct cli *c, int argc, char **argv)
{
    struct calendar_args a;
    int32_t lo, hi;
    int ar = calendar_args(c, argc, argv, &a);
    if (ar)
        return ar - 1;
    if (load(c, false)) {
        tkl_diags_print(&c->diags, stderr);
        return 1;
    }
    if (calendar_days(&a, &lo, &hi))
        return 2;
    if (open_sources(c)) {
        tkl_diags_print(&c->diags, stderr);
        return 1;
    }
    tkl_diags_print(&c->diags, stderr);
    if (!c->sources.n) {
        fprintf(stderr, "tickler calendar: %s configures no sources (sources = ( ... ))\n",
                c->config);
        return 1;
    }
    struct tkl_event_list l = {0};
    int r = tkl_sources_events(&c->sources, lo, hi, &l);
    if (r < 0) {
        fprintf(stderr, "tickler calendar: cannot read the observances: %s\n", strerror(-r));
        return 1;
    }
    r = calendar_write(c, &a, &l, lo, hi);
    tkl_event_list_free(&l);
    if (fflush(stdout) != 0 || r < 0) {
        fprintf(stderr, "tickler calendar: cannot write the output: %s\n",
                strerror(r < 0 ? -r : errno));
        return 1;
    }
    /* a calendar file with problems was skipped: say so in the exit code */
    return c->svc.n_errors ? 1 : 0;
}

static int cmd_holidays(struct cli *c, int argc, char **argv)
{
    const char *given = NULL;
    const struct cli_opt opts[] = {{"year", 0, &given, NULL}, {0}};
    int ar = read_args(c, argc, argv, opts, NULL);
    if (ar)
        return args_exit(ar);
    if (load(c, false)) {
        tkl_diags_print(&c->diags, stderr);
        return 1;
    }
    int year, month, day;
    if (given)
        year = int_arg(given);
    else
        tkl_day_to_civil(tkl_local_day((int64_t)time(NULL)), &year, &month, &day);
    if (year < 1900 || year > 2199) {
        fprintf(stderr, "tickler holidays: --year must be 1900 to 2199\n");
        return 2;
    }
    const struct tkl_holidays *h = &c->cfg->schedule.policy.holidays;
    printf("Non-working days in %d (%s; weekends are not listed)\n", year,
           tkl_region_name(h->region));
    for (int32_t d = tkl_day_from_civil(year, 1, 1); d <= tkl_day_from_civil(year, 12, 31); d++) {
        const char *name = NULL;
        if (tkl_is_holiday(h, d, &name)) {
            char buf[11];
            printf("%s %.3s  %s\n", tkl_day_format(d, buf), tkl_weekday_name(tkl_day_weekday(d)),
                   name);
        }
    }
    return 0;
}

/* Whether the state in dir (its outbox o) was moved to PostgreSQL by
 * tickler migrate, said on stderr for cmd when it was: what ticklerd
 * refuses to run on is not shown as the state in force. */
static bool moved_away(struct tkl_outbox *o, const char *dir, const char *cmd)
{
    int64_t moved = 0;
    if (tkl_outbox_get_meta(o, TKL_OUTBOX_MOVED_AT, &moved) != 0)
        return false;
    char at[32];
    fprintf(stderr,
            "tickler %s: the state in %s/tickler.db was moved to PostgreSQL by tickler migrate "
            "at %s: set state.backend = \"postgresql\" in the configuration (ticklerd refuses "
            "to run on this copy)\n",
            cmd, dir, tkl_format_instant(moved, at));
    return true;
}

/* Why this user may have been refused the state database in dir, to
 * follow SQLite's own words ("unable to open database file", "attempt to
 * write a readonly database", EACCES): it cannot read the directory or the
 * database, or cannot write the directory (SQLite makes its shared-memory
 * file there to read while ticklerd writes) or, when write (the command
 * changes the outbox), the database. ticklerd's state directory is its own
 * (mode 0700 under systemd, a DynamicUser's), so the fix is to run as
 * root; root is stopped only by a read-only file system or the immutable
 * attribute, said so. "" when none of this explains it. */
static const char *access_hint(const char *dir, bool write)
{
    char db[PATH_MAX];
    int n = snprintf(db, sizeof(db), "%s/tickler.db", dir);
    bool has_db = n >= 0 && (size_t)n < sizeof(db) && access(db, F_OK) == 0;
    bool root = geteuid() == 0;
    if (!root && (access(dir, R_OK | X_OK) != 0 || (has_db && access(db, R_OK) != 0)))
        return "; this user cannot read it: run tickler as root (sudo), as ticklerd's state is "
               "its own";
    if (access(dir, W_OK) == 0 && (!write || !has_db || access(db, W_OK) == 0))
        return "";
    if (errno == EROFS)
        return "; the state directory is on a read-only file system: tickler needs to write "
               "there (mount it read-write)";
    if (root)
        return "; even root cannot write to the state directory or its tickler.db: is it "
               "immutable (lsattr -d)? tickler needs to write there (chattr -i)";
    if (write)
        return "; this user cannot write to the state directory or its tickler.db: run tickler "
               "as root (sudo), as ticklerd's state is its own";
    return "; this user cannot write to the state directory, where SQLite keeps what it "
           "needs to read while ticklerd writes: run tickler as root (sudo)";
}

/* Opens the outbox of c's state directory into *ret; with state.backend
 * "postgresql" (c's configuration loaded) *ret is NULL: the outbox is the
 * database's. Returns 0, or 1 after saying why it cannot be opened. */
static int open_outbox(struct cli *c, struct tkl_outbox **ret)
{
    if (load(c, false)) {
        tkl_diags_print(&c->diags, stderr);
        return 1;
    }
    *ret = NULL;
    if (c->cfg->state.backend == TKL_STATE_POSTGRESQL)
        return 0;
    const char *dir = c->state_dir ? c->state_dir : c->cfg->state_dir;
    if (access(dir, F_OK) != 0 && errno == ENOENT) {
        fprintf(stderr,
                "tickler: no state yet: %s does not exist; ticklerd makes it when it "
                "first runs\n",
                dir);
        return 1;
    }
    char *err = NULL;
    int r = tkl_outbox_open(dir, ret, &err);
    if (r < 0) {
        fprintf(stderr, "tickler: cannot open the outbox %s/tickler.db: %s%s\n", dir,
                err ? err : strerror(-r), access_hint(dir, true));
        free(err);
        return 1;
    }
    if (moved_away(*ret, dir, c->cmd ? c->cmd->name : "")) {
        tkl_outbox_close(*ret);
        *ret = NULL;
        return 1;
    }
    return 0;
}

/* What tickler status reports. */
struct status {
    struct tkl_outbox_stats st;
    int64_t next_attempt; /* not before now; INT64_MAX when none */
    int64_t last_run;     /* INT64_MIN when never */
    int64_t stuck;        /* waiting longer than max_age_hours */
    int max_age_hours;    /* delivery.max_age_hours */
    /* whether a ticklerd runs to send the notices: 1, 0, or -1 unknown
     * (SQLite: one holds the state directory's lock, pid its pid or 0;
     * PostgreSQL: a node is connected to the database) */
    int running;
    pid_t pid;
    bool unsent;                    /* notices overdue by UNSENT_GRACE and no ticklerd runs */
    bool failing;                   /* a notice retrying for RETRY_ALARM or longer */
    int64_t disk_free;              /* bytes free to ticklerd (not root) where the state
                                     * directory is (SQLite), or -1 not known */
    bool disk_full;                 /* disk_free below STATE_MIN_FREE */
    bool healthy;                   /* nothing failed, stuck, unsent, failing or full */
    const struct tkl_pg_status *pg; /* state.backend "postgresql": its nodes; else NULL */
    /* the channels with notices waiting (SQLite: owned; PostgreSQL: pg's),
     * those no notifier of the configuration serves (renamed or removed:
     * their notices wait for one) first, n_unserved_channels of them, in
     * the order read; and the notices of those */
    struct tkl_channel_waiting *channels;
    size_t n_channels;
    size_t n_unserved_channels;
    const struct tkl_config *cfg;
    int64_t unserved;
};

/* How long a notice may be due with no ticklerd running before tickler
 * status calls it a fault: room for a restart, or for a timer that runs
 * ticklerd --oneshot at least this often (its retries wait for its next
 * run). */
#define UNSENT_GRACE 900

/* How long a notice due and tried more than once may go on retrying
 * before tickler status calls it a fault: an outage of its server, or a
 * recipient refused for now, well before delivery.max_age_hours fails it
 * for good (one failure of a notice long due, after a stop, is not one). */
#define RETRY_ALARM 3600

/* The least room, in bytes, on the state directory's file system that
 * tickler status calls healthy: below it a round's commits (its notices,
 * and the write-ahead log SQLite grows for them before a checkpoint) may
 * not fit, and ticklerd then keeps its reminders back, sending nothing new,
 * until there is room. */
#define STATE_MIN_FREE ((int64_t)16 * 1000 * 1000)

/* Makes text from elsewhere (a server's reply, an id from the plan) safe
 * to print and to put in JSON, in place: control characters (a terminal's
 * escapes, C0 and C1) as spaces, and text that is not UTF-8 (or was cut
 * inside a character) as ASCII, its other bytes '?'. */
static void printable(char *s)
{
    tkl_text_printable(s, strlen(s), true);
    if (!tkl_utf8_valid(s, strlen(s)))
        for (char *p = s; *p; p++)
            if ((unsigned char)*p >= 0x80)
                *p = '?';
}

/* Sets what x derives from its numbers at now. */
static void status_settle(struct status *x, int64_t now)
{
    printable(x->st.last_error);
    /* a notice due before now is tried as soon as the daemon can */
    x->next_attempt =
        x->st.next_attempt == INT64_MAX || x->st.next_attempt > now ? x->st.next_attempt : now;
    x->unsent =
        x->running == 0 && x->st.due_since != INT64_MAX && x->st.due_since <= now - UNSENT_GRACE;
    x->failing = x->st.retrying_since != INT64_MAX && x->st.retrying_since <= now - RETRY_ALARM;
    x->disk_full = x->disk_free >= 0 && x->disk_free < STATE_MIN_FREE;
    /* each channel asked about once: those no notifier serves moved to
     * the front, each order kept */
    x->unserved = 0;
    x->n_unserved_channels = 0;
    for (size_t i = 0; i < x->n_channels; i++) {
        if (tkl_config_notifier(x->cfg, x->channels[i].channel))
            continue;
        struct tkl_channel_waiting ch = x->channels[i];
        size_t k = x->n_unserved_channels++;
        memmove(&x->channels[k + 1], &x->channels[k], (i - k) * sizeof(ch));
        x->channels[k] = ch;
        x->unserved += ch.n;
    }
    x->healthy = x->st.failed == 0 && x->stuck == 0 && !x->unsent && !x->failing && !x->disk_full &&
                 !x->unserved;
}

/* Reads the outbox o of the state directory dir into *ret at now, stuck
 * meaning older than cfg's max_age_hours. Returns 0 or a negative errno
 * (then *ret is untouched); else ret->channels is the caller's to free. */
static int status_read(struct tkl_outbox *o, const char *dir, int64_t now,
                       const struct tkl_config *cfg, struct status *ret)
{
    int max_age_hours = cfg->delivery.max_age_hours;
    struct status x = {
        .max_age_hours = max_age_hours, .last_run = INT64_MIN, .disk_free = -1, .cfg = cfg};
    struct statvfs fs;
    if (statvfs(dir, &fs) == 0) /* a file system that says it is endless: as much */
        x.disk_free = fs.f_frsize && fs.f_bavail > (uint64_t)INT64_MAX / fs.f_frsize
                          ? INT64_MAX
                          : (int64_t)(fs.f_bavail * fs.f_frsize);
    else
        fprintf(stderr, "tickler status: cannot tell the room left for the state in %s: %s\n", dir,
                strerror(errno));
    int held = tkl_dirlock_holder(dir, &x.pid);
    x.running = held < 0 ? -1 : held;
    if (held < 0)
        fprintf(stderr, "tickler status: cannot tell whether ticklerd runs: %s/%s: %s\n", dir,
                TKL_DIRLOCK_FILE, strerror(-held));
    int r = tkl_outbox_stats(o, tkl_local_instant(tkl_local_day(now), 0), &x.st);
    if (r == 0)
        r = tkl_outbox_count_waiting(o, now - (int64_t)max_age_hours * 3600, &x.stuck);
    if (r == 0 && (r = tkl_outbox_get_meta(o, "last_run", &x.last_run)) == -ENOENT) {
        x.last_run = INT64_MIN;
        r = 0;
    }
    struct tkl_channel_waiting *channels = NULL;
    if (r == 0 && (r = tkl_outbox_waiting_channels(o, &channels, &x.n_channels)) == 0)
        x.channels = channels;
    if (r < 0)
        return r;
    status_settle(&x, now);
    *ret = x;
    return 0;
}

/* The status of the state on PostgreSQL that c's configuration names,
 * into *ret at now (pg holds what ret->pg points to). Returns 0, -ENOENT
 * when the database holds no tickler state yet (nothing printed), or 1 (the
 * reason printed). */
static int status_read_pg(struct cli *c, int64_t now, struct tkl_pg_status *pg, struct status *ret)
{
    int max_age = c->cfg->delivery.max_age_hours;
    char *err = NULL;
    int r =
        tkl_pg_status_read(c->cfg->state.conninfo_file, tkl_local_instant(tkl_local_day(now), 0),
                           now - (int64_t)max_age * 3600, pg, &err);
    if (r == -ENOENT) {
        free(err);
        return r;
    }
    if (r < 0) {
        fprintf(stderr, "tickler: cannot read the state on PostgreSQL (%s): %s\n",
                c->cfg->state.conninfo_file, err ? err : "failed");
        free(err);
        return 1;
    }
    *ret = (struct status){.st = pg->st,
                           .last_run = pg->last_run,
                           .stuck = pg->stuck,
                           .max_age_hours = max_age,
                           .disk_free = -1, /* the database server's to watch */
                           .pg = pg,
                           .channels = pg->channels,
                           .n_channels = pg->n_channels,
                           .cfg = c->cfg};
    /* the nodes share the work: any one connected sends it */
    for (size_t i = 0; i < pg->n_nodes; i++)
        ret->running |= pg->nodes[i].connected;
    status_settle(ret, now);
    return 0;
}

/* An instant as JSON: ISO 8601 text, or null for none (INT64_MIN or
 * INT64_MAX). */
static json_t *instant_json(int64_t t)
{
    char buf[32];
    return t == INT64_MIN || t == INT64_MAX ? json_null() : json_string(tkl_format_instant(t, buf));
}

/* tickler status --json. Returns the exit code. */
static int status_json(const struct status *x)
{
    /* NULL when anything could not be allocated ("o" takes the reference) */
    json_t *o = json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:I, s:i, s:o, s:o, s:b}", "pending",
        (json_int_t)x->st.pending, "retrying", (json_int_t)x->st.retrying, "failed",
        (json_int_t)x->st.failed, "delivered_today", (json_int_t)x->st.delivered_today, "delivered",
        (json_int_t)x->st.delivered, "withdrawn", (json_int_t)x->st.withdrawn, "next_attempt",
        instant_json(x->next_attempt), "last_run", instant_json(x->last_run), "oldest_pending",
        instant_json(x->st.oldest_pending), "stuck", (json_int_t)x->stuck, "max_age_hours",
        x->max_age_hours, "running", x->running < 0 ? json_null() : json_boolean(x->running),
        "due_since", instant_json(x->st.due_since), "healthy", (int)x->healthy);
    if (o && (json_object_set_new(o, "retrying_since", instant_json(x->st.retrying_since)) < 0 ||
              json_object_set_new(o, "last_error",
                                  x->st.last_error[0] ? json_string(x->st.last_error)
                                                      : json_null()) < 0 ||
              (!x->pg && json_object_set_new(o, "disk_free_bytes",
                                             x->disk_free < 0 ? json_null()
                                                              : json_integer(x->disk_free)) < 0))) {
        json_decref(o);
        o = NULL;
    }
    json_t *waiting = o ? json_object() : NULL;
    for (size_t i = 0; waiting && i < x->n_unserved_channels; i++)
        if (json_object_set_new(waiting, x->channels[i].channel,
                                json_integer((json_int_t)x->channels[i].n)) < 0) {
            json_decref(waiting);
            waiting = NULL;
        }
    if (o && (!waiting || json_object_set_new(o, "waiting_for_notifier", waiting) < 0)) {
        json_decref(o);
        o = NULL;
    }
    if (o && x->pg) {
        json_t *nodes = json_array();
        for (size_t i = 0; nodes && i < x->pg->n_nodes; i++) {
            const struct tkl_pg_node *n = &x->pg->nodes[i];
            if (json_array_append_new(nodes, json_pack("{s:s, s:o, s:I, s:o, s:b}", "id", n->id,
                                                       "last_seen", instant_json(n->last_seen),
                                                       "leases", (json_int_t)n->leases,
                                                       "lease_until", instant_json(n->lease_until),
                                                       "connected", (int)n->connected)) < 0) {
                json_decref(nodes);
                nodes = NULL;
            }
        }
        if (!nodes || json_object_set_new(o, "nodes", nodes) < 0 ||
            json_object_set_new(o, "backend", json_string("postgresql")) < 0) {
            json_decref(o);
            o = NULL;
        }
    }
    int r = json_print(o);
    return r ? r : !x->healthy;
}

/* n bytes as a person reads them: "512 bytes", "3.4 MB", "12.0 GB"
 * (powers of 1,000, as df -H). Returns buf. */
static char *human_bytes(int64_t n, char buf[32])
{
    static const char *const units[] = {"kB", "MB", "GB", "TB", "PB"};
    if (n < 1000) {
        snprintf(buf, 32, "%" PRId64 " byte%s", n, tkl_plural((size_t)n));
        return buf;
    }
    double v = (double)n / 1000;
    size_t u = 0;
    while (v >= 1000 && u + 1 < sizeof(units) / sizeof(units[0])) {
        v /= 1000;
        u++;
    }
    snprintf(buf, 32, "%.1f %s", v, units[u]);
    return buf;
}

/* tickler status as text: the numbers, then why it is not healthy, a
 * line for each reason. Returns the exit code. */
static int status_text(const struct status *x)
{
    char next[32] = "none", oldest[32] = "none";
    char last[64] = "none yet (once ticklerd has run a round)";
    if (x->next_attempt != INT64_MAX)
        tkl_format_instant(x->next_attempt, next);
    if (x->st.oldest_pending != INT64_MAX)
        tkl_format_instant(x->st.oldest_pending, oldest);
    if (x->last_run != INT64_MIN)
        tkl_format_instant(x->last_run, last);
    printf("pending:          %" PRId64 "\n"
           "retrying:         %" PRId64 "\n"
           "failed:           %" PRId64 "\n"
           "delivered today:  %" PRId64 " (%" PRId64 " in all)\n"
           "withdrawn:        %" PRId64 "\n"
           "next attempt:     %s\n"
           "oldest pending:   %s\n"
           "last run:         %s\n",
           x->st.pending, x->st.retrying, x->st.failed, x->st.delivered_today, x->st.delivered,
           x->st.withdrawn, next, oldest, last);
    if (x->disk_free >= 0) {
        char room[32];
        printf("disk free:        %s where the state is\n", human_bytes(x->disk_free, room));
    }
    if (!x->pg && x->running > 0 && x->pid > 0)
        printf("ticklerd:         running (pid %ld)\n", (long)x->pid);
    else if (!x->pg)
        printf("ticklerd:         %s\n", x->running < 0 ? "unknown"
                                         : x->running   ? "running"
                                                        : "not running");
    for (size_t i = 0; x->pg && i < x->pg->n_nodes; i++) {
        const struct tkl_pg_node *n = &x->pg->nodes[i];
        char seen[32] = "never", until[32] = "";
        if (n->last_seen != INT64_MIN)
            tkl_format_instant(n->last_seen, seen);
        if (n->lease_until != INT64_MIN)
            tkl_format_instant(n->lease_until, until);
        printf("node:             %s, %s, last seen %s, %" PRId64 " notice%s leased%s%s\n", n->id,
               n->connected ? "connected" : "not connected", seen, n->leases, tkl_plural(n->leases),
               n->leases ? " until " : "", until);
    }
    if (x->pg && !x->pg->n_nodes)
        printf("node:             none seen yet\n");
    if (x->healthy)
        printf("health:           ok\n");
    if (x->st.failed)
        printf("not healthy:      %" PRId64 " notice%s failed (tickler outbox --failed; tickler "
               "retry --failed)\n",
               x->st.failed, tkl_plural(x->st.failed));
    if (x->failing) {
        char since[32];
        tkl_format_instant(x->st.retrying_since, since);
        printf("not healthy:      %" PRId64 " notice%s retrying, one due since %s and tried "
               "more than once%s%s%s (tickler outbox)\n",
               x->st.retrying, tkl_plural(x->st.retrying), since,
               x->st.last_error[0] ? ", the last error: \"" : "", x->st.last_error,
               x->st.last_error[0] ? "\"" : "");
    }
    if (x->stuck)
        printf("not healthy:      %" PRId64 " notice%s waiting longer than %d hour%s "
               "(delivery.max_age_hours)%s\n",
               x->stuck, tkl_plural(x->stuck), x->max_age_hours,
               tkl_plural((size_t)x->max_age_hours),
               x->running > 0 ? "" : "; is ticklerd running?");
    for (size_t i = 0; i < x->n_unserved_channels; i++)
        printf("not healthy:      %" PRId64 " notice%s wait%s for notifier %s, which the "
               "configuration does not have (renamed or removed?): ticklerd keeps %s until "
               "%d hour%s old, then fails %s; name a notifier %s again and reload to send "
               "%s\n",
               x->channels[i].n, tkl_plural((size_t)x->channels[i].n),
               x->channels[i].n == 1 ? "s" : "", x->channels[i].channel,
               x->channels[i].n == 1 ? "it" : "them", x->max_age_hours,
               tkl_plural((size_t)x->max_age_hours), x->channels[i].n == 1 ? "it" : "them",
               x->channels[i].channel, x->channels[i].n == 1 ? "it" : "them");
    if (x->disk_full) {
        char room[32];
        printf("not healthy:      the state directory's file system has %s free: ticklerd "
               "may soon be unable to commit new notices to its outbox, and reminders then wait "
               "until there is room (free some space there)\n",
               human_bytes(x->disk_free, room));
    }
    if (x->unsent) {
        char due[32];
        tkl_format_instant(x->st.due_since, due);
        printf("not healthy:      notices due since %s and no ticklerd %s to send them "
               "(systemctl start ticklerd%s)\n",
               due, x->pg ? "connected to the database" : "running on this state directory",
               x->pg ? " on a node" : "");
    }
    return fflush(stdout) != 0 || !x->healthy;
}

/* tickler status before ticklerd's first round: there is no state
 * database in dir yet. Says so (and what to do) and returns the exit code,
 * TICKLER_EXIT_NO_STATE. */
static int status_none(const char *dir, bool json)
{
    int r = 0;
    if (json) {
        json_t *o =
            json_pack("{s:s, s:s, s:b}", "state", "none", "state_directory", dir, "healthy", 0);
        r = json_print(o);
    } else {
        printf("state:            none yet (no %s/tickler.db)\n"
               "health:           unknown: ticklerd has not run a round with this state "
               "directory\n",
               dir);
        r = fflush(stdout) != 0;
    }
    fprintf(stderr,
            "tickler: no state yet in %s: ticklerd creates it when it first runs. Check the "
            "configuration (tickler check), then start it (systemctl start ticklerd).\n",
            dir);
    return r ? r : TICKLER_EXIT_NO_STATE;
}

/* tickler status with state.backend "postgresql" before any ticklerd
 * made its tables in the database conninfo_file names: as status_none. */
static int status_none_pg(const char *conninfo_file, bool json)
{
    int r = 0;
    if (json) {
        json_t *o =
            json_pack("{s:s, s:s, s:b}", "state", "none", "backend", "postgresql", "healthy", 0);
        r = json_print(o);
    } else {
        printf("state:            none yet (no tickler tables in the PostgreSQL database)\n"
               "health:           unknown: no ticklerd has run with this database\n");
        r = fflush(stdout) != 0;
    }
    fprintf(stderr,
            "tickler: no state yet in the PostgreSQL database of %s: ticklerd creates it when it "
            "first runs. Check the configuration (tickler check), then start it (systemctl start "
            "ticklerd).\n",
            conninfo_file);
    return r ? r : TICKLER_EXIT_NO_STATE;
}

/* Exits 0 when healthy, 1 when a notice failed or waits longer than
 * delivery.max_age_hours, or the state database cannot be read, and
 * TICKLER_EXIT_NO_STATE when there is none yet. Only reads the database. */
static int cmd_status(struct cli *c, int argc, char **argv)
{
    bool json = false;
    const struct cli_opt opts[] = {{"json", 0, NULL, &json}, {0}};
    int ar = read_args(c, argc, argv, opts, NULL);
    if (ar)
        return args_exit(ar);
    if (load(c, false)) {
        tkl_diags_print(&c->diags, stderr);
        return 1;
    }
    if (c->cfg->state.backend == TKL_STATE_POSTGRESQL) {
        struct tkl_pg_status pg = {0};
        struct status x;
        int r = status_read_pg(c, (int64_t)time(NULL), &pg, &x);
        if (r == -ENOENT)
            return status_none_pg(c->cfg->state.conninfo_file, json);
        if (r)
            return 1;
        int rc = json ? status_json(&x) : status_text(&x);
        tkl_pg_status_free(&pg);
        return rc;
    }
    const char *dir = c->state_dir ? c->state_dir : c->cfg->state_dir;
    struct tkl_outbox *o = NULL;
    char *err = NULL;
    int r = tkl_outbox_open_readonly(dir, &o, &err);
    if (r == -ENOENT && !err)
        return status_none(dir, json);
    struct status x = {0};
    if (r == 0 && moved_away(o, dir, "status")) {
        tkl_outbox_close(o);
        return 1;
    }
    if (r == 0) {
        r = status_read(o, dir, (int64_t)time(NULL), c->cfg, &x);
        tkl_outbox_close(o);
    }
    if (r < 0) {
        fprintf(stderr, "tickler: cannot read the state database %s/tickler.db: %s%s\n", dir,
                err ? err : strerror(-r), access_hint(dir, false));
        free(err);
        return 1;
    }
    int rc = json ? status_json(&x) : status_text(&x);
    tkl_channel_waiting_free(x.channels, x.n_channels);
    return rc;
}

/* One notice of tickler outbox: appended to arr (--json), else printed
 * as a line. lease_node: the node holding a live lease on it (a state
 * shared by nodes), or NULL. Returns 0 or -ENOMEM. */
static int outbox_show(json_t *arr, const struct tkl_stored_notice *s, uint64_t id,
                       const char *lease_node, int64_t lease_until)
{
    char at[32], until[32] = "", shown[72];
    tkl_format_instant(s->notice.due_at, at);
    if (lease_node)
        tkl_format_instant(lease_until, until);
    const char *state = tkl_notice_state_name(s->state, s->attempts);
    if (!arr) {
        /* a reply stored by an older version or node may hold control bytes */
        if (s->last_error)
            printable(s->last_error);
        printf("%5" PRIu64 " %-9s %s %s:%s  %s, %d attempt(s)%s%s%s%s%s%s\n", id, state, at,
               s->notice.channel, s->notice.recipient, tkl_notice_items(&s->notice, shown),
               s->attempts, lease_node ? "  leased to " : "", lease_node ? lease_node : "",
               lease_node ? " until " : "", until, s->last_error ? "  " : "",
               s->last_error ? s->last_error : "");
        return 0;
    }
    json_t *x = json_object();
    jset(x, "id", json_integer((json_int_t)id));
    jset(x, "state", json_string(state));
    jset(x, "channel", json_string(s->notice.channel));
    jset(x, "recipient", json_string(s->notice.recipient));
    jset(x, "team", jstr(s->notice.team_id));
    jset(x, "due_at", json_string(at));
    char queued[32];
    tkl_format_instant(s->created_at, queued);
    jset(x, "queued_at", json_string(queued));
    jset(x, "attempts", json_integer(s->attempts));
    jset(x, "last_error", jstr(s->last_error));
    jset(x, "leased_to", jstr(lease_node));
    jset(x, "lease_until", lease_node ? json_string(until) : json_null());
    json_t *items = json_array(), *entries = json_array();
    for (size_t k = 0; k < s->notice.n_entries; k++) {
        const struct tkl_notice_entry *e = &s->entries[k];
        jadd(items, json_string(e->item_id));
        json_t *y = json_object();
        jset(y, "item", json_string(e->item_id));
        jset(y, "title", jstr(e->title));
        jset(y, "stage", jstr(s->stage_keys[k]));
        jset(y, "late", json_boolean(e->late));
        jadd(entries, y);
    }
    jset(x, "items", items);
    jset(x, "entries", entries);
    return x && json_array_append_new(arr, x) == 0 ? 0 : -ENOMEM;
}

/* tickler outbox on PostgreSQL: the shared notices, each with the node
 * holding a lease on it. Returns the exit code. */
static int outbox_pg(struct cli *c, bool failed_only, bool json)
{
    struct tkl_pg_listed *v = NULL;
    size_t n = 0;
    char *err = NULL;
    if (tkl_pg_outbox_list(c->cfg->state.conninfo_file, failed_only, (int64_t)time(NULL), &v, &n,
                           &err) < 0) {
        fprintf(stderr, "tickler: cannot read the outbox on PostgreSQL (%s): %s\n",
                c->cfg->state.conninfo_file, err ? err : "failed");
        free(err);
        return 1;
    }
    json_t *arr = json ? json_array() : NULL;
    int r = json && !arr ? -ENOMEM : 0;
    for (size_t i = 0; r == 0 && i < n; i++)
        r = outbox_show(arr, v[i].s, v[i].s->notice.id, v[i].lease_node, v[i].lease_until);
    tkl_pg_listed_free(v, n);
    if (r < 0) {
        json_decref(arr);
        fprintf(stderr, "tickler: out of memory\n");
        return 1;
    }
    return json ? json_print(arr) : fflush(stdout) != 0;
}

static int cmd_outbox(struct cli *c, int argc, char **argv)
{
    bool failed_only = false, json = false;
    const struct cli_opt opts[] = {
        {"failed", 0, NULL, &failed_only}, {"json", 0, NULL, &json}, {0}};
    int ar = read_args(c, argc, argv, opts, NULL);
    if (ar)
        return args_exit(ar);
    struct tkl_outbox *o = NULL;
    if (open_outbox(c, &o))
        return 1;
    if (!o)
        return outbox_pg(c, failed_only, json);
    uint64_t *ids = NULL;
    size_t n = 0;
    int r = tkl_outbox_list(o, failed_only, &ids, &n);
    if (r < 0) {
        fprintf(stderr, "tickler: cannot read the outbox: %s\n", strerror(-r));
        tkl_outbox_close(o);
        return 1;
    }
    json_t *arr = json ? json_array() : NULL;
    r = json && !arr ? -ENOMEM : 0;
    if (r < 0)
        fprintf(stderr, "tickler: out of memory\n");
    for (size_t i = 0; r == 0 && i < n; i++) {
        struct tkl_stored_notice *s = NULL;
        r = tkl_outbox_get(o, ids[i], &s);
        if (r < 0) {
            fprintf(stderr, "tickler: cannot read notice %" PRIu64 ": %s\n", ids[i], strerror(-r));
            break;
        }
        r = outbox_show(arr, s, ids[i], NULL, 0);
        tkl_stored_notice_free(s);
        if (r < 0) {
            fprintf(stderr, "tickler: out of memory\n");
            break;
        }
    }
    free(ids);
    tkl_outbox_close(o);
    if (r < 0) { /* what was read is not the outbox */
        json_decref(arr);
        return 1;
    }
    return json ? json_print(arr) : fflush(stdout) != 0;
}

/* ---- send-test --------------------------------------------------------- */

struct send_test {
    bool done;
    enum tkl_delivery_status status;
    char *reply;     /* as the daemon keeps one (tkl_text_reply_line); NULL: none */
    bool reply_lost; /* out of memory */
};

static void on_test_done(void *data, const struct tkl_delivery *res)
{
    struct send_test *t = data;
    t->done = true;
    t->status = res ? res->status : TKL_DELIVERY_TRANSIENT;
    free(t->reply);
    t->reply = tkl_text_reply_line(res && res->reply ? res->reply : "", TKL_REPLY_MAX);
    t->reply_lost = !t->reply;
}

/* Up to max active actions of the store as digest entries, soonest first,
 * or one made-up action when the store has none. */
static size_t sample_entries(const struct tkl_store *st, int32_t today, struct tkl_notice_entry *v,
                             size_t max)
{
    size_t n = 0;
    for (size_t i = 0; st && i < st->n && n < max; i++) {
        const struct tkl_action *a = &st->actions[i];
        if (!tkl_action_active(a))
            continue;
        int32_t dl = a->deadline.day;
        enum tkl_stage stage = dl == TKL_NO_DAY ? TKL_STAGE_CHECKIN
                               : dl < today     ? TKL_STAGE_OVERDUE
                               : dl == today    ? TKL_STAGE_DUE
                                                : TKL_STAGE_LEAD;
        tkl_route_entry(a, stage, today, false, &v[n++]);
    }
    if (n == 0)
        v[n++] = (struct tkl_notice_entry){
            .size = sizeof(v[0]),
            .item_id = "SAMPLE-1",
            .title = "A sample action: check that reminders reach you",
            .owners = "tickler send-test",
            .deadline_text = "in a week",
            .status = "NEW",
            .deadline_day = today + 7,
            .kind = TKL_DEADLINE_DATE,
            .stage = TKL_STAGE_LEAD,
            .days_left = 7,
        };
    return n;
}

/* Reads NOTIFIER and --to RECIPIENT. Returns what read_args returns,
 * -EINVAL too after saying which is missing. */
static int send_test_args(struct cli *c, int argc, char **argv, const char **ret_channel,
                          const char **ret_to)
{
    const char *channel = NULL, *to = NULL;
    const struct cli_opt opts[] = {{"to", 0, &to, NULL}, {0}};
    struct cli_args args = {.v = &channel, .max = 1};
    int r = read_args(c, argc, argv, opts, &args);
    if (r)
        return r;
    if (!channel || !to) {
        fprintf(stderr, "tickler send-test: %s\n",
                !channel ? "which notifier?" : "--to is missing");
        usage_hint(c);
        return -EINVAL;
    }
    *ret_channel = channel;
    *ret_to = to;
    return 0;
}

/* Asks the notifier, when it can tell (ABI 2), whether it can deliver to
 * `to`. Returns 0, or its negative errno after saying why not. */
static int check_recipient(const struct tkl_plugin_instance *p, const char *channel, const char *to)
{
    char *why = NULL;
    int r = tkl_plugin_check_recipient(p, to, &why);
    /* quoted on the message's one line, as a configuration would write it */
    char *shown = r < 0 ? tkl_text_escape(to) : NULL;
    if (r < 0)
        fprintf(stderr, "tickler send-test: %s cannot deliver to \"%s\": %s\n", channel,
                shown ? shown : "(it cannot be shown: out of memory)",
                why ? why : "(its reason cannot be shown: out of memory)");
    free(shown);
    free(why);
    return r;
}

/* Hands the notifier p a sample digest for `to`, from the actions of st
 * (when loaded) and the calendar title of cfg, and runs loop until p has
 * answered into *t or nothing is
 * left to run.
 * Returns 0, or the negative errno with which p refused the notice (said
 * on stderr). */
static int send_sample(const struct tkl_config *cfg, const struct tkl_store *st,
                       const struct tkl_plugin_conf *nc, struct tkl_plugin_instance *p,
                       const char *to, uv_loop_t *loop, struct send_test *t)
{
    int64_t now = (int64_t)time(NULL);
    struct tkl_notice_entry entries[3];
    struct tkl_notice n = {
        .size = sizeof(n),
        .id = (uint64_t)now,
        .channel = nc->name,
        .recipient = to,
        .team_id = "send-test",
        .team_name = "tickler send-test",
        .due_at = now,
        .entries = entries,
        .n_entries = sample_entries(st, tkl_local_day(now), entries, 3),
        .calendar_title = cfg->calendar_title,
    };
    printf("sending a sample digest of %zu action(s) to %s through %s (plugin %s)\n", n.n_entries,
           to, nc->name, nc->plugin);
    int r = p->desc->deliver(p->state, &n, on_test_done, t);
    if (r < 0) {
        fprintf(stderr, "tickler send-test: the notifier refused the notice: %s\n", strerror(-r));
        return r;
    }
    while (!t->done && uv_run(loop, UV_RUN_ONCE))
        ;
    return 0;
}

/* Sends the sample through nc on a loop of its own, shows the answer,
 * stops the notifier and closes the loop. Returns the exit code: 0 when
 * the notice was delivered, else 1. */
static int run_send_test(struct cli *c, const struct tkl_plugin_conf *nc, const char *to)
{
    uv_loop_t loop = {0}; /* loop.data is read by the host before it is set */
    struct tkl_host_services svc = {.loop = &loop};
    struct tkl_plugin_instance *p = NULL;
    struct send_test t = {0};
    int r, rc = 1;
    if (uv_loop_init(&loop) < 0)
        return 1;
    if ((r = tkl_transfers_new(&loop, &svc.transfers)) < 0) {
        fprintf(stderr, "tickler send-test: cannot set up libcurl: %s\n", strerror(-r));
        goto out_loop;
    }
    r = tkl_notifier_open(c->plugin_dir ? c->plugin_dir : c->cfg->plugin_dir, &c->cfg->plugins, nc,
                          &svc, c->state_dir ? c->state_dir : c->cfg->state_dir, &p, &c->diags);
    if (r == 0 && p->desc->start && (r = p->desc->start(p->state)) == 0)
        p->started = true;
    if (r < 0) {
        tkl_diags_print(&c->diags, stderr);
        fprintf(stderr, "tickler send-test: notifier \"%s\" (plugin %s) could not start: %s\n",
                nc->name, nc->plugin, strerror(-r));
        goto out;
    }
    if (check_recipient(p, nc->name, to) < 0 ||
        send_sample(c->cfg, c->st, nc, p, to, &loop, &t) < 0)
        goto out;
    static const char *const what[] = {"delivered", "failed, would be retried",
                                       "failed, would not be retried"};
    printf("%s: %s\n", t.done ? what[t.status % 3] : "no answer",
           t.reply_lost ? "(the reply cannot be shown: out of memory)"
           : t.reply    ? t.reply
                        : "");
    rc = t.done && t.status == TKL_DELIVERY_OK ? 0 : 1;
out:
    tkl_host_stop_instance(p);
    tkl_transfers_close(svc.transfers);
    uv_run(&loop, UV_RUN_DEFAULT);
    tkl_plugin_close(p);
    free(t.reply);
out_loop:
    if (uv_loop_close(&loop) != 0) {
        fprintf(stderr, "tickler send-test: libuv handles left open\n");
        rc = 1;
    }
    return rc;
}

static int cmd_send_test(struct cli *c, int argc, char **argv)
{
    const char *channel, *to;
    int ar = send_test_args(c, argc, argv, &channel, &to);
    if (ar)
        return args_exit(ar);
    if (load(c, false)) {
        tkl_diags_print(&c->diags, stderr);
        return 1;
    }
    const struct tkl_plugin_conf *nc = tkl_config_notifier(c->cfg, channel);
    if (!nc) {
        fprintf(stderr, "tickler send-test: no notifier named \"%s\" in %s\n", channel, c->config);
        return 1;
    }
    /* the store is optional here: its actions make the sample realistic */
    struct tkl_diags quiet = {0};
    tkl_store_load(&c->cfg->store, &c->cfg->teams, &c->st, &quiet);
    tkl_diags_free(&quiet);
    return run_send_test(c, nc, to);
}

/* Touches the wake-up file a running ticklerd watches. Made by root, it is
 * given to the state directory's owner (the service's user), so that
 * whoever runs tickler as that user can touch it later. Returns 0 or a
 * negative errno. */
static int wake_daemon(const char *state_dir)
{
    char *path = NULL;
    struct stat dir;
    if (asprintf(&path, "%s/wakeup", state_dir) < 0)
        return -ENOMEM;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int r = fd < 0 ? -errno : 0;
    if (fd >= 0 && geteuid() == 0 && stat(state_dir, &dir) == 0 && dir.st_uid != 0 &&
        fchown(fd, dir.st_uid, dir.st_gid) < 0)
        r = -errno;
    if (fd >= 0 && close(fd) < 0 && r == 0)
        r = -errno;
    free(path);
    return r;
}

#define RETRY_MAX_IDS 256

/* Reads the notice ids (at most RETRY_MAX_IDS) into ids, or --failed.
 * Returns what read_args returns, -EINVAL too after saying what is wrong. */
static int retry_args(struct cli *c, int argc, char **argv, uint64_t *ids, size_t *ret_n,
                      bool *ret_all)
{
    const char *v[RETRY_MAX_IDS];
    bool all = false;
    const struct cli_opt opts[] = {{"failed", 0, NULL, &all}, {0}};
    struct cli_args args = {.v = v, .max = RETRY_MAX_IDS};
    int r = read_args(c, argc, argv, opts, &args);
    if (r)
        return r;
    for (size_t i = 0; i < args.n; i++) {
        char *end;
        errno = 0;
        unsigned long long id = strtoull(v[i], &end, 10);
        if (errno || *end || !id || v[i][0] < '0' || v[i][0] > '9') {
            fprintf(stderr, "tickler retry: '%s' is not a notice id (see tickler outbox)\n", v[i]);
            return -EINVAL;
        }
        ids[i] = (uint64_t)id;
    }
    if (all == (args.n > 0)) {
        fprintf(stderr, "tickler retry: %s\n",
                all ? "either ids or --failed, not both" : "which notices? (ids or --failed)");
        usage_hint(c);
        return -EINVAL;
    }
    *ret_n = args.n;
    *ret_all = all;
    return 0;
}

/* tickler retry on PostgreSQL: ids (n of them) or, n == 0, every failed
 * notice queued again; the nodes are woken by the database. Returns the
 * exit code. */
/* What tickler retry queued again, and the failure reports it withdrew. */
static void print_requeued(int64_t n, int64_t reports)
{
    printf("%" PRId64 " notice%s queued again\n", n, tkl_plural(n));
    if (reports)
        printf("%" PRId64 " failure report%s withdrawn: the %s queued again above (one that "
               "fails again is reported anew), or resolved before\n",
               reports, tkl_plural(reports),
               reports == 1 ? "failure it reports is" : "failures they report are");
}

static int retry_pg(struct cli *c, const uint64_t *ids, size_t n)
{
    struct tkl_pg_requeued named[RETRY_MAX_IDS];
    int64_t total = 0, reports = 0;
    char *err = NULL;
    if (tkl_pg_outbox_requeue(c->cfg->state.conninfo_file, ids, n, (int64_t)time(NULL), &total,
                              &reports, named, &err) < 0) {
        fprintf(stderr, "tickler retry: cannot update the outbox on PostgreSQL (%s): %s\n",
                c->cfg->state.conninfo_file, err ? err : "failed");
        free(err);
        return 1;
    }
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        char until[32];
        switch (named[i].why) {
        case TKL_PG_REQUEUED:
            break;
        case TKL_PG_LEASED:
            tkl_format_instant(named[i].lease_until, until);
            fprintf(stderr,
                    "tickler retry: notice %" PRIu64 " is being sent by node %s (leased until "
                    "%s): not queued again\n",
                    named[i].id, named[i].lease_node, until);
            bad = 1;
            break;
        case TKL_PG_NO_NOTICE:
            fprintf(stderr, "tickler retry: there is no notice %" PRIu64 " in the outbox\n",
                    named[i].id);
            bad = 1;
            break;
        case TKL_PG_NOT_FAILED:
            fprintf(stderr,
                    "tickler retry: notice %" PRIu64 " is not a failed or withdrawn notice\n",
                    named[i].id);
            bad = 1;
            break;
        }
    }
    tkl_pg_requeued_free(named, n);
    print_requeued(total, reports);
    return bad;
}

static int cmd_retry(struct cli *c, int argc, char **argv)
{
    bool all = false;
    uint64_t ids[RETRY_MAX_IDS];
    size_t n = 0;
    int ar = retry_args(c, argc, argv, ids, &n, &all);
    if (ar)
        return args_exit(ar);
    struct tkl_outbox *o = NULL;
    if (open_outbox(c, &o))
        return 1;
    if (!o)
        return retry_pg(c, ids, all ? 0 : n);
    int64_t now = (int64_t)time(NULL), total = 0, k = 0, reports = 0;
    int r = 0, bad = 0;
    if (all) {
        r = tkl_outbox_requeue_failed(o, now, &total, &reports);
    } else {
        for (size_t i = 0; r == 0 && i < n; i++) {
            r = tkl_outbox_requeue(o, ids[i], now, &k);
            if (r == 0 && k == 0) {
                struct tkl_stored_notice *sn = NULL;
                int g = tkl_outbox_get(o, ids[i], &sn);
                if (g == -ENOENT)
                    fprintf(stderr, "tickler retry: there is no notice %" PRIu64 " in the outbox\n",
                            ids[i]);
                else
                    fprintf(stderr,
                            "tickler retry: notice %" PRIu64
                            " is not a failed or withdrawn notice%s%s\n",
                            ids[i], g == 0 ? ": it is " : "",
                            g == 0 ? tkl_notice_state_name(sn->state, sn->attempts) : "");
                tkl_stored_notice_free(sn);
                bad = 1;
            }
            total += k;
        }
    }
    tkl_outbox_close(o);
    if (r < 0) {
        fprintf(stderr, "tickler retry: cannot update the outbox: %s\n",
                r == -EBUSY ? "it is locked by another process (ticklerd writing); try again"
                            : strerror(-r));
        return 1;
    }
    print_requeued(total, reports);
    if ((r = wake_daemon(c->state_dir ? c->state_dir : c->cfg->state_dir)) < 0)
        fprintf(stderr,
                "tickler retry: cannot wake a running ticklerd (%s): it sends them at its "
                "next delivery round, or on SIGHUP (systemctl reload ticklerd)\n",
                strerror(-r));
    return bad;
}

/* ---- report and updates ---------------------------------------------- */

/*
 * Reads every update recorded in the state database into *ret, opened to
 * read only: with no database there are no updates (said on stderr, for
 * cmd) and none is created. state.backend "postgresql": the shared
 * database's. Returns 0, or 1 after saying why the database cannot be
 * read.
 */
static int read_updates(struct cli *c, const char *cmd, struct tkl_updates *ret)
{
    const char *dir = c->state_dir ? c->state_dir : c->cfg->state_dir;
    struct tkl_outbox *o = NULL;
    char *err = NULL;
    if (c->cfg->state.backend == TKL_STATE_POSTGRESQL)
        return read_updates_pg(c, cmd, ret);
    if (state_dir_missing(c, cmd))
        return 1;
    int r = tkl_outbox_open_readonly(dir, &o, &err);
    if (r == -ENOENT) {
        fprintf(stderr, "tickler %s: no state database in %s: no updates recorded%s\n", cmd, dir,
                strcmp(cmd, "report") ? "" : "; the report shows the plan alone");
        return 0;
    }
    if (r == 0)
        r = tkl_outbox_updates(o, NULL, 0, INT64_MAX, ret);
    tkl_outbox_close(o);
    if (r < 0)
        fprintf(stderr, "tickler %s: cannot read the updates in %s: %s%s\n", cmd, dir,
                err ? err : strerror(-r), access_hint(dir, false));
    free(err);
    return r < 0 ? 1 : 0;
}

struct report_args {
    const char *from, *to, *format, *output;
    enum tkl_report_format f;
    int32_t lo, hi; /* the period: days [lo, hi) */
};

/* The period of a's --from and --to into a->lo and a->hi, today (in the
 * configured zone once the configuration is read) giving the default.
 * Returns 0, or 3 (bad usage, said). */
static int report_period(struct report_args *a)
{
    int32_t today = tkl_local_day((int64_t)time(NULL));
    if (tkl_report_period(a->from, a->to, today, &a->lo, &a->hi) < 0) {
        fprintf(stderr, "tickler report: --from and --to are days (YYYY-MM-DD), --to not "
                        "before --from, at most 50 years apart\n");
        return 3;
    }
    return 0;
}

/* Whether path names the file standard output is open on (-o /dev/stdout
 * into a log): written through standard output itself, as it was opened
 * (appending, at its offset), not truncated by a second open. */
static bool is_stdout(const char *path)
{
    struct stat st, out;
    return stat(path, &st) == 0 && fstat(STDOUT_FILENO, &out) == 0 && st.st_dev == out.st_dev &&
           st.st_ino == out.st_ino;
}

/* Says that a Word document is not written to a terminal. Returns the
 * exit status, 2. */
static int word_not_for_a_terminal(void)
{
    fprintf(stderr, "tickler report: a Word document is not for a terminal: give -o FILE "
                    "(progress-report.docx) or redirect the output\n");
    return 2;
}

/* Reads the options of tickler report (the period checked here, and read
 * again by report_period once the configuration set the zone). Returns 0,
 * or the exit status (0 after --help, 2 for bad usage) plus one. */
static int report_args(struct cli *c, int argc, char **argv, struct report_args *a)
{
    *a = (struct report_args){.format = "html"};
    const struct cli_opt opts[] = {{"from", 0, &a->from, NULL},
                                   {"to", 0, &a->to, NULL},
                                   {"format", 0, &a->format, NULL},
                                   {"output", 'o', &a->output, NULL},
                                   {0}};
    int ar = read_args(c, argc, argv, opts, NULL);
    if (ar)
        return args_exit(ar) + 1;
    if (tkl_report_format_parse(a->format, &a->f) < 0) {
        fprintf(stderr, "tickler report: --format must be html, docx, csv or md\n");
        return 3;
    }
    if (a->f == TKL_REPORT_WORD && (!a->output || is_stdout(a->output)) && isatty(STDOUT_FILENO))
        return word_not_for_a_terminal() + 1;
    char why[512];
    if (a->f == TKL_REPORT_WORD && tkl_report_word_load(why, sizeof(why)) < 0) {
        fprintf(stderr, "tickler report: %s\n", why);
        return 2;
    }
    return report_period(a);
}

/* Whether a file that path names must be written in place rather than
 * replaced (its inode kept): no regular file (a device, a pipe), one with
 * other names (hard links), or a symbolic link to nothing yet (written
 * through, as fopen does). Returns 1, 0, or a negative errno; when 0,
 * *exists says whether path names a file, and *st is that file's. */
static int report_in_place(const char *path, struct stat *st, bool *exists)
{
    struct stat lst;
    *exists = false;
    if (lstat(path, &lst) < 0)
        return errno == ENOENT ? 0 : -errno; /* a new file */
    if (stat(path, st) < 0)
        return errno == ENOENT ? 1 : -errno;
    *exists = true;
    return !S_ISREG(st->st_mode) || st->st_nlink > 1;
}

/* The file a report for path is written in before it takes path's name:
 * new, beside path (one file system, so the rename is atomic), hidden,
 * with the mode, owner and group path has (or a new file's: 0666 less the
 * umask). Sets *ret_fd (above standard error) and, to free, *ret_tmp and
 * *ret_target (path, or the file a symbolic link at path names); or
 * *ret_fd to -1 when path is to be written in place: report_in_place's,
 * or where the file cannot be replaced as it was (a directory this user
 * cannot write to, an owner it cannot give). A file this user cannot
 * write to is refused, as opening it would be. Returns 0 or a negative
 * errno. */
static int report_tmp(const char *path, int *ret_fd, char **ret_tmp, char **ret_target)
{
    struct stat st = {0};
    mode_t mode;
    char *target = NULL, *dir = NULL, *tmp = NULL;
    bool exists;
    *ret_fd = -1;
    int r = report_in_place(path, &st, &exists);
    if (r != 0)
        return r < 0 ? r : 0;
    if (exists) {
        if (access(path, W_OK) < 0)
            return -errno;
        mode = st.st_mode & 07777;
        if (!(target = realpath(path, NULL)))
            return -errno;
    } else {
        mode = umask(0);
        umask(mode);
        mode = 0666 & ~mode;
        if (!(target = strdup(path)))
            return -ENOMEM;
    }
    const char *base = strrchr(target, '/');
    base = base ? base + 1 : target;
    int fd = -1;
    r = -ENOMEM;
    if (!(dir = tkl_path_dir(target)) || asprintf(&tmp, "%s/.%s.XXXXXX", dir, base) < 0) {
        tmp = NULL;
        goto fail;
    }
    if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
        r = errno == EACCES || errno == EPERM || errno == EROFS ? 0 : -errno;
        goto fail;
    }
    if (fd <= STDERR_FILENO) { /* a closed standard stream's number */
        int high = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
        r = high < 0 ? -errno : 0;
        (void)close(fd);
        fd = high;
        if (fd < 0)
            goto fail_unlink;
    }
    if (fchmod(fd, mode) < 0) {
        r = -errno;
        goto fail_unlink;
    }
    if (exists && (st.st_uid != geteuid() || st.st_gid != getegid()) &&
        fchown(fd, st.st_uid, st.st_gid) < 0) {
        r = 0; /* not this user's to give: written in place, as it was */
        goto fail_unlink;
    }
    free(dir);
    *ret_fd = fd;
    *ret_tmp = tmp;
    *ret_target = target;
    return 0;
fail_unlink:
    if (fd >= 0)
        (void)close(fd);
    (void)unlink(tmp);
fail:
    free(dir);
    free(tmp);
    free(target);
    return r;
}

/* Writes len bytes of data to fd, on disk when it returns 0, and closes
 * fd. Returns 0 or a negative errno (the write's own: ENOSPC, EFBIG). */
static int write_synced(int fd, const char *data, size_t len)
{
    int r = tkl_remote_write_all(fd, data, len);
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (close(fd) < 0 && r == 0)
        r = -errno;
    return r;
}

/* Why a write to standard output failed (r, a negative errno), in plain
 * words where its cause is the file standard output is on: its disk full,
 * the file size limit, the user's disk quota; else r's own text. */
static const char *stdout_failure(int r, char *buf, size_t size)
{
    const char *why = r == -ENOSPC   ? "the disk holding the file it is on is full"
                      : r == -EFBIG  ? "the file it is on would pass the file size limit of "
                                       "this process (ulimit -f)"
                      : r == -EDQUOT ? "this user's disk quota is exceeded on the disk holding "
                                       "the file it is on"
                                     : NULL;
    if (why)
        snprintf(buf, size, "%s (%s)", why, strerror(-r));
    else
        snprintf(buf, size, "%s", strerror(-r));
    return buf;
}

/* Standard output was closed when tickler started (tkl_std_streams_open
 * put /dev/null there): what is written to it goes nowhere. */
static bool stdout_was_closed;

/* Whether -o path is standard output: its file. When standard output was
 * closed at start, that is the /dev/null put there, which -o names as
 * itself (its directory resolved, its own name /dev/null) or through
 * descriptor 1 (/dev/stdout, /proc/self/fd/1, a link to one), only the
 * latter taken as standard output. */
static bool output_is_stdout(const char *path)
{
    if (!is_stdout(path))
        return false;
    if (!stdout_was_closed)
        return true;
    char *dir = tkl_path_dir(path), *real = dir ? realpath(dir, NULL) : NULL;
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
    bool named = real && strcmp(real, "/dev") == 0 && strcmp(base, "null") == 0;
    free(dir);
    free(real);
    return !named; /* also when it cannot be told: refused, nothing lost */
}

/*
 * Writes the report of the plan and updates in a's format to a.output
 * (or standard output). A file named by -o is replaced only by a whole
 * report, on disk: made in memory, written beside it, flushed, then
 * renamed over it; a failure leaves it as it was and nothing beside it.
 * Standard output gets the report made in memory too, so that a write
 * that fails says why (a full disk, not the stream's bare error).
 * Returns the exit code.
 */
static int report_write(const struct report_args *a, const struct tkl_report *r)
{
    /* a write past the file size limit (ulimit -f) fails with EFBIG, said
     * as any failed write, instead of SIGXFSZ ending the process unsaid */
    (void)signal(SIGXFSZ, SIG_IGN);
    char *tmp = NULL, *target = NULL, *data = NULL;
    size_t len = 0;
    FILE *out = stdout;
    const char *output = a->output && !output_is_stdout(a->output) ? a->output : NULL;
    if (!output && stdout_was_closed) {
        fprintf(stderr, "tickler report: standard output is closed, so the report would go "
                        "nowhere; redirect it to a file, or name one with -o FILE\n");
        return 1;
    }
    int fd = -1, e = output ? report_tmp(output, &fd, &tmp, &target) : 0;
    if (fd >= 0 || !output)
        out = open_memstream(&data, &len);
    else if (e == 0 && output)
        out = fopen(output, a->f == TKL_REPORT_WORD ? "wb" : "w");
    if (e == 0 && !out)
        e = -errno;
    if (e == 0 && output && !tmp && a->f == TKL_REPORT_WORD && isatty(fileno(out))) {
        (void)fclose(out); /* -o naming a terminal (/dev/tty): nothing written */
        return word_not_for_a_terminal();
    }
    if (e < 0) {
        fprintf(stderr, "tickler report: cannot write %s: %s\n",
                a->output ? a->output : "the report", strerror(-e));
        if (tmp) {
            (void)close(fd);
            (void)unlink(tmp);
        }
        free(tmp);
        free(target);
        return 1;
    }
    int err = tkl_report_write(out, r, a->f);
    if (fclose(out) != 0 && err == 0)
        err = -errno;
    if (!output) {
        if (err == 0 && fflush(stdout) != 0) /* what was printed before it */
            err = -errno;
        if (err == 0)
            err = tkl_remote_write_all(STDOUT_FILENO, data, len);
        if (err < 0) {
            char why[256];
            fprintf(stderr, "tickler report: cannot write the report to standard output: %s\n",
                    stdout_failure(err, why, sizeof(why)));
        }
        free(data);
        return err < 0 ? 1 : 0;
    }
    if (tmp) {
        if (err == 0)
            err = write_synced(fd, data, len);
        else
            (void)close(fd); /* nothing written to lose */
        if (err == 0 && rename(tmp, target) < 0)
            err = -errno;
        if (err == 0) /* a failure leaves the rename to the kernel's writeback */
            (void)tkl_remote_sync_dir(target);
        else
            (void)unlink(tmp);
    }
    if (err < 0)
        fprintf(stderr, "tickler report: cannot write the report to %s: %s%s\n", a->output,
                strerror(-err), tmp ? "; the file is as it was" : "");
    free(data);
    free(tmp);
    free(target);
    return err < 0 ? 1 : 0;
}

static int cmd_report(struct cli *c, int argc, char **argv)
{
    struct report_args a;
    int ar = report_args(c, argc, argv, &a);
    if (ar)
        return ar - 1;
    if (load(c, true)) {
        tkl_diags_print(&c->diags, stderr);
        return 1;
    }
    if (report_period(&a)) /* today where the plan is kept: the zone is set now */
        return 2;
    struct tkl_updates l = {0};
    if (read_updates(c, "report", &l))
        return 1;
    struct tkl_report r;
    int rc = 1;
    if (tkl_report_build(c->st, &l, &c->cfg->report, a.lo, a.hi, tkl_local_day((int64_t)time(NULL)),
                         &r) < 0) {
        fprintf(stderr, "tickler: out of memory\n");
    } else {
        rc = report_write(&a, &r);
        char period[64];
        if (rc == 0) /* else no report was written to count */
            fprintf(stderr,
                    "progress %s: %zu actions, %zu complete or on schedule, %zu ongoing, %zu "
                    "incomplete\n",
                    tkl_report_period_text(a.lo, a.hi, period, sizeof(period)), r.n,
                    r.counts[TKL_REPORT_COMPLETE], r.counts[TKL_REPORT_ONGOING],
                    r.counts[TKL_REPORT_INCOMPLETE]);
        for (size_t i = 0; rc == 0 && i < r.n_orphans; i++) {
            char id[256]; /* as recorded: from the plan, through a signed link */
            const char *gone = r.orphans[i].action_id;
            snprintf(id, sizeof(id), "%.*s", (int)tkl_utf8_prefix(gone, sizeof(id) - 1), gone);
            printable(id);
            fprintf(stderr,
                    "tickler report: %zu update%s of the period for %s, which the plan no longer "
                    "has, listed at the end of the report\n",
                    r.orphans[i].n_notes, tkl_plural(r.orphans[i].n_notes), id);
        }
        tkl_report_free(&r);
    }
    tkl_updates_free(&l);
    return rc;
}

/* tickler updates as text: one line per update, its note's first line. */
static void updates_text(const struct tkl_updates *l, int64_t since)
{
    for (size_t i = 0; i < l->n; i++) {
        const struct tkl_update *u = &l->v[i];
        if (u->at < since)
            continue;
        char at[32], extra[32] = "";
        tkl_format_instant(u->at, at);
        if (u->kind == TKL_UPDATE_SNOOZE)
            snprintf(extra, sizeof(extra), " until %s",
                     tkl_day_format(u->until_day, (char[11]){0}));
        else if (u->rag)
            snprintf(extra, sizeof(extra), " %s", tkl_rag_name(u->rag));
        const char *note = u->note ? u->note : u->suggested_team ? u->suggested_team : "";
        printf("%5lld %s %-8s %-14s %s%s%s%.*s\n", (long long)u->id, at,
               tkl_update_kind_name(u->kind), u->action_id, u->recipient, extra, *note ? ": " : "",
               (int)strcspn(note, "\r\n"), note);
    }
}

static int cmd_updates(struct cli *c, int argc, char **argv)
{
    const char *since_arg = NULL;
    bool json = false, csv = false;
    const struct cli_opt opts[] = {
        {"since", 0, &since_arg, NULL}, {"json", 0, NULL, &json}, {"csv", 0, NULL, &csv}, {0}};
    int ar = read_args(c, argc, argv, opts, NULL);
    if (ar)
        return args_exit(ar);
    int32_t day = 0;
    if ((json && csv) || (since_arg && tkl_day_parse_iso(since_arg, &day) < 0)) {
        fprintf(stderr, "tickler updates: %s\n",
                json && csv ? "--json or --csv, not both" : "--since is not a date (YYYY-MM-DD)");
        return 2;
    }
    if (load(c, false)) {
        tkl_diags_print(&c->diags, stderr);
        return 1;
    }
    /* midnight in the configured zone, set by load() */
    int64_t since = since_arg ? tkl_local_instant(day, 0) : 0;
    /* the plan gives each update its action's title; without it, none */
    struct tkl_diags quiet = {0};
    tkl_store_load(&c->cfg->store, &c->cfg->teams, &c->st, &quiet);
    tkl_diags_free(&quiet);
    struct tkl_updates l = {0};
    if (read_updates(c, "updates", &l))
        return 1;
    int rc = 0;
    if (json)
        rc = json_print(tkl_updates_json(&l, c->st, &c->cfg->schedule, &c->cfg->teams, since,
                                         tkl_local_day((int64_t)time(NULL))));
    else if (csv) {
        int r = tkl_updates_csv(stdout, &l, c->st, &c->cfg->schedule, &c->cfg->teams, since,
                                tkl_local_day((int64_t)time(NULL)));
        if (r == 0 && fflush(stdout) != 0)
            r = -errno;
        if (r < 0)
            fprintf(stderr, "tickler updates: cannot write the export: %s\n", strerror(-r));
        rc = r < 0;
    } else
        updates_text(&l, since);
    tkl_updates_free(&l);
    return rc;
}

/* Whether address is a recipient of a team that owns a. */
static bool recipient_of(const struct tkl_team_dir *dir, const struct tkl_action *a,
                         const char *address)
{
    for (size_t k = 0; k < a->n_teams; k++)
        if (tkl_team_lists(tkl_team_find(dir, a->teams[k]), address))
            return true;
    return false;
}

/* Reads ACTION-ID, RECIPIENT and --expires-in. Returns what read_args
 * returns, -EINVAL too after saying what is wrong. */
static int link_args(struct cli *c, int argc, char **argv, const char **ret_id, const char **ret_to,
                     int *ret_days)
{
    const char *v[2] = {NULL, NULL}, *days = NULL;
    const struct cli_opt opts[] = {{"expires-in", 0, &days, NULL}, {0}};
    struct cli_args args = {.v = v, .max = 2};
    int r = read_args(c, argc, argv, opts, &args);
    if (r)
        return r;
    if (args.n < 2) {
        fprintf(stderr, "tickler link: %s\n", args.n ? "for whom? (RECIPIENT)" : "which action?");
        usage_hint(c);
        return -EINVAL;
    }
    *ret_days = days ? int_arg(days) : 0;
    if (days && (*ret_days < 1 || *ret_days > 366)) {
        fprintf(stderr, "tickler link: --expires-in must be 1 to 366 days\n");
        usage_hint(c);
        return -EINVAL;
    }
    *ret_id = v[0];
    *ret_to = v[1];
    return 0;
}

/* Prints the link of an action for a recipient, as a notice would carry
 * it: public_url, "a/" and a token signed now with the links group's
 * first key. Nothing else secret is printed. */
static int cmd_link(struct cli *c, int argc, char **argv)
{
    const char *id, *to;
    int days = 0;
    int ar = link_args(c, argc, argv, &id, &to, &days);
    if (ar)
        return args_exit(ar);
    if (load(c, true)) {
        tkl_diags_print(&c->diags, stderr);
        return 1;
    }
    if (!c->cfg->links.enabled || !c->cfg->http.n_listen || !c->cfg->http.public_url) {
        fprintf(stderr,
                "tickler link: links are not configured in %s (they need both the links "
                "group and the http group)\n",
                c->config);
        return 1;
    }
    if (days > c->cfg->links.expiry_days) {
        /* the web face ends every link at links.expiry_days in force */
        fprintf(stderr,
                "tickler link: --expires-in %d is longer than links.expiry_days (%d) in %s, "
                "which no link outlasts; raise that to give a longer link\n",
                days, c->cfg->links.expiry_days, c->config);
        return 2;
    }
    const struct tkl_action *a = tkl_store_find(c->st, id);
    if (!a || !tkl_action_in_plan(a)) {
        fprintf(stderr, "tickler link: no action %s in the plan (tickler actions lists them)\n",
                id);
        return 1;
    }
    if (!tkl_config_writes_to(c->cfg, a, to)) {
        /* the web face would refuse it: its holder is on no team told of a */
        fprintf(stderr,
                "tickler link: tickler does not write to %s about %s (not a recipient of the "
                "teams that own it, of the team they escalate to, or of delivery.report_to's "
                "team), so a link for them would not work; add them to a team first\n",
                to, a->id);
        return 1;
    }
    struct tkl_token_ring ring = {0};
    if (tkl_links_conf_ring(&c->cfg->links, c->cfg->path, &c->diags, &ring) < 0) {
        tkl_diags_print(&c->diags, stderr);
        return 1;
    }
    int64_t now = (int64_t)time(NULL);
    char token[TKL_TOKEN_MAX + 1];
    int r = tkl_token_issue(&ring, a->id, to, now,
                            now + (int64_t)(days ? days : c->cfg->links.expiry_days) * 86400, token,
                            sizeof(token));
    tkl_token_ring_free(&ring);
    if (r < 0) {
        fprintf(stderr,
                "tickler link: \"%s\" cannot be a link's recipient (empty, too long, or "
                "holding a control character)\n",
                to);
        return 1;
    }
    if (!recipient_of(&c->cfg->teams, a, to))
        fprintf(stderr,
                "tickler link: note: %s is not a recipient of the teams that own %s; what they "
                "do is recorded with no team, and they cannot say \"not ours\"\n",
                to, a->id);
    printf("%sa/%s\n", c->cfg->http.public_url, token);
    return 0;
}

static int cmd_migrate(struct cli *c, int argc, char **argv)
{
    const char *from = NULL, *to = NULL, *conninfo = NULL;
    const struct cli_opt opts[] = {
        {"from", 0, &from, NULL}, {"to", 0, &to, NULL}, {"conninfo-file", 0, &conninfo, NULL}, {0}};
    int ar = read_args(c, argc, argv, opts, NULL);
    if (ar)
        return args_exit(ar);
    if (!from || !to || strcmp(from, "sqlite") != 0 || strcmp(to, "postgresql") != 0) {
        fprintf(stderr, "tickler migrate: only --from sqlite --to postgresql is known\n");
        return 2;
    }
    if (load(c, false)) {
        tkl_diags_print(&c->diags, stderr);
        return 1;
    }
    if (!conninfo)
        conninfo = c->cfg->state.conninfo_file;
    if (!conninfo) {
        fprintf(stderr, "tickler migrate: name the PostgreSQL database with --conninfo-file, or "
                        "state.conninfo_file in the configuration\n");
        return 2;
    }
    const char *dir = c->state_dir ? c->state_dir : c->cfg->state_dir;
    /* held to the end: no ticklerd sends from the state while it moves */
    int lock_fd = -1;
    pid_t holder;
    int lr = tkl_dirlock_take(dir, &lock_fd, &holder);
    if (lr == -EBUSY) {
        fprintf(stderr,
                "tickler migrate: ticklerd (pid %ld) is running on %s: stop it first "
                "(systemctl stop ticklerd), so that nothing is sent while its state moves\n",
                (long)holder, dir);
        return 1;
    }
    if (lr < 0 && lr != -ENOENT) { /* no directory: the migration says so */
        fprintf(stderr, "tickler migrate: cannot lock %s/%s: %s\n", dir, TKL_DIRLOCK_FILE,
                strerror(-lr));
        return 1;
    }
    struct tkl_migrate_counts n = {0};
    char *err = NULL;
    int mr = tkl_state_migrate_to_pg(dir, conninfo, &n, &err);
    if (lock_fd >= 0)
        close(lock_fd);
    if (mr < 0) {
        fprintf(stderr, "tickler migrate: %s\n", err ? err : "failed");
        free(err);
        return 1;
    }
    printf("moved the state of %s/tickler.db to PostgreSQL:\n"
           "  notices:      %" PRId64 " (%" PRId64 " pending, %" PRId64
           " of them being sent when ticklerd stopped: due again)\n"
           "  entries:      %" PRId64 "\n"
           "  log keys:     %" PRId64 "\n"
           "  updates:      %" PRId64 "\n"
           "  meta values:  %" PRId64 "\n"
           "The SQLite state is marked as moved: ticklerd no longer runs on it.\n",
           dir, n.notices, n.pending, n.sending, n.entries, n.log, n.updates, n.meta);
    if (c->cfg->state.backend == TKL_STATE_POSTGRESQL)
        printf("%s has state.backend = \"postgresql\": start ticklerd.\n", c->config);
    else
        printf("Set state.backend = \"postgresql\" in %s before starting ticklerd.\n", c->config);
    return fflush(stdout) != 0;
}

/* The commands, in the order tickler --help lists them. */
static const struct command commands[] = {
    {"actions", cmd_actions, "[--json]", "the store as tickler reads it"},
    {"check", cmd_check, "", "validate the configuration and the stores"},
    {"upcoming", cmd_upcoming, "[--from DATE] [--days N] [--owner NAME] [--held] [--json]",
     "the reminders that would be sent"},
    {"holidays", cmd_holidays, "[--year YYYY]", "the non-working days in use"},
    {"status", cmd_status, "[--json]",
     "the outbox in numbers; exits 1 when not healthy, 3 before the first run"},
    {"outbox", cmd_outbox, "[--failed] [--json]", "notices in the outbox, newest first"},
    {"retry", cmd_retry, "ID...|--failed", "send failed notices again"},
    {"send-test", cmd_send_test, "NOTIFIER --to RECIPIENT",
     "send a sample digest now and show the reply"},
    {"calendar", cmd_calendar,
     "[--from DATE] [--to DATE] [--format ics|html|json] [--category NAME]",
     "the observances of the sources (or of one category), as a calendar"},
    {"report", cmd_report, "[--from DATE] [--to DATE] [--format html|docx|csv|md] [-o FILE]",
     "the progress report: the plan by objective, progress and status"},
    {"updates", cmd_updates, "[--since DATE] [--json|--csv]",
     "every update officers recorded, for the master spreadsheet"},
    {"migrate", cmd_migrate, "--from sqlite --to postgresql [--conninfo-file FILE]",
     "move the state to PostgreSQL (ticklerd stopped)"},
    {"link", cmd_link, "ACTION-ID RECIPIENT [--expires-in DAYS]",
     "the link a notice gives RECIPIENT for the action, signed now"},
};

static void usage(FILE *out)
{
    fprintf(out, "Usage: tickler [-c FILE] [--store FILE] [--state-dir DIR] COMMAND [ARGS]\n"
                 "Check, preview and inspect tickler's reminders.\n\n"
                 "Commands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        const struct command *cmd = &commands[i];
        char line[128];
        snprintf(line, sizeof(line), "%s%s%s", cmd->name, *cmd->args ? " " : "", cmd->args);
        if (strlen(line) > 28)
            fprintf(out, "  %s\n%31s%s\n", line, "", cmd->what);
        else
            fprintf(out, "  %-28s %s\n", line, cmd->what);
    }
    fprintf(out,
            "\nOptions:\n"
            "  -c, --config FILE     configuration file (default %s)\n"
            "      --store FILE      read this plan file or https:// URL instead of store.files\n"
            "      --state-dir DIR   state directory (default: daemon.state_directory)\n"
            "      --plugin-dir DIR  load plugins from DIR (default:\n"
            "                        daemon.plugin_directory)\n"
            "  -V, --version         print the version\n"
            "  -h, --help            print this help\n\n"
            "Every command takes --help. Exit status: 0 done, 1 failed, 2 bad usage.\n",
            TICKLER_DEFAULT_CONFIG);
}

/* Runs the command argv[0] with its arguments. Returns the exit code. */
static int run_command(struct cli *c, int argc, char **argv)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(argv[0], commands[i].name)) {
            c->cmd = &commands[i];
            return commands[i].run(c, argc, argv);
        }
    /* the words the help's first line and the README use for what a
     * command does, each with the commands that do it */
    static const struct {
        const char *word, *commands;
    } words[] = {
        {"preview", "upcoming (the reminders that would be sent)"},
        {"export", "calendar (the observances), report (the progress report) or updates (the "
                   "officers' updates)"},
        {"validate", "check"},
        {"list", "actions (the plan), upcoming (the reminders) or outbox (the notices)"},
    };
    fprintf(stderr, "tickler: unknown command '%s'\n", argv[0]);
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (!strcmp(argv[0], words[i].word))
            fprintf(stderr, "To %s, use: tickler %s.\n", words[i].word, words[i].commands);
    usage_hint(c);
    return 2;
}

/* Reads tickler's own options, up to the command, into c. Returns 0 with
 * the index of the command in *ret_cmd, 1 when --help or --version was
 * answered, or -EINVAL after saying what is wrong. */
static int main_args(struct cli *c, int argc, char **argv, int *ret_cmd)
{
    bool help = false, version = false;
    const struct cli_opt opts[] = {{"config", 'c', &c->config, NULL},
                                   {"store", 0, &c->store, NULL},
                                   {"state-dir", 0, &c->state_dir, NULL},
                                   {"plugin-dir", 0, &c->plugin_dir, NULL},
                                   {"version", 'V', NULL, &version},
                                   {"help", 'h', NULL, &help},
                                   {0}};
    const char *cmd = NULL;
    struct cli_args args = {.v = &cmd, .max = 1, .stop = true};
    int r = read_args(c, argc, argv, opts, &args);
    if (r)
        return r;
    if (help || version) {
        if (help)
            usage(stdout);
        else
            printf("tickler %s\n", TICKLER_VERSION);
        return 1;
    }
    if (!cmd) {
        fprintf(stderr, "tickler: which command?\n");
        usage_hint(c);
        return -EINVAL;
    }
    *ret_cmd = args.next - 1;
    return 0;
}

/* The exit code r of a command, made 1 when what it wrote did not reach
 * stdout (a full disk, a closed pipe): a failure, not a short answer that
 * passes. */
static int output_status(int r)
{
    int fr = fflush(stdout);
    if ((fr != 0 || ferror(stdout)) && r == 0) {
        fprintf(stderr, "tickler: cannot write the output%s%s\n", fr ? ": " : "",
                fr ? strerror(errno) : "");
        r = 1;
    }
    return r;
}

int main(int argc, char **argv)
{
    struct cli c = {.config = TICKLER_DEFAULT_CONFIG};
    stdout_was_closed = fcntl(STDOUT_FILENO, F_GETFD) < 0 && errno == EBADF;
    if (tkl_std_streams_open() < 0)
        return 1;
    tkl_secret_set_credentials_fallback(TICKLER_CREDENTIALS_DIR);
    int cmd, r = main_args(&c, argc, argv, &cmd);
    if (r)
        return output_status(args_exit(r));
    tkl_log_set_level(TKL_LOG_WARNING);
    r = output_status(run_command(&c, argc - cmd, argv + cmd));
    tkl_sources_close(&c.sources);
    tkl_plugin_set_close(&c.plugins);
    tkl_store_free(c.st);
    tkl_config_free(c.cfg);
    tkl_diags_free(&c.diags);
    remove_fresh_dir(&c);
    tkl_libcurl_cleanup(); /* if a link or a notifier needed it */
    return r;
}

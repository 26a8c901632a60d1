/*
 * /a/<token>: the page a notice's link opens (daemon/token/token.h). A GET
 * shows; only a POST from the page's own forms acts. Mail scanners fetch
 * every link before the person does, so nothing a GET does changes state.
 *
 * Both first verify the token against the ring in force and find its
 * action in the store in force; a refusal is a plain page that says which
 * (malformed 400, tampered or signed by a retired key 403, expired 410,
 * no longer in the plan 404). A link acts only while tickler still writes
 * to its recipient about the action (tkl_config_writes_to, by the
 * configuration in force): else, expired or not, its page names neither
 * action nor team (403, "no longer works", or 410) and a POST records
 * nothing. An expired link's page names the action it was for (its
 * signature holds), when it stopped working and whom to ask for a new
 * one; a retired key's names no action (nothing in it can be trusted). A path whose token is
 * followed by closing punctuation (a link copied from the end of a sentence: request.c cuts it off)
 * is the link when the token's signature holds: a GET is sent on to the link's own address (303);
 * otherwise the token alone is what the path gives.
 *
 * The GET page shows the action, who the link was issued to, what the
 * updates say now (s->answers), the forms (mark complete, or while a
 * completion holds reopen instead; resume, while a snooze or the link's
 * team's "not ours" holds; snooze, with an optional why; a progress note
 * with its RAG status; not ours) and the history: the reminders the
 * outbox holds for the action (with PostgreSQL, every node's: read
 * through the state while the GET waits, suspended, and 503 with
 * Retry-After when the database cannot answer) and the updates recorded (those the answers were
 * built from: with PostgreSQL, every node's, as last read). With ?done=<kind> or ?same=<kind>
 * (where a POST sends the browser) it opens with what was recorded, when the link's updates among
 * those hold it.
 *
 * A POST must carry the path's token in its form (the CSRF token) and come
 * from public_url's origin (Origin, else the Referer's origin); it is
 * answered later (tkl_http_later): the link's count of updates read
 * through the state, the update recorded with tkl_service_record_update,
 * and once durable, 303 See Other to the page. Repeating it records
 * nothing more (?same=<kind>). A reopen is taken only while a completion
 * holds, and a resume only while a snooze holds or the link's team has
 * said "not ours", or either as the repeat of the link's latest update
 * (answered as recorded already); else nothing is recorded and the page
 * says why. One
 * link records at most LINK_UPDATES_MAX updates, so that whoever holds it
 * cannot grow the state database (append-only) and the answers without
 * end; one of them repeated is still answered as recorded already (the
 * count leaves it out), as after a "Not confirmed".
 *
 * Requests are limited per client address (GET and POST) and per token
 * (POST), answered 429 with Retry-After beyond. Every answer here is
 * no-store, noindex, and sent with Referrer-Policy: same-origin: with
 * no-referrer a browser sends "Origin: null" on the form's POST (the
 * Fetch standard), which the origin check must refuse; same-origin still
 * never gives the address, and its token, to another site. No page shows
 * the token but in the forms and their address, and no log line names it.
 */
#include "web.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <tickler/day.h>
#include <tickler/text.h>

#include "../core/day.h"
#include "../core/text.h"
#include "../http/limit.h"
#include "../state/state.h"
#include "../schedule/holidays.h"
#include "../schedule/scheduler.h"
#include "../schedule/standing.h"
#include "../route/route.h"
#include "../update/answer.h"

#define GET_PER_MINUTE        120 /* per client address */
#define GET_BURST             60
#define POST_PER_MINUTE       30 /* per client address */
#define POST_BURST            30
#define POST_TOKEN_PER_MINUTE 10
#define POST_TOKEN_BURST      10
#define LIMIT_KEYS            4096
#define HISTORY_MAX           50
#define BUSY_RETRY_SECONDS    5
#define LINK_UPDATES_MAX      25 /* updates one link may record */

struct posting;

struct tkl_act_limits {
    struct tkl_limiter get_client, post_client, post_token;
    /* the postings counted under their link's limit whose update is being
     * recorded: counted against the limit too (on_link_counted), as the
     * link's count the state gives does not hold them yet */
    struct posting *recording;
};

static void posting_unlist(struct posting *p);

void tkl_act_limits_free(struct tkl_act_limits **l)
{
    if (!*l)
        return;
    while ((*l)->recording) /* answered later, by then without a list */
        posting_unlist((*l)->recording);
    tkl_limiter_free(&(*l)->get_client);
    tkl_limiter_free(&(*l)->post_client);
    tkl_limiter_free(&(*l)->post_token);
    free(*l);
    *l = NULL;
}

/* What a valid link names: the token's fields, its action, the team the
 * recipient answers for. */
struct act_view {
    struct tkl_token tok;
    const char *token; /* the path's */
    const struct tkl_action *a;
    const struct tkl_team *team; /* NULL: the recipient is no owning team's */
    int64_t now;
    int32_t today;
};

/* ---- Limits ------------------------------------------------------------ */

/* The limiter key of a client address: IPv6 by its /64 (one household or
 * office), IPv4 whole; other text as it is. Returns the key's length. */
static size_t client_key(const char *client, unsigned char key[64])
{
    unsigned char a[16];
    if (inet_pton(AF_INET6, client, a) == 1) {
        memset(a + 8, 0, 8);
        memcpy(key, a, 16);
        return 16;
    }
    size_t n = strnlen(client, 63);
    memcpy(key, client, n);
    return n;
}

/* 0 when req may go ahead, or the seconds it must wait; -ENOMEM. */
static int limited(struct tkl_service *s, const struct tkl_http_request *req)
{
    struct tkl_act_limits *l = s->act_limits;
    if (!l) {
        if (!(l = calloc(1, sizeof(*l))))
            return -ENOMEM;
        tkl_limiter_init(&l->get_client, GET_PER_MINUTE, GET_BURST, LIMIT_KEYS);
        tkl_limiter_init(&l->post_client, POST_PER_MINUTE, POST_BURST, LIMIT_KEYS);
        tkl_limiter_init(&l->post_token, POST_TOKEN_PER_MINUTE, POST_TOKEN_BURST, LIMIT_KEYS);
        s->act_limits = l;
    }
    unsigned char key[64];
    size_t n = client_key(req->client ? req->client : "", key);
    if (!req->post)
        return tkl_limiter_take(&l->get_client, key, n, req->now);
    int r = tkl_limiter_take(&l->post_client, key, n, req->now);
    if (r != 0)
        return r;
    return tkl_limiter_take(&l->post_token, req->req->token, strlen(req->req->token), req->now);
}

/* ---- Page frame and text ---------------------------------------------- */

static const char style[] =
    "*{box-sizing:border-box}\n"
    "body{font-family:system-ui,\"Segoe UI\",Arial,sans-serif;color:#1f1f1f;margin:0 auto;"
    "padding:12px;max-width:46em;line-height:1.5;overflow-wrap:anywhere}\n"
    "h1{font-size:1.4rem;margin:4px 0 8px}h2{font-size:1.15rem;margin:24px 0 8px;"
    "border-bottom:2px solid #1f1f1f}h3{font-size:1rem;margin:16px 0 6px}\n"
    ".kicker,.meta{color:#4a4a4a;font-size:.9rem;margin:0}\n"
    ".banner{border:2px solid #1e6b2a;background:#e3f4e5;padding:8px 12px;border-radius:4px}\n"
    ".refusal{border-left:6px solid #b3261e;padding:4px 12px}\n"
    "dl{margin:0}dt{font-weight:600;color:#4a4a4a}dd{margin:0 0 8px}\n"
    ".rag{display:inline-block;border:1px solid;border-radius:3px;padding:0 6px;"
    "font-weight:600;font-size:.9rem}\n"
    ".overdue,.red{color:#b3261e}.due-soon,.amber{color:#8a4b00}.on-track,.green{color:#1e6b2a}"
    ".complete{color:#0b57a4}.closed{color:#555}.undated{color:#6b3fa0}\n"
    "form{border:1px solid #c8c8c8;border-radius:4px;padding:8px 12px;margin:0 0 12px}\n"
    "fieldset{border:0;padding:0;margin:8px 0}legend{font-weight:600;padding:0}\n"
    "label{display:block;margin:6px 0 2px}label.choice{display:flex;gap:8px;"
    "align-items:center;min-height:32px;margin:0}\n"
    "input[type=text],input[type=date],textarea{display:block;font:inherit;width:100%;max-width:"
    "30em;"
    "padding:6px}\n"
    "button{display:block;font:inherit;padding:8px 18px;margin:8px 0 4px;min-height:44px}\n"
    "blockquote{margin:4px 0 4px 12px;padding-left:8px;border-left:3px solid #c8c8c8}\n"
    "ul.history{padding-left:1.2em}\n"
    "@media (min-width:40em){dl{display:grid;grid-template-columns:10em 1fr;gap:2px 12px}"
    "dd{margin:0}}\n"
    "@media print{form,.forms{display:none}body{max-width:none;font-size:10pt}}\n";

static void page_open(FILE *f, const char *title)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta name=\"robots\" content=\"noindex, nofollow\">\n<title>",
          f);
    (void)tkl_html_fputs(title, f);
    fputs(" — tickler</title>\n<style>\n", f);
    fputs(style, f);
    fputs("</style>\n</head>\n<body>\n<main>\n", f);
}

/* Hands the page written to f (opened on *body) to resp with status.
 * Returns 0 or -ENOMEM. */
static int page_close(FILE *f, char **body, size_t *len, struct tkl_http_response *resp,
                      unsigned status)
{
    fputs("</main>\n</body>\n</html>\n", f);
    if (fclose(f) != 0) {
        free(*body);
        return -ENOMEM;
    }
    tkl_http_take(resp, "text/html; charset=utf-8", *body, *len);
    resp->status = status;
    return 0;
}

/* Day as "Monday 21 December 2026". */
static const char *day_text(int32_t day, char *buf, size_t size)
{
    if (tkl_day_long(day, buf, size) < 0)
        snprintf(buf, size, "%s", "(no date)");
    return buf;
}

/* A plain page that says why a request is refused, with a link back to
 * the page of the link whose token is back (NULL: none). Returns 0 or
 * -ENOMEM. */
static int refuse_back(struct tkl_http_response *resp, unsigned status, const char *headline,
                       const char *text, const char *back)
{
    char *body = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&body, &len);
    if (!f)
        return -ENOMEM;
    page_open(f, headline);
    fputs("<h1>", f);
    (void)tkl_html_fputs(headline, f);
    fputs("</h1>\n<p class=\"refusal\">", f);
    (void)tkl_html_fputs(text, f);
    fputs("</p>\n", f);
    if (back) { /* relative to /a/<token>: the link's own page */
        fputs("<p><a href=\"", f);
        (void)tkl_html_fputs(back, f);
        fputs("\">Back to the action</a></p>\n", f);
    }
    fputs("<p class=\"meta\">tickler, the action plan's reminders</p>\n", f);
    return page_close(f, &body, &len, resp, status);
}

/* refuse_back() as 503 with Retry-After: nothing was done, and pressing
 * again in a few seconds may work. */
static int refuse_busy(struct tkl_http_response *resp, const char *headline, const char *text,
                       const char *back)
{
    int r = refuse_back(resp, 503, headline, text, back);
    resp->retry_after = BUSY_RETRY_SECONDS;
    return r;
}

/* refuse_back() without the link back. */
static int refuse(struct tkl_http_response *resp, unsigned status, const char *headline,
                  const char *text)
{
    return refuse_back(resp, status, headline, text, NULL);
}

/* ---- The link: token, action, team ------------------------------------ */

/* The first owning team of a whose recipients include address, or NULL. */
static const struct tkl_team *team_of(const struct tkl_team_dir *dir, const struct tkl_action *a,
                                      const char *address)
{
    for (size_t k = 0; k < a->n_teams; k++) {
        const struct tkl_team *t = tkl_team_find(dir, a->teams[k]);
        if (tkl_team_lists(t, address))
            return t;
    }
    return NULL;
}

/* refuse()'s page, for open_view: 1, or -ENOMEM. */
static int refused(struct tkl_http_response *resp, unsigned status, const char *headline,
                   const char *text)
{
    return refuse(resp, status, headline, text) < 0 ? -ENOMEM : 1;
}

/* The team told of a "not ours" (delivery.report_to, when it has
 * recipients), or NULL: nobody is. */
static const struct tkl_team *told_team(const struct tkl_service *s)
{
    const struct tkl_team *t;
    return tkl_config_report_team(s->rt->cfg, &t) ? NULL : t;
}

/* Says how to get a link that works: from a later reminder, else from
 * the team that receives tickler's reports (delivery.report_to), named
 * when named is true (as the link's own page names it, without its
 * addresses), or from the plan's owner where no team does. A page anyone
 * can call up with a token of their own making (an unknown key's) names
 * no team. */
static void html_new_link(FILE *f, const struct tkl_service *s, bool named)
{
    const struct tkl_team *t = told_team(s);
    fputs("<p>Each reminder about an action carries a new link: use the link in a later "
          "reminder about this action, if you have one; if not, ask ",
          f);
    if (!t || !named) {
        fputs(t ? "the team that receives tickler's reports, or the action plan's owner, "
                  "for a new link, or to record the update for you.</p>\n"
                : "the action plan's owner to record the update, or for a new link.</p>\n",
              f);
        return;
    }
    (void)tkl_html_fputs(t->name, f);
    fputs(" (the team that receives tickler's reports) for a new link, or to record the "
          "update for you.</p>\n",
          f);
}

/* The action tok is for as the plan in force has it, or NULL: the plan no
 * longer has it. */
static const struct tkl_action *link_action(const struct tkl_service *s,
                                            const struct tkl_token *tok)
{
    const struct tkl_action *a = s->rt->store ? tkl_store_find(s->rt->store, tok->action_id) : NULL;
    return a && tkl_action_in_plan(a) ? a : NULL;
}

/* The page of a link whose signature holds but which has expired (tok),
 * 410 Gone: when the link stopped working and how to get one that works;
 * while tickler still writes to its recipient about the action (writes:
 * tkl_config_writes_to), also the action it was for (a, as the plan now
 * has it; NULL: no longer in it), and the team to ask by name. To an
 * address tickler no longer writes to about it (one taken off its team,
 * its holder gone from the council) it names neither action nor team, as
 * a retired key's page. Returns 1 or -ENOMEM. */
static int link_expired(const struct tkl_service *s, const struct tkl_token *tok,
                        const struct tkl_action *a, bool writes, struct tkl_http_response *resp)
{
    char when[48];
    char *body = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&body, &len);
    if (!f)
        return -ENOMEM;
    page_open(f, "Link expired");
    if (!writes) {
        fprintf(f,
                "<h1>Link expired</h1>\n<p class=\"refusal\">This link has expired: it stopped "
                "working on %s, so nothing can be recorded through it.</p>\n",
                tkl_web_when(tok->expires_at, when, sizeof(when)));
        html_new_link(f, s, false);
    } else {
        fputs("<p class=\"kicker\">Action plan · action ", f);
        (void)tkl_html_fputs(tok->action_id, f);
        fputs("</p>\n<h1>Link expired</h1>\n<p class=\"refusal\">", f);
        if (a) {
            fputs("This link was for the action <strong>", f);
            (void)tkl_html_fputs(a->title, f);
            fputs("</strong>. ", f);
        } else {
            fputs("This link was for an action that is no longer in the action plan: it was "
                  "removed or reworded since the message was sent. ",
                  f);
        }
        fprintf(f,
                "It has expired: it stopped working on %s, so nothing can be recorded through "
                "it.</p>\n",
                tkl_web_when(tok->expires_at, when, sizeof(when)));
        if (a)
            html_new_link(f, s, true);
        else
            fputs("<p>Nothing needs doing from this link.</p>\n", f);
    }
    fputs("<p class=\"meta\">tickler, the action plan's reminders</p>\n", f);
    return page_close(f, &body, &len, resp, 410) < 0 ? -ENOMEM : 1;
}

/* The page of a link that no longer acts, status: headline and text (the
 * caller's own markup, which names no action) as its refusal, then how to
 * get a link that works, naming no team. Returns 1 or -ENOMEM. */
static int link_void(const struct tkl_service *s, struct tkl_http_response *resp, unsigned status,
                     const char *headline, const char *text)
{
    char *body = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&body, &len);
    if (!f)
        return -ENOMEM;
    page_open(f, headline);
    fputs("<h1>", f);
    (void)tkl_html_fputs(headline, f);
    fputs("</h1>\n<p class=\"refusal\">", f);
    fputs(text, f);
    fputs("</p>\n", f);
    html_new_link(f, s, false);
    fputs("<p class=\"meta\">tickler, the action plan's reminders</p>\n", f);
    return page_close(f, &body, &len, resp, status) < 0 ? -ENOMEM : 1;
}

/* The page of a link whose signature holds and which has not expired,
 * but whose recipient tickler no longer writes to about its action
 * (tkl_config_writes_to: taken off every team that is told of it, its
 * holder gone from the council), 403: it acts for nobody, so nothing can
 * be recorded through it. As an expired link's page to such an address,
 * it names neither action nor team, only how to get a link that works.
 * Returns 1 or -ENOMEM. */
static int link_withdrawn(const struct tkl_service *s, struct tkl_http_response *resp)
{
    return link_void(s, resp, 403, "Link no longer works",
                     "This link no longer works: the address it was sent to is no longer on a "
                     "team tickler writes to about the action, so nothing can be recorded "
                     "through it.");
}

/* The page of a link signed by a key no longer in the ring: its fields
 * cannot be trusted, so it names no action; 403. Returns 1 or -ENOMEM. */
static int link_retired(const struct tkl_service *s, struct tkl_http_response *resp)
{
    return link_void(s, resp, 403, "Link retired",
                     "This link was signed with a key that is no longer in use, so it no longer "
                     "works: tickler's keys have been renewed since the message was sent. "
                     "Nothing can be recorded through it.");
}

/* 303 See Other to the link itself (public_url, a/, token), from its
 * address with closing punctuation after the token: the page, and the
 * address its forms post to, are then the link's own. Returns 1 or
 * -ENOMEM. */
static int to_link(const struct tkl_service *s, const char *token, struct tkl_http_response *resp)
{
    if (asprintf(&resp->location, "%sa/%s", s->rt->cfg->http.public_url, token) < 0) {
        resp->location = NULL;
        return -ENOMEM;
    }
    return refused(resp, 303, "Opening the link", "Your browser goes on to the action's page.");
}

/* Verifies req's token and finds its action: 0 with v filled, 1 with
 * resp holding the refusal page (or, for a GET of the link with closing
 * punctuation after its token, the way to the link itself), or a
 * negative errno. */
static int open_view(struct tkl_service *s, const struct tkl_http_request *req, struct act_view *v,
                     struct tkl_http_response *resp)
{
    const struct tkl_runtime *rt = s->rt;
    if (!rt->links.n)
        return refused(resp, 404, "Links are not in use here",
                       "This tickler does not sign links. Use the message you were sent, or "
                       "ask the plan's owner.");
    int r = req->req->token[0] ? tkl_token_verify(&rt->links, req->req->token, req->now, &v->tok)
                               : -EINVAL;
    /* a link lasts no longer than links.expiry_days in force says: an
     * operator who shortens it ends the older links too */
    bool signed_ok = r == 0 || r == -ETIME; /* v->tok filled */
    if (signed_ok &&
        v->tok.issued_at + (int64_t)rt->cfg->links.expiry_days * 86400 < v->tok.expires_at) {
        v->tok.expires_at = v->tok.issued_at + (int64_t)rt->cfg->links.expiry_days * 86400;
        if (req->now >= v->tok.expires_at)
            r = -ETIME;
    }
    /* a token cut from a longer text (tkl_token_trailing) whose signature
     * holds is the link: a GET goes on to its own address */
    if (signed_ok && req->req->token_trimmed && !req->post)
        return to_link(s, req->req->token, resp);
    if (r == -ENOKEY)
        return link_retired(s, resp);
    if (!signed_ok)
        return refused(resp, r == -EINVAL ? 400 : 403,
                       r == -EINVAL ? "Link damaged" : "Link not valid", tkl_token_strerror(r));
    /* a link acts only for an address tickler still writes to about its
     * action: one taken off the teams since acts no more, however long the
     * link has left */
    v->a = link_action(s, &v->tok);
    bool writes = tkl_config_writes_to(rt->cfg, v->a, v->tok.recipient);
    if (r == -ETIME)
        return link_expired(s, &v->tok, v->a, writes, resp);
    if (!writes)
        return link_withdrawn(s, resp);
    if (!v->a)
        return refused(resp, 404, "No longer in the plan",
                       "This action is no longer in the action plan: it was removed or reworded "
                       "since the message was sent. Nothing needs doing from this link.");
    v->token = req->req->token;
    v->team = team_of(&rt->cfg->teams, v->a, v->tok.recipient);
    v->now = req->now;
    v->today = tkl_local_day(req->now);
    return 0;
}

/* ---- Snooze bounds ------------------------------------------------------ */

static bool dated(const struct tkl_action *a)
{
    return (a->deadline.kind == TKL_DEADLINE_DATE || a->deadline.kind == TKL_DEADLINE_REVIEW) &&
           a->deadline.day != TKL_NO_DAY;
}

/* The same date a year after today: 29 February's is 28 February. */
static int32_t year_ahead(int32_t today)
{
    int y, m, d;
    tkl_day_to_civil(today, &y, &m, &d);
    return tkl_day_from_civil(y + 1, m, m == 2 && d == 29 ? 28 : d);
}

/* The last day a snooze of a may end on, from today: at most a year
 * ahead (the same date next year), and not after a deadline still to
 * come. */
static int32_t snooze_last(const struct tkl_action *a, int32_t today)
{
    int32_t last = year_ahead(today);
    if (dated(a) && a->deadline.day >= today && a->deadline.day < last)
        last = a->deadline.day;
    return last;
}

/* The team the reminders of action a are copied to as an escalation
 * (tkl_route_escalates, for each team the plan names, the earliest
 * first), other than not_to (NULL: any), and in *ret_day the day of the
 * first copy; NULL when there is none. */
static const struct tkl_team *escalation_for(const struct tkl_service *s,
                                             const struct tkl_action *a,
                                             const struct tkl_team *not_to, int32_t *ret_day)
{
    const struct tkl_config *cfg = s->rt->cfg;
    const struct tkl_answer *ans = tkl_answers_find(&s->answers, a->id);
    const struct tkl_team *best = NULL;
    for (size_t i = 0; i < a->n_teams; i++) {
        const struct tkl_team *t = tkl_team_find(&cfg->teams, a->teams[i]);
        int32_t day;
        const struct tkl_team *esc =
            t ? tkl_route_escalates(&cfg->teams, &cfg->schedule, (size_t)(t - cfg->teams.teams), a,
                                    ans, &day)
              : NULL;
        if (esc && esc != not_to && (!best || day < *ret_day)) {
            best = esc;
            *ret_day = day;
        }
    }
    return best;
}

/* The team the reminders of v's action are copied to as an escalation
 * while the owners' snooze holds them (escalation_for), and in *ret_day
 * the day of the first copy; NULL when there is none: the link is no
 * owning team's (its snooze holds them all), the action escalates
 * nothing, or only to the link's own team (whose snooze holds its
 * copies). */
static const struct tkl_team *escalation_of(const struct tkl_service *s, const struct act_view *v,
                                            int32_t *ret_day)
{
    return v->team ? escalation_for(s, v->a, v->team, ret_day) : NULL;
}

/* ---- The GET page ------------------------------------------------------- */

static const char *const standing_labels[TKL_STANDING_COUNT] = {
    [TKL_STANDING_OVERDUE] = "Overdue",   [TKL_STANDING_DUE_SOON] = "Due soon",
    [TKL_STANDING_ON_TRACK] = "On track", [TKL_STANDING_COMPLETE] = "Complete",
    [TKL_STANDING_CLOSED] = "Closed",     [TKL_STANDING_UNDATED] = "Undated",
};

/* Who is told of a "not ours" (taken back, when back), as a sentence. */
static void html_who_is_told(FILE *f, const struct tkl_service *s, bool back)
{
    const struct tkl_team *t = told_team(s);
    if (!t) {
        fputs("tickler tells nobody of it here (no team receives its reports), so please let "
              "the action plan's owner know yourself.",
              f);
        return;
    }
    fputs("tickler tells ", f);
    (void)tkl_html_fputs(t->name, f);
    fputs(back ? " (the team that receives its reports) that this action is your team's after "
                 "all, with your reason."
               : " (the team that receives its reports), with your suggestion and comment.",
          f);
}

/* Whether update x was recorded through the link of action_id issued to
 * recipient at issued_at. */
static bool through_link(const struct tkl_update *x, const char *action_id, const char *recipient,
                         int64_t issued_at)
{
    return x->link_issued_at == issued_at && !strcmp(x->action_id, action_id) &&
           !strcmp(x->recipient, recipient);
}

/* The latest update v's link recorded of its action, among those the
 * answers were built from, or NULL. */
static const struct tkl_update *link_latest(const struct tkl_service *s, const struct act_view *v)
{
    const struct tkl_updates *l = &s->answers.updates;
    const struct tkl_update *latest = NULL;
    for (size_t i = 0; i < l->n; i++) {
        const struct tkl_update *x = &l->v[i];
        if (through_link(x, v->tok.action_id, v->tok.recipient, v->tok.issued_at) &&
            (!latest || x->id > latest->id))
            latest = x;
    }
    return latest;
}

/* The "not ours" of v's team that holds in ans (NULL: none), or NULL. */
static const struct tkl_update *team_not_ours(const struct tkl_answer *ans,
                                              const struct act_view *v)
{
    for (size_t i = 0; ans && v->team && i < ans->n_not_ours; i++)
        if (!strcmp(ans->not_ours[i]->team_id, v->team->id))
            return ans->not_ours[i];
    return NULL;
}

/* The snooze of ans that holds the owners' reminders today, the longer
 * of two (tkl_answer_snooze; NULL: none), or NULL. */
static const struct tkl_update *snooze_holding(const struct tkl_answer *ans,
                                               const struct act_view *v)
{
    return tkl_answer_snooze(ans, v->today, NULL);
}

/* Whether v's link recorded an update of its action of kind as its
 * latest (a page kept from before a later press, the back button's, says
 * nothing of what the later press undid), and it holds still: someone
 * may have pressed the other way since (a reopen after a completion and
 * back, a resume after a snooze or a "not ours" and back). */
static bool link_recorded(const struct tkl_service *s, const struct act_view *v,
                          enum tkl_update_kind kind)
{
    const struct tkl_update *latest = link_latest(s, v);
    if (!latest || latest->kind != kind)
        return false;
    const struct tkl_answer *ans = tkl_answers_find(&s->answers, v->a->id);
    switch (kind) {
    case TKL_UPDATE_COMPLETE:
    case TKL_UPDATE_REOPEN:
        return (ans && ans->complete) == (kind == TKL_UPDATE_COMPLETE);
    case TKL_UPDATE_SNOOZE:
        return ans && latest->until_day > v->today &&
               (ans->snooze == latest || ans->snooze_all == latest);
    case TKL_UPDATE_NOT_OURS:
        return team_not_ours(ans, v) == latest;
    case TKL_UPDATE_RESUME:
        return !snooze_holding(ans, v) && !team_not_ours(ans, v) && !(ans && ans->complete);
    case TKL_UPDATE_PROGRESS:
        break;
    }
    return true;
}

static void html_owning_teams(FILE *f, const struct tkl_team_dir *dir, const struct tkl_action *a);
static void html_others(FILE *f, const struct tkl_service *s, const struct act_view *v,
                        bool capital);
static void html_others_told(FILE *f, const struct tkl_service *s, const struct act_view *v,
                             const char *what);

/* What the page opens with after a POST: what was recorded, said only
 * when the link's updates hold it (a ?done= typed or kept in a bookmark,
 * or a node whose answers have not caught up yet, says nothing). */
static void html_banner(FILE *f, const struct tkl_service *s, const struct act_view *v,
                        const struct tkl_http_request *req)
{
    static const char *const done_text[] = {
        [TKL_UPDATE_COMPLETE] = "Recorded: marked complete. Reminders for this action stop, "
                                "unless the plan later gives it a new deadline or status.",
        [TKL_UPDATE_SNOOZE] = "Recorded: snoozed. No reminders for this action until the day "
                              "you chose (under What holds now).",
        [TKL_UPDATE_PROGRESS] = "Recorded: your progress note. It shows in the next reminder, "
                                "on the plan's status page and in the progress report.",
        [TKL_UPDATE_NOT_OURS] = "Recorded: not ours. Your team gets no more reminders for "
                                "this action until the plan changes its owners, or you take "
                                "it back with Resume reminders.",
        [TKL_UPDATE_REOPEN] = "Recorded: reopened. Reminders for this action go on as the plan "
                              "says.",
        [TKL_UPDATE_RESUME] = "Recorded: reminders resumed. They go on as the plan says "
                              "(under What holds now: when your team's next one comes).",
    };
    const char *done = tkl_request_get(req->req, "done", 0);
    const char *same = tkl_request_get(req->req, "same", 0);
    const struct tkl_update *latest;
    enum tkl_update_kind k;
    const char *text = NULL;
    bool again = false;
    /* sent again (a double tap, a retry, the back button): the kind sent
     * (same=<kind>; a page from before it, same=1: the link's latest),
     * said while the link's latest update is of that kind and holds as
     * recorded; else, as on a node that has not read it yet, only that
     * nothing more was changed */
    bool sent = same && tkl_update_kind_parse(same, &k) == 0;
    if (same && !sent && (latest = link_latest(s, v))) {
        k = latest->kind;
        sent = true;
    }
    if (sent) {
        again = k >= TKL_UPDATE_COMPLETE && k <= TKL_UPDATE_RESUME && link_recorded(s, v, k);
        text = again ? done_text[k] : "This was recorded already; nothing more was changed.";
    } else if (done && tkl_update_kind_parse(done, &k) == 0 && link_recorded(s, v, k)) {
        text = done_text[k];
    }
    if (!text)
        return;
    const struct tkl_update *mine = text == done_text[TKL_UPDATE_SNOOZE] ? link_latest(s, v) : NULL;
    if (mine && mine->kind == TKL_UPDATE_SNOOZE && mine->until_day != TKL_NO_DAY) {
        char day[TKL_DAY_LONG_SIZE], back[TKL_DAY_LONG_SIZE];
        int32_t resume =
            tkl_working_day_on_or_after(&s->rt->cfg->schedule.policy.holidays, mine->until_day);
        fprintf(f,
                "<p class=\"banner\" role=\"status\">Recorded: snoozed until %s. No "
                "reminders for this action come before then; from %s they go on as the plan "
                "says (under What holds now).",
                day_text(mine->until_day, day, sizeof(day)),
                resume == mine->until_day ? "that day" : day_text(resume, back, sizeof(back)));
        int32_t esc_day;
        const struct tkl_team *esc = mine->team_id ? escalation_of(s, v, &esc_day) : NULL;
        if (esc && esc_day < mine->until_day) {
            fputs(" The copies escalated to ", f);
            (void)tkl_html_fputs(esc->name, f);
            fputs(" are not held: they go on, and say that you snoozed it until then.", f);
        }
    } else {
        fprintf(f, "<p class=\"banner\" role=\"status\">%s", text);
    }
    if (text == done_text[TKL_UPDATE_NOT_OURS]) {
        fputc(' ', f);
        html_who_is_told(f, s, false);
    }
    if (text == done_text[TKL_UPDATE_COMPLETE] && v->a->n_teams > 1) {
        fputs(" That goes for every team the plan names for it (", f);
        html_owning_teams(f, &s->rt->cfg->teams, v->a);
        fputs("); ", f);
        html_others_told(f, s, v, "so, each with a link of their own to undo it.");
    }
    int64_t told_at;
    if (mine && mine->kind == TKL_UPDATE_SNOOZE && v->a->n_teams > 1) {
        fputc(' ', f);
        if (tkl_service_joint_when(s, mine, &told_at) < 0) {
            html_others(f, s, v, true);
            fputs(" are not told of it: the snooze is over before it would reach them.", f);
        } else {
            html_others_told(f, s, v, "so, each with a link of their own to resume them.");
        }
    }
    if (text == done_text[TKL_UPDATE_REOPEN] && v->a->n_teams > 1) {
        fputc(' ', f);
        html_others_told(f, s, v, "so.");
    }
    const struct tkl_resumed *x =
        text == done_text[TKL_UPDATE_RESUME] && v->team
            ? tkl_answer_resumed(tkl_answers_find(&s->answers, v->a->id), v->team->id)
            : NULL;
    if (x && x->team && x->u == link_latest(s, v)) { /* a "not ours" taken back */
        fputc(' ', f);
        html_who_is_told(f, s, true);
    }
    if (again)
        fputs(" The button was pressed more than once (or your browser sent the form again); "
              "it is recorded once.",
              f);
    fputs("</p>\n", f);
}

static void html_intro(FILE *f, const struct tkl_service *s, const struct act_view *v,
                       const struct tkl_http_request *req)
{
    char when[48];
    fputs("<p class=\"kicker\">Action plan · action ", f);
    (void)tkl_html_fputs(v->a->id, f);
    fputs("</p>\n<h1>", f);
    (void)tkl_html_fputs(v->a->title, f);
    fputs("</h1>\n", f);
    html_banner(f, s, v, req);
    fputs("<p>This page is for <strong>", f);
    (void)tkl_html_fputs(v->tok.recipient, f);
    fputs("</strong>", f);
    if (v->team) {
        fputs(" (", f);
        (void)tkl_html_fputs(v->team->name, f);
        fputs(")", f);
    }
    fprintf(f,
            ". Anything done here is recorded against that name, whoever presses the button, so "
            "please do not forward the link. It works until %s.</p>\n",
            tkl_web_when(v->tok.expires_at, when, sizeof(when)));
}

/* The deadline as tickler read it: "Monday 30 November 2026, 7 days ago". */
static void html_deadline_read(FILE *f, const struct act_view *v)
{
    const struct tkl_deadline *d = &v->a->deadline;
    char day[TKL_DAY_LONG_SIZE];
    if (!dated(v->a)) {
        fputs(d->kind == TKL_DEADLINE_ONGOING ? "ongoing: no date" : "no date", f);
        return;
    }
    int64_t left = (int64_t)d->day - v->today;
    fprintf(f, "%s%s, ", d->kind == TKL_DEADLINE_REVIEW ? "review on " : "",
            day_text(d->day, day, sizeof(day)));
    if (left == 0)
        fputs("today", f);
    else if (left > 0)
        fprintf(f, "in %lld day%s", (long long)left, tkl_plural(left));
    else
        fprintf(f, "%lld day%s ago", (long long)-left, left == -1 ? "" : "s");
}

/* One term of the action's description list, its text escaped. */
static void html_term(FILE *f, const char *term, const char *text, const char *none)
{
    fprintf(f, "<dt>%s</dt><dd>", term);
    tkl_html_fput_lines(f, tkl_web_text_or(text, none));
    fputs("</dd>\n", f);
}

static void html_action(FILE *f, const struct tkl_service *s, const struct act_view *v)
{
    const struct tkl_action *a = v->a;
    enum tkl_standing plan,
        st = tkl_action_standing_answered(&s->rt->cfg->schedule, &s->rt->cfg->teams, &s->answers, a,
                                          v->today, &plan);
    fputs("<section aria-labelledby=\"h-action\">\n<h2 id=\"h-action\">The action</h2>\n<dl>\n", f);
    html_term(f, "Commitment", a->commitment, "(none)");
    html_term(f, "Objective", a->objective, "(none)");
    html_term(f, "Owners", a->owners, "(none)");
    fputs("<dt>Deadline</dt><dd>", f);
    (void)tkl_html_fputs(tkl_web_text_or(a->deadline_text, "(none)"), f);
    fputs("<br>read as ", f);
    html_deadline_read(f, v);
    fputs("</dd>\n<dt>Status</dt><dd>", f);
    tkl_html_fput_lines(f, tkl_web_text_or(a->status_text, "(none)"));
    fprintf(f, " (%s)</dd>\n", tkl_web_status_reading(a->status));
    /* a completion that holds ends the reminders: the plan's standing
     * (overdue, say) is not what the action is now */
    if (st != plan)
        fprintf(f,
                "<dt>Standing</dt><dd><span class=\"rag %s\">%s</span> (marked complete; by "
                "the plan alone: %s)</dd>\n",
                tkl_standing_name(st), standing_labels[st], standing_labels[plan]);
    else if (st < TKL_STANDING_COUNT)
        fprintf(f, "<dt>Standing</dt><dd><span class=\"rag %s\">%s</span></dd>\n",
                tkl_standing_name(st), standing_labels[st]);
    if (a->measure && *a->measure)
        html_term(f, "Measure of success", a->measure, "");
    html_term(f, "Progress in the plan", a->progress, "none recorded");
    fputs("</dl>\n</section>\n", f);
}

/* Who recorded u, and when: " by a@x on 3 Dec 2026 10:00". */
static void html_by(FILE *f, const struct tkl_update *u)
{
    char when[48];
    fputs(" by ", f);
    (void)tkl_html_fputs(u->recipient, f);
    fprintf(f, " on %s", tkl_web_when(u->at, when, sizeof(when)));
}

/* The name of team id in dir, or the id. */
static const char *team_name(const struct tkl_team_dir *dir, const char *id)
{
    const struct tkl_team *t = id ? tkl_team_find(dir, id) : NULL;
    return t ? t->name : tkl_web_text_or(id, "no team");
}

/* What u says beyond its kind: the snooze's day, the RAG status, the
 * team, the suggestion and the note (as text). */
static void html_update_detail(FILE *f, const struct tkl_update *u, const struct tkl_team_dir *dir)
{
    char day[TKL_DAY_LONG_SIZE];
    if (u->kind == TKL_UPDATE_SNOOZE)
        fprintf(f, ", until %s", day_text(u->until_day, day, sizeof(day)));
    static const char *const rag_labels[] = {
        [TKL_RAG_RED] = "Red", [TKL_RAG_AMBER] = "Amber", [TKL_RAG_GREEN] = "Green"};
    if (u->kind == TKL_UPDATE_PROGRESS && u->rag >= TKL_RAG_RED && u->rag <= TKL_RAG_GREEN)
        fprintf(f, " <span class=\"rag %s\">%s</span>", tkl_rag_name(u->rag), rag_labels[u->rag]);
    if (u->kind == TKL_UPDATE_NOT_OURS) {
        fputs(", for ", f);
        (void)tkl_html_fputs(team_name(dir, u->team_id), f);
    }
    if (u->suggested_team && *u->suggested_team) {
        fputs("; suggested team: ", f);
        tkl_html_fput_quote(f, u->suggested_team);
    }
    if (u->note && *u->note) {
        fputs("<blockquote>", f);
        tkl_html_fput_quote(f, u->note);
        fputs("</blockquote>", f);
    }
}

/* One update as a list item: "Snoozed by a@x on ..., until ...". */
static void html_update(FILE *f, const char *label, const struct tkl_update *u,
                        const struct tkl_team_dir *dir)
{
    fprintf(f, "<li>%s", label);
    html_by(f, u);
    html_update_detail(f, u, dir);
    fputs("</li>\n", f);
}

/* The hold x of ans a resume ended, what it was, and when v's team is
 * next reminded (its scheduler's entry, while nothing holds it). */
static void html_resumed(FILE *f, const struct tkl_service *s, const struct act_view *v,
                         const struct tkl_answer *ans, const struct tkl_resumed *x)
{
    const struct tkl_update *u = x->u;
    const struct tkl_runtime *rt = s->rt;
    char when[TKL_WEB_WHEN_LONG_SIZE];
    if (x->team) {
        fputs("<li>&ldquo;Not ours&rdquo; of ", f);
        (void)tkl_html_fputs(team_name(&rt->cfg->teams, x->team), f);
        fputs(" taken back", f);
    } else {
        fputs("<li>Snooze ended early", f);
    }
    html_by(f, u);
    int64_t next = v->team && !s->last_run_pending && !s->hours_pending
                       ? tkl_scheduler_due_of(&rt->sched, (size_t)(v->a - rt->store->actions),
                                              (size_t)(v->team - rt->cfg->teams.teams))
                       : INT64_MAX;
    /* said only while nothing holds the team's reminders again */
    if (next != INT64_MAX && next > v->now &&
        tkl_answer_holds(ans, v->team->id, v->today) == TKL_HOLD_NONE &&
        tkl_answer_holds(ans, v->team->id, tkl_local_day(next)) == TKL_HOLD_NONE)
        fprintf(f, ": your team's next reminder comes %s",
                tkl_web_when_long(next, when, sizeof(when)));
    html_update_detail(f, u, &rt->cfg->teams); /* a resume's: its why */
    fputs("</li>\n", f);
}

/* Whether no other snooze of ans holds beyond z (one of its snoozes):
 * then the owners' reminders resume when z ends. */
static bool ends_last(const struct tkl_answer *ans, const struct tkl_update *z, int32_t today)
{
    const struct tkl_update *other =
        tkl_answer_slot(ans, z == ans->snooze ? TKL_SNOOZE_ALL : TKL_SNOOZE_OWNERS, today, NULL);
    return !other || other->until_day <= z->until_day;
}

/* What snooze sn, which holds, means for the copies of the action's
 * reminders escalated to another team while it holds (as tkl_queue_pop
 * sends them): an owning team's snooze (ans->snooze) holds the owners'
 * reminders only, and the copies go on (from the day of the first, when
 * it is still to come, or the working day ans->snooze_all ends on, when
 * later); the escalation team's, or one through a link of no owning
 * team's (ans->snooze_all), holds them all. Says nothing when no copy
 * falls within the snooze. */
static void html_snooze_copies(FILE *f, const struct tkl_service *s, const struct act_view *v,
                               const struct tkl_answer *ans, const struct tkl_update *sn)
{
    char day[TKL_DAY_LONG_SIZE];
    int32_t esc_day;
    const struct tkl_team *esc = escalation_for(s, v->a, NULL, &esc_day);
    if (!esc || esc_day >= sn->until_day)
        return;
    if (sn == ans->snooze_all || (sn->team_id && !strcmp(sn->team_id, esc->id))) {
        fputs("<li>This snooze holds every reminder of this action: the owners' and the copies "
              "escalated to ",
              f);
        (void)tkl_html_fputs(esc->name, f);
        fputs(" alike.</li>\n", f);
        return;
    }
    /* the copies an escalation team's snooze holds meanwhile come after it */
    const struct tkl_update *all = tkl_answer_slot(ans, TKL_SNOOZE_ALL, v->today, NULL);
    int32_t from = esc_day;
    if (all && all->until_day > from) /* as the scheduler ends it */
        from = tkl_working_day_on_or_after(&s->rt->cfg->schedule.policy.holidays, all->until_day);
    if (from >= sn->until_day)
        return; /* that snooze's line says it all */
    fputs("<li>This snooze holds the owners' reminders only, not the copies escalated to ", f);
    (void)tkl_html_fputs(esc->name, f);
    if (from <= v->today)
        fputs(": this action is overdue and escalated, and those copies go on as the plan says", f);
    else
        fprintf(f, ": from %s its overdue reminders are copied to them as the plan says",
                day_text(from, day, sizeof(day)));
    fprintf(f, ", each saying who snoozed it%s.</li>\n",
            sn->note && *sn->note ? ", until when and why" : " and until when");
}

/* What the updates say now, against the plan as it stands. Returns 0 or
 * -ENOMEM. */
static int html_now(FILE *f, const struct tkl_service *s, const struct act_view *v)
{
    const struct tkl_team_dir *dir = &s->rt->cfg->teams;
    const struct tkl_answer *ans = tkl_answers_find(&s->answers, v->a->id);
    fputs("<section aria-labelledby=\"h-now\">\n<h2 id=\"h-now\">What holds now</h2>\n", f);
    if (!ans || !ans->latest) {
        fputs("<p>No update has been recorded for this action yet.</p>\n</section>\n", f);
        return 0;
    }
    fputs("<ul>\n", f);
    if (ans->complete)
        html_update(f, "Marked complete", ans->complete, dir);
    if (ans->reopened)
        html_update(f, "Reopened", ans->reopened, dir);
    /* an ended snooze holds nothing: the history below has it; the
     * owners' snooze and one of no owning team's each hold apart */
    for (int i = 0; i < TKL_SNOOZE_SLOTS; i++) {
        const struct tkl_update *z = tkl_answer_slot(ans, i, v->today, NULL);
        if (!z)
            continue;
        html_update(f, "Snoozed", z, dir);
        /* as the scheduler ends it: on the first working day from then */
        int32_t until = z->until_day,
                resume = tkl_working_day_on_or_after(&s->rt->cfg->schedule.policy.holidays, until);
        char a[TKL_DAY_LONG_SIZE], b[TKL_DAY_LONG_SIZE];
        if (resume != until && ends_last(ans, z, v->today))
            fprintf(f, "<li>%s is not a working day: reminders resume %s.</li>\n",
                    day_text(until, a, sizeof(a)), day_text(resume, b, sizeof(b)));
        if (!ans->complete)
            html_snooze_copies(f, s, v, ans, z);
    }
    for (size_t i = 0; i < ans->n_not_ours; i++)
        html_update(f, "Not ours", ans->not_ours[i], dir);
    /* the holds resumes ended for the link's team (every team's, for a
     * link of no team), said for a while, not while a completion holds */
    bool resumed = false;
    for (size_t i = 0; !ans->complete && i < ans->n_resumed; i++) {
        const struct tkl_resumed *x = &ans->resumed[i];
        if ((!x->team || !v->team || !strcmp(x->team, v->team->id)) &&
            tkl_answer_resume_shown(x, v->today)) {
            html_resumed(f, s, v, ans, x);
            resumed = true;
        }
    }
    if (ans->progress)
        html_update(f, "Latest progress", ans->progress, dir);
    char *overruled = NULL;
    if (tkl_answer_overruled_text(ans, v->a, &overruled) < 0)
        return -ENOMEM;
    if (overruled) {
        fputs("<li>", f);
        (void)tkl_html_fputs(overruled, f);
        fputs("</li>\n", f);
        free(overruled);
    }
    if (!ans->complete && !ans->reopened && !snooze_holding(ans, v) && !ans->n_not_ours &&
        !resumed && !ans->progress && !ans->overruled)
        fputs("<li>No update holds now; the history below has them all.</li>\n", f);
    fputs("</ul>\n</section>\n", f);
    return 0;
}

/* Opens a form of the page: posted to the link itself, the token in it. */
static void form_open(FILE *f, const struct act_view *v, const char *heading_id,
                      const char *heading)
{
    /* a token is base64url: nothing to escape */
    fprintf(f,
            "<form method=\"post\" action=\"%s\" aria-labelledby=\"%s\">\n"
            "<input type=\"hidden\" name=\"token\" value=\"%s\">\n<h3 id=\"%s\">%s</h3>\n",
            v->token, heading_id, v->token, heading_id, heading);
}

/* When the other owning teams of a joint action hear of an update
 * (delivery.joint_settle_seconds; nothing when told at once): a sentence,
 * after html_others_told's. */
static void html_settle(FILE *f, const struct tkl_service *s)
{
    int sec = s->rt->cfg->delivery.joint_settle_seconds;
    if (sec <= 0)
        return;
    int n = sec % 3600 == 0 ? sec / 3600 : sec % 60 == 0 ? sec / 60 : sec;
    const char *unit = sec % 3600 == 0 ? "hour" : sec % 60 == 0 ? "minute" : "second";
    fprintf(f,
            " They hear of it once it has stood for %d %s%s; change it again before then, and "
            "only the last change is told.",
            n, unit, n == 1 ? "" : "s");
}

/* The other owning teams of v's joint action, named, escaped: "the
 * others (ICT)", or, for a link of no owning team's, "the teams that own
 * it (HR; ICT)"; capital: "The". */
static void html_others(FILE *f, const struct tkl_service *s, const struct act_view *v,
                        bool capital)
{
    const struct tkl_team_dir *dir = &s->rt->cfg->teams;
    size_t n = 0;
    if (v->team)
        fputs(capital ? "The others (" : "the others (", f);
    else
        fputs(capital ? "The teams that own it (" : "the teams that own it (", f);
    for (size_t k = 0; k < v->a->n_teams; k++) {
        if (v->team && !strcmp(v->a->teams[k], v->team->id))
            continue;
        fputs(n++ ? "; " : "", f);
        (void)tkl_html_fputs(team_name(dir, v->a->teams[k]), f);
    }
    fputc(')', f);
}

/* Who is told of a completion, a snooze or their undoing through v's link
 * of a joint action (tkl_queue_joint): "tickler tells the others (ICT)"
 * and what (html_others); then when they hear of it (html_settle). */
static void html_others_told(FILE *f, const struct tkl_service *s, const struct act_view *v,
                             const char *what)
{
    fputs("tickler tells ", f);
    html_others(f, s, v, false);
    fprintf(f, " %s", what);
    html_settle(f, s);
}

/* The names of the teams that own a, escaped, separated by semicolons (a
 * team's name may hold a comma: "Policy, Communities and Engagement"). */
static void html_owning_teams(FILE *f, const struct tkl_team_dir *dir, const struct tkl_action *a)
{
    for (size_t k = 0; k < a->n_teams; k++) {
        fputs(k ? "; " : "", f);
        (void)tkl_html_fputs(team_name(dir, a->teams[k]), f);
    }
}

static void form_snooze(FILE *f, const struct tkl_service *s, const struct act_view *v,
                        const struct tkl_update *done)
{
    char first[TKL_DAY_ISO_SIZE], last[TKL_DAY_ISO_SIZE], day[TKL_DAY_LONG_SIZE];
    int32_t end = snooze_last(v->a, v->today);
    if (done) {
        fputs("<h3>Snooze</h3>\n<p>It is marked complete, so no reminders come to snooze. If work "
              "remains, reopen it first.</p>\n",
              f);
        return;
    }
    if (end < v->today + 1) {
        fputs("<h3>Snooze</h3>\n<p>The deadline is too close to snooze the reminders.</p>\n", f);
        return;
    }
    form_open(f, v, "h-snooze", "Snooze");
    fprintf(f, "<p>No reminders for this action until the day you choose: at most %s%s.</p>\n",
            day_text(end, day, sizeof(day)), end < year_ahead(v->today) ? ", the deadline" : "");
    if (v->a->n_teams) {
        fputs("<p>The snooze holds this action's reminders for every team that owns it: ", f);
        html_owning_teams(f, &s->rt->cfg->teams, v->a);
        fputs(".", f);
        if (v->a->n_teams > 1) {
            fputc(' ', f);
            html_others_told(f, s, v, "so, each with a link of their own to resume them.");
        }
        fputs("</p>\n", f);
    }
    int32_t esc_day;
    const struct tkl_team *esc = escalation_of(s, v, &esc_day);
    if (esc && esc_day <= end) {
        if (esc_day <= v->today)
            fputs("<p>This action is overdue and escalated: its reminders are copied to ", f);
        else
            fprintf(f, "<p>From %s its overdue reminders are copied to ",
                    day_text(esc_day, day, sizeof(day)));
        (void)tkl_html_fputs(esc->name, f);
        fputs(" as an escalation. A snooze of yours does not hold those copies: they go on as "
              "the plan says, and say that you snoozed it and until when.</p>\n",
              f);
    } else if (!v->team && v->a->n_teams) {
        fputs("<p>This link was issued to an address none of the teams that own this action "
              "lists (such as the team its reminders escalate to): a snooze from it holds every "
              "reminder of this action, the copies escalated to you included.</p>\n",
              f);
    }
    fputs("<p>A snooze that ends on a weekend or a bank holiday ends on the next working day: "
          "the reminders resume then.</p>\n",
          f);
    fputs("<fieldset>\n<legend>Until</legend>\n", f);
    const struct tkl_holidays *h = &s->rt->cfg->schedule.policy.holidays;
    static const int weeks[] = {1, 2};
    for (size_t i = 0; i < 2; i++) {
        int32_t until = v->today + 7 * weeks[i], resume = tkl_working_day_on_or_after(h, until);
        if (until > end)
            continue;
        fprintf(f,
                "<label class=\"choice\"><input type=\"radio\" name=\"snooze\" "
                "value=\"%dw\"> %d week%s: %s",
                weeks[i], weeks[i], weeks[i] > 1 ? "s" : "", day_text(until, day, sizeof(day)));
        if (resume != until)
            fprintf(f, " (reminders resume %s)", day_text(resume, day, sizeof(day)));
        fputs("</label>\n", f);
    }
    /* the day the weeks count from, so that a form sent after midnight
     * ends the snooze on the day it showed */
    (void)tkl_day_iso(v->today, first, sizeof(first));
    fprintf(f, "<input type=\"hidden\" name=\"shown\" value=\"%s\">\n", first);
    (void)tkl_day_iso(v->today + 1, first, sizeof(first));
    (void)tkl_day_iso(end, last, sizeof(last));
    char from_text[TKL_DAY_LONG_SIZE];
    fprintf(f,
            "<label class=\"choice\"><input type=\"radio\" name=\"snooze\" value=\"date\"> "
            "The date below</label>\n"
            "<label for=\"until\">Date (from %s to %s; a date given here is the snooze's end, "
            "whichever is ticked)</label>\n"
            "<input type=\"date\" id=\"until\" name=\"until\" min=\"%s\" max=\"%s\">\n"
            "</fieldset>\n",
            day_text(v->today + 1, from_text, sizeof(from_text)), day_text(end, day, sizeof(day)),
            first, last);
    fprintf(f,
            "<label for=\"snooze-note\">Why? (optional, plain text, up to 4,000 characters; it "
            "shows with the snooze on this page%s and in the progress report)</label>\n"
            "<textarea id=\"snooze-note\" name=\"note\" rows=\"3\" maxlength=\"4000\"></textarea>\n"
            "<button type=\"submit\" name=\"do\" value=\"snooze\">Snooze</button>\n</form>\n",
            esc && esc_day <= end ? ", in the copies escalated meanwhile" : "");
}

static void form_progress(FILE *f, const struct act_view *v)
{
    form_open(f, v, "h-progress", "Progress note");
    fputs("<fieldset>\n<legend>RAG status</legend>\n"
          "<label class=\"choice\"><input type=\"radio\" name=\"rag\" value=\"green\" required> "
          "Green: on track</label>\n"
          "<label class=\"choice\"><input type=\"radio\" name=\"rag\" value=\"amber\"> "
          "Amber: at risk, in hand</label>\n"
          "<label class=\"choice\"><input type=\"radio\" name=\"rag\" value=\"red\"> "
          "Red: off track, help needed</label>\n</fieldset>\n"
          "<label for=\"progress-note\">Your note (plain text, up to 4,000 characters)</label>\n"
          "<textarea id=\"progress-note\" name=\"note\" rows=\"5\" maxlength=\"4000\" "
          "required></textarea>\n"
          "<button type=\"submit\" name=\"do\" value=\"progress\">Send progress note</button>\n"
          "</form>\n",
          f);
}

/* Who recorded update u, for v's page: "You" (v's own link's recipient),
 * else the recipient and, when known, their team, escaped. */
static void html_who(FILE *f, const struct tkl_service *s, const struct act_view *v,
                     const struct tkl_update *u)
{
    if (!strcmp(u->recipient, v->tok.recipient)) {
        fputs("You", f);
        return;
    }
    (void)tkl_html_fputs(u->recipient, f);
    const struct tkl_team *t = u->team_id ? tkl_team_find(&s->rt->cfg->teams, u->team_id) : NULL;
    if (t) {
        fputs(" (", f);
        (void)tkl_html_fputs(t->name, f);
        fputc(')', f);
    }
}

/* The sentence saying when v's team is next reminded after a resume now
 * of the hold since since: the reminder held back, or the next one. */
static void html_next_after_resume(FILE *f, const struct tkl_service *s, const struct act_view *v,
                                   int64_t since)
{
    char when[TKL_WEB_WHEN_LONG_SIZE];
    const struct tkl_runtime *rt = s->rt;
    /* the schedule not built yet (PostgreSQL), or what was missed waiting
     * for the sending hours, to be decided then */
    if (!v->team || s->last_run_pending || s->hours_pending) {
        fputs("reminders then go on as the plan says.", f);
        return;
    }
    bool held;
    int64_t next = tkl_scheduler_resume_preview(
        &rt->sched, &rt->cfg->schedule, rt->store, (size_t)(v->a - rt->store->actions),
        (size_t)(v->team - rt->cfg->teams.teams), since, v->now, &held);
    if (next == INT64_MAX)
        fputs("no reminder is left to come for your team: the plan has none after this.", f);
    else if (next <= v->now)
        fputs("your team's next reminder is due now, and goes out shortly.", f);
    else if (held)
        fprintf(f, "the reminder held back meanwhile comes %s, and the others as the plan says.",
                tkl_web_when_long(next, when, sizeof(when)));
    else
        fprintf(f, "your team's next reminder comes %s, as the plan says.",
                tkl_web_when_long(next, when, sizeof(when)));
}

/* The way back from a snooze, or from the "not ours" of v's team, while
 * one holds and no completion does (its reopen comes first). */
static void form_resume(FILE *f, const struct tkl_service *s, const struct act_view *v,
                        const struct tkl_answer *ans)
{
    const struct tkl_update *snooze = snooze_holding(ans, v), *not_ours = team_not_ours(ans, v);
    const struct tkl_holidays *h = &s->rt->cfg->schedule.policy.holidays;
    char day[TKL_DAY_LONG_SIZE], resume[TKL_DAY_LONG_SIZE];
    if (!ans || (!snooze && !not_ours) || ans->complete)
        return;
    form_open(f, v, "h-resume", "Resume reminders");
    fputs("<p>", f);
    /* the owners' snooze and one of no owning team's: each that holds */
    size_t n_held = 0;
    for (int i = 0; snooze && i < TKL_SNOOZE_SLOTS; i++) {
        const struct tkl_update *z = tkl_answer_slot(ans, i, v->today, NULL);
        if (!z)
            continue;
        n_held++;
        html_who(f, s, v, z);
        fprintf(f, " snoozed %s until %s",
                i == TKL_SNOOZE_OWNERS ? "this action's reminders"
                                       : "every reminder of this action, the copies too,",
                day_text(z->until_day, day, sizeof(day)));
        int32_t back = tkl_working_day_on_or_after(h, z->until_day);
        if (back != z->until_day && ends_last(ans, z, v->today))
            fprintf(f, " (they resume %s)", day_text(back, resume, sizeof(resume)));
        fputs(". ", f);
    }
    if (not_ours) {
        fputs("Your team, ", f);
        (void)tkl_html_fputs(v->team->name, f);
        fputs(", said it is not theirs", f);
        if (strcmp(not_ours->recipient, v->tok.recipient) != 0) {
            fputs(" (", f);
            (void)tkl_html_fputs(not_ours->recipient, f);
            fputc(')', f);
        }
        fputs(". ", f);
    }
    const char *press = !snooze      ? "take it back"
                        : not_ours   ? (n_held > 1 ? "take your team's \"not ours\" back and end "
                                                     "both snoozes"
                                                   : "take your team's \"not ours\" back and end "
                                                     "the snooze")
                        : n_held > 1 ? "end both snoozes now"
                                     : "end the snooze now";
    fprintf(f, "Press to %s: ", press);
    /* the earlier hold's */
    int64_t since = INT64_MAX;
    if (snooze)
        (void)tkl_answer_snooze(ans, v->today, &since);
    int64_t team_since = not_ours ? tkl_answer_not_ours_since(ans, v->team->id) : INT64_MAX;
    if (team_since < since)
        since = team_since;
    html_next_after_resume(f, s, v, since);
    fputs("</p>\n", f);
    if (snooze && v->a->n_teams > 1) {
        fputs("<p>This ends the snooze for every team that owns this action (", f);
        html_owning_teams(f, &s->rt->cfg->teams, v->a);
        fputs("), not only yours; ", f);
        html_others_told(f, s, v, "so, and the reminders they get say who resumed them.");
        fputs("</p>\n", f);
    }
    if (not_ours) {
        fputs("<p>", f);
        html_who_is_told(f, s, true);
        fputs("</p>\n", f);
    }
    fputs("<label for=\"resume-note\">Why you are resuming reminders (optional, plain text, up to "
          "4,000 characters; it shows in the reminders and the progress report)</label>\n"
          "<textarea id=\"resume-note\" name=\"note\" rows=\"3\" maxlength=\"4000\"></textarea>\n"
          "<button type=\"submit\" name=\"do\" value=\"resume\">Resume reminders</button>\n"
          "</form>\n",
          f);
}

static void form_not_ours(FILE *f, const struct tkl_service *s, const struct act_view *v,
                          const struct tkl_answer *ans)
{
    if (ans && team_not_ours(ans, v)) {
        fprintf(f,
                "<h3>Not ours</h3>\n<p>Your team has said this action is not theirs. If it is "
                "after all, %s.</p>\n",
                ans->complete ? "reopen it (it is marked complete), then use Resume reminders"
                              : "use Resume reminders above");
        return;
    }
    if (!v->team) {
        fputs("<h3>Not ours</h3>\n<p>Only a team that owns this action can say it is not "
              "theirs, and this link was issued to an address none of its teams lists.</p>\n",
              f);
        return;
    }
    form_open(f, v, "h-not-ours", "Not ours");
    fputs("<p>If this action is not for ", f);
    (void)tkl_html_fputs(v->team->name, f);
    fputs(", say so here: the team then gets no more reminders for it until the plan changes "
          "its owners. ",
          f);
    html_who_is_told(f, s, false);
    fputs("</p>\n"
          "<label for=\"suggested\">Which team should have it? (optional)</label>\n"
          "<input type=\"text\" id=\"suggested\" name=\"suggested\" maxlength=\"200\" "
          "autocomplete=\"off\">\n"
          "<label for=\"not-ours-note\">Comment (optional)</label>\n"
          "<textarea id=\"not-ours-note\" name=\"note\" rows=\"3\" maxlength=\"4000\"></textarea>\n"
          "<button type=\"submit\" name=\"do\" value=\"not-ours\">Not ours</button>\n</form>\n",
          f);
}

/* Mark complete, or while complete holds (done: the completion) the way
 * back. A joint action's form says the other teams' reminders stop (or go
 * on) too, and that they are told. */
static void form_complete(FILE *f, const struct tkl_service *s, const struct act_view *v,
                          const struct tkl_update *done)
{
    if (!done) {
        form_open(f, v, "h-complete", "Mark complete");
        fputs("<p>Press when the action is done: reminders for it then stop, unless the plan "
              "later gives it a new deadline or status.</p>\n",
              f);
        if (v->a->n_teams > 1) {
            fputs("<p>The plan names more than one team for it (", f);
            html_owning_teams(f, &s->rt->cfg->teams, v->a);
            fputs("): the reminders of every one of them stop, and ", f);
            html_others_told(f, s, v, "so, each with a link of their own to undo it.");
            fputs(" Press when the whole action is done, not only your team's part.</p>\n", f);
        }
        fputs("<button type=\"submit\" name=\"do\" value=\"complete\">Mark complete</button>\n"
              "</form>\n",
              f);
        return;
    }
    form_open(f, v, "h-reopen", "Not complete after all");
    fputs("<p>Marked complete", f);
    html_by(f, done);
    fputs(". Press if it is not complete after all (marked by mistake, or work remains): "
          "reminders for it then go on as the plan says.",
          f);
    if (v->a->n_teams > 1) {
        fputc(' ', f);
        html_others_told(f, s, v, "so.");
    }
    fputs("</p>\n"
          "<label for=\"reopen-note\">Why (optional)</label>\n"
          "<textarea id=\"reopen-note\" name=\"note\" rows=\"3\" maxlength=\"4000\"></textarea>\n"
          "<button type=\"submit\" name=\"do\" value=\"reopen\">Reopen</button>\n</form>\n",
          f);
}

/* How many updates v's link recorded, among those the answers were built
 * from (with PostgreSQL, every node's as last read): what a POST counts
 * through the state, for the page to say before a button is pressed. */
static size_t link_used(const struct tkl_service *s, const struct act_view *v)
{
    const struct tkl_updates *l = &s->answers.updates;
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++)
        n += through_link(&l->v[i], v->tok.action_id, v->tok.recipient, v->tok.issued_at);
    return n;
}

static void html_forms(FILE *f, const struct tkl_service *s, const struct act_view *v)
{
    const struct tkl_answer *ans = tkl_answers_find(&s->answers, v->a->id);
    fputs("<section class=\"forms\" aria-labelledby=\"h-do\">\n<h2 id=\"h-do\">What you can "
          "do</h2>\n",
          f);
    if (link_used(s, v) >= LINK_UPDATES_MAX) { /* a POST would be refused */
        fprintf(f,
                "<p>This link has recorded as many updates as one link may (%d), so its "
                "buttons are gone. Use the link in a newer reminder for this action, or ask "
                "the action plan's owner for a new link (tickler link).</p>\n</section>\n",
                LINK_UPDATES_MAX);
        return;
    }
    fputs("<p>Each button records what you say, with your address and the time. Opening "
          "this page changes nothing.</p>\n",
          f);
    form_complete(f, s, v, ans ? ans->complete : NULL);
    form_resume(f, s, v, ans);
    form_snooze(f, s, v, ans ? ans->complete : NULL);
    form_progress(f, v);
    form_not_ours(f, s, v, ans);
    fputs("</section>\n", f);
}

/* The reminders of l, read with r (newest first), for the link issued to
 * recipient. */
static void html_reminder_list(FILE *f, int r, const struct tkl_item_notices *l,
                               const char *recipient)
{
    fputs("<h3>Reminders</h3>\n", f);
    if (r < 0 || !l->n) {
        fputs(r < 0 ? "<p>The reminders cannot be read just now.</p>\n" : "<p>None yet.</p>\n", f);
        return;
    }
    fputs("<ul class=\"history\">\n", f);
    for (size_t i = 0; i < l->n; i++) {
        const struct tkl_item_notice *x = &l->v[i];
        char when[48], stage[80];
        fprintf(f, "<li>%s: ",
                tkl_web_when(x->finished_at ? x->finished_at : x->created_at, when, sizeof(when)));
        (void)tkl_html_fputs(tkl_web_stage_words(x->stage_key, stage, sizeof(stage)), f);
        fputs(", to ", f);
        (void)tkl_html_fputs(tkl_web_text_or(x->team_name, "the escalation or report route"), f);
        fputs(" by ", f);
        (void)tkl_html_fputs(x->channel, f);
        fprintf(f, ", %s%s</li>\n", tkl_notice_state_name(x->state, x->attempts),
                !strcasecmp(x->recipient, recipient) ? " (to you)" : "");
    }
    fputs("</ul>\n", f);
}

/* The reminders the node's outbox holds for the action, newest first.
 * Returns 0 or -ENOMEM. */
static int html_reminders(FILE *f, struct tkl_service *s, const struct act_view *v)
{
    struct tkl_item_notices l = {0};
    int r = s->outbox ? tkl_outbox_item_history(s->outbox, v->a->id, HISTORY_MAX, &l) : -ENOENT;
    if (r == -ENOMEM)
        return r;
    html_reminder_list(f, r, &l, v->tok.recipient);
    tkl_item_notices_free(&l);
    return 0;
}

/* The updates recorded for the action, newest first: those the answers
 * were built from. Returns 0. */
static int html_updates(FILE *f, struct tkl_service *s, const struct act_view *v)
{
    const struct tkl_updates *u = &s->answers.updates;
    size_t shown = 0;
    fputs("<h3>Updates</h3>\n", f);
    if (s->answers_stale && !u->n) {
        fputs("<p>The updates cannot be read just now.</p>\n", f);
        return 0;
    }
    for (size_t i = u->n; i > 0 && shown < HISTORY_MAX; i--) {
        if (strcmp(u->v[i - 1].action_id, v->a->id) != 0)
            continue;
        if (!shown++)
            fputs("<ul class=\"history\">\n", f);
        html_update(f, tkl_update_kind_label(u->v[i - 1].kind), &u->v[i - 1], &s->rt->cfg->teams);
    }
    fputs(shown ? "</ul>\n" : "<p>None yet.</p>\n", f);
    return 0;
}

/* A GET waiting for the reminders of a state shared by nodes: the page
 * written before and after them and whom the link was issued to,
 * answered through later (NULL: nobody waits any more). */
struct showing {
    struct tkl_http_later *later;
    char *head, *tail, *recipient;
    size_t head_len, tail_len;
};

static void showing_free(struct showing *x)
{
    free(x->head);
    free(x->tail);
    free(x->recipient);
    free(x);
}

/* The page of x with the reminders of l, read with r; a state that could
 * not answer (its connection lost, the daemon stopping) 503 with
 * Retry-After. Returns 0 or -ENOMEM. */
static int shown(const struct showing *x, int r, const struct tkl_item_notices *l,
                 struct tkl_http_response *resp)
{
    if (r < 0) {
        return refuse_busy(resp, "Not available just now",
                           "tickler cannot read its database just now. Try the link again in a "
                           "few seconds.",
                           NULL);
    }
    char *body = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&body, &len);
    if (!f)
        return -ENOMEM;
    (void)fwrite(x->head, 1, x->head_len, f);
    html_reminder_list(f, 0, l, x->recipient);
    (void)fwrite(x->tail, 1, x->tail_len, f);
    if (fclose(f) != 0) {
        free(body);
        return -ENOMEM;
    }
    tkl_http_take(resp, "text/html; charset=utf-8", body, len);
    resp->status = 200;
    return 0;
}

static void on_reminders(void *data, int r, struct tkl_item_notices *l)
{
    struct showing *x = data;
    struct tkl_http_response resp = {.status = 200};
    if (x->later) {
        if (shown(x, r, l, &resp) < 0) {
            tkl_http_response_free(&resp);
            resp = (struct tkl_http_response){.status = 503};
        }
        resp.cache = "no-store";
        resp.noindex = true;
        resp.referrer = "same-origin";
        x->later->answer(x->later, &resp);
        tkl_http_response_free(&resp);
    }
    showing_free(x);
}

/* Closes f, opened on *body, into *ret (*ret_len bytes). Returns 0 or
 * -ENOMEM. */
static int stream_end(FILE *f, char **body, size_t *len, char **ret, size_t *ret_len)
{
    if (fclose(f) != 0) {
        free(*body);
        return -ENOMEM;
    }
    *ret = *body;
    *ret_len = *len;
    return 0;
}

/* The page whose reminders the state reads (a state shared by nodes),
 * its head written to f (on *body): the rest written, the read queued
 * and the answer deferred. Returns TKL_HTTP_LATER, 0 with the 503 in
 * resp (the state refused the read), -ENOTSUP (the state reads none, or
 * the request cannot wait: f left open to go on) or -ENOMEM. But for
 * -ENOTSUP, f is closed. */
static int act_get_later(struct tkl_service *s, const struct tkl_http_request *req,
                         const struct act_view *v, FILE *f, char **body, size_t *len,
                         struct tkl_http_response *resp)
{
    struct showing *x = req->defer ? calloc(1, sizeof(*x)) : NULL;
    int r = !req->defer ? -ENOTSUP
            : x ? tkl_state_item_notices(s->state, v->a->id, HISTORY_MAX, req->now, on_reminders, x)
                : -ENOMEM;
    if (r < 0) {
        free(x);
        if (r == -ENOTSUP)
            return r;
        (void)fclose(f);
        free(*body);
        if (r != -ENOMEM)
            r = shown(NULL, r, NULL, resp);
        return r < 0 ? -ENOMEM : 0;
    }
    /* queued: the completion frees x, answering through later if taken */
    char *tb = NULL;
    size_t tl = 0;
    FILE *t = NULL;
    r = stream_end(f, body, len, &x->head, &x->head_len);
    if (r == 0 && !(t = open_memstream(&tb, &tl)))
        r = -ENOMEM;
    if (t) {
        (void)html_updates(t, s, v);
        fputs("</section>\n</main>\n</body>\n</html>\n", t);
        r = stream_end(t, &tb, &tl, &x->tail, &x->tail_len);
    }
    if (r == 0 && !(x->recipient = strdup(v->tok.recipient)))
        r = -ENOMEM;
    if (r == 0 && !(x->later = req->defer(req)))
        r = -ESHUTDOWN;
    return r < 0 ? r : TKL_HTTP_LATER;
}

static int act_get(struct tkl_service *s, const struct tkl_http_request *req,
                   const struct act_view *v, struct tkl_http_response *resp)
{
    char *body = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&body, &len);
    if (!f)
        return -ENOMEM;
    page_open(f, v->a->title);
    html_intro(f, s, v, req);
    html_action(f, s, v);
    int r = html_now(f, s, v);
    html_forms(f, s, v);
    fputs("<section aria-labelledby=\"h-history\">\n<h2 id=\"h-history\">History</h2>\n", f);
    bool listed = false;
    if (r == 0 && s->node && !s->state_ready) { /* PostgreSQL never reached: nothing waits */
        struct tkl_item_notices none = {0};
        html_reminder_list(f, -ENOTCONN, &none, v->tok.recipient);
        listed = true;
    } else if (r == 0 && s->state) {
        r = act_get_later(s, req, v, f, &body, &len, resp);
        if (r != -ENOTSUP)
            return r; /* f closed */
        r = 0;
    }
    if (r == 0 && !listed)
        r = html_reminders(f, s, v);
    if (r == 0)
        r = html_updates(f, s, v);
    fputs("</section>\n", f);
    if (r < 0) {
        (void)fclose(f);
        free(body);
        return r;
    }
    return page_close(f, &body, &len, resp, 200);
}

/* ---- The POST ------------------------------------------------------------ */

/* The origin of url ("scheme://host[:port]", lower case, without the
 * scheme's default port) into buf. Returns 0 or -EINVAL (not an http(s)
 * URL with a host, "null" included). */
static int origin_of(const char *url, char *buf, size_t len)
{
    size_t sl;
    const char *port;
    if (!strncasecmp(url, "https://", 8)) {
        sl = 8;
        port = ":443";
    } else if (!strncasecmp(url, "http://", 7)) {
        sl = 7;
        port = ":80";
    } else {
        return -EINVAL;
    }
    size_t hl = strcspn(url + sl, "/?#");
    if (hl == 0 || sl + hl >= len || memchr(url + sl, '@', hl))
        return -EINVAL;
    for (size_t i = 0; i < sl + hl; i++)
        buf[i] = (char)(url[i] >= 'A' && url[i] <= 'Z' ? url[i] - 'A' + 'a' : url[i]);
    buf[sl + hl] = '\0';
    size_t n = sl + hl, k = strlen(port);
    if (n > sl + k && !strcmp(buf + n - k, port))
        buf[n - k] = '\0';
    return 0;
}

/* Whether req comes from a page of public_url's origin: its Origin, or
 * when it sends none its Referer's. */
static bool same_origin(const struct tkl_service *s, const struct tkl_http_request *req)
{
    char want[512], got[512];
    const char *from = req->origin ? req->origin : req->referer;
    const char *base = s->rt->cfg->http.public_url;
    return from && base && origin_of(base, want, sizeof(want)) == 0 &&
           origin_of(from, got, sizeof(got)) == 0 && !strcmp(want, got);
}

/* Writes why a form is refused (plain text) into why. Returns -EINVAL. */
__attribute__((format(printf, 3, 4))) static int why_not(char *why, size_t len, const char *fmt,
                                                         ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* The snooze's day from the form into u: a date given wins over the weeks
 * ticked, as the form says. Returns 0, or -EINVAL with why (plain text)
 * set. */
static int read_snooze(const struct tkl_form *form, const struct act_view *v, struct tkl_update *u,
                       char *why, size_t len)
{
    const char *choice = tkl_form_get(form, "snooze"), *until = tkl_form_get(form, "until"),
               *shown = tkl_form_get(form, "shown");
    int32_t last = snooze_last(v->a, v->today), day, from = v->today;
    char text[TKL_DAY_LONG_SIZE];
    if (choice && *choice && strcmp(choice, "1w") != 0 && strcmp(choice, "2w") != 0 &&
        strcmp(choice, "date") != 0)
        return why_not(why, len, "Choose 1 week, 2 weeks or a date.");
    /* the weeks count from the day the page showed, when that was
     * yesterday (a form sent after midnight): the day it offered */
    if (!tkl_text_blank(shown) && tkl_day_parse_iso(shown, &day) == 0 && day == v->today - 1)
        from = day;
    if (tkl_text_blank(until) && choice && (!strcmp(choice, "1w") || !strcmp(choice, "2w")))
        day = from + (choice[0] == '1' ? 7 : 14);
    else if (tkl_text_blank(until) && (!choice || strcmp(choice, "date") != 0))
        return why_not(why, len, "Choose %sa date to snooze until.",
                       v->today + 14 <= last  ? "1 week, 2 weeks or "
                       : v->today + 7 <= last ? "1 week or "
                                              : "");
    else if (tkl_text_blank(until))
        return why_not(why, len, "Choose the date to snooze until.");
    else if (tkl_day_parse_iso(until, &day) < 0)
        return why_not(why, len,
                       "The date was not understood: choose it in the date field (a browser "
                       "without one takes it as 2026-12-14 for 14 December 2026).");
    if (day <= v->today)
        return why_not(why, len, "A snooze must end after today.");
    if (day > last)
        return why_not(why, len, "A snooze may end on %s at the latest%s.",
                       day_text(last, text, sizeof(text)),
                       last < year_ahead(v->today) ? " (the deadline)" : " (a year ahead)");
    u->until_day = day;
    return 0;
}

/* Whether u (a reopen or a resume) repeats the latest update of l
 * through its link (its action, recipient and issue time) with no update
 * of the action through any link it turns the other way after it (a
 * completion for a reopen; a snooze, or its team's "not ours", for a
 * resume): the state finds it recorded already (TKL_UPDATE_TOGGLES_SQL). */
static bool repeats_link_latest(const struct tkl_updates *l, const struct tkl_update *u)
{
    for (size_t i = l->n; i > 0; i--) {
        const struct tkl_update *x = &l->v[i - 1];
        if (strcmp(x->action_id, u->action_id) != 0)
            continue;
        if (u->kind == TKL_UPDATE_REOPEN
                ? x->kind == TKL_UPDATE_COMPLETE
                : x->kind == TKL_UPDATE_SNOOZE || (x->kind == TKL_UPDATE_NOT_OURS && u->team_id &&
                                                   x->team_id && !strcmp(x->team_id, u->team_id)))
            return false;
        if (through_link(x, u->action_id, u->recipient, u->link_issued_at))
            return tkl_update_same(x, u);
    }
    return false;
}

/* A reopen's why (its note) from the form into u: taken while a
 * completion holds, or as a repeat of the link's latest update (which the
 * state answers as recorded already). Returns 0, -EAGAIN when the
 * updates could not be read (PostgreSQL: another node's completion may be
 * there), or -EINVAL with why set. */
static int read_reopen(const struct tkl_service *s, const char *note, const struct act_view *v,
                       struct tkl_update *u, char *why, size_t len)
{
    const struct tkl_answer *ans = tkl_answers_find(&s->answers, v->a->id);
    u->note = tkl_text_blank(note) ? NULL : (char *)note;
    if ((ans && ans->complete) || repeats_link_latest(&s->answers.updates, u))
        return 0;
    if (s->answers_stale)
        return -EAGAIN;
    /* reopened already (a second press with another reason, or none) */
    const struct tkl_updates *l = &s->answers.updates;
    for (size_t i = l->n; i > 0; i--) {
        const struct tkl_update *x = &l->v[i - 1];
        if (strcmp(x->action_id, v->a->id) != 0)
            continue;
        if (x->kind == TKL_UPDATE_COMPLETE)
            break;
        if (x->kind == TKL_UPDATE_REOPEN) {
            char when[48];
            return why_not(why, len,
                           "It was reopened already, by %s on %s: nothing more was recorded "
                           "(your reason too: give it as a progress note if it matters).",
                           x->recipient, tkl_web_when(x->at, when, sizeof(when)));
        }
    }
    return why_not(why, len,
                   "There is nothing to reopen: this action is not marked complete, or the plan "
                   "has changed since it was.");
}

/* A resume's why (its note) from the form into u: taken while a snooze
 * or the "not ours" of v's team holds and no completion does, or as a
 * repeat of the link's latest update. Returns 0, -EAGAIN when the updates
 * could not be read, or -EINVAL with why set (the completion that holds,
 * or who resumed the reminders already, or that nothing holds). */
static int read_resume(const struct tkl_service *s, const char *note, const struct act_view *v,
                       struct tkl_update *u, char *why, size_t len)
{
    const struct tkl_answer *ans = tkl_answers_find(&s->answers, v->a->id);
    u->note = tkl_text_blank(note) ? NULL : (char *)note;
    bool complete = ans && ans->complete;
    if (repeats_link_latest(&s->answers.updates, u) ||
        (!complete && (snooze_holding(ans, v) || team_not_ours(ans, v))))
        return 0;
    if (s->answers_stale) /* another node's reopen, or resume, may be there: busy */
        return -EAGAIN;
    if (complete)
        return why_not(why, len,
                       "It is marked complete, so no reminders come to resume. If work remains, "
                       "reopen it first.");
    const struct tkl_resumed *x = tkl_answer_resumed(ans, v->team ? v->team->id : NULL);
    char when[48];
    if (x && tkl_answer_resume_shown(x, v->today))
        return why_not(why, len,
                       "Reminders were resumed already, by %s on %s: nothing holds them now, so "
                       "nothing more was recorded (your reason too: give it as a progress note "
                       "if it matters).",
                       x->u->recipient, tkl_web_when(x->u->at, when, sizeof(when)));
    return why_not(why, len,
                   "There is nothing to resume: no snooze holds this action's reminders now, and "
                   "your team has not said it is not theirs (or the plan has changed since).");
}

/* What the form says, as an update of v's action (its strings point into
 * the form, v and the store). Returns 0, -EAGAIN (read_reopen), or
 * -EINVAL with why set. */
static int read_update(const struct tkl_service *s, const struct tkl_http_request *req,
                       const struct act_view *v, struct tkl_update *u, char *why, size_t len)
{
    const struct tkl_form *form = req->form;
    const struct tkl_action *a = v->a;
    const char *what = tkl_form_get(form, "do"), *note = tkl_form_get(form, "note");
    *u = (struct tkl_update){.action_id = a->id,
                             .recipient = (char *)v->tok.recipient,
                             .team_id = v->team ? v->team->id : NULL,
                             .at = req->now,
                             .link_issued_at = v->tok.issued_at,
                             .until_day = TKL_NO_DAY,
                             .plan_deadline_day = a->deadline.day,
                             .plan_deadline_text = a->deadline_text,
                             .plan_status = a->status_text,
                             .plan_owners = a->owners};
    if (!what || tkl_update_kind_parse(what, &u->kind) < 0)
        return why_not(why, len, "Use one of the page's buttons.");
    switch (u->kind) {
    case TKL_UPDATE_SNOOZE: {
        const struct tkl_answer *ans = tkl_answers_find(&s->answers, a->id);
        if (s->answers_stale) /* another node's reopen may be there: busy */
            return -EAGAIN;
        if (ans && ans->complete)
            return why_not(why, len,
                           "It is marked complete, so no reminders come to snooze. If work "
                           "remains, reopen it first.");
        u->note = tkl_text_blank(note) ? NULL : (char *)note;
        return read_snooze(form, v, u, why, len);
    }
    case TKL_UPDATE_PROGRESS:
        if (!tkl_form_get(form, "rag") || tkl_rag_parse(tkl_form_get(form, "rag"), &u->rag) < 0)
            return why_not(why, len, "Choose a RAG status: red, amber or green.");
        if (tkl_text_blank(note))
            return why_not(why, len, "Write a progress note.");
        u->note = (char *)note;
        return 0;
    case TKL_UPDATE_NOT_OURS:
        if (!v->team)
            return why_not(why, len,
                           "Only a team that owns this action can say it is not "
                           "theirs.");
        u->note = tkl_text_blank(note) ? NULL : (char *)note;
        u->suggested_team = tkl_text_blank(tkl_form_get(form, "suggested"))
                                ? NULL
                                : (char *)tkl_form_get(form, "suggested");
        return 0;
    case TKL_UPDATE_REOPEN:
        return read_reopen(s, note, v, u, why, len);
    case TKL_UPDATE_RESUME:
        return read_resume(s, note, v, u, why, len);
    default:
        return 0;
    }
}

/* 303 See Other to the page, saying what was done (kind: the kind's
 * name), new or recorded before (is_new false). Returns 0 or -ENOMEM. */
static int see_other(const struct tkl_service *s, const char *token, const char *kind, bool is_new,
                     struct tkl_http_response *resp)
{
    if (asprintf(&resp->location, "%sa/%s?%s=%s", s->rt->cfg->http.public_url, token,
                 is_new ? "done" : "same", kind) < 0) {
        resp->location = NULL;
        return -ENOMEM;
    }
    return refuse(resp, 303, "Recorded", "Recorded. Your browser goes back to the action's page.");
}

/* A POST waiting for the state: the update (a copy) and the link's token,
 * answered through later (NULL: nobody waits any more). */
struct posting {
    struct tkl_service *s;
    struct tkl_http_later *later;
    struct tkl_update u;
    char *token;
    bool abandoned;              /* its answer could not wait: the count records nothing */
    struct tkl_act_limits *list; /* on list->recording, or NULL */
    struct posting *prev, *next;
};

static void posting_unlist(struct posting *p)
{
    if (!p->list)
        return;
    if (p->prev)
        p->prev->next = p->next;
    else
        p->list->recording = p->next;
    if (p->next)
        p->next->prev = p->prev;
    p->list = NULL;
    p->prev = p->next = NULL;
}

static bool same_link(const struct tkl_update *a, const struct tkl_update *b)
{
    return a->link_issued_at == b->link_issued_at && !strcmp(a->action_id, b->action_id) &&
           !strcmp(a->recipient, b->recipient);
}

/* How many updates are being recorded through p's link (see struct
 * tkl_act_limits), each counted once, and none the same as p's: those
 * the state finds recorded already. */
static int64_t recording_through(const struct posting *p)
{
    int64_t n = 0;
    const struct tkl_act_limits *l = p->s->act_limits;
    for (const struct posting *q = l ? l->recording : NULL; q; q = q->next) {
        bool counted = !same_link(&q->u, &p->u) || tkl_update_same(&q->u, &p->u);
        for (const struct posting *o = q->next; !counted && o; o = o->next)
            counted = same_link(&o->u, &q->u) && tkl_update_same(&o->u, &q->u);
        n += !counted;
    }
    return n;
}

static void posting_free(struct posting *p)
{
    posting_unlist(p);
    tkl_update_free(&p->u);
    free(p->token);
    free(p);
}

/* The answer to a POST whose state operation came to r (0: recorded,
 * is_new as told; -EMLINK: the link recorded all it may); *resp filled.
 * sent: r is the answer to the update's own write, which may have been
 * committed when the connection went after it was sent (-ECONNRESET, or
 * -ECANCELED: closed with it unanswered). Other failures are answered as
 * recording nothing: the write was refused or undone. Returns 0 or
 * -ENOMEM. */
static int posted(struct posting *p, int r, bool is_new, bool sent, struct tkl_http_response *resp)
{
    if (sent && (r == -ECONNRESET || r == -ECANCELED)) {
        /* recording is idempotent (tkl_outbox_add_update): pressing again
         * is safe either way */
        return refuse_busy(
            resp, "Not confirmed",
            "tickler lost its database connection while recording this, so it cannot "
            "tell whether it was recorded. Go back and press the button again in a few "
            "seconds: an update recorded already is not recorded twice.",
            p->token);
    }
    if (r == -EMLINK)
        return refuse_back(
            resp, 403, "Nothing recorded",
            "This link has recorded as many updates as one link may. Use the link in a "
            "newer reminder.",
            p->token);
    if (r == 0)
        return see_other(p->s, p->token, tkl_update_kind_name(p->u.kind), is_new, resp);
    if (r == -EINVAL)
        return refuse_back(resp, 400, "Nothing recorded", "tickler does not take this update.",
                           p->token);
    if (r == -ESHUTDOWN) {
        return refuse_busy(
            resp, "Busy, nothing recorded",
            "tickler could not take this just now (it is stopping, or short of memory), so "
            "nothing was recorded. Go back and press the button again in a minute.",
            p->token);
    }
    if (r == -EBUSY || r == -EAGAIN || r == -ENOTCONN || r == -ECONNRESET || r == -ECANCELED ||
        r == -ETIMEDOUT) {
        return refuse_busy(
            resp, "Busy, nothing recorded",
            "tickler's database is busy. Go back and press the button again in a few "
            "seconds.",
            p->token);
    }
    return refuse_back(resp, 500, "Not recorded", "Internal error; see the daemon's log.",
                       p->token);
}

/* Sends the answer for r (sent: as posted) and frees p. */
static void post_answer(struct posting *p, int r, bool is_new, bool sent)
{
    struct tkl_http_response resp = {.status = 200};
    if (posted(p, r, is_new, sent, &resp) < 0) {
        tkl_http_response_free(&resp);
        resp = (struct tkl_http_response){.status = 503};
    }
    resp.cache = "no-store";
    resp.noindex = true;
    resp.referrer = "same-origin";
    if (p->later)
        p->later->answer(p->later, &resp);
    tkl_http_response_free(&resp);
    posting_free(p);
}

static void on_post_recorded(void *data, int r, bool is_new)
{
    post_answer(data, r, is_new, true);
}

/* The link's count of updates, less one that records what p->u does: under
 * the limit, the update is recorded (or found recorded already). */
static void on_link_counted(void *data, int r, int64_t used)
{
    struct posting *p = data;
    if (p->abandoned) { /* answered "nothing recorded" already */
        posting_free(p);
        return;
    }
    if (r == 0 && used + recording_through(p) >= LINK_UPDATES_MAX)
        r = -EMLINK;
    if (r == 0 && (r = tkl_service_record_update(p->s, &p->u, on_post_recorded, p)) == 0) {
        struct tkl_act_limits *l = p->s->act_limits;
        if (l) { /* made by the request's rate limit, before it was counted */
            p->list = l;
            p->next = l->recording;
            if (p->next)
                p->next->prev = p;
            l->recording = p;
        }
        return;
    }
    post_answer(p, r, false, false); /* the update was not sent */
}

static int act_post(struct tkl_service *s, const struct tkl_http_request *req,
                    const struct act_view *v, struct tkl_http_response *resp)
{
    const char *token = tkl_form_get(req->form, "token");
    char why[2048] = ""; /* a refusal may name a recipient: 254 characters of UTF-8 */
    struct tkl_update u;
    if (!token || strcmp(token, v->token) != 0)
        return refuse_back(
            resp, 403, "Nothing recorded",
            "This form does not belong to this link. Open the link again and use the "
            "buttons on its page.",
            v->token);
    if (!same_origin(s, req))
        return refuse_back(resp, 403, "Nothing recorded",
                           "This request did not come from tickler's own page, so nothing was "
                           "recorded. Open the link again and use the buttons on its page.",
                           v->token);
    int r = read_update(s, req, v, &u, why, sizeof(why));
    if (r == -EAGAIN) {
        return refuse_busy(resp, "Busy, nothing recorded",
                           "tickler cannot read the updates recorded for this action just now. Go "
                           "back and press the button again in a few seconds.",
                           v->token);
    }
    if (r < 0)
        return refuse_back(resp, 400, "Nothing recorded", why, v->token);
    _Static_assert(TKL_UPDATE_NOTE_MAX == 4000 && TKL_UPDATE_SUGGESTED_MAX == 200,
                   "the refusal below names the limits");
    if ((r = tkl_update_check(&u)) == -EMSGSIZE) /* past what the page's fields allow */
        return refuse_back(resp, 400, "Nothing recorded",
                           "The note is longer than 4,000 characters, or the team suggested "
                           "longer than 200. Go back, shorten it, and press the button again.",
                           v->token);
    if (r < 0)
        return refuse_back(resp, 400, "Nothing recorded", "tickler does not take this update.",
                           v->token);
    if (!req->defer)
        return -EINVAL;               /* a POST is answered once the state has it */
    if (s->node && !s->state_ready) { /* PostgreSQL never reached: nothing waits for it */
        struct posting none = {.s = s, .token = (char *)v->token};
        return posted(&none, -ENOTCONN, false, false, resp);
    }
    struct posting *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->s = s;
    r = tkl_update_copy(&u, &p->u);
    if (r == 0 && !(p->token = strdup(v->token)))
        r = -ENOMEM;
    if (r == 0)
        r = s->state ? tkl_state_link_updates(s->state, &p->u, on_link_counted, p) : -EAGAIN;
    if (r < 0) {
        posting_free(p);
        struct posting none = {.s = s, .token = (char *)v->token};
        return posted(&none, r, false, false, resp);
    }
    /* queued: the completion frees p, answering through later if taken;
     * without it (out of memory, the server stopping) nothing is recorded
     * and the answer says so now */
    if (!(p->later = req->defer(req))) {
        p->abandoned = true;
        struct posting none = {.s = s, .token = (char *)v->token};
        return posted(&none, -ESHUTDOWN, false, false, resp);
    }
    return TKL_HTTP_LATER;
}

int tkl_web_act(struct tkl_service *s, const struct tkl_http_request *req,
                struct tkl_http_response *resp)
{
    char text[160];
    struct act_view v = {0};
    if (!s->rt)
        return -EAGAIN;
    int r = limited(s, req);
    if (r > 0) {
        snprintf(text, sizeof(text),
                 "Too many requests from here or for this link. Try again in %d second%s.", r,
                 tkl_plural(r));
        int wait = r;
        /* a POST's token is checked once it may go ahead: until then no link back */
        r = refuse(resp, 429, "Too many requests", text);
        resp->retry_after = wait;
    } else if (r == 0 && (r = open_view(s, req, &v, resp)) == 0) {
        r = req->post ? act_post(s, req, &v, resp) : act_get(s, req, &v, resp);
        if (r == TKL_HTTP_LATER)
            return r; /* its answer sets the headers below */
    } else if (r == 1) {
        r = 0;
    }
    resp->cache = "no-store";
    resp->noindex = true;
    resp->referrer = "same-origin";
    return r;
}

/* Tests for daemon/web/act.c against a real service (page_fixture.h) with
 * links configured: a link's page shows the action, its history and the
 * forms, escapes the plan's text and changes nothing however often it is
 * fetched; tampered, expired, retired-key, malformed and gone-from-the-plan
 * links each get their page and status; a POST from the page records one
 * update (once: repeated, nothing more) and sends the browser back to the
 * page, while one without the form's token or from another origin records
 * nothing; snooze dates, RAG and "not ours" are checked; a completion
 * that holds is offered its reopen instead of "Mark complete", and a
 * reopen with nothing to reopen records nothing; the rate limits answer
 * 429 with Retry-After; a busy database 503. */
#include <check.h>

#include "check_run.h"
#include <sqlite3.h>

#include "core/day.h"
#include "outbox/updates.h"
#include "schedule/standing.h"
#include "page_fixture.h"
#include "record_fixture.h"

#define KEY     "6b1e0c33d1a9f0e8a5b7c2d4e6f8091a2b3c4d5e6f708192a3b4c5d6e7f80912"
#define ORIGIN  "https://tickler.example.gov.uk"
#define PUBLIC  ORIGIN "/"
#define DAY_SEC 86400
/* A note that says nothing: white space, NO-BREAK SPACE, LINE and
 * PARAGRAPH SEPARATOR, EM SPACE, ZERO WIDTH SPACE, IDEOGRAPHIC SPACE and
 * ZERO WIDTH NO-BREAK SPACE. */
#define NOTHING_SHOWN                                                                              \
    " \r\n\xc2\xa0\xe2\x80\xa8\xe2\x80\xa9\xe2\x80\x83\xe2\x80\x8b\xe3\x80\x80\xef\xbb\xbf"

static const char links_conf[] =
    "http = { listen = [ \"127.0.0.1:1\" ]; public_url = \"" PUBLIC "\"; };\n"
    "links = { keys = ( { id = \"k1\"; file = \"link.key\"; } ); };\n";

/* The fixture's clock: Friday 30 June 2023 09:00:30. */
static int64_t now(void)
{
    return tkl_local_instant(tkl_day_from_civil(2023, 6, 30), 9 * 60) + 30;
}

static void setup(void)
{
    page_conf_extra = links_conf;
    page_setup("act");
    tkl_write_text(page_dir, "link.key", KEY "\n");
}

static void teardown(void)
{
    page_teardown();
    page_conf_extra = NULL;
}

/* The id of the plan's action titled title. */
static const char *id_of(const char *title)
{
    for (size_t i = 0; i < page_s.rt->store->n; i++)
        if (!strcmp(page_s.rt->store->actions[i].title, title))
            return page_s.rt->store->actions[i].id;
    ck_abort_msg("no action %s", title);
    return NULL;
}

/* A link's path for (action id, recipient), issued by ring an hour ago
 * and lasting 45 days from then. */
static const char *path_by(const struct tkl_token_ring *ring, const char *id, const char *to,
                           int64_t issued, int64_t expires)
{
    static char path[TKL_TOKEN_MAX + 8];
    memcpy(path, "/a/", 4);
    ck_assert_int_eq(tkl_token_issue(ring, id, to, issued, expires, path + 3, sizeof(path) - 3), 0);
    return path;
}

static const char *path_for(const char *title, const char *to)
{
    return path_by(&page_s.rt->links, id_of(title), to, now() - 3600, now() - 3600 + 45 * DAY_SEC);
}

/* How many updates the state database holds. */
static size_t n_updates(void)
{
    struct tkl_updates l = {0};
    ck_assert_int_eq(tkl_outbox_updates(page_s.outbox, NULL, 0, INT64_MAX, &l), 0);
    size_t n = l.n;
    tkl_updates_free(&l);
    return n;
}

/* The latest update recorded (the caller frees it with tkl_update_free). */
static struct tkl_update last_update(void)
{
    struct tkl_updates l = {0};
    struct tkl_update u;
    ck_assert_int_eq(tkl_outbox_updates(page_s.outbox, NULL, 0, INT64_MAX, &l), 0);
    ck_assert_uint_gt(l.n, 0);
    ck_assert_int_eq(tkl_update_copy(&l.v[l.n - 1], &u), 0);
    tkl_updates_free(&l);
    return u;
}

struct post_opts {
    const char *origin, *referer;
    const char *client;
    int64_t at;    /* 0: the fixture's clock */
    bool no_later; /* the server cannot keep the request open (stopping) */
};

/*
 * POSTs the form given as name, value pairs ending with NULL to path, as
 * the server hands a POST over: the form read through the iterator
 * libmicrohttpd's post processor calls, then checked. The page must answer
 * (return 0); *resp holds the answer, its body NUL-terminated.
 */
/* The server's side of a POST answered later: the answer kept, once. */
struct later_told {
    struct tkl_http_later base;
    bool refuse; /* defer fails */
    int calls;
    struct tkl_http_response resp;
};

static void later_answer(struct tkl_http_later *l, struct tkl_http_response *resp)
{
    struct later_told *t = (struct later_told *)l;
    t->calls++;
    t->resp = *resp;
    resp->body = NULL;
    resp->location = NULL;
}

static struct tkl_http_later *later_defer(const struct tkl_http_request *req)
{
    struct later_told *t = req->conn;
    return t->refuse ? NULL : &t->base;
}

/* A POST handed to the page and not yet answered (post_begin). */
struct posted {
    struct later_told later;
    struct tkl_request r;
    struct tkl_form form;
    int rc; /* the page's return */
};

/* Hands the form of name, value pairs ap to the page, as page_post, and
 * lets the state's group stay open: post_end answers it. */
static void post_begin(struct posted *p, const char *path, struct post_opts o, va_list ap)
{
    *p = (struct posted){.later = {.base = {later_answer}, .refuse = o.no_later}};
    ck_assert_int_eq(tkl_request_route(path, &p->r), 0);
    tkl_form_init(&p->form, tkl_route_form(p->r.route));
    const char *k;
    while ((k = va_arg(ap, const char *))) {
        const char *v = va_arg(ap, const char *);
        ck_assert_int_eq(
            tkl_form_iterate(&p->form, MHD_POSTDATA_KIND, k, NULL, NULL, NULL, v, 0, strlen(v)),
            MHD_YES);
    }
    ck_assert_int_eq(tkl_form_finish(&p->form), 0);
    struct tkl_http_request req = {.req = &p->r,
                                   .now = o.at ? o.at : now(),
                                   .post = true,
                                   .form = &p->form,
                                   .origin = o.origin,
                                   .referer = o.referer,
                                   .client = o.client ? o.client : "192.0.2.10",
                                   .defer = later_defer,
                                   .conn = &p->later};
    p->rc = TKL_HTTP_LATER;
    struct tkl_http_response resp = {.status = 200};
    p->rc = tkl_web_act(&page_s, &req, &resp);
    if (p->rc != TKL_HTTP_LATER) {
        ck_assert_int_eq(p->rc, 0);
        p->later.resp = resp; /* answered at once */
    } else {
        ck_assert_int_eq(p->later.calls, 0); /* not before its commit */
    }
}

/* The answer to p, once the state's groups are committed, into *resp (its
 * body NUL-terminated). */
static void post_end(struct posted *p, struct tkl_http_response *resp)
{
    for (int i = 0; i < 4 && !(p->rc == TKL_HTTP_LATER && p->later.calls); i++)
        (void)tkl_state_commit(page_s.state); /* what was queued, then dropped, runs */
    ck_assert_int_eq(p->later.calls, p->rc == TKL_HTTP_LATER ? 1 : 0);
    *resp = p->later.resp;
    char *b = realloc(resp->body, resp->len + 1);
    ck_assert_ptr_nonnull(b);
    b[resp->len] = '\0';
    resp->body = b;
    tkl_form_free(&p->form);
}

static void page_post(struct tkl_http_response *resp, const char *path, struct post_opts o, ...)
{
    struct posted p;
    va_list ap;
    va_start(ap, o);
    post_begin(&p, path, o, ap);
    va_end(ap);
    post_end(&p, resp);
}

/* post_begin with the form's pairs as arguments. */
static void post_open(struct posted *p, const char *path, struct post_opts o, ...)
{
    va_list ap;
    va_start(ap, o);
    post_begin(p, path, o, ap);
    va_end(ap);
}

static const struct post_opts from_page = {.origin = ORIGIN};

/* GETs path as a client at address client. */
static void get_from(struct tkl_http_response *resp, const char *path, const char *client)
{
    struct tkl_request r;
    ck_assert_int_eq(tkl_request_route(path, &r), 0);
    struct tkl_http_request req = {.req = &r, .now = now(), .client = client};
    memset(resp, 0, sizeof(*resp));
    resp->status = 200;
    ck_assert_int_eq(tkl_web_act(&page_s, &req, resp), 0);
}

START_TEST(the_page_shows_the_action_and_changes_nothing)
{
    page_run_once(); /* A's reminder delivered to hr */
    const char *path = path_for("Review the pay gap", "hr");
    struct tkl_http_response resp;
    for (int i = 0; i < 3; i++) { /* a mail scanner, then the person */
        page_get(tkl_web_act, &resp, path, NULL);
        ck_assert_int_eq(resp.status, 200);
        if (i < 2)
            tkl_http_response_free(&resp);
    }
    ck_assert_uint_eq(n_updates(), 0);
    const char *b = resp.body;
    ck_assert_str_eq(resp.content_type, "text/html; charset=utf-8");
    ck_assert_str_eq(resp.cache, "no-store");
    ck_assert(resp.noindex);
    ck_assert_str_eq(resp.referrer, "same-origin");
    ck_assert(page_has(b, "<h1>Review the pay gap</h1>"));
    ck_assert(page_has(b, "This page is for <strong>hr</strong> (Human Resources)"));
    ck_assert(page_has(b, "works until 14 Aug 2023 08:00"));
    ck_assert(page_has(b, "People &amp; &lt;b&gt;culture&lt;/b&gt;"));
    ck_assert(page_has(b, "30/06/2023<br>read as Friday 30 June 2023, today"));
    ck_assert(page_has(b, "<span class=\"rag due-soon\">Due soon</span>"));
    ck_assert(page_has(b, "Data collected"));
    ck_assert(page_has(b, "No update has been recorded for this action yet."));
    /* the history: the reminder sent to hr, by chat */
    ck_assert(page_has(b, "on the deadline, to Human Resources by chat, delivered (to you)"));
    /* the forms, each posting the token back to the link itself; the
     * deadline is today, so none to snooze */
    const char *token = path + 3;
    char want[TKL_TOKEN_MAX * 2 + 100];
    snprintf(want, sizeof(want), "<form method=\"post\" action=\"%s\"", token);
    size_t forms = 0;
    for (const char *p = strstr(b, want); p; p = strstr(p + 1, want))
        forms++;
    ck_assert_uint_eq(forms, 3);
    ck_assert(page_has(b, "The deadline is too close to snooze the reminders."));
    snprintf(want, sizeof(want), "<input type=\"hidden\" name=\"token\" value=\"%s\">", token);
    ck_assert(page_has(b, want));
    ck_assert(page_has(b, "<button type=\"submit\" name=\"do\" value=\"complete\">"));
    ck_assert(page_has(b, "<input type=\"radio\" name=\"rag\" value=\"amber\">"));
    ck_assert(page_has(b, "name=\"suggested\""));
    /* the forms say when to press, not what is so */
    ck_assert(page_has(b, "<p>Press when the action is done: reminders for it then stop"));
    ck_assert(page_has(b, "<p>If this action is not for Human Resources, say so here: the team "
                          "then gets no more reminders"));
    ck_assert(!page_has(b, "The action is done."));
    ck_assert(!page_has(b, "does not belong to"));
    ck_assert(!page_has(b, "type=\"date\""));
    ck_assert(!page_has(b, "<script"));
    ck_assert(!page_has(b, PAGE_SECRET));
    tkl_http_response_free(&resp);
}
END_TEST

START_TEST(plan_text_is_escaped)
{
    page_load();
    struct tkl_http_response resp;
    page_get(tkl_web_act, &resp, path_for(PAGE_TRICKY_TITLE, "hr"), NULL);
    ck_assert_int_eq(resp.status, 200);
    ck_assert(!page_has(resp.body, "<script"));
    ck_assert(page_has(resp.body,
                       "<h1>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;</h1>"));
    ck_assert(page_has(resp.body, "Line one<br>Line &lt;two&gt; &amp; &#39;three&#39;"));
    /* a snooze of C ends by its deadline, 31 August */
    ck_assert(page_has(resp.body, "name=\"snooze\" value=\"1w\"> 1 week: Friday 7 July 2023"));
    ck_assert(page_has(resp.body, "name=\"snooze\" value=\"2w\"> 2 weeks: Friday 14 July 2023"));
    ck_assert(page_has(resp.body, "min=\"2023-07-01\" max=\"2023-08-31\""));
    tkl_http_response_free(&resp);
}
END_TEST

/* The status of path's page, which must say text. */
static void refused(const char *path, unsigned status, const char *text)
{
    struct tkl_http_response resp;
    page_get(tkl_web_act, &resp, path, NULL);
    ck_assert_msg(resp.status == status, "%s: %u", text, resp.status);
    ck_assert_msg(page_has(resp.body, text), "%s not in %s", text, resp.body);
    ck_assert_str_eq(resp.cache, "no-store");
    ck_assert(!page_has(resp.body, "<form"));
    tkl_http_response_free(&resp);
}

/* Whether path's page says text. */
static bool says(const char *path, const char *text)
{
    struct tkl_http_response resp;
    page_get(tkl_web_act, &resp, path, NULL);
    bool yes = page_has(resp.body, text);
    tkl_http_response_free(&resp);
    return yes;
}

START_TEST(bad_links_each_get_their_page)
{
    page_load();
    const char *a = id_of("Review the pay gap");
    char path[TKL_TOKEN_MAX + 8];
    snprintf(path, sizeof(path), "%s", path_for("Review the pay gap", "hr"));
    /* one character changed in the middle: the signature does not match */
    path[40] = path[40] == 'A' ? 'B' : 'A';
    refused(path, 403, "has been altered");
    refused("/a/", 400, "incomplete or damaged");
    refused("/a/abc.", 400, "incomplete or damaged");
    refused("/a/AAAA", 400, "incomplete or damaged");
    /* expired a second ago */
    refused(path_by(&page_s.rt->links, a, "hr", now() - 45 * DAY_SEC, now() - 1), 410,
            "has expired");
    /* no promise of a message that may never come */
    refused(path_by(&page_s.rt->links, a, "hr", now() - 45 * DAY_SEC, now() - 1), 410,
            "if you have one; if not, ask the action plan");
    /* signed by a key the ring no longer holds */
    struct tkl_token_ring old = {0};
    unsigned char secret[32];
    memset(secret, 0x42, sizeof(secret));
    ck_assert_int_eq(tkl_token_ring_add(&old, "k0", secret, sizeof(secret)), 0);
    refused(path_by(&old, a, "hr", now() - 60, now() + DAY_SEC), 403,
            "key that is no longer in use");
    tkl_token_ring_free(&old);
    /* an action the plan no longer has, and an observance */
    refused(path_by(&page_s.rt->links, "a00000000000", "hr", now() - 60, now() + DAY_SEC), 404,
            "no longer in the action plan");
    const char *pride = NULL;
    for (size_t i = 0; i < page_s.rt->store->n; i++)
        if (!tkl_action_in_plan(&page_s.rt->store->actions[i]))
            pride = page_s.rt->store->actions[i].id;
    ck_assert_ptr_nonnull(pride);
    refused(path_by(&page_s.rt->links, pride, "hr", now() - 60, now() + DAY_SEC), 404,
            "no longer in the action plan");
    ck_assert_uint_eq(n_updates(), 0);
}
END_TEST

/* A link copied from the end of a sentence ("... open <link>.") or from
 * brackets: the page opens at the link's own address; a damaged or
 * altered token with the same punctuation is still refused. */
START_TEST(a_link_with_closing_punctuation_opens_its_page)
{
    page_load();
    const char *a = id_of("Review the pay gap");
    char link[TKL_TOKEN_MAX + 8], path[TKL_TOKEN_MAX + 16], want[TKL_TOKEN_MAX + 64];
    snprintf(link, sizeof(link), "%s", path_for("Review the pay gap", "hr"));
    snprintf(want, sizeof(want), PUBLIC "a/%s", link + 3);
    static const char *const tails[] = {".", ",", ")",  ">", "]",  ";",           ":",
                                        "!", "?", "\"", "'", ").", "\xe2\x80\x9d"};
    struct tkl_http_response resp;
    for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", link, tails[i]);
        page_get(tkl_web_act, &resp, path, NULL);
        ck_assert_msg(resp.status == 303, "%s: %u", tails[i], resp.status);
        ck_assert_str_eq(resp.location, want);
        ck_assert_str_eq(resp.cache, "no-store");
        ck_assert(!page_has(resp.body, "<form"));
        tkl_http_response_free(&resp);
    }
    /* where it goes, the page and its forms */
    page_get(tkl_web_act, &resp, link, NULL);
    ck_assert_int_eq(resp.status, 200);
    ck_assert(page_has(resp.body, "<h1>Review the pay gap</h1>"));
    tkl_http_response_free(&resp);
    /* an expired one goes on to its own page, which says it has expired */
    const char *old = path_by(&page_s.rt->links, a, "hr", now() - 45 * DAY_SEC, now() - 1);
    snprintf(path, sizeof(path), "%s.", old);
    page_get(tkl_web_act, &resp, path, NULL);
    ck_assert_int_eq(resp.status, 303);
    snprintf(want, sizeof(want), PUBLIC "a/%s", old + 3);
    ck_assert_str_eq(resp.location, want);
    tkl_http_response_free(&resp);
    /* cut short, then a full stop: damaged; altered, then a bracket:
     * altered; neither is sent anywhere */
    snprintf(path, sizeof(path), "%.*s.", (int)strlen(link) - 5, link);
    refused(path, 400, "incomplete or damaged");
    snprintf(path, sizeof(path), "%s)", link);
    path[40] = path[40] == 'A' ? 'B' : 'A';
    refused(path, 403, "has been altered");
    /* a POST to the address with the full stop is the link's: recorded
     * once, and the browser sent to the link's own page */
    snprintf(path, sizeof(path), "%s.", link);
    page_post(&resp, path, from_page, "token", link + 3, "do", "complete", NULL);
    ck_assert_int_eq(resp.status, 303);
    snprintf(want, sizeof(want), PUBLIC "a/%s?done=complete", link + 3);
    ck_assert_str_eq(resp.location, want);
    tkl_http_response_free(&resp);
    ck_assert_uint_eq(n_updates(), 1);
}
END_TEST

/* An expired link's page says which action it was for, as the plan now
 * has it (escaped), when it stopped working, and how to get a new one;
 * a POST with it records nothing. */
START_TEST(an_expired_link_names_its_action_and_whom_to_ask)
{
    page_load();
    const char *a = id_of(PAGE_TRICKY_TITLE);
    const char *path = path_by(&page_s.rt->links, a, "hr", now() - 45 * DAY_SEC, now() - 1);
    char kicker[200];
    snprintf(kicker, sizeof(kicker), "<p class=\"kicker\">Action plan · action %s</p>", a);
    struct tkl_http_response resp;
    page_get(tkl_web_act, &resp, path, NULL);
    ck_assert_int_eq(resp.status, 410);
    const char *b = resp.body;
    ck_assert(page_has(b, "<h1>Link expired</h1>"));
    ck_assert(page_has(b, kicker));
    ck_assert(page_has(b, "This link was for the action <strong>&lt;script&gt;alert(1)&lt;/"
                          "script&gt; &amp; &quot;quotes&quot;</strong>."));
    ck_assert(!page_has(b, "<script"));
    ck_assert(page_has(b, "It has expired: it stopped working on 30 Jun 2023 09:00, so nothing "
                          "can be recorded through it."));
    ck_assert(page_has(b, "Each reminder about an action carries a new link: use the link in a "
                          "later reminder about this action, if you have one; if not, ask the "
                          "action plan's owner to record the update, or for a new link."));
    ck_assert(!page_has(b, "<form"));
    tkl_http_response_free(&resp);
    /* with a team that receives the reports, that team is asked (a chat
     * destination's name is no address to write to) */
    ck_assert_ptr_nonnull(page_s.rt->cfg->delivery.report_to = strdup("hr"));
    page_get(tkl_web_act, &resp, path, NULL);
    ck_assert(page_has(resp.body, "if not, ask Human Resources (the team that receives "
                                  "tickler's reports) for a new link, or to record the "
                                  "update for you."));
    ck_assert(
        !page_has(resp.body, "hr@maidstone.example")); /* as the link's own page: no address */
    tkl_http_response_free(&resp);
    /* links.expiry_days shortened: the day it says is the earlier */
    page_s.rt->cfg->links.expiry_days = 2;
    page_get(tkl_web_act, &resp,
             path_by(&page_s.rt->links, a, "hr", now() - 3 * DAY_SEC, now() + 40 * DAY_SEC), NULL);
    ck_assert_int_eq(resp.status, 410);
    ck_assert(page_has(resp.body, "it stopped working on 29 Jun 2023 09:00,"));
    tkl_http_response_free(&resp);
    /* an action the plan no longer has: its id, and nothing to do */
    page_get(tkl_web_act, &resp,
             path_by(&page_s.rt->links, "a00000000000", "hr", now() - 45 * DAY_SEC, now() - 1),
             NULL);
    ck_assert_int_eq(resp.status, 410);
    ck_assert(page_has(resp.body, "action a00000000000</p>"));
    ck_assert(page_has(resp.body, "an action that is no longer in the action plan"));
    ck_assert(page_has(resp.body, "Nothing needs doing from this link."));
    tkl_http_response_free(&resp);
    /* a POST with it is refused: nothing recorded */
    page_post(&resp, path, from_page, "token", path + 3, "do", "complete", NULL);
    ck_assert_int_eq(resp.status, 410);
    ck_assert(page_has(resp.body, "<h1>Link expired</h1>"));
    tkl_http_response_free(&resp);
    ck_assert_uint_eq(n_updates(), 0);
}
END_TEST

/* An expired link's page names its action only while tickler still
 * writes to its recipient about it, by the configuration in force: a
 * recipient of an owning team, of the team one escalates to, or of
 * delivery.report_to's. An address on none of them (one taken off its
 * team, say) gets the same 410 naming neither action nor team, also for
 * a link links.expiry_days ended early; a POST with it records nothing. */
START_TEST(an_expired_link_names_its_action_only_to_whom_tickler_still_writes)
{
    page_load();
    const char *d = id_of("Late report"), *b = id_of("Accessible forms");
    int64_t issued = now() - 45 * DAY_SEC, gone = now() - 1;
    static const char unnamed[] =
        "<main>\n<h1>Link expired</h1>\n<p class=\"refusal\">This link has expired: it stopped "
        "working on 30 Jun 2023 09:00, so nothing can be recorded through it.</p>\n<p>Each "
        "reminder about an action carries a new link: use the link in a later reminder about "
        "this action, if you have one; if not, ask the team that receives tickler's reports, or "
        "the action plan's owner, for a new link, or to record the update for you.</p>\n";
    ck_assert_ptr_nonnull(page_s.rt->cfg->delivery.report_to = strdup("hr"));
    /* an address on no team */
    char path[TKL_TOKEN_MAX + 8];
    snprintf(path, sizeof(path), "%s",
             path_by(&page_s.rt->links, d, "former@maidstone.example", issued, gone));
    refused(path, 410, unnamed);
    ck_assert(!says(path, "Late report"));
    ck_assert(!says(path, "class=\"kicker\"")); /* no action id */
    ck_assert(!says(path, "Human Resources"));
    struct tkl_http_response resp;
    page_post(&resp, path, from_page, "token", path + 3, "do", "complete", NULL);
    ck_assert_int_eq(resp.status, 410);
    ck_assert(page_has(resp.body, unnamed));
    tkl_http_response_free(&resp);
    ck_assert_uint_eq(n_updates(), 0);
    /* ended early by a shorter links.expiry_days: the same */
    int days = page_s.rt->cfg->links.expiry_days;
    page_s.rt->cfg->links.expiry_days = 2;
    const char *early = path_by(&page_s.rt->links, d, "former@maidstone.example",
                                now() - 3 * DAY_SEC, now() + 40 * DAY_SEC);
    refused(early, 410, "This link has expired: it stopped working on 29 Jun 2023");
    ck_assert(!says(early, "Late report"));
    page_s.rt->cfg->links.expiry_days = days;
    /* ops (ICT & Digital) of D (HR's): named once ICT is where HR's
     * reminders escalate to, and not before */
    snprintf(path, sizeof(path), "%s", path_by(&page_s.rt->links, d, "ops", issued, gone));
    refused(path, 410, unnamed);
    ck_assert_ptr_nonnull(page_s.rt->cfg->schedule.escalate_to = strdup("ict"));
    refused(path, 410, "This link was for the action <strong>Late report</strong>.");
    ck_assert(says(path, "if not, ask Human Resources (the team that receives "));
    /* hr of B (ICT's): named while HR receives tickler's reports */
    snprintf(path, sizeof(path), "%s", path_by(&page_s.rt->links, b, "hr", issued, gone));
    refused(path, 410, "This link was for the action <strong>Accessible forms</strong>.");
    free(page_s.rt->cfg->delivery.report_to);
    page_s.rt->cfg->delivery.report_to = NULL;
    refused(path, 410,
            "<h1>Link expired</h1>\n<p class=\"refusal\">This link has expired: it stopped "
            "working on 30 Jun 2023 09:00");
    ck_assert(!says(path, "Accessible forms"));
}
END_TEST

/* The page of a link that has not expired but whose recipient tickler no
 * longer writes to about its action. */
static const char withdrawn[] =
    "<main>\n<h1>Link no longer works</h1>\n<p class=\"refusal\">This link no longer works: the "
    "address it was sent to is no longer on a team tickler writes to about the action, so "
    "nothing can be recorded through it.</p>\n<p>Each reminder about an action carries a new "
    "link: use the link in a later reminder about this action, if you have one; if not, ask the "
    "team that receives tickler's reports, or the action plan's owner, for a new link, or to "
    "record the update for you.</p>\n";

/* Forms that would record an update through a link that works, one of
 * each kind: do, then up to two more name, value pairs (NULL: no more). */
static const char *const forms[][5] = {
    {"complete", NULL},
    {"snooze", "snooze", "1w", "note", "Away"},
    {"progress", "rag", "green", "note", "On track"},
    {"not-ours", "note", "Estates"},
    {"reopen", "note", "Why"},
    {"resume", NULL},
};

/* The status of *resp, which is freed, its body copied into body. */
static unsigned answered(struct tkl_http_response *resp, char *body, size_t len)
{
    unsigned status = resp->status;
    snprintf(body, len, "%s", resp->body);
    tkl_http_response_free(resp);
    return status;
}

/* POSTs form i of forms through path's link; returns the status, the
 * body in body. */
static unsigned post_form(const char *path, size_t i, char *body, size_t len)
{
    struct tkl_http_response resp;
    const char *const *f = forms[i];
    page_post(&resp, path, from_page, "token", path + 3, "do", f[0], f[1], f[2], f[1] ? f[3] : NULL,
              f[1] ? f[4] : NULL, NULL);
    return answered(&resp, body, len);
}

/* A link that has not expired acts only while tickler still writes to its
 * recipient about the action, by the configuration in force, as an expired
 * one's page names it: an address taken off every team told of it (its
 * holder gone from the council) gets a 403 that names neither action nor
 * team and says whom to ask, and a POST of any kind records nothing; the
 * other owning team's link of a joint action still acts, and a recipient of
 * delivery.report_to's team, or of the team an owner escalates to, still
 * has a link that works. */
START_TEST(a_link_to_an_address_taken_off_the_teams_acts_no_more)
{
    page_load();
    ck_assert_ptr_nonnull(page_s.rt->cfg->delivery.report_to = strdup("hr"));
    char ops[TKL_TOKEN_MAX + 8], hr[TKL_TOKEN_MAX + 8], former[TKL_TOKEN_MAX + 8];
    snprintf(ops, sizeof(ops), "%s", path_for(PAGE_TRICKY_TITLE, "ops"));
    snprintf(hr, sizeof(hr), "%s", path_for(PAGE_TRICKY_TITLE, "hr"));
    snprintf(former, sizeof(former), "%s", path_for("Late report", "former@maidstone.example"));
    ck_assert(says(ops, "name=\"do\" value=\"progress\">"));
    /* an address on no team at all */
    refused(former, 403, withdrawn);
    /* ops taken off ICT & Digital, one of C's owning teams */
    struct tkl_team *ict = (struct tkl_team *)tkl_team_find(&page_s.rt->cfg->teams, "ict");
    size_t n = ict->n_recipients;
    ict->n_recipients = 0;
    refused(ops, 403, withdrawn);
    ck_assert(!says(ops, "alert(1)"));         /* no action */
    ck_assert(!says(ops, "class=\"kicker\"")); /* no action id */
    ck_assert(!says(ops, "Human Resources"));  /* no team */
    ck_assert(!says(ops, "ICT &amp; Digital"));
    char body[8192];
    for (size_t i = 0; i < sizeof(forms) / sizeof(*forms); i++) {
        ck_assert_uint_eq(post_form(ops, i, body, sizeof(body)), 403);
        ck_assert_msg(page_has(body, withdrawn), "%s: %s", forms[i][0], body);
        ck_assert_uint_eq(post_form(former, i, body, sizeof(body)), 403);
    }
    ck_assert_uint_eq(n_updates(), 0);
    /* hr's link of the same joint action still acts */
    ck_assert_uint_eq(post_form(hr, 2, body, sizeof(body)), 303);
    ck_assert_uint_eq(n_updates(), 1);
    /* ops on ICT again, where HR's reminders escalate to: its link of
     * HR's D works */
    ict->n_recipients = n;
    ck_assert(says(ops, "name=\"do\" value=\"progress\">"));
    const char *d = path_for("Late report", "ops");
    refused(d, 403, withdrawn);
    ck_assert_ptr_nonnull(page_s.rt->cfg->schedule.escalate_to = strdup("ict"));
    ck_assert(says(d, "name=\"do\" value=\"progress\">"));
}
END_TEST

/* A retired key's link: nothing in it can be trusted, so it names no
 * action and no address, only whom to ask. */
START_TEST(a_retired_link_names_no_action_but_whom_to_ask)
{
    page_load();
    ck_assert_ptr_nonnull(page_s.rt->cfg->delivery.report_to = strdup("hr"));
    struct tkl_token_ring old = {0};
    unsigned char secret[32];
    memset(secret, 0x42, sizeof(secret));
    ck_assert_int_eq(tkl_token_ring_add(&old, "k0", secret, sizeof(secret)), 0);
    struct tkl_http_response resp;
    page_get(tkl_web_act, &resp,
             path_by(&old, id_of("Review the pay gap"), "hr", now() - 60, now() + DAY_SEC), NULL);
    tkl_token_ring_free(&old);
    ck_assert_int_eq(resp.status, 403);
    ck_assert(page_has(resp.body, "<h1>Link retired</h1>"));
    ck_assert(page_has(resp.body, "signed with a key that is no longer in use"));
    /* a token anyone could make: no team named either */
    ck_assert(page_has(resp.body, "if not, ask the team that receives tickler's reports, or the "
                                  "action plan's owner, for a new link"));
    ck_assert(!page_has(resp.body, "Human Resources"));
    ck_assert(!page_has(resp.body, "Review the pay gap"));
    tkl_http_response_free(&resp);
}
END_TEST

/* An update request, its follow-up and summary, in the outbox for an
 * action: its page's reminders say what each was, in words, not the
 * outbox's stage keys. */
START_TEST(the_reminders_list_says_what_each_was)
{
    page_load();
    const char *a = id_of("Review the pay gap");
    static const char *const keys[][1] = {
        {"request:2023-06-01"}, {"request-follow-up:2023-06-15"}, {"request-summary:2023-06-23"}};
    for (size_t i = 0; i < 3; i++) {
        struct tkl_notice_entry e = {.size = sizeof(e),
                                     .item_id = a,
                                     .title = "Review the pay gap",
                                     .deadline_day = TKL_NO_DAY,
                                     .kind = TKL_DEADLINE_UNDATED,
                                     .stage = TKL_STAGE_REQUEST};
        struct tkl_notice n = {.size = sizeof(n),
                               .channel = "chat",
                               .recipient = "hr",
                               .team_id = "hr",
                               .team_name = "Human Resources",
                               .due_at = now() - 86400 * (int64_t)(3 - i),
                               .entries = &e,
                               .n_entries = 1};
        uint64_t id;
        ck_assert_int_eq(tkl_outbox_put(page_s.outbox, &n, keys[i], now() - 86400, &id), 0);
    }
    struct tkl_http_response resp;
    page_get(tkl_web_act, &resp, path_for("Review the pay gap", "hr"), NULL);
    ck_assert_int_eq(resp.status, 200);
    ck_assert(page_has(resp.body, ": an update request, to Human Resources by chat"));
    ck_assert(page_has(resp.body, ": a follow-up to an update request, to Human Resources"));
    ck_assert(page_has(resp.body, ": the summary of an update request&#39;s answers, to Human"));
    ck_assert_ptr_null(strstr(resp.body, "request:"));
    ck_assert_ptr_null(strstr(resp.body, "request-"));
    tkl_http_response_free(&resp);
}
END_TEST

/* links.expiry_days shortened (as a reload puts it in force): a link
 * issued before lasts no longer than it says from its issue. */
START_TEST(a_shorter_expiry_in_force_ends_the_older_links)
{
    page_load();
    const char *a = id_of("Review the pay gap");
    page_s.rt->cfg->links.expiry_days = 2;
    refused(path_by(&page_s.rt->links, a, "hr", now() - 2 * DAY_SEC, now() + 43 * DAY_SEC), 410,
            "has expired");
    struct tkl_http_response resp;
    page_get(tkl_web_act, &resp, path_for("Review the pay gap", "hr"), NULL);
    ck_assert_int_eq(resp.status, 200);
    ck_assert(page_has(resp.body, "works until 2 Jul 2023 08:00"));
    tkl_http_response_free(&resp);
    ck_assert_uint_eq(n_updates(), 0);
}
END_TEST

START_TEST(without_links_there_is_no_page)
{
    page_conf_extra = NULL;
    page_teardown();
    page_setup("act-none");
    page_load();
    refused("/a/AQJrMQ", 404, "does not sign links");
}
END_TEST

START_TEST(a_post_from_the_page_records_once)
{
    page_load();
    const char *path = path_for("Review the pay gap", "hr");
    char token[TKL_TOKEN_MAX + 1], want[TKL_TOKEN_MAX + 100];
    snprintf(token, sizeof(token), "%s", path + 3);
    struct tkl_http_response resp;
    /* the page where a POST sends the browser, before anything is
     * recorded (a bookmark, a typed address): it claims nothing */
    page_get(tkl_web_act, &resp, path, "done", "complete", NULL);
    ck_assert_uint_eq(resp.status, 200);
    ck_assert(!page_has(resp.body, "Recorded:"));
    tkl_http_response_free(&resp);
    page_get(tkl_web_act, &resp, path, "same", "1", NULL);
    ck_assert(!page_has(resp.body, "recorded already"));
    tkl_http_response_free(&resp);
    page_post(&resp, path, from_page, "token", token, "do", "complete", NULL);
    ck_assert_int_eq(resp.status, 303);
    snprintf(want, sizeof(want), PUBLIC "a/%s?done=complete", token);
    ck_assert_str_eq(resp.location, want);
    tkl_http_response_free(&resp);
    ck_assert_uint_eq(n_updates(), 1);
    struct tkl_update u = last_update();
    ck_assert_str_eq(u.action_id, id_of("Review the pay gap"));
    ck_assert_str_eq(u.recipient, "hr");
    ck_assert_str_eq(u.team_id, "hr");
    ck_assert_int_eq(u.kind, TKL_UPDATE_COMPLETE);
    ck_assert_int_eq(u.at, now());
    ck_assert_int_eq(u.link_issued_at, now() - 3600);
    ck_assert_int_eq(u.plan_deadline_day, tkl_day_from_civil(2023, 6, 30));
    ck_assert_str_eq(u.plan_status, "In progress");
    ck_assert_str_eq(u.plan_owners, "HR");
    tkl_update_free(&u);
    /* again, a minute later: nothing more */
    page_post(&resp, path, (struct post_opts){.origin = ORIGIN, .at = now() + 60}, "token", token,
              "do", "complete", NULL);
    ck_assert_int_eq(resp.status, 303);
    snprintf(want, sizeof(want), PUBLIC "a/%s?same=complete", token);
    ck_assert_str_eq(resp.location, want);
    tkl_http_response_free(&resp);
    ck_assert_uint_eq(n_updates(), 1);
    /* the page the browser comes back to */
    page_get(tkl_web_act, &resp, path, "done", "complete", NULL);
    ck_assert(page_has(resp.body, "Recorded: marked complete."));
    ck_assert(page_has(resp.body, "<li>Marked complete by hr on 30 Jun 2023 09:00</li>"));
    /* the standing is the completion's, the plan's beside it */
    ck_assert(page_has(resp.body, "<dt>Standing</dt><dd><span class=\"rag complete\">Complete"
                                  "</span> (marked complete; by the plan alone: Due soon)</dd>"));
    tkl_http_response_free(&resp);
    /* a double tap's page says what was recorded, and that it was once;
     * so does a page sent there before the kind was named (same=1) */
    const char *const again[] = {"complete", "1"};
    for (size_t i = 0; i < 2; i++) {
        page_get(tkl_web_act, &resp, path, "same", again[i], NULL);
        ck_assert(page_has(resp.body, "Recorded: marked complete. Reminders for this action stop, "
                                      "unless the plan later gives it a new deadline or status. "
                                      "The button was pressed more than once (or your browser "
                                      "sent the form again); it is recorded once.</p>"));
        tkl_http_response_free(&resp);
    }
    /* a repeat answered by a node whose updates of the link end with
     * another kind than the one sent names neither */
    page_get(tkl_web_act, &resp, path, "same", "snooze", NULL);
    ck_assert(page_has(resp.body, "<p class=\"banner\" role=\"status\">This was recorded "
                                  "already; nothing more was changed.</p>"));
    ck_assert(!page_has(resp.body, "Recorded: marked complete"));
    ck_assert(!page_has(resp.body, "Recorded: snoozed"));
    tkl_http_response_free(&resp);
    /* only what the link recorded */
    page_get(tkl_web_act, &resp, path, "done", "snooze", NULL);
    ck_assert(!page_has(resp.body, "Recorded:"));
    tkl_http_response_free(&resp);
}
END_TEST

/* Once the plan says otherwise, what was recorded no longer holds; the
 * same button pressed again through the same link says it anew, and is
 * recorded and holds. */
START_TEST(the_same_post_after_the_plan_changed_is_recorded_again)
{
    page_load();
    const char *path = path_for("Review the pay gap", "hr");
    char token[TKL_TOKEN_MAX + 1], want[TKL_TOKEN_MAX + 100];
    snprintf(token, sizeof(token), "%s", path + 3);
    struct tkl_http_response resp;
    page_post(&resp, path, from_page, "token", token, "do", "complete", NULL);
    ck_assert_int_eq(resp.status, 303);
    tkl_http_response_free(&resp);
    /* the plan now gives a new deadline */
    struct tkl_action *a =
        (struct tkl_action *)tkl_store_find(page_s.rt->store, id_of("Review the pay gap"));
    a->deadline.day += 30;
    page_post(&resp, path, (struct post_opts){.origin = ORIGIN, .at = now() + 60}, "token", token,
              "do", "complete", NULL);
    ck_assert_int_eq(resp.status, 303);
    snprintf(want, sizeof(want), PUBLIC "a/%s?done=complete", token);
    ck_assert_str_eq(resp.location, want);
    tkl_http_response_free(&resp);
    ck_assert_uint_eq(n_updates(), 2);
    struct tkl_update u = last_update();
    ck_assert_int_eq(u.plan_deadline_day, tkl_day_from_civil(2023, 6, 30) + 30);
    tkl_update_free(&u);
    page_get(tkl_web_act, &resp, path, NULL);
    ck_assert(page_has(resp.body, "<li>Marked complete by hr on 30 Jun 2023 09:01</li>"));
    ck_assert(!page_has(resp.body, "so reminders go on"));
    tkl_http_response_free(&resp);
}
END_TEST

/* A POST of do=complete to path with o must be refused with status and
 * text, recording nothing. */
static void post_refused(const char *path, const char *token, struct post_opts o, unsigned status,
                         const char *text)
{
    struct tkl_http_response resp;
    size_t before = n_updates();
    page_post(&resp, path, o, "token", token, "do", "complete", NULL);
    ck_assert_msg(resp.status == status, "%s: %u", text, resp.status);
    ck_assert_msg(page_has(resp.body, text), "%s not in %s", text, resp.body);
    char back[TKL_TOKEN_MAX + 64]; /* to the link's own page, relative to it */
    snprintf(back, sizeof(back), "<a href=\"%s\">Back to the action</a>", path + 3);
    ck_assert(page_has(resp.body, back));
    ck_assert_ptr_null(resp.location);
    tkl_http_response_free(&resp);
    ck_assert_uint_eq(n_updates(), before);
}

START_TEST(a_post_from_elsewhere_records_nothing)
{
    page_load();
    const char *path = path_for("Late report", "hr");
    char token[TKL_TOKEN_MAX + 1];
    snprintf(token, sizeof(token), "%s", path + 3);
    const char *other = "AQJrMQxhMDAwMDAwMDAwMDA";
    post_refused(path, token, (struct post_opts){0}, 403, "did not come from tickler");
    post_refused(path, token, (struct post_opts){.origin = "https://evil.example"}, 403,
                 "did not come from tickler");
    post_refused(path, token, (struct post_opts){.origin = "null"}, 403,
                 "did not come from tickler");
    post_refused(path, token, (struct post_opts){.origin = "http://tickler.example.gov.uk"}, 403,
                 "did not come from tickler");
    post_refused(path, token, (struct post_opts){.referer = "https://evil.example/a/x"}, 403,
                 "did not come from tickler");
    /* an Origin that is there wins over the Referer */
    post_refused(path, token, (struct post_opts){.origin = "null", .referer = ORIGIN "/a/x"}, 403,
                 "did not come from tickler");
    /* the form's token must be the link's */
    post_refused(path, other, from_page, 403, "does not belong to this link");
    ck_assert_uint_eq(n_updates(), 0);
    /* the Referer's origin serves when there is no Origin; the default
     * port and case do not matter */
    struct tkl_http_response resp;
    page_post(&resp, path, (struct post_opts){.referer = "HTTPS://Tickler.Example.gov.uk:443/a/x"},
              "token", token, "do", "complete", NULL);
    ck_assert_int_eq(resp.status, 303);
    tkl_http_response_free(&resp);
    ck_assert_uint_eq(n_updates(), 1);
}
END_TEST

/* POSTs do=what (with note, unless NULL) through path at now() + at
 * seconds; returns the status, the location's query (after '?', or "")
 * into where. */
static unsigned post_do(const char *path, const char *what, const char *note, int64_t at,
                        char *where, size_t len)
{
    struct tkl_http_response resp;
    struct post_opts o = {.origin = ORIGIN, .at = now() + at};
    if (note)
        page_post(&resp, path, o, "token", path + 3, "do", what, "note", note, NULL);
    else
        page_post(&resp, path, o, "token", path + 3, "do", what, NULL);
    const char *q = resp.location ? strchr(resp.location, '?') : NULL;
    snprintf(where, len, "%s", q ? q + 1 : "");
    unsigned status = resp.status;
    tkl_http_response_free(&resp);
    return status;
}

/* Whether path's page offers the form of button do=what. */
static bool offers(const char *path, const char *what)
{
    struct tkl_http_response resp;
    char want[64];
    page_get(tkl_web_act, &resp, path, NULL);
    snprintf(want, sizeof(want), "name=\"do\" value=\"%s\">", what);
    bool yes = page_has(resp.body, want);
    tkl_http_response_free(&resp);
    return yes;
}

/* A completion that holds is offered its way back, in place of "Mark
 * complete": reopened, the page says so and offers "Mark complete" again;
 * the same reopen pressed again records nothing more; complete and reopen
 * once more are new updates. */
START_TEST(a_completion_can_be_reopened_from_the_page)
{
    page_load();
    char path[TKL_TOKEN_MAX + 8], where[64];
    snprintf(path, sizeof(path), "%s", path_for("Review the pay gap", "hr"));
    ck_assert(offers(path, "complete"));
    ck_assert(!offers(path, "reopen"));
    ck_assert_uint_eq(post_do(path, "complete", NULL, 0, where, sizeof(where)), 303);
    ck_assert_str_eq(where, "done=complete");
    ck_assert(!offers(path, "complete"));
    struct tkl_http_response resp;
    page_get(tkl_web_act, &resp, path, NULL);
    ck_assert(page_has(resp.body, "<h3 id=\"h-reopen\">Not complete after all</h3>"));
    ck_assert(page_has(resp.body, "<p>Marked complete by hr on 30 Jun 2023 09:00. Press if it is "
                                  "not complete after all"));
    ck_assert(page_has(resp.body, "<textarea id=\"reopen-note\" name=\"note\""));
    ck_assert(page_has(resp.body, "name=\"do\" value=\"reopen\">Reopen</button>"));
    tkl_http_response_free(&resp);

    const char *why = "Pressed by <mistake> & not signed off";
    ck_assert_uint_eq(post_do(path, "reopen", why, 60, where, sizeof(where)), 303);
    ck_assert_str_eq(where, "done=reopen");
    ck_assert_uint_eq(n_updates(), 2);
    struct tkl_update u = last_update();
    ck_assert_int_eq(u.kind, TKL_UPDATE_REOPEN);
    ck_assert_str_eq(u.recipient, "hr");
    ck_assert_str_eq(u.note, why);
    ck_assert_int_eq(u.plan_deadline_day, tkl_day_from_civil(2023, 6, 30));
    tkl_update_free(&u);
    const struct tkl_answer *ans = tkl_answers_find(&page_s.answers, id_of("Review the pay gap"));
    ck_assert_int_eq(tkl_answer_holds(ans, "hr", tkl_day_from_civil(2023, 7, 7)), TKL_HOLD_NONE);
    page_get(tkl_web_act, &resp, path, "done", "reopen", NULL);
    ck_assert(page_has(resp.body, "Recorded: reopened. Reminders for this action go on as the "
                                  "plan says."));
    /* what holds now: the reopen (escaped), no completion */
    ck_assert(page_has(resp.body,
                       "<h2 id=\"h-now\">What holds now</h2>\n<ul>\n<li>Reopened by "
                       "hr on 30 Jun 2023 09:01<blockquote><bdi>Pressed by &lt;mistake&gt; "
                       "&amp; not signed off</bdi></blockquote></li>\n</ul>"));
    ck_assert(!page_has(resp.body, "<mistake>"));
    tkl_http_response_free(&resp);
    ck_assert(offers(path, "complete"));
    ck_assert(!offers(path, "reopen"));

    /* pressed again (a retry, the browser's back button): nothing more */
    ck_assert_uint_eq(post_do(path, "reopen", why, 90, where, sizeof(where)), 303);
    ck_assert_str_eq(where, "same=reopen");
    ck_assert_uint_eq(n_updates(), 2);
    /* a reopen saying something else has nothing to reopen: it was
     * reopened already, by whom and when */
    ck_assert_uint_eq(post_do(path, "reopen", NULL, 100, where, sizeof(where)), 400);
    ck_assert_uint_eq(n_updates(), 2);
    page_post(&resp, path, from_page, "token", path + 3, "do", "reopen", NULL);
    ck_assert_msg(page_has(resp.body, "It was reopened already, by hr on 30 Jun 2023 09:01: "
                                      "nothing more was recorded"),
                  "%s", resp.body);
    tkl_http_response_free(&resp);

    /* complete and reopen again through the same link: each recorded */
    ck_assert_uint_eq(post_do(path, "complete", NULL, 120, where, sizeof(where)), 303);
    ck_assert_str_eq(where, "done=complete");
    ck_assert(offers(path, "reopen"));
    ck_assert_uint_eq(post_do(path, "reopen", why, 180, where, sizeof(where)), 303);
    ck_assert_str_eq(where, "done=reopen");
    ck_assert_uint_eq(n_updates(), 4);
    ck_assert_uint_eq(post_do(path, "reopen", why, 240, where, sizeof(where)), 303);
    ck_assert_str_eq(where, "same=reopen");
    ck_assert_uint_eq(n_updates(), 4);
}
END_TEST

/* A reopen POSTed where no completion holds (none recorded, or the plan
 * changed since) is refused with the page's refusal and a way back, and
 * records nothing; while the updates cannot be read it is busy (503). */
START_TEST(a_reopen_with_nothing_to_reopen_records_nothing)
{
    page_load();
    const char *path = path_for("Late report", "hr");
    struct tkl_http_response resp;
    page_post(&resp, path, from_page, "token", path + 3, "do", "reopen", NULL);
    ck_assert_int_eq(resp.status, 400);
    ck_assert(page_has(resp.body, "<h1>Nothing recorded</h1>"));
    ck_assert(page_has(resp.body, "There is nothing to reopen: this action is not marked "
                                  "complete"));
    char back[TKL_TOKEN_MAX + 64];
    snprintf(back, sizeof(back), "<a href=\"%s\">Back to the action</a>", path + 3);
    ck_assert(page_has(resp.body, back));
    ck_assert_ptr_null(resp.location);
    tkl_http_response_free(&resp);
    ck_assert_uint_eq(n_updates(), 0);
    /* the updates could not be read (PostgreSQL: another node's completion
     * may be there): busy, try again, rather than "nothing to reopen" */
    page_s.answers_stale = true;
    page_post(&resp, path, from_page, "token", path + 3, "do", "reopen", NULL);
    page_s.answers_stale = false;
    ck_assert_int_eq(resp.status, 503);
    ck_assert(page_has(resp.body, "<h1>Busy, nothing recorded</h1>"));
    ck_assert(page_has(resp.body, back));
    ck_assert_int_gt(resp.retry_after, 0);
    tkl_http_response_free(&resp);
    ck_assert_uint_eq(n_updates(), 0);
    /* marked complete, then the plan gives a new deadline: nothing holds */
    char where[64];
    ck_assert_uint_eq(post_do(path, "complete", NULL, 0, where, sizeof(where)), 303);
    struct tkl_action *a =
        (struct tkl_action *)tkl_store_find(page_s.rt->store, id_of("Late report"));
    a->deadline.day += 30;
    /* the answers are built again with the next update recorded */
    page_post(&resp, path, (struct post_opts){.origin = ORIGIN, .at = now() + 30}, "token",
              path + 3, "do", "progress", "rag", "amber", "note", "Later", NULL);
    ck_assert_int_eq(resp.status, 303);
    tkl_http_response_free(&resp);
    ck_assert(!offers(path, "reopen"));
    ck_assert(offers(path, "complete"));
    ck_assert_uint_eq(post_do(path, "reopen", NULL, 60, where, sizeof(where)), 400);
    ck_assert_uint_eq(n_updates(), 2);
}
END_TEST

/* POSTs a snooze of the action titled title for hr; returns the status. */
static unsigned snooze(const char *title, const char *to, const char *choice, const char *until,
                       char *body, size_t len)
{
    const char *path = path_for(title, to);
    char token[TKL_TOKEN_MAX + 1];
    snprintf(token, sizeof(token), "%s", path + 3);
    struct tkl_http_response resp;
    if (until)
        page_post(&resp, path, from_page, "token", token, "do", "snooze", "snooze", choice, "until",
                  until, NULL);
    else
        page_post(&resp, path, from_page, "token", token, "do", "snooze", "snooze", choice, NULL);
    return answered(&resp, body, len);
}

START_TEST(snooze_dates_are_checked)
{
    page_load();
    char body[8192];
    int32_t today = tkl_day_from_civil(2023, 6, 30);
    /* C is due 31 August: a week is fine, as is that day, not a day more */
    ck_assert_uint_eq(snooze(PAGE_TRICKY_TITLE, "hr", "1w", "", body, sizeof(body)), 303);
    struct tkl_update u = last_update();
    ck_assert_int_eq(u.kind, TKL_UPDATE_SNOOZE);
    ck_assert_int_eq(u.until_day, today + 7);
    tkl_update_free(&u);
    ck_assert_uint_eq(snooze(PAGE_TRICKY_TITLE, "hr", "date", "2023-08-31", body, sizeof(body)),
                      303);
    u = last_update();
    ck_assert_int_eq(u.until_day, tkl_day_from_civil(2023, 8, 31));
    tkl_update_free(&u);
    /* the page it goes back to says the day recorded */
    struct tkl_http_response shown;
    page_get(tkl_web_act, &shown, path_for(PAGE_TRICKY_TITLE, "hr"), "done", "snooze", NULL);
    ck_assert_msg(page_has(shown.body, "Recorded: snoozed until Thursday 31 August 2023. No "
                                       "reminders for this action come before then"),
                  "%s", shown.body);
    tkl_http_response_free(&shown);
    ck_assert_uint_eq(snooze(PAGE_TRICKY_TITLE, "hr", "date", "2023-09-01", body, sizeof(body)),
                      400);
    ck_assert(page_has(body, "A snooze may end on Thursday 31 August 2023 at the latest (the "
                             "deadline)."));
    /* a date with no choice made is the date */
    ck_assert_uint_eq(snooze(PAGE_TRICKY_TITLE, "hr", "", "2023-07-20", body, sizeof(body)), 303);
    /* a date given wins over the weeks ticked */
    ck_assert_uint_eq(snooze(PAGE_TRICKY_TITLE, "hr", "2w", "2023-07-21", body, sizeof(body)), 303);
    u = last_update();
    ck_assert_int_eq(u.until_day, tkl_day_from_civil(2023, 7, 21));
    tkl_update_free(&u);
    ck_assert_uint_eq(snooze(PAGE_TRICKY_TITLE, "hr", "1w", "2023-09-01", body, sizeof(body)), 400);
    /* not today, not before, not nonsense */
    ck_assert_uint_eq(snooze(PAGE_TRICKY_TITLE, "hr", "date", "2023-06-30", body, sizeof(body)),
                      400);
    ck_assert(page_has(body, "must end after today"));
    ck_assert_uint_eq(snooze(PAGE_TRICKY_TITLE, "hr", "date", "2023-13-01", body, sizeof(body)),
                      400);
    ck_assert_uint_eq(snooze(PAGE_TRICKY_TITLE, "hr", "date", "", body, sizeof(body)), 400);
    ck_assert_uint_eq(snooze(PAGE_TRICKY_TITLE, "hr", "3w", NULL, body, sizeof(body)), 400);
    /* D is overdue: any day up to the same date next year, across 29
     * February 2024 */
    struct tkl_http_response late;
    page_get(tkl_web_act, &late, path_for("Late report", "hr"), NULL);
    ck_assert_msg(page_has(late.body, "max=\"2024-06-30\""), "%s", late.body);
    tkl_http_response_free(&late);
    ck_assert_uint_eq(snooze("Late report", "hr", "date", "2024-06-30", body, sizeof(body)), 303);
    ck_assert_uint_eq(snooze("Late report", "hr", "date", "2024-07-01", body, sizeof(body)), 400);
    ck_assert(
        page_has(body, "A snooze may end on Sunday 30 June 2024 at the latest (a year ahead)."));
    /* A is due today: nothing to snooze to */
    ck_assert_uint_eq(snooze("Review the pay gap", "hr", "1w", NULL, body, sizeof(body)), 400);
    ck_assert_uint_eq(n_updates(), 5);
    /* the weeks count from the day the page showed, if yesterday (a
     * form sent after midnight), never from further back */
    const char *path = path_for(PAGE_TRICKY_TITLE, "hr");
    struct tkl_http_response resp;
    page_get(tkl_web_act, &resp, path, NULL);
    ck_assert(page_has(resp.body, "<input type=\"hidden\" name=\"shown\" value=\"2023-06-30\">"));
    tkl_http_response_free(&resp);
    static const struct {
        const char *shown;
        int32_t until;
    } from[] = {{"2023-06-29", 6}, {"2023-06-28", 7}, {"2023-07-01", 7}, {"nonsense", 7}};
    for (size_t i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
        /* an hour apart: the link's requests within its rate */
        struct post_opts later = {.origin = ORIGIN, .at = now() + 3600 * (int64_t)(i + 1)};
        page_post(&resp, path, later, "token", path + 3, "do", "snooze", "snooze", "1w", "shown",
                  from[i].shown, NULL);
        ck_assert_uint_eq(resp.status, 303);
        tkl_http_response_free(&resp);
        u = last_update();
        ck_assert_int_eq(u.until_day, today + from[i].until);
        tkl_update_free(&u);
    }
}
END_TEST

/* The snooze form's weeks say the day the reminders resume when they end
 * on a day that is not a working day (the scheduler's end: the first
 * working day on or after), and that a date given wins. */
START_TEST(the_snooze_form_says_when_reminders_resume)
{
    page_load();
    const char *path = path_for(PAGE_TRICKY_TITLE, "hr");
    struct tkl_http_response resp;
    get_from(&resp, path, "192.0.2.10"); /* Friday: a week is a Friday */
    ck_assert(page_has(resp.body, "1 week: Friday 7 July 2023</label>"));
    /* the dates in words */
    ck_assert(page_has(resp.body, "Date (from Saturday 1 July 2023 to Thursday 31 August 2023; "));
    ck_assert(page_has(resp.body, "a date given here is the snooze's end, whichever is ticked"));
    ck_assert(!page_has(resp.body, "(reminders resume"));
    tkl_http_response_free(&resp);
    struct tkl_request r;
    ck_assert_int_eq(tkl_request_route(path, &r), 0);
    struct tkl_http_request req = {.req = &r, .now = now() + DAY_SEC, .client = "192.0.2.10"};
    memset(&resp, 0, sizeof(resp));
    resp.status = 200;
    ck_assert_int_eq(tkl_web_act(&page_s, &req, &resp), 0); /* Saturday */
    char *b = realloc(resp.body, resp.len + 1);
    ck_assert_ptr_nonnull(b);
    b[resp.len] = '\0';
    resp.body = b;
    ck_assert(page_has(b, "1 week: Saturday 8 July 2023 (reminders resume Monday 10 July "
                          "2023)</label>"));
    ck_assert(page_has(b, "2 weeks: Saturday 15 July 2023 (reminders resume Monday 17 July "
                          "2023)</label>"));
    tkl_http_response_free(&resp);
}
END_TEST

/* A snooze to a day that is not a working day says, once recorded, the
 * day the reminders resume; an action marked complete offers no snooze,
 * and one POSTed anyway records nothing. */
START_TEST(a_snooze_says_its_resume_day_and_a_completed_action_offers_none)
{
    page_load();
    char body[8192], where[64];
    const char *path = path_for(PAGE_TRICKY_TITLE, "hr");
    /* nothing chosen, or "a date" with none given: said as such */
    ck_assert_uint_eq(snooze(PAGE_TRICKY_TITLE, "hr", "date", "", body, sizeof(body)), 400);
    ck_assert(page_has(body, "Choose the date to snooze until."));
    ck_assert_uint_eq(snooze(PAGE_TRICKY_TITLE, "hr", "", "", body, sizeof(body)), 400);
    ck_assert(page_has(body, "Choose 1 week, 2 weeks or a date to snooze until."));
    ck_assert_uint_eq(snooze(PAGE_TRICKY_TITLE, "hr", "date", "2023-07-08", body, sizeof(body)),
                      303);
    struct tkl_http_response resp;
    page_get(tkl_web_act, &resp, path, NULL);
    ck_assert(page_has(resp.body, "<li>Saturday 8 July 2023 is not a working day: reminders "
                                  "resume Monday 10 July 2023.</li>"));
    ck_assert(page_has(resp.body, "name=\"do\" value=\"snooze\">Snooze</button>"));
    tkl_http_response_free(&resp);
    /* to a working day: nothing more to say */
    ck_assert_uint_eq(snooze(PAGE_TRICKY_TITLE, "hr", "date", "2023-07-10", body, sizeof(body)),
                      303);
    page_get(tkl_web_act, &resp, path, NULL);
    ck_assert(!page_has(resp.body, "is not a working day"));
    tkl_http_response_free(&resp);

    ck_assert_uint_eq(post_do(path, "complete", NULL, 60, where, sizeof(where)), 303);
    size_t n = n_updates();
    page_get(tkl_web_act, &resp, path, NULL);
    ck_assert(page_has(resp.body, "<h3>Snooze</h3>\n<p>It is marked complete, so no reminders "
                                  "come to snooze. If work remains, reopen it first.</p>"));
    ck_assert(!page_has(resp.body, "value=\"snooze\">Snooze</button>"));
    tkl_http_response_free(&resp);
    ck_assert_uint_eq(snooze(PAGE_TRICKY_TITLE, "hr", "1w", NULL, body, sizeof(body)), 400);
    ck_assert(page_has(body, "It is marked complete, so no reminders come to snooze."));
    ck_assert_uint_eq(n_updates(), n);
    /* the updates could not be read (PostgreSQL: another node may have
     * reopened it): busy, rather than an answer from what may be stale */
    page_s.answers_stale = true;
    ck_assert_uint_eq(snooze(PAGE_TRICKY_TITLE, "hr", "1w", NULL, body, sizeof(body)), 503);
    page_s.answers_stale = false;
    ck_assert(page_has(body, "<h1>Busy, nothing recorded</h1>"));
    ck_assert_uint_eq(n_updates(), n);
    /* reopened, it may be snoozed again; the page kept from the
     * completion (the back button's) no longer says it stops reminders */
    ck_assert_uint_eq(post_do(path, "reopen", NULL, 120, where, sizeof(where)), 303);
    ck_assert(offers(path, "snooze"));
    page_get(tkl_web_act, &resp, path, "done", "complete", NULL);
    ck_assert(!page_has(resp.body, "Recorded: marked complete"));
    ck_assert(page_has(resp.body, "<li>Reopened by hr"));
    tkl_http_response_free(&resp);
    page_get(tkl_web_act, &resp, path, "done", "reopen", NULL);
    ck_assert(page_has(resp.body, "Recorded: reopened."));
    tkl_http_response_free(&resp);
}
END_TEST

/* While a snooze holds, the page offers its end: resumed, nothing holds,
 * the page says when the last reminder held comes, and offers the snooze
 * again; the same resume pressed again records nothing more, one saying
 * something else has nothing to resume; snoozed again through the same
 * link (the same day) and resumed through another, each is recorded. */
START_TEST(a_snooze_can_be_ended_from_the_page)
{
    page_load();
    char path[TKL_TOKEN_MAX + 8], ops[TKL_TOKEN_MAX + 8], where[64], body[8192];
    snprintf(path, sizeof(path), "%s", path_for(PAGE_TRICKY_TITLE, "hr"));
    snprintf(ops, sizeof(ops), "%s", path_for(PAGE_TRICKY_TITLE, "ops"));
    ck_assert(!offers(path, "resume"));
    ck_assert_uint_eq(snooze(PAGE_TRICKY_TITLE, "hr", "date", "2023-07-10", body, sizeof(body)),
                      303);
    ck_assert(offers(path, "resume"));
    ck_assert(offers(ops, "resume")); /* the snooze holds ICT's reminders too */
    struct tkl_http_response resp;
    page_get(tkl_web_act, &resp, path, NULL);
    /* snoozed just now: nothing was held back; the next is lead-28 */
    ck_assert(page_has(resp.body, "<h3 id=\"h-resume\">Resume reminders</h3>\n<p>You snoozed "
                                  "this action's reminders until Monday 10 July 2023. Press to "
                                  "end the snooze now: your team's next reminder comes Thursday "
                                  "3 August 2023 at 09:00, as the plan says.</p>\n<p>This ends the "
                                  "snooze for every team that owns "
                                  "this action (Human Resources; ICT &amp; Digital), not only "
                                  "yours; tickler tells the others (ICT &amp; Digital) so, and "
                                  "the reminders they get say who resumed them. They hear of it "
                                  "once it has stood for 10 minutes; change it again before then, "
                                  "and only the last change is told.</p>"));
    tkl_http_response_free(&resp);
    page_get(tkl_web_act, &resp, ops, NULL); /* another team's officer: who snoozed */
    ck_assert(page_has(resp.body, "<p>hr (Human Resources) snoozed this action's reminders "
                                  "until Monday 10 July 2023. Press to end the snooze now:"));
    tkl_http_response_free(&resp);

    const char *why = "Back <early> & ready";
    ck_assert_uint_eq(post_do(path, "resume", why, 60, where, sizeof(where)), 303);
    ck_assert_str_eq(where, "done=resume");
    size_t n = n_updates();
    ck_assert_uint_eq(n, 2);
    struct tkl_update u = last_update();
    ck_assert_int_eq(u.kind, TKL_UPDATE_RESUME);
    ck_assert_str_eq(u.note, why);
    ck_assert_str_eq(u.team_id, "hr");
    tkl_update_free(&u);
    const struct tkl_answer *ans = tkl_answers_find(&page_s.answers, id_of(PAGE_TRICKY_TITLE));
    ck_assert_int_eq(tkl_answer_holds(ans, "ict", tkl_day_from_civil(2023, 7, 3)), TKL_HOLD_NONE);
    page_get(tkl_web_act, &resp, path, "done", "resume", NULL);
    ck_assert(page_has(resp.body, "Recorded: reminders resumed. They go on as the plan says"));
    ck_assert(page_has(resp.body,
                       "<li>Snooze ended early by hr on 30 Jun 2023 09:01: your "
                       "team's next reminder comes Thursday 3 August 2023 at "
                       "09:00<blockquote><bdi>Back &lt;early&gt; &amp; ready</bdi></blockquote>"
                       "</li>"));
    const char *now_from = strstr(resp.body, "id=\"h-now\"");
    ck_assert_ptr_nonnull(now_from);
    const char *now_to = strstr(now_from, "</section>"), *snoozed = strstr(now_from, "Snoozed by");
    ck_assert(now_to && (!snoozed || snoozed > now_to)); /* the history has it, not "now" */
    ck_assert(!page_has(resp.body, "<early>"));
    tkl_http_response_free(&resp);
    ck_assert(!offers(path, "resume"));
    ck_assert(offers(path, "snooze"));

    /* pressed again: nothing more; something else: nothing to resume */
    ck_assert_uint_eq(post_do(path, "resume", why, 90, where, sizeof(where)), 303);
    ck_assert_str_eq(where, "same=resume");
    ck_assert_uint_eq(post_do(path, "resume", NULL, 100, where, sizeof(where)), 400);
    /* ICT's officer, a page open from before: resumed already, by whom */
    page_post(&resp, ops, (struct post_opts){.origin = ORIGIN, .at = now() + 110}, "token", ops + 3,
              "do", "resume", "note", "me too", NULL);
    ck_assert_int_eq(resp.status, 400);
    ck_assert(page_has(resp.body, "Reminders were resumed already, by hr on 30 Jun 2023 09:01: "
                                  "nothing holds them now, so nothing more was recorded"));
    tkl_http_response_free(&resp);
    ck_assert_uint_eq(n_updates(), n);
    page_s.answers_stale = true; /* PostgreSQL, unread: busy */
    ck_assert_uint_eq(post_do(path, "resume", NULL, 100, where, sizeof(where)), 503);
    page_s.answers_stale = false;
    ck_assert_uint_eq(n_updates(), n);

    /* the same snooze again through the same link, resumed through
     * ICT's: each a new update */
    ck_assert_uint_eq(snooze(PAGE_TRICKY_TITLE, "hr", "date", "2023-07-10", body, sizeof(body)),
                      303);
    ck_assert_uint_eq(n_updates(), n + 1);
    ck_assert_uint_eq(post_do(ops, "resume", NULL, 120, where, sizeof(where)), 303);
    ck_assert_str_eq(where, "done=resume");
    /* HR's page kept from its snooze no longer says it holds */
    page_get(tkl_web_act, &resp, path, "done", "snooze", NULL);
    ck_assert(!page_has(resp.body, "Recorded:"));
    tkl_http_response_free(&resp);
    ck_assert_uint_eq(snooze(PAGE_TRICKY_TITLE, "hr", "date", "2023-07-10", body, sizeof(body)),
                      303);
    ck_assert_uint_eq(n_updates(), n + 3);
    ck_assert(offers(path, "resume"));
    /* nor ICT's kept from its resume, now that a snooze holds again */
    page_get(tkl_web_act, &resp, ops, "done", "resume", NULL);
    ck_assert(!page_has(resp.body, "Recorded:"));
    tkl_http_response_free(&resp);
    /* marked complete: nothing to resume until it is reopened */
    ck_assert_uint_eq(post_do(path, "complete", NULL, 200, where, sizeof(where)), 303);
    ck_assert(!offers(path, "resume"));
    page_post(&resp, ops, (struct post_opts){.origin = ORIGIN, .at = now() + 210}, "token", ops + 3,
              "do", "resume", NULL);
    ck_assert_int_eq(resp.status, 400);
    ck_assert(page_has(resp.body, "It is marked complete, so no reminders come to resume."));
    tkl_http_response_free(&resp);
    ck_assert_uint_eq(n_updates(), n + 4);
}
END_TEST

/* A team's "not ours" is taken back by a resume through a link of that
 * team: the not-ours form says how, the page says who is told; another
 * team's link has nothing to resume. */
START_TEST(a_not_ours_can_be_taken_back)
{
    page_load();
    char ops[TKL_TOKEN_MAX + 8], hr[TKL_TOKEN_MAX + 8], where[64];
    snprintf(ops, sizeof(ops), "%s", path_for(PAGE_TRICKY_TITLE, "ops"));
    snprintf(hr, sizeof(hr), "%s", path_for(PAGE_TRICKY_TITLE, "hr"));
    ck_assert_uint_eq(post_do(ops, "not-ours", NULL, 0, where, sizeof(where)), 303);
    ck_assert(!offers(hr, "resume"));
    ck_assert_uint_eq(post_do(hr, "resume", NULL, 30, where, sizeof(where)), 400);
    ck_assert(!offers(ops, "not-ours"));
    struct tkl_http_response resp;
    page_get(tkl_web_act, &resp, ops, NULL);
    ck_assert(page_has(resp.body, "<p>Your team, ICT &amp; Digital, said it is not theirs. Press "
                                  "to take it back: your team's next reminder comes Thursday 3 "
                                  "August 2023 at 09:00, as the plan says.</p>"));
    ck_assert(page_has(resp.body, "<h3>Not ours</h3>\n<p>Your team has said this action is not "
                                  "theirs. If it is after all, use Resume reminders above.</p>"));
    ck_assert(page_has(resp.body, "tickler tells nobody of it here"));
    tkl_http_response_free(&resp);
    ck_assert_uint_eq(post_do(ops, "resume", NULL, 60, where, sizeof(where)), 303);
    ck_assert_str_eq(where, "done=resume");
    page_get(tkl_web_act, &resp, ops, "done", "resume", NULL);
    ck_assert(page_has(resp.body, "Recorded: reminders resumed. They go on as the plan says "
                                  "(under What holds now: when your team's next one comes). "
                                  "tickler tells nobody of it here"));
    tkl_http_response_free(&resp);
    const struct tkl_answer *ans = tkl_answers_find(&page_s.answers, id_of(PAGE_TRICKY_TITLE));
    ck_assert_int_eq(tkl_answer_holds(ans, "ict", tkl_day_from_civil(2023, 7, 3)), TKL_HOLD_NONE);
    page_get(tkl_web_act, &resp, ops, NULL);
    ck_assert(page_has(resp.body, "<li>&ldquo;Not ours&rdquo; of ICT &amp; Digital taken back by "
                                  "ops on 30 Jun 2023 09:01: your team's next reminder comes "
                                  "Thursday 3 August 2023 at 09:00</li>"));
    tkl_http_response_free(&resp);
    ck_assert(offers(ops, "not-ours"));
    ck_assert(!offers(ops, "resume"));
}
END_TEST

/* A snooze holds the action's reminders for every owning team: the form
 * names them all, escaped, to whichever team's officer opens it, and
 * that tickler tells the others, and when (delivery.joint_settle_seconds:
 * in minutes, hours or seconds, nothing when told at once). */
START_TEST(the_snooze_form_names_every_team_it_holds)
{
    page_load();
    static const char *const to[] = {"hr", "ops"};
    for (size_t i = 0; i < 2; i++) {
        struct tkl_http_response resp;
        page_get(tkl_web_act, &resp, path_for(PAGE_TRICKY_TITLE, to[i]), NULL);
        ck_assert(page_has(resp.body, "<p>The snooze holds this action's reminders for every "
                                      "team that owns it: Human Resources; ICT &amp; "
                                      "Digital. tickler tells the others ("));
        ck_assert(page_has(resp.body, i ? "the others (Human Resources) so, each with a link of "
                                          "their own to resume them. They hear of it once it has "
                                          "stood for 10 minutes; change it again before then, "
                                          "and only the last change is told.</p>"
                                        : "the others (ICT &amp; Digital) so, each with a link "
                                          "of their own to resume them. They hear of it once it "
                                          "has stood for 10 minutes; change it again before "
                                          "then, and only the last change is told.</p>"));
        tkl_http_response_free(&resp);
    }
    /* told at once (0): nothing said of a wait; 90 seconds said so */
    struct tkl_delivery_conf *dc = &page_s.rt->cfg->delivery;
    int settle = dc->joint_settle_seconds;
    static const struct {
        int seconds;
        const char *said;
    } cases[] = {{0, NULL},
                 {90, " They hear of it once it has stood for 90 seconds;"},
                 {3600, " They hear of it once it has stood for 1 hour;"}};
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        struct tkl_http_response resp;
        dc->joint_settle_seconds = cases[k].seconds;
        page_get(tkl_web_act, &resp, path_for(PAGE_TRICKY_TITLE, "hr"), NULL);
        ck_assert(page_has(resp.body, "the others (ICT &amp; Digital) so, each with a link of "
                                      "their own to resume them."));
        if (cases[k].said)
            ck_assert(page_has(resp.body, cases[k].said));
        else
            ck_assert(!page_has(resp.body, "They hear of it"));
        tkl_http_response_free(&resp);
    }
    dc->joint_settle_seconds = settle;
}
END_TEST

/* Gives every team's rules escalate_after_weeks, as a reload would. */
static void escalate_after(int weeks)
{
    struct tkl_schedule_conf *sc = &page_s.rt->cfg->schedule;
    sc->policy.rules.escalate_after_weeks = weeks;
    for (size_t i = 0; i < sc->n_team_rules; i++)
        sc->team_rules[i].escalate_after_weeks = weeks;
}

/* With D (HR, overdue since 31 May) escalated to ICT & Digital, What
 * holds now says what a snooze means for the escalation's copies: an
 * owning team's holds the owners' reminders only, and the copies go on,
 * from the day of the first when it is still to come (none within the
 * snooze: nothing said); the escalation team's (its link is no owning
 * team's) holds everything. */
START_TEST(what_holds_now_says_whether_the_escalations_copies_go_on)
{
    page_load();
    struct tkl_team *hr = (struct tkl_team *)tkl_team_find(&page_s.rt->cfg->teams, "hr");
    ck_assert_ptr_nonnull(hr->escalate_to = strdup("ict"));
    char body[8192];
    const char *path = path_for("Late report", "hr");
    char mine[TKL_TOKEN_MAX + 8];
    snprintf(mine, sizeof(mine), "%s", path);
    struct tkl_http_response resp;
    /* the first copy went on 28 June, its 4-week nag */
    ck_assert_uint_eq(snooze("Late report", "hr", "1w", NULL, body, sizeof(body)), 303);
    ck_assert(says(mine, "<li>This snooze holds the owners' reminders only, not the "
                         "copies escalated to ICT &amp; Digital: this action is "
                         "overdue and escalated, and those copies go on as the plan "
                         "says, each saying who snoozed it and until when.</li>"));
    /* escalated from 31 July (its second monthly nag): not within a week */
    escalate_after(6);
    ck_assert(says(mine, "<li>Snoozed by hr"));
    ck_assert(!says(mine, "This snooze holds"));
    /* within a snooze to 15 August, with a why: from that day */
    page_post(&resp, mine, (struct post_opts){.origin = ORIGIN, .at = now() + 60}, "token",
              mine + 3, "do", "snooze", "snooze", "date", "until", "2023-08-15", "note",
              "Audit first", NULL);
    ck_assert_int_eq(resp.status, 303);
    tkl_http_response_free(&resp);
    ck_assert(says(mine, "<li>This snooze holds the owners' reminders only, not the "
                         "copies escalated to ICT &amp; Digital: from Monday 31 July "
                         "2023 its overdue reminders are copied to them as the plan "
                         "says, each saying who snoozed it, until when and "
                         "why.</li>"));
    /* the escalation team's own snooze, seen from the owners' link too */
    ck_assert_uint_eq(snooze("Late report", "ops", "date", "2023-08-15", body, sizeof(body)), 303);
    ck_assert(says(mine, "<li>This snooze holds every reminder of this action: the "
                         "owners' and the copies escalated to ICT &amp; Digital "
                         "alike.</li>"));
    ck_assert(!says(mine, "owners' reminders only"));
    /* both snoozes hold, each named, and the Resume box ends both */
    ck_assert(says(mine, " snoozed this action's reminders until Tuesday 15 August 2023. "));
    ck_assert(says(mine, " snoozed every reminder of this action, the copies too, until "
                         "Tuesday 15 August 2023. "));
    ck_assert(says(mine, "Press to end both snoozes now: "));
}
END_TEST

/* The escalation team's snooze alone (no owners' snooze): What holds
 * now says it holds it all, the owners' page included. */
START_TEST(what_holds_now_with_the_escalation_teams_snooze_alone)
{
    page_load();
    struct tkl_team *hr = (struct tkl_team *)tkl_team_find(&page_s.rt->cfg->teams, "hr");
    ck_assert_ptr_nonnull(hr->escalate_to = strdup("ict"));
    char body[8192], mine[TKL_TOKEN_MAX + 8];
    snprintf(mine, sizeof(mine), "%s", path_for("Late report", "hr"));
    ck_assert_uint_eq(snooze("Late report", "ops", "date", "2023-08-15", body, sizeof(body)), 303);
    ck_assert(says(mine, "<li>This snooze holds every reminder of this action: the "
                         "owners' and the copies escalated to ICT &amp; Digital "
                         "alike.</li>"));
    ck_assert(says(mine, "Press to end the snooze now: "));
}
END_TEST

/* How many times text is on path's page. */
static size_t times_said(const char *path, const char *text)
{
    struct tkl_http_response resp;
    page_get(tkl_web_act, &resp, path, NULL);
    size_t n = 0;
    for (const char *p = resp.body; (p = strstr(p, text)); p += strlen(text))
        n++;
    tkl_http_response_free(&resp);
    return n;
}

/* With D (HR's) escalated to ICT & Digital, the escalation team's snooze
 * to a Saturday and the owners' to a later Saturday: each is said once
 * for what it holds (the copies go on from the working day after the
 * escalation team's ends), and only the later says when the owners'
 * reminders resume, as the other holds them beyond the earlier's end. */
START_TEST(what_holds_now_says_what_each_of_two_snoozes_holds)
{
    page_load();
    struct tkl_team *hr = (struct tkl_team *)tkl_team_find(&page_s.rt->cfg->teams, "hr");
    ck_assert_ptr_nonnull(hr->escalate_to = strdup("ict"));
    char body[8192], mine[TKL_TOKEN_MAX + 8];
    snprintf(mine, sizeof(mine), "%s", path_for("Late report", "hr"));
    static const char all[] = "<li>This snooze holds every reminder of this action: the owners' "
                              "and the copies escalated to ICT &amp; Digital alike.</li>";
    ck_assert_uint_eq(snooze("Late report", "ops", "date", "2023-07-08", body, sizeof(body)), 303);
    ck_assert_uint_eq(snooze("Late report", "hr", "date", "2023-07-15", body, sizeof(body)), 303);
    ck_assert_uint_eq(times_said(mine, all), 1);
    ck_assert(says(mine, "<li>This snooze holds the owners' reminders only, not the copies "
                         "escalated to ICT &amp; Digital: from Monday 10 July 2023 its overdue "
                         "reminders are copied to them as the plan says, each saying who "
                         "snoozed it and until when.</li>"));
    ck_assert(says(mine, "Saturday 15 July 2023 is not a working day: reminders resume Monday 17 "
                         "July 2023."));
    ck_assert(!says(mine, "Saturday 8 July 2023 is not a working day"));
    ck_assert(!says(mine, "(they resume Monday 10 July 2023)"));
    ck_assert(says(mine, "until Saturday 15 July 2023 (they resume Monday 17 July 2023). "));
}
END_TEST

/* A joint action's Mark complete says every team's reminders stop and
 * that tickler tells the others, naming them, and when (once the update
 * has stood delivery.joint_settle_seconds), before and after the press,
 * and so does its way back; a single team's says nothing of the kind. */
START_TEST(a_joint_actions_completion_says_the_others_are_told)
{
    page_load();
    char path[TKL_TOKEN_MAX + 8], where[64];
    struct tkl_http_response resp;
    page_get(tkl_web_act, &resp, path_for("Review the pay gap", "hr"), NULL);
    ck_assert(!page_has(resp.body, "more than one team"));
    tkl_http_response_free(&resp);
    snprintf(path, sizeof(path), "%s", path_for(PAGE_TRICKY_TITLE, "hr"));
    page_get(tkl_web_act, &resp, path, NULL);
    ck_assert(page_has(resp.body, "<p>The plan names more than one team for it (Human Resources; "
                                  "ICT &amp; Digital): the reminders of every one of them stop, "
                                  "and tickler tells the others (ICT &amp; Digital) so, each "
                                  "with a link of their own to undo it. They hear of it once it "
                                  "has stood for 10 minutes; change it again before then, and "
                                  "only the last change is told. Press when the whole action is "
                                  "done, not only your team's part.</p>"));
    tkl_http_response_free(&resp);
    ck_assert_uint_eq(post_do(path, "complete", NULL, 0, where, sizeof(where)), 303);
    page_get(tkl_web_act, &resp, path, "done", "complete", NULL);
    ck_assert(page_has(resp.body, "That goes for every team the plan names for it (Human "
                                  "Resources; ICT &amp; Digital); tickler tells the others (ICT "
                                  "&amp; Digital) so, each with a link of their own to undo "
                                  "it. They hear of it once it has stood for 10 minutes; change "
                                  "it again before then, and only the last change is told."));
    ck_assert(page_has(resp.body, "reminders for it then go on as the plan says. tickler tells "
                                  "the others (ICT &amp; Digital) so. They hear of it once it has "
                                  "stood for 10 minutes; change it again before then, and only "
                                  "the last change is told.</p>"));
    tkl_http_response_free(&resp);
    /* reopened: the banner says the others are told of that too */
    ck_assert_uint_eq(post_do(path, "reopen", NULL, 0, where, sizeof(where)), 303);
    page_get(tkl_web_act, &resp, path, "done", "reopen", NULL);
    ck_assert(page_has(resp.body, "Recorded: reopened. Reminders for this action go on as the "
                                  "plan says. tickler tells the others (ICT &amp; Digital) so. "
                                  "They hear of it once it has stood for 10 minutes;"));
    tkl_http_response_free(&resp);
}
END_TEST

/* A joint action's snooze pressed at 23:55 until the next day is over
 * before it has stood delivery.joint_settle_seconds (10 minutes): the
 * banner says the others are not told, and why; one until the day after
 * says they are. */
START_TEST(a_snooze_over_before_the_others_would_hear_of_it_says_so)
{
    page_load();
    char path[TKL_TOKEN_MAX + 8];
    snprintf(path, sizeof(path), "%s", path_for(PAGE_TRICKY_TITLE, "hr"));
    static const struct {
        const char *until;
        const char *said;
    } cases[] = {{"2023-07-01", " The others (ICT &amp; Digital) are not told of it: the snooze "
                                "is over before it would reach them."},
                 {"2023-07-02", " tickler tells the others (ICT &amp; Digital) so, each with a "
                                "link of their own to resume them."}};
    for (size_t k = 0; k < 2; k++) {
        struct tkl_http_response resp;
        /* 23:55 on Friday 30 June, then 23:56 */
        page_post(&resp, path,
                  (struct post_opts){.origin = ORIGIN, .at = now() + 53670 + 60 * (int64_t)k},
                  "token", path + 3, "do", "snooze", "snooze", "date", "until", cases[k].until,
                  NULL);
        ck_assert_int_eq(resp.status, 303);
        tkl_http_response_free(&resp);
        page_get(tkl_web_act, &resp, path, "done", "snooze", NULL);
        ck_assert_msg(page_has(resp.body, cases[k].said), "%s", resp.body);
        ck_assert(page_has(resp.body, k ? "They hear of it" : "Recorded: snoozed until"));
        const char *banner = strstr(resp.body, "class=\"banner\"");
        ck_assert_ptr_nonnull(banner);
        const char *end = strstr(banner, "</p>");
        ck_assert_ptr_nonnull(end);
        const char *told = strstr(banner, "tickler tells");
        ck_assert(k ? told && told < end : !told || told > end);
        tkl_http_response_free(&resp);
    }
}
END_TEST

/* A snooze whose day has passed holds nothing: "What holds now" does not
 * list it (the history does). */
START_TEST(an_ended_snooze_holds_nothing_now)
{
    page_load();
    const char *id = id_of("Review the pay gap");
    const struct tkl_action *a = tkl_store_find(page_s.rt->store, id);
    struct tkl_update u = {.action_id = (char *)id,
                           .recipient = (char *)"hr",
                           .team_id = (char *)"hr",
                           .kind = TKL_UPDATE_SNOOZE,
                           .at = now() - 10 * DAY_SEC,
                           .link_issued_at = now() - 11 * DAY_SEC,
                           .until_day = tkl_local_day(now()) - 1,
                           .plan_deadline_day = a->deadline.day,
                           .plan_deadline_text = a->deadline_text,
                           .plan_status = a->status_text,
                           .plan_owners = a->owners};
    bool is_new = false;
    ck_assert_int_eq(record_now(&page_s, &u, &is_new), 0);
    struct tkl_http_response resp;
    page_get(tkl_web_act, &resp, path_for("Review the pay gap", "hr"), NULL);
    ck_assert_int_eq(resp.status, 200);
    ck_assert(page_has(resp.body, "<h2 id=\"h-now\">What holds now</h2>\n<ul>\n<li>No update "
                                  "holds now; the history below has them all.</li>"));
    ck_assert(!page_has(resp.body, "Snoozed (now ended)"));
    tkl_http_response_free(&resp);
}
END_TEST

START_TEST(progress_notes_are_text)
{
    page_load();
    const char *path = path_for("Review the pay gap", "hr");
    char token[TKL_TOKEN_MAX + 1];
    snprintf(token, sizeof(token), "%s", path + 3);
    /* with a right-to-left override (U+202E) never closed */
    const char *note = "Draft with <b>legal</b> & \"HR\"\nout by \xe2\x80\xaeJuly";
    struct tkl_http_response resp;
    page_post(&resp, path, from_page, "token", token, "do", "progress", "note", note, NULL);
    ck_assert_int_eq(resp.status, 400);
    ck_assert(page_has(resp.body, "Choose a RAG status"));
    tkl_http_response_free(&resp);
    page_post(&resp, path, from_page, "token", token, "do", "progress", "rag", "amber", "note",
              NOTHING_SHOWN, NULL);
    ck_assert_int_eq(resp.status, 400);
    ck_assert(page_has(resp.body, "Write a progress note."));
    tkl_http_response_free(&resp);
    ck_assert_uint_eq(n_updates(), 0);
    page_post(&resp, path, from_page, "token", token, "do", "progress", "rag", "amber", "note",
              note, NULL);
    ck_assert_int_eq(resp.status, 303);
    tkl_http_response_free(&resp);
    struct tkl_update u = last_update();
    ck_assert_int_eq(u.rag, TKL_RAG_AMBER);
    ck_assert_str_eq(u.note, note); /* stored as typed */
    tkl_update_free(&u);
    page_get(tkl_web_act, &resp, path, NULL);
    ck_assert(page_has(resp.body,
                       "Latest progress by hr on 30 Jun 2023 09:00 <span class=\"rag "
                       "amber\">Amber</span><blockquote><bdi>Draft with &lt;b&gt;legal&lt;/"
                       "b&gt; &amp; &quot;HR&quot;<br>out by \xe2\x80\xaeJuly"
                       "\xe2\x80\xac</bdi></blockquote>"));
    ck_assert(!page_has(resp.body, "<b>legal"));
    tkl_http_response_free(&resp);
}
END_TEST

/* The snooze form takes an optional why: recorded as typed with the
 * snooze, shown as text with it under What holds now; none given, none
 * recorded. */
START_TEST(a_snooze_says_why_as_text)
{
    page_load();
    const char *path = path_for(PAGE_TRICKY_TITLE, "hr"); /* its token: path + 3 */
    struct tkl_http_response resp;
    page_get(tkl_web_act, &resp, path, NULL);
    const char *form = strstr(resp.body, "<h3 id=\"h-snooze\">Snooze</h3>");
    ck_assert_ptr_nonnull(form);
    const char *field = strstr(form, "<label for=\"snooze-note\">Why? (optional, plain text, up "
                                     "to 4,000 characters; it shows with the snooze on this page "
                                     "and in the progress report)</label>\n<textarea "
                                     "id=\"snooze-note\" name=\"note\" rows=\"3\" "
                                     "maxlength=\"4000\"></textarea>\n<button type=\"submit\" "
                                     "name=\"do\" value=\"snooze\">Snooze</button>");
    ck_assert_ptr_nonnull(field);
    ck_assert(field < strstr(form, "</form>"));
    tkl_http_response_free(&resp);
    const char *why = "Waiting for \"Finance\" <script>alert(2)</script>\r\n& the 'board'";
    page_post(&resp, path, from_page, "token", path + 3, "do", "snooze", "snooze", "1w", "note",
              why, NULL);
    ck_assert_int_eq(resp.status, 303);
    tkl_http_response_free(&resp);
    struct tkl_update u = last_update();
    ck_assert_int_eq(u.kind, TKL_UPDATE_SNOOZE);
    /* stored as typed, its line break as the form reads one */
    ck_assert_str_eq(u.note, "Waiting for \"Finance\" <script>alert(2)</script>\n& the 'board'");
    tkl_update_free(&u);
    page_get(tkl_web_act, &resp, path, "done", "snooze", NULL);
    const char *now_part = strstr(resp.body, "<h2 id=\"h-now\">What holds now</h2>");
    ck_assert_ptr_nonnull(now_part);
    ck_assert(strstr(now_part, "<li>Snoozed by hr on 30 Jun 2023 09:00, until Friday 7 July "
                               "2023<blockquote><bdi>Waiting for &quot;Finance&quot; "
                               "&lt;script&gt;alert(2)&lt;/script&gt;<br>&amp; the "
                               "&#39;board&#39;</bdi></blockquote></li>"));
    ck_assert(!page_has(resp.body, "<script>alert(2)"));
    tkl_http_response_free(&resp);
    /* the same again: recorded once; blank (nothing that shows): no why */
    page_post(&resp, path, from_page, "token", path + 3, "do", "snooze", "snooze", "1w", "note",
              why, NULL);
    ck_assert_int_eq(resp.status, 303);
    ck_assert(page_has(resp.location, "?same=snooze"));
    tkl_http_response_free(&resp);
    ck_assert_uint_eq(n_updates(), 1);
    page_post(&resp, path, from_page, "token", path + 3, "do", "snooze", "snooze", "2w", "note",
              NOTHING_SHOWN, NULL);
    ck_assert_int_eq(resp.status, 303);
    tkl_http_response_free(&resp);
    u = last_update();
    ck_assert_ptr_null(u.note);
    tkl_update_free(&u);
}
END_TEST

START_TEST(not_ours_is_a_team_s_to_say)
{
    page_load();
    /* ops is a recipient of ICT, where HR's reminders escalate to, not of
     * HR: D is not ops' team's to refuse */
    ck_assert_ptr_nonnull(page_s.rt->cfg->schedule.escalate_to = strdup("ict"));
    const char *path = path_for("Late report", "ops");
    char token[TKL_TOKEN_MAX + 1];
    snprintf(token, sizeof(token), "%s", path + 3);
    struct tkl_http_response resp;
    page_get(tkl_web_act, &resp, path, NULL);
    ck_assert(page_has(resp.body, "Only a team that owns this action can say it is not theirs"));
    ck_assert(!page_has(resp.body, "value=\"not-ours\""));
    tkl_http_response_free(&resp);
    page_post(&resp, path, from_page, "token", token, "do", "not-ours", NULL);
    ck_assert_int_eq(resp.status, 400);
    tkl_http_response_free(&resp);
    /* C is HR's and ICT's: ops answers for ICT */
    path = path_for(PAGE_TRICKY_TITLE, "ops");
    snprintf(token, sizeof(token), "%s", path + 3);
    page_post(&resp, path, from_page, "token", token, "do", "not-ours", "suggested",
              "Digital & Data", "note", "", NULL);
    ck_assert_int_eq(resp.status, 303);
    tkl_http_response_free(&resp);
    struct tkl_update u = last_update();
    ck_assert_int_eq(u.kind, TKL_UPDATE_NOT_OURS);
    ck_assert_str_eq(u.team_id, "ict");
    ck_assert_str_eq(u.suggested_team, "Digital & Data");
    ck_assert_ptr_null(u.note);
    tkl_update_free(&u);
    page_get(tkl_web_act, &resp, path, NULL);
    ck_assert(page_has(resp.body, "<li>Not ours by ops on 30 Jun 2023 09:00, for ICT &amp; "
                                  "Digital; suggested team: <bdi>Digital &amp; Data</bdi></li>"));
    tkl_http_response_free(&resp);
}
END_TEST

/* The not-ours form and its banner say who is told: delivery.report_to's
 * team when it has recipients, else nobody, and whom to tell instead. */
START_TEST(not_ours_says_who_is_told)
{
    page_load();
    const char *path = path_for(PAGE_TRICKY_TITLE, "ops");
    char token[TKL_TOKEN_MAX + 1];
    snprintf(token, sizeof(token), "%s", path + 3);
    struct tkl_http_response resp;
    page_post(&resp, path, from_page, "token", token, "do", "not-ours", NULL);
    ck_assert_int_eq(resp.status, 303);
    tkl_http_response_free(&resp);
    for (int i = 0; i < 2; i++) {
        page_get(tkl_web_act, &resp, path, i ? "done" : NULL, "not-ours", NULL);
        ck_assert(page_has(resp.body, "tickler tells nobody of it here (no team receives its "
                                      "reports), so please let the action plan's owner know "
                                      "yourself."));
        ck_assert(!page_has(resp.body, "owner is told"));
        tkl_http_response_free(&resp);
    }
    page_get(tkl_web_act, &resp, path, "done", "not-ours", NULL);
    ck_assert(page_has(resp.body, "Recorded: not ours. Your team gets no more reminders"));
    tkl_http_response_free(&resp);
    /* a report_to team with recipients is named: in the banner, what it is
     * told of the "not ours"; in the way back, what it would be told */
    ck_assert_ptr_nonnull(page_s.rt->cfg->delivery.report_to = strdup("hr"));
    for (int i = 0; i < 2; i++) {
        page_get(tkl_web_act, &resp, path, i ? "done" : NULL, "not-ours", NULL);
        ck_assert(page_has(resp.body, "tickler tells Human Resources (the team that receives "
                                      "its reports) that this action is your team's after all, "
                                      "with your reason."));
        ck_assert(i == page_has(resp.body, "tickler tells Human Resources (the team that "
                                           "receives its reports), with your suggestion and "
                                           "comment."));
        ck_assert(!page_has(resp.body, "tells nobody"));
        tkl_http_response_free(&resp);
    }
}
END_TEST

START_TEST(too_many_requests_wait)
{
    page_load();
    const char *path = path_for("Late report", "hr");
    char token[TKL_TOKEN_MAX + 1];
    snprintf(token, sizeof(token), "%s", path + 3);
    struct tkl_http_response resp;
    /* ten POSTs of one link in a minute, then it waits; even a good one */
    for (int i = 0; i < 10; i++) {
        page_post(&resp, path, (struct post_opts){.client = "192.0.2.1"}, "token", token, "do",
                  "complete", NULL);
        ck_assert_int_eq(resp.status, 403); /* no Origin */
        tkl_http_response_free(&resp);
    }
    page_post(&resp, path, (struct post_opts){.origin = ORIGIN, .client = "192.0.2.2"}, "token",
              token, "do", "complete", NULL);
    ck_assert_int_eq(resp.status, 429);
    ck_assert_int_eq(resp.retry_after, 6);
    ck_assert(page_has(resp.body, "Try again in 6 seconds."));
    ck_assert_str_eq(resp.cache, "no-store");
    tkl_http_response_free(&resp);
    ck_assert_uint_eq(n_updates(), 0);
    /* 60 GETs at once from one address; IPv6 counts by its /64 */
    for (int i = 0; i < 60; i++) {
        get_from(&resp, path, i % 2 ? "2001:db8:1:2::a" : "2001:db8:1:2::b");
        ck_assert_int_eq(resp.status, 200);
        tkl_http_response_free(&resp);
    }
    get_from(&resp, path, "2001:db8:1:2:ffff::1");
    ck_assert_int_eq(resp.status, 429);
    ck_assert_int_eq(resp.retry_after, 1);
    tkl_http_response_free(&resp);
    get_from(&resp, path, "2001:db8:1:3::1");
    ck_assert_int_eq(resp.status, 200);
    tkl_http_response_free(&resp);
}
END_TEST

/* What one link can record is bounded: past 25 updates (each within the
 * rate limits), a link records nothing more, so whoever holds it cannot
 * fill the state database, and the memory the answers are built in,
 * without end. The 25th pressed again (as after "Not confirmed") is still
 * answered as recorded already. A newer link still works. */
START_TEST(a_link_records_a_bounded_number_of_updates)
{
    page_load();
    const char *path = path_for("Review the pay gap", "hr");
    char token[TKL_TOKEN_MAX + 1], note[32];
    snprintf(token, sizeof(token), "%s", path + 3);
    struct tkl_http_response resp;
    for (int i = 0; i <= 25; i++) {
        snprintf(note, sizeof(note), "note %d", i);
        page_post(&resp, path, (struct post_opts){.origin = ORIGIN, .at = now() + 60 * i}, "token",
                  token, "do", "progress", "rag", "green", "note", note, NULL);
        ck_assert_int_eq(resp.status, i < 25 ? 303 : 403);
        if (i == 25) { /* answered once the state told the count: still a way back */
            ck_assert(page_has(resp.body, "Use the link in a newer reminder"));
            char back[TKL_TOKEN_MAX + 64];
            snprintf(back, sizeof(back), "<a href=\"%s\">Back to the action</a>", token);
            ck_assert(page_has(resp.body, back));
        }
        tkl_http_response_free(&resp);
    }
    ck_assert_uint_eq(n_updates(), 25);
    /* its page says so, with no button a press of which would be refused */
    page_get(tkl_web_act, &resp, path, NULL);
    ck_assert(page_has(resp.body, "This link has recorded as many updates as one link may (25)"));
    ck_assert(!page_has(resp.body, "<button"));
    tkl_http_response_free(&resp);
    page_post(&resp, path, (struct post_opts){.origin = ORIGIN, .at = now() + 60 * 25 + 30},
              "token", token, "do", "progress", "rag", "green", "note", "note 24", NULL);
    ck_assert_int_eq(resp.status, 303);
    ck_assert_ptr_nonnull(resp.location);
    ck_assert_ptr_nonnull(strstr(resp.location, "same=progress"));
    tkl_http_response_free(&resp);
    ck_assert_uint_eq(n_updates(), 25);
    path =
        path_by(&page_s.rt->links, id_of("Review the pay gap"), "hr", now(), now() + 45 * DAY_SEC);
    snprintf(token, sizeof(token), "%s", path + 3);
    page_post(&resp, path, (struct post_opts){.origin = ORIGIN, .at = now() + 60 * 26}, "token",
              token, "do", "complete", NULL);
    ck_assert_int_eq(resp.status, 303);
    tkl_http_response_free(&resp);
    ck_assert_uint_eq(n_updates(), 26);
    page_get(tkl_web_act, &resp, path, NULL);
    ck_assert(page_has(resp.body, "<button"));
    ck_assert(!page_has(resp.body, "as many updates as one link may"));
    tkl_http_response_free(&resp);
}
END_TEST

/* A note past the page's maxlength (a client that ignores it) is refused
 * saying why, and nothing is recorded. */
START_TEST(a_note_too_long_is_refused_saying_why)
{
    page_load();
    const char *path = path_for("Review the pay gap", "hr");
    char token[TKL_TOKEN_MAX + 1];
    snprintf(token, sizeof(token), "%s", path + 3);
    static char note[TKL_UPDATE_NOTE_MAX + 2];
    memset(note, 'x', sizeof(note) - 1);
    struct tkl_http_response resp;
    page_post(&resp, path, from_page, "token", token, "do", "progress", "rag", "green", "note",
              note, NULL);
    ck_assert_int_eq(resp.status, 400);
    ck_assert(page_has(resp.body, "The note is longer than 4,000 characters"));
    tkl_http_response_free(&resp);
    ck_assert_uint_eq(n_updates(), 0);
    note[TKL_UPDATE_NOTE_MAX] = '\0';
    page_post(&resp, path, from_page, "token", token, "do", "progress", "rag", "green", "note",
              note, NULL);
    ck_assert_int_eq(resp.status, 303);
    tkl_http_response_free(&resp);
    ck_assert_uint_eq(n_updates(), 1);
}
END_TEST

/* Updates being recorded through a link count against its bound too:
 * with 23 recorded, "x" twice, "y" and "z" pressed at once record "x"
 * (once: the same update pressed twice is one) and "y", and refuse "z". */
START_TEST(updates_pressed_at_once_keep_to_the_links_bound)
{
    page_load();
    const char *path = path_for("Review the pay gap", "hr");
    char token[TKL_TOKEN_MAX + 1], note[32];
    snprintf(token, sizeof(token), "%s", path + 3);
    struct tkl_http_response resp;
    for (int i = 0; i < 23; i++) {
        snprintf(note, sizeof(note), "note %d", i);
        page_post(&resp, path, (struct post_opts){.origin = ORIGIN, .at = now() + 60 * i}, "token",
                  token, "do", "progress", "rag", "green", "note", note, NULL);
        ck_assert_int_eq(resp.status, 303);
        tkl_http_response_free(&resp);
    }
    /* all four before a commit */
    static const char *const notes[] = {"x", "x", "y", "z"};
    struct posted p[4];
    for (int i = 0; i < 4; i++)
        post_open(&p[i], path,
                  (struct post_opts){.origin = ORIGIN,
                                     .at = now() + 60 * 23 + i,
                                     .client = i % 2 ? "192.0.2.11" : "192.0.2.12"},
                  "token", token, "do", "progress", "rag", "amber", "note", notes[i], NULL);
    unsigned want[] = {303, 303, 303, 403};
    for (int i = 0; i < 4; i++) {
        post_end(&p[i], &resp);
        ck_assert_msg(resp.status == want[i], "%d: %u", i, resp.status);
        tkl_http_response_free(&resp);
    }
    ck_assert_uint_eq(n_updates(), 25);
}
END_TEST

START_TEST(a_busy_database_is_503)
{
    page_load();
    const char *path = path_for("Late report", "hr");
    char token[TKL_TOKEN_MAX + 1], db_path[600];
    snprintf(token, sizeof(token), "%s", path + 3);
    snprintf(db_path, sizeof(db_path), "%s/state/tickler.db", page_dir);
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    tkl_outbox_set_busy_timeout(page_s.outbox, 10);
    struct tkl_http_response resp;
    page_post(&resp, path, from_page, "token", token, "do", "complete", NULL);
    ck_assert_int_eq(resp.status, 503);
    ck_assert_int_eq(resp.retry_after, 5);
    ck_assert(page_has(resp.body, "press the button again"));
    tkl_http_response_free(&resp);
    ck_assert_int_eq(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    ck_assert_uint_eq(n_updates(), 0);
}
END_TEST

START_TEST(a_post_the_server_cannot_keep_records_nothing)
{
    page_load();
    const char *path = path_for("Late report", "hr");
    char token[TKL_TOKEN_MAX + 1];
    snprintf(token, sizeof(token), "%s", path + 3);
    struct tkl_http_response resp;
    page_post(&resp, path, (struct post_opts){.origin = ORIGIN, .no_later = true}, "token", token,
              "do", "complete", NULL);
    ck_assert_int_eq(resp.status, 503);
    ck_assert_int_eq(resp.retry_after, 5);
    ck_assert(page_has(resp.body, "nothing was recorded"));
    ck_assert(page_has(resp.body, "press the button again"));
    tkl_http_response_free(&resp);
    ck_assert_uint_eq(n_updates(), 0);
    /* pressed again once the server can answer: recorded */
    page_post(&resp, path, from_page, "token", token, "do", "complete", NULL);
    ck_assert_int_eq(resp.status, 303);
    tkl_http_response_free(&resp);
    ck_assert_uint_eq(n_updates(), 1);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("act");
    TCase *tc = tcase_create("act");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, the_page_shows_the_action_and_changes_nothing);
    tcase_add_test(tc, plan_text_is_escaped);
    tcase_add_test(tc, bad_links_each_get_their_page);
    tcase_add_test(tc, a_link_with_closing_punctuation_opens_its_page);
    tcase_add_test(tc, an_expired_link_names_its_action_and_whom_to_ask);
    tcase_add_test(tc, an_expired_link_names_its_action_only_to_whom_tickler_still_writes);
    tcase_add_test(tc, a_link_to_an_address_taken_off_the_teams_acts_no_more);
    tcase_add_test(tc, a_retired_link_names_no_action_but_whom_to_ask);
    tcase_add_test(tc, a_shorter_expiry_in_force_ends_the_older_links);
    tcase_add_test(tc, the_reminders_list_says_what_each_was);
    tcase_add_test(tc, without_links_there_is_no_page);
    tcase_add_test(tc, a_post_from_the_page_records_once);
    tcase_add_test(tc, the_same_post_after_the_plan_changed_is_recorded_again);
    tcase_add_test(tc, a_post_from_elsewhere_records_nothing);
    tcase_add_test(tc, snooze_dates_are_checked);
    tcase_add_test(tc, the_snooze_form_says_when_reminders_resume);
    tcase_add_test(tc, the_snooze_form_names_every_team_it_holds);
    tcase_add_test(tc, what_holds_now_says_whether_the_escalations_copies_go_on);
    tcase_add_test(tc, what_holds_now_with_the_escalation_teams_snooze_alone);
    tcase_add_test(tc, what_holds_now_says_what_each_of_two_snoozes_holds);
    tcase_add_test(tc, a_joint_actions_completion_says_the_others_are_told);
    tcase_add_test(tc, a_snooze_over_before_the_others_would_hear_of_it_says_so);
    tcase_add_test(tc, a_snooze_can_be_ended_from_the_page);
    tcase_add_test(tc, a_not_ours_can_be_taken_back);
    tcase_add_test(tc, a_snooze_says_its_resume_day_and_a_completed_action_offers_none);
    tcase_add_test(tc, an_ended_snooze_holds_nothing_now);
    tcase_add_test(tc, progress_notes_are_text);
    tcase_add_test(tc, a_snooze_says_why_as_text);
    tcase_add_test(tc, not_ours_is_a_team_s_to_say);
    tcase_add_test(tc, not_ours_says_who_is_told);
    tcase_add_test(tc, a_completion_can_be_reopened_from_the_page);
    tcase_add_test(tc, a_reopen_with_nothing_to_reopen_records_nothing);
    tcase_add_test(tc, too_many_requests_wait);
    tcase_add_test(tc, a_link_records_a_bounded_number_of_updates);
    tcase_add_test(tc, updates_pressed_at_once_keep_to_the_links_bound);
    tcase_add_test(tc, a_note_too_long_is_refused_saying_why);
    tcase_add_test(tc, a_busy_database_is_503);
    tcase_add_test(tc, a_post_the_server_cannot_keep_records_nothing);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tkl_check_run(suite());
}

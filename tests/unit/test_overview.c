/* Tests for daemon/web/overview.c against a real service (page_fixture.h):
 * /status.json read back with jansson (counts, per-team lines, each
 * action's deadline, standing and last reminder from the outbox), the
 * filters and the 400s, and /status as a self-contained page that escapes
 * the plan's text and shows no secret. */
#include <check.h>

#include "check_run.h"
#include "record_fixture.h"
#include <jansson.h>

#include "core/day.h"
#include "page_fixture.h"
#include "update/update.h"

static void setup(void)
{
    page_setup("overview");
}

/* The JSON answer for the query (key, value pairs ending with NULL). */
#define STATUS_JSON(resp, ...) page_get(tkl_web_status, resp, "/status.json", __VA_ARGS__)

static json_t *parse(const struct tkl_http_response *r)
{
    ck_assert_uint_eq(r->status, 200);
    ck_assert_str_eq(r->content_type, "application/json");
    json_error_t err;
    json_t *root = json_loadb(r->body, r->len, 0, &err);
    ck_assert_msg(root != NULL, "line %d: %s", err.line, err.text);
    return root;
}

/* The action with id in root's actions, or NULL. */
static json_t *action(json_t *root, const char *id)
{
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(root, "actions"), i, a)
    {
        if (!strcmp(json_string_value(json_object_get(a, "id")), id))
            return a;
    }
    return NULL;
}

static json_int_t count(json_t *counts, const char *name)
{
    json_t *n = json_object_get(counts, name);
    ck_assert_msg(json_is_integer(n), "no count %s", name);
    return json_integer_value(n);
}

static const char *str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* The ids of root's actions, in order, joined by spaces. */
static const char *ids(json_t *root)
{
    static char buf[256];
    size_t i;
    json_t *a;
    buf[0] = '\0';
    json_array_foreach(json_object_get(root, "actions"), i, a)
    {
        if (buf[0])
            strcat(buf, " ");
        strcat(buf, str(a, "id"));
    }
    return buf;
}

/* Whether html has an event handler attribute (" onclick=", " onload="). */
static int has_handler(const char *html)
{
    for (const char *p = html; (p = strstr(p, " on")); p++) {
        const char *q = p + 3;
        while (*q >= 'a' && *q <= 'z')
            q++;
        if (*q == '=')
            return 1;
    }
    return 0;
}

START_TEST(counts_every_plan_action_once_by_standing)
{
    page_run_once();
    struct tkl_http_response r;
    STATUS_JSON(&r, NULL);
    json_t *root = parse(&r);
    ck_assert_str_eq(str(root, "today"), "2023-06-30");
    /* to the minute */
    ck_assert_str_eq(str(root, "generated"), "2023-06-30T09:00:00+01:00");
    json_t *sum = json_object_get(root, "summary");
    ck_assert_int_eq(count(sum, "overdue"), 1);
    ck_assert_int_eq(count(sum, "due-soon"), 2);
    ck_assert_int_eq(count(sum, "on-track"), 1);
    ck_assert_int_eq(count(sum, "complete"), 1);
    ck_assert_int_eq(count(sum, "closed"), 1);
    ck_assert_int_eq(count(sum, "undated"), 2);
    ck_assert_int_eq(count(sum, "total"), 8);
    /* the observance is not part of the plan */
    ck_assert_str_eq(ids(root), "H A B C D E F G");
    ck_assert_ptr_null(action(root, "pride"));
    /* one line per team, C counted for both; then the actions of no team */
    json_t *teams = json_object_get(root, "teams");
    ck_assert_uint_eq(json_array_size(teams), 3);
    json_t *hr = json_array_get(teams, 0), *ict = json_array_get(teams, 1),
           *none = json_array_get(teams, 2);
    ck_assert_str_eq(str(hr, "id"), "hr");
    ck_assert_str_eq(str(hr, "name"), "Human Resources");
    ck_assert_int_eq(count(json_object_get(hr, "counts"), "total"), 4);
    ck_assert_int_eq(count(json_object_get(hr, "counts"), "overdue"), 1);
    ck_assert_int_eq(count(json_object_get(hr, "counts"), "complete"), 1);
    ck_assert_str_eq(str(ict, "name"), "ICT & Digital");
    ck_assert_int_eq(count(json_object_get(ict, "counts"), "total"), 4);
    ck_assert_int_eq(count(json_object_get(ict, "counts"), "closed"), 1);
    ck_assert_int_eq(count(json_object_get(ict, "counts"), "undated"), 1);
    ck_assert(json_is_null(json_object_get(none, "id")));
    ck_assert_int_eq(count(json_object_get(none, "counts"), "total"), 1);
    ck_assert_int_eq(count(json_object_get(none, "counts"), "undated"), 1);
    json_decref(root);
    tkl_http_response_free(&r);
}
END_TEST

START_TEST(each_action_as_written_as_read_and_last_reminded)
{
    page_run_once();
    struct tkl_http_response r;
    STATUS_JSON(&r, NULL);
    json_t *root = parse(&r);
    json_t *a = action(root, "A"), *b = action(root, "B"), *c = action(root, "C"),
           *d = action(root, "D"), *g = action(root, "G"), *h = action(root, "H");
    ck_assert_str_eq(str(a, "standing"), "due-soon");
    ck_assert_str_eq(str(a, "objective"), PAGE_OBJECTIVE);
    ck_assert_str_eq(str(json_object_get(a, "deadline"), "text"), "30/06/2023");
    ck_assert_str_eq(str(json_object_get(a, "deadline"), "kind"), "date");
    ck_assert_str_eq(str(json_object_get(a, "deadline"), "date"), "2023-06-30");
    ck_assert_str_eq(str(json_object_get(a, "status"), "text"), "In progress");
    ck_assert_str_eq(str(json_object_get(a, "status"), "read"), "active");
    ck_assert_str_eq(str(a, "progress"), "Data collected");
    ck_assert(page_has(str(a, "file"), "/plan.csv"));
    ck_assert_int_eq(json_integer_value(json_object_get(a, "line")), 3);
    /* A's reminder was delivered by the echo notifier */
    json_t *ra = json_object_get(a, "last_reminder");
    ck_assert_str_eq(str(ra, "state"), "delivered");
    ck_assert_str_eq(str(ra, "channel"), "chat");
    ck_assert_str_eq(str(ra, "recipient"), "hr");
    ck_assert_str_eq(str(ra, "team"), "Human Resources");
    ck_assert_str_eq(str(ra, "stage"), "due");
    ck_assert(page_has(str(ra, "at"), "2023-06-30T09:0"));
    /* B's was refused by the webhook's server: waiting for a retry */
    json_t *rb = json_object_get(b, "last_reminder");
    ck_assert_str_eq(str(rb, "state"), "retrying");
    ck_assert_str_eq(str(rb, "channel"), "hooks");
    ck_assert_str_eq(str(rb, "recipient"), "ops");
    ck_assert_str_eq(str(rb, "team"), "ICT & Digital");
    ck_assert_str_eq(str(rb, "stage"), "lead-28");
    /* nothing was due for D today */
    ck_assert(json_is_null(json_object_get(d, "last_reminder")));
    ck_assert_str_eq(str(d, "standing"), "overdue");
    /* plan text comes back exactly as written */
    ck_assert_str_eq(str(c, "title"), PAGE_TRICKY_TITLE);
    ck_assert_str_eq(str(c, "progress"), "Line one\nLine <two> & 'three'");
    ck_assert_uint_eq(json_array_size(json_object_get(c, "teams")), 2);
    ck_assert_str_eq(str(json_object_get(g, "deadline"), "kind"), "ongoing");
    ck_assert(json_is_null(json_object_get(json_object_get(g, "deadline"), "date")));
    ck_assert_str_eq(str(g, "standing"), "undated");
    ck_assert_uint_eq(json_array_size(json_object_get(h, "teams")), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(h, "warnings")), 1);
    ck_assert(json_is_null(json_object_get(h, "objective")));
    json_decref(root);
    ck_assert_ptr_null(strstr(r.body, PAGE_SECRET));
    /* officers' addresses and notes: no cache keeps it, no index lists it */
    ck_assert_str_eq(r.cache, "private, no-store");
    ck_assert(r.noindex);
    ck_assert_uint_eq(strlen(r.etag), 18);
    tkl_http_response_free(&r);
}
END_TEST

START_TEST(the_entity_tag_follows_the_content)
{
    page_load();
    struct tkl_http_response r1, r2, r3;
    STATUS_JSON(&r1, NULL);
    STATUS_JSON(&r2, NULL);
    ck_assert_str_eq(r1.etag, r2.etag);
    ck_assert_str_eq(r1.cache, "private, no-store");
    ck_assert(r1.noindex);
    /* a reminder committed for D changes what the page says */
    struct tkl_notice_entry e = {.size = sizeof(e),
                                 .item_id = "D",
                                 .title = "Late report",
                                 .deadline_day = TKL_NO_DAY,
                                 .kind = TKL_DEADLINE_DATE,
                                 .stage = TKL_STAGE_OVERDUE};
    struct tkl_notice n = {.size = sizeof(n),
                           .channel = "chat",
                           .recipient = "hr",
                           .team_name = "Human Resources",
                           .entries = &e,
                           .n_entries = 1};
    const char *keys[] = {"overdue-4"};
    uint64_t id = 0;
    ck_assert_int_eq(tkl_outbox_put(page_s.outbox, &n, keys, tkl_service_now(&page_s), &id), 0);
    STATUS_JSON(&r3, NULL);
    ck_assert_str_ne(r1.etag, r3.etag);
    json_t *root = parse(&r3);
    json_t *rd = json_object_get(action(root, "D"), "last_reminder");
    ck_assert_str_eq(str(rd, "state"), "pending");
    ck_assert_str_eq(str(rd, "stage"), "overdue-4");
    json_decref(root);
    tkl_http_response_free(&r1);
    tkl_http_response_free(&r2);
    tkl_http_response_free(&r3);
}
END_TEST

START_TEST(filters_by_team_and_state)
{
    page_load();
    struct tkl_http_response r;
    json_t *root;
    /* by id, by name, by alias: the team's actions; the summary is theirs */
    static const char *const names[] = {"hr", "Human Resources", "human resources team"};
    for (size_t i = 0; i < 3; i++) {
        STATUS_JSON(&r, "team", names[i], NULL);
        root = parse(&r);
        ck_assert_str_eq(ids(root), "A C D E");
        ck_assert_int_eq(count(json_object_get(root, "summary"), "total"), 4);
        ck_assert_uint_eq(json_array_size(json_object_get(root, "teams")), 1);
        ck_assert_str_eq(json_string_value(json_array_get(
                             json_object_get(json_object_get(root, "filters"), "teams"), 0)),
                         "hr");
        json_decref(root);
        tkl_http_response_free(&r);
    }
    STATUS_JSON(&r, "team", "hr", "team", "ICT", NULL);
    root = parse(&r);
    ck_assert_str_eq(ids(root), "A B C D E F G");
    json_decref(root);
    tkl_http_response_free(&r);
    /* states narrow the list, not the summary */
    STATUS_JSON(&r, "state", "overdue", "state", "undated", NULL);
    root = parse(&r);
    ck_assert_str_eq(ids(root), "H D G");
    ck_assert_int_eq(count(json_object_get(root, "summary"), "total"), 8);
    json_decref(root);
    tkl_http_response_free(&r);
    STATUS_JSON(&r, "team", "ict", "state", "due-soon", "state", "on-track", NULL);
    root = parse(&r);
    ck_assert_str_eq(ids(root), "B C");
    json_decref(root);
    tkl_http_response_free(&r);
    STATUS_JSON(&r, "team", "hr", "state", "closed", NULL);
    root = parse(&r);
    ck_assert_str_eq(ids(root), "");
    json_decref(root);
    tkl_http_response_free(&r);
}
END_TEST

START_TEST(an_unknown_team_or_state_is_refused)
{
    page_load();
    static const char *const bad[][2] = {{"team", "Finance"},   {"team", ""},
                                         {"state", "late"},     {"state", "Overdue"},
                                         {"state", "due soon"}, {"state", ""}};
    const char *paths[] = {"/status", "/status.json"};
    for (size_t p = 0; p < 2; p++) {
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            struct tkl_http_response r;
            page_get(tkl_web_status, &r, paths[p], "team", "hr", bad[i][0], bad[i][1], NULL);
            ck_assert_uint_eq(r.status, 400);
            ck_assert_str_eq(r.content_type, "text/plain; charset=utf-8");
            ck_assert_msg(strchr(r.body, '\n') == r.body + r.len - 1, "one line: %s", r.body);
            ck_assert(page_has(r.body, bad[i][0]));
            tkl_http_response_free(&r);
        }
    }
}
END_TEST

START_TEST(the_page_escapes_the_plan_and_stands_alone)
{
    page_run_once();
    struct tkl_http_response r;
    page_get(tkl_web_status, &r, "/status", NULL);
    ck_assert_uint_eq(r.status, 200);
    ck_assert_str_eq(r.content_type, "text/html; charset=utf-8");
    const char *b = r.body;
    /* the plan's text, escaped */
    ck_assert(page_has(b, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;"));
    ck_assert(page_has(b, "People &amp; &lt;b&gt;culture&lt;/b&gt;"));
    ck_assert(page_has(b, "Line one<br>Line &lt;two&gt; &amp; &#39;three&#39;"));
    ck_assert(page_has(b, "ICT &amp; Digital"));
    ck_assert(!page_has(b, "<script"));
    ck_assert(!page_has(b, "<b>"));
    /* nothing from elsewhere, no script, no secret */
    ck_assert(!page_has(b, "src="));
    ck_assert(!page_has(b, "<link"));
    ck_assert(!page_has(b, "http://"));
    ck_assert(!page_has(b, "https://"));
    ck_assert(!has_handler(b));
    ck_assert(!page_has(b, PAGE_SECRET));
    /* a phone and a printer */
    ck_assert(page_has(b, "<meta name=\"viewport\" content=\"width=device-width"));
    ck_assert(page_has(b, "@media print"));
    ck_assert(page_has(b, "<form method=\"get\" action=\"status\">"));
    /* every standing has its words beside its colour */
    ck_assert(page_has(b, "<span class=\"rag overdue\">Overdue</span>"));
    ck_assert(page_has(b, "<span class=\"rag due-soon\">Due soon</span>"));
    ck_assert(page_has(b, "<span class=\"rag undated\">Undated</span>"));
    /* the summary lines, the deadline read, the last reminder */
    ck_assert(page_has(b, "<a href=\"status?team=hr\">Human Resources</a>: 4 actions: "
                          "<span class=\"rag overdue\">1 overdue</span>"));
    ck_assert(page_has(b, "<a href=\"status?team=ict\">ICT &amp; Digital</a>: 4 actions"));
    ck_assert(page_has(b, "No team: 1 action: <span class=\"rag undated\">1 undated</span>"));
    ck_assert(page_has(b, "<strong>All teams</strong>: 8 actions"));
    ck_assert(page_has(b, "read as Friday 30 June 2023, today"));
    ck_assert(page_has(b, "read as Wednesday 31 May 2023, 30 days ago"));
    ck_assert(page_has(b, "delivered 30 Jun 2023 09:00 to hr by chat (Human Resources): "
                          "on the deadline"));
    ck_assert(page_has(b, "retrying 30 Jun 2023 09:00 to ops by hooks (ICT &amp; Digital): 28 "
                          "days before the deadline"));
    ck_assert(!page_has(b, "stage "));
    /* the plan's status, and what tickler makes of it */
    ck_assert(page_has(b, "In progress (read as not yet done)"));
    ck_assert(!page_has(b, "read as active"));
    ck_assert(!page_has(b, "Pride Month"));
    ck_assert(r.etag[0] == '"');
    tkl_http_response_free(&r);
}
END_TEST

START_TEST(the_page_groups_by_objective_then_team)
{
    page_load();
    struct tkl_http_response r;
    page_get(tkl_web_status, &r, "/status", "state", "on-track", NULL);
    const char *b = r.body;
    /* C, of both teams, under each; nothing else listed */
    const char *obj = strstr(b, "<h2>People &amp; &lt;b&gt;culture&lt;/b&gt;</h2>");
    ck_assert_ptr_nonnull(obj);
    const char *hr = strstr(obj, "<h3>Human Resources</h3>");
    const char *ict = strstr(obj, "<h3>ICT &amp; Digital</h3>");
    ck_assert(hr && ict && hr < ict);
    ck_assert(page_has(hr, "<dt>Shared with</dt><dd>ICT &amp; Digital</dd>"));
    ck_assert(page_has(ict, "<dt>Shared with</dt><dd>Human Resources</dd>"));
    ck_assert(!page_has(b, "<h2>Services</h2>"));
    ck_assert(page_has(b, "<a href=\"status?team=hr&amp;state=on-track\">Human Resources</a>"));
    /* the summary still counts every state */
    ck_assert(page_has(b, "<strong>All teams</strong>: 8 actions"));
    tkl_http_response_free(&r);
    page_get(tkl_web_status, &r, "/status", "team", "ict", "state", "closed", NULL);
    b = r.body;
    ck_assert(page_has(b, "<strong>These teams</strong>: 4 actions"));
    ck_assert(page_has(b, "<li><a href=\"status?state=closed\">Every team</a></li>"));
    ck_assert(page_has(b, "<a href=\"status?team=ict\">Every state</a>"));
    ck_assert(page_has(b, "<h3>ICT &amp; Digital</h3>"));
    ck_assert(!page_has(b, "<h3>Human Resources</h3>"));
    ck_assert(page_has(b, "value=\"ict\" checked>"));
    ck_assert(page_has(b, "value=\"closed\" checked>"));
    ck_assert(!page_has(b, "value=\"hr\" checked>"));
    tkl_http_response_free(&r);
    /* objectives in plan order: H's (none) first */
    page_get(tkl_web_status, &r, "/status", NULL);
    b = r.body;
    const char *people = strstr(b, "<h2>People"), *services = strstr(b, "<h2>Services</h2>"),
               *none = strstr(b, "<h2>No objective given</h2>");
    ck_assert(people && services && none && none < people && people < services);
    ck_assert(page_has(none, "<h3>No team</h3>"));
    tkl_http_response_free(&r);
}
END_TEST

/* Records an update of action id as an officer's POST would, with the
 * plan as it stands (status as given: NULL for the plan's own). */
static void record(const char *id, enum tkl_update_kind kind, const char *who, const char *team,
                   const char *status, struct tkl_update *more)
{
    const struct tkl_action *a = tkl_store_find(page_s.rt->store, id);
    ck_assert_ptr_nonnull(a);
    struct tkl_update u = *more;
    u.action_id = (char *)id;
    u.recipient = (char *)who;
    u.team_id = (char *)team;
    u.kind = kind;
    /* the instant page_get answers at, whatever the time the test has taken */
    u.at = tkl_local_instant(tkl_day_from_civil(2023, 6, 30), 9 * 60) + 30;
    u.link_issued_at = u.at - 86400;
    if (kind != TKL_UPDATE_SNOOZE)
        u.until_day = TKL_NO_DAY;
    u.plan_deadline_day = a->deadline.day;
    u.plan_deadline_text = a->deadline_text;
    u.plan_status = status ? (char *)status : a->status_text;
    u.plan_owners = a->owners;
    bool is_new = false;
    ck_assert_int_eq(record_now(&page_s, &u, &is_new), 0);
    ck_assert(is_new);
}

START_TEST(officers_updates_show_with_what_they_hold)
{
    page_load();
    record("C", TKL_UPDATE_PROGRESS, "hr", "hr", NULL,
           &(struct tkl_update){.rag = TKL_RAG_AMBER, .note = "<b>nearly</b> & done\xe2\x80\xae"});
    record("C", TKL_UPDATE_NOT_OURS, "ops", "ict", NULL,
           &(struct tkl_update){.suggested_team = "Facilities & <Estates>", .note = "Not our kit"});
    record("D", TKL_UPDATE_COMPLETE, "hr", "hr", NULL, &(struct tkl_update){0});
    record("B", TKL_UPDATE_SNOOZE, "ops", "ict", NULL,
           &(struct tkl_update){.until_day = tkl_day_from_civil(2023, 7, 20)});
    /* and through a link of no owning team's, shorter: both hold */
    record("B", TKL_UPDATE_SNOOZE, "edi", NULL, NULL,
           &(struct tkl_update){.until_day = tkl_day_from_civil(2023, 7, 10)});
    record("A", TKL_UPDATE_COMPLETE, "hr", "hr", "Not started", &(struct tkl_update){0});
    struct tkl_http_response r;
    STATUS_JSON(&r, NULL);
    json_t *root = parse(&r);
    json_t *c = json_object_get(action(root, "C"), "answers");
    json_t *p = json_object_get(c, "progress");
    ck_assert_str_eq(str(p, "rag"), "amber");
    ck_assert_str_eq(str(p, "by"), "hr");
    ck_assert_str_eq(str(p, "at"), "2023-06-30T09:00:30+01:00");
    ck_assert_str_eq(str(p, "note"), "<b>nearly</b> & done\xe2\x80\xae"); /* as written */
    json_t *no = json_array_get(json_object_get(c, "not_ours"), 0);
    ck_assert_str_eq(str(no, "team_id"), "ict");
    ck_assert_str_eq(str(no, "team"), "ICT & Digital");
    ck_assert_str_eq(str(no, "by"), "ops");
    ck_assert_str_eq(str(no, "suggested"), "Facilities & <Estates>");
    ck_assert(json_is_null(json_object_get(c, "complete")));
    json_t *d = json_object_get(action(root, "D"), "answers");
    ck_assert_str_eq(str(json_object_get(d, "complete"), "by"), "hr");
    /* D, overdue by the plan, is complete while hr's completion holds:
     * counted so, the plan's own standing beside it */
    ck_assert_str_eq(str(action(root, "D"), "standing"), "complete");
    ck_assert_str_eq(str(action(root, "D"), "plan_standing"), "overdue");
    ck_assert_int_eq(count(json_object_get(root, "summary"), "overdue"), 0);
    ck_assert_int_eq(count(json_object_get(root, "summary"), "complete"), 2);
    /* A's completion is overruled: the plan's standing stands */
    ck_assert_str_eq(str(action(root, "A"), "standing"), str(action(root, "A"), "plan_standing"));
    json_t *b = json_object_get(action(root, "B"), "answers");
    ck_assert_str_eq(str(json_object_get(b, "snoozed"), "until"), "2023-07-20");
    /* both snoozes, as the page lists them: edi's holds the copies too */
    json_t *zs = json_object_get(b, "snoozes");
    ck_assert_uint_eq(json_array_size(zs), 2);
    ck_assert_str_eq(str(json_array_get(zs, 0), "until"), "2023-07-20");
    ck_assert_str_eq(str(json_array_get(zs, 0), "by"), "ops");
    ck_assert(json_is_false(json_object_get(json_array_get(zs, 0), "copies")));
    ck_assert_str_eq(str(json_array_get(zs, 1), "until"), "2023-07-10");
    ck_assert_str_eq(str(json_array_get(zs, 1), "by"), "edi");
    ck_assert(json_is_true(json_object_get(json_array_get(zs, 1), "copies")));
    ck_assert(json_is_array(json_object_get(c, "snoozes")));
    ck_assert_uint_eq(json_array_size(json_object_get(c, "snoozes")), 0);
    /* A's completion was given when the plan said "Not started": overruled */
    json_t *a = json_object_get(action(root, "A"), "answers");
    ck_assert(json_is_null(json_object_get(a, "complete")));
    ck_assert(page_has(str(a, "overruled"), "hr marked it complete on Friday 30 June 2023; the "
                                            "plan now gives the deadline as 30/06/2023 and the "
                                            "status as In progress"));
    ck_assert(json_is_null(json_object_get(action(root, "E"), "answers")));
    json_decref(root);
    tkl_http_response_free(&r);

    page_get(tkl_web_status, &r, "/status", NULL);
    ck_assert(page_has(r.body, "<dt>Officer's progress</dt><dd><strong>amber</strong> by hr on "
                               "30 Jun 2023 09:00:<br><bdi>&lt;b&gt;nearly&lt;/b&gt; &amp; done"
                               "\xe2\x80\xae\xe2\x80\xac</bdi></dd>"));
    ck_assert(page_has(
        r.body, "held for ICT &amp; Digital: not ours by ops on 30 Jun 2023 09:00; "
                "suggests <bdi>Facilities &amp; &lt;Estates&gt;</bdi>: <bdi>Not our kit</bdi>"));
    ck_assert(page_has(r.body, "held: marked complete by hr on 30 Jun 2023 09:00"));
    ck_assert(page_has(r.body, "<span class=\"rag complete\">Complete</span><span "
                               "class=\"plan\">marked complete; by the plan alone: "
                               "overdue</span><span class=\"id\">D</span>"));
    ck_assert(page_has(r.body, "held: snoozed until Thursday 20 July 2023 by ops"));
    ck_assert(page_has(r.body, "held: snoozed until Monday 10 July 2023 by edi on 30 Jun 2023 "
                               "09:00 (the escalation's copies too)<br>"));
    ck_assert(page_has(r.body, "overruled by the plan: hr marked it complete"));
    ck_assert_ptr_null(strstr(r.body, "<b>nearly"));
    tkl_http_response_free(&r);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("overview");
    TCase *tc = tcase_create("overview");
    tcase_add_checked_fixture(tc, setup, page_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, counts_every_plan_action_once_by_standing);
    tcase_add_test(tc, each_action_as_written_as_read_and_last_reminded);
    tcase_add_test(tc, the_entity_tag_follows_the_content);
    tcase_add_test(tc, filters_by_team_and_state);
    tcase_add_test(tc, an_unknown_team_or_state_is_refused);
    tcase_add_test(tc, the_page_escapes_the_plan_and_stands_alone);
    tcase_add_test(tc, the_page_groups_by_objective_then_team);
    tcase_add_test(tc, officers_updates_show_with_what_they_hold);
    suite_add_tcase(su, tc);
    return tkl_check_run(su);
}

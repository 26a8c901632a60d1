/* Tests for daemon/web/web.c against a real service (tests/unit/
 * page_fixture.h): the dispatch, /healthz (200, and 503 with its reason
 * while another process holds the outbox's lock, its last commit failed or
 * the daemon stops), the
 * index with the calendar addresses, and the status pages kept while
 * nothing they show can have changed, made again once something has. */
#include <check.h>

#include "check_run.h"
#include "page_fixture.h"
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "outbox/outbox.h"

/* The server's handler, as a page. */
static int handle(struct tkl_service *s, const struct tkl_http_request *req,
                  struct tkl_http_response *resp)
{
    return tkl_web_handle(s, req, resp);
}

static void setup(void)
{
    page_setup("web");
    page_load();
}

static void teardown(void)
{
    page_teardown();
}

START_TEST(a_route_without_a_page_is_404)
{
    struct tkl_request r = {.route = TKL_ROUTE_COUNT};
    struct tkl_http_request req = {.req = &r, .now = 0};
    struct tkl_http_response resp = {.status = 200};
    ck_assert_int_eq(tkl_web_handle(&page_s, &req, &resp), 0);
    ck_assert_uint_eq(resp.status, 404);
    tkl_http_response_free(&resp);
}
END_TEST

START_TEST(health_says_what_is_wrong)
{
    struct tkl_http_response resp;
    page_get(handle, &resp, "/healthz", NULL);
    ck_assert_uint_eq(resp.status, 200);
    ck_assert_str_eq(resp.body, "ok\n");
    ck_assert_str_eq(resp.cache, "no-store");
    tkl_http_response_free(&resp);
    /* another process holds the outbox's write lock */
    char db_path[700];
    snprintf(db_path, sizeof(db_path), "%s/tickler.db", page_s.env.state_dir);
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    page_get(handle, &resp, "/healthz", NULL);
    ck_assert_uint_eq(resp.status, 503);
    ck_assert_str_eq(resp.body, "outbox locked by another process\n");
    tkl_http_response_free(&resp);
    ck_assert_int_eq(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    page_get(handle, &resp, "/healthz", NULL);
    ck_assert_uint_eq(resp.status, 200);
    tkl_http_response_free(&resp);
    page_s.stopping = true;
    page_get(handle, &resp, "/healthz", NULL);
    ck_assert_uint_eq(resp.status, 503);
    ck_assert_str_eq(resp.body, "stopping\n");
    tkl_http_response_free(&resp);
    page_s.stopping = false;
}
END_TEST

/* Puts a notice of one entry titled title (key its log key) into the
 * outbox's open group. Returns what tkl_outbox_put returned. */
static int put_titled(const char *title, const char *key)
{
    struct tkl_notice_entry e = {.size = sizeof(e),
                                 .item_id = "X1",
                                 .title = title,
                                 .deadline_day = TKL_NO_DAY,
                                 .kind = TKL_DEADLINE_UNDATED,
                                 .stage = TKL_STAGE_CHECKIN};
    struct tkl_notice n = {.size = sizeof(n),
                           .channel = "chat",
                           .recipient = "hr",
                           .due_at = tkl_service_now(&page_s) + 86400 * 30,
                           .entries = &e,
                           .n_entries = 1};
    const char *keys[] = {key};
    uint64_t id;
    return tkl_outbox_put(page_s.outbox, &n, keys, tkl_service_now(&page_s), &id);
}

/* The outbox's last group of writes failed (here the file size limit
 * refuses the write, as a full disk does): /healthz says so, though a
 * probe that writes nothing passes, until a group commits again. */
START_TEST(health_says_when_the_last_commit_failed)
{
    ck_assert_ptr_ne(signal(SIGXFSZ, SIG_IGN), SIG_ERR);
    struct rlimit was, none;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &was), 0);
    none = (struct rlimit){.rlim_cur = 0, .rlim_max = was.rlim_max};
    size_t big = 16u << 20; /* more than the WAL holds already */
    char *title = malloc(big + 1);
    ck_assert_ptr_nonnull(title);
    memset(title, 'x', big);
    title[big] = '\0';
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &none), 0);
    (void)put_titled(title, "health-1"); /* refused now or at the commit */
    (void)tkl_state_commit(page_s.state);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &was), 0);
    free(title);
    struct tkl_http_response resp;
    page_get(handle, &resp, "/healthz", NULL);
    ck_assert_uint_eq(resp.status, 503);
    ck_assert_ptr_nonnull(strstr(resp.body, "outbox not writable: the last commit failed: "));
    tkl_http_response_free(&resp);
    /* room again: the next group commits, and all is well */
    ck_assert_int_eq(put_titled("small", "health-2"), 0);
    ck_assert_int_eq(tkl_state_commit(page_s.state), 0);
    page_get(handle, &resp, "/healthz", NULL);
    ck_assert_uint_eq(resp.status, 200);
    tkl_http_response_free(&resp);
}
END_TEST

START_TEST(the_index_lists_the_calendars_to_subscribe_to)
{
    struct tkl_http_response resp;
    page_get(handle, &resp, "/", NULL);
    ck_assert_uint_eq(resp.status, 200);
    ck_assert_str_eq(resp.content_type, "text/html; charset=utf-8");
    ck_assert(page_has(resp.body, "<a href=\"/calendar.ics\">"));
    /* the one category with observances, and none without */
    ck_assert(page_has(resp.body, "<a href=\"/calendar/sexual-orientation.ics\">"));
    ck_assert(page_has(resp.body, "sexual orientation only (1 observance)"));
    ck_assert(!page_has(resp.body, "/calendar/race.ics"));
    ck_assert(page_has(resp.body, "<a href=\"/status\">"));
    ck_assert(!page_has(resp.body, PAGE_SECRET));
    ck_assert(!page_has(resp.body, "<script"));
    tkl_http_response_free(&resp);
}
END_TEST

/* Loads the service again with extra configuration (page_conf_extra). */
static void reload_with(const char *extra)
{
    page_teardown();
    page_conf_extra = extra;
    page_setup("web");
    page_load();
    page_conf_extra = NULL;
}

/* The index heads the calendars with the name the council gave them
 * (calendar.title), escaped. */
START_TEST(the_index_names_the_calendar_as_configured)
{
    struct tkl_http_response resp;
    page_get(handle, &resp, "/", NULL);
    ck_assert(page_has(resp.body, "<h2>Diversity calendar</h2>"));
    tkl_http_response_free(&resp);
    reload_with("calendar = { title = \"Kent <b>equality</b> & diversity dates\"; };\n");
    page_get(handle, &resp, "/", NULL);
    ck_assert_uint_eq(resp.status, 200);
    ck_assert(
        page_has(resp.body, "<h2>Kent &lt;b&gt;equality&lt;/b&gt; &amp; diversity dates</h2>"));
    ck_assert(!page_has(resp.body, "Diversity calendar"));
    ck_assert(!page_has(resp.body, "<b>"));
    tkl_http_response_free(&resp);
}
END_TEST

/* Beside each calendar's address to paste, a one-click webcal:// link to
 * the same host and path, for Outlook's and Apple Calendar's subscribe
 * dialog; the paste instructions stay. */
START_TEST(the_index_offers_webcal_links_beside_the_addresses)
{
    struct tkl_http_response resp;
    /* no public_url, no host to name: the addresses alone */
    page_get(handle, &resp, "/", NULL);
    ck_assert(page_has(resp.body, "<a href=\"/calendar.ics\">"));
    ck_assert(!page_has(resp.body, "webcal:"));
    ck_assert(!page_has(resp.body, "<i>subscribe</i>"));
    tkl_http_response_free(&resp);
    static const struct {
        const char *public_url, *ics, *webcal;
    } cases[] = {
        {"https://tickler.maidstone.example/", "https://tickler.maidstone.example/calendar.ics",
         "webcal://tickler.maidstone.example/calendar.ics"},
        {"http://intranet.example:8080/tickler",
         "http://intranet.example:8080/tickler/calendar.ics",
         "webcal://intranet.example:8080/tickler/calendar.ics"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        static char extra[256];
        snprintf(extra, sizeof(extra),
                 "http = { listen = [ \"127.0.0.1:1\" ]; public_url = \"%s\"; };\n",
                 cases[i].public_url);
        reload_with(extra);
        page_get(handle, &resp, "/", NULL);
        char want[256];
        snprintf(want, sizeof(want), "<li><a href=\"%s\">%s</a> · <a href=\"%s\">subscribe</a> — ",
                 cases[i].ics, cases[i].ics, cases[i].webcal);
        ck_assert_msg(page_has(resp.body, want), "%s", resp.body);
        /* a category's feed has its own */
        const char *so = strstr(cases[i].webcal, "calendar.ics");
        snprintf(want, sizeof(want),
                 "<a href=\"%.*scalendar/sexual-orientation.ics\">subscribe</a>",
                 (int)(so - cases[i].webcal), cases[i].webcal);
        ck_assert_msg(page_has(resp.body, want), "%s", want);
        /* one per feed: the whole calendar and its one category */
        size_t n = 0;
        for (const char *p = resp.body; (p = strstr(p, "href=\"webcal://")); p++)
            n++;
        ck_assert_uint_eq(n, 2);
        ck_assert(page_has(resp.body, "Subscribe from web"));
        ck_assert(page_has(resp.body, "paste an address below."));
        ck_assert(page_has(resp.body, "Or choose <i>subscribe</i> beside it"));
        ck_assert(!page_has(resp.body, "webcal://https"));
        tkl_http_response_free(&resp);
    }
}
END_TEST

/* A category of a local calendar, which the palette does not know, has
 * its feed too: the index lists it, named as its events name it. */
START_TEST(the_index_lists_a_local_calendar_s_categories)
{
    static char items[512];
    snprintf(items, sizeof(items),
             ", { id = \"w1\"; title = \"Mind day\"; start = %d; end = %d; "
             "category = \"Wellbeing & <Mind>\"; }"
             ", { id = \"w2\"; title = \"Walk day\"; start = %d; end = %d; "
             "category = \"wellbeing mind\"; }"
             ", { id = \"n\"; title = \"No category\"; start = %d; end = %d; }",
             tkl_day_from_civil(2023, 7, 3), tkl_day_from_civil(2023, 7, 3),
             tkl_day_from_civil(2023, 7, 4), tkl_day_from_civil(2023, 7, 4),
             tkl_day_from_civil(2023, 7, 5), tkl_day_from_civil(2023, 7, 5));
    page_teardown();
    page_items_extra = items;
    page_setup("web");
    page_load();
    page_items_extra = NULL;
    struct tkl_http_response resp;
    page_get(handle, &resp, "/", NULL);
    ck_assert_uint_eq(resp.status, 200);
    ck_assert(page_has(resp.body, "<a href=\"/calendar/wellbeing-mind.ics\">"));
    ck_assert(page_has(resp.body, "Wellbeing &amp; &lt;Mind&gt; only (2 observances)"));
    /* once, after the palette's */
    const char *a = strstr(resp.body, "<a href=\"/calendar/wellbeing-mind.ics\">");
    ck_assert_ptr_null(strstr(a + 1, "<a href=\"/calendar/wellbeing-mind.ics\">"));
    ck_assert_ptr_nonnull(strstr(resp.body, "/calendar/sexual-orientation.ics"));
    ck_assert(strstr(resp.body, "/calendar/sexual-orientation.ics") < a);
    ck_assert(!page_has(resp.body, "<a href=\"/calendar/.ics\">"));
    ck_assert(!page_has(resp.body, "<Mind>"));
    tkl_http_response_free(&resp);
    /* and the feed it links to is served */
    page_get(handle, &resp, "/calendar/wellbeing-mind.ics", NULL);
    ck_assert_uint_eq(resp.status, 200);
    tkl_http_response_free(&resp);
}
END_TEST

/* A's title as the status page shows it. */
static int shows_title(const char *title)
{
    struct tkl_http_response resp;
    page_get(handle, &resp, "/status.json", NULL);
    ck_assert_uint_eq(resp.status, 200);
    int found = page_has(resp.body, title);
    tkl_http_response_free(&resp);
    return found;
}

START_TEST(status_pages_are_kept_until_something_changes)
{
    ck_assert(shows_title("Review the pay gap"));
    /* the plan in memory changes behind the service's back: the page kept
     * is served, as nothing said the store changed */
    struct tkl_action *a = (struct tkl_action *)tkl_store_find(page_s.rt->store, "A");
    ck_assert_ptr_nonnull(a);
    char *old = a->title;
    a->title = strdup("Review the pay gap again");
    ck_assert_ptr_nonnull(a->title);
    ck_assert(!shows_title("Review the pay gap again"));
    /* a write to the outbox: made again */
    ck_assert_int_eq(tkl_outbox_set_meta(page_s.outbox, "test", 1), 0);
    ck_assert(shows_title("Review the pay gap again"));
    free(a->title);
    a->title = old;
    ck_assert(!shows_title("Review the pay gap\""));
    /* another store put in force: made again */
    page_s.store_generation++;
    ck_assert(shows_title("Review the pay gap\""));
    /* each query is a page of its own */
    struct tkl_http_response one, two, three;
    page_get(handle, &one, "/status.json", "state", "overdue", NULL);
    page_get(handle, &two, "/status.json", "state", "complete", NULL);
    ck_assert(page_has(one.body, "Late report"));
    ck_assert(!page_has(two.body, "Late report"));
    /* a kept page keeps its headers: no cache keeps it, no index lists it */
    page_get(handle, &three, "/status.json", "state", "overdue", NULL);
    ck_assert_str_eq(three.body, one.body);
    ck_assert_str_eq(three.cache, "private, no-store");
    ck_assert(three.noindex);
    tkl_http_response_free(&three);
    ck_assert(page_has(two.body, "Finished thing"));
    tkl_http_response_free(&one);
    tkl_http_response_free(&two);
    /* one value that reads like two arguments is not their page */
    page_get(handle, &one, "/status.json", "team", "hr", "state", "overdue", NULL);
    ck_assert_uint_eq(one.status, 200);
    page_get(handle, &two, "/status.json", "team", "hr&state=overdue", NULL);
    ck_assert_uint_eq(two.status, 400);
    tkl_http_response_free(&one);
    tkl_http_response_free(&two);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("web");
    TCase *tc = tcase_create("web");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_route_without_a_page_is_404);
    tcase_add_test(tc, health_says_what_is_wrong);
    tcase_add_test(tc, health_says_when_the_last_commit_failed);
    tcase_add_test(tc, the_index_lists_the_calendars_to_subscribe_to);
    tcase_add_test(tc, the_index_lists_a_local_calendar_s_categories);
    tcase_add_test(tc, the_index_names_the_calendar_as_configured);
    tcase_add_test(tc, the_index_offers_webcal_links_beside_the_addresses);
    tcase_add_test(tc, status_pages_are_kept_until_something_changes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tkl_check_run(suite());
}

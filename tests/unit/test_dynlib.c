/* Tests for daemon/dynlib/: libcurl, libpq, libxml2 and libzip are not in
 * the process until the code that needs one loads it; loading fills every
 * pointer from the library itself, once, from any thread; a library that is
 * missing, too old or fails to start gives a message naming it and its
 * package, leaves the pointers NULL, and may be tried again. This test
 * links none of the four. */
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>

#include "check_run.h"
#include "dynlib/dynlib.h"
#include "dynlib/libcurl.h"
#include "dynlib/libpq.h"
#include "dynlib/libxml.h"
#include "dynlib/libzip.h"

static bool in_process(const char *soname)
{
    void *h = dlopen(soname, RTLD_NOW | RTLD_NOLOAD);
    if (h)
        (void)dlclose(h); /* drops the reference NOLOAD took */
    return h != NULL;
}

/* Every sym_ pointer is the library's own function of that name. */
#define CHECK_FROM(f)                                                                              \
    do {                                                                                           \
        void *want = dlsym(h, #f);                                                                 \
        void *got;                                                                                 \
        memcpy(&got, &sym_##f, sizeof(got));                                                       \
        ck_assert_msg(want &&got == want, "sym_%s is not the library's %s", #f, #f);               \
    } while (0);

static void *handle_of(const char *soname)
{
    void *h = dlopen(soname, RTLD_NOW | RTLD_NOLOAD);
    ck_assert_msg(h, "%s is not loaded", soname);
    return h;
}

/* load (err in scope) succeeds, and then soname is in the process with
 * every pointer of its SYMBOLS its own. */
#define LOADED(load, soname, SYMBOLS)                                                              \
    do {                                                                                           \
        ck_assert_int_eq(load(err, sizeof(err)), 0);                                               \
        void *h = handle_of(soname);                                                               \
        SYMBOLS(CHECK_FROM)                                                                        \
        (void)dlclose(h);                                                                          \
    } while (0)

START_TEST(each_library_is_loaded_when_first_needed)
{
    char err[512] = "";
    ck_assert(!in_process(TICKLER_LIBZIP_SONAME));
    ck_assert(!in_process(TICKLER_LIBXML2_SONAME));
    ck_assert(!in_process(TICKLER_LIBPQ_SONAME));
    ck_assert(!in_process(TICKLER_LIBCURL_SONAME));

    LOADED(tkl_libzip_load, TICKLER_LIBZIP_SONAME, TKL_LIBZIP_SYMBOLS);
    ck_assert(!in_process(TICKLER_LIBPQ_SONAME)); /* only what was asked for */
    LOADED(tkl_libxml_load, TICKLER_LIBXML2_SONAME, TKL_LIBXML_SYMBOLS);
    LOADED(tkl_libpq_load, TICKLER_LIBPQ_SONAME, TKL_LIBPQ_SYMBOLS);
    LOADED(tkl_libcurl_load, TICKLER_LIBCURL_SONAME, TKL_LIBCURL_SYMBOLS);
    /* initialised on load: a handle works */
    CURL *e = sym_curl_easy_init();
    ck_assert_ptr_nonnull(e);
    sym_curl_easy_cleanup(e);
    tkl_libcurl_cleanup();
}
END_TEST

/* Tables of the test's own, over libz (every Debian system has it). */
static void (*sym_test_present)(void);
static void (*sym_test_absent)(void);
static int inits;

static int count_init(char *err, size_t size)
{
    (void)err;
    (void)size;
    __atomic_add_fetch(&inits, 1, __ATOMIC_SEQ_CST);
    return 0;
}

static int failing_init(char *err, size_t size)
{
    (void)snprintf(err, size, "would not start");
    return -EIO;
}

static const struct tkl_dynsym present[] = {{"zlibVersion", &sym_test_present}};

/* libz with syms (n of them) and init. */
static struct tkl_dynlib zlib(const struct tkl_dynsym *syms, size_t n, int (*init)(char *, size_t))
{
    return (struct tkl_dynlib){.soname = "libz.so.1",
                               .package = "zlib1g",
                               .purpose = "The test",
                               .syms = syms,
                               .n_syms = n,
                               .init = init};
}

START_TEST(a_missing_library_is_named_with_its_package)
{
    struct tkl_dynlib lib = zlib(present, 1, NULL);
    lib.soname = "libtickler-absent.so.0";
    lib.package = "tickler-absent";
    char err[512] = "";
    ck_assert_int_eq(tkl_dynlib_load(&lib, err, sizeof(err)), -ELIBACC);
    ck_assert_ptr_nonnull(strstr(err, "The test needs libtickler-absent.so.0"));
    ck_assert_ptr_nonnull(strstr(err, "Debian package tickler-absent"));
    ck_assert_ptr_null(sym_test_present);
    ck_assert(!tkl_dynlib_loaded(&lib));
}
END_TEST

START_TEST(a_library_without_a_function_leaves_every_pointer_null)
{
    static const struct tkl_dynsym syms[] = {{"zlibVersion", &sym_test_present},
                                             {"tickler_no_such_function", &sym_test_absent}};
    struct tkl_dynlib lib = zlib(syms, 2, NULL);
    char err[512] = "";
    ck_assert_int_eq(tkl_dynlib_load(&lib, err, sizeof(err)), -ELIBBAD);
    ck_assert_ptr_nonnull(strstr(err, "tickler_no_such_function()"));
    ck_assert_ptr_nonnull(strstr(err, "libz.so.1 (Debian package zlib1g)"));
    ck_assert_ptr_null(sym_test_present); /* found first, then taken back */
    ck_assert_ptr_null(sym_test_absent);
    ck_assert(!tkl_dynlib_loaded(&lib));
}
END_TEST

START_TEST(a_failed_start_is_reported_and_may_be_tried_again)
{
    struct tkl_dynlib lib = zlib(present, 1, failing_init);
    char err[512] = "";
    ck_assert_int_eq(tkl_dynlib_load(&lib, err, sizeof(err)), -EIO);
    ck_assert_str_eq(err, "would not start");
    ck_assert_ptr_null(sym_test_present);
    lib.init = count_init;
    inits = 0;
    ck_assert_int_eq(tkl_dynlib_load(&lib, err, sizeof(err)), 0);
    ck_assert_ptr_nonnull(sym_test_present);
    ck_assert(tkl_dynlib_loaded(&lib));
    ck_assert_int_eq(inits, 1);
    /* loaded: a later call does nothing more */
    void (*first)(void) = sym_test_present;
    ck_assert_int_eq(tkl_dynlib_load(&lib, err, sizeof(err)), 0);
    ck_assert_int_eq(inits, 1);
    ck_assert(sym_test_present == first);
}
END_TEST

static void *load_in_thread(void *arg)
{
    char err[512];
    return (void *)(intptr_t)tkl_dynlib_load(arg, err, sizeof(err));
}

START_TEST(threads_loading_at_once_start_it_once)
{
    struct tkl_dynlib lib = zlib(present, 1, count_init);
    pthread_t t[8];
    inits = 0;
    sym_test_present = NULL;
    for (size_t i = 0; i < 8; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, load_in_thread, &lib), 0);
    for (size_t i = 0; i < 8; i++) {
        void *r = NULL;
        ck_assert_int_eq(pthread_join(t[i], &r), 0);
        ck_assert_int_eq((int)(intptr_t)r, 0);
    }
    ck_assert_int_eq(inits, 1);
    ck_assert_ptr_nonnull(sym_test_present);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dynlib");
    TCase *tc = tcase_create("load");
    /* first: it checks that nothing before it loaded the four */
    tcase_add_test(tc, each_library_is_loaded_when_first_needed);
    tcase_add_test(tc, a_missing_library_is_named_with_its_package);
    tcase_add_test(tc, a_library_without_a_function_leaves_every_pointer_null);
    tcase_add_test(tc, a_failed_start_is_reported_and_may_be_tried_again);
    tcase_add_test(tc, threads_loading_at_once_start_it_once);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}

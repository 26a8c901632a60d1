/* Tests for daemon/store/archive.c: ZIP members read with libzip, whole or
 * through a libxml2 streaming reader, under the expansion limits. */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/archive.h"
#include "zip_fixture.h"

static struct tkl_diags diags;

static void setup(void)
{
    memset(&diags, 0, sizeof(diags));
}

static void teardown(void)
{
    tkl_diags_free(&diags);
}

/* The archive of the members, opened as file "book.zip". */
static struct tkl_zip *open_zip(const struct zip_member *m, size_t n, char **data)
{
    size_t len;
    zip_build(m, n, data, &len);
    struct tkl_zip *z = NULL;
    ck_assert_int_eq(tkl_zip_open("book.zip", *data, len, &z, &diags), 0);
    return z;
}

START_TEST(members_whole_and_streamed)
{
    struct zip_member m[] = {{"a.txt", "hello"}, {"x/b.xml", "<r a=\"1\">text &amp; more</r>"}};
    char *data, *text;
    size_t len;
    struct tkl_zip *z = open_zip(m, 2, &data);
    ck_assert(tkl_zip_has(z, "a.txt"));
    ck_assert(!tkl_zip_has(z, "b.xml"));
    ck_assert_int_eq(tkl_zip_read(z, "a.txt", &text, &len, &diags), 0);
    ck_assert_str_eq(text, "hello");
    ck_assert_uint_eq(len, 5);
    free(text);
    ck_assert_int_eq(tkl_zip_read(z, "missing", &text, &len, &diags), -ENOENT);
    xmlTextReaderPtr x;
    ck_assert_int_eq(tkl_zip_xml(z, "x/b.xml", &x, &diags), 0);
    int types = 0;
    while (xmlTextReaderRead(x) == 1) {
        if (xmlTextReaderNodeType(x) != XML_READER_TYPE_TEXT)
            continue;
        ck_assert_str_eq((const char *)xmlTextReaderConstValue(x), "text & more");
        types++;
    }
    ck_assert_int_eq(types, 1);
    xmlFreeTextReader(x);
    ck_assert_int_eq(tkl_zip_xml_error(z), 0);
    ck_assert_int_eq(tkl_zip_xml(z, "missing.xml", &x, &diags), -ENOENT);
    ck_assert_uint_eq(diags.n, 0);
    tkl_zip_close(z);
    free(data);
}
END_TEST

/* A part read again (xlsx.c reads a sheet's part twice) counts once
 * towards the archive's limit: the most one reading of it expanded. */
START_TEST(a_part_read_again_counts_once)
{
    const char *xml = "<r>text</r>";
    struct zip_member m[] = {{"a.txt", "hello"}, {"b.xml", xml}};
    char *data, *text;
    size_t len;
    struct tkl_zip *z = open_zip(m, 2, &data);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(tkl_zip_read(z, "a.txt", &text, &len, &diags), 0);
        free(text);
    }
    ck_assert_uint_eq(tkl_zip_expanded(z), 5);
    for (int i = 0; i < 2; i++) {
        xmlTextReaderPtr x;
        ck_assert_int_eq(tkl_zip_xml(z, "b.xml", &x, &diags), 0);
        while (xmlTextReaderRead(x) == 1)
            ;
        xmlFreeTextReader(x);
    }
    ck_assert_uint_eq(tkl_zip_expanded(z), 5 + strlen(xml));
    ck_assert_uint_eq(diags.n, 0);
    tkl_zip_close(z);
    free(data);
}
END_TEST

START_TEST(not_an_archive)
{
    struct tkl_zip *z = (struct tkl_zip *)&diags; /* untouched on failure */
    ck_assert_int_eq(tkl_zip_open("plan.xlsx", "PK\003\004 no", 10, &z, &diags), -EINVAL);
    ck_assert_ptr_eq(z, (struct tkl_zip *)&diags);
    ck_assert_str_eq(diags.items[0].file, "plan.xlsx");
    ck_assert_ptr_nonnull(strstr(diags.items[0].message, "not a readable ZIP archive"));
}
END_TEST

START_TEST(an_entity_bomb_is_one_error_and_no_expansion)
{
    /* a billion laughs: ten levels of ten references */
    static char doc[4096];
    char *p = doc;
    p += sprintf(p, "<!DOCTYPE d [<!ENTITY a0 \"xxxxxxxxxx\">");
    for (int i = 1; i < 10; i++) {
        p += sprintf(p, "<!ENTITY a%d \"", i);
        for (int k = 0; k < 10; k++)
            p += sprintf(p, "&a%d;", i - 1);
        p += sprintf(p, "\">");
    }
    sprintf(p, "<!ENTITY f SYSTEM \"file:///etc/passwd\">]><d>&f;&a9;</d>");
    struct zip_member m[] = {{"content.xml", doc}};
    char *data;
    struct tkl_zip *z = open_zip(m, 1, &data);
    xmlTextReaderPtr x;
    ck_assert_int_eq(tkl_zip_xml(z, "content.xml", &x, &diags), 0);
    size_t text = 0;
    int r;
    while ((r = xmlTextReaderRead(x)) == 1) {
        const xmlChar *v = xmlTextReaderConstValue(x);
        text += v ? strlen((const char *)v) : 0;
        ck_assert(!v || !strstr((const char *)v, "root:"));
    }
    xmlFreeTextReader(x);
    ck_assert_int_eq(r, -1);
    ck_assert_uint_lt(text, 1 << 20);
    ck_assert_int_eq(tkl_zip_xml_error(z), -EINVAL);
    ck_assert_uint_eq(diags.n, 1); /* the first error, not each repeat */
    ck_assert_str_eq(diags.items[0].field, "content.xml");
    ck_assert_ptr_nonnull(strstr(diags.items[0].message, "not well-formed XML"));
    tkl_zip_close(z);
    free(data);
}
END_TEST

START_TEST(a_zip_bomb_is_refused_before_it_expands)
{
    /* a part of 257 MiB (elements between runs of spaces, each run within
     * libxml2's limit of a text node) compresses to well under 2 MiB: its
     * declared size is past the limit, so none of it is expanded */
    size_t chunk = 1u << 20, n = (TKL_ZIP_MEMBER_MAX >> 20) + 1, at = 3;
    char *text = malloc(n * (chunk + 4) + 8);
    ck_assert_ptr_nonnull(text);
    memcpy(text, "<d>", 3);
    for (size_t i = 0; i < n; i++, at += chunk + 4) {
        memcpy(text + at, "<a/>", 4);
        memset(text + at + 4, ' ', chunk);
    }
    strcpy(text + at, "</d>");
    struct zip_member m[] = {{"bomb.xml", text}};
    char *data;
    size_t len;
    zip_build(m, 1, &data, &len);
    free(text);
    ck_assert_uint_lt(len, 2u << 20);
    struct tkl_zip *z = NULL;
    ck_assert_int_eq(tkl_zip_open("bomb.xlsx", data, len, &z, &diags), 0);
    xmlTextReaderPtr x;
    ck_assert_int_eq(tkl_zip_xml(z, "bomb.xml", &x, &diags), -EFBIG);
    char *whole;
    ck_assert_int_eq(tkl_zip_read(z, "bomb.xml", &whole, &len, &diags), -EFBIG);
    ck_assert_uint_eq(diags.n, 2);
    ck_assert_str_eq(diags.items[0].file, "bomb.xlsx");
    ck_assert_str_eq(diags.items[0].field, "bomb.xml");
    ck_assert_ptr_nonnull(strstr(diags.items[0].message, "expands past 256 MiB"));
    ck_assert_ptr_nonnull(strstr(diags.items[0].message, "refused as a possible ZIP bomb"));
    tkl_zip_close(z);
    free(data);
}
END_TEST

/* Sets the expanded size member name's headers declare to size. */
static void declare_size(char *data, size_t len, uint32_t size)
{
    for (size_t i = 0; i + 46 < len; i++) {
        size_t at = 0;
        if (memcmp(data + i, "PK\3\4", 4) == 0)
            at = i + 22; /* local header */
        else if (memcmp(data + i, "PK\1\2", 4) == 0)
            at = i + 24; /* central directory */
        for (size_t b = 0; at && b < 4; b++)
            data[at + b] = (char)((size >> (8 * b)) & 0xff);
    }
}

/* 2 MiB of text that compresses about 10 times, into a new string. */
static char *plain_text(void)
{
    char *t = malloc((2u << 20) + 64);
    ck_assert_ptr_nonnull(t);
    size_t at = (size_t)sprintf(t, "<d>");
    for (unsigned i = 0; at < (2u << 20); i++)
        at += (size_t)sprintf(t + at, "<a>%u</a>", i * 2654435761u);
    strcpy(t + at, "</d>");
    return t;
}

/* A part that expands past the size its archive declares (a ZIP bomb
 * declaring a small size) is refused as soon as it does. */
START_TEST(a_part_expanding_past_its_declared_size_is_refused)
{
    char *text = plain_text(), *data, *whole;
    struct zip_member m[] = {{"liar.xml", text}};
    size_t len;
    zip_build(m, 1, &data, &len);
    free(text);
    declare_size(data, len, 1000);
    struct tkl_zip *z = NULL;
    ck_assert_int_eq(tkl_zip_open("book.zip", data, len, &z, &diags), 0);
    ck_assert_int_eq(tkl_zip_read(z, "liar.xml", &whole, &len, &diags), -EFBIG);
    ck_assert_uint_ge(diags.n, 1);
    ck_assert_str_eq(diags.items[0].field, "liar.xml");
    ck_assert_ptr_nonnull(strstr(diags.items[0].message,
                                 "expands past the 1000 bytes its archive declares; refused"));
    xmlTextReaderPtr x;
    ck_assert_int_eq(tkl_zip_xml(z, "liar.xml", &x, &diags), 0);
    int r;
    while ((r = xmlTextReaderRead(x)) == 1)
        ;
    xmlFreeTextReader(x);
    ck_assert_int_eq(r, -1);
    ck_assert_int_eq(tkl_zip_xml_error(z), -EFBIG);
    tkl_zip_close(z);
    free(data);
}
END_TEST

/* A part of more than 1 MiB declared to expand more than 100 times is
 * refused unexpanded; one expanding 10 times is read. */
START_TEST(a_part_expanding_too_many_times_is_refused)
{
    char *text = malloc((2u << 20) + 8), *data, *whole;
    ck_assert_ptr_nonnull(text);
    memset(text, 'a', 2u << 20);
    text[2u << 20] = '\0';
    char *plain = plain_text();
    struct zip_member m[] = {{"dense.xml", text}, {"plain.xml", plain}};
    struct tkl_zip *z = open_zip(m, 2, &data);
    size_t len;
    ck_assert_int_eq(tkl_zip_read(z, "dense.xml", &whole, &len, &diags), -EFBIG);
    ck_assert_uint_eq(diags.n, 1);
    ck_assert_ptr_nonnull(strstr(diags.items[0].message, "may expand at most 100 times"));
    ck_assert_int_eq(tkl_zip_read(z, "plain.xml", &whole, &len, &diags), 0);
    ck_assert_str_eq(whole, plain);
    free(whole);
    tkl_zip_close(z);
    free(data);
    free(text);
    free(plain);
}
END_TEST

/* A part compressed by a method other than deflate (bzip2 expands
 * millions of times) is refused. */
START_TEST(a_part_not_deflated_is_refused)
{
    if (!zip_compression_method_supported(ZIP_CM_BZIP2, 1))
        return; /* this libzip cannot write one */
    zip_error_t err;
    zip_error_init(&err);
    zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &err);
    ck_assert_ptr_nonnull(src);
    zip_source_keep(src);
    zip_t *w = zip_open_from_source(src, ZIP_TRUNCATE, &err);
    ck_assert_ptr_nonnull(w);
    zip_source_t *s = zip_source_buffer(w, "<d/>", 4, 0);
    ck_assert_int_eq(zip_file_add(w, "b.xml", s, 0), 0);
    ck_assert_int_eq(zip_set_file_compression(w, 0, ZIP_CM_BZIP2, 9), 0);
    ck_assert_int_eq(zip_close(w), 0);
    zip_stat_t st;
    ck_assert_int_eq(zip_source_stat(src, &st), 0);
    ck_assert_int_eq(zip_source_open(src), 0);
    char *data = malloc(st.size), *whole;
    ck_assert_ptr_nonnull(data);
    ck_assert_int_eq(zip_source_read(src, data, st.size), (zip_int64_t)st.size);
    zip_source_close(src);
    zip_source_free(src);
    zip_error_fini(&err);
    struct tkl_zip *z = NULL;
    ck_assert_int_eq(tkl_zip_open("book.zip", data, st.size, &z, &diags), 0);
    size_t len;
    ck_assert_int_eq(tkl_zip_read(z, "b.xml", &whole, &len, &diags), -EINVAL);
    ck_assert_ptr_nonnull(strstr(diags.items[0].message, "compressed by method 12"));
    tkl_zip_close(z);
    free(data);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("archive");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, members_whole_and_streamed);
    tcase_add_test(tc, a_part_read_again_counts_once);
    tcase_add_test(tc, not_an_archive);
    tcase_add_test(tc, an_entity_bomb_is_one_error_and_no_expansion);
    tcase_add_test(tc, a_zip_bomb_is_refused_before_it_expands);
    tcase_add_test(tc, a_part_expanding_past_its_declared_size_is_refused);
    tcase_add_test(tc, a_part_expanding_too_many_times_is_refused);
    tcase_add_test(tc, a_part_not_deflated_is_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tkl_check_run(suite());
}

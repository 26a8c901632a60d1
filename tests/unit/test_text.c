/* Tests for daemon/core/text.c: the growable buffer (and that a failed
 * allocation leaves its content alone), UTF-8 validation, Windows-1252
 * conversion of spreadsheet exports, white-space clean-up, and FNV-1a. */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_fail.h"
#include "core/text.h"

START_TEST(a_buffer_grows_and_stays_terminated)
{
    struct tkl_buf b = {0};
    ck_assert_int_eq(tkl_buf_puts(&b, "Train"), 0);
    ck_assert_int_eq(tkl_buf_putc(&b, ' '), 0);
    ck_assert_int_eq(tkl_buf_append(&b, "staffXXX", 5), 0);
    ck_assert_int_eq(tkl_buf_printf(&b, " by %d %s", 2027, "April"), 0);
    ck_assert_str_eq(b.data, "Train staff by 2027 April");
    ck_assert_uint_eq(b.len, strlen(b.data));
    /* far past the first allocation, in small and large steps */
    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq(tkl_buf_printf(&b, "%03d", i), 0);
    char big[5000];
    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ck_assert_int_eq(tkl_buf_puts(&b, big), 0);
    ck_assert_uint_eq(b.len, 25 + 3000 + 4999);
    ck_assert_uint_eq(strlen(b.data), b.len);
    ck_assert_uint_gt(b.cap, b.len);
    ck_assert_int_eq(strncmp(b.data + 25, "000001002", 9), 0);
    ck_assert_int_eq(strncmp(b.data + 25 + 2997, "999zzz", 6), 0);
    /* bytes, NULs included, are kept as given */
    tkl_buf_reset(&b);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_str_eq(b.data, "");
    ck_assert_int_eq(tkl_buf_append(&b, "a\0b", 3), 0);
    ck_assert_uint_eq(b.len, 3);
    ck_assert_int_eq(memcmp(b.data, "a\0b", 4), 0);
    tkl_buf_free(&b);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len + b.cap, 0);
    tkl_buf_free(&b); /* twice is harmless */
    /* appending nothing still gives a terminated string */
    ck_assert_int_eq(tkl_buf_append(&b, NULL, 0), 0);
    ck_assert_str_eq(b.data, "");
    tkl_buf_free(&b);
}
END_TEST

START_TEST(steal_hands_over_the_content)
{
    struct tkl_buf b = {0};
    char *s = tkl_buf_steal(&b); /* never used: "" */
    ck_assert_str_eq(s, "");
    free(s);
    ck_assert_int_eq(tkl_buf_puts(&b, "kept"), 0);
    s = tkl_buf_steal(&b);
    ck_assert_str_eq(s, "kept");
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len + b.cap, 0);
    ck_assert_int_eq(tkl_buf_puts(&b, "again"), 0); /* the buffer is reusable */
    ck_assert_str_eq(b.data, "again");
    tkl_buf_free(&b);
    free(s);
}
END_TEST

START_TEST(a_failed_allocation_keeps_the_content)
{
    struct tkl_buf b = {0};
    ck_assert_int_eq(tkl_buf_puts(&b, "before"), 0);
    size_t cap = b.cap;
    char big[200];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    /* nothing is asserted while a failure is armed: Check allocates too */
    int r[4];
    alloc_fail_nth(1);
    r[0] = tkl_buf_puts(&b, big);
    alloc_fail_nth(1);
    r[1] = tkl_buf_printf(&b, "%s", big);
    alloc_fail_nth(1);
    r[2] = tkl_buf_append(&b, big, sizeof(big));
    alloc_fail_nth(1);
    r[3] = tkl_buf_putc(&b, '!'); /* fits: no allocation */
    alloc_fail_nth(0);
    ck_assert_int_eq(r[0], -ENOMEM);
    ck_assert_int_eq(r[1], -ENOMEM);
    ck_assert_int_eq(r[2], -ENOMEM);
    ck_assert_int_eq(r[3], 0);
    ck_assert_str_eq(b.data, "before!");
    ck_assert_uint_eq(b.len, 7);
    ck_assert_uint_eq(b.cap, cap);
    /* a size that cannot be represented is refused, not wrapped */
    ck_assert_int_eq(tkl_buf_append(&b, big, SIZE_MAX - 3), -ENOMEM);
    ck_assert_str_eq(b.data, "before!");
    tkl_buf_free(&b);
    /* the functions that return new strings return NULL */
    char *p[3];
    alloc_fail_nth(1);
    p[0] = tkl_cp1252_to_utf8("abc", 3);
    alloc_fail_nth(1);
    p[1] = tkl_text_clean("  a  b ", true);
    alloc_fail_nth(1);
    p[2] = tkl_strdup0("x");
    alloc_fail_nth(0);
    for (size_t i = 0; i < 3; i++)
        ck_assert_ptr_null(p[i]);
}
END_TEST

START_TEST(utf8_is_validated_strictly)
{
    static const struct {
        const char *s;
        bool valid;
    } cases[] = {
        {"plain ASCII", true},
        {"caf\xc3\xa9", true},           /* é */
        {"\xe2\x80\x99", true},          /* ’ */
        {"\xf0\x9f\x8e\x89", true},      /* U+1F389 */
        {"\xf4\x8f\xbf\xbf", true},      /* U+10FFFF, the last */
        {"\xef\xbb\xbfok", true},        /* a BOM is a character */
        {"\xc0\xaf", false},             /* overlong / */
        {"\xe0\x80\xaf", false},         /* overlong / */
        {"\xf0\x80\x80\xaf", false},     /* overlong / */
        {"\xed\xa0\x80", false},         /* a surrogate */
        {"\xf4\x90\x80\x80", false},     /* past U+10FFFF */
        {"\x80", false},                 /* a stray continuation */
        {"caf\xc3", false},              /* cut short */
        {"\xe2\x80", false},             /* cut short */
        {"\xc3(", false},                /* not a continuation */
        {"\xf8\x88\x80\x80\x80", false}, /* 5-byte form */
        {"\xff", false},
        {"caf\xe9", false}, /* Windows-1252 é */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        ck_assert_msg(tkl_utf8_valid(cases[i].s, strlen(cases[i].s)) == cases[i].valid, "case %zu",
                      i);
    ck_assert(tkl_utf8_valid("", 0));
    ck_assert(tkl_utf8_valid("a\0b", 3));         /* the length given, not the NUL, ends it */
    ck_assert(!tkl_utf8_valid("caf\xc3\xa9", 4)); /* cut by the length */
}
END_TEST

/* Text meant as UTF-8 with a stray byte: the byte is U+FFFD, the
 * characters around it are kept (a reply read whole as Windows-1252 would
 * turn "ä" into two letters). */
START_TEST(a_stray_byte_in_utf8_becomes_a_replacement_character)
{
    const char in[] = "Empf\xc3\xa4nger \xfc \xe2\x82 \xf0\x9f\x98\x80 \xc0\xaf end";
    ck_assert(!tkl_utf8_mostly(in, sizeof(in) - 1));          /* 2 characters, 5 stray bytes */
    ck_assert(!tkl_utf8_mostly("caf\xe9 \xff \xc0\xaf", 10)); /* overlong: none */
    ck_assert(!tkl_utf8_mostly("plain", 5));
    /* Windows-1252: "JOS\xc9" then a closing quote forms U+0254, one
     * character beside a stray opening quote: not mostly UTF-8 */
    ck_assert(!tkl_utf8_mostly("550 \x93JOS\xc9\x94", 10));
    /* a UTF-8 reply whose last character was cut */
    ck_assert(tkl_utf8_mostly("503 \xc3\x9c \xe2\x80\x93 sp\xc3\xa4ter \xc3", 20));
    char *s = tkl_utf8_repaired(in, sizeof(in) - 1);
    ck_assert_str_eq(s, "Empf\xc3\xa4nger \xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd "
                        "\xf0\x9f\x98\x80 \xef\xbf\xbd\xef\xbf\xbd end");
    ck_assert(tkl_utf8_valid(s, strlen(s)));
    free(s);
    s = tkl_utf8_repaired("", 0);
    ck_assert_str_eq(s, "");
    free(s);
}
END_TEST

/* Text read as a plan's: UTF-8 as it is; mostly UTF-8, each stray byte
 * alone read as Windows-1252; mostly not, the whole. */
START_TEST(a_plans_text_keeps_its_utf8_and_mends_each_stray_byte)
{
    static const char mixed[] = "caf\xc3\xa9 \xe2\x80\x93 \xc3\xbc\xc3\xa4 let\x92s \x81 \xe9";
    char *s = tkl_utf8_or_cp1252(mixed, sizeof(mixed) - 1); /* 4 characters, 3 stray bytes */
    ck_assert_str_eq(s, "caf\xc3\xa9 \xe2\x80\x93 \xc3\xbc\xc3\xa4 let\xe2\x80\x99s "
                        "\xef\xbf\xbd \xc3\xa9");
    free(s);
    s = tkl_utf8_or_cp1252("\x93JOS\xc9\x94", 6); /* one character, two stray bytes */
    ck_assert_str_eq(s, "\xe2\x80\x9cJOS\xc3\x89\xe2\x80\x9d");
    free(s);
    s = tkl_utf8_or_cp1252("caf\xc3\xa9", 5);
    ck_assert_str_eq(s, "caf\xc3\xa9");
    free(s);
    size_t chars = 0, stray = 0;
    tkl_utf8_tally("\xc3\xa9\x92\xe2\x80", 5, &chars, &stray);
    ck_assert_uint_eq(chars, 1);
    ck_assert_uint_eq(stray, 3); /* 0x92, and a character cut short: two */
    /* appended after what a buffer holds; on failure it holds that still */
    struct tkl_buf b = {0};
    ck_assert_int_eq(tkl_buf_append(&b, "x", 1), 0);
    ck_assert_int_eq(tkl_buf_append_mended(&b, "\x80 \xc3\xbc", 4), 0);
    ck_assert_str_eq(b.data, "x\xe2\x82\xac \xc3\xbc");
    static const char grow[] = "\x92 more text than the buffer has room for, so that it must "
                               "grow, which fails";
    alloc_fail_nth(1);
    ck_assert_int_eq(tkl_buf_append_mended(&b, grow, sizeof(grow) - 1), -ENOMEM);
    alloc_fail_nth(0);
    ck_assert_str_eq(b.data, "x\xe2\x82\xac \xc3\xbc");
    tkl_buf_free(&b);
}
END_TEST

START_TEST(windows_1252_becomes_utf8)
{
    /* what Excel's "CSV" save gives for a plan typed with smart quotes */
    const char in[] = "\x93Train\x94 staff \x96 \x80"
                      "5 caf\xe9 \x85 don\x92t\xa0x";
    char *s = tkl_cp1252_to_utf8(in, sizeof(in) - 1);
    ck_assert_str_eq(s, "\xe2\x80\x9cTrain\xe2\x80\x9d staff \xe2\x80\x93 \xe2\x82\xac"
                        "5 caf\xc3\xa9 \xe2\x80\xa6 don\xe2\x80\x99t\xc2\xa0x");
    free(s);
    /* the five bytes Windows-1252 leaves undefined become U+FFFD */
    s = tkl_cp1252_to_utf8("\x81\x8d\x8f\x90\x9d", 5);
    ck_assert_str_eq(s, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    free(s);
    /* every byte converts to valid UTF-8; ASCII is unchanged */
    char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (char)i;
    s = tkl_cp1252_to_utf8(all + 1, 255);
    ck_assert(tkl_utf8_valid(s, strlen(s)));
    ck_assert_int_eq(memcmp(s, all + 1, 127), 0);
    free(s);
    s = tkl_cp1252_to_utf8("", 0);
    ck_assert_str_eq(s, "");
    free(s);
}
END_TEST

START_TEST(white_space_is_cleaned)
{
    static const struct {
        const char *in;
        bool fold;
        const char *out;
    } cases[] = {
        {"  Train \t staff\r\n now  ", true, "Train staff now"},
        {"\xc2\xa0HR\xc2\xa0\xc2\xa0team\xc2\xa0", true, "HR team"}, /* NBSP */
        {"\n\n", true, ""},
        {"caf\xc3\xa9 \xc2\xa9", true, "caf\xc3\xa9 \xc2\xa9"}, /* é and © are not space */
        /* unfolded: line breaks kept as LF, other space as single spaces */
        {" line one\r\nline two\rline three\n\n", false, "line one\nline two\nline three"},
        {"a\t\tb\xc2\xa0"
         "c",
         false, "a  b c"},
        {"kept \n  ", false, "kept"},
        {"", false, ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *s = tkl_text_clean(cases[i].in, cases[i].fold);
        ck_assert_msg(strcmp(s, cases[i].out) == 0, "case %zu: \"%s\"", i, s);
        free(s);
    }
    char *s = tkl_text_clean(NULL, true);
    ck_assert_str_eq(s, "");
    free(s);
}
END_TEST

START_TEST(strdup0_and_fnv1a)
{
    ck_assert_ptr_null(tkl_strdup0(NULL));
    char *s = tkl_strdup0("x");
    ck_assert_str_eq(s, "x");
    free(s);
    /* the published FNV-1a 64-bit test vectors */
    ck_assert_uint_eq(tkl_fnv1a(TKL_FNV_INIT, "", 0), UINT64_C(0xcbf29ce484222325));
    ck_assert_uint_eq(tkl_fnv1a(TKL_FNV_INIT, "a", 1), UINT64_C(0xaf63dc4c8601ec8c));
    ck_assert_uint_eq(tkl_fnv1a(TKL_FNV_INIT, "foobar", 6), UINT64_C(0x85944171f73967e8));
    /* chained pieces hash as the whole */
    ck_assert_uint_eq(tkl_fnv1a(tkl_fnv1a(TKL_FNV_INIT, "foo", 3), "bar", 3),
                      tkl_fnv1a(TKL_FNV_INIT, "foobar", 6));
    ck_assert_uint_ne(tkl_fnv1a(TKL_FNV_INIT, "a\0", 2), tkl_fnv1a(TKL_FNV_INIT, "a", 1));
}
END_TEST

/* Plan text printed on a terminal: no escape sequence gets through, and
 * a cut never splits a character. */
START_TEST(the_directory_of_a_path)
{
    static const char *const cases[][2] = {{"/srv/plans/plan.csv", "/srv/plans"},
                                           {"plans/plan.csv", "plans"},
                                           {"./plan.csv", "."},
                                           {"plan.csv", "."},
                                           {"/plan.csv", "/"},
                                           {"a//b", "a/"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *dir = tkl_path_dir(cases[i][0]);
        ck_assert_ptr_nonnull(dir);
        ck_assert_str_eq(dir, cases[i][1]);
        free(dir);
    }
}
END_TEST

/* A text of white space and characters that show as none says nothing;
 * one visible character is enough to say something. */
START_TEST(blank_text_says_nothing)
{
    static const char *const blank[] = {
        NULL,
        "",
        " \t\r\n\v\f",
        "\xc2\xa0\xc2\x85",                                     /* NBSP, NEL */
        "\xe2\x80\xa8\xe2\x80\xa9",                             /* LS, PS */
        "\xe1\x9a\x80\xe2\x80\x80\xe2\x80\x8a\xe2\x80\xaf",     /* U+1680, 2000, 200A, 202F */
        "\xe2\x81\x9f\xe3\x80\x80\xe2\x80\x8b\xe2\x80\x8d",     /* U+205F, 3000, 200B, 200D */
        "\xe2\x81\xa0\xef\xbb\xbf",                             /* WORD JOINER, BOM */
        "\xc2\xad\xcd\x8f\xe1\x85\x9f\xe1\xa0\x8e",             /* SHY, CGJ, U+115F, 180E */
        "\xe2\x80\x8e\xe2\x80\xae\xe2\x81\xa1\xe2\x81\xa9",     /* LRM, RLO, U+2061, 2069 */
        "\xe2\xa0\x80\xe3\x85\xa4\xef\xb8\x8f\xef\xbe\xa0",     /* U+2800, 3164, FE0F, FFA0 */
        "\xd8\x9c\xe1\xa0\x8b\xf3\xa0\x84\x80\xf3\xa0\x81\xbf", /* U+061C, 180B, E0100, E007F */
    };
    for (size_t i = 0; i < sizeof(blank) / sizeof(*blank); i++)
        ck_assert_msg(tkl_text_blank(blank[i]), "%zu", i);
    static const char *const said[] = {"x", "\xc2\xa0.", "\xe2\x80\xa8\xc3\xa9", "\xe2\x80\x90",
                                       /* WOMAN, ZWJ, LAPTOP: one visible emoji */
                                       "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb"};
    for (size_t i = 0; i < sizeof(said) / sizeof(*said); i++)
        ck_assert_msg(!tkl_text_blank(said[i]), "%zu", i);
}
END_TEST

/* Each run of line breaks (CR, LF, NEL, LS, PS) is one space; the rest
 * is written as it is. */
START_TEST(a_text_is_written_on_one_line)
{
    char *got = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&got, &len);
    ck_assert_ptr_nonnull(f);
    tkl_text_fput_line(f, "a\r\n\r\nSubject: x\xe2\x80\xa8\xe2\x80\xa9"
                          "b\xc2\x85\tc\xc2\xa0\n");
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_str_eq(got, "a Subject: x b \tc\xc2\xa0 ");
    free(got);
}
END_TEST

#define RLO    "\xe2\x80\xae"
#define RLE    "\xe2\x80\xab"
#define PDF    "\xe2\x80\xac"
#define RLI    "\xe2\x81\xa7"
#define FSI    "\xe2\x81\xa8"
#define PDI    "\xe2\x81\xa9"
#define ARABIC "\xd8\xaa\xd9\x85" /* two Arabic letters */

/* What write(f, s) writes, a new string. */
static char *written(void (*write)(FILE *, const char *), const char *s)
{
    char *got = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&got, &len);
    ck_assert_ptr_nonnull(f);
    write(f, s);
    ck_assert_int_eq(fclose(f), 0);
    return got;
}

/* An officer's text quoted in a notice is isolated, on one line, with
 * what it leaves open closed before the isolate's end: the notice's text
 * after it ("- Human Resources") cannot be reordered by it. */
START_TEST(an_officers_text_is_quoted_isolated)
{
    /* an override never closed: closed, then the isolate ends */
    char *got = written(tkl_text_fput_quote, "Done " RLO "secruoser namuH -");
    ck_assert_str_eq(got, FSI "Done " RLO "secruoser namuH -" PDF PDI);
    free(got);
    /* line breaks fold as ever; an isolate and an embedding left open
     * inside an isolate: every one closed, the PDIs exact */
    got = written(tkl_text_fput_quote, "a\n" RLI "b " RLE "c " RLE "d" PDF "\r\ne");
    ck_assert_str_eq(got, FSI "a " RLI "b " RLE "c " RLE "d" PDF " e" PDF PDI PDI);
    free(got);
    /* an Arabic note with balanced marks: kept as it is, inside the
     * isolate; a PDF too many is kept (it closes nothing inside an
     * isolate), a PDI too many left out (it would close the quote's) */
    got = written(tkl_text_fput_quote, RLE ARABIC PDF " " RLI ARABIC PDI " 3" PDF PDI);
    ck_assert_str_eq(got, FSI RLE ARABIC PDF " " RLI ARABIC PDI " 3" PDF PDI);
    free(got);
    /* ASCII cannot reorder what follows: as it is */
    got = written(tkl_text_fput_quote, "Training is L&D's\nnext");
    ck_assert_str_eq(got, "Training is L&D's next");
    free(got);
}
END_TEST

/* A value of the configuration quoted in a message stays on the
 * message's one line and shows what the file holds, written as the file
 * would write it: its controls and stray bytes escaped, its text kept. */
START_TEST(a_value_is_escaped_as_a_string_literal)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"", ""},
        {"housing@x.example", "housing@x.example"},
        {"housing@x.example\nBcc: evil@x.example", "housing@x.example\\nBcc: evil@x.example"},
        {"a\tb\r\n", "a\\tb\\r\\n"},
        {"say \"hi\" \\ bye", "say \\\"hi\\\" \\\\ bye"},
        {"\x1b[31mred\x7f", "\\x1b[31mred\\x7f"},
        /* NEL and LINE SEPARATOR break lines; an override reorders */
        {"a\xc2\x85"
         "b\xe2\x80\xa8"
         "c" RLO "d",
         "a\\xc2\\x85b\\xe2\\x80\\xa8c\\xe2\\x80\\xaed"},
        /* letters of other scripts are kept; a stray byte is not */
        {"r\xc3\xa9sum\xc3\xa9@\xe4\xbe\x8b.example", "r\xc3\xa9sum\xc3\xa9@\xe4\xbe\x8b.example"},
        {"caf\xe9", "caf\\xe9"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = tkl_text_escape(cases[i].in);
        ck_assert_ptr_nonnull(got);
        ck_assert_str_eq(got, cases[i].out);
        free(got);
    }
}
END_TEST

/* The byte offset in s where the isolate initiator at s + at is closed by
 * its matching PDI (UAX #9 BD9), or strlen(s) when it is not. */
static size_t matching_pdi(const char *s, size_t at)
{
    size_t depth = 0;
    for (size_t i = at; s[i]; i++) {
        const unsigned char *p = (const unsigned char *)s + i;
        if (p[0] == 0xe2 && p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa8)
            depth++;
        else if (p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0xa9 && --depth == 0)
            return i;
    }
    return strlen(s);
}

/* A note holding a PDI too many ("x" PDI then Arabic) does not close the
 * isolate around it early: the FSI that opens the quote is closed by the
 * quote's last PDI, so the rest of the note stays inside. */
START_TEST(a_stray_pdi_in_a_note_does_not_end_its_isolate)
{
    static const char *const notes[] = {"x" PDI ARABIC " 12", PDI RLO "evil", ARABIC PDI PDI};
    for (size_t k = 0; k < sizeof(notes) / sizeof(notes[0]); k++) {
        char *got = written(tkl_text_fput_quote, notes[k]);
        ck_assert(!strncmp(got, FSI, 3));
        size_t end = matching_pdi(got, 0);
        ck_assert_msg(end == strlen(got) - 3,
                      "note %zu: the quote's FSI is closed at byte %zu "
                      "of %zu",
                      k, end, strlen(got));
        free(got);
    }
}
END_TEST

/* On a page, an officer's text is escaped inside <bdi>, its line breaks
 * as <br>, with what each line leaves open closed on it (a line break
 * ends a paragraph for the page's bidi), a PDI that closes nothing of
 * the line's left out. */
START_TEST(an_officers_text_is_isolated_in_html)
{
    char *got = written(tkl_html_fput_quote, "<b>\r\n" RLO "x\ry");
    ck_assert_str_eq(got, "<bdi>&lt;b&gt;<br>" RLO "x" PDF "<br>y</bdi>");
    free(got);
    got = written(tkl_html_fput_quote, RLI "a\n" ARABIC PDI " 5");
    ck_assert_str_eq(got, "<bdi>" RLI "a" PDI "<br>" ARABIC " 5</bdi>");
    free(got);
    got = written(tkl_html_fput_quote, ARABIC);
    ck_assert_str_eq(got, "<bdi>" ARABIC "</bdi>");
    free(got);
    got = written(tkl_html_fput_quote, NULL);
    ck_assert_str_eq(got, "<bdi></bdi>");
    free(got);
}
END_TEST

/* A reply from elsewhere is one line of printable UTF-8: line breaks and
 * controls are spaces, bidi embeddings, overrides and isolates are left
 * out (the marks that only say a direction, U+200E, stay), text that is
 * not UTF-8 is read as Windows-1252 or repaired, and a long one is cut at
 * a character with "..." after it. */
START_TEST(a_reply_is_one_clean_line)
{
    char *s = tkl_text_reply_line("451 \x1b[1mbusy\r\n\r\n\xe2\x80\xaeyrter\xe2\x80\xac "
                                  "\xe2\x81\xa7\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d\xe2\x80\x8e",
                                  1024);
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s, "451  [1mbusy yrter \xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d\xe2\x80\x8e");
    free(s);
    s = tkl_text_reply_line("550 caf\xe9", 1024); /* Windows-1252 */
    ck_assert_str_eq(s, "550 caf\xc3\xa9");
    free(s);
    s = tkl_text_reply_line("550 \xc3\xa9t\xc3\xa9 \xff", 1024); /* mostly UTF-8 */
    ck_assert_str_eq(s, "550 \xc3\xa9t\xc3\xa9 \xef\xbf\xbd");
    free(s);
    /* cut at a character: "550 " and two-byte letters, at most 10 bytes */
    s = tkl_text_reply_line("550 \xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 10);
    ck_assert_str_eq(s, "550 \xc3\xa9...");
    free(s);
    s = tkl_text_reply_line("", 10);
    ck_assert_str_eq(s, "");
    free(s);
    /* no room for "...": cut at a character all the same */
    static const struct {
        size_t max;
        const char *want;
    } cut[] = {{3, "\xc3\xa9"}, {2, "\xc3\xa9"}, {1, ""}, {0, ""}};
    for (size_t i = 0; i < sizeof(cut) / sizeof(*cut); i++) {
        s = tkl_text_reply_line("\xc3\xa9\xc3\xa9", cut[i].max);
        ck_assert_str_eq(s, cut[i].want);
        free(s);
    }
}
END_TEST

START_TEST(text_is_made_printable_and_cut_at_characters)
{
    char s[] = "a\x1b[2Kb\tc\nd\x7f\xc3\xa9";
    tkl_text_printable(s, strlen(s), false);
    ck_assert_str_eq(s, "a [2Kb\tc\nd \xc3\xa9");
    tkl_text_printable(s, strlen(s), true);
    ck_assert_str_eq(s, "a [2Kb c d \xc3\xa9");
    char c1[] = "a\xc2\x9b"
                "2Kb\xc2\xa0"
                "c\xc2"; /* CSI (U+009B) blanked; NBSP kept */
    tkl_text_printable(c1, strlen(c1), true);
    ck_assert_str_eq(c1, "a  2Kb\xc2\xa0"
                         "c\xc2");
    /* long enough for the eight-bytes-at-a-time check, each control in
     * another word and at another place in it */
    for (size_t at = 0; at < 24; at++) {
        static const char ctl[] = {'\x1b', '\x7f', '\x01', '\x1f'};
        char w[40];
        memset(w, 'x', sizeof(w) - 1);
        w[sizeof(w) - 1] = '\0';
        w[at] = ctl[at % 4];
        tkl_text_printable(w, strlen(w), true);
        ck_assert_msg(w[at] == ' ', "control at %zu kept", at);
        memset(w, 'x', sizeof(w) - 1);
        w[at] = '\xc2';
        w[at + 1] = '\x9b';
        tkl_text_printable(w, strlen(w), true);
        ck_assert_msg(w[at] == ' ' && w[at + 1] == ' ', "CSI at %zu kept", at);
        memset(w, 'x', sizeof(w) - 1);
        w[at] = '\xc3'; /* é: kept */
        w[at + 1] = '\xa9';
        tkl_text_printable(w, strlen(w), true);
        ck_assert_msg(w[at] == '\xc3' && w[at + 1] == '\xa9', "é at %zu changed", at);
    }
    ck_assert_uint_eq(tkl_utf8_prefix("ab\xc3\xa9", 3), 2); /* not inside the é */
    ck_assert_uint_eq(tkl_utf8_prefix("ab\xc3\xa9", 4), 4);
    ck_assert_uint_eq(tkl_utf8_prefix("ab\xc3\xa9", 9), 4);
    ck_assert_uint_eq(tkl_utf8_prefix("abc", 2), 2);
    ck_assert_uint_eq(tkl_utf8_prefix("\xe2\x80\x9c", 2), 0);
}
END_TEST

int main(void)
{

    Suite *s = suite_create("text");
    TCase *tc = tcase_create("text");
    tcase_add_test(tc, a_buffer_grows_and_stays_terminated);
    tcase_add_test(tc, steal_hands_over_the_content);
    tcase_add_test(tc, a_failed_allocation_keeps_the_content);
    tcase_add_test(tc, utf8_is_validated_strictly);
    tcase_add_test(tc, windows_1252_becomes_utf8);
    tcase_add_test(tc, a_plans_text_keeps_its_utf8_and_mends_each_stray_byte);
    tcase_add_test(tc, a_stray_byte_in_utf8_becomes_a_replacement_character);
    tcase_add_test(tc, white_space_is_cleaned);
    tcase_add_test(tc, strdup0_and_fnv1a);
    tcase_add_test(tc, text_is_made_printable_and_cut_at_characters);
    tcase_add_test(tc, a_reply_is_one_clean_line);
    tcase_add_test(tc, the_directory_of_a_path);
    tcase_add_test(tc, blank_text_says_nothing);
    tcase_add_test(tc, a_text_is_written_on_one_line);
    tcase_add_test(tc, an_officers_text_is_quoted_isolated);
    tcase_add_test(tc, a_value_is_escaped_as_a_string_literal);
    tcase_add_test(tc, an_officers_text_is_isolated_in_html);
    tcase_add_test(tc, a_stray_pdi_in_a_note_does_not_end_its_isolate);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}

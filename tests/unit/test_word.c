/* Tests for daemon/report/word.c: the progress report as a Word document,
 * read back as Word would read it: the archive opened with libzip, each of
 * its parts parsed with libxml2 (well-formed, or Word refuses the file),
 * the document's headings, tables, rows and text found with XPath. Hostile
 * text from the plan and the notes comes back as the same text, never as
 * markup; characters XML cannot hold are replaced, never written; the
 * same report gives the same bytes; a write error and every allocation
 * failure are told, with nothing leaked. */
#include <check.h>

#include "alloc_fail.h"
#include "check_run.h"
#include "report_fixture.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <zip.h>

#include "report/report.h"
#include "report/word.h"

#define W_NS "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

#define HOSTILE_TITLE "<script>alert(1)</script> & \"quotes\" 'too' ]]>"
#define HOSTILE_NOTE  "=HYPERLINK(\"x\") </w:t></w:r><w:r><w:t>injected\nsecond line"

static const char plan_csv[] =
    "Ref,Objective,Commitments,Actions,Responsibility,Timeframe,Status,Progress\n"
    "P1,People,We will train staff,Train managers,HR,March 2027,,\n"
    "P2,People,We will train staff,Train everyone,HR,March 2027,,Half done\n"
    "Q1,Places,We will fix buildings,Ramp at the town hall,HR,June 2026,,\n"
    "P4,People,We will listen,Staff survey,HR,Jan 2027,Withdrawn,\n"
    "Q2,Places,We will fix buildings,\"" HOSTILE_TITLE "\",\"+HR, EDI Officer Group\",TBC,,\n";

/* The plan with its hostile title, a hostile note (and a plain one before
 * it) and an update of an action the plan no longer has. */
static struct tkl_store *hostile(void)
{
    struct tkl_store *s = load(plan_csv);
    ck_assert_ptr_nonnull(s);
    record(s, "P1", TKL_UPDATE_PROGRESS, "a@x.org", at(2026, 3, 1), TKL_RAG_AMBER, "first");
    record(s, "P1", TKL_UPDATE_PROGRESS, "<b>who</b>@x.org", at(2026, 9, 1), TKL_RAG_GREEN,
           HOSTILE_NOTE);
    record(s, "Q2", TKL_UPDATE_COMPLETE, "f@x.org", at(2026, 11, 3), TKL_RAG_NONE, NULL);
    record(s, "GONE&1", TKL_UPDATE_PROGRESS, "g@x.org", at(2026, 4, 1), TKL_RAG_RED, "moved");
    return s;
}

/* The report of s for 2026 on 2 December 2026. */
static void build_2026(const struct tkl_store *s, struct tkl_report *r)
{
    ck_assert_int_eq(
        tkl_report_build(s, &ups, NULL, day(2026, 1, 1), day(2027, 1, 1), day(2026, 12, 2), r), 0);
}

/* The .docx of r, as tkl_report_write writes it. */
static char *docx(const struct tkl_report *r, size_t *ret_len)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(tkl_report_write(out, r, TKL_REPORT_WORD), 0);
    ck_assert_int_eq(fclose(out), 0);
    *ret_len = len;
    return buf;
}

/* A .docx opened as Word opens it. */
struct opened {
    char *bytes;
    size_t len;
    zip_t *za;
};

static void open_docx(const struct tkl_report *r, struct opened *o)
{
    o->bytes = docx(r, &o->len);
    ck_assert_uint_gt(o->len, 100);
    ck_assert_mem_eq(o->bytes, "PK\x03\x04", 4); /* a ZIP archive */
    zip_error_t err;
    zip_error_init(&err);
    zip_source_t *src = zip_source_buffer_create(o->bytes, o->len, 0, &err);
    ck_assert_ptr_nonnull(src);
    o->za = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &err);
    ck_assert_msg(o->za != NULL, "not a ZIP archive: %s", zip_error_strerror(&err));
    zip_error_fini(&err);
}

static void close_docx(struct opened *o)
{
    zip_discard(o->za);
    free(o->bytes);
}

/* The part name of o, parsed: well-formed, or the test fails. */
static xmlDocPtr part(const struct opened *o, const char *name)
{
    zip_stat_t st;
    ck_assert_msg(zip_stat(o->za, name, 0, &st) == 0, "no part %s", name);
    zip_file_t *f = zip_fopen(o->za, name, 0);
    ck_assert_ptr_nonnull(f);
    char *text = malloc(st.size + 1);
    ck_assert_ptr_nonnull(text);
    ck_assert_int_eq(zip_fread(f, text, st.size), (zip_int64_t)st.size);
    zip_fclose(f);
    xmlDocPtr doc = xmlReadMemory(text, (int)st.size, name, NULL, XML_PARSE_NONET);
    ck_assert_msg(doc != NULL, "%s is not well-formed XML", name);
    free(text);
    return doc;
}

/* The nodes of doc at path (w: Word's namespace). */
static xmlXPathObjectPtr find(xmlDocPtr doc, const char *path)
{
    xmlXPathContextPtr cx = xmlXPathNewContext(doc);
    ck_assert_ptr_nonnull(cx);
    ck_assert_int_eq(xmlXPathRegisterNs(cx, BAD_CAST "w", BAD_CAST W_NS), 0);
    xmlXPathObjectPtr x = xmlXPathEvalExpression(BAD_CAST path, cx);
    ck_assert_ptr_nonnull(x);
    xmlXPathFreeContext(cx);
    return x;
}

static int count(xmlDocPtr doc, const char *path)
{
    xmlXPathObjectPtr x = find(doc, path);
    int n = x->nodesetval ? x->nodesetval->nodeNr : 0;
    xmlXPathFreeObject(x);
    return n;
}

/* Writes the text of n to f as Word shows it: its runs' <w:t> joined, a
 * <w:br/> as "\n", a <w:tab/> as "\t", and "|" between paragraphs. */
static void text_of(xmlNodePtr n, FILE *f, bool *any)
{
    for (xmlNodePtr c = n->children; c; c = c->next) {
        if (c->type == XML_TEXT_NODE && !strcmp((const char *)n->name, "t")) {
            fputs((const char *)c->content, f);
            *any = true;
        }
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (!strcmp((const char *)c->name, "br"))
            fputc('\n', f);
        else if (!strcmp((const char *)c->name, "tab"))
            fputc('\t', f);
        else if (!strcmp((const char *)c->name, "p") && *any)
            fputc('|', f);
        text_of(c, f, any);
    }
}

/* The text of the ith node at path (text_of); malloc'd. */
static char *text_at(xmlDocPtr doc, const char *path, int i)
{
    xmlXPathObjectPtr x = find(doc, path);
    ck_assert_msg(x->nodesetval && x->nodesetval->nodeNr > i, "no node %d at %s", i, path);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    bool any = false;
    text_of(x->nodesetval->nodeTab[i], f, &any);
    ck_assert_int_eq(fclose(f), 0);
    xmlXPathFreeObject(x);
    return buf;
}

static void assert_text(xmlDocPtr doc, const char *path, int i, const char *want)
{
    char *t = text_at(doc, path, i);
    ck_assert_str_eq(t, want);
    free(t);
}

static void assert_text_has(xmlDocPtr doc, const char *path, int i, const char *want)
{
    char *t = text_at(doc, path, i);
    ck_assert_msg(strstr(t, want) != NULL, "%s[%d] is \"%s\", without \"%s\"", path, i, t, want);
    free(t);
}

START_TEST(test_a_word_document_in_the_councils_layout)
{
    struct tkl_store *s = hostile();
    struct tkl_report r;
    build_2026(s, &r);
    struct opened o;
    open_docx(&r, &o);
    /* the parts Word needs, [Content_Types].xml first; each well-formed */
    ck_assert_str_eq(zip_get_name(o.za, 0, 0), "[Content_Types].xml");
    const char *names[] = {"[Content_Types].xml",          "_rels/.rels",     "docProps/core.xml",
                           "word/_rels/document.xml.rels", "word/styles.xml", "word/footer1.xml"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        xmlFreeDoc(part(&o, names[i]));
    xmlDocPtr d = part(&o, "word/document.xml");
    /* the title, the period and the summary */
    assert_text(d, "//w:body/w:p[w:pPr/w:pStyle/@w:val='Title']", 0,
                "Equality action plan: progress report");
    assert_text(d, "//w:body/w:p[2]", 0,
                "Progress \xe2\x80\x93 2026, as at Wednesday 2 December 2026");
    assert_text_has(d, "//w:body/w:p[3]", 0, "5 actions: ");
    assert_text_has(d, "//w:body/w:p[3]", 0,
                    "1 update for 1 action no longer in the plan, at the end.");
    /* a heading and a table for each objective, in the plan's order, then
     * the orphans' */
    ck_assert_int_eq(count(d, "//w:body/w:p[w:pPr/w:pStyle/@w:val='Heading1']"), 3);
    assert_text(d, "//w:body/w:p[w:pPr/w:pStyle/@w:val='Heading1']", 0, "People");
    assert_text(d, "//w:body/w:p[w:pPr/w:pStyle/@w:val='Heading1']", 1, "Places");
    assert_text(d, "//w:body/w:p[w:pPr/w:pStyle/@w:val='Heading1']", 2,
                "Updates for actions no longer in the plan");
    ck_assert_int_eq(count(d, "//w:body/w:tbl"), 3);
    /* each table's first row is its header, repeated on every page */
    ck_assert_int_eq(count(d, "//w:tbl/w:tr[1][w:trPr/w:tblHeader]"), 3);
    ck_assert_int_eq(count(d, "//w:tr[w:trPr/w:tblHeader]"), 3);
    assert_text(d, "//w:body/w:tbl[1]/w:tr[1]/w:tc", 0, "Agreed Actions");
    assert_text(d, "//w:body/w:tbl[1]/w:tr[1]/w:tc", 1, "Progress \xe2\x80\x93 2026");
    assert_text(d, "//w:body/w:tbl[1]/w:tr[1]/w:tc", 2, "Status");
    /* a commitment's row spans the table */
    assert_text(d, "//w:body/w:tbl[1]/w:tr[2]/w:tc", 0, "We will train staff");
    ck_assert_int_eq(count(d, "//w:body/w:tbl[1]/w:tr[2]/w:tc/w:tcPr/w:gridSpan[@w:val='3']"), 1);
    /* an action: title and who, its notes oldest first, its status and why */
    assert_text(d, "//w:body/w:tbl[1]/w:tr[3]/w:tc", 0,
                "Train managers|Responsibility: HR \xc2\xb7 Timeframe: March 2027");
    assert_text(d, "//w:body/w:tbl[1]/w:tr[3]/w:tc", 1,
                "1 Mar 2026, Amber, a@x.org|first|1 Sep 2026, Green, <b>who</b>@x.org|"
                "=HYPERLINK(\"x\") </w:t></w:r><w:r><w:t>injected\nsecond line");
    assert_text(d, "//w:body/w:tbl[1]/w:tr[3]/w:tc", 2,
                "Complete/on schedule to deliver|On schedule: green, due 31 Mar 2027.");
    /* the plan's own progress, marked; none at all, said */
    assert_text(d, "//w:body/w:tbl[1]/w:tr[4]/w:tc", 1, "From the plan: Half done");
    assert_text(d, "//w:body/w:tbl[2]/w:tr[3]/w:tc", 1, "No update this period");
    /* the hostile title is text, and so are its owners */
    assert_text(d, "//w:body/w:tbl[2]/w:tr[4]/w:tc", 0,
                HOSTILE_TITLE "|Responsibility: +HR, EDI Officer Group \xc2\xb7 Timeframe: TBC");
    ck_assert_int_eq(count(d, "//w:t[.='injected']"), 0); /* no element came of a note */
    ck_assert_int_eq(count(d, "//script"), 0);
    /* the orphan, with its id */
    assert_text(d, "//w:body/w:tbl[3]/w:tr[1]/w:tc", 0, "Ref");
    assert_text(d, "//w:body/w:tbl[3]/w:tr[2]/w:tc", 0, "GONE&1");
    assert_text(d, "//w:body/w:tbl[3]/w:tr[2]/w:tc", 1, "1 Apr 2026, Red, g@x.org|moved");
    /* A4, a footer with the page number */
    ck_assert_int_eq(count(d, "//w:sectPr/w:pgSz[@w:w='11906' and @w:h='16838']"), 1);
    ck_assert_int_eq(count(d, "//w:sectPr/w:footerReference[@w:type='default']"), 1);
    xmlFreeDoc(d);
    xmlDocPtr f = part(&o, "word/footer1.xml");
    ck_assert_int_eq(count(f, "//w:fldSimple[@w:instr=' PAGE ']"), 1);
    xmlFreeDoc(f);
    close_docx(&o);
    tkl_report_free(&r);
    tkl_store_free(s);
}
END_TEST

/* Controls, C1 controls, bytes that are not UTF-8 and noncharacters
 * cannot be written in XML: a document holding them is one Word will not
 * open. They become a space (U+FFFD for a byte that starts no
 * character); tabs and line breaks become Word's. */
#define R2 "\xef\xbf\xbd\xef\xbf\xbd" /* two bytes that start no character */
#define R3 R2 "\xef\xbf\xbd"
#define R4 R2 R2
START_TEST(test_characters_xml_cannot_hold_are_replaced)
{
    struct tkl_store *s = load(plan_csv);
    ck_assert_ptr_nonnull(s);
    record(s, "P1", TKL_UPDATE_PROGRESS, "a@x.org", at(2026, 3, 1), TKL_RAG_NONE,
           "bell\x07 esc\x1b[31m csi\xc2\x9b bad\xff\xfe end\xef\xbf\xbf tab\there\r\ncrlf\rcr"
           " long\xc0\xbc \xa0\xbc big\xf4\x90\x80\x80 sur\xed\xa0\x80 cut\xe2\x82");
    struct tkl_report r;
    build_2026(s, &r);
    struct opened o;
    open_docx(&r, &o);
    xmlDocPtr d = part(&o, "word/document.xml");
    assert_text(d, "//w:body/w:tbl[1]/w:tr[3]/w:tc", 1,
                "1 Mar 2026, a@x.org|bell  esc [31m csi  bad\xef\xbf\xbd\xef\xbf\xbd end  "
                "tab\there\ncrlf\ncr long" R2 " " R2 " big" R4 " sur" R3 " cut" R2);
    xmlFreeDoc(d);
    close_docx(&o);
    tkl_report_free(&r);
    tkl_store_free(s);
}
END_TEST

/* The same report on the same day gives the same bytes, so /report's
 * entity tag moves only when the report does. */
START_TEST(test_the_same_report_gives_the_same_bytes)
{
    struct tkl_store *s = hostile();
    struct tkl_report r;
    build_2026(s, &r);
    size_t n1, n2;
    char *a = docx(&r, &n1);
    char *b = docx(&r, &n2);
    ck_assert_uint_eq(n1, n2);
    ck_assert_mem_eq(a, b, n1);
    free(a);
    free(b);
    tkl_report_free(&r);
    tkl_store_free(s);
}
END_TEST

START_TEST(test_an_empty_plan)
{
    struct tkl_store *s = load("Ref,Actions,Timeframe\n");
    ck_assert_ptr_nonnull(s);
    struct tkl_report r;
    build_2026(s, &r);
    struct opened o;
    open_docx(&r, &o);
    xmlDocPtr d = part(&o, "word/document.xml");
    ck_assert_int_eq(count(d, "//w:tbl"), 0);
    ck_assert_int_eq(count(d, "//w:p[w:r/w:t='The plan has no actions.']"), 1);
    xmlFreeDoc(d);
    close_docx(&o);
    tkl_report_free(&r);
    tkl_store_free(s);
}
END_TEST

START_TEST(test_a_write_error_is_told)
{
    struct tkl_store *s = hostile();
    struct tkl_report r;
    build_2026(s, &r);
    FILE *full = fopen("/dev/full", "w");
    ck_assert_ptr_nonnull(full);
    ck_assert_int_eq(setvbuf(full, NULL, _IONBF, 0), 0);
    ck_assert_int_eq(tkl_report_write(full, &r, TKL_REPORT_WORD), -EIO);
    fclose(full);
    tkl_report_free(&r);
    tkl_store_free(s);
}
END_TEST

START_TEST(every_allocation_failure_is_clean)
{
    struct tkl_store *s = hostile();
    struct tkl_report r;
    build_2026(s, &r);
    char why[512];
    ck_assert_int_eq(tkl_report_word_load(why, sizeof(why)), 0); /* before counting */
    bool failed = true;
    unsigned long n;
    for (n = 1; failed; n++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&buf, &len);
        ck_assert_ptr_nonnull(out);
        alloc_fail_nth(n);
        int err = tkl_report_write(out, &r, TKL_REPORT_WORD);
        failed = alloc_count >= n;
        alloc_fail_nth(0);
        ck_assert_int_eq(fclose(out), 0);
        ck_assert_int_eq(err, failed ? -ENOMEM : 0); /* ASan tells whether anything leaked */
        if (failed)                                  /* nothing written */
            ck_assert_uint_eq(len, 0);
        free(buf);
    }
    ck_assert_uint_gt(n, 3);
    tkl_report_free(&r);
    tkl_store_free(s);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("word");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, report_setup, report_teardown);
    tcase_add_test(tc, test_a_word_document_in_the_councils_layout);
    tcase_add_test(tc, test_characters_xml_cannot_hold_are_replaced);
    tcase_add_test(tc, test_the_same_report_gives_the_same_bytes);
    tcase_add_test(tc, test_an_empty_plan);
    tcase_add_test(tc, test_a_write_error_is_told);
    tcase_add_test(tc, every_allocation_failure_is_clean);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tkl_check_run(suite());
}

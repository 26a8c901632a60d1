#include "word.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tickler/day.h>
#include <tickler/text.h>

#include "../core/day.h"
#include "../dynlib/libxml.h"
#include "../dynlib/libzip.h"
#include "report_text.h"

#define W_NS "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
#define R_NS "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
#define PKG  "http://schemas.openxmlformats.org/package/2006/"
#define DOC  "http://schemas.openxmlformats.org/officeDocument/2006/"
#define OFF  "application/vnd.openxmlformats-officedocument.wordprocessingml."

/* A4 portrait in twentieths of a point, margins of 12 mm and 14 mm, the
 * width between them, and the columns' widths (as the HTML's: 34%, 44%,
 * 22%; the orphans' Ref 16%). */
#define PAGE_W    11906
#define PAGE_H    16838
#define MARGIN_X  680
#define MARGIN_Y  794
#define TEXT_W    (PAGE_W - 2 * MARGIN_X)
#define COL_ACT   (TEXT_W * 34 / 100)
#define COL_PROG  (TEXT_W * 44 / 100)
#define COL_ST    (TEXT_W - COL_ACT - COL_PROG)
#define COL_REF   (TEXT_W * 16 / 100)
#define COL_NOTES (TEXT_W - COL_REF)

/* The shading of the header row, a commitment's row and each status's
 * cell, as the HTML's. */
#define FILL_HEAD       "1F3864"
#define FILL_COMMITMENT "D9E2F3"
static const char *const status_fill[TKL_REPORT_N_STATUS] = {"E2EFDA", "FFF2CC", "EDEDED"};

/* ---- the parts that hold no text of the plan -------------------------- */

static const char content_types[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
    "<Types xmlns=\"" PKG "content-types\">"
    "<Default Extension=\"rels\" ContentType=\"application/"
    "vnd.openxmlformats-package.relationships+xml\"/>"
    "<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
    "<Override PartName=\"/word/document.xml\" ContentType=\"" OFF "document.main+xml\"/>"
    "<Override PartName=\"/word/styles.xml\" ContentType=\"" OFF "styles+xml\"/>"
    "<Override PartName=\"/word/footer1.xml\" ContentType=\"" OFF "footer+xml\"/>"
    "<Override PartName=\"/docProps/core.xml\" ContentType=\"application/"
    "vnd.openxmlformats-package.core-properties+xml\"/>"
    "</Types>\n";

static const char package_rels[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
    "<Relationships xmlns=\"" PKG "relationships\">"
    "<Relationship Id=\"rId1\" Type=\"" DOC "relationships/officeDocument\" "
    "Target=\"word/document.xml\"/>"
    "<Relationship Id=\"rId2\" Type=\"" PKG "relationships/metadata/core-properties\" "
    "Target=\"docProps/core.xml\"/>"
    "</Relationships>\n";

static const char document_rels[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
    "<Relationships xmlns=\"" PKG "relationships\">"
    "<Relationship Id=\"rId1\" Type=\"" DOC "relationships/styles\" Target=\"styles.xml\"/>"
    "<Relationship Id=\"rId2\" Type=\"" DOC "relationships/footer\" Target=\"footer1.xml\"/>"
    "</Relationships>\n";

/* Arial 10.5 pt in British English; Title and Heading 1 are Word's own
 * (so the navigation pane lists the objectives), a heading kept with the
 * table that follows it. */
static const char styles[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
    "<w:styles xmlns:w=\"" W_NS "\">"
    "<w:docDefaults><w:rPrDefault><w:rPr>"
    "<w:rFonts w:ascii=\"Arial\" w:hAnsi=\"Arial\" w:eastAsia=\"Arial\" w:cs=\"Arial\"/>"
    "<w:sz w:val=\"21\"/><w:szCs w:val=\"21\"/><w:lang w:val=\"en-GB\"/>"
    "</w:rPr></w:rPrDefault><w:pPrDefault><w:pPr>"
    "<w:spacing w:after=\"60\" w:line=\"252\" w:lineRule=\"auto\"/>"
    "</w:pPr></w:pPrDefault></w:docDefaults>"
    "<w:style w:type=\"paragraph\" w:default=\"1\" w:styleId=\"Normal\">"
    "<w:name w:val=\"Normal\"/><w:qFormat/></w:style>"
    "<w:style w:type=\"paragraph\" w:styleId=\"Title\"><w:name w:val=\"Title\"/>"
    "<w:basedOn w:val=\"Normal\"/><w:next w:val=\"Normal\"/><w:qFormat/>"
    "<w:pPr><w:keepNext/><w:spacing w:after=\"120\"/></w:pPr>"
    "<w:rPr><w:b/><w:bCs/><w:sz w:val=\"32\"/><w:szCs w:val=\"32\"/></w:rPr></w:style>"
    "<w:style w:type=\"paragraph\" w:styleId=\"Heading1\"><w:name w:val=\"heading 1\"/>"
    "<w:basedOn w:val=\"Normal\"/><w:next w:val=\"Normal\"/><w:qFormat/>"
    "<w:pPr><w:keepNext/><w:spacing w:before=\"280\" w:after=\"80\"/>"
    "<w:outlineLvl w:val=\"0\"/></w:pPr>"
    "<w:rPr><w:b/><w:bCs/><w:sz w:val=\"26\"/><w:szCs w:val=\"26\"/></w:rPr></w:style>"
    "<w:style w:type=\"paragraph\" w:styleId=\"Footer\"><w:name w:val=\"footer\"/>"
    "<w:basedOn w:val=\"Normal\"/>"
    "<w:rPr><w:color w:val=\"444444\"/><w:sz w:val=\"16\"/><w:szCs w:val=\"16\"/></w:rPr>"
    "</w:style>"
    "<w:style w:type=\"table\" w:default=\"1\" w:styleId=\"TableNormal\">"
    "<w:name w:val=\"Normal Table\"/><w:tblPr><w:tblInd w:w=\"0\" w:type=\"dxa\"/>"
    "<w:tblCellMar><w:top w:w=\"0\" w:type=\"dxa\"/><w:left w:w=\"108\" w:type=\"dxa\"/>"
    "<w:bottom w:w=\"0\" w:type=\"dxa\"/><w:right w:w=\"108\" w:type=\"dxa\"/>"
    "</w:tblCellMar></w:tblPr></w:style>"
    "</w:styles>\n";

int tkl_report_word_load(char *err, size_t size)
{
    int r = tkl_libzip_load(err, size);
    return r < 0 ? r : tkl_libxml_load(err, size);
}

/* ---- writing a part ----------------------------------------------------- */

/* A part being written by libxml2's writer into buf, and the first error
 * met: once set, every later call does nothing. */
struct doc {
    xmlBufferPtr buf;
    xmlTextWriterPtr w;
    struct tkl_buf chars; /* the characters of the <w:t> being gathered */
    int err;
};

/* Notes rc, a writer's return: negative is its failure, which on a buffer
 * in memory is a failed allocation. */
static void check(struct doc *d, int rc)
{
    if (rc < 0 && d->err == 0)
        d->err = -ENOMEM;
}

static void start(struct doc *d, const char *name)
{
    if (d->err == 0)
        check(d, sym_xmlTextWriterStartElement(d->w, BAD_CAST name));
}

static void end(struct doc *d)
{
    if (d->err == 0)
        check(d, sym_xmlTextWriterEndElement(d->w));
}

static void attr(struct doc *d, const char *name, const char *value)
{
    if (d->err == 0)
        check(d, sym_xmlTextWriterWriteAttribute(d->w, BAD_CAST name, BAD_CAST value));
}

/* <name w:val="v"/> */
static void val(struct doc *d, const char *name, const char *v)
{
    start(d, name);
    attr(d, "w:val", v);
    end(d);
}

/* <name/> */
static void empty(struct doc *d, const char *name)
{
    start(d, name);
    end(d);
}

static void val_int(struct doc *d, const char *name, int v)
{
    char s[16];
    snprintf(s, sizeof(s), "%d", v);
    val(d, name, s);
}

/* Starts a part: 0 or -ENOMEM. */
static int doc_open(struct doc *d)
{
    *d = (struct doc){0};
    if (!(d->buf = sym_xmlBufferCreate()))
        return d->err = -ENOMEM;
    /* doubled as it grows, not a page at a time */
    sym_xmlBufferSetAllocationScheme(d->buf, XML_BUFFER_ALLOC_DOUBLEIT);
    if (!(d->w = sym_xmlNewTextWriterMemory(d->buf, 0)))
        return d->err = -ENOMEM; /* doc_close frees the buffer */
    check(d, sym_xmlTextWriterStartDocument(d->w, NULL, "UTF-8", "yes"));
    return d->err;
}

/* Ends the part, every element still open closed: its bytes into *ret
 * (malloc'd) and *ret_len, or NULL on an error (returned). Frees what d
 * holds either way. */
static int doc_close(struct doc *d, char **ret, size_t *ret_len)
{
    *ret = NULL;
    if (d->w) {
        if (d->err == 0)
            check(d, sym_xmlTextWriterEndDocument(d->w));
        sym_xmlFreeTextWriter(d->w); /* writes what it holds to buf */
    }
    if (d->err == 0 && d->buf) {
        int len = sym_xmlBufferLength(d->buf);
        const xmlChar *bytes = sym_xmlBufferContent(d->buf);
        if (len <= 0 || !bytes || !(*ret = malloc((size_t)len + 1))) {
            d->err = -ENOMEM;
        } else {
            memcpy(*ret, bytes, (size_t)len);
            *ret_len = (size_t)len;
        }
    }
    if (d->buf)
        sym_xmlBufferFree(d->buf);
    tkl_buf_free(&d->chars);
    int err = d->err;
    *d = (struct doc){0};
    return err;
}

/* Writes the characters gathered as one <w:t>, spaces kept. */
static void flush_chars(struct doc *d)
{
    if (d->chars.len == 0 || d->err)
        return;
    start(d, "w:t");
    attr(d, "xml:space", "preserve");
    if (d->err == 0)
        check(d, sym_xmlTextWriterWriteString(d->w, BAD_CAST d->chars.data));
    end(d);
    tkl_buf_reset(&d->chars);
}

static void add_chars(struct doc *d, const void *p, size_t n)
{
    if (d->err == 0 && tkl_buf_append(&d->chars, p, n) < 0)
        d->err = -ENOMEM;
}

/* Whether XML 1.0 holds character c, and Word shows it as text: not a
 * control (C0, DEL, C1), a surrogate or a noncharacter U+FFFE, U+FFFF. */
static bool shown_char(int c)
{
    return c >= 0x20 && !(c >= 0x7f && c <= 0x9f) && !(c >= 0xd800 && c <= 0xdfff) && c != 0xfffe &&
           c != 0xffff;
}

/* The UTF-8 character at p (NUL-terminated): its length, its code point in
 * *ret; 0 when p starts none (tkl_utf8_decode). */
static size_t utf8_char(const unsigned char *p, int *ret)
{
    uint32_t cp = 0;
    size_t n = tkl_utf8_decode((const char *)p, strnlen((const char *)p, 4), &cp);
    *ret = (int)cp;
    return n;
}

/* Gathers the characters of *pp up to a line break, a tab or its end into
 * d->chars, any other control as a space and a byte that starts no UTF-8
 * character as U+FFFD, and moves *pp there. */
static void gather(struct doc *d, const unsigned char **pp)
{
    const unsigned char *p = *pp;
    while (*p && *p != '\r' && *p != '\n' && *p != '\t' && d->err == 0) {
        int c = 0;
        size_t n = utf8_char(p, &c);
        if (!n) {
            add_chars(d, "\xef\xbf\xbd", 3);
            p++;
        } else {
            if (shown_char(c))
                add_chars(d, p, n);
            else
                add_chars(d, " ", 1);
            p += n;
        }
    }
    *pp = p;
}

/* The length of the line break or tab at p: CRLF is one. */
static size_t break_len(const unsigned char *p)
{
    return *p == '\r' && p[1] == '\n' ? 2 : 1;
}

/* Writes s as the text of the run open: its characters in <w:t>, a line
 * break (LF, CR or CRLF) as <w:br/>, a tab as <w:tab/>. */
static void run_text(struct doc *d, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    for (;;) {
        gather(d, &p);
        flush_chars(d);
        if (!*p || d->err)
            return;
        empty(d, *p == '\t' ? "w:tab" : "w:br");
        p += break_len(p);
    }
}

/* Writes s as the characters of the element open, its line breaks and
 * tabs as spaces. */
static void plain_text(struct doc *d, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    for (;;) {
        gather(d, &p);
        if (!*p || d->err)
            break;
        add_chars(d, " ", 1);
        p += break_len(p);
    }
    if (d->err == 0 && d->chars.len)
        check(d, sym_xmlTextWriterWriteString(d->w, BAD_CAST d->chars.data));
    tkl_buf_reset(&d->chars);
}

/* How a run looks. */
enum {
    BOLD = 1,
    ITALIC = 2,
    SMALL = 4, /* 8.5 pt */
    GREY = 8,
    WHITE = 16,
};

/* A run of text s looking as fmt says. */
static void run(struct doc *d, const char *s, unsigned fmt)
{
    start(d, "w:r");
    if (fmt) { /* in the order the schema gives */
        start(d, "w:rPr");
        if (fmt & BOLD) {
            empty(d, "w:b");
            empty(d, "w:bCs");
        }
        if (fmt & ITALIC) {
            empty(d, "w:i");
            empty(d, "w:iCs");
        }
        if (fmt & (GREY | WHITE))
            val(d, "w:color", fmt & WHITE ? "FFFFFF" : "444444");
        if (fmt & SMALL) {
            val(d, "w:sz", "17");
            val(d, "w:szCs", "17");
        }
        end(d);
    }
    run_text(d, s);
    end(d);
}

/* Opens a paragraph of style (NULL: Normal), kept with the next when
 * keep_next. */
static void para_start(struct doc *d, const char *style, bool keep_next)
{
    start(d, "w:p");
    if (style || keep_next) {
        start(d, "w:pPr");
        if (style)
            val(d, "w:pStyle", style);
        if (keep_next)
            empty(d, "w:keepNext");
        end(d);
    }
}

/* A paragraph of one run. */
static void para(struct doc *d, const char *style, const char *s, unsigned fmt)
{
    para_start(d, style, false);
    run(d, s, fmt);
    end(d);
}

/* Opens a cell width wide, spanning span columns, shaded fill (NULL:
 * none). */
static void cell_start(struct doc *d, int width, int span, const char *fill)
{
    start(d, "w:tc");
    start(d, "w:tcPr");
    start(d, "w:tcW");
    char w[16];
    snprintf(w, sizeof(w), "%d", width);
    attr(d, "w:w", w);
    attr(d, "w:type", "dxa");
    end(d);
    if (span > 1)
        val_int(d, "w:gridSpan", span);
    if (fill) {
        start(d, "w:shd");
        attr(d, "w:val", "clear");
        attr(d, "w:color", "auto");
        attr(d, "w:fill", fill);
        end(d);
    }
    end(d);
}

static void border(struct doc *d, const char *side)
{
    start(d, side);
    attr(d, "w:val", "single");
    attr(d, "w:sz", "4");
    attr(d, "w:space", "0");
    attr(d, "w:color", "777777");
    end(d);
}

static void margin(struct doc *d, const char *side, int w)
{
    start(d, side);
    char s[16];
    snprintf(s, sizeof(s), "%d", w);
    attr(d, "w:w", s);
    attr(d, "w:type", "dxa");
    end(d);
}

/* Opens a table of n columns of the widths cols, ruled, its header row of
 * heads repeated at the top of every page it runs onto. */
static void table_start(struct doc *d, const int *cols, const char *const *heads, size_t n)
{
    start(d, "w:tbl");
    start(d, "w:tblPr"); /* in the order the schema gives */
    margin(d, "w:tblW", TEXT_W);
    start(d, "w:tblBorders");
    static const char *const sides[] = {"w:top",   "w:left",    "w:bottom",
                                        "w:right", "w:insideH", "w:insideV"};
    for (size_t i = 0; i < sizeof(sides) / sizeof(sides[0]); i++)
        border(d, sides[i]);
    end(d);
    start(d, "w:tblLayout");
    attr(d, "w:type", "fixed");
    end(d);
    start(d, "w:tblCellMar");
    margin(d, "w:top", 57);
    margin(d, "w:left", 108);
    margin(d, "w:bottom", 57);
    margin(d, "w:right", 108);
    end(d);
    end(d);
    start(d, "w:tblGrid");
    for (size_t i = 0; i < n; i++) {
        start(d, "w:gridCol");
        char w[16];
        snprintf(w, sizeof(w), "%d", cols[i]);
        attr(d, "w:w", w);
        end(d);
    }
    end(d);
    start(d, "w:tr");
    start(d, "w:trPr");
    empty(d, "w:cantSplit");
    empty(d, "w:tblHeader");
    end(d);
    for (size_t i = 0; i < n; i++) {
        cell_start(d, cols[i], 1, FILL_HEAD);
        para(d, NULL, heads[i], BOLD | WHITE);
        end(d);
    }
    end(d);
}

/* ---- the document ------------------------------------------------------ */

/* The notes of action a (NULL: one the plan no longer has), each its
 * head, then its note. */
static void notes(struct doc *d, const struct tkl_update *const *v, size_t n,
                  const struct tkl_action *a, struct tkl_buf *b)
{
    for (size_t i = 0; i < n && d->err == 0; i++) {
        tkl_buf_reset(b);
        if (tkl_report_note_head(b, v[i], a) < 0) {
            d->err = -ENOMEM;
            return;
        }
        para(d, NULL, b->data, BOLD | SMALL | GREY);
        if (v[i]->note && *v[i]->note)
            para(d, NULL, v[i]->note, 0);
    }
}

/* The Progress cell of row: as the HTML's. */
static void progress(struct doc *d, const struct tkl_report_row *row, struct tkl_buf *b)
{
    const struct tkl_action *a = row->action;
    cell_start(d, COL_PROG, 1, NULL);
    notes(d, row->notes, row->n_notes, a, b);
    if (!row->n_notes || !tkl_report_notes_tell_progress(row)) {
        if (a->progress && *tkl_report_trim(a->progress)) {
            para_start(d, NULL, false);
            run(d, "From the plan: ", ITALIC | SMALL | GREY);
            run(d, tkl_report_trim(a->progress), 0);
            end(d);
        } else if (!row->n_notes) {
            para(d, NULL, "No update this period", GREY);
        }
    }
    end(d);
}

static void action_row(struct doc *d, const struct tkl_report *r, const struct tkl_report_row *row,
                       struct tkl_buf *b)
{
    const struct tkl_action *a = row->action;
    char why[TKL_REPORT_REASON_SIZE];
    start(d, "w:tr");
    start(d, "w:trPr"); /* kept on one page when it fits on one */
    empty(d, "w:cantSplit");
    end(d);
    cell_start(d, COL_ACT, 1, NULL);
    para(d, NULL, a->title, 0);
    para_start(d, NULL, false);
    run(d, "Responsibility: ", SMALL | GREY);
    run(d, *tkl_report_trim(a->owners) ? a->owners : "none given", SMALL | GREY);
    run(d, " " MID_DOT " Timeframe: ", SMALL | GREY);
    run(d, *tkl_report_trim(a->deadline_text) ? a->deadline_text : "none given", SMALL | GREY);
    end(d);
    end(d);
    progress(d, row, b);
    cell_start(d, COL_ST, 1, status_fill[row->status]);
    para(d, NULL, tkl_report_status_words(r, row->status), BOLD);
    para(d, NULL, tkl_report_reason_text(row, why, sizeof(why)), SMALL | GREY);
    end(d);
    end(d);
}

/* The title, the period and the summary, as the HTML's. */
static void head(struct doc *d, const struct tkl_report *r, const char *period, struct tkl_buf *b)
{
    char day[TKL_REPORT_AS_AT_SIZE];
    para(d, "Title", tkl_report_title(r), 0);
    para_start(d, NULL, false);
    tkl_buf_reset(b);
    if (tkl_buf_printf(b, "Progress " EN_DASH " %s", period) < 0)
        d->err = -ENOMEM;
    run(d, b->data, BOLD);
    tkl_buf_reset(b);
    if (tkl_buf_printf(b, ", %s", tkl_report_as_at(r, day, sizeof(day))) < 0)
        d->err = -ENOMEM;
    run(d, b->data, 0);
    end(d);
    tkl_buf_reset(b);
    int e = tkl_buf_printf(b, "%zu actions: ", r->n);
    for (int s = 0; e == 0 && s < TKL_REPORT_N_STATUS; s++)
        e = tkl_buf_printf(b, "%zu %s%s", r->counts[s],
                           tkl_report_status_words(r, (enum tkl_report_status)s),
                           s + 1 < TKL_REPORT_N_STATUS ? ", " : ".");
    if (e == 0 && r->n_orphans)
        e = tkl_buf_printf(b, " %zu update%s for %zu action%s no longer in the plan, at the end.",
                           r->n_orphan_notes, tkl_plural(r->n_orphan_notes), r->n_orphans,
                           tkl_plural(r->n_orphans));
    if (e < 0)
        d->err = -ENOMEM;
    para(d, NULL, b->data, 0);
    para(d, NULL,
         "Progress is what officers recorded in the period, oldest first; where they recorded "
         "none, the plan's own Progress column, marked as from the plan.",
         SMALL | GREY);
}

static void orphans(struct doc *d, const struct tkl_report *r, const char *heading,
                    struct tkl_buf *b)
{
    if (!r->n_orphans)
        return;
    para(d, "Heading1", ORPHANS_HEADING, 0);
    para(d, NULL, ORPHANS_TEXT, 0);
    static const int cols[] = {COL_REF, COL_NOTES};
    const char *const heads[] = {"Ref", heading};
    table_start(d, cols, heads, 2);
    for (size_t i = 0; i < r->n_orphans && d->err == 0; i++) {
        start(d, "w:tr");
        cell_start(d, COL_REF, 1, NULL);
        para(d, NULL, r->orphans[i].action_id, 0);
        end(d);
        cell_start(d, COL_NOTES, 1, NULL);
        notes(d, r->orphans[i].notes, r->orphans[i].n_notes, NULL, b);
        end(d);
        end(d);
    }
    end(d);
}

/* word/document.xml */
static int document(const struct tkl_report *r, const char *period, char **ret, size_t *ret_len)
{
    struct doc d;
    struct tkl_buf b = {0};
    char heading[96];
    snprintf(heading, sizeof(heading), "Progress " EN_DASH " %s", period);
    if (doc_open(&d) == 0) {
        start(&d, "w:document");
        attr(&d, "xmlns:w", W_NS);
        attr(&d, "xmlns:r", R_NS);
        start(&d, "w:body");
        head(&d, r, period, &b);
        static const int cols[] = {COL_ACT, COL_PROG, COL_ST};
        const char *const heads[] = {"Agreed Actions", heading, "Status"};
        for (size_t i = 0; i < r->n && d.err == 0; i++) {
            const struct tkl_report_row *row = &r->rows[i];
            const struct tkl_action *a = row->action;
            if (row->opens_objective) {
                if (i)
                    end(&d);
                const char *o = tkl_report_trim(a->objective);
                para(&d, "Heading1", *o ? o : "Actions without an objective", 0);
                table_start(&d, cols, heads, 3);
            }
            if (row->opens_commitment && *tkl_report_trim(a->commitment)) {
                start(&d, "w:tr");
                start(&d, "w:trPr");
                empty(&d, "w:cantSplit");
                end(&d);
                cell_start(&d, TEXT_W, 3, FILL_COMMITMENT);
                para(&d, NULL, tkl_report_trim(a->commitment), BOLD);
                end(&d);
                end(&d);
            }
            action_row(&d, r, row, &b);
        }
        if (r->n)
            end(&d);
        else
            para(&d, NULL, "The plan has no actions.", 0);
        orphans(&d, r, heading, &b);
        empty(&d, "w:p"); /* a document ends with a paragraph */
        start(&d, "w:sectPr");
        start(&d, "w:footerReference");
        attr(&d, "w:type", "default");
        attr(&d, "r:id", "rId2");
        end(&d);
        start(&d, "w:pgSz");
        attr(&d, "w:w", "11906");
        attr(&d, "w:h", "16838");
        end(&d);
        start(&d, "w:pgMar");
        static const char *const sides[] = {"w:top",    "w:right",  "w:bottom", "w:left",
                                            "w:header", "w:footer", "w:gutter"};
        static const int widths[] = {MARGIN_Y, MARGIN_X, MARGIN_Y, MARGIN_X, 397, 397, 0};
        for (size_t i = 0; i < 7; i++) {
            char w[16];
            snprintf(w, sizeof(w), "%d", widths[i]);
            attr(&d, sides[i], w);
        }
        end(&d);
    }
    tkl_buf_free(&b);
    return doc_close(&d, ret, ret_len);
}

/* word/footer1.xml: the title, the period and "page N of M". */
static int footer(const struct tkl_report *r, const char *period, char **ret, size_t *ret_len)
{
    struct doc d;
    struct tkl_buf b = {0};
    if (doc_open(&d) == 0) {
        start(&d, "w:ftr");
        attr(&d, "xmlns:w", W_NS);
        attr(&d, "xmlns:r", R_NS);
        para_start(&d, "Footer", false);
        if (tkl_buf_printf(&b, "%s " MID_DOT " Progress " EN_DASH " %s " MID_DOT " page ",
                           tkl_report_title(r), period) < 0)
            d.err = -ENOMEM;
        run(&d, b.data, 0);
        static const char *const fields[] = {" PAGE ", " NUMPAGES "};
        for (int i = 0; i < 2; i++) {
            start(&d, "w:fldSimple");
            attr(&d, "w:instr", fields[i]);
            run(&d, "1", 0);
            end(&d);
            if (i == 0)
                run(&d, " of ", 0);
        }
        end(&d);
        end(&d);
    }
    tkl_buf_free(&b);
    return doc_close(&d, ret, ret_len);
}

/* docProps/core.xml: the title, and who made it. */
static int core(const struct tkl_report *r, const char *period, char **ret, size_t *ret_len)
{
    struct doc d;
    struct tkl_buf b = {0};
    if (doc_open(&d) == 0) {
        start(&d, "cp:coreProperties");
        attr(&d, "xmlns:cp", PKG "metadata/core-properties");
        attr(&d, "xmlns:dc", "http://purl.org/dc/elements/1.1/");
        start(&d, "dc:title");
        if (tkl_buf_printf(&b, "%s: progress " EN_DASH " %s", tkl_report_title(r), period) < 0)
            d.err = -ENOMEM;
        plain_text(&d, b.data);
        end(&d);
        start(&d, "dc:creator");
        plain_text(&d, "tickler");
        end(&d);
        end(&d);
    }
    tkl_buf_free(&b);
    return doc_close(&d, ret, ret_len);
}

/* ---- the package ------------------------------------------------------- */

struct part {
    const char *name;
    const char *data;
    size_t len;
};

/* libzip's error e as a negative errno. */
static int zip_errno(zip_error_t *e)
{
    return sym_zip_error_code_zip(e) == ZIP_ER_MEMORY ? -ENOMEM : -EIO;
}

/* Packs the n parts into a ZIP archive in memory, each dated mtime:
 * *ret (malloc'd) and *ret_len. Returns 0, -ENOMEM or -EIO. */
static int pack(const struct part *parts, size_t n, time_t mtime, char **ret, size_t *ret_len)
{
    zip_error_t ze;
    sym_zip_error_init(&ze);
    int err = 0;
    zip_t *za = NULL;
    char *bytes = NULL;
    zip_source_t *src = sym_zip_source_buffer_create(NULL, 0, 0, &ze);
    if (!src) {
        err = zip_errno(&ze);
        goto out;
    }
    if (!(za = sym_zip_open_from_source(src, ZIP_TRUNCATE, &ze))) {
        err = zip_errno(&ze);
        goto out;
    }
    sym_zip_source_keep(src); /* read after the archive is closed */
    for (size_t i = 0; i < n; i++) {
        zip_source_t *s = sym_zip_source_buffer(za, parts[i].data, parts[i].len, 0);
        zip_int64_t k = s ? sym_zip_file_add(za, parts[i].name, s, ZIP_FL_ENC_UTF_8) : -1;
        if (k < 0 && s)
            sym_zip_source_free(s);
        if (k < 0 || sym_zip_file_set_mtime(za, (zip_uint64_t)k, mtime, 0) < 0) {
            err = zip_errno(sym_zip_get_error(za));
            goto out;
        }
    }
    if (sym_zip_close(za) < 0) {
        err = zip_errno(sym_zip_get_error(za));
        goto out;
    }
    za = NULL;
    zip_stat_t st;
    sym_zip_stat_init(&st);
    if (sym_zip_source_stat(src, &st) < 0 || !(st.valid & ZIP_STAT_SIZE) ||
        sym_zip_source_open(src) < 0) {
        err = -EIO;
        goto out;
    }
    if (!(bytes = malloc(st.size ? st.size : 1)))
        err = -ENOMEM;
    else if (sym_zip_source_read(src, bytes, st.size) != (zip_int64_t)st.size)
        err = -EIO;
    (void)sym_zip_source_close(src);
    if (err == 0) {
        *ret = bytes;
        *ret_len = st.size;
        bytes = NULL;
    }
out:
    free(bytes);
    if (za)
        sym_zip_discard(za);
    if (src)
        sym_zip_source_free(src);
    sym_zip_error_fini(&ze);
    return err;
}

int tkl_report_word_write(FILE *out, const struct tkl_report *r)
{
    char why[512];
    int err = tkl_report_word_load(why, sizeof(why));
    if (err < 0)
        return err;
    char period[64];
    tkl_report_period_text(r->from, r->to, period, sizeof(period));
    char *core_xml = NULL, *footer_xml = NULL, *document_xml = NULL, *zip = NULL;
    size_t core_len = 0, footer_len = 0, document_len = 0, zip_len = 0;
    if ((err = core(r, period, &core_xml, &core_len)) < 0 ||
        (err = footer(r, period, &footer_xml, &footer_len)) < 0 ||
        (err = document(r, period, &document_xml, &document_len)) < 0)
        goto out;
    const struct part parts[] = {
        {"[Content_Types].xml", content_types, sizeof(content_types) - 1},
        {"_rels/.rels", package_rels, sizeof(package_rels) - 1},
        {"docProps/core.xml", core_xml, core_len},
        {"word/_rels/document.xml.rels", document_rels, sizeof(document_rels) - 1},
        {"word/styles.xml", styles, sizeof(styles) - 1},
        {"word/footer1.xml", footer_xml, footer_len},
        {"word/document.xml", document_xml, document_len},
    };
    /* noon of the as-at day, where ZIP's dates can hold it */
    int32_t day =
        r->as_at < tkl_day_from_civil(1980, 1, 2) ? tkl_day_from_civil(1980, 1, 2) : r->as_at;
    if ((err = pack(parts, sizeof(parts) / sizeof(parts[0]), (time_t)tkl_local_instant(day, 720),
                    &zip, &zip_len)) < 0)
        goto out;
    if (fwrite(zip, 1, zip_len, out) != zip_len)
        err = -EIO;
out:
    free(core_xml);
    free(footer_xml);
    free(document_xml);
    free(zip);
    return err;
}

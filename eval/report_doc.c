/* `avmask report`: Markdown and HTML written side by side (report_doc.h). */
#include "eval/report_doc.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

void doc_html_esc(avm_strbuf *b, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '<': sb_add(b, "&lt;"); break;
        case '>': sb_add(b, "&gt;"); break;
        case '&': sb_add(b, "&amp;"); break;
        case '"': sb_add(b, "&quot;"); break;
        default: sb_addn(b, s, 1);
        }
    }
}

void doc_md_esc(avm_strbuf *b, const char *s) {
    for (; *s; s++) {
        if (*s == '|' || *s == '<' || *s == '>' || *s == '*' || *s == '_') sb_add(b, "\\");
        sb_addn(b, s, 1);
    }
}

void doc_row_begin(doc *d) { sb_add(&d->md, "|"); sb_add(&d->html, "<tr>"); }
void doc_row_end(doc *d) { sb_add(&d->md, "\n"); sb_add(&d->html, "</tr>\n"); }

void doc_cell(doc *d, int header, const char *s) {
    sb_add(&d->md, " "); doc_md_esc(&d->md, s); sb_add(&d->md, " |");
    sb_add(&d->html, header ? "<th>" : "<td>");
    doc_html_esc(&d->html, s);
    sb_add(&d->html, header ? "</th>" : "</td>");
}

void doc_cellf(doc *d, const char *fmt, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    doc_cell(d, 0, buf);
}

void doc_md_rule(doc *d, int ncol) {
    sb_add(&d->md, "|");
    for (int i = 0; i < ncol; i++) sb_add(&d->md, "---|");
    sb_add(&d->md, "\n");
}

void doc_heading(doc *d, const char *text) {
    sb_printf(&d->md, "\n## %s\n\n", text);
    sb_add(&d->html, "<h2>");
    doc_html_esc(&d->html, text);
    sb_add(&d->html, "</h2>\n");
}

void doc_num_cell(doc *d, const char *fmt, double v) {
    if (isfinite(v)) doc_cellf(d, fmt, v); else doc_cell(d, 0, "-");
}

void doc_para(doc *d, const char *text) {
    sb_printf(&d->md, "%s\n\n", text);
    sb_add(&d->html, "<p>");
    doc_html_esc(&d->html, text);
    sb_add(&d->html, "</p>\n");
}

/* `avmask report`: the same tables and text written to Markdown and HTML at once. */
#ifndef AVMASK_REPORT_DOC_H
#define AVMASK_REPORT_DOC_H
#include "common/log.h"
#include "common/strbuf.h"
#include "eval/report.h"
#include <stdint.h>

typedef struct { avm_strbuf md, html; } doc;

void doc_html_esc(avm_strbuf *b, const char *s);
void doc_md_esc(avm_strbuf *b, const char *s);
void doc_row_begin(doc *d);
void doc_row_end(doc *d);
void doc_cell(doc *d, int header, const char *s);       /* escaped for both */
void doc_cellf(doc *d, const char *fmt, ...) AVM_PRINTF(2, 3);
void doc_num_cell(doc *d, const char *fmt, double v);   /* "-" when v is not finite */
void doc_md_rule(doc *d, int ncol);                     /* the Markdown header rule */
void doc_heading(doc *d, const char *text);             /* a level-2 heading */
void doc_para(doc *d, const char *text);                /* a paragraph of plain text */

/* Sections written by the seed code: the table of groups with >= 2 seeds (report_seeds.c)
 * and the paired comparisons (report_compare.c; spec as --compare, NULL: the default
 * pairs, "none": no comparison; their rows also to tsv). -1 + avm_fail on a bad spec.
 * acc: intent results, shown as accuracy, 100 - %ERR (differences and intervals mirrored). */
void report_seeds_table(doc *d, const rep_scan *s, const rep_seeds *z, int acc);
/* The result tables (report_tables.c): the headline, one row per model and one column per
 * test set, the best of each column in bold; every result with its counts and its rate per
 * condition value. acc: intent accuracy (100 - %ERR) instead of %ERR. */
void report_summary_table(doc *d, const rep_scan *s, int acc);
/* The section of intent results (report_intent.c; s and z their view and groups, spec as
 * --compare-intent, rows to tsv); nothing without intent results. -1 + avm_fail. */
int  report_intent(doc *d, const rep_scan *s, const rep_seeds *z, const char *spec, int reps, uint64_t seed,
                   avm_strbuf *tsv);
void report_experiment_table(doc *d, const rep_scan *s, int acc);
/* The TinyS2I results of the scan (report_tinys2i.c): one row each (decisions, commands,
 * deferral, titles by menu, size, latency); nothing without any. */
void report_tinys2i(doc *d, const rep_scan *all);
/* The video-gain figures of pretraining runs with >= 2 training seeds (report_gain.c),
 * mean ± sd per group; returns the number of groups shown. */
int  report_gain_seeds(doc *d, const rep_scan *s);
int  report_compare_check(const rep_scan *s, const rep_seeds *z, const char *spec);   /* before any work */
int  report_compare(doc *d, const rep_scan *s, const rep_seeds *z, const char *spec, int reps, uint64_t seed,
                    avm_strbuf *tsv, int acc);
#endif

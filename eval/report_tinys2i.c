/* `avmask report`: the section of TinyS2I results (eval.json "task": "tinys2i", written by
 * avmask eval --unit=tinys2i): one row per result with its menu, decisions, commands,
 * deferral, titles, the model's size and the latency decode measured. */
#include "eval/report_doc.h"
#include "common/util.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

void report_tinys2i(doc *d, const rep_scan *all) {
    int n = 0;
    for (int i = 0; i < all->nres; i++) n += all->res[i].intent == 2;
    if (!n) return;
    doc_heading(d, "TinyS2I: decisions, commands and titles of unseen menus");
    doc_para(d, "avmask tinys2i models decoded with avmask decode --menu and scored with avmask eval --unit=tinys2i "
                "(%): decisions right (command, play, defer); commands right; deferral precision and recall; titles "
                "right (decision play and the right menu title); title match (the menu's top-1 title whatever the "
                "decision, chance 100 / menu size). Size: parameters and their float32 bytes; latency: milliseconds "
                "per utterance at decode (features in memory to decision, one utterance at a time), on the CPU "
                "named below the table.");
    static const char *head[] = {"model", "set", "menu", "decisions", "commands", "defer P", "defer R", "titles",
                                 "title match", "parameters", "bytes", "ms / utt"};
    const int nh = (int)(sizeof head / sizeof *head);
    sb_add(&d->html, "<table>\n");
    doc_row_begin(d);
    for (int k = 0; k < nh; k++) doc_cell(d, 1, head[k]);
    doc_row_end(d);
    doc_md_rule(d, nh);
    const char *sys = NULL;
    for (int i = 0; i < all->nres; i++) {
        const rep_result *r = &all->res[i];
        if (r->intent != 2) continue;
        const json_value *j = r->j;
        const char *menu = json_str_or(j, "decode.menu", "-"), *base = strrchr(menu, '/');
        doc_row_begin(d);
        doc_cellf(d, "%s%s%s", r->exp, *r->sub ? "/" : "", r->sub);
        doc_cell(d, 0, r->set);
        doc_cell(d, 0, base ? base + 1 : menu);
        doc_num_cell(d, "%.1f", json_num_or(j, "decision.acc", NAN));
        doc_num_cell(d, "%.1f", json_num_or(j, "command.acc", NAN));
        doc_num_cell(d, "%.1f", json_num_or(j, "defer.precision", NAN));
        doc_num_cell(d, "%.1f", json_num_or(j, "defer.recall", NAN));
        doc_num_cell(d, "%.1f", json_num_or(j, "title.acc", NAN));
        doc_num_cell(d, "%.1f", json_num_or(j, "title_match.acc", NAN));
        doc_num_cell(d, "%.0f", json_num_or(j, "decode.parameters", NAN));
        doc_num_cell(d, "%.0f", json_num_or(j, "decode.parameter_bytes", NAN));
        doc_num_cell(d, "%.2f", json_num_or(j, "decode.ms_per_utterance", NAN));
        doc_row_end(d);
        if (!sys) sys = json_str_or(j, "decode.system", NULL);
    }
    sb_add(&d->html, "</table>\n");
    sb_add(&d->md, "\n");
    if (sys) {
        char *line = xasprintf("Latency measured on: %s.", sys);
        doc_para(d, line);
        free(line);
    }
}

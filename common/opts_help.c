/* --help of a command and the listing of AVMASK_OPTS_CHECK, both read off the table the
 * parser uses (opts.h). */
#include "common/opts.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

#define COL 28     /* column of an option's help text */
#define WIDTH 100  /* lines end before it */

static const char *type_name(avm_opt_type t) {
    switch (t) {
    case OPT_STR: return "str";
    case OPT_INT: return "int";
    case OPT_NUM: return "num";
    case OPT_FLAG: return "flag";
    case OPT_ENUM: return "enum";
    case OPT_LIST: return "list";
    default: return "?";
    }
}

static const char *type_meta(avm_opt_type t) {
    return t == OPT_INT ? "N" : t == OPT_NUM ? "X" : t == OPT_LIST ? "LIST" : "STR";
}

/* A default short enough to stand in the option column as --name=DEFAULT. */
static int def_fits(const char *def) { return !strchr(def, ' ') && strlen(def) <= 20; }

/* The help text of an option row as printed: what the table says beyond the row's text
 * (required, the values, the alias, the modes) around it. */
static void row_text(char *buf, size_t cap, const avm_optspec *s, const avm_optdef *r) {
    size_t k = 0;
#define ADD(...) (k += (size_t)snprintf(buf + k, k < cap ? cap - k : 0, __VA_ARGS__))
    if (r->flags & OPT_REQ) ADD("(required) ");
    if (r->type == OPT_ENUM && r->def) ADD("%s: ", r->values);
    if (r->type == OPT_LIST && r->values) ADD("list of %s: ", r->values);
    if (r->type == OPT_INT && r->values) ADD("N or %s: ", r->values);
    ADD("%s", r->help ? r->help : "");
    if (r->alias) ADD(" (also --%s)", r->alias);
    if (r->type == OPT_FLAG && r->def && strcmp(r->def, "0")) ADD(" (on unless --%s=0)", r->name);
    if (r->type != OPT_FLAG && r->def && !def_fits(r->def)) ADD(" (default: %s)", r->def);
    if (s->modes && r->modes) {
        ADD(" [");
        int first = 1;
        const char *p = s->modes;
        for (int i = 0; p; i++) {
            size_t n = strcspn(p, "|");
            if (r->modes & (1u << i)) { ADD("%s%s%.*s", first ? "" : ", ", i ? "--" : "", (int)n, p); first = 0; }
            p = p[n] ? p + n + 1 : NULL;
        }
        ADD("]");
    }
#undef ADD
}

/* text from column COL, words wrapped before column WIDTH (a '\n' in it is a space) */
static void print_at_col(FILE *f, int used, const char *text) {
    if (used > COL - 2) { fputc('\n', f); used = 0; }
    fprintf(f, "%*s", COL - used, "");
    int col = COL;
    for (const char *p = text; *p;) {
        if (*p == ' ' || *p == '\n') { p++; continue; }
        int n = (int)strcspn(p, " \n");
        if (col > COL && col + 1 + n > WIDTH) {
            fprintf(f, "\n%*s", COL, "");
            col = COL;
        } else if (col > COL) {
            col += fprintf(f, " ");
        }
        col += fprintf(f, "%.*s", n, p);
        p += n;
    }
    fputc('\n', f);
}

void opts_help(FILE *f, const avm_optspec *s) {
    char text[4096];
    fputs(s->usage, f);
    if (s->opt->type != OPT_TEXT) fprintf(f, "\noptions:\n");
    for (const avm_optdef *r = s->opt; r->type != OPT_END; r++) {
        if (r->type == OPT_TEXT) { fprintf(f, "\n%s\n", r->help); continue; }
        const char *v = r->def && def_fits(r->def) ? r->def : r->meta ? r->meta
                      : r->type == OPT_ENUM ? r->values : type_meta(r->type);
        int used = r->type == OPT_FLAG ? fprintf(f, "  --%s", r->name) : fprintf(f, "  --%s=%s", r->name, v);
        row_text(text, sizeof text, s, r);
        print_at_col(f, used, text);
    }
    fprintf(f, "\nevery command:\n");
    print_at_col(f, fprintf(f, "  --config=FILE"),
                 "options from FILE, one key=value per line (# comments), read where\n"
                 "--config stands: later options win");
    print_at_col(f, fprintf(f, "  --help"), "this help");
}

/* A value the row accepts, for tests: its default, else the lowest of its range, else any. */
static void sample(char *buf, size_t cap, const avm_optdef *r) {
    if (r->type == OPT_ENUM || (r->type == OPT_LIST && r->values)) snprintf(buf, cap, "%s", r->values);
    else if (r->def) snprintf(buf, cap, "%s", r->def);
    else if (r->type == OPT_INT) snprintf(buf, cap, "%ld", r->lo || r->hi ? r->lo : 1);
    else if (r->type == OPT_NUM && (r->min || r->max)) {
        double v = r->min;
        if (r->flags & OPT_MIN_OPEN) v = !isfinite(r->max) ? r->min + 1 : r->flags & OPT_MAX_OPEN ? (r->min + r->max) / 2 : r->max;
        snprintf(buf, cap, "%.17g", v);
    }
    else if (r->type == OPT_NUM || r->type == OPT_FLAG) snprintf(buf, cap, "1");
    else snprintf(buf, cap, r->type == OPT_LIST ? "a,b" : "x");
}

void opts_list(FILE *f, const avm_optspec *s) {
    char v[1024];
    fprintf(f, "options of avmask %s\n", s->cmd);
    for (const avm_optdef *r = s->opt; r->type != OPT_END; r++) {
        if (r->type == OPT_TEXT) continue;
        sample(v, sizeof v, r);
        fprintf(f, "--%s %s %s\n", r->name, type_name(r->type), v);
        if (r->alias) fprintf(f, "--%s %s %s\n", r->alias, type_name(r->type), v);
    }
}

/* `avmask report`: the plots, drawn by gnuplot from data files written beside them
 * (OUT/plots/NAME.dat, plots.gp, gnuplot.log), so that a figure can be re-made by hand. */
#include "eval/report.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/util.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs argv with stdout and stderr to log (NULL: /dev/null); the exit status, or -1. */
static int run_cmd(char *const argv[], const char *log) {
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int fd = open(log ? log : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) { dup2(fd, 1); dup2(fd, 2); close(fd); }
        execvp(argv[0], argv);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

const char *report_terminal(void) {
    static const char *found;
    if (found) return found;
    const char *cand[] = {"pngcairo", "png"};
    for (int i = 0; i < 2 && !found; i++) {
        char *cmd = xasprintf("set terminal %s", cand[i]);
        char *argv[] = {"gnuplot", "-e", cmd, NULL};
        if (run_cmd(argv, NULL) == 0) found = cand[i];
        free(cmd);
    }
    return found ? found : (found = "svg");
}

/* Text safe inside a gnuplot double-quoted string. */
static char *gp_str(const char *s) {
    char *t = xstrdup(s);
    for (char *p = t; *p; p++) if (*p == '"' || *p == '\\' || *p == '\n') *p = '_';
    return t;
}

/* Name safe in a file name. */
static char *file_part(const char *s) {
    char *t = xstrdup(s);
    for (char *p = t; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-'))
            *p = '_';
    return t;
}

static int write_series(const char *path, const rep_series *s) {
    avm_strbuf b = {0};
    sb_add(&b, "# step loss\n");
    for (int i = 0; i < s->n; i++) sb_printf(&b, "%.10g %.10g\n", s->x[i], s->y[i]);
    int rc = write_file_atomic(path, b.s, b.len);
    sb_free(&b);
    return rc;
}

static char *run_label(const rep_run *r) {
    return *r->sub ? xasprintf("%s/%s", r->exp, r->sub) : xstrdup(r->exp);
}

static char *res_label(const rep_result *r) {
    return *r->sub ? xasprintf("%s/%s", r->exp, r->sub) : xstrdup(r->exp);
}

typedef struct {
    const char *dir, *ext;       /* plots dir, image extension */
    avm_strbuf gp;               /* the script */
    rep_plot *plots;
    int n;
} plotter;

static void begin_plot(plotter *p, const char *name, const char *caption, const char *title,
                       const char *xlabel, const char *ylabel) {
    char *t = gp_str(title);
    sb_printf(&p->gp, "\nset output \"%s/%s.%s\"\nset title \"%s\"\nset xlabel \"%s\"\nset ylabel \"%s\"\n",
              p->dir, name, p->ext, t, xlabel, ylabel);
    free(t);
    p->plots = xrealloc(p->plots, (p->n + 1) * sizeof *p->plots);
    p->plots[p->n].file = xasprintf("plots/%s.%s", name, p->ext);
    p->plots[p->n].caption = xstrdup(caption);
    p->n++;
}

/* Loss curves of the runs with (finetune ? a sub path : no sub path). */
static int loss_plot(plotter *p, const rep_scan *s, int finetune) {
    avm_strbuf cmd = {0};
    int color = 0, rc = 0;
    for (int i = 0; i < s->nruns && !rc; i++) {
        const rep_run *r = &s->runs[i];
        if ((*r->sub != 0) != finetune || (!r->train.n && !r->valid.n)) continue;
        char *label = run_label(r), *l = gp_str(label);
        color++;
        const rep_series *ser[2] = {&r->train, &r->valid};
        for (int v = 0; v < 2 && !rc; v++) {
            if (!ser[v]->n) continue;
            char *dat = xasprintf("%s/run%d_%s.dat", p->dir, i, v ? "valid" : "train");
            rc = write_series(dat, ser[v]);
            sb_printf(&cmd, "%s\"%s\" using 1:2 with %s lc %d title \"%s %s\"", cmd.len ? ", " : "plot ",
                      dat, v ? "linespoints dt 2 pt 7 ps 0.8 lw 2" : "lines lw 2", color, l, v ? "valid" : "train");
            free(dat);
        }
        free(label); free(l);
    }
    if (!rc && cmd.len) {
        const char *what = finetune ? "Fine-tuning" : "Pretraining";
        char *cap = xasprintf("%s loss (train: solid, valid: dashed)", what);
        begin_plot(p, finetune ? "finetune_loss" : "pretrain_loss", cap, cap, "step", "loss");
        sb_printf(&p->gp, "set xtics auto\nset yrange [*:*]\n%s\n", cmd.s);
        free(cap);
    }
    sb_free(&cmd);
    return rc;
}

/* Validation error rate during fine-tuning, one line per run that logged it. */
static int verr_plot(plotter *p, const rep_scan *s) {
    avm_strbuf cmd = {0};
    int rc = 0;
    for (int i = 0; i < s->nruns && !rc; i++) {
        const rep_run *r = &s->runs[i];
        if (!r->verr.n || !*r->sub) continue;   /* fine-tuning runs only */
        char *dat = xasprintf("%s/run%d_verr.dat", p->dir, i), *label = run_label(r), *l = gp_str(label);
        rc = write_series(dat, &r->verr);
        sb_printf(&cmd, "%s\"%s\" using 1:2 with linespoints lw 2 pt 7 title \"%s\"", cmd.len ? ", " : "plot ", dat, l);
        free(dat); free(label); free(l);
    }
    if (!rc && cmd.len) {
        begin_plot(p, "finetune_valid_err", "Fine-tuning: validation %ERR (greedy decoding)",
                   "Fine-tuning validation %ERR", "step", "%ERR");
        sb_printf(&p->gp, "set yrange [0:*]\n%s\n", cmd.s);
    }
    sb_free(&cmd);
    return rc;
}

/* Overall error rate of every result, one bar each. */
static int overall_plot(plotter *p, const rep_scan *s) {
    avm_strbuf d = {0}, tics = {0};
    int n = 0;
    for (int i = 0; i < s->nres; i++) {
        const json_value *e = json_path(s->res[i].j, "overall.err");
        char *label = res_label(&s->res[i]), *l = gp_str(label);
        sb_printf(&tics, "%s\"%s\" %d", tics.len ? ", " : "", l, i);
        if (e && e->type == JSON_NUM) {
            sb_printf(&d, "%d %.10g\n", i, e->num);
            n++;
        }
        free(label); free(l);
    }
    int rc = 0;
    if (n) {
        char *dat = xasprintf("%s/overall.dat", p->dir);
        rc = write_file_atomic(dat, d.s, d.len);
        begin_plot(p, "err_overall", "Overall error rate of each result", "Overall %ERR", "", "%ERR");
        sb_printf(&p->gp, "set xtics (%s) rotate by -30\nset xrange [-0.6:%d.6]\nset yrange [0:*]\n"
                  "set boxwidth 0.6\nplot \"%s\" using 1:2 with boxes fs solid 0.6 lc 1 notitle\nset xrange [*:*]\nset xtics auto norotate\n",
                  tics.s, s->nres - 1, dat);
        free(dat);
    }
    sb_free(&d); sb_free(&tics);
    return rc;
}

/* %ERR of one model at one condition value, pooled over all its results that have it
 * (e.g. noise=babble over the 10, 5 and 0 dB test sets): 100 (S + D + I) / N. */
static double pooled_err(const rep_scan *s, char **model, int m, const char *key, const char *value) {
    double e = 0, n = 0;
    for (int i = 0; i < s->nres; i++) {
        const json_value *c = strcmp(model[i], model[m]) ? NULL : report_cond(&s->res[i], key, value);
        if (!c) continue;
        e += json_num_or(c, "S", 0) + json_num_or(c, "D", 0) + json_num_or(c, "I", 0);
        n += json_num_or(c, "N", 0);
    }
    return n > 0 ? 100 * e / n : -1;
}

/* Error rate against the values of one condition key, one line per model. */
static int cond_plot(plotter *p, const rep_scan *s, const char *key, int ki) {
    const char **vals;
    int nv = report_cond_values(s, key, &vals), rc = 0;
    avm_strbuf tics = {0}, cmd = {0};
    for (int v = 0; v < nv; v++) {
        char *l = gp_str(vals[v]);
        sb_printf(&tics, "%s\"%s\" %d", v ? ", " : "", l, v);
        free(l);
    }
    char **model = xmalloc((s->nres + 1) * sizeof *model);
    for (int i = 0; i < s->nres; i++) model[i] = report_model_name(s, &s->res[i]);
    for (int m = 0; m < s->nres && !rc; m++) {
        int first = 1;
        for (int j = 0; j < m; j++) first &= strcmp(model[j], model[m]) != 0;
        if (!first) continue;
        avm_strbuf d = {0};
        for (int v = 0; v < nv; v++) {
            double e = pooled_err(s, model, m, key, vals[v]);
            if (e >= 0) sb_printf(&d, "%d %.10g\n", v, e);
        }
        if (d.len) {
            char *dat = xasprintf("%s/model%d_cond%d.dat", p->dir, m, ki), *l = gp_str(model[m]);
            rc = write_file_atomic(dat, d.s, d.len);
            sb_printf(&cmd, "%s\"%s\" using 1:2 with linespoints lw 2 pt 7 title \"%s\"", cmd.len ? ", " : "plot ", dat, l);
            free(dat); free(l);
        }
        sb_free(&d);
    }
    if (!rc && cmd.len) {
        char *fk = file_part(key), *name = xasprintf("err_%d_%s", ki, fk);
        char *cap = xasprintf("Error rate by %s (each model pooled over its test sets)", key), *xl = gp_str(key);
        begin_plot(p, name, cap, cap, xl, "%ERR");
        sb_printf(&p->gp, "set key outside right top\nset xtics (%s)\nset xrange [-0.3:%d.3]\nset yrange [0:*]\n%s\nset xrange [*:*]\nset xtics auto\nset key top right\n",
                  tics.s, nv - 1, cmd.s);
        free(fk); free(name); free(cap); free(xl);
    }
    for (int i = 0; i < s->nres; i++) free(model[i]);
    free(model);
    free(vals);
    sb_free(&tics); sb_free(&cmd);
    return rc;
}

/* Training seeds: %ERR mean ± sd (error bars) of every group with >= 2 seeds against the
 * columns of one condition key (key NULL: the test sets), the groups shifted apart a little
 * so that their bars do not hide each other. */
static int seeds_plot(plotter *p, const rep_seeds *z, const char *key, int ki) {
    int ng = 0, rc = 0, nx = 0;
    for (int g = 0; g < z->ng; g++) ng += z->g[g].nseeds > 1;
    avm_strbuf tics = {0}, cmd = {0};
    for (int c = 0; c < z->ncols; c++) {
        if (key ? !z->ckey[c] || strcmp(z->ckey[c], key) : z->ckey[c] != NULL) continue;
        char *l = gp_str(z->cval[c]);
        sb_printf(&tics, "%s\"%s\" %d", nx ? ", " : "", l, nx);
        nx++;
        free(l);
    }
    for (int g = 0, gi = 0; g < z->ng && !rc; g++) {
        const rep_group *G = &z->g[g];
        if (G->nseeds < 2) continue;
        double off = (gi++ - (ng - 1) / 2.0) * 0.06;
        avm_strbuf d = {0};
        sb_add(&d, "# x mean sd n\n");
        for (int c = 0, x = 0; c < z->ncols; c++) {
            if (key ? !z->ckey[c] || strcmp(z->ckey[c], key) : z->ckey[c] != NULL) continue;
            const rep_stat *t = &G->stat[c];
            if (t->n) sb_printf(&d, "%.4f %.10g %.10g %d\n", x + off, t->mean, t->n > 1 ? t->sd : 0.0, t->n);
            x++;
        }
        char *dat = xasprintf("%s/seeds%d_group%d.dat", p->dir, ki, g), *l = gp_str(G->name);
        rc = write_file_atomic(dat, d.s, d.len);
        sb_printf(&cmd, "%s\"%s\" using 1:2:3 with yerrorlines lw 2 pt 7 title \"%s\"", cmd.len ? ", " : "plot ", dat, l);
        free(dat); free(l);
        sb_free(&d);
    }
    if (!rc && cmd.len && nx) {
        char *fk = file_part(key ? key : "sets"), *name = xasprintf("seeds_%d_%s", ki, fk);
        char *cap = key ? xasprintf("Error rate by %s: mean and standard deviation over training seeds "
                                    "(each model pooled over its test sets)", key)
                        : xstrdup("Error rate by test set: mean and standard deviation over training seeds");
        char *xl = gp_str(key ? key : "test set"), *title = xasprintf("%%ERR by %s, mean +- sd over training seeds", xl);
        begin_plot(p, name, cap, title, xl, "%ERR");
        free(title);
        sb_printf(&p->gp, "set key outside right top\nset xtics (%s)\nset xrange [-0.4:%d.4]\nset yrange [0:*]\n%s\n"
                  "set xrange [*:*]\nset xtics auto\nset key top right\n", tics.s, nx - 1, cmd.s);
        free(fk); free(name); free(cap); free(xl);
    }
    sb_free(&tics); sb_free(&cmd);
    return rc;
}

int report_plots(const rep_scan *s, const rep_seeds *z, const char *out_dir, rep_plot **plots, int *nplots) {
    char *dir = path_join(out_dir, "plots");
    if (mkdir_p(dir)) { free(dir); return -1; }
    const char *term = report_terminal();
    plotter p = {dir, strcmp(term, "svg") ? "png" : "svg", {0}, NULL, 0};
    sb_printf(&p.gp, "set terminal %s size 900,540 noenhanced\nset grid\nset key top right\n", term);
    int rc = loss_plot(&p, s, 0);
    if (!rc) rc = loss_plot(&p, s, 1);
    if (!rc) rc = verr_plot(&p, s);
    if (!rc && s->nres) rc = overall_plot(&p, s);
    const char **keys;
    int nk = report_cond_keys(s, &keys);
    for (int k = 0; k < nk && !rc; k++) rc = cond_plot(&p, s, keys[k], k);
    int seeded = 0;
    for (int g = 0; z && g < z->ng; g++) seeded |= z->g[g].nseeds > 1;
    for (int k = 0; seeded && k < nk && !rc; k++) rc = seeds_plot(&p, z, keys[k], k);
    if (seeded && !nk && !rc) rc = seeds_plot(&p, z, NULL, 0);
    free(keys);
    char *gp = path_join(dir, "plots.gp"), *log = path_join(dir, "gnuplot.log");
    if (!rc && p.n) {
        sb_add(&p.gp, "set output\n");
        rc = write_file_atomic(gp, p.gp.s, p.gp.len);
        char *argv[] = {"gnuplot", gp, NULL};
        int st = rc ? 0 : run_cmd(argv, log);
        if (st) rc = avm_fail("gnuplot %s failed (exit %d), see %s", gp, st, log);
    }
    free(gp); free(log); free(dir);
    sb_free(&p.gp);
    *plots = p.plots;
    *nplots = p.n;
    return rc;
}

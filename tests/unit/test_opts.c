/* common/opts: a table drives parsing (defaults, types, ranges, lists, aliases, modes,
 * --config, later options win) and --help; every refusal is one line naming the command
 * and the option. The enum rows whose values a module maps (schedule, unit, source, the
 * model keys) list only values that module accepts. */
#include "check.h"
#include "cluster/kmeans_cmd.h"
#include "common/opts.h"
#include "common/util.h"
#include "train/units.h"
#include "models/avmodel.h"
#include "train/pretrain.h"
#include "train/sched.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern const avm_optspec finetune_optspec;   /* the finetune command's table */

typedef struct {
    const char *name, *list, *kind_s, *path;
    int n, flag, kind;
    long big;
    double x;
    float f;
    long lim;
} t_opts;

#define F(f) OPT_FIELD(t_opts, f)
static const avm_optdef table[] = {
    {OPT_TEXT, .help = "group:"},
    {OPT_STR, "name", "the_name", F(name), .def = "none", .help = "a name"},
    {OPT_INT, "n", F(n), .def = "3", .lo = 1, .hi = 10, .help = "a count"},
    {OPT_INT, "big", F(big), .help = "any integer (default: 0)"},
    {OPT_NUM, "x", F(x), .def = "0.5", .min = 0, .max = 1, .flags = OPT_MIN_OPEN, .help = "a fraction"},
    {OPT_NUM, "f", F(f), .def = "2.5", .help = "a float"},
    {OPT_FLAG, "flag", F(flag), .help = "a flag"},
    {OPT_ENUM, "kind", F(kind), .def = "b", .values = "a|b|c", .help = "index"},
    {OPT_ENUM, "kind-s", F(kind_s), .values = "a|b|c", .help = "text"},
    {OPT_LIST, "list", F(list), .def = "p,q", .values = "p|q|r", .help = "items"},
    {OPT_INT, "lim", F(lim), .def = "5", .lo = 0, .hi = 100, .values = "all", .help = "or all"},
    {OPT_STR, "path", F(path), .meta = "FILE", .flags = OPT_REQ, .modes = 1, .help = "required in mode 0"},
    {OPT_FLAG, "other", .help = "mode 1"},
    {OPT_FLAG, "third", .help = "mode 2"},
    {OPT_INT, "only3", .modes = 4, .help = "mode 2 only"},
    OPT_THREADS("threads"),
    {.type = OPT_END},
};
static const avm_optspec spec = {"tcmd", "usage: tcmd [options]\n", table, NULL, "main|other|third"};
static const avm_optspec spec_args = {"targs", "usage: targs X\n", table, "X", "main|other|third"};

static void parse(avm_opts *o, t_opts *t, const avm_optspec *s, char **argv) {
    int argc = 0;
    while (argv[argc]) argc++;
    opts_parse(o, s, t, argc, argv);
}

/* Runs a parse in a child; its exit status and the first line of its stderr. */
static int child(const avm_optspec *s, char **argv, char *err, size_t cap) {
    char path[] = "avmask-test-opts-err.XXXXXX";
    int fd = mkstemp(path);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd, 2);
        avm_opts o;
        t_opts t;
        parse(&o, &t, s, argv);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    char *text = read_file(path, NULL);
    snprintf(err, cap, "%s", text ? text : "");
    free(text);
    close(fd);
    unlink(path);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int lines(const char *s) {
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

/* One line, exit 1, containing want. */
#define REFUSED(want, ...) do { char *av_[] = {"tcmd", __VA_ARGS__, NULL}; char e_[1024]; \
    int rc_ = child(&spec, av_, e_, sizeof e_); \
    CHECK_MSG(rc_ == 1 && lines(e_) == 1 && strstr(e_, want) && strstr(e_, "tcmd: "), "rc %d: %s", rc_, e_); } while (0)

static void test_parse(void) {
    FILE *f = fopen("avmask-test-opts.conf", "w");
    fprintf(f, "# a comment\n--n=4   # trailing comment\nbig=10\n\nflag\nthe_name=fromconf\n");
    fclose(f);
    char *argv[] = {"tcmd", "--path=p", "--config=avmask-test-opts.conf", "--big=-20", "--name=a=b", "--x=1",
                    "--kind=c", "--kind-s=a", "--list=r,p", "--f=0.25", "--lim=all", NULL};
    avm_opts o;
    t_opts t;
    memset(&t, 0x5a, sizeof t);
    parse(&o, &t, &spec, argv);
    CHECK(t.n == 4 && t.big == -20);                 /* from the config; the command line after it wins */
    CHECK(t.flag == 1 && !strcmp(t.name, "a=b"));    /* --name after the_name (its alias) in the config */
    CHECK(t.x == 1 && t.f == 0.25f && t.kind == 2 && !strcmp(t.kind_s, "a"));
    CHECK(!strcmp(t.list, "r,p") && t.lim == LONG_MAX && !strcmp(t.path, "p"));
    CHECK(opts_given(&o, "name") && opts_given(&o, "n") && !opts_given(&o, "threads"));
    CHECK(!strcmp(opts_get(&o, "name"), "a=b") && !strcmp(opts_get(&o, "flag"), "1") && !opts_get(&o, "only3"));
    CHECK(o.mode == 0 && o.npos == 0);
    opts_free(&o);

    char *argv2[] = {"tcmd", "--other", "--the_name=q", NULL};   /* defaults; mode 1 needs no --path */
    memset(&t, 0x5a, sizeof t);
    parse(&o, &t, &spec, argv2);
    CHECK(o.mode == 1 && !strcmp(t.name, "q") && t.n == 3 && t.big == 0 && t.x == 0.5 && t.f == 2.5f);
    CHECK(t.flag == 0 && t.kind == 1 && !t.kind_s && !strcmp(t.list, "p,q") && t.lim == 5 && !t.path);
    opts_free(&o);

    char *argv3[] = {"targs", "pos1", "--path=p", "pos2", NULL};
    parse(&o, &t, &spec_args, argv3);
    CHECK(o.npos == 2 && !strcmp(o.pos[0], "pos1") && !strcmp(o.pos[1], "pos2"));
    opts_free(&o);
    unlink("avmask-test-opts.conf");
}

static void test_refusals(void) {
    REFUSED("unknown option --nope", "--path=p", "--nope=1");
    REFUSED("--n needs a value", "--path=p", "--n");
    REFUSED("--n=x is not an integer", "--path=p", "--n=x");
    REFUSED("--n=11 is out of range [1, 10]", "--path=p", "--n=11");
    REFUSED("--big=1e3 is not an integer", "--path=p", "--big=1e3");
    REFUSED("--x=0 is out of range (0, 1]", "--path=p", "--x=0");
    REFUSED("--f=nan is not a number", "--path=p", "--f=nan");
    REFUSED("--flag=2 is not a boolean", "--path=p", "--flag=2");
    REFUSED("--kind=d: expected a, b or c", "--path=p", "--kind=d");
    REFUSED("--list: 's' is not one of p, q or r", "--path=p", "--list=p,s");
    REFUSED("--list=p,,q has an empty item", "--path=p", "--list=p,,q");
    REFUSED("--lim=some is not an integer or all", "--path=p", "--lim=some");
    REFUSED("--path is required", "--n=2");
    REFUSED("--path is required", "--path=");
    REFUSED("--other and --third exclude each other", "--other", "--third");
    REFUSED("--path does not go with --other", "--other", "--path=p");
    REFUSED("--only3 needs --third", "--path=p", "--only3=1");
    REFUSED("unexpected argument 'pos'", "--path=p", "pos");
    REFUSED("malformed option '--a b'", "--a b");
    REFUSED("--threads=0 is out of range", "--path=p", "--threads=0");
    REFUSED("avmask-test-none.conf", "--config=avmask-test-none.conf");
}

/* Every option row is listed by --help with its default (or placeholder), its alias,
 * "(required)" where it is, its mode, and the help of --config. */
static void test_help(void) {
    FILE *f = fopen("avmask-test-opts.help", "w");
    opts_help(f, &spec);
    fclose(f);
    char *h = read_file("avmask-test-opts.help", NULL);
    unlink("avmask-test-opts.help");
    CHECK(h && !strncmp(h, "usage: tcmd", 11) && strstr(h, "\ngroup:\n"));
    const char *want[] = {"\n  --name=none ", "(also --the_name)", "\n  --n=3 ", "\n  --big=N ", "\n  --x=0.5 ",
                          "\n  --flag ", "\n  --kind=b ", "a|b|c: index", "\n  --kind-s=a|b|c ",
                          "list of p|q|r: items", "N or all: or all", "\n  --path=FILE ", "(required) required in mode 0 [main]",
                          "\n  --only3=N ", "[--third]", "\n  --threads=N ", "\n  --config=FILE ", "\n  --help "};
    for (size_t i = 0; h && i < sizeof want / sizeof *want; i++) CHECK_MSG(strstr(h, want[i]), "help lacks '%s'", want[i]);
    free(h);
}

/* Each value of the row `name` of spec must be accepted by the module's parser. */
static void values_accepted(const avm_optspec *s, const char *name, int (*ok)(const char *name, const char *v)) {
    const avm_optdef *r = s->opt;
    while (r->type != OPT_END && (r->type == OPT_TEXT || strcmp(r->name, name))) r++;
    CHECK_MSG(r->type == OPT_ENUM && r->values, "%s: no enum row --%s", s->cmd, name);
    if (r->type != OPT_ENUM) return;
    char *v = xstrdup(r->values), *save = NULL;
    for (char *w = strtok_r(v, "|", &save); w; w = strtok_r(NULL, "|", &save))
        CHECK_MSG(ok(name, w), "%s --%s=%s: %s", s->cmd, name, w, avm_error());
    free(v);
}
static int sched_ok(const char *n, const char *v) { avm_sched_kind k; (void)n; return !sched_parse_kind(v, &k); }
static int unit_ok(const char *n, const char *v) { avm_unit_kind k; (void)n; return !units_kind_parse(v, &k); }
static int source_ok(const char *n, const char *v) { km_source k; (void)n; return !km_source_parse(v, &k); }
static int named_ok(const char *n, const char *v) { avm_config c; (void)n; return !avmodel_config_named(&c, v); }
static int model_ok(const char *n, const char *v) {
    avm_config c;
    avmodel_config_named(&c, "tiny");
    return !avmodel_config_set(&c, n, v);
}

static void test_module_values(void) {
    values_accepted(&pretrain_optspec, "schedule", sched_ok);
    values_accepted(&finetune_optspec, "schedule", sched_ok);
    values_accepted(&finetune_optspec, "unit", unit_ok);
    values_accepted(&kmeans_optspec, "source", source_ok);
    values_accepted(&pretrain_optspec, "model", named_ok);
    values_accepted(&finetune_optspec, "model", named_ok);
    const char *keys[] = {"loss", "modalities", "fusion", "target"};
    for (int i = 0; i < 4; i++) values_accepted(&pretrain_optspec, keys[i], model_ok);
}

int main(void) {
    test_parse();
    test_refusals();
    test_help();
    test_module_values();
    return check_done("test_opts");
}

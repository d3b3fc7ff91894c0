/* Command-line options, one table per command (Kaldi's Register() idea): each row names an
 * option, its type, default, help line and the field of the command's options struct it
 * fills. The same table drives parsing, the checks of every value and --help, so the help
 * cannot list an option the parser refuses or miss one it takes.
 *   --key=value, --flag (same as --flag=1), positional arguments where the command takes any,
 *   --config=FILE (one option per line, "key=value" or "--key=value", # comments), read in
 *   place: later options win, wherever --config appears;
 *   --help (prints the table's help and exits 0).
 * An unknown option, a missing value, a bad number, a value outside the row's range or
 * list, a missing required option: one line naming the command and the option, exit 1.
 * AVMASK_OPTS_CHECK=1 in the environment: parse against the table only, then list the
 * table ("--name type sample" lines) and exit 0 before the command runs (tests). */
#ifndef AVMASK_OPTS_H
#define AVMASK_OPTS_H
#include <stddef.h>
#include <stdio.h>

typedef enum {
    OPT_END = 0,  /* ends a table */
    OPT_TEXT,     /* not an option: `help` printed as it is (a group heading, a note) */
    OPT_STR,      /* const char * (NULL when absent and without a default) */
    OPT_INT,      /* int or long/int64 field (by its size), within [lo, hi] */
    OPT_NUM,      /* double or float field, finite, within [min, max] */
    OPT_FLAG,     /* int 0/1: --x, --x=1|0|true|false|yes|no */
    OPT_ENUM,     /* one of `values` ("a|b|c"): int field = its index, pointer field = the text */
    OPT_LIST,     /* const char *, comma-separated, no empty item; items among `values` if set */
} avm_opt_type;

enum {
    OPT_REQ = 1,       /* must be given (non-empty) in each mode it applies to */
    OPT_MIN_OPEN = 2,  /* NUM: min itself is outside the range */
    OPT_MAX_OPEN = 4,  /* NUM: max itself is outside the range */
};

/* The field a row fills: OPT_FIELD(struct type, member). A row without one is only
 * checked; the command reads it with opts_given / opts_get. */
#define OPT_FIELD(T, f) .off = offsetof(T, f), .size = sizeof(((T *)0)->f)

/* A numeric macro as the text of a default: .def = OPT_TEXTOF(MASK_DEFAULT_L_AUDIO). */
#define OPT_TEXTOF(x) OPT_TEXTOF_(x)
#define OPT_TEXTOF_(x) #x

/* The --threads row every command has (opts_threads reads it); HELP says what it sets. */
#define OPT_THREADS(HELP) {OPT_INT, "threads", .lo = 1, .hi = 1024, .meta = "N", .help = HELP}

typedef struct {
    avm_opt_type type;
    const char *name;     /* without the dashes */
    const char *alias;    /* a second accepted name (shown in --help), or NULL */
    size_t off, size;     /* OPT_FIELD; size 0: no field */
    const char *def;      /* default as typed on the command line, parsed like a given value;
                           * NULL: none (field zeroed; the help says what the command does) */
    const char *meta;     /* placeholder in --help when there is no default: N, DIR, FILE */
    const char *help;     /* help text; '\n' continues on an indented line */
    long lo, hi;          /* INT range (both 0: any long) */
    double min, max;      /* NUM range (both 0: any finite number) */
    const char *values;   /* ENUM, LIST: "a|b|c"; INT: a word meaning "no limit" (LONG_MAX) */
    unsigned flags;       /* OPT_REQ, OPT_MIN_OPEN, OPT_MAX_OPEN */
    unsigned modes;       /* bit i: applies in mode i of the spec; 0: in every mode */
} avm_optdef;

typedef struct {
    const char *cmd;        /* "pretrain": the prefix of every message */
    const char *usage;      /* synopsis and description, printed first by --help */
    const avm_optdef *opt;  /* the table */
    const char *args;       /* positional arguments it takes ("FEATS"); NULL: none */
    /* "fit|apply|merge|metrics": mode 0 is the default, mode i > 0 is chosen by the FLAG
     * row named like it (at most one); rows with `modes` apply only in those; NULL: one mode */
    const char *modes;
} avm_optspec;

typedef struct {
    char *key, *val;
    int seq;                /* order of setting: later wins between a name and its alias */
} avm_opt;

typedef struct {
    const avm_optspec *spec;
    const char *cmd;        /* subcommand name, for messages */
    avm_opt *v;             /* options as given (command line and --config files) */
    int n, cap, seq;
    char **pos;             /* positional arguments */
    int npos;
    int mode;               /* index into spec->modes */
} avm_opts;

/* Parses argv[1..argc-1] (argv[0] is the subcommand) against spec into the struct dst:
 * defaults first, then the given options in order. Prints the help and exits 0 on
 * --help; dies with one line on anything the table refuses. Strings in dst point into
 * o or the table: keep o until opts_free. */
void opts_parse(avm_opts *o, const avm_optspec *spec, void *dst, int argc, char **argv);
void opts_free(avm_opts *o);
/* Adds the options of a --config file to o (what opts_parse does for --config=path).
 * 0, or -1 + avm_fail("<file>:<line>: <reason>"). */
int  opts_read_config(avm_opts *o, const char *path);

/* Whether the option (its table name) was given; its value as given (NULL if not).
 * A name that is not in the table is a bug: they die saying so. */
int         opts_given(const avm_opts *o, const char *name);
const char *opts_get(const avm_opts *o, const char *name);

/* Sets the thread count for OpenMP and OpenBLAS from --threads (the table's "threads"
 * row; default: all cores or OMP_NUM_THREADS). Returns the count. */
int opts_threads(const avm_opts *o);

/* The help of a command as --help prints it; the table listing of AVMASK_OPTS_CHECK
 * (opts_help.c). */
void opts_help(FILE *f, const avm_optspec *spec);
void opts_list(FILE *f, const avm_optspec *spec);
#endif

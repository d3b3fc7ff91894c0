/* Command-line options in the style every subcommand shares:
 *   --key=value, --flag (same as --flag=1), positional arguments,
 *   --config=FILE (one option per line, "key=value" or "--key=value", # comments),
 *   --help (prints the usage text and exits 0).
 * Later options override earlier ones; options on the command line override the
 * config file wherever --config appears. Getters record which keys were read so
 * that opts_finish() can reject unknown (misspelt) options with one clear line. */
#ifndef AVMASK_OPTS_H
#define AVMASK_OPTS_H

typedef struct {
    char *key, *val;
    int used;
} avm_opt;

typedef struct {
    const char *cmd;      /* subcommand name, for messages */
    avm_opt *v;
    int n, cap;
    char **pos;           /* positional arguments */
    int npos;
} avm_opts;

/* Parses argv[1..argc-1] (argv[0] is the subcommand). Prints usage and exits 0 on
 * --help; dies with a one-line reason on a malformed option or unreadable config. */
void opts_parse(avm_opts *o, const char *cmd, const char *usage, int argc, char **argv);
void opts_free(avm_opts *o);
/* Adds the options of a --config file to o (what opts_parse does for --config=path).
 * 0, or -1 + avm_fail("<file>:<line>: <reason>"). */
int  opts_read_config(avm_opts *o, const char *path);

int         opt_has(avm_opts *o, const char *key);
const char *opt_str(avm_opts *o, const char *key, const char *def);  /* def may be NULL */
const char *opt_req(avm_opts *o, const char *key);                   /* dies if missing */
long        opt_int(avm_opts *o, const char *key, long def);         /* dies if not an integer */
double      opt_num(avm_opts *o, const char *key, double def);       /* dies if not a number */
int         opt_bool(avm_opts *o, const char *key, int def);         /* 1/0/true/false/yes/no */
/* Integer within [lo, hi]; dies naming the option otherwise. */
long        opt_int_range(avm_opts *o, const char *key, long def, long lo, long hi);

/* Dies "avmask CMD: unknown option --x (see --help)" if any option was never read. */
void opts_finish(avm_opts *o);

/* Sets the thread count for OpenMP and OpenBLAS from --threads (default: all cores
 * or OMP_NUM_THREADS). Returns the count. Every subcommand calls it. */
int opts_threads(avm_opts *o);
#endif

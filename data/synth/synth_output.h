/* All-or-nothing output directory: the corpus is generated into OUT.tmp-<pid> and
 * renamed to OUT when complete. If the process ends any other way (an error, a
 * fatal avm_die), an exit handler removes the temporary directory and any parent
 * directories this run created, so no partial output is left behind. */
#ifndef AVMASK_SYNTH_OUTPUT_H
#define AVMASK_SYNTH_OUTPUT_H

/* Checks OUT (refuses an existing OUT unless overwrite), creates the temporary
 * directory and returns its path (owned by this module), or NULL + avm_fail. */
const char *synth_out_begin(const char *out, int overwrite);
/* Renames the temporary directory to OUT (replacing an old OUT when allowed). 0 or -1 + avm_fail. */
int synth_out_commit(void);
/* rm -rf path. 0, or -1 + avm_fail. */
int synth_rmtree(const char *path);
#endif

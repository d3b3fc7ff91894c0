/* Making finished files durable in the background. Committing a file (fsync it, rename it
 * into place, fsync its directory) waits for the disk; a committer does that in a thread
 * of its own, one file at a time and in the order they were handed over, while the caller
 * goes on computing. Order matters: a file that marks work as finished (job.K.json) is
 * handed over after the files it vouches for, so it can never land before them.
 * After the first failure the committer drops what is still queued (removing their
 * temporary files) and every later call reports that failure. Not for use across fork():
 * make one in the process that uses it. */
#ifndef AVMASK_COMMIT_H
#define AVMASK_COMMIT_H
#include <stddef.h>

typedef struct avm_committer avm_committer;

avm_committer *committer_new(void);
/* Queues atomic_rename(tmp, dst). 0, or -1 + avm_fail if an earlier commit failed (then
 * tmp is removed and nothing is queued). */
int  committer_rename(avm_committer *cm, const char *tmp, const char *dst);
/* Queues write_file_atomic(path, data, len); data is copied. 0, or -1 as above. */
int  committer_write(avm_committer *cm, const char *path, const void *data, size_t len);
/* Waits until everything queued is on disk. 0, or -1 + avm_fail with the first failure. */
int  committer_wait(avm_committer *cm);
void committer_free(avm_committer *cm);   /* waits, then ends the thread */
#endif

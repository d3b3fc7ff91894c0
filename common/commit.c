/* A queue of file commits served by one thread (see commit.h). */
#include "common/commit.h"
#include "common/log.h"
#include "common/util.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct task {
    struct task *next;
    char *tmp, *dst;          /* a rename: tmp -> dst */
    char *data;               /* a write: data (len bytes) -> dst; NULL for a rename */
    size_t len;
} task;

struct avm_committer {
    pthread_mutex_t mu;
    pthread_cond_t work, idle;
    task *head, *tail;
    int busy, stop, threaded;
    pthread_t thread;
    char err[1024];           /* the first failure ("" if none); avm_error() is per thread */
};

static void task_free(task *t, int remove_tmp) {
    if (remove_tmp && t->tmp) unlink(t->tmp);
    free(t->tmp); free(t->dst); free(t->data);
    free(t);
}

static int task_run(const task *t) {
    return t->data ? write_file_atomic(t->dst, t->data, t->len) : atomic_rename(t->tmp, t->dst);
}

/* Runs t outside the lock; records the first failure and then drops the queue. Called
 * with cm->mu held. */
static void serve(avm_committer *cm, task *t) {
    pthread_mutex_unlock(&cm->mu);
    int rc = task_run(t);
    char reason[sizeof cm->err];
    if (rc) snprintf(reason, sizeof reason, "%s", avm_error());
    task_free(t, rc != 0);
    pthread_mutex_lock(&cm->mu);
    if (rc && !cm->err[0]) memcpy(cm->err, reason, sizeof reason);
    if (cm->err[0]) {
        for (task *q = cm->head, *n; q; q = n) { n = q->next; task_free(q, 1); }
        cm->head = cm->tail = NULL;
    }
}

static void *committer_main(void *arg) {
    avm_committer *cm = arg;
    pthread_mutex_lock(&cm->mu);
    for (;;) {
        while (!cm->head && !cm->stop) pthread_cond_wait(&cm->work, &cm->mu);
        if (!cm->head) break;
        task *t = cm->head;
        if (!(cm->head = t->next)) cm->tail = NULL;
        cm->busy = 1;
        serve(cm, t);
        cm->busy = 0;
        if (!cm->head) pthread_cond_broadcast(&cm->idle);
    }
    pthread_mutex_unlock(&cm->mu);
    return NULL;
}

avm_committer *committer_new(void) {
    avm_committer *cm = xcalloc(1, sizeof *cm);
    pthread_mutex_init(&cm->mu, NULL);
    pthread_cond_init(&cm->work, NULL);
    pthread_cond_init(&cm->idle, NULL);
    /* no thread to be had: every commit runs in the caller instead */
    cm->threaded = pthread_create(&cm->thread, NULL, committer_main, cm) == 0;
    return cm;
}

static int push(avm_committer *cm, task *t) {
    pthread_mutex_lock(&cm->mu);
    if (cm->err[0]) {
        int rc = avm_fail("%s", cm->err);
        pthread_mutex_unlock(&cm->mu);
        task_free(t, 1);
        return rc;
    }
    if (!cm->threaded) {
        serve(cm, t);
    } else {
        if (cm->tail) cm->tail->next = t;
        else cm->head = t;
        cm->tail = t;
        pthread_cond_signal(&cm->work);
    }
    int rc = cm->err[0] ? avm_fail("%s", cm->err) : 0;
    pthread_mutex_unlock(&cm->mu);
    return rc;
}

int committer_rename(avm_committer *cm, const char *tmp, const char *dst) {
    task *t = xcalloc(1, sizeof *t);
    t->tmp = xstrdup(tmp);
    t->dst = xstrdup(dst);
    return push(cm, t);
}

int committer_write(avm_committer *cm, const char *path, const void *data, size_t len) {
    task *t = xcalloc(1, sizeof *t);
    t->dst = xstrdup(path);
    t->data = xmalloc(len + 1);
    memcpy(t->data, data, len);
    t->len = len;
    return push(cm, t);
}

int committer_wait(avm_committer *cm) {
    pthread_mutex_lock(&cm->mu);
    while (cm->head || cm->busy) pthread_cond_wait(&cm->idle, &cm->mu);
    int rc = cm->err[0] ? avm_fail("%s", cm->err) : 0;
    pthread_mutex_unlock(&cm->mu);
    return rc;
}

void committer_free(avm_committer *cm) {
    if (!cm) return;
    committer_wait(cm);
    if (cm->threaded) {
        pthread_mutex_lock(&cm->mu);
        cm->stop = 1;
        pthread_cond_signal(&cm->work);
        pthread_mutex_unlock(&cm->mu);
        pthread_join(cm->thread, NULL);
    }
    pthread_cond_destroy(&cm->work);
    pthread_cond_destroy(&cm->idle);
    pthread_mutex_destroy(&cm->mu);
    free(cm);
}

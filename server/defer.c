/* defer.c - work taken off the connection's thread: a few threads, one
 * per core, that take jobs in the order they came (issue 23).
 *
 * microhttpd binds each connection to one worker of its pool when it
 * accepts it, and a burst of connections lands unevenly: after a restart
 * (a wall of browsers reconnecting, 16 connections on 8 workers) one
 * worker could hold four connections and draw their tiles one after
 * another while other workers idled, and the workers that did run shared
 * the cores among up to eight renders at once, so a dense tile took as
 * long as eight. A handler that has dear work to do (a tile to render)
 * hands it here: the connection is suspended (its worker goes on with its
 * other connections), a pool thread does the work with a database
 * connection of its own, and the connection is resumed; microhttpd then
 * calls the access handler again on the connection's own worker, which
 * sends the reply (http.c: srv_defer_finish). At most one job per core
 * runs at a time, first come first served, so a job waits for those
 * before it, not for the share of the cores it gets among all of them.
 *
 * FUSIONMAP_RENDER_THREADS sets the pool's size (default: the cores);
 * 0 does the work in place, on the connection's worker, as before.
 *
 * Threads: the queue under one lock. A job's result is written by its
 * pool thread before MHD_resume_connection and read by the connection's
 * worker after microhttpd calls it again (its own lock orders the two).
 * At stop, the jobs not started are resumed undone (srv_defer_finish then
 * answers 503) and the pool threads joined, before MHD_stop_daemon. */
#include "srv.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_THREADS 64

struct job {
    struct req *r;
    srv_work_fn work;
    void *arg;
    struct job *next;
};

struct srv_defer {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct job *head, *tail;
    int stop;
    int nthreads;
    pthread_t threads[MAX_THREADS];
    struct srv *srv;
};

int srv_defer_threads_wanted(void)
{
    const char *env = getenv("FUSIONMAP_RENDER_THREADS");
    long v;
    if (env && *env && fm_parse_long(env, 0, MAX_THREADS, &v) == FM_OK) return (int)v;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    return cores < 1 ? 1 : cores > MAX_THREADS ? MAX_THREADS : (int)cores;
}

static void *pool_main(void *arg)
{
    struct srv_defer *d = arg;
    pthread_mutex_lock(&d->lock);
    for (;;) {
        while (!d->stop && !d->head) pthread_cond_wait(&d->wake, &d->lock);
        if (d->stop) break;
        struct job *j = d->head;
        d->head = j->next;
        if (!d->head) d->tail = NULL;
        pthread_mutex_unlock(&d->lock);
        struct data_db *db = NULL;
        struct fm_err err;
        fm_err_clear(&err);
        /* the thread's own connection; without one the work reports it */
        if (srv_thread_db(d->srv, &db, &err) != FM_OK) db = NULL;
        j->work(j->r, db, j->arg);
        j->r->defer_done = 1;
        struct MHD_Connection *conn = j->r->conn;
        free(j);
        MHD_resume_connection(conn);
        pthread_mutex_lock(&d->lock);
    }
    pthread_mutex_unlock(&d->lock);
    return NULL;
}

fm_rc srv_defer_new(struct srv *s, int nthreads, struct srv_defer **out, struct fm_err *err)
{
    *out = NULL;
    if (nthreads <= 0) return FM_OK; /* work in place */
    struct srv_defer *d = fm_xcalloc(1, sizeof *d);
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->wake, NULL);
    d->srv = s;
    for (int i = 0; i < nthreads && i < MAX_THREADS; i++) {
        if (pthread_create(&d->threads[i], NULL, pool_main, d) != 0) {
            srv_defer_free(d);
            return fm_fail(err, FM_EINTERNAL, NULL, "cannot start the render threads");
        }
        d->nthreads++;
    }
    *out = d;
    return FM_OK;
}

int srv_defer(struct req *r, struct srv_defer *d, srv_work_fn work, srv_finish_fn finish,
              void (*release)(void *arg), void *arg)
{
    r->defer_finish = finish;
    r->defer_release = release;
    r->defer_arg = arg;
    r->defer_done = 0;
    if (!d || !work) { /* in place (no work: only the reply) */
        if (work) work(r, r->db, arg);
        r->defer_done = 1;
        return srv_defer_finish(r);
    }
    struct job *j = fm_xcalloc(1, sizeof *j);
    j->r = r, j->work = work, j->arg = arg;
    pthread_mutex_lock(&d->lock);
    if (d->stop) {
        pthread_mutex_unlock(&d->lock);
        free(j);
        return srv_defer_finish(r);
    }
    r->deferred = 1;
    /* suspended before it is queued: a pool thread may resume it at once */
    MHD_suspend_connection(r->conn);
    if (d->tail) d->tail->next = j;
    else d->head = j;
    d->tail = j;
    pthread_cond_signal(&d->wake);
    pthread_mutex_unlock(&d->lock);
    return MHD_YES;
}

int srv_defer_finish(struct req *r)
{
    r->deferred = 0;
    if (!r->defer_done) return srv_problem_status(r, 503, "the server is stopping", NULL);
    return r->defer_finish(r, r->defer_arg);
}

void srv_defer_shutdown(struct srv_defer *d)
{
    if (!d) return;
    pthread_mutex_lock(&d->lock);
    d->stop = 1;
    pthread_cond_broadcast(&d->wake);
    pthread_mutex_unlock(&d->lock);
    for (int i = 0; i < d->nthreads; i++) pthread_join(d->threads[i], NULL);
    d->nthreads = 0;
    /* the jobs no thread took: their connections go on, undone (503) */
    struct job *j = d->head;
    d->head = d->tail = NULL;
    while (j) {
        struct job *next = j->next;
        MHD_resume_connection(j->r->conn);
        free(j);
        j = next;
    }
}

void srv_defer_free(struct srv_defer *d)
{
    if (!d) return;
    srv_defer_shutdown(d);
    pthread_cond_destroy(&d->wake);
    pthread_mutex_destroy(&d->lock);
    free(d);
}

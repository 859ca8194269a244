/* watch.c - several servers on one database: the watcher thread, which
 * hears of other processes' commits (store.h: commits_listen and
 * commits_wait) and tells this process's caches and streams, and the
 * duties one server does at a time (store.h: duty_take). */
#include "internal.h"
#include "store.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#define WAIT_MS 250        /* how often the thread looks at its stop flag */
#define REOPEN_MS 1000     /* between attempts to reconnect */
#define DUTY_KEY 706164700 /* duty d is the advisory key DUTY_KEY + d */

struct data_watcher {
    char *path;
    void (*heard)(void *ctx);
    void *ctx;
    pthread_t thread;
    atomic_int stop;
};

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* A listening connection, or NULL (logged) when the database cannot be
 * reached now. */
static struct data_db *listening(const char *path)
{
    struct data_db *db = NULL;
    struct fm_err err;
    fm_rc rc = data_open(path, &db, &err);
    if (!rc) rc = store_of(db)->commits_listen(db, &err);
    if (!rc) return db;
    fm_log(FM_LOG_WARN, "watcher: cannot listen for other servers' commits: %s", err.msg);
    data_close(db);
    return NULL;
}

static void *watch_main(void *arg)
{
    struct data_watcher *w = arg;
    struct data_db *db = NULL;
    while (!atomic_load(&w->stop)) {
        if (!db) {
            if (!(db = listening(w->path))) {
                sleep_ms(REOPEN_MS);
                continue;
            }
            /* whatever was committed while nobody listened */
            store_committed();
            w->heard(w->ctx);
        }
        int heard = 0;
        struct fm_err err;
        if (store_of(db)->commits_wait(db, WAIT_MS, &heard, &err)) {
            fm_log(FM_LOG_WARN, "watcher: %s; connecting again", err.msg);
            data_close(db);
            db = NULL;
            continue;
        }
        if (heard) {
            store_committed();
            w->heard(w->ctx);
        }
    }
    data_close(db);
    return NULL;
}

fm_rc data_watcher_start(const char *path, void (*heard)(void *ctx), void *ctx,
                         struct data_watcher **out, struct fm_err *err)
{
    *out = NULL;
    struct data_db *probe;
    fm_rc rc = data_open(path, &probe, err);
    if (rc) return rc;
    int listens = store_of(probe)->commits_listen != NULL;
    data_close(probe);
    if (!listens) return FM_OK;
    struct data_watcher *w = fm_xcalloc(1, sizeof *w);
    w->path = fm_xstrdup(path);
    w->heard = heard;
    w->ctx = ctx;
    if (pthread_create(&w->thread, NULL, watch_main, w) != 0) {
        free(w->path);
        free(w);
        return fm_fail(err, FM_EINTERNAL, NULL, "cannot start the watcher thread");
    }
    *out = w;
    return FM_OK;
}

void data_watcher_stop(struct data_watcher *w)
{
    if (!w) return;
    atomic_store(&w->stop, 1);
    pthread_join(w->thread, NULL);
    free(w->path);
    free(w);
}

int data_duty_take(struct data_db *db, enum data_duty d)
{
    int mine = 0;
    struct fm_err err;
    if (store_of(db)->duty_take(db, DUTY_KEY + (int64_t)d, &mine, &err)) {
        fm_log(FM_LOG_WARN, "duty %d: %s", (int)d, err.msg);
        return 0;
    }
    return mine;
}

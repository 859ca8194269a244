/* checkpoint.c - copying the write-ahead log back into the database off
 * the write path.
 *
 * SQLite's default (wal_autocheckpoint) runs a checkpoint inside the
 * commit that takes the log past 1,000 pages: that writer copies the
 * whole log and syncs the database file before its request returns, a
 * tail of tens of milliseconds every few writes. data_open installs a WAL
 * hook instead: past the mark it wakes the checkpointer of the same file
 * if this process runs one (data_checkpointer_start), and only otherwise
 * checkpoints inline, as SQLite would (tools, tests, the CLI commands).
 * The checkpointer's thread has its own connection and runs PASSIVE
 * checkpoints, which never block a writer or a reader. */
#include "sqlite.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define CHECKPOINT_FRAMES 1000 /* SQLite's default mark */

struct data_checkpointer {
    pthread_t thread;
    pthread_mutex_t lock; /* guards due, stop */
    pthread_cond_t wake;
    int due, stop;
    struct data_db *db;
    char *file; /* the database file, as SQLite names it */
    struct data_checkpointer *next;
};

/* The running checkpointers of this process (one per file, in practice). */
_Atomic long db_inline_checkpoints;

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct data_checkpointer *registry;

/* Wakes the checkpointer of file; returns 0 if there is none. */
static int wake_checkpointer(const char *file)
{
    int found = 0;
    pthread_mutex_lock(&registry_lock);
    for (struct data_checkpointer *c = registry; c && !found; c = c->next) {
        if (strcmp(c->file, file) != 0) continue;
        pthread_mutex_lock(&c->lock);
        c->due = 1;
        pthread_cond_signal(&c->wake);
        pthread_mutex_unlock(&c->lock);
        found = 1;
    }
    pthread_mutex_unlock(&registry_lock);
    return found;
}

/* sqlite3_wal_hook: called after each commit with the log's size. */
static int wal_hook(void *arg, sqlite3 *h, const char *schema, int frames)
{
    db_wal_committed(arg); /* first: the commit on disk (db.c, group sync) */
    if (frames < CHECKPOINT_FRAMES) return SQLITE_OK;
    const char *file = sqlite3_db_filename(h, schema);
    if (file && file[0] && wake_checkpointer(file)) return SQLITE_OK;
    /* what SQLite's own hook does; a failure (busy) is retried next time */
    db_inline_checkpoints++;
    sqlite3_wal_checkpoint_v2(h, schema, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return SQLITE_OK;
}

void db_wal_hook_install(struct data_db *db)
{
    sqlite3_wal_hook(db->h, wal_hook, db);
}

static void *checkpointer_main(void *arg)
{
    struct data_checkpointer *c = arg;
    pthread_mutex_lock(&c->lock);
    while (!c->stop) {
        if (!c->due) {
            pthread_cond_wait(&c->wake, &c->lock);
            continue;
        }
        c->due = 0;
        pthread_mutex_unlock(&c->lock);
        int rc = sqlite3_wal_checkpoint_v2(c->db->h, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            fm_log(FM_LOG_WARN, "checkpoint: %s", sqlite3_errmsg(c->db->h));
        pthread_mutex_lock(&c->lock);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

fm_rc data_checkpointer_start(const char *path, struct data_checkpointer **out,
                              struct fm_err *err)
{
    *out = NULL;
    struct data_db *db;
    fm_rc rc = data_open(path, &db, err);
    if (rc) return rc;
    if (store_of(db) != sqlite_store()) { /* another backend keeps its own log */
        data_close(db);
        return FM_OK;
    }
    const char *file = sqlite3_db_filename(db->h, "main");
    if (!file || !file[0]) {
        data_close(db);
        return fm_fail(err, FM_EINVAL, NULL, "%s is not a database file", path);
    }
    struct data_checkpointer *c = fm_xcalloc(1, sizeof *c);
    c->db = db;
    c->file = fm_xstrdup(file);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->wake, NULL);
    if (pthread_create(&c->thread, NULL, checkpointer_main, c) != 0) {
        pthread_cond_destroy(&c->wake);
        pthread_mutex_destroy(&c->lock);
        free(c->file);
        free(c);
        data_close(db);
        return fm_fail(err, FM_EINTERNAL, NULL, "cannot start the checkpoint thread");
    }
    pthread_mutex_lock(&registry_lock);
    c->next = registry;
    registry = c;
    pthread_mutex_unlock(&registry_lock);
    *out = c;
    return FM_OK;
}

void data_checkpointer_free(struct data_checkpointer *c)
{
    if (!c) return;
    /* out of the registry first: from here on writers checkpoint inline */
    pthread_mutex_lock(&registry_lock);
    for (struct data_checkpointer **p = &registry; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    pthread_mutex_unlock(&registry_lock);
    pthread_mutex_lock(&c->lock);
    c->stop = 1;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->lock);
    data_close(c->db);
    free(c->file);
    free(c);
}

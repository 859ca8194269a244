/* test_db_queue.c - the write queue (data/sqlite/db.c): the writers of one
 * file in this process get their turns in the order they asked, not by
 * SQLite's polling; one whose turn does not come in time gets FM_EBUSY
 * and leaves the line without breaking it; a nested begin fails as it
 * did and frees the turn at its rollback; a file's queue is not another
 * file's. Group sync: a commit that wrote returns only after a sync of
 * the write-ahead log began after it (counted by a seam), a read-only one
 * syncs nothing, a write outside a transaction is synced too, and writers
 * together share syncs. */
#include "check.h"
#include "sqlite/sqlite.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WRITERS 6

static char path[96];
static pthread_mutex_t order_lock = PTHREAD_MUTEX_INITIALIZER;
static int order[WRITERS], norder; /* the first section's */

struct writer {
    int index;
    struct data_db *db;
    fm_rc rc;
    char msg[256];
    _Atomic int finished;
};

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    struct fm_err err;
    err.msg[0] = 0;
    w->rc = db_begin(w->db, &err);
    if (w->rc == FM_OK) {
        char sql[64];
        snprintf(sql, sizeof sql, "INSERT INTO q_test VALUES (%d)", w->index);
        w->rc = db_exec(w->db, sql, &err);
        pthread_mutex_lock(&order_lock);
        if (norder < WRITERS) order[norder++] = w->index;
        pthread_mutex_unlock(&order_lock);
        if (w->rc == FM_OK) w->rc = db_commit(w->db, &err);
        else db_rollback(w->db);
    }
    snprintf(w->msg, sizeof w->msg, "%s", err.msg);
    w->finished = 1;
    return NULL;
}

/* Polls until n writers wait in the queue (5 s at most). */
static int wait_waiting(long n)
{
    for (int i = 0; i < 500; i++) {
        if (db_queue_waiting == n) return 1;
        usleep(10 * 1000);
    }
    return 0;
}

static struct data_db *open_db(const char *p)
{
    struct data_db *db = NULL;
    struct fm_err err;
    if (data_open(p, &db, &err) != FM_OK) printf("# open %s: %s\n", p, err.msg);
    return db;
}

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int main(void)
{
    char dir[] = "/tmp/fm-test-dbqueue-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    snprintf(path, sizeof path, "%s/q.db", dir);
    struct fm_err err;
    struct data_db *holder = open_db(path);
    CHECK(holder != NULL, "open");
    if (!holder) return SUMMARY();
    CHECK(db_exec(holder, "CREATE TABLE q_test (w INTEGER)", &err) == FM_OK, "table: %s",
          err.msg);

    /* first come, first served: each writer asks only once the one before
     * it waits, all behind a holder */
    struct writer w[WRITERS];
    pthread_t t[WRITERS];
    CHECK(db_begin(holder, &err) == FM_OK, "the holder begins: %s", err.msg);
    for (int i = 0; i < WRITERS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].index = i + 1;
        w[i].db = open_db(path);
        pthread_create(&t[i], NULL, writer_main, &w[i]);
        CHECK(wait_waiting(i + 1), "writer %d waits in the queue (%ld waiting)", i + 1,
              (long)db_queue_waiting);
    }
    /* held long enough that a polling writer would have retried */
    usleep(300 * 1000);
    CHECK(norder == 0, "nobody wrote while the holder held the turn (%d did)", norder);
    CHECK(db_commit(holder, &err) == FM_OK, "the holder commits: %s", err.msg);
    for (int i = 0; i < WRITERS; i++) pthread_join(t[i], NULL);
    int in_order = norder == WRITERS;
    for (int i = 0; i < norder; i++) in_order = in_order && order[i] == i + 1;
    CHECK(in_order, "the writers wrote in the order they asked: %d %d %d %d %d %d", order[0],
          order[1], order[2], order[3], order[4], order[5]);
    for (int i = 0; i < WRITERS; i++)
        CHECK(w[i].rc == FM_OK, "writer %d was served (%s)", i + 1, w[i].msg);
    CHECK(db_queue_waiting == 0, "nobody waits afterwards");

    /* a waiter whose time runs out leaves the line; the one behind it is
     * served next, and the queue works on */
    db_queue_wait_ms = 300;
    CHECK(db_begin(holder, &err) == FM_OK, "the holder begins again: %s", err.msg);
    w[0] = (struct writer){.index = 101, .db = w[0].db};
    pthread_create(&t[0], NULL, writer_main, &w[0]);
    CHECK(wait_waiting(1), "the impatient writer waits");
    db_queue_wait_ms = DB_BUSY_MS;
    w[1] = (struct writer){.index = 102, .db = w[1].db};
    pthread_create(&t[1], NULL, writer_main, &w[1]);
    CHECK(wait_waiting(2), "a patient writer waits behind it");
    long long t0 = now_ms();
    pthread_join(t[0], NULL);
    CHECK(w[0].rc == FM_EBUSY, "the impatient writer gets busy (%s: %s)", fm_rc_str(w[0].rc),
          w[0].msg);
    CHECK(now_ms() - t0 < 5000, "after its wait, not the patient one's");
    CHECK(!w[1].finished && db_queue_waiting == 1, "the patient writer still waits");
    CHECK(db_commit(holder, &err) == FM_OK, "the holder commits: %s", err.msg);
    pthread_join(t[1], NULL);
    CHECK(w[1].rc == FM_OK, "the patient writer is served: %s", w[1].msg);
    CHECK(db_begin(holder, &err) == FM_OK && db_commit(holder, &err) == FM_OK,
          "the queue is free afterwards");

    /* a begin inside a transaction fails at once, as it always did, and
     * the rollback frees the turn */
    CHECK(db_begin(holder, &err) == FM_OK, "begin");
    long long t1 = now_ms();
    CHECK(db_begin(holder, &err) != FM_OK, "a nested begin fails");
    CHECK(now_ms() - t1 < 2000, "at once, not after a wait on itself");
    db_rollback(holder);
    CHECK(db_begin(w[2].db, &err) == FM_OK, "after the rollback another connection begins: %s",
          err.msg);
    db_rollback(w[2].db);

    /* another file's writers do not queue behind this one's */
    char other[112];
    snprintf(other, sizeof other, "%s/other.db", dir);
    struct data_db *o = open_db(other);
    CHECK(db_begin(holder, &err) == FM_OK, "begin");
    long long t2 = now_ms();
    CHECK(o && db_begin(o, &err) == FM_OK, "the other file's writer begins: %s", err.msg);
    CHECK(now_ms() - t2 < 2000, "at once");
    if (o) db_rollback(o);
    db_rollback(holder);
    data_close(o);

    /* closing a connection in its turn frees the turn */
    CHECK(db_begin(w[3].db, &err) == FM_OK, "begin");
    data_close(w[3].db);
    w[3].db = NULL;
    long long t3 = now_ms();
    CHECK(db_begin(holder, &err) == FM_OK, "after the holder closed, a writer begins: %s",
          err.msg);
    CHECK(now_ms() - t3 < 2000, "at once");
    db_rollback(holder);

    /* group sync */
    long s0 = db_wal_syncs;
    CHECK(db_begin(holder, &err) == FM_OK &&
              db_exec(holder, "INSERT INTO q_test VALUES (200)", &err) == FM_OK &&
              db_commit(holder, &err) == FM_OK,
          "a write: %s", err.msg);
    CHECK(db_wal_syncs == s0 + 1, "its commit synced the log before it returned (%ld syncs)",
          db_wal_syncs - s0);
    s0 = db_wal_syncs;
    CHECK(db_begin(holder, &err) == FM_OK &&
              db_exec(holder, "SELECT count(*) FROM q_test", &err) == FM_OK &&
              db_commit(holder, &err) == FM_OK,
          "a read in a transaction: %s", err.msg);
    CHECK(db_wal_syncs == s0, "a commit that wrote nothing syncs nothing");
    CHECK(db_exec(holder, "INSERT INTO q_test VALUES (201)", &err) == FM_OK, "autocommit");
    CHECK(db_wal_syncs == s0 + 1, "a write outside a transaction is synced too (%ld)",
          db_wal_syncs - s0);
    s0 = db_wal_syncs;
    enum { ROUNDS = 25 };
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < 4; i++) { /* w[3]'s connection is closed */
            int k = i < 3 ? i : 4;
            w[k] = (struct writer){.index = 1000 + r * 10 + i, .db = w[k].db};
            pthread_create(&t[i], NULL, writer_main, &w[k]);
        }
        for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    }
    long synced = db_wal_syncs - s0;
    printf("# %d commits from 4 writers at once took %ld syncs\n", 4 * ROUNDS, synced);
    CHECK(synced >= 1 && synced <= 4 * ROUNDS, "at most one sync a commit (%ld for %d)", synced,
          4 * ROUNDS);

    for (int i = 0; i < WRITERS; i++) data_close(w[i].db);
    data_close(holder);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) printf("# could not remove %s\n", dir);
    return SUMMARY();
}

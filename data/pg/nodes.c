/* nodes.c - the store interface (store.h) on PostgreSQL for several
 * server processes on one database: every write transaction's commit
 * notifies the channel fm_commit (pg.c), which each process's watcher
 * connection listens to (data/watch.c); and duties that one process does
 * at a time (the conflict re-check, the deadlines) are session advisory
 * locks, which PostgreSQL lets go when the process or its connection dies. */
#include "pgint.h"

#include <errno.h>
#include <poll.h>

static fm_rc commits_listen(struct data_db *db, struct fm_err *err)
{
    return pg_exec(db, "LISTEN " PG_COMMIT_CHANNEL, err);
}

/* The notifications already read from the connection, dropped. */
static int notifications(struct data_db *db)
{
    int n = 0;
    PGnotify *note;
    while ((note = PQnotifies(CONN(db)))) {
        n++;
        PQfreemem(note);
    }
    return n;
}

static fm_rc commits_wait(struct data_db *db, int ms, int *heard, struct fm_err *err)
{
    *heard = 0;
    if (!PQconsumeInput(CONN(db))) return pg_fail(db, NULL, "listen", err);
    if ((*heard = notifications(db))) return FM_OK;
    struct pollfd p = {.fd = PQsocket(CONN(db)), .events = POLLIN};
    if (p.fd < 0) return pg_fail(db, NULL, "listen", err);
    int r = poll(&p, 1, ms);
    if (r < 0 && errno != EINTR) return fm_fail(err, FM_EIO, NULL, "listen: poll failed");
    if (r > 0) {
        if (!PQconsumeInput(CONN(db))) return pg_fail(db, NULL, "listen", err);
        *heard = notifications(db);
    }
    return FM_OK;
}

static fm_rc duty_take(struct data_db *db, int64_t key, int *mine, struct fm_err *err)
{
    PGresult *r;
    /* held already by this session, else taken now if nobody holds it (a
     * second pg_try_advisory_lock would stack another hold) */
    fm_rc rc = pg_run(db, &r, NULL, "duty", err,
                      "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"
                      "  AND pid = pg_backend_pid() AND granted AND objsubid = 1"
                      "  AND ((classid::bigint << 32) | objid::bigint) = $1::bigint)"
                      " THEN true ELSE pg_try_advisory_lock($1::bigint) END",
                      1, I64(key));
    if (rc) return rc;
    *mine = pg_col_b(r, 0, 0);
    PQclear(r);
    return FM_OK;
}

void pg_nodes_ops(struct store_ops *o)
{
    o->commits_listen = commits_listen;
    o->commits_wait = commits_wait;
    o->duty_take = duty_take;
}

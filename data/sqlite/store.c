/* store.c - the SQLite implementation of the store interface (store.h) as
 * one table: transactions here, each slice's rows in its own file. */
#include "sqlite.h"

#include <pthread.h>

static fm_rc tx_begin(struct data_db *db, struct fm_err *err)
{
    return db_begin(db, err);
}

static fm_rc tx_commit(struct data_db *db, struct fm_err *err)
{
    return db_commit(db, err);
}

static void tx_rollback(struct data_db *db)
{
    db_rollback(db);
}

static fm_rc sp_begin(struct data_db *db, struct fm_err *err)
{
    return db_exec(db, "SAVEPOINT fm_part", err);
}

static fm_rc sp_release(struct data_db *db, struct fm_err *err)
{
    return db_exec(db, "RELEASE fm_part", err);
}

static fm_rc sp_undo(struct data_db *db, struct fm_err *err)
{
    fm_rc rc = db_exec(db, "ROLLBACK TO fm_part", err);
    return rc ? rc : db_exec(db, "RELEASE fm_part", err);
}

/* One SQLite file is one server's: its duties are always this process's. */
static fm_rc duty_take(struct data_db *db, int64_t key, int *mine, struct fm_err *err)
{
    (void)db, (void)key, (void)err;
    *mine = 1;
    return FM_OK;
}

static struct store_ops ops;
static pthread_once_t ops_once = PTHREAD_ONCE_INIT;

static void ops_fill(void)
{
    ops.name = "sqlite";
    ops.close = db_close;
    ops.begin = tx_begin;
    ops.commit = tx_commit;
    ops.rollback = tx_rollback;
    ops.savepoint = sp_begin;
    ops.savepoint_release = sp_release;
    ops.savepoint_undo = sp_undo;
    ops.duty_take = duty_take;
    sqlite_accounts_ops(&ops);
    sqlite_events_ops(&ops);
    sqlite_items_ops(&ops);
    sqlite_keys_ops(&ops);
    sqlite_acks_ops(&ops);
    sqlite_messages_ops(&ops);
    sqlite_picture_ops(&ops);
    sqlite_query_ops(&ops);
    sqlite_heads_ops(&ops);
    sqlite_rules_ops(&ops);
    sqlite_conflicts_ops(&ops);
    sqlite_copy_ops(&ops);
}

const struct store_ops *sqlite_store(void)
{
    pthread_once(&ops_once, ops_fill);
    return &ops;
}

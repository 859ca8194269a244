/* acks.c - the answers to item versions on PostgreSQL, as data/sqlite/acks.c. */
#include "pgint.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static fm_rc ack_insert(struct data_db *db, const struct store_ack *a, struct fm_err *err)
{
    char state[6];
    fm_rc rc = pg_run(db, NULL, state, "insert ack", err,
                      "INSERT INTO acks (item_id, version, party, \"user\", at, decision, comment)"
                      " VALUES ($1::bigint, $2::bigint, $3, $4, $5::bigint, $6, $7)",
                      7, I64(a->item), I64(a->version), a->party, a->user, I64(a->at), a->decision,
                      a->comment);
    if (rc && !strcmp(state, "23505"))
        return fm_fail(err, FM_ECONFLICT, NULL,
                       "party %s has already answered version %" PRId64 " of item %" PRId64,
                       a->party, a->version, a->item);
    return rc;
}

static fm_rc acks_each(struct data_db *db, int64_t id, store_ack_cb cb, void *ctx,
                       struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "acks", err,
                      "SELECT item_id, version, party, \"user\", at, decision, comment FROM acks"
                      " WHERE item_id = $1::bigint ORDER BY id",
                      1, I64(id));
    if (rc) return rc;
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        struct store_ack a = {pg_col_i(r, i, 0), pg_col_i(r, i, 1), pg_col_s(r, i, 2),
                              pg_col_s(r, i, 3), pg_col_i(r, i, 4), pg_col_s(r, i, 5),
                              pg_col(r, i, 6)};
        if (cb(ctx, &a)) break;
    }
    PQclear(r);
    return FM_OK;
}

static fm_rc ack_exists(struct data_db *db, int64_t id, int64_t version, const char *except,
                        int *yes, struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "acks", err,
                      "SELECT 1 FROM acks WHERE item_id = $1::bigint AND version = $2::bigint"
                      " AND party <> $3 AND decision = 'ack'",
                      3, I64(id), I64(version), except);
    *yes = !rc && PQntuples(r) > 0;
    PQclear(r);
    return rc;
}

void pg_acks_ops(struct store_ops *ops)
{
    ops->ack_insert = ack_insert;
    ops->acks_each = acks_each;
    ops->ack_exists = ack_exists;
}

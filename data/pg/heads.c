/* heads.c - the cosigned heads of the log on PostgreSQL, as
 * data/sqlite/heads.c. */
#include "pgint.h"

#include <stdlib.h>
#include <string.h>

static fm_rc head_insert(struct data_db *db, const struct store_head *h, int64_t *id,
                         struct fm_err *err)
{
    PGresult *r;
    char state[6];
    fm_rc rc =
        pg_run(db, &r, state, "insert head", err,
               "INSERT INTO cosigned_heads (seq, hash, \"user\", party, key, at, signature,"
               " recorded_at) VALUES ($1::bigint, $2, $3, $4, $5, $6::bigint, $7, $8::bigint)"
               " RETURNING id",
               8, I64(h->seq), h->hash, h->user, h->party, h->key, I64(h->at), h->signature,
               I64(h->recorded_at));
    if (rc && !strcmp(state, "23505"))
        return fm_fail(err, FM_ECONFLICT, NULL, "that head is cosigned by that user already");
    return pg_returning_id(rc, r, id);
}

static fm_rc heads_each(struct data_db *db, int64_t since, store_head_cb cb, void *ctx,
                        struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "heads", err,
                      "SELECT id, seq, hash, \"user\", party, key, at, signature, recorded_at FROM"
                      " cosigned_heads WHERE id > $1::bigint ORDER BY id",
                      1, I64(since));
    if (rc) return rc;
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        struct store_head h = {
            .id = pg_col_i(r, i, 0),
            .seq = pg_col_i(r, i, 1),
            .hash = pg_col_s(r, i, 2),
            .user = pg_col_s(r, i, 3),
            .party = pg_col_s(r, i, 4),
            .key = pg_col_s(r, i, 5),
            .at = pg_col_i(r, i, 6),
            .signature = pg_col_s(r, i, 7),
            .recorded_at = pg_col_i(r, i, 8),
        };
        if (cb(ctx, &h)) break;
    }
    PQclear(r);
    return FM_OK;
}

void pg_heads_ops(struct store_ops *ops)
{
    ops->head_insert = head_insert;
    ops->heads_each = heads_each;
}

/* messages.c - messages, their "seen" receipts and the rulings on
 * PostgreSQL, as data/sqlite/messages.c. */
#include "pgint.h"

#include <stdlib.h>
#include <string.h>

static fm_rc item_head(struct data_db *db, int64_t id, int64_t version, struct store_item_head *out,
                       struct fm_err *err)
{
    memset(out, 0, sizeof *out);
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "item head", err,
                      "SELECT collection, party, status, version, owner_only FROM item_versions"
                      " WHERE item_id = $1::bigint AND ($2::bigint > 0 AND version = $2::bigint"
                      " OR $2::bigint <= 0 AND sys_to IS NULL)",
                      2, I64(id), I64(version));
    if (rc) return rc;
    if (PQntuples(r)) {
        snprintf(out->coll, sizeof out->coll, "%s", pg_col_s(r, 0, 0));
        snprintf(out->party, sizeof out->party, "%s", pg_col_s(r, 0, 1));
        snprintf(out->status, sizeof out->status, "%s", pg_col_s(r, 0, 2));
        out->version = pg_col_i(r, 0, 3);
        out->owner_only = pg_col_b(r, 0, 4);
    } else {
        rc = fm_fail(err, FM_ENOTFOUND, NULL, "no such item");
    }
    PQclear(r);
    return rc;
}

static fm_rc returning_id(fm_rc rc, PGresult *r, int64_t *id)
{
    *id = rc ? 0 : pg_col_i(r, 0, 0);
    PQclear(r);
    return rc;
}

static fm_rc message_insert(struct data_db *db, const struct store_message *m, int64_t *id,
                            struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = pg_run(
        db, &r, NULL, "insert message", err,
        "INSERT INTO messages (thread, readers, party, \"user\", at, text, quote_coll,"
        " quote_id, quote_version) VALUES ($1, $2, $3, $4, $5::bigint, $6, $7,"
        " $8::bigint, $9::bigint) RETURNING id",
        9, m->thread, m->readers, m->party, m->user, I64(m->at), m->text, m->quote_coll,
        m->quote_coll ? I64(m->quote_id) : NULL, m->quote_coll ? I64(m->quote_version) : NULL);
    return returning_id(rc, r, id);
}

static fm_rc receipt_insert(struct data_db *db, const struct store_message *m, int64_t *id,
                            struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "insert receipt", err,
                      "INSERT INTO message_receipts (thread, readers, party, \"user\", at, upto)"
                      " VALUES ($1, $2, $3, $4, $5::bigint, $6::bigint) RETURNING id",
                      6, m->thread, m->readers, m->party, m->user, I64(m->at), I64(m->upto));
    return returning_id(rc, r, id);
}

static fm_rc messages_out(PGresult *r, int receipts, store_message_cb cb, void *ctx)
{
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        struct store_message m = {
            .id = pg_col_i(r, i, 0),
            .thread = pg_col_s(r, i, 1),
            .readers = pg_col(r, i, 2),
            .party = pg_col_s(r, i, 3),
            .user = pg_col_s(r, i, 4),
            .at = pg_col_i(r, i, 5),
        };
        if (receipts) {
            m.upto = pg_col_i(r, i, 6);
        } else {
            m.text = pg_col_s(r, i, 6);
            m.quote_coll = pg_col(r, i, 7);
            m.quote_id = pg_col_i(r, i, 8);
            m.quote_version = pg_col_i(r, i, 9);
        }
        if (cb(ctx, &m)) break;
    }
    PQclear(r);
    return FM_OK;
}

static fm_rc messages_each(struct data_db *db, const char *thread, int64_t since,
                           store_message_cb cb, void *ctx, struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "messages", err,
                      "SELECT id, thread, readers, party, \"user\", at, text, quote_coll, quote_id,"
                      " quote_version FROM messages WHERE ($1::text IS NULL OR thread = $1)"
                      " AND id > $2::bigint ORDER BY id",
                      2, thread, I64(since));
    return rc ? rc : messages_out(r, 0, cb, ctx);
}

static fm_rc receipts_each(struct data_db *db, const char *thread, store_message_cb cb, void *ctx,
                           struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "receipts", err,
                      "SELECT id, thread, readers, party, \"user\", at, upto FROM message_receipts"
                      " WHERE $1::text IS NULL OR thread = $1 ORDER BY id",
                      1, thread);
    return rc ? rc : messages_out(r, 1, cb, ctx);
}

static fm_rc ruling_insert(struct data_db *db, const struct store_ruling *g, int64_t *id,
                           struct fm_err *err)
{
    PGresult *r;
    char state[6];
    fm_rc rc = pg_run(
        db, &r, state, "insert ruling", err,
        "INSERT INTO rulings (item_id, version, party, \"user\", at, decision, reason)"
        " VALUES ($1::bigint, $2::bigint, $3, $4, $5::bigint, $6, $7) RETURNING id",
        7, I64(g->item), I64(g->version), g->party, g->user, I64(g->at), g->decision, g->reason);
    if (rc && !strcmp(state, "23505"))
        return fm_fail(err, FM_ECONFLICT, NULL, "that version has its ruling already");
    return returning_id(rc, r, id);
}

static fm_rc rulings_each(struct data_db *db, int64_t item, store_ruling_cb cb, void *ctx,
                          struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "rulings", err,
                      "SELECT id, item_id, version, party, \"user\", at, decision, reason FROM"
                      " rulings WHERE $1::bigint = 0 OR item_id = $1::bigint ORDER BY id",
                      1, I64(item));
    if (rc) return rc;
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        struct store_ruling g = {
            .id = pg_col_i(r, i, 0),
            .item = pg_col_i(r, i, 1),
            .version = pg_col_i(r, i, 2),
            .party = pg_col_s(r, i, 3),
            .user = pg_col_s(r, i, 4),
            .at = pg_col_i(r, i, 5),
            .decision = pg_col_s(r, i, 6),
            .reason = pg_col_s(r, i, 7),
        };
        if (cb(ctx, &g)) break;
    }
    PQclear(r);
    return FM_OK;
}

void pg_messages_ops(struct store_ops *ops)
{
    ops->item_head = item_head;
    ops->message_insert = message_insert;
    ops->receipt_insert = receipt_insert;
    ops->messages_each = messages_each;
    ops->receipts_each = receipts_each;
    ops->ruling_insert = ruling_insert;
    ops->rulings_each = rulings_each;
}

/* messages.c - the store interface (store.h) on SQLite: the rows of the
 * cell's messages, their "seen" receipts, the supervisor's rulings, and
 * the newest version of an item as they need it. No rule here:
 * data/messages.c and data/rulings.c decide, this keeps and finds. */
#include "sqlite.h"

#include <stdio.h>
#include <string.h>

static fm_rc item_head(struct data_db *db, int64_t id, int64_t version,
                       struct store_item_head *out, struct fm_err *err)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          "SELECT collection, party, status, version, owner_only FROM item_versions"
                          " WHERE item_id = ?1 AND (?2 > 0 AND version = ?2 OR ?2 <= 0 AND"
                          " sys_to IS NULL)",
                          &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, version);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        snprintf(out->coll, sizeof out->coll, "%s", db_text(st, 0));
        snprintf(out->party, sizeof out->party, "%s", db_text(st, 1));
        snprintf(out->status, sizeof out->status, "%s", db_text(st, 2));
        out->version = sqlite3_column_int64(st, 3);
        out->owner_only = sqlite3_column_int(st, 4);
    } else if (s == SQLITE_DONE) {
        rc = fm_fail(err, FM_ENOTFOUND, NULL, "no such item");
    } else {
        rc = db_fail(db, err, "item head");
    }
    sqlite3_finalize(st);
    return rc;
}

static fm_rc insert(struct data_db *db, const char *sql, const struct store_message *m,
                    int64_t *id, struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db, sql, &st, err);
    if (rc) return rc;
    db_bind_text(st, ":thread", m->thread);
    db_bind_text(st, ":readers", m->readers);
    db_bind_text(st, ":party", m->party);
    db_bind_text(st, ":user", m->user);
    db_bind_int(st, ":at", m->at);
    db_bind_text(st, ":text", m->text);
    db_bind_text(st, ":qc", m->quote_coll);
    if (m->quote_coll) {
        db_bind_int(st, ":qi", m->quote_id);
        db_bind_int(st, ":qv", m->quote_version);
    }
    db_bind_int(st, ":upto", m->upto);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_fail(db, err, "insert message");
    else
        *id = sqlite3_last_insert_rowid(db->h);
    sqlite3_finalize(st);
    return rc;
}

static fm_rc message_insert(struct data_db *db, const struct store_message *m, int64_t *id,
                            struct fm_err *err)
{
    return insert(db,
                  "INSERT INTO messages (thread, readers, party, user, at, text, quote_coll,"
                  " quote_id, quote_version) VALUES (:thread, :readers, :party, :user, :at,"
                  " :text, :qc, :qi, :qv)",
                  m, id, err);
}

static fm_rc receipt_insert(struct data_db *db, const struct store_message *m, int64_t *id,
                            struct fm_err *err)
{
    return insert(db,
                  "INSERT INTO message_receipts (thread, readers, party, user, at, upto)"
                  " VALUES (:thread, :readers, :party, :user, :at, :upto)",
                  m, id, err);
}

static const char *text_or_null(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? NULL : db_text(st, col);
}

static fm_rc each(struct data_db *db, sqlite3_stmt *st, int receipts, store_message_cb cb,
                  void *ctx, struct fm_err *err)
{
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_message m = {
            .id = sqlite3_column_int64(st, 0),
            .thread = db_text(st, 1),
            .readers = text_or_null(st, 2),
            .party = db_text(st, 3),
            .user = db_text(st, 4),
            .at = sqlite3_column_int64(st, 5),
        };
        if (receipts) {
            m.upto = sqlite3_column_int64(st, 6);
        } else {
            m.text = db_text(st, 6);
            m.quote_coll = text_or_null(st, 7);
            m.quote_id = sqlite3_column_int64(st, 8);
            m.quote_version = sqlite3_column_int64(st, 9);
        }
        if (cb(ctx, &m)) break;
    }
    fm_rc rc = s == SQLITE_ROW || s == SQLITE_DONE ? FM_OK : db_fail(db, err, "messages");
    sqlite3_finalize(st);
    return rc;
}

static fm_rc messages_each(struct data_db *db, const char *thread, int64_t since,
                           store_message_cb cb, void *ctx, struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          "SELECT id, thread, readers, party, user, at, text, quote_coll,"
                          " quote_id, quote_version FROM messages WHERE (?1 IS NULL OR"
                          " thread = ?1) AND id > ?2 ORDER BY id",
                          &st, err);
    if (rc) return rc;
    if (thread) sqlite3_bind_text(st, 1, thread, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, since);
    return each(db, st, 0, cb, ctx, err);
}

static fm_rc receipts_each(struct data_db *db, const char *thread, store_message_cb cb,
                           void *ctx, struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          "SELECT id, thread, readers, party, user, at, upto FROM"
                          " message_receipts WHERE ?1 IS NULL OR thread = ?1 ORDER BY id",
                          &st, err);
    if (rc) return rc;
    if (thread) sqlite3_bind_text(st, 1, thread, -1, SQLITE_STATIC);
    return each(db, st, 1, cb, ctx, err);
}


/* ---- rulings ---------------------------------------------------------------- */

static fm_rc ruling_insert(struct data_db *db, const struct store_ruling *r, int64_t *id,
                           struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          "INSERT INTO rulings (item_id, version, party, user, at, decision, reason)"
                          " VALUES (?,?,?,?,?,?,?)",
                          &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, r->item);
    sqlite3_bind_int64(st, 2, r->version);
    sqlite3_bind_text(st, 3, r->party, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, r->user, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, r->at);
    sqlite3_bind_text(st, 6, r->decision, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, r->reason, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    if (s == SQLITE_DONE)
        *id = sqlite3_last_insert_rowid(db->h);
    else if (sqlite3_extended_errcode(db->h) == SQLITE_CONSTRAINT_UNIQUE)
        rc = fm_fail(err, FM_ECONFLICT, NULL, "that version has its ruling already");
    else
        rc = db_fail(db, err, "insert ruling");
    sqlite3_finalize(st);
    return rc;
}

static fm_rc rulings_each(struct data_db *db, int64_t item, store_ruling_cb cb, void *ctx,
                          struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          "SELECT id, item_id, version, party, user, at, decision, reason FROM"
                          " rulings WHERE ?1 = 0 OR item_id = ?1 ORDER BY id",
                          &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, item);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_ruling r = {
            .id = sqlite3_column_int64(st, 0),
            .item = sqlite3_column_int64(st, 1),
            .version = sqlite3_column_int64(st, 2),
            .party = db_text(st, 3),
            .user = db_text(st, 4),
            .at = sqlite3_column_int64(st, 5),
            .decision = db_text(st, 6),
            .reason = db_text(st, 7),
        };
        if (cb(ctx, &r)) break;
    }
    if (s != SQLITE_ROW && s != SQLITE_DONE) rc = db_fail(db, err, "rulings");
    sqlite3_finalize(st);
    return rc;
}

void sqlite_messages_ops(struct store_ops *o)
{
    o->item_head = item_head;
    o->message_insert = message_insert;
    o->receipt_insert = receipt_insert;
    o->messages_each = messages_each;
    o->receipts_each = receipts_each;
    o->ruling_insert = ruling_insert;
    o->rulings_each = rulings_each;
}

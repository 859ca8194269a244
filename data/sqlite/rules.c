/* rules.c - the store interface (store.h) on SQLite: the rows of the
 * admin's lead-time rules and of the deadlines of versions that wait for
 * an answer. No rule here: data/rules.c decides, this keeps and finds. */
#include "sqlite.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static fm_rc rule_put(struct data_db *db, const struct store_rule *r, struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          "INSERT OR REPLACE INTO deadline_rules (collection, type, notice_s,"
                          " urgent_notice_s, answer_s, answer_before_s, at, by_user)"
                          " VALUES (?,?,?,?,?,?,?,?)",
                          &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, r->collection, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->type, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, r->notice_s);
    sqlite3_bind_int64(st, 4, r->urgent_notice_s);
    sqlite3_bind_int64(st, 5, r->answer_s);
    sqlite3_bind_int64(st, 6, r->answer_before_s);
    sqlite3_bind_int64(st, 7, r->at);
    sqlite3_bind_text(st, 8, r->by, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) rc = db_fail(db, err, "set rule");
    sqlite3_finalize(st);
    return rc;
}

static fm_rc rules_each(struct data_db *db, store_rule_cb cb, void *ctx, struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          "SELECT collection, type, notice_s, urgent_notice_s, answer_s,"
                          " answer_before_s, at, by_user FROM deadline_rules"
                          " ORDER BY collection, type",
                          &st, err);
    if (rc) return rc;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_rule r = {
            .collection = db_text(st, 0),
            .type = db_text(st, 1),
            .notice_s = sqlite3_column_int64(st, 2),
            .urgent_notice_s = sqlite3_column_int64(st, 3),
            .answer_s = sqlite3_column_int64(st, 4),
            .answer_before_s = sqlite3_column_int64(st, 5),
            .at = sqlite3_column_int64(st, 6),
            .by = db_text(st, 7),
        };
        if (cb(ctx, &r)) break;
    }
    if (s != SQLITE_ROW && s != SQLITE_DONE) rc = db_fail(db, err, "rules");
    sqlite3_finalize(st);
    return rc;
}

static fm_rc deadline_insert(struct data_db *db, const struct store_deadline *d,
                             struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          "INSERT INTO deadlines (item_id, version, collection, party,"
                          " notified_at, due_at) VALUES (?,?,?,?,?,?)",
                          &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, d->item);
    sqlite3_bind_int64(st, 2, d->version);
    sqlite3_bind_text(st, 3, d->collection, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, d->party, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, d->notified_at);
    sqlite3_bind_int64(st, 6, d->due_at);
    if (sqlite3_step(st) != SQLITE_DONE) {
        if (sqlite3_extended_errcode(db->h) == SQLITE_CONSTRAINT_PRIMARYKEY)
            rc = fm_fail(err, FM_ECONFLICT, NULL, "that version has its deadline already");
        else
            rc = db_fail(db, err, "insert deadline");
    }
    sqlite3_finalize(st);
    return rc;
}

static fm_rc deadlines_each(struct data_db *db, int which, fm_time now, store_deadline_cb cb,
                            void *ctx, struct fm_err *err)
{
    static const char *const sql[] = {
        "SELECT d.item_id, d.version, d.collection, d.party, d.notified_at, d.due_at,"
        " d.overdue_at FROM deadlines d JOIN item_versions v ON v.item_id = d.item_id AND"
        " v.version = d.version AND v.sys_to IS NULL WHERE d.overdue_at IS NULL AND"
        " d.due_at <= ?1 ORDER BY d.item_id, d.version",
        "SELECT d.item_id, d.version, d.collection, d.party, d.notified_at, d.due_at,"
        " d.overdue_at FROM deadlines d JOIN item_versions v ON v.item_id = d.item_id AND"
        " v.version = d.version AND v.sys_to IS NULL WHERE d.overdue_at IS NOT NULL"
        " ORDER BY d.item_id, d.version",
        ("SELECT item_id, version, collection, party, notified_at, due_at, overdue_at"
         " FROM deadlines ORDER BY item_id, version"),
    };
    if (which < 0 || which > 2) return fm_fail(err, FM_EINTERNAL, NULL, "deadlines: which");
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db, sql[which], &st, err);
    if (rc) return rc;
    if (which == 0) sqlite3_bind_int64(st, 1, now);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_deadline d = {
            .item = sqlite3_column_int64(st, 0),
            .version = sqlite3_column_int64(st, 1),
            .collection = db_text(st, 2),
            .party = db_text(st, 3),
            .notified_at = sqlite3_column_int64(st, 4),
            .due_at = sqlite3_column_int64(st, 5),
            .overdue_at = sqlite3_column_int64(st, 6),
        };
        if (cb(ctx, &d)) break;
    }
    if (s != SQLITE_ROW && s != SQLITE_DONE) rc = db_fail(db, err, "deadlines");
    sqlite3_finalize(st);
    return rc;
}

/* The ids as a JSON array for json_each (SQLite's JSON functions are
 * built in since 3.38): one statement, whatever the page's size. */
static char *ids_json(const int64_t *items, size_t n)
{
    struct fm_buf b;
    fm_buf_init(&b, FM_BUF_UNCAPPED);
    FM_BUF_LIT(&b, "[");
    for (size_t i = 0; i < n; i++) {
        char one[32];
        int l = snprintf(one, sizeof one, "%s%" PRId64, i ? "," : "", items[i]);
        fm_buf_put(&b, one, (size_t)l);
    }
    FM_BUF_LIT(&b, "]");
    fm_buf_put(&b, "", 1);
    return b.data;
}

static fm_rc deadlines_overdue_of(struct data_db *db, const int64_t *items, size_t n,
                                  store_deadline_cb cb, void *ctx, struct fm_err *err)
{
    if (n == 0) return FM_OK;
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          "SELECT d.item_id, d.version, d.collection, d.party, d.notified_at,"
                          " d.due_at, d.overdue_at FROM deadlines d JOIN item_versions v ON"
                          " v.item_id = d.item_id AND v.version = d.version AND v.sys_to IS NULL"
                          " WHERE d.overdue_at IS NOT NULL AND d.item_id IN"
                          " (SELECT value FROM json_each(?1)) ORDER BY d.item_id, d.version",
                          &st, err);
    if (rc) return rc;
    char *ids = ids_json(items, n);
    sqlite3_bind_text(st, 1, ids, -1, SQLITE_STATIC);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_deadline d = {
            .item = sqlite3_column_int64(st, 0),
            .version = sqlite3_column_int64(st, 1),
            .collection = db_text(st, 2),
            .party = db_text(st, 3),
            .notified_at = sqlite3_column_int64(st, 4),
            .due_at = sqlite3_column_int64(st, 5),
            .overdue_at = sqlite3_column_int64(st, 6),
        };
        if (cb(ctx, &d)) break;
    }
    if (s != SQLITE_ROW && s != SQLITE_DONE) rc = db_fail(db, err, "overdue deadlines");
    sqlite3_finalize(st);
    free(ids);
    return rc;
}

static fm_rc deadline_overdue(struct data_db *db, int64_t item, int64_t version, fm_time at,
                              struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          "UPDATE deadlines SET overdue_at = ?3 WHERE item_id = ?1 AND"
                          " version = ?2 AND overdue_at IS NULL",
                          &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, item);
    sqlite3_bind_int64(st, 2, version);
    sqlite3_bind_int64(st, 3, at);
    if (sqlite3_step(st) != SQLITE_DONE) rc = db_fail(db, err, "deadline overdue");
    sqlite3_finalize(st);
    return rc;
}

void sqlite_rules_ops(struct store_ops *o)
{
    o->rule_put = rule_put;
    o->rules_each = rules_each;
    o->deadline_insert = deadline_insert;
    o->deadlines_each = deadlines_each;
    o->deadline_overdue = deadline_overdue;
    o->deadlines_overdue_of = deadlines_overdue_of;
}

/* rules.c - the lead-time rules and the deadlines on PostgreSQL, as
 * data/sqlite/rules.c. */
#include "pgint.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static fm_rc rule_put(struct data_db *db, const struct store_rule *g, struct fm_err *err)
{
    char b1[24], b2[24], b3[24], b4[24], b5[24];
    return pg_run(db, NULL, NULL, "set rule", err,
                  "INSERT INTO deadline_rules (collection, type, notice_s, urgent_notice_s,"
               " answer_s, answer_before_s, at, by_user) VALUES ($1, $2, $3::bigint,"
               " $4::bigint, $5::bigint, $6::bigint, $7::bigint, $8)"
               " ON CONFLICT (collection, type) DO UPDATE SET notice_s = EXCLUDED.notice_s,"
               " urgent_notice_s = EXCLUDED.urgent_notice_s, answer_s = EXCLUDED.answer_s,"
               " answer_before_s = EXCLUDED.answer_before_s, at = EXCLUDED.at,"
               " by_user = EXCLUDED.by_user",
               8, g->collection, g->type, pg_i64_text(b1, g->notice_s),
               pg_i64_text(b2, g->urgent_notice_s), pg_i64_text(b3, g->answer_s),
               pg_i64_text(b4, g->answer_before_s), pg_i64_text(b5, g->at), g->by);
}

static fm_rc rules_each(struct data_db *db, store_rule_cb cb, void *ctx, struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "rules", err,
                   "SELECT collection, type, notice_s, urgent_notice_s, answer_s,"
                   " answer_before_s, at, by_user FROM deadline_rules ORDER BY collection, type",
                   0);
    if (rc) return rc;
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        struct store_rule g = {
            .collection = pg_col_s(r, i, 0),
            .type = pg_col_s(r, i, 1),
            .notice_s = pg_col_i(r, i, 2),
            .urgent_notice_s = pg_col_i(r, i, 3),
            .answer_s = pg_col_i(r, i, 4),
            .answer_before_s = pg_col_i(r, i, 5),
            .at = pg_col_i(r, i, 6),
            .by = pg_col_s(r, i, 7),
        };
        if (cb(ctx, &g)) break;
    }
    PQclear(r);
    return FM_OK;
}

static fm_rc deadline_insert(struct data_db *db, const struct store_deadline *d,
                             struct fm_err *err)
{
    char b1[24], b2[24], b3[24], b4[24], state[6];
    fm_rc rc = pg_run(db, NULL, state, "insert deadline", err,
                   "INSERT INTO deadlines (item_id, version, collection, party, notified_at,"
                   " due_at) VALUES ($1::bigint, $2::bigint, $3, $4, $5::bigint, $6::bigint)",
                   6, pg_i64_text(b1, d->item), pg_i64_text(b2, d->version), d->collection, d->party,
                   pg_i64_text(b3, d->notified_at), pg_i64_text(b4, d->due_at));
    if (rc && !strcmp(state, "23505"))
        return fm_fail(err, FM_ECONFLICT, NULL, "that version has its deadline already");
    return rc;
}

static fm_rc deadlines_each(struct data_db *db, int which, fm_time now, store_deadline_cb cb,
                            void *ctx, struct fm_err *err)
{
    static const char *const sql[] = {
        "SELECT d.item_id, d.version, d.collection, d.party, d.notified_at, d.due_at,"
        " d.overdue_at FROM deadlines d JOIN item_versions v ON v.item_id = d.item_id AND"
        " v.version = d.version AND v.sys_to IS NULL WHERE d.overdue_at IS NULL AND"
        " d.due_at <= $1::bigint ORDER BY d.item_id, d.version",
        "SELECT d.item_id, d.version, d.collection, d.party, d.notified_at, d.due_at,"
        " d.overdue_at FROM deadlines d JOIN item_versions v ON v.item_id = d.item_id AND"
        " v.version = d.version AND v.sys_to IS NULL WHERE d.overdue_at IS NOT NULL"
        " AND $1::bigint IS NOT NULL ORDER BY d.item_id, d.version",
        ("SELECT item_id, version, collection, party, notified_at, due_at, overdue_at"
         " FROM deadlines WHERE $1::bigint IS NOT NULL ORDER BY item_id, version"),
    };
    if (which < 0 || which > 2) return fm_fail(err, FM_EINTERNAL, NULL, "deadlines: which");
    char b1[24];
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "deadlines", err, sql[which], 1, pg_i64_text(b1, now));
    if (rc) return rc;
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        struct store_deadline d = {
            .item = pg_col_i(r, i, 0),
            .version = pg_col_i(r, i, 1),
            .collection = pg_col_s(r, i, 2),
            .party = pg_col_s(r, i, 3),
            .notified_at = pg_col_i(r, i, 4),
            .due_at = pg_col_i(r, i, 5),
            .overdue_at = pg_col_i(r, i, 6),
        };
        if (cb(ctx, &d)) break;
    }
    PQclear(r);
    return FM_OK;
}

/* The ids as an array literal {1,2,3}: one statement, whatever the page. */
static fm_rc deadlines_overdue_of(struct data_db *db, const int64_t *items, size_t n,
                                  store_deadline_cb cb, void *ctx, struct fm_err *err)
{
    if (n == 0) return FM_OK;
    struct fm_buf b;
    fm_buf_init(&b, FM_BUF_UNCAPPED);
    FM_BUF_LIT(&b, "{");
    for (size_t i = 0; i < n; i++) {
        char one[32];
        int l = snprintf(one, sizeof one, "%s%" PRId64, i ? "," : "", items[i]);
        fm_buf_put(&b, one, (size_t)l);
    }
    FM_BUF_LIT(&b, "}");
    fm_buf_put(&b, "", 1);
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "overdue deadlines", err,
                      "SELECT d.item_id, d.version, d.collection, d.party, d.notified_at,"
                      " d.due_at, d.overdue_at FROM deadlines d JOIN item_versions v ON"
                      " v.item_id = d.item_id AND v.version = d.version AND v.sys_to IS NULL"
                      " WHERE d.overdue_at IS NOT NULL AND d.item_id = ANY($1::bigint[])"
                      " ORDER BY d.item_id, d.version",
                      1, b.data);
    free(b.data);
    if (rc) return rc;
    for (int i = 0, nt = PQntuples(r); i < nt; i++) {
        struct store_deadline d = {
            .item = pg_col_i(r, i, 0),
            .version = pg_col_i(r, i, 1),
            .collection = pg_col_s(r, i, 2),
            .party = pg_col_s(r, i, 3),
            .notified_at = pg_col_i(r, i, 4),
            .due_at = pg_col_i(r, i, 5),
            .overdue_at = pg_col_i(r, i, 6),
        };
        if (cb(ctx, &d)) break;
    }
    PQclear(r);
    return FM_OK;
}

static fm_rc deadline_overdue(struct data_db *db, int64_t item, int64_t version, fm_time at,
                              struct fm_err *err)
{
    char b1[24], b2[24], b3[24];
    return pg_run(db, NULL, NULL, "deadline overdue", err,
               "UPDATE deadlines SET overdue_at = $3::bigint WHERE item_id = $1::bigint AND"
               " version = $2::bigint AND overdue_at IS NULL",
               3, pg_i64_text(b1, item), pg_i64_text(b2, version), pg_i64_text(b3, at));
}

void pg_rules_ops(struct store_ops *o)
{
    o->rule_put = rule_put;
    o->rules_each = rules_each;
    o->deadline_insert = deadline_insert;
    o->deadlines_each = deadlines_each;
    o->deadline_overdue = deadline_overdue;
    o->deadlines_overdue_of = deadlines_overdue_of;
}

/* items.c - the store interface (store.h) on SQLite: items and their
 * versions, kept with their SpatiaLite geometry. The workflow and who may
 * do what are data/items.c's; this keeps the rows and finds them again. */
#include "sqlite.h"

#include <stdio.h>

#define GEOM_SQL "CastToXY(SetSRID(GeomFromGeoJSON(?), 4326))"

static fm_rc geometry_check(struct data_db *db, const char *geojson, int *readable, int *valid,
                            char reason[200], struct fm_err *err)
{
    *readable = *valid = 0;
    reason[0] = 0;
    sqlite3_stmt *st;
    fm_rc rc = db_cached(db,
                         "SELECT g IS NULL, ST_IsValid(g), ST_IsValidReason(g)"
                         " FROM (SELECT " GEOM_SQL " AS g)",
                         &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, geojson, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = db_fail(db, err, "geometry check");
    } else {
        *readable = !sqlite3_column_int(st, 0);
        *valid = sqlite3_column_int(st, 1) == 1;
        snprintf(reason, 200, "%s", db_text(st, 2));
    }
    db_release(st);
    return rc;
}

static fm_rc item_insert(struct data_db *db, const char *collection, const char *party, fm_time at,
                         const char *by, int64_t *id, struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_cached(db,
                         "INSERT INTO items (collection, party, created_at, created_by)"
                         " VALUES (?,?,?,?)",
                         &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, collection, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, party, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, at);
    sqlite3_bind_text(st, 4, by, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) rc = db_fail(db, err, "insert item");
    *id = sqlite3_last_insert_rowid(db->h);
    db_release(st);
    return rc;
}

static fm_rc version_insert(struct data_db *db, const struct store_version *r, struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_cached(db,
                         "INSERT INTO item_versions (item_id, version, collection, party, status,"
                         " type, title, valid_from, valid_to, alt_floor, alt_ceiling, sys_from,"
                         " action, by_user, feature, owner_only, geom) VALUES"
                         " (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?," GEOM_SQL ")",
                         &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, r->item);
    sqlite3_bind_int64(st, 2, r->version);
    sqlite3_bind_text(st, 3, r->collection, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, r->party, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, r->status, -1, SQLITE_STATIC);
    if (r->type) sqlite3_bind_text(st, 6, r->type, -1, SQLITE_STATIC);
    if (r->title) sqlite3_bind_text(st, 7, r->title, -1, SQLITE_STATIC);
    if (r->has_from) sqlite3_bind_int64(st, 8, r->valid_from);
    if (r->has_to) sqlite3_bind_int64(st, 9, r->valid_to);
    if (r->has_floor) sqlite3_bind_double(st, 10, r->alt_floor);
    if (r->has_ceiling) sqlite3_bind_double(st, 11, r->alt_ceiling);
    sqlite3_bind_int64(st, 12, r->sys_from);
    sqlite3_bind_text(st, 13, r->action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 14, r->by, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 15, r->feature, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 16, r->owner_only != 0);
    sqlite3_bind_text(st, 17, r->geometry, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) rc = db_fail(db, err, "insert version");
    db_release(st);
    return rc;
}

static fm_rc version_close(struct data_db *db, int64_t vid, fm_time at, struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_cached(db, "UPDATE item_versions SET sys_to = ? WHERE vid = ?", &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, at);
    sqlite3_bind_int64(st, 2, vid);
    if (sqlite3_step(st) != SQLITE_DONE) rc = db_fail(db, err, "close version");
    db_release(st);
    return rc;
}

#define VERSION_COLUMNS                                                                            \
    "v.vid, v.item_id, v.version, v.collection, v.party, v.status, v.type, v.title,"               \
    " v.valid_from, v.valid_to, v.alt_floor, v.alt_ceiling, v.sys_from, v.action, v.by_user,"      \
    " v.feature, v.owner_only, i.created_at, i.created_by"

static const char *text_or_null(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? NULL : db_text(st, col);
}

static void version_from_row(sqlite3_stmt *st, struct store_version *r)
{
    *r = (struct store_version){
        .vid = sqlite3_column_int64(st, 0),
        .item = sqlite3_column_int64(st, 1),
        .version = sqlite3_column_int64(st, 2),
        .collection = db_text(st, 3),
        .party = db_text(st, 4),
        .status = db_text(st, 5),
        .type = text_or_null(st, 6),
        .title = text_or_null(st, 7),
        .has_from = sqlite3_column_type(st, 8) != SQLITE_NULL,
        .has_to = sqlite3_column_type(st, 9) != SQLITE_NULL,
        .has_floor = sqlite3_column_type(st, 10) != SQLITE_NULL,
        .has_ceiling = sqlite3_column_type(st, 11) != SQLITE_NULL,
        .valid_from = sqlite3_column_int64(st, 8),
        .valid_to = sqlite3_column_int64(st, 9),
        .alt_floor = sqlite3_column_double(st, 10),
        .alt_ceiling = sqlite3_column_double(st, 11),
        .sys_from = sqlite3_column_int64(st, 12),
        .action = db_text(st, 13),
        .by = db_text(st, 14),
        .feature = db_text(st, 15),
        .owner_only = sqlite3_column_int(st, 16),
        .created_at = sqlite3_column_int64(st, 17),
        .created_by = db_text(st, 18),
    };
}

/* Hands each row of st (bound, kept or prepared) to cb; FM_ENOTFOUND when
 * want_one and there was none. */
static fm_rc versions_out(struct data_db *db, sqlite3_stmt *st, int want_one, store_version_cb cb,
                          void *ctx, const char *what, struct fm_err *err)
{
    int s, n = 0;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_version r;
        version_from_row(st, &r);
        n++;
        if (cb(ctx, &r)) {
            s = SQLITE_DONE;
            break;
        }
    }
    if (s != SQLITE_DONE) return db_fail(db, err, what);
    if (want_one && !n) return fm_fail(err, FM_ENOTFOUND, NULL, "no such %s", what);
    return FM_OK;
}

static fm_rc version_current(struct data_db *db, const char *collection, int64_t id,
                             store_version_cb cb, void *ctx, struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_cached(db,
                         "SELECT " VERSION_COLUMNS " FROM item_versions v"
                         " JOIN items i ON i.id = v.item_id"
                         " WHERE v.item_id = ? AND v.collection = ? AND v.sys_to IS NULL",
                         &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, collection, -1, SQLITE_STATIC);
    rc = versions_out(db, st, 1, cb, ctx, "item", err);
    db_release(st);
    return rc;
}

static fm_rc versions_each(struct data_db *db, const char *collection, int64_t id,
                           store_version_cb cb, void *ctx, struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          "SELECT " VERSION_COLUMNS " FROM item_versions v"
                          " JOIN items i ON i.id = v.item_id"
                          " WHERE v.item_id = ? AND v.collection = ? ORDER BY v.version",
                          &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, collection, -1, SQLITE_STATIC);
    rc = versions_out(db, st, 0, cb, ctx, "history", err);
    sqlite3_finalize(st);
    return rc;
}

static fm_rc version_get(struct data_db *db, int64_t id, int64_t version, store_version_cb cb,
                         void *ctx, struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          "SELECT " VERSION_COLUMNS " FROM item_versions v"
                          " JOIN items i ON i.id = v.item_id"
                          " WHERE v.item_id = ? AND v.version = ?",
                          &st, err);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, version);
    rc = versions_out(db, st, 1, cb, ctx, "version", err);
    sqlite3_finalize(st);
    return rc;
}

static fm_rc current_each(struct data_db *db, const char *status, const char *unanswered_by,
                          store_version_cb cb, void *ctx, struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          "SELECT " VERSION_COLUMNS " FROM item_versions v"
                          " JOIN items i ON i.id = v.item_id WHERE v.sys_to IS NULL"
                          " AND (?1 IS NULL OR v.status = ?1)"
                          " AND (?2 IS NULL OR (v.party <> ?2 AND NOT EXISTS (SELECT 1 FROM acks a"
                          " WHERE a.item_id = v.item_id AND a.version = v.version"
                          " AND a.party = ?2))) ORDER BY v.item_id",
                          &st, err);
    if (rc) return rc;
    if (status) sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
    if (unanswered_by) sqlite3_bind_text(st, 2, unanswered_by, -1, SQLITE_STATIC);
    rc = versions_out(db, st, 0, cb, ctx, "items", err);
    sqlite3_finalize(st);
    return rc;
}

void sqlite_items_ops(struct store_ops *o)
{
    o->geometry_check = geometry_check;
    o->item_insert = item_insert;
    o->version_insert = version_insert;
    o->version_close = version_close;
    o->version_current = version_current;
    o->versions_each = versions_each;
    o->version_get = version_get;
    o->current_each = current_each;
}

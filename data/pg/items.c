/* items.c - items and their versions on PostgreSQL/PostGIS, as
 * data/sqlite/items.c. */
#include "pgint.h"

#include <stdlib.h>
#include <string.h>

static fm_rc geometry_check(struct data_db *db, const char *geojson, int *readable, int *valid,
                            char reason[200], struct fm_err *err)
{
    *readable = *valid = 0;
    reason[0] = 0;
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "geometry check", err,
                      "SELECT readable, valid, reason FROM fm_geom_check($1)", 1, geojson);
    if (rc) return rc;
    *readable = pg_col_b(r, 0, 0);
    *valid = pg_col_b(r, 0, 1);
    snprintf(reason, 200, "%s", pg_col_s(r, 0, 2));
    PQclear(r);
    return FM_OK;
}

static fm_rc item_insert(struct data_db *db, const char *collection, const char *party, fm_time at,
                         const char *by, int64_t *id, struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "insert item", err,
                      "INSERT INTO items (collection, party, created_at, created_by)"
                      " VALUES ($1, $2, $3::bigint, $4) RETURNING id",
                      4, collection, party, I64(at), by);
    *id = rc ? 0 : pg_col_i(r, 0, 0);
    PQclear(r);
    return rc;
}

static fm_rc version_insert(struct data_db *db, const struct store_version *v, struct fm_err *err)
{
    return pg_run(db, NULL, NULL, "insert version", err,
                  "INSERT INTO item_versions (item_id, version, collection, party, status, type,"
                  " title, valid_from, valid_to, alt_floor, alt_ceiling, sys_from, action, by_user,"
                  " feature, owner_only, geom) VALUES ($1::bigint, $2::bigint, $3, $4, $5, $6, $7,"
                  " $8::bigint, $9::bigint, $10::float8, $11::float8, $12::bigint, $13, $14, $15,"
                  " $16::boolean, ST_Force2D(ST_SetSRID(ST_GeomFromGeoJSON($17), 4326)))",
                  17, I64(v->item), I64(v->version), v->collection, v->party, v->status, v->type,
                  v->title, v->has_from ? I64(v->valid_from) : NULL,
                  v->has_to ? I64(v->valid_to) : NULL, v->has_floor ? DBL(v->alt_floor) : NULL,
                  v->has_ceiling ? DBL(v->alt_ceiling) : NULL, I64(v->sys_from), v->action, v->by,
                  v->feature, v->owner_only ? "t" : "f", v->geometry);
}

static fm_rc version_close(struct data_db *db, int64_t vid, fm_time at, struct fm_err *err)
{
    return pg_run(db, NULL, NULL, "close version", err,
                  "UPDATE item_versions SET sys_to = $1::bigint WHERE vid = $2::bigint", 2, I64(at),
                  I64(vid));
}

#define VERSION_COLUMNS                                                                            \
    "v.vid, v.item_id, v.version, v.collection, v.party, v.status, v.type, v.title,"               \
    " v.valid_from, v.valid_to, v.alt_floor, v.alt_ceiling, v.sys_from, v.action, v.by_user,"      \
    " v.feature, v.owner_only, i.created_at, i.created_by"

static fm_rc versions_out(PGresult *r, int want_one, store_version_cb cb, void *ctx,
                          const char *what, struct fm_err *err)
{
    int n = PQntuples(r);
    for (int i = 0; i < n; i++) {
        struct store_version v = {
            .vid = pg_col_i(r, i, 0),
            .item = pg_col_i(r, i, 1),
            .version = pg_col_i(r, i, 2),
            .collection = pg_col_s(r, i, 3),
            .party = pg_col_s(r, i, 4),
            .status = pg_col_s(r, i, 5),
            .type = pg_col(r, i, 6),
            .title = pg_col(r, i, 7),
            .has_from = !PQgetisnull(r, i, 8),
            .has_to = !PQgetisnull(r, i, 9),
            .has_floor = !PQgetisnull(r, i, 10),
            .has_ceiling = !PQgetisnull(r, i, 11),
            .valid_from = pg_col_i(r, i, 8),
            .valid_to = pg_col_i(r, i, 9),
            .alt_floor = pg_col_d(r, i, 10),
            .alt_ceiling = pg_col_d(r, i, 11),
            .sys_from = pg_col_i(r, i, 12),
            .action = pg_col_s(r, i, 13),
            .by = pg_col_s(r, i, 14),
            .feature = pg_col_s(r, i, 15),
            .owner_only = pg_col_b(r, i, 16),
            .created_at = pg_col_i(r, i, 17),
            .created_by = pg_col_s(r, i, 18),
        };
        if (cb(ctx, &v)) break;
    }
    PQclear(r);
    return want_one && !n ? fm_fail(err, FM_ENOTFOUND, NULL, "no such %s", what) : FM_OK;
}

static fm_rc version_current(struct data_db *db, const char *collection, int64_t id,
                             store_version_cb cb, void *ctx, struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "load item", err,
                      "SELECT " VERSION_COLUMNS " FROM item_versions v"
                      " JOIN items i ON i.id = v.item_id"
                      " WHERE v.item_id = $1::bigint AND v.collection = $2 AND v.sys_to IS NULL",
                      2, I64(id), collection);
    return rc ? rc : versions_out(r, 1, cb, ctx, "item", err);
}

static fm_rc versions_each(struct data_db *db, const char *collection, int64_t id,
                           store_version_cb cb, void *ctx, struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "history", err,
                      "SELECT " VERSION_COLUMNS " FROM item_versions v"
                      " JOIN items i ON i.id = v.item_id"
                      " WHERE v.item_id = $1::bigint AND v.collection = $2 ORDER BY v.version",
                      2, I64(id), collection);
    return rc ? rc : versions_out(r, 0, cb, ctx, "history", err);
}

static fm_rc version_get(struct data_db *db, int64_t id, int64_t version, store_version_cb cb,
                         void *ctx, struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "version", err,
                      "SELECT " VERSION_COLUMNS " FROM item_versions v"
                      " JOIN items i ON i.id = v.item_id"
                      " WHERE v.item_id = $1::bigint AND v.version = $2::bigint",
                      2, I64(id), I64(version));
    return rc ? rc : versions_out(r, 1, cb, ctx, "version", err);
}

static fm_rc current_each(struct data_db *db, const char *status, const char *unanswered_by,
                          store_version_cb cb, void *ctx, struct fm_err *err)
{
    PGresult *r;
    fm_rc rc =
        pg_run(db, &r, NULL, "items", err,
               "SELECT " VERSION_COLUMNS " FROM item_versions v"
               " JOIN items i ON i.id = v.item_id WHERE v.sys_to IS NULL"
               " AND ($1::text IS NULL OR v.status = $1)"
               " AND ($2::text IS NULL OR (v.party <> $2 AND NOT EXISTS (SELECT 1 FROM acks a"
               " WHERE a.item_id = v.item_id AND a.version = v.version AND a.party = $2)))"
               " ORDER BY v.item_id",
               2, status, unanswered_by);
    return rc ? rc : versions_out(r, 0, cb, ctx, "items", err);
}

void pg_items_ops(struct store_ops *ops)
{
    ops->geometry_check = geometry_check;
    ops->item_insert = item_insert;
    ops->version_insert = version_insert;
    ops->version_close = version_close;
    ops->version_current = version_current;
    ops->versions_each = versions_each;
    ops->version_get = version_get;
    ops->current_each = current_each;
}

/* picture.c - the picture of now's rows on PostgreSQL/PostGIS (store.h),
 * from the current versions themselves: PostGIS's GiST index answers what
 * SQLite's picture R*Trees do, so nothing is kept twice. The box is
 * widened as migration 6's triggers widen it on SQLite (half a movement's
 * corridor, capped at DATA_PIC_MAX_CORRIDOR_M, in degrees of latitude;
 * longitude divided by the cosine of the latitude furthest from the
 * equator, at most 85 degrees). An item's row carries its version's
 * late_notice mark (rules.c, kept in its Feature). The open conflicts are
 * the conflicts table's (migration 7). */
#include "pgint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void database_name(struct data_db *db, char *buf, size_t size)
{
    /* a random name the schema's migration 4 drew: the same through any
     * host of the URL (a standby promoted keeps it) */
    PGresult *r;
    struct fm_err err;
    buf[0] = 0;
    if (pg_run(db, &r, NULL, "database name", &err, "SELECT id FROM fm_identity", 0)) return;
    if (PQntuples(r) == 1 && strlen(pg_col_s(r, 0, 0)) + 4 < size)
        snprintf(buf, size, "pg:%s", pg_col_s(r, 0, 0));
    PQclear(r);
}

int pg_pic_row(PGresult *r, int i, struct data_pic_row *row)
{
    size_t wkb_len = 0;
    unsigned char *wkb = PQunescapeBytea((const unsigned char *)pg_col_s(r, i, 8), &wkb_len);
    if (!wkb) return 0;
    *row = (struct data_pic_row){
        .id = pg_col_i(r, i, 0),
        .party = pg_col(r, i, 1),
        .status = pg_col(r, i, 2),
        .type = pg_col(r, i, 3),
        .title = pg_col(r, i, 4),
        .category = pg_col(r, i, 5),
        .severity = (int)pg_col_d(r, i, 6),
        .corridor_width_m = pg_col_d(r, i, 7),
        .wkb = wkb,
        .wkb_len = wkb_len,
    };
    return 1;
}

static fm_rc pic_items(struct data_db *db, enum data_coll c, int64_t id, store_pic_cb cb,
                       void *ctx, struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = pg_run(
        db, &r, NULL, "picture rows", err,
        "SELECT v.item_id, v.party, v.status, v.type, v.title, " PG_PIC_STYLE ","
        " ST_AsBinary(v.geom, 'NDR'),"
        " ST_XMin(v.geom) - " PG_PIC_HALF_LON ", ST_XMax(v.geom) + " PG_PIC_HALF_LON ","
        " ST_YMin(v.geom) - " PG_PIC_HALF_LAT ", ST_YMax(v.geom) + " PG_PIC_HALF_LAT ","
        " coalesce(v.feature::jsonb #> '{properties,late_notice}' = 'true'::jsonb, false)"
        " FROM item_versions v WHERE v.collection = $1 AND v.sys_to IS NULL"
        " AND v.status <> 'withdrawn' AND ($2::bigint = 0 OR v.item_id = $2::bigint)"
        " ORDER BY v.item_id",
        2, data_coll_name(c), I64(id));
    if (rc) return rc;
    for (int i = 0; i < PQntuples(r); i++) {
        struct store_pic_row p = {.vis = NULL};
        if (!pg_pic_row(r, i, &p.row)) continue;
        for (int k = 0; k < 4; k++) p.box[k] = pg_col_d(r, i, 9 + k);
        p.row.late_notice = pg_col_b(r, i, 13);
        int stop = cb(ctx, &p);
        PQfreemem((void *)p.row.wkb);
        if (stop) break;
    }
    PQclear(r);
    return FM_OK;
}

static fm_rc pic_conflicts(struct data_db *db, int64_t id, int64_t of_item, store_pic_cb cb,
                           void *ctx, struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "picture conflicts", err,
                      PG_CONFLICT_PIC " AND ($1::bigint = 0 OR c.id = $1::bigint)"
                      " AND ($2::bigint = 0 OR c.a_id = $2::bigint OR c.b_id = $2::bigint)"
                      " ORDER BY c.id",
                      2, I64(id), I64(of_item));
    if (rc) return rc;
    for (int i = 0; i < PQntuples(r); i++) {
        struct store_pic_row p = {.vis = pg_col(r, i, 15)};
        if (!pg_pic_row(r, i, &p.row)) continue;
        for (int k = 0; k < 4; k++) p.box[k] = pg_col_d(r, i, 9 + k);
        p.row.a_id = pg_col_i(r, i, 13);
        p.row.b_id = pg_col_i(r, i, 14);
        int stop = cb(ctx, &p);
        PQfreemem((void *)p.row.wkb);
        if (stop) break;
    }
    PQclear(r);
    return FM_OK;
}

void pg_picture_ops(struct store_ops *ops)
{
    ops->database_name = database_name;
    ops->pic_items = pic_items;
    ops->pic_conflicts = pic_conflicts;
}

/* picture.c - the picture of now's rows on SQLite (store.h): items from
 * migration 6's R*Trees, which keep each current version's box (widened
 * by half a movement's corridor), its columns for drawing and its WKB;
 * open conflicts from their table and geometry index. An item's row also
 * carries its version's late_notice mark, as rules.c decided it when the
 * version was written (kept in its Feature). No rule here:
 * data/picture.c keeps the copy and decides who sees what. */
#include "sqlite.h"

#include <stdio.h>
#include <string.h>

/* Every statement below gives these columns, in this order. */
#define ITEM_SELECT(c)                                                                            \
    "SELECT item_id AS id, party, status, type, title, category, severity, width, wkb,"          \
    " xmin, xmax, ymin, ymax, 0 AS a, 0 AS b, NULL AS vis,"                                     \
    " (SELECT json_extract(v.feature, '$.properties.late_notice') FROM item_versions AS v"      \
    "  WHERE v.vid = pic_" c ".vid) IS 1 AS late FROM pic_" c
#define CONFLICT_SELECT                                                                           \
    "SELECT c.id, NULL, c.state, c.kind, " CONFLICT_TITLE_SQL ", NULL, c.severity, NULL,"        \
    " AsBinary(c.geom), r.xmin, r.xmax, r.ymin, r.ymax, c.a_id, c.b_id, c.vis_party, 0"         \
    " FROM conflicts AS c CROSS JOIN idx_conflicts_geom AS r ON r.pkid = c.id"                   \
    " WHERE c.state = 'open'"

static void database_name(struct data_db *db, char *buf, size_t size)
{
    const char *path = sqlite3_db_filename(db->h, "main");
    if (!path || strlen(path) >= size) path = "";
    snprintf(buf, size, "%s", path);
}

/* Steps st (bound) to its end, handing each row with a geometry to cb. */
static fm_rc rows(struct data_db *db, sqlite3_stmt *st, store_pic_cb cb, void *ctx,
                  struct fm_err *err)
{
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_pic_row r = {.vis = (const char *)sqlite3_column_text(st, 15)};
        sqlite_pic_row(st, &r.row);
        if (!r.row.wkb) continue;
        r.row.a_id = sqlite3_column_int64(st, 13);
        r.row.b_id = sqlite3_column_int64(st, 14);
        r.row.late_notice = sqlite3_column_int(st, 16);
        for (int i = 0; i < 4; i++) r.box[i] = sqlite3_column_double(st, 9 + i);
        if (cb(ctx, &r)) break;
    }
    fm_rc rc = s == SQLITE_DONE || s == SQLITE_ROW ? FM_OK : db_fail(db, err, "picture rows");
    db_release(st);
    return rc;
}

static fm_rc run(struct data_db *db, const char *sql, int64_t id, store_pic_cb cb, void *ctx,
                 struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_cached(db, sql, &st, err);
    if (rc) return rc;
    db_bind_int(st, ":id", id);
    return rows(db, st, cb, ctx, err);
}

static fm_rc pic_items(struct data_db *db, enum data_coll c, int64_t id, store_pic_cb cb,
                       void *ctx, struct fm_err *err)
{
#define ITEM_ONE(c)                                                                               \
    ITEM_SELECT(c) " WHERE vid IN (SELECT vid FROM item_versions"                                 \
                   " WHERE item_id = :id AND sys_to IS NULL)"
    static const char *const all[DATA_COLL_COUNT] = {
        [DATA_ZONES] = ITEM_SELECT("zones") " ORDER BY item_id",
        [DATA_INCIDENTS] = ITEM_SELECT("incidents") " ORDER BY item_id",
        [DATA_MOVEMENTS] = ITEM_SELECT("movements") " ORDER BY item_id",
    };
    static const char *const one[DATA_COLL_COUNT] = {
        [DATA_ZONES] = ITEM_ONE("zones"),
        [DATA_INCIDENTS] = ITEM_ONE("incidents"),
        [DATA_MOVEMENTS] = ITEM_ONE("movements"),
    };
#undef ITEM_ONE
    if ((int)c < 0 || c >= DATA_COLL_COUNT)
        return fm_fail(err, FM_EINTERNAL, NULL, "picture: no collection %d", (int)c);
    return run(db, id ? one[c] : all[c], id, cb, ctx, err);
}

static fm_rc pic_conflicts(struct data_db *db, int64_t id, int64_t of_item, store_pic_cb cb,
                           void *ctx, struct fm_err *err)
{
    /* the open conflicts of an item: as a through the pair's unique index
     * (kind, a_id, b_id), as b through conflicts_b */
    static const char of_item_sql[] =
        CONFLICT_SELECT " AND c.id IN (SELECT id FROM conflicts WHERE kind IN"
                        " ('movement_crosses_zone', 'zones_overlap', 'incident_in_zone',"
                        " 'incident_near_movement') AND a_id = :id"
                        " UNION ALL SELECT id FROM conflicts WHERE b_id = :id AND state = 'open')";
    if (of_item) return run(db, of_item_sql, of_item, cb, ctx, err);
    if (id) return run(db, CONFLICT_SELECT " AND c.id = :id", id, cb, ctx, err);
    return run(db, CONFLICT_SELECT, 0, cb, ctx, err);
}

void sqlite_picture_ops(struct store_ops *o)
{
    o->database_name = database_name;
    o->pic_items = pic_items;
    o->pic_conflicts = pic_conflicts;
}

/* query.c - what a viewer may see of a collection (store.h's queries):
 * the checks of a query, the viewer's draft party handed to the store (a
 * draft is seen by its party only: data/visibility.c), the picture of now
 * tried first, a movement's corridor reach for pictures of the past; and
 * the queryables of OGC API - Features Part 3. */
#include "internal.h"
#include "store.h"

#include <math.h>
#include <string.h>

fm_rc data_items_query(struct data_db *db, const struct data_viewer *v, const struct data_query *q,
                       data_item_cb cb, void *ctx, long *matched, struct fm_err *err)
{
    if (matched) *matched = 0;
    if ((unsigned)q->coll >= DATA_COLL_COUNT)
        return fm_fail(err, FM_EINVAL, NULL, "no such collection");
    return store_of(db)->items_query(db, q, viewer_draft_party(v), cb, ctx, matched, err);
}

/* ---- queryables ------------------------------------------------------------ */

/* The names, types and titles are the contract; the expressions are SQL
 * in SQLite's dialect that server/cql2.c splices into a filter, until the
 * filter is compiled per backend (issue 18). */
#define Q_PROP(name) "json_extract(v.feature, '$.properties." name "')"
#define Q_COMMON                                                                                   \
    {"id", 'i', "v.item_id", "the item's id", NULL},                                               \
        {"version", 'i', "v.version", "the current version", NULL},                                \
        {"status", 's', "v.status", "the workflow status", NULL},                                  \
        {"party", 's', "v.party", "the owner party", NULL},                                        \
        {"type", 's', "v.type", "the item's type", NULL},                                          \
        {"title", 's', "v.title", "the title", NULL},                                              \
        {"valid_from", 't', "v.valid_from", "start of validity (absent: open)", NULL},             \
        {"valid_to", 't', "v.valid_to", "end of validity (absent: open)", NULL},                   \
        {"updated_at", 't', "v.sys_from", "when the current version was written", NULL},           \
        {"geometry", 'g', "v.geom", "the geometry (CRS84)",                                        \
         "v.vid IN (SELECT pkid FROM idx_item_versions_geom WHERE xmin <= MbrMaxX(%s)"              \
         " AND xmax >= MbrMinX(%s) AND ymin <= MbrMaxY(%s) AND ymax >= MbrMinY(%s))"}
#define Q_ALTITUDES                                                                                \
    {"altitude_floor_m", 'n', "v.alt_floor", "lowest altitude (metres)", NULL},                    \
        {"altitude_ceiling_m", 'n', "v.alt_ceiling", "highest altitude (metres)", NULL}

static const struct data_queryable q_zones[] = {Q_COMMON, Q_ALTITUDES, {NULL, 0, NULL, NULL, NULL}};
static const struct data_queryable q_incidents[] = {
    Q_COMMON,
    {"category", 's', Q_PROP("category"), "the incident's category", NULL},
    {"severity", 'i', Q_PROP("severity"), "severity, 1 to 5", NULL},
    {"occurred_at", 't', "CAST(strftime('%s', " Q_PROP("occurred_at") ") AS INTEGER)",
     "when it happened", NULL},
    {NULL, 0, NULL, NULL, NULL}};
static const struct data_queryable q_movements[] = {
    Q_COMMON, Q_ALTITUDES,
    {"corridor_width_m", 'n', Q_PROP("corridor_width_m"), "the corridor's width (metres)", NULL},
    {NULL, 0, NULL, NULL, NULL}};

const struct data_queryable *data_queryables(enum data_coll c)
{
    static const struct data_queryable none[] = {{NULL, 0, NULL, NULL, NULL}};
    return c == DATA_ZONES ? q_zones : c == DATA_INCIDENTS ? q_incidents
                                   : c == DATA_MOVEMENTS   ? q_movements
                                                           : none;
}

/* ---- extents ------------------------------------------------------------- */

fm_rc data_items_extent(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                        enum data_geom g, struct data_extent *out, struct fm_err *err)
{
    memset(out, 0, sizeof *out);
    if ((unsigned)c >= DATA_COLL_COUNT || (unsigned)g > DATA_GEOM_AREAS)
        return fm_fail(err, FM_EINVAL, NULL, "no such collection");
    return store_of(db)->items_extent(db, c, g, viewer_draft_party(v), out, err);
}

fm_rc data_conflicts_extent(struct data_db *db, const struct data_viewer *v, enum data_geom g,
                            struct data_extent *out, struct fm_err *err)
{
    memset(out, 0, sizeof *out);
    if ((unsigned)g > DATA_GEOM_AREAS) return fm_fail(err, FM_EINVAL, NULL, "no such family");
    return store_of(db)->conflicts_extent(db, g, viewer_draft_party(v), out, err);
}

/* ---- pictures ------------------------------------------------------------ */

fm_rc data_picture_items(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                         const double bbox[4], int has_asof, fm_time asof, data_pic_cb cb,
                         void *ctx, struct fm_err *err)
{
    if ((unsigned)c >= DATA_COLL_COUNT)
        return fm_fail(err, FM_EINVAL, NULL, "no such collection");
    fm_rc rc;
    if (!has_asof && pic_now_items(db, v, c, bbox, cb, ctx, &rc, err)) return rc;
    double box[4] = {bbox[0], bbox[1], bbox[2], bbox[3]};
    /* the past: every version's index, and a movement's corridor may reach
     * as far as the widest one drawn */
    if (has_asof && c == DATA_MOVEMENTS) {
        double half = DATA_PIC_MAX_CORRIDOR_M / 2 / 110000.0;
        double lon = half / cos(fmin(85.0, fmax(fabs(bbox[1]), fabs(bbox[3]))) * M_PI / 180);
        box[0] -= lon, box[2] += lon, box[1] -= half, box[3] += half;
    }
    return store_of(db)->pic_items_box(db, c, box, has_asof, asof, viewer_draft_party(v), cb, ctx,
                                       err);
}

fm_rc data_picture_conflicts(struct data_db *db, const struct data_viewer *v,
                             const double bbox[4], data_pic_cb cb, void *ctx,
                             struct fm_err *err)
{
    fm_rc rc;
    if (pic_now_conflicts(db, v, bbox, cb, ctx, &rc, err)) return rc;
    return store_of(db)->pic_conflicts_box(db, bbox, viewer_draft_party(v), cb, ctx, err);
}

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

/* The names, types and titles are the contract; each field is written
 * as SQL by each backend (data/sqlfilter.c's dialects). */
#define Q_COMMON                                                                                   \
    {"id", 'i', DATA_FIELD_ID, "the item's id"},                                                  \
        {"version", 'i', DATA_FIELD_VERSION, "the current version"},                              \
        {"status", 's', DATA_FIELD_STATUS, "the workflow status"},                                \
        {"party", 's', DATA_FIELD_PARTY, "the owner party"},                                      \
        {"type", 's', DATA_FIELD_TYPE, "the item's type"},                                        \
        {"title", 's', DATA_FIELD_TITLE, "the title"},                                            \
        {"valid_from", 't', DATA_FIELD_VALID_FROM, "start of validity (absent: open)"},           \
        {"valid_to", 't', DATA_FIELD_VALID_TO, "end of validity (absent: open)"},                 \
        {"updated_at", 't', DATA_FIELD_UPDATED_AT, "when the current version was written"},       \
        {"geometry", 'g', DATA_FIELD_GEOMETRY, "the geometry (CRS84)"}
#define Q_ALTITUDES                                                                                \
    {"altitude_floor_m", 'n', DATA_FIELD_ALT_FLOOR, "lowest altitude (metres)"},                  \
        {"altitude_ceiling_m", 'n', DATA_FIELD_ALT_CEILING, "highest altitude (metres)"}
#define Q_END {NULL, 0, DATA_FIELD_COUNT, NULL}

static const struct data_queryable q_zones[] = {Q_COMMON, Q_ALTITUDES, Q_END};
static const struct data_queryable q_incidents[] = {
    Q_COMMON,
    {"category", 's', DATA_FIELD_CATEGORY, "the incident's category"},
    {"severity", 'i', DATA_FIELD_SEVERITY, "severity, 1 to 5"},
    {"occurred_at", 't', DATA_FIELD_OCCURRED_AT, "when it happened"},
    Q_END};
static const struct data_queryable q_movements[] = {
    Q_COMMON, Q_ALTITUDES,
    {"corridor_width_m", 'n', DATA_FIELD_CORRIDOR_WIDTH, "the corridor's width (metres)"}, Q_END};

const struct data_queryable *data_queryables(enum data_coll c)
{
    static const struct data_queryable none[] = {Q_END};
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

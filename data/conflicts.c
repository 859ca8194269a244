/* conflicts.c - the deconfliction engine: conflicts between items in
 * space, time and altitude, found on every write inside its transaction
 * and by a full re-check as of a time.
 *
 * The rules (tests/unit/test_conflicts.c holds a second, all-pairs
 * implementation of them in SQL and compares):
 *
 * - Live items only: the current version, status not withdrawn, expired
 *   (zones), resolved (incidents), completed or cancelled (movements).
 * - Kinds, each with its pair in a fixed order (a, b):
 *   movement_crosses_zone (movement, zone): the zone is restricted or
 *     protected_site, or no_fly and the movement is airborne (type "air");
 *     the route comes nearer to the zone than half its corridor_width_m,
 *     or (a width of 0) crosses its interior; for an airborne movement the
 *     altitude bands overlap.
 *   zones_overlap (lower id, higher id): zones of different parties whose
 *     interiors intersect and whose altitude bands overlap.
 *   incident_in_zone (incident, zone): the incident lies in the zone's
 *     interior (any zone type).
 *   incident_near_movement (incident, movement): the incident is nearer
 *     than `incident_near_m` (conflict_settings, default 1000 m) to the
 *     route, and the movement is in progress: now is within the
 *     overlapping time window.
 * - Time: the validity windows (NULL = open) must overlap in an interval
 *   of positive length, which has not ended yet (its end > now).
 * - Touching does not count, in any dimension: polygons that share only
 *   boundary, windows that meet at one instant, altitude bands where one
 *   ends where the other starts, a corridor whose edge lies exactly on
 *   the zone (distance == half the width).
 * - Metres are measured in the UTM zone of the movement's bounding-box
 *   centre (ST_Transform through PROJ), never in degrees. Interiors are
 *   compared in WGS84 as stored (a topological question).
 * - Visibility: a conflict with a draft is seen only by the draft's owner;
 *   one between drafts of two parties would be seen by nobody and is not
 *   raised.
 * - A conflict's id is stable per (kind, a, b): re-checking an unchanged
 *   pair changes nothing; a clash that comes back re-opens the same row;
 *   one the supervisor resolved stays resolved until either item changes.
 *   Each opening and resolution is an event (collection "conflicts",
 *   actions conflict_open, conflict_resolved); an open conflict whose
 *   items changed but still clash is refreshed in place without one,
 *   unless it becomes visible to all (a draft proposed: conflict_open).
 */
#include "geom.h"
#include "sqlite/sqlite.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <spatialite.h>
#include <spatialite/gaiageo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum kind { K_MCZ, K_ZO, K_IZ, K_INM, K_COUNT };
static const char *const kind_names[K_COUNT] = {"movement_crosses_zone", "zones_overlap",
                                                "incident_in_zone", "incident_near_movement"};


/* One item version as the engine needs it. */
struct it {
    int64_t vid, id, version;
    enum data_coll coll;
    char party[16], status[24], type[32];
    int has_from, has_to, has_floor, has_ceil;
    fm_time from, to;
    double floor, ceil;
    double half_w; /* movements: half the corridor width, metres */
    int severity;  /* incidents: 1-5 */
    double box[4];
};

#define ITEM_COLS                                                                                \
    "v.vid, v.item_id, v.version, v.collection, v.party, v.status, coalesce(v.type, ''),"         \
    " v.valid_from, v.valid_to, v.alt_floor, v.alt_ceiling,"                                      \
    " CASE v.collection WHEN 'movements' THEN"                                                    \
    "  coalesce(json_extract(v.feature, '$.properties.corridor_width_m'), 0) ELSE 0 END,"         \
    " CASE v.collection WHEN 'incidents' THEN"                                                    \
    "  coalesce(json_extract(v.feature, '$.properties.severity'), 3) ELSE 3 END,"                 \
    " MbrMinX(v.geom), MbrMinY(v.geom), MbrMaxX(v.geom), MbrMaxY(v.geom)"

static void read_item(sqlite3_stmt *st, struct it *x)
{
    memset(x, 0, sizeof *x);
    x->vid = sqlite3_column_int64(st, 0);
    x->id = sqlite3_column_int64(st, 1);
    x->version = sqlite3_column_int64(st, 2);
    if (data_coll_parse(db_text(st, 3), &x->coll)) x->coll = DATA_ZONES;
    snprintf(x->party, sizeof x->party, "%s", db_text(st, 4));
    snprintf(x->status, sizeof x->status, "%s", db_text(st, 5));
    snprintf(x->type, sizeof x->type, "%s", db_text(st, 6));
    if ((x->has_from = sqlite3_column_type(st, 7) != SQLITE_NULL))
        x->from = sqlite3_column_int64(st, 7);
    if ((x->has_to = sqlite3_column_type(st, 8) != SQLITE_NULL)) x->to = sqlite3_column_int64(st, 8);
    if ((x->has_floor = sqlite3_column_type(st, 9) != SQLITE_NULL))
        x->floor = sqlite3_column_double(st, 9);
    if ((x->has_ceil = sqlite3_column_type(st, 10) != SQLITE_NULL))
        x->ceil = sqlite3_column_double(st, 10);
    x->half_w = sqlite3_column_double(st, 11) / 2.0;
    x->severity = sqlite3_column_int(st, 12);
    for (int i = 0; i < 4; i++) x->box[i] = sqlite3_column_double(st, 13 + i);
}

static int is_live(const struct it *x)
{
    return item_status_live(x->status);
}

/* ---- projections kept per pair of CRSs ------------------------------- */

/* SpatiaLite keeps one PROJ transformation per connection, keyed by its
 * two CRSs, and builds a new one (proj_create_crs_to_crs: a lookup in
 * proj.db, some 0.6 M instructions) whenever a statement asks for
 * another pair. The demo area straddles lon 36, the edge of UTM zones 36
 * and 37: movements on either side, and the projection of each corridor
 * back to WGS84, alternated the pairs and rebuilt it several times per
 * movement. fm_transform(geom, srid, from, to) is ST_Transform(geom,
 * srid, NULL, from, to) with one SpatiaLite cache (and so one kept
 * transformation) per pair: the same call of the same library on the
 * same strings, so the same bytes (tests/unit/test_conflicts.c
 * compares). */
#define PROJS_KEPT 8 /* pairs; a movement uses two (to its zone and back) */

struct projs {
    struct {
        char from[24], to[24];
        void *cache; /* spatialite_alloc_connection */
    } k[PROJS_KEPT];
    unsigned next; /* the slot to replace when all are taken */
};

static void projs_free(void *p)
{
    struct projs *ps = p;
    for (int i = 0; i < PROJS_KEPT; i++)
        if (ps->k[i].cache) spatialite_cleanup_ex(ps->k[i].cache);
    free(ps);
}

/* The cache that keeps from -> to, made on first use; NULL if a name is
 * too long to keep. */
static void *projs_get(struct projs *ps, const char *from, const char *to)
{
    if (strlen(from) >= sizeof ps->k[0].from || strlen(to) >= sizeof ps->k[0].to) return NULL;
    for (int i = 0; i < PROJS_KEPT; i++)
        if (ps->k[i].cache && !strcmp(ps->k[i].from, from) && !strcmp(ps->k[i].to, to))
            return ps->k[i].cache;
    unsigned i = ps->next++ % PROJS_KEPT;
    if (ps->k[i].cache) spatialite_cleanup_ex(ps->k[i].cache);
    ps->k[i].cache = spatialite_alloc_connection();
    snprintf(ps->k[i].from, sizeof ps->k[i].from, "%s", from);
    snprintf(ps->k[i].to, sizeof ps->k[i].to, "%s", to);
    return ps->k[i].cache;
}

/* fm_transform(geom, srid, from, to): NULL for a NULL or unreadable
 * geometry or a failed projection, as ST_Transform. */
static void fn_transform(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const unsigned char *blob = sqlite3_value_blob(argv[0]);
    int n = sqlite3_value_bytes(argv[0]);
    const char *from = (const char *)sqlite3_value_text(argv[2]);
    const char *to = (const char *)sqlite3_value_text(argv[3]);
    void *cache;
    gaiaGeomCollPtr g, out;
    if (sqlite3_value_type(argv[0]) != SQLITE_BLOB || !from || !to ||
        !(cache = projs_get(sqlite3_user_data(ctx), from, to)) ||
        !(g = gaiaFromSpatiaLiteBlobWkbEx(blob, (unsigned)n, 0, 0))) {
        sqlite3_result_null(ctx);
        return;
    }
    out = gaiaTransformEx_r(cache, g, from, to, NULL);
    gaiaFreeGeomColl(g);
    if (!out) {
        sqlite3_result_null(ctx);
        return;
    }
    out->Srid = sqlite3_value_int(argv[1]);
    unsigned char *res = NULL;
    int len = 0;
    gaiaToSpatiaLiteBlobWkbEx2(out, &res, &len, 0, 0);
    gaiaFreeGeomColl(out);
    if (res)
        sqlite3_result_blob(ctx, res, len, free);
    else
        sqlite3_result_null(ctx);
}

/* Registers fm_transform on the connection, once. */
static fm_rc projs_install(struct data_db *db, struct fm_err *err)
{
    if (db->projs) return FM_OK;
    struct projs *ps = fm_xcalloc(1, sizeof *ps);
    /* on failure SQLite has already called projs_free */
    if (sqlite3_create_function_v2(db->h, "fm_transform", 4, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                   ps, fn_transform, NULL, NULL, projs_free) != SQLITE_OK)
        return db_fail(db, err, "fm_transform");
    db->projs = ps;
    return FM_OK;
}

/* ---- the state of one pass ------------------------------------------- */

#define FRESH_MAX 16 /* new conflicts waiting for their INSERT at most */

enum stmt_id {
    S_CAND_ZONES, S_CAND_INCIDENTS, S_CAND_MOVEMENTS, /* by data_coll */
    S_UTM,
    S_RELATE,
    S_RELATE_GEOM,
    S_MCZ,
    S_MCZ_GEOM,
    S_INM,
    S_INM_GEOM,
    S_PREFILTER,
    S_FIND,
    S_UPDATE,
    S_RESOLVE,
    S_TEXT,
    S_ROW,
    S_GEOJSON,
    S_REACH_SET,
    S_REACH_DEL,
    S_SETTINGS,
    S_MAX_REACH,
    S_OPEN_OF_ITEM,
    S_ITEM,
    S_COUNT
};

struct ctx {
    struct data_db *db;
    const struct data_viewer *v;
    fm_time now;
    double near_m;
    sqlite3_stmt *st[S_COUNT];
    /* the projected route of the last movement asked for, and its
     * corridor in WGS84 */
    int64_t utm_vid;
    int utm_srid;
    char utm_crs[16]; /* "EPSG:<utm_srid>" */
    void *route, *corridor;
    int route_len, corridor_len;
    /* the conflicts that hold in this pass */
    int64_t *seen;
    size_t nseen, aseen, nsorted; /* seen[0..nsorted) is sorted */
    struct data_recheck_stats *stats;
    int created; /* conflicts_check_item of an item created in this transaction */
    struct fm_err *err;
    /* new conflicts waiting for their INSERT (flush_new) */
    struct fresh *fresh;
    int nfresh;
};

/* The R*Tree drives (CROSS JOIN keeps it the outer loop: left to itself
 * SQLite walks every current item of the collection and probes the
 * R*Tree's list, which is quadratic over a full re-check). It is the
 * collection's picture R*Tree (pic_<coll>, migration 6: its current,
 * not withdrawn versions; a movement's box widened by half its
 * corridor, a superset), not the shared one of every version of every
 * collection, whose other collections' entries in the box each cost a
 * row lookup only to be refused. The rules that need no geometry come
 * before the only geometric test, as far as they follow from the item
 * alone (bind_rules; rules_hold decides). */
#define CAND_SQL(coll)                                                                           \
    "SELECT " ITEM_COLS " FROM pic_" coll " r CROSS JOIN item_versions v"                       \
    " ON v.vid = r.vid WHERE r.xmin <= :maxx AND r.xmax >= :minx AND r.ymin <= :maxy"            \
    " AND r.ymax >= :miny AND v.collection = '" coll "' AND v.sys_to IS NULL"                   \
    " AND v.status NOT IN " ENDED_STATUSES_SQL " AND v.item_id <> :self AND v.item_id >= :minid"        \
    " AND (v.valid_to IS NULL OR v.valid_to > :now)"                                             \
    " AND (v.valid_to IS NULL OR :from IS NULL OR v.valid_to > :from)"                           \
    " AND (v.valid_from IS NULL OR :to IS NULL OR v.valid_from < :to)"                           \
    " AND (:ztypes IS NULL OR v.type IN ('restricted', 'protected_site')"                        \
    "  OR (:ztypes = 2 AND v.type = 'no_fly'))"                                                   \
    " AND (:aironly IS NULL OR v.type = 'air')"                                                   \
    " AND (:otherparty IS NULL OR v.party <> :otherparty)"                                        \
    " AND (:draftparty IS NULL OR v.status <> 'draft' OR v.party = :draftparty)"                  \
    " AND (:floor IS NULL OR v.alt_ceiling IS NULL OR v.alt_ceiling > :floor)"                    \
    " AND (:ceil IS NULL OR v.alt_floor IS NULL OR v.alt_floor < :ceil)"                          \
    " AND (:pre IS NULL OR ST_Intersects(:pre, v.geom) = 1)"

static const char *const stmt_sql[S_COUNT] = {
    [S_CAND_ZONES] = CAND_SQL("zones"),
    [S_CAND_INCIDENTS] = CAND_SQL("incidents"),
    [S_CAND_MOVEMENTS] = CAND_SQL("movements"),
    /* the route in metres, and its corridor (buffered in metres) back in
     * WGS84 for drawing: clash geometries are cut in WGS84. Projections
     * go through fm_transform, which keeps one transformation per pair
     * of CRSs (ST_Transform keeps one per connection).
     * Each names both CRSs ('EPSG:4326', :crs = 'EPSG:326xx'): given
     * only SRIDs, SpatiaLite looks both up in spatial_ref_sys with
     * two sqlite3_get_table calls per row (three times the cost of the
     * projection itself); the result is the same, byte for byte
     * (tests/unit/test_conflicts.c checks). The corridor is only drawn
     * (the clash geometry, S_MCZ_GEOM; the test is ST_Distance on the
     * route): 8 segments a quarter circle, not SpatiaLite's 30, stray
     * at most 1 - cos(pi/32) = 0.5% of the half width from the circle
     * (1.2 m for a 500 m corridor) and make each intersection with a
     * zone, the engine's dearest GEOS call, a few times cheaper
     * (callgrind, 60 movement creates: 1,184 M -> 1,110 M instructions). */
    [S_UTM] = "SELECT fm_transform(geom, :srid, 'EPSG:4326', :crs), CASE WHEN :half > 0"
              " THEN fm_transform(ST_Buffer(fm_transform(geom, :srid, 'EPSG:4326', :crs), :half,"
              " 8), 4326, :crs, 'EPSG:4326') END"
              " FROM item_versions WHERE vid = :vid",
    /* the predicates, cheap; the clash geometry only when it is written */
    [S_RELATE] = "SELECT ST_Relate(a.geom, b.geom, 'T********') = 1 FROM item_versions a,"
                 " item_versions b WHERE a.vid = :a AND b.vid = :b",
    [S_RELATE_GEOM] = "SELECT coalesce(CastToXY(ST_Intersection(a.geom, b.geom)), a.geom)"
                      " FROM item_versions a, item_versions b WHERE a.vid = :a AND b.vid = :b",
    [S_MCZ] = "SELECT ST_Distance(:route, fm_transform(z.geom, :srid, 'EPSG:4326', :crs))"
              " < :half OR (:half <= 0"
              " AND ST_Relate(m.geom, z.geom, 'T********') = 1)"
              " FROM item_versions m, item_versions z WHERE m.vid = :m AND z.vid = :z",
    [S_MCZ_GEOM] = "SELECT coalesce(CastToXY(ST_Intersection(coalesce(:corridor, m.geom),"
                   " z.geom)), CastToXY(ST_ShortestLine(m.geom, z.geom)), z.geom)"
                   " FROM item_versions m, item_versions z WHERE m.vid = :m AND z.vid = :z",
    [S_INM] = "SELECT ST_Distance(:route, fm_transform(i.geom, :srid, 'EPSG:4326', :crs))"
              " < :near"
              " FROM item_versions i WHERE i.vid = :i",
    [S_INM_GEOM] = "SELECT geom FROM item_versions WHERE vid = :i",
    /* a buffer in degrees that holds everything within r metres: a prepared
     * geometry for the candidates' first, cheap test. 8 segments a quarter
     * circle, not 30: its vertices lie on the circle, so its chords come
     * no nearer than cos(pi/32) = 0.9952 of the radius, which the 1%
     * added (check_against) covers; a third of the vertices makes each
     * test cheaper (SpatiaLite checksums the whole blob on every call to
     * find its prepared geometry). */
    [S_PREFILTER] = "SELECT ST_Buffer(geom, :deg, 8) FROM item_versions WHERE vid = :vid",
    [S_FIND] = "SELECT id, state, a_version, b_version, vis_party, resolved_by FROM conflicts"
               " WHERE kind = :kind AND a_id = :a AND b_id = :b",
    [S_UPDATE] = "UPDATE conflicts SET a_version = :av, b_version = :bv, severity = :sev,"
                 " t_from = :tf, t_to = :tt, alt_floor = :af, alt_ceiling = :ac, vis_party = :vis,"
                 " opened_at = CASE WHEN state = 'resolved' THEN :now ELSE opened_at END,"
                 " state = 'open', resolved_at = NULL, resolved_by = NULL, comment = NULL,"
                 " updated_at = :now, revision = revision + 1, geom = :geom WHERE id = :id",
    [S_RESOLVE] = "UPDATE conflicts SET state = 'resolved', resolved_at = :now, resolved_by = :by,"
                  " comment = :comment, updated_at = :now, revision = revision + 1"
                  " WHERE id = :id",
    [S_TEXT] = "SELECT " CONFLICT_FEATURE_SQL " FROM conflicts c WHERE c.id = :id",
    /* what crow_text needs, in struct crow's order */
    [S_ROW] = "SELECT id, kind, a_coll, a_id, a_version, b_coll, b_id, b_version, t_from, t_to,"
              " alt_floor, alt_ceiling, severity, state, opened_at, updated_at, resolved_at,"
              " resolved_by, comment, revision, vis_party, AsGeoJSON(geom) FROM conflicts"
              " WHERE id = :id",
    [S_GEOJSON] = "SELECT AsGeoJSON(:g)",
    [S_REACH_SET] = "INSERT OR REPLACE INTO conflict_reach (item_id, reach_m) VALUES (:id, :r)",
    [S_REACH_DEL] = "DELETE FROM conflict_reach WHERE item_id = :id",
    [S_SETTINGS] = "SELECT value FROM conflict_settings WHERE key = 'incident_near_m'",
    [S_MAX_REACH] = "SELECT coalesce(max(reach_m), 0) FROM conflict_reach",
    /* as a through the pair's unique index (kind, a_id, b_id), as b
     * through conflicts_b (+state: not by conflicts_state, all open ones) */
    [S_OPEN_OF_ITEM] = "SELECT id FROM conflicts WHERE kind IN ('movement_crosses_zone',"
                       " 'zones_overlap', 'incident_in_zone', 'incident_near_movement')"
                       " AND a_id = :i AND +state = 'open'"
                       " UNION SELECT id FROM conflicts WHERE state = 'open' AND b_id = :i"
                       " ORDER BY 1",
    [S_ITEM] = "SELECT " ITEM_COLS " FROM item_versions v WHERE v.item_id = :id"
               " AND v.sys_to IS NULL",
};

/* The connection's kept statement id, reset and unbound; the pass hands
 * back every one it used (ctx_cleanup). */
static sqlite3_stmt *stmt(struct ctx *cx, enum stmt_id id)
{
    if (cx->st[id]) {
        db_release(cx->st[id]);
        cx->st[id] = NULL;
    }
    if (db_cached(cx->db, stmt_sql[id], &cx->st[id], cx->err)) return NULL;
    return cx->st[id];
}

static void bind_b(sqlite3_stmt *st, const char *name, const void *p, int n)
{
    int i = sqlite3_bind_parameter_index(st, name);
    if (i && p) sqlite3_bind_blob(st, i, p, n, SQLITE_TRANSIENT);
}

static fm_rc ctx_init(struct ctx *cx, struct data_db *db, const struct data_viewer *v, fm_time now,
                      struct data_recheck_stats *stats, struct fm_err *err)
{
    memset(cx, 0, sizeof *cx);
    cx->db = db;
    cx->v = v;
    cx->now = now;
    cx->stats = stats;
    cx->err = err;
    cx->utm_vid = -1;
    cx->near_m = 1000;
    fm_rc rc = projs_install(db, err);
    if (rc) return rc;
    sqlite3_stmt *st = stmt(cx, S_SETTINGS);
    if (!st) return FM_EDB;
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW)
        cx->near_m = sqlite3_column_double(st, 0);
    else if (s != SQLITE_DONE)
        rc = db_fail(db, err, "conflict settings");
    return rc;
}

static void fresh_drop(struct ctx *cx);

static void ctx_cleanup(struct ctx *cx)
{
    fresh_drop(cx);
    free(cx->fresh);
    for (int i = 0; i < S_COUNT; i++) db_release(cx->st[i]);
    free(cx->route);
    free(cx->corridor);
    free(cx->seen);
}

static void seen_add(struct ctx *cx, int64_t id)
{
    if (cx->nseen == cx->aseen) {
        cx->aseen = cx->aseen ? cx->aseen * 2 : 64;
        int64_t *n = realloc(cx->seen, cx->aseen * sizeof *n);
        if (!n) abort();
        cx->seen = n;
    }
    cx->seen[cx->nseen++] = id;
}

static int cmp_id(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return a < b ? -1 : a > b;
}

/* ---- geometry helpers ------------------------------------------------- */

/* box grown by r metres on the ground, generously (degrees only bound the
 * search; the exact test is in metres). Returns the larger of the two
 * degree margins: a circle of that many degrees holds r metres. */
static double expand(const double in[4], double r, double out[4])
{
    memcpy(out, in, 4 * sizeof *out);
    if (r <= 0) return 0;
    double dlat = r * 1.02 / 110000.0 + 1e-7;
    double lat = fmax(fabs(in[1]), fabs(in[3])) + dlat;
    if (lat > 89.0) lat = 89.0;
    double dlon = r * 1.02 / (111000.0 * cos(lat * M_PI / 180.0)) + 1e-7;
    out[0] -= dlon;
    out[1] -= dlat;
    out[2] += dlon;
    out[3] += dlat;
    return fmax(dlon, dlat);
}

static void *blob_dup(sqlite3_stmt *st, int col, int *len)
{
    *len = sqlite3_column_bytes(st, col);
    const void *p = sqlite3_column_blob(st, col);
    if (!p || *len <= 0) return NULL;
    void *copy = fm_xmalloc((size_t)*len);
    memcpy(copy, p, (size_t)*len);
    return copy;
}

/* Projects movement m's route (and corridor) into its UTM zone, once. */
static fm_rc route_of(struct ctx *cx, const struct it *m)
{
    if (cx->utm_vid == m->vid) return FM_OK;
    free(cx->route);
    free(cx->corridor);
    cx->route = cx->corridor = NULL;
    cx->utm_vid = -1;
    cx->utm_srid = geo_utm_srid(m->box);
    snprintf(cx->utm_crs, sizeof cx->utm_crs, "EPSG:%d", cx->utm_srid);
    sqlite3_stmt *st = stmt(cx, S_UTM);
    if (!st) return FM_EDB;
    db_bind_int(st, ":srid", cx->utm_srid);
    db_bind_text(st, ":crs", cx->utm_crs);
    db_bind_double(st, ":half", m->half_w);
    db_bind_int(st, ":vid", m->vid);
    if (sqlite3_step(st) != SQLITE_ROW) return db_fail(cx->db, cx->err, "project route");
    cx->route = blob_dup(st, 0, &cx->route_len);
    if (!cx->route)
        return fm_fail(cx->err, FM_EINTERNAL, NULL, "movement %" PRId64 " cannot be projected",
                       m->id);
    cx->corridor = blob_dup(st, 1, &cx->corridor_len);
    cx->utm_vid = m->vid;
    return FM_OK;
}

/* ---- one pair --------------------------------------------------------- */

struct clash {
    enum kind kind;
    const struct it *a, *b;
    int has_lo, has_hi, has_floor, has_ceil;
    fm_time lo, hi;
    double floor, ceil;
    int severity;
    char vis[16]; /* "" = everyone */
};

static int is_draft(const struct it *x)
{
    return strcmp(x->status, "draft") == 0;
}

/* Everything but space: time, altitude, types, parties, visibility. */
static int rules_hold(struct ctx *cx, struct clash *c)
{
    const struct it *a = c->a, *b = c->b;
    const struct it *zone = c->kind == K_INM ? NULL : b;
    const struct it *mov = c->kind == K_MCZ ? a : c->kind == K_INM ? b : NULL;
    int air = mov && strcmp(mov->type, "air") == 0;

    if (c->kind == K_MCZ) {
        int forbids = !strcmp(zone->type, "restricted") || !strcmp(zone->type, "protected_site") ||
                      (air && !strcmp(zone->type, "no_fly"));
        if (!forbids) return 0;
    }
    if (c->kind == K_ZO && strcmp(a->party, b->party) == 0) return 0;
    if (is_draft(a) && is_draft(b) && strcmp(a->party, b->party) != 0) return 0;
    snprintf(c->vis, sizeof c->vis, "%s", is_draft(a) ? a->party : is_draft(b) ? b->party : "");

    /* time: an overlap of positive length, not over yet */
    c->has_lo = a->has_from || b->has_from;
    c->lo = !a->has_from ? b->from : !b->has_from ? a->from : a->from > b->from ? a->from : b->from;
    c->has_hi = a->has_to || b->has_to;
    c->hi = !a->has_to ? b->to : !b->has_to ? a->to : a->to < b->to ? a->to : b->to;
    if (c->has_lo && c->has_hi && !(c->lo < c->hi)) return 0;
    if (c->has_hi && c->hi <= cx->now) return 0;
    if (c->kind == K_INM && c->has_lo && c->lo > cx->now) return 0; /* not in progress yet */

    /* altitude: overlapping bands where it matters, else the zone's band */
    if (c->kind == K_ZO || (c->kind == K_MCZ && air)) {
        c->has_floor = a->has_floor || b->has_floor;
        c->floor = !a->has_floor ? b->floor
                   : !b->has_floor ? a->floor
                   : fmax(a->floor, b->floor);
        c->has_ceil = a->has_ceil || b->has_ceil;
        c->ceil = !a->has_ceil ? b->ceil : !b->has_ceil ? a->ceil : fmin(a->ceil, b->ceil);
        if (c->has_floor && c->has_ceil && !(c->floor < c->ceil)) return 0;
    } else if (zone) {
        c->has_floor = zone->has_floor;
        c->floor = zone->floor;
        c->has_ceil = zone->has_ceil;
        c->ceil = zone->ceil;
    }

    switch (c->kind) {
    case K_MCZ:
        c->severity = !strcmp(zone->status, "active") || !strcmp(a->status, "in_progress") ? 5 : 4;
        break;
    case K_ZO:
        c->severity = !strcmp(a->status, "active") && !strcmp(b->status, "active") ? 3 : 2;
        break;
    default:
        c->severity = a->severity >= 1 && a->severity <= 5 ? a->severity : 3;
    }
    return 1;
}

/* Space: does the pair clash? */
static fm_rc space_holds(struct ctx *cx, const struct clash *c, int *hit)
{
    *hit = 0;
    sqlite3_stmt *st;
    fm_rc rc;
    if (c->kind == K_ZO || c->kind == K_IZ) {
        if (!(st = stmt(cx, S_RELATE))) return FM_EDB;
        db_bind_int(st, ":a", c->a->vid);
        db_bind_int(st, ":b", c->b->vid);
    } else if (c->kind == K_MCZ) {
        if ((rc = route_of(cx, c->a))) return rc;
        if (!(st = stmt(cx, S_MCZ))) return FM_EDB;
        db_bind_double(st, ":half", c->a->half_w);
        bind_b(st, ":route", cx->route, cx->route_len);
        db_bind_int(st, ":srid", cx->utm_srid);
        db_bind_text(st, ":crs", cx->utm_crs);
        db_bind_int(st, ":m", c->a->vid);
        db_bind_int(st, ":z", c->b->vid);
    } else {
        if ((rc = route_of(cx, c->b))) return rc;
        if (!(st = stmt(cx, S_INM))) return FM_EDB;
        bind_b(st, ":route", cx->route, cx->route_len);
        db_bind_int(st, ":srid", cx->utm_srid);
        db_bind_text(st, ":crs", cx->utm_crs);
        db_bind_double(st, ":near", cx->near_m);
        db_bind_int(st, ":i", c->a->vid);
    }
    if (sqlite3_step(st) != SQLITE_ROW) return db_fail(cx->db, cx->err, "conflict test");
    *hit = sqlite3_column_int(st, 0) == 1;
    return FM_OK;
}

/* Where the pair clashes (malloc, a SpatiaLite blob), for writing. */
static fm_rc clash_geom(struct ctx *cx, const struct clash *c, void **geom, int *len)
{
    *geom = NULL;
    *len = 0;
    sqlite3_stmt *st;
    fm_rc rc;
    if (c->kind == K_ZO || c->kind == K_IZ) {
        if (!(st = stmt(cx, S_RELATE_GEOM))) return FM_EDB;
        db_bind_int(st, ":a", c->a->vid);
        db_bind_int(st, ":b", c->b->vid);
    } else if (c->kind == K_MCZ) {
        if ((rc = route_of(cx, c->a))) return rc;
        if (!(st = stmt(cx, S_MCZ_GEOM))) return FM_EDB;
        bind_b(st, ":corridor", cx->corridor, cx->corridor_len);
        db_bind_int(st, ":m", c->a->vid);
        db_bind_int(st, ":z", c->b->vid);
    } else {
        if (!(st = stmt(cx, S_INM_GEOM))) return FM_EDB;
        db_bind_int(st, ":i", c->a->vid);
    }
    if (sqlite3_step(st) != SQLITE_ROW) return db_fail(cx->db, cx->err, "conflict geometry");
    *geom = blob_dup(st, 0, len);
    return FM_OK;
}

/* ---- the Feature text ------------------------------------------------- */

/* A conflict's row, as its Feature tells it; a NULL text is SQL NULL. */
struct crow {
    int64_t id, a_id, a_version, b_id, b_version, severity, revision;
    const char *kind, *a_coll, *b_coll, *state, *resolved_by, *comment, *vis;
    int has_tf, has_tt, has_af, has_ac, has_resolved_at;
    fm_time t_from, t_to, opened_at, updated_at, resolved_at;
    double alt_floor, alt_ceiling;
    const char *geojson; /* AsGeoJSON(geom); NULL for none */
};

/* The Feature text is what CONFLICT_FEATURE_SQL (SQLite's json_object over the
 * row) says, byte for byte: it is hashed into the event log and read
 * back by the collection. Written here, not by SQLite: json() re-parses
 * the clash's whole GeoJSON, and the row had to be read back after each
 * insert (a tenth of the time of creating a movement that opens 30
 * conflicts, callgrind). tests/unit/test_conflicts.c compares each
 * event's text with CONFLICT_FEATURE_SQL over the row it tells. */

/* s as SQLite's json_object quotes a text (json.c jsonAppendString):
 * '"' and '\\' escaped, \b \t \n \f \r by name, other bytes below 0x20
 * as \u00xx in lower case, every other byte as it is; NULL is null. */
static void jstr(struct fm_buf *b, const char *s)
{
    if (!s) {
        FM_BUF_LIT(b, "null");
        return;
    }
    FM_BUF_LIT(b, "\"");
    const char *run = s;
    for (const unsigned char *p = (const unsigned char *)s;; p++) {
        unsigned c = *p;
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        fm_buf_put(b, run, (size_t)((const char *)p - run));
        run = (const char *)p + 1;
        if (c == 0) break;
        char esc[8];
        const char *named = c == '"'    ? "\\\""
                            : c == '\\' ? "\\\\"
                            : c == '\b' ? "\\b"
                            : c == '\t' ? "\\t"
                            : c == '\n' ? "\\n"
                            : c == '\f' ? "\\f"
                            : c == '\r' ? "\\r"
                                        : NULL;
        if (!named) {
            snprintf(esc, sizeof esc, "\\u00%c%c", '0' + (c >> 4), "0123456789abcdef"[c & 15]);
            named = esc;
        }
        fm_buf_put(b, named, strlen(named));
    }
    FM_BUF_LIT(b, "\"");
}

/* A REAL as json_object writes it: SQLite's own printf, "%!0.15g". */
static void jreal(struct fm_buf *b, int has, double v)
{
    if (!has) {
        FM_BUF_LIT(b, "null");
        return;
    }
    char t[64];
    sqlite3_snprintf(sizeof t, t, "%!0.15g", v);
    fm_buf_put(b, t, strlen(t));
}

/* strftime('%Y-%m-%dT%H:%M:%SZ', t, 'unixepoch'); 0 if the year is not
 * 1 to 9999 (the caller asks SQLite). */
static int jtime(struct fm_buf *b, int has, fm_time t)
{
    if (!has) {
        FM_BUF_LIT(b, "null");
        return 1;
    }
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || tm.tm_year + 1900 < 1 || tm.tm_year + 1900 > 9999) return 0;
    /* the digits by hand: snprintf's six %02d were a tenth of the cost
     * of a conflict's text (callgrind) */
    char s[] = "\"YYYY-MM-DDThh:mm:ssZ\"";
    int year = tm.tm_year + 1900;
    const int two[5] = {tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec};
    for (int i = 4; i >= 1; i--, year /= 10) s[i] = (char)('0' + year % 10);
    for (int i = 0; i < 5; i++) {
        s[6 + 3 * i] = (char)('0' + two[i] / 10);
        s[7 + 3 * i] = (char)('0' + two[i] % 10);
    }
    fm_buf_put(b, s, sizeof s - 1);
    return 1;
}

/* The Feature text of r (malloc), or NULL if a time is out of the years
 * 1 to 9999 (then CONFLICT_FEATURE_SQL says it). */
static char *crow_text(const struct crow *r)
{
    struct fm_buf b;
    fm_buf_init(&b, FM_BUF_UNCAPPED);
    int ok = 1;
    FM_BUF_LIT(&b, "{\"type\":\"Feature\",\"id\":");
    fm_buf_int(&b, r->id);
    FM_BUF_LIT(&b, ",\"geometry\":");
    if (r->geojson)
        fm_buf_put(&b, r->geojson, strlen(r->geojson));
    else
        FM_BUF_LIT(&b, "null");
    FM_BUF_LIT(&b, ",\"properties\":{\"kind\":");
    jstr(&b, r->kind);
    FM_BUF_LIT(&b, ",\"title\":");
    char title[128];
    const char *k = r->kind ? r->kind : "";
    snprintf(title, sizeof title,
             !strcmp(k, "movement_crosses_zone") ? CONFLICT_TITLE_MZ
             : !strcmp(k, "zones_overlap")       ? CONFLICT_TITLE_ZZ
             : !strcmp(k, "incident_in_zone")    ? CONFLICT_TITLE_IZ
                                                 : CONFLICT_TITLE_IM,
             (long long)r->a_id, (long long)r->b_id);
    jstr(&b, title);
    FM_BUF_LIT(&b, ",\"items\":[{\"collection\":");
    jstr(&b, r->a_coll);
    FM_BUF_LIT(&b, ",\"id\":");
    fm_buf_int(&b, r->a_id);
    FM_BUF_LIT(&b, ",\"version\":");
    fm_buf_int(&b, r->a_version);
    FM_BUF_LIT(&b, "},{\"collection\":");
    jstr(&b, r->b_coll);
    FM_BUF_LIT(&b, ",\"id\":");
    fm_buf_int(&b, r->b_id);
    FM_BUF_LIT(&b, ",\"version\":");
    fm_buf_int(&b, r->b_version);
    FM_BUF_LIT(&b, "}],\"interval\":[");
    ok &= jtime(&b, r->has_tf, r->t_from);
    FM_BUF_LIT(&b, ",");
    ok &= jtime(&b, r->has_tt, r->t_to);
    FM_BUF_LIT(&b, "],\"altitude_band\":[");
    jreal(&b, r->has_af, r->alt_floor);
    FM_BUF_LIT(&b, ",");
    jreal(&b, r->has_ac, r->alt_ceiling);
    FM_BUF_LIT(&b, "],\"severity\":");
    fm_buf_int(&b, r->severity);
    FM_BUF_LIT(&b, ",\"state\":");
    jstr(&b, r->state);
    FM_BUF_LIT(&b, ",\"opened_at\":");
    ok &= jtime(&b, 1, r->opened_at);
    FM_BUF_LIT(&b, ",\"updated_at\":");
    ok &= jtime(&b, 1, r->updated_at);
    FM_BUF_LIT(&b, ",\"resolved_at\":");
    ok &= jtime(&b, r->has_resolved_at, r->resolved_at);
    FM_BUF_LIT(&b, ",\"resolved_by\":");
    jstr(&b, r->resolved_by);
    FM_BUF_LIT(&b, ",\"comment\":");
    jstr(&b, r->comment);
    FM_BUF_LIT(&b, ",\"revision\":");
    fm_buf_int(&b, r->revision);
    FM_BUF_LIT(&b, "}}");
    if (!ok) {
        fm_buf_cleanup(&b);
        return NULL;
    }
    return fm_buf_take(&b, NULL);
}

/* NULL for SQL NULL, else the column's text. */
static const char *col_text_or_null(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? NULL : db_text(st, col);
}

/* ---- recording -------------------------------------------------------- */

/* The conflict as Feature text (malloc), its revision and visibility. */
static fm_rc conflict_text(struct ctx *cx, int64_t id, char **text, int64_t *revision,
                           char vis[16])
{
    *text = NULL;
    sqlite3_stmt *st = stmt(cx, S_ROW);
    if (!st) return FM_EDB;
    db_bind_int(st, ":id", id);
    if (sqlite3_step(st) != SQLITE_ROW) return db_fail(cx->db, cx->err, "conflict text");
    struct crow r = {
        .id = sqlite3_column_int64(st, 0),
        .kind = col_text_or_null(st, 1),
        .a_coll = col_text_or_null(st, 2),
        .a_id = sqlite3_column_int64(st, 3),
        .a_version = sqlite3_column_int64(st, 4),
        .b_coll = col_text_or_null(st, 5),
        .b_id = sqlite3_column_int64(st, 6),
        .b_version = sqlite3_column_int64(st, 7),
        .has_tf = sqlite3_column_type(st, 8) != SQLITE_NULL,
        .t_from = sqlite3_column_int64(st, 8),
        .has_tt = sqlite3_column_type(st, 9) != SQLITE_NULL,
        .t_to = sqlite3_column_int64(st, 9),
        .has_af = sqlite3_column_type(st, 10) != SQLITE_NULL,
        .alt_floor = sqlite3_column_double(st, 10),
        .has_ac = sqlite3_column_type(st, 11) != SQLITE_NULL,
        .alt_ceiling = sqlite3_column_double(st, 11),
        .severity = sqlite3_column_int64(st, 12),
        .state = col_text_or_null(st, 13),
        .opened_at = sqlite3_column_int64(st, 14),
        .updated_at = sqlite3_column_int64(st, 15),
        .has_resolved_at = sqlite3_column_type(st, 16) != SQLITE_NULL,
        .resolved_at = sqlite3_column_int64(st, 16),
        .resolved_by = col_text_or_null(st, 17),
        .comment = col_text_or_null(st, 18),
        .revision = sqlite3_column_int64(st, 19),
        .vis = col_text_or_null(st, 20),
        .geojson = col_text_or_null(st, 21),
    };
    *revision = r.revision;
    snprintf(vis, 16, "%s", r.vis ? r.vis : "");
    if ((*text = crow_text(&r))) return FM_OK;
    /* a time SQLite formats its own way: ask it */
    if (!(st = stmt(cx, S_TEXT))) return FM_EDB;
    db_bind_int(st, ":id", id);
    if (sqlite3_step(st) != SQLITE_ROW) return db_fail(cx->db, cx->err, "conflict text");
    *text = fm_xstrdup(db_text(st, 0));
    return FM_OK;
}

/* Appends the event of a change of conflict id, whose text (after) the
 * caller may know (NULL: read from the row); before may be NULL. */
static fm_rc log_change_known(struct ctx *cx, const char *action, int64_t id, const char *before,
                              const char *before_vis, const char *after, int64_t revision,
                              const char *vis)
{
    const char *owner = vis[0] ? vis : before_vis && before_vis[0] ? before_vis : NULL;
    /* a revision seen by one party only never goes into a record seen by
     * another: the conflict re-opened for B's draft after it was A's */
    if (before_vis && before_vis[0] && vis[0] && strcmp(before_vis, vis) != 0) before = NULL;
    return events_append_ex(cx->db, cx->v, action, "conflicts", id, revision, before, after, owner,
                            before_vis && before_vis[0], vis[0] != 0, cx->now, cx->err);
}

/* Appends the event of a change of conflict id; before may be NULL. */
static fm_rc log_change(struct ctx *cx, const char *action, int64_t id, const char *before,
                        const char *before_vis)
{
    char *after;
    int64_t revision;
    char vis[16];
    fm_rc rc = conflict_text(cx, id, &after, &revision, vis);
    if (rc) return rc;
    rc = log_change_known(cx, action, id, before, before_vis, after, revision, vis);
    free(after);
    return rc;
}

/* The text of a conflict just inserted from c with geometry geom, as
 * conflict_text would read it back (malloc). */
static fm_rc inserted_text(struct ctx *cx, const struct clash *c, int64_t id, const void *geom,
                           int len, char **text)
{
    *text = NULL;
    char *geojson = NULL;
    if (geom) {
        sqlite3_stmt *st = stmt(cx, S_GEOJSON);
        if (!st) return FM_EDB;
        bind_b(st, ":g", geom, len);
        if (sqlite3_step(st) != SQLITE_ROW) return db_fail(cx->db, cx->err, "conflict GeoJSON");
        if (sqlite3_column_type(st, 0) != SQLITE_NULL) geojson = fm_xstrdup(db_text(st, 0));
        sqlite3_reset(st);
    }
    struct crow r = {
        .id = id,
        .kind = kind_names[c->kind],
        .a_coll = data_coll_name(c->a->coll),
        .a_id = c->a->id,
        .a_version = c->a->version,
        .b_coll = data_coll_name(c->b->coll),
        .b_id = c->b->id,
        .b_version = c->b->version,
        .has_tf = c->has_lo,
        .t_from = c->lo,
        .has_tt = c->has_hi,
        .t_to = c->hi,
        .has_af = c->has_floor,
        .alt_floor = c->floor,
        .has_ac = c->has_ceil,
        .alt_ceiling = c->ceil,
        .severity = c->severity,
        .state = "open",
        .opened_at = cx->now,
        .updated_at = cx->now,
        .revision = 1,
        .vis = c->vis[0] ? c->vis : NULL,
        .geojson = geojson,
    };
    *text = crow_text(&r);
    free(geojson);
    return FM_OK; /* NULL text: the caller reads the row */
}

static void bind_clash(sqlite3_stmt *st, const struct clash *c, const void *geom, int len,
                       fm_time now)
{
    db_bind_text(st, ":kind", kind_names[c->kind]);
    db_bind_text(st, ":acoll", data_coll_name(c->a->coll));
    db_bind_int(st, ":a", c->a->id);
    db_bind_int(st, ":av", c->a->version);
    db_bind_text(st, ":bcoll", data_coll_name(c->b->coll));
    db_bind_int(st, ":b", c->b->id);
    db_bind_int(st, ":bv", c->b->version);
    db_bind_int(st, ":sev", c->severity);
    if (c->has_lo) db_bind_int(st, ":tf", c->lo);
    if (c->has_hi) db_bind_int(st, ":tt", c->hi);
    if (c->has_floor) db_bind_double(st, ":af", c->floor);
    if (c->has_ceil) db_bind_double(st, ":ac", c->ceil);
    if (c->vis[0]) db_bind_text(st, ":vis", c->vis);
    db_bind_int(st, ":now", now);
    bind_b(st, ":geom", geom, len);
}

/* ---- new conflicts, inserted several rows a statement ------------------ */

/* A movement opens some 30 conflicts. One INSERT of many rows instead of
 * one per row: the CHECK (kind IN (four kinds)) of the conflicts table
 * builds a temporary index of its list once per statement run (SQLite
 * codes an IN of more than two constants that way), and each statement
 * opens and releases its statement journal; callgrind, 60 movement
 * creates: 957 M -> 876 M instructions. Rows of one statement take
 * consecutive ids (AUTOINCREMENT: each row one above the largest id so
 * far), so the last insert rowid names them all. */
#define FRESH_SIZES 5 /* batches of 16, 8, 4, 2, 1 rows */
#define FRESH_ROW_PARAMS 15

struct fresh {
    struct clash c; /* c.a, c.b point at a, b */
    struct it a, b;
    void *geom;
    int len;
};

/* The INSERT of 2^k rows; static storage, its address the db_cached key. */
static char fresh_sql[FRESH_SIZES][FRESH_MAX * 112 + 256];
static pthread_once_t fresh_once = PTHREAD_ONCE_INIT;

static void fresh_sql_init(void)
{
    for (int k = 0; k < FRESH_SIZES; k++) {
        char *p = fresh_sql[k];
        size_t left = sizeof fresh_sql[k];
        int n = snprintf(p, left,
                         "INSERT INTO conflicts (kind, a_coll, a_id, a_version, b_coll, b_id,"
                         " b_version, state, severity, t_from, t_to, alt_floor, alt_ceiling,"
                         " vis_party, opened_at, updated_at, revision, geom) VALUES");
        for (int r = 0; r < 1 << k; r++) {
            p += n;
            left -= (size_t)n;
            int b = r * FRESH_ROW_PARAMS;
            n = snprintf(p, left,
                         "%s(?%d,?%d,?%d,?%d,?%d,?%d,?%d,'open',?%d,?%d,?%d,?%d,?%d,?%d,?%d,?%d,"
                         "1,?%d)",
                         r ? "," : " ", b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8,
                         b + 9, b + 10, b + 11, b + 12, b + 13, b + 14, b + 14, b + 15);
        }
    }
}

static void bind_fresh(sqlite3_stmt *st, int b, const struct fresh *f, fm_time now)
{
    const struct clash *c = &f->c;
    sqlite3_bind_text(st, b + 1, kind_names[c->kind], -1, SQLITE_STATIC);
    sqlite3_bind_text(st, b + 2, data_coll_name(c->a->coll), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, b + 3, c->a->id);
    sqlite3_bind_int64(st, b + 4, c->a->version);
    sqlite3_bind_text(st, b + 5, data_coll_name(c->b->coll), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, b + 6, c->b->id);
    sqlite3_bind_int64(st, b + 7, c->b->version);
    sqlite3_bind_int64(st, b + 8, c->severity);
    if (c->has_lo) sqlite3_bind_int64(st, b + 9, c->lo);
    if (c->has_hi) sqlite3_bind_int64(st, b + 10, c->hi);
    if (c->has_floor) sqlite3_bind_double(st, b + 11, c->floor);
    if (c->has_ceil) sqlite3_bind_double(st, b + 12, c->ceil);
    if (c->vis[0]) sqlite3_bind_text(st, b + 13, c->vis, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, b + 14, now);
    if (f->geom) sqlite3_bind_blob(st, b + 15, f->geom, f->len, SQLITE_STATIC);
}

static void fresh_drop(struct ctx *cx)
{
    for (int i = 0; i < cx->nfresh; i++) free(cx->fresh[i].geom);
    cx->nfresh = 0;
}

/* Inserts the waiting new conflicts and appends their events. */
static fm_rc flush_new(struct ctx *cx)
{
    pthread_once(&fresh_once, fresh_sql_init);
    fm_rc rc = FM_OK;
    for (int i = 0; !rc && i < cx->nfresh;) {
        int k = FRESH_SIZES - 1;
        while ((1 << k) > cx->nfresh - i) k--;
        int n = 1 << k;
        sqlite3_stmt *st;
        if ((rc = db_cached(cx->db, fresh_sql[k], &st, cx->err))) break;
        for (int r = 0; r < n; r++) bind_fresh(st, r * FRESH_ROW_PARAMS, &cx->fresh[i + r], cx->now);
        int s = sqlite3_step(st);
        int64_t first = sqlite3_last_insert_rowid(cx->db->h) - n + 1;
        db_release(st);
        if (s != SQLITE_DONE) {
            rc = db_fail(cx->db, cx->err, "insert conflict");
            break;
        }
        for (int r = 0; !rc && r < n; r++) {
            const struct fresh *f = &cx->fresh[i + r];
            int64_t id = first + r;
            seen_add(cx, id);
            if (cx->stats) cx->stats->opened++;
            /* its text from what was written, not read back */
            char *after;
            if ((rc = inserted_text(cx, &f->c, id, f->geom, f->len, &after))) break;
            if (!after)
                rc = log_change(cx, "conflict_open", id, NULL, NULL);
            else
                rc = log_change_known(cx, "conflict_open", id, NULL, NULL, after, 1, f->c.vis);
            free(after);
        }
        i += n;
    }
    fresh_drop(cx);
    return rc;
}

/* A clash holds: open, re-open or refresh its conflict. */
static fm_rc record(struct ctx *cx, const struct clash *c)
{
    void *geom = NULL;
    int len = 0;
    if (cx->stats) cx->stats->found++;
    /* an item created in this transaction is in no conflict yet (its id is
     * new: AUTOINCREMENT), and each pass meets a pair once */
    sqlite3_stmt *st = NULL;
    int s = SQLITE_DONE;
    if (!cx->created) {
        if (!(st = stmt(cx, S_FIND))) return FM_EDB;
        db_bind_text(st, ":kind", kind_names[c->kind]);
        db_bind_int(st, ":a", c->a->id);
        db_bind_int(st, ":b", c->b->id);
        s = sqlite3_step(st);
        if (s != SQLITE_ROW && s != SQLITE_DONE) return db_fail(cx->db, cx->err, "find conflict");
    }
    fm_rc rc;
    if (s == SQLITE_DONE) {
        if (st) sqlite3_reset(st);
        if ((rc = clash_geom(cx, c, &geom, &len))) return rc;
        if (!cx->fresh) cx->fresh = fm_xcalloc(FRESH_MAX, sizeof *cx->fresh);
        struct fresh *f = &cx->fresh[cx->nfresh++];
        f->c = *c;
        f->a = *c->a;
        f->b = *c->b;
        f->c.a = &f->a;
        f->c.b = &f->b;
        f->geom = geom;
        f->len = len;
        return cx->nfresh == FRESH_MAX ? flush_new(cx) : FM_OK;
    }
    int64_t id = sqlite3_column_int64(st, 0);
    int open = strcmp(db_text(st, 1), "open") == 0;
    int same = sqlite3_column_int64(st, 2) == c->a->version &&
               sqlite3_column_int64(st, 3) == c->b->version &&
               strcmp(db_text(st, 4), c->vis) == 0;
    int by_hand = sqlite3_column_type(st, 5) != SQLITE_NULL;
    int was_owner_only = sqlite3_column_type(st, 4) != SQLITE_NULL;
    sqlite3_reset(st);
    seen_add(cx, id);
    if (same && (open || by_hand)) return FM_OK; /* unchanged, or resolved by the supervisor */

    char *before = NULL, before_vis[16] = "";
    int64_t revision;
    int news = !open || (c->vis[0] == 0 && was_owner_only);
    if (news && (rc = conflict_text(cx, id, &before, &revision, before_vis))) return rc;
    if ((rc = clash_geom(cx, c, &geom, &len)) || !(st = stmt(cx, S_UPDATE))) {
        free(before);
        free(geom);
        return rc ? rc : FM_EDB;
    }
    bind_clash(st, c, geom, len, cx->now);
    free(geom);
    db_bind_int(st, ":id", id);
    if (sqlite3_step(st) != SQLITE_DONE) {
        free(before);
        return db_fail(cx->db, cx->err, "update conflict");
    }
    if (!open && cx->stats) cx->stats->opened++;
    /* an open conflict refreshed (new versions, the clash redrawn) is no
     * news of its own: the items' events tell it. Only one that the other
     * parties now see for the first time (a draft proposed) is. */
    rc = FM_OK;
    if (news) rc = log_change(cx, "conflict_open", id, before, before_vis);
    free(before);
    return rc;
}

/* Checks pair (a, b) in kind k and records a clash. */
static fm_rc check_pair(struct ctx *cx, enum kind k, const struct it *a, const struct it *b)
{
    struct clash c;
    memset(&c, 0, sizeof c);
    c.kind = k;
    c.a = a;
    c.b = b;
    if (!rules_hold(cx, &c)) return FM_OK;
    int hit;
    fm_rc rc = space_holds(cx, &c, &hit);
    if (!rc && hit) rc = record(cx, &c);
    return rc;
}

static int forbids_movements(const struct it *zone)
{
    return !strcmp(zone->type, "restricted") || !strcmp(zone->type, "protected_site") ||
           !strcmp(zone->type, "no_fly");
}

/* Binds the candidate query's filters that need no geometry: only what
 * rules_hold would refuse anyway, knowing x alone (type, party, draft,
 * altitude band). */
static void bind_rules(sqlite3_stmt *st, enum kind k, const struct it *x)
{
    int air = strcmp(x->type, "air") == 0;
    if (k == K_MCZ && x->coll == DATA_MOVEMENTS) db_bind_int(st, ":ztypes", air ? 2 : 1);
    if (k == K_MCZ && x->coll == DATA_ZONES && !strcmp(x->type, "no_fly"))
        db_bind_int(st, ":aironly", 1);
    if (k == K_ZO) db_bind_text(st, ":otherparty", x->party);
    if (is_draft(x)) db_bind_text(st, ":draftparty", x->party);
    if (k == K_ZO || (k == K_MCZ && x->coll == DATA_MOVEMENTS && air)) {
        if (x->has_floor) db_bind_double(st, ":floor", x->floor);
        if (x->has_ceil) db_bind_double(st, ":ceil", x->ceil);
    }
}

/* Pairs item x with the live items of collection `other` whose boxes come
 * within reach metres of its own, in kind k; x is the pair's a when x_is_a
 * (zones_overlap: the lower id is a). Only items with id >= min_id. */
static fm_rc check_against(struct ctx *cx, const struct it *x, enum data_coll other, double reach,
                           enum kind k, int x_is_a, int64_t min_id)
{
    if (k == K_MCZ && x->coll == DATA_ZONES && !forbids_movements(x)) return FM_OK;
    enum stmt_id sid = other == DATA_ZONES       ? S_CAND_ZONES
                       : other == DATA_INCIDENTS ? S_CAND_INCIDENTS
                                                 : S_CAND_MOVEMENTS;
    double box[4];
    double deg = expand(x->box, reach, box);
    /* x buffered by that many degrees (and 1% for the buffer's chords,
     * S_PREFILTER): SpatiaLite prepares it once for the candidate query */
    void *pre = NULL;
    int pre_len = 0;
    sqlite3_stmt *st;
    if (deg > 0) {
        if (!(st = stmt(cx, S_PREFILTER))) return FM_EDB;
        db_bind_double(st, ":deg", deg * 1.01);
        db_bind_int(st, ":vid", x->vid);
        if (sqlite3_step(st) != SQLITE_ROW) return db_fail(cx->db, cx->err, "prefilter");
        pre = blob_dup(st, 0, &pre_len);
        sqlite3_reset(st);
    }
    /* the candidate cursor stays open while check_pair runs the others */
    if (!(st = stmt(cx, sid))) {
        free(pre);
        return FM_EDB;
    }
    fm_rc rc = FM_OK;
    bind_b(st, ":pre", pre, pre_len);
    free(pre);
    db_bind_double(st, ":minx", box[0]);
    db_bind_double(st, ":miny", box[1]);
    db_bind_double(st, ":maxx", box[2]);
    db_bind_double(st, ":maxy", box[3]);
    db_bind_int(st, ":self", x->id);
    db_bind_int(st, ":minid", min_id);
    db_bind_int(st, ":now", cx->now);
    if (x->has_from) db_bind_int(st, ":from", x->from);
    if (x->has_to) db_bind_int(st, ":to", x->to);
    bind_rules(st, k, x);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        struct it y;
        read_item(st, &y);
        const struct it *a = x_is_a ? x : &y, *b = x_is_a ? &y : x;
        if (k == K_ZO && a->id > b->id) {
            const struct it *t = a;
            a = b;
            b = t;
        }
        if ((rc = check_pair(cx, k, a, b))) break;
    }
    if (!rc && s != SQLITE_DONE) rc = db_fail(cx->db, cx->err, "conflict candidates");
    sqlite3_reset(st);
    if (!rc) rc = flush_new(cx);
    fresh_drop(cx);
    return rc;
}

static fm_rc max_reach(struct ctx *cx, double *out)
{
    *out = 0;
    sqlite3_stmt *st = stmt(cx, S_MAX_REACH);
    if (!st) return FM_EDB;
    if (sqlite3_step(st) != SQLITE_ROW) return db_fail(cx->db, cx->err, "corridor reach");
    *out = sqlite3_column_double(st, 0);
    return FM_OK;
}

static fm_rc set_reach(struct ctx *cx, const struct it *m, int live)
{
    sqlite3_stmt *st = stmt(cx, live ? S_REACH_SET : S_REACH_DEL);
    if (!st) return FM_EDB;
    db_bind_int(st, ":id", m->id);
    db_bind_double(st, ":r", m->half_w);
    if (sqlite3_step(st) != SQLITE_DONE) return db_fail(cx->db, cx->err, "corridor reach");
    return FM_OK;
}

/* Resolves open conflict id (by the system, with why), with its record. */
static fm_rc resolve_one(struct ctx *cx, int64_t id, const char *why)
{
    char *before, vis[16];
    int64_t revision;
    fm_rc rc = conflict_text(cx, id, &before, &revision, vis);
    if (rc) return rc;
    sqlite3_stmt *st = stmt(cx, S_RESOLVE);
    if (!st) {
        free(before);
        return FM_EDB;
    }
    db_bind_int(st, ":now", cx->now);
    db_bind_text(st, ":comment", why);
    db_bind_int(st, ":id", id);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_fail(cx->db, cx->err, "resolve conflict");
    else
        rc = log_change(cx, "conflict_resolved", id, before, vis);
    free(before);
    if (!rc && cx->stats) cx->stats->resolved++;
    return rc;
}

/* Resolves the conflicts st's rows name (their ids) that the pass did not
 * see hold. Gathers first: resolving changes the rows the cursor walks.
 * The caller releases st. */
static fm_rc resolve_rows_unseen(struct ctx *cx, sqlite3_stmt *st, const char *why)
{
    /* sorted again only when it grew: a chunk asks once per item */
    if (cx->nseen != cx->nsorted) qsort(cx->seen, cx->nseen, sizeof *cx->seen, cmp_id);
    cx->nsorted = cx->nseen;
    fm_rc rc = FM_OK;
    int64_t *ids = NULL;
    size_t n = 0, alloc = 0;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        if (cx->nseen && bsearch(&id, cx->seen, cx->nseen, sizeof *cx->seen, cmp_id)) continue;
        if (n == alloc) {
            alloc = alloc ? alloc * 2 : 16;
            int64_t *p = realloc(ids, alloc * sizeof *p);
            if (!p) abort();
            ids = p;
        }
        ids[n++] = id;
    }
    if (s != SQLITE_DONE) rc = db_fail(cx->db, cx->err, "open conflicts");
    for (size_t i = 0; !rc && i < n; i++) rc = resolve_one(cx, ids[i], why);
    free(ids);
    return rc;
}

/* Resolves the open conflicts of item (a or b) the pass did not see. */
static fm_rc resolve_unseen(struct ctx *cx, int64_t item, const char *why)
{
    sqlite3_stmt *st = stmt(cx, S_OPEN_OF_ITEM);
    if (!st) return FM_EDB;
    db_bind_int(st, ":i", item);
    fm_rc rc = resolve_rows_unseen(cx, st, why);
    db_release(st);
    return rc;
}

/* ---- the entry points -------------------------------------------------- */

fm_rc conflicts_check_item(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                           int64_t item, int created, fm_time now, struct fm_err *err)
{
    struct ctx cx;
    fm_rc rc = ctx_init(&cx, db, v, now, NULL, err);
    if (rc) goto done;
    cx.created = created;
    sqlite3_stmt *st = stmt(&cx, S_ITEM);
    if (!st) {
        rc = FM_EDB;
        goto done;
    }
    db_bind_int(st, ":id", item);
    struct it x;
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) read_item(st, &x);
    db_release(st);
    if (s != SQLITE_ROW) {
        rc = s == SQLITE_DONE ? fm_fail(err, FM_ENOTFOUND, NULL, "no item %" PRId64, item)
                              : db_fail(db, err, "conflict item");
        goto done;
    }
    (void)c;
    int live = is_live(&x);
    if (x.coll == DATA_MOVEMENTS && (rc = set_reach(&cx, &x, live))) goto done;
    if (live) {
        double reach = 0;
        switch (x.coll) {
        case DATA_MOVEMENTS:
            if ((rc = check_against(&cx, &x, DATA_ZONES, x.half_w, K_MCZ, 1, 0)) ||
                (rc = check_against(&cx, &x, DATA_INCIDENTS, cx.near_m, K_INM, 0, 0)))
                goto done;
            break;
        case DATA_ZONES:
            if ((rc = max_reach(&cx, &reach)) ||
                (rc = check_against(&cx, &x, DATA_MOVEMENTS, reach, K_MCZ, 0, 0)) ||
                (rc = check_against(&cx, &x, DATA_ZONES, 0, K_ZO, 1, 0)) ||
                (rc = check_against(&cx, &x, DATA_INCIDENTS, 0, K_IZ, 0, 0)))
                goto done;
            break;
        default:
            if ((rc = check_against(&cx, &x, DATA_ZONES, 0, K_IZ, 1, 0)) ||
                (rc = check_against(&cx, &x, DATA_MOVEMENTS, cx.near_m, K_INM, 1, 0)))
                goto done;
        }
    }
    if (created) goto done; /* all its conflicts were just opened */
    char why[96];
    snprintf(why, sizeof why, live ? "the clash no longer holds after %s %" PRId64 " changed"
                                   : "%s %" PRId64 " is no longer live",
             data_coll_name(x.coll), item);
    rc = resolve_unseen(&cx, item, why);
done:
    ctx_cleanup(&cx);
    return rc;
}

static const struct data_viewer system_viewer = {0, "system", "", DATA_ROLE_ADMIN};

/* The re-check goes through the live items a chunk at a time, each chunk
 * its own short write transaction, so that no writer waits for a whole
 * pass (4.6 s of CPU over 22k items: the write tail of issue 23). A
 * chunk is consistent on its own: each pair is checked from its driver
 * (a movement, the lower zone, an incident; an incident near a movement
 * from the movement), and the open conflicts a driver of the chunk no
 * longer has are resolved in the same transaction. An item written
 * between chunks was checked by its own write (conflicts_check_item).
 * A last transaction resolves the open conflicts whose driver is no
 * longer live. */
#define RECHECK_CHUNK 256
/* A chunk ends after RECHECK_HOLD_MS too, and the next begins only
 * RECHECK_GAP_MS later: a writer waiting on the lock polls (SQLite's busy
 * handler: after 1, 2, 5, 10, 15, 20, 25 ms, then 25-100 ms apart), and
 * without the gap found it taken again at once, chunk after chunk, up to
 * its 10 s timeout: "database is locked" for 5 of 22,000 creates while
 * tests/bench/load_synthetic.py loaded, 19 of 4,000 in
 * tests/bench/writes_bench.sh, on a loaded machine where a chunk of 256
 * movements held the lock 2-3 s. 50 ms of hold and 100 ms of gap
 * stretched the six passes of conflicts.sh past 10 minutes there: the gap
 * is a fifth of the time now. */
#define RECHECK_HOLD_MS 200
#define RECHECK_GAP_MS 50

static fm_rc recheck_one(struct ctx *cx, const struct it *x)
{
    fm_rc rc;
    switch (x->coll) {
    case DATA_MOVEMENTS:
        if ((rc = set_reach(cx, x, 1)) ||
            (rc = check_against(cx, x, DATA_ZONES, x->half_w, K_MCZ, 1, 0)))
            return rc;
        return check_against(cx, x, DATA_INCIDENTS, cx->near_m, K_INM, 0, 0);
    case DATA_ZONES:
        return check_against(cx, x, DATA_ZONES, 0, K_ZO, 1, x->id + 1);
    default:
        return check_against(cx, x, DATA_ZONES, 0, K_IZ, 1, 0);
    }
}

/* The open conflicts driven by item that this pass did not see hold, or
 * (item 0) those whose driver is no longer a live current item. */
static fm_rc resolve_undriven(struct ctx *cx, int64_t item, const char *why)
{
    sqlite3_stmt *st;
    /* kept prepared: a chunk asks once per item */
    fm_rc rc = db_cached(cx->db,
                         /* through the pair's index (kind, a_id, b_id) and
                          * conflicts_b, as S_OPEN_OF_ITEM: an OR over a_id
                          * and b_id scans the table once per item */
                         item ? "SELECT id FROM conflicts WHERE kind IN"
                                " ('movement_crosses_zone', 'zones_overlap',"
                                " 'incident_in_zone') AND a_id = :i AND +state = 'open'"
                                " UNION ALL SELECT id FROM conflicts WHERE state = 'open'"
                                " AND b_id = :i AND kind = 'incident_near_movement'"
                              : "SELECT c.id FROM conflicts c WHERE c.state = 'open' AND NOT"
                                " EXISTS (SELECT 1 FROM item_versions v WHERE v.item_id ="
                                " (CASE c.kind WHEN 'incident_near_movement' THEN c.b_id"
                                " ELSE c.a_id END) AND v.sys_to IS NULL AND v.status NOT IN "
                                ENDED_STATUSES_SQL ")",
                         &st, cx->err);
    if (rc) return rc;
    db_bind_int(st, ":i", item);
    rc = resolve_rows_unseen(cx, st, why);
    db_release(st);
    return rc;
}

/* One chunk of the pass: items ids[0..n), as they are now, or the first
 * *done of them when RECHECK_HOLD_MS ran out. */
static fm_rc recheck_chunk(struct data_db *db, fm_time at, const int64_t *ids, size_t n,
                           size_t *done, struct data_recheck_stats *stats, struct fm_err *err)
{
    struct ctx cx;
    fm_rc rc = db_begin(db, err);
    if (rc) return rc;
    int64_t t0 = fm_monotonic_ms(); /* the lock's, not the wait for it */
    if ((rc = ctx_init(&cx, db, &system_viewer, at, stats, err))) goto done;
    for (size_t i = 0; !rc && i < n; i++) {
        if (i && fm_monotonic_ms() - t0 >= RECHECK_HOLD_MS) n = i;
        if (i == n) break;
        sqlite3_stmt *st = stmt(&cx, S_ITEM);
        if (!st) {
            rc = FM_EDB;
            break;
        }
        db_bind_int(st, ":id", ids[i]);
        int s = sqlite3_step(st);
        if (s == SQLITE_DONE) continue; /* gone meanwhile */
        if (s != SQLITE_ROW) {
            rc = db_fail(db, err, "recheck item");
            break;
        }
        struct it x;
        read_item(st, &x);
        if (!is_live(&x)) continue; /* ended meanwhile: its write resolved it */
        stats->items++;
        rc = recheck_one(&cx, &x);
    }
    *done = n;
    for (size_t i = 0; !rc && i < n; i++)
        rc = resolve_undriven(&cx, ids[i], "the clash no longer holds at this time");
done:
    ctx_cleanup(&cx);
    if (!rc) return db_commit(db, err);
    db_rollback(db);
    return rc;
}

fm_rc data_conflicts_recheck(struct data_db *db, fm_time at, struct data_recheck_stats *stats,
                             struct fm_err *err)
{
    memset(stats, 0, sizeof *stats);
    /* the live items, read once: each chunk reloads its items as they are */
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          "SELECT item_id FROM item_versions WHERE sys_to IS NULL"
                          " AND status NOT IN " ENDED_STATUSES_SQL " ORDER BY item_id",
                          &st, err);
    if (rc) return rc;
    int64_t *ids = NULL;
    size_t n = 0, alloc = 0;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == alloc) {
            alloc = alloc ? alloc * 2 : 1024;
            int64_t *p = realloc(ids, alloc * sizeof *p);
            if (!p) abort();
            ids = p;
        }
        ids[n++] = sqlite3_column_int64(st, 0);
    }
    if (s != SQLITE_DONE) rc = db_fail(db, err, "recheck items");
    sqlite3_finalize(st);
    for (size_t i = 0, done = 0; !rc && i < n; i += done) {
        rc = recheck_chunk(db, at, ids + i, n - i < RECHECK_CHUNK ? n - i : RECHECK_CHUNK, &done,
                           stats, err);
        if (!rc && i + done < n) nanosleep(&(struct timespec){0, RECHECK_GAP_MS * 1000000L}, NULL);
    }
    free(ids);
    if (rc) return rc;
    /* the open conflicts whose driver has ended or gone */
    struct ctx cx;
    if ((rc = db_begin(db, err))) return rc;
    if (!(rc = ctx_init(&cx, db, &system_viewer, at, stats, err)))
        rc = resolve_undriven(&cx, 0, "the clash no longer holds at this time");
    ctx_cleanup(&cx);
    if (!rc) return db_commit(db, err);
    db_rollback(db);
    return rc;
}

/* ---- reading and resolving -------------------------------------------- */

/* The party whose owner-only conflicts v may see, or NULL (none). */

/* ---- as of a time: the conflicts as the log told them then ---------- */

/* Grows box (minx, miny, maxx, maxy) by a GeoJSON coordinates array. */
static void coords_box(const json_t *c, double box[4])
{
    if (!json_is_array(c)) return;
    if (json_array_size(c) >= 2 && json_is_number(json_array_get(c, 0))) {
        double x = json_number_value(json_array_get(c, 0));
        double y = json_number_value(json_array_get(c, 1));
        box[0] = fmin(box[0], x), box[1] = fmin(box[1], y);
        box[2] = fmax(box[2], x), box[3] = fmax(box[3], y);
        return;
    }
    size_t i;
    json_t *e;
    json_array_foreach(c, i, e) coords_box(e, box);
}

static enum data_geom family_of(const char *type)
{
    if (!type) return DATA_GEOM_ANY;
    if (!strcmp(type, "Point") || !strcmp(type, "MultiPoint")) return DATA_GEOM_POINTS;
    if (!strcmp(type, "LineString") || !strcmp(type, "MultiLineString")) return DATA_GEOM_LINES;
    if (!strcmp(type, "Polygon") || !strcmp(type, "MultiPolygon")) return DATA_GEOM_AREAS;
    return DATA_GEOM_ANY; /* a collection: in no view */
}

struct asof {
    const char *vp; /* the party whose owner-only records the viewer sees */
    const struct data_conflict_query *q;
    data_conflict_cb cb;
    void *ctx;
    long matched, given;
    int stop;
};

static int asof_record(void *ctx, const struct store_event *e)
{
    struct asof *a = ctx;
    const struct data_conflict_query *q = a->q;
    if (!e->after || (e->after_owner_only && !(e->owner && vis_owner_has(e->owner, a->vp))))
        return 0;
    json_t *f = json_loads(e->after, 0, NULL);
    const json_t *g = json_object_get(f, "geometry");
    const char *state = json_string_value(json_object_get(json_object_get(f, "properties"), "state"));
    int keep = f && (!q->state || (state && !strcmp(state, q->state)));
    if (keep && q->geom != DATA_GEOM_ANY)
        keep = family_of(json_string_value(json_object_get(g, "type"))) == q->geom;
    if (keep && q->has_bbox) {
        double box[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
        coords_box(json_object_get(g, "coordinates"), box);
        keep = box[0] <= q->bbox[2] && box[2] >= q->bbox[0] && box[1] <= q->bbox[3] &&
               box[3] >= q->bbox[1];
    }
    json_decref(f);
    if (!keep) return 0;
    a->matched++;
    if (a->matched > q->offset && a->given < q->limit && !a->stop && a->cb) {
        a->given++;
        a->stop = a->cb(a->ctx, e->item, e->after);
    }
    return 0; /* on: the count is of all that match */
}

/* The conflicts as of q->t: each conflict's latest record at or before
 * it, as the viewer may see it (a conflict with a draft is its owner's,
 * and stays so in the log). A conflict refreshed in place without a
 * record shows as its last record told it. */
static fm_rc conflicts_as_of(struct data_db *db, const struct data_viewer *v,
                             const struct data_conflict_query *q, data_conflict_cb cb,
                             void *ctx, long *matched, struct fm_err *err)
{
    struct asof a = {viewer_draft_party(v), q, cb, ctx, 0, 0, 0};
    fm_rc rc = store_of(db)->events_latest(db, "conflicts", q->t, asof_record, &a, err);
    if (!rc && matched) *matched = a.matched;
    return rc;
}

fm_rc data_conflicts_query(struct data_db *db, const struct data_viewer *v,
                           const struct data_conflict_query *q, data_conflict_cb cb, void *ctx,
                           long *matched, struct fm_err *err)
{
    if (matched) *matched = 0;
    if (q->state && strcmp(q->state, "open") != 0 && strcmp(q->state, "resolved") != 0)
        return fm_fail(err, FM_EINVAL, "state", "state is open or resolved");
    if (q->limit < 1 || q->limit > 10000 || q->offset < 0)
        return fm_fail(err, FM_EINVAL, "limit", "limit is 1 to 10000 and offset 0 or more");
    static const char *const family[] = GEOM_FAMILY_SQL("c.geom");
    if ((unsigned)q->geom > DATA_GEOM_AREAS)
        return fm_fail(err, FM_EINVAL, NULL, "no such geometry family");
    if (q->has_t) return conflicts_as_of(db, v, q, cb, ctx, matched, err);
    char where[800];
    snprintf(where, sizeof where,
             CONFLICT_VISIBLE_SQL " AND (:state IS NULL OR c.state = :state) AND %s%s",
             family[q->geom], q->has_bbox ? " AND c.id IN (SELECT pkid FROM idx_conflicts_geom WHERE xmin <= :maxx"
                           " AND xmax >= :minx AND ymin <= :maxy AND ymax >= :miny)"
                           " AND ST_Intersects(c.geom, BuildMbr(:minx, :miny, :maxx, :maxy,"
                           " 4326)) = 1"
                         : "");
    char sql[4096];
    sqlite3_stmt *st = NULL;
    fm_rc rc = FM_OK;
    for (int pass = matched ? 0 : 1; pass < (cb ? 2 : 1); pass++) {
        if (pass == 0)
            snprintf(sql, sizeof sql, "SELECT count(*) FROM conflicts c WHERE %s", where);
        else
            snprintf(sql, sizeof sql,
                     "SELECT c.id, %s FROM conflicts c WHERE %s ORDER BY c.id"
                     " LIMIT :limit OFFSET :offset",
                     CONFLICT_FEATURE_SQL, where);
        if ((rc = db_prepare(db, sql, &st, err))) return rc;
        db_bind_text(st, ":vparty", viewer_draft_party(v));
        db_bind_text(st, ":state", q->state);
        if (q->has_bbox) {
            db_bind_double(st, ":minx", q->bbox[0]);
            db_bind_double(st, ":miny", q->bbox[1]);
            db_bind_double(st, ":maxx", q->bbox[2]);
            db_bind_double(st, ":maxy", q->bbox[3]);
        }
        db_bind_int(st, ":limit", q->limit);
        db_bind_int(st, ":offset", q->offset);
        int s;
        while ((s = sqlite3_step(st)) == SQLITE_ROW) {
            if (pass == 0) {
                *matched = (long)sqlite3_column_int64(st, 0);
            } else if (cb(ctx, sqlite3_column_int64(st, 0), db_text(st, 1))) {
                s = SQLITE_DONE;
                break;
            }
        }
        if (s != SQLITE_DONE) rc = db_fail(db, err, "query conflicts");
        sqlite3_finalize(st);
        if (rc) return rc;
    }
    return FM_OK;
}

static fm_rc get_visible(struct data_db *db, const struct data_viewer *v, int64_t id,
                         char state[16], json_t **out, struct fm_err *err)
{
    *out = NULL;
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          "SELECT " CONFLICT_FEATURE_SQL ", c.state FROM conflicts c WHERE c.id = :id"
                          " AND " CONFLICT_VISIBLE_SQL,
                          &st, err);
    if (rc) return rc;
    db_bind_int(st, ":id", id);
    db_bind_text(st, ":vparty", viewer_draft_party(v));
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        *out = json_loads(db_text(st, 0), 0, NULL);
        if (state) snprintf(state, 16, "%s", db_text(st, 1));
        if (!*out) rc = fm_fail(err, FM_EINTERNAL, NULL, "conflict %" PRId64 " unreadable", id);
    } else if (s == SQLITE_DONE) {
        rc = fm_fail(err, FM_ENOTFOUND, NULL, "no conflict %" PRId64, id);
    } else {
        rc = db_fail(db, err, "get conflict");
    }
    sqlite3_finalize(st);
    return rc;
}

fm_rc data_conflict_get(struct data_db *db, const struct data_viewer *v, int64_t id, json_t **out,
                        struct fm_err *err)
{
    return get_visible(db, v, id, NULL, out, err);
}

fm_rc data_conflict_resolve(struct data_db *db, const struct data_viewer *v, int64_t id,
                            const char *comment, json_t **out, struct fm_err *err)
{
    *out = NULL;
    if (v->role != DATA_ROLE_SUPERVISOR)
        return fm_fail(err, FM_EFORBID, NULL, "only the supervisor resolves conflicts");
    if (!comment || !comment[0] || strlen(comment) > 2000)
        return fm_fail(err, FM_EINVAL, "/comment", "a comment of 1 to 2000 bytes is required");
    struct ctx cx;
    json_t *cur = NULL;
    char state[16];
    fm_rc rc = db_begin(db, err);
    if (rc) return rc;
    if ((rc = ctx_init(&cx, db, v, fm_time_now(), NULL, err))) goto fail;
    if ((rc = get_visible(db, v, id, state, &cur, err))) goto fail;
    json_decref(cur);
    cur = NULL;
    if (strcmp(state, "open") != 0) {
        rc = fm_fail(err, FM_ECONFLICT, NULL, "conflict %" PRId64 " is already resolved", id);
        goto fail;
    }
    char *before, vis[16];
    int64_t revision;
    if ((rc = conflict_text(&cx, id, &before, &revision, vis))) goto fail;
    sqlite3_stmt *st = stmt(&cx, S_RESOLVE);
    if (!st) {
        free(before);
        rc = FM_EDB;
        goto fail;
    }
    db_bind_int(st, ":now", cx.now);
    db_bind_text(st, ":by", v->user);
    db_bind_text(st, ":comment", comment);
    db_bind_int(st, ":id", id);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_fail(db, err, "resolve conflict");
    else
        rc = log_change(&cx, "conflict_resolved", id, before, vis);
    free(before);
    if (rc) goto fail;
    ctx_cleanup(&cx);
    if ((rc = db_commit(db, err))) return rc;
    return get_visible(db, v, id, NULL, out, err);
fail:
    ctx_cleanup(&cx);
    db_rollback(db);
    return rc;
}

fm_rc data_conflicts_set_near(struct data_db *db, double metres, struct fm_err *err)
{
    if (!(metres > 0 && metres <= 1e6))
        return fm_fail(err, FM_EINVAL, "incident_near_m", "the distance is 0 to 1000 km");
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          "INSERT OR REPLACE INTO conflict_settings (key, value)"
                          " VALUES ('incident_near_m', ?)",
                          &st, err);
    if (rc) return rc;
    sqlite3_bind_double(st, 1, metres);
    if (sqlite3_step(st) != SQLITE_DONE) rc = db_fail(db, err, "conflict settings");
    sqlite3_finalize(st);
    return rc;
}

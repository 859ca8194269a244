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
 *   centre (through PROJ), never in degrees. Interiors are compared in
 *   WGS84 as stored (a topological question).
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
 *
 * Three parts (issue 18): these rules, in C over GEOS and PROJ (geom.c),
 * so that every backend finds the same conflicts from the same WKB; the
 * Feature text (conflict_text.c); the rows, under the store interface
 * (store.h; data/sqlite/conflicts.c), which only keeps and finds.
 */
#include "geom.h"
#include "internal.h"
#include "store.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum kind { K_MCZ, K_ZO, K_IZ, K_INM, K_COUNT };
static const char *const kind_names[K_COUNT] = {"movement_crosses_zone", "zones_overlap",
                                                "incident_in_zone", "incident_near_movement"};

/* One item version as the engine needs it; g is its geometry, read from
 * the store's WKB when a rule first needs it (owned by whoever read it). */
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
    const unsigned char *wkb; /* borrowed while the store's row lives */
    size_t wkb_len;
    struct geo *g;
};

static void it_from(const struct store_citem *r, struct it *x)
{
    memset(x, 0, sizeof *x);
    x->vid = r->vid;
    x->id = r->id;
    x->version = r->version;
    if (data_coll_parse(r->collection, &x->coll)) x->coll = DATA_ZONES;
    snprintf(x->party, sizeof x->party, "%s", r->party);
    snprintf(x->status, sizeof x->status, "%s", r->status);
    snprintf(x->type, sizeof x->type, "%s", r->type);
    x->has_from = r->has_from;
    x->from = r->from;
    x->has_to = r->has_to;
    x->to = r->to;
    x->has_floor = r->has_floor;
    x->floor = r->floor;
    x->has_ceil = r->has_ceil;
    x->ceil = r->ceil;
    x->half_w = r->corridor_m / 2.0;
    x->severity = r->severity;
    memcpy(x->box, r->box, sizeof x->box);
    x->wkb = r->wkb;
    x->wkb_len = r->wkb_len;
}

static int is_live(const struct it *x)
{
    return item_status_live(x->status);
}

/* ---- the geometry context of this thread --------------------------------- */

/* GEOS's and PROJ's contexts, and the UTM transformations they keep (a
 * lookup in proj.db each, some 0.6 M instructions), live as long as the
 * thread: a write re-uses what the last one made. */
static pthread_key_t geo_key;
static pthread_once_t geo_once = PTHREAD_ONCE_INIT;

static void geo_key_free(void *p)
{
    geo_ctx_free(p);
}

static void geo_key_make(void)
{
    if (pthread_key_create(&geo_key, geo_key_free)) abort();
}

static struct geo_ctx *geo_here(void)
{
    pthread_once(&geo_once, geo_key_make);
    struct geo_ctx *g = pthread_getspecific(geo_key);
    if (!g) {
        g = geo_ctx_new();
        if (pthread_setspecific(geo_key, g)) abort();
    }
    return g;
}

/* ---- the state of one pass ------------------------------------------- */

#define FRESH_MAX 16 /* new conflicts waiting for their INSERT at most */

struct fresh {
    struct store_conflict row;
    unsigned char *wkb;
    char *geojson;
    char vis[16];
};

struct ctx {
    struct data_db *db;
    const struct store_ops *ops;
    struct geo_ctx *geo;
    const struct data_viewer *v;
    fm_time now;
    double near_m;
    /* the projected route of the last movement asked for, and its
     * corridor in WGS84 */
    int64_t utm_vid;
    int utm_srid;
    struct geo *route, *corridor;
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

static fm_rc ctx_init(struct ctx *cx, struct data_db *db, const struct data_viewer *v, fm_time now,
                      struct data_recheck_stats *stats, struct fm_err *err)
{
    memset(cx, 0, sizeof *cx);
    cx->db = db;
    cx->ops = store_of(db);
    cx->geo = geo_here();
    cx->v = v;
    cx->now = now;
    cx->stats = stats;
    cx->err = err;
    cx->utm_vid = -1;
    cx->near_m = 1000;
    if (!cx->ops->near_get)
        return fm_fail(err, FM_EINTERNAL, NULL, "the %s store keeps no conflicts yet",
                       cx->ops->name);
    return cx->ops->near_get(db, &cx->near_m, err);
}

static void fresh_drop(struct ctx *cx)
{
    for (int i = 0; i < cx->nfresh; i++) {
        free(cx->fresh[i].wkb);
        free(cx->fresh[i].geojson);
    }
    cx->nfresh = 0;
}

static void route_drop(struct ctx *cx)
{
    geo_free(cx->geo, cx->route);
    geo_free(cx->geo, cx->corridor);
    cx->route = cx->corridor = NULL;
    cx->utm_vid = -1;
}

static void ctx_cleanup(struct ctx *cx)
{
    fresh_drop(cx);
    free(cx->fresh);
    route_drop(cx);
    free(cx->seen);
}

static void seen_add(struct ctx *cx, int64_t id)
{
    if (cx->nseen == cx->aseen) {
        cx->aseen = cx->aseen ? cx->aseen * 2 : 64;
        cx->seen = fm_xrealloc(cx->seen, cx->aseen * sizeof *cx->seen);
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

/* x's geometry, read from its WKB on first use. */
static fm_rc geom_of(struct ctx *cx, struct it *x)
{
    if (x->g) return FM_OK;
    if (!x->wkb) return fm_fail(cx->err, FM_EINTERNAL, NULL, "item %" PRId64 " has no geometry",
                                x->id);
    fm_rc rc = geo_from_wkb(cx->geo, x->wkb, x->wkb_len, &x->g, cx->err);
    if (rc) fm_fail(cx->err, FM_EINTERNAL, NULL, "item %" PRId64 ": unreadable geometry", x->id);
    return rc;
}

/* Projects movement m's route (and corridor) into its UTM zone, once.
 * The corridor is only drawn (the clash geometry; the test is the
 * distance to the route): 8 segments a quarter circle stray at most
 * 1 - cos(pi/32) = 0.5% of the half width from the circle. */
static fm_rc route_of(struct ctx *cx, struct it *m)
{
    if (cx->utm_vid == m->vid) return FM_OK;
    route_drop(cx);
    fm_rc rc = geom_of(cx, m);
    if (rc) return rc;
    cx->utm_srid = geo_utm_srid(m->box);
    if (geo_project(cx->geo, m->g, cx->utm_srid, 0, &cx->route, cx->err))
        return fm_fail(cx->err, FM_EINTERNAL, NULL, "movement %" PRId64 " cannot be projected",
                       m->id);
    if (m->half_w > 0 &&
        geo_corridor(cx->geo, cx->route, m->half_w, cx->utm_srid, &cx->corridor, cx->err))
        cx->corridor = NULL; /* drawn without it: the route's own clash */
    cx->utm_vid = m->vid;
    return FM_OK;
}

/* The distance in metres from the projected route to x (in the route's
 * UTM zone); negative when x cannot be projected or measured. */
static double route_distance(struct ctx *cx, const struct it *x)
{
    struct geo *p;
    struct fm_err ignored = {0};
    if (geo_project(cx->geo, x->g, cx->utm_srid, 0, &p, &ignored)) return -1;
    double d = geo_distance(cx->geo, cx->route, p);
    geo_free(cx->geo, p);
    return d;
}

/* ---- one pair --------------------------------------------------------- */

struct clash {
    enum kind kind;
    struct it *a, *b;
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

/* Space: does the pair clash? A geometry that cannot be projected or
 * related clashes with nothing, as SpatiaLite's NULLs did. */
static fm_rc space_holds(struct ctx *cx, const struct clash *c, int *hit)
{
    *hit = 0;
    fm_rc rc;
    if ((rc = geom_of(cx, c->a)) || (rc = geom_of(cx, c->b))) return rc;
    if (c->kind == K_ZO || c->kind == K_IZ) {
        *hit = geo_interiors_meet(cx->geo, c->a->g, c->b->g) == 1;
    } else if (c->kind == K_MCZ) {
        if ((rc = route_of(cx, c->a))) return rc;
        double d = route_distance(cx, c->b);
        *hit = (d >= 0 && d < c->a->half_w) ||
               (c->a->half_w <= 0 && geo_interiors_meet(cx->geo, c->a->g, c->b->g) == 1);
    } else {
        if ((rc = route_of(cx, c->b))) return rc;
        double d = route_distance(cx, c->a);
        *hit = d >= 0 && d < cx->near_m;
    }
    return FM_OK;
}

/* Where the pair clashes, for writing: the interiors' intersection; for a
 * movement, its corridor's (or route's) with the zone, else the shortest
 * line between them; an incident near a movement is the incident. OUT
 * WKB and GeoJSON text (malloc). */
static fm_rc clash_geom(struct ctx *cx, const struct clash *c, unsigned char **wkb, size_t *len,
                        char **geojson)
{
    *wkb = NULL;
    *geojson = NULL;
    *len = 0;
    struct geo *x = NULL;
    const struct geo *use = NULL;
    fm_rc rc;
    if (c->kind == K_ZO || c->kind == K_IZ) {
        use = (x = geo_intersection(cx->geo, c->a->g, c->b->g)) ? x : c->a->g;
    } else if (c->kind == K_MCZ) {
        if ((rc = route_of(cx, c->a))) return rc;
        x = geo_intersection(cx->geo, cx->corridor ? cx->corridor : c->a->g, c->b->g);
        if (!x) x = geo_shortest_line(cx->geo, c->a->g, c->b->g);
        use = x ? x : c->b->g;
    } else {
        use = c->a->g;
    }
    *wkb = geo_to_wkb(cx->geo, use, len);
    *geojson = geo_to_geojson(cx->geo, use);
    geo_free(cx->geo, x);
    if (*wkb && *geojson) return FM_OK;
    free(*wkb);
    free(*geojson);
    *wkb = NULL;
    *geojson = NULL;
    return fm_fail(cx->err, FM_EINTERNAL, NULL, "the clash of %s %" PRId64 " and %" PRId64
                   " cannot be written", kind_names[c->kind], c->a->id, c->b->id);
}

/* ---- recording -------------------------------------------------------- */

/* What log_change needs of a conflict row: its text, revision, party. */
struct told {
    char *text;
    int64_t revision;
    char vis[16];
};

static int told_row(void *ctx, const struct store_conflict *c)
{
    struct told *t = ctx;
    t->text = conflict_text(c);
    t->revision = c->revision;
    snprintf(t->vis, sizeof t->vis, "%s", c->vis ? c->vis : "");
    return 0;
}

/* The conflict as Feature text (malloc), its revision and visibility. */
static fm_rc conflict_told(struct ctx *cx, int64_t id, struct told *t)
{
    memset(t, 0, sizeof *t);
    return cx->ops->conflict_get(cx->db, id, told_row, t, cx->err);
}

/* Appends the event of a change of conflict id, whose text (after) the
 * caller knows; before may be NULL. */
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

/* Appends the event of a change of conflict id, read from its row; before
 * may be NULL. */
static fm_rc log_change(struct ctx *cx, const char *action, int64_t id, const char *before,
                        const char *before_vis)
{
    struct told t;
    fm_rc rc = conflict_told(cx, id, &t);
    if (!rc) rc = log_change_known(cx, action, id, before, before_vis, t.text, t.revision, t.vis);
    free(t.text);
    return rc;
}

/* The row of clash c (id and geometry aside) as the store keeps it. */
static struct store_conflict clash_row(struct ctx *cx, const struct clash *c, const char *vis)
{
    return (struct store_conflict){
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
        .vis = vis && vis[0] ? vis : NULL,
    };
}

/* Inserts the waiting new conflicts and appends their events, each text
 * from what was written, not read back. */
static fm_rc flush_new(struct ctx *cx)
{
    if (!cx->nfresh) return FM_OK;
    struct store_conflict rows[FRESH_MAX];
    for (int i = 0; i < cx->nfresh; i++) rows[i] = cx->fresh[i].row;
    int64_t ids[FRESH_MAX];
    fm_rc rc = cx->ops->conflicts_insert(cx->db, rows, cx->nfresh, ids, cx->err);
    for (int i = 0; !rc && i < cx->nfresh; i++) {
        rows[i].id = ids[i];
        seen_add(cx, rows[i].id);
        if (cx->stats) cx->stats->opened++;
        char *after = conflict_text(&rows[i]);
        rc = log_change_known(cx, "conflict_open", rows[i].id, NULL, NULL, after, 1,
                              cx->fresh[i].vis);
        free(after);
    }
    fresh_drop(cx);
    return rc;
}

/* What record() needs of the pair's conflict row, if there is one. */
struct found {
    const struct clash *c;
    int any, open, same, by_hand, owner_only;
    int64_t id;
    char *before; /* its text, when the change is news */
    char vis[16];
};

static int found_row(void *ctx, const struct store_conflict *r)
{
    struct found *f = ctx;
    const struct clash *c = f->c;
    f->any = 1;
    f->id = r->id;
    f->open = r->state && !strcmp(r->state, "open");
    f->same = r->a_version == c->a->version && r->b_version == c->b->version &&
              !strcmp(r->vis ? r->vis : "", c->vis);
    f->by_hand = r->resolved_by != NULL;
    f->owner_only = r->vis != NULL;
    snprintf(f->vis, sizeof f->vis, "%s", r->vis ? r->vis : "");
    /* news: re-opened, or seen by all for the first time (a draft proposed) */
    if (!(f->same && (f->open || f->by_hand)) && (!f->open || (!c->vis[0] && f->owner_only)))
        f->before = conflict_text(r);
    return 0;
}

/* A clash holds: open, re-open or refresh its conflict. */
static fm_rc record(struct ctx *cx, const struct clash *c)
{
    if (cx->stats) cx->stats->found++;
    /* an item created in this transaction is in no conflict yet (its id is
     * new: AUTOINCREMENT), and each pass meets a pair once */
    struct found f = {.c = c};
    fm_rc rc;
    if (!cx->created) {
        rc = cx->ops->conflict_find(cx->db, kind_names[c->kind], c->a->id, c->b->id, found_row, &f,
                                    cx->err);
        if (rc == FM_ENOTFOUND)
            fm_err_clear(cx->err);
        else if (rc)
            return rc;
    }
    unsigned char *wkb;
    size_t len;
    char *geojson;
    if (!f.any) {
        if ((rc = clash_geom(cx, c, &wkb, &len, &geojson))) return rc;
        if (!cx->fresh) cx->fresh = fm_xcalloc(FRESH_MAX, sizeof *cx->fresh);
        struct fresh *n = &cx->fresh[cx->nfresh++];
        snprintf(n->vis, sizeof n->vis, "%s", c->vis);
        n->row = clash_row(cx, c, n->vis);
        n->wkb = wkb;
        n->geojson = geojson;
        n->row.wkb = wkb;
        n->row.wkb_len = len;
        n->row.geojson = geojson;
        return cx->nfresh == FRESH_MAX ? flush_new(cx) : FM_OK;
    }
    seen_add(cx, f.id);
    if (f.same && (f.open || f.by_hand)) return FM_OK; /* unchanged, or resolved by the supervisor */
    if ((rc = clash_geom(cx, c, &wkb, &len, &geojson))) {
        free(f.before);
        return rc;
    }
    struct store_conflict row = clash_row(cx, c, c->vis);
    row.id = f.id;
    row.wkb = wkb;
    row.wkb_len = len;
    row.geojson = geojson;
    rc = cx->ops->conflict_refresh(cx->db, &row, !f.open, cx->err);
    free(wkb);
    free(geojson);
    if (!rc && !f.open && cx->stats) cx->stats->opened++;
    /* an open conflict refreshed (new versions, the clash redrawn) is no
     * news of its own: the items' events tell it. Only one that the other
     * parties now see for the first time (a draft proposed) is. */
    if (!rc && f.before) rc = log_change(cx, "conflict_open", f.id, f.before, f.vis);
    free(f.before);
    return rc;
}

/* Checks pair (a, b) in kind k and records a clash. */
static fm_rc check_pair(struct ctx *cx, enum kind k, struct it *a, struct it *b)
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

/* The candidate query's filters that need no geometry: only what
 * rules_hold would refuse anyway, knowing x alone (type, party, draft,
 * altitude band). */
static void query_rules(struct store_cand_query *q, enum kind k, const struct it *x)
{
    int air = strcmp(x->type, "air") == 0;
    if (k == K_MCZ && x->coll == DATA_MOVEMENTS) q->ztypes = air ? 2 : 1;
    if (k == K_MCZ && x->coll == DATA_ZONES && !strcmp(x->type, "no_fly")) q->aironly = 1;
    if (k == K_ZO) q->otherparty = x->party;
    if (is_draft(x)) q->draftparty = x->party;
    if (k == K_ZO || (k == K_MCZ && x->coll == DATA_MOVEMENTS && air)) {
        q->has_floor = x->has_floor;
        q->floor = x->floor;
        q->has_ceil = x->has_ceil;
        q->ceil = x->ceil;
    }
}

/* One candidate search: x against the store's rows. */
struct against {
    struct ctx *cx;
    struct it *x;
    enum kind k;
    int x_is_a;
    struct geo_prep *pre; /* x grown by the reach, in degrees; NULL: none */
    fm_rc rc;
};

static int against_row(void *ctx, const struct store_citem *r)
{
    struct against *ag = ctx;
    struct ctx *cx = ag->cx;
    struct it y;
    it_from(r, &y);
    struct it *a = ag->x_is_a ? ag->x : &y, *b = ag->x_is_a ? &y : ag->x;
    if (ag->k == K_ZO && a->id > b->id) {
        struct it *t = a;
        a = b;
        b = t;
    }
    /* y's geometry is read here only for the prefilter; else when a rule
     * first needs it (space_holds), not for a pair the rules refuse */
    int near = 1;
    if (ag->pre && !(ag->rc = geom_of(cx, &y)))
        near = geo_prep_intersects(cx->geo, ag->pre, y.g) == 1;
    if (!ag->rc && near) ag->rc = check_pair(cx, ag->k, a, b);
    /* y's geometry goes with its row; a route made of it is y's vid's */
    if (cx->utm_vid == y.vid) route_drop(cx);
    geo_free(cx->geo, y.g);
    return ag->rc != FM_OK;
}

/* Pairs item x with the live items of collection `other` whose boxes come
 * within reach metres of its own, in kind k; x is the pair's a when x_is_a
 * (zones_overlap: the lower id is a). Only items with id >= min_id. */
static fm_rc check_against(struct ctx *cx, struct it *x, enum data_coll other, double reach,
                           enum kind k, int x_is_a, int64_t min_id)
{
    if (k == K_MCZ && x->coll == DATA_ZONES && !forbids_movements(x)) return FM_OK;
    struct store_cand_query q = {.coll = other, .self = x->id, .min_id = min_id, .now = cx->now,
                                 .has_from = x->has_from, .from = x->from, .has_to = x->has_to,
                                 .to = x->to};
    double deg = expand(x->box, reach, q.box);
    query_rules(&q, k, x);
    struct against ag = {cx, x, k, x_is_a, NULL, FM_OK};
    fm_rc rc = geom_of(cx, x);
    if (rc) return rc;
    /* x buffered by that many degrees, and 1% for the buffer's chords (8
     * segments a quarter circle: its chords come no nearer than
     * cos(pi/32) = 0.9952 of the radius): a prepared geometry for the
     * candidates' first, cheap test */
    struct geo *grown = NULL;
    if (deg > 0 && (grown = geo_buffer(cx->geo, x->g, deg * 1.01, 8)))
        ag.pre = geo_prepare(cx->geo, grown);
    rc = cx->ops->citems_find(cx->db, &q, against_row, &ag, cx->err);
    geo_prep_free(cx->geo, ag.pre);
    geo_free(cx->geo, grown);
    if (!rc) rc = ag.rc;
    if (!rc) rc = flush_new(cx);
    fresh_drop(cx);
    return rc;
}

/* Resolves open conflict id (by the system, with why), with its record. */
static fm_rc resolve_one(struct ctx *cx, int64_t id, const char *why)
{
    struct told before;
    fm_rc rc = conflict_told(cx, id, &before);
    if (!rc) rc = cx->ops->conflict_resolve(cx->db, id, cx->now, NULL, why, cx->err);
    if (!rc) rc = log_change(cx, "conflict_resolved", id, before.text, before.vis);
    free(before.text);
    if (!rc && cx->stats) cx->stats->resolved++;
    return rc;
}

struct ids {
    int64_t *v;
    size_t n, alloc;
};

static int ids_add(void *ctx, int64_t id)
{
    struct ids *l = ctx;
    if (l->n == l->alloc) {
        l->alloc = l->alloc ? l->alloc * 2 : 16;
        l->v = fm_xrealloc(l->v, l->alloc * sizeof *l->v);
    }
    l->v[l->n++] = id;
    return 0;
}

/* Resolves the open conflicts of item (conflicts_open_of's which) that
 * the pass did not see hold. */
static fm_rc resolve_unseen(struct ctx *cx, int64_t item, int which, const char *why)
{
    /* sorted again only when it grew: a chunk asks once per item */
    if (cx->nseen != cx->nsorted) qsort(cx->seen, cx->nseen, sizeof *cx->seen, cmp_id);
    cx->nsorted = cx->nseen;
    struct ids l = {0};
    fm_rc rc = cx->ops->conflicts_open_of(cx->db, item, which, ids_add, &l, cx->err);
    for (size_t i = 0; !rc && i < l.n; i++)
        if (!cx->nseen || !bsearch(&l.v[i], cx->seen, cx->nseen, sizeof *cx->seen, cmp_id))
            rc = resolve_one(cx, l.v[i], why);
    free(l.v);
    return rc;
}

/* ---- the entry points -------------------------------------------------- */

/* The current version of item id into *x (its geometry read now). */
struct got {
    struct ctx *cx;
    struct it *x;
    fm_rc rc;
};

static int got_item(void *ctx, const struct store_citem *r)
{
    struct got *g = ctx;
    it_from(r, g->x);
    g->rc = geom_of(g->cx, g->x);
    g->x->wkb = NULL; /* borrowed: gone with the row */
    return 0;
}

static fm_rc item_get(struct ctx *cx, int64_t id, struct it *x)
{
    memset(x, 0, sizeof *x);
    struct got g = {cx, x, FM_OK};
    fm_rc rc = cx->ops->citem_get(cx->db, id, got_item, &g, cx->err);
    return rc ? rc : g.rc;
}

fm_rc conflicts_check_item(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                           int64_t item, int created, fm_time now, struct fm_err *err)
{
    (void)c;
    struct ctx cx;
    struct it x = {0};
    fm_rc rc = ctx_init(&cx, db, v, now, NULL, err);
    if (rc || (rc = item_get(&cx, item, &x))) goto done;
    cx.created = created;
    int live = is_live(&x);
    if (x.coll == DATA_MOVEMENTS &&
        (rc = cx.ops->reach_set(db, x.id, live, x.half_w, err)))
        goto done;
    if (live) {
        double reach = 0;
        switch (x.coll) {
        case DATA_MOVEMENTS:
            if ((rc = check_against(&cx, &x, DATA_ZONES, x.half_w, K_MCZ, 1, 0)) ||
                (rc = check_against(&cx, &x, DATA_INCIDENTS, cx.near_m, K_INM, 0, 0)))
                goto done;
            break;
        case DATA_ZONES:
            if ((rc = cx.ops->reach_max(db, &reach, err)) ||
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
    rc = resolve_unseen(&cx, item, 0, why);
done:
    if (cx.utm_vid == x.vid) route_drop(&cx);
    geo_free(cx.geo, x.g);
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

static fm_rc recheck_one(struct ctx *cx, struct it *x)
{
    fm_rc rc;
    switch (x->coll) {
    case DATA_MOVEMENTS:
        if ((rc = cx->ops->reach_set(cx->db, x->id, 1, x->half_w, cx->err)) ||
            (rc = check_against(cx, x, DATA_ZONES, x->half_w, K_MCZ, 1, 0)))
            return rc;
        return check_against(cx, x, DATA_INCIDENTS, cx->near_m, K_INM, 0, 0);
    case DATA_ZONES:
        return check_against(cx, x, DATA_ZONES, 0, K_ZO, 1, x->id + 1);
    default:
        return check_against(cx, x, DATA_ZONES, 0, K_IZ, 1, 0);
    }
}

/* One chunk of the pass: items ids[0..n), as they are now, or the first
 * *done of them when RECHECK_HOLD_MS ran out. */
static fm_rc recheck_chunk(struct data_db *db, fm_time at, const int64_t *ids, size_t n,
                           size_t *done, struct data_recheck_stats *stats, struct fm_err *err)
{
    const struct store_ops *ops = store_of(db);
    struct ctx cx;
    fm_rc rc = ops->begin(db, err);
    if (rc) return rc;
    int64_t t0 = fm_monotonic_ms(); /* the lock's, not the wait for it */
    if ((rc = ctx_init(&cx, db, &system_viewer, at, stats, err))) goto done;
    for (size_t i = 0; !rc && i < n; i++) {
        if (i && fm_monotonic_ms() - t0 >= RECHECK_HOLD_MS) n = i;
        if (i == n) break;
        struct it x;
        rc = item_get(&cx, ids[i], &x);
        if (rc == FM_ENOTFOUND) { /* gone meanwhile */
            fm_err_clear(err);
            rc = FM_OK;
            continue;
        }
        if (!rc && is_live(&x)) { /* else ended meanwhile: its write resolved it */
            stats->items++;
            rc = recheck_one(&cx, &x);
        }
        if (cx.utm_vid == x.vid) route_drop(&cx);
        geo_free(cx.geo, x.g);
    }
    *done = n;
    for (size_t i = 0; !rc && i < n; i++)
        rc = resolve_unseen(&cx, ids[i], 1, "the clash no longer holds at this time");
done:
    ctx_cleanup(&cx);
    if (!rc) return ops->commit(db, err);
    ops->rollback(db);
    return rc;
}

fm_rc data_conflicts_recheck(struct data_db *db, fm_time at, struct data_recheck_stats *stats,
                             struct fm_err *err)
{
    memset(stats, 0, sizeof *stats);
    const struct store_ops *ops = store_of(db);
    if (!ops->citems_live)
        return fm_fail(err, FM_EINTERNAL, NULL, "the %s store keeps no conflicts yet", ops->name);
    /* the live items, read once: each chunk reloads its items as they are */
    struct ids l = {0};
    fm_rc rc = ops->citems_live(db, ids_add, &l, err);
    for (size_t i = 0, done = 0; !rc && i < l.n; i += done) {
        rc = recheck_chunk(db, at, l.v + i, l.n - i < RECHECK_CHUNK ? l.n - i : RECHECK_CHUNK,
                           &done, stats, err);
        if (!rc && i + done < l.n)
            nanosleep(&(struct timespec){0, RECHECK_GAP_MS * 1000000L}, NULL);
    }
    free(l.v);
    if (rc) return rc;
    /* the open conflicts whose driver has ended or gone */
    struct ctx cx;
    if ((rc = ops->begin(db, err))) return rc;
    if (!(rc = ctx_init(&cx, db, &system_viewer, at, stats, err)))
        rc = resolve_unseen(&cx, 0, 2, "the clash no longer holds at this time");
    ctx_cleanup(&cx);
    if (!rc) return ops->commit(db, err);
    ops->rollback(db);
    return rc;
}
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

/* A record's "interval" [from, to] (null: open) meets [t0, t1]. */
static int interval_meets(const json_t *interval, fm_time t0, fm_time t1)
{
    const char *from = json_string_value(json_array_get(interval, 0));
    const char *to = json_string_value(json_array_get(interval, 1));
    fm_time f, t;
    if (from && !fm_time_parse(from, &f) && f > t1) return 0;
    if (to && !fm_time_parse(to, &t) && t < t0) return 0;
    return 1;
}

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
    if (keep && q->has_time)
        keep = interval_meets(json_object_get(json_object_get(f, "properties"), "interval"), q->t0,
                              q->t1);
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

/* ---- reading and resolving -------------------------------------------- */

/* Who sees conflict c: everyone, or the owner of its draft (vparty). */
static int conflict_visible(const struct store_conflict *c, const char *vparty)
{
    return !c->vis || (vparty && !strcmp(c->vis, vparty));
}

struct listing {
    data_conflict_cb cb;
    void *ctx;
};

static int listing_row(void *ctx, const struct store_conflict *c)
{
    struct listing *l = ctx;
    char *text = conflict_text(c);
    int stop = l->cb(l->ctx, c->id, text);
    free(text);
    return stop;
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
    if ((unsigned)q->geom > DATA_GEOM_AREAS)
        return fm_fail(err, FM_EINVAL, NULL, "no such geometry family");
    if (q->has_t) return conflicts_as_of(db, v, q, cb, ctx, matched, err);
    const struct store_ops *ops = store_of(db);
    if (!ops->conflicts_query)
        return fm_fail(err, FM_EINTERNAL, NULL, "the %s store keeps no conflicts yet", ops->name);
    struct store_conflict_query sq = {
        .vparty = viewer_draft_party(v),
        .state = q->state,
        .geom = q->geom,
        .has_bbox = q->has_bbox,
        .limit = q->limit,
        .offset = q->offset,
        .has_time = q->has_time,
        .t0 = q->t0,
        .t1 = q->t1,
    };
    memcpy(sq.bbox, q->bbox, sizeof sq.bbox);
    struct listing l = {cb, ctx};
    return ops->conflicts_query(db, &sq, cb ? listing_row : NULL, &l, matched, err);
}

/* Conflict id as v may see it: its Feature and state. */
struct seen_one {
    const char *vparty;
    int visible;
    json_t *feature;
    char state[16];
};

static int seen_row(void *ctx, const struct store_conflict *c)
{
    struct seen_one *s = ctx;
    if (!(s->visible = conflict_visible(c, s->vparty))) return 0;
    char *text = conflict_text(c);
    s->feature = json_loads(text, 0, NULL);
    free(text);
    snprintf(s->state, sizeof s->state, "%s", c->state ? c->state : "");
    return 0;
}

static fm_rc get_visible(struct data_db *db, const struct data_viewer *v, int64_t id,
                         char state[16], json_t **out, struct fm_err *err)
{
    *out = NULL;
    const struct store_ops *ops = store_of(db);
    if (!ops->conflict_get)
        return fm_fail(err, FM_EINTERNAL, NULL, "the %s store keeps no conflicts yet", ops->name);
    struct seen_one s = {.vparty = viewer_draft_party(v)};
    fm_rc rc = ops->conflict_get(db, id, seen_row, &s, err);
    if (rc == FM_ENOTFOUND || (!rc && !s.visible)) {
        fm_err_clear(err);
        return fm_fail(err, FM_ENOTFOUND, NULL, "no conflict %" PRId64, id);
    }
    if (rc) return rc;
    if (!s.feature) return fm_fail(err, FM_EINTERNAL, NULL, "conflict %" PRId64 " unreadable", id);
    *out = s.feature;
    if (state) snprintf(state, 16, "%s", s.state);
    return FM_OK;
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
    const struct store_ops *ops = store_of(db);
    struct ctx cx;
    json_t *cur = NULL;
    char state[16];
    struct told before = {0};
    fm_rc rc = ops->begin(db, err);
    if (rc) return rc;
    if ((rc = ctx_init(&cx, db, v, fm_time_now(), NULL, err))) goto fail;
    if ((rc = get_visible(db, v, id, state, &cur, err))) goto fail;
    json_decref(cur);
    if (strcmp(state, "open") != 0) {
        rc = fm_fail(err, FM_ECONFLICT, NULL, "conflict %" PRId64 " is already resolved", id);
        goto fail;
    }
    if ((rc = conflict_told(&cx, id, &before)) ||
        (rc = ops->conflict_resolve(db, id, cx.now, v->user, comment, err)) ||
        (rc = log_change(&cx, "conflict_resolved", id, before.text, before.vis)))
        goto fail;
    free(before.text);
    ctx_cleanup(&cx);
    if ((rc = ops->commit(db, err))) return rc;
    return get_visible(db, v, id, NULL, out, err);
fail:
    free(before.text);
    ctx_cleanup(&cx);
    ops->rollback(db);
    return rc;
}

fm_rc data_conflicts_set_near(struct data_db *db, double metres, struct fm_err *err)
{
    if (!(metres > 0 && metres <= 1e6))
        return fm_fail(err, FM_EINVAL, "incident_near_m", "the distance is 0 to 1000 km");
    const struct store_ops *ops = store_of(db);
    if (!ops->near_set)
        return fm_fail(err, FM_EINTERNAL, NULL, "the %s store keeps no conflicts yet", ops->name);
    return ops->near_set(db, metres, err);
}

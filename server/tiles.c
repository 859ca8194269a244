/* tiles.c - raster tiles, TileJSON and briefing images over HTTP.
 *
 *   GET /tiles/{layer}/{z}/{x}/{y}.png, .../{y}@2x.png   ?t= as-of
 *   GET /tiles/{layer}.json                              TileJSON 3.0
 *   GET /map.png?bbox=&width=&height=&layers=&t=&title=   (no bbox: what the viewer sees)
 *   GET /map.pdf, the same parameters                     one A4 page
 *
 * tiles/ draws; this file wires its feature source to data/ for the
 * requesting viewer (so drafts stay with their party), keeps one tile
 * cache for the process, and keeps that cache honest by reading the event
 * log: any event newer than the last one seen drops the tiles its item's
 * old and new extents touch. That catches every writer (HTTP, import,
 * command line) without the write paths knowing tiles.
 *
 * Nothing a party cannot see may change what it observes of a tile (hit
 * or miss, bytes, ETag, time): the cache is kept per visibility class,
 * and each class reads the log on its own, as a viewer of that class, and
 * drops only its own tiles. A write through this server brings every
 * class up to date in the writer's request (srv_tiles_after_write, from
 * routes.c); a tile request reads only its own class's share, when this
 * process has committed anything since that class's last look
 * (data_write_generation), and at least every SYNC_INTERVAL_MS for the
 * writes of other processes (the command line): a cached tile is served
 * without touching the database in between. */
#include "srv.h"
#include "tiles.h"
#include "vocabulary.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef FM_BASEMAP_DEFAULT
#define FM_BASEMAP_DEFAULT "basemap/countries.gpkg"
#endif

#define DEFAULT_CACHE_BYTES ((size_t)64 << 20) /* within the 200 MB peak (issue 23) */
#define SYNC_INTERVAL_MS 200
#define MAP_MAX_PIXELS (4096L * 4096L)

/* Parties, and "" for viewers: a handful. A class beyond the table is
 * served without the cache. */
#define MAX_CLASSES 64

struct vis_class {
    char vis[TILE_VIS_LEN];
    pthread_mutex_t lock;   /* held while the class reads the log */
    _Atomic int64_t seen_seq; /* its events up to here are reflected; -1 none yet */
    uint64_t seen_gen;      /* data_write_generation at its last look */
    int64_t seen_ms;        /* and when (fm_monotonic_ms) */
};

static struct {
    pthread_once_t once;
    struct tile_cache *_Atomic cache;
    struct tile_basemap *basemap;
    char basemap_path[1024];
    size_t cache_bytes;
    pthread_mutex_t classes_lock;
    struct vis_class classes[MAX_CLASSES];
    int nclasses;
} T = {.once = PTHREAD_ONCE_INIT, .classes_lock = PTHREAD_MUTEX_INITIALIZER};

void srv_tiles_configure(const char *basemap_path, size_t cache_bytes)
{
    if (basemap_path) snprintf(T.basemap_path, sizeof T.basemap_path, "%s", basemap_path);
    if (cache_bytes) T.cache_bytes = cache_bytes;
}

static void tiles_init(void)
{
    struct fm_err err;
    fm_err_clear(&err);
    const char *env = getenv("FUSIONMAP_BASEMAP");
    const char *path = T.basemap_path[0] ? T.basemap_path : env && *env ? env : FM_BASEMAP_DEFAULT;
    if (strcmp(path, "none") != 0) {
        if (tile_basemap_load(path, &T.basemap, &err) == FM_OK)
            fm_log(FM_LOG_INFO, "tiles: basemap %s", path);
        else
            fm_log(FM_LOG_WARN,
                   "tiles: no basemap (%s); run scripts/build-basemap.sh or pass --basemap",
                   err.msg);
    }
    const char *mb = getenv("FUSIONMAP_TILE_CACHE_MB");
    long v;
    size_t bytes = T.cache_bytes ? T.cache_bytes : DEFAULT_CACHE_BYTES;
    if (mb && fm_parse_long(mb, 0, 65536, &v) == FM_OK) bytes = (size_t)v << 20; /* 0: off */
    struct tile_cache *cache;
    tile_cache_new(bytes, &cache, &err);
    T.cache = cache;
}

void srv_tiles_warm(void)
{
    pthread_once(&T.once, tiles_init);
}

/* ---- keeping the cache honest ----------------------------------------- */

static void coords_bbox(const json_t *c, double b[4], int *any)
{
    if (!json_is_array(c)) return;
    if (json_array_size(c) >= 2 && json_is_number(json_array_get(c, 0))) {
        double x = json_number_value(json_array_get(c, 0)),
               y = json_number_value(json_array_get(c, 1));
        if (!*any) b[0] = b[2] = x, b[1] = b[3] = y, *any = 1;
        b[0] = fmin(b[0], x), b[1] = fmin(b[1], y), b[2] = fmax(b[2], x), b[3] = fmax(b[3], y);
        return;
    }
    size_t i;
    const json_t *e;
    json_array_foreach(c, i, e) coords_bbox(e, b, any);
}

/* The lon/lat extent of a feature's geometry; 0 when it has none. */
static int feature_bbox(const json_t *f, double b[4])
{
    const json_t *g = json_object_get(f, "geometry");
    int any = 0;
    coords_bbox(json_object_get(g, "coordinates"), b, &any);
    const json_t *geoms = json_object_get(g, "geometries");
    size_t i;
    const json_t *e;
    json_array_foreach(geoms, i, e) coords_bbox(json_object_get(e, "coordinates"), b, &any);
    return any;
}

static const char *status_of(const json_t *f)
{
    return json_string_value(json_object_get(json_object_get(f, "properties"), "status"));
}

static int is_item(const json_t *ev)
{
    const char *c = json_string_value(json_object_get(ev, "collection"));
    return c && (strcmp(c, "zones") == 0 || strcmp(c, "incidents") == 0 ||
                 strcmp(c, "movements") == 0);
}

/* Drops vis's tiles (NULL: every class's) that f's extent touches, unless
 * f is a withdrawn item version: no picture, of now or of the past, draws
 * one, so its extent changes nothing (its predecessor's does). */
static void invalidate_feature(const char *vis, const json_t *ev, const json_t *f)
{
    double b[4] = {0};
    if (!json_is_object(f) || !feature_bbox(f, b)) return;
    const char *st = status_of(f);
    if (is_item(ev) && st && strcmp(st, "withdrawn") == 0) return;
    tile_cache_invalidate_bbox(T.cache, vis, b);
}

/* An item that everybody saw and that is a draft again (sent back by its
 * party or the supervisor) leaves every picture but its party's, though
 * the event may be its party's alone: every class's tiles at the version
 * everybody saw are dropped. The bytes of those tiles change for all, so
 * the drop tells nobody more than the tiles themselves do. */
static void public_to_draft(const json_t *ev)
{
    const json_t *before = json_object_get(ev, "before"), *after = json_object_get(ev, "after");
    const char *sb = status_of(before), *sa = status_of(after);
    if (is_item(ev) && sb && sa && strcmp(sa, "draft") == 0 && strcmp(sb, "draft") != 0 &&
        strcmp(sb, "withdrawn") != 0)
        invalidate_feature(NULL, ev, before);
}

/* An overdue record (rules.c) carries no geometry: the item, as the class
 * sees it now, has its tiles dropped (they draw it overdue from now on).
 * The class sees the record exactly when it sees the version marked. */
static void overdue_marked(struct req *r, const struct data_viewer *v, const char *vis,
                           const json_t *ev)
{
    const char *action = json_string_value(json_object_get(ev, "action"));
    enum data_coll c;
    if (!action || strcmp(action, "overdue") != 0 ||
        data_coll_parse(json_string_value(json_object_get(ev, "collection")), &c) != FM_OK)
        return;
    json_t *f = NULL;
    struct fm_err err;
    int64_t id = json_integer_value(json_object_get(ev, "item"));
    if (id > 0 && data_item_get(r->db, v, c, id, &f, &err) == FM_OK)
        invalidate_feature(vis, ev, f);
    json_decref(f);
}

#define SYNC_PAGE 1000
#define SYNC_MAX_EVENTS 5000 /* a class seeing more since the last look is cleared */

/* Drops class vis's tiles for the events after `since` up to `last` that
 * the class may see (data_events_since, as a viewer of the class: the
 * before and after it may see), reading the log in pages. Only what the
 * class may see is parsed (data_events_since skips the rest unread), so
 * the time this takes does not depend on what the class cannot see. */
static fm_rc sync_class(struct req *r, const char *vis, int64_t since, int64_t last,
                        struct fm_err *err)
{
    struct data_viewer v;
    memset(&v, 0, sizeof v);
    size_t len = strlen(vis);
    if (len >= sizeof v.party) return FM_OK; /* no party has such a code: no tiles either */
    memcpy(v.party, vis, len + 1);
    v.role = vis[0] ? DATA_ROLE_LIAISON : DATA_ROLE_VIEWER;
    static const double world[4] = {-1e9, -1e9, 1e9, 1e9};
    long seen = 0;
    int64_t cursor = since;
    while (cursor < last) {
        json_t *events = NULL;
        fm_rc rc = data_events_since(r->db, &v, cursor, SYNC_PAGE, &events, err);
        if (rc) return rc;
        size_t n = json_array_size(events), k;
        int64_t top = cursor;
        json_t *ev;
        json_array_foreach(events, k, ev) {
            int64_t seq = json_integer_value(json_object_get(ev, "seq"));
            if (seq > last) break;
            top = seq;
            public_to_draft(ev);
            if (seen++ == SYNC_MAX_EVENTS) tile_cache_invalidate_bbox(T.cache, vis, world);
            if (seen > SYNC_MAX_EVENTS) continue;
            invalidate_feature(vis, ev, json_object_get(ev, "before"));
            invalidate_feature(vis, ev, json_object_get(ev, "after"));
            overdue_marked(r, &v, vis, ev);
        }
        json_decref(events);
        /* a full page ends at its last event; a short one (the events the
         * class may not see left out) covers SYNC_PAGE records at least */
        if (n == SYNC_PAGE) cursor = top > cursor ? top : cursor + 1;
        else cursor = cursor + SYNC_PAGE < last ? cursor + SYNC_PAGE : last;
    }
    return FM_OK;
}

/* The visibility classes, each following the log on its own: a request
 * reads only its own class's share (so B's answer never waits for, nor
 * pays for, reading A's drafts), and every write through this server
 * brings every class up to date in the writer's own request
 * (srv_tiles_after_write), so that the next tile request of anybody finds
 * nothing to read. */
static struct vis_class *class_of(const char *vis)
{
    pthread_mutex_lock(&T.classes_lock);
    struct vis_class *found = NULL;
    int64_t seed = -1; /* the first class of the process starts at the log's end */
    for (int i = 0; i < T.nclasses && !found; i++) {
        if (strcmp(T.classes[i].vis, vis) == 0) found = &T.classes[i];
        int64_t s = T.classes[i].seen_seq;
        if (s >= 0 && (seed < 0 || s < seed)) seed = s;
    }
    if (!found && T.nclasses < MAX_CLASSES && strlen(vis) < TILE_VIS_LEN) {
        /* a new class has no tiles; it starts where the laggiest class
         * is, so that none of the events it owns (those before its first
         * look included) pass unread: the item that goes back to draft
         * (public_to_draft) is seen only by its owner */
        found = &T.classes[T.nclasses];
        snprintf(found->vis, sizeof found->vis, "%s", vis);
        pthread_mutex_init(&found->lock, NULL);
        found->seen_seq = seed;
        T.nclasses++;
    }
    pthread_mutex_unlock(&T.classes_lock);
    return found;
}

/* Brings class c up to date with the log unless it looked since the last
 * commit of this process, less than SYNC_INTERVAL_MS ago (after a write:
 * at any time; other processes' writes are the requests' business). */
static fm_rc sync_vis(struct req *r, struct vis_class *c, int after_write, struct fm_err *err)
{
    /* the generation before the log: a commit after this read moves it
     * again, and the next request looks */
    uint64_t gen = data_write_generation();
    int64_t now = fm_monotonic_ms();
    pthread_mutex_lock(&c->lock);
    fm_rc rc = FM_OK;
    if (c->seen_seq >= 0 && gen == c->seen_gen && (after_write || now - c->seen_ms < SYNC_INTERVAL_MS))
        goto done;
    int64_t last;
    if ((rc = data_events_last(r->db, &last, err))) goto done;
    if (c->seen_seq < 0) c->seen_seq = last; /* the cache is empty: nothing to drop */
    if (last > c->seen_seq && (rc = sync_class(r, c->vis, c->seen_seq, last, err))) goto done;
    if (last > c->seen_seq) c->seen_seq = last;
    c->seen_gen = gen, c->seen_ms = now;
done:
    pthread_mutex_unlock(&c->lock);
    return rc;
}

static int no_row(void *ctx, const struct data_pic_row *row)
{
    (void)ctx, (void)row;
    return 0;
}

void srv_tiles_after_write(struct req *r)
{
    if (!T.cache) return; /* no tile yet: nothing cached to drop */
    struct fm_err err;
    json_t *parties = NULL;
    if (data_parties(r->db, &parties, &err)) return; /* the next tile request looks */
    struct vis_class *c = class_of("");
    if (c) sync_vis(r, c, 1, &err);
    size_t i;
    json_t *p;
    json_array_foreach(parties, i, p) {
        const char *code = json_string_value(json_object_get(p, "code"));
        if (code && code[0] && (c = class_of(code))) sync_vis(r, c, 1, &err);
    }
    json_decref(parties);
    /* and the writer brings the picture tiles are drawn from up to date,
     * not the next miss of whoever asks (whose render would otherwise
     * take longer by the size of what it may not see) */
    struct data_viewer v;
    memset(&v, 0, sizeof v);
    v.role = DATA_ROLE_VIEWER;
    static const double nowhere[4] = {0, 0, 0, 0};
    data_picture_items(r->db, &v, DATA_ZONES, nowhere, 0, 0, no_row, NULL, &err);
}

/* ---- the feature source: data/ for this viewer ------------------------ */

struct source_ctx {
    struct req *r;
    struct data_db *db; /* the calling thread's (a render thread's: defer.c) */
    int has_asof;
    fm_time asof;
    int names; /* conflicts named by their items' titles (briefing images) */
    int drafts; /* drafts drawn, or in a conflict drawn (the sheet's marking) */
    json_t *parties; /* loaded on first use */
    /* the overdue versions of each collection, loaded on first use (a
     * picture of now only); matched with the rows the viewer sees */
    struct data_overdue *overdue[DATA_COLL_COUNT];
    size_t noverdue[DATA_COLL_COUNT];
    int overdue_loaded[DATA_COLL_COUNT];
    struct {
        char code[16];
        double rgb[3];
        int ok;
    } colours[16]; /* looked up once per party per picture */
    int ncolours;
};

static const char *src_party_name(struct source_ctx *s, const char *code);

/* The rows of data/ as features of tiles/: the same fields by name. */
struct each_ctx {
    enum tile_coll coll;
    tile_feature_cb cb;
    void *cb_ctx;
    struct source_ctx *s;
};

/* A conflict's kind: its two items' collections and the words between them. */
static const struct {
    const char *kind;
    enum data_coll a, b;
    const char *verb;
} conflict_kinds[] = {
    {"movement_crosses_zone", DATA_MOVEMENTS, DATA_ZONES, "crosses"},
    {"zones_overlap", DATA_ZONES, DATA_ZONES, "overlaps"},
    {"incident_in_zone", DATA_INCIDENTS, DATA_ZONES, "inside"},
    {"incident_near_movement", DATA_INCIDENTS, DATA_MOVEMENTS, "near"},
};

static int is_draft(const char *status)
{
    const struct vocab_term *t = vocab_find(VOCAB_STATUSES, status);
    return t && t->draft;
}

/* The title of an item as the viewer may see it, or "a zone" (never an id);
 * with party (may be NULL) the name of its party. A draft counts in
 * s->drafts. */
static void item_title_party(struct source_ctx *s, enum data_coll c, int64_t id, char *out,
                             size_t n, char *party, size_t np)
{
    static const char *const a[] = {"a zone", "an incident", "a movement"};
    json_t *f = NULL;
    struct fm_err err;
    const char *t = NULL, *code = NULL;
    if (id > 0 && data_item_get(s->db, &s->r->viewer, c, id, &f, &err) == FM_OK) {
        json_t *props = json_object_get(f, "properties");
        t = json_string_value(json_object_get(props, "title"));
        code = json_string_value(json_object_get(props, "party"));
        if (is_draft(json_string_value(json_object_get(props, "status")))) s->drafts++;
    }
    snprintf(out, n, "%s", t && *t ? t : a[c]);
    if (party) {
        const char *name = code ? src_party_name(s, code) : NULL;
        snprintf(party, np, "%s", name ? name : code ? code : "?");
    }
    json_decref(f);
}

static void item_title(struct source_ctx *s, enum data_coll c, int64_t id, char *out, size_t n)
{
    item_title_party(s, c, id, out, n, NULL, 0);
}

/* A conflict's label in words people read: "Supply convoy C-7 crosses
 * Range North exercise area" on briefing images (the items' titles, as
 * this viewer may see them), "movement crosses zone" on tiles (no lookup
 * per tile); never the internal ids of the stored title. */
static void conflict_title(struct source_ctx *s, const struct data_pic_row *row, char *out,
                           size_t n)
{
    for (size_t i = 0; i < sizeof conflict_kinds / sizeof *conflict_kinds; i++) {
        if (!row->type || strcmp(row->type, conflict_kinds[i].kind)) continue;
        if (!s || !s->names) {
            static const char *const w[] = {"zone", "incident", "movement"};
            snprintf(out, n, "%s %s %s", w[conflict_kinds[i].a], conflict_kinds[i].verb,
                     w[conflict_kinds[i].b]);
            return;
        }
        char ta[200], tb[200];
        item_title(s, conflict_kinds[i].a, row->a_id, ta, sizeof ta);
        item_title(s, conflict_kinds[i].b, row->b_id, tb, sizeof tb);
        snprintf(out, n, "%s %s %s", ta, conflict_kinds[i].verb, tb);
        return;
    }
    snprintf(out, n, "two items");
}

/* Whether the row of item id of c (a current version the viewer sees: the
 * picture of now shows no other) is marked overdue. A draft never is. */
static int row_overdue(struct source_ctx *s, enum data_coll c, const struct data_pic_row *row)
{
    if (!s || s->has_asof || (unsigned)c >= DATA_COLL_COUNT || is_draft(row->status)) return 0;
    if (!s->overdue_loaded[c]) {
        struct fm_err err;
        s->overdue_loaded[c] = 1;
        if (data_overdue_of(s->db, c, NULL, 0, &s->overdue[c], &s->noverdue[c], &err) != FM_OK)
            s->overdue[c] = NULL, s->noverdue[c] = 0;
    }
    for (size_t i = 0; i < s->noverdue[c]; i++)
        if (s->overdue[c][i].item == row->id) return 1;
    return 0;
}

/* Late notice, on tiles and images of now: the picture's row carries the
 * version's mark (rules.c decided it when the version was written, so a
 * change of it is a new version, whose record drops the tiles it touched);
 * a briefing image drawn from the SQL picture (FUSIONMAP_PICTURE=sql,
 * whose rows do not carry it) asks the item as the viewer may see it. */
static int row_late(struct source_ctx *s, enum data_coll c, const struct data_pic_row *row)
{
    if (!s || s->has_asof || is_draft(row->status)) return 0;
    if (row->late_notice) return 1;
    if (!s->names) return 0;
    json_t *f = NULL;
    struct fm_err err;
    int late = 0;
    if (data_item_get(s->db, &s->r->viewer, c, row->id, &f, &err) == FM_OK)
        late = json_is_true(json_object_get(json_object_get(f, "properties"), "late_notice"));
    json_decref(f);
    return late;
}

static void source_cleanup(struct source_ctx *s)
{
    json_decref(s->parties);
    for (int c = 0; c < DATA_COLL_COUNT; c++) free(s->overdue[c]);
}

static int on_row(void *ctx, const struct data_pic_row *row)
{
    struct each_ctx *e = ctx;
    if (e->s && e->coll != TILE_CONFLICT && is_draft(row->status)) e->s->drafts++;
    char named[420];
    const char *title = row->title;
    if (e->coll == TILE_CONFLICT) {
        conflict_title(e->s, row, named, sizeof named);
        title = named;
    }
    static const enum data_coll dc[TILE_COLL_COUNT] = {DATA_ZONES, DATA_INCIDENTS,
                                                       DATA_MOVEMENTS, DATA_COLL_COUNT};
    int item = e->coll != TILE_CONFLICT;
    struct tile_feature tf = {e->coll,     row->id,       row->party,    row->status,
                              row->type,   title,         row->category, row->severity,
                              row->corridor_width_m, row->wkb, row->wkb_len,
                              item && row_overdue(e->s, dc[e->coll], row),
                              item && row_late(e->s, dc[e->coll], row)};
    return e->cb(e->cb_ctx, &tf);
}

/* ---- conflicts of the past: their records' Features, as WKB ------------ */

struct wkb_buf {
    unsigned char *d;
    size_t n, cap;
    int bad;
};

static void wkb_put(struct wkb_buf *b, const void *p, size_t len)
{
    if (b->n + len > b->cap) {
        b->cap = (b->n + len) * 2 + 64;
        b->d = fm_xrealloc(b->d, b->cap);
    }
    memcpy(b->d + b->n, p, len);
    b->n += len;
}

static void wkb_u32(struct wkb_buf *b, uint32_t v)
{
    unsigned char le[4] = {v & 255, (v >> 8) & 255, (v >> 16) & 255, v >> 24};
    wkb_put(b, le, 4);
}

static void wkb_xy(struct wkb_buf *b, const json_t *pos)
{
    for (size_t i = 0; i < 2; i++) {
        const json_t *c = json_array_get(pos, i);
        if (!json_is_number(c)) b->bad = 1;
        double v = json_number_value(c);
        uint64_t u;
        memcpy(&u, &v, sizeof u);
        unsigned char le[8];
        for (int k = 0; k < 8; k++) le[k] = (unsigned char)(u >> (8 * k));
        wkb_put(b, le, 8);
    }
}

static void wkb_points(struct wkb_buf *b, const json_t *arr)
{
    wkb_u32(b, (uint32_t)json_array_size(arr));
    size_t i;
    const json_t *p;
    json_array_foreach(arr, i, p) wkb_xy(b, p);
}

static void wkb_rings(struct wkb_buf *b, const json_t *rings)
{
    wkb_u32(b, (uint32_t)json_array_size(rings));
    size_t i;
    const json_t *r;
    json_array_foreach(rings, i, r) wkb_points(b, r);
}

/* A GeoJSON geometry as little-endian WKB, appended to b (b->bad when
 * it is not one). */
static void wkb_of(struct wkb_buf *b, const json_t *g, int depth)
{
    static const char *const types[] = {NULL,         "Point",           "LineString",
                                        "Polygon",    "MultiPoint",      "MultiLineString",
                                        "MultiPolygon", "GeometryCollection"};
    const char *t = json_string_value(json_object_get(g, "type"));
    const json_t *c = json_object_get(g, "coordinates");
    uint32_t k = 0;
    for (uint32_t i = 1; t && i < 8; i++)
        if (!strcmp(t, types[i])) k = i;
    if (!k || depth > 4) {
        b->bad = 1;
        return;
    }
    unsigned char order = 1;
    wkb_put(b, &order, 1);
    wkb_u32(b, k);
    size_t i;
    const json_t *e;
    switch (k) {
    case 1: wkb_xy(b, c); break;
    case 2: wkb_points(b, c); break;
    case 3: wkb_rings(b, c); break;
    case 4: case 5: case 6:
        wkb_u32(b, (uint32_t)json_array_size(c));
        json_array_foreach(c, i, e) {
            wkb_put(b, &order, 1);
            wkb_u32(b, k - 3);
            if (k == 4) wkb_xy(b, e);
            else if (k == 5) wkb_points(b, e);
            else wkb_rings(b, e);
        }
        break;
    default: {
        const json_t *gs = json_object_get(g, "geometries");
        wkb_u32(b, (uint32_t)json_array_size(gs));
        json_array_foreach(gs, i, e) wkb_of(b, e, depth + 1);
    }
    }
}

struct past_conflicts {
    struct each_ctx *e;
    struct wkb_buf wkb;
};

/* One conflict of the past (its record's Feature, as the viewer may see
 * it: data_conflicts_query) handed on as a picture row. */
static int past_conflict(void *ctx, int64_t id, const char *feature)
{
    struct past_conflicts *p = ctx;
    json_t *f = json_loads(feature, 0, NULL);
    const json_t *props = json_object_get(f, "properties");
    const char *kind = json_string_value(json_object_get(props, "kind"));
    const json_t *items = json_object_get(props, "items");
    p->wkb.n = 0, p->wkb.bad = 0;
    wkb_of(&p->wkb, json_object_get(f, "geometry"), 0);
    int stop = 0;
    if (f && !p->wkb.bad) {
        struct data_pic_row row;
        memset(&row, 0, sizeof row);
        row.id = id, row.status = json_string_value(json_object_get(props, "state"));
        row.type = kind, row.title = json_string_value(json_object_get(props, "title"));
        row.severity = (int)json_integer_value(json_object_get(props, "severity"));
        row.wkb = p->wkb.d, row.wkb_len = p->wkb.n;
        /* the two items in the kind's order (conflict_title) */
        for (size_t i = 0; kind && i < sizeof conflict_kinds / sizeof *conflict_kinds; i++) {
            if (strcmp(kind, conflict_kinds[i].kind)) continue;
            const json_t *i0 = json_array_get(items, 0), *i1 = json_array_get(items, 1);
            const char *c0 = json_string_value(json_object_get(i0, "collection"));
            int swap = c0 && strcmp(c0, data_coll_name(conflict_kinds[i].a)) != 0;
            row.a_id = json_integer_value(json_object_get(swap ? i1 : i0, "id"));
            row.b_id = json_integer_value(json_object_get(swap ? i0 : i1, "id"));
        }
        stop = on_row(p->e, &row);
    }
    json_decref(f);
    return stop;
}

static fm_rc src_each(void *ctx, enum tile_coll coll, const double bbox[4], tile_feature_cb cb,
                      void *cb_ctx, struct fm_err *err)
{
    struct source_ctx *s = ctx;
    static const enum data_coll map[TILE_COLL_COUNT] = {DATA_ZONES, DATA_INCIDENTS,
                                                        DATA_MOVEMENTS, DATA_COLL_COUNT};
    /* the store wants a bbox within the world */
    double q[4] = {fmax(bbox[0], -180), fmax(bbox[1], -90), fmin(bbox[2], 180),
                   fmin(bbox[3], 90)};
    struct each_ctx e = {coll, cb, cb_ctx, s};
    if (coll != TILE_CONFLICT)
        return data_picture_items(s->db, &s->r->viewer, map[coll], q, s->has_asof, s->asof,
                                  on_row, &e, err);
    if (s->has_asof) {
        /* the conflicts open then, from their records in the log, as
         * GET /collections/conflicts/items?t= answers the viewer */
        struct data_conflict_query cq;
        memset(&cq, 0, sizeof cq);
        cq.state = "open", cq.has_bbox = 1, cq.limit = 10000, cq.has_t = 1, cq.t = s->asof;
        memcpy(cq.bbox, q, sizeof cq.bbox);
        struct past_conflicts p = {&e, {NULL, 0, 0, 0}};
        long matched = 0;
        fm_rc rc = data_conflicts_query(s->db, &s->r->viewer, &cq, past_conflict, &p, &matched, err);
        free(p.wkb.d);
        return rc;
    }
    return data_picture_conflicts(s->db, &s->r->viewer, q, on_row, &e, err);
}

static const json_t *party_of(struct source_ctx *s, const char *code)
{
    if (!s->parties) {
        struct fm_err err;
        if (data_parties(s->db, &s->parties, &err)) return NULL;
    }
    size_t i;
    const json_t *p;
    json_array_foreach(s->parties, i, p) {
        const char *c = json_string_value(json_object_get(p, "code"));
        if (c && strcmp(c, code) == 0) return p;
    }
    return NULL;
}

static int src_colour(void *ctx, const char *party, double rgb[3])
{
    struct source_ctx *s = ctx;
    for (int i = 0; i < s->ncolours; i++)
        if (strcmp(s->colours[i].code, party) == 0) {
            memcpy(rgb, s->colours[i].rgb, sizeof s->colours[i].rgb);
            return s->colours[i].ok;
        }
    int ok = 0;
    const char *hex = json_string_value(json_object_get(party_of(ctx, party), "colour"));
    unsigned r, g, b;
    if (hex && strlen(hex) == 7 && sscanf(hex, "#%2x%2x%2x", &r, &g, &b) == 3) {
        rgb[0] = r / 255.0, rgb[1] = g / 255.0, rgb[2] = b / 255.0;
        ok = 1;
    }
    if (s->ncolours < 16 && strlen(party) < sizeof s->colours[0].code) {
        snprintf(s->colours[s->ncolours].code, sizeof s->colours[0].code, "%s", party);
        memcpy(s->colours[s->ncolours].rgb, rgb, sizeof s->colours[0].rgb);
        s->colours[s->ncolours++].ok = ok;
    }
    return ok;
}

static const char *src_party_name(struct source_ctx *s, const char *code)
{
    return json_string_value(json_object_get(party_of(s, code), "name"));
}

static const char *src_name(void *ctx, const char *party)
{
    return src_party_name(ctx, party);
}

static struct tile_source source_for(struct source_ctx *s)
{
    /* the viewer's own party framed friend, as symbols.js */
    const char *own = s->r->viewer.role != DATA_ROLE_NONE && s->r->viewer.party[0]
                          ? s->r->viewer.party
                          : NULL;
    struct tile_source src = {s, src_each, src_colour, src_name, own, srv_vocabulary_frame_other()};
    return src;
}

/* ---- parameters --------------------------------------------------------- */

/* ?t= as-of: 0 absent, 1 parsed into *out, -1 malformed. */
static int parse_asof(struct req *r, fm_time *out)
{
    const char *t = srv_arg(r, "t");
    if (!t) return 0;
    return fm_time_parse(t, out) == FM_OK ? 1 : -1;
}

static int bad_asof(struct req *r)
{
    return srv_problem_status(r, 400, "t is an RFC 3339 time, such as 2026-11-25T10:00:00Z", "t");
}

static void visibility_class(const struct req *r, char vis[TILE_VIS_LEN])
{
    /* drafts are the only thing that differs between viewers */
    int none = r->viewer.role == DATA_ROLE_VIEWER || r->viewer.role == DATA_ROLE_NONE;
    snprintf(vis, TILE_VIS_LEN, "%s", none ? "" : r->viewer.party);
}

static int parse_coord(const char *s, long max, long *out)
{
    if (!*s || strlen(s) > 9) return -1;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9') return -1;
    return fm_parse_long(s, 0, max, out) == FM_OK ? 0 : 1;
}

/* ---- GET /tiles/{layer}/{z}/{x}/{y}.png -------------------------------- */

static void release_png(void *png)
{
    tile_png_release(png);
}

/* A tile to answer: its key and class, then (a miss) what the render
 * made of it. */
struct tile_job {
    struct tile_key k;
    struct vis_class *vc;
    enum tile_layer layer;
    struct tile_png *shared; /* a hit: the cache's bytes */
    unsigned char *png;      /* a miss: the render's */
    size_t plen;
    char etag[TILE_ETAG_LEN];
    int hit;
    fm_rc rc;
    struct fm_err err;
};

static void tile_job_free(void *arg)
{
    struct tile_job *j = arg;
    if (!j) return;
    free(j->png);
    tile_png_release(j->shared);
    free(j);
}

/* The render of a miss, on a render thread (defer.c) with its own
 * connection, or in place. */
static void tile_work(struct req *r, struct data_db *db, void *arg)
{
    struct tile_job *j = arg;
    if (!db) {
        j->rc = fm_fail(&j->err, FM_EDB, NULL, "no database connection for the render");
        return;
    }
    uint64_t gen = tile_cache_generation(T.cache, j->k.vis);
    struct source_ctx s;
    memset(&s, 0, sizeof s);
    s.r = r, s.db = db, s.has_asof = j->k.has_asof, s.asof = j->k.asof;
    struct tile_source src = source_for(&s);
    j->rc = tile_render(&src, T.basemap, j->layer, j->k.z, j->k.x, j->k.y, j->k.scale, &j->png,
                        &j->plen, &j->err);
    source_cleanup(&s);
    if (j->rc) return;
    if (j->vc) tile_cache_put(T.cache, &j->k, j->png, j->plen, gen, j->etag);
    else tile_etag(j->png, j->plen, j->etag);
}

/* The reply, on the connection's own thread. */
static int tile_finish(struct req *r, void *arg)
{
    struct tile_job *j = arg;
    if (j->rc) return srv_problem(r, j->rc, &j->err);
    srv_add_header(r, "ETag", j->etag);
    srv_add_header(r, "Cache-Control", j->k.has_asof ? "private, max-age=3600" : "private, no-cache");
    srv_add_header(r, "X-Tile-Cache", j->hit ? "hit" : "miss");
    const char *inm = srv_header(r, "If-None-Match");
    if (inm && (strstr(inm, j->etag) || strcmp(inm, "*") == 0))
        return srv_reply_empty(r, 304); /* the job's bytes go with the request */
    if (j->shared) { /* sent from the cache's own bytes, which it keeps until sent */
        struct tile_png *shared = j->shared;
        j->shared = NULL;
        return srv_reply_shared(r, 200, "image/png", shared->data, shared->len, release_png,
                                shared);
    }
    unsigned char *png = j->png;
    j->png = NULL;
    return srv_reply(r, 200, "image/png", (char *)png, j->plen);
}

int h_tile(struct req *r, const char *const *p, int n)
{
    (void)n;
    pthread_once(&T.once, tiles_init);
    enum tile_layer layer;
    if (tile_layer_parse(p[1], &layer) != FM_OK)
        return srv_problem_status(r, 404, "no such layer (zones, incidents, movements, conflicts,"
                                          " basemap, all)", NULL);
    char ybuf[32];
    const char *last = p[4];
    size_t len = strlen(last);
    int scale = 1;
    if (len > 7 && strcmp(last + len - 7, "@2x.png") == 0) scale = 2, len -= 7;
    else if (len > 4 && strcmp(last + len - 4, ".png") == 0) len -= 4;
    else return srv_problem_status(r, 404, "tiles are {z}/{x}/{y}.png or {y}@2x.png", NULL);
    if (len >= sizeof ybuf)
        return srv_problem_status(r, 400, "y is a whole number", "y");
    memcpy(ybuf, last, len);
    ybuf[len] = '\0';
    long z, x, y;
    int ez = parse_coord(p[2], 1000000, &z), ex = parse_coord(p[3], 999999999, &x),
        ey = parse_coord(ybuf, 999999999, &y);
    if (ez < 0 || ex < 0 || ey < 0)
        return srv_problem_status(r, 400, "z, x and y are whole numbers",
                                  ez < 0 ? "z" : ex < 0 ? "x" : "y");
    if (ez || ex || ey || !tile_valid((int)z, x, y))
        return srv_problem_status(r, 404, "no such tile: z is 0 to 22, x and y 0 to 2^z - 1",
                                  NULL);
    struct tile_job *j = fm_xcalloc(1, sizeof *j);
    j->layer = layer;
    j->k.layer = layer, j->k.z = (int)z, j->k.x = x, j->k.y = y, j->k.scale = scale;
    int a = parse_asof(r, &j->k.asof);
    if (a < 0) {
        free(j);
        return bad_asof(r);
    }
    j->k.has_asof = a;
    if (layer != TILE_LAYER_BASEMAP) {
        visibility_class(r, j->k.vis);
        /* the symbols' frames depend on whose items are the viewer's own
         * (source_for): a viewer of party A and one of B share the
         * visibility class "" but not their tiles */
        if (r->viewer.role != DATA_ROLE_NONE)
            snprintf(j->k.own, sizeof j->k.own, "%s", r->viewer.party);
    }

    struct fm_err err;
    fm_err_clear(&err);
    /* only the asker's class reads the log here */
    j->vc = class_of(j->k.vis);
    fm_rc rc = j->vc ? sync_vis(r, j->vc, 0, &err) : FM_OK;
    if (rc) {
        free(j);
        return srv_problem(r, rc, &err);
    }
    j->hit = j->vc && tile_cache_share(T.cache, &j->k, &j->shared, j->etag);
    /* a hit answers at once; a miss is drawn by the render threads, in
     * the order asked (defer.c) */
    return srv_defer(r, j->hit ? NULL : srv_defer_of(r), j->hit ? NULL : tile_work, tile_finish,
                     tile_job_free, j);
}

/* ---- GET /tiles/{layer}.json ------------------------------------------- */

int h_tilejson(struct req *r, const char *const *p, int n)
{
    (void)n;
    char name[32];
    size_t len = strlen(p[1]);
    enum tile_layer layer;
    if (len < 6 || len - 5 >= sizeof name || strcmp(p[1] + len - 5, ".json") != 0)
        return srv_problem_status(r, 404, "TileJSON is at /tiles/{layer}.json", NULL);
    memcpy(name, p[1], len - 5);
    name[len - 5] = '\0';
    if (tile_layer_parse(name, &layer) != FM_OK)
        return srv_problem_status(r, 404, "no such layer (zones, incidents, movements, conflicts,"
                                          " basemap, all)", NULL);
    char base[256], url[400];
    srv_base_url(r, base, sizeof base);
    snprintf(url, sizeof url, "%s/tiles/%s/{z}/{x}/{y}.png", base, name);
    json_t *j = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:[s],s:i,s:i,s:i,s:[f,f,f,f],s:[f,f,i],s:s}", "tilejson", "3.0.0",
        "name", name, "description",
        "fusionmap situation tiles (Web Mercator, 256 px; {y}@2x.png for 512 px)", "version",
        "1.0.0", "scheme", "xyz", "tiles", url,
        /* the tiles' size: MapLibre assumes 512 and stretches them without it */
        "tileSize", 256, "minzoom", 0, "maxzoom", TILE_MAX_ZOOM, "bounds",
        -180.0, -TILE_MAX_LAT, 180.0, TILE_MAX_LAT, "center", 35.9, 33.0, 9, "attribution",
        "Basemap: Natural Earth (public domain); situation: fusionmap");
    return srv_reply_json(r, 200, "application/json", j);
}

/* ---- GET /map.png ------------------------------------------------------- */

static fm_rc parse_bbox(const char *s, double b[4], struct fm_err *err)
{
    char buf[256];
    if (!s) return fm_fail(err, FM_EINVAL, "bbox", "bbox=minlon,minlat,maxlon,maxlat is required");
    if (strlen(s) >= sizeof buf) return fm_fail(err, FM_EINVAL, "bbox", "bbox is too long");
    snprintf(buf, sizeof buf, "%s", s);
    char *save = NULL, *tok = strtok_r(buf, ",", &save);
    int i = 0;
    for (; tok && i < 4; i++, tok = strtok_r(NULL, ",", &save))
        if (fm_parse_double(tok, &b[i]) != FM_OK)
            return fm_fail(err, FM_EINVAL, "bbox", "bbox holds four numbers");
    if (i != 4 || tok) return fm_fail(err, FM_EINVAL, "bbox", "bbox holds four numbers");
    return FM_OK;
}

static fm_rc parse_size(struct req *r, const char *name, int def, int *out, struct fm_err *err)
{
    const char *s = srv_arg(r, name);
    long v;
    *out = def;
    if (!s) return FM_OK;
    if (fm_parse_long(s, TILE_MAP_MIN_PX, TILE_MAP_MAX_PX, &v) != FM_OK)
        return fm_fail(err, FM_EINVAL, name, "%s is %d to %d pixels", name, TILE_MAP_MIN_PX,
                       TILE_MAP_MAX_PX);
    *out = (int)v;
    return FM_OK;
}

static fm_rc parse_layers(const char *s, unsigned *out, struct fm_err *err)
{
    *out = 1u << TILE_LAYER_ALL;
    if (!s) return FM_OK;
    char buf[128];
    if (strlen(s) >= sizeof buf) return fm_fail(err, FM_EINVAL, "layers", "layers is too long");
    snprintf(buf, sizeof buf, "%s", s);
    *out = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        enum tile_layer l;
        if (tile_layer_parse(tok, &l) != FM_OK)
            return fm_fail(err, FM_EINVAL, "layers",
                           "layers is a list of zones, incidents, movements, conflicts, basemap, all");
        *out |= 1u << l;
    }
    if (!*out) return fm_fail(err, FM_EINVAL, "layers", "layers names no layer");
    return FM_OK;
}

/* The extent of every item the viewer may see (now, or as of asof), for
 * a map asked for without a bbox: another party's drafts never move it. */
struct extent_ctx {
    double b[4];
    int any;
};

static int extent_row(void *ctx, const struct data_pic_row *row)
{
    struct extent_ctx *x = ctx;
    double b[4];
    if (tile_wkb_bbox(row->wkb, row->wkb_len, b) != FM_OK) return 0;
    if (!x->any) memcpy(x->b, b, sizeof b);
    x->b[0] = fmin(x->b[0], b[0]), x->b[1] = fmin(x->b[1], b[1]);
    x->b[2] = fmax(x->b[2], b[2]), x->b[3] = fmax(x->b[3], b[3]);
    x->any = 1;
    return 0;
}

static fm_rc visible_extent(struct req *r, int has_asof, fm_time asof, double out[4],
                            struct fm_err *err)
{
    static const double world[4] = {-180, -90, 180, 90};
    struct extent_ctx x = {{0, 0, 0, 0}, 0};
    for (int c = 0; c < DATA_COLL_COUNT; c++) {
        fm_rc rc = data_picture_items(r->db, &r->viewer, (enum data_coll)c, world, has_asof,
                                      asof, extent_row, &x, err);
        if (rc) return rc;
    }
    if (!x.any)
        return fm_fail(err, FM_EINVAL, "bbox",
                       "there is nothing on the map to frame: give bbox=minlon,minlat,maxlon,maxlat");
    /* a margin of a tenth, and at least about a kilometre across */
    double w = fmax(x.b[2] - x.b[0], 0.01), h = fmax(x.b[3] - x.b[1], 0.01);
    double cx = (x.b[0] + x.b[2]) / 2, cy = (x.b[1] + x.b[3]) / 2;
    out[0] = fmax(-180, cx - w * 0.6), out[2] = fmin(180, cx + w * 0.6);
    out[1] = fmax(-TILE_MAX_LAT, cy - h * 0.6), out[3] = fmin(TILE_MAX_LAT, cy + h * 0.6);
    return FM_OK;
}

/* ---- the briefing sheet's words (GET /map.pdf) -------------------------- */

static char marking_cfg[256];

void srv_tiles_set_marking(const char *marking)
{
    snprintf(marking_cfg, sizeof marking_cfg, "%s", marking ? marking : "");
}

#define BRIEF_MAX_ROWS 40
#define BRIEF_ROW_LEN 360

/* The lists, the marking and the footer of one sheet, as the viewer may
 * see them: every string is built here, from the same calls the API
 * answers with (conflicts as GET /collections/conflicts/items, items as
 * GET .../items/{id}), so a draft of another party cannot reach it. */
struct brief_words {
    struct tile_brief b;
    char rows[3][BRIEF_MAX_ROWS][BRIEF_ROW_LEN];
    const char *ptr[3][BRIEF_MAX_ROWS];
    char marking[400], footer[300], headings[3][128];
};

struct conflict_rows {
    struct source_ctx *s;
    struct brief_words *w;
};

static int conflict_row(void *ctx, int64_t id, const char *feature)
{
    (void)id;
    struct conflict_rows *c = ctx;
    struct tile_brief_list *l = &c->w->b.lists[0];
    size_t k = l->total++;
    json_t *f = json_loads(feature, 0, NULL);
    json_t *props = json_object_get(f, "properties");
    const char *kind = json_string_value(json_object_get(props, "kind"));
    json_t *items = json_object_get(props, "items");
    char t[2][160], p[2][64];
    const char *verb = "and";
    for (int i = 0; i < 2; i++) {
        json_t *it = json_array_get(items, (size_t)i);
        enum data_coll dc = DATA_ZONES;
        if (data_coll_parse(json_string_value(json_object_get(it, "collection")), &dc) != FM_OK)
            dc = DATA_ZONES;
        item_title_party(c->s, dc, json_integer_value(json_object_get(it, "id")), t[i],
                         sizeof t[i], p[i], sizeof p[i]);
    }
    /* in the kind's order: "<movement> crosses <zone>" */
    int swap = 0;
    for (size_t i = 0; kind && i < sizeof conflict_kinds / sizeof *conflict_kinds; i++)
        if (!strcmp(kind, conflict_kinds[i].kind)) {
            verb = conflict_kinds[i].verb;
            const char *c0 = json_string_value(json_object_get(json_array_get(items, 0),
                                                               "collection"));
            swap = c0 && strcmp(c0, data_coll_name(conflict_kinds[i].a)) != 0;
        }
    int a = swap, b = !swap;
    if (k < BRIEF_MAX_ROWS) {
        snprintf(c->w->rows[0][k], BRIEF_ROW_LEN, "%s (%s) %s %s (%s), severity %d", t[a], p[a],
                 verb, t[b], p[b], (int)json_integer_value(json_object_get(props, "severity")));
        c->w->ptr[0][k] = c->w->rows[0][k];
        l->nrows = k + 1;
    }
    json_decref(f);
    return 0;
}

/* "HH:MM on 7 Dec" of an RFC 3339 time, UTC. */
static void short_time(const char *rfc, char *out, size_t n)
{
    fm_time t;
    if (!rfc || fm_time_parse(rfc, &t) != FM_OK) {
        snprintf(out, n, "?");
        return;
    }
    char ts[FM_TIME_STAMP_LEN];
    fm_time_format(t, ts); /* 2026-12-07T23:30:00Z */
    snprintf(out, n, "%.10s %.5sZ", ts, ts + 11);
}

/* The third list: the items whose answer is overdue, as the viewer may
 * see them (each looked up as GET .../items/{id} answers the viewer, and
 * listed only when the version it sees is the one marked), whole map,
 * now; with "late notice" where the item was notified late. */
static fm_rc brief_overdue(struct req *r, struct source_ctx *s, struct brief_words *w,
                           struct fm_err *err)
{
    struct tile_brief_list *ol = &w->b.lists[2];
    w->b.nlists = 3;
    snprintf(w->headings[2], sizeof w->headings[2], "Overdue answers, whole map, now");
    ol->heading = w->headings[2], ol->rows = w->ptr[2];
    ol->empty = "none";
    for (int c = 0; c < DATA_COLL_COUNT; c++) {
        struct data_overdue *od = NULL;
        size_t n = 0;
        fm_rc rc = data_overdue_of(r->db, (enum data_coll)c, NULL, 0, &od, &n, err);
        if (rc) return rc;
        for (size_t i = 0; i < n; i++) {
            json_t *f = NULL;
            struct fm_err e2;
            if (data_item_get(r->db, &r->viewer, (enum data_coll)c, od[i].item, &f, &e2) != FM_OK)
                continue;
            json_t *props = json_object_get(f, "properties");
            if (json_integer_value(json_object_get(props, "version")) != od[i].version ||
                is_draft(json_string_value(json_object_get(props, "status")))) {
                json_decref(f);
                continue;
            }
            size_t k = ol->total++;
            if (k < BRIEF_MAX_ROWS) {
                const char *title = json_string_value(json_object_get(props, "title"));
                const char *code = json_string_value(json_object_get(props, "party"));
                const char *name = code ? src_party_name(s, code) : NULL;
                char due[40];
                short_time(json_string_value(json_object_get(props, "answer_due")), due,
                           sizeof due);
                snprintf(w->rows[2][k], BRIEF_ROW_LEN, "%.160s (%s): answer was due %s%s",
                         title && *title ? title : data_coll_name((enum data_coll)c),
                         name ? name : code ? code : "?", due,
                         json_is_true(json_object_get(props, "late_notice")) ? "; late notice"
                                                                              : "");
                w->ptr[2][k] = w->rows[2][k];
                ol->nrows = k + 1;
            }
            json_decref(f);
        }
        free(od);
    }
    return FM_OK;
}

static fm_rc brief_compose(struct req *r, struct source_ctx *s, const double bbox[4],
                           int has_asof, fm_time asof, struct brief_words *w,
                           struct fm_err *err)
{
    memset(&w->b, 0, sizeof w->b);
    w->b.nlists = 2;
    struct tile_brief_list *cl = &w->b.lists[0], *dl = &w->b.lists[1];
    snprintf(w->headings[0], sizeof w->headings[0], "Open conflicts in this frame%s",
             has_asof ? " as of the map's time" : "");
    cl->heading = w->headings[0], cl->rows = w->ptr[0];
    cl->empty = "none";
    struct data_conflict_query q;
    memset(&q, 0, sizeof q);
    q.state = "open", q.has_bbox = 1, q.limit = 10000, q.has_t = has_asof, q.t = asof;
    memcpy(q.bbox, bbox, sizeof q.bbox);
    long matched = 0;
    struct conflict_rows cr = {s, w};
    fm_rc rc = data_conflicts_query(r->db, &r->viewer, &q, conflict_row, &cr, &matched, err);
    if (rc) return rc;
    cl->total = (size_t)matched;

    snprintf(w->headings[1], sizeof w->headings[1], "Disputed items, whole map, now");
    dl->heading = w->headings[1], dl->rows = w->ptr[1];
    dl->empty = "none";
    json_t *disputes = NULL;
    if ((rc = data_disputes(r->db, &r->viewer, &disputes, err))) return rc;
    size_t i;
    json_t *d;
    json_array_foreach(disputes, i, d) {
        dl->total++;
        if (i >= BRIEF_MAX_ROWS) continue;
        enum data_coll dc;
        if (data_coll_parse(json_string_value(json_object_get(d, "collection")), &dc) != FM_OK)
            continue;
        int64_t id = json_integer_value(json_object_get(d, "id"));
        char t[160], p[64];
        item_title_party(s, dc, id, t, sizeof t, p, sizeof p);
        json_t *why = NULL;
        const char *reason = NULL;
        if (data_item_dispute(r->db, &r->viewer, dc, id, &why, err) == FM_OK)
            reason = json_string_value(
                json_object_get(json_object_get(why, "dispute"), "reason"));
        snprintf(w->rows[1][dl->nrows], BRIEF_ROW_LEN, "%s (%s)%s%.160s%s", t, p,
                 reason ? ": \xe2\x80\x9c" : "", reason ? reason : "",
                 reason ? "\xe2\x80\x9d" : "");
        json_decref(why);
        w->ptr[1][dl->nrows] = w->rows[1][dl->nrows];
        dl->nrows++;
    }
    json_decref(disputes);
    return brief_overdue(r, s, w, err);
}

/* The marking: the configured line, and to whom this page may go: a page
 * with the caller's own drafts on it goes to their party only. */
static void brief_marking_words(struct req *r, struct source_ctx *s, struct brief_words *w)
{
    const char *base = marking_cfg[0] ? marking_cfg : "FOR THE DECONFLICTION CELL";
    w->b.warn = s->drafts > 0;
    if (s->drafts) {
        const char *name = src_party_name(s, r->viewer.party);
        snprintf(w->marking, sizeof w->marking,
                 "%s \xe2\x80\x94 HOLDS DRAFTS OF %s: RELEASABLE TO %s ONLY", base,
                 name ? name : r->viewer.party, name ? name : r->viewer.party);
    } else {
        snprintf(w->marking, sizeof w->marking, "%s \xe2\x80\x94 RELEASABLE TO ALL PARTIES", base);
    }
    w->b.marking = w->marking;
}

static void brief_footer_words(struct brief_words *w, int64_t head, int64_t seen,
                               const char *hash)
{
    if (!head) snprintf(w->footer, sizeof w->footer, "Drawn from an empty log.");
    else if (seen == head)
        snprintf(w->footer, sizeof w->footer, "Drawn at log record %" PRId64 ", SHA-256 %s", head,
                 hash);
    else if (seen)
        snprintf(w->footer, sizeof w->footer,
                 "Drawn at log record %" PRId64 "; the last you may read: %" PRId64
                 ", SHA-256 %s",
                 head, seen, hash);
    else
        snprintf(w->footer, sizeof w->footer,
                 "Drawn at log record %" PRId64 "; none of it is yours to read", head);
    w->b.footer = w->footer;
}

static fm_rc parse_grid(const char *s, int pdf, enum tile_grid *out, struct fm_err *err)
{
    *out = pdf ? TILE_GRID_MGRS : TILE_GRID_DEGREES;
    if (!s) return FM_OK;
    if (!strcmp(s, "mgrs")) *out = TILE_GRID_MGRS;
    else if (!strcmp(s, "degrees")) *out = TILE_GRID_DEGREES;
    else if (!strcmp(s, "none")) *out = TILE_GRID_NONE;
    else return fm_fail(err, FM_EINVAL, "grid", "grid is mgrs, degrees or none");
    return FM_OK;
}

/* The PNG of m as /map.png draws it for r's viewer: the marking line top
 * and bottom; a picture found to hold the caller's drafts is drawn again
 * with the marking that says so (the PNG has no lists: its map's drafts
 * decide). OUT *out, *len (free()). */
static fm_rc png_marked(struct req *r, struct tile_map_request *m, int has_asof, fm_time asof,
                        unsigned char **out, size_t *len, struct fm_err *err)
{
    struct brief_words *pw = fm_xcalloc(1, sizeof *pw);
    struct source_ctx s;
    memset(&s, 0, sizeof s);
    s.r = r, s.db = r->db, s.has_asof = has_asof, s.asof = asof, s.names = 1;
    struct tile_source src = source_for(&s);
    brief_marking_words(r, &s, pw);
    m->brief = &pw->b;
    *out = NULL;
    fm_rc rc = tile_map_render(&src, T.basemap, m, out, len, err);
    if (!rc && s.drafts) {
        brief_marking_words(r, &s, pw);
        free(*out);
        *out = NULL;
        rc = tile_map_render(&src, T.basemap, m, out, len, err);
    }
    source_cleanup(&s);
    m->brief = NULL;
    free(pw);
    if (rc) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

/* GET /map.png and /map.pdf: the same request, the same drawing. */
static int map_image(struct req *r, int pdf)
{
    pthread_once(&T.once, tiles_init);
    struct fm_err err;
    fm_err_clear(&err);
    struct tile_map_request m;
    memset(&m, 0, sizeof m);
    fm_rc rc = FM_OK;
    const char *bbox = srv_arg(r, "bbox");
    if (bbox) rc = parse_bbox(bbox, m.bbox, &err);
    /* the PDF: A4's proportions, wide enough for the legend's side panel */
    if (!rc) rc = parse_size(r, "width", pdf ? 1400 : 1280, &m.width, &err);
    if (!rc) rc = parse_size(r, "height", pdf ? 990 : 720, &m.height, &err);
    if (!rc && (long)m.width * m.height > MAP_MAX_PIXELS)
        rc = fm_fail(&err, FM_EINVAL, "width", "at most %ld pixels in all", MAP_MAX_PIXELS);
    if (!rc) rc = parse_layers(srv_arg(r, "layers"), &m.layers, &err);
    if (!rc) rc = parse_grid(srv_arg(r, "grid"), pdf, &m.grid, &err);
    const char *title = srv_arg(r, "title");
    if (!rc && title && strlen(title) > 200)
        rc = fm_fail(&err, FM_EINVAL, "title", "title is at most 200 bytes");
    if (rc) return srv_problem(r, rc, &err);
    fm_time asof = 0;
    int a = parse_asof(r, &asof);
    if (a < 0) return bad_asof(r);
    if (!bbox && (rc = visible_extent(r, a, asof, m.bbox, &err))) return srv_problem(r, rc, &err);
    m.title = title;
    m.at = a ? asof : fm_time_now();
    m.as_of = a;
    struct source_ctx s;
    unsigned char *out = NULL;
    size_t len;
    if (!pdf && (rc = png_marked(r, &m, a, asof, &out, &len, &err))) return srv_problem(r, rc, &err);
    /* the sheet names the log's head it was drawn at: read before and
     * after, and drawn again (three times at most) when a write came
     * between, so that the picture is of exactly that head */
    struct brief_words *w = pdf ? fm_xmalloc(sizeof *w) : NULL;
    for (int attempt = 0; pdf && attempt < 3; attempt++) {
        int64_t head = 0, seen = 0, after = 0;
        char hash[65];
        free(out);
        out = NULL;
        memset(&s, 0, sizeof s);
        s.r = r, s.db = r->db, s.has_asof = a, s.asof = asof, s.names = 1;
        struct tile_source src = source_for(&s);
        if (!(rc = data_events_head(r->db, &r->viewer, &head, &seen, hash, &err)) &&
            !(rc = brief_compose(r, &s, m.bbox, a, asof, w, &err))) {
            brief_footer_words(w, head, seen, hash);
            m.brief = &w->b;
            /* the marking says whether the page holds the caller's drafts:
             * those of the lists are counted by now, those of the map
             * while it is drawn, and a page found to hold some is drawn
             * again with the marking that says so */
            int listed = s.drafts;
            brief_marking_words(r, &s, w);
            rc = tile_map_render_pdf(&src, T.basemap, &m, &out, &len, &err);
            if (!rc && !listed && s.drafts) {
                brief_marking_words(r, &s, w);
                free(out);
                out = NULL;
                rc = tile_map_render_pdf(&src, T.basemap, &m, &out, &len, &err);
            }
        }
        if (!rc) rc = data_events_last(r->db, &after, &err);
        source_cleanup(&s);
        if (rc || after == head) break;
    }
    free(w);
    if (rc) {
        free(out);
        return srv_problem(r, rc, &err);
    }
    srv_add_header(r, "Cache-Control", "private, no-store");
    if (pdf) srv_add_header(r, "Content-Disposition", "inline; filename=\"briefing.pdf\"");
    return srv_reply(r, 200, pdf ? "application/pdf" : "image/png", (char *)out, len);
}

int h_map_png(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    return map_image(r, 0);
}

int h_map_pdf(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    return map_image(r, 1);
}

/* A picture of bbox as the caller may see it now, drawn as GET /map.png
 * draws it (an evidence bundle's: heads.c). OUT *png, *len (free()). */
fm_rc srv_map_picture(struct req *r, const double bbox[4], int width, int height,
                      const char *title, unsigned char **png, size_t *len, struct fm_err *err)
{
    pthread_once(&T.once, tiles_init);
    struct tile_map_request m;
    memset(&m, 0, sizeof m);
    memcpy(m.bbox, bbox, sizeof m.bbox);
    m.width = width, m.height = height;
    m.layers = 1u << TILE_LAYER_ALL;
    m.grid = TILE_GRID_DEGREES;
    m.title = title;
    m.at = fm_time_now();
    return png_marked(r, &m, 0, 0, png, len, err);
}

/* fixture.h - a fixed, in-memory feature source for the tile tests: no
 * database. Features are built as WKB here, the way the store hands them
 * out, in the demo area (lon 35.6-36.2, lat 32.6-33.4). */
#ifndef TILE_FIXTURE_H
#define TILE_FIXTURE_H

#include "tiles.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct fx_wkb {
    unsigned char b[4096];
    size_t n;
};

static inline void fx_u32(struct fx_wkb *w, uint32_t v)
{
    memcpy(w->b + w->n, &v, 4); /* little-endian host (x86, arm64) */
    w->n += 4;
}

static inline void fx_f64(struct fx_wkb *w, double v)
{
    memcpy(w->b + w->n, &v, 8);
    w->n += 8;
}

static inline void fx_header(struct fx_wkb *w, uint32_t type)
{
    w->n = 0;
    w->b[w->n++] = 1;
    fx_u32(w, type);
}

static inline void fx_point(struct fx_wkb *w, double x, double y)
{
    fx_header(w, 1);
    fx_f64(w, x), fx_f64(w, y);
}

/* xy: n pairs */
static inline void fx_line(struct fx_wkb *w, const double *xy, int n)
{
    fx_header(w, 2);
    fx_u32(w, (uint32_t)n);
    for (int i = 0; i < 2 * n; i++) fx_f64(w, xy[i]);
}

/* one ring, closed by the caller */
static inline void fx_polygon(struct fx_wkb *w, const double *xy, int n)
{
    fx_header(w, 3);
    fx_u32(w, 1);
    fx_u32(w, (uint32_t)n);
    for (int i = 0; i < 2 * n; i++) fx_f64(w, xy[i]);
}

struct fx_item {
    struct tile_feature f;
    struct fx_wkb w;
};

#define FX_MAX 32
struct fx_source {
    struct fx_item items[FX_MAX];
    int n;
    int calls;
};

static inline struct tile_feature *fx_add(struct fx_source *s, enum tile_coll coll, const char *party,
                                   const char *status, const char *type, const char *title)
{
    struct fx_item *it = &s->items[s->n++];
    memset(it, 0, sizeof *it);
    it->f.coll = coll;
    it->f.id = s->n;
    it->f.party = party;
    it->f.status = status;
    it->f.type = type;
    it->f.title = title;
    return &it->f;
}

static inline fm_rc fx_each(void *ctx, enum tile_coll coll, const double bbox[4], tile_feature_cb cb,
                     void *cb_ctx, struct fm_err *err)
{
    (void)err;
    struct fx_source *s = ctx;
    s->calls++;
    for (int i = 0; i < s->n; i++) {
        struct fx_item *it = &s->items[i];
        if (it->f.coll != coll) continue;
        it->f.wkb = it->w.b;
        it->f.wkb_len = it->w.n;
        double b[4];
        if (tile_wkb_bbox(it->w.b, it->w.n, b)) continue;
        /* as the store: a movement's box includes half its corridor */
        double half = fmin(it->f.corridor_width_m, TILE_MAX_CORRIDOR_M) / 2 / 110000.0;
        double lon = half / cos(fmin(85.0, fmax(fabs(b[1]), fabs(b[3]))) * M_PI / 180);
        b[0] -= lon, b[2] += lon, b[1] -= half, b[3] += half;
        if (b[0] > bbox[2] || b[2] < bbox[0] || b[1] > bbox[3] || b[3] < bbox[1]) continue;
        if (cb(cb_ctx, &it->f)) break;
    }
    return FM_OK;
}

static inline int fx_colour(void *ctx, const char *party, double rgb[3])
{
    (void)ctx;
    static const struct {
        const char *p;
        double c[3];
    } t[] = {{"A", {0.12, 0.44, 0.82}}, {"B", {0.85, 0.28, 0.06}}, {"SUP", {0.17, 0.54, 0.24}}};
    for (size_t i = 0; i < sizeof t / sizeof *t; i++)
        if (strcmp(t[i].p, party) == 0) {
            memcpy(rgb, t[i].c, sizeof t[i].c);
            return 1;
        }
    return 0;
}

static inline const char *fx_name(void *ctx, const char *party)
{
    (void)ctx;
    return strcmp(party, "A") == 0 ? "Side A" : strcmp(party, "B") == 0 ? "Side B" : "Supervisor";
}

/* The standard scene: every style the table knows, Arabic and Hebrew labels. */
static inline void fx_scene(struct fx_source *s)
{
    memset(s, 0, sizeof *s);
    struct tile_feature *f;
    f = fx_add(s, TILE_ZONE, "A", "active", "restricted", "Range North");
    fx_polygon(&s->items[s->n - 1].w,
               (double[]){35.70, 33.02, 35.86, 33.02, 35.88, 33.12, 35.78, 33.17, 35.68, 33.11,
                          35.70, 33.02},
               6);
    f = fx_add(s, TILE_ZONE, "B", "proposed", "no_fly", "\xd9\x85\xd9\x86\xd8\xb7\xd9\x82\xd8\xa9 "
                                                        "\xd8\xad\xd8\xb8\xd8\xb1 \xd8\xa7\xd9\x84"
                                                        "\xd8\xb7\xd9\x8a\xd8\xb1\xd8\xa7\xd9\x86");
    /* Arabic: "no-fly zone" */
    fx_polygon(&s->items[s->n - 1].w,
               (double[]){35.95, 32.80, 36.12, 32.80, 36.12, 32.95, 35.95, 32.95, 35.95, 32.80}, 5);
    f = fx_add(s, TILE_ZONE, "A", "disputed", "buffer",
               "\xd7\x90\xd7\x96\xd7\x95\xd7\xa8 \xd7\x97\xd7\x99\xd7\xa5"); /* Hebrew: buffer zone */
    fx_polygon(&s->items[s->n - 1].w,
               (double[]){35.62, 32.66, 35.76, 32.66, 35.76, 32.76, 35.62, 32.76, 35.62, 32.66}, 5);
    f = fx_add(s, TILE_ZONE, "SUP", "active", "humanitarian_corridor", "Corridor H-1");
    fx_polygon(&s->items[s->n - 1].w,
               (double[]){35.88, 32.70, 35.92, 32.70, 35.94, 33.30, 35.90, 33.30, 35.88, 32.70}, 5);
    f = fx_add(s, TILE_ZONE, "B", "expired", "protected_site", "Old site");
    fx_polygon(&s->items[s->n - 1].w,
               (double[]){36.02, 33.20, 36.12, 33.20, 36.12, 33.30, 36.02, 33.30, 36.02, 33.20}, 5);
    f = fx_add(s, TILE_INCIDENT, "B", "reported", NULL, "Shelling");
    f->category = "shelling", f->severity = 4;
    fx_point(&s->items[s->n - 1].w, 35.79, 33.08);
    f = fx_add(s, TILE_INCIDENT, "A", "acknowledged", NULL, "UAV sighting");
    f->category = "airspace", f->severity = 2;
    fx_point(&s->items[s->n - 1].w, 36.05, 32.88);
    f = fx_add(s, TILE_MOVEMENT, "B", "notified", "ground", "Convoy C-7");
    f->corridor_width_m = 500;
    fx_line(&s->items[s->n - 1].w,
            (double[]){35.64, 33.20, 35.76, 33.10, 35.90, 33.00, 36.10, 32.92}, 4);
    f = fx_add(s, TILE_MOVEMENT, "A", "in_progress", "air", "Medevac");
    f->corridor_width_m = 2000;
    fx_line(&s->items[s->n - 1].w, (double[]){35.66, 32.72, 35.85, 32.78, 36.02, 32.70}, 3);
    (void)f;
}

static inline struct tile_source fx_source_of(struct fx_source *s)
{
    /* Side A looks: A's symbols in friend frames, the others' neutral */
    struct tile_source src = {s, fx_each, fx_colour, fx_name, "A", '4'};
    return src;
}

#endif

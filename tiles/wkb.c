/* wkb.c - well-known binary (ISO and EWKB-free 2D, either byte order)
 * decoded into parts of points, lines and polygon rings. Every count is
 * checked against the bytes left, so a malformed blob fails cleanly. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void geom_init(struct geom *g)
{
    memset(g, 0, sizeof *g);
}

void geom_reset(struct geom *g)
{
    g->nparts = 0;
    g->npts = 0;
    g->npolys = 0;
}

void geom_cleanup(struct geom *g)
{
    free(g->parts);
    free(g->xy);
    geom_init(g);
}

void geom_add_part(struct geom *g, enum geom_kind kind, int poly)
{
    if (g->nparts == g->cap_parts) {
        g->cap_parts = g->cap_parts ? g->cap_parts * 2 : 8;
        g->parts = realloc(g->parts, g->cap_parts * sizeof *g->parts);
        if (!g->parts) abort();
    }
    g->parts[g->nparts++] = (struct geom_part){kind, poly, g->npts, 0};
}

void geom_add_point(struct geom *g, double x, double y)
{
    if (g->npts == g->cap_pts) {
        g->cap_pts = g->cap_pts ? g->cap_pts * 2 : 64;
        g->xy = realloc(g->xy, g->cap_pts * 2 * sizeof *g->xy);
        if (!g->xy) abort();
    }
    g->xy[2 * g->npts] = x;
    g->xy[2 * g->npts + 1] = y;
    g->npts++;
    g->parts[g->nparts - 1].n++;
}

struct rd {
    const unsigned char *p, *end;
    int le;
};

static int rd_u32(struct rd *r, uint32_t *v)
{
    if (r->end - r->p < 4) return 0;
    const unsigned char *b = r->p;
    *v = r->le ? (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24
               : (uint32_t)b[3] | (uint32_t)b[2] << 8 | (uint32_t)b[1] << 16 | (uint32_t)b[0] << 24;
    r->p += 4;
    return 1;
}

static int rd_f64(struct rd *r, double *v)
{
    if (r->end - r->p < 8) return 0;
    uint64_t u;
    memcpy(&u, r->p, sizeof u);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (!r->le) u = __builtin_bswap64(u);
#else
    if (r->le) u = __builtin_bswap64(u);
#endif
    memcpy(v, &u, sizeof *v);
    r->p += 8;
    return isfinite(*v);
}

/* dims: 2, 3 or 4 doubles per point; only the first two are kept. */
static int rd_points(struct rd *r, struct geom *g, int dims, uint32_t n)
{
    if ((size_t)(r->end - r->p) / (8u * (unsigned)dims) < n) return 0;
    for (uint32_t i = 0; i < n; i++) {
        double x, y;
        if (!rd_f64(r, &x) || !rd_f64(r, &y)) return 0;
        for (int d = 2; d < dims; d++) r->p += 8; /* Z, M: counted above */
        geom_add_point(g, x, y);
    }
    return 1;
}

static int rd_geom(struct rd *r, struct geom *g, int depth)
{
    if (depth > 4 || r->p >= r->end) return 0;
    unsigned char order = *r->p++;
    if (order > 1) return 0;
    r->le = order == 1;
    uint32_t type;
    if (!rd_u32(r, &type)) return 0;
    /* ISO Z/M/ZM (1000s) and EWKB flags */
    int dims = 2;
    if (type & 0x80000000u) dims++;
    if (type & 0x40000000u) dims++;
    if (type & 0x20000000u) return 0; /* EWKB with SRID: not produced by the store */
    type &= 0x0fffffffu;
    if (type >= 3000) dims = 4, type -= 3000;
    else if (type >= 2000) dims = 3, type -= 2000;
    else if (type >= 1000) dims = 3, type -= 1000;
    uint32_t n, rings;
    switch (type) {
    case 1: /* Point */
        geom_add_part(g, GEOM_POINT, -1);
        return rd_points(r, g, dims, 1);
    case 2: /* LineString */
        if (!rd_u32(r, &n)) return 0;
        geom_add_part(g, GEOM_LINE, -1);
        return rd_points(r, g, dims, n);
    case 3: { /* Polygon */
        if (!rd_u32(r, &rings) || rings > (size_t)(r->end - r->p) / 4) return 0;
        int poly = g->npolys++;
        for (uint32_t i = 0; i < rings; i++) {
            if (!rd_u32(r, &n)) return 0;
            geom_add_part(g, GEOM_RING, poly);
            if (!rd_points(r, g, dims, n)) return 0;
        }
        return 1;
    }
    case 4: case 5: case 6: case 7: { /* Multi*, GeometryCollection */
        if (!rd_u32(r, &n) || n > (size_t)(r->end - r->p) / 5) return 0;
        for (uint32_t i = 0; i < n; i++)
            if (!rd_geom(r, g, depth + 1)) return 0;
        return 1;
    }
    default: return 0;
    }
}

fm_rc geom_from_wkb(struct geom *g, const unsigned char *wkb, size_t len)
{
    if (!wkb || len < 5) return FM_EINVAL;
    struct rd r = {wkb, wkb + len, 1};
    return rd_geom(&r, g, 0) ? FM_OK : FM_EINVAL;
}

fm_rc tile_wkb_bbox(const unsigned char *wkb, size_t len, double bbox[4])
{
    struct geom g;
    geom_init(&g);
    fm_rc rc = geom_from_wkb(&g, wkb, len);
    if (!rc && g.npts == 0) rc = FM_EINVAL;
    if (!rc) {
        bbox[0] = bbox[2] = g.xy[0];
        bbox[1] = bbox[3] = g.xy[1];
        for (size_t i = 1; i < g.npts; i++) {
            double x = g.xy[2 * i], y = g.xy[2 * i + 1];
            if (x < bbox[0]) bbox[0] = x;
            if (x > bbox[2]) bbox[2] = x;
            if (y < bbox[1]) bbox[1] = y;
            if (y > bbox[3]) bbox[3] = y;
        }
    }
    geom_cleanup(&g);
    return rc;
}

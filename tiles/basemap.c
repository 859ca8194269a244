/* basemap.c - the offline basemap: country polygons read once with GDAL
 * (any vector file; set-up builds a GeoPackage from Natural Earth), kept in
 * memory in Web Mercator, drawn as sea, land, borders and country names. */
#include "internal.h"

#include <gdal.h>
#include <math.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct country {
    double bbox[4]; /* mercator */
    size_t ring0, nrings;
    char *name;
    double lx, ly, area; /* label point (mercator) and the biggest ring's area */
};

struct ring {
    size_t start, n;
};

struct tile_basemap {
    struct country *c;
    size_t nc, capc;
    struct ring *r;
    size_t nr, capr;
    double *xy;
    size_t npts, cappts;
};

static pthread_once_t gdal_once = PTHREAD_ONCE_INIT;
static void gdal_init(void)
{
    GDALAllRegister();
}

static void grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) return;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    *p = realloc(*p, c * size);
    if (!*p) abort();
    *cap = c;
}

static void add_ring(struct tile_basemap *b, struct country *c, OGRGeometryH ring)
{
    int n = OGR_G_GetPointCount(ring);
    if (n < 3) return;
    grow((void **)&b->r, &b->capr, b->nr + 1, sizeof *b->r);
    grow((void **)&b->xy, &b->cappts, b->npts + (size_t)n, 2 * sizeof *b->xy);
    struct ring *r = &b->r[b->nr++];
    r->start = b->npts;
    r->n = (size_t)n;
    double a = 0, sx = 0, sy = 0;
    for (int i = 0; i < n; i++) {
        double mx, my;
        tile_lonlat_to_merc(OGR_G_GetX(ring, i), OGR_G_GetY(ring, i), &mx, &my);
        b->xy[2 * b->npts] = mx;
        b->xy[2 * b->npts + 1] = my;
        b->npts++;
        if (mx < c->bbox[0]) c->bbox[0] = mx;
        if (my < c->bbox[1]) c->bbox[1] = my;
        if (mx > c->bbox[2]) c->bbox[2] = mx;
        if (my > c->bbox[3]) c->bbox[3] = my;
    }
    const double *p = &b->xy[2 * r->start];
    for (int i = 1; i + 1 < n; i++) {
        double cr = (p[2 * i] - p[0]) * (p[2 * i + 3] - p[1]) - (p[2 * i + 2] - p[0]) * (p[2 * i + 1] - p[1]);
        a += cr, sx += cr * (p[0] + p[2 * i] + p[2 * i + 2]), sy += cr * (p[1] + p[2 * i + 1] + p[2 * i + 3]);
    }
    if (fabs(a) > c->area && a != 0) {
        c->area = fabs(a);
        c->lx = sx / (3 * a);
        c->ly = sy / (3 * a);
    }
    c->nrings++;
}

static void add_geometry(struct tile_basemap *b, struct country *c, OGRGeometryH g, int depth)
{
    if (!g || depth > 3) return;
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    if (t == wkbPolygon) {
        for (int i = 0; i < OGR_G_GetGeometryCount(g); i++)
            add_ring(b, c, OGR_G_GetGeometryRef(g, i));
    } else if (t == wkbMultiPolygon || t == wkbGeometryCollection) {
        for (int i = 0; i < OGR_G_GetGeometryCount(g); i++)
            add_geometry(b, c, OGR_G_GetGeometryRef(g, i), depth + 1);
    }
}

fm_rc tile_basemap_load(const char *path, struct tile_basemap **out, struct fm_err *err)
{
    *out = NULL;
    pthread_once(&gdal_once, gdal_init);
    CPLErrorReset();
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!ds)
        return fm_fail(err, FM_EIO, "basemap", "cannot open basemap %s: %s", path,
                       CPLGetLastErrorMsg());
    fm_rc rc = FM_OK;
    struct tile_basemap *b = fm_xcalloc(1, sizeof *b);
    OGRLayerH layer = GDALDatasetGetLayerCount(ds) > 0 ? GDALDatasetGetLayer(ds, 0) : NULL;
    if (!layer) {
        rc = fm_fail(err, FM_EINVAL, "basemap", "%s has no vector layer", path);
        goto done;
    }
    OGR_L_ResetReading(layer);
    int name_field = OGR_FD_GetFieldIndex(OGR_L_GetLayerDefn(layer), "name");
    OGRFeatureH f;
    while ((f = OGR_L_GetNextFeature(layer)) != NULL) {
        grow((void **)&b->c, &b->capc, b->nc + 1, sizeof *b->c);
        struct country *c = &b->c[b->nc];
        memset(c, 0, sizeof *c);
        c->bbox[0] = c->bbox[1] = INFINITY;
        c->bbox[2] = c->bbox[3] = -INFINITY;
        c->ring0 = b->nr;
        add_geometry(b, c, OGR_F_GetGeometryRef(f), 0);
        if (name_field >= 0 && OGR_F_IsFieldSetAndNotNull(f, name_field))
            c->name = fm_xstrdup(OGR_F_GetFieldAsString(f, name_field));
        OGR_F_Destroy(f);
        if (c->nrings) b->nc++;
        else free(c->name);
    }
    if (b->nc == 0) rc = fm_fail(err, FM_EINVAL, "basemap", "%s holds no polygons", path);
done:
    GDALClose(ds);
    if (rc) tile_basemap_free(b);
    else *out = b;
    return rc;
}

void tile_basemap_free(struct tile_basemap *b)
{
    if (!b) return;
    for (size_t i = 0; i < b->nc; i++) free(b->c[i].name);
    free(b->c);
    free(b->r);
    free(b->xy);
    free(b);
}

void draw_basemap(cairo_t *cr, const struct view *v, const struct tile_basemap *b,
                  struct labels *labels, int with_names)
{
    cairo_save(cr);
    cairo_set_source_rgba(cr, style_sea.r, style_sea.g, style_sea.b, style_sea.a);
    cairo_paint(cr);
    if (!b) {
        cairo_restore(cr);
        return;
    }
    double pad = 2.0 / v->ppm;
    size_t cap = 0;
    double *px = NULL;
    cairo_set_fill_rule(cr, CAIRO_FILL_RULE_EVEN_ODD);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    for (size_t i = 0; i < b->nc; i++) {
        const struct country *c = &b->c[i];
        if (c->bbox[2] < v->merc[0] - pad || c->bbox[0] > v->merc[2] + pad ||
            c->bbox[3] < v->merc[1] - pad || c->bbox[1] > v->merc[3] + pad)
            continue;
        cairo_new_path(cr);
        for (size_t k = c->ring0; k < c->ring0 + c->nrings; k++) {
            const struct ring *r = &b->r[k];
            grow((void **)&px, &cap, r->n, 2 * sizeof *px);
            for (size_t j = 0; j < r->n; j++) {
                px[2 * j] = (b->xy[2 * (r->start + j)] - v->minx) * v->ppm;
                px[2 * j + 1] = (v->maxy - b->xy[2 * (r->start + j) + 1]) * v->ppm;
            }
            draw_ring_px(cr, v, px, r->n);
        }
        cairo_set_source_rgba(cr, style_land.r, style_land.g, style_land.b, style_land.a);
        cairo_fill_preserve(cr);
        cairo_set_source_rgba(cr, style_border.r, style_border.g, style_border.b, style_border.a);
        cairo_set_line_width(cr, 0.8 * v->scale);
        cairo_stroke(cr);
        double w = (c->bbox[2] - c->bbox[0]) * v->ppm;
        if (with_names && c->name && w > 40 * v->scale)
            labels_queue(labels, c->name, (c->lx - v->minx) * v->ppm, (v->maxy - c->ly) * v->ppm, 9.5, 0,
                         0);
    }
    free(px);
    cairo_restore(cr);
}

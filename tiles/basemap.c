/* basemap.c - the offline basemap: country polygons read once with GDAL
 * (any vector file; set-up builds a GeoPackage from Natural Earth), kept in
 * memory in Web Mercator, drawn as sea, land, borders and country names;
 * and the towns of its layer "places" (points with name and rank), drawn
 * as dots with their names (from zoom 9 on briefing images, 11 on tiles),
 * the bigger first. */
#include "internal.h"

#include <gdal.h>
#include <cpl_conv.h>
#include <gdal_alg.h>
#include <gdalwarper.h>
#include <math.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <pthread.h>
#include <stdint.h>
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

struct place {
    double x, y; /* mercator */
    char *name;
    int rank; /* 1 village .. 4 city: the bigger claim label space first */
};

struct tile_basemap {
    /* a raster source (any GDAL raster), warped to Web Mercator; GDAL
     * datasets are not thread-safe, so reads take the lock */
    GDALDatasetH raster, warped;
    pthread_mutex_t lock;
    double gt[6]; /* of warped */
    int bands;
    /* or country polygons */
    struct country *c;
    size_t nc, capc;
    struct ring *r;
    size_t nr, capr;
    double *xy;
    size_t npts, cappts;
    struct place *p;
    size_t np, capp;
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

static fm_rc load_raster(struct tile_basemap *b, GDALDatasetH ds, const char *path,
                         struct fm_err *err)
{
    b->raster = ds;
    b->bands = GDALGetRasterCount(ds);
    if (b->bands != 1 && b->bands != 3 && b->bands != 4)
        return fm_fail(err, FM_EINVAL, "basemap", "%s has %d bands (1, 3 or 4 are drawn)", path,
                       b->bands);
    OGRSpatialReferenceH merc = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(merc, 3857);
    char *wkt = NULL;
    OSRExportToWkt(merc, &wkt);
    /* a virtual warp: tiles read windows of it and GDAL reprojects them */
    b->warped = GDALAutoCreateWarpedVRT(ds, NULL, wkt, GRA_Bilinear, 0.125, NULL);
    CPLFree(wkt);
    OSRDestroySpatialReference(merc);
    if (!b->warped || GDALGetGeoTransform(b->warped, b->gt) != CE_None)
        return fm_fail(err, FM_EINVAL, "basemap", "%s cannot be placed in Web Mercator: %s", path,
                       CPLGetLastErrorMsg());
    return FM_OK;
}

/* The towns of layer "places" (lon/lat points with "name" and "rank");
 * none when the layer is absent. */
static void load_places(struct tile_basemap *b, OGRLayerH layer)
{
    if (!layer) return;
    OGRFeatureDefnH d = OGR_L_GetLayerDefn(layer);
    int name_field = OGR_FD_GetFieldIndex(d, "name"), rank_field = OGR_FD_GetFieldIndex(d, "rank");
    if (name_field < 0) return;
    OGR_L_ResetReading(layer);
    OGRFeatureH f;
    while ((f = OGR_L_GetNextFeature(layer)) != NULL) {
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        if (g && wkbFlatten(OGR_G_GetGeometryType(g)) == wkbPoint &&
            OGR_F_IsFieldSetAndNotNull(f, name_field)) {
            grow((void **)&b->p, &b->capp, b->np + 1, sizeof *b->p);
            struct place *pl = &b->p[b->np++];
            tile_lonlat_to_merc(OGR_G_GetX(g, 0), OGR_G_GetY(g, 0), &pl->x, &pl->y);
            pl->name = fm_xstrdup(OGR_F_GetFieldAsString(f, name_field));
            pl->rank = rank_field >= 0 ? OGR_F_GetFieldAsInteger(f, rank_field) : 1;
        }
        OGR_F_Destroy(f);
    }
}

fm_rc tile_basemap_load(const char *path, struct tile_basemap **out, struct fm_err *err)
{
    *out = NULL;
    pthread_once(&gdal_once, gdal_init);
    CPLErrorReset();
    GDALDatasetH ds =
        GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!ds)
        return fm_fail(err, FM_EIO, "basemap", "cannot open basemap %s: %s", path,
                       CPLGetLastErrorMsg());
    fm_rc rc = FM_OK;
    struct tile_basemap *b = fm_xcalloc(1, sizeof *b);
    pthread_mutex_init(&b->lock, NULL);
    if (GDALDatasetGetLayerCount(ds) == 0 && GDALGetRasterCount(ds) > 0) {
        rc = load_raster(b, ds, path, err);
        if (rc) tile_basemap_free(b);
        else *out = b;
        return rc;
    }
    OGRLayerH layer = GDALDatasetGetLayerCount(ds) > 0 ? GDALDatasetGetLayer(ds, 0) : NULL;
    if (!layer) {
        rc = fm_fail(err, FM_EINVAL, "basemap", "%s has no vector layer or raster band", path);
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
    if (!rc) load_places(b, GDALDatasetGetLayerByName(ds, "places"));
done:
    GDALClose(ds);
    if (rc) tile_basemap_free(b);
    else *out = b;
    return rc;
}

void tile_basemap_free(struct tile_basemap *b)
{
    if (!b) return;
    if (b->warped) GDALClose(b->warped);
    if (b->raster) GDALClose(b->raster);
    pthread_mutex_destroy(&b->lock);
    for (size_t i = 0; i < b->nc; i++) free(b->c[i].name);
    free(b->c);
    for (size_t i = 0; i < b->np; i++) free(b->p[i].name);
    free(b->p);
    free(b->r);
    free(b->xy);
    free(b);
}

/* Reads the view's window of the warped raster into an image and paints it. */
static void draw_raster(cairo_t *cr, const struct view *v, struct tile_basemap *b)
{
    int w = (int)v->width, h = (int)v->height;
    int rw = GDALGetRasterXSize(b->warped), rh = GDALGetRasterYSize(b->warped);
    /* the view in the raster's pixels */
    double px0 = (v->merc[0] - b->gt[0]) / b->gt[1], px1 = (v->merc[2] - b->gt[0]) / b->gt[1];
    double py0 = (v->merc[3] - b->gt[3]) / b->gt[5], py1 = (v->merc[1] - b->gt[3]) / b->gt[5];
    /* clip to the raster, and the image to match */
    double cx0 = fmax(px0, 0), cx1 = fmin(px1, rw), cy0 = fmax(py0, 0), cy1 = fmin(py1, rh);
    if (cx1 <= cx0 || cy1 <= cy0) return;
    int ix0 = (int)floor((cx0 - px0) / (px1 - px0) * w), ix1 = (int)ceil((cx1 - px0) / (px1 - px0) * w);
    int iy0 = (int)floor((cy0 - py0) / (py1 - py0) * h), iy1 = (int)ceil((cy1 - py0) / (py1 - py0) * h);
    ix0 = ix0 < 0 ? 0 : ix0, iy0 = iy0 < 0 ? 0 : iy0;
    ix1 = ix1 > w ? w : ix1, iy1 = iy1 > h ? h : iy1;
    int ow = ix1 - ix0, oh = iy1 - iy0;
    if (ow <= 0 || oh <= 0) return;
    unsigned char *buf = calloc((size_t)ow * (size_t)oh * 4, 1);
    if (!buf) abort();
    GDALRasterIOExtraArg extra;
    INIT_RASTERIO_EXTRA_ARG(extra);
    extra.eResampleAlg = GRIORA_Bilinear;
    extra.bFloatingPointWindowValidity = TRUE;
    extra.dfXOff = cx0, extra.dfYOff = cy0, extra.dfXSize = cx1 - cx0, extra.dfYSize = cy1 - cy0;
    int map[4] = {1, 2, 3, 4}, nb = b->bands == 1 ? 1 : b->bands;
    int xoff = (int)cx0, yoff = (int)cy0;
    int xs = (int)ceil(cx1) - xoff, ys = (int)ceil(cy1) - yoff;
    if (xoff + xs > rw) xs = rw - xoff;
    if (yoff + ys > rh) ys = rh - yoff;
    pthread_mutex_lock(&b->lock);
    CPLErr e = GDALDatasetRasterIOEx(b->warped, GF_Read, xoff, yoff, xs, ys, buf, ow, oh, GDT_Byte,
                                     nb, map, 4, (GSpacing)ow * 4, 1, &extra);
    pthread_mutex_unlock(&b->lock);
    if (e == CE_None) {
        /* RGBA bytes -> cairo's premultiplied native ARGB */
        cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, ow, oh);
        unsigned char *d = cairo_image_surface_get_data(img);
        int stride = cairo_image_surface_get_stride(img);
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) {
                const unsigned char *s = &buf[((size_t)y * ow + x) * 4];
                unsigned r = s[0], g = nb == 1 ? s[0] : s[1], bl = nb == 1 ? s[0] : s[2];
                unsigned a = nb == 4 ? s[3] : 255;
                ((uint32_t *)(d + (size_t)y * stride))[x] =
                    a << 24 | (r * a / 255) << 16 | (g * a / 255) << 8 | (bl * a / 255);
            }
        cairo_surface_mark_dirty(img);
        cairo_set_source_surface(cr, img, ix0, iy0);
        cairo_paint(cr);
        cairo_surface_destroy(img);
    }
    free(buf);
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
    if (b->warped) {
        draw_raster(cr, v, (struct tile_basemap *)b);
        cairo_restore(cr);
        return;
    }
    double pad = 2.0 / v->ppm;
    size_t cap = 0;
    double *px = NULL;
    struct path_buf path = {0};
    cairo_set_fill_rule(cr, CAIRO_FILL_RULE_EVEN_ODD);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    for (size_t i = 0; i < b->nc; i++) {
        const struct country *c = &b->c[i];
        if (c->bbox[2] < v->merc[0] - pad || c->bbox[0] > v->merc[2] + pad ||
            c->bbox[3] < v->merc[1] - pad || c->bbox[1] > v->merc[3] + pad)
            continue;
        path.n = 0;
        for (size_t k = c->ring0; k < c->ring0 + c->nrings; k++) {
            const struct ring *r = &b->r[k];
            grow((void **)&px, &cap, r->n, 2 * sizeof *px);
            for (size_t j = 0; j < r->n; j++) {
                px[2 * j] = (b->xy[2 * (r->start + j)] - v->minx) * v->ppm;
                px[2 * j + 1] = (v->maxy - b->xy[2 * (r->start + j) + 1]) * v->ppm;
            }
            ring_px_path(&path, v, px, r->n);
        }
        cairo_new_path(cr);
        path_to_cairo(cr, &path);
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
    path_free(&path);
    /* towns: a dot, and the name above it where it fits (after the
     * situation's own labels: theirs come first); from zoom 9 on briefing
     * images, from 11 on tiles (the wall, at 10, labels the situation
     * itself and nothing under its labels) */
    double from_zoom = v->label_px > 0 ? 9 : 11;
    for (size_t i = 0; with_names && v->zoom >= from_zoom && i < b->np; i++) {
        const struct place *pl = &b->p[i];
        double x = (pl->x - v->minx) * v->ppm, y = (v->maxy - pl->y) * v->ppm;
        if (x < -20 || y < -20 || x > v->width + 20 || y > v->height + 20) continue;
        double r = (1.6 + 0.4 * pl->rank) * v->scale;
        cairo_new_path(cr);
        cairo_arc(cr, x, y, r, 0, 2 * M_PI);
        cairo_set_source_rgba(cr, 0.25, 0.25, 0.3, 0.85);
        cairo_fill(cr);
        labels_queue_at(labels, pl->name, x, y - r - 7 * v->scale, 7.5 + 0.5 * pl->rank,
                        1 + pl->rank);
    }
    cairo_restore(cr);
}

/* test_tile_render.c - rendering from a fixed in-memory feature source:
 * goldens compared pixel by pixel with a tolerance (never byte hashes:
 * libpng, zlib and font versions change bytes, not pictures), Arabic and
 * Hebrew labels, PNG shape (RGBA, 256 / 512 px), empty tiles, bad input.
 *
 *   FM_UPDATE_GOLDENS=1 test_tile_render    rewrites the goldens
 * Differences are written next to the build as *.actual.png. */
#include "fixture.h"

#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef GOLDEN_DIR
#error GOLDEN_DIR
#endif

#include "check.h"

struct mem {
    const unsigned char *p;
    size_t n, off;
};

static cairo_status_t mem_read(void *closure, unsigned char *data, unsigned int length)
{
    struct mem *m = closure;
    if (m->n - m->off < length) return CAIRO_STATUS_READ_ERROR;
    memcpy(data, m->p + m->off, length);
    m->off += length;
    return CAIRO_STATUS_SUCCESS;
}

static cairo_surface_t *decode(const unsigned char *png, size_t len)
{
    struct mem m = {png, len, 0};
    cairo_surface_t *s = cairo_image_surface_create_from_png_stream(mem_read, &m);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(s);
        return NULL;
    }
    return s;
}

/* Pixels where any channel differs by more than tol. -1 if sizes differ. */
static long diff_pixels(cairo_surface_t *a, cairo_surface_t *b, int tol)
{
    int w = cairo_image_surface_get_width(a), h = cairo_image_surface_get_height(a);
    if (w != cairo_image_surface_get_width(b) || h != cairo_image_surface_get_height(b)) return -1;
    long n = 0;
    const unsigned char *pa = cairo_image_surface_get_data(a), *pb = cairo_image_surface_get_data(b);
    int sa = cairo_image_surface_get_stride(a), sb = cairo_image_surface_get_stride(b);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 4; c++)
                if (abs(pa[y * sa + 4 * x + c] - pb[y * sb + 4 * x + c]) > tol) {
                    n++;
                    break;
                }
    return n;
}

static long diff_png(const unsigned char *p1, size_t n1, const unsigned char *p2, size_t n2)
{
    cairo_surface_t *a = decode(p1, n1), *b = decode(p2, n2);
    long d = a && b ? diff_pixels(a, b, 40) : -1;
    cairo_surface_destroy(a);
    cairo_surface_destroy(b);
    return d;
}

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = malloc((size_t)n + 1);
    *len = fread(p, 1, (size_t)n, f);
    fclose(f);
    return p;
}

static void write_file(const char *path, const unsigned char *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(p, 1, n, f);
        fclose(f);
    }
}

/* Compares png with the golden `name`: at most 0.5% of pixels may differ
 * by more than 40 levels in a channel (anti-aliasing and hinting drift). */
static void golden(const char *name, const unsigned char *png, size_t len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", GOLDEN_DIR, name);
    if (getenv("FM_UPDATE_GOLDENS")) {
        write_file(path, png, len);
        printf("wrote %s\n", path);
        return;
    }
    size_t glen;
    unsigned char *g = read_file(path, &glen);
    CHECK(g != NULL, "golden %s is missing (FM_UPDATE_GOLDENS=1 makes it)", path);
    if (!g) return;
    cairo_surface_t *a = decode(png, len);
    long d = diff_png(png, len, g, glen);
    long total = a ? (long)cairo_image_surface_get_width(a) * cairo_image_surface_get_height(a) : 1;
    cairo_surface_destroy(a);
    CHECK(d >= 0 && d * 200 <= total, "%s: %ld of %ld pixels differ", name, d, total);
    if (d < 0 || d * 200 > total) {
        char out[1100];
        snprintf(out, sizeof out, "%s.actual.png", name);
        write_file(out, png, len);
    }
    free(g);
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* PNG signature, IHDR size, 8 bits per channel, colour type (2: RGB, 6:
 * RGBA; a palette, 3, counts as RGB without a tRNS chunk, as RGBA with). */
static int png_shape(const unsigned char *p, size_t n, uint32_t w, uint32_t h, int type)
{
    if (!(n > 33 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0 && memcmp(p + 12, "IHDR", 4) == 0 &&
          be32(p + 16) == w && be32(p + 20) == h && p[24] == 8))
        return 0;
    if (p[25] != 3) return p[25] == type;
    int trns = 0;
    for (size_t at = 8; at + 8 <= n; at += 12 + be32(p + at))
        if (memcmp(p + at + 4, "tRNS", 4) == 0) trns = 1;
    return trns == (type == 6);
}

static long opaque_pixels(const unsigned char *png, size_t len)
{
    cairo_surface_t *s = decode(png, len);
    if (!s) return -1;
    long n = 0;
    int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s),
        st = cairo_image_surface_get_stride(s);
    const unsigned char *d = cairo_image_surface_get_data(s);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) n += d[y * st + 4 * x + 3] != 0;
    cairo_surface_destroy(s);
    return n;
}

static void tiles(void)
{
    struct fx_source fx;
    fx_scene(&fx);
    struct tile_source src = fx_source_of(&fx);
    struct fm_err err;
    unsigned char *png;
    size_t len;

    CHECK(tile_render(&src, NULL, TILE_LAYER_ALL, 10, 613, 412, 1, &png, &len, &err) == FM_OK,
          "render z10");
    CHECK(png_shape(png, len, 256, 256, 2), "a tile over the basemap is an opaque 256 px RGB PNG");
    CHECK(len > 33 && png[25] == 3, "with FUSIONMAP_PNG_PALETTE=1 a tile of flat colours is an 8-bit palette PNG");
    golden("all-10-613-412.png", png, len); /* and looks the same, within the tolerance */
    free(png);

    CHECK(tile_render(&src, NULL, TILE_LAYER_ALL, 10, 613, 412, 2, &png, &len, &err) == FM_OK,
          "render z10@2x");
    CHECK(png_shape(png, len, 512, 512, 2), "an @2x tile is a 512 px PNG");
    golden("all-10-613-412@2x.png", png, len);
    free(png);

    CHECK(tile_render(&src, NULL, TILE_LAYER_ZONES, 9, 306, 206, 1, &png, &len, &err) == FM_OK,
          "render zones z9");
    golden("zones-9-306-206.png", png, len);
    CHECK(png_shape(png, len, 256, 256, 6), "an item layer (transparent between items) is RGBA");
    long zones_ink = opaque_pixels(png, len);
    free(png);
    CHECK(zones_ink > 2000, "zones are drawn (%ld opaque pixels)", zones_ink);

    CHECK(tile_render(&src, NULL, TILE_LAYER_MOVEMENTS, 11, 1227, 824, 1, &png, &len, &err) ==
              FM_OK,
          "render movements z11");
    golden("movements-11-1227-824.png", png, len);
    free(png);

    /* far from every item: an item layer is fully transparent */
    CHECK(tile_render(&src, NULL, TILE_LAYER_ZONES, 10, 100, 100, 1, &png, &len, &err) == FM_OK,
          "render empty");
    CHECK(opaque_pixels(png, len) == 0, "a tile with no items is transparent");
    free(png);

    /* bad input */
    CHECK(tile_render(&src, NULL, TILE_LAYER_ALL, 23, 0, 0, 1, &png, &len, &err) == FM_ENOTFOUND &&
              png == NULL,
          "z23 does not exist");
    CHECK(tile_render(&src, NULL, TILE_LAYER_ALL, 3, 8, 0, 1, &png, &len, &err) == FM_ENOTFOUND,
          "x beyond 2^z does not exist");
    CHECK(tile_render(&src, NULL, TILE_LAYER_ALL, 3, 1, 1, 3, &png, &len, &err) == FM_EINVAL,
          "scale 3 is refused");

    /* a malformed geometry is skipped, the rest drawn */
    struct fx_source bad;
    fx_scene(&bad);
    bad.items[0].w.n = 7;
    struct tile_source bsrc = fx_source_of(&bad);
    CHECK(tile_render(&bsrc, NULL, TILE_LAYER_ALL, 9, 306, 206, 1, &png, &len, &err) == FM_OK,
          "a malformed geometry does not fail the tile");
    free(png);
}

/* A label in the given script, rendered and compared with the zone
 * without a title: the label is there, and matches its golden (checked by
 * eye when made: joined Arabic letters, right-to-left order). */
static void script_label(const char *golden_name, int item, const double bbox[4])
{
    struct fx_source fx;
    fx_scene(&fx);
    struct tile_source src = fx_source_of(&fx);
    struct tile_map_request req = {{bbox[0], bbox[1], bbox[2], bbox[3]},
                                   400,
                                   300,
                                   1u << TILE_LAYER_ZONES,
                                   "Labels",
                                   1795000000,
                                   0,
                                   TILE_GRID_DEGREES,
                                   NULL};
    unsigned char *with, *without;
    size_t wl, wol;
    struct fm_err err;
    CHECK(tile_map_render(&src, NULL, &req, &with, &wl, &err) == FM_OK, "map %s", golden_name);
    golden(golden_name, with, wl);
    fx.items[item].f.title = NULL;
    CHECK(tile_map_render(&src, NULL, &req, &without, &wol, &err) == FM_OK, "map without label");
    long d = diff_png(with, wl, without, wol);
    CHECK(d > 150, "%s: the label drew %ld pixels", golden_name, d);
    free(with);
    free(without);
}

/* The MGRS grid ends, and in a bounded time, wherever the view is: the
 * zones' exceptions (Norway, Svalbard), a zone's edge, a continent, the
 * world; and a sheet with a brief draws its lists however long. */
static void mgrs_grids(void)
{
    struct fx_source fx;
    fx_scene(&fx);
    struct tile_source src = fx_source_of(&fx);
    static const double boxes[][4] = {
        {35.55, 32.6, 36.25, 33.35}, {3, 58, 14, 63},   {5, 76, 30, 80},
        {-10, 35, 40, 60},          {-180, -85, 180, 85}, {179.5, -20, 180, -19.5},
    };
    const char *rows[] = {"a (Side A) crosses b (Side B), severity 4", "c (Side B) inside d (Side A), severity 2"};
    struct tile_brief b = {"TEST MARKING", 1, {{"Open conflicts", rows, 2, 5, "none"},
                                                {"Disputed", NULL, 0, 0, "none"}}, 2, "footer"};
    for (size_t i = 0; i < sizeof boxes / sizeof *boxes; i++) {
        struct tile_map_request req = {{boxes[i][0], boxes[i][1], boxes[i][2], boxes[i][3]},
                                       1400, 990, 1u << TILE_LAYER_ALL, "MGRS", 1795000000, 0,
                                       TILE_GRID_MGRS, &b};
        unsigned char *pdf;
        size_t len;
        struct fm_err err;
        CHECK(tile_map_render_pdf(&src, NULL, &req, &pdf, &len, &err) == FM_OK && len > 1000,
              "a sheet with an MGRS grid over %g,%g,%g,%g", boxes[i][0], boxes[i][1],
              boxes[i][2], boxes[i][3]);
        if (len > 1000) free(pdf);
        req.brief = NULL;
        unsigned char *png;
        CHECK(tile_map_render(&src, NULL, &req, &png, &len, &err) == FM_OK, "an image with it");
        free(png);
    }
}

static void maps(void)
{
    struct fx_source fx;
    fx_scene(&fx);
    struct tile_source src = fx_source_of(&fx);
    struct tile_map_request req = {{35.55, 32.6, 36.25, 33.35}, 800, 600, 1u << TILE_LAYER_ALL,
                                   "Fixture: every style", 1795000000, 0, TILE_GRID_DEGREES, NULL};
    unsigned char *png;
    size_t len;
    struct fm_err err;
    CHECK(tile_map_render(&src, NULL, &req, &png, &len, &err) == FM_OK, "map");
    CHECK(png_shape(png, len, 800, 600, 2), "the map has the size asked for");
    CHECK(png[25] == 2, "a briefing map keeps RGB (no palette across its parts)");
    golden("map-800x600.png", png, len);
    free(png);

    script_label("label-arabic.png", 1, (double[]){35.93, 32.78, 36.14, 32.97});
    script_label("label-hebrew.png", 2, (double[]){35.60, 32.64, 35.78, 32.78});

    struct tile_map_request r = req;
    r.bbox[0] = 36.3;
    CHECK(tile_map_render(&src, NULL, &r, &png, &len, &err) == FM_EINVAL && !png,
          "an inverted bbox is refused");
    r = req;
    r.bbox[3] = 89;
    CHECK(tile_map_render(&src, NULL, &r, &png, &len, &err) == FM_EINVAL, "lat 89 is refused");
    r = req;
    r.width = TILE_MAP_MAX_PX + 1;
    CHECK(tile_map_render(&src, NULL, &r, &png, &len, &err) == FM_EINVAL, "too wide is refused");
    r = req;
    r.height = 10;
    CHECK(tile_map_render(&src, NULL, &r, &png, &len, &err) == FM_EINVAL, "too small is refused");
}

/* Conflicts (found by the server) are their own layer, in "all", on top. */
static void conflicts(void)
{
    struct fx_source fx;
    fx_scene(&fx);
    struct tile_feature *f = fx_add(&fx, TILE_CONFLICT, "SUP", "open", "movement_crosses_zone",
                                    "Convoy C-7 crosses Range North");
    fx_polygon(&fx.items[fx.n - 1].w,
               (double[]){35.76, 33.09, 35.80, 33.09, 35.80, 33.12, 35.76, 33.12, 35.76, 33.09}, 5);
    (void)f;
    struct tile_source src = fx_source_of(&fx);
    struct fm_err err;
    unsigned char *png, *zones_with, *zones_without;
    size_t len, l1, l2;
    CHECK(tile_render(&src, NULL, TILE_LAYER_CONFLICTS, 10, 613, 412, 1, &png, &len, &err) == FM_OK,
          "render conflicts");
    CHECK(opaque_pixels(png, len) > 300, "a conflict is drawn in the conflicts layer");
    golden("conflicts-10-613-412.png", png, len);
    free(png);
    enum tile_layer l;
    CHECK(tile_layer_parse("conflicts", &l) == FM_OK && l == TILE_LAYER_CONFLICTS,
          "the conflicts layer has a name");
    CHECK(tile_render(&src, NULL, TILE_LAYER_ZONES, 10, 613, 412, 1, &zones_with, &l1, &err) == FM_OK,
          "zones with a conflict");
    fx.n--;
    CHECK(tile_render(&src, NULL, TILE_LAYER_ZONES, 10, 613, 412, 1, &zones_without, &l2, &err) ==
              FM_OK,
          "zones without");
    CHECK(diff_png(zones_with, l1, zones_without, l2) == 0, "the zones layer does not draw conflicts");
    free(zones_with);
    free(zones_without);
}

/* Straight RGBA of pixel (x, y) of a PNG; 0 when it cannot be read. */
static int pixel_at(const unsigned char *png, size_t len, int x, int y, int rgba[4])
{
    cairo_surface_t *s = decode(png, len);
    if (!s) return 0;
    const unsigned char *d = cairo_image_surface_get_data(s);
    uint32_t px;
    memcpy(&px, d + y * cairo_image_surface_get_stride(s) + 4 * x, 4);
    int a = (int)(px >> 24);
    for (int c = 0; c < 3; c++) {
        int v = (int)(px >> (16 - 8 * c)) & 255;
        rgba[c] = a ? v * 255 / a : 0;
    }
    rgba[3] = a;
    cairo_surface_destroy(s);
    return 1;
}

/* A world pixel at zoom z (256 px tiles) as lon/lat. */
static void world_px_lonlat(int z, double gx, double gy, double *lon, double *lat)
{
    double n = 256.0 * (double)(1L << z);
    *lon = gx / n * 360.0 - 180.0;
    *lat = atan(sinh(M_PI * (1 - 2 * gy / n))) * 180.0 / M_PI;
}

/* Zoom 11 and below: points are counted in 32 px cells anchored to the
 * world, so a cell just inside one tile draws there whole and nothing in
 * its neighbour; zoom 12 draws every point. */
static void clusters(void)
{
    struct fx_source fx;
    memset(&fx, 0, sizeof fx);
    /* five incidents of party A in the first cell of tile 10/614/412, at
     * its left edge (inside the buffer of 10/613/412) */
    for (int i = 0; i < 5; i++) {
        double lon, lat;
        world_px_lonlat(10, 614 * 256 + 2 + 5 * i, 412 * 256 + 100 + 3 * i, &lon, &lat);
        fx_add(&fx, TILE_INCIDENT, "A", "reported", NULL, NULL);
        fx_point(&fx.items[fx.n - 1].w, lon, lat);
    }
    struct tile_source src = fx_source_of(&fx);
    struct fm_err err;
    unsigned char *png;
    size_t len;
    CHECK(tile_render(&src, NULL, TILE_LAYER_INCIDENTS, 10, 613, 412, 1, &png, &len, &err) ==
              FM_OK,
          "render the left tile");
    CHECK(opaque_pixels(png, len) == 0,
          "the left tile draws nothing of a cell that lies in its neighbour (%ld px)",
          opaque_pixels(png, len));
    free(png);
    CHECK(tile_render(&src, NULL, TILE_LAYER_INCIDENTS, 10, 614, 412, 1, &png, &len, &err) ==
              FM_OK,
          "render the right tile");
    /* the disc: 0.42, 0.58 of the cell (13.4, 114.6), radius 7.5 px; a
     * pixel beside the count is party A's blue */
    int c[4] = {0};
    CHECK(pixel_at(png, len, 8, 114, c) && c[3] > 200 && c[2] > c[0] + 80,
          "one disc in party A's colour at the cell (%d,%d,%d,%d)", c[0], c[1], c[2], c[3]);
    long clustered = opaque_pixels(png, len);
    free(png);
    CHECK(clustered > 100 && clustered < 32 * 32, "the disc stays in its cell (%ld px)", clustered);
    /* zoom 12: the five points drawn one by one cover more */
    long x12 = 614 * 4, y12 = 412 * 4 + 1; /* z10 pixel rows 100-112 */
    CHECK(tile_render(&src, NULL, TILE_LAYER_INCIDENTS, 12, x12, y12, 1, &png, &len, &err) ==
              FM_OK,
          "render z12");
    long single = opaque_pixels(png, len);
    free(png);
    CHECK(single > clustered, "at zoom 12 every point is drawn (%ld px > %ld)", single, clustered);
}

/* A conflict area (z10 tile 613/412) of d x d world pixels at zoom 10 whose
 * corner is world pixel (px, py); or, with d 0, a point conflict there. */
static void add_conflict(struct fx_source *fx, double px, double py, double d)
{
    double x0, y0, x1, y1;
    world_px_lonlat(10, px, py, &x0, &y0);
    world_px_lonlat(10, px + d, py + d, &x1, &y1);
    fx_add(fx, TILE_CONFLICT, "SUP", "open", "incident_in_zone", "speck");
    if (d == 0) fx_point(&fx->items[fx->n - 1].w, x0, y0);
    else fx_polygon(&fx->items[fx->n - 1].w, (double[]){x0, y0, x1, y0, x1, y1, x0, y1, x0, y0}, 5);
}

/* Three conflict areas of d x d world pixels (at zoom 10) near each other
 * in one grid cell of z10 tile 613/412; with points, three point conflicts
 * at their centres instead. fx is emptied first. */
static void three_conflicts(struct fx_source *fx, double d, int points)
{
    memset(fx, 0, sizeof *fx);
    for (int i = 0; i < 3; i++) {
        double px = 613 * 256 + 100 + 6 * i, py = 412 * 256 + 100 + 4 * i;
        if (points) add_conflict(fx, px + d / 2, py + d / 2, 0);
        else add_conflict(fx, px, py, d);
    }
}

static unsigned char *render_conflicts(struct fx_source *fx, int z, long x, long y, size_t *len)
{
    struct tile_source src = fx_source_of(fx);
    struct fm_err err;
    unsigned char *png = NULL;
    CHECK(tile_render(&src, NULL, TILE_LAYER_CONFLICTS, z, x, y, 1, &png, len, &err) == FM_OK,
          "render conflicts z%d", z);
    return png;
}

/* A conflict area smaller than STYLE_CONFLICT_SPECK_PX is drawn as a point
 * conflict at its centre: at zoom 10 three specks in one cell draw the same
 * badge as three point conflicts there; at zoom 12 the same areas are 12 px
 * (areas), smaller ones (4 px) are points again. */
static void conflict_specks(void)
{
    struct fx_source specks, points, big;
    three_conflicts(&specks, 3, 0);
    three_conflicts(&points, 3, 1);
    three_conflicts(&big, 12, 0);
    size_t ls, lp, lb;
    unsigned char *s = render_conflicts(&specks, 10, 613, 412, &ls);
    unsigned char *p = render_conflicts(&points, 10, 613, 412, &lp);
    unsigned char *b = render_conflicts(&big, 10, 613, 412, &lb);
    CHECK(s && opaque_pixels(s, ls) > 100, "z10: the specks are drawn");
    CHECK(s && p && diff_png(s, ls, p, lp) == 0, "z10: specks are counted as point conflicts");
    CHECK(s && b && diff_png(s, ls, b, lb) > 0, "z10: a 12 px conflict area is drawn as an area");
    free(s), free(p), free(b);
    /* world pixel 100 of a z10 tile is 400 at z12: tile 1 further, px 144 */
    s = render_conflicts(&specks, 12, 613 * 4 + 1, 412 * 4 + 1, &ls);
    p = render_conflicts(&points, 12, 613 * 4 + 1, 412 * 4 + 1, &lp);
    CHECK(s && opaque_pixels(s, ls) > 300, "z12: the specks are drawn");
    CHECK(s && p && diff_png(s, ls, p, lp) > 0, "z12: the same specks are drawn as areas");
    free(s), free(p);
    three_conflicts(&specks, 1, 0);
    three_conflicts(&points, 1, 1);
    s = render_conflicts(&specks, 12, 613 * 4 + 1, 412 * 4 + 1, &ls);
    p = render_conflicts(&points, 12, 613 * 4 + 1, 412 * 4 + 1, &lp);
    CHECK(s && opaque_pixels(s, ls) > 100, "z12: 4 px specks are drawn");
    CHECK(s && p && diff_png(s, ls, p, lp) == 0, "z12: 4 px specks are drawn as point conflicts");
    free(s), free(p);
}

/* Titles longer than a label's buffer (300 bytes) are cut, not overrun
 * (ASan watches the build-asan run): every kind of label, the scene's
 * zones, disputed and draft ones, a movement and a conflict. */
static void long_titles(void)
{
    static char title[1200];
    memset(title, 'W', sizeof title - 1);
    struct fx_source fx;
    fx_scene(&fx);
    for (int i = 0; i < fx.n; i++) fx.items[i].f.title = title;
    fx.items[0].f.status = "draft";
    fx_add(&fx, TILE_CONFLICT, "SUP", "open", "zones_overlap", title);
    fx_polygon(&fx.items[fx.n - 1].w,
               (double[]){35.76, 33.09, 35.80, 33.09, 35.80, 33.12, 35.76, 33.12, 35.76, 33.09}, 5);
    struct tile_source src = fx_source_of(&fx);
    struct fm_err err;
    unsigned char *png = NULL;
    size_t len;
    CHECK(tile_render(&src, NULL, TILE_LAYER_ALL, 10, 613, 412, 1, &png, &len, &err) == FM_OK,
          "render with 1,199-byte titles");
    CHECK(png && opaque_pixels(png, len) > 1000, "the items are drawn");
    free(png);
}

int main(void)
{
    /* the palette encoder (opt-in, tiles/png.c): the goldens hold for it
     * too; the servers of tiles_http send the default RGB(A) */
    setenv("FUSIONMAP_PNG_PALETTE", "1", 1);
    clusters();
    tiles();
    conflicts();
    conflict_specks();
    long_titles();
    maps();
    mgrs_grids();
    return SUMMARY();
}

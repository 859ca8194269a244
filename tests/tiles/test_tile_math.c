/* test_tile_math.c - tile arithmetic: a table of known tiles, properties
 * over random points (a point's tile contains it; a tile is exactly its
 * four children), the closed forms against PROJ, and WKB decoding of
 * good and malformed blobs. Random cases print their seed. */
#include "fixture.h"
#include "internal.h" /* view_px */

#include <math.h>
#include <proj.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"

/* Known tiles, from the OpenStreetMap slippy-map formula (computed
 * independently with asinh/sec in Python). */
static void known_tiles(void)
{
    static const struct {
        double lon, lat;
        int z;
        long x, y;
    } t[] = {{0, 0, 0, 0, 0},
             {0.0001, -0.0001, 1, 1, 1},
             {-179.9, 85, 1, 0, 0},
             {-0.1278, 51.5074, 10, 511, 340},
             {139.6917, 35.6895, 10, 909, 403},
             {-74.006, 40.7128, 12, 1205, 1540},
             {35.8, 33.0, 10, 613, 412},
             {35.8, 33.0, 14, 9821, 6599},
             {151.2093, -33.8688, 8, 235, 153},
             {-58.3816, -34.6037, 15, 11069, 19744},
             {35.6, 32.6, 18, 156995, 105938},
             {180, -85.06, 3, 7, 7}};
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        long x, y;
        tile_from_lonlat(t[i].lon, t[i].lat, t[i].z, &x, &y);
        CHECK(x == t[i].x && y == t[i].y, "(%g,%g) z%d is %ld/%ld, want %ld/%ld", t[i].lon,
              t[i].lat, t[i].z, x, y, t[i].x, t[i].y);
    }
    double b[4];
    tile_bounds_merc(0, 0, 0, b);
    CHECK(fabs(b[0] + TILE_MERC_MAX) < 1e-6 && fabs(b[3] - TILE_MERC_MAX) < 1e-6,
          "z0 spans the world");
    tile_bounds_lonlat(1, 1, 0, b);
    CHECK(fabs(b[0]) < 1e-9 && fabs(b[2] - 180) < 1e-9 && fabs(b[1]) < 1e-9 &&
              fabs(b[3] - TILE_MAX_LAT) < 1e-6,
          "tile 1/1/0 is the north-east quarter: %g %g %g %g", b[0], b[1], b[2], b[3]);
    CHECK(fabs(tile_resolution(0) - 156543.03392804097) < 1e-6, "z0 resolution %.9f",
          tile_resolution(0));
    CHECK(tile_valid(0, 0, 0) && !tile_valid(0, 1, 0) && !tile_valid(-1, 0, 0) &&
              !tile_valid(23, 0, 0) && tile_valid(22, (1L << 22) - 1, 0) &&
              !tile_valid(22, 1L << 22, 0) && !tile_valid(3, -1, 2),
          "tile_valid bounds");
    enum tile_layer l;
    CHECK(tile_layer_parse("all", &l) == FM_OK && l == TILE_LAYER_ALL, "layer all");
    CHECK(tile_layer_parse("zones", &l) == FM_OK && l == TILE_LAYER_ZONES, "layer zones");
    CHECK(tile_layer_parse("Zones", &l) == FM_EINVAL && tile_layer_parse("", &l) == FM_EINVAL &&
              tile_layer_parse(NULL, &l) == FM_EINVAL,
          "bad layer names are refused");
}

static double rnd(double lo, double hi)
{
    return lo + (hi - lo) * (rand() / (double)RAND_MAX);
}

static void properties(unsigned seed)
{
    srand(seed);
    for (int i = 0; i < 20000; i++) {
        double lon = rnd(-180, 179.999999), lat = rnd(-85, 85);
        int z = rand() % (TILE_MAX_ZOOM + 1);
        long x, y;
        tile_from_lonlat(lon, lat, z, &x, &y);
        double b[4];
        tile_bounds_lonlat(z, x, y, b);
        double eps = 1e-9;
        CHECK(tile_valid(z, x, y) && lon >= b[0] - eps && lon <= b[2] + eps &&
                  lat >= b[1] - eps && lat <= b[3] + eps,
              "seed %u: (%.9f,%.9f) z%d -> %ld/%ld does not contain it", seed, lon, lat, z, x, y);
        /* a tile is exactly its four children */
        if (z < TILE_MAX_ZOOM) {
            double p[4], u[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY}, area = 0;
            tile_bounds_merc(z, x, y, p);
            for (int c = 0; c < 4; c++) {
                double cb[4];
                tile_bounds_merc(z + 1, 2 * x + (c & 1), 2 * y + (c >> 1), cb);
                u[0] = fmin(u[0], cb[0]), u[1] = fmin(u[1], cb[1]);
                u[2] = fmax(u[2], cb[2]), u[3] = fmax(u[3], cb[3]);
                area += (cb[2] - cb[0]) * (cb[3] - cb[1]);
                CHECK(cb[0] >= p[0] && cb[2] <= p[2] && cb[1] >= p[1] && cb[3] <= p[3],
                      "seed %u: child %d of %d/%ld/%ld sticks out", seed, c, z, x, y);
            }
            for (int k = 0; k < 4; k++)
                CHECK(u[k] == p[k], "seed %u: children of %d/%ld/%ld do not cover it (%d)", seed,
                      z, x, y, k);
            double pa = (p[2] - p[0]) * (p[3] - p[1]);
            CHECK(fabs(area - pa) <= pa * 1e-12, "seed %u: children overlap", seed);
            /* and the point's child is one of them */
            long cx, cy;
            tile_from_lonlat(lon, lat, z + 1, &cx, &cy);
            CHECK(cx / 2 == x && cy / 2 == y, "seed %u: child tile of a point has another parent",
                  seed);
        }
    }
}

static void against_proj(unsigned seed)
{
    PJ_CONTEXT *ctx = proj_context_create();
    PJ *p = proj_create_crs_to_crs(ctx, "EPSG:4326", "EPSG:3857", NULL);
    CHECK(p != NULL, "PROJ knows EPSG:3857");
    if (!p) return;
    PJ *n = proj_normalize_for_visualization(ctx, p);
    proj_destroy(p);
    srand(seed);
    double worst = 0;
    for (int i = 0; i < 5000; i++) {
        double lon = rnd(-180, 180), lat = rnd(-85, 85);
        PJ_COORD c = proj_coord(lon, lat, 0, 0);
        PJ_COORD m = proj_trans(n, PJ_FWD, c);
        double mx, my, blon, blat;
        tile_lonlat_to_merc(lon, lat, &mx, &my);
        double d = fmax(fabs(mx - m.xy.x), fabs(my - m.xy.y));
        if (d > worst) worst = d;
        tile_merc_to_lonlat(mx, my, &blon, &blat);
        CHECK(fabs(blon - lon) < 1e-9 && fabs(blat - lat) < 1e-9, "round trip of (%g,%g)", lon,
              lat);
    }
    CHECK(worst < 1e-6, "seed %u: closed forms differ from PROJ by %g m", seed, worst);
    printf("closed forms vs PROJ: worst difference %.3g m over 5000 points\n", worst);
    proj_destroy(n);
    proj_context_destroy(ctx);
}

/* UTM (Krüger's series, mgrs.c) against PROJ's etmerc, both ways, within
 * the zone and 3 degrees beyond its edges; a point's own zone by the rule. */
static void utm_against_proj(unsigned seed)
{
    PJ_CONTEXT *ctx = proj_context_create();
    srand(seed);
    double worst = 0, worst_back = 0;
    for (int i = 0; i < 600; i++) {
        int zone = 1 + rand() % 60;
        double lat = rnd(-80, 84), lon = tile_utm_central_lon(zone) + rnd(-6, 6);
        char crs[32];
        snprintf(crs, sizeof crs, "EPSG:%d", (lat < 0 ? 32700 : 32600) + zone);
        PJ *p = proj_create_crs_to_crs(ctx, "EPSG:4326", crs, NULL);
        PJ *n = p ? proj_normalize_for_visualization(ctx, p) : NULL;
        proj_destroy(p);
        CHECK(n != NULL, "PROJ knows %s", crs);
        if (!n) continue;
        PJ_COORD m = proj_trans(n, PJ_FWD, proj_coord(lon, lat, 0, 0));
        double e, no, blon, blat;
        tile_utm_forward(zone, lon, lat, &e, &no);
        worst = fmax(worst, fmax(fabs(e - m.xy.x), fabs(no - m.xy.y)));
        tile_utm_inverse(zone, lat < 0, e, no, &blon, &blat);
        worst_back = fmax(worst_back, fmax(fabs(blon - lon), fabs(blat - lat)));
        proj_destroy(n);
    }
    CHECK(worst < 0.01, "seed %u: UTM differs from PROJ by %g m", seed, worst);
    CHECK(worst_back < 1e-7, "seed %u: UTM there and back is %g degrees off", seed, worst_back);
    printf("UTM vs PROJ: worst %.3g m, round trip %.3g deg over 600 points\n", worst, worst_back);
    proj_context_destroy(ctx);
    CHECK(tile_utm_zone(35.87, 32.98) == 36 && tile_utm_zone(36.01, 32.98) == 37,
          "zones 36 and 37 meet at 36E");
    CHECK(tile_utm_zone(5, 60) == 32 && tile_utm_zone(10, 78) == 33, "Norway and Svalbard");
}

/* MGRS references as the viewer's npm package mgrs 2.x writes them
 * (forward([lon, lat], digits), run once to make these vectors). */
static void mgrs_known(void)
{
    static const struct {
        double lon, lat;
        int digits;
        const char *want;
    } v[] = {
        {35.87, 32.98, 4, "36S YB 6820 5272"}, {36.3, 33.2, 5, "37S BS 48310 76707"},
        {-70.5, -33.4, 5, "19H CD 60505 03362"}, {10.5, 60.1, 5, "32V NM 83409 63494"},
        {151.2, -33.86, 5, "56H LH 33491 51909"}, {-0.1, 51.5, 5, "30U YC 01277 09417"},
    };
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        char got[40];
        tile_mgrs_format(v[i].lon, v[i].lat, v[i].digits, got, sizeof got);
        CHECK(!strcmp(got, v[i].want), "MGRS of %g,%g is %s, not %s", v[i].lon, v[i].lat,
              v[i].want, got);
    }
    char got[40];
    CHECK(tile_mgrs_format(0, 85, 5, got, sizeof got) < 0 && !got[0], "no MGRS beyond 84N");
}

/* view_px (a Taylor series near the view's centre latitude, the closed
 * form beyond) against the closed form, at every zoom and latitude, for
 * points near the centre and far from it. */
static void view_pixels(unsigned seed)
{
    srand(seed);
    double worst = 0, wlat = 0, wplon = 0, wplat = 0;
    int wz = 0;
    for (int i = 0; i < 20000; i++) {
        int z = rand() % 19;
        double lon = rnd(-179, 179), lat = rnd(-85, 85);
        long x, y;
        tile_from_lonlat(lon, lat, z, &x, &y);
        double m[4];
        tile_bounds_merc(z, x, y, m);
        struct view v;
        view_init(&v, m, 256, 256, 1);
        double far = i % 2 ? 0.4 : 3, plon = lon + rnd(-far, far),
               plat = fmax(-85, fmin(85, lat + rnd(-far, far)));
        double px, py, mx, my;
        view_px(&v, plon, plat, &px, &py);
        tile_lonlat_to_merc(plon, plat, &mx, &my);
        double ex = (mx - v.minx) * v.ppm, ey = (v.maxy - my) * v.ppm;
        double d = fmax(fabs(px - ex), fabs(py - ey));
        if (d > worst) worst = d, wz = z, wlat = lat, wplon = plon, wplat = plat;
    }
    CHECK(worst < 0.01, "seed %u: view_px is %g px off the closed form (z%d view at %.6f, point %.9f,%.9f)",
          seed, worst, wz, wlat, wplon, wplat);
    printf("view_px vs the closed form: worst %.3g px over 20000 points\n", worst);
}

static void wkb(void)
{
    struct fx_wkb w;
    double b[4];
    fx_point(&w, 35.5, 33.25);
    CHECK(tile_wkb_bbox(w.b, w.n, b) == FM_OK && b[0] == 35.5 && b[3] == 33.25, "point");
    /* big-endian point */
    unsigned char be[21] = {0, 0, 0, 0, 1};
    double v[2] = {35.5, 33.25};
    for (int k = 0; k < 2; k++) {
        unsigned char t[8];
        memcpy(t, &v[k], 8);
        for (int i = 0; i < 8; i++) be[5 + 8 * k + i] = t[7 - i];
    }
    CHECK(tile_wkb_bbox(be, sizeof be, b) == FM_OK && b[0] == 35.5 && b[1] == 33.25,
          "big-endian point");
    fx_polygon(&w, (double[]){1, 2, 3, 2, 3, 4, 1, 2}, 4);
    CHECK(tile_wkb_bbox(w.b, w.n, b) == FM_OK && b[0] == 1 && b[1] == 2 && b[2] == 3 && b[3] == 4,
          "polygon bbox");
    /* every truncation of a valid blob fails cleanly */
    for (size_t n = 0; n < w.n; n++)
        CHECK(tile_wkb_bbox(w.b, n, b) == FM_EINVAL, "truncated to %zu bytes accepted", n);
    /* a count far beyond the bytes */
    fx_line(&w, (double[]){1, 2, 3, 4}, 2);
    w.b[5] = 0xff, w.b[6] = 0xff, w.b[7] = 0xff, w.b[8] = 0x7f;
    CHECK(tile_wkb_bbox(w.b, w.n, b) == FM_EINVAL, "huge count accepted");
    unsigned char junk[64];
    srand(7);
    for (int i = 0; i < 20000; i++) { /* random bytes: no crash, no hang */
        size_t n = (size_t)(rand() % 64);
        for (size_t k = 0; k < n; k++) junk[k] = (unsigned char)rand();
        if (n > 0) junk[0] = (unsigned char)(rand() % 2);
        (void)tile_wkb_bbox(junk, n, b);
    }
}

int main(void)
{
    unsigned seed = getenv("SEED") ? (unsigned)strtoul(getenv("SEED"), NULL, 10)
                                   : (unsigned)time(NULL);
    printf("seed %u (SEED=%u to repeat)\n", seed, seed);
    known_tiles();
    properties(seed);
    against_proj(seed);
    utm_against_proj(seed);
    mgrs_known();
    view_pixels(seed);
    wkb();
    return SUMMARY();
}

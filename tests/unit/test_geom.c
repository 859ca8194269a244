/* test_geom.c - the conflict rules' geometry in C (data/geom.c, GEOS and
 * PROJ) against SpatiaLite's answers, which conflicts.c uses today, on
 * random zones, routes and points around the demo area (both sides of
 * the UTM zones 36/37 edge at lon 36), and on shapes that only touch:
 *
 * - interiors that meet: ST_Relate(a, b, 'T********');
 * - distances in metres in a movement's UTM zone:
 *   ST_Distance(ST_Transform(a), ST_Transform(b)), as S_MCZ and S_INM;
 * - the corridor: ST_Buffer in UTM, 8 segments, projected back, as S_UTM,
 *   byte for byte (a conflict's geometry is hashed into the log).
 *
 * The same WKB goes to both (SpatiaLite's AsBinary of the same text). */
#include "check.h"
#include "geom.h"

#include <math.h>
#include <sqlite3.h> /* before spatialite.h, which needs its types */
#include <spatialite.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAIRS 400

static sqlite3 *lite;

/* One row of one column of sql with text parameters; NULL when none. */
static sqlite3_stmt *row(const char *sql, int n, const char *const *args)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(lite, sql, -1, &st, NULL) != SQLITE_OK) {
        printf("# %s: %s\n", sql, sqlite3_errmsg(lite));
        return NULL;
    }
    for (int i = 0; i < n; i++) sqlite3_bind_text(st, i + 1, args[i], -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

/* The GEOS geometry of wkt, read from SpatiaLite's WKB. */
static struct geo *from_wkt(struct geo_ctx *g, const char *wkt)
{
    const char *args[] = {wkt};
    sqlite3_stmt *st = row("SELECT AsBinary(GeomFromText(?, 4326))", 1, args);
    struct geo *x = NULL;
    struct fm_err err;
    if (st) {
        geo_from_wkb(g, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), &x,
                      &err);
        sqlite3_finalize(st);
    }
    return x;
}

static double rnd(double lo, double hi)
{
    return lo + (hi - lo) * (double)rand() / RAND_MAX;
}

/* A random zone (a convex quadrilateral), route or point near (lon, lat). */
static void shape(char *out, size_t n, int kind, double lon, double lat)
{
    double r = rnd(0.005, 0.08);
    if (kind == 0) {
        double a = rnd(0, 1.5);
        double x[4], y[4];
        for (int i = 0; i < 4; i++) {
            double t = a + i * M_PI / 2 + rnd(-0.3, 0.3);
            x[i] = lon + r * cos(t), y[i] = lat + r * sin(t);
        }
        snprintf(out, n, "POLYGON((%.6f %.6f, %.6f %.6f, %.6f %.6f, %.6f %.6f, %.6f %.6f))", x[0],
                 y[0], x[1], y[1], x[2], y[2], x[3], y[3], x[0], y[0]);
    } else if (kind == 1) {
        snprintf(out, n, "LINESTRING(%.6f %.6f, %.6f %.6f, %.6f %.6f)", lon - r, lat - rnd(0, r),
                 lon + rnd(-r, r), lat + rnd(-r, r), lon + r, lat + rnd(0, r));
    } else {
        snprintf(out, n, "POINT(%.6f %.6f)", lon + rnd(-r, r), lat + rnd(-r, r));
    }
}

int main(void)
{
    srand(18);
    spatialite_initialize();
    void *cache = spatialite_alloc_connection();
    if (sqlite3_open(":memory:", &lite) != SQLITE_OK) return 1;
    spatialite_init_ex(lite, cache, 0);
    struct geo_ctx *g = geo_ctx_new();
    struct fm_err err;

    /* touching is not meeting: squares sharing an edge, a point on an edge */
    static const char *const touching[][2] = {
        {"POLYGON((36 32, 36.1 32, 36.1 32.1, 36 32.1, 36 32))",
         "POLYGON((36.1 32, 36.2 32, 36.2 32.1, 36.1 32.1, 36.1 32))"},
        {"POINT(36.1 32.05)", "POLYGON((36.1 32, 36.2 32, 36.2 32.1, 36.1 32.1, 36.1 32))"},
        {"LINESTRING(36 31.9, 36.1 32)", "POLYGON((36.1 32, 36.2 32, 36.2 32.1, 36.1 32.1, 36.1 32))"},
    };
    for (size_t i = 0; i < sizeof touching / sizeof *touching; i++) {
        struct geo *a = from_wkt(g, touching[i][0]), *b = from_wkt(g, touching[i][1]);
        CHECK(a && b && geo_interiors_meet(g, a, b) == 0, "touching %zu does not meet", i);
        geo_free(g, a);
        geo_free(g, b);
    }

    int meets = 0, same_meet = 0, same_dist = 0, same_corr = 0, near_corr = 0, srids[2] = {0, 0};
    double worst_dist = 0, worst_corr = 0;
    for (int i = 0; i < PAIRS; i++) {
        double lon = rnd(35.7, 36.3), lat = rnd(31.5, 33.5);
        char wa[256], wb[256];
        int ka = rand() % 3, kb = rand() % 3;
        shape(wa, sizeof wa, ka, lon, lat);
        shape(wb, sizeof wb, kb, lon + rnd(-0.05, 0.05), lat + rnd(-0.05, 0.05));
        struct geo *a = from_wkt(g, wa), *b = from_wkt(g, wb);
        if (!a || !b) {
            CHECK(0, "pair %d read: %s / %s", i, wa, wb);
            geo_free(g, a);
            geo_free(g, b);
            continue;
        }
        /* interiors */
        const char *ab[] = {wa, wb};
        sqlite3_stmt *st = row("SELECT ST_Relate(GeomFromText(?1, 4326), GeomFromText(?2, 4326),"
                               " 'T********')",
                               2, ab);
        int want = st ? sqlite3_column_int(st, 0) : -2;
        sqlite3_finalize(st);
        int got = geo_interiors_meet(g, a, b);
        meets += got == 1;
        same_meet += got == want;
        if (got != want) printf("# interiors differ (%d, SpatiaLite %d): %s / %s\n", got, want, wa, wb);

        /* metres in the UTM zone of a's box */
        double box[4];
        char crs[24], srid_s[16];
        const char *one[] = {wa};
        st = row("SELECT MbrMinX(g), MbrMinY(g), MbrMaxX(g), MbrMaxY(g) FROM"
                 " (SELECT GeomFromText(?, 4326) AS g)",
                 1, one);
        for (int k = 0; k < 4; k++) box[k] = st ? sqlite3_column_double(st, k) : 0;
        sqlite3_finalize(st);
        int srid = geo_utm_srid(box);
        srids[srid == 32636 ? 0 : 1]++;
        snprintf(crs, sizeof crs, "EPSG:%d", srid);
        snprintf(srid_s, sizeof srid_s, "%d", srid);
        const char *dargs[] = {wa, wb, srid_s, crs};
        st = row("SELECT ST_Distance(ST_Transform(GeomFromText(?1, 4326), CAST(?3 AS INTEGER), NULL, 'EPSG:4326', ?4),"
                 " ST_Transform(GeomFromText(?2, 4326), CAST(?3 AS INTEGER), NULL, 'EPSG:4326', ?4))",
                 4, dargs);
        double dwant = st ? sqlite3_column_double(st, 0) : -1;
        sqlite3_finalize(st);
        struct geo *pa = NULL, *pb = NULL;
        double dgot = -2;
        if (geo_project(g, a, srid, 0, &pa, &err) == FM_OK &&
            geo_project(g, b, srid, 0, &pb, &err) == FM_OK)
            dgot = geo_distance(g, pa, pb);
        double dd = fabs(dgot - dwant);
        worst_dist = fmax(worst_dist, dd);
        same_dist += dd <= 1e-6;

        /* a's corridor when a is a route */
        if (ka == 1 && pa) {
            double half = rnd(50, 2000);
            char half_s[32];
            snprintf(half_s, sizeof half_s, "%.17g", half);
            const char *cargs[] = {wa, srid_s, crs, half_s};
            st = row("SELECT AsBinary(ST_Transform(ST_Buffer(ST_Transform(GeomFromText(?1, 4326),"
                     " CAST(?2 AS INTEGER), NULL, 'EPSG:4326', ?3), CAST(?4 AS REAL), 8), 4326, NULL, ?3, 'EPSG:4326'))",
                     4, cargs);
            struct geo *c = NULL;
            size_t len = 0;
            unsigned char *wkb = NULL;
            if (geo_corridor(g, pa, half, srid, &c, &err) == FM_OK)
                wkb = geo_to_wkb(g, c, &len);
            if (st && wkb && (size_t)sqlite3_column_bytes(st, 0) == len &&
                memcmp(wkb, sqlite3_column_blob(st, 0), len) == 0) {
                same_corr++;
            } else if (st && wkb) {
                sqlite3_stmt *h;
                sqlite3_prepare_v2(lite,
                                   "SELECT HausdorffDistance(GeomFromWKB(?1), GeomFromWKB(?2))",
                                   -1, &h, NULL);
                sqlite3_bind_blob(h, 1, wkb, (int)len, SQLITE_STATIC);
                sqlite3_bind_blob(h, 2, sqlite3_column_blob(st, 0), sqlite3_column_bytes(st, 0),
                                  SQLITE_STATIC);
                double hd = sqlite3_step(h) == SQLITE_ROW ? sqlite3_column_double(h, 0) : 1;
                sqlite3_finalize(h);
                worst_corr = fmax(worst_corr, hd);
                near_corr += hd < 1e-9;
            }
            sqlite3_finalize(st);
            free(wkb);
            geo_free(g, c);
        }
        geo_free(g, pa);
        geo_free(g, pb);
        geo_free(g, a);
        geo_free(g, b);
    }
    printf("# %d pairs (%d in zone 36, %d in 37): %d meet; interiors agree %d, distances %d"
           " (worst %.3g m), corridors %d byte for byte, %d within 1e-9 degrees (worst %.3g)\n",
           PAIRS, srids[0], srids[1], meets, same_meet, same_dist, worst_dist, same_corr,
           near_corr, worst_corr);
    CHECK(srids[0] > 50 && srids[1] > 50, "both UTM zones are exercised");
    CHECK(meets > 20 && meets < PAIRS - 20, "both answers are exercised (%d meet)", meets);
    CHECK(same_meet == PAIRS, "the interiors agree with SpatiaLite (%d of %d)", same_meet, PAIRS);
    CHECK(same_dist == PAIRS, "the distances in metres agree (%d of %d, worst %.3g m)", same_dist,
          PAIRS, worst_dist);
    CHECK(same_corr > 50 && near_corr == 0 && worst_corr == 0,
          "the corridors are SpatiaLite's byte for byte (%d; %d within 1e-9, worst %.3g)",
          same_corr, near_corr, worst_corr);

    struct geo *bad = NULL;
    CHECK(geo_from_wkb(g, (const unsigned char *)"\x01\x03\x00", 3, &bad, &err) == FM_EINVAL &&
              !bad,
          "bytes that are not WKB are refused: %s", err.msg);

    geo_ctx_free(g);
    sqlite3_close(lite);
    spatialite_cleanup_ex(cache);
    spatialite_shutdown();
    return SUMMARY();
}

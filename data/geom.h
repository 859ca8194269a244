/* geom.h - the geometry of the conflict rules in C (issue 18): GEOS
 * through its C API, PROJ for metres, so that every backend finds the
 * same conflicts from the same WKB, whatever its own spatial functions.
 *
 * It answers what conflicts.c asks SpatiaLite today (S_RELATE, S_MCZ,
 * S_INM, S_UTM), the same way: interiors that meet (the DE-9IM pattern
 * T********), distances in metres in the UTM zone of a movement's
 * bounding-box centre, a corridor buffered in metres (8 segments a
 * quarter circle) and projected back to WGS84. tests/unit/test_geom.c
 * compares each answer with SpatiaLite's on random geometries.
 *
 * A geo_ctx belongs to one thread at a time: it holds GEOS's and PROJ's
 * contexts and the transformations kept per UTM zone. */
#ifndef DATA_GEOM_H
#define DATA_GEOM_H

#include "fm.h"

#include <stddef.h>

struct geo_ctx;
struct geo; /* a GEOS geometry */

struct geo_ctx *geo_ctx_new(void);
void geo_ctx_free(struct geo_ctx *g);

/* Reads WKB (either byte order); FM_EINVAL when it is not WKB. */
fm_rc geo_from_wkb(struct geo_ctx *g, const unsigned char *wkb, size_t len, struct geo **out,
                    struct fm_err *err);
/* Little-endian 2D WKB of x (malloc), as SpatiaLite's AsBinary. */
unsigned char *geo_to_wkb(struct geo_ctx *g, const struct geo *x, size_t *len);
void geo_free(struct geo_ctx *g, struct geo *x);

/* Do the interiors of a and b meet (DE-9IM T********)? 1, 0, or -1 when
 * GEOS cannot tell (an invalid geometry). Touching is not meeting. */
int geo_interiors_meet(struct geo_ctx *g, const struct geo *a, const struct geo *b);

/* The EPSG code of the WGS84 UTM zone of the centre of box (minlon,
 * minlat, maxlon, maxlat): 326zz north of the equator, 327zz south. */
int geo_utm_srid(const double box[4]);

/* x (lon/lat, WGS84) in UTM zone srid, metres; or back (to_wgs84). */
fm_rc geo_project(struct geo_ctx *g, const struct geo *x, int srid, int to_wgs84,
                   struct geo **out, struct fm_err *err);

/* The distance between two geometries in the same plane (metres in UTM);
 * a negative value when GEOS cannot tell. */
double geo_distance(struct geo_ctx *g, const struct geo *a, const struct geo *b);

/* The corridor of half-width half metres around route (in UTM zone
 * srid), 8 segments a quarter circle, back in WGS84. */
fm_rc geo_corridor(struct geo_ctx *g, const struct geo *route_utm, double half, int srid,
                    struct geo **out, struct fm_err *err);

/* The intersection of a and b in 2D, or NULL when it is empty or GEOS
 * cannot tell. */
struct geo *geo_intersection(struct geo_ctx *g, const struct geo *a, const struct geo *b);

/* The shortest line from a to b (two points), or NULL. */
struct geo *geo_shortest_line(struct geo_ctx *g, const struct geo *a, const struct geo *b);

/* x buffered by r in its own units, segs segments a quarter circle. */
struct geo *geo_buffer(struct geo_ctx *g, const struct geo *x, double r, int segs);

/* A geometry prepared for many intersects tests against it. */
struct geo_prep;
struct geo_prep *geo_prepare(struct geo_ctx *g, const struct geo *x);
/* Does y meet the prepared geometry? 1, 0, or -1 when GEOS cannot tell. */
int geo_prep_intersects(struct geo_ctx *g, const struct geo_prep *p, const struct geo *y);
void geo_prep_free(struct geo_ctx *g, struct geo_prep *p);

/* ---- positions, for OGC API - Features Part 2 (server/ogc_crs.c) ----
 * These two need no geo_ctx: each thread has its own, made on first use
 * and freed when the thread ends, with the transformations kept per zone
 * (the same ones as geo_project: lon/lat in, easting/northing out). */

/* One position x, y from WGS 84 lon/lat into UTM zone srid (326zz,
 * 327zz), easting/northing in metres, or back (to_wgs84), in place. 0, or
 * -1 when PROJ cannot (no transformation, a result not finite). */
int geo_utm_xy(int srid, int to_wgs84, double *x, double *y);

/* The WGS 84 lon/lat box (minlon, minlat, maxlon, maxlat) around the edges
 * of a box in UTM zone srid (mine, minn, maxe, maxn), 21 points a side
 * (PROJ's proj_trans_bounds) into OUT out. 0, or -1 when PROJ cannot. */
int geo_utm_bounds(int srid, const double in[4], double out[4]);

/* The GeoJSON geometry of x (malloc): compact, coordinates with at most
 * 15 decimals and no trailing zeros, as a conflict's Feature keeps it
 * (conflict_text.c). NULL for a type GeoJSON lacks. */
char *geo_to_geojson(struct geo_ctx *g, const struct geo *x);

#endif

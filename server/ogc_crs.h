/* ogc_crs.h - OGC API - Features Part 2 (coordinate reference systems by
 * reference) for the CRSs the server offers: CRS84 (longitude, latitude:
 * what it stores), EPSG:4326 (the same datum, latitude first), EPSG:3857
 * (Web Mercator, metres), each a closed formula, and the UTM zones of
 * WGS 84 (EPSG:32601-32660 north, 32701-32760 south; easting, northing in
 * metres) through PROJ (data/geom.h's geo_utm_xy and geo_utm_bounds: only
 * data/ includes proj.h), made once per thread and kept. Pure functions
 * on jansson values; no HTTP library. */
#ifndef SRV_OGC_CRS_H
#define SRV_OGC_CRS_H

#include "fm.h"

#include <jansson.h>

/* The EPSG code, or 0 for CRS84. A UTM zone is any code from
 * SRV_UTM_NORTH + 1 to + 60 or SRV_UTM_SOUTH + 1 to + 60. */
enum srv_crs {
    SRV_CRS84 = 0,
    SRV_EPSG3857 = 3857,
    SRV_EPSG4326 = 4326,
    SRV_UTM_NORTH = 32600,
    SRV_UTM_SOUTH = 32700,
    SRV_UTM_LAST = 32760
};

/* Reads a crs, bbox-crs or filter-crs value: the OGC URI (http://www.
 * opengis.net/def/crs/OGC/1.3/CRS84, .../EPSG/0/4326, .../EPSG/0/3857,
 * .../EPSG/0/32636), or the same as a safe CURIE ([EPSG:3857]) or
 * EPSG:3857. FM_EINVAL naming param and listing the URIs otherwise. OUT *c. */
fm_rc srv_crs_parse(const char *s, const char *param, enum srv_crs *c, struct fm_err *err);

/* The URI of c (for Content-Crs and the collections' crs lists); static
 * storage. */
const char *srv_crs_uri(enum srv_crs c);

/* The collections' "crs" list: every CRS offered, a new array. */
json_t *srv_crs_list(void);

/* Rewrites every position of a GeoJSON Feature's geometry (and
 * GeometryCollections) from CRS84 into c, in place, to the millimetre
 * (metres) or as given (degrees). A geometry with a position PROJ cannot
 * put in c (a UTM zone far from it) becomes null: returns -1 then, else 0. */
int srv_crs_feature(json_t *feature, enum srv_crs c);

/* One position x, y in c (its axis order) to CRS84 lon, lat, in place.
 * 0, or -1 when it has none (outside c's area, not finite). */
int srv_crs_to_crs84(enum srv_crs c, double *x, double *y);

/* A bbox parameter s given in c, in c's axis order (EPSG:4326: minlat,
 * minlon, maxlat, maxlon; EPSG:3857 and UTM: minx, miny, maxx, maxy in
 * metres), as CRS84 minlon, minlat, maxlon, maxlat (a UTM box: the lon/lat
 * box around its edges, by PROJ's proj_trans_bounds). FM_EINVAL naming
 * "bbox" when it is not 4 numbers, lies outside c's area, or is upside
 * down. */
fm_rc srv_crs_bbox(const char *s, enum srv_crs c, double out[4], struct fm_err *err);

#endif

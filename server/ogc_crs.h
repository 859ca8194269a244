/* ogc_crs.h - OGC API - Features Part 2 (coordinate reference systems by
 * reference) for the CRSs the server offers: CRS84 (longitude, latitude:
 * what it stores), EPSG:4326 (the same datum, latitude first) and
 * EPSG:3857 (Web Mercator, metres), each a closed formula, so no PROJ in
 * server/. Pure functions on jansson values; no HTTP library. */
#ifndef SRV_OGC_CRS_H
#define SRV_OGC_CRS_H

#include "fm.h"

#include <jansson.h>

enum srv_crs { SRV_CRS84 = 0, SRV_EPSG4326, SRV_EPSG3857, SRV_CRS_COUNT };

/* Reads a crs or bbox-crs value: the OGC URI (http://www.opengis.net/def/
 * crs/OGC/1.3/CRS84, .../EPSG/0/4326, .../EPSG/0/3857), or the same as a
 * safe CURIE ([EPSG:3857]) or EPSG:3857. FM_EINVAL naming param and
 * listing the URIs otherwise. OUT *c. */
fm_rc srv_crs_parse(const char *s, const char *param, enum srv_crs *c, struct fm_err *err);

/* The URI of c (for Content-Crs and the collections' crs lists). */
const char *srv_crs_uri(enum srv_crs c);

/* The collections' "crs" list: every CRS offered, a new array. */
json_t *srv_crs_list(void);

/* Rewrites every position of a GeoJSON Feature's geometry (and
 * GeometryCollections) from CRS84 into c, in place. */
void srv_crs_feature(json_t *feature, enum srv_crs c);

/* A bbox parameter s given in c, in c's axis order (EPSG:4326: minlat,
 * minlon, maxlat, maxlon; EPSG:3857: minx, miny, maxx, maxy in metres),
 * as CRS84 minlon, minlat, maxlon, maxlat. FM_EINVAL naming "bbox" when
 * it is not 4 numbers, lies outside c's area, or is upside down. */
fm_rc srv_crs_bbox(const char *s, enum srv_crs c, double out[4], struct fm_err *err);

#endif

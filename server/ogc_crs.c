/* ogc_crs.c - CRS84, EPSG:4326 and EPSG:3857 for OGC API - Features
 * Part 2 (see ogc_crs.h). EPSG:3857 is the spherical Mercator of the
 * WGS 84 semi-major axis: x = R lon, y = R ln tan(pi/4 + lat/2), the
 * formula PROJ applies for it (tests/interop/crs.sh compares with
 * PROJ through ogr2ogr). Latitudes beyond +-85.06 are clamped there. */
#include "ogc_crs.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define R_WGS84 6378137.0
#define MERC_MAX 20037508.342789244 /* R pi */
#define MERC_LAT 85.0511287798066

static const struct {
    const char *uri, *code;
} crss[SRV_CRS_COUNT] = {
    {"http://www.opengis.net/def/crs/OGC/1.3/CRS84", "OGC:CRS84"},
    {"http://www.opengis.net/def/crs/EPSG/0/4326", "EPSG:4326"},
    {"http://www.opengis.net/def/crs/EPSG/0/3857", "EPSG:3857"},
};

fm_rc srv_crs_parse(const char *s, const char *param, enum srv_crs *c, struct fm_err *err)
{
    *c = SRV_CRS84;
    char code[64];
    size_t n = strlen(s);
    /* [EPSG:3857], the safe CURIE form */
    if (n >= 2 && n < sizeof code + 2 && s[0] == '[' && s[n - 1] == ']') {
        memcpy(code, s + 1, n - 2);
        code[n - 2] = '\0';
        s = code;
    }
    for (int i = 0; i < SRV_CRS_COUNT; i++) {
        if (!strcmp(s, crss[i].uri) || !strcasecmp(s, crss[i].code)) {
            *c = (enum srv_crs)i;
            return FM_OK;
        }
    }
    return fm_fail(err, FM_EINVAL, param,
                   "%s must be one of %s, %s, %s (or [EPSG:4326], [EPSG:3857], [OGC:CRS84])",
                   param, crss[0].uri, crss[1].uri, crss[2].uri);
}

const char *srv_crs_uri(enum srv_crs c)
{
    return crss[c].uri;
}

json_t *srv_crs_list(void)
{
    json_t *a = json_array();
    for (int i = 0; i < SRV_CRS_COUNT; i++) json_array_append_new(a, json_string(crss[i].uri));
    return a;
}

/* Rounds to 1/per: the nearest double to the decimal (a millimetre). */
static double round_to(double v, double per)
{
    return round(v * per) / per;
}

static void position(json_t *pos, enum srv_crs c)
{
    json_t *jx = json_array_get(pos, 0), *jy = json_array_get(pos, 1);
    if (!json_is_number(jx) || !json_is_number(jy)) return;
    double lon = json_number_value(jx), lat = json_number_value(jy), x, y;
    if (c == SRV_EPSG4326) {
        x = lat;
        y = lon;
    } else {
        if (lat > MERC_LAT) lat = MERC_LAT;
        if (lat < -MERC_LAT) lat = -MERC_LAT;
        x = round_to(R_WGS84 * lon * M_PI / 180.0, 1000.0);
        y = round_to(R_WGS84 * log(tan(M_PI / 4.0 + lat * M_PI / 360.0)), 1000.0);
    }
    json_array_set_new(pos, 0, json_real(x));
    json_array_set_new(pos, 1, json_real(y));
}

/* Every position under coordinates (nested arrays ending in numbers). */
static void coordinates(json_t *a, enum srv_crs c, int depth)
{
    if (!json_is_array(a) || depth > 8) return;
    if (json_is_number(json_array_get(a, 0))) {
        position(a, c);
        return;
    }
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) coordinates(v, c, depth + 1);
}

static void geometry(json_t *g, enum srv_crs c, int depth)
{
    if (!json_is_object(g) || depth > 4) return;
    coordinates(json_object_get(g, "coordinates"), c, 0);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(g, "geometries"), i, v) geometry(v, c, depth + 1);
}

void srv_crs_feature(json_t *feature, enum srv_crs c)
{
    if (c == SRV_CRS84) return;
    geometry(json_object_get(feature, "geometry"), c, 0);
}

fm_rc srv_crs_bbox(const char *s, enum srv_crs c, double out[4], struct fm_err *err)
{
    double v[4];
    int n = 0;
    const char *p = s;
    static const char *const forms[SRV_CRS_COUNT] = {
        "minlon,minlat,maxlon,maxlat", "minlat,minlon,maxlat,maxlon (EPSG:4326's axis order)",
        "minx,miny,maxx,maxy in metres"};
    while (n < 5) {
        char *end;
        double d = strtod(p, &end);
        if (end == p || !isfinite(d)) break;
        if (n < 4) v[n] = d;
        n++;
        p = end;
        if (*p != ',') break;
        p++;
    }
    if (n != 4 || *p)
        return fm_fail(err, FM_EINVAL, "bbox", "with bbox-crs=%s, bbox is 4 numbers: %s",
                       crss[c].code, forms[c]);
    if (v[0] > v[2] || v[1] > v[3])
        return fm_fail(err, FM_EINVAL, "bbox", "bbox is upside down: %s", forms[c]);
    if (c == SRV_EPSG4326) {
        out[0] = v[1], out[1] = v[0], out[2] = v[3], out[3] = v[2];
    } else if (c == SRV_EPSG3857) {
        for (int i = 0; i < 4; i++)
            if (fabs(v[i]) > MERC_MAX + 1)
                return fm_fail(err, FM_EINVAL, "bbox", "bbox is outside EPSG:3857's +-%.0f m",
                               MERC_MAX);
        for (int i = 0; i < 4; i += 2) {
            out[i] = v[i] / R_WGS84 * 180.0 / M_PI;
            out[i + 1] = (2.0 * atan(exp(v[i + 1] / R_WGS84)) - M_PI / 2.0) * 180.0 / M_PI;
            if (out[i] < -180) out[i] = -180;
            if (out[i] > 180) out[i] = 180;
        }
    } else {
        memcpy(out, v, sizeof v);
    }
    if (out[0] < -180 || out[2] > 180 || out[1] < -90 || out[3] > 90)
        return fm_fail(err, FM_EINVAL, "bbox", "bbox is outside -180..180, -90..90 (%s)",
                       forms[c]);
    return FM_OK;
}

/* math.c - Web Mercator XYZ tile arithmetic and the layer names.
 *
 * Spherical Mercator (EPSG:3857) has closed forms; they are used here for
 * speed and tested against PROJ's EPSG:4326 -> EPSG:3857 transform. */
#include "tiles.h"

#include <math.h>
#include <string.h>

static const char *const layer_names[TILE_LAYER_COUNT] = {"zones",     "incidents", "movements",
                                                          "conflicts", "basemap",   "all"};

const char *tile_layer_name(enum tile_layer l)
{
    return (unsigned)l < TILE_LAYER_COUNT ? layer_names[l] : "?";
}

fm_rc tile_layer_parse(const char *s, enum tile_layer *out)
{
    for (int i = 0; i < TILE_LAYER_COUNT; i++)
        if (s && strcmp(s, layer_names[i]) == 0) {
            *out = (enum tile_layer)i;
            return FM_OK;
        }
    return FM_EINVAL;
}

int tile_valid(int z, long x, long y)
{
    if (z < 0 || z > TILE_MAX_ZOOM) return 0;
    long n = 1L << z;
    return x >= 0 && x < n && y >= 0 && y < n;
}

void tile_lonlat_to_merc(double lon, double lat, double *mx, double *my)
{
    if (lat > TILE_MAX_LAT) lat = TILE_MAX_LAT;
    if (lat < -TILE_MAX_LAT) lat = -TILE_MAX_LAT;
    *mx = lon * (M_PI / 180.0) * TILE_EARTH_RADIUS;
    *my = log(tan(M_PI / 4.0 + lat * (M_PI / 360.0))) * TILE_EARTH_RADIUS;
}

void tile_merc_to_lonlat(double mx, double my, double *lon, double *lat)
{
    *lon = mx / TILE_EARTH_RADIUS * (180.0 / M_PI);
    *lat = (2.0 * atan(exp(my / TILE_EARTH_RADIUS)) - M_PI / 2.0) * (180.0 / M_PI);
}

double tile_resolution(int z)
{
    return 2.0 * TILE_MERC_MAX / (TILE_SIZE * ldexp(1.0, z));
}

void tile_from_lonlat(double lon, double lat, int z, long *x, long *y)
{
    double mx, my;
    tile_lonlat_to_merc(lon, lat, &mx, &my);
    double n = ldexp(1.0, z);
    double fx = (mx + TILE_MERC_MAX) / (2.0 * TILE_MERC_MAX) * n;
    double fy = (TILE_MERC_MAX - my) / (2.0 * TILE_MERC_MAX) * n;
    long max = (1L << z) - 1;
    long tx = (long)floor(fx), ty = (long)floor(fy);
    *x = tx < 0 ? 0 : tx > max ? max : tx;
    *y = ty < 0 ? 0 : ty > max ? max : ty;
}

void tile_bounds_merc(int z, long x, long y, double out[4])
{
    double size = 2.0 * TILE_MERC_MAX / ldexp(1.0, z);
    out[0] = -TILE_MERC_MAX + (double)x * size;
    out[2] = -TILE_MERC_MAX + (double)(x + 1) * size;
    out[3] = TILE_MERC_MAX - (double)y * size;
    out[1] = TILE_MERC_MAX - (double)(y + 1) * size;
}

void tile_bounds_lonlat(int z, long x, long y, double out[4])
{
    double m[4];
    tile_bounds_merc(z, x, y, m);
    tile_merc_to_lonlat(m[0], m[1], &out[0], &out[1]);
    tile_merc_to_lonlat(m[2], m[3], &out[2], &out[3]);
}

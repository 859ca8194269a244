/* mgrs.c - UTM on WGS84 and MGRS references, for the briefing sheet's
 * grid (brief.c) and its "centre" line. UTM by Krüger's series to the
 * third order in n (Karney 2011, eq. 35-36): within a zone and well past
 * its edges it agrees with PROJ to a few millimetres
 * (tests/tiles/test_tile_math.c). MGRS: the 100 km square letters of the
 * AA scheme (WGS84), as the viewer's `mgrs` package writes them. */
#include "tiles.h"

#include <math.h>
#include <stdio.h>

#define WGS84_A 6378137.0
#define WGS84_F (1 / 298.257223563)
#define UTM_K0 0.9996
#define UTM_E0 500000.0
#define UTM_N0_SOUTH 10000000.0

struct kruger {
    double n, A, e;
    double alpha[3], beta[3], delta[3];
};

static struct kruger kruger(void)
{
    struct kruger k;
    double n = WGS84_F / (2 - WGS84_F), n2 = n * n, n3 = n2 * n;
    k.n = n;
    k.A = WGS84_A / (1 + n) * (1 + n2 / 4 + n2 * n2 / 64);
    k.e = 2 * sqrt(n) / (1 + n);
    k.alpha[0] = n / 2 - 2 * n2 / 3 + 5 * n3 / 16;
    k.alpha[1] = 13 * n2 / 48 - 3 * n3 / 5;
    k.alpha[2] = 61 * n3 / 240;
    k.beta[0] = n / 2 - 2 * n2 / 3 + 37 * n3 / 96;
    k.beta[1] = n2 / 48 + n3 / 15;
    k.beta[2] = 17 * n3 / 480;
    k.delta[0] = 2 * n - 2 * n2 / 3 - 2 * n3;
    k.delta[1] = 7 * n2 / 3 - 8 * n3 / 5;
    k.delta[2] = 56 * n3 / 15;
    return k;
}

int tile_utm_zone(double lon, double lat)
{
    if (lon >= 180) lon -= 360;
    int z = (int)floor((lon + 180) / 6) + 1;
    if (z < 1) z = 1;
    if (z > 60) z = 60;
    /* the exceptions: south-west Norway, Svalbard */
    if (lat >= 56 && lat < 64 && lon >= 3 && lon < 12) return 32;
    if (lat >= 72 && lat < 84 && lon >= 0 && lon < 42)
        return lon < 9 ? 31 : lon < 21 ? 33 : lon < 33 ? 35 : 37;
    return z;
}

double tile_utm_central_lon(int zone)
{
    return zone * 6.0 - 183.0;
}

void tile_utm_forward(int zone, double lon, double lat, double *e, double *n)
{
    struct kruger k = kruger();
    double phi = lat * M_PI / 180, dl = (lon - tile_utm_central_lon(zone)) * M_PI / 180;
    double s = sin(phi);
    double t = sinh(atanh(s) - k.e * atanh(k.e * s));
    double xi = atan2(t, cos(dl)), eta = atanh(sin(dl) / sqrt(1 + t * t));
    double x = eta, y = xi;
    for (int j = 1; j <= 3; j++) {
        x += k.alpha[j - 1] * cos(2 * j * xi) * sinh(2 * j * eta);
        y += k.alpha[j - 1] * sin(2 * j * xi) * cosh(2 * j * eta);
    }
    *e = UTM_E0 + UTM_K0 * k.A * x;
    *n = UTM_K0 * k.A * y + (lat < 0 ? UTM_N0_SOUTH : 0);
}

void tile_utm_inverse(int zone, int south, double e, double n, double *lon, double *lat)
{
    struct kruger k = kruger();
    double xi = (n - (south ? UTM_N0_SOUTH : 0)) / (UTM_K0 * k.A);
    double eta = (e - UTM_E0) / (UTM_K0 * k.A);
    double xp = xi, ep = eta;
    for (int j = 1; j <= 3; j++) {
        xp -= k.beta[j - 1] * sin(2 * j * xi) * cosh(2 * j * eta);
        ep -= k.beta[j - 1] * cos(2 * j * xi) * sinh(2 * j * eta);
    }
    double chi = asin(sin(xp) / cosh(ep)), phi = chi;
    for (int j = 1; j <= 3; j++) phi += k.delta[j - 1] * sin(2 * j * chi);
    *lat = phi * 180 / M_PI;
    *lon = tile_utm_central_lon(zone) + atan2(sinh(ep), cos(xp)) * 180 / M_PI;
}

void tile_mgrs_square(int zone, double e, double n, char id[3])
{
    static const char *const cols[3] = {"ABCDEFGH", "JKLMNPQR", "STUVWXYZ"};
    static const char rows[] = "ABCDEFGHJKLMNPQRSTUV";
    int set = (zone - 1) % 6; /* 0..5: sets 1..6 */
    int col = (int)floor(e / 100000) - 1;
    if (col < 0) col = 0;
    if (col > 7) col = 7;
    long row = (long)floor(n / 100000);
    if (set % 2 == 1) row += 5; /* the even sets start at F */
    row %= 20;
    if (row < 0) row += 20;
    id[0] = cols[set % 3][col];
    id[1] = rows[row];
    id[2] = '\0';
}

char tile_mgrs_band(double lat)
{
    static const char bands[] = "CDEFGHJKLMNPQRSTUVWX";
    if (lat < -80 || lat > 84) return 'Z';
    int b = (int)floor((lat + 80) / 8);
    return bands[b > 19 ? 19 : b];
}

int tile_mgrs_format(double lon, double lat, int digits, char *out, size_t n)
{
    if (!isfinite(lon) || !isfinite(lat) || lat < -80 || lat > 84 || digits < 1 || digits > 5) {
        snprintf(out, n, "%s", "");
        return -1;
    }
    int zone = tile_utm_zone(lon, lat);
    double e, no;
    tile_utm_forward(zone, lon, lat, &e, &no);
    char sq[3];
    tile_mgrs_square(zone, e, no, sq);
    double div = pow(10, 5 - digits);
    long ee = (long)floor(fmod(e, 100000) / div), nn = (long)floor(fmod(no, 100000) / div);
    snprintf(out, n, "%d%c %s %0*ld %0*ld", zone, tile_mgrs_band(lat), sq, digits, ee, digits,
             nn);
    return 0;
}

/* import.c - files from other tools into a collection, through GDAL/OGR.
 *
 * KML/KMZ (LIBKML; a KMZ's KML is read through GDAL's /vsizip/), GPX,
 * GeoPackage, zipped Shapefile, CSV (a WKT column or lon/lat columns) and
 * GeoJSON. Before GDAL reads anything: the file's size, and for a KMZ or
 * zip its central directory (no "../", absolute or drive paths, no ZIP64,
 * the declared uncompressed total and each member's ratio under their
 * caps; then every member unpacked once into nothing, counting, so that a
 * header understating its member is caught, since GDAL reads on past the
 * declared size), and for a CSV its header and row widths. Then
 * every layer is reprojected to WGS84 (traditional lon/lat order) from the
 * CRS it declares (none: WGS84 is assumed, as GeoJSON, KML and GPX mean),
 * every feature becomes a GeoJSON Feature with its attributes mapped to
 * fusionmap's fields, and item_create_in_tx validates and writes it exactly
 * as a POST does, under a savepoint, all inside one transaction.
 *
 * The attribute mapping (names compared without case; GPX extension
 * fields lose their "ogr_" prefix; Shapefile's 10-character names too):
 *   title          title, name, label
 *   description    description, descriptio, desc, descr
 *   type           type, zone_type, kind
 *   valid_from     valid_from, begin, start, time, timestamp (if none before)
 *   valid_to       valid_to, end, stop
 *   altitude_floor_m    altitude_floor_m, altitude_f, floor, floor_m, lower
 *   altitude_ceiling_m  altitude_ceiling_m, altitude_c, ceiling, ceiling_m, upper
 *   both of those  altitude, alt, ele, elevation, altitude_m (a single height)
 *   occurred_at, category, severity, corridor_width_m (corridor_w), observed
 *   dropped        status (imports are drafts), id, fid, party, version,
 *                  created_*, updated_*, and KML's styling fields
 * Every other attribute becomes a free property under its own name. Times
 * are normalised to RFC 3339 UTC; geometries are made 2D (Z dropped).
 *
 * GDAL's errors are caught per thread (CPLPushErrorHandlerEx): any GDAL
 * warning or error while opening or reading fails the whole import.
 */
#include "internal.h"
#include "store.h"
#include "interop.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_http.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* ---- formats ----------------------------------------------------------- */

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

const char *data_format_from_name(const char *name)
{
    static const char *const map[][2] = {
        {".geojson", "geojson"}, {".json", "geojson"}, {".kml", "kml"}, {".kmz", "kmz"},
        {".gpx", "gpx"},         {".gpkg", "gpkg"},    {".shp.zip", "shp"}, {".shz", "shp"},
        {".zip", "shp"},         {".csv", "csv"}};
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (ends_with(name, map[i][0])) return map[i][1];
    return NULL;
}

static int known_format(const char *f)
{
    static const char *const all[] = {"geojson", "kml", "kmz", "gpx", "gpkg", "shp", "csv", NULL};
    for (const char *const *k = all; *k; k++)
        if (!strcmp(*k, f)) return 1;
    return 0;
}

void data_import_opts_default(struct data_import_opts *o)
{
    memset(o, 0, sizeof *o);
    o->max_features = 10000;
    o->max_file_bytes = (int64_t)64 << 20;
    o->max_unzipped_bytes = (int64_t)256 << 20;
    o->max_zip_ratio = 100;
}

/* ---- no network, ever --------------------------------------------------
 *
 * An uploaded file can name network resources GDAL and PROJ would open
 * while reading it: a GeoJSON "crs" of type url/link (fetched by
 * OSRImportFromUrl through CPLHTTPFetch, 10 s timeout), a /vsicurl/ path
 * in any field a driver opens, a PROJ grid given by URL. GDAL 3.6 has no
 * configuration option that turns its network off, so the process turns
 * off each way out, once, before any file is read:
 *   - CPLHTTPSetFetchCallback: every CPLHTTPFetch in every thread comes
 *     here and is refused with an error, no socket opened;
 *   - every virtual file system that is not one of the local ones below
 *     (/vsicurl/, /vsicurl_streaming/, /vsis3/, /vsigs/, /vsiaz/, /vsiadls/,
 *     /vsioss/, /vsiswift/, /vsiwebhdfs/, /vsihdfs/, their _streaming
 *     forms, /vsistdin/ ...) is replaced by a handler that opens nothing;
 *   - PROJ's network (grids from a CDN or a URL) off for GDAL's contexts
 *     (OSRSetPROJEnableNetwork) and, through PROJ_NETWORK=OFF set before
 *     main, for every other PROJ context in the process.
 * The GeoJSON check below (geojson_crs_check) refuses a url/link CRS with
 * a clear message before GDAL sees the file; these switches are what
 * holds if some other field reaches GDAL's network code. */

__attribute__((constructor)) static void proj_network_off(void)
{
    setenv("PROJ_NETWORK", "OFF", 1); /* before main: no other thread yet */
}

static const char *const local_fs[] = {"/vsimem/",    "/vsizip/",    "/vsigzip/", "/vsitar/",
                                       "/vsisubfile/", "/vsisparse/", "/vsicache/", NULL};

static CPLHTTPResult *refuse_fetch(const char *url, CSLConstList opts, GDALProgressFunc prog,
                                   void *prog_arg, CPLHTTPFetchWriteFunc wr, void *wr_arg,
                                   void *user)
{
    (void)prog, (void)prog_arg, (void)wr, (void)wr_arg, (void)user;
    CPLHTTPResult *res = CPLCalloc(1, sizeof *res);
    if (CSLFetchNameValue(opts, "CLOSE_PERSISTENT")) return res; /* nothing to close */
    res->nStatus = 1;
    res->pszErrBuf = CPLStrdup("network access is disabled");
    CPLError(CE_Failure, CPLE_AppDefined,
             "it names a network resource (%.80s): fusionmap never fetches anything while "
             "reading a file",
             url ? url : "?");
    return res;
}

static void *refuse_open(void *user, const char *name, const char *access)
{
    (void)access;
    CPLError(CE_Failure, CPLE_AppDefined,
             "it names a network or outside resource (%s%.80s): fusionmap never opens one "
             "while reading a file",
             (const char *)user, name ? name : "");
    errno = EACCES;
    return NULL;
}

static int refuse_stat(void *user, const char *name, VSIStatBufL *st, int flags)
{
    (void)user, (void)name, (void)st, (void)flags;
    errno = ENOENT;
    return -1;
}

/* GDAL keeps no pointer to a handler that InstallHandler replaces (its map
 * entry is overwritten), so each original would be a leak LeakSanitizer
 * reports at exit; they are kept here, reachable. VSIFileManager::GetHandler
 * is a static C++ member exported by libgdal: no `this`, called as a C
 * function under the Itanium C++ ABI (Linux). */
extern void *_ZN14VSIFileManager10GetHandlerEPKc(const char *path);
static void *replaced[64];

static void network_off(void)
{
    CPLHTTPSetFetchCallback(refuse_fetch, NULL);
    OSRSetPROJEnableNetwork(0);
    CPLSetConfigOption("LIBKML_EXTERNAL_STYLE", "NO");
    /* a second lock on /vsicurl/ and the non-streaming cloud ones (measured:
     * not on the _streaming ones nor /vsiswift/, hence the handlers below) */
    CPLSetConfigOption("CPL_VSIL_CURL_ALLOWED_FILENAME", "/fusionmap/opens/no/network/resource");
    char **prefixes = VSIGetFileSystemsPrefixes();
    size_t nrep = 0;
    for (char **p = prefixes; p && *p; p++) {
        int local = 0;
        for (const char *const *l = local_fs; *l; l++) local |= !strcmp(*p, *l);
        if (local || strncmp(*p, "/vsi", 4) != 0) continue;
        if (nrep < sizeof replaced / sizeof *replaced)
            replaced[nrep++] = _ZN14VSIFileManager10GetHandlerEPKc(*p);
        /* the handler keeps this pointer as its prefix (it copies cb, not
         * the prefix): it lives as long as the process, as the handler */
        char *prefix = CPLStrdup(*p);
        VSIFilesystemPluginCallbacksStruct *cb = VSIAllocFilesystemPluginCallbacksStruct();
        cb->pUserData = prefix;
        cb->open = refuse_open;
        cb->stat = refuse_stat;
        VSIInstallPluginHandler(prefix, cb);
        VSIFreeFilesystemPluginCallbacksStruct(cb);
    }
    CSLDestroy(prefixes);
}

static pthread_once_t gdal_once = PTHREAD_ONCE_INIT;
static void gdal_register(void)
{
    GDALAllRegister();
    network_off();
}
void data_gdal_init(void)
{
    pthread_once(&gdal_once, gdal_register);
}

/* ---- GDAL's messages, caught per thread -------------------------------- */

struct gdal_msgs {
    int count;
    char first[200];
};

static void CPL_STDCALL collect(CPLErr cls, CPLErrorNum no, const char *msg)
{
    (void)no;
    struct gdal_msgs *m = CPLGetErrorHandlerUserData();
    if (!m || cls < CE_Warning) return;
    if (msg && strstr(msg, "remote resource not authorized")) /* PROJ would suggest turning it on */
        msg = "its CRS needs a PROJ grid from the network, and fusionmap never fetches anything "
              "while reading a file";
    if (m->count++ == 0) snprintf(m->first, sizeof m->first, "%s", msg ? msg : "?");
}

/* ---- zip archives (KMZ, zipped Shapefile) ------------------------------- */

static unsigned rd16(const unsigned char *p)
{
    return (unsigned)p[0] | (unsigned)p[1] << 8;
}
static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int bad_member_name(const char *n, size_t len)
{
    if (len == 0 || n[0] == '/' || n[0] == '\\') return 1;
    if (len >= 2 && n[1] == ':') return 1; /* C:... */
    for (size_t i = 0; i < len; i++)
        if (n[i] == '\\' || n[i] == '\0') return 1;
    /* ".." as a whole path component */
    for (size_t i = 0; i + 1 < len; i++)
        if (n[i] == '.' && n[i + 1] == '.' && (i == 0 || n[i - 1] == '/') &&
            (i + 2 == len || n[i + 2] == '/'))
            return 1;
    return 0;
}

#define MAX_MEMBERS 16

struct zip_info {
    int n;
    char member[MAX_MEMBERS][256]; /* members ending in the suffix asked for */
};

/* Reads the central directory of the zip at path and refuses path tricks
 * and bombs before any decompression. */
/* Unpacks one member through /vsizip/ into nothing, counting: a member
 * that yields more than its header declares is a bomb with a lying header
 * (GDAL reads on past the declared size), and the running total is
 * capped. Memory stays one buffer. */
static fm_rc verify_member(const char *zip, const char *name, unsigned nlen, uint32_t declared,
                           int64_t *total, const struct data_import_opts *o, struct fm_err *err)
{
    char vpath[1400];
    snprintf(vpath, sizeof vpath, "/vsizip/%s/%.*s", zip, (int)nlen, name);
    struct gdal_msgs m = {0, ""};
    CPLPushErrorHandlerEx(collect, &m);
    fm_rc rc = FM_OK;
    char *buf = NULL;
    VSILFILE *f = VSIFOpenL(vpath, "rb");
    if (!f) {
        rc = fm_fail(err, FM_EINVAL, "", "the archive's member \"%.*s\" cannot be read%s%s",
                     (int)(nlen > 80 ? 80 : nlen), name, m.count ? ": " : "", m.first);
        goto done;
    }
    enum { CHUNK = 1 << 20 };
    buf = fm_xmalloc(CHUNK);
    int64_t n = 0;
    size_t got;
    while ((got = VSIFReadL(buf, 1, CHUNK, f)) > 0) {
        n += (int64_t)got;
        *total += (int64_t)got;
        if (n > (int64_t)declared) {
            rc = fm_fail(err, FM_ETOOBIG, "",
                         "member \"%.*s\" unpacks to more than the %" PRIu32
                         " bytes its header declares (a zip bomb?)",
                         (int)(nlen > 80 ? 80 : nlen), name, declared);
            break;
        }
        if (*total > o->max_unzipped_bytes) {
            rc = fm_fail(err, FM_ETOOBIG, "",
                         "the archive would unpack to more than %" PRId64 " bytes (a zip bomb?)",
                         o->max_unzipped_bytes);
            break;
        }
    }
    VSIFCloseL(f);
    if (!rc && m.count)
        rc = fm_fail(err, FM_EINVAL, "", "the archive is damaged: %s", m.first);
done:
    free(buf);
    CPLPopErrorHandler();
    return rc;
}

static fm_rc zip_check(const char *path, const struct data_import_opts *o, const char *suffix,
                       struct zip_info *zi, struct fm_err *err)
{
    memset(zi, 0, sizeof *zi);
    fm_rc rc = FM_OK;
    unsigned char *tail = NULL, *cd = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return fm_fail(err, FM_EIO, NULL, "cannot read the uploaded file");
    if (fseek(f, 0, SEEK_END) != 0) {
        rc = fm_fail(err, FM_EIO, NULL, "cannot read the uploaded file");
        goto done;
    }
    long size = ftell(f);
    long tl = size < 65557 ? size : 65557;
    if (size < 22) {
        rc = fm_fail(err, FM_EINVAL, "", "the file is not a zip archive (too short)");
        goto done;
    }
    tail = fm_xmalloc((size_t)tl);
    if (fseek(f, size - tl, SEEK_SET) != 0 || fread(tail, 1, (size_t)tl, f) != (size_t)tl) {
        rc = fm_fail(err, FM_EIO, NULL, "cannot read the uploaded file");
        goto done;
    }
    long eocd = -1;
    for (long i = tl - 22; i >= 0; i--)
        if (rd32(tail + i) == 0x06054b50) {
            eocd = i;
            break;
        }
    if (eocd < 0) {
        rc = fm_fail(err, FM_EINVAL, "", "the file is not a zip archive (no central directory)");
        goto done;
    }
    unsigned entries = rd16(tail + eocd + 10);
    uint32_t cd_size = rd32(tail + eocd + 12), cd_off = rd32(tail + eocd + 16);
    if (entries == 0xFFFF || cd_size == 0xFFFFFFFFu || cd_off == 0xFFFFFFFFu) {
        rc = fm_fail(err, FM_EINVAL, "", "ZIP64 archives are not accepted");
        goto done;
    }
    if (entries > 1000) {
        rc = fm_fail(err, FM_ETOOBIG, "", "the archive has %u members; at most 1000 are accepted",
                     entries);
        goto done;
    }
    if ((long)cd_off + (long)cd_size > size || cd_size > (16u << 20)) {
        rc = fm_fail(err, FM_EINVAL, "", "the zip archive is damaged (central directory)");
        goto done;
    }
    cd = fm_xmalloc(cd_size ? cd_size : 1);
    if (fseek(f, (long)cd_off, SEEK_SET) != 0 || fread(cd, 1, cd_size, f) != cd_size) {
        rc = fm_fail(err, FM_EINVAL, "", "the zip archive is damaged (central directory)");
        goto done;
    }
    int64_t total = 0, unpacked = 0;
    size_t pos = 0;
    data_gdal_init();
    for (unsigned e = 0; e < entries; e++) {
        if (pos + 46 > cd_size || rd32(cd + pos) != 0x02014b50) {
            rc = fm_fail(err, FM_EINVAL, "", "the zip archive is damaged (entry %u)", e);
            goto done;
        }
        uint32_t csize = rd32(cd + pos + 20), usize = rd32(cd + pos + 24);
        unsigned nlen = rd16(cd + pos + 28), xlen = rd16(cd + pos + 30), clen = rd16(cd + pos + 32);
        if (pos + 46 + nlen + xlen + clen > cd_size) {
            rc = fm_fail(err, FM_EINVAL, "", "the zip archive is damaged (entry %u)", e);
            goto done;
        }
        const char *name = (const char *)cd + pos + 46;
        if (bad_member_name(name, nlen)) {
            rc = fm_fail(err, FM_EINVAL, "",
                         "the archive holds a member with an unsafe path (\"%.*s\"): "
                         "absolute paths, \"..\" and backslashes are refused",
                         (int)(nlen > 80 ? 80 : nlen), name);
            goto done;
        }
        if (csize == 0xFFFFFFFFu || usize == 0xFFFFFFFFu) {
            rc = fm_fail(err, FM_EINVAL, "", "ZIP64 archives are not accepted");
            goto done;
        }
        if (nlen > 255) {
            rc = fm_fail(err, FM_EINVAL, "", "a member's name is longer than 255 bytes");
            goto done;
        }
        total += usize;
        if (total > o->max_unzipped_bytes) {
            rc = fm_fail(err, FM_ETOOBIG, "",
                         "the archive would unpack to more than %" PRId64 " bytes (a zip bomb?)",
                         o->max_unzipped_bytes);
            goto done;
        }
        if (usize > (1u << 20) && (double)usize > o->max_zip_ratio * (double)(csize ? csize : 1)) {
            rc = fm_fail(err, FM_ETOOBIG, "",
                         "member \"%.*s\" is compressed more than %.0f to 1 (a zip bomb?)",
                         (int)(nlen > 80 ? 80 : nlen), name, o->max_zip_ratio);
            goto done;
        }
        if (nlen > 4 && nlen < sizeof zi->member[0] &&
            strncasecmp(name + nlen - 4, suffix, 4) == 0) {
            if (zi->n == MAX_MEMBERS) {
                rc = fm_fail(err, FM_ETOOBIG, "", "more than %d %s files in one archive",
                             MAX_MEMBERS, suffix);
                goto done;
            }
            snprintf(zi->member[zi->n++], sizeof zi->member[0], "%.*s", (int)nlen, name);
        }
        pos += 46 + nlen + xlen + clen;
    }
    /* the headers passed; now what the members really hold */
    pos = 0;
    for (unsigned e = 0; e < entries && !rc; e++) {
        uint32_t usize = rd32(cd + pos + 24);
        unsigned nlen = rd16(cd + pos + 28), xlen = rd16(cd + pos + 30), clen = rd16(cd + pos + 32);
        const char *name = (const char *)cd + pos + 46;
        if (name[nlen - 1] != '/') rc = verify_member(path, name, nlen, usize, &unpacked, o, err);
        pos += 46 + nlen + xlen + clen;
    }
done:
    free(tail);
    free(cd);
    fclose(f);
    return rc;
}

/* ---- CSV: the header and the width of every row ------------------------ */

static int name_in(const char *name, const char *const *list)
{
    for (; *list; list++)
        if (strcasecmp(name, *list) == 0) return 1;
    return 0;
}

static const char *const csv_x[] = {"lon", "longitude", "lng", "long", "x", NULL};
static const char *const csv_y[] = {"lat", "latitude", "y", NULL};
static const char *const csv_geom[] = {"wkt", "geometry", "geom", "the_geom", NULL};

static fm_rc csv_check(const char *path, struct fm_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return fm_fail(err, FM_EIO, NULL, "cannot read the uploaded file");
    fm_rc rc = FM_OK;
    long row = 1, cols = 1, header_cols = -1;
    int quoted = 0, has_x = 0, has_y = 0, has_wkt = 0, any = 0;
    char cell[128];
    size_t cl = 0;
    int ch;
    for (;;) {
        ch = fgetc(f);
        if (ch == EOF && !any) break;
        if (ch != EOF) any = 1;
        if (quoted) {
            if (ch == EOF) {
                rc = fm_fail(err, FM_EINVAL, "", "row %ld: a quoted field never ends", row);
                break;
            }
            if (ch == '"') {
                int next = fgetc(f);
                if (next == '"') {
                    if (cl + 1 < sizeof cell) cell[cl++] = '"';
                } else {
                    quoted = 0;
                    if (next != EOF) ungetc(next, f);
                }
            } else if (cl + 1 < sizeof cell) {
                cell[cl++] = (char)ch;
            }
            continue;
        }
        if (ch == '"') {
            quoted = 1;
            continue;
        }
        if (ch == ',' || ch == '\n' || ch == EOF) {
            if (header_cols < 0) { /* a header cell */
                cell[cl] = '\0';
                char *c = cell;
                while (*c == ' ') c++;
                if (!strncmp(c, "\xEF\xBB\xBF", 3)) c += 3; /* a BOM */
                for (size_t k = strlen(c); k && (c[k - 1] == '\r' || c[k - 1] == ' ');) c[--k] = 0;
                has_x += name_in(c, csv_x) != 0;
                has_y += name_in(c, csv_y) != 0;
                has_wkt += name_in(c, csv_geom) != 0;
            }
            cl = 0;
            if (ch == ',') {
                cols++;
                continue;
            }
            /* end of a row (a blank last line is not a row) */
            if (!(ch == EOF && cols == 1 && any == 1)) {
                if (header_cols < 0) {
                    header_cols = cols;
                } else if (cols != header_cols && !(cols == 1 && ch == EOF)) {
                    rc = fm_fail(err, FM_EINVAL, "",
                                 "row %ld has %ld columns but the header has %ld: "
                                 "every row must have the header's columns",
                                 row, cols, header_cols);
                    break;
                }
            }
            if (ch == EOF) break;
            row++;
            cols = 1;
            continue;
        }
        if (cl + 1 < sizeof cell) cell[cl++] = (char)ch;
    }
    fclose(f);
    if (rc) return rc;
    if (header_cols < 0) return fm_fail(err, FM_EINVAL, "", "the CSV file is empty");
    /* two longitude columns are ambiguous, and GDAL 3.6's CSV driver
     * crashes on such a header (found by fuzz_import) */
    if (has_x > 1 || has_y > 1 || has_wkt > 1)
        return fm_fail(err, FM_EINVAL, "",
                       "the CSV header names more than one %s column: keep one",
                       has_x > 1 ? "longitude" : has_y > 1 ? "latitude" : "geometry");
    if (has_wkt && (has_x || has_y))
        return fm_fail(err, FM_EINVAL, "",
                       "the CSV has both a WKT column and lon/lat columns: keep one of them");
    if (!has_wkt && !(has_x && has_y))
        return fm_fail(err, FM_EINVAL, "",
                       "the CSV needs a WKT column (wkt, geometry) or lon and lat columns "
                       "(lon/longitude/x and lat/latitude/y)");
    return FM_OK;
}

/* ---- GeoJSON: no CRS by URL or link ------------------------------------ */

/* GDAL 3.6's GeoJSON driver fetches a "crs" whose type starts with "url"
 * or "link" (any case), at the top or on any geometry, from the network.
 * Refused here with a clear message before GDAL reads the file (the
 * switches in network_off hold if this misses one). Keys are compared
 * without case as GDAL does; "properties" values are data, not read. */
static int starts_ci(const char *s, const char *prefix)
{
    return s && strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static const char *linked_crs(json_t *crs)
{
    if (!json_is_object(crs)) return NULL;
    const char *key, *link = NULL;
    json_t *v;
    int by_link = 0;
    json_object_foreach(crs, key, v) {
        if (!strcasecmp(key, "type") &&
            (starts_ci(json_string_value(v), "url") || starts_ci(json_string_value(v), "link")))
            by_link = 1;
        if (!strcasecmp(key, "properties") && json_is_object(v)) {
            const char *k2;
            json_t *v2;
            json_object_foreach(v, k2, v2)
                if ((!strcasecmp(k2, "href") || !strcasecmp(k2, "url")) && json_is_string(v2))
                    link = json_string_value(v2);
        }
    }
    return by_link ? (link ? link : "") : NULL;
}

static const char *find_linked_crs(json_t *j, int depth)
{
    if (depth > 64) return NULL; /* GDAL's own nesting limit is lower */
    const char *key, *found = NULL;
    json_t *v;
    size_t i;
    if (json_is_object(j)) {
        json_object_foreach(j, key, v) {
            if (!strcasecmp(key, "crs")) found = linked_crs(v);
            else if (strcasecmp(key, "properties") != 0) found = find_linked_crs(v, depth + 1);
            if (found) return found;
        }
    } else if (json_is_array(j)) {
        json_array_foreach(j, i, v)
            if ((found = find_linked_crs(v, depth + 1))) return found;
    }
    return NULL;
}

/* Parsed whole by jansson only up to this size (a tree of 4 to 5 times the
 * text); past it GDAL's own reading meets the switches in network_off,
 * whose error names the resource, with the same status. */
#define CRS_CHECK_MAX_BYTES ((long)8 << 20)

static fm_rc geojson_crs_check(const char *path, struct fm_err *err)
{
    struct stat sb;
    if (stat(path, &sb) == 0 && (long)sb.st_size > CRS_CHECK_MAX_BYTES) return FM_OK;
    FILE *f = fopen(path, "rb");
    if (!f) return fm_fail(err, FM_EIO, NULL, "cannot read the uploaded file");
    /* parse only a file that mentions a crs (or hides one behind \u escapes) */
    int ch, match = 0, suspect = 0, prev = 0;
    while (!suspect && (ch = fgetc(f)) != EOF) {
        int lc = tolower(ch);
        match = lc == "crs"[match] ? match + 1 : lc == 'c';
        if (match == 3 || (prev == '\\' && ch == 'u')) suspect = 1;
        prev = prev == '\\' ? 0 : ch;
    }
    fclose(f);
    if (!suspect) return FM_OK;
    json_t *doc = json_load_file(path, 0, NULL);
    if (!doc) return FM_OK; /* not JSON to jansson: GDAL decides, the switches hold */
    fm_rc rc = FM_OK;
    const char *link = find_linked_crs(doc, 0);
    if (link)
        rc = fm_fail(err, FM_EINVAL, "",
                     "the GeoJSON gives its CRS as a link (%.60s) and imports never fetch "
                     "anything: name the CRS instead, "
                     "e.g. \"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"EPSG:32636\"}}",
                     link);
    json_decref(doc);
    return rc;
}

/* ---- attributes -------------------------------------------------------- */

enum kind { K_STRING, K_TIME, K_NUMBER, K_JSON, K_BOOL };

struct mapping {
    const char *field; /* fusionmap's */
    enum kind kind;
    const char *names[8];
};

static const struct mapping mappings[] = {
    {"title", K_STRING, {"title", "name", "label", NULL}},
    {"description", K_STRING, {"description", "descriptio", "desc", "descr", NULL}},
    {"type", K_STRING, {"type", "zone_type", "kind", NULL}},
    {"valid_from", K_TIME, {"valid_from", "begin", "start", "time", "timestamp", NULL}},
    {"valid_to", K_TIME, {"valid_to", "end", "stop", NULL}},
    {"altitude_floor_m", K_NUMBER, {"altitude_floor_m", "altitude_f", "floor", "floor_m", "lower", NULL}},
    {"altitude_ceiling_m", K_NUMBER,
     {"altitude_ceiling_m", "altitude_c", "ceiling", "ceiling_m", "upper", NULL}},
    {"altitude", K_NUMBER, {"altitude", "alt", "ele", "elevation", "altitude_m", NULL}},
    {"occurred_at", K_TIME, {"occurred_at", "occurred_a", NULL}},
    {"category", K_STRING, {"category", NULL}},
    {"severity", K_NUMBER, {"severity", NULL}},
    {"corridor_width_m", K_NUMBER, {"corridor_width_m", "corridor_w", NULL}},
    {"observed", K_JSON, {"observed", NULL}},
    /* formats without booleans write 1/0 or "true"/"false" (a shapefile
     * cuts names to ten characters) */
    {"urgent", K_BOOL, {"urgent", NULL}},
    {"urgent_reason", K_STRING, {"urgent_reason", "urgent_rea", NULL}},
};
#define NMAP (sizeof mappings / sizeof *mappings)

static const char *const dropped[] = {"status",     "id",         "fid",        "ogc_fid",
                                      "party",      "version",    "created_at", "created_by",
                                      "updated_at", "updated_by", "tessellate", "extrude",
                                      "visibility", "draworder",  "icon",       "altitudemode",
                                      "snippet",    NULL};

/* OGR's own text form of a DateTime, which KML, CSV and others write:
 * "2026/11/25 08:00:00[.sss][+00|+0130|+01:30|Z]" (no zone: UTC). */
static fm_rc ogr_time_parse(const char *s, fm_time *out)
{
    int y, mo, d, h = 0, mi = 0, n = 0;
    double sec = 0;
    if (sscanf(s, "%4d/%2d/%2d%n", &y, &mo, &d, &n) != 3) return FM_EINVAL;
    const char *p = s + n;
    if (*p == ' ' || *p == 'T') {
        int m = 0;
        if (sscanf(p + 1, "%2d:%2d:%lf%n", &h, &mi, &sec, &m) != 3) return FM_EINVAL;
        p += 1 + m;
    }
    char zone[16] = "Z";
    if (*p == '+' || *p == '-') {
        int zh = 0, zm = 0;
        if (strlen(p) == 3 && sscanf(p + 1, "%2d", &zh) == 1) {
        } else if (strlen(p) == 5 && sscanf(p + 1, "%2d%2d", &zh, &zm) == 2) {
        } else if (strlen(p) == 6 && sscanf(p + 1, "%2d:%2d", &zh, &zm) == 2) {
        } else {
            return FM_EINVAL;
        }
        snprintf(zone, sizeof zone, "%c%02d:%02d", *p, zh % 100, zm % 100);
    } else if (*p != '\0' && strcmp(p, "Z") != 0) {
        return FM_EINVAL;
    }
    char buf[64];
    snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d%s", y % 10000, mo % 100, d % 100,
             h % 100, mi % 100, (int)sec % 100, zone);
    return fm_time_parse(buf, out);
}

/* The field's value as JSON (NULL when unset, null or empty). */
static json_t *field_json(OGRFeatureH f, OGRFieldDefnH fd, int i, enum kind want)
{
    if (!OGR_F_IsFieldSetAndNotNull(f, i)) return NULL;
    OGRFieldType t = OGR_Fld_GetType(fd);
    if (t == OFTDate || t == OFTDateTime) {
        int y, mo, d, h, mi, tz;
        float s;
        if (!OGR_F_GetFieldAsDateTimeEx(f, i, &y, &mo, &d, &h, &mi, &s, &tz)) return NULL;
        char buf[64];
        int off = (tz > 1 && tz != 100) ? (tz - 100) * 15 : 0; /* minutes east */
        snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", y, mo, d, h, mi,
                 (int)s, off < 0 ? '-' : '+', abs(off) / 60, abs(off) % 60);
        fm_time ft;
        char out[FM_TIME_STAMP_LEN];
        if (fm_time_parse(buf, &ft)) return json_string(buf);
        fm_time_format(ft, out);
        return json_string(out);
    }
    if (want == K_BOOL && (t == OFTInteger || t == OFTInteger64))
        return json_boolean(OGR_F_GetFieldAsInteger64(f, i) != 0);
    if (t == OFTInteger || t == OFTInteger64)
        return json_integer((json_int_t)OGR_F_GetFieldAsInteger64(f, i));
    if (t == OFTReal) return json_real(OGR_F_GetFieldAsDouble(f, i));
    const char *s = OGR_F_GetFieldAsString(f, i);
    if (!s || !*s) return NULL;
    if (want == K_JSON || (t == OFTString && OGR_Fld_GetSubType(fd) == OFSTJSON)) {
        json_t *j = json_loads(s, JSON_DECODE_ANY, NULL);
        if (j) return j;
    }
    if (want == K_TIME) {
        fm_time ft;
        char out[FM_TIME_STAMP_LEN];
        if (fm_time_parse(s, &ft) == FM_OK || ogr_time_parse(s, &ft) == FM_OK) {
            fm_time_format(ft, out);
            return json_string(out);
        }
    }
    if (want == K_NUMBER) {
        double d;
        if (fm_parse_double(s, &d) == FM_OK) return json_real(d);
    }
    if (want == K_BOOL) {
        if (!strcasecmp(s, "true") || !strcmp(s, "1")) return json_true();
        if (!strcasecmp(s, "false") || !strcmp(s, "0")) return json_false();
    }
    return json_string(s);
}

/* The properties of one feature, mapped. New reference. */
static json_t *map_properties(OGRFeatureH f, int gpx)
{
    json_t *props = json_object();
    json_t *found[NMAP] = {0};
    int n = OGR_F_GetFieldCount(f);
    for (int i = 0; i < n; i++) {
        OGRFieldDefnH fd = OGR_F_GetFieldDefnRef(f, i);
        const char *name = OGR_Fld_GetNameRef(fd);
        if (gpx && !strncmp(name, "ogr_", 4)) name += 4;
        if (name_in(name, dropped)) continue;
        int m = -1, rank = 0;
        for (size_t k = 0; k < NMAP && m < 0; k++)
            for (int a = 0; mappings[k].names[a]; a++)
                if (!strcasecmp(name, mappings[k].names[a])) {
                    m = (int)k;
                    rank = a;
                    break;
                }
        json_t *val = field_json(f, fd, i, m >= 0 ? mappings[m].kind : K_STRING);
        if (!val) continue;
        if (m < 0) {
            json_object_set_new(props, name, val);
        } else if (!found[m] || rank == 0) { /* the exact name wins over an alias */
            json_decref(found[m]);
            found[m] = val;
        } else {
            json_decref(val);
        }
    }
    for (size_t k = 0; k < NMAP; k++) {
        if (!found[k]) continue;
        if (!strcmp(mappings[k].field, "altitude")) {
            if (!found[5]) json_object_set(props, "altitude_floor_m", found[k]);
            if (!found[6]) json_object_set(props, "altitude_ceiling_m", found[k]);
            json_decref(found[k]);
        } else {
            json_object_set_new(props, mappings[k].field, found[k]);
        }
    }
    json_object_set_new(props, "status", json_string("draft"));
    return props;
}

/* ---- geometry ---------------------------------------------------------- */

static json_t *geometry_json(OGRGeometryH g, OGRCoordinateTransformationH ct, char *why,
                             size_t n)
{
    OGRGeometryH c = OGR_G_HasCurveGeometry(g, TRUE) ? OGR_G_GetLinearGeometry(g, 0, NULL)
                                                     : OGR_G_Clone(g);
    json_t *out = NULL;
    if (!c) {
        snprintf(why, n, "the geometry could not be read");
        return NULL;
    }
    OGR_G_FlattenTo2D(c);
    if (OGR_G_IsEmpty(c)) {
        snprintf(why, n, "the geometry is empty");
    } else if (ct && OGR_G_Transform(c, ct) != OGRERR_NONE) {
        snprintf(why, n, "the geometry could not be reprojected to WGS84");
    } else {
        char *opts[] = {"SIGNIFICANT_FIGURES=15", NULL};
        char *text = OGR_G_ExportToJsonEx(c, opts);
        out = text ? json_loads(text, 0, NULL) : NULL;
        CPLFree(text);
        if (!out) snprintf(why, n, "the geometry could not be converted to GeoJSON");
    }
    OGR_G_DestroyGeometry(c);
    return out;
}

/* ---- the importing user ------------------------------------------------ */

/* The importing user: the one named, or the party's first liaison (by
 * id), else its first supervisor. */
struct importer {
    const char *party;
    struct store_user found; /* id 0: none yet */
    int found_rank;          /* 1 liaison, 2 supervisor */
    char name[64], found_party[16], role[16];
};

static void importer_keep(struct importer *im, const struct store_user *u, int rank)
{
    im->found = *u;
    im->found_rank = rank;
    snprintf(im->name, sizeof im->name, "%s", u->name);
    snprintf(im->found_party, sizeof im->found_party, "%s", u->party);
    snprintf(im->role, sizeof im->role, "%s", u->role);
}

static int importer_named(void *ctx, const struct store_user *u)
{
    importer_keep(ctx, u, 0);
    return 1;
}

static int importer_of_party(void *ctx, const struct store_user *u)
{
    struct importer *im = ctx;
    int rank = !strcmp(u->role, "liaison") ? 1 : !strcmp(u->role, "supervisor") ? 2 : 0;
    if (strcmp(u->party, im->party) != 0 || !rank) return 0;
    if (!im->found_rank || rank < im->found_rank) importer_keep(im, u, rank);
    return 0; /* users come by id: the first of the best rank stays */
}

fm_rc data_import_viewer(struct data_db *db, const char *party, const char *name,
                         struct data_viewer *out, struct fm_err *err)
{
    memset(out, 0, sizeof *out);
    struct importer im = {.party = party};
    const struct store_ops *ops = store_of(db);
    fm_rc rc = name ? ops->user_get(db, name, importer_named, &im, err)
                    : ops->users_each(db, 1, importer_of_party, &im, err);
    if (rc == FM_ENOTFOUND || (!rc && !im.found.id))
        return name ? fm_fail(err, FM_ENOTFOUND, "--user", "no user %s", name)
                    : fm_fail(err, FM_ENOTFOUND, "--party",
                              "party %s has no liaison or supervisor to import as (or no such"
                              " party)",
                              party);
    if (rc) return rc;
    out->user_id = im.found.id;
    snprintf(out->user, sizeof out->user, "%s", im.name);
    snprintf(out->party, sizeof out->party, "%s", im.found_party);
    if (data_role_parse(im.role, &out->role)) out->role = DATA_ROLE_NONE;
    if (strcmp(out->party, party) != 0)
        return fm_fail(err, FM_EINVAL, "--user", "user %s belongs to party %s, not %s", out->user,
                       out->party, party);
    if (out->role != DATA_ROLE_LIAISON && out->role != DATA_ROLE_SUPERVISOR)
        return fm_fail(err, FM_EFORBID, "--user", "user %s is a %s and may not import", out->user,
                       data_role_name(out->role));
    return FM_OK;
}

/* ---- the import -------------------------------------------------------- */

struct source {
    char path[1100];
    const char *drivers[3];
    int gpx, shp;
};

/* A Shapefile layer GDAL gives no CRS: when its .prj exists and holds
 * anything, GDAL could not read it (the driver drops such a .prj without a
 * word) and the layer would be taken as WGS84 in the wrong place. Only a
 * Shapefile with no .prj, or an empty one, is WGS84. */
static fm_rc prj_check(const char *shp, const char *lname, struct fm_err *err)
{
    char prj[sizeof ((struct source *)0)->path];
    size_t n = strlen(shp);
    if (n < 4 || n >= sizeof prj) return FM_OK;
    for (int upper = 0; upper < 2; upper++) {
        snprintf(prj, sizeof prj, "%.*s%s", (int)(n - 4), shp, upper ? ".PRJ" : ".prj");
        VSILFILE *f = VSIFOpenL(prj, "rb");
        if (!f) continue;
        char head[48] = "";
        size_t got = VSIFReadL(head, 1, sizeof head - 1, f);
        VSIFCloseL(f);
        head[got] = '\0';
        const char *c = head;
        while (*c && isspace((unsigned char)*c)) c++;
        if (!*c) return FM_OK; /* empty: no CRS, as without a .prj */
        char shown[41];
        size_t k = 0;
        for (; c[k] && k + 1 < sizeof shown; k++)
            shown[k] = isprint((unsigned char)c[k]) ? c[k] : '?';
        shown[k] = '\0';
        return fm_fail(err, FM_EINVAL, "",
                       "layer %.60s: its .prj is not a coordinate reference system GDAL and PROJ "
                       "can read (it begins \"%s\"): fix it, or remove it for WGS84",
                       lname, shown);
    }
    return FM_OK;
}

static fm_rc open_source(const struct source *s, int csv, GDALDatasetH *ds, struct gdal_msgs *m,
                         const char *format, struct fm_err *err)
{
    static const char *const csv_opts[] = {
        "X_POSSIBLE_NAMES=lon,longitude,lng,long,x", "Y_POSSIBLE_NAMES=lat,latitude,y",
        "GEOM_POSSIBLE_NAMES=wkt,geometry,geom,the_geom", "KEEP_GEOM_COLUMNS=NO", NULL};
    *ds = GDALOpenEx(s->path, GDAL_OF_VECTOR | GDAL_OF_READONLY, s->drivers,
                     csv ? csv_opts : NULL, NULL);
    if (!*ds)
        return fm_fail(err, FM_EINVAL, "", "the file is not a readable %s file%s%s", format,
                       m->count ? ": " : "", m->count ? m->first : "");
    if (m->count) {
        GDALClose(*ds);
        *ds = NULL;
        return fm_fail(err, FM_EINVAL, "", "the %s file is not usable: %s", format, m->first);
    }
    return FM_OK;
}

struct run {
    struct data_db *db;
    const struct data_viewer *v;
    enum data_coll c;
    const struct data_import_opts *o;
    const struct data_limits *lim;
    json_t *created, *refused;
    long index, total;
    struct gdal_msgs *m;
};

static void refuse(struct run *r, const char *layer, const char *pointer, const char *reason)
{
    char ptr[160];
    snprintf(ptr, sizeof ptr, "/features/%ld%s", r->index, pointer ? pointer : "");
    json_array_append_new(r->refused, json_pack("{s:I,s:s,s:s,s:s}", "index", (json_int_t)r->index,
                                                "layer", layer, "pointer", ptr, "reason", reason));
}

/* One layer's features into the open transaction. */
static fm_rc import_layer(struct run *r, OGRLayerH l, const struct source *s, struct fm_err *err)
{
    int gpx = s->gpx;
    const char *lname = OGR_L_GetName(l);
    OGRCoordinateTransformationH ct = NULL;
    OGRSpatialReferenceH src = NULL, dst = NULL;
    fm_rc rc = FM_OK;
    OGRSpatialReferenceH declared = OGR_L_GetSpatialRef(l);
    if (r->m->count) { /* e.g. a .prj PROJ cannot parse: the layer then has none */
        rc = fm_fail(err, FM_EINVAL, "", "layer %s declares a CRS PROJ cannot use: %s", lname,
                     r->m->first);
        goto done;
    }
    if (!declared && s->shp && (rc = prj_check(s->path, lname, err))) goto done;
    if (declared) {
        src = OSRClone(declared);
        dst = OSRNewSpatialReference(NULL);
        OSRSetAxisMappingStrategy(src, OAMS_TRADITIONAL_GIS_ORDER);
        if (OSRImportFromEPSG(dst, 4326) != OGRERR_NONE) {
            rc = fm_fail(err, FM_EINTERNAL, NULL, "PROJ does not know EPSG:4326 (no proj.db?)");
            goto done;
        }
        OSRSetAxisMappingStrategy(dst, OAMS_TRADITIONAL_GIS_ORDER);
        if (!OSRIsSame(src, dst)) {
            ct = OCTNewCoordinateTransformation(src, dst);
            if (!ct) {
                const char *nm = OSRGetName(src);
                rc = fm_fail(err, FM_EINVAL, "",
                             "layer %s: PROJ cannot transform its CRS (%s) to WGS84%s%s", lname,
                             nm ? nm : "unnamed", r->m->count ? ": " : "",
                             r->m->count ? r->m->first : "");
                goto done;
            }
        }
    }
    if (declared && r->m->count) { /* PROJ complained about the declared CRS */
        const char *nm = OSRGetName(declared);
        rc = fm_fail(err, FM_EINVAL, "", "layer %s: PROJ cannot use its CRS (%s): %s", lname,
                     nm ? nm : "unnamed", r->m->first);
        goto done;
    }
    OGR_L_ResetReading(l);
    OGRFeatureH f;
    while ((f = OGR_L_GetNextFeature(l)) != NULL) {
        if (r->m->count) {
            OGR_F_Destroy(f);
            break;
        }
        char why[200];
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        json_t *geom = g ? geometry_json(g, ct, why, sizeof why) : NULL;
        if (!g) snprintf(why, sizeof why, "the feature has no geometry");
        if (!geom) {
            refuse(r, lname, "/geometry", why);
        } else {
            json_t *props = map_properties(f, gpx);
            json_t *feature = json_pack("{s:s,s:o,s:o}", "type", "Feature", "geometry", geom,
                                        "properties", props);
            json_t *created = NULL;
            struct fm_err ferr;
            fm_err_clear(&ferr);
            const struct store_ops *ops = store_of(r->db);
            if ((rc = ops->savepoint(r->db, err))) {
                json_decref(feature);
                OGR_F_Destroy(f);
                goto done;
            }
            fm_rc frc = item_create_in_tx(r->db, r->v, r->c, feature, r->lim, &created, &ferr);
            json_decref(feature);
            if (frc == FM_OK) {
                json_t *p = json_object_get(created, "properties");
                json_array_append_new(
                    r->created,
                    json_pack("{s:I,s:s,s:O,s:O}", "index", (json_int_t)r->index, "layer", lname,
                              "id", json_object_get(created, "id"), "title",
                              json_object_get(p, "title") ? json_object_get(p, "title")
                                                          : json_null()));
                json_decref(created);
                rc = ops->savepoint_release(r->db, err);
            } else if (frc == FM_EINVAL || frc == FM_ETOOBIG || frc == FM_ECONFLICT) {
                refuse(r, lname, ferr.pointer, ferr.msg);
                rc = ops->savepoint_undo(r->db, err);
            } else {
                *err = ferr;
                rc = frc;
            }
            if (rc) {
                OGR_F_Destroy(f);
                goto done;
            }
        }
        OGR_F_Destroy(f);
        r->index++;
        if (r->index > r->o->max_features) {
            rc = fm_fail(err, FM_ETOOBIG, "", "the file has more than %ld features (the limit)",
                         r->o->max_features);
            goto done;
        }
        if (r->o->progress && (r->index % 500 == 0 || r->index == r->total))
            r->o->progress(r->o->progress_ctx, r->index, r->total);
    }
    if (r->m->count && ct)
        rc = fm_fail(err, FM_EINVAL, "", "layer %s could not be read or reprojected from its CRS (%s)"
                     " to WGS84: %s", lname, OSRGetName(declared) ? OSRGetName(declared) : "unnamed",
                     r->m->first);
    else if (r->m->count)
        rc = fm_fail(err, FM_EINVAL, "", "layer %s could not be read: %s", lname, r->m->first);
done:
    if (ct) OCTDestroyCoordinateTransformation(ct);
    if (src) OSRDestroySpatialReference(src);
    if (dst) OSRDestroySpatialReference(dst);
    return rc;
}

static int skip_layer(int gpx, OGRLayerH l)
{
    const char *n = OGR_L_GetName(l);
    return gpx && (!strcmp(n, "route_points") || !strcmp(n, "track_points"));
}

fm_rc data_import(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                  const char *path, const struct data_import_opts *o,
                  const struct data_limits *lim, json_t **report, struct fm_err *err)
{
    *report = NULL;
    const char *format = o->format ? o->format : data_format_from_name(path);
    if (!format || !known_format(format))
        return fm_fail(err, FM_EINVAL, "format",
                       "unknown file format; use geojson, kml, kmz, gpx, gpkg, shp (zipped) or csv");
    if (v->role != DATA_ROLE_LIAISON && v->role != DATA_ROLE_SUPERVISOR)
        return fm_fail(err, FM_EFORBID, NULL, "a %s may not import", data_role_name(v->role));
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
        return fm_fail(err, FM_EIO, NULL, "cannot read %s", path);
    if ((int64_t)sb.st_size > o->max_file_bytes)
        return fm_fail(err, FM_ETOOBIG, "", "the file is larger than %" PRId64 " bytes",
                       o->max_file_bytes);
    if (sb.st_size == 0) return fm_fail(err, FM_EINVAL, "", "the file is empty");

    struct source src[MAX_MEMBERS];
    int nsrc = 1;
    memset(src, 0, sizeof src);
    snprintf(src[0].path, sizeof src[0].path, "%s", path);
    struct zip_info zi;
    fm_rc rc = FM_OK;
    if (!strcmp(format, "kmz") || !strcmp(format, "shp")) {
        if ((rc = zip_check(path, o, !strcmp(format, "kmz") ? ".kml" : ".shp", &zi, err)))
            return rc;
    }
    if (!strcmp(format, "csv") && (rc = csv_check(path, err))) return rc;
    if (!strcmp(format, "geojson") && (rc = geojson_crs_check(path, err))) return rc;
    if (!strcmp(format, "geojson")) src[0].drivers[0] = "GeoJSON";
    if (!strcmp(format, "kml") || !strcmp(format, "kmz")) {
        src[0].drivers[0] = "LIBKML";
        src[0].drivers[1] = "KML";
    }
    if (!strcmp(format, "kmz")) {
        /* every KML inside (LIBKML's own KMZ puts a doc.kml of network
         * links beside layers/NAME.kml), through GDAL's /vsizip/ as checked
         * above, not libkml's unzip (which leaks on a damaged archive) */
        if (zi.n == 0) return fm_fail(err, FM_EINVAL, "", "the KMZ holds no .kml file");
        nsrc = zi.n;
        for (int i = 0; i < nsrc; i++) {
            snprintf(src[i].path, sizeof src[i].path, "/vsizip/%s/%s", path, zi.member[i]);
            src[i].drivers[0] = "LIBKML";
            src[i].drivers[1] = "KML";
        }
    }
    if (!strcmp(format, "gpx")) src[0].drivers[0] = "GPX", src[0].gpx = 1;
    if (!strcmp(format, "gpkg")) src[0].drivers[0] = "GPKG";
    if (!strcmp(format, "csv")) src[0].drivers[0] = "CSV";
    if (!strcmp(format, "shp")) {
        if (zi.n == 0)
            return fm_fail(err, FM_EINVAL, "", "the zip archive holds no .shp file");
        nsrc = zi.n;
        for (int i = 0; i < nsrc; i++) {
            snprintf(src[i].path, sizeof src[i].path, "/vsizip/%s/%s", path, zi.member[i]);
            src[i].drivers[0] = "ESRI Shapefile";
            src[i].shp = 1;
        }
    }

    data_gdal_init();
    struct gdal_msgs m = {0, ""};
    CPLPushErrorHandlerEx(collect, &m);
    GDALDatasetH ds[MAX_MEMBERS] = {0};
    struct run r = {db, v, c, o, lim, json_array(), json_array(), 0, 0, &m};
    int in_tx = 0;
    for (int i = 0; i < nsrc; i++) {
        if ((rc = open_source(&src[i], !strcmp(format, "csv"), &ds[i], &m, format, err))) goto done;
        for (int k = 0; k < GDALDatasetGetLayerCount(ds[i]); k++) {
            OGRLayerH l = GDALDatasetGetLayer(ds[i], k);
            if (!skip_layer(src[i].gpx, l)) r.total += (long)OGR_L_GetFeatureCount(l, TRUE);
        }
    }
    if (m.count) {
        rc = fm_fail(err, FM_EINVAL, "", "the %s file is not usable: %s", format, m.first);
        goto done;
    }
    if (r.total > o->max_features) {
        rc = fm_fail(err, FM_ETOOBIG, "", "the file has %ld features; the limit is %ld", r.total,
                     o->max_features);
        goto done;
    }
    const struct store_ops *ops = store_of(db);
    if ((rc = ops->begin(db, err))) goto done;
    in_tx = 1;
    for (int i = 0; i < nsrc; i++)
        for (int k = 0; k < GDALDatasetGetLayerCount(ds[i]); k++) {
            OGRLayerH l = GDALDatasetGetLayer(ds[i], k);
            if (skip_layer(src[i].gpx, l)) continue;
            if ((rc = import_layer(&r, l, &src[i], err))) goto done;
        }
    if (r.index == 0) {
        rc = fm_fail(err, FM_EINVAL, "", "the file holds no features");
        goto done;
    }
    size_t nref = json_array_size(r.refused);
    int commit = !o->dry_run && (o->skip_bad || nref == 0);
    if (commit) {
        if ((rc = ops->commit(db, err))) goto done;
    } else {
        ops->rollback(db);
    }
    in_tx = 0;
    *report = json_pack("{s:s,s:s,s:I,s:b,s:b,s:b,s:O,s:O}", "collection", data_coll_name(c),
                        "format", format, "features", (json_int_t)r.index, "dry_run", o->dry_run,
                        "skip_bad", o->skip_bad, "committed", commit, "created", r.created,
                        "refused", r.refused);
done:
    if (in_tx) store_of(db)->rollback(db);
    for (int i = 0; i < nsrc; i++)
        if (ds[i]) GDALClose(ds[i]);
    CPLPopErrorHandler();
    json_decref(r.created);
    json_decref(r.refused);
    return rc;
}

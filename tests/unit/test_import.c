/* test_import.c - data/import.c and data/export.c through their public
 * functions, with files made here: the zip central-directory checks (member
 * paths, damage, bombs), the CSV pre-check (quotes, CRLF, a BOM, row
 * widths), OGR's own time format, the attribute mapping, all-or-nothing,
 * and export -> import of every format leaving the features as they were.
 * Each case also checks that a refused file wrote nothing. */
#define _LARGEFILE64_SOURCE 1 /* VSIStatBufL is a struct stat64 */
#include "check.h"
#include "data.h"
#include "interop.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_http.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <ogr_srs_api.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char dir[64];
static struct data_db *db;
static struct data_viewer liaison;
static struct data_limits lim;

static const char *write_file(const char *name, const void *bytes, size_t n)
{
    static char path[160];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    fwrite(bytes, 1, n, f);
    fclose(f);
    return path;
}

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static int64_t last_event(void)
{
    int64_t seq = -1;
    struct fm_err err;
    data_events_last(db, &seq, &err);
    return seq;
}

/* Imports; returns the rc, *report set when the file was read. */
static fm_rc run(const char *path, enum data_coll c, const char *format, int dry, json_t **report,
                 struct fm_err *err)
{
    struct data_import_opts o;
    data_import_opts_default(&o);
    o.format = format;
    o.dry_run = dry;
    fm_err_clear(err);
    return data_import(db, &liaison, c, path, &o, &lim, report, err);
}

static void put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}
static void put32(unsigned char *p, uint32_t v)
{
    put16(p, v & 0xFFFF);
    put16(p + 2, v >> 16);
}

/* A zip with one stored member: name, declared sizes. */
static size_t make_zip(unsigned char *out, const char *name, uint32_t csize, uint32_t usize,
                       const char *data)
{
    size_t nlen = strlen(name), dlen = strlen(data), pos = 0;
    unsigned char *l = out; /* local header */
    memset(l, 0, 30);
    put32(l, 0x04034b50);
    put32(l + 18, csize);
    put32(l + 22, usize);
    put16(l + 26, (unsigned)nlen);
    memcpy(l + 30, name, nlen);
    memcpy(l + 30 + nlen, data, dlen);
    pos = 30 + nlen + dlen;
    size_t cd = pos;
    unsigned char *c = out + pos;
    memset(c, 0, 46);
    put32(c, 0x02014b50);
    put32(c + 20, csize);
    put32(c + 24, usize);
    put16(c + 28, (unsigned)nlen);
    memcpy(c + 46, name, nlen);
    pos += 46 + nlen;
    unsigned char *e = out + pos;
    memset(e, 0, 22);
    put32(e, 0x06054b50);
    put16(e + 8, 1);
    put16(e + 10, 1);
    put32(e + 12, (uint32_t)(46 + nlen));
    put32(e + 16, (uint32_t)cd);
    return pos + 22;
}

static void zip_cases(void)
{
    static const struct {
        const char *name;
        uint32_t csize, usize;
        fm_rc want;
        const char *msg;
    } cases[] = {
        {"../evil.kml", 4, 4, FM_EINVAL, "unsafe path"},
        {"a/../../evil.kml", 4, 4, FM_EINVAL, "unsafe path"},
        {"/etc/evil.kml", 4, 4, FM_EINVAL, "unsafe path"},
        {"C:evil.kml", 4, 4, FM_EINVAL, "unsafe path"},
        {"a\\..\\evil.kml", 4, 4, FM_EINVAL, "unsafe path"},
        {"big.kml", 1000, 50u << 20, FM_ETOOBIG, "zip bomb"},
        {"huge.kml", 200u << 20, 300u << 20, FM_ETOOBIG, "zip bomb"},
        {"z64.kml", 0xFFFFFFFFu, 4, FM_EINVAL, "ZIP64"},
        {"..fine..kml", 4, 4, FM_EINVAL, "not a readable"}, /* a legal name; not KML */
    };
    unsigned char zip[512];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t n = make_zip(zip, cases[i].name, cases[i].csize, cases[i].usize, "abcd");
        const char *path = write_file("t.kmz", zip, n);
        struct fm_err err;
        json_t *report = NULL;
        int64_t before = last_event();
        fm_rc rc = run(path, DATA_INCIDENTS, "kmz", 0, &report, &err);
        CHECK(rc == cases[i].want && strstr(err.msg, cases[i].msg) && !report &&
                  last_event() == before,
              "zip member %s: rc %d (%s)", cases[i].name, rc, err.msg);
        json_decref(report);
    }
    /* damaged: the central directory points past the end */
    size_t n = make_zip(zip, "doc.kml", 4, 4, "abcd");
    put32(zip + n - 6, 100000);
    struct fm_err err;
    json_t *report = NULL;
    CHECK(run(write_file("t.zip", zip, n), DATA_ZONES, "shp", 0, &report, &err) == FM_EINVAL &&
              strstr(err.msg, "damaged"),
          "damaged zip: %s", err.msg);
    CHECK(run(write_file("t.zip", "PK", 2), DATA_ZONES, "shp", 0, &report, &err) == FM_EINVAL &&
              strstr(err.msg, "not a zip"),
          "two bytes: %s", err.msg);
    n = make_zip(zip, "readme.txt", 4, 4, "abcd");
    CHECK(run(write_file("t.zip", zip, n), DATA_ZONES, "shp", 0, &report, &err) == FM_EINVAL &&
              strstr(err.msg, "no .shp"),
          "zip without a shapefile: %s", err.msg);
}

static void csv_cases(void)
{
    static const struct {
        const char *text;
        fm_rc want;
        const char *msg;
    } cases[] = {
        {"title,lon,lat\r\na,35.1,32.1\r\nb,35.2,32.2,x\r\n", FM_EINVAL, "row 3 has 4 columns"},
        {"title,lon,lat\na,35.1\n", FM_EINVAL, "row 2 has 2 columns"},
        {"title,lon,lat\n\"a, \"\"quoted\"\"\nline\",35.1,32.1\n", FM_OK, NULL},
        {"\xEF\xBB\xBFlon,lat,title\n35.1,32.1,bom\n", FM_OK, NULL},
        {"WKT,lon,lat\n\"POINT (1 2)\",1,2\n", FM_EINVAL, "both a WKT column"},
        {"title,where\na,b\n", FM_EINVAL, "needs a WKT column"},
        {"title,lon,lat\n\"a,35.1,32.1\n", FM_EINVAL, "never ends"},
        {"", FM_EINVAL, "empty"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *path = write_file("t.csv", cases[i].text, strlen(cases[i].text));
        struct fm_err err;
        json_t *report = NULL;
        int64_t before = last_event();
        fm_rc rc = run(path, DATA_INCIDENTS, NULL, 1, &report, &err);
        CHECK(rc == cases[i].want && (!cases[i].msg || strstr(err.msg, cases[i].msg)) &&
                  last_event() == before,
              "csv case %zu: rc %d (%s)", i, rc, err.msg);
        if (rc == FM_OK)
            CHECK(json_array_size(json_object_get(report, "created")) == 1,
                  "csv case %zu creates one", i);
        json_decref(report);
    }
}

static void mapping_cases(void)
{
    /* OGR's own time text, aliases, a single altitude, a status ignored */
    const char *csv = "WKT,Name,descr,begin,end,ele,status,colour\n"
                      "\"POLYGON ((35.1 32.1,35.2 32.1,35.2 32.2,35.1 32.1))\",Mapped,"
                      "words,2026/11/25 08:30:00+02,2026/11/26 00:00:00,250,active,red\n";
    struct fm_err err;
    json_t *report = NULL;
    fm_rc rc = run(write_file("m.csv", csv, strlen(csv)), DATA_ZONES, NULL, 0, &report, &err);
    CHECK(rc == FM_OK && json_is_true(json_object_get(report, "committed")), "mapping import: %s",
          err.msg);
    json_int_t id = json_integer_value(
        json_object_get(json_array_get(json_object_get(report, "created"), 0), "id"));
    json_decref(report);
    json_t *f = NULL;
    CHECK(data_item_get(db, &liaison, DATA_ZONES, id, &f, &err) == FM_OK, "get %lld", (long long)id);
    json_t *p = json_object_get(f, "properties");
    CHECK(!strcmp(str(p, "title"), "Mapped"), "title from Name");
    CHECK(!strcmp(str(p, "description"), "words"),
          "description from descr");
    CHECK(!strcmp(str(p, "valid_from"), "2026-11-25T06:30:00Z"),
          "valid_from from OGR's time with +02: %s",
          json_string_value(json_object_get(p, "valid_from")));
    CHECK(!strcmp(str(p, "valid_to"), "2026-11-26T00:00:00Z"),
          "valid_to without a zone is UTC");
    CHECK(json_number_value(json_object_get(p, "altitude_floor_m")) == 250 &&
              json_number_value(json_object_get(p, "altitude_ceiling_m")) == 250,
          "ele is both floor and ceiling");
    CHECK(!strcmp(str(p, "status"), "draft"),
          "the file's status is ignored: a draft");
    CHECK(!strcmp(str(p, "colour"), "red"),
          "an unknown attribute is a free property");
    CHECK(!json_object_get(p, "Name") && !json_object_get(p, "ele"), "aliases are consumed");
    json_decref(f);
}

static void all_or_nothing(void)
{
    const char *gj =
        "{\"type\":\"FeatureCollection\",\"features\":["
        "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[35,32]},"
        "\"properties\":{\"title\":\"ok\"}},"
        "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[35,32]},"
        "\"properties\":{\"title\":\"bad\",\"severity\":9}},"
        "{\"type\":\"Feature\",\"geometry\":null,\"properties\":{\"title\":\"none\"}}]}";
    const char *path = write_file("a.geojson", gj, strlen(gj));
    struct fm_err err;
    json_t *report = NULL;
    int64_t before = last_event();
    CHECK(run(path, DATA_INCIDENTS, NULL, 0, &report, &err) == FM_OK, "read: %s", err.msg);
    json_t *refused = json_object_get(report, "refused");
    CHECK(!json_is_true(json_object_get(report, "committed")) && json_array_size(refused) == 2 &&
              last_event() == before,
          "two refused, nothing written");
    CHECK(!strcmp(str(json_array_get(refused, 0), "pointer"),
                  "/features/1/properties/severity"),
          "pointer of the bad severity");
    CHECK(!strcmp(str(json_array_get(refused, 1), "pointer"),
                  "/features/2/geometry"),
          "pointer of the missing geometry");
    json_decref(report);
    struct data_import_opts o;
    data_import_opts_default(&o);
    o.skip_bad = 1;
    CHECK(data_import(db, &liaison, DATA_INCIDENTS, path, &o, &lim, &report, &err) == FM_OK &&
              json_is_true(json_object_get(report, "committed")) &&
              json_array_size(json_object_get(report, "created")) == 1 && last_event() > before,
          "skip_bad writes the good one");
    json_decref(report);
    struct data_viewer viewer = liaison;
    viewer.role = DATA_ROLE_VIEWER;
    CHECK(data_import(db, &viewer, DATA_INCIDENTS, path, &o, &lim, &report, &err) == FM_EFORBID,
          "a viewer may not import");
}

/* export -> import -> export of the liaison's incidents leaves them equal */
static void export_cases(void)
{
    static const char *const formats[] = {"geojson", "kml", "gpx", "gpkg", "shp", "csv"};
    struct data_query q;
    memset(&q, 0, sizeof q);
    q.coll = DATA_INCIDENTS;
    q.limit = 10000;
    for (size_t i = 0; i < sizeof formats / sizeof *formats; i++) {
        char *bytes = NULL;
        size_t len = 0;
        const char *ctype, *ext;
        struct fm_err err;
        fm_rc rc = data_export(db, &liaison, &q, formats[i], 1000, &bytes, &len, &ctype, &ext, &err);
        CHECK(rc == FM_OK && len > 0, "export %s: %s", formats[i], err.msg);
        if (rc) continue;
        char name[32];
        snprintf(name, sizeof name, "e.%s", ext);
        const char *path = write_file(name, bytes, len);
        free(bytes);
        json_t *report = NULL;
        rc = run(path, DATA_INCIDENTS, formats[i], 1, &report, &err);
        json_t *created = json_object_get(report, "created");
        CHECK(rc == FM_OK && json_array_size(json_object_get(report, "refused")) == 0 &&
                  json_array_size(created) >= 2,
              "%s back in: rc %d %s", formats[i], rc, err.msg);
        json_decref(report);
    }
    char *bytes;
    size_t len;
    const char *ctype, *ext;
    struct fm_err err;
    q.coll = DATA_ZONES;
    CHECK(data_export(db, &liaison, &q, "gpx", 1000, &bytes, &len, &ctype, &ext, &err) ==
              FM_EINVAL && strstr(err.msg, "GPX"),
          "zones as GPX refused");
    CHECK(data_export(db, &liaison, &q, "dxf", 1000, &bytes, &len, &ctype, &ext, &err) == FM_EINVAL,
          "unknown format refused");
    q.coll = DATA_INCIDENTS;
    CHECK(data_export(db, &liaison, &q, "csv", 1, &bytes, &len, &ctype, &ext, &err) == FM_ETOOBIG,
          "more than max_features refused");
}

/* Empty and mixed selections: GPX of nothing, of points, lines and a
 * multi-line (issue 17: 500 "unknown geometry type" before). */
static void export_selection_cases(void)
{
    struct fm_err err;
    json_t *made = NULL;
    json_t *f = json_loads("{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":"
                           "[35.2,32.2]},\"properties\":{\"title\":\"mixed point\",\"type\":\"ground\"}}",
                           0, NULL);
    CHECK(data_item_create(db, &liaison, DATA_MOVEMENTS, f, &lim, &made, &err) == FM_OK,
          "a Point movement: %s", err.msg);
    json_decref(f);
    json_decref(made);
    struct data_query q;
    memset(&q, 0, sizeof q);
    q.coll = DATA_MOVEMENTS;
    q.limit = 10000;
    static const char *const formats[] = {"kml", "gpx", "gpkg", "csv"};
    for (int empty = 0; empty < 2; empty++) {
        q.has_bbox = empty;
        q.bbox[2] = q.bbox[3] = 0.001;
        for (size_t i = 0; i < sizeof formats / sizeof *formats; i++) {
            char *bytes = NULL;
            size_t len = 0;
            const char *ctype, *ext;
            fm_rc rc = data_export(db, &liaison, &q, formats[i], 1000, &bytes, &len, &ctype, &ext, &err);
            CHECK(rc == FM_OK && len > 0, "%s movements as %s: rc %d %s",
                  empty ? "no" : "mixed", formats[i], rc, rc ? err.msg : "");
            if (!rc && !strcmp(formats[i], "gpx") && !empty) {
                const char *w = strstr(bytes, "<wpt"), *r = strstr(bytes, "<rte>");
                CHECK(w && r && w < r, "the GPX has its waypoint before its routes");
            }
            free(bytes);
        }
    }
    char *bytes = NULL;
    size_t len;
    const char *ctype, *ext;
    q.has_bbox = 0;
    CHECK(data_export(db, &liaison, &q, "shp", 1000, &bytes, &len, &ctype, &ext, &err) == FM_EINVAL &&
              strstr(err.msg, "mix points, lines"),
          "mixed movements as a Shapefile: a bad request saying why (%s)", err.msg);
    free(bytes);
}

/* No network (issue 17): after data_gdal_init, none of GDAL's network file
 * systems, CPLHTTPFetch or PROJ's network reaches a listener on 127.0.0.1,
 * even with every endpoint pointed at it. */
static void no_network_cases(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    CHECK(s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0 && listen(s, 16) == 0 &&
              getsockname(s, (struct sockaddr *)&a, &alen) == 0 &&
              fcntl(s, F_SETFL, O_NONBLOCK) == 0,
          "a listener: %s", strerror(errno));
    int port = ntohs(a.sin_port);
    char url[64], host[64], buf[160];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    snprintf(host, sizeof host, "127.0.0.1:%d", port);
    data_gdal_init();
    static const char *const cfg[][2] = {
        {"AWS_HTTPS", "NO"},          {"AWS_VIRTUAL_HOSTING", "FALSE"}, {"AWS_NO_SIGN_REQUEST", "YES"},
        {"GS_NO_SIGN_REQUEST", "YES"}, {"OSS_HTTPS", "NO"},              {"SWIFT_AUTH_TOKEN", "x"},
        {"OSS_SECRET_ACCESS_KEY", "x"}, {"OSS_ACCESS_KEY_ID", "x"},      {"GDAL_HTTP_MAX_RETRY", "0"},
        {"GDAL_HTTP_TIMEOUT", "1"}}; /* bounded, should the listener be reached */
    for (size_t i = 0; i < sizeof cfg / sizeof *cfg; i++) CPLSetConfigOption(cfg[i][0], cfg[i][1]);
    CPLSetConfigOption("AWS_S3_ENDPOINT", host);
    CPLSetConfigOption("OSS_ENDPOINT", host);
    CPLSetConfigOption("CPL_GS_ENDPOINT", url);
    CPLSetConfigOption("SWIFT_STORAGE_URL", url);
    snprintf(buf, sizeof buf, "DefaultEndpointsProtocol=http;AccountName=a;AccountKey=eA==;"
                              "BlobEndpoint=http://127.0.0.1:%d/a", port);
    CPLSetConfigOption("AZURE_STORAGE_CONNECTION_STRING", buf);
    static const char *const fs[] = {"/vsicurl/%s%s",        "/vsicurl_streaming/%s%s",
                                     "/vsis3/bucket/%.0s%s",  "/vsis3_streaming/bucket/%.0s%s",
                                     "/vsigs/bucket/%.0s%s",  "/vsigs_streaming/bucket/%.0s%s",
                                     "/vsiaz/c/%.0s%s",       "/vsiaz_streaming/c/%.0s%s",
                                     "/vsiadls/c/%.0s%s",     "/vsioss/bucket/%.0s%s",
                                     "/vsiswift/c/%.0s%s",    "/vsiwebhdfs/%s%s"};
    CPLPushErrorHandler(CPLQuietErrorHandler);
    for (size_t i = 0; i < sizeof fs / sizeof *fs; i++) {
        snprintf(buf, sizeof buf, fs[i], url, "x.geojson");
        VSIStatBufL st;
        VSILFILE *f = VSIFOpenL(buf, "rb");
        CHECK(!f, "%s opened", buf);
        if (f) VSIFCloseL(f);
        CHECK(VSIStatL(buf, &st) != 0, "%s has a size", buf);
        GDALDatasetH ds = GDALOpenEx(buf, GDAL_OF_VECTOR, NULL, NULL, NULL);
        CHECK(!ds, "GDAL opened %s", buf);
        if (ds) GDALClose(ds);
    }
    CPLHTTPResult *r = CPLHTTPFetch(url, NULL);
    CHECK(r && r->nStatus != 0 && r->nDataLen == 0, "CPLHTTPFetch is refused");
    CPLHTTPDestroyResult(r);
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    CHECK(OSRImportFromUrl(srs, url) != OGRERR_NONE, "OSRImportFromUrl is refused");
    OSRDestroySpatialReference(srs);
    CPLPopErrorHandler();
    CHECK(OSRGetPROJEnableNetwork() == 0, "PROJ's network is off for GDAL");
    const char *pn = getenv("PROJ_NETWORK");
    CHECK(pn && !strcmp(pn, "OFF"), "PROJ_NETWORK=OFF for every other PROJ context");
    usleep(200 * 1000);
    int c = accept(s, NULL, NULL);
    CHECK(c < 0 && (errno == EAGAIN || errno == EWOULDBLOCK), "the listener was reached");
    if (c >= 0) close(c);
    close(s);
    for (size_t i = 0; i < sizeof cfg / sizeof *cfg; i++) CPLSetConfigOption(cfg[i][0], NULL);
    static const char *const more[] = {"AWS_S3_ENDPOINT", "OSS_ENDPOINT", "CPL_GS_ENDPOINT",
                                       "SWIFT_STORAGE_URL", "AZURE_STORAGE_CONNECTION_STRING"};
    for (size_t i = 0; i < sizeof more / sizeof *more; i++) CPLSetConfigOption(more[i], NULL);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/fm_import_XXXXXX");
    if (!mkdtemp(dir)) return 1;
    char path[128];
    snprintf(path, sizeof path, "%s/t.db", dir);
    struct fm_err err;
    int created;
    CHECK(data_open(path, &db, &err) == FM_OK, "open: %s", err.msg);
    CHECK(data_demo_seed(db, &created, &err) == FM_OK, "seed: %s", err.msg);
    CHECK(data_import_viewer(db, "A", NULL, &liaison, &err) == FM_OK &&
              !strcmp(liaison.user, "liaison-a"),
          "party A imports as liaison-a: %s", err.msg);
    struct data_viewer v;
    CHECK(data_import_viewer(db, "A", "liaison-b", &v, &err) == FM_EINVAL, "a user of another party");
    CHECK(data_import_viewer(db, "A", "viewer", &v, &err) != FM_OK, "a viewer user");
    CHECK(data_import_viewer(db, "NOPE", NULL, &v, &err) == FM_ENOTFOUND, "an unknown party");
    data_limits_default(&lim);
    zip_cases();
    csv_cases();
    mapping_cases();
    all_or_nothing();
    export_cases();
    export_selection_cases();
    no_network_cases();
    data_close(db);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) return 1;
    return SUMMARY();
}

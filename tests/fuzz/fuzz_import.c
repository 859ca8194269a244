/* fuzz_import.c - an uploaded file as POST /import reads it. The first
 * byte picks the format (CSV, KMZ, zipped Shapefile, GeoJSON, GPX, KML),
 * the rest is the file. Every input must end in a report (FM_OK) or a
 * clean error that says why, and a dry run must write nothing. */
#include "data.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct data_db *db;
static struct data_viewer liaison;
static char dir[64];

static void setup(void)
{
    struct fm_err err;
    int created;
    char path[128];
    snprintf(dir, sizeof dir, "/tmp/fm_fuzz_import_XXXXXX");
    if (!mkdtemp(dir)) abort();
    snprintf(path, sizeof path, "%s/t.db", dir);
    if (data_open(path, &db, &err) || data_demo_seed(db, &created, &err) ||
        data_import_viewer(db, "A", NULL, &liaison, &err))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const formats[] = {"csv", "kmz", "shp", "geojson", "gpx", "kml"};
    if (!db) setup();
    if (size < 1) return 0;
    const char *format = formats[data[0] % 6];
    char path[128];
    snprintf(path, sizeof path, "%s/upload.%s", dir, format);
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    fwrite(data + 1, 1, size - 1, f);
    fclose(f);

    struct data_import_opts o;
    data_import_opts_default(&o);
    o.format = format;
    o.dry_run = 1;
    o.max_features = 50;
    struct data_limits lim;
    data_limits_default(&lim);
    lim.max_vertices = 1000;
    struct fm_err err;
    fm_err_clear(&err);
    int64_t before = 0, after = 0;
    data_events_last(db, &before, &err);
    json_t *report = NULL;
    fm_rc rc = data_import(db, &liaison, (enum data_coll)(data[0] / 6 % 3), path, &o, &lim,
                           &report, &err);
    if (rc == FM_OK && (!report || json_is_true(json_object_get(report, "committed")))) abort();
    if (rc != FM_OK && (report || err.msg[0] == '\0')) abort();
    json_decref(report);
    data_events_last(db, &after, &err);
    if (after != before) abort(); /* a dry run wrote something */
    unlink(path);
    return 0;
}

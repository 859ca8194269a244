/* export.c - a collection out to the files other tools read, through GDAL.
 *
 * The items come from data_items_query (visibility, filters and as-of
 * applied), never from GDAL reading the database. They are written as
 * one GeoJSON FeatureCollection into /vsimem/, which GDALVectorTranslate
 * (ogr2ogr's library form) turns into the format asked for, still in
 * /vsimem/; the bytes are copied out and the memory files removed.
 *
 *   geojson  the FeatureCollection itself
 *   kml      GDAL's KML writer (LIBKML's took 58 s for 5,000 points, this
 *            one 0.3 s); <name> from title, <description> from
 *            description, every property in ExtendedData
 *   gpx      points as waypoints, LineStrings as routes, MultiLineStrings
 *            as tracks; name and desc from title and description, every
 *            property as an extension; zones and polygons are refused
 *   gpkg     one layer named after the collection, DateTime fields
 *   shp      a zipped Shapefile (.shp.zip); one geometry family only
 *            (Shapefile's rule), so mixed movements are refused; points
 *            as Point when every item is a Point (MultiPoint only when
 *            some item is one: a Shapefile holds one or the other), lines
 *            and areas as their multi types (the same Shapefile types);
 *            field names cut to 10 characters by the driver
 *   csv      a WKT column first, then the properties; numbers bare,
 *            texts quoted when they could be read as numbers (GDAL 3.6
 *            quotes Integer fields, so they go out as Real: "4" is 4)
 * Every feature carries fm_id (the server's id) and version as properties.
 * Times travel as RFC 3339 strings except in GeoPackage.
 */
#include "internal.h"
#include "interop.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <gdal_utils.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EXPORT_BYTES ((size_t)512 << 20)

struct fmt {
    const char *name, *driver, *ext, *ctype;
};

static const struct fmt formats[] = {
    {"geojson", NULL, "geojson", "application/geo+json"},
    {"kml", "KML", "kml", "application/vnd.google-earth.kml+xml"},
    {"gpx", "GPX", "gpx", "application/gpx+xml"},
    {"gpkg", "GPKG", "gpkg", "application/geopackage+sqlite3"},
    {"shp", "ESRI Shapefile", "shp.zip", "application/zip"},
    {"csv", "CSV", "csv", "text/csv; charset=utf-8"},
};

enum { G_POINT = 1, G_MPOINT = 2, G_LINE = 4, G_MLINE = 8, G_POLY = 16, G_MPOLY = 32 };

static int geom_bit(const char *t)
{
    static const char *const names[] = {"Point", "MultiPoint", "LineString", "MultiLineString",
                                        "Polygon", "MultiPolygon"};
    for (int i = 0; i < 6; i++)
        if (t && !strcmp(t, names[i])) return 1 << i;
    return 0;
}

struct collect {
    struct fm_buf out;
    const struct fmt *f;
    long count, max;
    int kinds;
    int too_big;
    struct fm_err bad; /* a feature the format cannot hold */
    int refused;
};

static int add_row(void *ctx, const struct data_item_row *row)
{
    struct collect *c = ctx;
    if (++c->count > c->max) {
        c->too_big = 1;
        return 1;
    }
    json_t *feat = json_loads(row->feature, 0, NULL);
    if (!feat) {
        c->too_big = 1;
        return 1;
    }
    const char *gt = json_string_value(json_object_get(json_object_get(feat, "geometry"), "type"));
    int bit = geom_bit(gt);
    c->kinds |= bit;
    json_t *props = json_object_get(feat, "properties");
    /* the server's id and version on every exported feature, so that a
     * file can be joined back (a format's own feature id is not kept) */
    json_object_set_new(props, "fm_id", json_integer(row->id));
    json_object_set_new(props, "version", json_integer(row->version));
    if (!strcmp(c->f->name, "gpx")) {
        if (bit & (G_POLY | G_MPOLY | G_MPOINT)) {
            fm_fail(&c->bad, FM_EINVAL, "f",
                    "%s item %" PRId64 " is a %s, which GPX cannot hold (GPX has waypoints, "
                    "routes and tracks): use kml, gpkg or geojson",
                    data_coll_name(row->coll), row->id, gt ? gt : "geometry");
            c->refused = 1;
            json_decref(feat);
            return 1;
        }
        const json_t *t = json_object_get(props, "title"), *d = json_object_get(props, "description");
        if (t) json_object_set(props, "name", (json_t *)t);
        if (d) json_object_set(props, "desc", (json_t *)d);
    }
    char *text = json_dumps(feat, JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(feat);
    if (!text || (c->count > 1 && fm_buf_adds(&c->out, ",")) || fm_buf_adds(&c->out, text))
        c->too_big = 1;
    free(text);
    return c->too_big;
}

struct gdal_msgs {
    int count;
    char first[200];
};

static void CPL_STDCALL collect_msg(CPLErr cls, CPLErrorNum no, const char *msg)
{
    (void)no;
    struct gdal_msgs *m = CPLGetErrorHandlerUserData();
    if (!m || cls < CE_Failure) return; /* warnings (field name laundering) are expected */
    if (m->count++ == 0) snprintf(m->first, sizeof m->first, "%s", msg ? msg : "?");
}

/* GPX keeps each kind of geometry in its own list, in this order (GPX 1.1
 * wants every wpt before any rte before any trk), and GDAL's GPX writer
 * takes one kind per layer: a selection that mixes them goes out as up
 * to three layers, each picked from the items by OGR_GEOMETRY. */
static const struct gpx_part {
    int bit;
    const char *layer, *type, *where;
} gpx_parts[] = {
    {G_POINT, "waypoints", "POINT", "OGR_GEOMETRY = 'POINT'"},
    {G_LINE, "routes", "LINESTRING", "OGR_GEOMETRY = 'LINESTRING'"},
    {G_MLINE, "tracks", "MULTILINESTRING", "OGR_GEOMETRY = 'MULTILINESTRING'"},
};

/* The geometry type of a Shapefile: with no items the collection's own,
 * not the driver's guess (it made an empty zones file of lines); points
 * stay points unless some item is a MultiPoint. */
static const char *shp_type(enum data_coll coll, int kinds)
{
    if (kinds == G_POINT || (!kinds && coll == DATA_INCIDENTS)) return "POINT";
    if (kinds) return "PROMOTE_TO_MULTI";
    return coll == DATA_ZONES ? "MULTIPOLYGON" : "MULTILINESTRING";
}

/* The FeatureCollection through GDAL into f's format; kinds says which
 * geometry types it holds (0: no items). OUT bytes/len. */
static fm_rc translate(const char *geojson, size_t glen, const struct fmt *f, enum data_coll coll,
                       int kinds, int srid, char **bytes, size_t *len, struct fm_err *err)
{
    const char *layer = data_coll_name(coll);
    unsigned char rnd[8];
    char hex[17], dir[64], in[96], out[96];
    fm_random(rnd, sizeof rnd);
    fm_hex(rnd, sizeof rnd, hex);
    snprintf(dir, sizeof dir, "/vsimem/fusionmap-export-%s", hex);
    snprintf(in, sizeof in, "%s/in.geojson", dir);
    snprintf(out, sizeof out, "%s/%s.%s", dir, layer, f->ext);
    data_gdal_init();
    struct gdal_msgs m = {0, ""};
    CPLPushErrorHandlerEx(collect_msg, &m);
    fm_rc rc = FM_OK;
    GDALDatasetH src = NULL, dst = NULL;
    GDALVectorTranslateOptions *opts = NULL;
    VSIMkdir(dir, 0700); /* the CSV driver wants the folder to exist */
    VSILFILE *vf = VSIFileFromMemBuffer(in, (GByte *)geojson, (vsi_l_offset)glen, FALSE);
    if (!vf) {
        rc = fm_fail(err, FM_EINTERNAL, NULL, "cannot make a memory file");
        goto done;
    }
    VSIFCloseL(vf);
    const char *drivers[] = {"GeoJSON", NULL};
    const char *dates[] = {"DATE_AS_STRING=YES", NULL};
    int gpkg = !strcmp(f->name, "gpkg");
    src = GDALOpenEx(in, GDAL_OF_VECTOR | GDAL_OF_READONLY, drivers, gpkg ? NULL : dates, NULL);
    if (!src) {
        rc = fm_fail(err, FM_EINTERNAL, NULL, "GDAL cannot read the items: %s", m.first);
        goto done;
    }
    int usage = 0;
    if (!strcmp(f->name, "gpx")) {
        GDALDriverH drv = GDALGetDriverByName("GPX");
        char *dsco[] = {"GPX_USE_EXTENSIONS=YES", NULL};
        dst = drv ? GDALCreate(drv, out, 0, 0, 0, GDT_Unknown, dsco) : NULL;
        for (size_t i = 0; dst && i < sizeof gpx_parts / sizeof *gpx_parts; i++) {
            const struct gpx_part *g = &gpx_parts[i];
            if (!(kinds & g->bit)) continue;
            char *argv[] = {"-nln", (char *)g->layer, "-nlt", (char *)g->type, "-where",
                            (char *)g->where, NULL};
            opts = GDALVectorTranslateOptionsNew(argv, NULL);
            if ((!opts || !GDALVectorTranslate(NULL, dst, 1, &src, opts, &usage)) && !m.count++)
                snprintf(m.first, sizeof m.first, "the %s layer failed", g->layer);
            if (opts) GDALVectorTranslateOptionsFree(opts);
            opts = NULL;
        }
        if (dst) GDALClose(dst); /* writes the file */
    } else {
        char *argv[16];
        int n = 0;
        argv[n++] = "-f";
        argv[n++] = (char *)f->driver;
        argv[n++] = "-nln";
        argv[n++] = (char *)layer;
        if (!strcmp(f->name, "kml")) {
            argv[n++] = "-dsco";
            argv[n++] = "NameField=title";
            argv[n++] = "-dsco";
            argv[n++] = "DescriptionField=description";
        } else if (!strcmp(f->name, "shp")) {
            argv[n++] = "-nlt";
            argv[n++] = (char *)shp_type(coll, kinds);
            argv[n++] = "-lco";
            argv[n++] = "ENCODING=UTF-8";
        } else if (!strcmp(f->name, "csv")) {
            argv[n++] = "-lco";
            argv[n++] = "GEOMETRY=AS_WKT";
            argv[n++] = "-mapFieldType";
            argv[n++] = "Integer=Real,Integer64=Real";
        }
        char srs[24];
        if (srid) { /* crs= on an export: PROJ's transform through GDAL */
            snprintf(srs, sizeof srs, "EPSG:%d", srid);
            argv[n++] = "-t_srs";
            argv[n++] = srs;
        }
        argv[n] = NULL;
        opts = GDALVectorTranslateOptionsNew(argv, NULL);
        dst = opts ? GDALVectorTranslate(out, NULL, 1, &src, opts, &usage) : NULL;
        if (dst) GDALClose(dst);
    }
    if (!dst || m.count) {
        rc = fm_fail(err, FM_EINTERNAL, NULL, "GDAL could not write %s: %s", f->name,
                     m.count ? m.first : "unknown error");
        goto done;
    }
    vsi_l_offset blen = 0;
    GByte *buf = VSIGetMemFileBuffer(out, &blen, TRUE);
    if (!buf || blen == 0) {
        CPLFree(buf);
        rc = fm_fail(err, FM_EINTERNAL, NULL, "GDAL wrote no %s file", f->name);
        goto done;
    }
    *bytes = fm_xmalloc((size_t)blen + 1);
    memcpy(*bytes, buf, (size_t)blen);
    (*bytes)[blen] = '\0';
    *len = (size_t)blen;
    CPLFree(buf);
done:
    if (opts) GDALVectorTranslateOptionsFree(opts);
    if (src) GDALClose(src);
    VSIUnlink(in);
    VSIRmdirRecursive(dir);
    CPLPopErrorHandler();
    return rc;
}

fm_rc data_export(struct data_db *db, const struct data_viewer *v, const struct data_query *q,
                  const char *format, long max_features, char **bytes, size_t *len,
                  const char **ctype, const char **ext, struct fm_err *err)
{
    return data_export_srs(db, v, q, format, 0, max_features, bytes, len, ctype, ext, err);
}

fm_rc data_export_srs(struct data_db *db, const struct data_viewer *v, const struct data_query *q,
                      const char *format, int srid, long max_features, char **bytes, size_t *len,
                      const char **ctype, const char **ext, struct fm_err *err)
{
    *bytes = NULL;
    *len = 0;
    *ctype = *ext = NULL;
    const struct fmt *f = NULL;
    for (size_t i = 0; i < sizeof formats / sizeof *formats; i++)
        if (format && !strcmp(format, formats[i].name)) f = &formats[i];
    if (!f)
        return fm_fail(err, FM_EINVAL, "f",
                       "unknown export format; use geojson, kml, gpx, gpkg, shp or csv");
    if (srid && (!strcmp(f->name, "gpx") || !strcmp(f->name, "kml")))
        return fm_fail(err, FM_EINVAL, "crs",
                       "KML and GPX are WGS 84 longitude, latitude by definition: no crs there"
                       " (gpkg, shp and csv take it)");
    if (srid && !strcmp(f->name, "geojson"))
        return fm_fail(err, FM_EINVAL, "crs", "crs applies to f=json and the file exports");
    if (!strcmp(f->name, "gpx") && q->coll == DATA_ZONES)
        return fm_fail(err, FM_EINVAL, "f",
                       "GPX holds waypoints, routes and tracks, not zones: use kml, gpkg or geojson");
    struct collect c;
    memset(&c, 0, sizeof c);
    c.f = f;
    c.max = max_features;
    fm_buf_init(&c.out, MAX_EXPORT_BYTES);
    fm_rc rc = fm_buf_adds(&c.out, "{\"type\":\"FeatureCollection\",\"features\":[");
    struct data_query page = *q;
    page.limit = 10000;
    page.offset = 0;
    page.want_wkb = 0;
    long matched = 0;
    for (;;) {
        long before = c.count;
        if ((rc = data_items_query(db, v, &page, add_row, &c, &matched, err))) goto done;
        if (c.refused) {
            *err = c.bad;
            rc = FM_EINVAL;
            goto done;
        }
        if (c.too_big) {
            rc = fm_fail(err, FM_ETOOBIG, "", "more than %ld items (or bytes) to export; narrow it "
                         "with bbox, datetime, status, party or type", max_features);
            goto done;
        }
        if (c.count - before < page.limit || c.count >= matched) break;
        page.offset += page.limit;
    }
    if ((rc = fm_buf_adds(&c.out, "]}"))) goto done;
    int families = !!(c.kinds & (G_POINT | G_MPOINT)) + !!(c.kinds & (G_LINE | G_MLINE)) +
                   !!(c.kinds & (G_POLY | G_MPOLY));
    if (!strcmp(f->name, "shp") && families > 1) {
        rc = fm_fail(err, FM_EINVAL, "f",
                     "a Shapefile holds one kind of geometry and these %s mix points, lines or "
                     "polygons: use gpkg, kml or geojson, or one view of one geometry type "
                     "(/collections/%s-points, -lines or -areas)",
                     data_coll_name(q->coll), data_coll_name(q->coll));
        goto done;
    }
    if (!strcmp(f->name, "geojson")) {
        *bytes = fm_buf_take(&c.out, len);
    } else if (!strcmp(f->name, "csv") && c.count == 0) {
        /* GDAL writes "WKT," (a nameless second column) when there are no fields */
        *bytes = fm_xmalloc(5);
        memcpy(*bytes, "WKT\n", 5);
        *len = 4;
    } else {
        rc = translate(c.out.data, c.out.len, f, q->coll, c.kinds, srid, bytes, len, err);
        if (rc) goto done;
    }
    *ctype = f->ctype;
    *ext = f->ext;
done:
    fm_buf_cleanup(&c.out);
    return rc;
}

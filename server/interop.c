/* interop.c - files in and out: POST /import, the f= exports of the items
 * endpoints, and GET /cot (Cursor-on-Target). The work is data/'s (GDAL);
 * this file parses parameters, keeps uploads in a private temporary
 * folder for the length of the request, and writes the answers. */
#include "srv.h"

#include <microhttpd.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define EXPORT_MAX_FEATURES 100000

static const char *const export_formats[] = {"kml", "gpx", "gpkg", "shp", "csv", NULL};

int srv_export_format(const char *f)
{
    for (const char *const *k = export_formats; *k; k++)
        if (f && !strcmp(*k, f)) return 1;
    return 0;
}

int srv_items_export(struct req *r, enum data_coll c, const struct data_query *q,
                     const char *format, int srid)
{
    struct fm_err err;
    char *bytes;
    size_t len;
    const char *ctype, *ext;
    fm_rc rc = data_export_srs(r->db, &r->viewer, q, format, srid, EXPORT_MAX_FEATURES, &bytes,
                               &len, &ctype, &ext, &err);
    if (rc) return srv_problem(r, rc, &err);
    char disp[128];
    snprintf(disp, sizeof disp, "attachment; filename=\"%s.%s\"", data_coll_name(c), ext);
    srv_add_header(r, "Content-Disposition", disp);
    return srv_reply(r, 200, ctype, bytes, len);
}

/* ---- POST /import -------------------------------------------------------- */

static const char *format_of_ctype(const char *ct)
{
    static const char *const map[][2] = {
        {"application/vnd.google-earth.kml+xml", "kml"},
        {"application/vnd.google-earth.kmz", "kmz"},
        {"application/gpx+xml", "gpx"},
        {"application/geopackage+sqlite3", "gpkg"},
        {"application/zip", "shp"},
        {"application/x-zip-compressed", "shp"},
        {"text/csv", "csv"},
        {"application/geo+json", "geojson"},
        {"application/json", "geojson"}};
    if (!ct) return NULL;
    for (size_t i = 0; i < sizeof map / sizeof *map; i++) {
        size_t n = strlen(map[i][0]);
        if (!strncasecmp(ct, map[i][0], n) && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' '))
            return map[i][1];
    }
    return NULL;
}

static int flag_arg(struct req *r, const char *name, int *out)
{
    const char *s = srv_arg(r, name);
    *out = 0;
    if (!s) return 1;
    if (!strcmp(s, "1") || !strcmp(s, "true")) *out = 1;
    else if (strcmp(s, "0") != 0 && strcmp(s, "false") != 0) {
        char detail[96];
        snprintf(detail, sizeof detail, "%s is 1 or 0 (true or false)", name);
        srv_problem_status(r, 400, detail, name);
        return 0;
    }
    return 1;
}

/* Writes the body to a new file in a new private folder. OUT dir, path. */
static fm_rc save_upload(struct req *r, const char *format, char *dir, size_t dn, char *path,
                         size_t pn, struct fm_err *err)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, dn, "%s/fusionmap-import-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        dir[0] = '\0';
        return fm_fail(err, FM_EIO, NULL, "cannot make a temporary folder: %s", strerror(errno));
    }
    snprintf(path, pn, "%s/upload.%s", dir, !strcmp(format, "shp") ? "zip" : format);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return fm_fail(err, FM_EIO, NULL, "cannot write a temporary file");
    size_t off = 0;
    while (off < r->body.len) {
        ssize_t w = write(fd, r->body.data + off, r->body.len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            close(fd);
            return fm_fail(err, FM_EIO, NULL, "cannot write a temporary file");
        }
        off += (size_t)w;
    }
    if (close(fd) != 0) return fm_fail(err, FM_EIO, NULL, "cannot write a temporary file");
    return FM_OK;
}

int h_import(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    if (r->viewer.role != DATA_ROLE_LIAISON && r->viewer.role != DATA_ROLE_SUPERVISOR)
        return srv_problem_status(r, 403, "only liaisons and the supervisor import", NULL);
    enum data_coll c;
    const char *cs = srv_arg(r, "collection");
    if (!cs || data_coll_parse(cs, &c))
        return srv_problem_status(r, 400, "collection is zones, incidents or movements",
                                  "collection");
    struct data_import_opts o;
    data_import_opts_default(&o);
    if (!flag_arg(r, "dry_run", &o.dry_run) || !flag_arg(r, "skip_bad", &o.skip_bad))
        return MHD_YES;
    const char *format = srv_arg(r, "format");
    if (format) {
        static const char *const ok[] = {"geojson", "kml", "kmz", "gpx", "gpkg", "shp", "csv", NULL};
        int known = 0;
        for (const char *const *k = ok; *k; k++) known |= !strcmp(*k, format);
        if (!known)
            return srv_problem_status(r, 400,
                                      "format is geojson, kml, kmz, gpx, gpkg, shp (zipped) or csv",
                                      "format");
    } else {
        format = format_of_ctype(srv_header(r, MHD_HTTP_HEADER_CONTENT_TYPE));
        if (!format)
            return srv_problem_status(
                r, 415,
                "send the file with its Content-Type (application/vnd.google-earth.kml+xml,"
                " application/vnd.google-earth.kmz, application/gpx+xml,"
                " application/geopackage+sqlite3, application/zip, text/csv,"
                " application/geo+json) or name it with format=",
                NULL);
    }
    if (r->body.len == 0) return srv_problem_status(r, 400, "the body is empty: send the file", NULL);
    o.format = format;
    o.max_file_bytes = (int64_t)srv_cfg(r)->max_body;
    if (srv_cfg(r)->import_max_features > 0) o.max_features = srv_cfg(r)->import_max_features;

    char dir[512] = "", path[600] = "";
    struct fm_err err;
    fm_err_clear(&err);
    json_t *report = NULL;
    fm_rc rc = save_upload(r, format, dir, sizeof dir, path, sizeof path, &err);
    if (!rc) rc = data_import(r->db, &r->viewer, c, path, &o, &srv_cfg(r)->limits, &report, &err);
    if (path[0]) unlink(path);
    if (dir[0]) rmdir(dir);
    if (rc) return srv_problem(r, rc, &err);

    int committed = json_is_true(json_object_get(report, "committed"));
    json_t *refused = json_object_get(report, "refused");
    if (!committed && !o.dry_run) {
        /* all or nothing: one feature was refused, so nothing was written */
        json_t *first = json_array_get(refused, 0);
        char detail[400];
        snprintf(detail, sizeof detail,
                 "%zu of %" JSON_INTEGER_FORMAT " features refused, so nothing was imported"
                 " (skip_bad=1 imports the rest); the first: %s: %s",
                 json_array_size(refused),
                 json_integer_value(json_object_get(report, "features")),
                 json_string_value(json_object_get(first, "pointer")),
                 json_string_value(json_object_get(first, "reason")));
        json_t *prob = json_pack("{s:s,s:s,s:i,s:s,s:O,s:O}", "type",
                                 "urn:fusionmap:problem:422", "title", "Unprocessable Content",
                                 "status", 422, "detail", detail, "pointer",
                                 json_object_get(first, "pointer"), "refused", refused);
        json_object_set(prob, "report", report);
        json_decref(report);
        return srv_reply_json(r, 422, "application/problem+json", prob);
    }
    return srv_reply_json(r, o.dry_run ? 200 : 201, NULL, report);
}

/* ---- GET /cot ------------------------------------------------------------ */

int h_cot(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    struct fm_err err;
    fm_time asof = 0;
    const char *t = srv_arg(r, "t");
    if (t && fm_time_parse(t, &asof))
        return srv_problem_status(r, 400, "t must be an RFC 3339 date-time", "t");
    char *xml;
    size_t len;
    fm_rc rc = data_cot(r->db, &r->viewer, t != NULL, asof, &xml, &len, &err);
    if (rc) return srv_problem(r, rc, &err);
    return srv_reply(r, 200, "application/xml; charset=utf-8", xml, len);
}

/* ---- OpenAPI ------------------------------------------------------------- */

static json_t *query_param(const char *name, const char *type, int required, const char *desc)
{
    return json_pack("{s:s,s:s,s:b,s:s,s:{s:s}}", "name", name, "in", "query", "required",
                     required, "description", desc, "schema", "type", type);
}

void srv_interop_openapi(json_t *paths)
{
    json_t *params = json_pack(
        "[o,o,o,o]",
        query_param("collection", "string", 1, "zones, incidents or movements"),
        query_param("format", "string", 0,
                    "geojson, kml, kmz, gpx, gpkg, shp (zipped) or csv; else from Content-Type"),
        query_param("dry_run", "boolean", 0, "report what would happen (200), write nothing"),
        query_param("skip_bad", "boolean", 0, "write the good features, list the refused"));
    json_object_set_new(
        paths, "/import",
        json_pack("{s:{s:s,s:o,s:{s:{s:s},s:{s:s},s:{s:s}}}}", "post", "summary",
                  "a file into a collection, as drafts of the caller's party (GDAL)",
                  "parameters", params, "responses", "201", "description", "imported",
                  "200", "description", "dry run", "422",
                  "description", "features refused: nothing written"));
    json_object_set_new(
        paths, "/cot",
        json_pack("{s:{s:s,s:[o],s:{s:{s:s,s:{s:{}}}}}}", "get", "summary",
                  "every visible item as Cursor-on-Target events", "parameters",
                  query_param("t", "string", 0, "the situation as of this RFC 3339 time"),
                  "responses", "200", "description", "OK", "content", "application/xml"));
}

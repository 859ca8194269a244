/* validate.c - a client's GeoJSON Feature checked field by field against
 * the rules of its collection, before anything is written. Every failure
 * names the JSON pointer of the field. Geometry validity (self-
 * intersection and the like) is SpatiaLite's to judge, in items.c. */
#include "internal.h"
#include "vocabulary.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Statuses, zone types, categories, severities and movement kinds are
 * common/vocabulary.def's, the one list the tiles and the viewer read too. */
static const unsigned coll_bits[DATA_COLL_COUNT] = {VOCAB_ZONES, VOCAB_INCIDENTS, VOCAB_MOVEMENTS};

static const char *const coll_names[] = {"zones", "incidents", "movements"};

const char *data_coll_name(enum data_coll c)
{
    return (unsigned)c < DATA_COLL_COUNT ? coll_names[c] : "?";
}

fm_rc data_coll_parse(const char *s, enum data_coll *out)
{
    for (int c = 0; c < DATA_COLL_COUNT; c++)
        if (s && strcmp(s, coll_names[c]) == 0) {
            *out = (enum data_coll)c;
            return FM_OK;
        }
    return FM_ENOTFOUND;
}

const char *const *data_coll_statuses(enum data_coll c)
{
    return vocab_statuses(coll_bits[(unsigned)c < DATA_COLL_COUNT ? c : DATA_MOVEMENTS]);
}

static int in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0) return 1;
    return 0;
}

static void list_join(const char *const *list, char *out, size_t n)
{
    out[0] = '\0';
    size_t used = 0;
    for (; *list && used < n; list++)
        used += (size_t)snprintf(out + used, n - used, "%s%s", used ? ", " : "", *list);
}

/* The workflow: the steps of common/vocabulary.def (STEP), each with who
 * takes it; withdrawal is allowed from any status and handled by the
 * caller. The defaults and first statuses are its START rows. */
const char *coll_default_status(enum data_coll c)
{
    return vocab_starts(coll_bits[(unsigned)c < DATA_COLL_COUNT ? c : DATA_MOVEMENTS])[0];
}

int coll_initial_status(enum data_coll c, const char *status)
{
    return in_list(vocab_starts(coll_bits[(unsigned)c < DATA_COLL_COUNT ? c : DATA_MOVEMENTS]),
                   status);
}

int coll_has_status(enum data_coll c, const char *status)
{
    return in_list(data_coll_statuses(c), status);
}

static const struct vocab_step *step_of(enum data_coll c, const char *from, const char *to)
{
    return vocab_step_find(coll_bits[(unsigned)c < DATA_COLL_COUNT ? c : DATA_MOVEMENTS], from,
                           to);
}

int coll_transition_ok(enum data_coll c, const char *from, const char *to)
{
    return strcmp(from, to) == 0 || step_of(c, from, to) != NULL;
}

/* The supervisor's powers over another party's item are the steps marked
 * SUPERVISOR: mark it disputed, and settle a dispute (or arbitrate a
 * proposal) to a status every party sees. No such step makes a published
 * item invisible to anyone (no draft, no withdrawal, no cancellation:
 * those stay the owner's). Content stays the owner's too (items.c). */
int coll_supervisor_step_ok(enum data_coll c, const char *from, const char *to)
{
    const struct vocab_step *s = step_of(c, from, to);
    return s && (s->by & VOCAB_BY_SUPERVISOR);
}

void coll_supervisor_steps_from(enum data_coll c, const char *from, char *out, size_t n)
{
    size_t used = 0, count;
    const struct vocab_step *s = vocab_steps(&count);
    out[0] = '\0';
    for (size_t i = 0; i < count; i++)
        if (s[i].coll == coll_bits[c] && (s[i].by & VOCAB_BY_SUPERVISOR) && !strcmp(s[i].from, from))
            used += (size_t)snprintf(out + used, used < n ? n - used : 0, "%s%s",
                                     used ? ", " : "", s[i].to);
    if (!used) snprintf(out, n, "none");
}

/* The status an acknowledgement moves an item to (the ANSWER step from
 * status), or NULL for none. */
const char *ack_next_status(enum data_coll c, const char *status)
{
    size_t count;
    const struct vocab_step *s = vocab_steps(&count);
    for (size_t i = 0; i < count; i++)
        if (s[i].coll == coll_bits[c] && (s[i].by & VOCAB_BY_ANSWER) && !strcmp(s[i].from, status))
            return s[i].to;
    return NULL;
}

/* ---- geometry --------------------------------------------------------- */

struct geo_walk {
    long vertices;
    long max_vertices;
    char where[96];
};

static fm_rc check_position(const json_t *pos, struct geo_walk *w, struct fm_err *err)
{
    if (!json_is_array(pos) || json_array_size(pos) < 2 || json_array_size(pos) > 3)
        return fm_fail(err, FM_EINVAL, w->where, "a position is an array of 2 or 3 numbers");
    for (size_t i = 0; i < json_array_size(pos); i++) {
        const json_t *n = json_array_get(pos, i);
        if (!json_is_number(n))
            return fm_fail(err, FM_EINVAL, w->where, "a coordinate must be a number");
        double v = json_number_value(n);
        if (!isfinite(v)) return fm_fail(err, FM_EINVAL, w->where, "a coordinate must be finite");
        if (i == 0 && (v < -180 || v > 180))
            return fm_fail(err, FM_EINVAL, w->where, "longitude %.10g is outside -180..180", v);
        if (i == 1 && (v < -90 || v > 90))
            return fm_fail(err, FM_EINVAL, w->where, "latitude %.10g is outside -90..90", v);
    }
    if (++w->vertices > w->max_vertices)
        return fm_fail(err, FM_ETOOBIG, "/geometry/coordinates",
                       "the geometry has more than %ld vertices, the limit", w->max_vertices);
    return FM_OK;
}

static int same_position(const json_t *a, const json_t *b)
{
    if (json_array_size(a) != json_array_size(b)) return 0;
    for (size_t i = 0; i < json_array_size(a); i++)
        if (json_number_value(json_array_get(a, i)) != json_number_value(json_array_get(b, i)))
            return 0;
    return 1;
}

/* depth: 0 position, 1 line/multipoint, 2 polygon/multiline, 3 multipolygon.
 * kind for depth 1 lists: 'L' line (>= 2), 'R' ring (>= 4, closed), 'P' points. */
static fm_rc check_coords(const json_t *c, int depth, char kind, const char *path,
                          struct geo_walk *w, struct fm_err *err)
{
    if (depth == 0) {
        snprintf(w->where, sizeof w->where, "%s", path);
        return check_position(c, w, err);
    }
    if (!json_is_array(c)) return fm_fail(err, FM_EINVAL, path, "coordinates must be an array");
    size_t n = json_array_size(c);
    if (depth == 1) {
        if (kind == 'L' && n < 2)
            return fm_fail(err, FM_EINVAL, path, "a line needs at least 2 positions");
        if (kind == 'R' && n < 4)
            return fm_fail(err, FM_EINVAL, path, "a polygon ring needs at least 4 positions");
    }
    if (depth == 2 && kind == 'R' && n == 0)
        return fm_fail(err, FM_EINVAL, path, "a polygon needs at least one ring");
    for (size_t i = 0; i < n; i++) {
        char sub[96];
        snprintf(sub, sizeof sub, "%s/%zu", path, i);
        fm_rc rc = check_coords(json_array_get(c, i), depth - 1, kind, sub, w, err);
        if (rc) return rc;
    }
    if (depth == 1 && kind == 'R' && !same_position(json_array_get(c, 0), json_array_get(c, n - 1)))
        return fm_fail(err, FM_EINVAL, path,
                       "a polygon ring must be closed: its last position must equal its first");
    return FM_OK;
}

static const char *const allowed_geometries[DATA_COLL_COUNT][4] = {
    {"Polygon", "MultiPolygon", NULL, NULL},
    {"Point", "MultiPoint", "Polygon", NULL},
    {"LineString", "MultiLineString", "Point", NULL},
};

static fm_rc check_geometry(enum data_coll c, const json_t *g, const struct data_limits *lim,
                            long *vertices, struct fm_err *err)
{
    if (!json_is_object(g))
        return fm_fail(err, FM_EINVAL, "/geometry", "a Feature needs a geometry object");
    const char *type = json_string_value(json_object_get(g, "type"));
    if (!type) return fm_fail(err, FM_EINVAL, "/geometry/type", "the geometry needs a type");
    if (!in_list(allowed_geometries[c], type)) {
        char allowed[96];
        list_join(allowed_geometries[c], allowed, sizeof allowed);
        return fm_fail(err, FM_EINVAL, "/geometry/type", "%s does not take a %s; use %s",
                       data_coll_name(c), type, allowed);
    }
    const json_t *coords = json_object_get(g, "coordinates");
    if (!coords)
        return fm_fail(err, FM_EINVAL, "/geometry/coordinates", "the geometry needs coordinates");
    struct geo_walk w = {0, lim->max_vertices, ""};
    int depth;
    char kind;
    if (!strcmp(type, "Point")) depth = 0, kind = 'P';
    else if (!strcmp(type, "MultiPoint")) depth = 1, kind = 'P';
    else if (!strcmp(type, "LineString")) depth = 1, kind = 'L';
    else if (!strcmp(type, "MultiLineString")) depth = 2, kind = 'L';
    else if (!strcmp(type, "Polygon")) depth = 2, kind = 'R';
    else depth = 3, kind = 'R';
    if (depth == 3 && json_array_size(coords) == 0)
        return fm_fail(err, FM_EINVAL, "/geometry/coordinates", "a MultiPolygon needs a polygon");
    fm_rc rc = check_coords(coords, depth, kind, "/geometry/coordinates", &w, err);
    *vertices = w.vertices;
    return rc;
}

/* ---- properties ------------------------------------------------------- */

/* Set by the server; what a client sends for them is dropped. dispute and
 * ruling: shown with one item (data_item_dispute), never stored. */
static const char *const server_owned[] = {"party",      "version",    "created_at", "created_by",
                                           "updated_at", "updated_by", "dispute",    "ruling",
                                           /* lead times and deadlines (rules.c) */
                                           "late_notice", "notified_at", "answer_due", "overdue_at",
                                           "notice_required_s", "overdue", NULL};

static fm_rc opt_string(json_t *props, const char *key, const struct data_limits *lim,
                        const char **out, struct fm_err *err)
{
    char ptr[64];
    snprintf(ptr, sizeof ptr, "/properties/%s", key);
    *out = NULL;
    json_t *v = json_object_get(props, key);
    if (!v || json_is_null(v)) return FM_OK;
    if (!json_is_string(v)) return fm_fail(err, FM_EINVAL, ptr, "%s must be a string", key);
    if ((long)json_string_length(v) > lim->max_string_bytes)
        return fm_fail(err, FM_ETOOBIG, ptr, "%s is longer than %ld bytes", key,
                       lim->max_string_bytes);
    *out = json_string_value(v);
    return FM_OK;
}

/* Parses an RFC 3339 property and writes it back in canonical UTC form. */
static fm_rc opt_time(json_t *props, const char *key, int *has, fm_time *out, struct fm_err *err)
{
    char ptr[64];
    snprintf(ptr, sizeof ptr, "/properties/%s", key);
    *has = 0;
    *out = 0;
    json_t *v = json_object_get(props, key);
    if (!v || json_is_null(v)) return FM_OK;
    if (!json_is_string(v) || fm_time_parse(json_string_value(v), out))
        return fm_fail(err, FM_EINVAL, ptr,
                       "%s must be an RFC 3339 date-time such as 2026-11-25T08:00:00Z", key);
    char stamp[FM_TIME_STAMP_LEN];
    fm_time_format(*out, stamp);
    json_object_set_new(props, key, json_string(stamp));
    *has = 1;
    return FM_OK;
}

static fm_rc opt_number(json_t *props, const char *key, double min, double max, int *has,
                        double *out, struct fm_err *err)
{
    char ptr[64];
    snprintf(ptr, sizeof ptr, "/properties/%s", key);
    *has = 0;
    *out = 0;
    json_t *v = json_object_get(props, key);
    if (!v || json_is_null(v)) return FM_OK;
    if (!json_is_number(v)) return fm_fail(err, FM_EINVAL, ptr, "%s must be a number", key);
    double d = json_number_value(v);
    if (!isfinite(d) || d < min || d > max)
        return fm_fail(err, FM_EINVAL, ptr, "%s must be between %g and %g", key, min, max);
    *has = 1;
    *out = d;
    return FM_OK;
}

static fm_rc check_observed(json_t *props, struct fm_err *err)
{
    json_t *obs = json_object_get(props, "observed");
    if (!obs || json_is_null(obs)) return FM_OK;
    if (!json_is_array(obs))
        return fm_fail(err, FM_EINVAL, "/properties/observed",
                       "observed is an array of {\"time\":..., \"coordinates\":[lon,lat]}");
    if (json_array_size(obs) > 10000)
        return fm_fail(err, FM_ETOOBIG, "/properties/observed",
                       "observed holds more than 10000 positions");
    size_t i;
    json_t *o;
    json_array_foreach(obs, i, o)
    {
        char ptr[64];
        snprintf(ptr, sizeof ptr, "/properties/observed/%zu", i);
        fm_time t;
        const json_t *c = json_object_get(o, "coordinates");
        if (!json_is_object(o) || !json_is_string(json_object_get(o, "time")) ||
            fm_time_parse(json_string_value(json_object_get(o, "time")), &t))
            return fm_fail(err, FM_EINVAL, ptr, "an observed position needs an RFC 3339 time");
        struct geo_walk w = {0, 1, ""};
        snprintf(w.where, sizeof w.where, "%s/coordinates", ptr);
        fm_rc rc = check_position(c, &w, err);
        if (rc) return rc;
    }
    return FM_OK;
}

/* value must be a name of vocabulary list l; the error names the field
 * and the words it takes. */
static fm_rc check_term(enum vocab_list l, const char *key, const char *what, const char *value,
                        struct fm_err *err)
{
    if (vocab_find(l, value)) return FM_OK;
    char ptr[64], allowed[200];
    snprintf(ptr, sizeof ptr, "/properties/%s", key);
    vocab_join(l, 0, allowed, sizeof allowed);
    return fm_fail(err, FM_EINVAL, ptr, "%s %s is not one of %s", what, value, allowed);
}

void feature_fields_cleanup(struct item_fields *f)
{
    json_decref(f->geometry);
    json_decref(f->props);
    memset(f, 0, sizeof *f);
}

fm_rc feature_validate(enum data_coll c, const json_t *feature, const struct data_limits *lim,
                       struct item_fields *out, struct fm_err *err)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(feature))
        return fm_fail(err, FM_EINVAL, "", "the body must be a GeoJSON Feature object");
    const char *ftype = json_string_value(json_object_get(feature, "type"));
    if (!ftype || strcmp(ftype, "Feature") != 0)
        return fm_fail(err, FM_EINVAL, "/type", "the body must be a GeoJSON Feature");
    const json_t *props_in = json_object_get(feature, "properties");
    if (props_in && !json_is_object(props_in) && !json_is_null(props_in))
        return fm_fail(err, FM_EINVAL, "/properties", "properties must be an object or null");

    fm_rc rc = check_geometry(c, json_object_get(feature, "geometry"), lim, &out->vertices, err);
    if (rc) return rc;

    out->geometry = json_deep_copy(json_object_get(feature, "geometry"));
    out->props = json_is_object(props_in) ? json_deep_copy(props_in) : json_object();
    if (!out->geometry || !out->props) {
        rc = fm_fail(err, FM_EINTERNAL, NULL, "out of memory");
        goto fail;
    }
    for (const char *const *k = server_owned; *k; k++) json_object_del(out->props, *k);

    const char *description, *category;
    if ((rc = opt_string(out->props, "title", lim, &out->title, err))) goto fail;
    if ((rc = opt_string(out->props, "description", lim, &description, err))) goto fail;
    if ((rc = opt_string(out->props, "type", lim, &out->type, err))) goto fail;
    if ((rc = opt_string(out->props, "status", lim, &out->status, err))) goto fail;

    if (out->status && !coll_has_status(c, out->status)) {
        char allowed[200];
        list_join(data_coll_statuses(c), allowed, sizeof allowed);
        rc = fm_fail(err, FM_EINVAL, "/properties/status", "status %s is not one of %s",
                     out->status, allowed);
        goto fail;
    }
    if (c == DATA_ZONES) {
        if (!out->type) {
            json_object_set_new(out->props, "type", json_string("restricted"));
            out->type = "restricted";
        } else if ((rc = check_term(VOCAB_ZONE_TYPES, "type", "zone type", out->type, err)))
            goto fail;
    }
    if (c == DATA_MOVEMENTS && out->type &&
        (rc = check_term(VOCAB_MOVEMENT_KINDS, "type", "movement type", out->type, err)))
        goto fail;

    if ((rc = opt_time(out->props, "valid_from", &out->has_from, &out->valid_from, err))) goto fail;
    if ((rc = opt_time(out->props, "valid_to", &out->has_to, &out->valid_to, err))) goto fail;
    if (out->has_from && out->has_to && out->valid_to < out->valid_from) {
        rc = fm_fail(err, FM_EINVAL, "/properties/valid_to", "valid_to is before valid_from");
        goto fail;
    }
    if ((rc = opt_number(out->props, "altitude_floor_m", -1000, 100000, &out->has_floor,
                         &out->alt_floor, err)))
        goto fail;
    if ((rc = opt_number(out->props, "altitude_ceiling_m", -1000, 100000, &out->has_ceiling,
                         &out->alt_ceiling, err)))
        goto fail;
    if (out->has_floor && out->has_ceiling && out->alt_floor > out->alt_ceiling) {
        rc = fm_fail(err, FM_EINVAL, "/properties/altitude_floor_m",
                     "altitude_floor_m is above altitude_ceiling_m");
        goto fail;
    }

    if (c == DATA_INCIDENTS) {
        int has;
        fm_time t;
        double sev;
        if ((rc = opt_time(out->props, "occurred_at", &has, &t, err))) goto fail;
        if ((rc = opt_string(out->props, "category", lim, &category, err))) goto fail;
        if (category && (rc = check_term(VOCAB_CATEGORIES, "category", "category", category, err)))
            goto fail;
        size_t nsev;
        vocab_terms(VOCAB_SEVERITIES, &nsev);
        if ((rc = opt_number(out->props, "severity", 1, (double)nsev, &has, &sev, err))) goto fail;
        if (has && sev != floor(sev)) {
            rc = fm_fail(err, FM_EINVAL, "/properties/severity",
                         "severity is a whole number from 1 to %zu", nsev);
            goto fail;
        }
    }
    if (c == DATA_MOVEMENTS) {
        int has;
        double width;
        if ((rc = opt_number(out->props, "corridor_width_m", 0, 100000, &has, &width, err)))
            goto fail;
        if ((rc = check_observed(out->props, err))) goto fail;
    }
    return FM_OK;
fail:
    feature_fields_cleanup(out);
    return rc;
}

/* cql2.c - CQL2 filters to a backend-neutral tree (see cql2.h). Two
 * front ends build one typed syntax tree (struct data_filter, data.h):
 * the text encoding through a recursive descent parser, the JSON encoding
 * by walking jansson's tree. Each resolves properties against the
 * queryables and types the literals by them as it reads, and counts the
 * values a backend will bind. The SQL is written by each backend from
 * the tree (data/sqlfilter.c with its dialect), so both encodings of a
 * filter give the same tree, and so the same SQL and values, on either
 * backend (tests/unit/test_cql2.c checks pairs). */
#include "cql2.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- the syntax tree: struct data_filter (data.h) ----------------------- */

#define MAX_NODES DATA_FILTER_MAX_NODES
#define K_AND DATA_F_AND
#define K_OR DATA_F_OR
#define K_NOT DATA_F_NOT
#define K_CMP DATA_F_CMP
#define K_LIKE DATA_F_LIKE
#define K_BETWEEN DATA_F_BETWEEN
#define K_IN DATA_F_IN
#define K_ISNULL DATA_F_ISNULL
#define K_SPATIAL DATA_F_SPATIAL
#define K_TEMPORAL DATA_F_TEMPORAL
#define L_INT DATA_F_INT
#define L_DBL DATA_F_DBL
#define L_TEXT DATA_F_TEXT
#define L_TIME DATA_F_TIME
#define L_OPEN DATA_F_OPEN
#define L_BBOX DATA_F_BBOX
#define L_WKT DATA_F_GEOM
#define L_PROP DATA_F_PROP
#define L_INTERVAL DATA_F_INTERVAL

/* in the order of enum data_cmp, data_spatial and data_temporal */
static const char *const cmp_ops[] = {"<>", "<=", ">=", "=", "<", ">", NULL};
static const char *const spatial_fns[] = {"S_INTERSECTS", "S_WITHIN", "S_DISJOINT", NULL};
static const char *const temporal_fns[] = {"T_INTERSECTS", "T_BEFORE", "T_AFTER", NULL};

struct p {
    const char *s, *at; /* text: the text, the current position */
    int json;
    char jpath[96]; /* JSON: the JSON pointer of the current value */
    char (*path)[96]; /* JSON: each node's JSON pointer */
    const struct data_queryable *qs;
    struct data_filter *ast;
    struct fm_err *err;
    int depth;
    int failed;
    int nvalues; /* the values a backend will bind */
    const struct cql2_crs *crs; /* the literals' CRS (filter-crs); NULL: CRS84 */
    double ring_first[2], ring_last[2]; /* the current ring's ends (CRS84) */
};

static int fail(struct p *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct p *p, const char *fmt, ...)
{
    if (p->failed) return -1;
    p->failed = 1;
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (p->json)
        fm_fail(p->err, FM_EINVAL, "filter", "filter: at %s: %s", *p->jpath ? p->jpath : "the top",
                msg);
    else
        fm_fail(p->err, FM_EINVAL, "filter", "filter: at character %d: %s",
                (int)(p->at - p->s) + 1, msg);
    return -1;
}

/* A new node of kind k at the current position; -1 when the tree is full
 * or it would make more values to bind than a filter may have. */
static int node_new(struct p *p, int k)
{
    struct data_filter *a = p->ast;
    if (a->count >= MAX_NODES) return fail(p, "the filter has more than %d terms", MAX_NODES);
    int values = k == L_BBOX ? 4 : k == L_INT || k == L_DBL || k == L_TEXT || k == L_TIME || k == L_WKT;
    if (p->nvalues + values > DATA_FILTER_MAX_VALUES)
        return fail(p, "more than %d values", DATA_FILTER_MAX_VALUES);
    p->nvalues += values;
    int i = a->count++;
    struct data_fnode *n = &a->n[i];
    memset(n, 0, sizeof *n);
    n->kind = (unsigned char)k;
    n->a = n->b = n->next = -1;
    if (p->json) snprintf(p->path[i], sizeof p->path[i], "%s", p->jpath);
    return i;
}

/* A text literal of len bytes at t; -1 when the texts are too long. */
static int node_text(struct p *p, int k, const char *t, size_t len)
{
    struct data_filter *a = p->ast;
    if (a->text_len + len + 1 > sizeof a->text) return fail(p, "the filter's texts are too long");
    int i = node_new(p, k);
    if (i < 0) return -1;
    char *dst = a->text + a->text_len;
    memcpy(dst, t, len);
    dst[len] = '\0';
    a->text_len += len + 1;
    a->n[i].t = dst;
    a->n[i].tlen = len;
    return i;
}

static int node_time(struct p *p, fm_time t)
{
    int i = node_new(p, L_TIME);
    if (i >= 0) p->ast->n[i].i = t;
    return i;
}

/* A number for queryable q: an integer for an integer property when it is
 * one (exactly), else a double. */
static int node_number(struct p *p, const struct data_queryable *q, double v, int integral)
{
    if (integral && fabs(v) > 9007199254740992.0) integral = 0;
    int kind = q->type == 'i' && integral ? L_INT : L_DBL;
    int i = node_new(p, kind);
    if (i < 0) return -1;
    if (kind == L_INT) p->ast->n[i].i = (int64_t)v; /* |v| <= 2^53: exact */
    p->ast->n[i].d[0] = v;
    return i;
}

/* ---- checks shared by both front ends ------------------------------------ */

static int check_lonlat(struct p *p, double x, double y)
{
    if (x < -180 || x > 180 || y < -90 || y > 90)
        return fail(p, "coordinates are longitude, latitude in CRS84");
    return 0;
}

static int wkt_pos(struct p *p, char *wkt, size_t cap, size_t *n, double x, double y, int first);
static int wkt_put(struct p *p, char *wkt, size_t cap, size_t *n, const char *s);
static int node_text(struct p *p, int k, const char *t, size_t len);
static int geom_node(struct p *p, const char *wkt, size_t n);

/* A BBOX in filter-crs: the polygon of its edges, 8 points a side, each
 * position turned into CRS84 by wkt_pos. */
static int bbox_crs_node(struct p *p, const double v[4])
{
    if (v[0] > v[2] || v[1] > v[3]) return fail(p, "BBOX is min x, min y, max x, max y, min <= max");
    const double cx[5] = {v[0], v[2], v[2], v[0], v[0]}, cy[5] = {v[1], v[1], v[3], v[3], v[1]};
    char wkt[3000];
    size_t n = 0;
    if (wkt_put(p, wkt, sizeof wkt, &n, "POLYGON((")) return -1;
    for (int side = 0; side < 4; side++)
        for (int k = 0; k < 8 || (side == 3 && k == 8); k++) {
            double t = k / 8.0;
            double x = cx[side] + (cx[side + 1] - cx[side]) * t,
                   y = cy[side] + (cy[side + 1] - cy[side]) * t;
            if (wkt_pos(p, wkt, sizeof wkt, &n, x, y, side == 0 && k == 0)) return -1;
        }
    if (wkt_put(p, wkt, sizeof wkt, &n, "))")) return -1;
    return geom_node(p, wkt, n);
}

static int bbox_node(struct p *p, const double v[4])
{
    if (p->crs) return bbox_crs_node(p, v);
    if (v[0] > v[2] || v[1] > v[3] || v[0] < -180 || v[2] > 180 || v[1] < -90 || v[3] > 90)
        return fail(p, "BBOX is west, south, east, north in CRS84, west <= east");
    int i = node_new(p, L_BBOX);
    if (i >= 0) memcpy(p->ast->n[i].d, v, sizeof p->ast->n[i].d);
    return i;
}

/* Appends "x y" (", x y" after the first) to wkt. */
static int wkt_pos(struct p *p, char *wkt, size_t cap, size_t *n, double x, double y, int first)
{
    if (p->crs && p->crs->xy(p->crs->ctx, &x, &y))
        return fail(p, "a position outside the area of filter-crs");
    if (check_lonlat(p, x, y)) return -1;
    if (first) p->ring_first[0] = x, p->ring_first[1] = y;
    p->ring_last[0] = x, p->ring_last[1] = y;
    int w = snprintf(wkt + *n, cap - *n, "%s%.17g %.17g", first ? "" : ", ", x, y);
    if (w < 0 || (size_t)w >= cap - *n) return fail(p, "the geometry is too large");
    *n += (size_t)w;
    return 0;
}

static int wkt_put(struct p *p, char *wkt, size_t cap, size_t *n, const char *s)
{
    size_t l = strlen(s);
    if (*n + l + 1 > cap) return fail(p, "the geometry is too large");
    memcpy(wkt + *n, s, l + 1);
    *n += l;
    return 0;
}

/* Closes the ring just written when its last position is not its first
 * (SpatiaLite reads such a ring as closed; PostGIS refuses it): the WKT
 * writes the same doubles, so they compare exactly. */
static int ring_close(struct p *p, char *wkt, size_t cap, size_t *n)
{
    if (p->ring_first[0] == p->ring_last[0] && p->ring_first[1] == p->ring_last[1]) return 0;
    int w = snprintf(wkt + *n, cap - *n, ", %.17g %.17g", p->ring_first[0], p->ring_first[1]);
    if (w < 0 || (size_t)w >= cap - *n) return fail(p, "the geometry is too large");
    *n += (size_t)w;
    return 0;
}

/* A geometry literal's node. */
static int geom_node(struct p *p, const char *wkt, size_t n)
{
    return node_text(p, L_WKT, wkt, n);
}

/* An RFC 3339 date or date-time; for intervals, '..' is an open end. */
static int time_text(struct p *p, const char *s, int allow_open)
{
    if (allow_open && !strcmp(s, "..")) return node_new(p, L_OPEN);
    fm_time t;
    if (fm_time_parse(s, &t)) return fail(p, "'%.64s' is not an RFC 3339 date or date-time", s);
    return node_time(p, t);
}

static const struct data_queryable *lookup(struct p *p, const char *name)
{
    for (const struct data_queryable *q = p->qs; q->name; q++)
        if (!strcmp(q->name, name)) return q;
    char list[400];
    size_t l = 0;
    list[0] = '\0';
    for (const struct data_queryable *q = p->qs; q->name && l < sizeof list - 70; q++)
        l += (size_t)snprintf(list + l, sizeof list - l, "%s%s", l ? ", " : "", q->name);
    fail(p, "%.64s is not a queryable of this collection (GET .../queryables): %s", name, list);
    return NULL;
}

/* A date-time property as a temporal operand (or an interval's end). */
static int time_prop(struct p *p, const struct data_queryable *q)
{
    if (q->type != 't') return fail(p, "%s is not a date-time", q->name);
    int i = node_new(p, L_PROP);
    if (i >= 0) p->ast->n[i].q = q;
    return i;
}

/* ---- the text encoding ----------------------------------------------------- */

static void skip(struct p *p)
{
    while (*p->at == ' ' || *p->at == '\t' || *p->at == '\n' || *p->at == '\r') p->at++;
}

/* Is the next token the keyword kw (case-insensitive, whole word)? Takes it if so. */
static int keyword(struct p *p, const char *kw)
{
    skip(p);
    size_t n = strlen(kw);
    if (strncasecmp(p->at, kw, n) != 0) return 0;
    char c = p->at[n];
    if (isalnum((unsigned char)c) || c == '_') return 0;
    p->at += n;
    return 1;
}

/* keyword() without taking it. */
static int peek_keyword(struct p *p, const char *kw)
{
    const char *at = p->at;
    int yes = keyword(p, kw);
    p->at = at;
    return yes;
}

/* Does a time literal come next: '...', TIMESTAMP(...) or DATE(...)? */
static int time_next(struct p *p)
{
    skip(p);
    return *p->at == '\'' || peek_keyword(p, "TIMESTAMP") || peek_keyword(p, "DATE");
}

static int punct(struct p *p, const char *t)
{
    skip(p);
    size_t n = strlen(t);
    if (strncmp(p->at, t, n) != 0) return 0;
    p->at += n;
    return 1;
}

static int expect(struct p *p, const char *t)
{
    if (punct(p, t)) return 0;
    return fail(p, "expected %s", t);
}

/* A quoted string ('' for a quote) into buf (unescaped). */
static int string_lit(struct p *p, char *buf, size_t cap, size_t *len)
{
    skip(p);
    if (*p->at != '\'') return fail(p, "expected a quoted string");
    p->at++;
    size_t n = 0;
    for (;;) {
        if (*p->at == '\0') return fail(p, "the string is not closed");
        if (*p->at == '\'') {
            if (p->at[1] != '\'') break;
            p->at++;
        }
        if (n + 1 >= cap) return fail(p, "the string is too long");
        buf[n++] = *p->at++;
    }
    p->at++;
    buf[n] = '\0';
    *len = n;
    return 0;
}

static int number_lit(struct p *p, double *v, int *integral)
{
    skip(p);
    const char *start = p->at;
    const char *c = p->at;
    if (*c == '-' || *c == '+') c++;
    if (!isdigit((unsigned char)*c) && !(*c == '.' && isdigit((unsigned char)c[1])))
        return fail(p, "expected a number");
    while (isdigit((unsigned char)*c)) c++;
    *integral = 1;
    if (*c == '.') {
        *integral = 0;
        c++;
        while (isdigit((unsigned char)*c)) c++;
    }
    if (*c == 'e' || *c == 'E') {
        *integral = 0;
        c++;
        if (*c == '-' || *c == '+') c++;
        if (!isdigit((unsigned char)*c)) return fail(p, "expected an exponent");
        while (isdigit((unsigned char)*c)) c++;
    }
    char buf[64];
    if ((size_t)(c - start) >= sizeof buf) return fail(p, "the number is too long");
    memcpy(buf, start, (size_t)(c - start));
    buf[c - start] = '\0';
    char *end;
    *v = strtod(buf, &end);
    if (*end || !isfinite(*v)) return fail(p, "not a finite number");
    p->at = c;
    return 0;
}

/* A property: an identifier or "quoted"; looked up in the queryables. */
static const struct data_queryable *property(struct p *p)
{
    skip(p);
    char name[65];
    size_t n = 0;
    const char *start = p->at;
    if (*p->at == '"') {
        p->at++;
        while (*p->at && *p->at != '"') {
            if (n + 1 >= sizeof name) {
                fail(p, "the property name is too long");
                return NULL;
            }
            name[n++] = *p->at++;
        }
        if (*p->at != '"') {
            fail(p, "the quoted property name is not closed");
            return NULL;
        }
        p->at++;
    } else {
        if (!isalpha((unsigned char)*p->at) && *p->at != '_') {
            fail(p, "expected a property name");
            return NULL;
        }
        while (isalnum((unsigned char)*p->at) || *p->at == '_') {
            if (n + 1 >= sizeof name) {
                fail(p, "the property name is too long");
                return NULL;
            }
            name[n++] = *p->at++;
        }
    }
    name[n] = '\0';
    const char *end = p->at;
    p->at = start;
    const struct data_queryable *q = lookup(p, name);
    if (q) p->at = end;
    return q;
}

/* A time: TIMESTAMP('...'), DATE('...') or, for a date-time property, a
 * quoted RFC 3339 string; '..' too in an interval. */
static int time_lit(struct p *p, int allow_open)
{
    char buf[64];
    size_t n;
    int wrapped = keyword(p, "TIMESTAMP") || keyword(p, "DATE");
    if (wrapped && expect(p, "(")) return -1;
    skip(p);
    const char *at = p->at;
    if (string_lit(p, buf, sizeof buf, &n)) return -1;
    if (wrapped && expect(p, ")")) return -1;
    const char *after = p->at;
    p->at = at;
    int i = time_text(p, buf, allow_open);
    if (i >= 0) p->at = after;
    return i;
}

/* A literal of the queryable's type. */
static int scalar(struct p *p, const struct data_queryable *q)
{
    if (q->type == 's') {
        char buf[1024];
        size_t n;
        skip(p);
        if (string_lit(p, buf, sizeof buf, &n)) return -1;
        return node_text(p, L_TEXT, buf, n);
    }
    if (q->type == 't') return time_lit(p, 0);
    if (q->type == 'i' || q->type == 'n') {
        double v;
        int integral;
        skip(p);
        const char *at = p->at;
        if (number_lit(p, &v, &integral)) return -1;
        const char *after = p->at;
        p->at = at;
        int i = node_number(p, q, v, integral);
        p->at = after;
        return i;
    }
    return fail(p, "%s takes no scalar comparison (use S_INTERSECTS)", q->name);
}

static int coords(struct p *p, char *wkt, size_t cap, size_t *n, int pairs_min)
{
    int count = 0;
    do {
        double x, y;
        int integral;
        if (number_lit(p, &x, &integral) || number_lit(p, &y, &integral) ||
            wkt_pos(p, wkt, cap, n, x, y, count == 0))
            return -1;
        count++;
    } while (punct(p, ","));
    if (count < pairs_min) return fail(p, "expected at least %d positions", pairs_min);
    return 0;
}

/* BBOX, POINT, LINESTRING or POLYGON, rewritten as WKT from the numbers. */
static int geometry_lit(struct p *p)
{
    char wkt[3000];
    size_t n = 0;
    skip(p);
    const char *start = p->at;
    if (keyword(p, "BBOX") || keyword(p, "ENVELOPE")) {
        double v[4];
        int integral;
        if (expect(p, "(")) return -1;
        for (int i = 0; i < 4; i++)
            if ((i && expect(p, ",")) || number_lit(p, &v[i], &integral)) return -1;
        if (expect(p, ")")) return -1;
        return bbox_node(p, v);
    }
    if (keyword(p, "POINT")) {
        double x, y;
        int integral;
        if (wkt_put(p, wkt, sizeof wkt, &n, "POINT(") || expect(p, "(") ||
            number_lit(p, &x, &integral) || number_lit(p, &y, &integral) || expect(p, ")") ||
            wkt_pos(p, wkt, sizeof wkt, &n, x, y, 1))
            return -1;
    } else if (keyword(p, "LINESTRING")) {
        if (wkt_put(p, wkt, sizeof wkt, &n, "LINESTRING(") || expect(p, "(") ||
            coords(p, wkt, sizeof wkt, &n, 2) || expect(p, ")"))
            return -1;
    } else if (keyword(p, "POLYGON")) {
        if (wkt_put(p, wkt, sizeof wkt, &n, "POLYGON(") || expect(p, "(")) return -1;
        int ring = 0;
        do {
            if (wkt_put(p, wkt, sizeof wkt, &n, ring++ ? ", (" : "(") || expect(p, "(") ||
                coords(p, wkt, sizeof wkt, &n, 4) || expect(p, ")") ||
                ring_close(p, wkt, sizeof wkt, &n) || wkt_put(p, wkt, sizeof wkt, &n, ")"))
                return -1;
        } while (punct(p, ","));
        if (expect(p, ")")) return -1;
    } else {
        return fail(p, "expected a geometry: BBOX(w,s,e,n), POINT, LINESTRING or POLYGON");
    }
    if (wkt_put(p, wkt, sizeof wkt, &n, ")")) return -1;
    const char *after = p->at;
    p->at = start;
    int i = geom_node(p, wkt, n);
    p->at = after;
    return i;
}

static int spatial(struct p *p, int i, int fn)
{
    if (expect(p, "(")) return -1;
    const struct data_queryable *q = property(p);
    if (!q) return -1;
    if (q->type != 'g') return fail(p, "%s takes the geometry property first", spatial_fns[fn]);
    if (expect(p, ",")) return -1;
    int g = geometry_lit(p);
    if (g < 0 || expect(p, ")")) return -1;
    struct data_fnode *n = &p->ast->n[i];
    n->op = (unsigned char)fn;
    n->q = q;
    n->a = g;
    return i;
}

static int temporal_operand(struct p *p)
{
    skip(p);
    if (keyword(p, "INTERVAL")) {
        int i = node_new(p, L_INTERVAL);
        if (i < 0 || expect(p, "(")) return -1;
        skip(p);
        for (int k = 0; k < 2; k++) {
            if (k && expect(p, ",")) return -1;
            int e;
            if (time_next(p)) {
                e = time_lit(p, 1);
            } else {
                const struct data_queryable *q = property(p);
                e = q ? time_prop(p, q) : -1;
            }
            if (e < 0) return -1;
            if (k) p->ast->n[i].b = e;
            else p->ast->n[i].a = e;
        }
        return expect(p, ")") ? -1 : i;
    }
    if (time_next(p)) return time_lit(p, 0);
    const struct data_queryable *q = property(p);
    return q ? time_prop(p, q) : -1;
}

static int temporal(struct p *p, int i, int fn)
{
    int a, b;
    if (expect(p, "(") || (a = temporal_operand(p)) < 0 || expect(p, ",") ||
        (b = temporal_operand(p)) < 0 || expect(p, ")"))
        return -1;
    struct data_fnode *n = &p->ast->n[i];
    n->op = (unsigned char)fn;
    n->a = a;
    n->b = b;
    return i;
}

static int predicate(struct p *p)
{
    skip(p);
    /* the node starts at the function's name */
    for (int i = 0; spatial_fns[i]; i++)
        if (peek_keyword(p, spatial_fns[i])) {
            int n = node_new(p, K_SPATIAL);
            keyword(p, spatial_fns[i]);
            return n < 0 ? -1 : spatial(p, n, i);
        }
    for (int i = 0; temporal_fns[i]; i++)
        if (peek_keyword(p, temporal_fns[i])) {
            int n = node_new(p, K_TEMPORAL);
            keyword(p, temporal_fns[i]);
            return n < 0 ? -1 : temporal(p, n, i);
        }
    if (!strncasecmp(p->at, "S_", 2) || !strncasecmp(p->at, "T_", 2) ||
        !strncasecmp(p->at, "A_", 2))
        return fail(p, "this function is not supported: S_INTERSECTS, S_WITHIN, S_DISJOINT,"
                       " T_INTERSECTS, T_BEFORE and T_AFTER are");
    int i = node_new(p, K_CMP);
    if (i < 0) return -1;
    const struct data_queryable *q = property(p);
    if (!q) return -1;
    struct data_fnode *n = &p->ast->n[i];
    n->q = q;
    if (keyword(p, "IS")) {
        n->kind = K_ISNULL;
        n->neg = (unsigned char)keyword(p, "NOT");
        if (!keyword(p, "NULL")) return fail(p, "expected NULL");
        return i;
    }
    n->neg = (unsigned char)keyword(p, "NOT");
    int ci = 0;
    if (keyword(p, "LIKE") || (ci = keyword(p, "ILIKE"))) {
        if (q->type != 's') return fail(p, "LIKE takes a text property; %s is not", q->name);
        n->kind = K_LIKE;
        n->ci = (unsigned char)ci;
        return (p->ast->n[i].a = scalar(p, q)) < 0 ? -1 : i;
    }
    if (keyword(p, "BETWEEN")) {
        if (q->type == 's' || q->type == 'g') return fail(p, "BETWEEN takes a number or a date-time");
        n->kind = K_BETWEEN;
        if ((p->ast->n[i].a = scalar(p, q)) < 0) return -1;
        if (!keyword(p, "AND")) return fail(p, "expected AND");
        return (p->ast->n[i].b = scalar(p, q)) < 0 ? -1 : i;
    }
    if (keyword(p, "IN")) {
        n->kind = K_IN;
        if (expect(p, "(")) return -1;
        int *link = &p->ast->n[i].a;
        do {
            int v = scalar(p, q);
            if (v < 0) return -1;
            *link = v;
            link = &p->ast->n[v].next;
        } while (punct(p, ","));
        return expect(p, ")") ? -1 : i;
    }
    if (n->neg) return fail(p, "expected LIKE, BETWEEN or IN after NOT");
    skip(p);
    for (int k = 0; cmp_ops[k]; k++) {
        if (punct(p, cmp_ops[k])) {
            if (q->type == 'g') return fail(p, "compare the geometry with S_INTERSECTS");
            n->op = (unsigned char)k;
            return (p->ast->n[i].a = scalar(p, q)) < 0 ? -1 : i;
        }
    }
    return fail(p, "expected a comparison (= <> < <= > >=), LIKE, BETWEEN, IN or IS NULL");
}

static int or_expr(struct p *p);

static int primary(struct p *p)
{
    if (++p->depth > CQL2_MAX_DEPTH) return fail(p, "nested more than %d deep", CQL2_MAX_DEPTH);
    int i;
    skip(p);
    if (peek_keyword(p, "NOT")) {
        i = node_new(p, K_NOT);
        keyword(p, "NOT");
        if (i >= 0 && (p->ast->n[i].a = primary(p)) < 0) i = -1;
    } else if (punct(p, "(")) {
        i = or_expr(p);
        if (i >= 0 && expect(p, ")")) i = -1;
    } else {
        i = predicate(p);
    }
    p->depth--;
    return i;
}

/* operand (KEYWORD operand)*: one node of kind k when there are several. */
static int chain(struct p *p, int k, const char *kw, int (*operand)(struct p *))
{
    skip(p);
    const char *start = p->at;
    int first = operand(p);
    if (first < 0 || !peek_keyword(p, kw)) return first;
    const char *here = p->at;
    p->at = start;
    int i = node_new(p, k);
    p->at = here;
    if (i < 0) return -1;
    p->ast->n[i].a = first;
    int last = first;
    while (keyword(p, kw)) {
        int next = operand(p);
        if (next < 0) return -1;
        p->ast->n[last].next = next;
        last = next;
    }
    return i;
}

static int and_expr(struct p *p)
{
    return chain(p, K_AND, "AND", primary);
}

static int or_expr(struct p *p)
{
    return chain(p, K_OR, "OR", and_expr);
}

/* ---- the JSON encoding ----------------------------------------------------- */

/* Enters member or element seg of the current value; returns the old length. */
static size_t jpush(struct p *p, const char *seg, int index)
{
    size_t len = strlen(p->jpath);
    if (seg)
        snprintf(p->jpath + len, sizeof p->jpath - len, "/%s", seg);
    else
        snprintf(p->jpath + len, sizeof p->jpath - len, "/%d", index);
    return len;
}

static void jpop(struct p *p, size_t len)
{
    p->jpath[len] = '\0';
}

/* {"property": "name"} */
static const struct data_queryable *jproperty(struct p *p, json_t *j)
{
    json_t *name = json_object_get(j, "property");
    if (!json_is_object(j) || json_object_size(j) != 1 || !json_is_string(name)) {
        fail(p, "expected {\"property\": \"name\"} (a property first, a literal after)");
        return NULL;
    }
    return lookup(p, json_string_value(name));
}

/* A time: "...", {"timestamp": "..."} or {"date": "..."}; ".." for an open end. */
static int jtime(struct p *p, json_t *j, int allow_open)
{
    json_t *s = j;
    if (json_is_object(j) && json_object_size(j) == 1) {
        s = json_object_get(j, "timestamp");
        if (!s) s = json_object_get(j, "date");
    }
    if (!json_is_string(s))
        return fail(p, "expected a time: {\"timestamp\": \"...\"}, {\"date\": \"...\"}%s",
                    allow_open ? " or \"..\"" : "");
    return time_text(p, json_string_value(s), allow_open);
}

static int jscalar(struct p *p, const struct data_queryable *q, json_t *j)
{
    if (q->type == 's') {
        if (!json_is_string(j)) return fail(p, "expected a string");
        if (json_string_length(j) >= 1024) return fail(p, "the string is too long");
        return node_text(p, L_TEXT, json_string_value(j), json_string_length(j));
    }
    if (q->type == 't') return jtime(p, j, 0);
    if (q->type == 'i' || q->type == 'n') {
        if (!json_is_number(j)) return fail(p, "expected a number");
        double v = json_number_value(j);
        if (!isfinite(v)) return fail(p, "not a finite number");
        return node_number(p, q, v, json_is_integer(j));
    }
    return fail(p, "%s takes no scalar comparison (use s_intersects)", q->name);
}

/* A GeoJSON position [x, y] into wkt. */
static int jpos(struct p *p, json_t *j, char *wkt, size_t cap, size_t *n, int first)
{
    json_t *x = json_array_get(j, 0), *y = json_array_get(j, 1);
    if (!json_is_array(j) || json_array_size(j) < 2 || json_array_size(j) > 3 ||
        !json_is_number(x) || !json_is_number(y))
        return fail(p, "expected a position [longitude, latitude]");
    return wkt_pos(p, wkt, cap, n, json_number_value(x), json_number_value(y), first);
}

static int jpositions(struct p *p, json_t *j, char *wkt, size_t cap, size_t *n, size_t min)
{
    if (!json_is_array(j) || json_array_size(j) < min)
        return fail(p, "expected an array of at least %zu positions", min);
    size_t k;
    json_t *v;
    json_array_foreach(j, k, v)
    {
        size_t at = jpush(p, NULL, (int)k);
        if (jpos(p, v, wkt, cap, n, k == 0)) return -1;
        jpop(p, at);
    }
    return 0;
}

/* {"bbox": [w, s, e, n]} or a GeoJSON Point, LineString or Polygon. */
static int jgeometry(struct p *p, json_t *j)
{
    json_t *bbox = json_object_get(j, "bbox");
    if (json_is_object(j) && json_object_size(j) == 1 && bbox) {
        double v[4];
        if (!json_is_array(bbox) || json_array_size(bbox) != 4)
            return fail(p, "bbox is [west, south, east, north] in CRS84");
        for (int i = 0; i < 4; i++) {
            json_t *x = json_array_get(bbox, (size_t)i);
            if (!json_is_number(x)) return fail(p, "bbox is [west, south, east, north] in CRS84");
            v[i] = json_number_value(x);
        }
        return bbox_node(p, v);
    }
    const char *type = json_string_value(json_object_get(j, "type"));
    json_t *c = json_object_get(j, "coordinates");
    char wkt[3000];
    size_t n = 0;
    if (!type || !c)
        return fail(p, "expected {\"bbox\": [w, s, e, n]} or a GeoJSON Point, LineString or"
                       " Polygon");
    if (strcmp(type, "Point") && strcmp(type, "LineString") && strcmp(type, "Polygon"))
        return fail(p, "%.32s is not supported: Point, LineString, Polygon and bbox are", type);
    size_t at = jpush(p, "coordinates", 0);
    int rc = 0;
    if (!strcmp(type, "Point")) {
        rc = wkt_put(p, wkt, sizeof wkt, &n, "POINT(") || jpos(p, c, wkt, sizeof wkt, &n, 1);
    } else if (!strcmp(type, "LineString")) {
        rc = wkt_put(p, wkt, sizeof wkt, &n, "LINESTRING(") ||
             jpositions(p, c, wkt, sizeof wkt, &n, 2);
    } else if (!strcmp(type, "Polygon")) {
        rc = wkt_put(p, wkt, sizeof wkt, &n, "POLYGON(");
        if (!rc && (!json_is_array(c) || json_array_size(c) == 0))
            rc = fail(p, "expected an array of rings");
        size_t k;
        json_t *ring;
        json_array_foreach(c, k, ring)
        {
            if (rc) break;
            size_t r = jpush(p, NULL, (int)k);
            rc = wkt_put(p, wkt, sizeof wkt, &n, k ? ", (" : "(") ||
                 jpositions(p, ring, wkt, sizeof wkt, &n, 4) ||
                 ring_close(p, wkt, sizeof wkt, &n) || wkt_put(p, wkt, sizeof wkt, &n, ")");
            if (!rc) jpop(p, r);
        }
    }
    if (rc || wkt_put(p, wkt, sizeof wkt, &n, ")")) return -1;
    jpop(p, at);
    return geom_node(p, wkt, n);
}

static int jtemporal_operand(struct p *p, json_t *j)
{
    json_t *iv = json_object_get(j, "interval");
    if (json_is_object(j) && json_object_size(j) == 1 && iv) {
        int i = node_new(p, L_INTERVAL);
        if (i < 0) return -1;
        size_t at = jpush(p, "interval", 0);
        if (!json_is_array(iv) || json_array_size(iv) != 2)
            return fail(p, "an interval is [start, end]");
        for (int k = 0; k < 2; k++) {
            json_t *e = json_array_get(iv, (size_t)k);
            size_t a = jpush(p, NULL, k);
            const struct data_queryable *q;
            int n = json_object_get(e, "property")
                        ? ((q = jproperty(p, e)) ? time_prop(p, q) : -1)
                        : jtime(p, e, 1);
            if (n < 0) return -1;
            jpop(p, a);
            if (k) p->ast->n[i].b = n;
            else p->ast->n[i].a = n;
        }
        jpop(p, at);
        return i;
    }
    if (json_object_get(j, "property")) {
        const struct data_queryable *q = jproperty(p, j);
        return q ? time_prop(p, q) : -1;
    }
    return jtime(p, j, 0);
}

static int jexpr(struct p *p, json_t *j);

static int jop(struct p *p, const char *op, json_t *args)
{
    size_t nargs = json_array_size(args);
    int i;
#define NARGS(want)                                                                                \
    do {                                                                                           \
        if (nargs != (size_t)(want)) return fail(p, "%s takes %d arguments", op, (want));               \
    } while (0)
    if (!strcasecmp(op, "and") || !strcasecmp(op, "or")) {
        if (nargs < 2) return fail(p, "%s takes 2 or more arguments", op);
        if ((i = node_new(p, !strcasecmp(op, "and") ? K_AND : K_OR)) < 0) return -1;
        size_t at = jpush(p, "args", 0);
        int *link = &p->ast->n[i].a;
        for (size_t k = 0; k < nargs; k++) {
            size_t a = jpush(p, NULL, (int)k);
            int c = jexpr(p, json_array_get(args, k));
            if (c < 0) return -1;
            jpop(p, a);
            *link = c;
            link = &p->ast->n[c].next;
        }
        jpop(p, at);
        return i;
    }
    if (!strcasecmp(op, "not")) {
        NARGS(1);
        if ((i = node_new(p, K_NOT)) < 0) return -1;
        size_t at = jpush(p, "args", 0);
        size_t a = jpush(p, NULL, 0);
        if ((p->ast->n[i].a = jexpr(p, json_array_get(args, 0))) < 0) return -1;
        jpop(p, a);
        jpop(p, at);
        return i;
    }
    for (int k = 0; spatial_fns[k]; k++) {
        if (strcasecmp(op, spatial_fns[k]) != 0) continue;
        NARGS(2);
        if ((i = node_new(p, K_SPATIAL)) < 0) return -1;
        size_t at = jpush(p, "args", 0);
        size_t a = jpush(p, NULL, 0);
        const struct data_queryable *q = jproperty(p, json_array_get(args, 0));
        if (!q) return -1;
        if (q->type != 'g') return fail(p, "%s takes the geometry property first", op);
        jpop(p, a);
        a = jpush(p, NULL, 1);
        int g = jgeometry(p, json_array_get(args, 1));
        if (g < 0) return -1;
        jpop(p, a);
        jpop(p, at);
        p->ast->n[i].op = (unsigned char)k;
        p->ast->n[i].q = q;
        p->ast->n[i].a = g;
        return i;
    }
    for (int k = 0; temporal_fns[k]; k++) {
        if (strcasecmp(op, temporal_fns[k]) != 0) continue;
        NARGS(2);
        if ((i = node_new(p, K_TEMPORAL)) < 0) return -1;
        p->ast->n[i].op = (unsigned char)k;
        size_t at = jpush(p, "args", 0);
        for (int m = 0; m < 2; m++) {
            size_t a = jpush(p, NULL, m);
            int o = jtemporal_operand(p, json_array_get(args, (size_t)m));
            if (o < 0) return -1;
            jpop(p, a);
            if (m) p->ast->n[i].b = o;
            else p->ast->n[i].a = o;
        }
        jpop(p, at);
        return i;
    }
    int kind = -1, cmp = -1;
    size_t want = 2;
    for (int k = 0; cmp_ops[k]; k++)
        if (!strcmp(op, cmp_ops[k])) kind = K_CMP, cmp = k;
    if (!strcasecmp(op, "like")) kind = K_LIKE;
    if (!strcasecmp(op, "between")) kind = K_BETWEEN, want = 3;
    if (!strcasecmp(op, "in")) kind = K_IN;
    if (!strcasecmp(op, "isNull")) kind = K_ISNULL, want = 1;
    if (kind < 0)
        return fail(p, "%.32s is not supported: and, or, not, = <> < <= > >=, like, between, in,"
                       " isNull, s_intersects, s_within, s_disjoint, t_intersects, t_before,"
                       " t_after are",
                    op);
    NARGS((int)want);
    if ((i = node_new(p, kind)) < 0) return -1;
    size_t at = jpush(p, "args", 0);
    size_t a = jpush(p, NULL, 0);
    const struct data_queryable *q = jproperty(p, json_array_get(args, 0));
    if (!q) return -1;
    jpop(p, a);
    struct data_fnode *n = &p->ast->n[i];
    n->q = q;
    if (kind == K_ISNULL) {
        jpop(p, at);
        return i;
    }
    a = jpush(p, NULL, 1);
    json_t *v = json_array_get(args, 1);
    int lit = -1;
    if (kind == K_CMP) {
        if (q->type == 'g') return fail(p, "compare the geometry with s_intersects");
        n->op = (unsigned char)cmp;
        lit = jscalar(p, q, v);
    } else if (kind == K_LIKE) {
        if (q->type != 's') return fail(p, "like takes a text property; %s is not", q->name);
        lit = jscalar(p, q, v);
    } else if (kind == K_BETWEEN) {
        if (q->type == 's' || q->type == 'g') return fail(p, "between takes a number or a date-time");
        lit = jscalar(p, q, v);
        if (lit >= 0) {
            jpop(p, a);
            a = jpush(p, NULL, 2);
            if ((p->ast->n[i].b = jscalar(p, q, json_array_get(args, 2))) < 0) return -1;
        }
    } else { /* K_IN */
        if (!json_is_array(v) || json_array_size(v) == 0)
            return fail(p, "in takes a property and an array of values");
        int *link = &lit;
        size_t k;
        json_t *e;
        json_array_foreach(v, k, e)
        {
            size_t b = jpush(p, NULL, (int)k);
            int l = jscalar(p, q, e);
            if (l < 0) return -1;
            jpop(p, b);
            *link = l;
            link = &p->ast->n[l].next;
        }
    }
    if (lit < 0) return -1;
    p->ast->n[i].a = lit;
    jpop(p, a);
    jpop(p, at);
    return i;
#undef NARGS
}

static int jexpr(struct p *p, json_t *j)
{
    if (++p->depth > CQL2_MAX_DEPTH) return fail(p, "nested more than %d deep", CQL2_MAX_DEPTH);
    json_t *op = json_object_get(j, "op"), *args = json_object_get(j, "args");
    int i;
    if (!json_is_object(j) || !json_is_string(op) || !json_is_array(args) ||
        json_object_size(j) != 2)
        i = fail(p, "expected {\"op\": ..., \"args\": [...]}");
    else
        i = jop(p, json_string_value(op), args);
    p->depth--;
    return i;
}

/* ---- entry points ------------------------------------------------------------ */

static fm_rc finish(struct p *p, int root)
{
    free(p->path);
    if (p->failed || root < 0) {
        p->ast->root = -1;
        p->ast->count = 0;
        p->ast->text_len = 0;
        return FM_EINVAL;
    }
    p->ast->root = root;
    return FM_OK;
}

/* The parser's state for filter s into f. */
static int start(struct p *p, const char *s, int json, const struct cql2_crs *crs,
                 const struct data_queryable *qs, struct data_filter *f, struct fm_err *err)
{
    memset(p, 0, sizeof *p);
    p->s = p->at = s, p->json = json, p->crs = crs, p->qs = qs, p->ast = f, p->err = err;
    f->root = -1, f->count = 0, f->text_len = 0;
    p->path = json ? malloc(sizeof *p->path * MAX_NODES) : NULL;
    if (json && !p->path) {
        fm_fail(err, FM_EINTERNAL, "filter", "out of memory");
        return -1;
    }
    return 0;
}

static fm_rc compile_text(const char *s, const struct cql2_crs *crs,
                          const struct data_queryable *qs, struct data_filter *f,
                          struct fm_err *err);
static fm_rc compile_json(const char *s, const struct cql2_crs *crs,
                          const struct data_queryable *qs, struct data_filter *f,
                          struct fm_err *err);

fm_rc cql2_compile_crs(const char *s, int json, const struct cql2_crs *crs,
                       const struct data_queryable *qs, struct data_filter *f,
                       struct fm_err *err)
{
    return json ? compile_json(s, crs, qs, f, err) : compile_text(s, crs, qs, f, err);
}

fm_rc cql2_compile(const char *s, const struct data_queryable *qs, struct data_filter *f,
                   struct fm_err *err)
{
    return compile_text(s, NULL, qs, f, err);
}

fm_rc cql2_compile_json(const char *s, const struct data_queryable *qs, struct data_filter *f,
                        struct fm_err *err)
{
    return compile_json(s, NULL, qs, f, err);
}

static fm_rc compile_text(const char *s, const struct cql2_crs *crs,
                          const struct data_queryable *qs, struct data_filter *f,
                          struct fm_err *err)
{
    struct p p;
    if (start(&p, s, 0, crs, qs, f, err)) return FM_EINTERNAL;
    skip(&p);
    int root = -1;
    if (!*p.at) {
        fail(&p, "the filter is empty");
    } else if ((root = or_expr(&p)) >= 0) {
        skip(&p);
        if (*p.at) fail(&p, "unexpected text after the expression (AND, OR or the end)");
    }
    return finish(&p, root);
}

static fm_rc compile_json(const char *s, const struct cql2_crs *crs,
                          const struct data_queryable *qs, struct data_filter *f,
                          struct fm_err *err)
{
    f->root = -1, f->count = 0, f->text_len = 0;
    json_error_t jerr;
    json_t *j = json_loads(s, JSON_REJECT_DUPLICATES, &jerr);
    if (!j)
        return fm_fail(err, FM_EINVAL, "filter", "filter: at character %d: not CQL2 JSON: %.120s",
                       jerr.position + 1, jerr.text);
    struct p p;
    if (start(&p, s, 1, crs, qs, f, err)) {
        json_decref(j);
        return FM_EINTERNAL;
    }
    int root = jexpr(&p, j);
    json_decref(j);
    return finish(&p, root);
}

fm_rc cql2_sortby(const char *s, const struct data_queryable *qs, struct data_sort *out,
                  struct fm_err *err)
{
    out->n = 0;
    const char *c = s;
    while (*c) {
        int desc = 0;
        while (*c == ' ') c++;
        if (*c == '+' || *c == '-') desc = *c++ == '-';
        const char *start = c;
        while (*c && *c != ',' && *c != ' ') c++;
        size_t l = (size_t)(c - start);
        const struct data_queryable *q = NULL;
        for (const struct data_queryable *k = qs; k->name && !q; k++)
            if (strlen(k->name) == l && !strncmp(k->name, start, l)) q = k;
        if (!q || q->type == 'g') {
            out->n = 0;
            return fm_fail(err, FM_EINVAL, "sortby",
                           "sortby: %.*s is not a sortable queryable (the queryables but the"
                           " geometry, each [+|-]name, comma-separated)",
                           (int)(l > 64 ? 64 : l), start);
        }
        if (out->n >= DATA_SORT_MAX) {
            out->n = 0;
            return fm_fail(err, FM_EINVAL, "sortby", "sortby: at most %d keys", DATA_SORT_MAX);
        }
        out->key[out->n].q = q;
        out->key[out->n].desc = desc;
        out->n++;
        while (*c == ' ') c++;
        if (*c == ',') {
            c++;
            if (!*c) {
                out->n = 0;
                return fm_fail(err, FM_EINVAL, "sortby", "sortby ends with a comma");
            }
        }
    }
    if (!out->n) return fm_fail(err, FM_EINVAL, "sortby", "sortby names no property");
    return FM_OK;
}

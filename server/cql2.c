/* cql2.c - CQL2 text to SQL the server writes (see cql2.h): a recursive
 * descent parser that emits SQL as it goes, from the queryables' own
 * expressions and fixed operator texts, with the client's values bound
 * as :f0, :f1, ... */
#include "cql2.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct p {
    const char *s, *at; /* the text, the current position */
    const struct data_queryable *qs;
    struct data_filter *f;
    struct fm_err *err;
    int depth;
    int failed;
    size_t len; /* of f->sql */
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
    fm_fail(p->err, FM_EINVAL, "filter", "filter: at character %d: %s", (int)(p->at - p->s) + 1,
            msg);
    return -1;
}

static void emit(struct p *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(struct p *p, const char *fmt, ...)
{
    if (p->failed) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(p->f->sql + p->len, sizeof p->f->sql - p->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof p->f->sql - p->len) {
        fail(p, "the filter is too long");
        return;
    }
    p->len += (size_t)n;
}

/* ---- values ---------------------------------------------------------- */

static int value_int(struct p *p, int64_t v)
{
    if (p->f->nvalues >= DATA_FILTER_MAX_VALUES) return fail(p, "more than %d values", DATA_FILTER_MAX_VALUES);
    int i = p->f->nvalues++;
    p->f->values[i].kind = 'i';
    p->f->values[i].i = v;
    return i;
}

static int value_double(struct p *p, double v)
{
    if (p->f->nvalues >= DATA_FILTER_MAX_VALUES) return fail(p, "more than %d values", DATA_FILTER_MAX_VALUES);
    int i = p->f->nvalues++;
    p->f->values[i].kind = 'd';
    p->f->values[i].d = v;
    return i;
}

/* A text value of n bytes at t (copied into the filter). */
static int value_text(struct p *p, const char *t, size_t n)
{
    if (p->f->nvalues >= DATA_FILTER_MAX_VALUES) return fail(p, "more than %d values", DATA_FILTER_MAX_VALUES);
    if (p->f->text_len + n + 1 > sizeof p->f->text) return fail(p, "the filter's texts are too long");
    char *dst = p->f->text + p->f->text_len;
    memcpy(dst, t, n);
    dst[n] = '\0';
    p->f->text_len += n + 1;
    int i = p->f->nvalues++;
    p->f->values[i].kind = 't';
    p->f->values[i].t = dst;
    return i;
}

/* ---- tokens ---------------------------------------------------------- */

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
    if (*integral && fabs(*v) > 9007199254740992.0) *integral = 0;
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
    for (const struct data_queryable *q = p->qs; q->name; q++)
        if (!strcmp(q->name, name)) return q;
    p->at = start;
    char list[400];
    size_t l = 0;
    list[0] = '\0';
    for (const struct data_queryable *q = p->qs; q->name && l < sizeof list - 70; q++)
        l += (size_t)snprintf(list + l, sizeof list - l, "%s%s", l ? ", " : "", q->name);
    fail(p, "%s is not a queryable of this collection (GET .../queryables): %s", name, list);
    return NULL;
}

/* A time: TIMESTAMP('...'), DATE('...') or, for a date-time property, a
 * quoted RFC 3339 string. OUT *t. open: '..' allowed (sets *is_open). */
static int time_lit(struct p *p, fm_time *t, int allow_open, int *is_open)
{
    char buf[64];
    size_t n;
    int wrapped = keyword(p, "TIMESTAMP") || keyword(p, "DATE");
    if (wrapped && expect(p, "(")) return -1;
    const char *at = p->at;
    if (string_lit(p, buf, sizeof buf, &n)) return -1;
    if (wrapped && expect(p, ")")) return -1;
    if (is_open) *is_open = 0;
    if (allow_open && !strcmp(buf, "..")) {
        *is_open = 1;
        return 0;
    }
    if (fm_time_parse(buf, t)) {
        p->at = at;
        return fail(p, "'%s' is not an RFC 3339 date or date-time", buf);
    }
    return 0;
}

/* ---- predicates -------------------------------------------------------- */

/* A literal of the queryable's type, bound; returns the value's index. */
static int scalar(struct p *p, const struct data_queryable *q)
{
    if (q->type == 's') {
        char buf[1024];
        size_t n;
        if (string_lit(p, buf, sizeof buf, &n)) return -1;
        return value_text(p, buf, n);
    }
    if (q->type == 't') {
        fm_time t;
        if (time_lit(p, &t, 0, NULL)) return -1;
        return value_int(p, t);
    }
    if (q->type == 'i' || q->type == 'n') {
        double v;
        int integral;
        if (number_lit(p, &v, &integral)) return -1;
        if (q->type == 'i' && integral) return value_int(p, (int64_t)v);
        return value_double(p, v);
    }
    return fail(p, "%s takes no scalar comparison (use S_INTERSECTS)", q->name);
}

/* CQL2 LIKE (% _ and \ escapes, case-sensitive) as a GLOB pattern. */
static int like_to_glob(struct p *p, const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (const char *c = in; *c; c++) {
        const char *piece;
        char one[2] = {0, 0};
        if (*c == '\\' && c[1]) {
            c++;
            one[0] = *c;
            piece = *c == '*' ? "[*]" : *c == '?' ? "[?]" : *c == '[' ? "[[]" : one;
        } else if (*c == '%') {
            piece = "*";
        } else if (*c == '_') {
            piece = "?";
        } else if (*c == '*') {
            piece = "[*]";
        } else if (*c == '?') {
            piece = "[?]";
        } else if (*c == '[') {
            piece = "[[]";
        } else {
            one[0] = *c;
            piece = one;
        }
        size_t l = strlen(piece);
        if (n + l + 1 > cap) return fail(p, "the pattern is too long");
        memcpy(out + n, piece, l);
        n += l;
    }
    out[n] = '\0';
    return 0;
}

/* A geometry literal, bound as WKT the server wrote from the parsed
 * numbers (or BuildMbr of four), into expr. */
static int coords(struct p *p, char *wkt, size_t cap, size_t *n, int pairs_min)
{
    int count = 0;
    do {
        double x, y;
        int integral;
        if (number_lit(p, &x, &integral) || number_lit(p, &y, &integral)) return -1;
        if (x < -180 || x > 180 || y < -90 || y > 90)
            return fail(p, "coordinates are longitude, latitude in CRS84");
        int w = snprintf(wkt + *n, cap - *n, "%s%.17g %.17g", count ? ", " : "", x, y);
        if (w < 0 || (size_t)w >= cap - *n) return fail(p, "the geometry is too large");
        *n += (size_t)w;
        count++;
    } while (punct(p, ","));
    if (count < pairs_min) return fail(p, "expected at least %d positions", pairs_min);
    return 0;
}

static int geometry_lit(struct p *p, char *expr, size_t cap)
{
    char wkt[3000];
    size_t n = 0;
    if (keyword(p, "BBOX") || keyword(p, "ENVELOPE")) {
        double v[4];
        int integral;
        if (expect(p, "(")) return -1;
        for (int i = 0; i < 4; i++)
            if ((i && expect(p, ",")) || number_lit(p, &v[i], &integral)) return -1;
        if (expect(p, ")")) return -1;
        if (v[0] > v[2] || v[1] > v[3] || v[0] < -180 || v[2] > 180 || v[1] < -90 || v[3] > 90)
            return fail(p, "BBOX is west, south, east, north in CRS84, west <= east");
        int a = value_double(p, v[0]), b = value_double(p, v[1]), c = value_double(p, v[2]),
            d = value_double(p, v[3]);
        if (a < 0 || b < 0 || c < 0 || d < 0) return -1;
        snprintf(expr, cap, "BuildMbr(:f%d, :f%d, :f%d, :f%d, 4326)", a, b, c, d);
        return 0;
    }
    if (keyword(p, "POINT")) {
        n = (size_t)snprintf(wkt, sizeof wkt, "POINT(");
        if (expect(p, "(")) return -1;
        double x, y;
        int integral;
        if (number_lit(p, &x, &integral) || number_lit(p, &y, &integral) || expect(p, ")"))
            return -1;
        if (x < -180 || x > 180 || y < -90 || y > 90)
            return fail(p, "coordinates are longitude, latitude in CRS84");
        n += (size_t)snprintf(wkt + n, sizeof wkt - n, "%.17g %.17g)", x, y);
    } else if (keyword(p, "LINESTRING")) {
        n = (size_t)snprintf(wkt, sizeof wkt, "LINESTRING(");
        if (expect(p, "(") || coords(p, wkt, sizeof wkt, &n, 2) || expect(p, ")")) return -1;
        if (n + 2 > sizeof wkt) return fail(p, "the geometry is too large");
        wkt[n++] = ')';
        wkt[n] = '\0';
    } else if (keyword(p, "POLYGON")) {
        n = (size_t)snprintf(wkt, sizeof wkt, "POLYGON(");
        if (expect(p, "(")) return -1;
        int ring = 0;
        do {
            if (n + 4 > sizeof wkt) return fail(p, "the geometry is too large");
            n += (size_t)snprintf(wkt + n, sizeof wkt - n, "%s(", ring++ ? ", " : "");
            if (expect(p, "(") || coords(p, wkt, sizeof wkt, &n, 4) || expect(p, ")")) return -1;
            if (n + 2 > sizeof wkt) return fail(p, "the geometry is too large");
            wkt[n++] = ')';
            wkt[n] = '\0';
        } while (punct(p, ","));
        if (expect(p, ")")) return -1;
        if (n + 2 > sizeof wkt) return fail(p, "the geometry is too large");
        wkt[n++] = ')';
        wkt[n] = '\0';
    } else {
        return fail(p, "expected a geometry: BBOX(w,s,e,n), POINT, LINESTRING or POLYGON");
    }
    int i = value_text(p, wkt, n);
    if (i < 0) return -1;
    /* an invalid ring (not closed) makes GeomFromText NULL: no match */
    snprintf(expr, cap, "GeomFromText(:f%d, 4326)", i);
    return 0;
}

static int spatial(struct p *p, const char *fn)
{
    if (expect(p, "(")) return -1;
    const struct data_queryable *q = property(p);
    if (!q) return -1;
    if (q->type != 'g') return fail(p, "%s takes the geometry property first", fn);
    if (expect(p, ",")) return -1;
    char g[128];
    if (geometry_lit(p, g, sizeof g) || expect(p, ")")) return -1;
    if (!strcmp(fn, "S_DISJOINT")) {
        emit(p, "ST_Disjoint(%s, %s) = 1", q->sql, g);
        return 0;
    }
    emit(p, "(");
    if (q->index) {
        /* the format is the queryable table's, not the client's */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        emit(p, q->index, g, g, g, g);
#pragma GCC diagnostic pop
        emit(p, " AND ");
    }
    emit(p, "%s(%s, %s) = 1)", !strcmp(fn, "S_WITHIN") ? "ST_Within" : "ST_Intersects", q->sql, g);
    return 0;
}

/* One end of a temporal operand: an SQL expression (a queryable's, NULL
 * meaning open or unknown), a bound value, or an open end. */
struct tend {
    char sql[160];
    int open; /* +-1: this end is open (-inf, +inf) */
    int nullable; /* 1: the expression may be NULL */
    int null_is_open; /* NULL means an open end (validity), else unknown: false */
};

static int temporal_operand(struct p *p, struct tend *lo, struct tend *hi)
{
    memset(lo, 0, sizeof *lo);
    memset(hi, 0, sizeof *hi);
    if (keyword(p, "INTERVAL")) {
        if (expect(p, "(")) return -1;
        skip(p);
        for (int i = 0; i < 2; i++) {
            struct tend *e = i ? hi : lo;
            if (i && expect(p, ",")) return -1;
            if (time_next(p)) {
                fm_time t;
                int is_open;
                if (time_lit(p, &t, 1, &is_open)) return -1;
                if (is_open) {
                    e->open = i ? 1 : -1;
                } else {
                    int v = value_int(p, t);
                    if (v < 0) return -1;
                    snprintf(e->sql, sizeof e->sql, ":f%d", v);
                }
            } else {
                const struct data_queryable *q = property(p);
                if (!q) return -1;
                if (q->type != 't') return fail(p, "%s is not a date-time", q->name);
                snprintf(e->sql, sizeof e->sql, "%s", q->sql);
                e->nullable = 1;
                /* validity's ends: absent is open */
                e->null_is_open = !strcmp(q->name, "valid_from") || !strcmp(q->name, "valid_to");
            }
        }
        return expect(p, ")");
    }
    if (time_next(p)) {
        fm_time t;
        if (time_lit(p, &t, 0, NULL)) return -1;
        int v = value_int(p, t);
        if (v < 0) return -1;
        snprintf(lo->sql, sizeof lo->sql, ":f%d", v);
        *hi = *lo;
        return 0;
    }
    const struct data_queryable *q = property(p);
    if (!q) return -1;
    if (q->type != 't') return fail(p, "%s is not a date-time", q->name);
    snprintf(lo->sql, sizeof lo->sql, "%s", q->sql);
    lo->nullable = 1;
    *hi = *lo;
    return 0;
}

/* a <= b (strict: a < b) for ends that may be open or NULL. */
static void t_le(struct p *p, const struct tend *a, int a_is_lo, const struct tend *b,
                 int b_is_lo, int strict)
{
    /* an open end: -inf for a start, +inf for an end */
    int a_inf = a->open ? a->open : 0, b_inf = b->open ? b->open : 0;
    if (a_inf || b_inf) {
        /* -inf <= x, x <= +inf: true; +inf <= x, x <= -inf: false */
        int truth = a_inf == -1 || b_inf == 1;
        if (a_inf == 1 || b_inf == -1) truth = 0;
        emit(p, "%s", truth ? "1" : "0");
        return;
    }
    emit(p, "(");
    /* a NULL that means open: a start is -inf (true), an end +inf (false on the left) */
    if (a->nullable && a->null_is_open)
        emit(p, a_is_lo ? "%s IS NULL OR " : "%s IS NOT NULL AND ", a->sql);
    if (b->nullable && b->null_is_open)
        emit(p, b_is_lo ? "%s IS NOT NULL AND " : "%s IS NULL OR ", b->sql);
    emit(p, "%s %s %s)", a->sql, strict ? "<" : "<=", b->sql);
}

static int temporal(struct p *p, const char *fn)
{
    struct tend alo, ahi, blo, bhi;
    if (expect(p, "(") || temporal_operand(p, &alo, &ahi) || expect(p, ",") ||
        temporal_operand(p, &blo, &bhi) || expect(p, ")"))
        return -1;
    emit(p, "(");
    if (!strcmp(fn, "T_INTERSECTS")) {
        t_le(p, &alo, 1, &bhi, 0, 0);
        emit(p, " AND ");
        t_le(p, &blo, 1, &ahi, 0, 0);
    } else if (!strcmp(fn, "T_BEFORE")) {
        t_le(p, &ahi, 0, &blo, 1, 1);
    } else { /* T_AFTER */
        t_le(p, &bhi, 0, &alo, 1, 1);
    }
    emit(p, ")");
    return 0;
}

static int predicate(struct p *p)
{
    skip(p);
    static const char *const spatial_fns[] = {"S_INTERSECTS", "S_WITHIN", "S_DISJOINT", NULL};
    static const char *const temporal_fns[] = {"T_INTERSECTS", "T_BEFORE", "T_AFTER", NULL};
    for (int i = 0; spatial_fns[i]; i++)
        if (keyword(p, spatial_fns[i])) return spatial(p, spatial_fns[i]);
    for (int i = 0; temporal_fns[i]; i++)
        if (keyword(p, temporal_fns[i])) return temporal(p, temporal_fns[i]);
    if (!strncasecmp(p->at, "S_", 2) || !strncasecmp(p->at, "T_", 2) ||
        !strncasecmp(p->at, "A_", 2))
        return fail(p, "this function is not supported: S_INTERSECTS, S_WITHIN, S_DISJOINT,"
                       " T_INTERSECTS, T_BEFORE and T_AFTER are");
    const struct data_queryable *q = property(p);
    if (!q) return -1;
    if (keyword(p, "IS")) {
        int neg = keyword(p, "NOT");
        if (!keyword(p, "NULL")) return fail(p, "expected NULL");
        emit(p, "%s IS %sNULL", q->sql, neg ? "NOT " : "");
        return 0;
    }
    int neg = keyword(p, "NOT");
    int ci = 0;
    if (keyword(p, "LIKE") || (ci = keyword(p, "ILIKE"))) {
        if (q->type != 's') return fail(p, "LIKE takes a text property; %s is not", q->name);
        char pat[1024], glob[3100];
        size_t n;
        if (string_lit(p, pat, sizeof pat, &n)) return -1;
        int v;
        if (ci) {
            v = value_text(p, pat, n);
            if (v < 0) return -1;
            emit(p, "%s%s LIKE :f%d ESCAPE '\\'", neg ? "NOT " : "", q->sql, v);
        } else {
            if (like_to_glob(p, pat, glob, sizeof glob)) return -1;
            v = value_text(p, glob, strlen(glob));
            if (v < 0) return -1;
            emit(p, "%s%s GLOB :f%d", neg ? "NOT " : "", q->sql, v);
        }
        return 0;
    }
    if (keyword(p, "BETWEEN")) {
        if (q->type == 's' || q->type == 'g') return fail(p, "BETWEEN takes a number or a date-time");
        int a = scalar(p, q);
        if (a < 0) return -1;
        if (!keyword(p, "AND")) return fail(p, "expected AND");
        int b = scalar(p, q);
        if (b < 0) return -1;
        emit(p, "%s%s BETWEEN :f%d AND :f%d", neg ? "NOT " : "", q->sql, a, b);
        return 0;
    }
    if (keyword(p, "IN")) {
        if (expect(p, "(")) return -1;
        emit(p, "%s%s IN (", neg ? "NOT " : "", q->sql);
        int first = 1;
        do {
            int v = scalar(p, q);
            if (v < 0) return -1;
            emit(p, "%s:f%d", first ? "" : ", ", v);
            first = 0;
        } while (punct(p, ","));
        if (expect(p, ")")) return -1;
        emit(p, ")");
        return 0;
    }
    if (neg) return fail(p, "expected LIKE, BETWEEN or IN after NOT");
    static const char *const ops[] = {"<>", "<=", ">=", "=", "<", ">", NULL};
    skip(p);
    for (int i = 0; ops[i]; i++) {
        if (punct(p, ops[i])) {
            if (q->type == 'g') return fail(p, "compare the geometry with S_INTERSECTS");
            int v = scalar(p, q);
            if (v < 0) return -1;
            emit(p, "%s %s :f%d", q->sql, ops[i], v);
            return 0;
        }
    }
    return fail(p, "expected a comparison (= <> < <= > >=), LIKE, BETWEEN, IN or IS NULL");
}

static int or_expr(struct p *p);

static int primary(struct p *p)
{
    if (++p->depth > CQL2_MAX_DEPTH) return fail(p, "nested more than %d deep", CQL2_MAX_DEPTH);
    int rc;
    if (keyword(p, "NOT")) {
        emit(p, "NOT (");
        rc = primary(p);
        emit(p, ")");
    } else if (punct(p, "(")) {
        emit(p, "(");
        rc = or_expr(p);
        if (!rc) rc = expect(p, ")");
        emit(p, ")");
    } else {
        rc = predicate(p);
    }
    p->depth--;
    return rc;
}

static int and_expr(struct p *p)
{
    if (primary(p)) return -1;
    while (keyword(p, "AND")) {
        emit(p, " AND ");
        if (primary(p)) return -1;
    }
    return 0;
}

static int or_expr(struct p *p)
{
    if (and_expr(p)) return -1;
    while (keyword(p, "OR")) {
        emit(p, " OR ");
        if (and_expr(p)) return -1;
    }
    return 0;
}

fm_rc cql2_compile(const char *s, const struct data_queryable *qs, struct data_filter *f,
                   struct fm_err *err)
{
    memset(f, 0, sizeof *f);
    struct p p = {.s = s, .at = s, .qs = qs, .f = f, .err = err};
    skip(&p);
    if (!*p.at) {
        fail(&p, "the filter is empty");
        return FM_EINVAL;
    }
    if (or_expr(&p) == 0) {
        skip(&p);
        if (*p.at) fail(&p, "unexpected text after the expression (AND, OR or the end)");
    }
    if (p.failed) {
        memset(f->sql, 0, sizeof f->sql);
        f->nvalues = 0;
        return FM_EINVAL;
    }
    return FM_OK;
}

fm_rc cql2_sortby(const char *s, const struct data_queryable *qs, char *out, size_t n,
                  struct fm_err *err)
{
    size_t len = 0;
    out[0] = '\0';
    const char *c = s;
    int keys = 0;
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
        if (!q || q->type == 'g')
            return fm_fail(err, FM_EINVAL, "sortby",
                           "sortby: %.*s is not a sortable queryable (the queryables but the"
                           " geometry, each [+|-]name, comma-separated)",
                           (int)(l > 64 ? 64 : l), start);
        if (++keys > 8) return fm_fail(err, FM_EINVAL, "sortby", "sortby: at most 8 keys");
        /* NULLs last whatever the direction */
        int w = snprintf(out + len, n - len, "%s%s IS NULL, %s %s", len ? ", " : "", q->sql, q->sql,
                         desc ? "DESC" : "ASC");
        if (w < 0 || (size_t)w >= n - len)
            return fm_fail(err, FM_EINVAL, "sortby", "sortby is too long");
        len += (size_t)w;
        while (*c == ' ') c++;
        if (*c == ',') {
            c++;
            if (!*c) return fm_fail(err, FM_EINVAL, "sortby", "sortby ends with a comma");
        }
    }
    if (!keys) return fm_fail(err, FM_EINVAL, "sortby", "sortby names no property");
    return FM_OK;
}

/* sqlfilter.c - a filter's tree and a sort written as SQL (sqlfilter.h):
 * the walk shared by the backends, the dialect's pieces from each. */
#include "sqlfilter.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sqlf_init(struct sqlf *w, const struct sqlf_dialect *d, int first)
{
    memset(w, 0, sizeof *w);
    w->d = d;
    w->first = first;
}

void sqlf_free(struct sqlf *w)
{
    free(w->sql);
    for (int i = 0; i < w->nown; i++) free(w->own[i]);
    w->sql = NULL;
    w->len = w->cap = 0;
    w->nown = 0;
}

void sqlf_emit(struct sqlf *w, const char *fmt, ...)
{
    if (w->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(w->sql ? w->sql + w->len : NULL, w->sql ? w->cap - w->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            w->failed = 1;
            return;
        }
        if (w->sql && (size_t)n < w->cap - w->len) {
            w->len += (size_t)n;
            return;
        }
        size_t cap = w->cap ? w->cap * 2 : 1024;
        while (cap < w->len + (size_t)n + 1) cap *= 2;
        char *s = realloc(w->sql, cap);
        if (!s) {
            w->failed = 1;
            return;
        }
        if (!w->sql) s[0] = '\0';
        w->sql = s;
        w->cap = cap;
    }
}

static struct sqlf_value *slot(struct sqlf *w, char kind, char *out, size_t n)
{
    if (w->failed || w->nvalues >= SQLF_MAX_VALUES) {
        w->failed = 1;
        snprintf(out, n, "NULL");
        return NULL;
    }
    int k = w->nvalues++;
    struct sqlf_value *v = &w->values[k];
    memset(v, 0, sizeof *v);
    v->kind = kind;
    w->d->param(w, k, out, n);
    return v;
}

void sqlf_int(struct sqlf *w, int64_t i, char *out, size_t n)
{
    struct sqlf_value *v = slot(w, 'i', out, n);
    if (v) v->i = i;
}

void sqlf_dbl(struct sqlf *w, double d, char *out, size_t n)
{
    struct sqlf_value *v = slot(w, 'd', out, n);
    if (v) v->d = d;
}

void sqlf_text(struct sqlf *w, const char *t, int own, char *out, size_t n)
{
    if (own) {
        if (!t || w->nown >= SQLF_MAX_VALUES) {
            free((char *)t);
            w->failed = 1;
            snprintf(out, n, "NULL");
            return;
        }
        w->own[w->nown++] = (char *)t;
    }
    struct sqlf_value *v = slot(w, 't', out, n);
    if (v) v->t = t;
}

/* Binds literal node g; OUT out: its placeholder. */
static void bind(struct sqlf *w, const struct data_fnode *g, char *out, size_t n)
{
    if (g->kind == DATA_F_INT || g->kind == DATA_F_TIME) sqlf_int(w, g->i, out, n);
    else if (g->kind == DATA_F_DBL) sqlf_dbl(w, g->d[0], out, n);
    else sqlf_text(w, g->t, 0, out, n);
}

static const char *expr(const struct sqlf *w, const struct data_queryable *q)
{
    return w->d->field[q->field];
}

/* One end of a temporal operand: an expression (a queryable's, NULL
 * meaning open or unknown), a value bound when first written (PostgreSQL
 * must know the type of every parameter it is given), or an open end. */
struct tend {
    const struct data_fnode *lit; /* a time to bind, else NULL */
    char sql[32];                 /* its placeholder, once bound */
    const char *expr;             /* a queryable's expression, or sql */
    int open; /* +-1: this end is open (-inf, +inf) */
    int nullable; /* 1: the expression may be NULL */
    int null_is_open; /* NULL means an open end (validity), else unknown: false */
};

static void tend_of(struct sqlf *w, const struct data_filter *f, int i, struct tend *e, int is_hi)
{
    const struct data_fnode *n = &f->n[i];
    memset(e, 0, sizeof *e);
    if (n->kind == DATA_F_OPEN) {
        e->open = is_hi ? 1 : -1;
    } else if (n->kind == DATA_F_PROP) {
        e->expr = expr(w, n->q);
        e->nullable = 1;
        /* validity's ends: absent is open */
        e->null_is_open =
            n->q->field == DATA_FIELD_VALID_FROM || n->q->field == DATA_FIELD_VALID_TO;
    } else {
        e->lit = n;
    }
}

static const char *tend_sql(struct sqlf *w, struct tend *e)
{
    if (e->lit && !e->expr) {
        bind(w, e->lit, e->sql, sizeof e->sql);
        e->expr = e->sql;
    }
    return e->expr;
}

/* The ends of operand i: *lo and *hi point into ends[2] (the same one for
 * an instant). */
static void temporal_ends(struct sqlf *w, const struct data_filter *f, int i, struct tend ends[2],
                          struct tend **lo, struct tend **hi)
{
    const struct data_fnode *n = &f->n[i];
    *lo = &ends[0];
    if (n->kind == DATA_F_INTERVAL) {
        tend_of(w, f, n->a, &ends[0], 0);
        tend_of(w, f, n->b, &ends[1], 1);
        *hi = &ends[1];
        return;
    }
    tend_of(w, f, i, &ends[0], 0);
    if (n->kind == DATA_F_PROP) ends[0].null_is_open = 0; /* an instant property: NULL is unknown */
    *hi = &ends[0];
}

/* a <= b (strict: a < b) for ends that may be open or NULL. */
static void t_le(struct sqlf *w, struct tend *a, int a_is_lo, struct tend *b, int b_is_lo,
                 int strict)
{
    /* an open end: -inf for a start, +inf for an end */
    int a_inf = a->open, b_inf = b->open;
    if (a_inf || b_inf) {
        /* -inf <= x, x <= +inf: true; +inf <= x, x <= -inf: false */
        int truth = a_inf == -1 || b_inf == 1;
        if (a_inf == 1 || b_inf == -1) truth = 0;
        sqlf_emit(w, "%s", truth ? w->d->yes : w->d->no);
        return;
    }
    const char *as = tend_sql(w, a), *bs = tend_sql(w, b);
    sqlf_emit(w, "(");
    /* a NULL that means open: a start is -inf (true), an end +inf (false on the left) */
    if (a->nullable && a->null_is_open)
        sqlf_emit(w, a_is_lo ? "%s IS NULL OR " : "%s IS NOT NULL AND ", as);
    if (b->nullable && b->null_is_open)
        sqlf_emit(w, b_is_lo ? "%s IS NOT NULL AND " : "%s IS NULL OR ", bs);
    sqlf_emit(w, "%s %s %s)", as, strict ? "<" : "<=", bs);
}

static const char *const cmp_sql[] = {"<>", "<=", ">=", "=", "<", ">"};

static void node(struct sqlf *w, const struct data_filter *f, int i, int depth)
{
    if (w->failed || i < 0 || i >= f->count || depth > 2 * DATA_FILTER_MAX_NODES) {
        w->failed = 1;
        return;
    }
    const struct data_fnode *n = &f->n[i];
    char p1[32], p2[32];
    const char *not = n->neg ? "NOT " : "";
    switch (n->kind) {
    case DATA_F_AND:
    case DATA_F_OR:
        for (int c = n->a; c >= 0 && !w->failed; c = f->n[c].next) {
            int group = f->n[c].kind == DATA_F_AND || f->n[c].kind == DATA_F_OR;
            if (c != n->a) sqlf_emit(w, n->kind == DATA_F_AND ? " AND " : " OR ");
            if (group) sqlf_emit(w, "(");
            node(w, f, c, depth + 1);
            if (group) sqlf_emit(w, ")");
        }
        break;
    case DATA_F_NOT:
        sqlf_emit(w, "NOT (");
        node(w, f, n->a, depth + 1);
        sqlf_emit(w, ")");
        break;
    case DATA_F_CMP:
        if (n->op > DATA_CMP_GT) {
            w->failed = 1;
            break;
        }
        bind(w, &f->n[n->a], p1, sizeof p1);
        sqlf_emit(w, "%s%s %s %s", expr(w, n->q), n->q->type == 's' ? w->d->bytes_order : "",
                  cmp_sql[n->op], p1);
        break;
    case DATA_F_LIKE:
        w->d->like(w, expr(w, n->q), f->n[n->a].t, n->neg, n->ci);
        break;
    case DATA_F_BETWEEN:
        bind(w, &f->n[n->a], p1, sizeof p1);
        bind(w, &f->n[n->b], p2, sizeof p2);
        sqlf_emit(w, "%s%s BETWEEN %s AND %s", not, expr(w, n->q), p1, p2);
        break;
    case DATA_F_IN:
        sqlf_emit(w, "%s%s IN (", not, expr(w, n->q));
        for (int c = n->a; c >= 0 && !w->failed; c = f->n[c].next) {
            bind(w, &f->n[c], p1, sizeof p1);
            sqlf_emit(w, "%s%s", c == n->a ? "" : ", ", p1);
        }
        sqlf_emit(w, ")");
        break;
    case DATA_F_ISNULL:
        sqlf_emit(w, "%s IS %sNULL", expr(w, n->q), not);
        break;
    case DATA_F_SPATIAL:
        w->d->spatial(w, n->op, expr(w, n->q), &f->n[n->a]);
        break;
    case DATA_F_TEMPORAL: {
        struct tend ea[2], eb[2], *alo, *ahi, *blo, *bhi;
        temporal_ends(w, f, n->a, ea, &alo, &ahi);
        temporal_ends(w, f, n->b, eb, &blo, &bhi);
        sqlf_emit(w, "(");
        if (n->op == DATA_T_INTERSECTS) {
            t_le(w, alo, 1, bhi, 0, 0);
            sqlf_emit(w, " AND ");
            t_le(w, blo, 1, ahi, 0, 0);
        } else if (n->op == DATA_T_BEFORE) {
            t_le(w, ahi, 0, blo, 1, 1);
        } else {
            t_le(w, bhi, 0, alo, 1, 1);
        }
        sqlf_emit(w, ")");
        break;
    }
    default: /* a literal where a condition belongs: not from cql2.c */
        w->failed = 1;
    }
}

static fm_rc done(struct sqlf *w, struct fm_err *err)
{
    if (!w->failed && w->sql) return FM_OK;
    if (w->nvalues >= SQLF_MAX_VALUES || w->nown >= SQLF_MAX_VALUES)
        return fm_fail(err, FM_EINVAL, "filter", "the filter has more than %d values",
                       SQLF_MAX_VALUES);
    return fm_fail(err, w->sql ? FM_EINVAL : FM_EINTERNAL, "filter",
                   "the filter cannot be written as SQL");
}

fm_rc sqlf_filter(struct sqlf *w, const struct data_filter *f, struct fm_err *err)
{
    sqlf_emit(w, "(");
    node(w, f, f->root, 0);
    sqlf_emit(w, ")");
    return done(w, err);
}

fm_rc sqlf_sort(struct sqlf *w, const struct data_sort *s, struct fm_err *err)
{
    sqlf_emit(w, "%s", "");
    for (int k = 0; k < s->n && k < DATA_SORT_MAX; k++) {
        const struct data_queryable *q = s->key[k].q;
        /* absent values last whatever the direction */
        sqlf_emit(w, "%s IS NULL, %s%s %s, ", expr(w, q), expr(w, q),
                  q->type == 's' ? w->d->bytes_order : "", s->key[k].desc ? "DESC" : "ASC");
    }
    return done(w, err);
}

/* sqlfilter.h - a compiled filter (struct data_filter, server/cql2.c) and
 * a sort (struct data_sort) written as SQL by a store backend: one walk
 * of the tree here, so both backends mean the same by it (open ends of
 * the validity, absent values, the temporal operators), and each
 * backend's dialect (data/sqlite/query.c, data/pg/query.c) gives the
 * pieces that differ: the queryables' expressions, parameters, booleans,
 * LIKE and the spatial tests. Every value is bound, in order; no client
 * text enters the SQL. Pure: no database (tests/unit/test_cql2.c and the
 * fuzzers write both dialects). */
#ifndef DATA_SQLFILTER_H
#define DATA_SQLFILTER_H

#include "data.h"

struct sqlf_value {
    char kind; /* 'i' integer (and times), 'd' double, 't' text */
    int64_t i;
    double d;
    const char *t; /* into the filter's text or sqlf's own */
};

struct sqlf;

struct sqlf_dialect {
    const char *yes, *no;             /* the boolean constants */
    const char *field[DATA_FIELD_COUNT]; /* each queryable's expression */
    const char *bytes_order;          /* after a text expression ordered: byte order */
    /* writes the placeholder of value k (0-based) of w */
    void (*param)(struct sqlf *w, int k, char *out, size_t n);
    /* writes [NOT] expr LIKE pattern (CQL2's: % _ and \ escapes; ci: ILIKE) */
    void (*like)(struct sqlf *w, const char *expr, const char *pattern, int neg, int ci);
    /* writes the test op (enum data_spatial) of expr with the geometry g
     * (DATA_F_BBOX or DATA_F_GEOM) */
    void (*spatial)(struct sqlf *w, int op, const char *expr, const struct data_fnode *g);
};

#define SQLF_MAX_VALUES DATA_FILTER_MAX_VALUES
struct sqlf {
    const struct sqlf_dialect *d;
    int first; /* the number of the first value's parameter (PostgreSQL's $n) */
    char *sql; /* malloc'd, NUL-terminated; NULL when empty */
    size_t len, cap;
    int failed; /* out of memory or of value slots */
    int nvalues;
    struct sqlf_value values[SQLF_MAX_VALUES];
    char *own[SQLF_MAX_VALUES]; /* texts the dialect made (patterns), freed with w */
    int nown;
};

void sqlf_init(struct sqlf *w, const struct sqlf_dialect *d, int first);
void sqlf_free(struct sqlf *w);
/* Appends to w->sql. */
void sqlf_emit(struct sqlf *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Binds a value; OUT out: its placeholder. A text must outlive w, or be
 * given with own = 1 (malloc'd, then w's to free). */
void sqlf_int(struct sqlf *w, int64_t v, char *out, size_t n);
void sqlf_dbl(struct sqlf *w, double v, char *out, size_t n);
void sqlf_text(struct sqlf *w, const char *t, int own, char *out, size_t n);

/* Appends the condition f (a filter with a root) to w. FM_EINVAL when
 * it does not fit (a filter from cql2.c always fits), FM_EINTERNAL when
 * out of memory. */
fm_rc sqlf_filter(struct sqlf *w, const struct data_filter *f, struct fm_err *err);
/* Appends the keys of s, each "absent last, then the value", with ", "
 * after each (the store puts the id last). */
fm_rc sqlf_sort(struct sqlf *w, const struct data_sort *s, struct fm_err *err);

/* The dialects, each in its backend's query.c. */
extern const struct sqlf_dialect sqlite_sqlf_dialect;
extern const struct sqlf_dialect pg_sqlf_dialect;

#endif

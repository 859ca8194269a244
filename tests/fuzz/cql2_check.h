/* cql2_check.h - the invariants of a compiled CQL2 filter, shared by
 * fuzz_cql2 and fuzz_cql2_json: an accepted filter's tree is written as
 * SQL by both backends' dialects (data/sqlfilter.c), each naming only
 * bound values that exist (SQLite's :fN, PostgreSQL's $N), with single
 * quotes that are the server's own (balanced: no client text in the
 * SQL), texts inside the tree's; a refused one leaves an empty tree. */
#include "cql2.h"
#include "sqlfilter.h"

#include <stdlib.h>
#include <string.h>

static void cql2_check_sql(const struct data_filter *f, const struct sqlf_dialect *d, char mark)
{
    struct sqlf w;
    struct fm_err err;
    sqlf_init(&w, d, 1);
    if (sqlf_filter(&w, f, &err) != FM_OK || w.nvalues > DATA_FILTER_MAX_VALUES) abort();
    int quotes = 0;
    for (const char *p = w.sql; *p; p++) {
        quotes += *p == '\'';
        if (mark == ':' && p[0] == ':' && p[1] == 'f') {
            int n = atoi(p + 2);
            if (n < 0 || n >= w.nvalues) abort();
        }
        if (mark == '$' && p[0] == '$' && p[1] >= '0' && p[1] <= '9') {
            int n = atoi(p + 1);
            if (n < 1 || n > w.nvalues) abort();
        }
    }
    if (quotes % 2) abort();
    for (int i = 0; i < w.nvalues; i++) {
        const char *t = w.values[i].t;
        int owned = 0;
        for (int k = 0; k < w.nown; k++) owned |= t == w.own[k];
        if (w.values[i].kind == 't' && !owned && (t < f->text || t >= f->text + sizeof f->text))
            abort();
    }
    sqlf_free(&w);
}

static void cql2_check(fm_rc rc, const struct data_filter *f, const struct fm_err *err)
{
    if (rc == FM_OK) {
        if (f->root < 0 || f->root >= f->count || f->count > DATA_FILTER_MAX_NODES ||
            f->text_len > sizeof f->text)
            abort();
        cql2_check_sql(f, &sqlite_sqlf_dialect, ':');
        cql2_check_sql(f, &pg_sqlf_dialect, '$');
    } else if (f->root != -1 || f->count || !err->msg[0] || strcmp(err->pointer, "filter") != 0) {
        abort();
    }
}

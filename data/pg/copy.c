/* copy.c - the store interface (store.h) on PostgreSQL: whole tables, as
 * `fusionmap copy` reads and writes them (data/copy.c decides which).
 * Geometries go out and in as WKB (hex on the wire), booleans as 1 and 0,
 * numbers and text as PostgreSQL prints them (doubles exactly). */
#include "pgint.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind { K_TEXT, K_INT, K_BOOL, K_REAL, K_GEOM };

struct cols {
    char name[64][64];
    enum kind kind[64];
    int n;
};

static enum kind kind_of(const char *udt)
{
    if (!strcmp(udt, "int2") || !strcmp(udt, "int4") || !strcmp(udt, "int8")) return K_INT;
    if (!strcmp(udt, "bool")) return K_BOOL;
    if (!strcmp(udt, "float4") || !strcmp(udt, "float8") || !strcmp(udt, "numeric")) return K_REAL;
    if (!strcmp(udt, "geometry")) return K_GEOM;
    return K_TEXT;
}

static fm_rc columns_of(struct data_db *db, const char *table, struct cols *c,
                        struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "table columns", err,
                      "SELECT column_name, udt_name FROM information_schema.columns"
                      " WHERE table_schema = current_schema() AND table_name = $1"
                      " ORDER BY ordinal_position",
                      1, table);
    if (rc) return rc;
    c->n = 0;
    for (int i = 0; i < PQntuples(r) && c->n < 64; i++, c->n++) {
        snprintf(c->name[c->n], sizeof c->name[0], "%s", pg_col_s(r, i, 0));
        c->kind[c->n] = kind_of(pg_col_s(r, i, 1));
    }
    PQclear(r);
    return c->n ? FM_OK : fm_fail(err, FM_ENOTFOUND, NULL, "no table %s", table);
}

static enum kind kind_named(const struct cols *c, const char *name)
{
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->name[i], name)) return c->kind[i];
    return K_TEXT;
}

static fm_rc table_columns(struct data_db *db, const char *table, store_column_cb cb, void *ctx,
                           struct fm_err *err)
{
    struct cols c;
    fm_rc rc = columns_of(db, table, &c, err);
    for (int i = 0; !rc && i < c.n; i++)
        if (cb(ctx, c.name[i], c.kind[i] == K_GEOM)) break;
    return rc;
}

/* Appends to out, fm_fail when it does not fit. */
static fm_rc add(char *out, size_t size, size_t *used, struct fm_err *err, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static fm_rc add(char *out, size_t size, size_t *used, struct fm_err *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(out + *used, size - *used, fmt, ap);
    va_end(ap);
    if (w < 0 || (size_t)w >= size - *used)
        return fm_fail(err, FM_EINVAL, NULL, "too many columns");
    *used += (size_t)w;
    return FM_OK;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c - 'A' + 10;
}

static fm_rc table_rows(struct data_db *db, const char *table, const char *const *cols, int n,
                        store_row_cb cb, void *ctx, struct fm_err *err)
{
    struct cols c;
    enum kind k[64];
    char sql[4096];
    size_t used = 0;
    fm_rc rc = n > 64 ? fm_fail(err, FM_EINVAL, NULL, "too many columns") : FM_OK;
    if (rc || (rc = columns_of(db, table, &c, err))) return rc;
    rc = add(sql, sizeof sql, &used, err, "SELECT");
    for (int i = 0; !rc && i < n; i++) {
        k[i] = kind_named(&c, cols[i]);
        const char *as = k[i] == K_GEOM ? " encode(ST_AsBinary(\"%s\"), 'hex'),"
                         : k[i] == K_BOOL ? " \"%s\"::int,"
                                          : " \"%s\",";
        rc = add(sql, sizeof sql, &used, err, as, cols[i]);
    }
    if (!rc) sql[--used] = 0; /* the last comma */
    if (!rc) rc = add(sql, sizeof sql, &used, err, " FROM \"%s\" ORDER BY 1", table);
    if (rc) return rc;
    /* row by row: a table of millions is never held at once */
    if (!PQsendQueryParams(CONN(db), sql, 0, NULL, NULL, NULL, NULL, 0) ||
        !PQsetSingleRowMode(CONN(db)))
        return pg_fail(db, NULL, table, err);
    struct store_value v[64];
    unsigned char *wkb[64] = {0};
    int stop = 0;
    PGresult *r;
    while ((r = PQgetResult(CONN(db)))) {
        ExecStatusType s = PQresultStatus(r);
        if (s == PGRES_SINGLE_TUPLE && !stop && !rc) {
            for (int i = 0; i < n; i++) {
                const char *t = pg_col(r, 0, i);
                memset(&v[i], 0, sizeof v[i]);
                if (!t) continue; /* STORE_V_NULL */
                switch (k[i]) {
                case K_INT:
                case K_BOOL: v[i].type = STORE_V_INT, v[i].i = strtoll(t, NULL, 10); break;
                case K_REAL: v[i].type = STORE_V_REAL, v[i].r = strtod(t, NULL); break;
                case K_TEXT: v[i].type = STORE_V_TEXT, v[i].s = t; break;
                case K_GEOM: {
                    size_t len = strlen(t) / 2;
                    unsigned char *b = realloc(wkb[i], len ? len : 1);
                    if (!b) {
                        rc = fm_fail(err, FM_EINTERNAL, NULL, "out of memory");
                        break;
                    }
                    wkb[i] = b;
                    for (size_t j = 0; j < len; j++)
                        b[j] = (unsigned char)(hexval(t[2 * j]) << 4 | hexval(t[2 * j + 1]));
                    v[i].type = STORE_V_WKB, v[i].b = b, v[i].n = len;
                    break;
                }
                }
            }
            if (!rc && cb(ctx, v, n)) stop = 1;
        } else if (s != PGRES_SINGLE_TUPLE && s != PGRES_TUPLES_OK && !rc) {
            rc = pg_fail(db, r, table, err);
        }
        PQclear(r);
    }
    for (int i = 0; i < n; i++)
        free(wkb[i]);
    return rc;
}

/* One parameter's text for x, in num (numbers) or a new hex string kept
 * in *hex (WKB); NULL for SQL NULL. */
static const char *param_text(const struct store_value *x, char num[40], char **hex)
{
    switch (x->type) {
    case STORE_V_INT: return pg_i64_text(num, x->i);
    case STORE_V_REAL: return pg_dbl_text(num, x->r);
    case STORE_V_TEXT: return x->s;
    case STORE_V_WKB: {
        char *h = fm_xmalloc(2 * x->n + 1);
        static const char digits[] = "0123456789abcdef";
        for (size_t j = 0; j < x->n; j++) {
            h[2 * j] = digits[x->b[j] >> 4];
            h[2 * j + 1] = digits[x->b[j] & 15];
        }
        h[2 * x->n] = 0;
        return *hex = h;
    }
    default: return NULL;
    }
}

/* Rows go in as one INSERT of many VALUES lists, as many as PostgreSQL's
 * 65,535 parameters allow: a round trip per row cost a 124,000-row copy
 * over two minutes. */
#define PARAMS_PER_STATEMENT 65535

static fm_rc table_insert(struct data_db *db, const char *table, const char *const *cols, int n,
                          const struct store_value *v, int rows, struct fm_err *err)
{
    struct cols c;
    enum kind k[64];
    fm_rc rc = n > 64 || n < 1 ? fm_fail(err, FM_EINVAL, NULL, "too many columns") : FM_OK;
    if (rc || (rc = columns_of(db, table, &c, err))) return rc;
    for (int i = 0; i < n; i++)
        k[i] = kind_named(&c, cols[i]);
    int per = PARAMS_PER_STATEMENT / n;
    const char **vals = fm_xcalloc((size_t)per * (size_t)n, sizeof *vals);
    char(*num)[40] = fm_xcalloc((size_t)per * (size_t)n, sizeof *num);
    char **hex = fm_xcalloc((size_t)per * (size_t)n, sizeof *hex);
    struct fm_buf sql;
    fm_buf_init(&sql, FM_BUF_UNCAPPED);
    for (int first = 0; !rc && first < rows; first += per) {
        int m = rows - first < per ? rows - first : per;
        sql.len = 0;
        fm_buf_printf(&sql, "INSERT INTO \"%s\" (", table);
        for (int i = 0; i < n; i++)
            fm_buf_printf(&sql, "%s\"%s\"", i ? ", " : "", cols[i]);
        FM_BUF_LIT(&sql, ") VALUES ");
        for (int row = 0; row < m; row++) {
            fm_buf_printf(&sql, "%s(", row ? ", " : "");
            for (int i = 0; i < n; i++) {
                int p = row * n + i;
                fm_buf_printf(&sql, k[i] == K_GEOM ? "%sST_GeomFromWKB(decode($%d, 'hex'), 4326)"
                                                   : "%s$%d",
                              i ? ", " : "", p + 1);
                vals[p] = param_text(&v[(size_t)(first + row) * (size_t)n + (size_t)i], num[p],
                                     &hex[p]);
            }
            FM_BUF_LIT(&sql, ")");
        }
        PGresult *r = PQexecParams(CONN(db), sql.data, m * n, NULL, vals, NULL, NULL, 0);
        if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) rc = pg_fail(db, r, table, err);
        PQclear(r);
        for (int p = 0; p < m * n; p++) {
            free(hex[p]);
            hex[p] = NULL;
        }
    }
    fm_buf_cleanup(&sql);
    free(hex);
    free(num);
    free(vals);
    return rc;
}

static fm_rc table_clear(struct data_db *db, const char *table, struct fm_err *err)
{
    char sql[128];
    snprintf(sql, sizeof sql, "DELETE FROM \"%s\"", table);
    return pg_exec(db, sql, err);
}

/* A serial column's sequence continues after the largest id kept. */
static fm_rc table_ids_follow(struct data_db *db, const char *table, struct fm_err *err)
{
    PGresult *r;
    fm_rc rc = pg_run(db, &r, NULL, "serial columns", err,
                      "SELECT column_name FROM information_schema.columns"
                      " WHERE table_schema = current_schema() AND table_name = $1"
                      " AND column_default LIKE 'nextval(%'",
                      1, table);
    for (int i = 0; !rc && i < PQntuples(r); i++) {
        char sql[512];
        snprintf(sql, sizeof sql,
                 "SELECT setval(pg_get_serial_sequence($1, $2),"
                 " coalesce((SELECT max(\"%s\") FROM \"%s\"), 0) + 1, false)",
                 pg_col_s(r, i, 0), table);
        rc = pg_run(db, NULL, NULL, "ids", err, sql, 2, table, pg_col_s(r, i, 0));
    }
    if (r) PQclear(r);
    return rc;
}

void pg_copy_ops(struct store_ops *o)
{
    o->table_columns = table_columns;
    o->table_rows = table_rows;
    o->table_insert = table_insert;
    o->table_clear = table_clear;
    o->table_ids_follow = table_ids_follow;
}

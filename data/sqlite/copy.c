/* copy.c - the store interface (store.h) on SQLite: whole tables, as
 * `fusionmap copy` reads and writes them (data/copy.c decides which).
 * Geometries go out as WKB (AsBinary) and come in through GeomFromWKB in
 * EPSG:4326; every other value keeps the type SQLite kept it with. */
#include "sqlite.h"

#include <stdio.h>
#include <string.h>

struct cols {
    char name[64][64];
    int geometry[64];
    int n;
};

static fm_rc columns_of(struct data_db *db, const char *table, struct cols *c,
                        struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_prepare(db,
                          "SELECT p.name, EXISTS (SELECT 1 FROM geometry_columns g"
                          "  WHERE g.f_table_name = lower(?1) AND g.f_geometry_column = lower(p.name))"
                          " FROM pragma_table_info(?1) p",
                          &st, err);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    c->n = 0;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW && c->n < 64) {
        snprintf(c->name[c->n], sizeof c->name[0], "%s", db_text(st, 0));
        c->geometry[c->n] = sqlite3_column_int(st, 1);
        c->n++;
    }
    if (s != SQLITE_ROW && s != SQLITE_DONE)
        rc = db_fail(db, err, "table columns");
    else if (c->n == 0)
        rc = fm_fail(err, FM_ENOTFOUND, NULL, "no table %s", table);
    sqlite3_finalize(st);
    return rc;
}

static int is_geometry(const struct cols *c, const char *name)
{
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->name[i], name)) return c->geometry[i];
    return 0;
}

static fm_rc table_columns(struct data_db *db, const char *table, store_column_cb cb, void *ctx,
                           struct fm_err *err)
{
    struct cols c;
    fm_rc rc = columns_of(db, table, &c, err);
    for (int i = 0; !rc && i < c.n; i++)
        if (cb(ctx, c.name[i], c.geometry[i])) break;
    return rc;
}

/* "a, AsBinary(g), ..." or "?, GeomFromWKB(?, 4326), ...": the columns of
 * a statement over table. */
static fm_rc column_list(char *out, size_t size, const struct cols *c, const char *const *cols,
                         int n, int values, struct fm_err *err)
{
    size_t used = 0;
    out[0] = 0;
    for (int i = 0; i < n; i++) {
        int geometry = is_geometry(c, cols[i]);
        int w = values ? snprintf(out + used, size - used, "%s%s", i ? ", " : "",
                                  geometry ? "GeomFromWKB(?, 4326)" : "?")
                       : snprintf(out + used, size - used, geometry ? "%sAsBinary(\"%s\")" : "%s\"%s\"",
                                  i ? ", " : "", cols[i]);
        if (w < 0 || (size_t)w >= size - used)
            return fm_fail(err, FM_EINVAL, NULL, "too many columns");
        used += (size_t)w;
    }
    return FM_OK;
}

static fm_rc table_rows(struct data_db *db, const char *table, const char *const *cols, int n,
                        store_row_cb cb, void *ctx, struct fm_err *err)
{
    struct cols c;
    char list[2048], sql[2200];
    struct store_value v[64];
    fm_rc rc = n > 64 ? fm_fail(err, FM_EINVAL, NULL, "too many columns") : FM_OK;
    if (rc || (rc = columns_of(db, table, &c, err)) ||
        (rc = column_list(list, sizeof list, &c, cols, n, 0, err)))
        return rc;
    /* the order rows were added in: the rowid's, or the key's in a table
     * WITHOUT ROWID (whose order nothing depends on) */
    sqlite3_stmt *st;
    if ((rc = db_prepare(db, "SELECT wr FROM pragma_table_list WHERE name = ?", &st, err)))
        return rc;
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    int without_rowid = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    snprintf(sql, sizeof sql, "SELECT %s FROM \"%s\" ORDER BY %s", list, table,
             without_rowid ? "1" : "rowid");
    if ((rc = db_prepare(db, sql, &st, err))) return rc;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < n; i++) {
            memset(&v[i], 0, sizeof v[i]);
            switch (sqlite3_column_type(st, i)) {
            case SQLITE_INTEGER:
                v[i].type = STORE_V_INT, v[i].i = sqlite3_column_int64(st, i);
                break;
            case SQLITE_FLOAT:
                v[i].type = STORE_V_REAL, v[i].r = sqlite3_column_double(st, i);
                break;
            case SQLITE_TEXT:
                v[i].type = STORE_V_TEXT, v[i].s = db_text(st, i);
                break;
            case SQLITE_BLOB:
                v[i].type = STORE_V_WKB, v[i].b = sqlite3_column_blob(st, i);
                v[i].n = (size_t)sqlite3_column_bytes(st, i);
                break;
            default:
                v[i].type = STORE_V_NULL;
            }
        }
        if (cb(ctx, v, n)) break;
    }
    if (s != SQLITE_ROW && s != SQLITE_DONE) rc = db_fail(db, err, table);
    sqlite3_finalize(st);
    return rc;
}

static fm_rc table_insert(struct data_db *db, const char *table, const char *const *cols, int n,
                          const struct store_value *v, int rows, struct fm_err *err)
{
    struct cols c;
    char names[2048], marks[2048], sql[4200];
    fm_rc rc = n > 64 ? fm_fail(err, FM_EINVAL, NULL, "too many columns") : FM_OK;
    if (rc || (rc = columns_of(db, table, &c, err)) ||
        (rc = column_list(marks, sizeof marks, &c, cols, n, 1, err)))
        return rc;
    size_t used = 0;
    for (int i = 0; i < n; i++)
        used += (size_t)snprintf(names + used, sizeof names - used, "%s\"%s\"", i ? ", " : "",
                                 cols[i]);
    snprintf(sql, sizeof sql, "INSERT INTO \"%s\" (%s) VALUES (%s)", table, names, marks);
    sqlite3_stmt *st;
    if ((rc = db_prepare(db, sql, &st, err))) return rc;
    for (int r = 0; !rc && r < rows; r++) {
        const struct store_value *row = v + (size_t)r * (size_t)n;
        for (int i = 0; i < n; i++) {
            switch (row[i].type) {
            case STORE_V_INT: sqlite3_bind_int64(st, i + 1, row[i].i); break;
            case STORE_V_REAL: sqlite3_bind_double(st, i + 1, row[i].r); break;
            case STORE_V_TEXT: sqlite3_bind_text(st, i + 1, row[i].s, -1, SQLITE_STATIC); break;
            case STORE_V_WKB:
                sqlite3_bind_blob(st, i + 1, row[i].b, (int)row[i].n, SQLITE_STATIC);
                break;
            default: sqlite3_bind_null(st, i + 1);
            }
        }
        if (sqlite3_step(st) != SQLITE_DONE) rc = db_fail(db, err, table);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    sqlite3_finalize(st);
    return rc;
}

static fm_rc table_clear(struct data_db *db, const char *table, struct fm_err *err)
{
    char sql[128];
    snprintf(sql, sizeof sql, "DELETE FROM \"%s\"", table);
    return db_exec(db, sql, err);
}

/* An AUTOINCREMENT table follows its largest id by itself. */
static fm_rc table_ids_follow(struct data_db *db, const char *table, struct fm_err *err)
{
    (void)db, (void)table, (void)err;
    return FM_OK;
}

void sqlite_copy_ops(struct store_ops *o)
{
    o->table_columns = table_columns;
    o->table_rows = table_rows;
    o->table_insert = table_insert;
    o->table_clear = table_clear;
    o->table_ids_follow = table_ids_follow;
}

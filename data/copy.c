/* copy.c - a cell moved between backends (`fusionmap copy`): every table
 * of its record, row by row in the order the rows were added, read from
 * one state of the source and written in one transaction of a destination
 * that holds nothing yet; then the destination's chain is checked and its
 * head compared with the source's. What the tables hold is the store's
 * business (store.h: table_*); which tables make a cell is decided here. */
#include "internal.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>

/* A cell's tables, each after those it refers to. Caches (the picture's
 * rows) are rebuilt by the destination; the database's own name is its
 * own. */
static const char *const cell_tables[] = {
    "parties",        "users",          "sessions",         "tokens",
    "login_throttle", "login_known",    "events",           "items",
    "item_versions",  "acks",           "user_keys",        "messages",
    "message_receipts", "rulings",      "cosigned_heads",   "deadline_rules",
    "deadlines",      "conflicts",      "conflict_reach",   "conflict_settings",
};
#define NTABLES ((int)(sizeof cell_tables / sizeof cell_tables[0]))

/* Columns a backend keeps only for its own order of the rows (PostgreSQL's
 * user_keys.n; SQLite keeps that order in its rowid): not carried, since
 * rows come in that order. */
static int order_only(const char *table, const char *column)
{
    return !strcmp(table, "user_keys") && !strcmp(column, "n");
}

/* Tables of settings a new database may fill with its defaults: the
 * source's settings take their place. */
static int settings(const char *table)
{
    return !strcmp(table, "conflict_settings");
}

#define MAX_COLS 64
#define BATCH 500

struct columns {
    char name[MAX_COLS][64];
    int geometry[MAX_COLS];
    int n;
};

static int column_add(void *ctx, const char *name, int geometry)
{
    struct columns *c = ctx;
    if (c->n == MAX_COLS) return 1;
    snprintf(c->name[c->n], sizeof c->name[0], "%s", name);
    c->geometry[c->n++] = geometry;
    return 0;
}

static int column_find(const struct columns *c, const char *name)
{
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->name[i], name)) return i;
    return -1;
}

/* The rows on their way: up to BATCH rows of n values, their texts and
 * WKB copied into one growing buffer (values point into it by offset
 * until the batch is written). */
struct batch {
    struct data_db *to;
    const char *table;
    const char *const *cols;
    int n, rows;
    struct store_value v[BATCH * MAX_COLS];
    struct fm_buf bytes;
    int64_t done;
    data_copy_progress progress;
    void *progress_ctx;
    fm_rc rc;
    struct fm_err *err;
};

static fm_rc batch_flush(struct batch *b)
{
    if (!b->rows) return FM_OK;
    /* the values' offsets into bytes become addresses now it has stopped growing */
    for (int i = 0; i < b->rows * b->n; i++) {
        struct store_value *v = &b->v[i];
        if (v->type == STORE_V_TEXT) v->s = (const char *)b->bytes.data + (size_t)v->i;
        if (v->type == STORE_V_WKB) v->b = (const unsigned char *)b->bytes.data + (size_t)v->i;
    }
    fm_rc rc = store_of(b->to)->table_insert(b->to, b->table, b->cols, b->n, b->v, b->rows, b->err);
    b->done += b->rows;
    b->rows = 0;
    b->bytes.len = 0;
    if (!rc && b->progress) b->progress(b->progress_ctx, b->table, b->done);
    return rc;
}

static int row_add(void *ctx, const struct store_value *v, int n)
{
    struct batch *b = ctx;
    struct store_value *out = &b->v[b->rows * b->n];
    for (int i = 0; i < n; i++) {
        out[i] = v[i];
        const void *p = v[i].type == STORE_V_TEXT ? (const void *)v[i].s : v[i].b;
        size_t len = v[i].type == STORE_V_TEXT ? strlen(v[i].s) + 1 : v[i].n;
        if (v[i].type != STORE_V_TEXT && v[i].type != STORE_V_WKB) continue;
        out[i].i = (int64_t)b->bytes.len; /* an offset until batch_flush */
        fm_buf_put(&b->bytes, p, len);
    }
    if (++b->rows == BATCH && (b->rc = batch_flush(b))) return 1;
    return 0;
}

/* The columns of table carried from one store to the other: the source's,
 * each of which the destination must keep the same way. */
static fm_rc carried(struct data_db *from, struct data_db *to, const char *table,
                     const char **cols, int *n, struct columns *src, struct columns *dst,
                     struct fm_err *err)
{
    src->n = dst->n = 0;
    fm_rc rc = store_of(from)->table_columns(from, table, column_add, src, err);
    if (!rc) rc = store_of(to)->table_columns(to, table, column_add, dst, err);
    if (rc) return rc;
    *n = 0;
    for (int i = 0; i < src->n; i++) {
        int j = column_find(dst, src->name[i]);
        if (j < 0 && order_only(table, src->name[i])) continue;
        if (j < 0 || dst->geometry[j] != src->geometry[i])
            return fm_fail(err, FM_EINVAL, "to",
                           "the destination keeps no column %s.%s as the source does: it was "
                           "made by another version of fusionmap",
                           table, src->name[i]);
        cols[(*n)++] = src->name[i];
    }
    return FM_OK;
}

static int any_row(void *ctx, const struct store_value *v, int n)
{
    (void)v, (void)n;
    *(int *)ctx = 1;
    return 1;
}

/* FM_ECONFLICT unless every table of the cell is empty in db, but for the
 * settings' defaults, which it removes. */
static fm_rc empty(struct data_db *db, struct fm_err *err)
{
    for (int t = 0; t < NTABLES; t++) {
        if (settings(cell_tables[t])) {
            fm_rc rc = store_of(db)->table_clear(db, cell_tables[t], err);
            if (rc) return rc;
            continue;
        }
        struct columns c = {0};
        int found = 0;
        fm_rc rc = store_of(db)->table_columns(db, cell_tables[t], column_add, &c, err);
        const char *first = c.name[0];
        if (!rc) rc = store_of(db)->table_rows(db, cell_tables[t], &first, 1, any_row, &found, err);
        if (rc) return rc;
        if (found)
            return fm_fail(err, FM_ECONFLICT, "to",
                           "the destination already holds a cell (its %s are not empty): copy "
                           "makes a new one and never merges",
                           cell_tables[t]);
    }
    return FM_OK;
}

static fm_rc copy_tables(struct data_db *from, struct data_db *to, struct data_copy_report *rep,
                         data_copy_progress progress, void *progress_ctx, struct fm_err *err)
{
    struct batch *b = fm_xcalloc(1, sizeof *b);
    fm_buf_init(&b->bytes, FM_BUF_UNCAPPED);
    b->to = to, b->progress = progress, b->progress_ctx = progress_ctx, b->err = err;
    struct columns src, dst;
    const char *cols[MAX_COLS];
    fm_rc rc = FM_OK;
    for (int t = 0; !rc && t < NTABLES; t++) {
        int n;
        if ((rc = carried(from, to, cell_tables[t], cols, &n, &src, &dst, err))) break;
        b->table = cell_tables[t], b->cols = cols, b->n = n;
        b->rows = 0, b->done = 0, b->rc = FM_OK;
        rc = store_of(from)->table_rows(from, cell_tables[t], cols, n, row_add, b, err);
        if (!rc) rc = b->rc;
        if (!rc) rc = batch_flush(b);
        if (!rc) rc = store_of(to)->table_ids_follow(to, cell_tables[t], err);
        rep->rows += b->done;
        if (!strcmp(cell_tables[t], "events")) rep->events = b->done;
    }
    fm_buf_cleanup(&b->bytes);
    free(b);
    return rc;
}

fm_rc data_copy(const char *from_path, const char *to_path, struct data_copy_report *rep,
                data_copy_progress progress, void *progress_ctx, struct fm_err *err)
{
    memset(rep, 0, sizeof *rep);
    if (!strcmp(from_path, to_path))
        return fm_fail(err, FM_EINVAL, "to", "the source and the destination are the same");
    struct data_db *from = NULL, *to = NULL;
    fm_rc rc = data_open(from_path, &from, err);
    if (!rc) rc = data_open(to_path, &to, err);
    if (rc) goto out;
    const struct store_ops *s = store_of(from), *d = store_of(to);
    if ((rc = s->snapshot_begin(from, err))) goto out;
    if (!(rc = d->begin(to, err))) {
        rc = empty(to, err);
        if (!rc) rc = copy_tables(from, to, rep, progress, progress_ctx, err);
        if (rc)
            d->rollback(to);
        else
            rc = d->commit(to, err);
    }
    char want[65] = "", got[65] = "";
    int64_t want_seq = 0, got_seq = 0;
    if (!rc) rc = s->event_head(from, &want_seq, want, err);
    s->snapshot_end(from);
    /* the copy's own check: its chain holds, and ends where the source's does */
    if (!rc) rc = data_events_verify_heads(to, &rep->bad_seq, &rep->verified, &rep->heads, err);
    if (!rc) rc = d->event_head(to, &got_seq, got, err);
    if (!rc && !rep->bad_seq && (got_seq != want_seq || strcmp(got, want)))
        rc = fm_fail(err, FM_EINTERNAL, NULL,
                     "the copy's log ends at %lld (%.12s), the source's at %lld (%.12s)",
                     (long long)got_seq, got, (long long)want_seq, want);
out:
    data_close(to);
    data_close(from);
    return rc;
}

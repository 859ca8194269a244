/* picture.c - the picture of now, kept in memory.
 *
 * A tile of now read its items and conflicts from the picture R*Trees
 * (migration 6) and the conflicts' index: at zoom 10, a third of a tile's
 * instructions went to SQLite (the R*Tree, a row lookup per hit for the
 * columns beside the box, the sort by id, AsBinary and the conflict
 * titles). Here each process keeps, per database file, a copy of the same
 * rows: per collection, the rows in id order with their R*Tree boxes in
 * an array beside them, scanned whole (a box test is a few instructions;
 * 50,000 of them cost less than one row from SQLite).
 *
 * The copy follows the event log: every write that changes what a picture
 * shows logs an event naming the item or the conflict (conflicts.c
 * refreshes an open conflict of an edited item without an event of its
 * own, so an item's event reloads its conflicts too). Before each read,
 * the last event (its seq and hash, so that another file at the same path
 * is not mistaken for this one) is compared with the copy's; the events
 * since are read as (collection, id) pairs and those rows reloaded as the
 * R*Trees hold them now. Reloading is idempotent, so a row read newer
 * than the event that named it is merely read again later. A long gap
 * (DELTA_MAX events) reloads everything.
 *
 * The rows match query.c's SQL exactly (tests/unit/test_picture.c
 * compares both on random boxes and viewers after random writes);
 * FUSIONMAP_PICTURE=sql turns the copy off.
 *
 * Threads: one read-write lock per picture, preferring writers. Readers
 * hold it across their callbacks (the drawing); the thread that finds the
 * copy stale takes it for writing to bring it up to date. Writes to the
 * store never take it. */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np */
#include "sqlite/sqlite.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DELTA_MAX 5000
#define MAX_PICTURES 8
#define NSETS (DATA_COLL_COUNT + 1) /* the collections, then the conflicts */
#define CONFLICTS DATA_COLL_COUNT

/* One row: the data_pic_row handed to callbacks points into text. */
struct ent {
    int64_t a, b;    /* conflicts: their two items */
    const char *vis; /* conflicts: the only party that sees it; NULL: all */
    struct data_pic_row row;
    char text[];
};

/* Rows in id order, box[i] beside e[i] (xmin, xmax, ymin, ymax). */
struct set {
    struct ent **e;
    float (*box)[4];
    size_t n;
};

struct picture {
    char path[1024];
    pthread_rwlock_t lock;
    int loaded;
    int64_t seq;    /* the last event reflected */
    char hash[65];  /* and its hash */
    struct set sets[NSETS];
};

static struct {
    pthread_once_t once;
    pthread_mutex_t lock;
    int off; /* FUSIONMAP_PICTURE=sql */
    struct picture *p[MAX_PICTURES];
    int n;
} P = {PTHREAD_ONCE_INIT, PTHREAD_MUTEX_INITIALIZER, 0, {0}, 0};

int pic_memory_off; /* test seam (internal.h) */

static void pictures_init(void)
{
    const char *env = getenv("FUSIONMAP_PICTURE");
    P.off = env && strcmp(env, "sql") == 0;
}

/* The picture of db's file; NULL when off or the database has no file. */
static struct picture *picture_of(struct data_db *db)
{
    pthread_once(&P.once, pictures_init);
    if (P.off || pic_memory_off) return NULL;
    const char *path = sqlite3_db_filename(db->h, "main");
    if (!path || !*path || strlen(path) >= sizeof P.p[0]->path) return NULL;
    struct picture *found = NULL;
    pthread_mutex_lock(&P.lock);
    for (int i = 0; i < P.n && !found; i++)
        if (strcmp(P.p[i]->path, path) == 0) found = P.p[i];
    if (!found && P.n < MAX_PICTURES) {
        found = fm_xcalloc(1, sizeof *found);
        strcpy(found->path, path);
        pthread_rwlockattr_t attr;
        pthread_rwlockattr_init(&attr);
        pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
        pthread_rwlock_init(&found->lock, &attr);
        pthread_rwlockattr_destroy(&attr);
        P.p[P.n++] = found;
    }
    pthread_mutex_unlock(&P.lock);
    return found;
}

/* ---- rows ---------------------------------------------------------------- */

/* Every statement below gives these columns, in this order. */
#define ITEM_SELECT(c)                                                                            \
    "SELECT item_id AS id, party, status, type, title, category, severity, width, wkb,"          \
    " xmin, xmax, ymin, ymax, 0 AS a, 0 AS b, NULL AS vis FROM pic_" c
#define CONFLICT_SELECT                                                                           \
    "SELECT c.id, NULL, c.state, c.kind, " CONFLICT_TITLE_SQL ", NULL, c.severity, NULL,"        \
    " AsBinary(c.geom), r.xmin, r.xmax, r.ymin, r.ymax, c.a_id, c.b_id, c.vis_party"            \
    " FROM conflicts AS c CROSS JOIN idx_conflicts_geom AS r ON r.pkid = c.id"                   \
    " WHERE c.state = 'open'"

static char *put(char **at, sqlite3_stmt *st, int col)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL) return NULL;
    const char *s = (const char *)sqlite3_column_text(st, col);
    size_t n = (size_t)sqlite3_column_bytes(st, col);
    char *out = *at;
    memcpy(out, s, n);
    out[n] = 0;
    *at += n + 1;
    return out;
}

/* The statement's current row as an ent (NULL without a geometry). */
static struct ent *ent_from(sqlite3_stmt *st, float box[4])
{
    const void *wkb = sqlite3_column_blob(st, 8);
    if (!wkb) return NULL;
    size_t wkb_len = (size_t)sqlite3_column_bytes(st, 8), size = wkb_len;
    static const int texts[] = {1, 2, 3, 4, 5, 15};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        (void)sqlite3_column_text(st, texts[i]); /* converts first, then the size */
        size += (size_t)sqlite3_column_bytes(st, texts[i]) + 1;
    }
    struct ent *e = fm_xmalloc(sizeof *e + size);
    char *at = e->text;
    memcpy(at, wkb, wkb_len);
    at += wkb_len;
    e->row = (struct data_pic_row){
        .id = sqlite3_column_int64(st, 0),
        .party = put(&at, st, 1),
        .status = put(&at, st, 2),
        .type = put(&at, st, 3),
        .title = put(&at, st, 4),
        .category = put(&at, st, 5),
        .severity = sqlite3_column_int(st, 6),
        .corridor_width_m = sqlite3_column_double(st, 7),
        .wkb = (const unsigned char *)e->text,
        .wkb_len = wkb_len,
    };
    e->a = e->row.a_id = sqlite3_column_int64(st, 13);
    e->b = e->row.b_id = sqlite3_column_int64(st, 14);
    e->vis = put(&at, st, 15);
    for (int i = 0; i < 4; i++) box[i] = (float)sqlite3_column_double(st, 9 + i);
    return e;
}

/* New rows gathered for a set before they are merged in. */
struct batch {
    struct ent **e;
    float (*box)[4];
    size_t n, cap;
};

static void batch_add(struct batch *b, struct ent *e, const float box[4])
{
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 64;
        b->e = fm_xrealloc(b->e, b->cap * sizeof *b->e);
        b->box = fm_xrealloc(b->box, b->cap * sizeof *b->box);
    }
    b->e[b->n] = e;
    memcpy(b->box[b->n], box, sizeof b->box[0]);
    b->n++;
}

/* Steps st (bound) to its end, adding each row to b. */
static fm_rc batch_rows(struct data_db *db, sqlite3_stmt *st, struct batch *b, struct fm_err *err)
{
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        float box[4];
        struct ent *e = ent_from(st, box);
        if (e) batch_add(b, e, box);
    }
    fm_rc rc = s == SQLITE_DONE ? FM_OK : db_fail(db, err, "picture rows");
    db_release(st);
    return rc;
}

static int64_t id_at(struct ent *const *e, size_t i)
{
    return e[i]->row.id;
}

/* Sorts b by id; of equal ids the one added last stays. */
static void batch_sort(struct batch *b)
{
    /* insertion sort, stable: batches are small or come in id order */
    for (size_t i = 1; i < b->n; i++) {
        struct ent *e = b->e[i];
        float box[4];
        memcpy(box, b->box[i], sizeof box);
        size_t j = i;
        while (j > 0 && id_at(b->e, j - 1) > e->row.id) {
            b->e[j] = b->e[j - 1];
            memcpy(b->box[j], b->box[j - 1], sizeof box);
            j--;
        }
        b->e[j] = e;
        memcpy(b->box[j], box, sizeof box);
    }
    size_t out = 0;
    for (size_t i = 0; i < b->n; i++) {
        if (out > 0 && id_at(b->e, out - 1) == b->e[i]->row.id) {
            free(b->e[out - 1]);
            out--;
        }
        b->e[out] = b->e[i];
        memcpy(b->box[out], b->box[i], sizeof b->box[0]);
        out++;
    }
    b->n = out;
}

/* s := s merged with b (sorted); b's rows win over s's of the same id. */
static void set_merge(struct set *s, struct batch *b)
{
    batch_sort(b);
    size_t n = s->n + b->n, i = 0, j = 0, k = 0;
    struct ent **e = fm_xmalloc((n ? n : 1) * sizeof *e);
    float(*box)[4] = fm_xmalloc((n ? n : 1) * sizeof *box);
    while (i < s->n || j < b->n) {
        int from_b = j < b->n && (i == s->n || id_at(b->e, j) <= id_at(s->e, i));
        if (from_b && i < s->n && id_at(b->e, j) == id_at(s->e, i)) free(s->e[i++]);
        if (from_b) {
            e[k] = b->e[j];
            memcpy(box[k++], b->box[j++], sizeof box[0]);
        } else {
            e[k] = s->e[i];
            memcpy(box[k++], s->box[i++], sizeof box[0]);
        }
    }
    free(s->e);
    free(s->box);
    s->e = e, s->box = box, s->n = k;
    free(b->e);
    free(b->box);
    memset(b, 0, sizeof *b);
}

static void set_clear(struct set *s)
{
    for (size_t i = 0; i < s->n; i++) free(s->e[i]);
    free(s->e);
    free(s->box);
    memset(s, 0, sizeof *s);
}

/* Drops the rows of s for which gone(ctx, row) holds. */
static void set_drop(struct set *s, int (*gone)(const void *ctx, const struct ent *e),
                     const void *ctx)
{
    size_t out = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (gone(ctx, s->e[i])) {
            free(s->e[i]);
            continue;
        }
        s->e[out] = s->e[i];
        memcpy(s->box[out], s->box[i], sizeof s->box[0]);
        out++;
    }
    s->n = out;
}

/* ---- bringing a picture up to date -------------------------------------- */

static const char *const all_sql[NSETS] = {
    [DATA_ZONES] = ITEM_SELECT("zones"),
    [DATA_INCIDENTS] = ITEM_SELECT("incidents"),
    [DATA_MOVEMENTS] = ITEM_SELECT("movements"),
    [CONFLICTS] = CONFLICT_SELECT,
};

static fm_rc load_all(struct data_db *db, struct picture *p, struct fm_err *err)
{
    int64_t t0 = fm_monotonic_ms();
    fm_rc rc = FM_OK;
    for (int c = 0; c < NSETS && !rc; c++) {
        set_clear(&p->sets[c]);
        struct batch b = {0};
        sqlite3_stmt *st;
        if (!(rc = db_cached(db, all_sql[c], &st, err))) rc = batch_rows(db, st, &b, err);
        set_merge(&p->sets[c], &b);
    }
    if (!rc)
        fm_log(FM_LOG_INFO, "picture: %zu items and %zu open conflicts in memory (%lld ms)",
               p->sets[DATA_ZONES].n + p->sets[DATA_INCIDENTS].n + p->sets[DATA_MOVEMENTS].n,
               p->sets[CONFLICTS].n, (long long)(fm_monotonic_ms() - t0));
    return rc;
}

/* The ids an update names, per set, sorted. */
struct ids {
    int64_t *v;
    size_t n, cap;
};

static void ids_add(struct ids *s, int64_t id)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 32;
        s->v = fm_xrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = id;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void ids_sort(struct ids *s)
{
    if (s->n) qsort(s->v, s->n, sizeof *s->v, cmp_id);
}

static int ids_has(const struct ids *s, int64_t id)
{
    return s->n && bsearch(&id, s->v, s->n, sizeof *s->v, cmp_id) != NULL;
}

/* What the events since the picture's name: ids[c] for each set. */
struct named {
    struct ids ids[NSETS];
    struct ids items; /* every item named, whatever its collection */
};

static int named_gone(const void *ctx, const struct ent *e)
{
    return ids_has(ctx, e->row.id);
}

/* A conflict goes when named or when either of its items is. */
static int conflict_gone(const void *ctx, const struct ent *e)
{
    const struct named *n = ctx;
    return ids_has(&n->ids[CONFLICTS], e->row.id) || ids_has(&n->items, e->a) ||
           ids_has(&n->items, e->b);
}

static fm_rc read_named(struct data_db *db, int64_t from, int64_t to, struct named *n,
                        struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_cached(db,
                         "SELECT collection, item_id FROM events"
                         " WHERE seq > :from AND seq <= :to AND item_id IS NOT NULL",
                         &st, err);
    if (rc) return rc;
    db_bind_int(st, ":from", from);
    db_bind_int(st, ":to", to);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        const char *coll = db_text(st, 0);
        int64_t id = sqlite3_column_int64(st, 1);
        enum data_coll c;
        if (strcmp(coll, "conflicts") == 0) {
            ids_add(&n->ids[CONFLICTS], id);
        } else if (data_coll_parse(coll, &c) == FM_OK) {
            ids_add(&n->ids[c], id);
            ids_add(&n->items, id);
        }
    }
    if (s != SQLITE_DONE) rc = db_fail(db, err, "picture events");
    db_release(st);
    for (int c = 0; c < NSETS; c++) ids_sort(&n->ids[c]);
    ids_sort(&n->items);
    return rc;
}

static const char *const one_sql[NSETS] = {
#define ITEM_NOW(c)                                                                               \
    ITEM_SELECT(c) " WHERE vid IN (SELECT vid FROM item_versions"                                 \
                   " WHERE item_id = :id AND sys_to IS NULL)"
    [DATA_ZONES] = ITEM_NOW("zones"),
    [DATA_INCIDENTS] = ITEM_NOW("incidents"),
    [DATA_MOVEMENTS] = ITEM_NOW("movements"),
#undef ITEM_NOW
    [CONFLICTS] = CONFLICT_SELECT " AND c.id = :id",
};
/* the open conflicts of an item: as a through the pair's unique index
 * (kind, a_id, b_id), as b through conflicts_b */
static const char *const item_conflicts_sql =
    CONFLICT_SELECT " AND c.id IN (SELECT id FROM conflicts WHERE kind IN ('movement_crosses_zone',"
                    " 'zones_overlap', 'incident_in_zone', 'incident_near_movement') AND a_id = :id"
                    " UNION ALL SELECT id FROM conflicts WHERE b_id = :id AND state = 'open')";

static fm_rc load_one(struct data_db *db, const char *sql, int64_t id, struct batch *b,
                      struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_cached(db, sql, &st, err);
    if (rc) return rc;
    db_bind_int(st, ":id", id);
    return batch_rows(db, st, b, err);
}

static fm_rc apply(struct data_db *db, struct picture *p, int64_t to, struct fm_err *err)
{
    struct named n;
    memset(&n, 0, sizeof n);
    fm_rc rc = read_named(db, p->seq, to, &n, err);
    struct batch b[NSETS];
    memset(b, 0, sizeof b);
    for (int c = 0; c < NSETS && !rc; c++)
        for (size_t i = 0; i < n.ids[c].n && !rc; i++)
            rc = load_one(db, one_sql[c], n.ids[c].v[i], &b[c], err);
    for (size_t i = 0; i < n.items.n && !rc; i++)
        rc = load_one(db, item_conflicts_sql, n.items.v[i], &b[CONFLICTS], err);
    for (int c = 0; c < NSETS; c++) {
        if (!rc)
            set_drop(&p->sets[c], c == CONFLICTS ? conflict_gone : named_gone,
                     c == CONFLICTS ? (const void *)&n : (const void *)&n.ids[c]);
        set_merge(&p->sets[c], &b[c]); /* on failure, merges what was read: reloaded next */
        free(n.ids[c].v);
    }
    free(n.items.v);
    return rc;
}

/* Reads the last event's seq and hash (0 and "" for none). */
static fm_rc last_event(struct data_db *db, int64_t *seq, char hash[65], struct fm_err *err)
{
    sqlite3_stmt *st;
    fm_rc rc = db_cached(db, "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1", &st, err);
    if (rc) return rc;
    *seq = 0, hash[0] = 0;
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        *seq = sqlite3_column_int64(st, 0);
        snprintf(hash, 65, "%s", db_text(st, 1));
    } else if (s != SQLITE_DONE) {
        rc = db_fail(db, err, "last event");
    }
    db_release(st);
    return rc;
}

/* 1 when the store's event seq is still there with this hash. */
static int event_is(struct data_db *db, int64_t seq, const char *hash)
{
    if (seq == 0) return hash[0] == 0;
    struct fm_err err;
    sqlite3_stmt *st;
    if (db_cached(db, "SELECT hash FROM events WHERE seq = :seq", &st, &err)) return 0;
    db_bind_int(st, ":seq", seq);
    int same = sqlite3_step(st) == SQLITE_ROW && strcmp(db_text(st, 0), hash) == 0;
    db_release(st);
    return same;
}

/* 1 when p shows the store as of its last event (seq, hash) or later. */
static int up_to_date(struct data_db *db, const struct picture *p, int64_t seq, const char *hash)
{
    if (!p->loaded || p->seq < seq) return 0;
    if (p->seq == seq) return strcmp(p->hash, hash) == 0;
    /* another reader brought p further since this one read the last
     * event; or the file was replaced by one with fewer events */
    return event_is(db, p->seq, p->hash);
}

/* Brings p up to the store's last event. On FM_OK the caller holds p's
 * lock for reading. */
static fm_rc picture_read(struct data_db *db, struct picture *p, struct fm_err *err)
{
    int64_t seq;
    char hash[65];
    fm_rc rc = last_event(db, &seq, hash, err);
    if (rc) return rc;
    pthread_rwlock_rdlock(&p->lock);
    if (up_to_date(db, p, seq, hash)) return FM_OK;
    pthread_rwlock_unlock(&p->lock);
    pthread_rwlock_wrlock(&p->lock);
    if (!up_to_date(db, p, seq, hash)) {
        /* the events since the picture's last, if that one is still there
         * as it was (otherwise the file was replaced: a restore, another
         * database at the same path) */
        if (p->loaded && p->seq < seq && seq - p->seq <= DELTA_MAX && event_is(db, p->seq, p->hash))
            rc = apply(db, p, seq, err);
        else
            rc = load_all(db, p, err);
        p->loaded = rc == FM_OK;
        p->seq = seq;
        memcpy(p->hash, hash, sizeof p->hash);
    }
    pthread_rwlock_unlock(&p->lock);
    if (rc) return rc;
    pthread_rwlock_rdlock(&p->lock);
    return FM_OK;
}

/* ---- reading --------------------------------------------------------------- */

static fm_rc scan(struct data_db *db, struct picture *p, int c, const struct data_viewer *v,
                  const double bbox[4], data_pic_cb cb, void *ctx, struct fm_err *err)
{
    fm_rc rc = picture_read(db, p, err);
    if (rc) return rc;
    const char *vp = viewer_draft_party(v);
    const struct set *s = &p->sets[c];
    for (size_t i = 0; i < s->n; i++) {
        const float *b = s->box[i];
        if (!(b[0] <= bbox[2] && b[1] >= bbox[0] && b[2] <= bbox[3] && b[3] >= bbox[1]))
            continue;
        const struct ent *e = s->e[i];
        if (c == CONFLICTS ? e->vis && !(vp && strcmp(e->vis, vp) == 0)
                           : strcmp(e->row.status, "draft") == 0 &&
                                 !(vp && strcmp(e->row.party, vp) == 0))
            continue;
        if (cb(ctx, &e->row)) break;
    }
    pthread_rwlock_unlock(&p->lock);
    return FM_OK;
}

int pic_now_items(struct data_db *db, const struct data_viewer *v, enum data_coll c,
                  const double bbox[4], data_pic_cb cb, void *ctx, fm_rc *rc,
                  struct fm_err *err)
{
    struct picture *p = picture_of(db);
    if (!p) return 0;
    *rc = scan(db, p, (int)c, v, bbox, cb, ctx, err);
    return 1;
}

int pic_now_conflicts(struct data_db *db, const struct data_viewer *v, const double bbox[4],
                      data_pic_cb cb, void *ctx, fm_rc *rc, struct fm_err *err)
{
    struct picture *p = picture_of(db);
    if (!p) return 0;
    *rc = scan(db, p, CONFLICTS, v, bbox, cb, ctx, err);
    return 1;
}

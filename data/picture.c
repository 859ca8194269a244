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
 * The rows are the store's (pic_items, pic_conflicts: store.h); they
 * match query.c's SQL exactly (tests/unit/test_picture.c
 * compares both on random boxes and viewers after random writes);
 * FUSIONMAP_PICTURE=sql turns the copy off.
 *
 * Threads: one read-write lock per picture, preferring writers. Readers
 * hold it across their callbacks (the drawing); the thread that finds the
 * copy stale takes it for writing to bring it up to date. Writes to the
 * store never take it. */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np */
#include "internal.h"
#include "store.h"

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
    /* each row's id and its conflict's two items (0 for an item): what an
     * update walks, in one array, without reading the rows themselves */
    int64_t (*key)[3];
    size_t n, cap; /* cap: what e, box and key hold */
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
    char path[sizeof P.p[0]->path];
    store_of(db)->database_name(db, path, sizeof path);
    if (!*path) return NULL;
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

/* Text s copied to *at, which moves past it; NULL stays NULL. */
static char *put(char **at, const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *out = memcpy(*at, s, n);
    *at += n;
    return out;
}

static size_t text_size(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

/* The store's row r as an ent, in one allocation, its box in box. */
static struct ent *ent_from(const struct store_pic_row *r, float box[4])
{
    const struct data_pic_row *w = &r->row;
    size_t size = w->wkb_len + text_size(w->party) + text_size(w->status) +
                  text_size(w->type) + text_size(w->title) + text_size(w->category) +
                  text_size(r->vis);
    struct ent *e = fm_xmalloc(sizeof *e + size);
    char *at = e->text;
    memcpy(at, w->wkb, w->wkb_len);
    at += w->wkb_len;
    e->row = *w;
    e->row.wkb = (const unsigned char *)e->text;
    e->row.party = put(&at, w->party);
    e->row.status = put(&at, w->status);
    e->row.type = put(&at, w->type);
    e->row.title = put(&at, w->title);
    e->row.category = put(&at, w->category);
    e->vis = put(&at, r->vis);
    e->a = w->a_id;
    e->b = w->b_id;
    for (int i = 0; i < 4; i++) box[i] = (float)r->box[i];
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

/* A store callback: adds the row to the batch ctx. */
static int batch_row(void *ctx, const struct store_pic_row *r)
{
    float box[4];
    struct ent *e = ent_from(r, box);
    batch_add(ctx, e, box);
    return 0;
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

static void key_of(const struct ent *e, int64_t k[3])
{
    k[0] = e->row.id, k[1] = e->a, k[2] = e->b;
}

/* s := s merged with b (sorted); b's rows win over s's of the same id. */
static void set_merge(struct set *s, struct batch *b)
{
    batch_sort(b);
    /* a write's update (issue 23: every write brings the picture up to
     * date, srv_tiles_after_write): nothing, or new ids past the last,
     * added at the end, not the whole set copied into new arrays */
    if (b->n == 0 || s->n == 0 || id_at(b->e, 0) > s->key[s->n - 1][0]) {
        if (s->n + b->n > s->cap) {
            s->cap = s->n + b->n > 2 * s->cap ? s->n + b->n : 2 * s->cap;
            s->e = fm_xrealloc(s->e, s->cap * sizeof *s->e);
            s->box = fm_xrealloc(s->box, s->cap * sizeof *s->box);
            s->key = fm_xrealloc(s->key, s->cap * sizeof *s->key);
        }
        if (b->n) {
            memcpy(s->e + s->n, b->e, b->n * sizeof *b->e);
            memcpy(s->box + s->n, b->box, b->n * sizeof *b->box);
            for (size_t j = 0; j < b->n; j++) key_of(b->e[j], s->key[s->n + j]);
        }
        s->n += b->n;
        free(b->e);
        free(b->box);
        memset(b, 0, sizeof *b);
        return;
    }
    size_t n = s->n + b->n, i = 0, j = 0, k = 0;
    struct ent **e = fm_xmalloc((n ? n : 1) * sizeof *e);
    float(*box)[4] = fm_xmalloc((n ? n : 1) * sizeof *box);
    int64_t(*key)[3] = fm_xmalloc((n ? n : 1) * sizeof *key);
    while (i < s->n || j < b->n) {
        int from_b = j < b->n && (i == s->n || id_at(b->e, j) <= s->key[i][0]);
        if (from_b && i < s->n && id_at(b->e, j) == s->key[i][0]) free(s->e[i++]);
        if (from_b) {
            e[k] = b->e[j];
            key_of(b->e[j], key[k]);
            memcpy(box[k++], b->box[j++], sizeof box[0]);
        } else {
            e[k] = s->e[i];
            memcpy(key[k], s->key[i], sizeof key[0]);
            memcpy(box[k++], s->box[i++], sizeof box[0]);
        }
    }
    free(s->e);
    free(s->box);
    free(s->key);
    s->e = e, s->box = box, s->key = key, s->n = k, s->cap = n ? n : 1;
    free(b->e);
    free(b->box);
    memset(b, 0, sizeof *b);
}

static void set_clear(struct set *s)
{
    for (size_t i = 0; i < s->n; i++) free(s->e[i]);
    free(s->e);
    free(s->box);
    free(s->key);
    memset(s, 0, sizeof *s);
}

/* Drops the rows of s for which gone(ctx, row) holds. */
static void set_drop(struct set *s, int (*gone)(const void *ctx, const int64_t key[3]),
                     const void *ctx)
{
    size_t out = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (gone(ctx, s->key[i])) {
            free(s->e[i]);
            continue;
        }
        if (out != i) {
            s->e[out] = s->e[i];
            memcpy(s->box[out], s->box[i], sizeof s->box[0]);
            memcpy(s->key[out], s->key[i], sizeof s->key[0]);
        }
        out++;
    }
    s->n = out;
}

/* ---- bringing a picture up to date -------------------------------------- */

/* The store's rows of set c: every one (id 0), that of id, or the open
 * conflicts of item of_item (c == CONFLICTS). */
static fm_rc set_rows(struct data_db *db, int c, int64_t id, int64_t of_item, struct batch *b,
                      struct fm_err *err)
{
    const struct store_ops *ops = store_of(db);
    return c == CONFLICTS ? ops->pic_conflicts(db, id, of_item, batch_row, b, err)
                          : ops->pic_items(db, (enum data_coll)c, id, batch_row, b, err);
}

static fm_rc load_all(struct data_db *db, struct picture *p, struct fm_err *err)
{
    int64_t t0 = fm_monotonic_ms();
    fm_rc rc = FM_OK;
    for (int c = 0; c < NSETS && !rc; c++) {
        set_clear(&p->sets[c]);
        struct batch b = {0};
        rc = set_rows(db, c, 0, 0, &b, err);
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

/* By hand, not bsearch: asked for every row of a set at each update. */
static int ids_has(const struct ids *s, int64_t id)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->v[mid] < id) lo = mid + 1;
        else hi = mid;
    }
    return lo < s->n && s->v[lo] == id;
}

/* What the events since the picture's name: ids[c] for each set. */
struct named {
    struct ids ids[NSETS];
    struct ids items; /* every item named, whatever its collection */
};

static int named_gone(const void *ctx, const int64_t key[3])
{
    return ids_has(ctx, key[0]);
}

/* A conflict goes when named or when either of its items is. */
static int conflict_gone(const void *ctx, const int64_t key[3])
{
    const struct named *n = ctx;
    return ids_has(&n->ids[CONFLICTS], key[0]) || ids_has(&n->items, key[1]) ||
           ids_has(&n->items, key[2]);
}

/* A store callback: files the item a record names under its set. */
static int add_named(void *ctx, const char *coll, int64_t id)
{
    struct named *n = ctx;
    enum data_coll c;
    if (strcmp(coll, "conflicts") == 0) {
        ids_add(&n->ids[CONFLICTS], id);
    } else if (data_coll_parse(coll, &c) == FM_OK) {
        ids_add(&n->ids[c], id);
        ids_add(&n->items, id);
    }
    return 0;
}

static fm_rc read_named(struct data_db *db, int64_t from, int64_t to, struct named *n,
                        struct fm_err *err)
{
    fm_rc rc = store_of(db)->events_named(db, from, to, add_named, n, err);
    for (int c = 0; c < NSETS; c++) ids_sort(&n->ids[c]);
    ids_sort(&n->items);
    return rc;
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
            rc = set_rows(db, c, n.ids[c].v[i], 0, &b[c], err);
    for (size_t i = 0; i < n.items.n && !rc; i++)
        rc = set_rows(db, CONFLICTS, 0, n.items.v[i], &b[CONFLICTS], err);
    for (int c = 0; c < NSETS; c++) {
        /* a set nothing names keeps every row: not walked */
        if (!rc && (n.ids[c].n || (c == CONFLICTS && n.items.n)))
            set_drop(&p->sets[c], c == CONFLICTS ? conflict_gone : named_gone,
                     c == CONFLICTS ? (const void *)&n : (const void *)&n.ids[c]);
        set_merge(&p->sets[c], &b[c]); /* on failure, merges what was read: reloaded next */
        free(n.ids[c].v);
    }
    free(n.items.v);
    return rc;
}

/* 1 when the store's event seq is still there with this hash. */
static int event_is(struct data_db *db, int64_t seq, const char *hash)
{
    if (seq == 0) return hash[0] == 0;
    struct fm_err err;
    char now[65];
    return store_of(db)->event_hash(db, seq, now, &err) == FM_OK && strcmp(now, hash) == 0;
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
    fm_rc rc = store_of(db)->event_head(db, &seq, hash, err);
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

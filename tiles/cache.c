/* cache.c - rendered tiles in memory: a hash table for lookup and a
 * doubly-linked list for least-recently-used eviction, bounded by bytes.
 * One mutex guards everything; PNG bytes are copied in and out, so no
 * caller ever holds a pointer into the cache.
 *
 * Generation counters let a renderer that read the data before an
 * invalidation refuse to store its picture. They are kept per visibility
 * class: what one class may see changing never refuses (or drops) the
 * tiles of another, which would tell it that something it cannot see
 * changed there. A class's generation is the sum of a counter of its own
 * and one bumped for every class (clear, or invalidation of them all);
 * both only grow, so the sum moves when either does. */
#include "internal.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The bytes with their count of holders (the cache and replies). */
struct shared_png {
    struct tile_png pub; /* first: a struct tile_png * is one of these */
    _Atomic int refs;
};

struct entry {
    struct tile_key key;
    uint64_t hash;
    struct shared_png *png;
    size_t len;
    char etag[TILE_ETAG_LEN];
    double bounds[4]; /* lon/lat of the tile plus what may be drawn into it */
    struct entry *next_in_bucket;
    struct entry *prev, *next; /* LRU: head is the most recent */
};

/* Classes are parties and "" (viewers): a handful. When the table is full
 * a new class's invalidation bumps every class (never wrong, only
 * coarser). */
#define MAX_CLASSES 64

struct tile_cache {
    pthread_mutex_t lock;
    size_t max_bytes, bytes, count;
    struct entry **buckets;
    size_t nbuckets;
    struct entry *head, *tail;
    uint64_t generation, hits, misses; /* generation: of every class */
    struct {
        char vis[TILE_VIS_LEN];
        uint64_t generation;
    } classes[MAX_CLASSES];
    int nclasses;
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

static uint64_t key_hash(const struct tile_key *k)
{
    uint64_t h = 14695981039346656037ull;
    int layer = k->layer;
    int64_t xy[2] = {k->x, k->y};
    h = fnv(h, &layer, sizeof layer);
    h = fnv(h, &k->z, sizeof k->z);
    h = fnv(h, xy, sizeof xy);
    h = fnv(h, &k->scale, sizeof k->scale);
    h = fnv(h, k->vis, strnlen(k->vis, sizeof k->vis));
    h = fnv(h, "/", 1);
    h = fnv(h, k->own, strnlen(k->own, sizeof k->own));
    h = fnv(h, &k->has_asof, sizeof k->has_asof);
    if (k->has_asof) h = fnv(h, &k->asof, sizeof k->asof);
    return h;
}

static int key_eq(const struct tile_key *a, const struct tile_key *b)
{
    return a->layer == b->layer && a->z == b->z && a->x == b->x && a->y == b->y &&
           a->scale == b->scale && strncmp(a->vis, b->vis, sizeof a->vis) == 0 &&
           strncmp(a->own, b->own, sizeof a->own) == 0 && a->has_asof == b->has_asof && (!a->has_asof || a->asof == b->asof);
}

void tile_etag(const unsigned char *png, size_t len, char etag[TILE_ETAG_LEN])
{
    uint64_t h = fnv(14695981039346656037ull, png, len);
    snprintf(etag, TILE_ETAG_LEN, "\"%016llx\"", (unsigned long long)h);
}

fm_rc tile_cache_new(size_t max_bytes, struct tile_cache **out, struct fm_err *err)
{
    (void)err;
    *out = NULL;
    struct tile_cache *c = fm_xcalloc(1, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
    c->max_bytes = max_bytes;
    c->nbuckets = 4096;
    c->buckets = fm_xcalloc(c->nbuckets, sizeof *c->buckets);
    *out = c;
    return FM_OK;
}

static void unlink_lru(struct tile_cache *c, struct entry *e)
{
    if (e->prev) e->prev->next = e->next;
    else c->head = e->next;
    if (e->next) e->next->prev = e->prev;
    else c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void push_front(struct tile_cache *c, struct entry *e)
{
    e->prev = NULL;
    e->next = c->head;
    if (c->head) c->head->prev = e;
    c->head = e;
    if (!c->tail) c->tail = e;
}

static void remove_entry(struct tile_cache *c, struct entry *e)
{
    struct entry **pp = &c->buckets[e->hash % c->nbuckets];
    while (*pp && *pp != e) pp = &(*pp)->next_in_bucket;
    if (*pp) *pp = e->next_in_bucket;
    unlink_lru(c, e);
    c->bytes -= e->len;
    c->count--;
    tile_png_release(&e->png->pub);
    free(e);
}

void tile_png_release(struct tile_png *png)
{
    struct shared_png *s = (struct shared_png *)png;
    if (s && --s->refs == 0) {
        free(s->pub.data);
        free(s);
    }
}

void tile_cache_clear(struct tile_cache *c)
{
    pthread_mutex_lock(&c->lock);
    while (c->head) remove_entry(c, c->head);
    c->generation++;
    pthread_mutex_unlock(&c->lock);
}

void tile_cache_free(struct tile_cache *c)
{
    if (!c) return;
    tile_cache_clear(c);
    free(c->buckets);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* The class's own counter, or NULL if it has none yet (then 0). Under the lock. */
static uint64_t *class_gen(struct tile_cache *c, const char *vis, int add)
{
    for (int i = 0; i < c->nclasses; i++)
        if (strncmp(c->classes[i].vis, vis, TILE_VIS_LEN) == 0) return &c->classes[i].generation;
    if (!add || c->nclasses == MAX_CLASSES) return NULL;
    snprintf(c->classes[c->nclasses].vis, TILE_VIS_LEN, "%s", vis);
    c->classes[c->nclasses].generation = 0;
    return &c->classes[c->nclasses++].generation;
}

static uint64_t generation_of(struct tile_cache *c, const char *vis)
{
    const uint64_t *g = class_gen(c, vis, 0);
    return c->generation + (g ? *g : 0);
}

uint64_t tile_cache_generation(struct tile_cache *c, const char *vis)
{
    pthread_mutex_lock(&c->lock);
    uint64_t g = generation_of(c, vis ? vis : "");
    pthread_mutex_unlock(&c->lock);
    return g;
}

static struct entry *find(struct tile_cache *c, const struct tile_key *k, uint64_t h)
{
    for (struct entry *e = c->buckets[h % c->nbuckets]; e; e = e->next_in_bucket)
        if (e->hash == h && key_eq(&e->key, k)) return e;
    return NULL;
}

int tile_cache_share(struct tile_cache *c, const struct tile_key *k, struct tile_png **png,
                     char etag[TILE_ETAG_LEN])
{
    *png = NULL;
    uint64_t h = key_hash(k);
    pthread_mutex_lock(&c->lock);
    struct entry *e = find(c, k, h);
    if (e) {
        unlink_lru(c, e);
        push_front(c, e);
        e->png->refs++;
        *png = &e->png->pub;
        memcpy(etag, e->etag, TILE_ETAG_LEN);
        c->hits++;
    } else {
        c->misses++;
    }
    pthread_mutex_unlock(&c->lock);
    return e != NULL;
}

int tile_cache_get(struct tile_cache *c, const struct tile_key *k, unsigned char **png,
                   size_t *len, char etag[TILE_ETAG_LEN])
{
    struct tile_png *p;
    *png = NULL;
    *len = 0;
    if (!tile_cache_share(c, k, &p, etag)) return 0;
    *png = fm_xmalloc(p->len);
    memcpy(*png, p->data, p->len);
    *len = p->len;
    tile_png_release(p);
    return 1;
}

/* The lon/lat area whose items can change the tile: the tile, its buffer
 * of pixels for symbols, and half the widest corridor. */
static void drawn_bounds(const struct tile_key *k, double out[4])
{
    double m[4];
    tile_bounds_merc(k->z, k->x, k->y, m);
    double pad = TILE_BUFFER_PX * tile_resolution(k->z);
    m[0] -= pad, m[1] -= pad, m[2] += pad, m[3] += pad;
    tile_merc_to_lonlat(m[0], m[1], &out[0], &out[1]);
    tile_merc_to_lonlat(m[2], m[3], &out[2], &out[3]);
    double deg = TILE_MAX_CORRIDOR_M / 2 / 111320.0;
    double lat = fmax(fabs(out[1]), fabs(out[3]));
    double dlon = deg / fmax(cos(lat * M_PI / 180.0), 0.01);
    out[0] -= dlon, out[2] += dlon, out[1] -= deg, out[3] += deg;
}

void tile_cache_put(struct tile_cache *c, const struct tile_key *k, const unsigned char *png,
                    size_t len, uint64_t gen, char etag[TILE_ETAG_LEN])
{
    tile_etag(png, len, etag);
    if (len > c->max_bytes / 4) return; /* never let one tile flush the cache */
    uint64_t h = key_hash(k);
    struct entry *e = fm_xcalloc(1, sizeof *e);
    e->key = *k;
    e->hash = h;
    e->png = fm_xcalloc(1, sizeof *e->png);
    e->png->pub.data = fm_xmalloc(len);
    memcpy(e->png->pub.data, png, len);
    e->png->pub.len = len;
    e->png->refs = 1;
    e->len = len;
    memcpy(e->etag, etag, TILE_ETAG_LEN);
    drawn_bounds(k, e->bounds);
    pthread_mutex_lock(&c->lock);
    if (gen != generation_of(c, k->vis)) {
        pthread_mutex_unlock(&c->lock);
        tile_png_release(&e->png->pub);
        free(e);
        return;
    }
    struct entry *old = find(c, k, h);
    if (old) remove_entry(c, old);
    e->next_in_bucket = c->buckets[h % c->nbuckets];
    c->buckets[h % c->nbuckets] = e;
    push_front(c, e);
    c->bytes += len;
    c->count++;
    while (c->bytes > c->max_bytes && c->tail) remove_entry(c, c->tail);
    pthread_mutex_unlock(&c->lock);
}

size_t tile_cache_invalidate_bbox(struct tile_cache *c, const char *vis, const double b[4])
{
    size_t dropped = 0;
    pthread_mutex_lock(&c->lock);
    uint64_t *g = vis ? class_gen(c, vis, 1) : NULL;
    if (g) (*g)++;
    else c->generation++; /* every class (or the table is full) */
    struct entry *e = c->head;
    while (e) {
        struct entry *next = e->next;
        const double *t = e->bounds;
        if (e->key.layer != TILE_LAYER_BASEMAP &&
            (!vis || strncmp(e->key.vis, vis, TILE_VIS_LEN) == 0) && b[0] <= t[2] &&
            b[2] >= t[0] && b[1] <= t[3] && b[3] >= t[1]) {
            remove_entry(c, e);
            dropped++;
        }
        e = next;
    }
    pthread_mutex_unlock(&c->lock);
    return dropped;
}

void tile_cache_stats(struct tile_cache *c, size_t *entries, size_t *bytes, uint64_t *hits,
                      uint64_t *misses)
{
    pthread_mutex_lock(&c->lock);
    if (entries) *entries = c->count;
    if (bytes) *bytes = c->bytes;
    if (hits) *hits = c->hits;
    if (misses) *misses = c->misses;
    pthread_mutex_unlock(&c->lock);
}

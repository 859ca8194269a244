/* test_tile_cache.c - the tile cache: hits and ETags, least-recently-used
 * eviction within its byte bound, keys that separate what viewers see,
 * invalidation of exactly the tiles an extent touches at every zoom, and
 * refusal of a picture rendered before an invalidation; both per
 * visibility class, so that what one party may see changing never touches
 * another's tiles. */
#include "tiles.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static struct tile_key key(int z, long x, long y, const char *vis)
{
    struct tile_key k;
    memset(&k, 0, sizeof k);
    k.layer = TILE_LAYER_ALL;
    k.z = z, k.x = x, k.y = y, k.scale = 1;
    snprintf(k.vis, sizeof k.vis, "%s", vis);
    return k;
}

static int has(struct tile_cache *c, struct tile_key k)
{
    unsigned char *p;
    size_t n;
    char etag[TILE_ETAG_LEN];
    int hit = tile_cache_get(c, &k, &p, &n, etag);
    free(p);
    return hit;
}

static void put(struct tile_cache *c, struct tile_key k, const char *bytes)
{
    char etag[TILE_ETAG_LEN];
    tile_cache_put(c, &k, (const unsigned char *)bytes, strlen(bytes),
                   tile_cache_generation(c, k.vis), etag);
}

/* How many of vis's tiles at (35.80, 33.00), z10 to z14, are cached. */
static int spot_tiles(struct tile_cache *c, const char *vis)
{
    int n = 0;
    for (int z = 10; z <= 14; z++) {
        long x, y;
        tile_from_lonlat(35.80, 33.00, z, &x, &y);
        n += has(c, key(z, x, y, vis));
    }
    return n;
}

int main(void)
{
    struct tile_cache *c;
    struct fm_err err;
    tile_cache_new(1000, &c, &err);

    /* a hit gives the same bytes and ETag */
    char etag[TILE_ETAG_LEN], etag2[TILE_ETAG_LEN];
    struct tile_key k = key(10, 613, 412, "A");
    tile_cache_put(c, &k, (const unsigned char *)"picture", 7, tile_cache_generation(c, k.vis),
                   etag);
    unsigned char *p;
    size_t n;
    CHECK(tile_cache_get(c, &k, &p, &n, etag2) && n == 7 && memcmp(p, "picture", 7) == 0 &&
              strcmp(etag, etag2) == 0 && etag[0] == '"',
          "a stored tile comes back with its ETag");
    free(p);
    char other[TILE_ETAG_LEN];
    tile_etag((const unsigned char *)"picturf", 7, other);
    CHECK(strcmp(other, etag) != 0, "other bytes, other ETag");

    /* the key separates visibility, scale and as-of */
    CHECK(!has(c, key(10, 613, 412, "B")), "party B does not get party A's tile");
    struct tile_key k2 = k;
    k2.scale = 2;
    CHECK(!has(c, k2), "@2x is another tile");
    k2 = k;
    k2.has_asof = 1, k2.asof = 1000;
    CHECK(!has(c, k2), "as-of is another tile");
    /* the frames' party (whose items are framed friend) too: two viewers
     * of one visibility class, of parties A and B, see other symbols */
    k2 = k;
    snprintf(k2.own, sizeof k2.own, "%s", "Z");
    CHECK(!has(c, k2), "the same class framed for another party is another tile");
    put(c, k2, "framed");
    CHECK(has(c, k2) && has(c, k), "both are kept, side by side");
    struct tile_key k3 = key(10, 613, 412, "AZ"), k4 = key(10, 613, 412, "A");
    snprintf(k4.own, sizeof k4.own, "%s", "Z");
    put(c, k4, "framed");
    CHECK(!has(c, k3), "class AZ framed for nobody is not class A framed for Z");

    /* LRU within 1000 bytes: 100-byte tiles, touch the first, overflow */
    tile_cache_clear(c);
    char body[101];
    memset(body, 'x', 100);
    body[100] = 0;
    for (int i = 0; i < 10; i++) put(c, key(5, i, 0, ""), body);
    CHECK(has(c, key(5, 0, 0, "")), "tile 0 is cached");
    put(c, key(5, 10, 0, ""), body);
    size_t entries, bytes;
    tile_cache_stats(c, &entries, &bytes, NULL, NULL);
    CHECK(entries == 10 && bytes == 1000, "bounded: %zu entries, %zu bytes", entries, bytes);
    CHECK(has(c, key(5, 0, 0, "")), "the recently used tile survives");
    CHECK(!has(c, key(5, 1, 0, "")), "the least recently used tile went");

    /* invalidation at every zoom: a small extent near (35.80, 33.00) */
    tile_cache_free(c);
    tile_cache_new((size_t)64 << 20, &c, &err);
    double box[4] = {35.795, 32.995, 35.805, 33.005};
    for (int z = 0; z <= 16; z++) {
        long x, y;
        tile_from_lonlat(35.80, 33.00, z, &x, &y);
        put(c, key(z, x, y, "A"), "touched");
        long n2 = 1L << z;
        if (z >= 8) {
            /* far away (beyond buffer and corridor reach) */
            put(c, key(z, (x + 40) % n2, y, "A"), "far");
            put(c, key(z, x, (y + 40) % n2, "B"), "far");
        }
        struct tile_key b = key(z, x, y, "");
        b.layer = TILE_LAYER_BASEMAP;
        put(c, b, "basemap");
    }
    size_t dropped = tile_cache_invalidate_bbox(c, NULL, box);
    int ok = 1;
    for (int z = 0; z <= 16; z++) {
        long x, y;
        tile_from_lonlat(35.80, 33.00, z, &x, &y);
        if (has(c, key(z, x, y, "A"))) ok = 0, printf("z%d touched tile kept\n", z);
        long n2 = 1L << z;
        if (z >= 8 && (!has(c, key(z, (x + 40) % n2, y, "A")) ||
                       !has(c, key(z, x, (y + 40) % n2, "B"))))
            ok = 0, printf("z%d far tile dropped\n", z);
        struct tile_key b = key(z, x, y, "");
        b.layer = TILE_LAYER_BASEMAP;
        if (!has(c, b)) ok = 0, printf("z%d basemap dropped\n", z);
    }
    CHECK(ok && dropped == 17, "exactly the touched item tiles dropped (%zu)", dropped);

    /* a shared tile outlives its place in the cache until released (ASan
     * would see a read of freed bytes) */
    struct tile_key sk = key(5, 19, 12, "A");
    tile_cache_put(c, &sk, (const unsigned char *)"shared bytes", 12,
                   tile_cache_generation(c, sk.vis), etag);
    struct tile_png *sp = NULL, *sp2 = NULL;
    CHECK(tile_cache_share(c, &sk, &sp, etag2) && sp->len == 12 && strcmp(etag, etag2) == 0,
          "a shared hit has the bytes and the ETag");
    CHECK(tile_cache_share(c, &sk, &sp2, etag2) && sp2 == sp, "two holders share one copy");
    tile_cache_clear(c);
    CHECK(!has(c, sk), "cleared");
    CHECK(memcmp(sp->data, "shared bytes", 12) == 0, "the bytes stay while held");
    tile_png_release(sp);
    CHECK(memcmp(sp2->data, "shared bytes", 12) == 0, "and while the other holder has them");
    tile_png_release(sp2);
    tile_png_release(NULL);
    struct tile_png *none = sp;
    CHECK(!tile_cache_share(c, &sk, &none, etag2) && none == NULL, "a miss shares nothing");

    /* a picture rendered before an invalidation is not kept */
    uint64_t gen = tile_cache_generation(c, "");
    tile_cache_invalidate_bbox(c, NULL, box);
    struct tile_key late = key(3, 1, 1, "");
    tile_cache_put(c, &late, (const unsigned char *)"stale", 5, gen, etag);
    CHECK(!has(c, late), "a stale render is refused");

    /* per class: A's change drops A's tiles only, and refuses A's renders
     * only; B's and the viewers' ("") stay and store */
    tile_cache_clear(c);
    const char *vis[3] = {"A", "B", ""};
    for (int z = 10; z <= 14; z++) {
        long x, y;
        tile_from_lonlat(35.80, 33.00, z, &x, &y);
        for (int i = 0; i < 3; i++) put(c, key(z, x, y, vis[i]), "touched");
    }
    uint64_t ga = tile_cache_generation(c, "A"), gb = tile_cache_generation(c, "B"),
             gv = tile_cache_generation(c, NULL);
    dropped = tile_cache_invalidate_bbox(c, "A", box);
    ok = 1;
    for (int z = 10; z <= 14; z++) {
        long x, y;
        tile_from_lonlat(35.80, 33.00, z, &x, &y);
        if (has(c, key(z, x, y, "A"))) ok = 0, printf("z%d: A's tile kept\n", z);
        if (!has(c, key(z, x, y, "B")) || !has(c, key(z, x, y, "")))
            ok = 0, printf("z%d: another class's tile dropped\n", z);
    }
    CHECK(ok && dropped == 5, "A's invalidation drops A's 5 tiles and nobody else's (%zu)", dropped);
    CHECK(tile_cache_generation(c, "A") != ga && tile_cache_generation(c, "B") == gb &&
              tile_cache_generation(c, "") == gv && tile_cache_generation(c, "C") == gv,
          "only A's generation moves");
    struct tile_key ka = key(2, 1, 1, "A"), kb = key(2, 1, 1, "B"), kv = key(2, 1, 1, "");
    tile_cache_put(c, &ka, (const unsigned char *)"a", 1, ga, etag);
    tile_cache_put(c, &kb, (const unsigned char *)"b", 1, gb, etag);
    tile_cache_put(c, &kv, (const unsigned char *)"v", 1, gv, etag);
    CHECK(!has(c, ka) && has(c, kb) && has(c, kv),
          "a render of A from before is refused; B's and the viewers' are kept");
    /* the viewers' class is "" and is no other's */
    gb = tile_cache_generation(c, "B");
    dropped = tile_cache_invalidate_bbox(c, "", box);
    CHECK(dropped == 5 && spot_tiles(c, "B") == 5 && spot_tiles(c, "") == 0 &&
              tile_cache_generation(c, "B") == gb && tile_cache_generation(c, "") != gv,
          "the viewers' invalidation drops the viewers' 5 tiles only (%zu)", dropped);
    /* every class at once */
    gb = tile_cache_generation(c, "B");
    dropped = tile_cache_invalidate_bbox(c, NULL, box);
    CHECK(dropped == 5 && tile_cache_generation(c, "B") != gb, "NULL: every class (%zu)", dropped);
    /* more classes than the table holds: the rest share the common
     * counter, which refuses more renders, never fewer */
    char name[TILE_VIS_LEN];
    for (int i = 0; i < 70; i++) {
        snprintf(name, sizeof name, "P%d", i);
        tile_cache_invalidate_bbox(c, name, box);
    }
    gb = tile_cache_generation(c, "B");
    uint64_t gp = tile_cache_generation(c, "P69");
    tile_cache_invalidate_bbox(c, "P69", box);
    struct tile_key kp = key(2, 1, 1, "P69");
    tile_cache_put(c, &kp, (const unsigned char *)"p", 1, gp, etag);
    CHECK(!has(c, kp) && tile_cache_generation(c, "B") != gb,
          "a class beyond the table still refuses its stale render (coarsely)");
    tile_cache_free(c);
    tile_cache_free(NULL);
    return SUMMARY();
}

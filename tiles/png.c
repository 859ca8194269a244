/* png.c - a Cairo image surface as PNG bytes: an 8-bit palette where the
 * picture allows, otherwise 8-bit straight RGBA, or RGB when every pixel
 * is opaque (tiles over the basemap, briefing maps); item layers,
 * transparent between items, keep their alpha.
 *
 * The palette (issue 23: tile bytes at or below MapServer's): map
 * pictures are a few flat colours and their antialiased edges. With 256
 * colours or fewer they are the palette, exactly; otherwise libimagequant
 * picks 256 from the histogram of the picture's colours (at its fastest
 * speed, undithered) and maps each colour to its nearest; a picture of
 * more than HIST_MAX colours, or that it cannot bring to
 * PALETTE_MIN_QUALITY (of 100), is sent as RGB(A) instead. Alpha goes in
 * tRNS. Tiles only: a tile's palette comes from its own pixels, which are
 * what its viewer may see; a briefing map keeps RGB(A). Off unless
 * FUSIONMAP_PNG_PALETTE=1: on the benchmark's tiles (no basemap) it
 * halves the bytes at z12 and z14 (below MapServer's), but costs 4-7 ms
 * of CPU a tile, which took the cold-render ratio to MapServer below 2x
 * at z12 and z14 (tests/bench/tiles_bench.sh, issue 23).
 *
 * The pixels are compressed with libdeflate, not zlib through libpng:
 * whole-buffer compression at level 3 took about a quarter of zlib level
 * 2's instructions on the benchmark's tiles (tests/bench/tiles_bench.sh),
 * for smaller output. libdeflate gives the zlib stream and the CRC-32; the
 * PNG container around them (signature, IHDR, PLTE and tRNS for a
 * palette, one IDAT, IEND; RFC 2083) is the few lines below. RGB(A) rows
 * use filter 1 (Sub), which suits flat-coloured map pictures at least as
 * well as libpng's adaptive choice and costs one subtraction per byte;
 * palette rows filter 0 (None), as indices are no quantities.
 *
 * Threads: each thread keeps its own compressor (freed when it exits). */
#include "internal.h"

#include <libdeflate.h>
#include <libimagequant.h>
#include <omp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PNG_DEFLATE_LEVEL 1
#define PALETTE_MIN_QUALITY 70

static pthread_once_t palette_once = PTHREAD_ONCE_INIT;
static int palette_on; /* FUSIONMAP_PNG_PALETTE=1 */

static void palette_init(void)
{
    const char *env = getenv("FUSIONMAP_PNG_PALETTE");
    palette_on = env && strcmp(env, "1") == 0;
}

static pthread_key_t compressor_key;
static pthread_once_t compressor_once = PTHREAD_ONCE_INIT;

static void free_compressor(void *c)
{
    libdeflate_free_compressor(c);
}

static void make_key(void)
{
    if (pthread_key_create(&compressor_key, free_compressor) != 0) abort();
}

static struct libdeflate_compressor *thread_compressor(void)
{
    pthread_once(&compressor_once, make_key);
    struct libdeflate_compressor *c = pthread_getspecific(compressor_key);
    if (!c) {
        c = libdeflate_alloc_compressor(PNG_DEFLATE_LEVEL);
        if (!c || pthread_setspecific(compressor_key, c) != 0) abort();
        /* libimagequant parallelizes with OpenMP, whose threads spin
         * waiting for work: inside a server whose workers already fill
         * the cores that was a quarter of its time. One thread each. */
        omp_set_num_threads(1);
    }
    return c;
}

static void put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

/* Writes a chunk's length and type at p; its data follows at p + 8 (len
 * bytes, already there); appends the CRC. Returns the chunk's size. */
static size_t close_chunk(unsigned char *p, const char type[4], size_t len)
{
    put_u32(p, (uint32_t)len);
    memcpy(p + 4, type, 4);
    put_u32(p + 8 + len, (uint32_t)libdeflate_crc32(0, p + 4, len + 4));
    return len + 12;
}

/* Whether every pixel is opaque (then the PNG is RGB: a quarter fewer
 * bytes to filter, compress and send). */
static int opaque(const unsigned char *data, int w, int h, int stride)
{
    uint32_t all = 0xff000000u;
    for (int y = 0; y < h; y++) {
        const uint32_t *src = (const uint32_t *)(data + (size_t)y * (size_t)stride);
        for (int x = 0; x < w; x++) all &= src[x];
        if (all != 0xff000000u) return 0;
    }
    return 1;
}

/* Cairo keeps premultiplied native-endian ARGB; PNG wants straight RGBA
 * (or RGB: channels 3), each row behind its filter byte (1, Sub: each
 * byte less the one a pixel to its left). */
static void filtered_rows(const unsigned char *data, int w, int h, int stride, int channels,
                          unsigned char *out)
{
    for (int y = 0; y < h; y++) {
        const uint32_t *src = (const uint32_t *)(data + (size_t)y * (size_t)stride);
        unsigned char *dst = out + (size_t)y * ((size_t)w * (size_t)channels + 1);
        *dst++ = 1;
        if (channels == 3) { /* opaque: nothing to unpremultiply */
            uint32_t prev = 0;
            for (int x = 0; x < w; x++) {
                uint32_t px = src[x];
                dst[3 * x] = (unsigned char)((px >> 16) - (prev >> 16));
                dst[3 * x + 1] = (unsigned char)((px >> 8) - (prev >> 8));
                dst[3 * x + 2] = (unsigned char)(px - prev);
                prev = px;
            }
            continue;
        }
        unsigned char prev[4] = {0, 0, 0, 0};
        for (int x = 0; x < w; x++) {
            uint32_t px = src[x];
            unsigned a = px >> 24, r = (px >> 16) & 255, g = (px >> 8) & 255, b = px & 255;
            if (a != 0 && a != 255) {
                r = (r * 255 + a / 2) / a;
                g = (g * 255 + a / 2) / a;
                b = (b * 255 + a / 2) / a;
            }
            unsigned char cur[4] = {(unsigned char)r, (unsigned char)g, (unsigned char)b,
                                    (unsigned char)a};
            for (int k = 0; k < channels; k++) dst[channels * x + k] = (unsigned char)(cur[k] - prev[k]);
            memcpy(prev, cur, 4);
        }
    }
}

/* The distinct colours of a picture: straight RGBA as a uint32 (memory
 * order r, g, b, a), open addressing; at most HIST_MAX of them. */
#define HIST_SIZE 16384
#define HIST_MAX 8192
struct hist {
    uint32_t key[HIST_SIZE];
    uint32_t count[HIST_SIZE];
    uint16_t index[HIST_SIZE]; /* its palette entry */
    unsigned char used[HIST_SIZE];
    uint32_t slots[HIST_MAX]; /* the used slots, in order of appearance */
    unsigned n;
};

static unsigned hist_slot(const struct hist *h, uint32_t key)
{
    unsigned i = (key * 2654435761u) >> 18; /* 14 bits */
    while (h->used[i] && h->key[i] != key) i = (i + 1) & (HIST_SIZE - 1);
    return i;
}

/* Straight RGBA of Cairo's premultiplied native-endian ARGB pixel. */
static uint32_t straight(uint32_t px)
{
    unsigned a = px >> 24, r = (px >> 16) & 255, g = (px >> 8) & 255, b = px & 255;
    if (a == 0) return 0;
    if (a != 255) {
        r = (r * 255 + a / 2) / a;
        g = (g * 255 + a / 2) / a;
        b = (b * 255 + a / 2) / a;
    }
    return r | g << 8 | b << 16 | (uint32_t)a << 24;
}

/* Counts the picture's colours into h; 0 when there are more than HIST_MAX. */
static int hist_fill(struct hist *h, const unsigned char *data, int w, int ht, int stride)
{
    uint32_t last_px = 0xffffffffu;
    unsigned last = 0;
    for (int y = 0; y < ht; y++) {
        const uint32_t *src = (const uint32_t *)(data + (size_t)y * (size_t)stride);
        for (int x = 0; x < w; x++) {
            if (src[x] != last_px || !h->used[last]) {
                last_px = src[x];
                uint32_t key = straight(last_px);
                last = hist_slot(h, key);
                if (!h->used[last]) {
                    if (h->n == HIST_MAX) return 0;
                    h->used[last] = 1, h->key[last] = key, h->count[last] = 0;
                    h->slots[h->n++] = last;
                }
            }
            h->count[last]++;
        }
    }
    return 1;
}

/* The palette: the colours themselves when there are 256 or fewer;
 * otherwise libimagequant's choice from the histogram (at least
 * PALETTE_MIN_QUALITY), each colour then mapped to its nearest entry.
 * Fills pal (RGBA) and h->index; returns the number of entries, 0 when
 * the picture needs more than a palette. */
static unsigned hist_palette(struct hist *h, unsigned char pal[256][4])
{
    if (h->n <= 256) {
        for (unsigned i = 0; i < h->n; i++) {
            uint32_t k = h->key[h->slots[i]];
            memcpy(pal[i], &(unsigned char[4]){k & 255, k >> 8 & 255, k >> 16 & 255, k >> 24}, 4);
            h->index[h->slots[i]] = (uint16_t)i;
        }
        return h->n;
    }
    liq_attr *attr = liq_attr_create();
    if (!attr) abort();
    liq_set_speed(attr, 10);
    liq_set_quality(attr, PALETTE_MIN_QUALITY, 100);
    liq_histogram *hg = liq_histogram_create(attr);
    liq_histogram_entry *e = fm_xmalloc(h->n * sizeof *e);
    unsigned char *e_rgba = fm_xmalloc((size_t)h->n * 4);
    for (unsigned i = 0; i < h->n; i++) {
        uint32_t k = h->key[h->slots[i]];
        e[i].color = (liq_color){k & 255, k >> 8 & 255, k >> 16 & 255, k >> 24};
        e[i].count = h->count[h->slots[i]];
        memcpy(e_rgba + 4 * (size_t)i, &e[i].color, 4);
    }
    liq_result *res = NULL;
    unsigned n = 0;
    if (hg && liq_histogram_add_colors(hg, attr, e, (int)h->n, 0) == LIQ_OK &&
        liq_histogram_quantize(hg, attr, &res) == LIQ_OK) {
        /* each colour's nearest entry, by libimagequant's own search:
         * the colours as one row of an image, remapped undithered; the
         * palette is read after (remapping refines it) */
        liq_image *row = liq_image_create_rgba(attr, e_rgba, (int)h->n, 1, 0);
        unsigned char *idx = fm_xmalloc(h->n);
        liq_set_dithering_level(res, 0.0f);
        if (row && liq_write_remapped_image(res, row, idx, h->n) == LIQ_OK) {
            for (unsigned i = 0; i < h->n; i++) h->index[h->slots[i]] = idx[i];
            const liq_palette *lp = liq_get_palette(res);
            n = lp->count;
            for (unsigned i = 0; i < n; i++)
                memcpy(pal[i], &(unsigned char[4]){lp->entries[i].r, lp->entries[i].g,
                                                   lp->entries[i].b, lp->entries[i].a}, 4);
        }
        free(idx);
        if (row) liq_image_destroy(row);
        liq_result_destroy(res);
    }
    free(e);
    free(e_rgba);
    if (hg) liq_histogram_destroy(hg);
    liq_attr_destroy(attr);
    return n;
}

/* The picture as a palette PNG; 0 when it has too many colours or
 * libimagequant cannot bring it to PALETTE_MIN_QUALITY (then *png is
 * NULL and the caller sends RGB(A)). */
static int palette_png(const unsigned char *data, int w, int h, int stride, unsigned char **png,
                       size_t *len)
{
    static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    *png = NULL;
    struct hist *hs = fm_xcalloc(1, sizeof *hs);
    unsigned char pal[256][4];
    unsigned n = hist_fill(hs, data, w, h, stride) ? hist_palette(hs, pal) : 0;
    if (!n) {
        free(hs);
        return 0;
    }
    /* the rows, each behind its filter byte (0, None) */
    size_t raw_len = ((size_t)w + 1) * (size_t)h;
    unsigned char *raw = fm_xmalloc(raw_len);
    for (int y = 0; y < h; y++) {
        const uint32_t *src = (const uint32_t *)(data + (size_t)y * (size_t)stride);
        unsigned char *dst = raw + (size_t)y * ((size_t)w + 1);
        *dst++ = 0;
        uint32_t last_px = 0;
        unsigned char last = 0;
        for (int x = 0; x < w; x++) {
            if (x == 0 || src[x] != last_px) {
                last_px = src[x];
                last = (unsigned char)hs->index[hist_slot(hs, straight(last_px))];
            }
            dst[x] = last;
        }
    }
    free(hs);
    unsigned ntrns = 0; /* the alphas up to the last entry not opaque */
    for (unsigned i = 0; i < n; i++)
        if (pal[i][3] != 255) ntrns = i + 1;
    struct libdeflate_compressor *c = thread_compressor();
    size_t bound = libdeflate_zlib_compress_bound(c, raw_len);
    /* signature, IHDR, PLTE, tRNS, IDAT, IEND */
    unsigned char *out = malloc(8 + 25 + 12 + 3 * n + 12 + ntrns + 12 + bound + 12);
    if (!out) abort();
    size_t at = sizeof signature;
    memcpy(out, signature, at);
    unsigned char *ihdr = out + at + 8;
    put_u32(ihdr, (uint32_t)w);
    put_u32(ihdr + 4, (uint32_t)h);
    ihdr[8] = 8; /* bits per index */
    ihdr[9] = 3; /* colour type: palette */
    ihdr[10] = 0, ihdr[11] = 0, ihdr[12] = 0;
    at += close_chunk(out + at, "IHDR", 13);
    for (unsigned i = 0; i < n; i++) memcpy(out + at + 8 + 3 * i, pal[i], 3);
    at += close_chunk(out + at, "PLTE", 3 * n);
    if (ntrns) {
        for (unsigned i = 0; i < ntrns; i++) out[at + 8 + i] = pal[i][3];
        at += close_chunk(out + at, "tRNS", ntrns);
    }
    size_t z = libdeflate_zlib_compress(c, raw, raw_len, out + at + 8, bound);
    free(raw);
    if (z == 0) {
        free(out);
        return 0;
    }
    at += close_chunk(out + at, "IDAT", z);
    at += close_chunk(out + at, "IEND", 0);
    *png = out;
    *len = at;
    return 1;
}

fm_rc surface_png(cairo_surface_t *s, int palette, unsigned char **png, size_t *len,
                  struct fm_err *err)
{
    static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    *png = NULL;
    *len = 0;
    cairo_surface_flush(s);
    int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
    if (w <= 0 || h <= 0 || cairo_image_surface_get_format(s) != CAIRO_FORMAT_ARGB32)
        return fm_fail(err, FM_EINTERNAL, NULL, "PNG encoder: not an ARGB32 image");
    const unsigned char *data = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    pthread_once(&palette_once, palette_init);
    (void)thread_compressor(); /* this thread's, and its OpenMP setting */
    if (palette && palette_on && palette_png(data, w, h, stride, png, len)) return FM_OK;
    int channels = opaque(data, w, h, stride) ? 3 : 4;
    size_t raw_len = ((size_t)w * (size_t)channels + 1) * (size_t)h;
    unsigned char *raw = fm_xmalloc(raw_len);
    filtered_rows(data, w, h, stride, channels, raw);
    struct libdeflate_compressor *c = thread_compressor();
    size_t bound = libdeflate_zlib_compress_bound(c, raw_len);
    /* signature, IHDR (13 bytes of data), IDAT, IEND: 8 + 25 + 12 + 12 */
    unsigned char *out = malloc(bound + 57);
    if (!out) abort();
    size_t at = sizeof signature;
    memcpy(out, signature, at);
    unsigned char *ihdr = out + at + 8;
    put_u32(ihdr, (uint32_t)w);
    put_u32(ihdr + 4, (uint32_t)h);
    ihdr[8] = 8;  /* bits per channel */
    ihdr[9] = channels == 4 ? 6 : 2; /* colour type: RGBA or RGB */
    ihdr[10] = 0; /* deflate */
    ihdr[11] = 0; /* adaptive filtering (one filter byte per row) */
    ihdr[12] = 0; /* not interlaced */
    at += close_chunk(out + at, "IHDR", 13);
    size_t z = libdeflate_zlib_compress(c, raw, raw_len, out + at + 8, bound);
    free(raw);
    if (z == 0) {
        free(out);
        return fm_fail(err, FM_EINTERNAL, NULL, "PNG encoder: compression failed");
    }
    at += close_chunk(out + at, "IDAT", z);
    at += close_chunk(out + at, "IEND", 0);
    *png = out;
    *len = at;
    return FM_OK;
}

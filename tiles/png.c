/* png.c - a Cairo image surface as PNG bytes: 8-bit straight RGBA, or RGB
 * when every pixel is opaque (tiles over the basemap, briefing maps);
 * item layers, transparent between items, keep their alpha.
 *
 * The pixels are compressed with libdeflate, not zlib through libpng:
 * whole-buffer compression at level 3 took about a quarter of zlib level
 * 2's instructions on the benchmark's tiles (tests/bench/tiles_bench.sh),
 * for smaller output. libdeflate gives the zlib stream and the CRC-32; the
 * PNG container around them (signature, IHDR, one IDAT, IEND; RFC 2083)
 * is the few lines below. Every row uses filter 1 (Sub), which suits
 * flat-coloured map pictures at least as well as libpng's adaptive
 * choice and costs one subtraction per byte.
 *
 * Threads: each thread keeps its own compressor (freed when it exits). */
#include "internal.h"

#include <libdeflate.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PNG_DEFLATE_LEVEL 1

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

fm_rc surface_png(cairo_surface_t *s, unsigned char **png, size_t *len, struct fm_err *err)
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

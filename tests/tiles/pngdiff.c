/* pngdiff.c - for the shell tests: how many pixels of two PNGs differ.
 *   tile_pngdiff A.png B.png [SKIP_TOP_ROWS [SKIP_BOTTOM_ROWS]]   prints the
 * count, or -1 if the sizes differ; exits 2 when a file cannot be read.
 *   tile_pngdiff --pixel A.png X Y             prints "R G B A" there.
 *   tile_pngdiff --count A.png R G B TOL [X0 Y0 X1 Y1]   prints how many
 * opaque pixels (alpha > 200; in the box when given) are within TOL of
 * R G B in each channel. */
#include <cairo.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 3) return 2;
    if ((argc == 7 || argc == 11) && strcmp(argv[1], "--count") == 0) {
        cairo_surface_t *s = cairo_image_surface_create_from_png(argv[2]);
        if (cairo_surface_status(s)) return 2;
        int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
        int want[3] = {atoi(argv[3]), atoi(argv[4]), atoi(argv[5])}, tol = atoi(argv[6]);
        int x0 = 0, y0 = 0, x1 = w, y1 = h;
        if (argc == 11) x0 = atoi(argv[7]), y0 = atoi(argv[8]), x1 = atoi(argv[9]), y1 = atoi(argv[10]);
        const unsigned char *d = cairo_image_surface_get_data(s);
        long n = 0;
        for (int y = y0 < 0 ? 0 : y0; y < y1 && y < h; y++)
            for (int x = x0 < 0 ? 0 : x0; x < x1 && x < w; x++) {
                uint32_t px;
                memcpy(&px, d + y * cairo_image_surface_get_stride(s) + 4 * x, 4);
                unsigned a = px >> 24;
                if (a <= 200) continue;
                int c[3] = {(int)(((px >> 16) & 255) * 255 / a), (int)(((px >> 8) & 255) * 255 / a),
                            (int)((px & 255) * 255 / a)};
                int ok = 1;
                for (int k = 0; k < 3; k++) ok &= abs(c[k] - want[k]) <= tol;
                n += ok;
            }
        printf("%ld\n", n);
        cairo_surface_destroy(s);
        return 0;
    }
    if (argc == 5 && strcmp(argv[1], "--pixel") == 0) {
        cairo_surface_t *s = cairo_image_surface_create_from_png(argv[2]);
        int x = atoi(argv[3]), y = atoi(argv[4]);
        if (cairo_surface_status(s) || x < 0 || y < 0 || x >= cairo_image_surface_get_width(s) ||
            y >= cairo_image_surface_get_height(s))
            return 2;
        const unsigned char *d = cairo_image_surface_get_data(s);
        uint32_t px;
        memcpy(&px, d + y * cairo_image_surface_get_stride(s) + 4 * x, 4);
        printf("%u %u %u %u\n", (px >> 16) & 255, (px >> 8) & 255, px & 255, px >> 24);
        cairo_surface_destroy(s);
        return 0;
    }
    int skip = argc > 3 ? atoi(argv[3]) : 0; /* test tool: trusted input */
    int skip_bottom = argc > 4 ? atoi(argv[4]) : 0;
    cairo_surface_t *a = cairo_image_surface_create_from_png(argv[1]);
    cairo_surface_t *b = cairo_image_surface_create_from_png(argv[2]);
    if (cairo_surface_status(a) || cairo_surface_status(b)) return 2;
    int w = cairo_image_surface_get_width(a), h = cairo_image_surface_get_height(a);
    long n = 0;
    if (w != cairo_image_surface_get_width(b) || h != cairo_image_surface_get_height(b)) {
        n = -1;
    } else {
        const unsigned char *pa = cairo_image_surface_get_data(a);
        const unsigned char *pb = cairo_image_surface_get_data(b);
        int sa = cairo_image_surface_get_stride(a), sb = cairo_image_surface_get_stride(b);
        for (int y = skip; y < h - skip_bottom; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < 4; c++)
                    if (abs(pa[y * sa + 4 * x + c] - pb[y * sb + 4 * x + c]) > 8) {
                        n++;
                        break;
                    }
    }
    printf("%ld\n", n);
    cairo_surface_destroy(a);
    cairo_surface_destroy(b);
    return 0;
}

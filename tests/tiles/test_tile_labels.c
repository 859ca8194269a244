/* test_tile_labels.c - the label placer (tiles/draw.c): labels queued in
 * a crowd are drawn where their boxes clash with no other label and no
 * obstacle (a symbol, the furniture of a briefing image), inside the
 * image; a label with no free place is left out, never drawn over
 * another; a crowd at one point spreads beside it, not only above and
 * below. */
#include "internal.h"

#include <cairo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static int overlap(const struct label_box *a, const struct label_box *b)
{
    return a->x0 < b->x1 && a->x1 > b->x0 && a->y0 < b->y1 && a->y1 > b->y0;
}

static unsigned seed = 12345;
static double rnd(double lo, double hi)
{
    seed = seed * 1103515245u + 12345u;
    return lo + (hi - lo) * ((seed >> 8) & 0xffff) / 65535.0;
}

/* Places labels (and obstacles: text NULL) and returns how many boxes
 * were added after the nblock blocks; every placed pair is checked. */
static size_t place(int briefing, int w, int h, double scale, const struct label_box *blocks,
                    size_t nblock, int nlabels, double cx, double cy, double spread,
                    const char *what)
{
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
    cairo_t *cr = cairo_create(s);
    struct view v;
    double m[4];
    tile_bounds_merc(12, 2453, 1650, m);
    view_init(&v, m, w, h, scale);
    if (briefing) v.label_px = 230; /* as render.c's briefing images: every place tried */
    struct labels l;
    labels_init(&l);
    for (size_t i = 0; i < nblock; i++) labels_block(&l, blocks[i]);
    static const char *const names[] = {"Range North exercise area", "Supply convoy C-7",
                                        "UAV sighting", "Humanitarian corridor H-1",
                                        "CONFLICT: Supply convoy C-7 crosses Range North",
                                        "Shelling reported near Range North", "حاجز",
                                        "מחסום"};
    for (int i = 0; i < nlabels; i++)
        labels_queue(&l, names[i % 8], cx + rnd(-spread, spread), cy + rnd(-spread, spread),
                     STYLE_LABEL_SIZE_PT, i % 3 == 0, i % 5);
    labels_flush(cr, &v, &l);
    size_t placed = l.n - nblock;
    int clashes = 0, outside = 0, over_block = 0;
    for (size_t i = nblock; i < l.n; i++) {
        const struct label_box *a = &l.boxes[i];
        if (a->x0 < 0 || a->y0 < 0 || a->x1 > w || a->y1 > h) outside++;
        for (size_t j = 0; j < nblock; j++) over_block += overlap(a, &l.boxes[j]);
        for (size_t j = i + 1; j < l.n; j++) clashes += overlap(a, &l.boxes[j]);
    }
    CHECK(clashes == 0, "%s: %d pairs of the %zu placed labels overlap", what, clashes, placed);
    CHECK(outside == 0, "%s: %d labels reach outside the image", what, outside);
    CHECK(over_block == 0, "%s: %d labels lie over a blocked box", what, over_block);
    labels_cleanup(&l);
    cairo_destroy(cr);
    cairo_surface_destroy(s);
    return placed;
}

int main(void)
{
    /* a crowd over a tile: some placed, none overlapping, some left out */
    size_t n = place(0, 256, 256, 1, NULL, 0, 60, 128, 128, 100, "60 labels over a tile");
    CHECK(n >= 6 && n < 60, "a crowd of 60 places some and leaves the rest out (%zu placed)", n);
    /* at scale 2 as well */
    n = place(0, 512, 512, 2, NULL, 0, 60, 256, 256, 200, "60 labels over a 2x tile");
    CHECK(n >= 6 && n < 60, "at 2x too (%zu placed)", n);
    /* eight labels at one point of a briefing image: they spread beside
     * it and further out (tiles keep to the five places above and below) */
    n = place(1, 1000, 700, 1, NULL, 0, 8, 500, 350, 0, "8 labels at one point");
    CHECK(n > 5, "8 labels at one point: %zu placed (5 before the places beside)", n);
    /* the furniture of a briefing image (title bar, legend, scale bar) and
     * symbols are obstacles no label crosses */
    struct label_box blocks[] = {{0, 0, 900, 40}, {600, 40, 900, 400}, {0, 600, 300, 700},
                                 {440, 330, 460, 350}};
    n = place(1, 900, 700, 1, blocks, 4, 200, 450, 340, 350, "200 labels around furniture");
    CHECK(n >= 20, "200 labels around the furniture: %zu placed", n);
    /* a town's name goes at its anchor or nowhere (never beside another
     * town's dot); any other label moves out of the way */
    for (int at = 0; at < 2; at++) {
        cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 600, 400);
        cairo_t *cr = cairo_create(s);
        struct view v;
        double m[4];
        tile_bounds_merc(12, 2453, 1650, m);
        view_init(&v, m, 600, 400, 1);
        v.label_px = 230;
        struct labels l;
        labels_init(&l);
        labels_block(&l, (struct label_box){280, 190, 320, 210}); /* over the anchor */
        if (at) labels_queue_at(&l, "Quneitra", 300, 200, 8.5, 3);
        else labels_queue(&l, "Quneitra", 300, 200, 8.5, 0, 3);
        labels_flush(cr, &v, &l);
        if (at) CHECK(l.n == 1, "a town's name with its anchor taken is left out (%zu boxes)", l.n);
        else CHECK(l.n == 2, "another label with its anchor taken moves (%zu boxes)", l.n);
        labels_cleanup(&l);
        cairo_destroy(cr);
        cairo_surface_destroy(s);
    }
    /* random crowds, many seeds */
    for (int k = 0; k < 30; k++) {
        char what[64];
        snprintf(what, sizeof what, "random crowd %d", k);
        place(k % 2, 256 + k * 20, 256 + k * 10, 1 + k % 3 / 2, NULL, 0, 10 + k * 5, 150 + k * 5, 150,
              60 + k * 4, what);
    }
    return SUMMARY();
}

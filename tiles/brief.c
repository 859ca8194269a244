/* brief.c - what the briefing sheet (/map.pdf) has beyond the map: the
 * MGRS grid (lines of each UTM zone in view, clipped to that zone,
 * labelled in kilometres within their 100 km square, the squares named),
 * the marking bars at top and bottom, the lists in the side panel and
 * the footer. The words are the caller's (struct tile_brief); this file
 * only lays them out. */
#include "internal.h"

#include <math.h>
#include <pango/pangocairo.h>
#include <stdio.h>
#include <string.h>

/* ---- text -------------------------------------------------------------- */

/* Draws text at (x, y) wrapped to width w (0: one line), px high, in the
 * label font or monospace; returns the height used. x < -1e8 measures. */
static double text_block(cairo_t *cr, const char *text, double x, double y, double w, double px,
                         int bold, int mono)
{
    PangoLayout *l = pango_cairo_create_layout(cr);
    PangoFontDescription *fd = pango_font_description_new();
    pango_font_description_set_family(fd, mono ? "DejaVu Sans Mono" : STYLE_LABEL_FONT);
    pango_font_description_set_weight(fd, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_font_description_set_absolute_size(fd, px * PANGO_SCALE);
    pango_layout_set_font_description(l, fd);
    pango_font_description_free(fd);
    pango_layout_set_auto_dir(l, TRUE);
    if (w > 0) {
        pango_layout_set_width(l, (int)(w * PANGO_SCALE));
        pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
    }
    pango_layout_set_text(l, text, -1);
    int tw, th;
    pango_layout_get_pixel_size(l, &tw, &th);
    if (x >= -1e8) {
        cairo_move_to(cr, x, y);
        pango_cairo_show_layout(cr, l);
    }
    g_object_unref(l);
    return th;
}

/* ---- the MGRS grid ----------------------------------------------------- */

struct zone_clip {
    int zone, south;
    double x0, x1;           /* the zone's columns of pixels in view */
    double e0, e1, n0, n1;   /* its UTM extent there */
};

/* The UTM extent of lon a..b, lat c..d in zone z (sampled on a 9 x 9 net:
 * grid lines bend, the corners alone miss the bulge). */
static void zone_extent(struct zone_clip *z, double a, double b, double c, double d)
{
    z->e0 = z->n0 = INFINITY, z->e1 = z->n1 = -INFINITY;
    for (int i = 0; i <= 8; i++)
        for (int j = 0; j <= 8; j++) {
            double e, n;
            tile_utm_forward(z->zone, a + (b - a) * i / 8, c + (d - c) * j / 8, &e, &n);
            z->e0 = fmin(z->e0, e), z->e1 = fmax(z->e1, e);
            z->n0 = fmin(z->n0, n), z->n1 = fmax(z->n1, n);
        }
}

/* One grid line: easting c (vertical) or northing c, sampled along the
 * other coordinate from lo to hi. OUT *lx, *ly: where it meets the
 * label line (bottom edge for eastings, the zone's left edge for
 * northings); -1 when it does not. */
static void grid_line(cairo_t *cr, const struct view *v, const struct zone_clip *z, int vertical,
                      double c, double lo, double hi, double at, double *lx, double *ly)
{
    enum { STEPS = 32 };
    double px = 0, py = 0;
    *lx = *ly = -1;
    for (int i = 0; i <= STEPS; i++) {
        double u = lo + (hi - lo) * i / STEPS, lon, lat, x, y;
        if (vertical) tile_utm_inverse(z->zone, z->south, c, u, &lon, &lat);
        else tile_utm_inverse(z->zone, z->south, u, c, &lon, &lat);
        view_px(v, lon, lat, &x, &y);
        if (i == 0) cairo_move_to(cr, x, y);
        else {
            cairo_line_to(cr, x, y);
            /* the crossing of the label line, between two samples */
            double s0 = vertical ? py - at : px - at, s1 = vertical ? y - at : x - at;
            if (*lx < 0 && s0 * s1 <= 0 && s0 != s1) {
                double t = s0 / (s0 - s1);
                *lx = px + (x - px) * t, *ly = py + (y - py) * t;
            }
        }
        px = x, py = y;
    }
}

static double grid_spacing(double span)
{
    static const double steps[] = {1000, 2000, 5000, 10000, 20000, 50000, 100000};
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++)
        if (span / steps[i] <= 12) return steps[i];
    return 100000;
}

static void grid_zone(cairo_t *cr, const struct view *v, const struct zone_clip *z, double step,
                      double fs)
{
    cairo_save(cr);
    cairo_rectangle(cr, z->x0, 0, z->x1 - z->x0, v->height);
    cairo_clip(cr);
    char buf[32];
    for (int vertical = 1; vertical >= 0; vertical--) {
        double from = vertical ? z->e0 : z->n0, to = vertical ? z->e1 : z->n1;
        double lo = vertical ? z->n0 : z->e0, hi = vertical ? z->n1 : z->e1;
        for (double c = ceil(from / step) * step; c <= to; c += step) {
            int hundred = fmod(c, 100000) == 0;
            double lx, ly;
            cairo_set_source_rgba(cr, 0.1, 0.25, 0.55, hundred ? 0.8 : 0.5);
            cairo_set_line_width(cr, hundred ? 1.4 : 0.7);
            grid_line(cr, v, z, vertical, c, lo, hi,
                      vertical ? v->height - fs * 1.2 : z->x0 + 2, &lx, &ly);
            cairo_stroke(cr);
            if (lx < 0) continue;
            /* principal digits: kilometres within the 100 km square */
            snprintf(buf, sizeof buf, "%02ld", ((long)floor(c / 1000 + 0.5)) % 100);
            cairo_set_source_rgba(cr, 0.05, 0.15, 0.4, 0.95);
            if (vertical) text_block(cr, buf, lx + 2, ly - fs * 0.2, 0, fs, hundred, 0);
            else text_block(cr, buf, lx + 2, ly - fs * 1.25, 0, fs, hundred, 0);
        }
    }
    /* each 100 km square's letters, faint, in the middle of what is seen of it */
    for (double e = floor(z->e0 / 1e5) * 1e5; e < z->e1; e += 1e5)
        for (double n = floor(z->n0 / 1e5) * 1e5; n < z->n1; n += 1e5) {
            double ce = (fmax(e, z->e0) + fmin(e + 1e5, z->e1)) / 2;
            double cn = (fmax(n, z->n0) + fmin(n + 1e5, z->n1)) / 2, lon, lat, x, y;
            tile_utm_inverse(z->zone, z->south, ce, cn, &lon, &lat);
            view_px(v, lon, lat, &x, &y);
            if (x < z->x0 + fs * 3 || x > z->x1 - fs * 3 || y < fs * 5 || y > v->height - fs * 5)
                continue;
            char sq[3];
            tile_mgrs_square(z->zone, e + 1, n + 1, sq);
            cairo_set_source_rgba(cr, 0.1, 0.25, 0.55, 0.3);
            double tw = 0;
            text_at(cr, sq, -1e9, 0, fs * 2.2, 1, 0, &tw, NULL);
            text_at(cr, sq, x - tw / 2, y - fs * 1.1, fs * 2.2, 1, 0, NULL, NULL);
        }
    cairo_restore(cr);
}

void draw_mgrs_grid(cairo_t *cr, const struct view *v, const double ll[4], double fs, char *note,
                    size_t nnote)
{
    double clat = (ll[1] + ll[3]) / 2, clon = (ll[0] + ll[2]) / 2;
    note[0] = '\0';
    if (ll[1] < -80 || ll[3] > 84) {
        snprintf(note, nnote, "no MGRS grid beyond 80S..84N");
        return;
    }
    struct zone_clip zs[8];
    int nz = 0;
    /* the zones of the middle latitude across the view (the exceptions of
     * Norway and Svalbard are left to the centre's zone) */
    for (double lon = ll[0]; nz < 8;) {
        int zone = tile_utm_zone(fmin(lon, 179.999), clat);
        double a = fmax(ll[0], tile_utm_central_lon(zone) - 3);
        double b = fmin(ll[2], tile_utm_central_lon(zone) + 3);
        /* (an exception's zone may lie behind lon: then stop, not loop) */
        if (b <= a || b <= lon) break;
        struct zone_clip *z = &zs[nz++];
        z->zone = zone, z->south = clat < 0;
        double y;
        view_px(v, a, clat, &z->x0, &y);
        view_px(v, b, clat, &z->x1, &y);
        zone_extent(z, a, b, ll[1], ll[3]);
        if (b >= ll[2]) break;
        lon = b + 1e-9;
    }
    int czone = tile_utm_zone(clon, clat);
    double ce, cn;
    tile_utm_forward(czone, clon, clat, &ce, &cn);
    struct zone_clip whole = {czone, clat < 0, 0, 0, 0, 0, 0, 0};
    zone_extent(&whole, ll[0], ll[2], ll[1], ll[3]);
    double span = fmax(whole.e1 - whole.e0, whole.n1 - whole.n0);
    if (span > 2400e3 || !isfinite(span)) {
        snprintf(note, nnote, "no MGRS grid at this scale (a view over 2,400 km)");
        return;
    }
    double step = grid_spacing(span);
    for (int i = 0; i < nz; i++) grid_zone(cr, v, &zs[i], step, fs);
    /* the zones' meeting lines, solid and named */
    for (int i = 1; i < nz; i++) {
        cairo_set_source_rgba(cr, 0.1, 0.25, 0.55, 0.9);
        cairo_set_line_width(cr, 2);
        cairo_move_to(cr, zs[i].x0, 0), cairo_line_to(cr, zs[i].x0, v->height);
        cairo_stroke(cr);
        char b[32];
        snprintf(b, sizeof b, "%d%c | %d%c", zs[i - 1].zone, tile_mgrs_band(clat), zs[i].zone,
                 tile_mgrs_band(clat));
        double tw = 0;
        text_at(cr, b, -1e9, 0, fs, 1, 0, &tw, NULL);
        text_at(cr, b, zs[i].x0 - tw / 2, v->height - fs * 3.2, fs, 1, 0, NULL, NULL);
    }
    char centre[40];
    tile_mgrs_format(clon, clat, 4, centre, sizeof centre);
    size_t used = (size_t)snprintf(note, nnote, "MGRS grid (WGS84):");
    for (int i = 0; i < nz && used < nnote; i++)
        used += (size_t)snprintf(note + used, nnote - used, "%s %d%c", i ? "," : "", zs[i].zone,
                                 tile_mgrs_band(clat));
    if (used < nnote)
        snprintf(note + used, nnote - used,
                 "; lines every %g km, numbered in km within each 100 km square (its letters"
                 " faint); centre %s (%.4f°%c %.4f°%c)",
                 step / 1000, centre, fabs(clat), clat < 0 ? 'S' : 'N', fabs(clon),
                 clon < 0 ? 'W' : 'E');
}

/* ---- marking, lists, footer --------------------------------------------- */

void brief_marking(cairo_t *cr, const struct tile_brief *b, double y, double w, double h)
{
    cairo_rectangle(cr, 0, y, w, h);
    if (b->warn) cairo_set_source_rgb(cr, 1.0, 0.75, 0.1);
    else cairo_set_source_rgb(cr, 0.1, 0.12, 0.16);
    cairo_fill(cr);
    const char *text = b->marking && *b->marking ? b->marking : "NOT MARKED";
    double px = h * 0.62, tw = 0;
    text_at(cr, text, -1e9, 0, px, 1, 0, &tw, NULL);
    if (tw > w - 16) px *= (w - 16) / tw, tw = w - 16;
    if (b->warn) cairo_set_source_rgb(cr, 0, 0, 0);
    else cairo_set_source_rgb(cr, 1, 1, 1);
    text_at(cr, text, (w - tw) / 2, y + (h - px * 1.25) / 2, px, 1, 0, NULL, NULL);
}

double brief_lists(cairo_t *cr, const struct tile_brief *b, double x, double y, double w,
                   double bottom, double fs)
{
    char head[256];
    for (int i = 0; i < b->nlists; i++) {
        const struct tile_brief_list *l = &b->lists[i];
        if (y + fs * 3 > bottom) break;
        snprintf(head, sizeof head, "%s (%zu)", l->heading ? l->heading : "", l->total);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        y += text_block(cr, head, x, y, w, fs, 1, 0) + fs * 0.3;
        if (!l->total && l->empty) {
            cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
            y += text_block(cr, l->empty, x + fs * 0.6, y, w - fs * 0.6, fs * 0.9, 0, 0);
        }
        size_t shown = 0;
        for (size_t k = 0; k < l->nrows; k++) {
            double h = text_block(cr, l->rows[k], -1e9, 0, w - fs * 1.1, fs * 0.9, 0, 0);
            if (y + h + fs * 1.4 > bottom && k + 1 < l->nrows) break;
            if (y + h > bottom) break;
            cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
            text_block(cr, "\xe2\x80\xa2", x + fs * 0.2, y, 0, fs * 0.9, 1, 0);
            text_block(cr, l->rows[k], x + fs * 1.1, y, w - fs * 1.1, fs * 0.9, 0, 0);
            y += h + fs * 0.2;
            shown++;
        }
        if (shown < l->total) {
            snprintf(head, sizeof head, "\xe2\x80\xa6 and %zu more", l->total - shown);
            cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
            y += text_block(cr, head, x + fs * 1.1, y, w - fs * 1.1, fs * 0.9, 0, 0);
        }
        y += fs * 0.9;
    }
    return y;
}

void brief_footer(cairo_t *cr, const char *grid_note, const char *footer, double y, double w,
                  double fs)
{
    cairo_rectangle(cr, 0, y, w, fs * 3.1);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.15);
    double h = text_block(cr, grid_note ? grid_note : "", fs * 0.6, y + fs * 0.2, w - fs * 1.2, fs,
                          0, 0);
    if (footer) text_block(cr, footer, fs * 0.6, y + fs * 0.3 + h, w - fs * 1.2, fs, 0, 1);
}

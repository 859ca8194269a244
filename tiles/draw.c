/* draw.c - drawing items, symbols, patterns and labels onto a Cairo
 * context for one view (a tile or a briefing map). Geometry is given whole
 * (not cut to the tile), so dash phases, arrows and patterns line up
 * across tile edges; coordinates far outside the image are clipped first,
 * because Cairo's fixed-point coordinates overflow past about 8 million. */
#include "internal.h"

#include <math.h>
#include <pango/pangocairo.h>
#include <pixman.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CLIP_LIMIT 100000.0 /* pixels: beyond this, clip before drawing */
#define CLIP_MARGIN 2000.0

void view_init(struct view *v, const double m[4], int width, int height, double scale)
{
    memcpy(v->merc, m, sizeof v->merc);
    v->minx = m[0];
    v->maxy = m[3];
    v->ppm = width / (m[2] - m[0]);
    v->width = width;
    v->height = height;
    v->scale = scale;
    v->label_px = 0;
    v->zoom = log2(v->ppm / scale * 2.0 * TILE_MERC_MAX / TILE_SIZE);
    /* y = R ln tan(pi/4 + lat/2) has derivatives R sec, R sec tan,
     * R sec (2 tan^2 + 1), R sec tan (6 tan^2 + 5); the fifth is below
     * 5000 R up to 70 degrees, so within 0.005 rad the series is off by
     * less than a millimetre (5000 R 0.005^5 / 120): a thousandth of a
     * pixel at zoom 18. It saves a tan and a log per point. */
    double lon0;
    tile_merc_to_lonlat((m[0] + m[2]) / 2, (m[1] + m[3]) / 2, &lon0, &v->lat0);
    v->lat0 *= M_PI / 180.0;
    double sec = 1 / cos(v->lat0), tn = tan(v->lat0), R = TILE_EARTH_RADIUS;
    v->reach = fabs(v->lat0) < 70 * M_PI / 180.0 ? 0.005 : 0;
    v->y0 = (m[1] + m[3]) / 2; /* the centre's own Mercator y */
    v->c[0] = R * sec;
    v->c[1] = R * sec * tn / 2;
    v->c[2] = R * sec * (2 * tn * tn + 1) / 6;
    v->c[3] = R * sec * tn * (6 * tn * tn + 5) / 24;
}

void view_px(const struct view *v, double lon, double lat, double *px, double *py)
{
    double mx = lon * (M_PI / 180.0) * TILE_EARTH_RADIUS, my,
           d = lat * (M_PI / 180.0) - v->lat0;
    if (fabs(d) < v->reach)
        my = v->y0 + d * (v->c[0] + d * (v->c[1] + d * (v->c[2] + d * v->c[3])));
    else
        tile_lonlat_to_merc(lon, lat, &mx, &my);
    *px = (mx - v->minx) * v->ppm;
    *py = (v->maxy - my) * v->ppm;
}

/* Point i of g, which draw_one has already projected to image pixels. */
static void pt(const struct geom *g, size_t i, double *x, double *y)
{
    *x = g->xy[2 * i];
    *y = g->xy[2 * i + 1];
}

static void set_rgba(cairo_t *cr, struct rgba c, double alpha)
{
    cairo_set_source_rgba(cr, c.r, c.g, c.b, c.a * alpha);
}

/* ---- labels ------------------------------------------------------------ */

void labels_init(struct labels *l)
{
    memset(l, 0, sizeof *l);
}

void labels_cleanup(struct labels *l)
{
    for (size_t i = 0; i < l->npending; i++) free(l->pending[i].text);
    free(l->pending);
    free(l->boxes);
    memset(l, 0, sizeof *l);
}

void labels_queue(struct labels *l, const char *text, double px, double py, double size_pt,
                  int bold, int priority)
{
    if (text && !*text) return;
    if (l->npending == l->cappending) {
        l->cappending = l->cappending ? l->cappending * 2 : 32;
        l->pending = realloc(l->pending, l->cappending * sizeof *l->pending);
        if (!l->pending) abort();
    }
    l->pending[l->npending++] = (struct pending_label){text ? fm_xstrdup(text) : NULL, px, py,
                                                       size_pt, bold, priority, 0};
}

void labels_queue_at(struct labels *l, const char *text, double px, double py, double size_pt,
                     int priority)
{
    size_t n = l->npending;
    labels_queue(l, text, px, py, size_pt, 0, priority);
    if (l->npending > n) l->pending[n].at_anchor = 1;
}

static int by_priority(const void *a, const void *b)
{
    const struct pending_label *x = a, *y = b;
    return (y->priority > x->priority) - (y->priority < x->priority);
}

static int clashes(const struct labels *l, const struct label_box *b)
{
    for (size_t i = 0; i < l->n; i++) {
        const struct label_box *o = &l->boxes[i];
        if (b->x0 < o->x1 && b->x1 > o->x0 && b->y0 < o->y1 && b->y1 > o->y0) return 1;
    }
    return 0;
}

void labels_block(struct labels *l, struct label_box b)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 32;
        l->boxes = realloc(l->boxes, l->cap * sizeof *l->boxes);
        if (!l->boxes) abort();
    }
    l->boxes[l->n++] = b;
}

/* Where a label may go, from its anchor, in label widths (x) and heights
 * (y): the anchor first, then just above and below, then further; then
 * beside it, left and right (a zone's name beside a conflict's label at
 * its centre), and further up and down. Each place is a box tested
 * against every box placed before (clashes): a label that fits nowhere
 * is left out, never drawn over another. */
static const double label_shifts[][2] = {
    {0, 0},       {0, -1.1},   {0, 1.1},     {0, -2.2},   {0, 2.2},  {-0.55, 0},
    {0.55, 0},    {-0.55, -1.1}, {0.55, -1.1}, {-0.55, 1.1}, {0.55, 1.1}, {-1.05, 0},
    {1.05, 0},    {0, -3.3},   {0, 3.3}};
/* Tiles try the first five only: a label moved sideways near a tile's
 * edge could meet its twin drawn by the next tile. */
#define NSHIFTS_TILE 5
static size_t label_places(const struct view *v)
{
    return v->label_px > 0 ? sizeof label_shifts / sizeof *label_shifts : NSHIFTS_TILE;
}

/* The widest a label's line may be, in pixels: wider on briefing images
 * (label_px set), where a conflict's label names both its items. */
static double label_width(const struct view *v)
{
    return (v->label_px > 0 ? v->label_px : 150) * v->scale;
}

static int draw_label_n(cairo_t *cr, const struct view *v, struct labels *labels,
                        const char *text, double px, double py, double size_pt, int bold,
                        size_t places);

int draw_label(cairo_t *cr, const struct view *v, struct labels *labels, const char *text,
               double px, double py, double size_pt, int bold)
{
    return draw_label_n(cr, v, labels, text, px, py, size_pt, bold, label_places(v));
}

/* draw_label, trying the first `places` places only. */
static int draw_label_n(cairo_t *cr, const struct view *v, struct labels *labels,
                        const char *text, double px, double py, double size_pt, int bold,
                        size_t places)
{
    PangoLayout *layout = pango_cairo_create_layout(cr);
    PangoFontDescription *fd = pango_font_description_new();
    pango_font_description_set_family(fd, STYLE_LABEL_FONT);
    pango_font_description_set_weight(fd, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_SEMIBOLD);
    pango_font_description_set_absolute_size(fd, size_pt * 96.0 / 72.0 * v->scale * PANGO_SCALE);
    pango_layout_set_font_description(layout, fd);
    pango_font_description_free(fd);
    pango_layout_set_auto_dir(layout, TRUE); /* Arabic and Hebrew run right to left */
    pango_layout_set_width(layout, (int)(label_width(v) * PANGO_SCALE));
    pango_layout_set_wrap(layout, PANGO_WRAP_WORD);
    pango_layout_set_height(layout, -2); /* at most two lines */
    pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_END);
    pango_layout_set_alignment(layout, PANGO_ALIGN_CENTER);
    pango_layout_set_text(layout, text, -1);
    PangoRectangle ink, logical;
    pango_layout_get_pixel_extents(layout, &ink, &logical);
    double w = logical.width, h = logical.height, pad = 2 * v->scale;
    /* centre the visible text on the anchor */
    double ox = px - (logical.x + w / 2.0), oy = py - h / 2.0;
    struct label_box b = {px - w / 2 - pad, oy - pad, px + w / 2 + pad, oy + h + pad};
    int drawn = 0;
    for (size_t i = 0; i < places && !drawn; i++) {
        double dx = label_shifts[i][0] * (w + 2 * pad), dy = label_shifts[i][1] * (h + 2 * pad);
        struct label_box c = {b.x0 + dx, b.y0 + dy, b.x1 + dx, b.y1 + dy};
        if (c.x0 < 0 || c.y0 < 0 || c.x1 > v->width || c.y1 > v->height || clashes(labels, &c))
            continue;
        cairo_save(cr);
        /* the halo: the text in white shifted eight ways (glyphs come from
         * Cairo's cache; stroking their outlines cost ten times more) */
        set_rgba(cr, style_label_halo, 1.0);
        if (cairo_surface_get_type(cairo_get_target(cr)) != CAIRO_SURFACE_TYPE_IMAGE) {
            /* a PDF: the outline stroked, so that the text is there once
             * (to select, search and read aloud) */
            cairo_move_to(cr, ox + dx, oy + dy);
            pango_cairo_layout_path(cr, layout);
            cairo_set_line_width(cr, 3 * v->scale);
            cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
            cairo_stroke(cr);
        } else {
            for (int k = 0; k < 8; k++) {
                double a = k * M_PI / 4, hr = 1.5 * v->scale;
                cairo_move_to(cr, ox + dx + hr * cos(a), oy + dy + hr * sin(a));
                pango_cairo_show_layout(cr, layout);
            }
        }
        cairo_move_to(cr, ox + dx, oy + dy);
        set_rgba(cr, style_label_text, 1.0);
        pango_cairo_show_layout(cr, layout);
        cairo_restore(cr);
        labels_block(labels, c);
        drawn = 1;
    }
    g_object_unref(layout);
    return drawn;
}

/* Labels tried per 256 x 256 px (at scale 1): past this a picture is too
 * dense to read anyway. */
#define LABEL_MAX_ATTEMPTS 120

void labels_flush(cairo_t *cr, const struct view *v, struct labels *labels)
{
    long attempts = 0;
    double max_attempts = LABEL_MAX_ATTEMPTS * v->width * v->height /
                          (TILE_SIZE * TILE_SIZE * v->scale * v->scale);
    if (labels->npending)
        qsort(labels->pending, labels->npending, sizeof *labels->pending, by_priority);
    for (size_t i = 0; i < labels->npending; i++) {
        struct pending_label *p = &labels->pending[i];
        if (p->text) {
            /* cheap tests first (a Pango layout costs far more): a box a
             * little smaller than the text clashes at every place it may go */
            double em = p->size_pt * 96.0 / 72.0 * v->scale;
            double w = fmin((double)strlen(p->text) * em * 0.25, label_width(v) * 0.47),
                   h = em * 0.6;
            double step = em * 1.4 + 4 * v->scale; /* a line of text and its padding */
            int covered = attempts >= max_attempts;
            size_t np = p->at_anchor ? 1 : label_places(v);
            for (size_t s = 0; !covered && s < np; s++) {
                double dx = label_shifts[s][0] * 2 * w, dy = label_shifts[s][1] * step;
                struct label_box e = {p->px + dx - w, p->py + dy - h, p->px + dx + w,
                                      p->py + dy + h};
                if (!clashes(labels, &e)) break;
                if (s + 1 == np) covered = 1;
            }
            attempts++;
            if (covered || p->px < 0 || p->py < 0 || p->px > v->width || p->py > v->height) {
                free(p->text);
                continue;
            }
        }
        if (!p->text) { /* an obstacle: a symbol labels keep off; size_pt is its radius */
            labels_block(labels, (struct label_box){p->px - p->size_pt, p->py - p->size_pt,
                                               p->px + p->size_pt, p->py + p->size_pt});
            continue;
        }
        draw_label_n(cr, v, labels, p->text, p->px, p->py, p->size_pt, p->bold,
                     p->at_anchor ? 1 : label_places(v));
        free(p->text);
    }
    labels->npending = 0;
}

/* ---- paths ------------------------------------------------------------- */

static int needs_clip(const struct geom *g, const struct geom_part *p, const struct view *v)
{
    for (size_t i = p->start; i < p->start + p->n; i++) {
        double x, y;
        pt(g, i, &x, &y);
        if (fabs(x) > CLIP_LIMIT || fabs(y) > CLIP_LIMIT) return 1;
    }
    (void)v;
    return 0;
}

/* Sutherland-Hodgman against one edge of the clip box. */
static size_t clip_edge(const double *in, size_t n, double *out, int edge, double lim)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const double *a = &in[2 * ((i + n - 1) % n)], *b = &in[2 * i];
        double av = edge < 2 ? a[edge & 1] : a[edge & 1], bv = b[edge & 1];
        int ain = edge < 2 ? av >= lim : av <= lim, bin = edge < 2 ? bv >= lim : bv <= lim;
        if (ain != bin) {
            double t = (lim - av) / (bv - av);
            out[2 * m] = a[0] + t * (b[0] - a[0]);
            out[2 * m + 1] = a[1] + t * (b[1] - a[1]);
            m++;
        }
        if (bin) {
            out[2 * m] = b[0];
            out[2 * m + 1] = b[1];
            m++;
        }
    }
    return m;
}

void ring_px_path(struct path_buf *p, const struct view *v, const double *pts, size_t npts)
{
    if (npts < 3) return;
    int clip = 0;
    for (size_t i = 0; i < npts && !clip; i++)
        clip = fabs(pts[2 * i]) > CLIP_LIMIT || fabs(pts[2 * i + 1]) > CLIP_LIMIT;
    const double *in = pts;
    size_t n = npts;
    double *a = NULL, *b = NULL;
    if (clip) {
        /* each clip stage adds at most half as many points as it had */
        size_t cap = (6 * npts + 16) * 2;
        a = fm_xmalloc(cap * sizeof *a), b = fm_xmalloc(cap * sizeof *b);
        memcpy(a, pts, npts * 2 * sizeof *a);
        double lo = -CLIP_MARGIN, hx = v->width + CLIP_MARGIN, hy = v->height + CLIP_MARGIN;
        n = clip_edge(a, n, b, 0, lo);
        n = clip_edge(b, n, a, 1, lo);
        size_t m = 0;
        for (size_t i = 0; i < n; i++) { /* x <= hx */
            const double *pa = &a[2 * ((i + n - 1) % n)], *pb = &a[2 * i];
            int ain = pa[0] <= hx, bin = pb[0] <= hx;
            if (ain != bin) {
                double t = (hx - pa[0]) / (pb[0] - pa[0]);
                b[2 * m] = hx, b[2 * m + 1] = pa[1] + t * (pb[1] - pa[1]), m++;
            }
            if (bin) b[2 * m] = pb[0], b[2 * m + 1] = pb[1], m++;
        }
        n = 0;
        for (size_t i = 0; i < m; i++) { /* y <= hy */
            const double *pa = &b[2 * ((i + m - 1) % m)], *pb = &b[2 * i];
            int ain = pa[1] <= hy, bin = pb[1] <= hy;
            if (ain != bin) {
                double t = (hy - pa[1]) / (pb[1] - pa[1]);
                a[2 * n] = pa[0] + t * (pb[0] - pa[0]), a[2 * n + 1] = hy, n++;
            }
            if (bin) a[2 * n] = pb[0], a[2 * n + 1] = pb[1], n++;
        }
        in = a;
    }
    double lx = 0, ly = 0;
    for (size_t i = 0; i < n; i++) {
        double x = in[2 * i], y = in[2 * i + 1];
        if (i == 0) path_move(p, x, y);
        else if (fabs(x - lx) + fabs(y - ly) >= 1.2 || i == n - 1) path_line(p, x, y);
        else continue;
        lx = x, ly = y;
    }
    if (n) path_close(p);
    free(a);
    free(b);
}

/* The polygon rings of g into p, oriented for a nonzero fill. */
static void rings_path(struct path_buf *p, const struct view *v, const struct geom *g)
{
    for (size_t k = 0; k < g->nparts; k++) {
        const struct geom_part *part = &g->parts[k];
        if (part->kind != GEOM_RING) continue;
        int from = p->n, outer = k == 0 || g->parts[k - 1].poly != part->poly ||
                                 g->parts[k - 1].kind != GEOM_RING;
        ring_px_path(p, v, &g->xy[2 * part->start], part->n);
        path_orient_ring(p, from, outer);
    }
}

/* Liang-Barsky for one segment; 1 when something is left. */
static int clip_segment(double *x0, double *y0, double *x1, double *y1, double lo, double hx,
                        double hy)
{
    double t0 = 0, t1 = 1, dx = *x1 - *x0, dy = *y1 - *y0;
    double p[4] = {-dx, dx, -dy, dy}, q[4] = {*x0 - lo, hx - *x0, *y0 - lo, hy - *y0};
    for (int i = 0; i < 4; i++) {
        if (p[i] == 0) {
            if (q[i] < 0) return 0;
            continue;
        }
        double t = q[i] / p[i];
        if (p[i] < 0) { if (t > t1) return 0; if (t > t0) t0 = t; }
        else { if (t < t0) return 0; if (t < t1) t1 = t; }
    }
    double ax = *x0 + t0 * dx, ay = *y0 + t0 * dy, bx = *x0 + t1 * dx, by = *y0 + t1 * dy;
    *x0 = ax, *y0 = ay, *x1 = bx, *y1 = by;
    return 1;
}

static void line_path(struct path_buf *pb, const struct view *v, const struct geom *g,
                      const struct geom_part *p)
{
    int clip = needs_clip(g, p, v);
    double lo = -CLIP_MARGIN, hx = v->width + CLIP_MARGIN, hy = v->height + CLIP_MARGIN;
    double px = 0, py = 0, lx = 0, ly = 0;
    int open = 0;
    for (size_t i = 0; i < p->n; i++) {
        double x, y;
        pt(g, p->start + i, &x, &y);
        if (i > 0 && clip) {
            double ax = px, ay = py, bx = x, by = y;
            if (clip_segment(&ax, &ay, &bx, &by, lo, hx, hy)) {
                if (!open || ax != lx || ay != ly) path_move(pb, ax, ay);
                path_line(pb, bx, by);
                lx = bx, ly = by, open = 1;
            } else {
                open = 0;
            }
        } else if (!clip) {
            if (i == 0) path_move(pb, x, y), lx = x, ly = y;
            else if (fabs(x - lx) + fabs(y - ly) >= 0.6 || i == p->n - 1)
                path_line(pb, x, y), lx = x, ly = y;
        }
        px = x, py = y;
    }
}

/* ---- symbols ----------------------------------------------------------- */

static void symbol_path(cairo_t *cr, enum symbol_shape shape, double px, double py, double r)
{
    switch (shape) {
    case SYM_STAR:
        for (int i = 0; i < 16; i++) {
            double a = -M_PI / 2 + i * M_PI / 8, rr = i % 2 ? r * 0.55 : r * 1.15;
            if (i == 0) cairo_move_to(cr, px + rr * cos(a), py + rr * sin(a));
            else cairo_line_to(cr, px + rr * cos(a), py + rr * sin(a));
        }
        cairo_close_path(cr);
        break;
    case SYM_TRIANGLE:
        cairo_move_to(cr, px, py - r * 1.15);
        cairo_line_to(cr, px + r * 1.05, py + r * 0.75);
        cairo_line_to(cr, px - r * 1.05, py + r * 0.75);
        cairo_close_path(cr);
        break;
    case SYM_SQUARE: cairo_rectangle(cr, px - r * 0.85, py - r * 0.85, r * 1.7, r * 1.7); break;
    case SYM_DIAMOND:
        cairo_move_to(cr, px, py - r * 1.15), cairo_line_to(cr, px + r * 1.15, py);
        cairo_line_to(cr, px, py + r * 1.15), cairo_line_to(cr, px - r * 1.15, py);
        cairo_close_path(cr);
        break;
    case SYM_CROSS: {
        double t = r * 0.38;
        cairo_move_to(cr, px - t, py - r), cairo_line_to(cr, px + t, py - r);
        cairo_line_to(cr, px + t, py - t), cairo_line_to(cr, px + r, py - t);
        cairo_line_to(cr, px + r, py + t), cairo_line_to(cr, px + t, py + t);
        cairo_line_to(cr, px + t, py + r), cairo_line_to(cr, px - t, py + r);
        cairo_line_to(cr, px - t, py + t), cairo_line_to(cr, px - r, py + t);
        cairo_line_to(cr, px - r, py - t), cairo_line_to(cr, px - t, py - t);
        cairo_close_path(cr);
        break;
    }
    case SYM_CIRCLE:
        cairo_new_sub_path(cr);
        cairo_arc(cr, px, py, r, 0, 2 * M_PI);
        break;
    }
}

/* Fills only (a stroke costs Cairo far more than a fill): a white
 * silhouette a little larger, the coloured shape, and for severe incidents
 * a red ring as an even-odd annulus. */
void draw_symbol(cairo_t *cr, enum symbol_shape shape, double px, double py, double r,
                 struct rgba fill, int severe)
{
    cairo_new_path(cr);
    if (severe) {
        cairo_new_sub_path(cr);
        cairo_arc(cr, px, py, r * 1.68, 0, 2 * M_PI);
        cairo_new_sub_path(cr);
        cairo_arc(cr, px, py, r * 1.42, 0, 2 * M_PI);
        cairo_set_fill_rule(cr, CAIRO_FILL_RULE_EVEN_ODD);
        cairo_set_source_rgba(cr, style_disputed.r, style_disputed.g, style_disputed.b,
                              0.9 * fill.a);
        cairo_fill(cr);
        cairo_set_fill_rule(cr, CAIRO_FILL_RULE_WINDING);
    }
    symbol_path(cr, shape, px, py, r * 1.2);
    cairo_set_source_rgba(cr, 1, 1, 1, fill.a);
    cairo_fill(cr);
    symbol_path(cr, shape, px, py, r);
    cairo_set_source_rgba(cr, fill.r, fill.g, fill.b, fill.a);
    cairo_fill(cr);
}

/* The frame's outline for fs at (px, py), half height r: closed (the
 * fill) or, for the air frames open at the bottom, only the drawn part. */
static void frame_path(cairo_t *cr, const struct frame_sym *fs, double px, double py, double r,
                       int open)
{
    double h = r;
    switch ((enum frame_id)fs->frame) {
    case FRAME_FRIEND:
        if (fs->dim == DIM_SEA) {
            cairo_new_sub_path(cr);
            cairo_arc(cr, px, py, h * 1.1, 0, 2 * M_PI);
        } else if (fs->dim == DIM_AIR) { /* a dome, open below */
            cairo_move_to(cr, px - h * 1.25, py + h), cairo_line_to(cr, px - h * 1.25, py);
            cairo_curve_to(cr, px - h * 1.25, py - h * 1.33, px + h * 1.25, py - h * 1.33,
                           px + h * 1.25, py);
            cairo_line_to(cr, px + h * 1.25, py + h);
            if (!open) cairo_close_path(cr);
        } else {
            cairo_rectangle(cr, px - h * 1.45, py - h * 0.95, h * 2.9, h * 1.9);
        }
        break;
    case FRAME_NEUTRAL:
        if (fs->dim == DIM_AIR) {
            cairo_move_to(cr, px - h * 1.0, py + h * 0.8);
            cairo_line_to(cr, px - h * 1.0, py - h * 1.0), cairo_line_to(cr, px + h * 1.0, py - h * 1.0);
            cairo_line_to(cr, px + h * 1.0, py + h * 0.8);
            if (!open) cairo_close_path(cr);
        } else {
            cairo_rectangle(cr, px - h * 1.0, py - h * 1.0, h * 2.0, h * 2.0);
        }
        break;
    case FRAME_HOSTILE:
        if (fs->dim == DIM_AIR) {
            cairo_move_to(cr, px - h * 1.0, py + h * 0.8), cairo_line_to(cr, px - h * 1.0, py - h * 0.2);
            cairo_line_to(cr, px, py - h * 1.2), cairo_line_to(cr, px + h * 1.0, py - h * 0.2);
            cairo_line_to(cr, px + h * 1.0, py + h * 0.8);
            if (!open) cairo_close_path(cr);
        } else {
            cairo_move_to(cr, px, py - h * 1.35), cairo_line_to(cr, px + h * 1.35, py);
            cairo_line_to(cr, px, py + h * 1.35), cairo_line_to(cr, px - h * 1.35, py);
            cairo_close_path(cr);
        }
        break;
    case FRAME_UNKNOWN: { /* a quatrefoil: four lobes (air: the upper three) */
        double q = h * 0.62;
        int lobes = fs->dim == DIM_AIR ? 3 : 4;
        static const double at[4][3] = {{-1, 0, M_PI / 2}, {0, -1, M_PI}, {1, 0, 1.5 * M_PI},
                                        {0, 1, 0}};
        cairo_new_sub_path(cr);
        if (lobes == 3) cairo_move_to(cr, px - q * 2, py + q);
        for (int i = 0; i < lobes; i++)
            cairo_arc(cr, px + at[i][0] * q, py + at[i][1] * q, q, at[i][2], at[i][2] + M_PI);
        if (lobes == 3) cairo_line_to(cr, px + q * 2, py + q);
        if (!open || lobes == 4) cairo_close_path(cr);
        break;
    }
    case FRAME_NONE: break;
    }
}

/* milsymbol's marks of an activity (symbol set 40): small black squares
 * in the corners of a rectangle or square, small diamonds at a diamond's
 * tips, squares at the quatrefoil's lobes; filled in the current colour. */
static void activity_marks(cairo_t *cr, const struct frame_sym *fs, double px, double py, double h)
{
    double s = 0.28 * h;
    switch ((enum frame_id)fs->frame) {
    case FRAME_FRIEND:
    case FRAME_NEUTRAL: {
        double hw = fs->frame == FRAME_FRIEND ? 1.45 * h : h, hh = fs->frame == FRAME_FRIEND ? 0.95 * h : h;
        for (int i = 0; i < 4; i++) {
            double x = i & 1 ? px + hw - s : px - hw, y = i & 2 ? py + hh - s : py - hh;
            cairo_rectangle(cr, x, y, s, s);
        }
        break;
    }
    case FRAME_HOSTILE: {
        static const double tip[4][2] = {{0, -1}, {1, 0}, {0, 1}, {-1, 0}};
        for (int i = 0; i < 4; i++) {
            double tx = px + tip[i][0] * 1.35 * h, ty = py + tip[i][1] * 1.35 * h;
            double cx = tx - tip[i][0] * s, cy = ty - tip[i][1] * s;
            cairo_move_to(cr, cx, cy - s), cairo_line_to(cr, cx + s, cy);
            cairo_line_to(cr, cx, cy + s), cairo_line_to(cr, cx - s, cy);
            cairo_close_path(cr);
        }
        break;
    }
    case FRAME_UNKNOWN: {
        double e = 1.24 * h;
        static const double tip[4][2] = {{0, -1}, {1, 0}, {0, 1}, {-1, 0}};
        for (int i = 0; i < 4; i++) {
            double cx = px + tip[i][0] * (e - s * 0.55), cy = py + tip[i][1] * (e - s * 0.55);
            cairo_rectangle(cr, cx - s / 2, cy - s / 2, s, s);
        }
        break;
    }
    case FRAME_NONE: break;
    }
    cairo_fill(cr);
}

void draw_framed(cairo_t *cr, const struct frame_sym *fs, double px, double py, double r,
                 struct rgba fill, int severe)
{
    cairo_save(cr);
    cairo_new_path(cr);
    if (severe) { /* the severe incident's red ring, as draw_symbol */
        cairo_new_sub_path(cr);
        cairo_arc(cr, px, py, r * 1.9, 0, 2 * M_PI);
        cairo_new_sub_path(cr);
        cairo_arc(cr, px, py, r * 1.62, 0, 2 * M_PI);
        cairo_set_fill_rule(cr, CAIRO_FILL_RULE_EVEN_ODD);
        cairo_set_source_rgba(cr, style_disputed.r, style_disputed.g, style_disputed.b,
                              0.9 * fill.a);
        cairo_fill(cr);
        cairo_set_fill_rule(cr, CAIRO_FILL_RULE_WINDING);
    }
    /* the fill (milsymbol's fillOpacity 0.85 over white), the frame in
     * near black (its frameColor), dashed when planned */
    frame_path(cr, fs, px, py, r, 0);
    cairo_set_source_rgba(cr, 1, 1, 1, fill.a);
    cairo_fill_preserve(cr);
    cairo_set_source_rgba(cr, fill.r, fill.g, fill.b, 0.85 * fill.a);
    cairo_fill(cr);
    frame_path(cr, fs, px, py, r, 1);
    cairo_set_source_rgba(cr, 0.106, 0.106, 0.106, fill.a);
    double lw = fmax(1.0, r * 0.16);
    cairo_set_line_width(cr, lw);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_MITER);
    if (fs->planned) {
        double dash[] = {lw * 2.2, lw * 1.4};
        cairo_set_dash(cr, dash, 2, 0);
    }
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);
    if (fs->activity) /* an activity: a black mark in each corner, as milsymbol */
        activity_marks(cr, fs, px, py, r);
    if (fs->glyph && *fs->glyph) {
        size_t n = strlen(fs->glyph);
        cairo_select_font_face(cr, STYLE_LABEL_FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
        cairo_set_font_size(cr, r * (n >= 3 ? 0.78 : 1.0));
        cairo_text_extents_t te;
        cairo_text_extents(cr, fs->glyph, &te);
        cairo_move_to(cr, px - te.x_bearing - te.width / 2, py - te.y_bearing - te.height / 2);
        cairo_set_source_rgba(cr, 0.106, 0.106, 0.106, fill.a);
        cairo_show_text(cr, fs->glyph);
    }
    cairo_restore(cr);
}

/* ---- items ------------------------------------------------------------- */

/* One point symbol as drawn: an incident, or a conflict at a point. */
struct marker {
    double px, py, r;
    enum symbol_shape shape;
    struct rgba fill;
    int severe, disputed;
    char *label;     /* malloc'd, or NULL */
    double label_dy; /* from the point to the label's centre */
    int label_bold, label_priority;
    struct frame_sym fs; /* frame FRAME_NONE: the plain shape */
    int overdue;         /* an amber dashed ring around it */
    int late;            /* late notice: a purple clock badge at its upper right */
};

/* Points counted per cell of the world-anchored grid (low zooms). */
struct cell {
    int count;
    struct marker first; /* drawn alone when count is 1 */
    int severe, disputed, mixed, overdue, late;
};
struct grid {
    int on;
    double size;      /* cell, pixels */
    double ox, oy;    /* image pixel (0, 0) in world pixels */
    long fx, fy;      /* the world cell of image pixel (0, 0), less one */
    int nx, ny;
    struct cell *cells;
};

/* Symbols drawn once per thread and then copied: a dense tile has hundreds
 * of points in a few dozen looks, and the next tile mostly the same looks
 * (making a sprite cost more than copying it fifty times). Cluster discs
 * are sprites too, with their count. Placed on whole pixels. Each thread
 * keeps its own (no lock), a hash table emptied when three quarters full. */
#define SPRITE_SLOTS 1024 /* a power of two */
struct sprite {
    cairo_surface_t *s; /* NULL: a free slot */
    pixman_image_t *px; /* the same pixels, for pixman */
    enum symbol_shape shape;
    struct frame_sym fs;
    struct rgba fill;
    double r;
    int severe, count, half;
};
struct sprite_cache {
    struct sprite e[SPRITE_SLOTS];
    int n;
};

static pthread_key_t sprite_key;
static pthread_once_t sprite_once = PTHREAD_ONCE_INIT;

static void sprites_clear(struct sprite_cache *c)
{
    for (int i = 0; i < SPRITE_SLOTS; i++)
        if (c->e[i].s) {
            pixman_image_unref(c->e[i].px);
            cairo_surface_destroy(c->e[i].s);
            c->e[i].s = NULL;
        }
    c->n = 0;
}

static void sprites_free(void *p)
{
    sprites_clear(p);
    free(p);
}

static void sprite_key_make(void)
{
    if (pthread_key_create(&sprite_key, sprites_free) != 0) abort();
}

static struct sprite_cache *thread_sprites(void)
{
    pthread_once(&sprite_once, sprite_key_make);
    struct sprite_cache *c = pthread_getspecific(sprite_key);
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c || pthread_setspecific(sprite_key, c) != 0) abort();
    }
    return c;
}

struct draw_ctx {
    cairo_t *cr;
    const struct view *v;
    const struct tile_source *src;
    struct geom g;  /* the item being drawn, in image pixels */
    double mean_lat; /* of its points, in degrees */
    struct legend_seen *seen;
    struct labels *labels;
    struct batches batches; /* the layer's shapes, by look */
    struct path_buf shape;  /* the shape being built */
    struct sprite_cache *sprites; /* the thread's */
    /* the image's pixels for pixman, clipped to the view (NULL: copy
     * sprites through Cairo) */
    cairo_surface_t *target;
    pixman_image_t *dst;
    struct grid grid;
    /* the movements' symbols, drawn over their layer's lines */
    struct marker *late;
    size_t nlate, caplate;
};

static uint64_t sprite_hash(enum symbol_shape shape, const struct frame_sym *fs, const double v[5],
                            int severe, int count)
{
    uint64_t h = 1469598103934665603u ^ (uint64_t)shape ^ (uint64_t)severe << 8 ^
                 (uint64_t)count << 16 ^ (uint64_t)fs->frame << 32 ^ (uint64_t)fs->dim << 36 ^
                 (uint64_t)fs->planned << 40 ^ (uint64_t)fs->activity << 41 ^
                 (uint64_t)(uintptr_t)fs->glyph << 44;
    for (int i = 0; i < 5; i++) {
        uint64_t u;
        memcpy(&u, &v[i], sizeof u);
        h = (h ^ u) * 1099511628211u;
        h ^= h >> 29;
    }
    return h;
}

/* The symbol (count > 0: a cluster disc with that count in it) centred
 * near (px, py). */
static void sprite_symbol(struct draw_ctx *d, enum symbol_shape shape, const struct frame_sym *fs,
                          double px, double py, double r, struct rgba fill, int severe, int count)
{
    static const struct frame_sym plain = {FRAME_NONE, 0, 0, NULL, 0};
    if (!fs) fs = &plain;
    struct sprite_cache *c = d->sprites;
    const double key[5] = {r, fill.r, fill.g, fill.b, fill.a};
    size_t i = sprite_hash(shape, fs, key, severe, count) & (SPRITE_SLOTS - 1);
    struct sprite *e;
    for (;; i = (i + 1) & (SPRITE_SLOTS - 1)) {
        e = &c->e[i];
        if (!e->s || (e->shape == shape && e->r == r && e->severe == severe && e->count == count &&
                      e->fs.frame == fs->frame && e->fs.dim == fs->dim &&
                      e->fs.planned == fs->planned && e->fs.glyph == fs->glyph &&
                      e->fs.activity == fs->activity &&
                      !memcmp(&e->fill, &fill, sizeof fill)))
            break;
    }
    if (!e->s) {
        if (c->n >= SPRITE_SLOTS * 3 / 4) { /* start afresh, then find the slot again */
            sprites_clear(c);
            sprite_symbol(d, shape, fs, px, py, r, fill, severe, count);
            return;
        }
        int half = (int)ceil(r * (fs->frame ? 2.0 : 1.7)) + 2;
        cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 2 * half, 2 * half);
        cairo_t *sc = cairo_create(s);
        if (fs->frame) draw_framed(sc, fs, half, half, r, fill, severe);
        else draw_symbol(sc, shape, half, half, r, fill, severe);
        if (count > 0) {
            char text[16];
            if (count > 99) memcpy(text, "99+", 4);
            else snprintf(text, sizeof text, "%d", count);
            cairo_select_font_face(sc, STYLE_LABEL_FONT, CAIRO_FONT_SLANT_NORMAL,
                                   CAIRO_FONT_WEIGHT_BOLD);
            cairo_set_font_size(sc, r * (count > 99 ? 0.8 : 1.05));
            cairo_text_extents_t te;
            cairo_text_extents(sc, text, &te);
            cairo_move_to(sc, half - te.x_bearing - te.width / 2, half - te.y_bearing - te.height / 2);
            cairo_set_source_rgb(sc, 1, 1, 1);
            cairo_show_text(sc, text);
        }
        cairo_destroy(sc);
        cairo_surface_flush(s);
        pixman_image_t *pxi = pixman_image_create_bits(
            PIXMAN_a8r8g8b8, 2 * half, 2 * half, (uint32_t *)cairo_image_surface_get_data(s),
            cairo_image_surface_get_stride(s));
        if (!pxi) abort();
        *e = (struct sprite){s, pxi, shape, *fs, fill, r, severe, count, half};
        c->n++;
    }
    double x = floor(px + 0.5) - e->half, y = floor(py + 0.5) - e->half;
    if (d->dst && fabs(x) < 1e6 && fabs(y) < 1e6) {
        /* straight onto the pixels: Cairo would take some ten thousand
         * instructions to set up the same copy; pixman clips it to the view */
        cairo_surface_flush(d->target);
        pixman_image_composite32(PIXMAN_OP_OVER, e->px, NULL, d->dst, 0, 0, 0, 0, (int)x, (int)y,
                                 2 * e->half, 2 * e->half);
        cairo_surface_mark_dirty_rectangle(d->target, (int)x, (int)y, 2 * e->half, 2 * e->half);
        return;
    }
    cairo_set_source_surface(d->cr, e->s, x, y);
    cairo_rectangle(d->cr, x, y, 2 * e->half, 2 * e->half);
    cairo_fill(d->cr);
}

/* The late notice badge: a white clock face ringed in purple, its hands
 * purple, of radius br about (x, y). */
void draw_late_badge(cairo_t *cr, double x, double y, double br)
{
    cairo_save(cr);
    cairo_set_dash(cr, NULL, 0, 0);
    cairo_new_path(cr);
    cairo_arc(cr, x, y, br, 0, 2 * M_PI);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_fill_preserve(cr);
    set_rgba(cr, style_late, 1.0);
    cairo_set_line_width(cr, fmax(1.2, br * 0.3));
    cairo_stroke(cr);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    cairo_set_line_width(cr, fmax(1.0, br * 0.22));
    cairo_move_to(cr, x, y - br * 0.6); /* twelve o'clock */
    cairo_line_to(cr, x, y);
    cairo_line_to(cr, x + br * 0.45, y + br * 0.15); /* a quarter past */
    cairo_stroke(cr);
    cairo_restore(cr);
}

static double late_badge_r(double r, const struct view *v)
{
    return fmax(5.5 * v->scale, r * 0.55);
}

static void draw_marker(struct draw_ctx *d, const struct marker *m)
{
    cairo_t *cr = d->cr;
    const struct view *v = d->v;
    sprite_symbol(d, m->shape, &m->fs, m->px, m->py, m->r, m->fill, m->severe, 0);
    labels_queue(d->labels, NULL, m->px, m->py, m->r * (m->severe ? 1.9 : m->fs.frame ? 1.5 : 1.2), 0, 1000);
    if (m->overdue) { /* amber, dashed, around the symbol (and its red ring) */
        cairo_new_path(cr);
        cairo_arc(cr, m->px, m->py, m->r * (m->severe ? 2.3 : 2.0), 0, 2 * M_PI);
        set_rgba(cr, style_overdue, 1.0);
        look_set_line(cr, LINE_DASHED, v->scale);
        cairo_set_line_width(cr, 2.5 * v->scale);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
    }
    if (m->late) {
        double br = late_badge_r(m->r, v);
        draw_late_badge(cr, m->px + m->r * 1.25 + br * 0.3, m->py - m->r * 1.05 - br * 0.3, br);
    }
    if (m->disputed) {
        cairo_rectangle(cr, m->px - m->r * 1.9, m->py - m->r * 1.9, m->r * 3.8, m->r * 3.8);
        set_rgba(cr, style_disputed, 1.0);
        look_set_line(cr, LINE_DASHED, v->scale);
        cairo_set_line_width(cr, 2 * v->scale);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
    }
    if (m->label)
        labels_queue(d->labels, m->label, m->px, m->py + m->label_dy, STYLE_LABEL_SIZE_PT,
                     m->label_bold, m->label_priority);
}

static void grid_init(struct grid *gr, const struct view *v)
{
    memset(gr, 0, sizeof *gr);
    if (v->zoom > STYLE_CLUSTER_MAX_ZOOM + 1e-9) return;
    gr->on = 1;
    gr->size = STYLE_CLUSTER_CELL_PX * v->scale;
    gr->ox = (v->minx + TILE_MERC_MAX) * v->ppm;
    gr->oy = (TILE_MERC_MAX - v->maxy) * v->ppm;
    /* one cell of margin on each side: a tile's query reaches exactly that
     * far (TILE_BUFFER_PX), so the cells at its edges are counted whole */
    gr->fx = (long)floor(gr->ox / gr->size) - 1;
    gr->fy = (long)floor(gr->oy / gr->size) - 1;
    gr->nx = (int)((long)floor((gr->ox + v->width) / gr->size) - gr->fx + 2);
    gr->ny = (int)((long)floor((gr->oy + v->height) / gr->size) - gr->fy + 2);
    gr->cells = calloc((size_t)gr->nx * (size_t)gr->ny, sizeof *gr->cells);
    if (!gr->cells) abort();
}

/* Takes m (and its label); a point outside the grid is dropped. */
static void grid_add(struct grid *gr, struct marker *m)
{
    long ix = (long)floor((gr->ox + m->px) / gr->size) - gr->fx,
         iy = (long)floor((gr->oy + m->py) / gr->size) - gr->fy;
    if (ix < 0 || iy < 0 || ix >= gr->nx || iy >= gr->ny) {
        free(m->label);
        return;
    }
    struct cell *c = &gr->cells[iy * gr->nx + ix];
    if (c->count++ == 0) {
        c->first = *m;
    } else {
        free(m->label);
        c->mixed |= memcmp(&c->first.fill, &m->fill, sizeof m->fill) != 0;
    }
    c->severe |= m->severe;
    c->disputed |= m->disputed;
    c->overdue |= m->overdue;
    c->late |= m->late;
}

/* Several points in one cell: a disc with the count (conflicts: a smaller
 * red badge, all of them severe). */
static void draw_cluster(struct draw_ctx *d, const struct cell *c, double cx, double cy,
                         int conflicts)
{
    cairo_t *cr = d->cr;
    const struct view *v = d->v;
    double size = d->grid.size;
    /* to half a pixel: a few sizes of disc, each a sprite */
    double r = round(2 * size * fmin(conflicts ? 0.25 : 0.45, 0.2 + 0.05 * log10(c->count))) / 2;
    struct rgba fill = c->mixed ? style_unknown_party : c->first.fill;
    fill.a = 1;
    int count = c->count > 99 ? 100 : c->count;
    sprite_symbol(d, SYM_CIRCLE, NULL, cx, cy, r, fill, c->severe && !conflicts && r * 1.68 < size / 2,
                  count);
    if (c->disputed) {
        cairo_new_path(cr);
        cairo_arc(cr, cx, cy, r * 1.25, 0, 2 * M_PI);
        set_rgba(cr, style_disputed, 1.0);
        look_set_line(cr, LINE_DASHED, v->scale);
        cairo_set_line_width(cr, 1.5 * v->scale);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
    }
    if (c->overdue) {
        cairo_new_path(cr);
        cairo_arc(cr, cx, cy, r * (c->disputed ? 1.55 : 1.3), 0, 2 * M_PI);
        set_rgba(cr, style_overdue, 1.0);
        look_set_line(cr, LINE_DASHED, v->scale);
        cairo_set_line_width(cr, 2 * v->scale);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
    }
    if (c->late) draw_late_badge(cr, cx + r * 0.95, cy - r * 0.95, late_badge_r(r, v) * 0.8);
    labels_queue(d->labels, NULL, cx, cy, r * 1.3, 0, 1000);
}

static void grid_flush(struct draw_ctx *d, int conflicts)
{
    struct grid *gr = &d->grid;
    if (!gr->on) return;
    for (int iy = 0; iy < gr->ny; iy++)
        for (int ix = 0; ix < gr->nx; ix++) {
            struct cell *c = &gr->cells[iy * gr->nx + ix];
            if (c->count == 1) draw_marker(d, &c->first);
            else if (c->count > 1 && d->seen) d->seen->clusters = 1;
            if (c->count > 1) /* conflicts beside incidents, not over them */
                draw_cluster(d, c, (gr->fx + ix + (conflicts ? 0.72 : 0.42)) * gr->size - gr->ox,
                             (gr->fy + iy + (conflicts ? 0.28 : 0.58)) * gr->size - gr->oy,
                             conflicts);
            free(c->first.label);
            memset(c, 0, sizeof *c);
        }
}

/* Draws m now, or counts it in the grid at low zooms. Takes m->label. */
static void put_marker(struct draw_ctx *d, struct marker *m)
{
    if (d->grid.on) {
        grid_add(&d->grid, m);
        return;
    }
    draw_marker(d, m);
    free(m->label);
}

static void note_seen(struct legend_seen *s, const struct tile_feature *f)
{
    if (!s) return;
    int known = 0;
    for (int i = 0; i < s->nparties; i++) known |= f->party && !strcmp(s->parties[i], f->party);
    if (!known && f->party && s->nparties < LEGEND_MAX_PARTIES)
        snprintf(s->parties[s->nparties++], sizeof s->parties[0], "%s", f->party);
    s->statuses |= 1u << (style_status(f->status) - style_statuses);
    if (f->coll == TILE_ZONE) s->zone_types |= 1u << (style_zone_type(f->type) - style_zone_types);
    if (f->coll == TILE_INCIDENT)
        s->incidents |= 1u << (style_incident(f->category) - style_incidents);
    if (f->coll == TILE_MOVEMENT) s->movements = 1;
    if (f->coll == TILE_CONFLICT) s->conflicts = 1;
    if (f->overdue) s->overdue = 1;
    if (f->late_notice) s->late = 1;
}

/* buf (n > 0 bytes) = prefix then text, cut to fit like snprintf's "%s%s":
 * a label per item, where snprintf cost some 1,000 instructions a call. */
static void join_text(char *buf, size_t n, const char *prefix, const char *text)
{
    size_t used = 0;
    for (const char *part[] = {prefix, text}, **s = part; s < part + 2; s++) {
        size_t len = strlen(*s);
        if (len > n - 1 - used) len = n - 1 - used;
        memcpy(buf + used, *s, len);
        used += len;
    }
    buf[used] = '\0';
}

static void label_text(const struct tile_feature *f, const struct status_style *st, char *buf,
                       size_t n)
{
    const char *t = f->title && *f->title ? f->title : "";
    if (st->draft && strncasecmp(t, "draft", 5) != 0) join_text(buf, n, "DRAFT: ", t);
    else if (st->disputed) join_text(buf, n, "DISPUTED: ", t);
    else if (f->overdue) join_text(buf, n, "OVERDUE: ", t);
    else join_text(buf, n, "", t);
    if (f->late_notice && !st->draft) {
        size_t len = strlen(buf);
        join_text(buf + len, n - len, "", " (LATE NOTICE)");
    }
}

/* The area-weighted centroid of the biggest outer ring, in pixels. */
static int ring_centroid(const struct geom *g, double *cx, double *cy)
{
    double best = 0;
    int found = 0;
    for (size_t k = 0; k < g->nparts; k++) {
        const struct geom_part *p = &g->parts[k];
        if (p->kind != GEOM_RING || (k > 0 && g->parts[k - 1].poly == p->poly)) continue;
        double a = 0, sx = 0, sy = 0, x0, y0;
        pt(g, p->start, &x0, &y0);
        for (size_t i = 1; i + 1 < p->n; i++) {
            double x1, y1, x2, y2;
            pt(g, p->start + i, &x1, &y1);
            pt(g, p->start + i + 1, &x2, &y2);
            double c = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0);
            a += c, sx += c * (x0 + x1 + x2), sy += c * (y0 + y1 + y2);
        }
        if (fabs(a) > best) {
            best = fabs(a);
            *cx = sx / (3 * a), *cy = sy / (3 * a);
            found = 1;
        }
    }
    return found;
}

/* Stages of the zones, movements and conflicts layers: each layer's
 * batches are painted in this order (look.c). */
enum { ZONE_FILL, ZONE_HATCH, ZONE_DISPUTED, ZONE_DOT, ZONE_LATE, ZONE_OUTLINE, ZONE_OVERDUE };
enum { ROUTE_CORRIDOR, ROUTE_LATE, ROUTE_DISPUTED, ROUTE_OVERDUE, ROUTE_HALO, ROUTE_LINE, ROUTE_ARROWS };
enum { CONFLICT_AREA, CONFLICT_OUTLINE, CONFLICT_LINE };

/* c with its alpha times a, as set_rgba paints it. */
static struct rgba faded(struct rgba c, double a)
{
    c.a *= a;
    return c;
}

/* Adds the shape built in d->shape to the batch of look l. */
static void add_shape(struct draw_ctx *d, struct look l)
{
    batches_add(&d->batches, &l, &d->shape);
}

static void draw_zone(struct draw_ctx *d, const struct tile_feature *f)
{
    const struct view *v = d->v;
    const struct status_style *st = style_status(f->status);
    const struct zone_type_style *zt = style_zone_type(f->type);
    struct rgba c = style_party_colour(d->src, f->party);
    d->shape.n = 0;
    rings_path(&d->shape, v, &d->g);
    double ext[4];
    if (!path_extents(&d->shape, ext)) return;
    int tiny = ext[2] - ext[0] < 5 * v->scale && ext[3] - ext[1] < 5 * v->scale;
    /* light wash and the type's pattern over it (one fill), then the
     * outline */
    double wash = 0.12 * st->alpha;
    if (tiny && !st->disputed) {
        /* a few pixels: a solid dot of the party colour reads better, the
         * pattern would be invisible; the wash, the colour and the dot
         * (0.8) in one fill, as each laid over the last */
        double a = zt->fill_alpha * 0.6 * st->alpha, under = wash + a * (1 - wash);
        add_shape(d, look_fill(ZONE_FILL, faded(c, 1 - (1 - under) * (1 - 0.8 * st->alpha)),
                               FILL_SOLID, 0));
    } else if (zt->pattern == FILL_SOLID || tiny) {
        double a = zt->fill_alpha * 0.6 * st->alpha; /* the wash, and the colour over it */
        struct look l = look_fill(ZONE_FILL, faded(c, wash + a * (1 - wash)), FILL_SOLID, 0);
        l.crisp = !tiny;
        add_shape(d, l);
    } else {
        struct look l = look_fill(ZONE_FILL, faded(c, zt->fill_alpha * st->alpha), zt->pattern, wash);
        l.crisp = 1;
        add_shape(d, l);
    }
    if (st->disputed) {
        add_shape(d, look_fill(ZONE_HATCH, faded(style_disputed, 0.5), FILL_HATCH, 0));
        add_shape(d, look_stroke(ZONE_DISPUTED, style_disputed, 4.5 * v->scale, LINE_SOLID,
                                 CAIRO_LINE_CAP_BUTT, CAIRO_LINE_JOIN_MITER));
    }
    if (f->late_notice && !tiny) /* purple beads under the outline: notified late */
        add_shape(d, look_stroke(ZONE_LATE, style_late, 7 * v->scale, LINE_BEADS,
                                 CAIRO_LINE_CAP_ROUND, CAIRO_LINE_JOIN_ROUND));
    if (tiny && st->disputed) { /* the dot, over the hatching */
        add_shape(d, look_fill(ZONE_DOT, faded(c, 0.8 * st->alpha), FILL_SOLID, 0));
    } else if (!tiny) {
        /* at two pixels a bevel looks like a mitre and costs less */
        add_shape(d, look_stroke(ZONE_OUTLINE, faded(c, st->alpha),
                                 (st->draft ? 1.5 : STYLE_ZONE_LINE_PX) * v->scale, st->line,
                                 CAIRO_LINE_CAP_BUTT, CAIRO_LINE_JOIN_BEVEL));
    }
    if (f->overdue) /* amber, dashed, over the outline: its answer is overdue */
        add_shape(d, look_stroke(ZONE_OVERDUE, style_overdue, 3.5 * v->scale, LINE_DASHED,
                                 CAIRO_LINE_CAP_BUTT, CAIRO_LINE_JOIN_MITER));
    double cx, cy;
    char text[300];
    label_text(f, st, text, sizeof text);
    if (v->zoom >= 8 && ext[2] - ext[0] >= 24 * v->scale && ring_centroid(&d->g, &cx, &cy))
        labels_queue(d->labels, text, cx, cy, STYLE_LABEL_SIZE_PT, 0, 20);
}

/* Direction arrows along one line, as closed triangles appended to pb. */
static void arrows(struct path_buf *pb, const struct view *v, const struct geom *g,
                   const struct geom_part *p)
{
    double spacing = STYLE_ARROW_SPACING_PX * v->scale, next = spacing / 2, walked = 0;
    double s = 5.5 * v->scale;
    for (size_t i = 1; i < p->n; i++) {
        double x0, y0, x1, y1;
        pt(g, p->start + i - 1, &x0, &y0);
        pt(g, p->start + i, &x1, &y1);
        double len = hypot(x1 - x0, y1 - y0);
        if (len <= 0) continue;
        double ux = (x1 - x0) / len, uy = (y1 - y0) / len;
        while (next <= walked + len) {
            double t = next - walked, ax = x0 + ux * t, ay = y0 + uy * t;
            next += spacing;
            if (ax < -s || ay < -s || ax > v->width + s || ay > v->height + s) continue;
            path_move(pb, ax + ux * s, ay + uy * s);
            path_line(pb, ax - ux * s - uy * s * 0.8, ay - uy * s + ux * s * 0.8);
            path_line(pb, ax - ux * s * 0.4, ay - uy * s * 0.4);
            path_line(pb, ax - ux * s + uy * s * 0.8, ay - uy * s - ux * s * 0.8);
            path_close(pb);
        }
        walked += len;
        if (walked > 4e6) break; /* far beyond any image */
    }
}

static void draw_movement(struct draw_ctx *d, const struct tile_feature *f)
{
    const struct view *v = d->v;
    const struct status_style *st = style_status(f->status);
    struct rgba c = style_party_colour(d->src, f->party);
    double lat = d->mean_lat;
    double wm = f->corridor_width_m > TILE_MAX_CORRIDOR_M ? TILE_MAX_CORRIDOR_M
                                                           : f->corridor_width_m;
    /* ground metres -> Mercator metres grow as 1/cos(lat); to a quarter
     * pixel, so that corridors of one look share a batch */
    double corridor_px = round(4 * wm / cos(lat * M_PI / 180.0) * v->ppm) / 4;
    d->shape.n = 0;
    for (size_t k = 0; k < d->g.nparts; k++)
        if (d->g.parts[k].kind == GEOM_LINE) line_path(&d->shape, v, &d->g, &d->g.parts[k]);
    if (corridor_px > 3 * v->scale) {
        /* bevelled: a route turns by a few tens of degrees at most, where
         * a bevel is within half a pixel of the round buffer; not
         * antialiased: at 0.22 alpha the steps of its edge barely show */
        struct look l = look_stroke(ROUTE_CORRIDOR, faded(c, 0.22 * st->alpha), corridor_px,
                                    LINE_SOLID, CAIRO_LINE_CAP_ROUND, CAIRO_LINE_JOIN_BEVEL);
        l.crisp = 1;
        add_shape(d, l);
    }
    if (f->late_notice) /* purple beads along the route: notified late */
        add_shape(d, look_stroke(ROUTE_LATE, style_late, (STYLE_ROUTE_LINE_PX + 10) * v->scale,
                                 LINE_BEADS, CAIRO_LINE_CAP_ROUND, CAIRO_LINE_JOIN_ROUND));
    if (st->disputed)
        add_shape(d, look_stroke(ROUTE_DISPUTED, style_disputed, (STYLE_ROUTE_LINE_PX + 4) * v->scale,
                                 LINE_SOLID, CAIRO_LINE_CAP_BUTT, CAIRO_LINE_JOIN_ROUND));
    if (f->overdue) /* amber, dashed, along the route: its answer is overdue */
        add_shape(d, look_stroke(ROUTE_OVERDUE, style_overdue, (STYLE_ROUTE_LINE_PX + 7) * v->scale,
                                 LINE_DASHED, CAIRO_LINE_CAP_BUTT, CAIRO_LINE_JOIN_ROUND));
    add_shape(d, look_stroke(ROUTE_HALO, faded(style_label_halo, 0.8 * st->alpha),
                             (STYLE_ROUTE_LINE_PX + 2) * v->scale, LINE_SOLID, CAIRO_LINE_CAP_BUTT,
                             CAIRO_LINE_JOIN_BEVEL));
    add_shape(d, look_stroke(ROUTE_LINE, faded(c, st->alpha), STYLE_ROUTE_LINE_PX * v->scale,
                             st->line, CAIRO_LINE_CAP_BUTT, CAIRO_LINE_JOIN_BEVEL));
    d->shape.n = 0;
    for (size_t k = 0; k < d->g.nparts; k++)
        if (d->g.parts[k].kind == GEOM_LINE) arrows(&d->shape, v, &d->g, &d->g.parts[k]);
    add_shape(d, look_fill(ROUTE_ARROWS, faded(c, st->alpha), FILL_SOLID, 0));
    /* the unit's 2525D symbol where the route starts, as in the viewer
     * (planned: a dashed frame); not counted in the incidents' cells */
    for (size_t k = 0; k < d->g.nparts; k++) {
        const struct geom_part *p = &d->g.parts[k];
        if (p->kind != GEOM_LINE || p->n < 1) continue;
        struct rgba sc = c;
        sc.a = st->alpha;
        /* the viewer's 26 px, halved */
        double r = 13 * v->scale * fmax(0.75, style_symbol_zoom_factor(v->zoom));
        struct marker m = {0, 0, r, SYM_CIRCLE, sc,
                           0, 0, NULL, 0, 0, 0,
                           style_frame_sym(d->src, TILE_MOVEMENT, f->type, f->party, f->status),
                           f->overdue, f->late_notice};
        pt(&d->g, p->start, &m.px, &m.py);
        if (d->seen) d->seen->frames |= 1u << m.fs.frame;
        if (d->nlate == d->caplate) {
            d->caplate = d->caplate ? 2 * d->caplate : 16;
            d->late = realloc(d->late, d->caplate * sizeof *d->late);
            if (!d->late) abort();
        }
        d->late[d->nlate++] = m;
        break;
    }
    /* label near the middle vertex of the first line */
    for (size_t k = 0; k < d->g.nparts && v->zoom >= 8; k++) {
        const struct geom_part *p = &d->g.parts[k];
        if (p->kind != GEOM_LINE || p->n < 2) continue;
        size_t m = p->start + (p->n - 1) / 2;
        double x0, y0, x1, y1;
        pt(&d->g, m, &x0, &y0);
        pt(&d->g, m + 1, &x1, &y1);
        char text[300];
        label_text(f, st, text, sizeof text);
        labels_queue(d->labels, text, (x0 + x1) / 2, (y0 + y1) / 2 - 12 * v->scale, STYLE_LABEL_SIZE_PT, 0,
                    10);
        break;
    }
}

static void draw_incident(struct draw_ctx *d, const struct tile_feature *f)
{
    const struct view *v = d->v;
    const struct status_style *st = style_status(f->status);
    const struct incident_style *is = style_incident(f->category);
    struct rgba c = style_party_colour(d->src, f->party);
    c.a = st->alpha;
    int sev = f->severity < 0 ? 0 : f->severity > 5 ? 5 : f->severity;
    /* the frame's half height: the viewer's milsymbol size (16 + 3 per
     * level) halved; at low zooms not below three quarters of it */
    double r = (STYLE_INCIDENT_BASE_PX + 1 + 1.5 * sev) * v->scale *
               fmax(0.75, style_symbol_zoom_factor(v->zoom));
    double reach = r * (sev >= 4 ? 1.9 : 1.4);
    for (size_t k = 0; k < d->g.nparts; k++) {
        const struct geom_part *p = &d->g.parts[k];
        if (p->n < 1) continue;
        struct marker m = {0, 0, r, is->shape, c, sev >= 4, st->disputed, NULL,
                           reach + 9 * v->scale, 1, 30 + sev,
                           style_frame_sym(d->src, TILE_INCIDENT, f->category, f->party, f->status),
                           f->overdue, f->late_notice};
        if (d->seen) d->seen->frames |= 1u << m.fs.frame;
        pt(&d->g, p->start, &m.px, &m.py);
        if (k == 0 && v->zoom >= 8) {
            char text[300];
            label_text(f, st, text, sizeof text);
            if (*text) m.label = fm_xstrdup(text);
        }
        put_marker(d, &m);
    }
}

/* A conflict's red marker at (x, y), with label unless that is NULL. */
static void conflict_marker(struct draw_ctx *d, const struct status_style *st, double x, double y,
                            const char *label)
{
    const struct view *v = d->v;
    struct rgba red = style_disputed;
    red.a = st->alpha;
    struct marker m = {x, y, 5 * v->scale * style_symbol_zoom_factor(v->zoom), SYM_CIRCLE, red,
                       1, 0, NULL, 0, 1, 40, {FRAME_NONE, 0, 0, NULL, 0}, 0, 0};
    if (label) m.label = fm_xstrdup(label);
    put_marker(d, &m);
}

/* Whether g has rings and they fit in a box of size px both ways; OUT the
 * box's centre. */
static int rings_within(const struct geom *g, double size, double *cx, double *cy)
{
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (size_t k = 0; k < g->nparts; k++) {
        const struct geom_part *p = &g->parts[k];
        if (p->kind != GEOM_RING) continue;
        for (size_t i = 0; i < p->n; i++) {
            double x, y;
            pt(g, p->start + i, &x, &y);
            x0 = fmin(x0, x), y0 = fmin(y0, y), x1 = fmax(x1, x), y1 = fmax(y1, y);
        }
    }
    if (!(x0 <= x1 && x1 - x0 < size && y1 - y0 < size)) return 0;
    *cx = (x0 + x1) / 2, *cy = (y0 + y1) / 2;
    return 1;
}

/* A conflict: where two items clash, in red over everything else. */
static void draw_conflict(struct draw_ctx *d, const struct tile_feature *f)
{
    const struct view *v = d->v;
    const struct status_style *st = style_status(f->status);
    char text[300];
    join_text(text, sizeof text, "CONFLICT: ", f->title ? f->title : f->type ? f->type : "");
    int labelled = v->zoom < 8;
    double lx = NAN, ly = NAN, sx, sy;
    /* a speck of an area: a point conflict (counted with them where they are) */
    int speck = rings_within(&d->g, STYLE_CONFLICT_SPECK_PX * v->scale, &sx, &sy);
    if (speck) conflict_marker(d, st, sx, sy, labelled ? NULL : text), labelled = 1;
    d->shape.n = 0;
    if (!speck) rings_path(&d->shape, v, &d->g);
    if (!speck && ring_centroid(&d->g, &lx, &ly)) {
        add_shape(d, look_fill(CONFLICT_AREA, faded(style_disputed, 0.35 * st->alpha), FILL_SOLID, 0));
        add_shape(d, look_stroke(CONFLICT_OUTLINE, faded(style_disputed, st->alpha), 2.5 * v->scale,
                                 LINE_SOLID, CAIRO_LINE_CAP_BUTT, CAIRO_LINE_JOIN_MITER));
    }
    d->shape.n = 0;
    for (size_t k = 0; k < d->g.nparts; k++)
        if (d->g.parts[k].kind == GEOM_LINE) line_path(&d->shape, v, &d->g, &d->g.parts[k]);
    add_shape(d, look_stroke(CONFLICT_LINE, faded(style_disputed, st->alpha), 4 * v->scale,
                             LINE_SOLID, CAIRO_LINE_CAP_ROUND, CAIRO_LINE_JOIN_MITER));
    for (size_t k = 0; k < d->g.nparts; k++) {
        const struct geom_part *p = &d->g.parts[k];
        if (p->n == 0 || p->kind != GEOM_POINT) continue;
        double px, py;
        pt(&d->g, p->start, &px, &py);
        int mine = !labelled && isnan(lx); /* an area's label goes to its centroid */
        conflict_marker(d, st, px, py, mine ? text : NULL);
        labelled |= mine;
    }
    if (!labelled && !isnan(lx)) labels_queue(d->labels, text, lx, ly, STYLE_LABEL_SIZE_PT, 1, 40);
    else if (!labelled) { /* lines only: by the first vertex */
        for (size_t k = 0; k < d->g.nparts && !labelled; k++) {
            const struct geom_part *p = &d->g.parts[k];
            if (p->n == 0) continue;
            pt(&d->g, p->start, &lx, &ly);
            labels_queue(d->labels, text, lx, ly, STYLE_LABEL_SIZE_PT, 1, 40);
            labelled = 1;
        }
    }
}

static int draw_one(void *ctx, const struct tile_feature *f)
{
    struct draw_ctx *d = ctx;
    geom_reset(&d->g);
    if (geom_from_wkb(&d->g, f->wkb, f->wkb_len) != FM_OK) {
        fm_log(FM_LOG_WARN, "tiles: item %lld has a malformed geometry; skipped", (long long)f->id);
        return 0;
    }
    /* every point projected once, here; the drawing reads pixels */
    double lat = 0;
    for (size_t i = 0; i < d->g.npts; i++) {
        lat += d->g.xy[2 * i + 1];
        view_px(d->v, d->g.xy[2 * i], d->g.xy[2 * i + 1], &d->g.xy[2 * i], &d->g.xy[2 * i + 1]);
    }
    d->mean_lat = d->g.npts ? lat / (double)d->g.npts : 0;
    note_seen(d->seen, f);
    if (d->seen && d->g.npts) { /* where it lies, for placing the legend */
        struct legend_seen *s = d->seen;
        struct label_box b = {INFINITY, INFINITY, -INFINITY, -INFINITY};
        for (size_t i = 0; i < d->g.npts; i++) {
            double x, y;
            pt(&d->g, i, &x, &y);
            b.x0 = fmin(b.x0, x), b.y0 = fmin(b.y0, y), b.x1 = fmax(b.x1, x), b.y1 = fmax(b.y1, y);
        }
        if (s->nitems == s->capitems) {
            s->capitems = s->capitems ? s->capitems * 2 : 64;
            s->items = realloc(s->items, s->capitems * sizeof *s->items);
            if (!s->items) abort();
        }
        s->items[s->nitems++] = b;
    }
    switch (f->coll) {
    case TILE_ZONE: draw_zone(d, f); break;
    case TILE_MOVEMENT: draw_movement(d, f); break;
    case TILE_INCIDENT: draw_incident(d, f); break;
    case TILE_CONFLICT: draw_conflict(d, f); break;
    case TILE_COLL_COUNT: break;
    }
    return 0;
}

fm_rc draw_items(cairo_t *cr, const struct view *v, const struct tile_source *src, unsigned colls,
                 struct labels *labels, struct legend_seen *seen, struct fm_err *err)
{
    /* what may reach into the image: symbols and labels (pixels; the
     * source widens movements by their corridors) */
    double pad = TILE_BUFFER_PX * v->scale / v->ppm;
    double m[4] = {v->merc[0] - pad, v->merc[1] - pad, v->merc[2] + pad, v->merc[3] + pad};
    double bbox[4];
    tile_merc_to_lonlat(m[0], m[1], &bbox[0], &bbox[1]);
    tile_merc_to_lonlat(m[2], m[3], &bbox[2], &bbox[3]);
    struct draw_ctx d;
    memset(&d, 0, sizeof d);
    d.cr = cr, d.v = v, d.src = src, d.seen = seen, d.labels = labels;
    d.sprites = thread_sprites();
    /* sprites go straight onto an image surface drawn in pixels (tiles and
     * maps, clipped at most to the view) */
    cairo_matrix_t m0;
    cairo_get_matrix(cr, &m0);
    d.target = cairo_get_target(cr);
    if (cairo_surface_get_type(d.target) == CAIRO_SURFACE_TYPE_IMAGE &&
        cairo_image_surface_get_format(d.target) == CAIRO_FORMAT_ARGB32 && m0.xx == 1 &&
        m0.yy == 1 && m0.xy == 0 && m0.yx == 0 && m0.x0 == 0 && m0.y0 == 0 &&
        v->width <= cairo_image_surface_get_width(d.target) &&
        v->height <= cairo_image_surface_get_height(d.target)) {
        cairo_surface_flush(d.target);
        d.dst = pixman_image_create_bits(PIXMAN_a8r8g8b8, (int)v->width, (int)v->height,
                                         (uint32_t *)cairo_image_surface_get_data(d.target),
                                         cairo_image_surface_get_stride(d.target));
    }
    geom_init(&d.g);
    grid_init(&d.grid, v);
    fm_rc rc = FM_OK;
    cairo_save(cr); /* items set line and fill state freely */
    static const enum tile_coll order[] = {TILE_ZONE, TILE_MOVEMENT, TILE_INCIDENT, TILE_CONFLICT};
    for (size_t i = 0; i < sizeof order / sizeof *order && !rc; i++) {
        if (!(colls & (1u << order[i]))) continue;
        rc = src->each(src->ctx, order[i], bbox, draw_one, &d, err);
        batches_paint(&d.batches, cr, v); /* the layer's lines and areas */
        for (size_t k = 0; k < d.nlate; k++) draw_marker(&d, &d.late[k]);
        d.nlate = 0;
        grid_flush(&d, order[i] == TILE_CONFLICT); /* its points, per cell */
    }
    cairo_restore(cr);
    geom_cleanup(&d.g);
    free(d.grid.cells);
    free(d.late);
    batches_cleanup(&d.batches);
    path_free(&d.shape);
    if (d.dst) pixman_image_unref(d.dst);
    return rc;
}

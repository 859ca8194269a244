/* render.c - one tile, or one briefing image with its furniture (title,
 * UTC time, scale bar, north arrow, legend, coordinate grid). */
#include "internal.h"

#include <cairo-pdf.h>
#include <math.h>
#include <stdlib.h>
#include <pango/pangocairo.h>
#include <stdio.h>
#include <string.h>

static unsigned colls_of(enum tile_layer layer)
{
    switch (layer) {
    case TILE_LAYER_ZONES: return 1u << TILE_ZONE;
    case TILE_LAYER_INCIDENTS: return 1u << TILE_INCIDENT;
    case TILE_LAYER_MOVEMENTS: return 1u << TILE_MOVEMENT;
    case TILE_LAYER_CONFLICTS: return 1u << TILE_CONFLICT;
    case TILE_LAYER_ALL:
        return (1u << TILE_ZONE) | (1u << TILE_INCIDENT) | (1u << TILE_MOVEMENT) |
               (1u << TILE_CONFLICT);
    case TILE_LAYER_BASEMAP:
    case TILE_LAYER_COUNT: break;
    }
    return 0;
}

static fm_rc cairo_rc(cairo_t *cr, struct fm_err *err)
{
    cairo_status_t st = cairo_status(cr);
    if (st == CAIRO_STATUS_SUCCESS) return FM_OK;
    return fm_fail(err, FM_EINTERNAL, NULL, "drawing failed: %s", cairo_status_to_string(st));
}

fm_rc tile_render(const struct tile_source *src, const struct tile_basemap *basemap,
                  enum tile_layer layer, int z, long x, long y, int scale, unsigned char **png,
                  size_t *len, struct fm_err *err)
{
    *png = NULL;
    *len = 0;
    if (!tile_valid(z, x, y)) return fm_fail(err, FM_ENOTFOUND, NULL, "no tile %d/%ld/%ld", z, x, y);
    if (scale != 1 && scale != 2) return fm_fail(err, FM_EINVAL, "scale", "scale is 1 or 2");
    if ((unsigned)layer >= TILE_LAYER_COUNT) return fm_fail(err, FM_EINVAL, "layer", "no such layer");
    int size = TILE_SIZE * scale;
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, size, size);
    cairo_t *cr = cairo_create(s);
    cairo_set_antialias(cr, CAIRO_ANTIALIAS_FAST);
    cairo_set_tolerance(cr, 0.3);
    struct view v;
    double m[4];
    tile_bounds_merc(z, x, y, m);
    view_init(&v, m, size, size, scale);
    struct labels labels;
    labels_init(&labels);
    fm_rc rc = FM_OK;
    if (layer == TILE_LAYER_BASEMAP || layer == TILE_LAYER_ALL)
        draw_basemap(cr, &v, basemap, &labels, z >= 4 && z <= 11);
    unsigned colls = colls_of(layer);
    if (colls && src) rc = draw_items(cr, &v, src, colls, &labels, NULL, err);
    if (!rc) labels_flush(cr, &v, &labels);
    if (!rc) rc = cairo_rc(cr, err);
    if (!rc) rc = surface_png(s, 1, png, len, err);
    labels_cleanup(&labels);
    cairo_destroy(cr);
    cairo_surface_destroy(s);
    return rc;
}

/* ---- briefing image ---------------------------------------------------- */

void text_at(cairo_t *cr, const char *text, double x, double y, double px, int bold,
             int align_right, double *w_out, double *h_out)
{
    PangoLayout *l = pango_cairo_create_layout(cr);
    PangoFontDescription *fd = pango_font_description_new();
    pango_font_description_set_family(fd, STYLE_LABEL_FONT);
    pango_font_description_set_weight(fd, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_font_description_set_absolute_size(fd, px * PANGO_SCALE);
    pango_layout_set_font_description(l, fd);
    pango_font_description_free(fd);
    pango_layout_set_auto_dir(l, TRUE);
    pango_layout_set_text(l, text, -1);
    int w, h;
    pango_layout_get_pixel_size(l, &w, &h);
    if (w_out) *w_out = w;
    if (h_out) *h_out = h;
    if (x >= -1e8) {
        cairo_move_to(cr, align_right ? x - w : x, y);
        pango_cairo_show_layout(cr, l);
    }
    g_object_unref(l);
}

static double nice_step(double span, int want)
{
    static const double steps[] = {0.001, 0.002, 0.005, 0.01, 0.02, 0.025, 0.05, 0.1, 0.2,
                                   0.25,  0.5,   1,     2,    5,    10,    15,    30,  45};
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++)
        if (span / steps[i] <= want) return steps[i];
    return 90;
}

static void format_deg(char *buf, size_t n, double v, int lon, double step)
{
    int dec = step >= 1 ? 0 : step >= 0.1 ? 1 : step >= 0.01 ? 2 : 3;
    if (step == 0.25 || step == 0.025) dec++;
    snprintf(buf, n, "%.*f°%c", dec, fabs(v), lon ? (v < 0 ? 'W' : 'E') : (v < 0 ? 'S' : 'N'));
}

static void draw_grid(cairo_t *cr, const struct view *v, const double ll[4], double fs)
{
    double step = nice_step(fmax(ll[2] - ll[0], ll[3] - ll[1]), 7);
    cairo_save(cr);
    cairo_set_source_rgba(cr, style_grid.r, style_grid.g, style_grid.b, style_grid.a);
    cairo_set_line_width(cr, 0.8);
    double d[] = {4, 3};
    cairo_set_dash(cr, d, 2, 0);
    char buf[32];
    for (double lon = ceil(ll[0] / step) * step; lon <= ll[2]; lon += step) {
        double x, y;
        view_px(v, lon, ll[1], &x, &y);
        cairo_move_to(cr, x, 0), cairo_line_to(cr, x, v->height);
        cairo_stroke(cr);
        format_deg(buf, sizeof buf, lon, 1, step);
        cairo_set_source_rgba(cr, 0.15, 0.15, 0.25, 0.9);
        text_at(cr, buf, x + 3, v->height - fs * 1.5 - 2, fs, 0, 0, NULL, NULL);
        cairo_set_source_rgba(cr, style_grid.r, style_grid.g, style_grid.b, style_grid.a);
    }
    for (double lat = ceil(ll[1] / step) * step; lat <= ll[3]; lat += step) {
        double x, y;
        view_px(v, ll[0], lat, &x, &y);
        cairo_move_to(cr, 0, y), cairo_line_to(cr, v->width, y);
        cairo_stroke(cr);
        format_deg(buf, sizeof buf, lat, 0, step);
        cairo_set_source_rgba(cr, 0.15, 0.15, 0.25, 0.9);
        text_at(cr, buf, 4, y - fs * 1.4, fs, 0, 0, NULL, NULL);
        cairo_set_source_rgba(cr, style_grid.r, style_grid.g, style_grid.b, style_grid.a);
    }
    cairo_restore(cr);
}

static void panel(cairo_t *cr, double x, double y, double w, double h)
{
    cairo_rectangle(cr, x, y, w, h);
    cairo_set_source_rgba(cr, 1, 1, 1, 0.88);
    cairo_fill_preserve(cr);
    cairo_set_source_rgba(cr, 0.3, 0.3, 0.35, 0.8);
    cairo_set_line_width(cr, 1);
    cairo_stroke(cr);
}

static void draw_scale_bar(cairo_t *cr, const struct view *v, double lat, double fs)
{
    /* ground metres per pixel at the map's middle latitude */
    double mpp = cos(lat * M_PI / 180.0) / v->ppm;
    double target = v->width * 0.2 * mpp, len_m = 1;
    while (len_m * 10 <= target) len_m *= 10;
    if (len_m * 5 <= target) len_m *= 5;
    else if (len_m * 2 <= target) len_m *= 2;
    double px = len_m / mpp, x = 16, y = v->height - 30 - fs * 1.6;
    panel(cr, x - 8, y - fs * 1.6 - 6, px + 16 + fs * 3, fs * 1.6 + 24);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    for (int i = 0; i < 4; i++) {
        cairo_rectangle(cr, x + px * i / 4, y, px / 4, 6);
        if (i % 2 == 0) cairo_fill(cr);
        else {
            cairo_set_line_width(cr, 1);
            cairo_stroke(cr);
        }
    }
    char buf[32];
    if (len_m >= 1000) snprintf(buf, sizeof buf, "%g km", len_m / 1000);
    else snprintf(buf, sizeof buf, "%g m", len_m);
    text_at(cr, "0", x - 3, y - fs * 1.4, fs, 0, 0, NULL, NULL);
    text_at(cr, buf, x + px + fs * 2.5, y - fs * 1.4, fs, 1, 1, NULL, NULL);
}

static void draw_north(cairo_t *cr, double x, double y, double s)
{
    panel(cr, x - s * 0.9, y - s * 1.1, s * 1.8, s * 2.9);
    cairo_move_to(cr, x, y - s * 0.8);
    cairo_line_to(cr, x + s * 0.45, y + s * 0.8);
    cairo_line_to(cr, x, y + s * 0.45);
    cairo_close_path(cr);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    cairo_fill(cr);
    cairo_move_to(cr, x, y - s * 0.8);
    cairo_line_to(cr, x - s * 0.45, y + s * 0.8);
    cairo_line_to(cr, x, y + s * 0.45);
    cairo_close_path(cr);
    cairo_set_line_width(cr, 1.2);
    cairo_stroke(cr);
    double w;
    text_at(cr, "N", -1e9, 0, s * 0.7, 1, 0, &w, NULL);
    text_at(cr, "N", x - w / 2, y + s * 0.85, s * 0.7, 1, 0, NULL, NULL);
}

struct legend_row {
    int kind; /* 0 party, 1 zone type, 2 status, 3 incident, 4 movement, 5 conflict, 6 cluster,
                 7 frame, 8 overdue, 9 late notice */
    char text[96];
    struct rgba colour;
    int index;
};

static void legend_swatch(cairo_t *cr, const struct view *v, const struct legend_row *r, double x,
                          double y, double s)
{
    struct rgba grey = {0.35, 0.35, 0.4, 1};
    cairo_save(cr);
    switch (r->kind) {
    case 0:
        cairo_rectangle(cr, x, y, s * 1.6, s);
        cairo_set_source_rgba(cr, r->colour.r, r->colour.g, r->colour.b, 0.9);
        cairo_fill(cr);
        break;
    case 1: {
        const struct zone_type_style *zt = &style_zone_types[r->index];
        cairo_rectangle(cr, x, y, s * 1.6, s);
        struct rgba c = grey;
        c.a = zt->fill_alpha;
        if (zt->pattern == FILL_SOLID) {
            cairo_set_source_rgba(cr, c.r, c.g, c.b, c.a * 0.7);
            cairo_fill_preserve(cr);
        } else {
            draw_pattern_fill(cr, zt->pattern, c, v);
        }
        cairo_set_source_rgba(cr, grey.r, grey.g, grey.b, 1);
        cairo_set_line_width(cr, 1);
        cairo_stroke(cr);
        break;
    }
    case 2: {
        const struct status_style *st = &style_statuses[r->index];
        if (st->disputed) {
            cairo_move_to(cr, x, y + s / 2), cairo_line_to(cr, x + s * 1.6, y + s / 2);
            cairo_set_source_rgba(cr, style_disputed.r, style_disputed.g, style_disputed.b, 1);
            cairo_set_line_width(cr, 5);
            cairo_stroke(cr);
        }
        cairo_move_to(cr, x, y + s / 2), cairo_line_to(cr, x + s * 1.6, y + s / 2);
        double dash[] = {st->line == LINE_DOTTED ? 0.1 : 6, st->line == LINE_DOTTED ? 4 : 4};
        if (st->line != LINE_SOLID) cairo_set_dash(cr, dash, 2, 0);
        cairo_set_line_cap(cr, st->line == LINE_DOTTED ? CAIRO_LINE_CAP_ROUND : CAIRO_LINE_CAP_BUTT);
        cairo_set_source_rgba(cr, grey.r, grey.g, grey.b, st->alpha);
        cairo_set_line_width(cr, 2);
        cairo_stroke(cr);
        break;
    }
    case 3: { /* the category's 2525D symbol, as a neutral frame */
        struct frame_sym fs =
            style_frame_sym(NULL, TILE_INCIDENT, style_incidents[r->index].category, NULL, NULL);
        draw_framed(cr, &fs, x + s * 0.8, y + s / 2, s * 0.5, (struct rgba){0.8, 0.8, 0.82, 1}, 0);
        break;
    }
    case 7: { /* a frame: friend (own side) or the others' */
        struct frame_sym fs = {(unsigned char)r->index, DIM_LAND, 0, "", 0};
        draw_framed(cr, &fs, x + s * 0.8, y + s / 2, s * 0.5, (struct rgba){0.8, 0.8, 0.82, 1}, 0);
        break;
    }
    case 8: /* overdue: amber, dashed */
        cairo_move_to(cr, x, y + s / 2), cairo_line_to(cr, x + s * 1.6, y + s / 2);
        cairo_set_source_rgba(cr, style_overdue.r, style_overdue.g, style_overdue.b, 1);
        cairo_set_line_width(cr, 4);
        {
            double dash[] = {6, 4};
            cairo_set_dash(cr, dash, 2, 0);
        }
        cairo_stroke(cr);
        break;
    case 9: /* late notice: purple beads, and the clock badge */
        cairo_move_to(cr, x + s * 0.15, y + s / 2), cairo_line_to(cr, x + s * 1.1, y + s / 2);
        cairo_set_source_rgba(cr, style_late.r, style_late.g, style_late.b, 1);
        cairo_set_line_width(cr, s * 0.35);
        cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
        {
            double dash[] = {0.1, s * 0.45};
            cairo_set_dash(cr, dash, 2, 0);
        }
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
        draw_late_badge(cr, x + s * 1.35, y + s / 2, s * 0.32);
        break;
    case 5:
        cairo_rectangle(cr, x, y, s * 1.6, s);
        cairo_set_source_rgba(cr, style_disputed.r, style_disputed.g, style_disputed.b, 0.35);
        cairo_fill_preserve(cr);
        cairo_set_source_rgba(cr, style_disputed.r, style_disputed.g, style_disputed.b, 1);
        cairo_set_line_width(cr, 2);
        cairo_stroke(cr);
        break;
    case 6: {
        draw_symbol(cr, SYM_CIRCLE, x + s * 0.8, y + s / 2, s * 0.5, grey, 0);
        cairo_select_font_face(cr, STYLE_LABEL_FONT, CAIRO_FONT_SLANT_NORMAL,
                               CAIRO_FONT_WEIGHT_BOLD);
        cairo_set_font_size(cr, s * 0.55);
        cairo_text_extents_t te;
        cairo_text_extents(cr, "12", &te);
        cairo_move_to(cr, x + s * 0.8 - te.x_bearing - te.width / 2,
                      y + s / 2 - te.y_bearing - te.height / 2);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_show_text(cr, "12");
        break;
    }
    case 4:
        cairo_move_to(cr, x, y + s / 2), cairo_line_to(cr, x + s * 1.6, y + s / 2);
        cairo_set_source_rgba(cr, grey.r, grey.g, grey.b, 0.25);
        cairo_set_line_width(cr, s * 0.9);
        cairo_stroke(cr);
        cairo_move_to(cr, x, y + s / 2), cairo_line_to(cr, x + s * 1.6, y + s / 2);
        cairo_set_source_rgba(cr, grey.r, grey.g, grey.b, 1);
        cairo_set_line_width(cr, 2);
        cairo_stroke(cr);
        cairo_move_to(cr, x + s * 1.3, y + s / 2);
        cairo_line_to(cr, x + s * 0.9, y + s * 0.15);
        cairo_line_to(cr, x + s * 0.9, y + s * 0.85);
        cairo_close_path(cr);
        cairo_fill(cr);
        break;
    }
    cairo_restore(cr);
}

/* Lays out the legend; paints it when paint is set. OUT *box: where it goes. */
static void draw_legend(cairo_t *cr, const struct view *v, const struct tile_source *src,
                        const struct legend_seen *seen, double fs, int paint,
                        struct label_box *box, double at_x, double at_y, double max_w)
{
    memset(box, 0, sizeof *box);
    struct legend_row rows[64];
    int n = 0;
    for (int i = 0; i < seen->nparties && n < 64; i++) {
        const char *name = src->party_name ? src->party_name(src->ctx, seen->parties[i]) : NULL;
        rows[n].kind = 0;
        rows[n].colour = style_party_colour(src, seen->parties[i]);
        snprintf(rows[n].text, sizeof rows[n].text, "%s", name ? name : seen->parties[i]);
        n++;
    }
    for (int i = 0;; i++) {
        if ((seen->zone_types & (1u << i)) && n < 64) {
            rows[n].kind = 1, rows[n].index = i;
            snprintf(rows[n].text, sizeof rows[n].text, "%s", style_zone_types[i].legend);
            n++;
        }
        if (!style_zone_types[i].type) break;
    }
    /* statuses drawn alike share a row: "reported / active: solid" */
    int done[32] = {0};
    for (int i = 0; style_statuses[i].status; i++) {
        const struct status_style *a = &style_statuses[i];
        if (done[i] || !(seen->statuses & (1u << i)) || n >= 64) continue;
        rows[n].kind = 2, rows[n].index = i;
        size_t len = (size_t)snprintf(rows[n].text, sizeof rows[n].text, "%s", a->legend);
        for (int j = i + 1; style_statuses[j].status; j++) {
            const struct status_style *b = &style_statuses[j];
            if (!(seen->statuses & (1u << j)) || b->line != a->line || b->disputed != a->disputed ||
                b->draft != a->draft || (b->alpha < 1) != (a->alpha < 1) || len >= 60)
                continue;
            done[j] = 1;
            len += (size_t)snprintf(rows[n].text + len, sizeof rows[n].text - len, " / %s",
                                    b->legend);
        }
        const char *how = a->draft      ? "dotted, own side only"
                          : a->disputed ? "red hatched outline"
                          : a->alpha < 1 ? "faded"
                          : a->line == LINE_DASHED ? "dashed"
                                                   : "solid";
        snprintf(rows[n].text + len, sizeof rows[n].text - len, ": %s", how);
        n++;
    }
    for (int i = 0;; i++) {
        if ((seen->incidents & (1u << i)) && style_incidents[i].legend && n < 64) {
            rows[n].kind = 3, rows[n].index = i;
            snprintf(rows[n].text, sizeof rows[n].text, "%s", style_incidents[i].label);
            n++;
        }
        if (!style_incidents[i].category) break;
    }
    static const char *const frame_words[] = {NULL, "friend frame: own side's",
                                              "neutral frame: other sides'",
                                              "hostile frame: other sides'",
                                              "unknown frame: other sides'"};
    for (int i = FRAME_FRIEND; i <= FRAME_UNKNOWN; i++)
        if ((seen->frames & (1u << i)) && n < 64) {
            rows[n].kind = 7, rows[n].index = i;
            snprintf(rows[n].text, sizeof rows[n].text, "%s", frame_words[i]);
            n++;
        }
    if (seen->overdue && n < 64) {
        rows[n].kind = 8;
        snprintf(rows[n].text, sizeof rows[n].text, "OVERDUE: answer late, amber dashed");
        n++;
    }
    if (seen->late && n < 64) {
        rows[n].kind = 9;
        snprintf(rows[n].text, sizeof rows[n].text, "LATE NOTICE: notified late, purple beads, clock");
        n++;
    }
    if (seen->conflicts && n < 64) {
        rows[n].kind = 5;
        snprintf(rows[n].text, sizeof rows[n].text, "conflict found by the server: red");
        n++;
    }
    if (seen->clusters && n < 64) {
        rows[n].kind = 6;
        snprintf(rows[n].text, sizeof rows[n].text, "number: incidents (red: conflicts) in that cell");
        n++;
    }
    if (seen->movements && n < 64) {
        rows[n].kind = 4;
        snprintf(rows[n].text, sizeof rows[n].text, "movement: corridor to scale, arrow = direction");
        n++;
    }
    if (n == 0) return;
    double row_h, s, maxw;
    for (int pass = 0; pass < 2; pass++) { /* shrink the type once if the panel is narrow */
        row_h = fs * 1.5, s = fs * 1.0, maxw = 0;
        for (int i = 0; i < n; i++) {
            double tw;
            text_at(cr, rows[i].text, -1e9, 0, fs, 0, 0, &tw, NULL);
            if (tw > maxw) maxw = tw;
        }
        double need = maxw + s * 1.6 + 24;
        if (max_w <= 0 || need <= max_w) break;
        fs *= max_w / need;
    }
    int per_col = n;
    double colw = maxw + s * 1.6 + 24;
    double w = colw, h = row_h * (per_col + 1) + 12;
    /* the corner that hides the least of the situation */
    double title_h = fs * 3.2;
    double cand[4][2] = {{v->width - w - 12, v->height - h - 12},
                         {12, v->height - h - 12 - fs * 5},
                         {12, title_h + 12},
                         {v->width - w - 12, title_h + fs * 6}};
    double best = INFINITY, x = cand[0][0], y = cand[0][1];
    for (int c = 0; c < 4; c++) {
        if (cand[c][1] < title_h) continue;
        double hidden = 0;
        for (size_t i = 0; i < seen->nitems; i++) {
            const struct label_box *b = &seen->items[i];
            double ox = fmin(b->x1 + 2, cand[c][0] + w) - fmax(b->x0 - 2, cand[c][0]);
            double oy = fmin(b->y1 + 2, cand[c][1] + h) - fmax(b->y0 - 2, cand[c][1]);
            if (ox > 0 && oy > 0) hidden += ox * oy;
        }
        if (hidden < best) best = hidden, x = cand[c][0], y = cand[c][1];
    }
    if (at_x >= 0) x = at_x, y = at_y; /* in the side panel */
    *box = (struct label_box){x - 4, y - 4, x + w + 4, y + h + 4};
    if (!paint) return;
    panel(cr, x, y, w, h);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    text_at(cr, "Legend", x + 8, y + 6, fs, 1, 0, NULL, NULL);
    for (int i = 0; i < n; i++) {
        double ry = y + 6 + row_h * (i % per_col + 1), cx = x + colw * (i / per_col);
        legend_swatch(cr, v, &rows[i], cx + 8, ry + (row_h - s) / 2 - 1, s);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        text_at(cr, rows[i].text, cx + 16 + s * 1.6, ry, fs, 0, 0, NULL, NULL);
    }
}

static fm_rc map_check(const struct tile_map_request *req, struct fm_err *err)
{
    const double *b = req->bbox;
    for (int i = 0; i < 4; i++)
        if (!isfinite(b[i])) return fm_fail(err, FM_EINVAL, "bbox", "bbox numbers must be finite");
    if (b[0] < -180 || b[2] > 180 || b[1] < -TILE_MAX_LAT || b[3] > TILE_MAX_LAT || b[0] >= b[2] ||
        b[1] >= b[3])
        return fm_fail(err, FM_EINVAL, "bbox",
                       "bbox is minlon,minlat,maxlon,maxlat with min < max, lon within"
                       " +-180 and lat within +-85.05");
    if (req->width < TILE_MAP_MIN_PX || req->width > TILE_MAP_MAX_PX ||
        req->height < TILE_MAP_MIN_PX || req->height > TILE_MAP_MAX_PX)
        return fm_fail(err, FM_EINVAL, "width", "width and height are %d to %d pixels",
                       TILE_MAP_MIN_PX, TILE_MAP_MAX_PX);
    return FM_OK;
}

/* Draws the briefing map of req on cr, req->width x req->height units
 * from (0, 0): the same drawing for the PNG and the PDF. */
static fm_rc map_paint(cairo_t *cr, const struct tile_source *src,
                       const struct tile_basemap *basemap, const struct tile_map_request *req,
                       char *grid_note, size_t nnote, struct fm_err *err)
{
    const double *b = req->bbox;
    /* fit the bbox into the image without distortion: widen the short side */
    double m[4];
    tile_lonlat_to_merc(b[0], b[1], &m[0], &m[1]);
    tile_lonlat_to_merc(b[2], b[3], &m[2], &m[3]);
    double cx = (m[0] + m[2]) / 2, cy = (m[1] + m[3]) / 2;
    /* wide images get a side panel for the legend, so that it hides nothing */
    int panel_w = req->width >= 900 ? (int)fmin(400, req->width * 0.3) : 0;
    int map_w = req->width - panel_w;
    double ppm = fmin(map_w / (m[2] - m[0]), req->height / (m[3] - m[1]));
    double hw = map_w / ppm / 2, hh = req->height / ppm / 2;
    double vm[4] = {cx - hw, cy - hh, cx + hw, cy + hh};
    double ll[4];
    tile_merc_to_lonlat(vm[0], vm[1], &ll[0], &ll[1]);
    tile_merc_to_lonlat(vm[2], vm[3], &ll[2], &ll[3]);

    struct view v;
    view_init(&v, vm, map_w, req->height, fmax(1.0, fmin(req->width, req->height) / 700.0));
    v.label_px = 230;
    cairo_rectangle(cr, 0, 0, map_w, req->height);
    cairo_clip(cr);
    struct labels labels;
    labels_init(&labels);
    struct legend_seen seen;
    memset(&seen, 0, sizeof seen);
    fm_rc rc = FM_OK;
    double fs = fmax(11.0, fmin(req->width, req->height) / 60.0);
    unsigned layers = req->layers;
    if (layers & (1u << TILE_LAYER_ALL)) layers = ~0u;
    if (layers & (1u << TILE_LAYER_BASEMAP)) draw_basemap(cr, &v, basemap, &labels, 1);
    else {
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_paint(cr);
    }
    if (req->grid == TILE_GRID_MGRS) draw_mgrs_grid(cr, &v, ll, fs * 0.8, grid_note, nnote);
    else if (req->grid == TILE_GRID_DEGREES) draw_grid(cr, &v, ll, fs * 0.85);
    /* the furniture's places are taken before any label is placed */
    double title_h = fs * 3.2;
    struct label_box top = {0, 0, map_w, title_h + 4};
    unsigned colls = 0;
    for (int l = 0; l < TILE_LAYER_COUNT; l++)
        if (layers & (1u << l)) colls |= colls_of((enum tile_layer)l);
    if (colls && src) rc = draw_items(cr, &v, src, colls, &labels, &seen, err);
    if (!rc) {
        /* keep labels off the title bar */
        labels_block(&labels, top);
        struct label_box legend_box;
        double lx = panel_w ? map_w + 12 : -1, ly = title_h + 12;
        draw_legend(cr, &v, src, &seen, fs, 0, &legend_box, lx, ly, panel_w - 24);
        if (!panel_w) labels_block(&labels, legend_box);
        /* north arrow and scale bar */
        labels_block(&labels, (struct label_box){map_w - fs * 4, title_h, map_w,
                                                 title_h + fs * 5.5});
        labels_block(&labels, (struct label_box){0, req->height - fs * 5, map_w * 0.4,
                                                 req->height});
        labels_flush(cr, &v, &labels);
        cairo_reset_clip(cr);
        if (panel_w) {
            cairo_rectangle(cr, map_w, 0, panel_w, req->height);
            cairo_set_source_rgb(cr, 0.97, 0.97, 0.96);
            cairo_fill(cr);
            cairo_move_to(cr, map_w + 0.5, 0), cairo_line_to(cr, map_w + 0.5, req->height);
            cairo_set_source_rgb(cr, 0.2, 0.2, 0.25);
            cairo_set_line_width(cr, 1);
            cairo_stroke(cr);
        }
        /* title bar */
        cairo_rectangle(cr, 0, 0, req->width, title_h);
        cairo_set_source_rgba(cr, 0.08, 0.12, 0.2, 0.88);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 1, 1, 1);
        text_at(cr, req->title && *req->title ? req->title : "Situation map", fs * 0.8,
                fs * 0.7, fs * 1.35, 1, 0, NULL, NULL);
        char ts[FM_TIME_STAMP_LEN], when[80];
        fm_time_format(req->at, ts);
        snprintf(when, sizeof when, "%s %s UTC", req->as_of ? "as of" : "at",
                 ts); /* "2026-11-25T10:00:00Z" */
        char *tpos = strchr(when, 'T');
        if (tpos) *tpos = ' ';
        char *zpos = strrchr(when, 'Z');
        if (zpos) memmove(zpos, zpos + 1, strlen(zpos));
        text_at(cr, when, req->width - fs * 0.8, fs * 0.95, fs, 1, 1, NULL, NULL);
        draw_north(cr, map_w - fs * 2.2, title_h + fs * 2.4, fs * 1.4);
        draw_scale_bar(cr, &v, (ll[1] + ll[3]) / 2, fs);
        draw_legend(cr, &v, src, &seen, fs, 1, &legend_box, lx, ly, panel_w - 24);
        if (panel_w && req->brief)
            brief_lists(cr, req->brief, lx + 4, fmax(legend_box.y1, ly) + fs, panel_w - 32,
                        req->height - fs, fs * 0.95);
        cairo_rectangle(cr, 0.5, 0.5, req->width - 1, req->height - 1);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.25);
        cairo_set_line_width(cr, 1);
        cairo_stroke(cr);
    }
    labels_cleanup(&labels);
    free(seen.items);
    if (!rc) rc = cairo_rc(cr, err);
    return rc;
}

fm_rc tile_map_render(const struct tile_source *src, const struct tile_basemap *basemap,
                      const struct tile_map_request *req, unsigned char **png, size_t *len,
                      struct fm_err *err)
{
    *png = NULL;
    *len = 0;
    fm_rc rc = map_check(req, err);
    if (rc) return rc;
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, req->width, req->height);
    cairo_t *cr = cairo_create(s);
    char note[8];
    const struct tile_brief *b = req->brief;
    if (!b || !b->marking) {
        rc = map_paint(cr, src, basemap, req, note, sizeof note, err);
    } else {
        /* the marking at top and bottom, as on the sheet, the map between
         * (the sheet's lists and footer are the PDF's) */
        double fs = fmax(11.0, fmin(req->width, req->height) / 70.0);
        double mark_h = fmin(round(fs * 1.9), floor(req->height / 8.0));
        struct tile_map_request inner = *req;
        inner.height = (int)(req->height - 2 * mark_h);
        inner.brief = NULL;
        brief_marking(cr, b, 0, req->width, mark_h);
        brief_marking(cr, b, req->height - mark_h, req->width, mark_h);
        cairo_save(cr);
        cairo_translate(cr, 0, mark_h);
        rc = map_paint(cr, src, basemap, &inner, note, sizeof note, err);
        cairo_restore(cr);
    }
    /* RGB, never a palette: one palette let the title's time stamp move
     * pixels below it (tiles_visibility) */
    if (!rc) rc = surface_png(s, 0, png, len, err);
    cairo_destroy(cr);
    cairo_surface_destroy(s);
    return rc;
}

/* The PDF's bytes, gathered as Cairo writes them. */
struct pdf_buf {
    unsigned char *d;
    size_t n, cap;
};

static cairo_status_t pdf_write(void *ctx, const unsigned char *data, unsigned int len)
{
    struct pdf_buf *b = ctx;
    if (b->n + len > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->n + len) cap *= 2;
        unsigned char *d = realloc(b->d, cap);
        if (!d) return CAIRO_STATUS_NO_MEMORY;
        b->d = d, b->cap = cap;
    }
    memcpy(b->d + b->n, data, len);
    b->n += len;
    return CAIRO_STATUS_SUCCESS;
}

fm_rc tile_map_render_pdf(const struct tile_source *src, const struct tile_basemap *basemap,
                          const struct tile_map_request *req, unsigned char **pdf, size_t *len,
                          struct fm_err *err)
{
    *pdf = NULL;
    *len = 0;
    fm_rc rc = map_check(req, err);
    if (rc) return rc;
    /* A4 landscape, the drawing scaled to fit its width */
    const double page_w = 842, page_h = 595;
    double k = fmin(page_w / req->width, page_h / req->height);
    struct pdf_buf buf = {NULL, 0, 0};
    cairo_surface_t *s = cairo_pdf_surface_create_for_stream(pdf_write, &buf, page_w, page_h);
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE,
                                   req->title && *req->title ? req->title : "Situation map");
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "fusionmap");
    cairo_t *cr = cairo_create(s);
    cairo_translate(cr, (page_w - req->width * k) / 2, (page_h - req->height * k) / 2);
    cairo_scale(cr, k, k);
    char note[400] = "";
    const struct tile_brief *b = req->brief;
    if (!b) {
        rc = map_paint(cr, src, basemap, req, note, sizeof note, err);
    } else {
        /* the marking at top and bottom, the footer above the bottom one,
         * the map between */
        double fs = fmax(11.0, fmin(req->width, req->height) / 70.0);
        double mark_h = fs * 1.9, foot_h = fs * 3.1;
        struct tile_map_request inner = *req;
        inner.height = (int)(req->height - 2 * mark_h - foot_h);
        brief_marking(cr, b, 0, req->width, mark_h);
        cairo_save(cr);
        cairo_translate(cr, 0, mark_h);
        rc = map_check(&inner, err);
        if (!rc) rc = map_paint(cr, src, basemap, &inner, note, sizeof note, err);
        cairo_restore(cr);
        brief_footer(cr, note, b->footer, mark_h + inner.height, req->width, fs * 0.85);
        brief_marking(cr, b, req->height - mark_h, req->width, mark_h);
    }
    cairo_destroy(cr);
    cairo_surface_finish(s);
    if (!rc && cairo_surface_status(s) != CAIRO_STATUS_SUCCESS)
        rc = fm_fail(err, FM_EINTERNAL, NULL, "PDF failed: %s",
                     cairo_status_to_string(cairo_surface_status(s)));
    cairo_surface_destroy(s);
    if (rc) {
        free(buf.d);
        return rc;
    }
    *pdf = buf.d, *len = buf.n;
    return FM_OK;
}

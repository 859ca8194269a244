/* internal.h - what the files of tiles/ share and nothing else sees. */
#ifndef TILES_INTERNAL_H
#define TILES_INTERNAL_H

#include "tiles.h"

#include <cairo.h>
#include <stddef.h>

/* ---- geometry decoded from WKB (wkb.c) --------------------------------- */

enum geom_kind { GEOM_POINT, GEOM_LINE, GEOM_RING };

struct geom_part {
    enum geom_kind kind;
    int poly;         /* rings of one polygon share this index */
    size_t start, n;  /* into xy, in points */
};

struct geom {
    struct geom_part *parts;
    size_t nparts, cap_parts;
    double *xy; /* lon, lat pairs */
    size_t npts, cap_pts;
    int npolys;
};

void geom_init(struct geom *g);
void geom_reset(struct geom *g); /* empty, keeps the storage */
void geom_cleanup(struct geom *g);
/* Appends the geometry of wkb to g. FM_EINVAL when malformed. */
fm_rc geom_from_wkb(struct geom *g, const unsigned char *wkb, size_t len);
void geom_add_part(struct geom *g, enum geom_kind kind, int poly);
void geom_add_point(struct geom *g, double x, double y);

/* ---- styles (style.c): the one table of how things look ---------------- */

struct rgba {
    double r, g, b, a;
};

enum fill_pattern { FILL_SOLID, FILL_HATCH, FILL_CROSSHATCH, FILL_DOTS, FILL_STRIPES_WIDE, FILL_NONE };
enum line_kind { LINE_SOLID, LINE_DASHED, LINE_DOTTED, LINE_BEADS /* late notice: wide round dots */ };
enum symbol_shape { SYM_CIRCLE, SYM_STAR, SYM_TRIANGLE, SYM_SQUARE, SYM_DIAMOND, SYM_CROSS };

struct zone_type_style {
    const char *type; /* NULL: the default row */
    enum fill_pattern pattern;
    double fill_alpha;
    const char *legend;
};

struct status_style {
    const char *status; /* NULL: the default row */
    enum line_kind line;
    double alpha;     /* applied to everything the item draws */
    int disputed;     /* red hatched outline on top */
    int draft;        /* thin dotted, "DRAFT" in the label */
    const char *legend;
};

struct incident_style {
    const char *category; /* NULL: the default row */
    enum symbol_shape shape;
    const char *legend;
    const char *label; /* the category in words */
};

/* MIL-STD-2525D point symbols (incidents, the start of a movement), drawn
 * as the viewer's milsymbol frames them: the frame's shape says who is
 * looking (friend: the viewer's own party; the others: tile_source's
 * frame_other), its dimension comes from the symbol set of the SYMBOL
 * row in common/vocabulary.def, the fill is the party colour and the
 * icon a few letters (the C renderer cannot run milsymbol). */
enum frame_id { FRAME_NONE, FRAME_FRIEND, FRAME_NEUTRAL, FRAME_HOSTILE, FRAME_UNKNOWN };
enum frame_dim { DIM_LAND, DIM_AIR, DIM_SEA };
struct frame_sym {
    unsigned char frame;   /* enum frame_id; FRAME_NONE: a plain shape (conflicts, clusters) */
    unsigned char dim;     /* enum frame_dim */
    unsigned char planned; /* a dashed frame (a movement not under way) */
    const char *glyph;     /* letters inside ("" none): a static string */
    unsigned char activity; /* set 40 (activities): milsymbol's black corner marks */
};
/* The symbol of an incident category (coll TILE_INCIDENT) or movement kind
 * (TILE_MOVEMENT), framed for party as src's viewer sees it. */
struct frame_sym style_frame_sym(const struct tile_source *src, enum tile_coll coll,
                                 const char *key, const char *party, const char *status);
/* A framed symbol centred at (px, py), r its half height, fill the party colour. */
void draw_framed(cairo_t *cr, const struct frame_sym *fs, double px, double py, double r,
                 struct rgba fill, int severe);

const struct zone_type_style *style_zone_type(const char *type);
const struct status_style *style_status(const char *status);
const struct incident_style *style_incident(const char *category);
/* Rows for the legend, each ending with a NULL-keyed default row. */
extern const struct zone_type_style style_zone_types[];
extern const struct status_style style_statuses[];
extern const struct incident_style style_incidents[];

/* Fixed colours and sizes. */
extern const struct rgba style_sea, style_land, style_border, style_disputed, style_unknown_party,
    style_label_text, style_label_halo, style_grid, style_overdue, style_late;
#define STYLE_ZONE_LINE_PX 2.0
#define STYLE_ROUTE_LINE_PX 2.5
#define STYLE_ARROW_SPACING_PX 90.0
#define STYLE_INCIDENT_BASE_PX 7.0 /* radius at severity 0; +1.5 per level, at zoom 14+ */
/* Point symbols shrink below zoom 14: the factor at zoom z. */
double style_symbol_zoom_factor(double zoom);
/* At this zoom and below, points (incidents, point conflicts) are counted
 * in cells of a grid anchored to the world (so that tiles join up): a
 * cell with one point draws it, a cell with more a marker with the count. */
#define STYLE_CLUSTER_MAX_ZOOM 11.0
#define STYLE_CLUSTER_CELL_PX 32
/* A conflict area smaller than this (pixels at scale 1, both ways) is a
 * speck, drawn (or counted) as a point conflict at its centre. */
#define STYLE_CONFLICT_SPECK_PX 6.0
#define STYLE_LABEL_FONT "Noto Sans"
#define STYLE_LABEL_SIZE_PT 8.5
/* Party colour from the source, or the unknown-party grey. */
struct rgba style_party_colour(const struct tile_source *src, const char *party);

/* ---- looks and batches (look.c) ---------------------------------------- */

struct view; /* below */

/* A path built in memory, in Cairo's own element layout, appended to a
 * context in one call. Zeroed storage is an empty path. */
struct path_buf {
    cairo_path_data_t *d;
    int n, cap; /* elements */
};
void path_move(struct path_buf *p, double x, double y);
void path_line(struct path_buf *p, double x, double y);
void path_close(struct path_buf *p);
void path_free(struct path_buf *p);
/* Turns the ring from element `from` to the end (a move, lines, a close)
 * one way round if outer, the other way if a hole (for nonzero fills). */
void path_orient_ring(struct path_buf *p, int from, int outer);
/* OUT ext: x0 y0 x1 y1 of the points; returns 0 (and zeros) when none. */
int path_extents(const struct path_buf *p, double ext[4]);
void path_to_cairo(cairo_t *cr, const struct path_buf *p);

/* How a shape is painted: a fill (a colour, or a pattern in the colour over
 * a wash of it at alpha `wash`) or a stroke. The colour's alpha is final. */
struct look {
    int stage; /* within a layer, lower stages are painted first (>= 0) */
    int stroke;
    struct rgba c;
    enum fill_pattern pattern; /* fills */
    double wash;
    int crisp; /* fills: no antialiasing (the edge lies under an outline) */
    double width; /* strokes, in pixels */
    enum line_kind line;
    cairo_line_cap_t cap; /* dotted lines are always round */
    cairo_line_join_t join;
};
struct look look_fill(int stage, struct rgba c, enum fill_pattern pattern, double wash);
struct look look_stroke(int stage, struct rgba c, double width, enum line_kind line,
                        cairo_line_cap_t cap, cairo_line_join_t join);
/* Dashes and cap of a line kind, at the image's scale. */
void look_set_line(cairo_t *cr, enum line_kind k, double scale);
/* Fills the current path with pattern p in colour c (keeps the path). */
void draw_pattern_fill(cairo_t *cr, enum fill_pattern p, struct rgba c, const struct view *v);

/* Shapes gathered by look for one image. Zeroed storage is empty;
 * batches_cleanup frees. */
struct batch;
struct batches {
    struct batch *b;
    size_t n, cap, last;
};
/* Adds a copy of shape to the batch of look l. */
void batches_add(struct batches *bs, const struct look *l, const struct path_buf *shape);
/* Paints every batch, by stage and then in order of first use, and
 * empties them (their storage is kept for the next layer). */
void batches_paint(struct batches *bs, cairo_t *cr, const struct view *v);
void batches_cleanup(struct batches *bs);

/* ---- drawing (draw.c) -------------------------------------------------- */

/* A view: lon/lat -> pixel. Mercator bounds of the image and pixels per metre. */
struct view {
    double minx, maxy; /* mercator of pixel (0, 0) */
    double ppm;        /* pixels per mercator metre */
    double width, height;
    double scale;      /* 1 or 2: line widths and symbols grow with it */
    double zoom;       /* the equivalent XYZ zoom (fractional for maps) */
    double merc[4];    /* mercator bounds of the image */
    /* Mercator y near the centre's latitude lat0 (radians) as a Taylor
     * series, for points within `reach` of it (view_px) */
    double lat0, reach, y0, c[4];
    double label_px; /* a label's widest line at scale 1, and every place tried
                      * (briefing images); 0: 150, five places (tiles) */
};

void view_init(struct view *v, const double merc_bounds[4], int width, int height, double scale);
void view_px(const struct view *v, double lon, double lat, double *px, double *py);

/* Label collision boxes for one image. */
struct label_box {
    double x0, y0, x1, y1;
};
struct pending_label {
    char *text; /* NULL: an obstacle (a symbol) of radius size_pt */
    double px, py, size_pt;
    int bold, priority;
    int at_anchor; /* only at its anchor (a town's name: never moved off its dot) */
};
struct labels {
    struct label_box *boxes; /* placed */
    size_t n, cap;
    struct pending_label *pending; /* queued, drawn by labels_flush */
    size_t npending, cappending;
};
void labels_init(struct labels *l);
void labels_cleanup(struct labels *l);

/* A closed ring of pixel coordinates appended to p (clipped when far out;
 * points closer than about half a pixel dropped). */
void ring_px_path(struct path_buf *p, const struct view *v, const double *pts, size_t npts);
/* Queues a label, drawn after every item in priority order (high first). */
void labels_queue(struct labels *l, const char *text, double px, double py, double size_pt,
                  int bold, int priority);
/* Draws the basemap (sea, land, borders) for the view. */
void draw_basemap(cairo_t *cr, const struct view *v, const struct tile_basemap *b,
                  struct labels *labels, int with_names);
/* What a legend should explain: filled while drawing. */
#define LEGEND_MAX_PARTIES 8
struct legend_seen {
    char parties[LEGEND_MAX_PARTIES][16];
    int nparties;
    unsigned zone_types, statuses, incidents; /* bits: row index in the style tables */
    int movements, conflicts, clusters, overdue, late;
    unsigned frames; /* bits: enum frame_id seen */
    struct label_box *items; /* pixel extents of what was drawn (legend placement) */
    size_t nitems, capitems;
};
/* Draws the item layers selected in `colls` (bit per enum tile_coll); their
 * labels are queued. seen may be NULL. */
fm_rc draw_items(cairo_t *cr, const struct view *v, const struct tile_source *src, unsigned colls,
                 struct labels *labels, struct legend_seen *seen, struct fm_err *err);
/* As labels_queue, for a label drawn at its anchor or not at all. */
void labels_queue_at(struct labels *l, const char *text, double px, double py, double size_pt,
                     int priority);
/* Keeps labels out of b (furniture drawn later). */
void labels_block(struct labels *l, struct label_box b);
/* Draws the queued labels, avoiding each other; labels_cleanup drops any left. */
void labels_flush(cairo_t *cr, const struct view *v, struct labels *labels);
/* A label centred at (px, py) if it fits inside the image and clashes with
 * no other; returns 1 when drawn. */
int draw_label(cairo_t *cr, const struct view *v, struct labels *labels, const char *text,
               double px, double py, double size_pt, int bold);
/* Late notice's badge: a clock face in purple, radius br about (x, y). */
void draw_late_badge(cairo_t *cr, double x, double y, double br);
/* An incident symbol centred at (px, py). */
void draw_symbol(cairo_t *cr, enum symbol_shape shape, double px, double py, double radius,
                 struct rgba fill, int severe);

/* ---- briefing images (render.c, brief.c) -------------------------------- */

/* One line of text, px high, its top left at (x, y) (right-aligned: its
 * right end at x); x < -1e8 measures only. OUT *w_out, *h_out (may be NULL). */
void text_at(cairo_t *cr, const char *text, double x, double y, double px, int bold,
             int align_right, double *w_out, double *h_out);
/* The MGRS grid of the view (ll: its lon/lat bounds), lines and labels;
 * OUT note: the grid in words, and the centre's reference. */
void draw_mgrs_grid(cairo_t *cr, const struct view *v, const double ll[4], double fs, char *note,
                    size_t nnote);
/* The marking bar, w x h at y. */
void brief_marking(cairo_t *cr, const struct tile_brief *b, double y, double w, double h);
/* The lists from (x, y), w wide, stopping before bottom ("... and N more");
 * returns the y reached. */
double brief_lists(cairo_t *cr, const struct tile_brief *b, double x, double y, double w,
                   double bottom, double fs);
/* Two lines at y: the grid in words, then footer in monospace. */
void brief_footer(cairo_t *cr, const char *grid_note, const char *footer, double y, double w,
                  double fs);

/* PNG of a surface: with palette, an 8-bit palette where the picture
 * allows (tiles; a briefing map keeps RGB(A): one palette for the whole
 * picture would let its title's time stamp shift the colours below it).
 * OUT *png (malloc), *len. */
fm_rc surface_png(cairo_surface_t *s, int palette, unsigned char **png, size_t *len,
                  struct fm_err *err);

#endif

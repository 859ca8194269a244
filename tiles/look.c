/* look.c - how a shape is painted (a fill in a colour or a pattern, or a
 * stroke of a width and a line kind), and batches of shapes painted alike.
 *
 * A dense low-zoom tile holds thousands of small shapes in a few dozen
 * looks (party colour, status, zone type), and one Cairo fill or stroke
 * costs some 10,000 to 40,000 instructions however small its shape: the
 * clip, the scan converter and the compositor are set up each time
 * (tests/bench/tiles_instructions.sh). So the layers build each shape in a
 * path_buf, add it to the batch of its look, and paint every batch at once
 * when the layer ends: by stage (fills under outlines, halos under lines),
 * then in order of first use.
 *
 * What a person can tell: shapes of one look are one union, so where two
 * translucent shapes of the same look overlap, the colour is laid once,
 * not twice. Fills use the nonzero rule over rings that path_orient_ring
 * turned outer rings one way and holes the other, so a hole stays empty
 * and two overlapping polygons stay filled. Cairo starts the dash pattern
 * afresh at every sub-path, so each shape keeps its own dash phase. */
#include "internal.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- paths in memory ---------------------------------------------------- */

static cairo_path_data_t *path_grow(struct path_buf *p, int more)
{
    if (p->n + more > p->cap) {
        int cap = p->cap ? p->cap : 256;
        while (cap < p->n + more) cap *= 2;
        p->d = fm_xrealloc(p->d, (size_t)cap * sizeof *p->d);
        p->cap = cap;
    }
    cairo_path_data_t *at = &p->d[p->n];
    p->n += more;
    return at;
}

static void path_point(struct path_buf *p, cairo_path_data_type_t type, double x, double y)
{
    cairo_path_data_t *e = path_grow(p, 2);
    e[0].header.type = type;
    e[0].header.length = 2;
    e[1].point.x = x;
    e[1].point.y = y;
}

void path_move(struct path_buf *p, double x, double y)
{
    path_point(p, CAIRO_PATH_MOVE_TO, x, y);
}

void path_line(struct path_buf *p, double x, double y)
{
    path_point(p, CAIRO_PATH_LINE_TO, x, y);
}

void path_close(struct path_buf *p)
{
    cairo_path_data_t *e = path_grow(p, 1);
    e->header.type = CAIRO_PATH_CLOSE_PATH;
    e->header.length = 1;
}

void path_free(struct path_buf *p)
{
    free(p->d);
    memset(p, 0, sizeof *p);
}

void path_orient_ring(struct path_buf *p, int from, int outer)
{
    /* a ring is a move and lines, two elements each, then a close */
    int end = p->n;
    if (end > from && p->d[end - 1].header.type == CAIRO_PATH_CLOSE_PATH) end--;
    int npts = (end - from) / 2;
    if (npts < 3) return;
    double area2 = 0;
    for (int i = 0; i < npts; i++) {
        const cairo_path_data_t *a = &p->d[from + 2 * i + 1],
                                *b = &p->d[from + 2 * ((i + 1) % npts) + 1];
        area2 += a->point.x * b->point.y - b->point.x * a->point.y;
    }
    if ((area2 > 0) == (outer != 0)) return;
    for (int i = 0, j = npts - 1; i < j; i++, j--) {
        cairo_path_data_t t = p->d[from + 2 * i + 1];
        p->d[from + 2 * i + 1] = p->d[from + 2 * j + 1];
        p->d[from + 2 * j + 1] = t;
    }
}

int path_extents(const struct path_buf *p, double ext[4])
{
    ext[0] = ext[1] = INFINITY;
    ext[2] = ext[3] = -INFINITY;
    for (int i = 0; i < p->n; i += p->d[i].header.length) {
        if (p->d[i].header.type == CAIRO_PATH_CLOSE_PATH) continue;
        double x = p->d[i + 1].point.x, y = p->d[i + 1].point.y;
        ext[0] = fmin(ext[0], x), ext[1] = fmin(ext[1], y);
        ext[2] = fmax(ext[2], x), ext[3] = fmax(ext[3], y);
    }
    if (ext[0] <= ext[2]) return 1;
    ext[0] = ext[1] = ext[2] = ext[3] = 0;
    return 0;
}

void path_to_cairo(cairo_t *cr, const struct path_buf *p)
{
    if (p->n == 0) return;
    cairo_path_t path = {CAIRO_STATUS_SUCCESS, p->d, p->n};
    cairo_append_path(cr, &path);
}

/* ---- looks -------------------------------------------------------------- */

struct look look_fill(int stage, struct rgba c, enum fill_pattern pattern, double wash)
{
    struct look l = {.stage = stage, .c = c, .pattern = pattern, .wash = wash};
    return l;
}

struct look look_stroke(int stage, struct rgba c, double width, enum line_kind line,
                        cairo_line_cap_t cap, cairo_line_join_t join)
{
    struct look l = {.stage = stage, .stroke = 1, .c = c, .width = width, .line = line,
                     .cap = line == LINE_DOTTED || line == LINE_BEADS ? CAIRO_LINE_CAP_ROUND : cap,
                     .join = join};
    return l;
}

static int look_same(const struct look *a, const struct look *b)
{
    return a->stage == b->stage && a->stroke == b->stroke && a->c.r == b->c.r &&
           a->c.g == b->c.g && a->c.b == b->c.b && a->c.a == b->c.a && a->pattern == b->pattern &&
           a->wash == b->wash && a->crisp == b->crisp && a->width == b->width && a->line == b->line && a->cap == b->cap &&
           a->join == b->join;
}

void look_set_line(cairo_t *cr, enum line_kind k, double scale)
{
    static const double dash[] = {8, 5}, dot[] = {0.1, 4.5}, bead[] = {0.1, 16};
    double d[2];
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
    switch (k) {
    case LINE_DASHED:
        d[0] = dash[0] * scale, d[1] = dash[1] * scale;
        cairo_set_dash(cr, d, 2, 0);
        break;
    case LINE_DOTTED:
        d[0] = dot[0] * scale, d[1] = dot[1] * scale;
        cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
        cairo_set_dash(cr, d, 2, 0);
        break;
    case LINE_BEADS: /* round dots as wide as the line, 16 px apart */
        d[0] = bead[0] * scale, d[1] = bead[1] * scale;
        cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
        cairo_set_dash(cr, d, 2, 0);
        break;
    case LINE_SOLID: cairo_set_dash(cr, NULL, 0, 0); break;
    }
}

/* ---- patterns ----------------------------------------------------------- */

/* The tile of pattern p in colour c over a wash of the same colour at
 * alpha bg, repeating; not yet anchored (anchor). */
static cairo_pattern_t *make_pattern(enum fill_pattern p, struct rgba c, double bg, double scale)
{
    int size = (int)((p == FILL_STRIPES_WIDE ? 16 : 10) * scale);
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, size, size);
    cairo_t *pc = cairo_create(s);
    if (bg > 0) {
        cairo_set_source_rgba(pc, c.r, c.g, c.b, bg);
        cairo_paint(pc);
    }
    cairo_set_source_rgba(pc, c.r, c.g, c.b, c.a);
    cairo_set_line_width(pc, (p == FILL_STRIPES_WIDE ? 4.0 : 1.3) * scale);
    switch (p) {
    case FILL_CROSSHATCH:
        cairo_move_to(pc, 0, size), cairo_line_to(pc, size, 0);
        cairo_move_to(pc, 0, 0), cairo_line_to(pc, size, size);
        cairo_move_to(pc, -1, 1), cairo_line_to(pc, 1, -1);
        cairo_move_to(pc, size - 1, size + 1), cairo_line_to(pc, size + 1, size - 1);
        cairo_stroke(pc);
        break;
    case FILL_HATCH:
    case FILL_STRIPES_WIDE:
        cairo_move_to(pc, -size / 2.0, size / 2.0), cairo_line_to(pc, size / 2.0, -size / 2.0);
        cairo_move_to(pc, 0, size), cairo_line_to(pc, size, 0);
        cairo_move_to(pc, size / 2.0, size * 1.5), cairo_line_to(pc, size * 1.5, size / 2.0);
        cairo_stroke(pc);
        break;
    case FILL_DOTS:
        cairo_arc(pc, size / 2.0, size / 2.0, 1.4 * scale, 0, 2 * M_PI);
        cairo_fill(pc);
        break;
    case FILL_SOLID:
    case FILL_NONE: break;
    }
    cairo_destroy(pc);
    cairo_pattern_t *pat = cairo_pattern_create_for_surface(s);
    cairo_surface_destroy(s); /* the pattern holds it */
    cairo_pattern_set_extend(pat, CAIRO_EXTEND_REPEAT);
    return pat;
}

/* Anchors pat (made by make_pattern) to the world, not the image, so that
 * tiles join up. */
static void anchor(cairo_pattern_t *pat, const struct view *v)
{
    cairo_surface_t *s;
    cairo_pattern_get_surface(pat, &s);
    int size = cairo_image_surface_get_width(s);
    cairo_matrix_t pm;
    cairo_matrix_init_translate(&pm, fmod((v->minx + TILE_MERC_MAX) * v->ppm, size),
                                fmod((TILE_MERC_MAX - v->maxy) * v->ppm, size));
    cairo_pattern_set_matrix(pat, &pm);
}

void draw_pattern_fill(cairo_t *cr, enum fill_pattern p, struct rgba c, const struct view *v)
{
    if (p == FILL_NONE) return;
    cairo_pattern_t *pat = make_pattern(p, c, 0, v->scale);
    anchor(pat, v);
    cairo_set_source(cr, pat);
    cairo_fill_preserve(cr);
    cairo_pattern_destroy(pat);
}

/* Patterns made once per thread: the zones come in a few dozen looks, the
 * same from tile to tile. No lock; emptied when full; freed when the
 * thread ends. */
#define PATTERN_SLOTS 64
struct pattern_cache {
    struct {
        enum fill_pattern p;
        struct rgba c;
        double bg, scale;
        cairo_pattern_t *pat;
    } e[PATTERN_SLOTS];
    int n;
};

static pthread_key_t pattern_key;
static pthread_once_t pattern_once = PTHREAD_ONCE_INIT;

static void patterns_clear(struct pattern_cache *pc)
{
    for (int i = 0; i < pc->n; i++) cairo_pattern_destroy(pc->e[i].pat);
    pc->n = 0;
}

static void patterns_free(void *p)
{
    patterns_clear(p);
    free(p);
}

static void pattern_key_make(void)
{
    if (pthread_key_create(&pattern_key, patterns_free) != 0) abort();
}

/* Sets pattern p in colour c over a wash bg as the source, anchored for v. */
static void pattern_source(cairo_t *cr, enum fill_pattern p, struct rgba c, double bg,
                           const struct view *v)
{
    pthread_once(&pattern_once, pattern_key_make);
    struct pattern_cache *pc = pthread_getspecific(pattern_key);
    if (!pc) {
        pc = fm_xmalloc(sizeof *pc);
        pc->n = 0;
        if (pthread_setspecific(pattern_key, pc) != 0) abort();
    }
    int i = 0;
    for (; i < pc->n; i++)
        if (pc->e[i].p == p && pc->e[i].bg == bg && pc->e[i].scale == v->scale &&
            !memcmp(&pc->e[i].c, &c, sizeof c))
            break;
    if (i == pc->n) {
        if (pc->n == PATTERN_SLOTS) patterns_clear(pc), i = 0;
        pc->e[i].p = p, pc->e[i].c = c, pc->e[i].bg = bg, pc->e[i].scale = v->scale;
        pc->e[i].pat = make_pattern(p, c, bg, v->scale);
        pc->n++;
    }
    anchor(pc->e[i].pat, v);
    cairo_set_source(cr, pc->e[i].pat);
}

/* ---- batches ------------------------------------------------------------ */

struct batch {
    struct look look;
    struct path_buf path;
};

void batches_add(struct batches *bs, const struct look *l, const struct path_buf *shape)
{
    if (shape->n == 0 || (!l->stroke && l->pattern == FILL_NONE)) return;
    struct batch *b = NULL;
    if (bs->last < bs->n && look_same(&bs->b[bs->last].look, l)) b = &bs->b[bs->last];
    for (size_t i = 0; i < bs->n && !b; i++)
        if (look_same(&bs->b[i].look, l)) b = &bs->b[i], bs->last = i;
    if (!b) {
        if (bs->n == bs->cap) { /* the slots past n keep their paths' storage */
            size_t cap = bs->cap ? bs->cap * 2 : 32;
            bs->b = fm_xrealloc(bs->b, cap * sizeof *bs->b);
            memset(bs->b + bs->cap, 0, (cap - bs->cap) * sizeof *bs->b);
            bs->cap = cap;
        }
        bs->last = bs->n;
        b = &bs->b[bs->n++];
        b->look = *l;
        b->path.n = 0;
    }
    memcpy(path_grow(&b->path, shape->n), shape->d, (size_t)shape->n * sizeof *shape->d);
}

static void paint(cairo_t *cr, const struct view *v, const struct batch *b)
{
    const struct look *l = &b->look;
    cairo_new_path(cr);
    path_to_cairo(cr, &b->path);
    cairo_antialias_t aa = cairo_get_antialias(cr);
    if (l->crisp) cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE);
    if (l->stroke) {
        look_set_line(cr, l->line, v->scale);
        if (l->line == LINE_BEADS) { /* beads apart however wide */
            double d[2] = {0.1 * v->scale, fmax(16 * v->scale, 2.2 * l->width)};
            cairo_set_dash(cr, d, 2, 0);
        }
        cairo_set_line_cap(cr, l->cap);
        cairo_set_line_join(cr, l->join);
        cairo_set_line_width(cr, l->width);
        cairo_set_source_rgba(cr, l->c.r, l->c.g, l->c.b, l->c.a);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
    } else {
        cairo_set_fill_rule(cr, CAIRO_FILL_RULE_WINDING);
        if (l->pattern == FILL_SOLID) cairo_set_source_rgba(cr, l->c.r, l->c.g, l->c.b, l->c.a);
        else pattern_source(cr, l->pattern, l->c, l->wash, v);
        cairo_fill(cr);
    }
    cairo_set_antialias(cr, aa);
}

void batches_paint(struct batches *bs, cairo_t *cr, const struct view *v)
{
    int lo = 0;
    for (;;) { /* stages are few: one pass each */
        int next = -1;
        for (size_t i = 0; i < bs->n; i++) {
            int s = bs->b[i].look.stage;
            if (s == lo) paint(cr, v, &bs->b[i]);
            else if (s > lo && (next < 0 || s < next)) next = s;
        }
        if (next < 0) break;
        lo = next;
    }
    bs->n = 0;
    bs->last = 0;
}

void batches_cleanup(struct batches *bs)
{
    for (size_t i = 0; i < bs->cap; i++) path_free(&bs->b[i].path);
    free(bs->b);
    memset(bs, 0, sizeof *bs);
}

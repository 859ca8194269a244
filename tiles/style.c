/* style.c - how the situation looks: the one table of styles.
 *
 * Colour says who owns an item (the party colour, from the source); fill
 * pattern says what kind of zone it is; line style says where it stands
 * in its workflow; symbol shape says what kind of incident, size how
 * severe. Change the look here and nowhere else. */
#include "internal.h"

#include <string.h>

/* The rows come from common/vocabulary.def, the one list of the words
 * (what validation accepts and the viewer offers); each table ends with
 * the default row, for values written before the vocabulary was checked. */

/* Zones: pattern by type. */
const struct zone_type_style style_zone_types[] = {
#define ZONE_TYPE(name, label, fill, fill_alpha, look) \
    {#name, FILL_##fill, fill_alpha, label ": " look},
#include "vocabulary.def"
    {NULL, FILL_SOLID, 0.18, "other zone: light solid"},
};

/* Line style and strength by status (zones, incidents and movements); the
 * legend groups statuses drawn alike under one swatch. */
const struct status_style style_statuses[] = {
#define STATUS(name, label, colour, line, alpha, disputed, draft, colls) \
    {#name, LINE_##line, alpha, disputed, draft, label},
#include "vocabulary.def"
    {NULL, LINE_SOLID, 1.0, 0, 0, NULL},
};

/* Incidents: shape by category; radius by severity (render code). */
const struct incident_style style_incidents[] = {
#define CATEGORY(name, label, symbol, look) {#name, SYM_##symbol, label ": " look, label},
#include "vocabulary.def"
    {NULL, SYM_CIRCLE, "other incident: circle", "other incident"},
};

/* The 2525D symbol of each category (C) and movement kind (M). */
static const struct {
    const char *list, *name, *set, *entity;
} symbol_rows[] = {
#define SYMBOL(list, name, set, entity) {#list, #name, set, entity},
#include "vocabulary.def"
};

/* The icon of an entity in letters: milsymbol draws these entities with
 * an icon; the others are a frame only there as here. */
static const char *entity_glyph(const char *set, const char *entity)
{
    static const struct {
        const char *set, *entity, *glyph;
    } g[] = {{"40", "110600", "EXP"}, {"40", "110400", "SH"},  {"40", "130900", "INF"},
             {"40", "130500", "MN"},  {"01", "110300", "UAV"}, {"01", "110000", "MIL"}};
    for (size_t i = 0; i < sizeof g / sizeof *g; i++)
        if (!strcmp(g[i].set, set) && !strcmp(g[i].entity, entity)) return g[i].glyph;
    return "";
}

struct frame_sym style_frame_sym(const struct tile_source *src, enum tile_coll coll,
                                 const char *key, const char *party, const char *status)
{
    const char *list = coll == TILE_INCIDENT ? "C" : "M";
    const char *set = coll == TILE_INCIDENT ? "40" : "10", *entity = coll == TILE_INCIDENT ? "110000" : "000000";
    int found = 0;
    /* the named row, else the list's "other" (as symbols.js) */
    for (int pass = 0; pass < 2 && !found; pass++)
        for (size_t i = 0; i < sizeof symbol_rows / sizeof *symbol_rows; i++) {
            const char *want = pass ? "other" : key;
            if (want && !strcmp(symbol_rows[i].list, list) && !strcmp(symbol_rows[i].name, want)) {
                set = symbol_rows[i].set, entity = symbol_rows[i].entity, found = 1;
                break;
            }
        }
    struct frame_sym fs = {FRAME_NEUTRAL, DIM_LAND, 0, entity_glyph(set, entity), !strcmp(set, "40")};
    fs.dim = !strcmp(set, "01") ? DIM_AIR : !strcmp(set, "30") ? DIM_SEA : DIM_LAND;
    char other = src && src->frame_other ? src->frame_other : '4';
    if (src && src->own_party && party && !strcmp(src->own_party, party)) other = '3';
    fs.frame = other == '3' || other == '2' ? FRAME_FRIEND
               : other == '4'               ? FRAME_NEUTRAL
               : other == '5' || other == '6' ? FRAME_HOSTILE
                                              : FRAME_UNKNOWN;
    /* planned: a movement not under way (symbols.js) */
    fs.planned = coll == TILE_MOVEMENT && !(status && (!strcmp(status, "in_progress") ||
                                                       !strcmp(status, "completed")));
    return fs;
}

const struct rgba style_sea = {0.80, 0.88, 0.93, 1.0};
const struct rgba style_land = {0.96, 0.95, 0.92, 1.0};
const struct rgba style_border = {0.55, 0.52, 0.58, 1.0};
const struct rgba style_disputed = {0.85, 0.05, 0.05, 1.0};
const struct rgba style_unknown_party = {0.45, 0.45, 0.45, 1.0};
const struct rgba style_label_text = {0.10, 0.10, 0.12, 1.0};
const struct rgba style_label_halo = {1.0, 1.0, 1.0, 0.9};
const struct rgba style_grid = {0.25, 0.25, 0.35, 0.45};
const struct rgba style_overdue = {1.0, 0.62, 0.11, 1.0}; /* amber, as the wall's OVERDUE tag */
/* purple, for late notice: apart from red (disputed, conflicts), amber
 * (overdue) and the usual party colours */
const struct rgba style_late = {0.56, 0.16, 0.76, 1.0};

double style_symbol_zoom_factor(double zoom)
{
    double f = 0.5 + 0.125 * (zoom - 10);
    return f < 0.5 ? 0.5 : f > 1 ? 1 : f;
}

const struct zone_type_style *style_zone_type(const char *type)
{
    const struct zone_type_style *s = style_zone_types;
    for (; s->type; s++)
        if (type && type[0] == s->type[0] && strcmp(type, s->type) == 0) return s;
    return s;
}

const struct status_style *style_status(const char *status)
{
    const struct status_style *s = style_statuses;
    for (; s->status; s++)
        if (status && status[0] == s->status[0] && strcmp(status, s->status) == 0) return s;
    return s;
}

const struct incident_style *style_incident(const char *category)
{
    const struct incident_style *s = style_incidents;
    for (; s->category; s++)
        if (category && category[0] == s->category[0] && strcmp(category, s->category) == 0) return s;
    return s;
}

struct rgba style_party_colour(const struct tile_source *src, const char *party)
{
    double rgb[3];
    if (src && src->party_colour && party && src->party_colour(src->ctx, party, rgb))
        return (struct rgba){rgb[0], rgb[1], rgb[2], 1.0};
    return style_unknown_party;
}

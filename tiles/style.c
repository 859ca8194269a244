/* style.c - how the situation looks: the one table of styles.
 *
 * Colour says who owns an item (the party colour, from the source); fill
 * pattern says what kind of zone it is; line style says where it stands
 * in its workflow; symbol shape says what kind of incident, size how
 * severe. Change the look here and nowhere else. */
#include "internal.h"

#include <string.h>

/* Zones: pattern by type. */
const struct zone_type_style style_zone_types[] = {
    {"restricted", FILL_HATCH, 0.55, "restricted: diagonal hatch"},
    {"no_fly", FILL_CROSSHATCH, 0.55, "no-fly: cross hatch"},
    {"buffer", FILL_DOTS, 0.6, "buffer: dots"},
    {"humanitarian_corridor", FILL_STRIPES_WIDE, 0.35, "humanitarian corridor: wide stripes"},
    {"protected_site", FILL_SOLID, 0.35, "protected site: solid"},
    {NULL, FILL_SOLID, 0.18, "other zone: light solid"},
};

/* Line style and strength by status (zones, incidents and movements); the
 * legend groups statuses drawn alike under one swatch. */
const struct status_style style_statuses[] = {
    {"draft", LINE_DOTTED, 0.8, 0, 1, "draft"},
    {"proposed", LINE_DASHED, 1.0, 0, 0, "proposed"},
    {"notified", LINE_DASHED, 1.0, 0, 0, "notified"},
    {"reported", LINE_SOLID, 1.0, 0, 0, "reported"},
    {"active", LINE_SOLID, 1.0, 0, 0, "active"},
    {"acknowledged", LINE_SOLID, 1.0, 0, 0, "acknowledged"},
    {"in_progress", LINE_SOLID, 1.0, 0, 0, "in progress"},
    {"under_review", LINE_SOLID, 1.0, 0, 0, "under review"},
    {"disputed", LINE_SOLID, 1.0, 1, 0, "disputed"},
    {"expired", LINE_DOTTED, 0.35, 0, 0, "expired"},
    {"resolved", LINE_SOLID, 0.35, 0, 0, "resolved"},
    {"completed", LINE_SOLID, 0.35, 0, 0, "completed"},
    {"cancelled", LINE_DOTTED, 0.3, 0, 0, "cancelled"},
    {"withdrawn", LINE_DOTTED, 0.25, 0, 0, "withdrawn"},
    {NULL, LINE_SOLID, 1.0, 0, 0, NULL},
};

/* Incidents: shape by category; radius by severity (render code). */
const struct incident_style style_incidents[] = {
    {"shelling", SYM_STAR, "shelling: star"},
    {"gunfire", SYM_STAR, NULL},
    {"airspace", SYM_TRIANGLE, "airspace: triangle"},
    {"uav", SYM_TRIANGLE, NULL},
    {"mine", SYM_DIAMOND, "mine / UXO: diamond"},
    {"uxo", SYM_DIAMOND, NULL},
    {"casualty", SYM_CROSS, "casualty / medical: cross"},
    {"medical", SYM_CROSS, NULL},
    {"movement", SYM_SQUARE, "unannounced movement: square"},
    {NULL, SYM_CIRCLE, "other incident: circle"},
};

const struct rgba style_sea = {0.80, 0.88, 0.93, 1.0};
const struct rgba style_land = {0.96, 0.95, 0.92, 1.0};
const struct rgba style_border = {0.55, 0.52, 0.58, 1.0};
const struct rgba style_disputed = {0.85, 0.05, 0.05, 1.0};
const struct rgba style_unknown_party = {0.45, 0.45, 0.45, 1.0};
const struct rgba style_label_text = {0.10, 0.10, 0.12, 1.0};
const struct rgba style_label_halo = {1.0, 1.0, 1.0, 0.9};
const struct rgba style_grid = {0.25, 0.25, 0.35, 0.45};

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

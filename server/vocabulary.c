/* vocabulary.c - GET /vocabulary: the words of the situation (statuses,
 * zone types, incident categories and severities, movement kinds) with
 * their labels, colours and how the server draws them, from
 * common/vocabulary.def. The viewer's forms and legend are built from it;
 * validation and the tile styles read the same list. Public: it holds no
 * data, only the words. */
#include "srv.h"
#include "vocabulary.h"

#include <stdlib.h>
#include <string.h>

static const char *const look_key[VOCAB_LIST_COUNT] = {
    [VOCAB_STATUSES] = "line",
    [VOCAB_ZONE_TYPES] = "pattern",
    [VOCAB_CATEGORIES] = "symbol",
};

static json_t *term_json(enum vocab_list l, const struct vocab_term *t)
{
    json_t *o = json_object();
    if (l == VOCAB_SEVERITIES) json_object_set_new(o, "value", json_integer(atoi(t->name)));
    else json_object_set_new(o, "name", json_string(t->name));
    json_object_set_new(o, "label", json_string(t->label));
    if (t->colour) json_object_set_new(o, "colour", json_string(t->colour));
    if (t->look && look_key[l]) {
        /* "STRIPES_WIDE" -> "stripes_wide" */
        char low[32];
        size_t i = 0;
        for (; t->look[i] && i < sizeof low - 1; i++)
            low[i] = (char)(t->look[i] >= 'A' && t->look[i] <= 'Z' ? t->look[i] + 32 : t->look[i]);
        low[i] = '\0';
        json_object_set_new(o, look_key[l], json_string(low));
        if (t->legend)
            json_object_set_new(o, "legend", json_sprintf("%s: %s", t->label, t->legend));
    }
    if (l == VOCAB_STATUSES) {
        json_t *colls = json_array();
        static const char *const names[] = {"zones", "incidents", "movements"};
        for (unsigned c = 0; c < 3; c++)
            if (t->colls & (1u << c)) json_array_append_new(colls, json_string(names[c]));
        json_object_set_new(o, "collections", colls);
        json_object_set_new(o, "alpha", json_real(t->alpha));
        json_object_set_new(o, "disputed", json_boolean(t->disputed));
        json_object_set_new(o, "draft", json_boolean(t->draft));
    }
    if (l == VOCAB_ZONE_TYPES) json_object_set_new(o, "fill_alpha", json_real(t->alpha));
    const char *set, *entity;
    if (vocab_symbol(l, t->name, &set, &entity))
        json_object_set_new(o, "symbol_2525d", json_pack("{s:s,s:s}", "set", set, "entity", entity));
    return o;
}

/* ---- the workflow ------------------------------------------------------ */

static const char *const coll_name[3] = {"zones", "incidents", "movements"};

static json_t *by_json(unsigned by)
{
    static const struct {
        unsigned bit;
        const char *name;
    } who[] = {{VOCAB_BY_OWNER, "owner"},
               {VOCAB_BY_ANSWER, "acknowledgement"},
               {VOCAB_BY_DISPUTE, "dispute"},
               {VOCAB_BY_SUPERVISOR, "supervisor"}};
    json_t *a = json_array();
    for (size_t i = 0; i < sizeof who / sizeof *who; i++)
        if (by & who[i].bit) json_array_append_new(a, json_string(who[i].name));
    return a;
}

/* What a role may make of an item of coll in status `from`: on its own
 * party's items ("own": by PUT/PATCH, and "withdrawn" by DELETE), and on
 * another party's ("other": the supervisor's steps, and where an
 * acknowledgement or a dispute takes it). The supervisor is an arbiter on
 * its own party's items too (it may mark them disputed). */
static json_t *role_steps(const char *role, unsigned coll, const char *from)
{
    int liaison = !strcmp(role, "liaison"), sup = !strcmp(role, "supervisor");
    json_t *own = json_array(), *other = json_array();
    size_t count;
    const struct vocab_step *st = vocab_steps(&count);
    for (size_t i = 0; (liaison || sup) && i < count; i++) {
        if (st[i].coll != coll || strcmp(st[i].from, from)) continue;
        unsigned by = st[i].by;
        if ((by & VOCAB_BY_OWNER) || (sup && (by & (VOCAB_BY_DISPUTE | VOCAB_BY_SUPERVISOR))))
            json_array_append_new(own, json_string(st[i].to));
        if (by & (VOCAB_BY_ANSWER | VOCAB_BY_DISPUTE | (sup ? VOCAB_BY_SUPERVISOR : 0)))
            json_array_append_new(other, json_string(st[i].to));
    }
    if (liaison || sup) json_array_append_new(own, json_string("withdrawn"));
    return json_pack("{s:o,s:o}", "own", own, "other", other);
}

static json_t *workflow_json(void)
{
    static const char *const roles[] = {"liaison", "supervisor", "viewer", "admin"};
    json_t *wf = json_object(), *by_role = json_object();
    size_t count;
    const struct vocab_step *st = vocab_steps(&count);
    for (unsigned c = 0; c < 3; c++) {
        unsigned bit = 1u << c;
        json_t *start = json_array(), *steps = json_array();
        for (const char *const *s = vocab_starts(bit); *s; s++)
            json_array_append_new(start, json_string(*s));
        for (size_t i = 0; i < count; i++) {
            if (st[i].coll != bit) continue;
            json_t *o = json_pack("{s:s,s:s,s:o}", "from", st[i].from, "to", st[i].to, "by",
                                  by_json(st[i].by));
            if (st[i].note) json_object_set_new(o, "note", json_string(st[i].note));
            json_array_append_new(steps, o);
        }
        json_object_set_new(wf, coll_name[c],
                            json_pack("{s:o,s:o}", "start", start, "steps", steps));
    }
    for (size_t r = 0; r < sizeof roles / sizeof *roles; r++) {
        json_t *colls = json_object();
        for (unsigned c = 0; c < 3; c++) {
            json_t *states = json_object();
            for (const char *const *s = vocab_statuses(1u << c); *s; s++)
                if (strcmp(*s, "withdrawn") != 0)
                    json_object_set_new(states, *s, role_steps(roles[r], 1u << c, *s));
            json_object_set_new(colls, coll_name[c], states);
        }
        json_object_set_new(by_role, roles[r], colls);
    }
    json_object_set_new(wf, "roles", by_role);
    return wf;
}

/* The symbol frames (2525D standard identity) of what the viewer does
 * not own: neutral unless the admin says otherwise (serve --frame-other).
 * The cell is not at war with itself: no hostile frame by default. */
static const struct {
    const char *name, *digit;
} identities[] = {{"unknown", "1"}, {"friend", "3"}, {"neutral", "4"}, {"suspect", "5"},
                  {"hostile", "6"}};
static int frame_other = 2; /* neutral */

int srv_vocabulary_set_frame_other(const char *name)
{
    for (size_t i = 0; i < sizeof identities / sizeof *identities; i++)
        if (!strcmp(identities[i].name, name)) {
            frame_other = (int)i;
            return 0;
        }
    return -1;
}

char srv_vocabulary_frame_other(void)
{
    return identities[frame_other].digit[0];
}

static json_t *frames_json(void)
{
    return json_pack("{s:{s:s,s:s},s:{s:s,s:s}}", "own", "identity", "friend", "code", "3",
                     "others", "identity", identities[frame_other].name, "code",
                     identities[frame_other].digit);
}

int h_vocabulary(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    json_t *doc = json_object();
    for (int l = 0; l < VOCAB_LIST_COUNT; l++) {
        size_t count;
        const struct vocab_term *t = vocab_terms((enum vocab_list)l, &count);
        json_t *arr = json_array();
        for (size_t i = 0; i < count; i++)
            json_array_append_new(arr, term_json((enum vocab_list)l, &t[i]));
        json_object_set_new(doc, vocab_list_name((enum vocab_list)l), arr);
    }
    json_object_set_new(doc, "workflow", workflow_json());
    json_object_set_new(doc, "frames", frames_json());
    return srv_reply_json(r, 200, NULL, doc);
}

/* ---- the same words as JSON Schema, for /api ----------------------------- */

static json_t *names_enum(enum vocab_list l, unsigned coll_bit)
{
    json_t *e = json_array();
    if (l == VOCAB_STATUSES && coll_bit) {
        for (const char *const *s = vocab_statuses(coll_bit); *s; s++)
            json_array_append_new(e, json_string(*s));
        return json_pack("{s:s,s:o}", "type", "string", "enum", e);
    }
    size_t count;
    const struct vocab_term *t = vocab_terms(l, &count);
    for (size_t i = 0; i < count; i++)
        json_array_append_new(e, l == VOCAB_SEVERITIES ? json_integer(atoi(t[i].name))
                                                       : json_string(t[i].name));
    return json_pack("{s:s,s:o}", "type", l == VOCAB_SEVERITIES ? "integer" : "string", "enum",
                     e);
}

static json_t *ref(const char *name)
{
    return json_pack("{s:s+}", "$ref", "#/components/schemas/", name);
}

void srv_vocabulary_schemas(json_t *schemas)
{
    json_object_set_new(schemas, "Status", names_enum(VOCAB_STATUSES, 0));
    json_object_set_new(schemas, "ZoneStatus", names_enum(VOCAB_STATUSES, VOCAB_ZONES));
    json_object_set_new(schemas, "IncidentStatus", names_enum(VOCAB_STATUSES, VOCAB_INCIDENTS));
    json_object_set_new(schemas, "MovementStatus", names_enum(VOCAB_STATUSES, VOCAB_MOVEMENTS));
    json_object_set_new(schemas, "ZoneType", names_enum(VOCAB_ZONE_TYPES, 0));
    json_object_set_new(schemas, "IncidentCategory", names_enum(VOCAB_CATEGORIES, 0));
    json_object_set_new(schemas, "Severity", names_enum(VOCAB_SEVERITIES, 0));
    json_object_set_new(schemas, "MovementKind", names_enum(VOCAB_MOVEMENT_KINDS, 0));
    json_object_set_new(schemas, "ZoneProperties",
                        json_pack("{s:s,s:{s:o,s:o}}", "type", "object", "properties", "status",
                                  ref("ZoneStatus"), "type", ref("ZoneType")));
    json_object_set_new(schemas, "IncidentProperties",
                        json_pack("{s:s,s:{s:o,s:o,s:o}}", "type", "object", "properties",
                                  "status", ref("IncidentStatus"), "category",
                                  ref("IncidentCategory"), "severity", ref("Severity")));
    json_object_set_new(schemas, "MovementProperties",
                        json_pack("{s:s,s:{s:o,s:o}}", "type", "object", "properties", "status",
                                  ref("MovementStatus"), "type", ref("MovementKind")));
    json_object_set_new(
        schemas, "Feature",
        json_pack("{s:s,s:[s],s:{s:{s:s,s:[s]},s:{s:s},s:{s:[o,o,o]}}}", "type", "object",
                  "required", "type", "properties", "type", "type", "string", "enum", "Feature",
                  "geometry", "type", "object", "properties", "anyOf", ref("ZoneProperties"),
                  ref("IncidentProperties"), ref("MovementProperties")));
}

/* demo.c - the embedded demo: three parties, a user per role and a
 * realistic handful of items along a border area (lon 35.6-36.2,
 * lat 32.6-33.4). Validity windows are relative to now, so the demo
 * always shows a live situation. What is in force now was notified days
 * ago (rules.c: 48 h for a movement, 24 h for a zone), so it carries no
 * late notice; the one example of it is the medical evacuation flight,
 * urgent and notified as it started. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

struct demo_user {
    const char *name, *party, *role;
};

static const struct demo_user demo_users[] = {
    {"liaison-a", "A", "liaison"},   {"liaison-b", "B", "liaison"},
    {"supervisor", "SUP", "supervisor"}, {"viewer", "SUP", "viewer"},
    {"admin", "SUP", "admin"},
};

struct demo_item {
    const char *user;
    enum data_coll coll;
    const char *json; /* a Feature; %s marks valid_from then valid_to, or
                       * for an incident occurred_at then valid_from */
    int late;         /* notified as it starts: the late notice example */
};

/* Geometry in lon/lat; times filled in from now. */
static const struct demo_item demo_items[] = {
    {"liaison-a", DATA_ZONES,
     "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[35.70,33.02],"
     "[35.86,33.02],[35.88,33.12],[35.78,33.17],[35.68,33.11],[35.70,33.02]]]},\"properties\":"
     "{\"title\":\"Range North exercise area\",\"type\":\"restricted\",\"status\":\"proposed\","
     "\"description\":\"Live-fire training; keep clear.\",\"valid_from\":\"%s\",\"valid_to\":\"%s\","
     "\"altitude_floor_m\":0,\"altitude_ceiling_m\":3000}}",
     0},
    {"liaison-b", DATA_ZONES,
     "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[35.95,32.80],"
     "[36.12,32.80],[36.12,32.95],[35.95,32.95],[35.95,32.80]]]},\"properties\":{\"title\":"
     "\"Eastern airspace closure\",\"type\":\"no_fly\",\"status\":\"proposed\",\"valid_from\":"
     "\"%s\",\"valid_to\":\"%s\",\"altitude_floor_m\":0,\"altitude_ceiling_m\":6000}}",
     0},
    {"supervisor", DATA_ZONES,
     "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[35.88,32.70],"
     "[35.92,32.70],[35.94,33.30],[35.90,33.30],[35.88,32.70]]]},\"properties\":{\"title\":"
     "\"Humanitarian corridor H-1\",\"type\":\"humanitarian_corridor\",\"status\":\"proposed\","
     "\"valid_from\":\"%s\",\"valid_to\":\"%s\"}}",
     0},
    {"liaison-a", DATA_ZONES,
     "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[35.62,32.66],"
     "[35.72,32.66],[35.72,32.74],[35.62,32.74],[35.62,32.66]]]},\"properties\":{\"title\":"
     "\"Draft: southern buffer (A only)\",\"type\":\"buffer\",\"status\":\"draft\","
     "\"valid_from\":\"%s\",\"valid_to\":\"%s\"}}",
     0},
    {"liaison-b", DATA_INCIDENTS,
     "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[35.79,33.08]},"
     "\"properties\":{\"title\":\"Shelling reported near Range North\",\"category\":\"shelling\","
     "\"severity\":4,\"occurred_at\":\"%s\",\"valid_from\":\"%s\"}}",
     0},
    {"liaison-a", DATA_INCIDENTS,
     "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[36.05,32.88]},"
     "\"properties\":{\"title\":\"UAV sighting\",\"category\":\"airspace\",\"severity\":2,"
     "\"occurred_at\":\"%s\",\"valid_from\":\"%s\"}}",
     0},
    {"liaison-b", DATA_MOVEMENTS,
     "{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[35.64,33.20],"
     "[35.76,33.10],[35.90,33.00],[36.10,32.92]]},\"properties\":{\"title\":\"Supply convoy C-7\","
     "\"type\":\"ground\",\"corridor_width_m\":500,\"valid_from\":\"%s\",\"valid_to\":\"%s\"}}",
     0},
    {"liaison-a", DATA_MOVEMENTS,
     "{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[35.66,32.72],"
     "[35.85,32.78],[36.02,32.70]]},\"properties\":{\"title\":\"Medical evacuation flight\","
     "\"type\":\"air\",\"corridor_width_m\":2000,\"altitude_floor_m\":300,"
     "\"altitude_ceiling_m\":1500,\"urgent\":true,\"urgent_reason\":\"Casualties at the southern"
     " buffer; evacuation cannot wait for the notice period\",\"valid_from\":\"%s\","
     "\"valid_to\":\"%s\"}}",
     1},
};

static const struct data_viewer *find_viewer(const struct data_viewer *vs, const char *name)
{
    for (size_t i = 0; i < sizeof demo_users / sizeof *demo_users; i++)
        if (strcmp(vs[i].user, name) == 0) return &vs[i];
    return NULL;
}

fm_rc data_demo_seed(struct data_db *db, int *created, struct fm_err *err)
{
    *created = 0;
    long users;
    fm_rc rc = data_user_count(db, &users, err);
    if (rc || users > 0) return rc;

    if ((rc = data_party_add(db, "A", "Side A", "#1f6fd1", "side", err)) ||
        (rc = data_party_add(db, "B", "Side B", "#d9480f", "side", err)) ||
        (rc = data_party_add(db, "SUP", "Supervisor", "#2b8a3e", "supervisor", err)))
        return rc;

    struct data_viewer vs[sizeof demo_users / sizeof *demo_users];
    for (size_t i = 0; i < sizeof demo_users / sizeof *demo_users; i++) {
        const struct demo_user *u = &demo_users[i];
        enum data_role role;
        data_role_parse(u->role, &role);
        if ((rc = data_user_add(db, u->name, u->party, role, u->name, err))) return rc;
        if ((rc = data_user_check(db, u->name, u->name, &vs[i], err))) return rc;
    }

    char from[FM_TIME_STAMP_LEN], to[FM_TIME_STAMP_LEN];
    fm_time now = fm_time_now();
    fm_time_format(now - 6 * 3600, from);
    fm_time_format(now + 7 * 86400, to);
    /* an incident is in force from when it happened: two hours ago,
     * inside the windows of the zones and routes around it */
    char happened[FM_TIME_STAMP_LEN];
    fm_time_format(now - 2 * 3600, happened);
    struct data_limits lim;
    data_limits_default(&lim);
    for (size_t i = 0; i < sizeof demo_items / sizeof *demo_items; i++) {
        char text[2048];
        int incident = demo_items[i].coll == DATA_INCIDENTS;
        snprintf(text, sizeof text, demo_items[i].json, incident ? happened : from,
                 incident ? happened : to);
        json_error_t jerr;
        json_t *f = json_loads(text, 0, &jerr);
        json_t *out = NULL;
        if (!f) return fm_fail(err, FM_EINTERNAL, NULL, "demo item %zu: %s", i, jerr.text);
        /* notified three days ago, before the windows that started 6 h ago */
        deadline_stage_notice(demo_items[i].late ? 0 : 3 * 86400);
        rc = data_item_create(db, find_viewer(vs, demo_items[i].user), demo_items[i].coll, f, &lim,
                              &out, err);
        deadline_stage_notice(0);
        json_decref(f);
        json_decref(out);
        if (rc) return rc;
    }
    *created = 1;
    return FM_OK;
}

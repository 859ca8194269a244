/* test_conflicts.c - the deconfliction engine (data/conflicts.c) on a real
 * SpatiaLite file.
 *
 * 1. Against a brute-force reference: random zones, incidents and
 *    movements from a printed seed (FM_SEED=N repeats one run), created,
 *    moved and withdrawn through the store; after each batch the engine's
 *    open conflicts must equal those of an all-pairs check written here
 *    independently, as plain SQL over every pair with no spatial index.
 *    A full re-check must then change nothing, and a re-check as of a
 *    later time must again equal the reference at that time. Seeds that
 *    once failed stay in regression_seeds.
 * 2. The edges: polygons that touch, windows that meet at one instant,
 *    bands that touch, a corridor edge 1 cm short of and 1 cm into a zone,
 *    a corridor at latitude 69, stable ids, the supervisor's resolution,
 *    withdrawal, drafts, the events, opening and closing on time, and
 *    incidents all around a route's end just inside and outside the
 *    near distance.
 * 3. What the engine writes by hand stays what SQLite wrote: each conflict
 *    event's Feature text equals json_object over its row (odd altitudes,
 *    comments with every escaped byte), and fm_transform equals
 *    ST_Transform byte for byte.
 */
#include "check.h"
#include "data.h"
#include "sqlite/sqlite.h" /* the engine's connection, for fm_transform */

#include <math.h>
#include <sqlite3.h> /* before spatialite.h, which needs its types */
#include <spatialite.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct data_db *db;
static sqlite3 *ref; /* a second connection: the reference reads the file itself */
static void *ref_cache;
static struct data_limits lim;
static const struct data_viewer A = {1, "liaison-a", "A", DATA_ROLE_LIAISON};
static const struct data_viewer B = {2, "liaison-b", "B", DATA_ROLE_LIAISON};
static const struct data_viewer SUP = {3, "supervisor", "SUP", DATA_ROLE_SUPERVISOR};
static const struct data_viewer VIEWER = {4, "viewer", "SUP", DATA_ROLE_VIEWER};

static void open_db(const char *file)
{
    struct fm_err err;
    CHECK(data_open(file, &db, &err) == FM_OK, "open: %s", err.msg);
    CHECK(sqlite3_open_v2(file, &ref, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK, "open ref");
    ref_cache = spatialite_alloc_connection();
    spatialite_init_ex(ref, ref_cache, 0);
    sqlite3_busy_timeout(ref, 10000);
    data_limits_default(&lim);
}

static void close_db(void)
{
    data_close(db);
    sqlite3_close(ref);
    spatialite_cleanup_ex(ref_cache);
    db = NULL;
    ref = NULL;
}

/* ---- writing items ------------------------------------------------------ */

static int64_t create(const struct data_viewer *v, enum data_coll c, const char *text)
{
    json_error_t je;
    json_t *f = json_loads(text, 0, &je), *out = NULL;
    if (!f) {
        printf("bad test JSON %s: %s\n", je.text, text);
        return 0;
    }
    struct fm_err err;
    fm_rc rc = data_item_create(db, v, c, f, &lim, &out, &err);
    json_decref(f);
    CHECK(rc == FM_OK, "create %s: %s (%s)", data_coll_name(c), err.msg, text);
    int64_t id = rc ? 0 : json_integer_value(json_object_get(out, "id"));
    json_decref(out);
    return id;
}

static int64_t version_of(const struct data_viewer *v, enum data_coll c, int64_t id)
{
    json_t *f;
    struct fm_err err;
    if (data_item_get(db, v, c, id, &f, &err)) return 0;
    int64_t ver = json_integer_value(json_object_get(json_object_get(f, "properties"), "version"));
    json_decref(f);
    return ver;
}

static fm_rc patch(const struct data_viewer *v, enum data_coll c, int64_t id, const char *text)
{
    json_t *p = json_loads(text, 0, NULL), *out = NULL;
    struct fm_err err;
    fm_rc rc = data_item_patch(db, v, c, id, version_of(v, c, id), p, &lim, &out, &err);
    if (rc) printf("# patch %lld: %s\n", (long long)id, err.msg);
    json_decref(p);
    json_decref(out);
    return rc;
}

static fm_rc withdraw(const struct data_viewer *v, enum data_coll c, int64_t id)
{
    struct fm_err err;
    fm_rc rc = data_item_withdraw(db, v, c, id, version_of(v, c, id), &err);
    if (rc) printf("# withdraw %lld: %s\n", (long long)id, err.msg);
    return rc;
}

/* ---- the reference: every pair, plain SQL, no index ---------------------- */

#define REF_LIVE(x) x ".sys_to IS NULL AND " x ".status NOT IN ('withdrawn','expired','resolved','completed','cancelled')"
#define REF_LO "max(coalesce(a.valid_from, -9e18), coalesce(b.valid_from, -9e18))"
#define REF_HI "min(coalesce(a.valid_to, 9e18), coalesce(b.valid_to, 9e18))"
#define REF_ALT "max(coalesce(a.alt_floor, -1e300), coalesce(b.alt_floor, -1e300)) < min(coalesce(a.alt_ceiling, 1e300), coalesce(b.alt_ceiling, 1e300))"
#define REF_VIS "CASE WHEN a.status = 'draft' THEN a.party WHEN b.status = 'draft' THEN b.party ELSE '' END"
#define REF_SEEN "NOT (a.status = 'draft' AND b.status = 'draft' AND a.party <> b.party)"
/* the UTM zone of movement x's bounding-box centre */
#define REF_UTM(x)                                                                                \
    "((CASE WHEN (MbrMinY(" x ".geom) + MbrMaxY(" x ".geom)) / 2 >= 0 THEN 32600 ELSE 32700 END)" \
    " + min(60, max(1, CAST(((MbrMinX(" x ".geom) + MbrMaxX(" x ".geom)) / 2 + 180) / 6"        \
    " AS INTEGER) + 1)))"
#define REF_PAIR(kind)                                                                            \
    "SELECT '" kind "', a.item_id, a.version, b.item_id, b.version, " REF_VIS                    \
    " FROM item_versions a, item_versions b WHERE " REF_LIVE("a") " AND " REF_LIVE("b")          \
    " AND " REF_SEEN " AND " REF_LO " < " REF_HI " AND " REF_HI " > :now AND "

static const char *const ref_sql =
    REF_PAIR("movement_crosses_zone")
    "a.collection = 'movements' AND b.collection = 'zones'"
    " AND (b.type IN ('restricted', 'protected_site') OR (b.type = 'no_fly' AND a.type = 'air'))"
    " AND (coalesce(a.type, '') <> 'air' OR " REF_ALT ")"
    " AND (ST_Distance(ST_Transform(a.geom, " REF_UTM("a") "), ST_Transform(b.geom, " REF_UTM("a")
    ")) < coalesce(json_extract(a.feature, '$.properties.corridor_width_m'), 0) / 2.0"
    "  OR ST_Relate(a.geom, b.geom, 'T********') = 1)"
    " UNION ALL " REF_PAIR("zones_overlap")
    "a.collection = 'zones' AND b.collection = 'zones' AND a.item_id < b.item_id"
    " AND a.party <> b.party AND " REF_ALT " AND ST_Relate(a.geom, b.geom, 'T********') = 1"
    " UNION ALL " REF_PAIR("incident_in_zone")
    "a.collection = 'incidents' AND b.collection = 'zones'"
    " AND ST_Relate(a.geom, b.geom, 'T********') = 1"
    " UNION ALL " REF_PAIR("incident_near_movement")
    "a.collection = 'incidents' AND b.collection = 'movements' AND " REF_LO " <= :now"
    " AND ST_Distance(ST_Transform(a.geom, " REF_UTM("b") "), ST_Transform(b.geom, " REF_UTM("b")
    ")) < (SELECT value FROM conflict_settings WHERE key = 'incident_near_m')"
    " ORDER BY 1, 2, 4";

static const char *const engine_sql =
    "SELECT kind, a_id, a_version, b_id, b_version, coalesce(vis_party, '') FROM conflicts"
    " WHERE state = 'open' ORDER BY 1, 2, 4";

/* The rows of sql as lines "kind a@v b@v vis" in one string (malloc). */
static char *rows_text(const char *sql, fm_time now, long *n)
{
    sqlite3_stmt *st;
    *n = 0;
    if (sqlite3_prepare_v2(ref, sql, -1, &st, NULL) != SQLITE_OK) {
        printf("reference SQL: %s\n", sqlite3_errmsg(ref));
        return strdup("(error)");
    }
    int i = sqlite3_bind_parameter_index(st, ":now");
    if (i) sqlite3_bind_int64(st, i, now);
    struct fm_buf b;
    fm_buf_init(&b, 64 << 20);
    while (sqlite3_step(st) == SQLITE_ROW) {
        fm_buf_printf(&b, "%s %lld@%lld %lld@%lld [%s]\n", sqlite3_column_text(st, 0),
                      (long long)sqlite3_column_int64(st, 1), (long long)sqlite3_column_int64(st, 2),
                      (long long)sqlite3_column_int64(st, 3), (long long)sqlite3_column_int64(st, 4),
                      sqlite3_column_text(st, 5));
        (*n)++;
    }
    sqlite3_finalize(st);
    char *s = fm_buf_take(&b, NULL);
    return s ? s : strdup("");
}

/* The engine's open conflicts equal the reference's at now. */
static int same_as_reference(fm_time now, const char *what)
{
    long ne, nr;
    char *e = rows_text(engine_sql, now, &ne), *r = rows_text(ref_sql, now, &nr);
    int same = strcmp(e, r) == 0;
    CHECK(same, "%s: the engine's %ld open conflicts differ from the reference's %ld:\n"
                "engine:\n%sreference:\n%s",
          what, ne, nr, e, r);
    free(e);
    free(r);
    return same;
}

/* ---- 1. random items against the reference --------------------------------- */

static unsigned rnd_state;
static unsigned rnd(unsigned n)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return (rnd_state >> 8) % n;
}

struct made {
    enum data_coll c;
    const struct data_viewer *v;
    int64_t id;
};

static void times(char *out, size_t n, fm_time t0)
{
    /* window ends on a grid 10 minutes off now, so a run's few seconds
     * never cross one; sometimes open, sometimes meeting exactly */
    char f[FM_TIME_STAMP_LEN], t[FM_TIME_STAMP_LEN];
    int k0 = (int)rnd(8) - 4, k1 = k0 + (int)rnd(5);
    fm_time_format(t0 + k0 * 3600 + 600, f);
    fm_time_format(t0 + k1 * 3600 + 600 + (k1 == k0 ? 3600 : 0), t);
    switch (rnd(4)) {
    case 0: out[0] = '\0'; break;
    case 1: snprintf(out, n, ",\"valid_from\":\"%s\"", f); break;
    default: snprintf(out, n, ",\"valid_from\":\"%s\",\"valid_to\":\"%s\"", f, t);
    }
}

static void band(char *out, size_t n)
{
    static const char *const bands[] = {"", ",\"altitude_floor_m\":0,\"altitude_ceiling_m\":1000",
                                        ",\"altitude_floor_m\":1000,\"altitude_ceiling_m\":3000",
                                        ",\"altitude_floor_m\":500,\"altitude_ceiling_m\":1500",
                                        ",\"altitude_floor_m\":2000"};
    snprintf(out, n, "%s", bands[rnd(5)]);
}

static void random_feature(enum data_coll c, double x0, double y0, char *out, size_t n, fm_time t0)
{
    char tm[160], al[80], geom[400];
    times(tm, sizeof tm, t0);
    band(al, sizeof al);
    const double g = 0.01; /* a grid, so that edges often coincide */
    double x = x0 + g * rnd(20), y = y0 + g * rnd(20);
    if (c == DATA_ZONES) {
        double w = g * (1 + rnd(6)), h = g * (1 + rnd(6));
        snprintf(geom, sizeof geom,
                 "{\"type\":\"Polygon\",\"coordinates\":[[[%.6f,%.6f],[%.6f,%.6f],[%.6f,%.6f],"
                 "[%.6f,%.6f],[%.6f,%.6f]]]}",
                 x, y, x + w, y, x + w, y + h, x, y + h, x, y);
        static const char *const types[] = {"restricted", "no_fly", "buffer", "protected_site",
                                            "humanitarian_corridor"};
        snprintf(out, n,
                 "{\"type\":\"Feature\",\"geometry\":%s,\"properties\":{\"type\":\"%s\","
                 "\"status\":\"%s\"%s%s}}",
                 geom, types[rnd(5)], rnd(3) ? "proposed" : "draft", tm, al);
    } else if (c == DATA_INCIDENTS) {
        if (rnd(4))
            snprintf(geom, sizeof geom, "{\"type\":\"Point\",\"coordinates\":[%.6f,%.6f]}",
                     x + g / 2 * rnd(2), y + g / 2 * rnd(2));
        else
            snprintf(geom, sizeof geom,
                     "{\"type\":\"Polygon\",\"coordinates\":[[[%.6f,%.6f],[%.6f,%.6f],"
                     "[%.6f,%.6f],[%.6f,%.6f]]]}",
                     x, y, x + g, y, x, y + g, x, y);
        snprintf(out, n,
                 "{\"type\":\"Feature\",\"geometry\":%s,\"properties\":{\"severity\":%u,"
                 "\"status\":\"%s\"%s}}",
                 geom, 1 + rnd(5), rnd(3) ? "reported" : "draft", tm);
    } else {
        if (rnd(5))
            snprintf(geom, sizeof geom,
                     "{\"type\":\"LineString\",\"coordinates\":[[%.6f,%.6f],[%.6f,%.6f],"
                     "[%.6f,%.6f]]}",
                     x, y, x + g * (1 + rnd(8)), y + g * rnd(8), x0 + g * rnd(20),
                     y0 + g * rnd(20));
        else
            snprintf(geom, sizeof geom, "{\"type\":\"Point\",\"coordinates\":[%.6f,%.6f]}", x, y);
        static const int widths[] = {0, 200, 1000, 3000};
        snprintf(out, n,
                 "{\"type\":\"Feature\",\"geometry\":%s,\"properties\":{\"type\":\"%s\","
                 "\"corridor_width_m\":%d,\"status\":\"%s\"%s%s}}",
                 geom, rnd(2) ? "air" : "ground", widths[rnd(4)], rnd(3) ? "notified" : "draft",
                 tm, al);
    }
}

static void store_checks(unsigned seed);
static long texts_as_sqlite(const char *what);

static void random_run(unsigned seed, const char *dir)
{
    printf("# random run, seed %u (FM_SEED=%u repeats it)\n", seed, seed);
    rnd_state = seed;
    char file[300];
    snprintf(file, sizeof file, "%s/random-%u.db", dir, seed);
    open_db(file);
    struct fm_err err;
    /* an incident within 1.5 km of a route in progress */
    CHECK(data_conflicts_set_near(db, 1500, &err) == FM_OK, "set near: %s", err.msg);
    fm_time t0 = fm_time_now();
    /* anywhere from the equator to the high north and south */
    double x0 = (double)rnd(340) - 170, y0 = (double)rnd(141) - 70;
    enum { N = 90 };
    struct made made[N];
    int nmade = 0;
    int failed_before = check_failed;
    for (int step = 0; step < N; step++) {
        unsigned op = rnd(20);
        char text[1200];
        if (op < 16 || nmade == 0) {
            enum data_coll c = op < 7 ? DATA_ZONES : op < 11 ? DATA_INCIDENTS : DATA_MOVEMENTS;
            const struct data_viewer *v = rnd(2) ? &A : &B;
            random_feature(c, x0, y0, text, sizeof text, t0);
            int64_t id = create(v, c, text);
            if (id) made[nmade++] = (struct made){c, v, id};
        } else if (op < 19) {
            /* move it somewhere else, with new times and band */
            struct made *m = &made[rnd((unsigned)nmade)];
            char feature[1200], p[1300];
            random_feature(m->c, x0, y0, feature, sizeof feature, t0);
            json_t *f = json_loads(feature, 0, NULL);
            json_object_del(json_object_get(f, "properties"), "status");
            char *props = json_dumps(json_object_get(f, "properties"), JSON_COMPACT);
            char *g = json_dumps(json_object_get(f, "geometry"), JSON_COMPACT);
            snprintf(p, sizeof p, "{\"geometry\":%s,\"properties\":%s}", g, props);
            free(props);
            free(g);
            json_decref(f);
            patch(m->v, m->c, m->id, p);
        } else {
            struct made *m = &made[rnd((unsigned)nmade)];
            withdraw(m->v, m->c, m->id);
        }
        if (step % 30 == 29) {
            char what[64];
            snprintf(what, sizeof what, "seed %u after step %d", seed, step);
            same_as_reference(fm_time_now(), what);
        }
    }
    /* a full re-check of a consistent store changes nothing */
    struct data_recheck_stats st;
    CHECK(data_conflicts_recheck(db, fm_time_now(), &st, &err) == FM_OK, "recheck: %s", err.msg);
    long nref;
    free(rows_text(ref_sql, fm_time_now(), &nref));
    CHECK(st.opened == 0 && st.resolved == 0 && st.found == nref,
          "seed %u: a re-check now changes nothing (opened %ld, resolved %ld, found %ld of %ld)",
          seed, st.opened, st.resolved, st.found, nref);
    printf("# seed %u: %d items, %ld conflicts open\n", seed, nmade, nref);
    /* time passes: as of 2 h and 5 h later, and back to now */
    for (int h = 2; h <= 5; h += 3) {
        fm_time later = t0 + h * 3600;
        CHECK(data_conflicts_recheck(db, later, &st, &err) == FM_OK, "recheck: %s", err.msg);
        char what[64];
        snprintf(what, sizeof what, "seed %u, %d h later", seed, h);
        same_as_reference(later, what);
    }
    CHECK(data_conflicts_recheck(db, fm_time_now(), &st, &err) == FM_OK, "recheck: %s", err.msg);
    same_as_reference(fm_time_now(), "back to now");
    int64_t bad = -1, count = 0;
    CHECK(data_events_verify(db, &bad, &count, &err) == FM_OK && bad == 0,
          "the event chain holds with conflict events (%lld)", (long long)bad);
    store_checks(seed);
    if (check_failed > failed_before) printf("# FAILED: keep seed %u in regression_seeds\n", seed);
    close_db();
}

/* ---- 2. the edges ------------------------------------------------------------ */

#define ZONE(x0, y0, x1, y1, type, status, extra)                                                \
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[" #x0 "," #y0    \
    "],[" #x1 "," #y0 "],[" #x1 "," #y1 "],[" #x0 "," #y1 "],[" #x0 "," #y0 "]]]},"              \
    "\"properties\":{\"type\":\"" type "\",\"status\":\"" status "\"" extra "}}"

static long open_between(int64_t a, int64_t b)
{
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM conflicts WHERE state = 'open' AND ((a_id = %lld AND b_id ="
             " %lld) OR (a_id = %lld AND b_id = %lld))",
             (long long)a, (long long)b, (long long)b, (long long)a);
    sqlite3_stmt *st;
    long n = -1;
    if (sqlite3_prepare_v2(ref, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

static int64_t conflict_id(int64_t a, int64_t b)
{
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT id FROM conflicts WHERE (a_id = %lld AND b_id = %lld) OR (a_id = %lld AND"
             " b_id = %lld)",
             (long long)a, (long long)b, (long long)b, (long long)a);
    sqlite3_stmt *st;
    int64_t id = 0;
    if (sqlite3_prepare_v2(ref, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return id;
}

static double ref_double(const char *sql)
{
    sqlite3_stmt *st;
    double d = NAN;
    if (sqlite3_prepare_v2(ref, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        d = sqlite3_column_double(st, 0);
    else
        printf("ref: %s\n", sqlite3_errmsg(ref));
    sqlite3_finalize(st);
    return d;
}

/* What the engine's shortcuts must not change: the conflicts' spatial
 * index (kept by plain SQL triggers, migration 4) holds each conflict's
 * box, ST_Transform given both CRSs by name projects exactly as given
 * the SRIDs only (both ways), for every item in its UTM zone, and each
 * conflict's GeoJSON text says its geometry. */
static void store_checks(unsigned seed)
{
    double missing = ref_double(
        "SELECT count(*) FROM conflicts c WHERE c.geom IS NOT NULL AND NOT EXISTS (SELECT 1"
        " FROM idx_conflicts_geom r WHERE r.pkid = c.id AND r.xmin <= MbrMinX(c.geom)"
        " AND r.xmax >= MbrMaxX(c.geom) AND r.ymin <= MbrMinY(c.geom)"
        " AND r.ymax >= MbrMaxY(c.geom))");
    double extra = ref_double("SELECT count(*) FROM idx_conflicts_geom r WHERE NOT EXISTS"
                              " (SELECT 1 FROM conflicts c WHERE c.id = r.pkid"
                              " AND c.geom IS NOT NULL)");
    double n = ref_double("SELECT count(*) FROM conflicts");
    CHECK(missing == 0 && extra == 0 && n > 0,
          "seed %u: the spatial index holds each of the %.0f conflicts' boxes (%.0f missing,"
          " %.0f extra)",
          seed, n, missing, extra);
    double differ = ref_double(
        "SELECT count(*) FROM (SELECT geom, " REF_UTM("v") " AS u FROM item_versions v)"
        " WHERE ST_Transform(geom, u) IS NOT ST_Transform(geom, u, NULL, 'EPSG:4326',"
        " 'EPSG:' || u) OR ST_Transform(ST_Transform(geom, u), 4326) IS NOT"
        " ST_Transform(ST_Transform(geom, u), 4326, NULL, 'EPSG:' || u, 'EPSG:4326')");
    CHECK(differ == 0, "seed %u: ST_Transform by CRS names equals by SRIDs (%.0f differ)", seed,
          differ);
    /* each row's GeoJSON text (geom.c writes it, the Feature keeps it) is
     * its geometry, to the 15 decimals it prints */
    double rows = ref_double("SELECT count(*) FROM conflicts WHERE geom IS NOT NULL");
    double apart = ref_double(
        "SELECT count(*) FROM conflicts WHERE geom IS NOT NULL AND (geojson IS NULL"
        " OR NOT HausdorffDistance(GeomFromGeoJSON(geojson), geom) < 1e-12)");
    CHECK(rows > 0 && apart == 0,
          "seed %u: the GeoJSON text of each of %.0f clashes is its geometry (%.0f apart)", seed,
          rows, apart);
    char what[64];
    snprintf(what, sizeof what, "seed %u", seed);
    texts_as_sqlite(what);
}

/* ---- 3. the Feature text at its edges ------------------------------------------ */

/* Altitudes that print in every way "%!.15g" knows, comments with every
 * byte JSON escapes, times far apart: each event's text equals
 * json_object's. */
static void texts(const char *dir)
{
    char file[300];
    snprintf(file, sizeof file, "%s/texts.db", dir);
    open_db(file);
    struct fm_err err;
    static const char *const alts[] = {"0",         "0.1",      "1e-7",   "123.456789012345678",
                                       "1500",      "2999.99999", "-999.5", "99999.9999999999",
                                       "-0.000001", "7.5e-300", "33.3333333333333333", "-12",
                                       "12345.25",  "1e-5"};
    const size_t nalts = sizeof alts / sizeof *alts;
    static const char *const comments[] = {
        "plain", "quote \" and backslash \\ and slash /", "tab\tnew\nline\rcr\bbs\fff",
        "\x01\x02\x1f\x7f control", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\x81 unicode",
        "</script>{\"json\":[1,2]}"};
    const size_t ncomments = sizeof comments / sizeof *comments;
    char text[1500];
    int64_t zone = create(&A, DATA_ZONES,
                          "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Polygon\","
                          "\"coordinates\":[[[50,20],[50.1,20],[50.1,20.1],[50,20.1],[50,20]]]},"
                          "\"properties\":{\"type\":\"no_fly\",\"status\":\"proposed\",\"valid_from\":"
                          "\"2001-02-03T04:05:06Z\",\"valid_to\":\"9999-12-31T23:59:59Z\"}}");
    long made = 0;
    for (size_t i = 0; i < nalts; i++) {
        const char *hi = alts[(i + 5) % nalts];
        if (strtod(hi, NULL) <= strtod(alts[i], NULL)) hi = "100000";
        snprintf(text, sizeof text,
                 "{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\","
                 "\"coordinates\":[[49.95,20.05],[50.05,20.0%zu]]},\"properties\":{\"type\":"
                 "\"air\",\"corridor_width_m\":%zu,\"altitude_floor_m\":%s,"
                 "\"altitude_ceiling_m\":%s%s}}",
                 i, 10 * i, alts[i], hi, i % 3 ? ",\"status\":\"draft\"" : "");
        int64_t m = create(&B, DATA_MOVEMENTS, text);
        int64_t c = conflict_id(m, zone);
        CHECK(c > 0, "movement at %s-%s m crosses the no-fly zone", alts[i], hi);
        if (c <= 0) continue;
        made++;
        if (i % 3 == 1)
            CHECK(patch(&B, DATA_MOVEMENTS, m, "{\"properties\":{\"status\":\"notified\"}}") ==
                      FM_OK,
                  "notify the draft");
        if (i % 3 == 0) {
            json_t *out = NULL;
            CHECK(data_conflict_resolve(db, &SUP, c, comments[i % ncomments], &out, &err) ==
                      FM_OK,
                  "resolve with comment %zu: %s", i % ncomments, err.msg);
            json_decref(out);
        }
    }
    /* drafts proposed: their conflicts become everyone's (an event with a before) */
    CHECK(texts_as_sqlite("odd altitudes and comments") >= made, "every conflict was compared");
    close_db();
}

/* Each conflict event's texts are byte for byte what json_object says of
 * the row they tell (CONFLICT_FEATURE_SQL, the SQL data_conflicts_query
 * runs): its `after` for every event whose revision is still
 * the row's; its `before` for every event whose previous revision had
 * its own event too (the `after` of that one). Returns how many were
 * compared. */
static long texts_as_sqlite(const char *what)
{
    sqlite3_stmt *st;
    long n = -1, differ = -1, nb = -1, bdiffer = -1;
    if (sqlite3_prepare_v2(ref,
                           "SELECT count(*), coalesce(sum(e.after IS NOT " CONFLICT_FEATURE_SQL "), 0)"
                           " FROM conflicts c JOIN events e ON e.collection = 'conflicts'"
                           " AND e.item_id = c.id AND e.version = c.revision",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        n = sqlite3_column_int(st, 0);
        differ = sqlite3_column_int(st, 1);
    } else {
        printf("texts: %s\n", sqlite3_errmsg(ref));
    }
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(ref,
                           "SELECT count(*), coalesce(sum(e.before IS NOT p.after), 0) FROM events e"
                           " JOIN events p ON p.collection = 'conflicts' AND p.item_id = e.item_id"
                           " AND p.version = e.version - 1 WHERE e.collection = 'conflicts'"
                           " AND e.before IS NOT NULL",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        nb = sqlite3_column_int(st, 0);
        bdiffer = sqlite3_column_int(st, 1);
    }
    sqlite3_finalize(st);
    CHECK(differ == 0 && bdiffer == 0,
          "%s: the conflict events' texts are json_object's (%ld of %ld after, %ld of %ld before"
          " differ)",
          what, differ, n, bdiffer, nb);
    if (differ > 0 && sqlite3_prepare_v2(ref,
                                         "SELECT e.after, " CONFLICT_FEATURE_SQL " FROM conflicts c"
                                         " JOIN events e ON e.collection = 'conflicts'"
                                         " AND e.item_id = c.id AND e.version = c.revision"
                                         " WHERE e.after IS NOT " CONFLICT_FEATURE_SQL " LIMIT 1",
                                         -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            printf("engine:  %s\nsqlite: %s\n", sqlite3_column_text(st, 0),
                   sqlite3_column_text(st, 1));
        sqlite3_finalize(st);
    }
    return n;
}

static int count_cb(void *ctx, int64_t id, const char *feature)
{
    (void)id, (void)feature;
    (*(long *)ctx)++;
    return 0;
}

static long visible(const struct data_viewer *v, const char *state)
{
    struct data_conflict_query q = {state, 0, {0, 0, 0, 0}, 10000, 0, DATA_GEOM_ANY, 0, 0, 0, 0, 0};
    long matched = -1, n = 0;
    struct fm_err err;
    CHECK(data_conflicts_query(db, v, &q, count_cb, &n, &matched, &err) == FM_OK, "query: %s",
          err.msg);
    CHECK(n == matched, "numberMatched %ld equals the rows %ld", matched, n);
    return matched;
}

static void edges(const char *dir)
{
    char file[300];
    snprintf(file, sizeof file, "%s/edges.db", dir);
    open_db(file);
    struct fm_err err;
    struct data_recheck_stats st;
    char text[1500];

    /* polygons that only touch do not conflict; a sliver of overlap does */
    int64_t za = create(&A, DATA_ZONES, ZONE(10.0, 10.0, 10.1, 10.1, "restricted", "proposed", ""));
    int64_t zb = create(&B, DATA_ZONES, ZONE(10.1, 10.0, 10.2, 10.1, "restricted", "proposed", ""));
    CHECK(open_between(za, zb) == 0, "zones that share an edge only do not overlap");
    CHECK(patch(&B, DATA_ZONES, zb,
                "{\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[10.0999,10.0],[10.2,10.0],"
                "[10.2,10.1],[10.0999,10.1],[10.0999,10.0]]]}}") == FM_OK,
          "move zone b");
    CHECK(open_between(za, zb) == 1, "a 10 m overlap is a conflict");
    int64_t cid = conflict_id(za, zb);
    CHECK(data_conflicts_recheck(db, fm_time_now(), &st, &err) == FM_OK && st.opened == 0 &&
              st.resolved == 0 && conflict_id(za, zb) == cid,
          "re-checking the unchanged pair keeps the same conflict");
    CHECK(patch(&B, DATA_ZONES, zb,
                "{\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[10.1,10.0],[10.2,10.0],"
                "[10.2,10.1],[10.1,10.1],[10.1,10.0]]]}}") == FM_OK,
          "move zone b back");
    CHECK(open_between(za, zb) == 0 && conflict_id(za, zb) == cid,
          "moving it away resolves the same conflict");
    CHECK(patch(&B, DATA_ZONES, zb,
                "{\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[10.05,10.0],[10.2,10.0],"
                "[10.2,10.1],[10.05,10.1],[10.05,10.0]]]}}") == FM_OK,
          "move zone b in again");
    CHECK(open_between(za, zb) == 1 && conflict_id(za, zb) == cid,
          "the clash coming back re-opens the same conflict id");
    /* a corner touching a corner */
    int64_t zc = create(&B, DATA_ZONES, ZONE(10.1, 10.1, 10.2, 10.2, "buffer", "proposed", ""));
    CHECK(open_between(za, zc) == 0, "zones touching at a corner do not overlap");
    /* an incident on the boundary is not inside; one just inside is */
    int64_t i1 = create(&B, DATA_INCIDENTS,
                        "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":"
                        "[10.0,10.05]},\"properties\":{\"severity\":2}}");
    CHECK(open_between(i1, za) == 0, "an incident on a zone's boundary is not inside it");
    CHECK(patch(&B, DATA_INCIDENTS, i1,
                "{\"geometry\":{\"type\":\"Point\",\"coordinates\":[10.0001,10.05]}}") == FM_OK,
          "move the incident");
    CHECK(open_between(i1, za) == 1, "an incident 10 m inside is in the zone");

    /* time windows that meet at one instant do not overlap */
    fm_time now = fm_time_now();
    char t1[FM_TIME_STAMP_LEN], t2[FM_TIME_STAMP_LEN], t3[FM_TIME_STAMP_LEN],
        t2m[FM_TIME_STAMP_LEN];
    fm_time_format(now + 3600, t1);
    fm_time_format(now + 7200, t2);
    fm_time_format(now + 7199, t2m);
    fm_time_format(now + 10800, t3);
    snprintf(text, sizeof text,
             ZONE(20.0, 10.0, 20.1, 10.1, "restricted", "proposed",
                  ",\"valid_from\":\"%s\",\"valid_to\":\"%s\""),
             t1, t2);
    int64_t ta = create(&A, DATA_ZONES, text);
    snprintf(text, sizeof text,
             ZONE(20.05, 10.0, 20.15, 10.1, "restricted", "proposed",
                  ",\"valid_from\":\"%s\",\"valid_to\":\"%s\""),
             t2, t3);
    int64_t tb = create(&B, DATA_ZONES, text);
    CHECK(open_between(ta, tb) == 0, "windows that meet at one instant do not overlap");
    snprintf(text, sizeof text, "{\"properties\":{\"valid_from\":\"%s\"}}", t2m);
    CHECK(patch(&B, DATA_ZONES, tb, text) == FM_OK, "start b a second earlier");
    CHECK(open_between(ta, tb) == 1, "windows that share one second overlap");
    /* ... and the conflict ends when the window does, without a write */
    CHECK(data_conflicts_recheck(db, now + 7200, &st, &err) == FM_OK, "recheck at t2");
    CHECK(open_between(ta, tb) == 0, "the conflict closes on time when the overlap has passed");
    CHECK(data_conflicts_recheck(db, now, &st, &err) == FM_OK, "recheck now");
    CHECK(open_between(ta, tb) == 1, "and is open again as of now");

    /* altitude bands that touch do not overlap */
    int64_t aa = create(&A, DATA_ZONES,
                        ZONE(30.0, 10.0, 30.1, 10.1, "no_fly", "proposed",
                             ",\"altitude_floor_m\":0,\"altitude_ceiling_m\":1000"));
    int64_t ab = create(&B, DATA_ZONES,
                        ZONE(30.0, 10.0, 30.1, 10.1, "no_fly", "proposed",
                             ",\"altitude_floor_m\":1000,\"altitude_ceiling_m\":2000"));
    CHECK(open_between(aa, ab) == 0, "bands 0-1000 and 1000-2000 m do not overlap");
    CHECK(patch(&B, DATA_ZONES, ab, "{\"properties\":{\"altitude_floor_m\":999}}") == FM_OK,
          "lower b");
    CHECK(open_between(aa, ab) == 1, "bands 0-1000 and 999-2000 m overlap");
    /* an airborne movement above a no-fly band passes; a ground one ignores no-fly */
    int64_t air = create(&B, DATA_MOVEMENTS,
                         "{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\","
                         "\"coordinates\":[[29.9,10.05],[30.2,10.05]]},\"properties\":{\"type\":"
                         "\"air\",\"corridor_width_m\":100,\"altitude_floor_m\":2500,"
                         "\"altitude_ceiling_m\":3000}}");
    CHECK(open_between(air, aa) == 0 && open_between(air, ab) == 0,
          "a flight above both no-fly bands is clear");
    CHECK(patch(&B, DATA_MOVEMENTS, air, "{\"properties\":{\"altitude_floor_m\":1500}}") == FM_OK,
          "descend");
    CHECK(open_between(air, ab) == 1 && open_between(air, aa) == 0,
          "descending into the 999-2000 m band crosses that zone only");
    CHECK(patch(&B, DATA_MOVEMENTS, air, "{\"properties\":{\"type\":\"ground\"}}") == FM_OK,
          "on the ground");
    CHECK(open_between(air, ab) == 0, "a no-fly zone does not forbid a ground movement");

    /* a corridor edge 1 cm short of a zone, then 1 cm into it */
    int64_t cz = create(&A, DATA_ZONES, ZONE(40.0, 10.0, 40.1, 10.1, "protected_site",
                                             "proposed", ""));
    int64_t cm = create(&B, DATA_MOVEMENTS,
                        "{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\","
                        "\"coordinates\":[[39.99,9.9],[39.99,10.2]]},\"properties\":{\"type\":"
                        "\"ground\",\"corridor_width_m\":100}}");
    char sql[600];
    snprintf(sql, sizeof sql,
             "SELECT ST_Distance(ST_Transform(m.geom, 32637), ST_Transform(z.geom, 32637))"
             " FROM item_versions m, item_versions z WHERE m.item_id = %lld AND z.item_id = %lld"
             " AND m.sys_to IS NULL AND z.sys_to IS NULL",
             (long long)cm, (long long)cz);
    double d = ref_double(sql);
    CHECK(d > 1000 && d < 1200, "the route runs %.3f m from the zone (about 1.1 km)", d);
    snprintf(text, sizeof text, "{\"properties\":{\"corridor_width_m\":%.4f}}", 2 * (d - 0.01));
    CHECK(patch(&B, DATA_MOVEMENTS, cm, text) == FM_OK, "corridor 1 cm short");
    CHECK(open_between(cm, cz) == 0, "a corridor whose edge stops 1 cm short is clear");
    snprintf(text, sizeof text, "{\"properties\":{\"corridor_width_m\":%.4f}}", 2 * (d + 0.01));
    CHECK(patch(&B, DATA_MOVEMENTS, cm, text) == FM_OK, "corridor 1 cm into the zone");
    CHECK(open_between(cm, cz) == 1, "a corridor whose edge reaches 1 cm into the zone conflicts");
    snprintf(text, sizeof text, "{\"properties\":{\"corridor_width_m\":%.4f}}", 2 * d);
    CHECK(patch(&B, DATA_MOVEMENTS, cm, text) == FM_OK, "corridor to the edge (rounded to 0.1 mm)");

    /* latitude 69: 0.0110 degrees of longitude is about 440 m there (1.2 km at the equator) */
    int64_t hz = create(&A, DATA_ZONES, ZONE(25.0, 69.0, 25.1, 69.05, "restricted", "proposed",
                                             ""));
    int64_t hm = create(&B, DATA_MOVEMENTS,
                        "{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\","
                        "\"coordinates\":[[25.111,68.98],[25.111,69.07]]},\"properties\":{"
                        "\"type\":\"ground\",\"corridor_width_m\":800}}");
    snprintf(sql, sizeof sql,
             "SELECT ST_Distance(m.geom, z.geom, 1) FROM item_versions m, item_versions z"
             " WHERE m.item_id = %lld AND z.item_id = %lld AND m.sys_to IS NULL"
             " AND z.sys_to IS NULL",
             (long long)hm, (long long)hz);
    double geodesic = ref_double(sql);
    CHECK(geodesic > 430 && geodesic < 450, "at lat 69 the route is %.1f m away (geodesic)",
          geodesic);
    CHECK(open_between(hm, hz) == 0, "an 800 m corridor (400 m each side) at lat 69 is clear");
    CHECK(patch(&B, DATA_MOVEMENTS, hm, "{\"properties\":{\"corridor_width_m\":900}}") == FM_OK,
          "widen");
    CHECK(open_between(hm, hz) == 1, "a 900 m corridor (450 m each side) at lat 69 conflicts");

    /* the supervisor's resolution holds until an item changes */
    int64_t c2 = conflict_id(hm, hz);
    json_t *out = NULL;
    CHECK(data_conflict_resolve(db, &A, c2, "seen", &out, &err) == FM_EFORBID,
          "a liaison may not resolve");
    CHECK(data_conflict_resolve(db, &SUP, c2, "", &out, &err) == FM_EINVAL, "a comment is needed");
    CHECK(data_conflict_resolve(db, &SUP, c2, "cleared with both sides", &out, &err) == FM_OK,
          "the supervisor resolves: %s", err.msg);
    const char *state = json_string_value(json_object_get(json_object_get(out, "properties"),
                                                          "state"));
    CHECK(state && strcmp(state, "resolved") == 0, "the answer says resolved");
    json_decref(out);
    CHECK(data_conflict_resolve(db, &SUP, c2, "again", &out, &err) == FM_ECONFLICT,
          "resolving twice is a conflict");
    CHECK(data_conflicts_recheck(db, fm_time_now(), &st, &err) == FM_OK && open_between(hm, hz) == 0,
          "a re-check leaves the supervisor's resolution alone");
    CHECK(patch(&B, DATA_MOVEMENTS, hm, "{\"properties\":{\"title\":\"renamed\"}}") == FM_OK,
          "B edits the movement");
    CHECK(open_between(hm, hz) == 1 && conflict_id(hm, hz) == c2,
          "a change to an item re-opens the same conflict");

    /* withdrawing resolves */
    CHECK(withdraw(&B, DATA_MOVEMENTS, hm) == FM_OK, "withdraw");
    CHECK(open_between(hm, hz) == 0, "withdrawing the movement resolves its conflict");

    /* drafts: seen by their owner only */
    long before_a = visible(&A, "open"), before_b = visible(&B, "open"),
         before_v = visible(&VIEWER, "open");
    int64_t dz = create(&A, DATA_ZONES, ZONE(50.0, 10.0, 50.1, 10.1, "restricted", "draft", ""));
    int64_t dm = create(&B, DATA_MOVEMENTS,
                        "{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\","
                        "\"coordinates\":[[49.9,10.05],[50.2,10.05]]},\"properties\":{\"type\":"
                        "\"ground\",\"corridor_width_m\":100}}");
    CHECK(open_between(dm, dz) == 1, "B's movement through A's draft zone is a conflict");
    CHECK(visible(&A, "open") == before_a + 1, "A sees it");
    CHECK(visible(&B, "open") == before_b, "B does not");
    CHECK(visible(&VIEWER, "open") == before_v, "a viewer does not");
    int64_t dc = conflict_id(dm, dz);
    CHECK(data_conflict_get(db, &B, dc, &out, &err) == FM_ENOTFOUND, "B cannot get it");
    CHECK(data_conflict_get(db, &A, dc, &out, &err) == FM_OK, "A can");
    json_decref(out);
    json_t *events = NULL;
    CHECK(data_events_since(db, &B, 0, 100000, &events, &err) == FM_OK, "B's events");
    int b_saw = 0;
    for (size_t i = 0; i < json_array_size(events); i++) {
        json_t *e = json_array_get(events, i);
        const char *coll = json_string_value(json_object_get(e, "collection"));
        if (coll && !strcmp(coll, "conflicts") &&
            json_integer_value(json_object_get(e, "item")) == dc)
            b_saw = 1;
    }
    json_decref(events);
    CHECK(!b_saw, "B's event log shows nothing of the conflict with A's draft");
    CHECK(data_events_since(db, &A, 0, 100000, &events, &err) == FM_OK, "A's events");
    int a_saw = 0;
    for (size_t i = 0; i < json_array_size(events); i++) {
        json_t *e = json_array_get(events, i);
        const char *act = json_string_value(json_object_get(e, "action"));
        if (act && !strcmp(act, "conflict_open") &&
            json_integer_value(json_object_get(e, "item")) == dc)
            a_saw = 1;
    }
    json_decref(events);
    CHECK(a_saw, "A's event log has conflict_open for it");
    CHECK(patch(&A, DATA_ZONES, dz, "{\"properties\":{\"status\":\"proposed\"}}") == FM_OK,
          "A proposes the zone");
    CHECK(visible(&B, "open") == before_b + 1 && conflict_id(dm, dz) == dc,
          "now B sees the same conflict");

    /* an incident near a movement counts only while the movement is under way */
    fm_time_format(now + 2 * 3600, t1);
    fm_time_format(now + 4 * 3600, t2);
    snprintf(text, sizeof text,
             "{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\",\"coordinates\":"
             "[[60.0,10.0],[60.1,10.0]]},\"properties\":{\"type\":\"ground\",\"corridor_width_m\":"
             "50,\"valid_from\":\"%s\",\"valid_to\":\"%s\"}}",
             t1, t2);
    int64_t lm = create(&B, DATA_MOVEMENTS, text);
    int64_t li = create(&A, DATA_INCIDENTS,
                        "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":"
                        "[60.05,10.005]},\"properties\":{\"severity\":5}}");
    CHECK(open_between(li, lm) == 0, "no conflict before the movement starts");
    CHECK(data_conflicts_recheck(db, now + 3 * 3600, &st, &err) == FM_OK && st.opened >= 1,
          "re-check when under way");
    CHECK(open_between(li, lm) == 1, "an incident 550 m from a movement under way conflicts");
    CHECK(data_conflicts_recheck(db, now + 5 * 3600, &st, &err) == FM_OK, "re-check after");
    CHECK(open_between(li, lm) == 0, "and no longer once the movement's window has passed");
    CHECK(data_conflicts_recheck(db, now, &st, &err) == FM_OK, "back to now");

    /* incidents 985 m from a route's end, at 31 bearings beyond it, are
     * near it and those at 1,015 m are not, from either side (incidents
     * created around a movement, then a movement created among them): the
     * candidates' prefilter, a buffer of 8 segments a quarter circle with
     * a 1% margin, loses none between its vertices. Lon 63 is the middle
     * of UTM zone 41 (scale 0.9996); degrees to metres at lat 20.05. */
    fm_time_format(now - 3600, t1);
    fm_time_format(now + 3600, t2);
    snprintf(text, sizeof text,
             "{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\",\"coordinates\":"
             "[[63.0,20.0],[63.0,20.05]]},\"properties\":{\"type\":\"ground\",\"corridor_width_m\":"
             "50,\"valid_from\":\"%s\",\"valid_to\":\"%s\"}}",
             t1, t2);
    int64_t rm1 = create(&B, DATA_MOVEMENTS, text), ring[62];
    const double pi = 3.14159265358979323846, phi = 20.05 * pi / 180;
    const double m_lat = 111132.954 - 559.822 * cos(2 * phi) + 1.175 * cos(4 * phi);
    const double m_lon = 111412.84 * cos(phi) - 93.5 * cos(3 * phi);
    int ring_ok = 1;
    for (int k = 0; k < 62; k++) {
        double dist = k % 2 ? 1015 : 985, b = (-84.375 + 5.625 * (k / 2)) * pi / 180;
        char inc[300];
        snprintf(inc, sizeof inc,
                 "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":"
                 "[%.8f,%.8f]},\"properties\":{\"severity\":2}}",
                 63.0 + dist * sin(b) / m_lon, 20.05 + dist * cos(b) / m_lat);
        ring[k] = create(&A, DATA_INCIDENTS, inc);
        if (open_between(ring[k], rm1) != (dist < 1000)) ring_ok = 0;
    }
    CHECK(ring_ok, "incidents created 985 m beyond a route's end are near it, at 1,015 m not");
    int64_t rm2 = create(&B, DATA_MOVEMENTS, text);
    ring_ok = 1;
    for (int k = 0; k < 62; k++)
        if (open_between(ring[k], rm2) != (k % 2 == 0)) ring_ok = 0;
    CHECK(ring_ok, "and a movement created among them finds the same");

    CHECK(data_conflicts_set_near(db, 0, &err) == FM_EINVAL, "a distance of 0 is refused");
    struct data_conflict_query bad = {"maybe", 0, {0, 0, 0, 0}, 10, 0, DATA_GEOM_ANY, 0, 0, 0, 0, 0};
    long m;
    CHECK(data_conflicts_query(db, &A, &bad, NULL, NULL, &m, &err) == FM_EINVAL,
          "an unknown state is refused");
    struct data_conflict_query box = {NULL, 1, {9.9, 9.9, 10.3, 10.3}, 10, 0, DATA_GEOM_ANY, 0, 0, 0, 0, 0};
    CHECK(data_conflicts_query(db, &SUP, &box, NULL, NULL, &m, &err) == FM_OK && m >= 2,
          "bbox finds the conflicts around lon 10 (%ld)", m);
    box.bbox[0] = box.bbox[2] = 0;
    CHECK(data_conflicts_query(db, &SUP, &box, NULL, NULL, &m, &err) == FM_OK && m == 0,
          "and none at lon 0");
    same_as_reference(fm_time_now(), "the edges");
    close_db();
}

static const unsigned regression_seeds[] = {1, 2, 3};

int main(void)
{
    char path[] = "/tmp/fm-test-conflicts-XXXXXX";
    char *dir = mkdtemp(path);
    if (!dir) return 1;
    edges(dir);
    texts(dir);
    for (size_t i = 0; i < sizeof regression_seeds / sizeof *regression_seeds; i++)
        random_run(regression_seeds[i], dir);
    const char *env = getenv("FM_SEED");
    unsigned seed;
    if (env)
        seed = (unsigned)strtoul(env, NULL, 10);
    else if (fm_random(&seed, sizeof seed))
        seed = (unsigned)fm_time_now();
    random_run(seed, dir);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) printf("could not remove %s\n", dir);
    return SUMMARY();
}

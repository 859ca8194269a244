/* test_picture.c - the picture of now kept in memory (data/picture.c)
 * gives exactly the rows SQLite gives (query.c).
 *
 * 1. Random writes from a printed seed (FM_SEED=N repeats one run):
 *    zones, incidents and movements of two parties created, moved,
 *    proposed from draft and withdrawn, conflicts resolved by the
 *    supervisor and opened and closed by a re-check at a later time;
 *    after each write, for random boxes and every kind of viewer, the
 *    rows of each collection and of the open conflicts, field by field
 *    and in order, from memory and from SQLite are the same. Reads go
 *    through two connections, writes through a third, as in the server.
 * 2. Another database at the same path (a restore): the picture shows the
 *    new file, not the old one, even with as many events.
 */
#include "check.h"
#include "data.h"
#include "internal.h" /* pic_memory_off */

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct data_db *writer, *reader[2];
static struct data_limits lim;
static const struct data_viewer A = {1, "liaison-a", "A", DATA_ROLE_LIAISON};
static const struct data_viewer B = {2, "liaison-b", "B", DATA_ROLE_LIAISON};
static const struct data_viewer SUP = {3, "supervisor", "SUP", DATA_ROLE_SUPERVISOR};
static const struct data_viewer VIEWER = {4, "viewer", "SUP", DATA_ROLE_VIEWER};
static const struct data_viewer *const viewers[] = {&A, &B, &SUP, &VIEWER};

static unsigned rnd_state;
static unsigned rnd(unsigned n)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return (rnd_state >> 8) % n;
}

static void open_all(const char *file)
{
    struct fm_err err;
    CHECK(data_open(file, &writer, &err) == FM_OK, "open: %s", err.msg);
    for (int i = 0; i < 2; i++)
        CHECK(data_open(file, &reader[i], &err) == FM_OK, "open reader: %s", err.msg);
}

static void close_all(void)
{
    data_close(writer);
    data_close(reader[0]);
    data_close(reader[1]);
}

/* ---- the rows as text --------------------------------------------------- */

static int row_text(void *ctx, const struct data_pic_row *r)
{
    uint32_t h = 2166136261u; /* FNV-1a of the WKB */
    for (size_t i = 0; i < r->wkb_len; i++) h = (h ^ r->wkb[i]) * 16777619u;
#define S(x) ((x) ? (x) : "(null)")
    fm_buf_printf(ctx, "%lld|%s|%s|%s|%s|%s|%d|%.17g|%zu:%08x\n", (long long)r->id, S(r->party),
                  S(r->status), S(r->type), S(r->title), S(r->category), r->severity,
                  r->corridor_width_m, r->wkb_len, (unsigned)h);
#undef S
    return 0;
}

/* Collection c (DATA_COLL_COUNT: the conflicts) for v in box, from memory
 * (memory = 1) or SQLite, through connection db, as text (malloc). */
static char *picture(struct data_db *db, int memory, int c, const struct data_viewer *v,
                     const double box[4], long *rows)
{
    struct fm_buf b;
    fm_buf_init(&b, 64 << 20);
    struct fm_err err;
    pic_memory_off = !memory;
    fm_rc rc = c == DATA_COLL_COUNT
                   ? data_picture_conflicts(db, v, box, row_text, &b, &err)
                   : data_picture_items(db, v, (enum data_coll)c, box, 0, 0, row_text, &b, &err);
    pic_memory_off = 0;
    CHECK(rc == FM_OK, "picture: %s", err.msg);
    char *s = fm_buf_take(&b, NULL);
    *rows = 0;
    for (const char *p = s ? s : ""; (p = strchr(p, '\n')); p++) (*rows)++;
    return s ? s : strdup("");
}

static long compared_rows, compared_conflicts, comparisons;

/* Memory and SQLite agree on every collection for every viewer in a few
 * random boxes and the whole area. */
static void compare(double x0, double y0, const char *what)
{
    for (int k = 0; k < 4; k++) {
        double box[4] = {x0 - 1, y0 - 1, x0 + 2, y0 + 2};
        if (k) {
            box[0] = x0 + 0.01 * rnd(20), box[1] = y0 + 0.01 * rnd(20);
            box[2] = box[0] + 0.005 * (1 + rnd(20)), box[3] = box[1] + 0.005 * (1 + rnd(20));
        }
        for (int c = 0; c <= DATA_COLL_COUNT; c++)
            for (size_t v = 0; v < sizeof viewers / sizeof viewers[0]; v++) {
                struct data_db *db = reader[rnd(2)];
                long nm, ns;
                char *m = picture(db, 1, c, viewers[v], box, &nm);
                char *s = picture(db, 0, c, viewers[v], box, &ns);
                CHECK(strcmp(m, s) == 0,
                      "%s: %s for %s in [%g %g %g %g]: memory's %ld rows differ from "
                      "SQLite's %ld:\nmemory:\n%ssqlite:\n%s",
                      what, c == DATA_COLL_COUNT ? "conflicts" : data_coll_name((enum data_coll)c),
                      viewers[v]->user, box[0], box[1], box[2], box[3], nm, ns, m, s);
                compared_rows += ns;
                if (c == DATA_COLL_COUNT) compared_conflicts += ns;
                comparisons++;
                free(m);
                free(s);
            }
    }
}

/* ---- writing ------------------------------------------------------------ */

static void random_feature(enum data_coll c, double x0, double y0, int draft, char *out,
                           size_t n)
{
    const double g = 0.01;
    double x = x0 + g * rnd(20), y = y0 + g * rnd(20);
    char geom[400];
    if (c == DATA_ZONES) {
        double w = g * (1 + rnd(6)), h = g * (1 + rnd(6));
        snprintf(geom, sizeof geom,
                 "{\"type\":\"Polygon\",\"coordinates\":[[[%.6f,%.6f],[%.6f,%.6f],[%.6f,%.6f],"
                 "[%.6f,%.6f],[%.6f,%.6f]]]}",
                 x, y, x + w, y, x + w, y + h, x, y + h, x, y);
        static const char *const types[] = {"restricted", "no_fly", "buffer", "protected_site"};
        snprintf(out, n,
                 "{\"type\":\"Feature\",\"geometry\":%s,\"properties\":{\"type\":\"%s\","
                 "\"title\":\"zone %u\",\"status\":\"%s\"}}",
                 geom, types[rnd(4)], rnd(1000), draft ? "draft" : "proposed");
    } else if (c == DATA_INCIDENTS) {
        snprintf(geom, sizeof geom, "{\"type\":\"Point\",\"coordinates\":[%.6f,%.6f]}", x, y);
        static const char *const cats[] = {"shelling", "ground_incursion", "other"};
        snprintf(out, n,
                 "{\"type\":\"Feature\",\"geometry\":%s,\"properties\":{\"severity\":%u,"
                 "\"category\":\"%s\",\"status\":\"%s\"}}",
                 geom, 1 + rnd(5), cats[rnd(3)], draft ? "draft" : "reported");
    } else {
        double x1 = x0 + g * rnd(20), y1 = y0 + g * rnd(20);
        if (x1 == x && y1 == y) x1 += g; /* a route of one point is refused (seed 1796579863) */
        snprintf(geom, sizeof geom,
                 "{\"type\":\"LineString\",\"coordinates\":[[%.6f,%.6f],[%.6f,%.6f]]}", x, y,
                 x1, y1);
        static const int widths[] = {0, 200, 3000};
        /* a window starting within the hour: the re-check at +2 h opens
         * incident conflicts that a write did not */
        char from[FM_TIME_STAMP_LEN];
        fm_time_format(fm_time_now() + 60 * (int)rnd(60), from);
        snprintf(out, n,
                 "{\"type\":\"Feature\",\"geometry\":%s,\"properties\":{\"type\":\"ground\","
                 "\"corridor_width_m\":%d,\"valid_from\":\"%s\",\"status\":\"%s\"}}",
                 geom, widths[rnd(3)], from, draft ? "draft" : "notified");
    }
}

struct made {
    enum data_coll c;
    const struct data_viewer *v;
    int64_t id;
    int64_t version;
};

static int64_t create(struct made *m, double x0, double y0)
{
    char text[1200];
    random_feature(m->c, x0, y0, rnd(3) == 0, text, sizeof text);
    json_t *f = json_loads(text, 0, NULL), *out = NULL;
    struct fm_err err;
    fm_rc rc = data_item_create(writer, m->v, m->c, f, &lim, &out, &err);
    json_decref(f);
    CHECK(rc == FM_OK, "create: %s (%s)", err.msg, text);
    m->id = rc ? 0 : json_integer_value(json_object_get(out, "id"));
    m->version = 1;
    json_decref(out);
    return m->id;
}

static void patch(struct made *m, const char *text)
{
    json_t *p = json_loads(text, 0, NULL), *out = NULL;
    struct fm_err err;
    if (data_item_patch(writer, m->v, m->c, m->id, m->version, p, &lim, &out, &err) == FM_OK)
        m->version++;
    json_decref(p);
    json_decref(out);
}

static int take(void *ctx, int64_t id, const char *feature)
{
    (void)feature;
    *(int64_t *)ctx = id;
    return 1;
}

static void random_run(unsigned seed)
{
    printf("# random run, seed %u (FM_SEED=%u repeats it)\n", seed, seed);
    rnd_state = seed;
    char file[] = "/tmp/fm-test-picture-XXXXXX.db";
    int fd = mkstemps(file, 3);
    close(fd);
    unlink(file);
    open_all(file);
    struct fm_err err;
    CHECK(data_conflicts_set_near(writer, 1500, &err) == FM_OK, "near: %s", err.msg);
    double x0 = 35.5 + 0.01 * rnd(50), y0 = 32.5 + 0.01 * rnd(50);
    enum { N = 70 };
    struct made made[N];
    int nmade = 0;
    int failed_before = check_failed;
    compare(x0, y0, "empty");
    for (int step = 0; step < N && check_failed == failed_before; step++) {
        unsigned op = rnd(20);
        char what[64];
        if (op < 12 || nmade == 0) {
            struct made *m = &made[nmade];
            m->c = op % 3 == 0 ? DATA_ZONES : op % 3 == 1 ? DATA_INCIDENTS : DATA_MOVEMENTS;
            m->v = rnd(2) ? &A : &B;
            if (create(m, x0, y0)) nmade++;
            snprintf(what, sizeof what, "step %d: create %lld", step, (long long)m->id);
        } else if (op < 15) { /* moved: its open conflicts redrawn, no event of their own */
            struct made *m = &made[rnd((unsigned)nmade)];
            char text[1200], p[1300];
            random_feature(m->c, x0, y0, 0, text, sizeof text);
            json_t *f = json_loads(text, 0, NULL);
            char *g = json_dumps(json_object_get(f, "geometry"), JSON_COMPACT);
            snprintf(p, sizeof p, "{\"geometry\":%s}", g);
            free(g);
            json_decref(f);
            patch(m, p);
            snprintf(what, sizeof what, "step %d: move %lld", step, (long long)m->id);
        } else if (op < 17) { /* a draft proposed: its conflicts seen by all */
            struct made *m = &made[rnd((unsigned)nmade)];
            static const char *const st[] = {"{\"properties\":{\"status\":\"proposed\"}}",
                                             "{\"properties\":{\"status\":\"reported\"}}",
                                             "{\"properties\":{\"status\":\"notified\"}}"};
            patch(m, st[m->c]);
            snprintf(what, sizeof what, "step %d: propose %lld", step, (long long)m->id);
        } else if (op < 18) {
            struct made *m = &made[rnd((unsigned)nmade)];
            if (data_item_withdraw(writer, m->v, m->c, m->id, m->version, &err) == FM_OK)
                m->version++;
            snprintf(what, sizeof what, "step %d: withdraw %lld", step, (long long)m->id);
        } else if (op < 19) { /* the supervisor resolves the first open conflict */
            struct data_conflict_query q = {"open", 0, {0}, 1, 0, DATA_GEOM_ANY, 0, 0, 0, 0, 0};
            int64_t first = 0;
            long matched;
            data_conflicts_query(writer, &SUP, &q, take, &first, &matched, &err);
            json_t *out = NULL;
            if (first) data_conflict_resolve(writer, &SUP, first, "seen to", &out, &err);
            json_decref(out);
            snprintf(what, sizeof what, "step %d: resolve %lld", step, (long long)first);
        } else { /* time passes: windows open */
            struct data_recheck_stats stats;
            CHECK(data_conflicts_recheck(writer, fm_time_now() + 7200, &stats, &err) == FM_OK,
                  "recheck: %s", err.msg);
            snprintf(what, sizeof what, "step %d: re-check at +2 h", step);
        }
        compare(x0, y0, what);
    }
    close_all();
    unlink(file);
    if (check_failed != failed_before) printf("# seed %u failed (FM_SEED=%u repeats it)\n", seed, seed);
}

/* ---- 2. another file at the same path ------------------------------------ */

static void same_path(void)
{
    char file[] = "/tmp/fm-test-picture-XXXXXX.db";
    int fd = mkstemps(file, 3);
    close(fd);
    double box[4] = {35, 32, 37, 34};
    long rows[2];
    for (int round = 0; round < 2; round++) {
        unlink(file);
        open_all(file);
        rnd_state = 1000 + (unsigned)round; /* two different zones, one event each */
        struct made m = {DATA_ZONES, &A, 0, 0};
        create(&m, 35.5, 32.5);
        char *mem = picture(reader[0], 1, DATA_ZONES, &A, box, &rows[round]);
        char *sql = picture(reader[0], 0, DATA_ZONES, &A, box, &rows[round]);
        CHECK(strcmp(mem, sql) == 0, "round %d: memory shows the old file:\n%s\nnot\n%s", round,
              mem, sql);
        CHECK(rows[round] == 1, "round %d: %ld zones", round, rows[round]);
        free(mem);
        free(sql);
        close_all();
    }
    unlink(file);
}

int main(void)
{
    data_limits_default(&lim);
    const char *env = getenv("FM_SEED");
    if (env) {
        random_run((unsigned)strtoul(env, NULL, 10));
    } else {
        unsigned seed = (unsigned)fm_time_now();
        for (int i = 0; i < 3; i++) random_run(seed + (unsigned)i);
    }
    printf("# %ld comparisons, %ld rows, %ld of them conflicts\n", comparisons, compared_rows,
           compared_conflicts);
    /* over the three runs (one run repeated by FM_SEED may be a thin one:
     * seed 1796579863 compared 4 conflicts) */
    CHECK(env || (compared_rows > 1000 && compared_conflicts > 100),
          "too few rows compared to mean anything: %ld, %ld conflicts", compared_rows,
          compared_conflicts);
    same_path();
    return SUMMARY();
}

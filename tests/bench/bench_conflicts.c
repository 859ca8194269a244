/* bench_conflicts.c - the deconfliction engine under load (not a test;
 * run by tests/bench/conflicts.sh, which builds it).
 *
 * Loads 10,000 zones, 10,000 incidents and 2,000 movements in the demo
 * area (lon 35.6-36.2, lat 32.6-33.4) straight into the store's tables in
 * one transaction (the fast path: no events, no checks), lets a full
 * re-check find every conflict, re-checks again (the steady state the
 * re-check thread sees every minute), then times creating movements,
 * zones and incidents one by one through data_item_create: validation,
 * the version, the event, the conflict check and the commit (WAL,
 * synced before data_item_create returns: db.c's group sync), with WAL
 * checkpoints in their own thread as the server runs them (data_checkpointer_start). Prints p50/p90/p99/max (for
 * movements also of the writer thread's CPU time and of the rest) and
 * the re-check times, and as a peer what the machine alone takes to write
 * and fdatasync one movement's WAL frames.
 *
 *   bench_conflicts DB_FILE [SEED] [N_TIMED]
 *   bench_conflicts DB_FILE create [N]    (an existing bench database:
 *       only create N movements and print their figures; BENCH_TRACE=1
 *       prints each one's time and events, for profilers)
 *   bench_conflicts DB_FILE recheck [N]
 */
#include "data.h"

#include <sqlite3.h> /* before spatialite.h, which needs its types */
#include <spatialite.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define N_ZONES 10000
#define N_INCIDENTS 10000
#define N_MOVEMENTS 2000

static unsigned rnd_state;
static double frand(void)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return (double)((rnd_state >> 8) & 0xffffff) / (double)0x1000000;
}
static double urand(double a, double b)
{
    return a + (b - a) * frand();
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* The calling thread's CPU time. */
static double cpu_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* Demo area, with a margin so that shapes stay inside. */
#define X0 35.62
#define X1 36.18
#define Y0 32.62
#define Y1 33.38

static const char *const zone_types[] = {"restricted", "no_fly", "buffer", "protected_site",
                                         "humanitarian_corridor", "safe_area"};

static void zone_geom(char *out, size_t n)
{
    /* a rectangle 100 m to 1 km a side, sometimes a skewed quadrilateral */
    double x = urand(X0, X1), y = urand(Y0, Y1);
    double w = urand(0.001, 0.01), h = urand(0.001, 0.01), s = frand() < 0.3 ? w / 3 : 0;
    snprintf(out, n,
             "{\"type\":\"Polygon\",\"coordinates\":[[[%.6f,%.6f],[%.6f,%.6f],[%.6f,%.6f],"
             "[%.6f,%.6f],[%.6f,%.6f]]]}",
             x, y, x + w, y, x + w + s, y + h, x + s, y + h, x, y);
}

static void route_geom(char *out, size_t n)
{
    /* 2-4 vertices, legs of 1-5 km */
    double x = urand(X0 + 0.05, X1 - 0.05), y = urand(Y0 + 0.05, Y1 - 0.05);
    int k = 2 + (int)(frand() * 3);
    size_t used = (size_t)snprintf(out, n, "{\"type\":\"LineString\",\"coordinates\":[");
    for (int i = 0; i < k && used < n; i++) {
        used += (size_t)snprintf(out + used, n - used, "%s[%.6f,%.6f]", i ? "," : "", x, y);
        x += urand(-0.045, 0.045);
        y += urand(-0.045, 0.045);
    }
    if (used < n) snprintf(out + used, n - used, "]}");
}

/* A window: now-ish (under way), later today, or open. */
static void window(fm_time now, int *has_from, fm_time *from, int *has_to, fm_time *to)
{
    double r = frand();
    *has_from = *has_to = 1;
    if (r < 0.4) {
        *from = now - 3600 * (fm_time)urand(1, 24);
        *to = now + 3600 * (fm_time)urand(1, 48);
    } else if (r < 0.8) {
        *from = now + 3600 * (fm_time)urand(1, 24);
        *to = *from + 3600 * (fm_time)urand(1, 12);
    } else {
        *has_from = *has_to = 0;
    }
}

static int bulk_load(const char *path, unsigned seed)
{
    sqlite3 *h;
    if (sqlite3_open(path, &h) != SQLITE_OK) return 1;
    void *cache = spatialite_alloc_connection();
    spatialite_init_ex(h, cache, 0);
    sqlite3_exec(h, "BEGIN", NULL, NULL, NULL);
    sqlite3_stmt *it, *iv;
    sqlite3_prepare_v2(h,
                       "INSERT INTO items (id, collection, party, created_at, created_by)"
                       " VALUES (?,?,?,?,'bench')",
                       -1, &it, NULL);
    if (sqlite3_prepare_v2(
            h,
            "INSERT INTO item_versions (item_id, version, collection, party, status, type, title,"
            " valid_from, valid_to, alt_floor, alt_ceiling, sys_from, action, by_user, feature,"
            " geom) VALUES (?1, 1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'create', 'bench',"
            " ?12, CastToXY(SetSRID(GeomFromGeoJSON(?13), 4326)))",
            -1, &iv, NULL) != SQLITE_OK) {
        fprintf(stderr, "prepare: %s\n", sqlite3_errmsg(h));
        return 1;
    }
    rnd_state = seed;
    fm_time now = fm_time_now();
    int64_t id = 1000; /* above anything the store made itself */
    char geom[600], feature[1200];
    for (int c = 0; c < 3; c++) {
        int count = c == 0 ? N_ZONES : c == 1 ? N_INCIDENTS : N_MOVEMENTS;
        const char *coll = c == 0 ? "zones" : c == 1 ? "incidents" : "movements";
        for (int i = 0; i < count; i++, id++) {
            const char *party = frand() < 0.5 ? "A" : "B";
            const char *status = c == 0   ? (frand() < 0.9 ? "proposed" : "draft")
                                 : c == 1 ? "reported"
                                          : "notified";
            const char *type = c == 0   ? zone_types[(int)(frand() * 6)]
                               : c == 2 ? (frand() < 0.3 ? "air" : "ground")
                                        : NULL;
            int has_from, has_to, has_band = c != 1 && frand() < 0.5;
            fm_time from, to;
            window(now, &has_from, &from, &has_to, &to);
            double floor_m = has_band ? urand(0, 2000) : 0, ceil_m = floor_m + urand(100, 3000);
            double width = c == 2 ? urand(50, 1000) : 0;
            int severity = 1 + (int)(frand() * 5);
            if (c == 0)
                zone_geom(geom, sizeof geom);
            else if (c == 1)
                snprintf(geom, sizeof geom, "{\"type\":\"Point\",\"coordinates\":[%.6f,%.6f]}",
                         urand(X0, X1), urand(Y0, Y1));
            else
                route_geom(geom, sizeof geom);
            snprintf(feature, sizeof feature,
                     "{\"type\":\"Feature\",\"id\":%lld,\"geometry\":%s,\"properties\":{"
                     "\"title\":\"bench %d\",\"status\":\"%s\",\"party\":\"%s\",\"version\":1"
                     "%s%s%s,\"corridor_width_m\":%.1f,\"severity\":%d}}",
                     (long long)id, geom, i, status, party, type ? ",\"type\":\"" : "",
                     type ? type : "", type ? "\"" : "", width, severity);
            sqlite3_reset(it);
            sqlite3_bind_int64(it, 1, id);
            sqlite3_bind_text(it, 2, coll, -1, SQLITE_STATIC);
            sqlite3_bind_text(it, 3, party, -1, SQLITE_STATIC);
            sqlite3_bind_int64(it, 4, now);
            sqlite3_step(it);
            sqlite3_reset(iv);
            sqlite3_clear_bindings(iv);
            sqlite3_bind_int64(iv, 1, id);
            sqlite3_bind_text(iv, 2, coll, -1, SQLITE_STATIC);
            sqlite3_bind_text(iv, 3, party, -1, SQLITE_STATIC);
            sqlite3_bind_text(iv, 4, status, -1, SQLITE_STATIC);
            if (type) sqlite3_bind_text(iv, 5, type, -1, SQLITE_STATIC);
            sqlite3_bind_text(iv, 6, "bench", -1, SQLITE_STATIC);
            if (has_from) sqlite3_bind_int64(iv, 7, from);
            if (has_to) sqlite3_bind_int64(iv, 8, to);
            if (has_band) {
                sqlite3_bind_double(iv, 9, floor_m);
                sqlite3_bind_double(iv, 10, ceil_m);
            }
            sqlite3_bind_int64(iv, 11, now);
            sqlite3_bind_text(iv, 12, feature, -1, SQLITE_STATIC);
            sqlite3_bind_text(iv, 13, geom, -1, SQLITE_STATIC);
            if (sqlite3_step(iv) != SQLITE_DONE) {
                fprintf(stderr, "insert: %s\n", sqlite3_errmsg(h));
                return 1;
            }
        }
    }
    sqlite3_finalize(it);
    sqlite3_finalize(iv);
    int rc = sqlite3_exec(h, "COMMIT", NULL, NULL, NULL) != SQLITE_OK;
    sqlite3_close(h);
    spatialite_cleanup_ex(cache);
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *what, double *ms, int n)
{
    qsort(ms, (size_t)n, sizeof *ms, cmp_double);
    printf("%-44s n=%d  p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms\n", what, n,
           ms[n / 2], ms[n * 9 / 10], ms[(n * 99) / 100], ms[n - 1]);
}

/* The peer: what the machine alone takes to write and fdatasync what one
 * movement's commit writes to the WAL (about 100 frames of 4 KB + 24
 * bytes, two writes each, counted from the WAL's page numbers), n times,
 * in a file beside the database. The commit's share of a movement's
 * time, and of its tail, is at least this. */
static void fsync_peer(const char *db_path, int frames, int n)
{
    char path[4200];
    snprintf(path, sizeof path, "%s.fsync-peer", db_path);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    double *ms = calloc((size_t)n, sizeof *ms);
    static char frame[4096 + 24];
    if (fd < 0 || !ms) {
        free(ms);
        return;
    }
    memset(frame, 'x', sizeof frame);
    for (int i = 0; i < n; i++) {
        off_t off = 0; /* overwritten in place, as the WAL is after a checkpoint */
        double t0 = now_ms();
        for (int f = 0; f < frames; f++, off += (off_t)sizeof frame)
            if (pwrite(fd, frame, 24, off) != 24 || pwrite(fd, frame + 24, 4096, off + 24) != 4096)
                break;
        if (fdatasync(fd) != 0) break;
        ms[i] = now_ms() - t0;
    }
    char what[64];
    snprintf(what, sizeof what, "the machine: %d frames written + fdatasync", frames);
    report(what, ms, n);
    free(ms);
    close(fd);
    unlink(path);
}

static long count_open(const char *path)
{
    sqlite3 *h;
    long n = -1;
    if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(h, "SELECT count(*) FROM conflicts WHERE state = 'open'", -1, &st,
                               NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_conflicts DB_FILE [SEED] [N_TIMED]\n");
        return 2;
    }
    const char *path = argv[1];
    unsigned seed = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 7;
    int n_timed = argc > 3 ? atoi(argv[3]) : 500;
    if (n_timed < 10 || n_timed > 100000) n_timed = 500;
    fm_log_set_level(FM_LOG_WARN);
    struct data_db *db;
    struct fm_err err;
    if (data_open(path, &db, &err)) {
        fprintf(stderr, "open: %s\n", err.msg);
        return 1;
    }
    data_close(db);
    if (argc > 2 && strcmp(argv[2], "create") == 0) {
        /* profiling aid: only create movements in an existing bench database */
        if (data_open(path, &db, &err)) return 1;
        struct data_checkpointer *ckpt;
        if (data_checkpointer_start(path, &ckpt, &err)) return 1;
        struct data_viewer v = {2, "liaison-b", "B", DATA_ROLE_LIAISON};
        struct data_limits l;
        data_limits_default(&l);
        rnd_state = 99;
        char from[FM_TIME_STAMP_LEN], to[FM_TIME_STAMP_LEN], geom[600], text[1400];
        fm_time_format(fm_time_now() - 3600, from);
        fm_time_format(fm_time_now() + 86400, to);
        int n = argc > 3 ? atoi(argv[3]) : 10;
        if (n < 1 || n > 100000) n = 10;
        double *ms = calloc((size_t)n, sizeof *ms), *cpu = calloc((size_t)n, sizeof *cpu);
        for (int i = 0; i < n; i++) {
            route_geom(geom, sizeof geom);
            snprintf(text, sizeof text,
                     "{\"type\":\"Feature\",\"geometry\":%s,\"properties\":{\"type\":\"ground\","
                     "\"corridor_width_m\":500,\"valid_from\":\"%s\",\"valid_to\":\"%s\"}}",
                     geom, from, to);
            json_t *f = json_loads(text, 0, NULL), *out = NULL;
            int64_t e0 = 0, e1 = 0;
            data_events_last(db, &e0, &err);
            double t0 = now_ms(), c0 = cpu_ms();
            if (data_item_create(db, &v, DATA_MOVEMENTS, f, &l, &out, &err)) return 1;
            ms[i] = now_ms() - t0;
            cpu[i] = cpu_ms() - c0;
            data_events_last(db, &e1, &err);
            if (getenv("BENCH_TRACE"))
                printf("trace %d %.3f ms %lld events\n", i, ms[i], (long long)(e1 - e0));
            json_decref(f);
            json_decref(out);
        }
        if (n >= 10) {
            report("create one movement (check + commit)", ms, n);
            report("  of which the writer thread on a CPU", cpu, n);
        }
        free(ms);
        free(cpu);
        data_close(db);
        data_checkpointer_free(ckpt);
        return 0;
    }
    if (argc > 2 && strcmp(argv[2], "recheck") == 0) {
        /* profiling aid: only re-check an existing bench database, N times */
        if (data_open(path, &db, &err)) return 1;
        for (int i = 0; i < (argc > 3 ? atoi(argv[3]) : 1); i++) {
            struct data_recheck_stats rs;
            double t0 = now_ms();
            if (data_conflicts_recheck(db, fm_time_now(), &rs, &err)) return 1;
            printf("re-check %.0f ms: %ld items, %ld clashes, %ld opened, %ld resolved\n",
                   now_ms() - t0, rs.items, rs.found, rs.opened, rs.resolved);
        }
        data_close(db);
        return 0;
    }

    printf("seed %u; %d zones, %d incidents, %d movements in lon %.2f-%.2f, lat %.2f-%.2f\n",
           seed, N_ZONES, N_INCIDENTS, N_MOVEMENTS, X0, X1, Y0, Y1);
    double t = now_ms();
    if (bulk_load(path, seed)) return 1;
    printf("bulk load (one SQL transaction, no checks)      %.0f ms\n", now_ms() - t);

    if (data_open(path, &db, &err)) return 1;
    /* as the server runs: WAL checkpoints in their own thread, not in the
     * commit of whichever write takes the log past 1,000 pages */
    struct data_checkpointer *ckpt;
    if (data_checkpointer_start(path, &ckpt, &err)) {
        fprintf(stderr, "checkpointer: %s\n", err.msg);
        return 1;
    }
    struct data_recheck_stats st;
    t = now_ms();
    if (data_conflicts_recheck(db, fm_time_now(), &st, &err)) {
        fprintf(stderr, "recheck: %s\n", err.msg);
        return 1;
    }
    printf("first full re-check (finds and opens all)       %.0f ms: %ld items, %ld clashes,"
           " %ld opened (each with its event)\n",
           now_ms() - t, st.items, st.found, st.opened);
    double steady[3];
    for (int i = 0; i < 3; i++) {
        t = now_ms();
        if (data_conflicts_recheck(db, fm_time_now(), &st, &err)) return 1;
        steady[i] = now_ms() - t;
    }
    qsort(steady, 3, sizeof *steady, cmp_double);
    printf("full re-check, steady state (median of 3)       %.0f ms: %ld clashes, %ld opened,"
           " %ld resolved\n",
           steady[1], st.found, st.opened, st.resolved);
    t = now_ms();
    if (data_conflicts_recheck(db, fm_time_now() + 12 * 3600, &st, &err)) return 1;
    printf("full re-check as of 12 h later (time closes)    %.0f ms: %ld opened, %ld resolved\n",
           now_ms() - t, st.opened, st.resolved);
    t = now_ms();
    if (data_conflicts_recheck(db, fm_time_now(), &st, &err)) return 1;
    printf("full re-check back to now (time re-opens)       %.0f ms: %ld opened, %ld resolved\n",
           now_ms() - t, st.opened, st.resolved);

    struct data_viewer b = {2, "liaison-b", "B", DATA_ROLE_LIAISON};
    struct data_limits lim;
    data_limits_default(&lim);
    double *ms = calloc((size_t)n_timed, sizeof *ms);
    double *few = calloc((size_t)n_timed, sizeof *few); /* movements opening <= 5 conflicts */
    /* each one's time split: the writer thread's CPU time, and the rest */
    double *cpu = calloc((size_t)n_timed, sizeof *cpu), *off = calloc((size_t)n_timed, sizeof *off);
    int nfew = 0;
    long opened_total = 0;
    rnd_state = seed * 7919u + 1;
    fm_time now = fm_time_now();
    for (int kind = 0; kind < 3; kind++) {
        int n = kind == 0 ? n_timed : n_timed / 5;
        for (int i = 0; i < n; i++) {
            char geom[600], text[1400], from[FM_TIME_STAMP_LEN], to[FM_TIME_STAMP_LEN];
            fm_time_format(now - 3600, from); /* under way: every check applies */
            fm_time_format(now + 86400, to);
            if (kind == 0) {
                route_geom(geom, sizeof geom);
                snprintf(text, sizeof text,
                         "{\"type\":\"Feature\",\"geometry\":%s,\"properties\":{\"title\":"
                         "\"timed %d\",\"type\":\"%s\",\"corridor_width_m\":%.0f,\"valid_from\":"
                         "\"%s\",\"valid_to\":\"%s\",\"altitude_floor_m\":0,"
                         "\"altitude_ceiling_m\":1500}}",
                         geom, i, frand() < 0.3 ? "air" : "ground", urand(50, 1000), from, to);
            } else if (kind == 1) {
                zone_geom(geom, sizeof geom);
                snprintf(text, sizeof text,
                         "{\"type\":\"Feature\",\"geometry\":%s,\"properties\":{\"title\":"
                         "\"timed zone %d\",\"type\":\"restricted\",\"status\":\"proposed\","
                         "\"valid_from\":\"%s\",\"valid_to\":\"%s\"}}",
                         geom, i, from, to);
            } else {
                snprintf(text, sizeof text,
                         "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":"
                         "[%.6f,%.6f]},\"properties\":{\"title\":\"timed incident %d\","
                         "\"severity\":3,\"valid_from\":\"%s\"}}",
                         urand(X0, X1), urand(Y0, Y1), i, from);
            }
            json_t *f = json_loads(text, 0, NULL), *out = NULL;
            long open_before = kind == 0 ? count_open(path) : 0;
            double c0 = cpu_ms();
            t = now_ms();
            fm_rc rc = data_item_create(db, &b, kind == 0 ? DATA_MOVEMENTS
                                                : kind == 1 ? DATA_ZONES
                                                            : DATA_INCIDENTS,
                                        f, &lim, &out, &err);
            ms[i] = now_ms() - t;
            cpu[i] = cpu_ms() - c0;
            off[i] = ms[i] - cpu[i];
            if (kind == 0) {
                long opened = count_open(path) - open_before;
                opened_total += opened;
                if (opened <= 5) few[nfew++] = ms[i];
            }
            json_decref(f);
            json_decref(out);
            if (rc) {
                fprintf(stderr, "create: %s\n%s\n", err.msg, text);
                return 1;
            }
        }
        report(kind == 0   ? "create one movement (check + commit)"
               : kind == 1 ? "create one restricted zone (check + commit)"
                           : "create one incident (check + commit)",
               ms, n);
        if (kind == 0) {
            report("  of which the writer thread on a CPU", cpu, n);
            report("  of which off a CPU (I/O, locks, waiting)", off, n);
            printf("  (the %d movements opened %ld conflicts, %.1f each)\n", n, opened_total,
                   (double)opened_total / n);
            if (nfew >= 10) report("  of which those opening 0-5 conflicts", few, nfew);
        }
    }
    free(ms);
    free(few);
    free(cpu);
    free(off);
    t = now_ms();
    if (data_conflicts_recheck(db, fm_time_now(), &st, &err)) return 1;
    printf("full re-check after the timed writes            %.0f ms: %ld clashes, %ld opened,"
           " %ld resolved\n",
           now_ms() - t, st.found, st.opened, st.resolved);
    printf("open conflicts at the end: %ld\n", count_open(path));
    data_close(db);
    data_checkpointer_free(ckpt);
    fsync_peer(path, 100, n_timed);
    return 0;
}

/* test_faults.c - fault injection as a loop: a script of writes (create,
 * patch, acknowledge, dispute, arbitrate, a movement through the zone
 * that opens a conflict, withdraw, which resolves it) runs with the Nth
 * statement failing, for N = 1, 2, ... until the script runs untouched.
 * Every run must end in success or a clean error, and the database must
 * then hold exactly the steps that succeeded: no half write (the event
 * log's cross-check against the item versions and answers says so). */
#include "check.h"
#include "sqlite/sqlite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct who {
    struct data_viewer a, b, sup;
};

static json_t *parse(const char *text)
{
    return json_loads(text, 0, NULL);
}

/* The number of events after each step, from a run without faults (the
 * deconfliction engine adds its own events, so they are measured). */
static int64_t events_after[7];
static int measuring;

static void mark(struct data_db *db, int step)
{
    struct fm_err e;
    if (measuring) data_events_last(db, &events_after[step], &e);
}

/* Runs the script; returns how many steps succeeded before the first error. */
static int script(struct data_db *db, const struct who *w, struct fm_err *err)
{
    struct data_limits lim;
    data_limits_default(&lim);
    json_t *f = parse("{\"type\":\"Feature\",\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
                      "[[[35.7,32.7],[35.8,32.7],[35.8,32.8],[35.7,32.7]]]},\"properties\":"
                      "{\"title\":\"f\",\"status\":\"proposed\",\"type\":\"restricted\"}}");
    /* across the zone: a conflict, its corridor projected both ways */
    json_t *m = parse("{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\","
                      "\"coordinates\":[[35.65,32.74],[35.85,32.76]]},\"properties\":"
                      "{\"title\":\"m\",\"type\":\"ground\",\"corridor_width_m\":200}}");
    json_t *p1 = parse("{\"properties\":{\"title\":\"f2\"}}");
    json_t *arb = parse("{\"properties\":{\"status\":\"active\"}}");
    json_t *out = NULL;
    int done = 0;
    int64_t id = 0;
    mark(db, 0);
    if (data_item_create(db, &w->a, DATA_ZONES, f, &lim, &out, err)) goto end;
    id = json_integer_value(json_object_get(out, "id"));
    json_decref(out);
    mark(db, ++done);
    if (data_item_patch(db, &w->a, DATA_ZONES, id, 1, p1, &lim, &out, err)) goto end;
    json_decref(out);
    mark(db, ++done);
    if (data_item_ack(db, &w->b, DATA_ZONES, id, 2, "dispute", "no", &out, err)) goto end;
    json_decref(out);
    mark(db, ++done);
    if (data_item_patch(db, &w->sup, DATA_ZONES, id, 3, arb, &lim, &out, err)) goto end;
    json_decref(out);
    mark(db, ++done);
    if (data_item_create(db, &w->b, DATA_MOVEMENTS, m, &lim, &out, err)) goto end;
    json_decref(out);
    mark(db, ++done);
    if (data_item_withdraw(db, &w->a, DATA_ZONES, id, 4, err)) goto end;
    mark(db, ++done);
end:
    json_decref(f);
    json_decref(m);
    json_decref(p1);
    json_decref(arb);
    return done;
}

/* After a failed step, the same connection writes on: a zone and a
 * movement through it far from the rest (3 events: both, and the
 * conflict), so that a kept statement left bound or stepping by an
 * error path would show. */
static fm_rc recovery(struct data_db *db, const struct who *w, struct fm_err *err)
{
    struct data_limits lim;
    data_limits_default(&lim);
    json_t *z = parse("{\"type\":\"Feature\",\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
                      "[[[10.0,10.0],[10.1,10.0],[10.1,10.1],[10.0,10.1],[10.0,10.0]]]},"
                      "\"properties\":{\"title\":\"r\",\"status\":\"proposed\","
                      "\"type\":\"restricted\"}}");
    json_t *m = parse("{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\","
                      "\"coordinates\":[[9.95,10.05],[10.15,10.05]]},\"properties\":"
                      "{\"title\":\"rm\",\"type\":\"ground\",\"corridor_width_m\":100}}");
    json_t *out = NULL;
    fm_rc rc = data_item_create(db, &w->a, DATA_ZONES, z, &lim, &out, err);
    json_decref(out);
    out = NULL;
    if (!rc) rc = data_item_create(db, &w->b, DATA_MOVEMENTS, m, &lim, &out, err);
    json_decref(out);
    json_decref(z);
    json_decref(m);
    return rc;
}

int main(void)
{
    char dir[] = "/tmp/fm-test-faults-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    char base[64], run[64], cmd[512];
    snprintf(base, sizeof base, "%s/base.db", dir);
    snprintf(run, sizeof run, "%s/run.db", dir);
    struct fm_err err;
    struct data_db *db;
    struct who w;
    int created;
    CHECK(data_open(base, &db, &err) == FM_OK, "open");
    CHECK(data_demo_seed(db, &created, &err) == FM_OK, "seed");
    data_user_check(db, "liaison-a", "liaison-a", &w.a, &err);
    data_user_check(db, "liaison-b", "liaison-b", &w.b, &err);
    data_user_check(db, "supervisor", "supervisor", &w.sup, &err);
    data_close(db);

    /* the baseline: the script untouched, on a copy */
    snprintf(cmd, sizeof cmd, "cp %s %s && rm -f %s-wal %s-shm", base, run, run, run);
    if (system(cmd) != 0 || data_open(run, &db, &err) != FM_OK) return 1;
    measuring = 1;
    CHECK(script(db, &w, &err) == 6, "the script runs untouched: %s", err.msg);
    CHECK(events_after[5] > events_after[4] + 1 && events_after[6] > events_after[5] + 1,
          "the movement opens a conflict and the withdrawal resolves it (events %lld %lld %lld)",
          (long long)events_after[4], (long long)events_after[5], (long long)events_after[6]);
    measuring = 0;
    data_close(db);

    int runs = 0, untouched = 0;
    for (long n = 1; n < 2000 && !untouched; n++) {
        snprintf(cmd, sizeof cmd, "cp %s %s && rm -f %s-wal %s-shm", base, run, run, run);
        if (system(cmd) != 0) return 1;
        if (data_open(run, &db, &err) != FM_OK) return 1;
        fm_err_clear(&err);
        db_fault_countdown = n;
        int done = script(db, &w, &err);
        untouched = db_fault_countdown > 0; /* the fault was never reached */
        db_fault_countdown = 0;
        runs++;
        CHECK(untouched ? done == 6 : done < 6, "n=%ld: %d steps, untouched %d (%s)", n, done,
              untouched, err.msg);
        if (!untouched)
            CHECK(strstr(err.msg, "injected") || err.msg[0], "n=%ld: a clean error: %s", n,
                  err.msg);
        int64_t last, bad, count, extra = 0;
        if (!untouched) {
            int64_t before_recovery;
            data_events_last(db, &before_recovery, &err);
            fm_err_clear(&err);
            CHECK(recovery(db, &w, &err) == FM_OK,
                  "n=%ld: the connection writes on after the failure: %s", n, err.msg);
            data_events_last(db, &last, &err);
            extra = last - before_recovery;
            CHECK(extra == 3, "n=%ld: the writes after the failure add 3 events, not %lld", n,
                  (long long)extra);
        }
        /* reopen: what is on disk is exactly the steps that succeeded */
        data_close(db);
        CHECK(data_open(run, &db, &err) == FM_OK, "n=%ld: reopen", n);
        data_events_last(db, &last, &err);
        CHECK(last == events_after[done] + extra, "n=%ld: %lld events after %d steps, want %lld",
              n, (long long)last, done, (long long)(events_after[done] + extra));
        fm_err_clear(&err);
        CHECK(data_events_verify(db, &bad, &count, &err) == FM_OK && bad == 0,
              "n=%ld: the log and the versions agree: %s", n, err.msg);
        data_close(db);
    }
    CHECK(untouched, "the loop reached a run the fault did not touch");
    printf("fault injection: %d runs, each a success or a clean error with no half write\n", runs);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) return 1;
    return SUMMARY();
}

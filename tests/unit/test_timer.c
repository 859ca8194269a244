/* test_timer.c - the periodic thread of server/timer.c, which the conflict
 * re-check and the deadlines' check run on: the first pass at once or one
 * interval after the start, a wake runs a pass early, the node hook can
 * skip a pass, and stop ends a long wait at once. */
#include "check.h"
#include "timer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

struct ctx {
    atomic_long passes, acquired, released;
    atomic_int allow;
    _Atomic double first; /* when the first pass ran (monotonic seconds) */
};

static double now_s(void);

static void pass(void *arg)
{
    struct ctx *c = arg;
    if (atomic_fetch_add(&c->passes, 1) == 0) atomic_store(&c->first, now_s());
}

static int acquire(void *arg)
{
    struct ctx *c = arg;
    atomic_fetch_add(&c->acquired, 1);
    return atomic_load(&c->allow);
}

static void release(void *arg)
{
    struct ctx *c = arg;
    atomic_fetch_add(&c->released, 1);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Polls until *v reaches want or `limit` seconds pass; the seconds waited. */
static double wait_for(atomic_long *v, long want, double limit)
{
    double t0 = now_s();
    while (atomic_load(v) < want && now_s() - t0 < limit) {
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    return now_s() - t0;
}

int main(void)
{
    struct fm_err err;
    struct srv_timer *t;

    /* the re-check's way: nothing at once, the first pass one interval on */
    struct ctx c1 = {0};
    struct srv_timer_spec s1 = {
        .name = "test", .interval_ms = 400, .first_at_once = 0, .pass = pass, .ctx = &c1};
    double t0 = now_s();
    CHECK(srv_timer_start(&s1, &t, &err) == FM_OK, "start");
    wait_for(&c1.passes, 1, 10);
    /* measured from the pass itself, not from a sleep (a loaded machine
     * may oversleep) */
    CHECK(atomic_load(&c1.passes) >= 1 && atomic_load(&c1.first) - t0 >= 0.39,
          "the first pass one interval after the start, not at once (%.3f s)",
          atomic_load(&c1.first) - t0);
    srv_timer_stop(t);

    /* the deadlines' way: a pass at once, and a wake runs one early */
    struct ctx c2 = {0};
    struct srv_timer_spec s2 = {
        .name = "test", .interval_ms = 3600 * 1000, .first_at_once = 1, .pass = pass, .ctx = &c2};
    CHECK(srv_timer_start(&s2, &t, &err) == FM_OK, "start");
    CHECK(wait_for(&c2.passes, 1, 10) < 5, "the first pass at once");
    CHECK(wait_for(&c2.passes, 2, 0.3) >= 0.3 && atomic_load(&c2.passes) == 1,
          "then the interval (an hour): no second pass");
    srv_timer_wake(t);
    CHECK(wait_for(&c2.passes, 2, 10) < 5 && atomic_load(&c2.passes) == 2,
          "a wake runs a pass early");
    CHECK(srv_timer_passes(t) >= 1, "passes counted");
    t0 = now_s();
    srv_timer_stop(t); /* in the middle of an hour's wait */
    CHECK(now_s() - t0 < 2, "stop ends the wait at once and joins (%.3f s)", now_s() - t0);
    srv_timer_stop(NULL);
    srv_timer_wake(NULL);

    /* the one-node hook: a pass runs only when acquire says so */
    struct ctx c3 = {0};
    struct srv_timer_spec s3 = {.name = "test",
                                .interval_ms = 20,
                                .first_at_once = 1,
                                .pass = pass,
                                .acquire = acquire,
                                .release = release,
                                .ctx = &c3};
    CHECK(srv_timer_start(&s3, &t, &err) == FM_OK, "start");
    wait_for(&c3.acquired, 5, 10);
    CHECK(atomic_load(&c3.acquired) >= 5 && atomic_load(&c3.passes) == 0 &&
              atomic_load(&c3.released) == 0,
          "another node's turn: no pass, nothing released (%ld asked)",
          (long)atomic_load(&c3.acquired));
    atomic_store(&c3.allow, 1);
    wait_for(&c3.passes, 3, 10);
    srv_timer_stop(t);
    CHECK(atomic_load(&c3.passes) >= 3 && atomic_load(&c3.released) == atomic_load(&c3.passes),
          "its turn: passes run, each released (%ld, %ld)", (long)atomic_load(&c3.passes),
          (long)atomic_load(&c3.released));

    /* a timer without a pass is refused */
    struct srv_timer_spec bad = {.name = "test", .interval_ms = 10};
    CHECK(srv_timer_start(&bad, &t, &err) != FM_OK && t == NULL, "no pass: refused");
    return SUMMARY();
}

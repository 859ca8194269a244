/* timer.c - a periodic background thread (timer.h): a pass, then a wait of
 * one interval that a wake or the stop ends early. The wait is on the
 * monotonic clock, so a change of the wall clock neither skips nor
 * repeats passes. */
#include "timer.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct srv_timer {
    struct srv_timer_spec spec;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int stop, woken;
    long passes;
};

/* Waits (lock held) one interval, or until woken or stopped. */
static void wait_interval(struct srv_timer *t)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += t->spec.interval_ms / 1000;
    until.tv_nsec += (t->spec.interval_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    while (!t->stop && !t->woken &&
           pthread_cond_timedwait(&t->cond, &t->lock, &until) != ETIMEDOUT) {
    }
}

static void *timer_main(void *arg)
{
    struct srv_timer *t = arg;
    /* background work: on a busy machine the requests' threads go first
     * (Linux: a thread's own nice value; failure only costs that) */
    if (t->spec.nice && setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), t->spec.nice) != 0)
        fm_log(FM_LOG_DEBUG, "%s: could not lower its priority", t->spec.name);
    pthread_mutex_lock(&t->lock);
    if (!t->spec.first_at_once) wait_interval(t);
    while (!t->stop) {
        t->woken = 0;
        pthread_mutex_unlock(&t->lock);
        if (!t->spec.acquire || t->spec.acquire(t->spec.ctx)) {
            t->spec.pass(t->spec.ctx);
            if (t->spec.release) t->spec.release(t->spec.ctx);
        }
        pthread_mutex_lock(&t->lock);
        t->passes++;
        wait_interval(t);
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

fm_rc srv_timer_start(const struct srv_timer_spec *spec, struct srv_timer **out, struct fm_err *err)
{
    *out = NULL;
    if (!spec->pass || spec->interval_ms <= 0)
        return fm_fail(err, FM_EINTERNAL, NULL, "%s: a timer needs a pass and an interval",
                       spec->name);
    struct srv_timer *t = fm_xcalloc(1, sizeof *t);
    t->spec = *spec;
    pthread_mutex_init(&t->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&t->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&t->thread, NULL, timer_main, t) != 0) {
        pthread_cond_destroy(&t->cond);
        pthread_mutex_destroy(&t->lock);
        free(t);
        return fm_fail(err, FM_EINTERNAL, NULL, "cannot start the %s thread", spec->name);
    }
    *out = t;
    return FM_OK;
}

void srv_timer_wake(struct srv_timer *t)
{
    if (!t) return;
    pthread_mutex_lock(&t->lock);
    t->woken = 1;
    pthread_cond_signal(&t->cond);
    pthread_mutex_unlock(&t->lock);
}

long srv_timer_passes(struct srv_timer *t)
{
    pthread_mutex_lock(&t->lock);
    long n = t->passes;
    pthread_mutex_unlock(&t->lock);
    return n;
}

void srv_timer_stop(struct srv_timer *t)
{
    if (!t) return;
    pthread_mutex_lock(&t->lock);
    t->stop = 1;
    pthread_cond_signal(&t->cond);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    pthread_cond_destroy(&t->cond);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

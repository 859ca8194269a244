/* timer.h - the server's periodic background work: a thread that runs a
 * pass every interval, can be woken for a pass now, and is stopped and
 * joined at shutdown. The conflicts' re-check (conflicts.c) and the
 * deadlines' check (rules.c) are its users. */
#ifndef FM_SERVER_TIMER_H
#define FM_SERVER_TIMER_H

#include "fm.h"

struct srv_timer;

struct srv_timer_spec {
    const char *name;  /* for the log: "conflict re-check" */
    long interval_ms;  /* between the end of a pass and the next one, > 0 */
    int first_at_once; /* 1: the first pass at start; 0: one interval after it */
    int nice;          /* the thread's nice value (Linux); 0 leaves it */
    void (*pass)(void *ctx);
    /* Where one node of several would take its turn (a lock shared by the
     * nodes): called before each pass, which runs only when it answers
     * nonzero; release after the pass. NULL: every pass runs (one node). */
    int (*acquire)(void *ctx);
    void (*release)(void *ctx);
    void *ctx; /* the caller's; it outlives the timer */
};

/* Starts the thread. OUT *out. */
fm_rc srv_timer_start(const struct srv_timer_spec *spec, struct srv_timer **out,
                      struct fm_err *err);
/* A pass as soon as the thread is free (the one running, if any, first);
 * then the interval again. Takes NULL. */
void srv_timer_wake(struct srv_timer *t);
/* Passes run so far (tests). */
long srv_timer_passes(struct srv_timer *t);
/* Stops the thread, waiting for a running pass to end, and frees t.
 * Takes NULL. */
void srv_timer_stop(struct srv_timer *t);

#endif

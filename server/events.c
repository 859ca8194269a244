/* events.c - the event log over HTTP: GET /events/log?since=N&limit=M and
 * GET /events/verify. (The live stream, /events, comes with the viewer.) */
#include "srv.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>

int h_events_log(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    long since = 0, limit = 1000;
    const char *s;
    if ((s = srv_arg(r, "since")) && fm_parse_long(s, 0, INT32_MAX, &since))
        return srv_problem_status(r, 400, "since must be a sequence number (0 or more)", "since");
    if ((s = srv_arg(r, "limit")) && fm_parse_long(s, 1, 10000, &limit))
        return srv_problem_status(r, 400, "limit must be from 1 to 10000", "limit");
    /* up to `limit` events the caller may see: the store reads records, seen
     * or not, so read on until enough are seen or the log ends; `last` is
     * how far the answer covers (continue with since=last) */
    struct fm_err err;
    json_t *events = json_array();
    int64_t at = since;
    long chunk = limit < 1000 ? 1000 : limit;
    for (;;) {
        json_t *part;
        int64_t scanned;
        fm_rc rc = data_events_scan(r->db, &r->viewer, at, chunk, &part, &scanned, &err);
        if (rc) {
            json_decref(events);
            return srv_problem(r, rc, &err);
        }
        size_t i;
        json_t *e;
        int full = 0;
        json_array_foreach(part, i, e) {
            json_array_append(events, e);
            if ((long)json_array_size(events) == limit) {
                /* full: the answer covers up to this event */
                scanned = json_integer_value(json_object_get(e, "seq"));
                full = 1;
                break;
            }
        }
        json_decref(part);
        int end = scanned == at; /* nothing after `at` */
        at = scanned;
        if (full || end) break;
    }
    return srv_reply_json(r, 200, NULL,
                          json_pack("{s:o,s:I}", "events", events, "last", (json_int_t)at));
}

/* A verify replays the whole log (some 2 s of CPU on 19,000 records):
 * one at a time, so that no caller, by asking often, takes more than one
 * worker's share of the machine; the others hear 503 and try again. */
static atomic_flag verifying = ATOMIC_FLAG_INIT;

int h_events_verify(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    struct fm_err err;
    fm_err_clear(&err);
    if (atomic_flag_test_and_set(&verifying))
        return srv_problem_status(r, 503, "a verify is running; try again in a moment", NULL);
    int64_t bad, count;
    fm_rc rc = data_events_verify(r->db, &bad, &count, &err);
    atomic_flag_clear(&verifying);
    if (rc) return srv_problem(r, rc, &err);
    json_t *j = json_pack("{s:b,s:I}", "ok", bad == 0, "records", (json_int_t)count);
    if (bad) {
        json_object_set_new(j, "first_bad", json_integer(bad));
        /* a table's values may be another party's draft: the supervisor
         * (and the admin) read them; the others read where it differs */
        int all = r->viewer.role == DATA_ROLE_SUPERVISOR || r->viewer.role == DATA_ROLE_ADMIN;
        char where[sizeof err.pointer + 64];
        snprintf(where, sizeof where, "the state differs from the log: %s", err.pointer);
        json_object_set_new(j, "reason", json_string(all || !err.pointer[0] ? err.msg : where));
    }
    return srv_reply_json(r, 200, NULL, j);
}

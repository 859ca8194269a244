/* rules.c - lead times and deadlines over HTTP: GET /rules (everyone
 * logged in), PUT /rules (the admin), the test clock POST /rules/clock
 * (the admin, and only when the server runs with FUSIONMAP_TEST_CLOCK=1:
 * tests and demos), and the thread that marks unanswered versions overdue
 * on time. data/rules.c holds the rules; this parses and replies. */
#include "srv.h"
#include "timer.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const json_types[] = {"application/json", NULL};

int h_rules_get(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    struct fm_err err;
    json_t *rules;
    fm_rc rc = data_rules(r->db, &rules, &err);
    if (rc) return srv_problem(r, rc, &err);
    return srv_reply_json(r, 200, NULL, json_pack("{s:o}", "rules", rules));
}

int h_rules_put(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    if (r->viewer.role != DATA_ROLE_ADMIN)
        return srv_problem_status(r, 403, "only the admin sets the rules", NULL);
    json_t *body = srv_body_json(r, json_types);
    if (!body) return MHD_YES;
    /* {"rules": [...]} as GET answers it is taken too */
    json_t *rules = json_is_object(body) && json_object_get(body, "rules") &&
                            json_object_size(body) == 1
                        ? json_object_get(body, "rules")
                        : body;
    struct fm_err err;
    json_t *out;
    fm_rc rc = data_rules_set(r->db, &r->viewer, rules, &out, &err);
    json_decref(body);
    if (rc) return srv_problem(r, rc, &err);
    return srv_reply_json(r, 200, NULL, json_pack("{s:o}", "rules", out));
}

/* Is the test clock allowed (FUSIONMAP_TEST_CLOCK=1)? */
static int test_clock_on(void)
{
    const char *e = getenv("FUSIONMAP_TEST_CLOCK");
    return e && !strcmp(e, "1");
}

int h_rules_clock(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    if (!test_clock_on())
        return srv_problem_status(r, 403,
                                  "the test clock is off: it moves only in a server started with"
                                  " FUSIONMAP_TEST_CLOCK=1 (tests and demos)",
                                  NULL);
    if (r->viewer.role != DATA_ROLE_ADMIN)
        return srv_problem_status(r, 403, "only the admin moves the test clock", NULL);
    json_t *body = srv_body_json(r, json_types);
    if (!body) return MHD_YES;
    json_t *adv = json_object_get(body, "advance_s");
    struct fm_err err;
    if (!json_is_object(body) || json_object_size(body) != 1 || !json_is_integer(adv) ||
        json_integer_value(adv) < 0 || json_integer_value(adv) > 366 * 86400) {
        json_decref(body);
        return srv_problem(r, fm_fail(&err, FM_EINVAL, "/advance_s",
                                      "send {\"advance_s\": N}, whole seconds 0 to 31622400"),
                           &err);
    }
    data_clock_advance(json_integer_value(adv));
    json_decref(body);
    long marked = 0;
    fm_rc rc = data_deadlines_check(r->db, &marked, &err);
    if (rc) return srv_problem(r, rc, &err);
    char now[FM_TIME_STAMP_LEN];
    fm_time_format(data_clock_now(), now);
    return srv_reply_json(r, 200, NULL,
                          json_pack("{s:I,s:s,s:I}", "offset_s", (json_int_t)data_clock_offset(),
                                    "now", now, "overdue_marked", (json_int_t)marked));
}

/* ---- the check on time --------------------------------------------------- */

struct srv_deadlines {
    struct srv_timer *timer;
    struct data_db *db;
    struct srv_streams *streams;
    int duty; /* this server checks the deadlines (one of several on a database) */
};

/* The timer's turn: only the server holding the duty checks. */
static int deadlines_turn(void *arg)
{
    struct srv_deadlines *h = arg;
    int mine = data_duty_take(h->db, DATA_DUTY_DEADLINES);
    if (mine != h->duty)
        fm_log(FM_LOG_INFO, mine ? "deadlines: this server checks them"
                                 : "deadlines: another server checks them");
    h->duty = mine;
    return mine;
}

static void deadlines_pass(void *arg)
{
    struct srv_deadlines *h = arg;
    long marked = 0;
    struct fm_err err;
    if (data_deadlines_check(h->db, &marked, &err))
        fm_log(FM_LOG_WARN, "deadlines: %s", err.msg);
    else if (marked) {
        fm_log(FM_LOG_INFO, "deadlines: %ld overdue", marked);
        srv_streams_notify(h->streams);
    }
}

fm_rc srv_deadlines_start(const struct srv_config *c, struct srv_streams *streams,
                          struct srv_deadlines **out, struct fm_err *err)
{
    *out = NULL;
    long interval = 30;
    const char *env = getenv("FM_DEADLINE_CHECK_S");
    if (env && fm_parse_long(env, 1, 86400, &interval))
        return fm_fail(err, FM_EINVAL, "FM_DEADLINE_CHECK_S",
                       "FM_DEADLINE_CHECK_S is seconds, 1 to 86400, not %s", env);
    struct data_db *db;
    fm_rc rc = data_open(c->db_path, &db, err);
    if (rc) return rc;
    struct srv_deadlines *h = fm_xcalloc(1, sizeof *h);
    h->db = db;
    h->streams = streams;
    /* the first check at once: what fell due while the server was down */
    struct srv_timer_spec spec = {.name = "deadlines",
                                  .interval_ms = interval * 1000,
                                  .first_at_once = 1,
                                  .nice = 10,
                                  .pass = deadlines_pass,
                                  .acquire = deadlines_turn,
                                  .ctx = h};
    if ((rc = srv_timer_start(&spec, &h->timer, err))) {
        data_close(db);
        free(h);
        return rc;
    }
    *out = h;
    return FM_OK;
}

void srv_deadlines_stop(struct srv_deadlines *h)
{
    if (!h) return;
    srv_timer_stop(h->timer);
    data_close(h->db);
    free(h);
}

/* rules.c - lead times and deadlines over HTTP: GET /rules (everyone
 * logged in), PUT /rules (the admin), the test clock POST /rules/clock
 * (the admin, and only when the server runs with FUSIONMAP_TEST_CLOCK=1:
 * tests and demos), and the thread that marks unanswered versions overdue
 * on time. data/rules.c holds the rules; this parses and replies. */
#include "srv.h"

#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

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
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop;
    long interval_s;
    struct data_db *db;
    struct srv_streams *streams;
};

static void *deadlines_main(void *arg)
{
    struct srv_deadlines *h = arg;
    if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10) != 0)
        fm_log(FM_LOG_DEBUG, "deadlines: could not lower its priority");
    pthread_mutex_lock(&h->lock);
    while (!h->stop) {
        pthread_mutex_unlock(&h->lock);
        long marked = 0;
        struct fm_err err;
        if (data_deadlines_check(h->db, &marked, &err))
            fm_log(FM_LOG_WARN, "deadlines: %s", err.msg);
        else if (marked) {
            fm_log(FM_LOG_INFO, "deadlines: %ld overdue", marked);
            srv_streams_notify(h->streams);
        }
        pthread_mutex_lock(&h->lock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += h->interval_s;
        while (!h->stop && pthread_cond_timedwait(&h->wake, &h->lock, &until) != ETIMEDOUT) {
        }
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
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
    h->interval_s = interval;
    h->db = db;
    h->streams = streams;
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->wake, NULL);
    if (pthread_create(&h->thread, NULL, deadlines_main, h) != 0) {
        pthread_cond_destroy(&h->wake);
        pthread_mutex_destroy(&h->lock);
        data_close(db);
        free(h);
        return fm_fail(err, FM_EINTERNAL, NULL, "cannot start the deadlines thread");
    }
    *out = h;
    return FM_OK;
}

void srv_deadlines_stop(struct srv_deadlines *h)
{
    if (!h) return;
    pthread_mutex_lock(&h->lock);
    h->stop = 1;
    pthread_cond_signal(&h->wake);
    pthread_mutex_unlock(&h->lock);
    pthread_join(h->thread, NULL);
    pthread_cond_destroy(&h->wake);
    pthread_mutex_destroy(&h->lock);
    data_close(h->db);
    free(h);
}

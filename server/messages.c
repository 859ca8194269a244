/* messages.c - the cell's conversation over HTTP: an item's thread
 * (/collections/{c}/items/{id}/messages), the channels (/channels,
 * /channels/{ch}/messages), "seen" receipts (.../messages/seen), and the
 * supervisor's rulings (/collections/{c}/items/{id}/ruling). data/ holds
 * the rules; this parses, limits each user's pace, and replies. */
#include "srv.h"

#include <microhttpd.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- each user's pace: a token bucket of FM_MESSAGE_RATE messages a
 * minute (default 30; "N/S": N every S seconds), as many at once ------ */

#define PACE_SLOTS 4096

struct pace {
    int64_t user; /* 0: free */
    double tokens;
    int64_t at_ms;
};

static pthread_mutex_t pace_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pace paces[PACE_SLOTS];
static double pace_rate = -1;          /* messages a window */
static double pace_window_ms = 60000.0; /* the window */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Takes one message from user's bucket: 0, or the seconds to wait. */
static long pace_take(int64_t user)
{
    pthread_mutex_lock(&pace_lock);
    if (pace_rate < 0) {
        /* "N": N a minute; "N/S": N every S seconds (tests slow the refill) */
        const char *e = getenv("FM_MESSAGE_RATE");
        char buf[32];
        snprintf(buf, sizeof buf, "%s", e ? e : "");
        char *slash = strchr(buf, '/');
        if (slash) *slash = '\0';
        long v, per = 60;
        if (fm_parse_long(buf, 1, 100000, &v) != FM_OK ||
            (slash && fm_parse_long(slash + 1, 1, 86400, &per) != FM_OK))
            v = 30, per = 60;
        pace_rate = (double)v;
        pace_window_ms = (double)per * 1000.0;
    }
    size_t j = (size_t)user * 2654435761u % PACE_SLOTS;
    for (size_t k = 0; k < PACE_SLOTS && paces[j].user && paces[j].user != user; k++)
        j = (j + 1) % PACE_SLOTS;
    int64_t now = now_ms();
    struct pace *p = &paces[j];
    if (p->user != user) {
        /* a new user, or a full table: that slot starts again */
        p->user = user;
        p->tokens = pace_rate;
        p->at_ms = now;
    }
    p->tokens = fmin(pace_rate, p->tokens + (double)(now - p->at_ms) * pace_rate / pace_window_ms);
    p->at_ms = now;
    long wait = 0;
    if (p->tokens >= 1.0)
        p->tokens -= 1.0;
    else
        wait = (long)ceil((1.0 - p->tokens) * pace_window_ms / 1000.0 / pace_rate);
    pthread_mutex_unlock(&pace_lock);
    return wait < 0 ? 1 : wait;
}

/* ---- the thread a path names ---------------------------------------------- */

/* p is the path's parts: collections/C/items/ID/... or channels/CH/... */
static int thread_of(struct req *r, const char *const *p, struct data_thread *t)
{
    memset(t, 0, sizeof *t);
    if (!strcmp(p[0], "channels")) {
        t->channel = p[1];
        return 1;
    }
    long id;
    if (data_coll_parse(p[1], &t->coll) != FM_OK) {
        srv_problem_status(r, 404, "no such collection; there are zones, incidents and movements",
                           NULL);
        return 0;
    }
    if (fm_parse_long(p[3], 1, INT64_MAX, &id) != FM_OK) {
        srv_problem_status(r, 404, "item ids are positive whole numbers", NULL);
        return 0;
    }
    t->item = id;
    return 1;
}

static const char *const json_types[] = {"application/json", NULL};

int h_channels(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    struct fm_err err;
    json_t *list;
    fm_rc rc = data_channels(r->db, &r->viewer, &list, &err);
    if (rc) return srv_problem(r, rc, &err);
    return srv_reply_json(r, 200, NULL, json_pack("{s:o}", "channels", list));
}

int h_messages_get(struct req *r, const char *const *p, int n)
{
    (void)n;
    struct data_thread t;
    if (!thread_of(r, p, &t)) return MHD_YES;
    static const char *const known[] = {"since", NULL};
    char bad[64];
    if (srv_unknown_arg(r, known, bad, sizeof bad)) {
        char detail[128];
        snprintf(detail, sizeof detail, "unknown query parameter %s (there is since)", bad);
        return srv_problem_status(r, 400, detail, NULL);
    }
    long since = 0;
    const char *s = srv_arg(r, "since");
    if (s && fm_parse_long(s, 0, INT64_MAX, &since) != FM_OK)
        return srv_problem_status(r, 400, "since is a message id (a whole number)", NULL);
    struct fm_err err;
    json_t *out;
    fm_rc rc = data_messages(r->db, &r->viewer, &t, since, &out, &err);
    if (rc) return srv_problem(r, rc, &err);
    return srv_reply_json(r, 200, NULL, out);
}

int h_messages_post(struct req *r, const char *const *p, int n)
{
    (void)n;
    struct data_thread t;
    if (!thread_of(r, p, &t)) return MHD_YES;
    json_t *body = srv_body_json(r, json_types);
    if (!body) return MHD_YES;
    struct fm_err err;
    fm_rc rc = FM_OK;
    const char *k;
    json_t *val;
    const json_t *text = json_object_get(body, "text");
    if (!json_is_object(body))
        rc = fm_fail(&err, FM_EINVAL, "", "send {\"text\": \"...\", \"quote\": {...}}");
    json_object_foreach(body, k, val) if (!rc && strcmp(k, "text") != 0 && strcmp(k, "quote") != 0)
        rc = fm_fail(&err, FM_EINVAL, "", "a message has text and a quote, no %.40s", k);
    if (!rc && !json_is_string(text))
        rc = fm_fail(&err, FM_EINVAL, "/text", "text is a string: the message");
    json_t *out = NULL;
    long wait = 0;
    if (!rc && r->viewer.user_id > 0 && (wait = pace_take(r->viewer.user_id)) > 0)
        rc = fm_fail(&err, FM_ELIMIT, NULL,
                     "too many messages: at most %.0f in %.0f s; try again in %ld s", pace_rate,
                     pace_window_ms / 1000.0, wait);
    if (!rc)
        rc = data_message_post(r->db, &r->viewer, &t, json_string_value(text),
                               json_object_get(body, "quote"), &out, &err);
    json_decref(body);
    if (rc == FM_ELIMIT) {
        char ra[24];
        snprintf(ra, sizeof ra, "%ld", wait);
        srv_add_header(r, "Retry-After", ra);
    }
    if (rc) return srv_problem(r, rc, &err);
    return srv_reply_json(r, 201, NULL, out);
}

int h_messages_seen(struct req *r, const char *const *p, int n)
{
    (void)n;
    struct data_thread t;
    if (!thread_of(r, p, &t)) return MHD_YES;
    int64_t upto = 0;
    struct fm_err err;
    fm_rc rc = FM_OK;
    if (r->body.len) {
        json_t *body = srv_body_json(r, json_types);
        if (!body) return MHD_YES;
        json_t *u = json_object_get(body, "upto");
        if (!json_is_object(body) || json_object_size(body) > 1 ||
            (json_object_size(body) == 1 && !json_is_integer(u)))
            rc = fm_fail(&err, FM_EINVAL, "/upto", "send {\"upto\": N}, or nothing: the newest");
        else if (u)
            upto = json_integer_value(u);
        json_decref(body);
    }
    json_t *out = NULL;
    if (!rc) rc = data_messages_seen(r->db, &r->viewer, &t, upto, &out, &err);
    if (rc) return srv_problem(r, rc, &err);
    return srv_reply_json(r, 200, NULL, out);
}

/* ---- rulings ------------------------------------------------------------------ */

int h_item_ruling(struct req *r, const char *const *p, int n)
{
    (void)n;
    struct data_thread t;
    if (!thread_of(r, p, &t)) return MHD_YES;
    int64_t if_match = 0;
    const char *im = srv_header(r, "If-Match");
    if (im) {
        long v;
        char buf[32];
        size_t len = strlen(im);
        if (len >= 3 && len < sizeof buf && im[0] == '"' && im[len - 1] == '"') {
            memcpy(buf, im + 1, len - 2);
            buf[len - 2] = '\0';
        } else {
            buf[0] = '\0';
        }
        if (fm_parse_long(buf, 1, INT64_MAX, &v) != FM_OK)
            return srv_problem_status(r, 400, "If-Match is a version in quotes: \"3\"", NULL);
        if_match = v;
    }
    json_t *body = srv_body_json(r, json_types);
    if (!body) return MHD_YES;
    struct fm_err err;
    fm_rc rc = FM_OK;
    const char *k;
    json_t *val;
    if (!json_is_object(body))
        rc = fm_fail(&err, FM_EINVAL, "", "send {\"decision\": \"uphold\"|\"overrule\", \"reason\": \"...\"}");
    json_object_foreach(body, k, val) if (!rc && strcmp(k, "decision") != 0 && strcmp(k, "reason") != 0 &&
                                          strcmp(k, "signature") != 0)
        rc = fm_fail(&err, FM_EINVAL, "", "a ruling has a decision, a reason and a signature, no %.40s", k);
    const json_t *reason = json_object_get(body, "reason");
    const json_t *sig = json_object_get(body, "signature");
    struct data_signature ds = {0};
    if (!rc && reason && !json_is_string(reason))
        rc = fm_fail(&err, FM_EINVAL, "/reason", "reason is a string");
    if (!rc && sig && !json_is_null(sig)) {
        if (!json_is_object(sig) || json_object_size(sig) != 3 ||
            !json_is_string(json_object_get(sig, "key")) ||
            !json_is_integer(json_object_get(sig, "at")) ||
            !json_is_string(json_object_get(sig, "value")))
            rc = fm_fail(&err, FM_EINVAL, "/signature",
                         "signature is {\"key\": fingerprint, \"at\": the statement's time (seconds),"
                         " \"value\": base64 Ed25519 signature} (GET .../statement?decision=uphold"
                         "|overrule&comment=REASON gives what to sign)");
        ds.key = json_string_value(json_object_get(sig, "key"));
        ds.value = json_string_value(json_object_get(sig, "value"));
        ds.at = json_integer_value(json_object_get(sig, "at"));
    }
    json_t *updated = NULL, *ruling = NULL;
    if (!rc)
        rc = data_item_rule_signed(r->db, &r->viewer, t.coll, t.item, if_match,
                                   json_string_value(json_object_get(body, "decision")),
                                   json_string_value(reason), ds.key ? &ds : NULL, &updated,
                                   &ruling, &err);
    json_decref(body);
    if (rc) return srv_problem(r, rc, &err);
    char etag[32];
    snprintf(etag, sizeof etag, "\"%" JSON_INTEGER_FORMAT "\"",
             json_integer_value(json_object_get(json_object_get(updated, "properties"), "version")));
    srv_add_header(r, "ETag", etag);
    return srv_reply_json(r, 200, NULL, json_pack("{s:o,s:o}", "ruling", ruling, "item", updated));
}

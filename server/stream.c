/* stream.c - the live event stream, GET /events (Server-Sent Events).
 *
 * Each open stream is an MHD response fed by a content reader. While a
 * stream has nothing to send its connection is suspended, so hundreds of
 * idle streams hold no worker thread. One hub thread with its own database
 * connection does the rest: woken by srv_streams_notify (after a write), by
 * a new stream, by a poll of the log (writes from other processes), or by
 * the heartbeat clock, it reads the events each stream may see
 * (data_events_since with the stream's viewer), appends them to the
 * stream's buffer and resumes the connection.
 *
 * Threads and ownership: a struct stream is owned by the hub. MHD's worker
 * threads touch it only in the reader (under hub->lock) and in the
 * response's free callback, which only sets `dead`; the hub unlinks and
 * frees dead streams. MHD_suspend_connection is called only from the
 * reader, MHD_resume_connection only by the hub, both under hub->lock and
 * only for a connection that is suspended, so a resumed connection can
 * never be one MHD has already closed.
 *
 * Resuming: "id: N" is the event's sequence number. A client resumes with
 * Last-Event-ID (or ?since=N) and gets every later event it may see, once.
 * A client further behind than STREAM_HORIZON events, or ahead of the log
 * (the database was replaced), gets "event: reset" with the newest
 * sequence number and reloads. "event: position" only moves the client's
 * Last-Event-ID (at the start, and past events it may not see). A heartbeat comment every ~15 s keeps
 * proxies from closing the connection, reclaims streams whose client has
 * left (the write fails), and checks the session or token is still good.
 */
#include "srv.h"

#include <microhttpd.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define STREAM_HORIZON 10000      /* events a client may be behind before a reset */
#define STREAM_BATCH 200          /* events read per query */
#define STREAM_SOFT_CAP (64 << 10) /* stop reading events for a stream past this */
#define STREAM_HARD_CAP (1 << 20) /* buffer bound; heartbeats never push past it */
#define STREAM_POLL_MS 1000       /* look at the log for writes from elsewhere */
#define STREAM_RETRY_MS 2000      /* the client's reconnect delay */

struct stream {
    struct stream *next;
    struct srv_streams *hub;
    struct MHD_Connection *conn;
    struct data_viewer viewer;
    char session[DATA_SECRET_LEN + 8]; /* cookie session id, or "" */
    char token[DATA_TOKEN_LEN + 8];    /* bearer token, or "" */
    int64_t since;                     /* last sequence handed to the buffer */
    int64_t id_sent;                   /* last id line written */
    struct fm_buf out;                 /* bytes not yet taken by the reader */
    size_t out_pos;                    /* how much of out the reader took */
    int suspended;                     /* MHD_suspend_connection was called */
    int ending;                        /* send what is left, then end */
    atomic_int dead;                   /* MHD is done with it (free callback) */
};

struct srv_streams {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    int running, stopping, notified;
    char *db_path;
    struct data_session_policy session;
    unsigned max_streams;
    unsigned live; /* streams not yet dead */
    long heartbeat_ms;
    struct stream *head;
};

/* ---- time ------------------------------------------------------------- */

static void deadline_in(struct timespec *ts, long ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* ---- buffers (hub->lock held) ----------------------------------------- */

static size_t pending(const struct stream *s)
{
    return s->out.len - s->out_pos;
}

/* Appends text; on the hard cap the stream ends (the client resumes). */
static void put(struct stream *s, const char *text)
{
    if (s->ending) return;
    if (s->out_pos > 0 && s->out_pos == s->out.len) {
        s->out.len = 0; /* all taken: start over at the front */
        s->out_pos = 0;
    }
    if (fm_buf_adds(&s->out, text) != FM_OK) s->ending = 1;
}

static void wake_reader(struct stream *s)
{
    if (s->suspended && (pending(s) > 0 || s->ending)) {
        s->suspended = 0;
        MHD_resume_connection(s->conn);
    }
}

/* ---- the reader (MHD worker thread) ----------------------------------- */

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct stream *s = cls;
    struct srv_streams *h = s->hub;
    ssize_t n;
    pthread_mutex_lock(&h->lock);
    size_t avail = pending(s);
    if (avail > 0) {
        n = (ssize_t)(avail < max ? avail : max);
        memcpy(buf, s->out.data + s->out_pos, (size_t)n);
        s->out_pos += (size_t)n;
    } else if (s->ending || h->stopping) {
        n = MHD_CONTENT_READER_END_OF_STREAM;
    } else {
        /* nothing to send: give the thread back until the hub resumes us */
        s->suspended = 1;
        MHD_suspend_connection(s->conn);
        n = 0;
    }
    pthread_mutex_unlock(&h->lock);
    return n;
}

/* MHD is done with the stream. No lock here: MHD may hold its own while
 * it calls this, and the hub holds hub->lock while it calls into MHD. The
 * hub reaps the stream at its next pass (the signal only hastens it; a
 * missed one costs at most STREAM_POLL_MS). */
static void reader_free(void *cls)
{
    struct stream *s = cls;
    struct srv_streams *h = s->hub;
    atomic_store(&s->dead, 1);
    pthread_cond_signal(&h->wake);
}

/* ---- the hub ---------------------------------------------------------- */

/* One query per (visibility, since) per pass: streams of one party that
 * are level share the answer. */
struct memo {
    char party[16];
    int64_t since;
    json_t *events;
};
#define MEMO_MAX 32

static const char *vis_key(const struct data_viewer *v)
{
    return v->role == DATA_ROLE_VIEWER || v->role == DATA_ROLE_NONE ? "" : v->party;
}

static json_t *events_for(struct data_db *db, struct stream *s, struct memo *memo, int *nmemo)
{
    const char *key = vis_key(&s->viewer);
    for (int i = 0; i < *nmemo; i++)
        if (memo[i].since == s->since && strcmp(memo[i].party, key) == 0) return memo[i].events;
    struct fm_err err;
    json_t *events;
    if (data_events_since(db, &s->viewer, s->since, STREAM_BATCH, &events, &err) != FM_OK) {
        fm_log(FM_LOG_ERROR, "events stream: %s", err.msg);
        return NULL;
    }
    if (*nmemo == MEMO_MAX) {
        json_decref(memo[0].events);
        memmove(memo, memo + 1, sizeof *memo * (MEMO_MAX - 1));
        (*nmemo)--;
    }
    struct memo *m = &memo[(*nmemo)++];
    snprintf(m->party, sizeof m->party, "%s", key);
    m->since = s->since;
    m->events = events;
    return events;
}

/* Appends the events after s->since; returns how many. */
static size_t feed(struct data_db *db, struct stream *s, int64_t last, struct memo *memo,
                   int *nmemo)
{
    size_t sent = 0;
    while (!s->ending && s->since < last && pending(s) < STREAM_SOFT_CAP) {
        json_t *events = events_for(db, s, memo, nmemo);
        if (!events) break;
        size_t i;
        json_t *e;
        json_array_foreach(events, i, e) {
            char *text = json_dumps(e, JSON_COMPACT | JSON_REAL_PRECISION(15));
            if (!text) continue;
            json_int_t seq = json_integer_value(json_object_get(e, "seq"));
            char head[64];
            snprintf(head, sizeof head, "id: %" JSON_INTEGER_FORMAT "\ndata: ", seq);
            put(s, head);
            put(s, text);
            put(s, "\n\n");
            free(text);
            s->since = seq;
            s->id_sent = seq;
            sent++;
        }
        if (json_array_size(events) < STREAM_BATCH) {
            /* everything up to `last` has been read: what was skipped is
             * invisible to this viewer */
            if (s->since < last) s->since = last;
            break;
        }
    }
    return sent;
}

/* The session or token still names a user (at heartbeat time). */
static int still_authed(struct data_db *db, struct srv_streams *h, struct stream *s)
{
    struct fm_err err;
    struct data_viewer v;
    fm_rc rc;
    if (s->token[0])
        rc = data_token_get(db, s->token, &v, &err);
    else if (s->session[0])
        rc = data_session_peek(db, s->session, &h->session, &v, &err);
    else
        return 1;
    if (rc == FM_EUNAUTH || rc == FM_ENOTFOUND) return 0;
    return 1; /* a database hiccup does not end anybody's stream */
}

static void reap(struct srv_streams *h)
{
    struct stream **pp = &h->head;
    while (*pp) {
        struct stream *s = *pp;
        if (atomic_load(&s->dead)) {
            *pp = s->next;
            fm_buf_cleanup(&s->out);
            free(s);
            h->live--;
        } else {
            pp = &s->next;
        }
    }
}

static void *hub_main(void *arg)
{
    struct srv_streams *h = arg;
    struct data_db *db = NULL;
    struct fm_err err;
    int64_t last_poll = 0, last_beat = fm_monotonic_ms();
    pthread_mutex_lock(&h->lock);
    while (!h->stopping) {
        if (!db) {
            pthread_mutex_unlock(&h->lock);
            if (data_open(h->db_path, &db, &err) != FM_OK) {
                fm_log(FM_LOG_ERROR, "events stream: %s", err.msg);
                db = NULL;
            }
            pthread_mutex_lock(&h->lock);
            if (!db) {
                struct timespec ts;
                deadline_in(&ts, 1000);
                pthread_cond_timedwait(&h->wake, &h->lock, &ts);
                continue;
            }
        }
        int64_t t = fm_monotonic_ms();
        int beat = t - last_beat >= h->heartbeat_ms;
        int work = h->notified || beat || t - last_poll >= STREAM_POLL_MS;
        if (!work) {
            long wait = STREAM_POLL_MS - (long)(t - last_poll);
            long to_beat = h->heartbeat_ms - (long)(t - last_beat);
            struct timespec ts;
            deadline_in(&ts, wait < to_beat ? wait : to_beat);
            pthread_cond_timedwait(&h->wake, &h->lock, &ts);
            continue;
        }
        h->notified = 0;
        last_poll = t;
        reap(h);
        int64_t last = 0;
        if (data_events_last(db, &last, &err) != FM_OK) {
            fm_log(FM_LOG_ERROR, "events stream: %s", err.msg);
            continue;
        }
        {   /* feed() asks the database only for a stream behind `last` */
            struct memo memo[MEMO_MAX];
            int nmemo = 0;
            for (struct stream *s = h->head; s; s = s->next) {
                if (atomic_load(&s->dead) || s->ending) continue;
                feed(db, s, last, memo, &nmemo);
                if (beat) {
                    if (!still_authed(db, h, s)) {
                        put(s, "event: bye\ndata: {\"reason\":\"the session has ended\"}\n\n");
                        s->ending = 1;
                    } else if (pending(s) < STREAM_HARD_CAP / 2) {
                        char line[96];
                        /* a "position" event moves the client's Last-Event-ID
                         * past events it may not see */
                        if (s->since > s->id_sent) {
                            snprintf(line, sizeof line,
                                     ": heartbeat\nid: %" PRId64 "\nevent: position\ndata: {\"last\":%" PRId64 "}\n\n",
                                     s->since, s->since);
                            s->id_sent = s->since;
                        } else {
                            snprintf(line, sizeof line, ": heartbeat\n\n");
                        }
                        put(s, line);
                    }
                }
                wake_reader(s);
            }
            for (int i = 0; i < nmemo; i++) json_decref(memo[i].events);
        }
        if (beat) last_beat = t;
    }
    pthread_mutex_unlock(&h->lock);
    data_close(db);
    return NULL;
}

/* ---- life of the hub -------------------------------------------------- */

fm_rc srv_streams_new(const struct srv_config *c, struct srv_streams **out, struct fm_err *err)
{
    *out = NULL;
    struct srv_streams *h = fm_xcalloc(1, sizeof *h);
    pthread_mutex_init(&h->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&h->wake, &ca);
    pthread_condattr_destroy(&ca);
    h->db_path = fm_xstrdup(c->db_path);
    h->session = c->session;
    /* three quarters of the connections, so that streams never starve requests */
    h->max_streams = c->max_connections > 4 ? c->max_connections / 4 * 3 : 1;
    h->heartbeat_ms = 15000;
    const char *env = getenv("FM_STREAM_HEARTBEAT_MS"); /* tests shorten it */
    long v;
    if (env && fm_parse_long(env, 50, 3600000, &v) == FM_OK) h->heartbeat_ms = v;
    env = getenv("FM_STREAM_MAX");
    if (env && fm_parse_long(env, 1, 100000, &v) == FM_OK) h->max_streams = (unsigned)v;
    if (pthread_create(&h->thread, NULL, hub_main, h) != 0) {
        free(h->db_path);
        pthread_cond_destroy(&h->wake);
        pthread_mutex_destroy(&h->lock);
        free(h);
        return fm_fail(err, FM_EINTERNAL, "", "cannot start the event stream thread");
    }
    h->running = 1;
    *out = h;
    return FM_OK;
}

void srv_streams_notify(struct srv_streams *h)
{
    if (!h) return;
    pthread_mutex_lock(&h->lock);
    h->notified = 1;
    pthread_cond_signal(&h->wake);
    pthread_mutex_unlock(&h->lock);
}

void srv_streams_shutdown(struct srv_streams *h)
{
    if (!h || !h->running) return;
    pthread_mutex_lock(&h->lock);
    h->stopping = 1;
    pthread_cond_signal(&h->wake);
    pthread_mutex_unlock(&h->lock);
    pthread_join(h->thread, NULL);
    h->running = 0;
    /* every suspended connection resumed before MHD_stop_daemon; the
     * reader then ends each stream, and MHD closes it */
    pthread_mutex_lock(&h->lock);
    for (struct stream *s = h->head; s; s = s->next) {
        s->ending = 1;
        wake_reader(s);
    }
    pthread_mutex_unlock(&h->lock);
    /* give the workers a moment to end them cleanly */
    for (int i = 0; i < 100; i++) {
        pthread_mutex_lock(&h->lock);
        reap(h);
        int left = h->head != NULL;
        pthread_mutex_unlock(&h->lock);
        if (!left) break;
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

void srv_streams_free(struct srv_streams *h)
{
    if (!h) return;
    srv_streams_shutdown(h);
    /* MHD has stopped: every free callback has run */
    for (struct stream *s = h->head, *next; s; s = next) {
        next = s->next;
        fm_buf_cleanup(&s->out);
        free(s);
    }
    free(h->db_path);
    pthread_cond_destroy(&h->wake);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

/* ---- GET /events ------------------------------------------------------ */

static int parse_since(struct req *r, int64_t *out)
{
    const char *v = srv_header(r, "Last-Event-ID");
    if (!v || !*v) v = srv_arg(r, "since");
    long n = 0;
    *out = -1; /* none: start at the newest */
    if (!v || !*v) return 1;
    if (fm_parse_long(v, 0, LONG_MAX, &n) != FM_OK) return 0;
    *out = n;
    return 1;
}

int h_events(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    struct srv_streams *h = srv_streams_of(r);
    int64_t since;
    if (!parse_since(r, &since))
        return srv_problem_status(r, 400, "Last-Event-ID (or since) must be a sequence number",
                                  "since");
    struct fm_err err;
    fm_err_clear(&err);
    int64_t last;
    fm_rc rc = data_events_last(r->db, &last, &err);
    if (rc) return srv_problem(r, rc, &err);

    struct stream *s = fm_xcalloc(1, sizeof *s);
    s->hub = h;
    s->conn = r->conn;
    s->viewer = r->viewer;
    fm_buf_init(&s->out, STREAM_HARD_CAP);
    const char *auth = srv_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
    if (auth && strncasecmp(auth, "Bearer ", 7) == 0)
        snprintf(s->token, sizeof s->token, "%s", auth + 7);
    else if (r->by_cookie) {
        const char *sid = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, "fm_session");
        snprintf(s->session, sizeof s->session, "%s", sid ? sid : "");
    }
    char line[160];
    snprintf(line, sizeof line, "retry: %d\n: fusionmap events for %s (%s)\n\n", STREAM_RETRY_MS,
             r->viewer.user, r->viewer.party);
    fm_buf_adds(&s->out, line);
    if (since < 0) {
        /* a new client: from now on; a "position" event gives it the place
         * to resume from, should it reconnect before any event (browsers
         * keep the id only of an event with data) */
        snprintf(line, sizeof line, "id: %" PRId64 "\nevent: position\ndata: {\"last\":%" PRId64 "}\n\n",
                 last, last);
        fm_buf_adds(&s->out, line);
        s->since = last;
        s->id_sent = last;
    } else if (since > last || last - since > STREAM_HORIZON) {
        /* ahead of the log (a new database) or too far behind: reload */
        snprintf(line, sizeof line, "id: %" PRId64 "\nevent: reset\ndata: {\"last\":%" PRId64 "}\n\n",
                 last, last);
        fm_buf_adds(&s->out, line);
        s->since = last;
        s->id_sent = last;
    } else {
        s->since = since;
        s->id_sent = since;
        fm_log(FM_LOG_INFO, "events: %s resumes after %" PRId64 " (newest %" PRId64 ")",
               r->viewer.user, since, last);
    }

    pthread_mutex_lock(&h->lock);
    if (h->stopping || h->live >= h->max_streams) {
        unsigned max = h->max_streams;
        pthread_mutex_unlock(&h->lock);
        fm_buf_cleanup(&s->out);
        free(s);
        char detail[128];
        snprintf(detail, sizeof detail, "too many open event streams (the limit is %u)", max);
        return srv_problem_status(r, 503, detail, NULL);
    }
    s->next = h->head;
    h->head = s;
    h->live++;
    h->notified = 1; /* catch it up at once */
    pthread_cond_signal(&h->wake);
    pthread_mutex_unlock(&h->lock);

    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, reader, s, reader_free);
    if (!resp) {
        reader_free(s);
        r->replied = 1;
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream; charset=utf-8");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    enum MHD_Result ret = MHD_queue_response(r->conn, 200, resp);
    MHD_destroy_response(resp);
    r->replied = 1;
    return ret;
}

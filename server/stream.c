/* stream.c - the live event stream, GET /events (Server-Sent Events).
 *
 * Each open stream is an MHD response fed by a content reader. While a
 * stream has nothing to send its connection is suspended, so hundreds of
 * idle streams hold no worker thread. One hub thread with its own database
 * connection does the rest: woken by srv_streams_notify (after a write), by
 * a new stream, by a reader that has drained a stream still catching up, by
 * a logout (srv_streams_end_session), by a poll of the log (writes from
 * other processes) or by the heartbeat clock, it reads the events each
 * stream may see (data_events_scan with the stream's viewer), appends them
 * to the stream's queue and resumes the connection.
 *
 * Threads and ownership: a struct stream is owned by the hub. MHD's worker
 * threads touch it only in the reader (under hub->lock) and in the
 * response's free callback, which only sets `dead`; the hub unlinks and
 * frees dead streams. MHD_suspend_connection is called only from the
 * reader, MHD_resume_connection only by the hub (and at shutdown), both
 * under hub->lock and only for a connection that is suspended, so a
 * resumed connection can never be one MHD has already closed. The hub
 * holds hub->lock only to look at or append to a queue: the database and
 * the JSON are done outside it, so neither a writer's notify nor a reader
 * ever waits for a pass over the streams. `since`, `id_sent`, `viewer`,
 * `session` and `token` are the hub's alone once the stream is linked.
 *
 * Resuming: "id: N" is the event's sequence number. A client resumes with
 * Last-Event-ID (or ?since=N) and gets every later event it may see, once,
 * in order. A stream's `since` only ever moves to the last record the store
 * has read for it (data_events_scan's *scanned), never to the newest
 * sequence of the log, so a record it may see cannot be jumped over. A
 * client further behind than STREAM_HORIZON events, or ahead of the log
 * (the database was replaced), gets "event: reset" with the newest
 * sequence number and reloads. "event: position" only moves the client's
 * Last-Event-ID (at the start, and past events it may not see).
 *
 * Bounds: a stream's queue (bytes staged for its client and not yet taken)
 * is refilled only while it holds less than STREAM_REFILL bytes, in chunks
 * of about STREAM_CHUNK bytes, so it stays near STREAM_REFILL + STREAM_CHUNK
 * (more only by one event larger than that). A stream whose client leaves
 * bytes untaken for the stall time (10 s; FM_STREAM_STALL_MS) is dropped:
 * its queue is freed, the reader ends the response with an error, and the
 * client resumes with its Last-Event-ID when it reads again.
 *
 * Ending: a logout ends the session's streams at the hub's next pass
 * (milliseconds), and nothing is appended after the logout returned; every
 * stream's session or token is checked again at most every STREAM_POLL_MS
 * (expiry, a user whose role or party changed), so such a stream ends
 * within about a second. A heartbeat comment every ~15 s keeps proxies from
 * closing the connection.
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
#include <sys/socket.h>
#include <time.h>

#define STREAM_HORIZON 10000      /* events a client may be behind before a reset */
#define STREAM_BATCH 200          /* records read per query, at most */
#define STREAM_REFILL (16 << 10)  /* refill a queue holding less than this */
#define STREAM_CHUNK (16 << 10)   /* about this much text per refill step */
#define STREAM_HARD_CAP (64 << 20) /* no queue past this (one huge event at most) */
#define STREAM_KEEP (64 << 10)    /* an emptied queue keeps at most this allocated */
#define STREAM_POLL_MS 1000       /* look at the log for writes from elsewhere, and
                                     check every stream's session or token */
#define STREAM_STALL_MS 10000     /* bytes untaken this long: drop the stream */
#define STREAM_RETRY_MS 2000      /* the client's reconnect delay */
#define STREAM_SNDBUF (64 << 10)  /* the socket's send buffer (the kernel doubles it) */

struct stream {
    struct stream *next;
    struct srv_streams *hub;
    struct MHD_Connection *conn;
    struct data_viewer viewer;
    char session[DATA_SECRET_LEN + 8]; /* cookie session id, or "" */
    char token[DATA_TOKEN_LEN + 8];    /* bearer token, or "" */
    int64_t since;                     /* last sequence read for it (hub only) */
    int64_t id_sent;                   /* last id line written (hub only) */
    struct fm_buf out;                 /* the queue: bytes not yet taken by the reader */
    size_t out_pos;                    /* how much of out the reader took */
    int64_t waiting_since;             /* when the reader last took bytes, or the
                                          queue last became non-empty */
    int suspended;                     /* MHD_suspend_connection was called */
    int ending;                        /* send what is left, then end */
    int dropped;                       /* end now, with an error (the client resumes) */
    int revoked;                       /* its session was ended (logout) */
    int behind;                        /* the hub has more for it once the queue drains */
    int counted;                       /* counts in hub->live */
    int cot;                           /* GET /cot/stream: CoT events, not SSE */
    atomic_int dead;                   /* MHD is done with it (free callback) */
};

/* A stream ticket (POST /events/ticket): single use, short-lived, kept
 * in memory only; it stands for the token it was issued for. */
#define TICKET_MAX 256
#define TICKET_MS 60000
struct ticket {
    char id[DATA_SECRET_LEN]; /* 64 hex digits; "" when the slot is free */
    char token[DATA_TOKEN_LEN + 8];
    int64_t expires; /* monotonic ms */
};

struct srv_streams {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    int running, stopping, notified;
    char *db_path;
    struct data_session_policy session;
    unsigned max_streams;
    unsigned live; /* streams neither dead nor dropped */
    long heartbeat_ms;
    long stall_ms;
    long horizon;
    size_t event_bytes; /* a rendered event's size, a running mean (hub only) */
    struct stream *head;
    long ticket_ms;                   /* a ticket's lifetime */
    pthread_mutex_t ticket_lock;      /* the tickets' own, never held with lock */
    struct ticket tickets[TICKET_MAX];
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

/* ---- queues (hub->lock held) ------------------------------------------ */

static size_t pending(const struct stream *s)
{
    return s->out.len - s->out_pos;
}

/* Appends n bytes; past the hard cap the stream ends (the client resumes). */
static void put_n(struct stream *s, const char *text, size_t n)
{
    if (s->ending || n == 0) return;
    size_t left = pending(s);
    if (s->out_pos > 0 && (s->out_pos >= left || s->out.len + n >= s->out.alloc)) {
        /* what was taken goes, when it is most of the buffer or the buffer
         * is full: the queue moves to the front */
        memmove(s->out.data, s->out.data + s->out_pos, left);
        s->out.len = left;
        s->out_pos = 0;
    }
    if (left == 0) s->waiting_since = fm_monotonic_ms();
    if (fm_buf_add(&s->out, text, n) != FM_OK) s->ending = 1;
}

static void put(struct stream *s, const char *text)
{
    put_n(s, text, strlen(text));
}

static void wake_reader(struct stream *s)
{
    if (s->suspended && (pending(s) > 0 || s->ending)) {
        s->suspended = 0;
        MHD_resume_connection(s->conn);
    }
}

static void uncount(struct srv_streams *h, struct stream *s)
{
    if (s->counted) {
        s->counted = 0;
        h->live--;
    }
}

/* The client has not read: free its queue and end the response with an
 * error, so that it resumes from the last event it has whole. */
static void drop(struct srv_streams *h, struct stream *s)
{
    fm_buf_cleanup(&s->out);
    s->out_pos = 0;
    s->dropped = 1;
    s->ending = 1;
    uncount(h, s);
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
    if (s->dropped) {
        n = MHD_CONTENT_READER_END_WITH_ERROR;
    } else if (avail > 0) {
        n = (ssize_t)(avail < max ? avail : max);
        memcpy(buf, s->out.data + s->out_pos, (size_t)n);
        s->out_pos += (size_t)n;
        s->waiting_since = fm_monotonic_ms();
        if (pending(s) == 0) {
            s->out.len = s->out_pos = 0;
            if (s->out.alloc > STREAM_KEEP) fm_buf_cleanup(&s->out);
        }
        if (s->behind && pending(s) < STREAM_REFILL / 2) {
            s->behind = 0; /* the hub sets it again if it is still behind */
            h->notified = 1;
            pthread_cond_signal(&h->wake);
        }
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

/* One query and one rendering per (visibility, since) per pass: streams
 * that see the same and are level share the text. */
struct memo {
    char key[48];
    int64_t since;
    int64_t end;     /* the stream moves on to here */
    int64_t last_id; /* the last event in text, or 0 */
    struct fm_buf text;
};
#define MEMO_MAX 32

/* What decides what a viewer sees of the log: its role and party. */
static void vis_key(const struct data_viewer *v, char *key, size_t n)
{
    snprintf(key, n, "%d/%s", (int)v->role, v->party);
}

static void memo_free(struct memo *m)
{
    fm_buf_cleanup(&m->text);
}

/* The next chunk of text for s: the events after s->since that it may
 * see, rendered, at most STREAM_BATCH records and about STREAM_CHUNK bytes
 * (at least one event). NULL on a database error. */
static const struct memo *chunk_for(struct data_db *db, struct stream *s, struct memo *memo,
                                    int *nmemo)
{
    char key[48];
    vis_key(&s->viewer, key, sizeof key);
    size_t kl = strlen(key);
    if (s->cot) snprintf(key + kl, sizeof key - kl, "/cot"); /* rendered otherwise */
    for (int i = 0; i < *nmemo; i++)
        if (memo[i].since == s->since && strcmp(memo[i].key, key) == 0) return &memo[i];
    struct fm_err err;
    json_t *events;
    int64_t scanned;
    /* every record read that the viewer may see is parsed and rendered:
     * read about twice what fills a chunk, not STREAM_BATCH large events */
    struct srv_streams *h = s->hub;
    size_t rows = 2 * STREAM_CHUNK / (h->event_bytes ? h->event_bytes : 1);
    rows = rows < 8 ? 8 : rows > STREAM_BATCH ? STREAM_BATCH : rows;
    if (data_events_scan(db, &s->viewer, s->since, (long)rows, &events, &scanned, &err) !=
        FM_OK) {
        fm_log(FM_LOG_ERROR, "events stream: %s", err.msg);
        return NULL;
    }
    if (*nmemo == MEMO_MAX) {
        memo_free(&memo[0]);
        memmove(memo, memo + 1, sizeof *memo * (MEMO_MAX - 1));
        (*nmemo)--;
    }
    json_t *parties = NULL;
    if (s->cot && data_parties(db, &parties, &err) != FM_OK) {
        fm_log(FM_LOG_ERROR, "cot stream: %s", err.msg);
        json_decref(events);
        return NULL;
    }
    struct memo *m = &memo[(*nmemo)++];
    snprintf(m->key, sizeof m->key, "%s", key);
    m->since = s->since;
    m->end = scanned;
    m->last_id = 0;
    fm_buf_init(&m->text, FM_BUF_UNCAPPED);
    size_t i, n = json_array_size(events);
    json_t *e;
    json_array_foreach(events, i, e) {
        json_int_t seq = json_integer_value(json_object_get(e, "seq"));
        if (s->cot) { /* the item's events as they are now, or its deletion */
            size_t before = m->text.len;
            data_cot_record(parties, e, &m->text);
            m->last_id = seq;
            if (m->text.len > before)
                h->event_bytes = (h->event_bytes * 7 + (m->text.len - before)) / 8;
        }
        char *text = s->cot ? NULL : json_dumps(e, JSON_COMPACT | JSON_REAL_PRECISION(15));
        if (text) {
            size_t before = m->text.len;
            FM_BUF_LIT(&m->text, "id: ");
            fm_buf_int(&m->text, seq);
            FM_BUF_LIT(&m->text, "\ndata: ");
            fm_buf_put(&m->text, text, strlen(text));
            FM_BUF_LIT(&m->text, "\n\n");
            free(text);
            m->last_id = seq;
            h->event_bytes = (h->event_bytes * 7 + (m->text.len - before)) / 8;
        }
        if (m->text.len >= STREAM_CHUNK && i + 1 < n) {
            /* enough for one step: the rest is read again next time */
            m->end = seq;
            break;
        }
    }
    json_decref(events);
    json_decref(parties);
    return m;
}

/* The session or token still names the same user, party and role. */
struct authmemo {
    const struct stream *s; /* the first stream with these credentials */
    int ok;
};
#define AUTHMEMO_MAX 64

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
    if (rc) return 1; /* a database hiccup does not end anybody's stream */
    return v.user_id == s->viewer.user_id && v.role == s->viewer.role &&
           strcmp(v.party, s->viewer.party) == 0;
}

static int authed(struct data_db *db, struct srv_streams *h, struct stream *s,
                  struct authmemo *am, int *nam)
{
    for (int i = 0; i < *nam; i++) {
        const struct stream *o = am[i].s;
        if (strcmp(o->token, s->token) == 0 && strcmp(o->session, s->session) == 0 &&
            o->viewer.user_id == s->viewer.user_id && o->viewer.role == s->viewer.role &&
            strcmp(o->viewer.party, s->viewer.party) == 0)
            return am[i].ok;
    }
    int ok = still_authed(db, h, s);
    if (*nam < AUTHMEMO_MAX) am[(*nam)++] = (struct authmemo){s, ok};
    return ok;
}

static const char bye_line[] = "event: bye\ndata: {\"reason\":\"the session has ended\"}\n\n";

/* Ends s after what it already has (hub->lock held). */
static void say_bye(struct stream *s)
{
    if (!s->cot) put(s, bye_line); /* a CoT stream just ends */
    s->ending = 1;
    wake_reader(s);
}

static void reap(struct srv_streams *h)
{
    struct stream **pp = &h->head;
    while (*pp) {
        struct stream *s = *pp;
        if (atomic_load(&s->dead)) {
            *pp = s->next;
            uncount(h, s);
            fm_buf_cleanup(&s->out);
            free(s);
        } else {
            pp = &s->next;
        }
    }
}

/* One stream's turn in a pass; hub->lock is not held on entry or exit. */
static void serve(struct data_db *db, struct srv_streams *h, struct stream *s, int64_t last,
                  int64_t now, int beat, int auth_bad, struct memo *memo, int *nmemo)
{
    pthread_mutex_lock(&h->lock);
    if (atomic_load(&s->dead) || s->ending) {
        pthread_mutex_unlock(&h->lock);
        return;
    }
    if (s->revoked || auth_bad) {
        say_bye(s);
        pthread_mutex_unlock(&h->lock);
        return;
    }
    if (pending(s) > 0 && now - s->waiting_since >= h->stall_ms) {
        fm_log(FM_LOG_INFO, "events: %s's client took nothing for %ld ms: stream dropped",
               s->viewer.user, h->stall_ms);
        drop(h, s);
        wake_reader(s);
        pthread_mutex_unlock(&h->lock);
        return;
    }
    size_t queued = pending(s);
    pthread_mutex_unlock(&h->lock);

    /* refill: read and render outside the lock, append under it */
    while (s->since < last && queued < STREAM_REFILL) {
        const struct memo *m = chunk_for(db, s, memo, nmemo);
        if (!m || m->end <= s->since) break;
        pthread_mutex_lock(&h->lock);
        if (s->revoked) { /* logged out meanwhile: not one event more */
            say_bye(s);
            pthread_mutex_unlock(&h->lock);
            return;
        }
        put_n(s, m->text.data, m->text.len);
        queued = pending(s);
        pthread_mutex_unlock(&h->lock);
        s->since = m->end;
        if (m->last_id) s->id_sent = m->last_id;
    }

    pthread_mutex_lock(&h->lock);
    s->behind = s->since < last;
    if (beat && pending(s) == 0 && s->cot) {
        /* TAK's keep-alive: a ping event (t-x-c-t), stale in a minute */
        char line[400], t[FM_TIME_STAMP_LEN], st[FM_TIME_STAMP_LEN];
        fm_time now_t = fm_time_now();
        fm_time_format(now_t, t);
        fm_time_format(now_t + 60, st);
        snprintf(line, sizeof line,
                 "<event version=\"2.0\" uid=\"fusionmap-ping\" type=\"t-x-c-t\" time=\"%s\""
                 " start=\"%s\" stale=\"%s\" how=\"h-g-i-g-o\"><point lat=\"0\" lon=\"0\""
                 " hae=\"9999999.0\" ce=\"9999999.0\" le=\"9999999.0\"/><detail/></event>\n",
                 t, t, st);
        put(s, line);
    } else if (beat && pending(s) == 0) {
        char line[96];
        /* a "position" event moves the client's Last-Event-ID past events
         * it may not see */
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
    wake_reader(s);
    pthread_mutex_unlock(&h->lock);
}

static void *hub_main(void *arg)
{
    struct srv_streams *h = arg;
    struct data_db *db = NULL;
    struct fm_err err;
    int64_t last_poll = 0, last_beat = fm_monotonic_ms(), last_auth = last_beat;
    struct stream **list = NULL;
    size_t list_alloc = 0;
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
        if (t - last_poll >= STREAM_POLL_MS) last_poll = t;
        reap(h);
        /* the streams of this pass: the hub alone frees them, so the
         * pointers hold while the lock is let go */
        size_t n = 0;
        for (struct stream *s = h->head; s; s = s->next) {
            if (atomic_load(&s->dead) || s->ending) continue;
            if (n == list_alloc) {
                list_alloc = list_alloc ? list_alloc * 2 : 64;
                list = realloc(list, list_alloc * sizeof *list);
                if (!list) abort();
            }
            list[n++] = s;
        }
        pthread_mutex_unlock(&h->lock);

        int64_t last = 0;
        if (data_events_last(db, &last, &err) != FM_OK) {
            fm_log(FM_LOG_ERROR, "events stream: %s", err.msg);
            pthread_mutex_lock(&h->lock);
            continue;
        }
        int check = t - last_auth >= STREAM_POLL_MS;
        if (check) last_auth = t;
        struct memo memo[MEMO_MAX];
        int nmemo = 0;
        struct authmemo am[AUTHMEMO_MAX];
        int nam = 0;
        for (size_t i = 0; i < n; i++) {
            int bad = check && !authed(db, h, list[i], am, &nam);
            serve(db, h, list[i], last, fm_monotonic_ms(), beat, bad, memo, &nmemo);
        }
        for (int i = 0; i < nmemo; i++) memo_free(&memo[i]);
        if (beat) last_beat = t;
        pthread_mutex_lock(&h->lock);
    }
    pthread_mutex_unlock(&h->lock);
    free(list);
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
    pthread_mutex_init(&h->ticket_lock, NULL);
    h->session = c->session;
    /* three quarters of the connections, so that streams never starve requests */
    h->max_streams = c->max_connections > 4 ? c->max_connections / 4 * 3 : 1;
    h->heartbeat_ms = 15000;
    const char *env = getenv("FM_STREAM_HEARTBEAT_MS"); /* tests shorten it */
    long v;
    if (env && fm_parse_long(env, 50, 3600000, &v) == FM_OK) h->heartbeat_ms = v;
    env = getenv("FM_STREAM_MAX");
    if (env && fm_parse_long(env, 1, 100000, &v) == FM_OK) h->max_streams = (unsigned)v;
    h->event_bytes = 1024;
    h->horizon = STREAM_HORIZON;
    env = getenv("FM_STREAM_HORIZON"); /* tests shorten it */
    if (env && fm_parse_long(env, 1, 100000000, &v) == FM_OK) h->horizon = v;
    h->ticket_ms = TICKET_MS;
    env = getenv("FM_EVENTS_TICKET_MS"); /* tests shorten it */
    if (env && fm_parse_long(env, 1, 3600000, &v) == FM_OK) h->ticket_ms = v;
    h->stall_ms = STREAM_STALL_MS;
    env = getenv("FM_STREAM_STALL_MS");
    if (env && fm_parse_long(env, 100, 3600000, &v) == FM_OK) h->stall_ms = v;
    if (pthread_create(&h->thread, NULL, hub_main, h) != 0) {
        free(h->db_path);
        pthread_cond_destroy(&h->wake);
        pthread_mutex_destroy(&h->lock);
        pthread_mutex_destroy(&h->ticket_lock);
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

void srv_streams_end_session(struct srv_streams *h, const char *session)
{
    if (!h || !session || !*session) return;
    pthread_mutex_lock(&h->lock);
    int any = 0;
    for (struct stream *s = h->head; s; s = s->next) {
        if (s->session[0] && strcmp(s->session, session) == 0) {
            s->revoked = 1; /* from here on nothing more is appended to it */
            any = 1;
        }
    }
    if (any) {
        h->notified = 1; /* the hub says bye and ends it */
        pthread_cond_signal(&h->wake);
    }
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
    explicit_bzero(h->tickets, sizeof h->tickets);
    pthread_mutex_destroy(&h->ticket_lock);
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

/* Opens a stream for r: the SSE event stream, or (cot) the CoT stream. */
static int open_stream(struct req *r, int cot)
{
    struct srv_streams *h = srv_streams_of(r);
    int64_t since = -1;
    if (!cot && !parse_since(r, &since))
        return srv_problem_status(r, 400, "Last-Event-ID (or since) must be a sequence number",
                                  "since");
    struct fm_err err;
    fm_err_clear(&err);
    int64_t last;
    fm_rc rc = data_events_last(r->db, &last, &err);
    if (rc) return srv_problem(r, rc, &err);

    struct stream *s = fm_xcalloc(1, sizeof *s);
    s->hub = h;
    s->cot = cot;
    s->conn = r->conn;
    s->viewer = r->viewer;
    fm_buf_init(&s->out, STREAM_HARD_CAP);
    if (r->token[0]) /* Bearer, Basic or a ticket: the stream lives as long as the token */
        snprintf(s->token, sizeof s->token, "%s", r->token);
    else if (r->by_cookie) {
        const char *sid = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, "fm_session");
        snprintf(s->session, sizeof s->session, "%s", sid ? sid : "");
    }
    char line[160];
    if (cot) {
        /* the picture as the viewer may see it now (GET /cot's events,
         * without their <events> list), then every change after `last` */
        char *xml = NULL;
        size_t len = 0;
        rc = data_cot(r->db, &r->viewer, 0, 0, &xml, &len, &err);
        if (rc) {
            fm_buf_cleanup(&s->out);
            free(s);
            return srv_problem(r, rc, &err);
        }
        const char *from = strstr(xml, "<events>\n"), *to = strstr(xml, "</events>");
        if (from && to && to >= from + 9) fm_buf_add(&s->out, from + 9, (size_t)(to - from - 9));
        free(xml);
        s->since = last;
        s->id_sent = last;
    } else {
        snprintf(line, sizeof line, "retry: %d\n: fusionmap events for %s (%s)\n\n",
                 STREAM_RETRY_MS, r->viewer.user, r->viewer.party);
        fm_buf_adds(&s->out, line);
    }
    if (cot) {
        /* from now on (above) */
    } else if (since < 0) {
        /* a new client: from now on; a "position" event gives it the place
         * to resume from, should it reconnect before any event (browsers
         * keep the id only of an event with data) */
        snprintf(line, sizeof line, "id: %" PRId64 "\nevent: position\ndata: {\"last\":%" PRId64 "}\n\n",
                 last, last);
        fm_buf_adds(&s->out, line);
        s->since = last;
        s->id_sent = last;
    } else if (since > last || last - since > h->horizon) {
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
    s->counted = 1;
    s->waiting_since = fm_monotonic_ms();
    h->notified = 1; /* catch it up at once */
    pthread_cond_signal(&h->wake);
    pthread_mutex_unlock(&h->lock);

    /* the kernel's buffer is memory a client that does not read holds too:
     * bounded, so that such a client stalls and is dropped */
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci) {
        int sz = STREAM_SNDBUF;
        setsockopt(ci->connect_fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    }
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, reader, s, reader_free);
    if (!resp) {
        reader_free(s);
        r->replied = 1;
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            cot ? "application/xml; charset=utf-8"
                                : "text/event-stream; charset=utf-8");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    srv_cors_headers(r, resp);
    enum MHD_Result ret = MHD_queue_response(r->conn, 200, resp);
    MHD_destroy_response(resp);
    r->replied = 1;
    return ret;
}

int h_events(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    return open_stream(r, 0);
}

/* GET /cot/stream: CoT for TAK, live, each change as its events (what the
 * viewer may see of it, as for /events), a ping as the heartbeat */
int h_cot_stream(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    return open_stream(r, 1);
}

/* ---- stream tickets ----------------------------------------------------- */

int h_events_ticket(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    struct srv_streams *h = srv_streams_of(r);
    if (!r->token[0])
        return srv_problem_status(r, 403,
                                  "a stream ticket is for a token's holder (Authorization:"
                                  " Bearer); a browser logged in here opens GET /events with"
                                  " its cookie",
                                  NULL);
    unsigned char raw[(DATA_SECRET_LEN - 1) / 2];
    char id[DATA_SECRET_LEN];
    if (fm_random(raw, sizeof raw) != FM_OK)
        return srv_problem_status(r, 500, "no randomness for a ticket", NULL);
    fm_hex(raw, sizeof raw, id);
    int64_t now = fm_monotonic_ms();
    int slot = -1;
    pthread_mutex_lock(&h->ticket_lock);
    for (int i = 0; i < TICKET_MAX; i++) {
        struct ticket *t = &h->tickets[i];
        if (t->id[0] && t->expires <= now) memset(t, 0, sizeof *t);
        if (!t->id[0] && slot < 0) slot = i;
    }
    if (slot >= 0) {
        struct ticket *t = &h->tickets[slot];
        memcpy(t->id, id, sizeof t->id);
        snprintf(t->token, sizeof t->token, "%s", r->token);
        t->expires = now + h->ticket_ms;
    }
    long ms = h->ticket_ms;
    pthread_mutex_unlock(&h->ticket_lock);
    if (slot < 0) {
        srv_add_header(r, "Retry-After", "5");
        return srv_problem_status(r, 429, "too many unused stream tickets; try again soon", NULL);
    }
    char base[256], url[400];
    srv_base_url(r, base, sizeof base);
    snprintf(url, sizeof url, "%s/events?ticket=%s", base, id);
    srv_add_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    return srv_reply_json(r, 201, NULL,
                          json_pack("{s:s,s:s,s:f}", "ticket", id, "url", url, "expires_in",
                                    (double)ms / 1000.0));
}

int srv_streams_ticket_take(struct srv_streams *h, const char *ticket, char *token, size_t n)
{
    if (!h || !ticket || strlen(ticket) != DATA_SECRET_LEN - 1) return 0;
    int64_t now = fm_monotonic_ms();
    int found = 0;
    pthread_mutex_lock(&h->ticket_lock);
    for (int i = 0; i < TICKET_MAX; i++) {
        struct ticket *t = &h->tickets[i];
        if (!t->id[0] || !fm_ct_equal(t->id, ticket, DATA_SECRET_LEN - 1)) continue;
        found = t->expires > now;
        if (found) snprintf(token, n, "%s", t->token);
        memset(t, 0, sizeof *t); /* used, or expired: gone either way */
        break;
    }
    pthread_mutex_unlock(&h->ticket_lock);
    return found;
}

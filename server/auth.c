/* auth.c - who is asking: bearer tokens for scripts (also as the password
 * of HTTP Basic, for GIS clients), a session cookie for browsers, a
 * single-use ticket for a browser's event stream; login, logout, /me and
 * tokens; the cross-site check. */
#include "srv.h"

#include <gnutls/crypto.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define COOKIE "fm_session"

/* Bearer tokens recently found good, per worker thread (no lock): a script
 * or a tile client sends the same token many times a second, and its
 * lookup was a third of a cached tile's cost. An entry holds the token's
 * SHA-256, never the token, and is trusted for TOKEN_CACHE_MS at most and
 * only while this process has committed nothing since (a write may have
 * changed users); the command line's changes show within TOKEN_CACHE_MS. */
#define TOKEN_CACHE 8
#define TOKEN_CACHE_MS 1000
static _Thread_local struct {
    unsigned char hash[32];
    struct data_viewer viewer;
    uint64_t gen;
    int64_t at;
} token_cache[TOKEN_CACHE];
static _Thread_local unsigned token_next;

static int token_get(struct req *r, const char *token)
{
    unsigned char hash[32];
    if (gnutls_hash_fast(GNUTLS_DIG_SHA256, token, strlen(token), hash) != 0) return 0;
    uint64_t gen = data_write_generation();
    int64_t now = fm_monotonic_ms();
    for (int i = 0; i < TOKEN_CACHE; i++)
        if (token_cache[i].at && token_cache[i].gen == gen &&
            now - token_cache[i].at < TOKEN_CACHE_MS &&
            fm_ct_equal(token_cache[i].hash, hash, sizeof hash)) {
            r->viewer = token_cache[i].viewer;
            return 1;
        }
    struct fm_err err;
    fm_rc rc = data_token_get(r->db, token, &r->viewer, &err);
    if (rc == FM_EDB || rc == FM_EBUSY) r->auth_unavailable = 1;
    if (rc) return 0;
    unsigned k = token_next++ % TOKEN_CACHE;
    memcpy(token_cache[k].hash, hash, sizeof hash);
    token_cache[k].viewer = r->viewer;
    token_cache[k].gen = gen; /* read before the lookup: a commit since moves it */
    token_cache[k].at = now;
    return 1;
}

/* HTTP Basic, for GIS clients that have no other way to send a token
 * (QGIS 3.22): the user name and a bearer token as the password. Never
 * the login password: it would sit in every project file that names the
 * server, and a check here would bypass the login throttling (README,
 * "QGIS and GDAL"). */
static void basic(struct req *r)
{
    char *pass = NULL;
    char *user = MHD_basic_auth_get_username_password(r->conn, &pass);
    if (!user || !pass) {
        r->auth_refused = "HTTP Basic needs a user name and, as the password, a token";
    } else if (strncmp(pass, "fmt_", 4) != 0 || strlen(pass) >= sizeof r->token) {
        r->auth_refused = "HTTP Basic takes a bearer token as the password, never the login"
                          " password: make one with `fusionmap token add NAME` or POST /me/tokens";
    } else if (!token_get(r, pass)) {
        r->auth_refused = "the token given as the Basic password is not valid (revoked, or"
                          " mistyped)";
    } else if (strcmp(r->viewer.user, user) != 0) {
        r->auth_refused = "the Basic user name is not the token's user";
    } else {
        r->authed = 1;
        r->by_basic = 1;
        snprintf(r->token, sizeof r->token, "%s", pass);
    }
    if (pass) {
        memset(pass, 0, strlen(pass));
        MHD_free(pass);
    }
    if (user) MHD_free(user);
}

/* GET /events?ticket=T (POST /events/ticket): the ticket is used up here,
 * and stands for the token it was issued for, checked again now. */
static void ticket(struct req *r, const char *t)
{
    char token[DATA_TOKEN_LEN + 8];
    if (srv_streams_ticket_take(srv_streams_of(r), t, token, sizeof token) &&
        token_get(r, token)) {
        r->authed = 1;
        snprintf(r->token, sizeof r->token, "%s", token);
    } else {
        r->auth_refused = "the stream ticket is not valid: a ticket opens GET /events once,"
                          " within its lifetime (POST /events/ticket for another)";
    }
    memset(token, 0, sizeof token);
}

static int is_events_get(const struct req *r)
{
    return strcmp(r->method, "GET") == 0 &&
           (strcmp(r->url, "/events") == 0 || strcmp(r->url, "/events/") == 0);
}

void srv_authenticate(struct req *r)
{
    struct fm_err err;
    r->authed = 0;
    r->by_cookie = 0;
    r->by_basic = 0;
    r->sent_credentials = 0;
    r->auth_refused = NULL;
    r->auth_unavailable = 0;
    r->token[0] = '\0';
    memset(&r->viewer, 0, sizeof r->viewer);
    const char *auth = srv_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
    if (auth) {
        r->sent_credentials = 1;
        if (strncasecmp(auth, "Bearer ", 7) == 0) {
            if (strlen(auth + 7) < sizeof r->token && token_get(r, auth + 7)) {
                r->authed = 1;
                snprintf(r->token, sizeof r->token, "%s", auth + 7);
            } else {
                r->auth_refused = "the bearer token is not valid (revoked, or mistyped)";
            }
        } else if (strncasecmp(auth, "Basic ", 6) == 0) {
            basic(r);
        } else {
            r->auth_refused = "send Authorization: Bearer TOKEN, or HTTP Basic with your user"
                              " name and a token as the password";
        }
        if (!r->authed) memset(&r->viewer, 0, sizeof r->viewer);
        return; /* wrong credentials are not rescued by a cookie */
    }
    const char *t = is_events_get(r) ? srv_arg(r, "ticket") : NULL;
    if (t) {
        r->sent_credentials = 1;
        ticket(r, t);
        if (!r->authed) memset(&r->viewer, 0, sizeof r->viewer);
        return;
    }
    const char *sid = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, COOKIE);
    if (sid) r->sent_credentials = 1;
    fm_rc rc = sid ? data_session_get(r->db, sid, &srv_cfg(r)->session, &r->viewer, &err)
                   : FM_ENOTFOUND;
    if (rc == FM_OK) {
        r->authed = 1;
        r->by_cookie = 1;
    } else if (rc == FM_EDB || rc == FM_EBUSY) {
        r->auth_unavailable = 1;
    }
}

int srv_csrf_ok(struct req *r)
{
    const char *xrw = srv_header(r, "X-Requested-With");
    if (!xrw || strcasecmp(xrw, "fusionmap") != 0) return 0;
    const char *origin = srv_header(r, "Origin");
    return !origin || srv_origin_is_self(r, origin);
}

static json_t *viewer_json(const struct data_viewer *v)
{
    return json_pack("{s:s,s:s,s:s}", "user", v->user, "party", v->party, "role",
                     data_role_name(v->role));
}

/* Reads name=value from an application/x-www-form-urlencoded body. */
static char *form_value(const char *body, const char *name)
{
    size_t nlen = strlen(name);
    const char *p = body;
    while (p && *p) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            char *v = fm_xmalloc(len - nlen);
            memcpy(v, p + nlen + 1, len - nlen - 1);
            v[len - nlen - 1] = '\0';
            for (char *c = v; *c; c++)
                if (*c == '+') *c = ' ';
            MHD_http_unescape(v);
            return v;
        }
        p = amp ? amp + 1 : NULL;
    }
    return NULL;
}

static void set_session_cookie(struct req *r, const char *id, long max_age)
{
    char cookie[200];
    snprintf(cookie, sizeof cookie, COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%ld%s",
             id, max_age, srv_tls(r) ? "; Secure" : "");
    srv_add_header(r, MHD_HTTP_HEADER_SET_COOKIE, cookie);
}

/* The browser's device cookie: 256 random bits, set at each login and sent
 * back only to /login, so that a browser that has logged in to an account
 * before is not held up by others' wrong passwords, even from its own
 * (shared) address. NULL unless well-formed. */
#define DEVICE_COOKIE "fm_device"
#define DEVICE_MAX_AGE (30L * 86400)

static const char *device_cookie(struct req *r)
{
    const char *d = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, DEVICE_COOKIE);
    if (!d || strlen(d) != DATA_SECRET_LEN - 1) return NULL;
    for (const char *c = d; *c; c++)
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f'))) return NULL;
    return d;
}

/* Sends device as the device cookie (after the session's: clients that
 * read the first Set-Cookie find the session's). */
static void set_device_cookie(struct req *r, const char *device)
{
    char cookie[200];
    snprintf(cookie, sizeof cookie,
             DEVICE_COOKIE "=%s; Path=/login; HttpOnly; SameSite=Strict; Max-Age=%ld%s", device,
             DEVICE_MAX_AGE, srv_tls(r) ? "; Secure" : "");
    srv_add_header(r, MHD_HTTP_HEADER_SET_COOKIE, cookie);
}

int h_login(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    const char *ctype = srv_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
    int is_form = ctype && strncasecmp(ctype, "application/x-www-form-urlencoded", 33) == 0;
    char *user = NULL, *password = NULL;
    json_t *body = NULL;
    if (is_form) {
        const char *origin = srv_header(r, "Origin");
        char base[256];
        srv_base_url(r, base, sizeof base);
        if (origin && strcmp(origin, base) != 0)
            return srv_problem_status(r, 403, "a login form must come from this server", NULL);
        const char *text = r->body.data ? r->body.data : "";
        user = form_value(text, "user");
        password = form_value(text, "password");
    } else {
        static const char *const types[] = {"application/json", NULL};
        body = srv_body_json(r, types);
        if (!body) return MHD_YES;
        const char *u = json_string_value(json_object_get(body, "user"));
        const char *pw = json_string_value(json_object_get(body, "password"));
        user = u ? fm_xstrdup(u) : NULL;
        password = pw ? fm_xstrdup(pw) : NULL;
        json_decref(body);
    }
    int ret;
    struct fm_err err;
    struct data_viewer v;
    if (!user || !password) {
        ret = srv_problem_status(r, 400, "send {\"user\": ..., \"password\": ...}",
                                 !user ? "/user" : "/password");
        goto done;
    }
    char addr[64];
    srv_client_addr(r, addr, sizeof addr);
    int64_t retry_ms;
    const char *device = device_cookie(r);
    fm_rc rc =
        data_login_allowed(r->db, &srv_cfg(r)->login, user, addr, device, &retry_ms, &err);
    if (!rc) rc = data_user_check(r->db, user, password, &v, &err);
    if (rc == FM_EUNAUTH) {
        struct fm_err e2;
        if (data_login_failed(r->db, &srv_cfg(r)->login, user, addr, device, &e2))
            fm_log(FM_LOG_WARN, "login of %s: throttling not updated: %s", user, e2.msg);
        fm_log(FM_LOG_WARN, "login failed: %s from %s", user, addr);
    }
    if (rc == FM_ELIMIT) {
        char ra[24];
        snprintf(ra, sizeof ra, "%lld", (long long)((retry_ms + 999) / 1000));
        srv_add_header(r, "Retry-After", ra);
        fm_log(FM_LOG_WARN, "login refused (throttled): %s from %s", user, addr);
    }
    if (rc) {
        ret = srv_problem(r, rc, &err);
        goto done;
    }
    char new_device[DATA_SECRET_LEN];
    unsigned char raw[(DATA_SECRET_LEN - 1) / 2];
    if (!device && fm_random(raw, sizeof raw) == FM_OK) {
        fm_hex(raw, sizeof raw, new_device);
        device = new_device;
    }
    struct fm_err e2;
    if (data_login_succeeded(r->db, &srv_cfg(r)->login, user, addr, device, &e2))
        fm_log(FM_LOG_WARN, "login of %s: throttling not updated: %s", user, e2.msg);
    /* a new id at every login; the old session, if any, ends */
    const char *old = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, COOKIE);
    if (old) data_session_end(r->db, old, &err);
    char id[DATA_SECRET_LEN];
    if ((rc = data_session_new(r->db, &v, id, &err))) {
        ret = srv_problem(r, rc, &err);
        goto done;
    }
    set_session_cookie(r, id, srv_cfg(r)->session.absolute_seconds);
    if (device) set_device_cookie(r, device);
    fm_log(FM_LOG_INFO, "login: %s (%s, %s)", v.user, v.party, data_role_name(v.role));
    if (is_form) {
        srv_add_header(r, MHD_HTTP_HEADER_LOCATION, "/");
        ret = srv_reply_empty(r, 303);
    } else {
        ret = srv_reply_json(r, 200, NULL, viewer_json(&v));
    }
done:
    free(user);
    free(password);
    return ret;
}

int h_logout(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    struct fm_err err;
    const char *sid = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, COOKIE);
    if (sid) {
        data_session_end(r->db, sid, &err);
        srv_streams_end_session(srv_streams_of(r), sid);
    }
    set_session_cookie(r, "", 0);
    return srv_reply_empty(r, 204);
}

int h_me(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    return srv_reply_json(r, 200, NULL, viewer_json(&r->viewer));
}

int h_me_tokens(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    struct fm_err err;
    char token[DATA_TOKEN_LEN];
    fm_rc rc = data_token_new(r->db, r->viewer.user, token, &err);
    if (rc) return srv_problem(r, rc, &err);
    return srv_reply_json(r, 201, NULL, json_pack("{s:s,s:s}", "token", token, "user",
                                                  r->viewer.user));
}

/* routes.c - the table of method and path pattern to handler, and the
 * rules every route shares: who must be logged in, the cross-site check
 * for state-changing requests authenticated by cookie (or by a browser's
 * cached Basic credentials), and OPTIONS (Allow, and the CORS preflight
 * for origins listed with --cors-origin). */
#include "srv.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_PARTS 8

/* PUBLIC_NOCSRF: a login carries its own protection (a JSON body no form
 * can send, or a checked Origin for a form), and must work while an old
 * session cookie is still sent. */
enum access { PUBLIC, PUBLIC_NOCSRF, LOGGED_IN };

struct route {
    const char *method;
    const char *pattern; /* segments; "*" matches one, "**" the rest */
    enum access access;
    srv_handler handler;
};

static const struct route routes[] = {
    {"GET", "", PUBLIC, h_landing},
    {"GET", "api", PUBLIC, h_api},
    {"GET", "conformance", PUBLIC, h_conformance},
    {"GET", "vocabulary", PUBLIC, h_vocabulary},
    {"GET", "static/**", PUBLIC, h_static},
    {"GET", "login", PUBLIC, h_viewer},
    {"POST", "login", PUBLIC_NOCSRF, h_login},
    {"POST", "login/token", PUBLIC, h_login_token},
    {"GET", "wall", PUBLIC, h_wall},
    {"POST", "logout", PUBLIC, h_logout},
    {"GET", "me", LOGGED_IN, h_me},
    {"POST", "me/tokens", LOGGED_IN, h_me_tokens},
    {"GET", "parties", LOGGED_IN, h_parties},
    {"POST", "parties", LOGGED_IN, h_parties_post},
    {"GET", "users", LOGGED_IN, h_users_get},
    {"POST", "users", LOGGED_IN, h_users_post},
    {"GET", "tiles/*", LOGGED_IN, h_tilejson},
    {"GET", "tiles/*/*/*/*", LOGGED_IN, h_tile},
    /* OGC API - Tiles (ogc_tiles.c): a tile is h_tile's */
    {"GET", "tileMatrixSets", PUBLIC, h_tile_matrix_sets},
    {"GET", "tileMatrixSets/*", PUBLIC, h_tile_matrix_set},
    {"GET", "map/tiles", LOGGED_IN, h_tilesets},
    {"GET", "map/tiles/*", LOGGED_IN, h_tileset},
    {"GET", "map/tiles/*/*/*/*", LOGGED_IN, h_ogc_tile},
    {"GET", "collections/*/map/tiles", LOGGED_IN, h_tilesets},
    {"GET", "collections/*/map/tiles/*", LOGGED_IN, h_tileset},
    {"GET", "collections/*/map/tiles/*/*/*/*", LOGGED_IN, h_ogc_tile},
    {"GET", "map.png", LOGGED_IN, h_map_png},
    {"GET", "map.pdf", LOGGED_IN, h_map_pdf},
    {"GET", "collections", LOGGED_IN, h_collections},
    {"GET", "collections/conflicts/items", LOGGED_IN, h_conflicts_items},
    {"POST", "collections/conflicts/items", LOGGED_IN, h_conflicts_read_only},
    {"GET", "collections/conflicts/items/*", LOGGED_IN, h_conflict_get},
    {"PUT", "collections/conflicts/items/*", LOGGED_IN, h_conflicts_read_only},
    {"PATCH", "collections/conflicts/items/*", LOGGED_IN, h_conflicts_read_only},
    {"DELETE", "collections/conflicts/items/*", LOGGED_IN, h_conflicts_read_only},
    {"POST", "collections/conflicts/items/*/resolve", LOGGED_IN, h_conflict_resolve},
    {"GET", "collections/*", LOGGED_IN, h_collection},
    {"GET", "collections/*/queryables", LOGGED_IN, h_queryables},
    {"GET", "collections/*/items", LOGGED_IN, h_items_get},
    {"POST", "collections/*/items", LOGGED_IN, h_items_post},
    {"GET", "collections/*/items/*", LOGGED_IN, h_item_get},
    {"PUT", "collections/*/items/*", LOGGED_IN, h_item_put},
    {"PATCH", "collections/*/items/*", LOGGED_IN, h_item_patch},
    {"DELETE", "collections/*/items/*", LOGGED_IN, h_item_delete},
    {"GET", "collections/*/items/*/history", LOGGED_IN, h_item_history},
    {"POST", "collections/*/items/*/ack", LOGGED_IN, h_item_ack},
    {"GET", "collections/*/items/*/acks", LOGGED_IN, h_item_acks},
    {"GET", "collections/*/items/*/statement", LOGGED_IN, h_item_statement},
    {"GET", "collections/*/items/*/evidence", LOGGED_IN, h_item_evidence},
    {"GET", "keys", LOGGED_IN, h_keys_get},
    {"POST", "keys", LOGGED_IN, h_keys_post},
    {"DELETE", "keys/*", LOGGED_IN, h_key_revoke},
    {"POST", "keys/*/revoke", LOGGED_IN, h_key_revoke},
    {"POST", "collections/*/items/*/ruling", LOGGED_IN, h_item_ruling},
    {"GET", "collections/*/items/*/messages", LOGGED_IN, h_messages_get},
    {"POST", "collections/*/items/*/messages", LOGGED_IN, h_messages_post},
    {"POST", "collections/*/items/*/messages/seen", LOGGED_IN, h_messages_seen},
    {"GET", "channels", LOGGED_IN, h_channels},
    {"GET", "channels/*/messages", LOGGED_IN, h_messages_get},
    {"POST", "channels/*/messages", LOGGED_IN, h_messages_post},
    {"POST", "channels/*/messages/seen", LOGGED_IN, h_messages_seen},
    {"GET", "pending", LOGGED_IN, h_pending},
    {"GET", "disputes", LOGGED_IN, h_disputes},
    {"GET", "rules", LOGGED_IN, h_rules_get},
    {"PUT", "rules", LOGGED_IN, h_rules_put},
    {"POST", "rules/clock", LOGGED_IN, h_rules_clock},
    {"GET", "inbox", LOGGED_IN, h_inbox},
    {"GET", "events", LOGGED_IN, h_events},
    {"POST", "events/ticket", LOGGED_IN, h_events_ticket},
    {"GET", "events/log", LOGGED_IN, h_events_log},
    {"GET", "events/chain", LOGGED_IN, h_events_chain},
    {"GET", "events/head", LOGGED_IN, h_head_get},
    {"GET", "heads", LOGGED_IN, h_heads_get},
    {"POST", "heads", LOGGED_IN, h_heads_post},
    {"GET", "events/verify", LOGGED_IN, h_events_verify},
    {"POST", "import", LOGGED_IN, h_import},
    {"GET", "cot", LOGGED_IN, h_cot},
    {"GET", "cot/stream", LOGGED_IN, h_cot_stream},
};

/* Splits "/a/b/c" into parts in buf. Returns the count, or -1 if too many. */
static int split(const char *url, char *buf, size_t n, const char **parts)
{
    snprintf(buf, n, "%s", url[0] == '/' ? url + 1 : url);
    int count = 0;
    char *p = buf;
    if (*p == '\0') return 0;
    for (;;) {
        if (count == MAX_PARTS) return -1;
        parts[count++] = p;
        char *slash = strchr(p, '/');
        if (!slash) break;
        *slash = '\0';
        p = slash + 1;
    }
    return count;
}

static int matches(const char *pattern, const char *const *parts, int n)
{
    char buf[128];
    const char *pp[MAX_PARTS];
    int np = split(pattern, buf, sizeof buf, pp);
    for (int i = 0; i < np; i++) {
        if (strcmp(pp[i], "**") == 0) return n > i;
        if (i >= n) return 0;
        if (strcmp(pp[i], "*") != 0 && strcmp(pp[i], parts[i]) != 0) return 0;
    }
    return np == n;
}

static int is_safe(const char *method)
{
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

/* Does a 401 for a route that needs a login offer HTTP Basic too? So that
 * GDAL and QGIS send their user name and token: to a request without
 * credentials, or with Basic ones. Not to a script in a browser page
 * (Sec-Fetch-Mode other than navigate), whose browser would pop up its own
 * login box; and never for a failed POST /login (that 401 is not here). */
static int offer_basic(struct req *r)
{
    const char *auth = srv_header(r, "Authorization");
    const char *mode = srv_header(r, "Sec-Fetch-Mode");
    return (!r->sent_credentials || (auth && strncasecmp(auth, "Basic ", 6) == 0)) &&
           (!mode || strcasecmp(mode, "navigate") == 0);
}

/* Adds method to the comma-separated list allow, once. */
static void allow_add(char *allow, size_t n, const char *method)
{
    size_t mlen = strlen(method);
    for (const char *p = allow; (p = strstr(p, method)) != NULL; p += mlen)
        if ((p == allow || p[-1] == ' ') && (p[mlen] == ',' || p[mlen] == '\0')) return;
    size_t len = strlen(allow);
    snprintf(allow + len, n - len, "%s%s", len ? ", " : "", method);
}

int srv_route(struct req *r)
{
    char buf[2048];
    const char *parts[MAX_PARTS];
    if (strlen(r->url) >= sizeof buf) return srv_problem_status(r, 414, "the URL is too long", NULL);
    int n = split(r->url, buf, sizeof buf, parts);
    /* a trailing slash names the same resource */
    if (n > 0 && parts[n - 1][0] == '\0') n--;
    if (n < 0) return srv_problem_status(r, 404, "no such resource", NULL);

    const char *method = strcmp(r->method, "HEAD") == 0 ? "GET" : r->method;
    int options = strcmp(method, "OPTIONS") == 0;
    int path_known = 0;
    char allow[96] = "";
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++) {
        const struct route *rt = &routes[i];
        if (!matches(rt->pattern, parts, n)) continue;
        path_known = 1;
        if (options || strcmp(rt->method, method) != 0) {
            allow_add(allow, sizeof allow, rt->method);
            if (strcmp(rt->method, "GET") == 0) allow_add(allow, sizeof allow, "HEAD");
            continue;
        }
        if (rt->access == LOGGED_IN && !r->authed && r->auth_unavailable)
            /* not "who are you?": a client must not drop good credentials */
            return srv_problem_status(r, 503,
                                      "the database cannot check the credentials now: try"
                                      " again",
                                      NULL);
        if (rt->access == LOGGED_IN && !r->authed) {
            r->offer_basic = offer_basic(r);
            return srv_problem_status(r, 401,
                                      r->auth_refused ? r->auth_refused
                                                      : "log in (POST /login) or send a token:"
                                                        " Authorization: Bearer TOKEN, or HTTP"
                                                        " Basic with your user name and the"
                                                        " token as the password",
                                      NULL);
        }
        if (!is_safe(method) && r->by_cookie && rt->access != PUBLIC_NOCSRF && !srv_csrf_ok(r))
            return srv_problem_status(
                r, 403,
                "a state-changing request with a session cookie needs the header"
                " X-Requested-With: fusionmap and, if sent, an Origin of this server",
                NULL);
        /* a browser sends cached Basic credentials by itself, as it sends a
         * cookie: from a page, only this server's or a listed origin's */
        const char *origin = srv_header(r, "Origin");
        if (!is_safe(method) && r->by_basic && origin && !r->cors_origin &&
            !srv_origin_is_self(r, origin))
            return srv_problem_status(r, 403,
                                      "a state-changing request with HTTP Basic from a page of"
                                      " another origin: send the token as Authorization: Bearer",
                                      NULL);
        int ret = rt->handler(r, parts, n);
        /* the writer reads its own events; a write handed to a write
         * thread (items.c) does so there, once it is made */
        if (!is_safe(method) && !r->deferred) srv_tiles_after_write(r);
        return ret;
    }
    if (path_known) allow_add(allow, sizeof allow, "OPTIONS");
    if (path_known && options) {
        srv_add_header(r, "Allow", allow);
        /* a CORS preflight from a listed origin (http.c adds the origin) */
        if (r->cors_origin) {
            srv_add_header(r, "Access-Control-Allow-Methods", allow);
            srv_add_header(r, "Access-Control-Allow-Headers",
                           "Authorization, Content-Type, If-Match, If-None-Match,"
                           " X-Requested-With, Last-Event-ID");
            srv_add_header(r, "Access-Control-Max-Age", "600");
        }
        return srv_reply_empty(r, 204);
    }
    if (path_known) {
        srv_add_header(r, "Allow", allow);
        return srv_problem_status(r, 405, "that method is not allowed here", NULL);
    }
    return srv_problem_status(r, 404, "no such resource", NULL);
}

/* wall.c - the briefing wall's way in: POST /login/token turns a read-only
 * bearer token into a session cookie, so that a wall display opened as
 * /wall?token=... needs no keyboard. The page posts the token (from the
 * URL, which it then clears with history.replaceState) in the
 * Authorization header; the token never has to stay in the address bar,
 * the history or a Referer. Only a token of a viewer-role user is
 * accepted: a wall token must not be able to write. */
#include "srv.h"

#include <microhttpd.h>
#include <stdio.h>

int h_login_token(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    if (!r->authed || r->by_cookie)
        return srv_problem_status(r, 401, "send the wall's token as Authorization: Bearer", NULL);
    if (r->viewer.role != DATA_ROLE_VIEWER)
        return srv_problem_status(r, 403,
                                  "a wall token must belong to a user with the viewer role"
                                  " (read only)",
                                  NULL);
    struct fm_err err;
    fm_err_clear(&err);
    char id[DATA_SECRET_LEN];
    fm_rc rc = data_session_new(r->db, &r->viewer, id, &err);
    if (rc) return srv_problem(r, rc, &err);
    char cookie[200];
    snprintf(cookie, sizeof cookie, "fm_session=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%ld",
             id, srv_cfg(r)->session.absolute_seconds);
    srv_add_header(r, MHD_HTTP_HEADER_SET_COOKIE, cookie);
    fm_log(FM_LOG_INFO, "wall login: %s by token", r->viewer.user);
    return srv_reply_json(r, 200, NULL,
                          json_pack("{s:s,s:s,s:s}", "user", r->viewer.user, "party",
                                    r->viewer.party, "role", data_role_name(r->viewer.role)));
}

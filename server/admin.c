/* admin.c - user and party management over HTTP, for the admin role
 * only (an admin is not a party to the map and changes no item). */
#include "srv.h"

#include <microhttpd.h>
#include <stdio.h>
#include <string.h>

static int admin_only(struct req *r)
{
    if (r->viewer.role == DATA_ROLE_ADMIN) return 1;
    srv_problem_status(r, 403, "only an admin manages users and parties", NULL);
    return 0;
}

static const char *const json_types[] = {"application/json", NULL};

/* A required string member of body, or a 400 naming it. */
static const char *member(struct req *r, json_t *body, const char *name, const char *pointer)
{
    const char *v = json_string_value(json_object_get(body, name));
    if (!v || !*v) {
        char detail[96];
        snprintf(detail, sizeof detail, "%s is required (a string)", name);
        srv_problem_status(r, 400, detail, pointer);
    }
    return v && *v ? v : NULL;
}

int h_users_get(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    if (!admin_only(r)) return MHD_YES;
    struct fm_err err;
    json_t *users;
    fm_rc rc = data_users(r->db, &users, &err);
    if (rc) return srv_problem(r, rc, &err);
    return srv_reply_json(r, 200, NULL, json_pack("{s:o}", "users", users));
}

int h_users_post(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    if (!admin_only(r)) return MHD_YES;
    json_t *body = srv_body_json(r, json_types);
    if (!body) return MHD_YES;
    int ret = MHD_YES;
    const char *name, *party, *role_s, *password;
    enum data_role role;
    struct fm_err err;
    if (!(name = member(r, body, "name", "/name")) || !(party = member(r, body, "party", "/party")) ||
        !(role_s = member(r, body, "role", "/role")) ||
        !(password = member(r, body, "password", "/password")))
        goto done;
    if (data_role_parse(role_s, &role)) {
        ret = srv_problem_status(r, 400, "role is liaison, supervisor, viewer or admin", "/role");
        goto done;
    }
    fm_rc rc = data_user_add(r->db, name, party, role, password, &err);
    if (rc) {
        /* data/ names the field; in this body it is a member */
        if (rc == FM_EINVAL && err.pointer[0] && err.pointer[0] != '/') {
            char ptr[sizeof err.pointer + 2] = "/";
            strncat(ptr, err.pointer, sizeof ptr - 2);
            ret = srv_problem_status(r, 400, err.msg, ptr);
        } else {
            ret = srv_problem(r, rc, &err);
        }
        goto done;
    }
    fm_log(FM_LOG_INFO, "admin %s added user %s (%s, %s)", r->viewer.user, name, party, role_s);
    ret = srv_reply_json(r, 201, NULL, json_pack("{s:s,s:s,s:s}", "name", name, "party", party,
                                                 "role", role_s));
done:
    json_decref(body);
    return ret;
}

int h_parties_post(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    if (!admin_only(r)) return MHD_YES;
    json_t *body = srv_body_json(r, json_types);
    if (!body) return MHD_YES;
    int ret = MHD_YES;
    const char *code, *name, *colour, *kind;
    struct fm_err err;
    if (!(code = member(r, body, "code", "/code")) || !(name = member(r, body, "name", "/name")) ||
        !(colour = member(r, body, "colour", "/colour")) ||
        !(kind = member(r, body, "kind", "/kind")))
        goto done;
    int colour_ok = strlen(colour) == 7 && colour[0] == '#';
    for (int i = 1; colour_ok && i < 7; i++)
        colour_ok = strchr("0123456789abcdefABCDEF", colour[i]) != NULL;
    if (!colour_ok) {
        ret = srv_problem_status(r, 400, "colour is #RRGGBB", "/colour");
        goto done;
    }
    if (strlen(code) > 15) {
        ret = srv_problem_status(r, 400, "a party code is 1 to 15 characters", "/code");
        goto done;
    }
    fm_rc rc = data_party_add(r->db, code, name, colour, kind, &err);
    if (rc) {
        ret = srv_problem(r, rc, &err);
        goto done;
    }
    ret = srv_reply_json(r, 201, NULL, json_pack("{s:s,s:s,s:s,s:s}", "code", code, "name", name,
                                                 "colour", colour, "kind", kind));
done:
    json_decref(body);
    return ret;
}

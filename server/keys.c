/* keys.c - a user's own public signing keys over HTTP (issue 20):
 * GET /keys (?party=1: every key of the caller's party, for the new-key
 * notice), POST /keys {"public_key": base64}, DELETE /keys/{fingerprint}
 * (or POST /keys/{fingerprint}/revoke). Each user sees and changes only
 * their own keys, whatever their role: the rules are data/keys.c's. */
#include "srv.h"

#include <microhttpd.h>
#include <stdio.h>
#include <string.h>

int h_keys_get(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    struct fm_err err;
    json_t *keys;
    const char *party = srv_arg(r, "party");
    if (party && strcmp(party, "1") != 0)
        return srv_problem_status(r, 400, "party=1 lists every key of the caller's party", "party");
    fm_rc rc = party ? data_keys_party(r->db, &r->viewer, &keys, &err)
                     : data_keys(r->db, &r->viewer, &keys, &err);
    if (rc) return srv_problem(r, rc, &err);
    return srv_reply_json(r, 200, NULL,
                          json_pack("{s:s,s:o}", "user", r->viewer.user, "keys", keys));
}

int h_keys_post(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    static const char *const types[] = {"application/json", NULL};
    json_t *body = srv_body_json(r, types);
    if (!body) return MHD_YES;
    json_t *pub = json_object_get(body, "public_key");
    struct fm_err err;
    fm_rc rc;
    json_t *out = NULL;
    if (!json_is_object(body) || !json_is_string(pub)) {
        rc = fm_fail(&err, FM_EINVAL, "/public_key",
                     "send {\"public_key\": the 32-byte Ed25519 public key in base64}");
    } else {
        /* where from: the address and the client's own name for itself */
        char addr[64], from[200];
        srv_client_addr(r, addr, sizeof addr);
        const char *agent = srv_header(r, "User-Agent");
        snprintf(from, sizeof from, "%s%s%.120s", addr, agent ? ", " : "", agent ? agent : "");
        rc = data_key_add(r->db, &r->viewer, json_string_value(pub), from, &out, &err);
    }
    json_decref(body);
    if (rc) return srv_problem(r, rc, &err);
    return srv_reply_json(r, 201, NULL, out);
}

int h_key_revoke(struct req *r, const char *const *p, int n)
{
    (void)n;
    struct fm_err err;
    fm_rc rc = data_key_revoke(r->db, &r->viewer, p[1], &err);
    if (rc) return srv_problem(r, rc, &err);
    return srv_reply_empty(r, 204);
}

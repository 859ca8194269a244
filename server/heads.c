/* heads.c - cosigned heads of the log over HTTP (issue 20): GET
 * /events/head[?seq=N] (the record's hash and the statement to sign, for a
 * liaison or the supervisor), POST /heads {seq, hash, signature} (a
 * party's user cosigns it: 201; 409 when the hash is not this server's
 * record's, a fork) and GET /heads (every party's cosigned heads). The
 * rules are data/heads.c's. */
#include "srv.h"

#include <microhttpd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int h_head_get(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    static const char *const known[] = {"seq", NULL};
    char unknown[64];
    if (srv_unknown_arg(r, known, unknown, sizeof unknown))
        return srv_problem_status(r, 400, "unknown parameter (seq)", unknown);
    long seq = 0;
    const char *s = srv_arg(r, "seq");
    if (s && fm_parse_long(s, 1, INT64_MAX, &seq))
        return srv_problem_status(r, 400, "seq is a record's number, from 1", "seq");
    struct fm_err err;
    json_t *out;
    fm_rc rc = data_head(r->db, &r->viewer, seq, &out, &err);
    if (rc) return srv_problem(r, rc, &err);
    srv_add_header(r, "Cache-Control", "no-store");
    return srv_reply_json(r, 200, NULL, out);
}

int h_heads_get(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    struct fm_err err;
    json_t *heads;
    fm_rc rc = data_heads(r->db, &r->viewer, &heads, &err);
    if (rc) return srv_problem(r, rc, &err);
    return srv_reply_json(r, 200, NULL, json_pack("{s:o}", "heads", heads));
}

int h_heads_post(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    static const char *const types[] = {"application/json", NULL};
    json_t *body = srv_body_json(r, types);
    if (!body) return MHD_YES;
    struct fm_err err;
    fm_rc rc = FM_OK;
    const char *k;
    json_t *val;
    json_t *seq = json_object_get(body, "seq"), *hash = json_object_get(body, "hash");
    json_t *sig = json_object_get(body, "signature");
    if (!json_is_object(body))
        rc = fm_fail(&err, FM_EINVAL, "", "send {\"seq\", \"hash\", \"signature\"}");
    json_object_foreach(body, k, val) if (!rc && strcmp(k, "seq") && strcmp(k, "hash") &&
                                          strcmp(k, "signature"))
        rc = fm_fail(&err, FM_EINVAL, "", "a cosigned head has seq, hash and signature, no %.40s", k);
    if (!rc && !json_is_integer(seq))
        rc = fm_fail(&err, FM_EINVAL, "/seq", "seq is the record's number");
    else if (!rc && !json_is_string(hash))
        rc = fm_fail(&err, FM_EINVAL, "/hash", "hash is the record's hash (hex)");
    else if (!rc && (!json_is_object(sig) || json_object_size(sig) != 3 ||
                     !json_is_string(json_object_get(sig, "key")) ||
                     !json_is_integer(json_object_get(sig, "at")) ||
                     !json_is_string(json_object_get(sig, "value"))))
        rc = fm_fail(&err, FM_EINVAL, "/signature",
                     "signature is {\"key\": fingerprint, \"at\": the statement's time (seconds),"
                     " \"value\": base64 Ed25519 signature} over GET /events/head's statement");
    json_t *out = NULL;
    if (!rc) {
        struct data_signature ds = {json_string_value(json_object_get(sig, "key")),
                                    json_string_value(json_object_get(sig, "value")),
                                    json_integer_value(json_object_get(sig, "at"))};
        rc = data_head_cosign(r->db, &r->viewer, json_integer_value(seq), json_string_value(hash),
                              &ds, &out, &err);
    }
    json_decref(body);
    if (rc) return srv_problem(r, rc, &err);
    return srv_reply_json(r, 201, NULL, out);
}

/* GET /collections/{c}/items/{id}/evidence: the item's evidence bundle as
 * the caller may see it (data/evidence.c), as a file to keep. */
int h_item_evidence(struct req *r, const char *const *p, int n)
{
    (void)n;
    enum data_coll c;
    long id;
    if (data_coll_parse(p[1], &c) != FM_OK || !strcmp(p[1], "conflicts"))
        return srv_problem_status(r, 404, "no such collection", NULL);
    if (fm_parse_long(p[3], 1, INT64_MAX, &id) != FM_OK)
        return srv_problem_status(r, 404, "no such item", NULL);
    struct fm_err err;
    json_t *out;
    fm_rc rc = data_evidence(r->db, &r->viewer, c, id, &out, &err);
    if (rc) return srv_problem(r, rc, &err);
    /* and a picture of the item's area as the caller sees it now: the
     * server's drawing, beside the records (a bundle without it when the
     * item has no area or the drawing fails) */
    double bbox[4];
    unsigned char *png = NULL;
    size_t len = 0;
    char title[256];
    snprintf(title, sizeof title, "Evidence: %s/%ld as %s (%s) sees it", p[1], id,
             r->viewer.user, r->viewer.party);
    struct fm_err perr;
    fm_err_clear(&perr);
    if (data_evidence_area(r->db, &r->viewer, c, id, bbox, &perr) == FM_OK &&
        srv_map_picture(r, bbox, 800, 600, title, &png, &len, &perr) == FM_OK)
        data_evidence_picture(out, png, len, bbox);
    else
        fm_log(FM_LOG_WARN, "evidence %s/%ld: no picture: %s", p[1], id, perr.msg);
    free(png);
    char disp[96];
    snprintf(disp, sizeof disp, "attachment; filename=\"evidence-%s-%ld.json\"", p[1], id);
    srv_add_header(r, "Content-Disposition", disp);
    srv_add_header(r, "Cache-Control", "no-store");
    return srv_reply_json(r, 200, NULL, out);
}

/* GET /events/chain?since=N&limit=L: the log after record N as the caller
 * may check it (data_events_chain): what the liaison page hashes before
 * it cosigns a head. */
int h_events_chain(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    long since = 0, limit = 1000;
    const char *s;
    if ((s = srv_arg(r, "since")) && fm_parse_long(s, 0, INT64_MAX, &since) != FM_OK)
        return srv_problem_status(r, 400, "since is a record's seq: 0 or more", "since");
    if ((s = srv_arg(r, "limit")) && fm_parse_long(s, 1, 10000, &limit) != FM_OK)
        return srv_problem_status(r, 400, "limit is 1 to 10000", "limit");
    struct fm_err err;
    json_t *records;
    fm_rc rc = data_events_chain(r->db, &r->viewer, since, limit, &records, &err);
    if (rc) return srv_problem(r, rc, &err);
    srv_add_header(r, "Cache-Control", "no-store");
    return srv_reply_json(r, 200, NULL, json_pack("{s:I,s:o}", "since", (json_int_t)since,
                                                  "records", records));
}

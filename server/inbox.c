/* inbox.c - GET /inbox: what waits for the caller (data/inbox.c). */
#include "srv.h"

#include <microhttpd.h>

int h_inbox(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    struct fm_err err;
    static const char *const known[] = {NULL};
    char bad[64];
    if (srv_unknown_arg(r, known, bad, sizeof bad))
        return srv_problem(r, fm_fail(&err, FM_EINVAL, bad, "unknown query parameter %s", bad),
                           &err);
    json_t *out;
    fm_rc rc = data_inbox(r->db, &r->viewer, &out, &err);
    if (rc) return srv_problem(r, rc, &err);
    srv_add_header(r, "Cache-Control", "no-store");
    return srv_reply_json(r, 200, NULL, out);
}

/* inbox.c - GET /inbox: what waits for the caller (data/inbox.c), its
 * overdue entries optionally by how late they are (overdue_min_s,
 * overdue_max_s: whole seconds past answer_due). */
#include "srv.h"

#include <microhttpd.h>

#define AGE_MAX_S (366L * 86400L)

/* Parameter name, if given, into *v (0 to AGE_MAX_S); *has says so. */
static fm_rc age_arg(struct req *r, const char *name, int *has, int64_t *v, struct fm_err *err)
{
    const char *s = srv_arg(r, name);
    long n;
    *has = 0;
    if (!s) return FM_OK;
    if (fm_parse_long(s, 0, AGE_MAX_S, &n))
        return fm_fail(err, FM_EINVAL, name,
                       "%s is whole seconds past the answer's deadline, 0 to %ld", name, AGE_MAX_S);
    *has = 1;
    *v = n;
    return FM_OK;
}

int h_inbox(struct req *r, const char *const *p, int n)
{
    (void)p, (void)n;
    struct fm_err err;
    static const char *const known[] = {"overdue_min_s", "overdue_max_s", NULL};
    char bad[64];
    if (srv_unknown_arg(r, known, bad, sizeof bad))
        return srv_problem(r,
                           fm_fail(&err, FM_EINVAL, bad,
                                   "unknown query parameter %s; the inbox takes overdue_min_s"
                                   " and overdue_max_s",
                                   bad),
                           &err);
    struct data_inbox_filter f = {0};
    fm_rc rc = age_arg(r, "overdue_min_s", &f.has_min, &f.min_s, &err);
    if (!rc) rc = age_arg(r, "overdue_max_s", &f.has_max, &f.max_s, &err);
    if (!rc && f.has_min && f.has_max && f.min_s > f.max_s)
        rc = fm_fail(&err, FM_EINVAL, "overdue_min_s",
                     "overdue_min_s (%lld) is more than overdue_max_s (%lld): nothing could match",
                     (long long)f.min_s, (long long)f.max_s);
    if (rc) return srv_problem(r, rc, &err);
    json_t *out;
    rc = data_inbox(r->db, &r->viewer, f.has_min || f.has_max ? &f : NULL, &out, &err);
    if (rc) return srv_problem(r, rc, &err);
    srv_add_header(r, "Cache-Control", "no-store");
    return srv_reply_json(r, 200, NULL, out);
}

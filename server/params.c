/* params.c - the parsers of query parameters and header values that come
 * from clients: bbox, datetime, ETags. No HTTP library here, so that
 * each can be fuzzed alone (tests/fuzz/). */
#include "params.h"

#include <stdio.h>
#include <string.h>

fm_rc srv_parse_datetime(const char *s, fm_time *t0, fm_time *t1, struct fm_err *err)
{
    const char *slash = strchr(s, '/');
    char a[64], b[64];
    if (strlen(s) >= sizeof a)
        return fm_fail(err, FM_EINVAL, "datetime", "datetime is too long");
    if (!slash) {
        if (fm_time_parse(s, t0))
            return fm_fail(err, FM_EINVAL, "datetime",
                           "datetime must be an RFC 3339 instant or interval (a/b, ../b, a/..)");
        *t1 = *t0;
        return FM_OK;
    }
    snprintf(a, sizeof a, "%.*s", (int)(slash - s), s);
    snprintf(b, sizeof b, "%s", slash + 1);
    int open_a = a[0] == '\0' || strcmp(a, "..") == 0;
    int open_b = b[0] == '\0' || strcmp(b, "..") == 0;
    if (open_a && open_b)
        return fm_fail(err, FM_EINVAL, "datetime", "an interval needs at least one end");
    *t0 = INT64_MIN;
    *t1 = INT64_MAX;
    if ((!open_a && fm_time_parse(a, t0)) || (!open_b && fm_time_parse(b, t1)))
        return fm_fail(err, FM_EINVAL, "datetime",
                       "datetime must be an RFC 3339 instant or interval (a/b, ../b, a/..)");
    if (*t1 < *t0)
        return fm_fail(err, FM_EINVAL, "datetime", "the interval ends before it starts");
    return FM_OK;
}

fm_rc srv_parse_bbox(const char *s, double out[4], struct fm_err *err)
{
    double v[6];
    int n = 0;
    char buf[256];
    if (strlen(s) >= sizeof buf) return fm_fail(err, FM_EINVAL, "bbox", "bbox is too long");
    snprintf(buf, sizeof buf, "%s", s);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (n == 6 || fm_parse_double(tok, &v[n]))
            return fm_fail(err, FM_EINVAL, "bbox",
                           "bbox is 4 (or 6) comma-separated numbers: minlon,minlat,maxlon,maxlat");
        n++;
    }
    if (n != 4 && n != 6)
        return fm_fail(err, FM_EINVAL, "bbox",
                       "bbox is 4 (or 6) comma-separated numbers: minlon,minlat,maxlon,maxlat");
    /* with 6 numbers the 3rd and 6th are heights, which the store ignores */
    out[0] = v[0];
    out[1] = v[1];
    out[2] = n == 4 ? v[2] : v[3];
    out[3] = n == 4 ? v[3] : v[4];
    if (out[0] < -180 || out[2] > 180 || out[1] < -90 || out[3] > 90)
        return fm_fail(err, FM_EINVAL, "bbox", "bbox is outside -180..180, -90..90");
    if (out[1] > out[3])
        return fm_fail(err, FM_EINVAL, "bbox", "bbox's minimum latitude is above its maximum");
    if (out[0] > out[2])
        return fm_fail(err, FM_EINVAL, "bbox", "a bbox across the antimeridian is not supported");
    return FM_OK;
}

fm_rc srv_parse_etag(const char *h, int64_t *version, struct fm_err *err)
{
    char buf[32];
    *version = 0;
    /* If-Match compares strongly (RFC 9110 13.1.1): a weak tag never
     * matches, whatever version it names */
    if (strncmp(h, "W/", 2) == 0)
        return fm_fail(err, FM_ESTALE, "If-Match",
                       "If-Match compares strongly: a weak tag (W/...) never matches; send the "
                       "ETag as given");
    size_t len = strlen(h);
    if (len >= 2 && h[0] == '"' && h[len - 1] == '"')
        snprintf(buf, sizeof buf, "%.*s", (int)(len - 2), h + 1);
    else
        snprintf(buf, sizeof buf, "%s", h);
    long v;
    if (len >= sizeof buf || fm_parse_long(buf, 1, INT64_MAX, &v))
        return fm_fail(err, FM_ESTALE, "If-Match", "If-Match names no version of this item");
    *version = v;
    return FM_OK;
}

fm_rc srv_check_target(const char *target, struct fm_err *err)
{
    size_t len = strlen(target);
    if (len > SRV_MAX_TARGET)
        return fm_fail(err, FM_ETOOBIG, "", "the request target is longer than %d bytes",
                       SRV_MAX_TARGET);
    /* an encoded NUL would cut a name or value short once decoded */
    if (strstr(target, "%00"))
        return fm_fail(err, FM_EINVAL, "", "the request target holds a NUL (%%00)");
    const char *q = strchr(target, '?');
    if (q) {
        long params = 1;
        for (const char *c = q + 1; *c; c++) params += *c == '&';
        if (params > SRV_MAX_PARAMS)
            return fm_fail(err, FM_ETOOBIG, "", "the query has more than %d parameters",
                           SRV_MAX_PARAMS);
    }
    return FM_OK;
}

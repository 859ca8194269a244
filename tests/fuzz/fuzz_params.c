/* fuzz_params.c - query parameters and header values as clients send
 * them: bbox, datetime, If-Match, request targets, RFC 3339 times and
 * numbers. Checks the invariants of what each parser accepts. */
#include "params.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) return 0;
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    struct fm_err err;
    double box[4];
    if (srv_parse_bbox(s, box, &err) == FM_OK) {
        for (int i = 0; i < 4; i++)
            if (!isfinite(box[i])) abort();
        if (box[0] > box[2] || box[1] > box[3] || box[0] < -180 || box[3] > 90) abort();
    }
    fm_time t0, t1;
    if (srv_parse_datetime(s, &t0, &t1, &err) == FM_OK && t1 < t0) abort();
    int64_t v;
    if (srv_parse_etag(s, &v, &err) == FM_OK && (v < 1 || strncmp(s, "W/", 2) == 0)) abort();
    if (srv_check_target(s, &err) == FM_OK) {
        /* an accepted target is short, holds no encoded NUL, and has few parameters */
        if (strlen(s) > SRV_MAX_TARGET || strstr(s, "%00")) abort();
        const char *q = strchr(s, '?');
        long params = 1;
        for (const char *c = q ? q + 1 : ""; *c; c++) params += *c == '&';
        if (q && params > SRV_MAX_PARAMS) abort();
    }
    fm_time t;
    if (fm_time_parse(s, &t) == FM_OK) {
        /* a parsed time formats and parses back to itself */
        char out[FM_TIME_STAMP_LEN];
        fm_time t2;
        fm_time_format(t, out);
        if (t > -62135596800LL && t < 253402300800LL && (fm_time_parse(out, &t2) || t2 != t))
            abort();
    }
    double d;
    if (fm_parse_double(s, &d) == FM_OK && !isfinite(d)) abort();
    long l;
    if (fm_parse_long(s, -1000, 1000, &l) == FM_OK && (l < -1000 || l > 1000)) abort();
    free(s);
    return 0;
}

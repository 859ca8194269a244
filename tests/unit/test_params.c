/* test_params.c - the parsers of client-supplied parameters (server/params.c):
 * a table of accepted and refused values for bbox, datetime, ETags and
 * request targets. */
#include "check.h"
#include "params.h"

#include <stdint.h>
#include <string.h>

static void bbox(void)
{
    static const struct {
        const char *in;
        int ok;
        double want[4];
    } cases[] = {
        {"35.5,32.5,36,33", 1, {35.5, 32.5, 36, 33}},
        {"-180,-90,180,90", 1, {-180, -90, 180, 90}},
        {"1,2,100,3,4,200", 1, {1, 2, 3, 4}}, /* 6 numbers: heights dropped */
        {"35,33,35,33", 1, {35, 33, 35, 33}}, /* a point is a box */
        {"1,2,3", 0, {0}},
        {"1,2,3,4,5", 0, {0}},
        {"1,2,3,4,5,6,7", 0, {0}},
        {"a,b,c,d", 0, {0}},
        {"1,2,3,nan", 0, {0}},
        {"1,2,3,inf", 0, {0}},
        {"10,10,0,0", 0, {0}},      /* across the antimeridian, or upside down */
        {"0,10,1,5", 0, {0}},       /* minimum latitude above the maximum */
        {"0,0,181,1", 0, {0}},
        {"0,-91,1,1", 0, {0}},
        {"", 0, {0}},
        {",,,", 0, {0}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        double out[4];
        struct fm_err err;
        fm_rc rc = srv_parse_bbox(cases[i].in, out, &err);
        CHECK((rc == FM_OK) == cases[i].ok, "bbox %s: %s", cases[i].in, fm_rc_str(rc));
        if (rc == FM_OK && cases[i].ok)
            CHECK(memcmp(out, cases[i].want, sizeof out) == 0, "bbox %s: values", cases[i].in);
        if (rc != FM_OK) CHECK(strcmp(err.pointer, "bbox") == 0, "bbox %s names bbox", cases[i].in);
    }
}

static void datetime(void)
{
    fm_time t0, t1, a, b;
    struct fm_err err;
    fm_time_parse("2026-01-01T00:00:00Z", &a);
    fm_time_parse("2026-02-01T00:00:00Z", &b);
    CHECK(srv_parse_datetime("2026-01-01T00:00:00Z", &t0, &t1, &err) == FM_OK && t0 == a && t1 == a,
          "an instant is [t, t]");
    CHECK(srv_parse_datetime("2026-01-01T00:00:00Z/2026-02-01T00:00:00Z", &t0, &t1, &err) == FM_OK &&
              t0 == a && t1 == b,
          "a closed interval");
    CHECK(srv_parse_datetime("../2026-02-01T00:00:00Z", &t0, &t1, &err) == FM_OK &&
              t0 == INT64_MIN && t1 == b,
          "open start (..)");
    CHECK(srv_parse_datetime("/2026-02-01T00:00:00Z", &t0, &t1, &err) == FM_OK && t0 == INT64_MIN,
          "open start (empty)");
    CHECK(srv_parse_datetime("2026-01-01T00:00:00Z/..", &t0, &t1, &err) == FM_OK && t1 == INT64_MAX,
          "open end");
    static const char *const bad[] = {"../..", "/", "2026-02-01T00:00:00Z/2026-01-01T00:00:00Z",
                                      "yesterday", "2026-01-01T00:00:00Z/soon", "", NULL};
    for (const char *const *s = bad; *s; s++) {
        CHECK(srv_parse_datetime(*s, &t0, &t1, &err) == FM_EINVAL, "datetime %s refused", *s);
        CHECK(strcmp(err.pointer, "datetime") == 0, "datetime %s names datetime", *s);
    }
}

static void etags(void)
{
    static const struct {
        const char *in;
        int64_t want; /* 0: refused */
    } cases[] = {
        {"\"3\"", 3}, {"W/\"12\"", 0}, {"W/\"1\"", 0}, {"W/12", 0}, {"7", 7}, {"\"0\"", 0}, {"\"-1\"", 0}, {"*", 0},
        {"\"x\"", 0}, {"\"", 0}, {"", 0}, {"\"99999999999999999999999\"", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int64_t v;
        struct fm_err err;
        fm_rc rc = srv_parse_etag(cases[i].in, &v, &err);
        if (cases[i].want)
            CHECK(rc == FM_OK && v == cases[i].want, "If-Match %s: %lld", cases[i].in, (long long)v);
        else
            CHECK(rc == FM_ESTALE, "If-Match %s refused as naming no version", cases[i].in);
    }
}

static void targets(void)
{
    struct fm_err err;
    static const struct {
        const char *in;
        fm_rc want;
    } cases[] = {
        {"/", FM_OK},
        {"/collections/zones/items?limit=5&bbox=1,2,3,4", FM_OK},
        {"/collections/zones/items/1%2500", FM_OK}, /* an encoded '%', then "00" */
        {"/collections/zones/items/1%00", FM_EINVAL},
        {"/collections/zo%00nes/items", FM_EINVAL},
        {"/collections/zones/items?limit=5%00abc", FM_EINVAL},
        {"/collections/zones/items?li%00mit=5", FM_EINVAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        CHECK(srv_check_target(cases[i].in, &err) == cases[i].want, "target %s: %s", cases[i].in,
              fm_rc_str(cases[i].want));

    /* SRV_MAX_PARAMS parameters pass, one more is 414; "&&" counts too */
    char q[SRV_MAX_TARGET + 2];
    size_t n = (size_t)snprintf(q, sizeof q, "/x?");
    for (int i = 0; i < SRV_MAX_PARAMS; i++) n += (size_t)snprintf(q + n, sizeof q - n, "%sa", i ? "&" : "");
    CHECK(srv_check_target(q, &err) == FM_OK, "%d parameters pass", SRV_MAX_PARAMS);
    snprintf(q + n, sizeof q - n, "&");
    CHECK(srv_check_target(q, &err) == FM_ETOOBIG, "%d parameters are too many", SRV_MAX_PARAMS + 1);

    /* SRV_MAX_TARGET bytes pass, one more is 414 */
    memset(q, 'a', sizeof q);
    q[0] = '/';
    q[SRV_MAX_TARGET] = '\0';
    CHECK(srv_check_target(q, &err) == FM_OK, "a target of %d bytes passes", SRV_MAX_TARGET);
    q[SRV_MAX_TARGET] = 'a';
    q[SRV_MAX_TARGET + 1] = '\0';
    CHECK(srv_check_target(q, &err) == FM_ETOOBIG && strstr(err.msg, "longer"),
          "a target of %d bytes is too long", SRV_MAX_TARGET + 1);
}

int main(void)
{
    bbox();
    datetime();
    etags();
    targets();
    return SUMMARY();
}

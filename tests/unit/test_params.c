/* test_params.c - the parsers of client-supplied parameters (server/params.c):
 * a table of accepted and refused values for bbox, datetime and ETags. */
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
        {"\"3\"", 3}, {"W/\"12\"", 12}, {"7", 7}, {"\"0\"", 0}, {"\"-1\"", 0}, {"*", 0},
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

int main(void)
{
    bbox();
    datetime();
    etags();
    return SUMMARY();
}

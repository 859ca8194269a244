/* test_common.c - time stamps, bounded buffers and strict number parsing. */
#include "check.h"
#include "fm.h"

#include <stdlib.h>
#include <string.h>

static void time_parsing(void)
{
    static const struct {
        const char *in;
        int ok;
        const char *canonical;
    } cases[] = {
        {"2026-11-25T10:00:00Z", 1, "2026-11-25T10:00:00Z"},
        {"2026-11-25T10:00:00.123Z", 1, "2026-11-25T10:00:00Z"},
        {"2026-11-25T12:30:00+02:30", 1, "2026-11-25T10:00:00Z"},
        {"2026-11-25T08:00:00-02:00", 1, "2026-11-25T10:00:00Z"},
        {"2026-11-25", 1, "2026-11-25T00:00:00Z"},
        {"2024-02-29T00:00:00Z", 1, "2024-02-29T00:00:00Z"},
        {"1970-01-01T00:00:00Z", 1, "1970-01-01T00:00:00Z"},
        {"0226-11-25", 1, "0226-11-25T00:00:00Z"}, /* found by fuzz_params */
        {"0001-01-01T00:00:00Z", 1, "0001-01-01T00:00:00Z"},
        {"9999-12-31T23:59:59Z", 1, "9999-12-31T23:59:59Z"},
        {"0000-01-01T00:00:00Z", 0, NULL},
        {"2025-02-29T00:00:00Z", 0, NULL},
        {"2026-13-01T00:00:00Z", 0, NULL},
        {"2026-11-25T24:00:00Z", 0, NULL},
        {"2026-11-25T10:00:00", 0, NULL},
        {"2026-11-25T10:00:00Zjunk", 0, NULL},
        {"2026-11-25T10:00Z", 0, NULL},
        {"yesterday", 0, NULL},
        {"", 0, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        fm_time t;
        fm_rc rc = fm_time_parse(cases[i].in, &t);
        CHECK((rc == FM_OK) == cases[i].ok, "parse %s: rc %d", cases[i].in, rc);
        if (rc == FM_OK && cases[i].canonical) {
            char out[FM_TIME_STAMP_LEN];
            fm_time_format(t, out);
            CHECK(strcmp(out, cases[i].canonical) == 0, "%s formats as %s", cases[i].in, out);
        }
    }
    fm_time t;
    fm_time_parse("1970-01-02T00:00:00Z", &t);
    CHECK(t == 86400, "epoch arithmetic: %lld", (long long)t);
}

static void bounded_buffer(void)
{
    struct fm_buf b;
    fm_buf_init(&b, 10);
    CHECK(fm_buf_adds(&b, "hello") == FM_OK, "fits");
    CHECK(fm_buf_adds(&b, "world") == FM_OK, "fits exactly");
    CHECK(fm_buf_adds(&b, "!") == FM_ETOOBIG, "one more byte is too big");
    CHECK(b.len == 10 && strcmp(b.data, "helloworld") == 0, "unchanged after refusal");
    CHECK(fm_buf_printf(&b, "%d", 1) == FM_ETOOBIG, "printf refused too");
    size_t len;
    char *p = fm_buf_take(&b, &len);
    CHECK(len == 10 && b.data == NULL, "take moves the bytes out");
    free(p);
    fm_buf_cleanup(&b);
}

static void numbers(void)
{
    long v;
    double d;
    CHECK(fm_parse_long("42", 0, 100, &v) == FM_OK && v == 42, "42");
    CHECK(fm_parse_long("101", 0, 100, &v) != FM_OK, "over max");
    CHECK(fm_parse_long("4x", 0, 100, &v) != FM_OK, "trailing junk");
    CHECK(fm_parse_long(" 4", 0, 100, &v) != FM_OK, "leading space");
    CHECK(fm_parse_long("99999999999999999999", 0, 100, &v) != FM_OK, "overflow");
    CHECK(fm_parse_double("35.5", &d) == FM_OK && d == 35.5, "35.5");
    CHECK(fm_parse_double("-1e-3", &d) == FM_OK && d == -0.001, "exponent");
    CHECK(fm_parse_double("nan", &d) != FM_OK, "nan refused");
    CHECK(fm_parse_double("inf", &d) != FM_OK, "inf refused");
    CHECK(fm_parse_double("1e999", &d) != FM_OK, "overflow refused");
    CHECK(fm_parse_double("0x10", &d) != FM_OK, "hex refused");
    CHECK(fm_parse_double("", &d) != FM_OK, "empty refused");
}

static void secrets(void)
{
    unsigned char a[32], b[32];
    CHECK(fm_random(a, sizeof a) == FM_OK && fm_random(b, sizeof b) == FM_OK, "random");
    CHECK(memcmp(a, b, sizeof a) != 0, "two draws differ");
    char hex[65];
    fm_hex("\x01\xab", 2, hex);
    CHECK(strcmp(hex, "01ab") == 0, "hex %s", hex);
    CHECK(fm_ct_equal("abc", "abc", 3) && !fm_ct_equal("abc", "abd", 3), "ct_equal");
}

int main(void)
{
    time_parsing();
    bounded_buffer();
    numbers();
    secrets();
    return SUMMARY();
}

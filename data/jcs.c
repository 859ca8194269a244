/* jcs.c - RFC 8785, the JSON Canonicalization Scheme, for what fusionmap
 * signs (keys.c: a signed answer's statement).
 *
 * Restricted on purpose to the values a statement holds: objects, arrays,
 * strings, integers within IEEE 754's exact range (|n| <= 2^53 - 1), true,
 * false and null. A real number is refused rather than written: JCS writes
 * it as ECMAScript's Number.prototype.toString does, which this file does
 * not implement. Within that restriction the output is RFC 8785's:
 * - no whitespace;
 * - object members sorted by their names as UTF-16 code units;
 * - strings as ECMAScript's JSON.stringify writes them: '"' and '\\'
 *   escaped, \b \t \n \f \r, other control characters as \u00xx with
 *   lower-case hex, everything else (including '/', DEL and every
 *   non-ASCII character) as its UTF-8 bytes;
 * - integers in decimal, without a sign for 0.
 * tests/unit/test_jcs.c holds it to RFC 8785's own examples. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define JCS_MAX_SAFE 9007199254740991LL /* 2^53 - 1 */

static void jcs_string(struct fm_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    FM_BUF_LIT(b, "\"");
    size_t run = 0; /* bytes copied as they are, pending */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            run++;
            continue;
        }
        if (run) fm_buf_put(b, s + i - run, run);
        run = 0;
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t k = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\t': esc[1] = 't'; break;
        case '\n': esc[1] = 'n'; break;
        case '\f': esc[1] = 'f'; break;
        case '\r': esc[1] = 'r'; break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            k = 6;
        }
        fm_buf_put(b, esc, k);
    }
    if (run) fm_buf_put(b, s + n - run, run);
    FM_BUF_LIT(b, "\"");
}

/* The next UTF-16 code unit of the UTF-8 text at *p (jansson holds only
 * valid UTF-8); a character past U+FFFF gives its two surrogates in turn,
 * *pending keeping the low one. 0 at the end. */
static unsigned utf16_next(const unsigned char **p, unsigned *pending)
{
    if (*pending) {
        unsigned u = *pending;
        *pending = 0;
        return u;
    }
    const unsigned char *s = *p;
    if (!*s) return 0;
    uint32_t cp;
    if (s[0] < 0x80) {
        cp = s[0];
        *p += 1;
    } else if (s[0] < 0xE0) {
        cp = ((uint32_t)(s[0] & 0x1F) << 6) | (s[1] & 0x3F);
        *p += 2;
    } else if (s[0] < 0xF0) {
        cp = ((uint32_t)(s[0] & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
        *p += 3;
    } else {
        cp = ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
             ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
        *p += 4;
    }
    if (cp < 0x10000) return cp;
    cp -= 0x10000;
    *pending = 0xDC00 | (cp & 0x3FF);
    return 0xD800 | (cp >> 10);
}

/* Member names compared as RFC 8785 sorts them: by UTF-16 code units. */
static int utf16_cmp(const void *a, const void *b)
{
    const unsigned char *x = *(const unsigned char *const *)a;
    const unsigned char *y = *(const unsigned char *const *)b;
    unsigned px = 0, py = 0;
    for (;;) {
        int endx = !px && !*x, endy = !py && !*y;
        if (endx || endy) return endy - endx;
        unsigned ux = utf16_next(&x, &px), uy = utf16_next(&y, &py);
        if (ux != uy) return ux < uy ? -1 : 1;
    }
}

static fm_rc jcs_value(struct fm_buf *b, const json_t *v, int depth, struct fm_err *err)
{
    if (depth > 32) return fm_fail(err, FM_EINVAL, NULL, "JCS: nested deeper than 32");
    switch (json_typeof(v)) {
    case JSON_NULL: FM_BUF_LIT(b, "null"); return FM_OK;
    case JSON_TRUE: FM_BUF_LIT(b, "true"); return FM_OK;
    case JSON_FALSE: FM_BUF_LIT(b, "false"); return FM_OK;
    case JSON_STRING: jcs_string(b, json_string_value(v), json_string_length(v)); return FM_OK;
    case JSON_INTEGER: {
        json_int_t n = json_integer_value(v);
        if (n > JCS_MAX_SAFE || n < -JCS_MAX_SAFE)
            return fm_fail(err, FM_EINVAL, NULL,
                           "JCS: the integer %lld is beyond 2^53 - 1, where a JSON number"
                           " stops being exact",
                           (long long)n);
        fm_buf_int(b, n);
        return FM_OK;
    }
    case JSON_REAL:
        return fm_fail(err, FM_EINVAL, NULL,
                       "JCS: a real number; this canonicaliser writes integers only");
    case JSON_ARRAY: {
        FM_BUF_LIT(b, "[");
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i) FM_BUF_LIT(b, ",");
            fm_rc rc = jcs_value(b, json_array_get(v, i), depth + 1, err);
            if (rc) return rc;
        }
        FM_BUF_LIT(b, "]");
        return FM_OK;
    }
    case JSON_OBJECT: {
        size_t n = json_object_size(v), i = 0;
        const char **keys = fm_xcalloc(n ? n : 1, sizeof *keys);
        const char *k;
        json_t *m;
        json_object_foreach((json_t *)v, k, m) keys[i++] = k;
        qsort(keys, n, sizeof *keys, utf16_cmp);
        FM_BUF_LIT(b, "{");
        fm_rc rc = FM_OK;
        for (i = 0; !rc && i < n; i++) {
            if (i) FM_BUF_LIT(b, ",");
            jcs_string(b, keys[i], strlen(keys[i]));
            FM_BUF_LIT(b, ":");
            rc = jcs_value(b, json_object_get(v, keys[i]), depth + 1, err);
        }
        free(keys);
        if (!rc) FM_BUF_LIT(b, "}");
        return rc;
    }
    }
    return fm_fail(err, FM_EINVAL, NULL, "JCS: not a JSON value");
}

fm_rc data_jcs(const json_t *v, char **out, size_t *len, struct fm_err *err)
{
    *out = NULL;
    struct fm_buf b;
    fm_buf_init(&b, FM_BUF_UNCAPPED);
    fm_rc rc = v ? jcs_value(&b, v, 0, err) : fm_fail(err, FM_EINVAL, NULL, "JCS: no value");
    if (rc) {
        fm_buf_cleanup(&b);
        return rc;
    }
    size_t n;
    *out = fm_buf_take(&b, &n);
    if (!*out) *out = fm_xstrdup("");
    if (len) *len = n;
    return FM_OK;
}

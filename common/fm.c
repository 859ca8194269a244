/* fm.c - results, bounded buffers, parsing helpers, randomness, logging. */
#define _GNU_SOURCE
#include "fm.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

const char *fm_rc_str(fm_rc rc)
{
    switch (rc) {
    case FM_OK: return "ok";
    case FM_EINVAL: return "bad input";
    case FM_ENOTFOUND: return "not found";
    case FM_ECONFLICT: return "conflict";
    case FM_ESTALE: return "stale version";
    case FM_ENEEDVER: return "version required";
    case FM_ETOOBIG: return "too big";
    case FM_EUNAUTH: return "unauthorised";
    case FM_EFORBID: return "forbidden";
    case FM_EBUSY: return "busy";
    case FM_ELIMIT: return "too many attempts";
    case FM_EIO: return "i/o error";
    case FM_EDB: return "database error";
    case FM_EINTERNAL: return "internal error";
    }
    return "unknown";
}

fm_rc fm_fail(struct fm_err *err, fm_rc rc, const char *pointer, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        snprintf(err->pointer, sizeof err->pointer, "%s", pointer ? pointer : "");
    }
    return rc;
}

void fm_err_clear(struct fm_err *err)
{
    if (err) {
        err->msg[0] = '\0';
        err->pointer[0] = '\0';
    }
}

/* ---- memory ----------------------------------------------------------- */

static void oom(void)
{
    fputs("fusionmap: out of memory\n", stderr);
    abort();
}

void *fm_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) oom();
    return p;
}

void *fm_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) oom();
    return p;
}

void *fm_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) oom();
    return q;
}

char *fm_xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p) oom();
    return p;
}

/* ---- bounded buffer --------------------------------------------------- */

void fm_buf_init(struct fm_buf *b, size_t cap)
{
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->cap = cap;
}

void fm_buf_cleanup(struct fm_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->alloc = 0;
}

static fm_rc buf_reserve(struct fm_buf *b, size_t extra)
{
    if (extra > b->cap || b->len > b->cap - extra) return FM_ETOOBIG;
    size_t need = b->len + extra + 1;
    if (need <= b->alloc) return FM_OK;
    size_t n = b->alloc ? b->alloc : 256;
    while (n < need) n *= 2;
    if (n > b->cap + 1) n = b->cap + 1;
    char *p = realloc(b->data, n);
    if (!p) return FM_ETOOBIG;
    b->data = p;
    b->alloc = n;
    return FM_OK;
}

fm_rc fm_buf_add(struct fm_buf *b, const void *p, size_t n)
{
    fm_rc rc = buf_reserve(b, n);
    if (rc) return rc;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return FM_OK;
}

fm_rc fm_buf_adds(struct fm_buf *b, const char *s)
{
    return fm_buf_add(b, s, strlen(s));
}

fm_rc fm_buf_printf(struct fm_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return FM_EINTERNAL;
    fm_rc rc = buf_reserve(b, (size_t)n);
    if (rc) return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return FM_OK;
}

void fm_buf_put(struct fm_buf *b, const void *p, size_t n)
{
    if (fm_buf_add(b, p, n) != FM_OK) abort();
}

void fm_buf_int(struct fm_buf *b, int64_t v)
{
    char t[24];
    int n = snprintf(t, sizeof t, "%" PRId64, v);
    fm_buf_put(b, t, (size_t)n);
}

char *fm_buf_take(struct fm_buf *b, size_t *len)
{
    char *p = b->data;
    if (!p) p = fm_xstrdup("");
    if (len) *len = b->len;
    b->data = NULL;
    b->len = b->alloc = 0;
    return p;
}

/* ---- time ------------------------------------------------------------- */

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
    return dm[m - 1];
}

fm_rc fm_time_parse(const char *s, fm_time *out)
{
    int y, mo, d, h = 0, mi = 0, sec = 0;
    *out = 0;
    if (!s || strlen(s) < 10) return FM_EINVAL;
    if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
        !digits(s + 8, 2, &d))
        return FM_EINVAL;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)) return FM_EINVAL;
    const char *p = s + 10;
    int64_t offset = 0;
    if (*p != '\0') {
        if (*p != 'T' && *p != 't' && *p != ' ') return FM_EINVAL;
        p++;
        if (!digits(p, 2, &h) || p[2] != ':' || !digits(p + 3, 2, &mi) || p[5] != ':' ||
            !digits(p + 6, 2, &sec))
            return FM_EINVAL;
        if (h > 23 || mi > 59 || sec > 60) return FM_EINVAL;
        p += 8;
        if (*p == '.') {
            p++;
            if (*p < '0' || *p > '9') return FM_EINVAL;
            while (*p >= '0' && *p <= '9') p++;
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int oh, om;
            if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 ||
                om > 59)
                return FM_EINVAL;
            offset = (oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
            p += 6;
        } else {
            return FM_EINVAL;
        }
        if (*p != '\0') return FM_EINVAL;
        if (sec == 60) sec = 59; /* a leap second is the last second of its minute */
    }
    *out = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec -
           offset;
    return FM_OK;
}

void fm_time_format(fm_time t, char out[FM_TIME_STAMP_LEN])
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || tm.tm_year + 1900 < 1 || tm.tm_year + 1900 > 9999) {
        snprintf(out, FM_TIME_STAMP_LEN, "%s", t < 0 ? "0001-01-01T00:00:00Z" : "9999-12-31T23:59:59Z");
        return;
    }
    /* %04d, not strftime's %Y: a year before 1000 keeps its four digits */
    char buf[64];
    snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    memcpy(out, buf, FM_TIME_STAMP_LEN - 1);
    out[FM_TIME_STAMP_LEN - 1] = '\0';
}

fm_time fm_time_now(void)
{
    return (fm_time)time(NULL);
}

int64_t fm_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- parsing ---------------------------------------------------------- */

fm_rc fm_parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    *out = 0;
    if (!s || !*s || (*s != '-' && (*s < '0' || *s > '9'))) return FM_EINVAL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max) return FM_EINVAL;
    *out = v;
    return FM_OK;
}

fm_rc fm_parse_double(const char *s, double *out)
{
    char *end;
    *out = 0;
    if (!s || !*s) return FM_EINVAL;
    /* strtod takes "inf", "nan" and hex: a coordinate is none of those */
    for (const char *p = s; *p; p++)
        if (!strchr("0123456789+-.eE", *p)) return FM_EINVAL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v)) return FM_EINVAL;
    *out = v;
    return FM_OK;
}

fm_rc fm_random(void *p, size_t n)
{
    unsigned char *b = p;
    while (n > 0) {
        ssize_t got = getrandom(b, n, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            return FM_EIO;
        }
        b += got;
        n -= (size_t)got;
    }
    return FM_OK;
}

void fm_hex(const void *p, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[b[i] >> 4];
        out[2 * i + 1] = hx[b[i] & 15];
    }
    out[2 * n] = '\0';
}

int fm_ct_equal(const void *a, const void *b, size_t n)
{
    const volatile unsigned char *x = a, *y = b;
    unsigned char d = 0;
    for (size_t i = 0; i < n; i++) d |= x[i] ^ y[i];
    return d == 0;
}

/* ---- logging ---------------------------------------------------------- */

static enum fm_log_level log_level = FM_LOG_INFO;

void fm_log_set_level(enum fm_log_level level)
{
    log_level = level;
}

void fm_log(enum fm_log_level level, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    if (level < log_level) return;
    char stamp[FM_TIME_STAMP_LEN];
    fm_time_format(fm_time_now(), stamp);
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s %s %s\n", stamp, names[level], line);
}

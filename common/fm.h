/* fm.h - what every module of fusionmap shares.
 *
 * The result enum and its error buffer, a bounded growable byte buffer,
 * RFC 3339 time stamps and the logger. Nothing here knows HTTP, SQL or
 * drawing. Every function is thread-safe; none keeps global state except
 * the log level, set once at start-up.
 */
#ifndef FM_H
#define FM_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* ---- results ---------------------------------------------------------- */

typedef enum fm_rc {
    FM_OK = 0,
    FM_EINVAL,    /* bad input: the caller can fix it */
    FM_ENOTFOUND, /* no such thing (or not visible to this caller) */
    FM_ECONFLICT, /* the state does not allow it (illegal transition) */
    FM_ESTALE,    /* a precondition (version) no longer holds */
    FM_ENEEDVER,  /* a precondition (version) is required but missing */
    FM_ETOOBIG,   /* over a configured limit */
    FM_EUNAUTH,   /* who are you? */
    FM_EFORBID,   /* known, but not allowed */
    FM_EBUSY,     /* try again later */
    FM_ELIMIT,    /* too many attempts lately: slow down */
    FM_EIO,       /* file or socket */
    FM_EDB,       /* the database failed */
    FM_EINTERNAL, /* a bug or an out-of-memory */
} fm_rc;

/* A constant English word for rc, never NULL. */
const char *fm_rc_str(fm_rc rc);

/* Details of a failure, in the caller's storage so that an out-of-memory
 * path can still report. `pointer` is the JSON pointer of the offending
 * field ("/properties/valid_to") or the query parameter name, or "". */
struct fm_err {
    char msg[256];
    char pointer[96];
};

/* Fills err (if not NULL) and returns rc, so that `return fm_fail(...)`. */
fm_rc fm_fail(struct fm_err *err, fm_rc rc, const char *pointer, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void fm_err_clear(struct fm_err *err);

/* ---- bounded buffer --------------------------------------------------- */

/* A growable byte buffer that refuses to grow past `cap` bytes: anything
 * sized by a client goes through one. Always NUL-terminated when len > 0. */
struct fm_buf {
    char *data;
    size_t len;
    size_t alloc;
    size_t cap;
};

void fm_buf_init(struct fm_buf *b, size_t cap);
void fm_buf_cleanup(struct fm_buf *b);
/* FM_ETOOBIG when the cap would be passed (b is unchanged then). */
fm_rc fm_buf_add(struct fm_buf *b, const void *p, size_t n);
fm_rc fm_buf_adds(struct fm_buf *b, const char *s);
fm_rc fm_buf_printf(struct fm_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Moves the bytes out (caller frees with free()); b is empty afterwards. */
char *fm_buf_take(struct fm_buf *b, size_t *len);
/* For text the program composes itself (fm_buf_init(b, FM_BUF_UNCAPPED)):
 * appends, or aborts if memory runs out, like fm_xmalloc. */
#define FM_BUF_UNCAPPED (SIZE_MAX / 4)
void fm_buf_put(struct fm_buf *b, const void *p, size_t n);
/* fm_buf_put of a string literal, its length counted by the compiler. */
#define FM_BUF_LIT(b, lit) fm_buf_put(b, lit, sizeof lit - 1)
/* fm_buf_put of v in decimal. */
void fm_buf_int(struct fm_buf *b, int64_t v);

/* Aborts on out-of-memory: for small internal allocations only. */
void *fm_xmalloc(size_t n);
void *fm_xcalloc(size_t n, size_t size);
void *fm_xrealloc(void *p, size_t n);
char *fm_xstrdup(const char *s);

/* ---- time ------------------------------------------------------------- */

/* Seconds since the epoch, UTC. */
typedef int64_t fm_time;
#define FM_TIME_STAMP_LEN 21 /* "2026-11-25T10:00:00Z" + NUL */

/* Parses an RFC 3339 date-time ("2026-11-25T10:00:00Z", "...+02:00",
 * fractions dropped) or a full date ("2026-11-25" = midnight UTC). */
fm_rc fm_time_parse(const char *s, fm_time *out);
/* Writes the canonical UTC form into out (FM_TIME_STAMP_LEN bytes). */
void fm_time_format(fm_time t, char out[FM_TIME_STAMP_LEN]);
fm_time fm_time_now(void);
/* Milliseconds on the monotonic clock (for intervals, not dates). */
int64_t fm_monotonic_ms(void);

/* ---- misc ------------------------------------------------------------- */

/* Strict integer parse of the whole string, within [min, max]. */
fm_rc fm_parse_long(const char *s, long min, long max, long *out);
/* Strict finite double parse of the whole string. */
fm_rc fm_parse_double(const char *s, double *out);
/* n bytes from the kernel's CSPRNG. */
fm_rc fm_random(void *p, size_t n);
/* Lower-case hex of n bytes into out (2n+1 bytes). */
void fm_hex(const void *p, size_t n, char *out);
/* Constant-time comparison of two equal-length byte strings. */
int fm_ct_equal(const void *a, const void *b, size_t n);

/* ---- logging ---------------------------------------------------------- */

enum fm_log_level { FM_LOG_DEBUG, FM_LOG_INFO, FM_LOG_WARN, FM_LOG_ERROR };
void fm_log_set_level(enum fm_log_level level);
void fm_log(enum fm_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif

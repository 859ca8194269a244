/* params.h - parsers of client-supplied parameter and header values.
 * Pure functions: no HTTP library, no database; safe from any thread.
 * Each fills err (with the parameter's name as the pointer) on failure. */
#ifndef SRV_PARAMS_H
#define SRV_PARAMS_H

#include "fm.h"

#include <stdint.h>

/* "minlon,minlat,maxlon,maxlat" (or 6 numbers with heights), CRS84.
 * OUT out[4]; refuses antimeridian-crossing boxes. */
fm_rc srv_parse_bbox(const char *s, double out[4], struct fm_err *err);
/* An RFC 3339 instant or interval "a/b", "../b", "a/..". OUT [*t0, *t1];
 * open ends are INT64_MIN / INT64_MAX. */
fm_rc srv_parse_datetime(const char *s, fm_time *t0, fm_time *t1, struct fm_err *err);
/* An If-Match value: "3" or 3. OUT *version (>= 1); FM_ESTALE when it
 * names no version, and for a weak tag (W/"3"): If-Match compares
 * strongly (RFC 9110 13.1.1), so a weak tag never matches. */
fm_rc srv_parse_etag(const char *h, int64_t *version, struct fm_err *err);

/* The limits of a request target (path and query, as sent): RFC 9112
 * asks for 8000 octets at least; no route takes more than a dozen
 * parameters. */
#define SRV_MAX_TARGET 8000
#define SRV_MAX_PARAMS 64
/* A request target as it came on the request line, before decoding:
 * FM_EINVAL if it holds an encoded NUL (%00); FM_ETOOBIG if it is longer
 * than SRV_MAX_TARGET or its query has more than SRV_MAX_PARAMS
 * parameters (414). */
fm_rc srv_check_target(const char *target, struct fm_err *err);

#endif

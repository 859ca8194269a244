/* cql2.h - CQL2 filters (OGC API - Features Part 3), text and JSON
 * encodings, compiled to a tree (struct data_filter, data.h) that each
 * store backend writes as SQL of its own (data/sqlfilter.c): every
 * property is looked up in the collection's queryables (data_queryables)
 * and stands for the field named there, every operator is one of a fixed
 * list, and every value the client sent is bound as a parameter by the
 * backend, never copied into the SQL text. Pure functions: no HTTP
 * library, no database; fuzzed alone (tests/fuzz/fuzz_cql2.c).
 *
 * The subset: comparisons = <> < <= > >=; AND, OR, NOT and parentheses;
 * [NOT] LIKE (case-sensitive, % and _, \ escapes) and ILIKE; [NOT] IN
 * (...); [NOT] BETWEEN a AND b; IS [NOT] NULL; S_INTERSECTS, S_WITHIN and
 * S_DISJOINT of the geometry with BBOX(w,s,e,n), POINT, LINESTRING or
 * POLYGON literals; T_INTERSECTS, T_BEFORE, T_AFTER of a date-time
 * property or INTERVAL(p, q) of two with TIMESTAMP('...'), DATE('...')
 * or INTERVAL('a', 'b') ('..' for an open end). A date-time property
 * compared with a quoted RFC 3339 string takes it as a time (GDAL sends
 * them so). Property names are case-sensitive, keywords are not.
 *
 * The JSON encoding (filter-lang=cql2-json) says the same with {"op": ...,
 * "args": [...]}: and, or, not, = <> < <= > >=, like, between, in,
 * isNull, s_intersects, s_within, s_disjoint, t_intersects, t_before,
 * t_after; {"property": "name"} first, then literals: strings, numbers,
 * {"timestamp": ...}, {"date": ...}, {"interval": [a, b]}, {"bbox": [w, s,
 * e, n]} and GeoJSON Point, LineString, Polygon. Both encodings are read
 * into one syntax tree. */
#ifndef SRV_CQL2_H
#define SRV_CQL2_H

#include "data.h"

/* At most this many nested parentheses or NOTs. */
#define CQL2_MAX_DEPTH 32

/* Compiles the CQL2 text s against qs into f. FM_EINVAL with a detail
 * naming the character position (1-based) and what was expected, and
 * "filter" as the parameter; an unknown property is named. On failure f
 * is empty (root -1, no nodes). */
fm_rc cql2_compile(const char *s, const struct data_queryable *qs, struct data_filter *f,
                   struct fm_err *err);

/* The same for the CQL2 JSON s; errors name the JSON pointer of the
 * value at fault ("filter: at /args/1: ..."), or the character position
 * when s is not JSON. */
fm_rc cql2_compile_json(const char *s, const struct data_queryable *qs, struct data_filter *f,
                        struct fm_err *err);

/* The CRS of a filter's geometry literals (filter-crs, Part 3 with Part
 * 2): xy turns one position, in that CRS's axis order, into CRS84 lon,
 * lat in place, returning 0, or -1 when it has none. A BBOX in it is
 * taken as the polygon of its edges (8 points a side), each turned. */
struct cql2_crs {
    int (*xy)(void *ctx, double *x, double *y);
    void *ctx;
};

/* cql2_compile (json 0) or cql2_compile_json (json 1) with the literals
 * in crs (NULL: CRS84). */
fm_rc cql2_compile_crs(const char *s, int json, const struct cql2_crs *crs,
                       const struct data_queryable *qs, struct data_filter *f,
                       struct fm_err *err);

/* A sortby value: comma-separated [+|-]property, each a queryable that is
 * not the geometry, at most DATA_SORT_MAX; OUT out: the keys (the store
 * puts absent values last, and the id after them). */
fm_rc cql2_sortby(const char *s, const struct data_queryable *qs, struct data_sort *out,
                  struct fm_err *err);

#endif

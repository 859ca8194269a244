/* pgint.h - what the files of the PostgreSQL store (data/pg/) share: the
 * connection, running a statement with text parameters, reading columns,
 * and each slice's fill function for the store's table (pg.c). */
#ifndef DATA_PG_INT_H
#define DATA_PG_INT_H

#include "internal.h"
#include "store.h"

#include <libpq-fe.h>
#include <stdint.h>

/* The connection: a struct data_db to the files above (store_of reads
 * its first member), this folder's own struct. */
struct pg_db {
    const struct store_ops *ops; /* first */
    PGconn *c;
};
#define CONN(db) (((struct pg_db *)(void *)(db))->c)

/* The advisory lock of the one writer (any number: the cell's own). */
#define WRITER_LOCK "7061646"
/* The channel every write transaction notifies at its commit (nodes.c). */
#define PG_COMMIT_CHANNEL "fm_commit"

/* An integer or a double as a parameter's text, in caller-owned space. */
#define I64(x) pg_i64_text((char[24]){0}, (x))
#define DBL(x) pg_dbl_text((char[40]){0}, (x))
const char *pg_i64_text(char *buf, int64_t v);
const char *pg_dbl_text(char *buf, double v);

/* The failure of res (or of the connection) as FM_EDB or FM_EBUSY. */
fm_rc pg_fail(struct data_db *db, PGresult *res, const char *what, struct fm_err *err);

#define PARAMS_MAX 24

/* Runs sql with n text parameters (NULL: SQL NULL). OUT *res on success
 * (a command or rows), else NULL and err filled; *state (may be NULL) is
 * the SQLSTATE of a failure. */
fm_rc pg_run(struct data_db *db, PGresult **res, char state[6], const char *what,
             struct fm_err *err, const char *sql, int n, ...);

/* Runs sql, which may be several statements, with no parameters and no
 * rows wanted (libpq's simple protocol: PQexecParams takes one). */
fm_rc pg_exec(struct data_db *db, const char *sql, struct fm_err *err);

/* The id a statement's RETURNING id gave, after rc (pg_run's); clears r. */
fm_rc pg_returning_id(fm_rc rc, PGresult *r, int64_t *id);

/* Column c of row i: text or NULL for SQL NULL (pg_col), "" for NULL
 * (pg_col_s), a number (0 for NULL), a boolean ('t' or nonzero). */
const char *pg_col(PGresult *r, int i, int c);
const char *pg_col_s(PGresult *r, int i, int c);
int64_t pg_col_i(PGresult *r, int i, int c);
double pg_col_d(PGresult *r, int i, int c);
int pg_col_b(PGresult *r, int i, int c);

/* The picture's SQL over a version v (picture.c, query.c): its style
 * columns (category, severity, corridor width: where the collection has
 * them), and the half-widths its box is widened by, as migration 6's
 * R*Trees on SQLite (half a movement's corridor, capped at
 * DATA_PIC_MAX_CORRIDOR_M, in degrees of latitude; longitude divided by the
 * cosine of the latitude furthest from the equator, at most 85). */
#define PG_PIC_STYLE                                                                              \
    "CASE WHEN v.collection = 'incidents' THEN v.feature::jsonb #>> '{properties,category}' END," \
    " CASE WHEN v.collection = 'incidents'"                                                      \
    "  THEN (v.feature::jsonb #>> '{properties,severity}')::float8 END,"                         \
    " CASE WHEN v.collection = 'movements'"                                                      \
    "  THEN (v.feature::jsonb #>> '{properties,corridor_width_m}')::float8 END"
#define PG_PIC_HALF_LAT                                                                           \
    "(CASE WHEN v.collection = 'movements' THEN least(greatest(coalesce("                       \
    "(v.feature::jsonb #>> '{properties,corridor_width_m}')::float8, 0), 0), 10000.0)"           \
    " / 2.0 / 110000.0 ELSE 0 END)"
#define PG_PIC_HALF_LON                                                                           \
    "(" PG_PIC_HALF_LAT " / cos(radians(least(85.0, greatest(abs(ST_YMin(v.geom)),"              \
    " abs(ST_YMax(v.geom)))))))"

/* The families of geometries (enum data_geom, in its order) as SQL over
 * the geometry column x. */
#define PG_GEOM_FAMILY(x)                                                                         \
    {"true", "GeometryType(" x ") IN ('POINT', 'MULTIPOINT')",                                   \
     "GeometryType(" x ") IN ('LINESTRING', 'MULTILINESTRING')",                                 \
     "GeometryType(" x ") IN ('POLYGON', 'MULTIPOLYGON')"}

/* A conflict's title (conflict_text.c's CONFLICT_TITLE_*) in PostgreSQL's
 * format(), over conflict row c. */
#define PG_CONFLICT_TITLE                                                                        \
    "CASE c.kind WHEN 'movement_crosses_zone' THEN format('movement %s crosses zone %s',"        \
    " c.a_id, c.b_id) WHEN 'zones_overlap' THEN format('zones %s and %s overlap', c.a_id,"        \
    " c.b_id) WHEN 'incident_in_zone' THEN format('incident %s inside zone %s', c.a_id, c.b_id)"  \
    " ELSE format('incident %s near movement %s', c.a_id, c.b_id) END"
/* The open conflicts as picture rows (picture.c, query.c): the nine
 * columns of a picture row, the box (xmin, xmax, ymin, ymax), the pair,
 * the one party that sees it. */
#define PG_CONFLICT_PIC                                                                          \
    "SELECT c.id, NULL, c.state, c.kind, " PG_CONFLICT_TITLE ", NULL, c.severity, NULL,"         \
    " ST_AsBinary(c.geom, 'NDR'), ST_XMin(c.geom), ST_XMax(c.geom), ST_YMin(c.geom),"            \
    " ST_YMax(c.geom), c.a_id, c.b_id, c.vis_party FROM conflicts c WHERE c.state = 'open'"      \
    " AND c.geom IS NOT NULL"

/* Row i of a picture statement (id, party, status, type, title, the
 * PG_PIC_STYLE columns, WKB as bytea) into row, whose wkb the caller
 * frees with PQfreemem; 0 when its WKB cannot be read (out of memory). */
int pg_pic_row(PGresult *r, int i, struct data_pic_row *row);

/* Each slice's operations into the store's table. */
void pg_accounts_ops(struct store_ops *ops);
void pg_events_ops(struct store_ops *ops);
void pg_items_ops(struct store_ops *ops);
void pg_acks_ops(struct store_ops *ops);
void pg_keys_ops(struct store_ops *ops);
void pg_messages_ops(struct store_ops *ops);
void pg_picture_ops(struct store_ops *ops);
void pg_query_ops(struct store_ops *ops);
void pg_heads_ops(struct store_ops *ops);
void pg_rules_ops(struct store_ops *ops);
void pg_conflicts_ops(struct store_ops *ops);
void pg_copy_ops(struct store_ops *ops);
void pg_nodes_ops(struct store_ops *ops);

#endif

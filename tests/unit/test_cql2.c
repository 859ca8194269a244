/* test_cql2.c - the CQL2 compiler (server/cql2.c) alone, with the SQL
 * each backend writes from its tree (data/sqlfilter.c and the dialects of
 * SQLite and PostgreSQL): what SQL is written, that the client's values
 * are bound and never written into the SQL, and where it says a filter is
 * wrong. The SQL's meaning over real data is checked through the server
 * by tests/interop/ogc.sh and cql2_json.sh, and on both backends, result
 * for result, by tests/interop/cql2_backends.sh. */
#include "check.h"
#include "cql2.h"
#include "sqlfilter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct data_filter tree;
static struct fm_err err;

/* The SQL and values of the last tree written (SQLite's unless said). */
static struct {
    char *sql;
    int nvalues;
    struct sqlf_value *values;
    struct sqlf w;
} f = {.sql = ""};

static int render(const struct data_filter *t, const struct sqlf_dialect *d)
{
    static int live;
    if (live) sqlf_free(&f.w);
    sqlf_init(&f.w, d, 1);
    live = 1;
    fm_rc rc = sqlf_filter(&f.w, t, &err);
    f.sql = rc ? "" : f.w.sql;
    f.nvalues = rc ? 0 : f.w.nvalues;
    f.values = f.w.values;
    return rc == FM_OK;
}

static int ok_in(const char *s, const struct sqlf_dialect *d)
{
    return cql2_compile(s, data_queryables(DATA_INCIDENTS), &tree, &err) == FM_OK && render(&tree, d);
}

static int ok(const char *s)
{
    return ok_in(s, &sqlite_sqlf_dialect);
}

static int empty(void)
{
    return tree.root == -1 && tree.count == 0 && tree.text_len == 0;
}

static int bad(const char *s, const char *detail_has)
{
    fm_rc rc = cql2_compile(s, data_queryables(DATA_INCIDENTS), &tree, &err);
    int good = rc == FM_EINVAL && strstr(err.msg, detail_has) && !strcmp(err.pointer, "filter") &&
               empty();
    if (!good) printf("  %s -> %d: %s\n", s, rc, rc ? err.msg : "accepted");
    return good;
}

/* Every single quote of the SQL is the server's own: the queryables'
 * JSON paths and formats, and LIKE's escape. */
static int quotes_are_ours(void)
{
    char *sql = strdup(f.sql);
    static const char *const ours[] = {"'$.properties.category'", "'$.properties.severity'",
                                       "'$.properties.occurred_at'", "'%s'", "'\\'",
                                       "'{properties,category}'", "'{properties,severity}'",
                                       "'{properties,occurred_at}'", "'number'",
                                       "'^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'",
                                       "'ABCDEFGHIJKLMNOPQRSTUVWXYZ'", "'abcdefghijklmnopqrstuvwxyz'",
                                       NULL};
    for (const char *const *o = ours; *o; o++)
        for (char *at; (at = strstr(sql, *o));) memset(at, '_', strlen(*o));
    int good = strchr(sql, '\'') == NULL;
    free(sql);
    return good;
}

/* The text and JSON encodings of one filter give the same SQL and values,
 * in each dialect. */
static int same(const char *text, const char *json)
{
    static struct data_filter g;
    enum data_coll c = DATA_INCIDENTS;
    if (strstr(text, "corridor")) c = DATA_MOVEMENTS;
    fm_rc a = cql2_compile(text, data_queryables(c), &tree, &err);
    fm_rc b = cql2_compile_json(json, data_queryables(c), &g, &err);
    int good = a == FM_OK && b == FM_OK;
    const struct sqlf_dialect *ds[] = {&sqlite_sqlf_dialect, &pg_sqlf_dialect};
    for (int k = 0; good && k < 2; k++) {
        struct sqlf x, y;
        sqlf_init(&x, ds[k], 1);
        sqlf_init(&y, ds[k], 1);
        good = sqlf_filter(&x, &tree, &err) == FM_OK && sqlf_filter(&y, &g, &err) == FM_OK &&
               !strcmp(x.sql, y.sql) && x.nvalues == y.nvalues;
        for (int i = 0; good && i < x.nvalues; i++) {
            good = x.values[i].kind == y.values[i].kind;
            if (x.values[i].kind == 'i') good = good && x.values[i].i == y.values[i].i;
            if (x.values[i].kind == 'd') good = good && x.values[i].d == y.values[i].d;
            if (x.values[i].kind == 't') good = good && !strcmp(x.values[i].t, y.values[i].t);
        }
        if (!good) printf("  %s -> %s\n  %s -> %s\n", text, x.sql ? x.sql : "-", json, y.sql ? y.sql : "-");
        sqlf_free(&x);
        sqlf_free(&y);
    }
    if (!good) printf("  %s / %s (%s)\n", text, json, err.msg);
    return good;
}

static int bad_json(const char *s, const char *detail_has)
{
    fm_rc rc = cql2_compile_json(s, data_queryables(DATA_INCIDENTS), &tree, &err);
    int good = rc == FM_EINVAL && strstr(err.msg, detail_has) && !strcmp(err.pointer, "filter") &&
               empty();
    if (!good) printf("  %s -> %d: %s\n", s, rc, rc ? err.msg : "accepted");
    return good;
}

/* The ORDER BY keys of sortby s in dialect d, or NULL when refused. */
static const char *sorted(const char *s, const struct sqlf_dialect *d)
{
    static char out[2000];
    struct data_sort so;
    if (cql2_sortby(s, data_queryables(DATA_INCIDENTS), &so, &err)) return NULL;
    struct sqlf w;
    sqlf_init(&w, d, 1);
    int good = sqlf_sort(&w, &so, &err) == FM_OK;
    snprintf(out, sizeof out, "%s", good ? w.sql : "");
    sqlf_free(&w);
    return good ? out : NULL;
}

int main(void)
{
    CHECK(ok("severity >= 3") && strstr(f.sql, "json_extract(v.feature, '$.properties.severity') >= :f0") &&
              f.nvalues == 1 && f.values[0].kind == 'i' && f.values[0].i == 3,
          "a comparison: %s", f.sql);
    CHECK(ok("status = 'reported' AND (party = 'A' OR NOT party = 'B')") &&
              strstr(f.sql, "v.status = :f0 AND (v.party = :f1 OR NOT (v.party = :f2))") &&
              !strcmp(f.values[1].t, "A"),
          "AND, OR, NOT and parentheses: %s", f.sql);
    CHECK(ok("title = 'x'' OR 1=1 --'") && !strstr(f.sql, "1=1") &&
              !strcmp(f.values[0].t, "x' OR 1=1 --") && quotes_are_ours(),
          "a quote in a value stays in the value: %s", f.sql);
    CHECK(ok("category IN ('shelling', 'airspace') AND severity NOT BETWEEN 1 AND 2") &&
              strstr(f.sql, "IN (:f0, :f1)") && strstr(f.sql, "NOT ") && strstr(f.sql, "BETWEEN :f2 AND :f3"),
          "IN and NOT BETWEEN: %s", f.sql);
    CHECK(ok("title LIKE 'a%b_c*d\\%'") && strstr(f.sql, "v.title GLOB :f0") &&
              !strcmp(f.values[0].t, "a*b?c[*]d%"),
          "LIKE becomes a case-sensitive GLOB: %s / %s", f.sql, f.values[0].t);
    CHECK(ok("title ILIKE 'A%'") && strstr(f.sql, "v.title LIKE :f0 ESCAPE"), "ILIKE: %s", f.sql);
    CHECK(ok("title IS NOT NULL AND category is null"), "IS [NOT] NULL, any case: %s", f.sql);
    CHECK(ok("\"severity\" = 2"), "a quoted property name");
    CHECK(ok("occurred_at >= '2026-12-05T00:00:00Z'") && f.values[0].kind == 'i' &&
              f.values[0].i == 1796428800,
          "a date-time property against a quoted RFC 3339 text takes it as a time (GDAL)");
    CHECK(ok("occurred_at < TIMESTAMP('2026-12-05T00:00:00Z') OR updated_at > DATE('2026-12-01')"),
          "TIMESTAMP() and DATE(): %s", f.sql);
    CHECK(ok("S_INTERSECTS(geometry, BBOX(35, 32, 36, 33))") &&
              strstr(f.sql, "idx_item_versions_geom") &&
              strstr(f.sql, "ST_Intersects(v.geom, BuildMbr(:f0, :f1, :f2, :f3, 4326)) = 1"),
          "S_INTERSECTS with a BBOX, through the spatial index: %s", f.sql);
    CHECK(ok("S_INTERSECTS(geometry, POLYGON((35 32, 36 32, 36 33, 35 32)))") &&
              f.values[0].kind == 't' && !strncmp(f.values[0].t, "POLYGON((35 32, 36 32", 21),
          "a POLYGON literal is rewritten from its numbers: %s", f.values[0].t);
    CHECK(ok("S_WITHIN(geometry, POINT(35.5 32.5)) OR S_DISJOINT(geometry, LINESTRING(35 32, 36 33))"),
          "S_WITHIN, S_DISJOINT, POINT, LINESTRING");
    CHECK(ok("T_INTERSECTS(INTERVAL(valid_from, valid_to), INTERVAL('2026-12-01T00:00:00Z', '..'))") &&
              strstr(f.sql, "(1 AND (v.valid_to IS NULL OR :f0 <= v.valid_to))"),
          "T_INTERSECTS of the validity with an open interval: %s", f.sql);
    CHECK(ok("T_INTERSECTS(INTERVAL(valid_from, valid_to), INTERVAL('2026-12-01', '2026-12-02'))") &&
              strstr(f.sql, "(v.valid_from IS NULL OR v.valid_from <= :f0)") &&
              strstr(f.sql, "(v.valid_to IS NULL OR :f1 <= v.valid_to)") && f.values[0].i > f.values[1].i,
          "absent ends of the validity are open (values bound as written): %s", f.sql);
    CHECK(ok_in("T_AFTER(INTERVAL(valid_from, valid_to), INTERVAL('2025-01-01', '2026-01-04'))", &pg_sqlf_dialect) &&
              f.nvalues == 1 && strstr(f.sql, "$1::bigint < v.valid_from") && !strstr(f.sql, "$2"),
          "an end a temporal test does not use is not bound (PostgreSQL refuses a parameter it"
          " cannot type): %s", f.sql);
    CHECK(ok("T_BEFORE(occurred_at, TIMESTAMP('2026-12-05T00:00:00Z')) AND T_AFTER(updated_at, '2026-01-01')"),
          "T_BEFORE and T_AFTER: %s", f.sql);
    CHECK(bad("nonsense = 1", "nonsense is not a queryable") && strstr(err.msg, "at character 1"),
          "an unknown property is named, at its position");
    CHECK(bad("severity >= ", "at character 13: expected a number"), "the end of the text: %s", err.msg);
    CHECK(bad("severity >= 'high'", "expected a number"), "a type mismatch");
    CHECK(bad("title = 3", "expected a quoted string"), "a number for a text");
    CHECK(bad("title = 'open", "not closed"), "an open string");
    CHECK(bad("severity = 1 severity = 2", "at character 14: unexpected text"), "trailing text: %s", err.msg);
    CHECK(bad("geometry = 'x'", "S_INTERSECTS"), "the geometry is not compared");
    CHECK(bad("S_INTERSECTS(geometry, BBOX(36, 32, 35, 33))", "west <= east"), "a bbox across");
    CHECK(bad("S_CROSSES(geometry, POINT(1 2))", "not supported"), "an unsupported function");
    CHECK(bad("occurred_at > 'yesterday'", "not an RFC 3339"), "a bad time");
    CHECK(bad("", "empty"), "an empty filter");
    char deep[200] = "";
    for (int i = 0; i < 40; i++) strcat(deep, "(");
    strcat(deep, "severity = 1");
    for (int i = 0; i < 40; i++) strcat(deep, ")");
    CHECK(bad(deep, "nested more than"), "nesting is bounded");
    char many[2000] = "severity IN (1";
    for (int i = 0; i < 70; i++) strcat(many, ", 1");
    strcat(many, ")");
    CHECK(bad(many, "more than 64 values"), "values are bounded");
    CHECK(cql2_compile("corridor_width_m > 5", data_queryables(DATA_INCIDENTS), &tree, &err) == FM_EINVAL &&
              cql2_compile("corridor_width_m > 5", data_queryables(DATA_MOVEMENTS), &tree, &err) == FM_OK,
          "queryables are per collection");

    /* CQL2 JSON: the same tree, so the same SQL and values as the text */
    CHECK(same("severity >= 3", "{\"op\": \">=\", \"args\": [{\"property\": \"severity\"}, 3]}"),
          "JSON: a comparison");
    CHECK(same("status = 'reported' AND (party = 'A' OR NOT party = 'B')",
               "{\"op\":\"and\",\"args\":[{\"op\":\"=\",\"args\":[{\"property\":\"status\"},\"reported\"]},"
               "{\"op\":\"or\",\"args\":[{\"op\":\"=\",\"args\":[{\"property\":\"party\"},\"A\"]},"
               "{\"op\":\"not\",\"args\":[{\"op\":\"=\",\"args\":[{\"property\":\"party\"},\"B\"]}]}]}]}"),
          "JSON: and, or, not");
    CHECK(same("title = 'x'' OR 1=1 --'",
               "{\"op\":\"=\",\"args\":[{\"property\":\"title\"},\"x' OR 1=1 --\"]}") &&
              quotes_are_ours(),
          "JSON: a quote in a value stays in the value");
    CHECK(same("category IN ('shelling', 'airspace') AND severity BETWEEN 1 AND 2",
               "{\"op\":\"and\",\"args\":[{\"op\":\"in\",\"args\":[{\"property\":\"category\"},"
               "[\"shelling\",\"airspace\"]]},{\"op\":\"between\",\"args\":"
               "[{\"property\":\"severity\"},1,2]}]}"),
          "JSON: in and between");
    CHECK(same("NOT severity BETWEEN 1 AND 2",
               "{\"op\":\"not\",\"args\":[{\"op\":\"between\",\"args\":[{\"property\":\"severity\"},1,2]}]}"),
          "JSON: not between");
    CHECK(same("title LIKE 'a%b_c*d\\%'", "{\"op\":\"like\",\"args\":[{\"property\":\"title\"},\"a%b_c*d\\\\%\"]}"),
          "JSON: like");
    CHECK(same("title IS NULL", "{\"op\":\"isNull\",\"args\":[{\"property\":\"title\"}]}"), "JSON: isNull");
    CHECK(same("occurred_at >= '2026-12-05T00:00:00Z'",
               "{\"op\":\">=\",\"args\":[{\"property\":\"occurred_at\"},{\"timestamp\":\"2026-12-05T00:00:00Z\"}]}"),
          "JSON: a timestamp");
    CHECK(same("updated_at > DATE('2026-12-01')",
               "{\"op\":\">\",\"args\":[{\"property\":\"updated_at\"},{\"date\":\"2026-12-01\"}]}"),
          "JSON: a date");
    CHECK(same("S_INTERSECTS(geometry, BBOX(35, 32, 36, 33))",
               "{\"op\":\"s_intersects\",\"args\":[{\"property\":\"geometry\"},{\"bbox\":[35,32,36,33]}]}"),
          "JSON: s_intersects with a bbox");
    CHECK(same("S_WITHIN(geometry, POLYGON((35 32, 36 32, 36 33, 35 32)))",
               "{\"op\":\"s_within\",\"args\":[{\"property\":\"geometry\"},{\"type\":\"Polygon\","
               "\"coordinates\":[[[35,32],[36,32],[36,33],[35,32]]]}]}"),
          "JSON: s_within a GeoJSON Polygon");
    CHECK(same("S_DISJOINT(geometry, LINESTRING(35 32, 36 33)) OR S_INTERSECTS(geometry, POINT(35.5 32.5))",
               "{\"op\":\"or\",\"args\":[{\"op\":\"s_disjoint\",\"args\":[{\"property\":\"geometry\"},"
               "{\"type\":\"LineString\",\"coordinates\":[[35,32],[36,33]]}]},{\"op\":\"s_intersects\","
               "\"args\":[{\"property\":\"geometry\"},{\"type\":\"Point\",\"coordinates\":[35.5,32.5]}]}]}"),
          "JSON: LineString and Point");
    CHECK(same("T_INTERSECTS(INTERVAL(valid_from, valid_to), INTERVAL('2026-12-01T00:00:00Z', '..'))",
               "{\"op\":\"t_intersects\",\"args\":[{\"interval\":[{\"property\":\"valid_from\"},"
               "{\"property\":\"valid_to\"}]},{\"interval\":[\"2026-12-01T00:00:00Z\",\"..\"]}]}"),
          "JSON: t_intersects of intervals");
    CHECK(same("T_BEFORE(occurred_at, TIMESTAMP('2026-12-05T00:00:00Z')) AND T_AFTER(updated_at, '2026-01-01')",
               "{\"op\":\"and\",\"args\":[{\"op\":\"t_before\",\"args\":[{\"property\":\"occurred_at\"},"
               "{\"timestamp\":\"2026-12-05T00:00:00Z\"}]},{\"op\":\"t_after\",\"args\":["
               "{\"property\":\"updated_at\"},{\"date\":\"2026-01-01\"}]}]}"),
          "JSON: t_before and t_after");
    CHECK(same("corridor_width_m > 5.5", "{\"op\":\">\",\"args\":[{\"property\":\"corridor_width_m\"},5.5]}"),
          "JSON: a number with a fraction");
    CHECK(bad_json("{\"op\":\"=\",\"args\":[{\"property\":\"nonsense\"},1]}", "at /args/0: nonsense is not a queryable"),
          "JSON: an unknown property is named with its JSON pointer: %s", err.msg);
    CHECK(bad_json("{\"op\":\"and\",\"args\":[{\"op\":\"=\",\"args\":[{\"property\":\"severity\"},1]},"
                   "{\"op\":\"=\",\"args\":[{\"property\":\"severity\"},\"high\"]}]}",
                   "at /args/1/args/1: expected a number"),
          "JSON: a type mismatch deep down: %s", err.msg);
    CHECK(bad_json("{\"op\":\"=\",\"args\":[{\"property\":\"title\"}", "at character"),
          "JSON: not JSON: %s", err.msg);
    CHECK(bad_json("{\"op\":\"s_crosses\",\"args\":[]}", "not supported"), "JSON: an unknown op");
    CHECK(bad_json("{\"op\":\"=\",\"args\":[1,{\"property\":\"severity\"}]}", "a property first"),
          "JSON: a literal first is refused (basic-cql2 is not declared)");
    CHECK(bad_json("{\"op\":\"s_intersects\",\"args\":[{\"property\":\"geometry\"},{\"bbox\":[36,32,35,33]}]}",
                   "west <= east"),
          "JSON: a bbox across");
    CHECK(bad_json("{\"op\":\"s_intersects\",\"args\":[{\"property\":\"geometry\"},{\"type\":\"Point\","
                   "\"coordinates\":[500,1]}]}",
                   "at /args/1/coordinates: coordinates are longitude"),
          "JSON: a point out of range: %s", err.msg);
    CHECK(bad_json("{\"op\":\"t_intersects\",\"args\":[{\"property\":\"occurred_at\"},{\"interval\":[\"x\",\"..\"]}]}",
                   "at /args/1/interval/0: 'x' is not an RFC 3339"),
          "JSON: a bad time in an interval: %s", err.msg);
    CHECK(bad_json("{\"op\":\"=\",\"args\":[{\"property\":\"title\"},\"a\"],\"op\":\"<\"}", "at character"),
          "JSON: duplicate members are refused");
    CHECK(bad_json("[]", "expected {\"op\""), "JSON: not an operation");
    CHECK(bad_json("{\"op\":\"and\",\"args\":[{\"op\":\"isNull\",\"args\":[{\"property\":\"title\"}]}]}",
                   "2 or more"),
          "JSON: and of one");
    {
        static char deepj[4000];
        deepj[0] = '\0';
        for (int i = 0; i < 40; i++) strcat(deepj, "{\"op\":\"not\",\"args\":[");
        strcat(deepj, "{\"op\":\"isNull\",\"args\":[{\"property\":\"title\"}]}");
        for (int i = 0; i < 40; i++) strcat(deepj, "]}");
        CHECK(bad_json(deepj, "nested more than"), "JSON: nesting is bounded");
        static char manyj[4000];
        strcpy(manyj, "{\"op\":\"in\",\"args\":[{\"property\":\"severity\"},[1");
        for (int i = 0; i < 70; i++) strcat(manyj, ",1");
        strcat(manyj, "]]}");
        CHECK(bad_json(manyj, "more than 64 values"), "JSON: values are bounded: %s", err.msg);
    }

    const char *order = sorted("-severity,+title,id", &sqlite_sqlf_dialect);
    CHECK(order && strstr(order, "json_extract(v.feature, '$.properties.severity') DESC") &&
              strstr(order, "v.title ASC") && strstr(order, "v.item_id ASC") &&
              strstr(order, "v.title IS NULL, v.title ASC"),
          "sortby: %s", order);
    order = sorted("-severity,+title,id", &pg_sqlf_dialect);
    CHECK(order && strstr(order, "'number' THEN (v.feature::jsonb #>> '{properties,severity}')::float8 END) DESC") &&
              strstr(order, "v.title IS NULL, v.title COLLATE \"C\" ASC") && strstr(order, "v.item_id ASC"),
          "sortby on PostgreSQL: absent last, text in byte order: %s", order);
    struct data_sort so;
    CHECK(cql2_sortby("geometry", data_queryables(DATA_INCIDENTS), &so, &err) == FM_EINVAL &&
              !strcmp(err.pointer, "sortby"),
          "sortby refuses the geometry");
    CHECK(cql2_sortby("-title; DROP TABLE items", data_queryables(DATA_INCIDENTS), &so, &err) == FM_EINVAL,
          "sortby refuses what is not a queryable");
    CHECK(cql2_sortby("title,", data_queryables(DATA_INCIDENTS), &so, &err) == FM_EINVAL,
          "sortby refuses a trailing comma");
    CHECK(cql2_sortby("id,id,id,id,id,id,id,id,id", data_queryables(DATA_INCIDENTS), &so, &err) == FM_EINVAL &&
              strstr(err.msg, "at most 8"),
          "sortby takes at most 8 keys");

    /* PostgreSQL's dialect: typed parameters after the query's own,
     * PostGIS, byte order, ASCII-only ILIKE as SQLite's */
    CHECK(ok_in("severity >= 3 AND title < 'b'", &pg_sqlf_dialect) &&
              strstr(f.sql, "::float8 END) >= $1::bigint AND v.title COLLATE \"C\" < $2::text") &&
              quotes_are_ours(),
          "PostgreSQL: a comparison: %s", f.sql);
    CHECK(ok_in("title = 'x'' OR 1=1 --'", &pg_sqlf_dialect) && !strstr(f.sql, "1=1") &&
              quotes_are_ours(),
          "PostgreSQL: a quote in a value stays in the value: %s", f.sql);
    CHECK(ok_in("title LIKE 'a%b_c*d\\%' AND title ILIKE 'A\\_z%'", &pg_sqlf_dialect) &&
              strstr(f.sql, "v.title LIKE $1::text ESCAPE") && !strcmp(f.values[0].t, "a%b_c*d\\%") &&
              strstr(f.sql, "translate(v.title,") && !strcmp(f.values[1].t, "a\\_z%"),
          "PostgreSQL: LIKE, and ILIKE folding ASCII letters only: %s / %s", f.sql, f.values[1].t);
    CHECK(ok_in("title LIKE 'a\\' OR title ILIKE 'a\\'", &pg_sqlf_dialect) &&
              !strcmp(f.values[0].t, "a\\\\") && f.nvalues == 1 &&
              strstr(f.sql, "(CASE WHEN v.title IS NULL THEN NULL ELSE FALSE END)"),
          "PostgreSQL: a last backslash is itself in LIKE (GLOB), matches nothing in ILIKE: %s", f.sql);
    CHECK(ok_in("S_INTERSECTS(geometry, BBOX(35, 32, 36, 33)) AND S_WITHIN(geometry, POINT(35.5 32.5))"
                " AND S_DISJOINT(geometry, POINT(1 2))", &pg_sqlf_dialect) &&
              strstr(f.sql, "ST_Intersects(v.geom, ST_MakeEnvelope($1::float8, $2::float8, $3::float8, $4::float8, 4326))") &&
              strstr(f.sql, "ST_Within(v.geom, ST_GeomFromText($5::text, 4326))") &&
              strstr(f.sql, "ST_Disjoint(v.geom, ST_GeomFromText($6::text, 4326))"),
          "PostgreSQL: PostGIS: %s", f.sql);
    CHECK(ok_in("T_INTERSECTS(INTERVAL(valid_from, valid_to), INTERVAL('2026-12-01T00:00:00Z', '..'))"
                " AND occurred_at > '2026-01-01T00:00:00Z'", &pg_sqlf_dialect) &&
              strstr(f.sql, "(TRUE AND (v.valid_to IS NULL OR $1::bigint <= v.valid_to))") &&
              strstr(f.sql, "::timestamptz))::bigint END) > $2::bigint") && quotes_are_ours(),
          "PostgreSQL: open ends, times as seconds: %s", f.sql);
    CHECK(ok("S_INTERSECTS(geometry, POLYGON((35 32, 36 32, 36 33, 35 33)))") &&
              !strcmp(f.values[0].t, "POLYGON((35 32, 36 32, 36 33, 35 33, 35 32))"),
          "a ring left open is closed (SpatiaLite read it so; PostGIS refuses it): %s", f.values[0].t);
    return SUMMARY();
}

#!/usr/bin/env python3
"""cql2_backends.py - the comparisons of cql2_backends.sh in one process
(CI's time: one interpreter, not a curl and a jq per request). Argument:
JSON {"S": {"url", "A", "B"}, "P": {...}, "draft": id, "boxutm": "x,y,x,y"}
(S SQLite, P PostgreSQL; A and B each party's token). Prints one line per
case, "ok<TAB>name" or "FAIL<TAB>name<TAB>why", which the shell counts."""
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

CFG = json.loads(sys.argv[1])
DRAFT = CFG["draft"]


def ans(be, who, coll, params):
    """status, then [numberMatched, ids of the page] or [detail, parameter]"""
    q = urllib.parse.urlencode(list(params) + [("limit", "1000")])  # the case's limit first
    req = urllib.request.Request("%s/collections/%s/items?%s" % (CFG[be]["url"], coll, q),
                                 headers={"Authorization": "Bearer " + CFG[be][who]})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            status, body = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read()
    j = json.loads(body)
    if j.get("type") == "FeatureCollection":
        return [status, j.get("numberMatched"), [f["id"] for f in j["features"]]], j
    return [status, j.get("detail"), j.get("parameter")], j


def same(who, coll, params):
    s, js = ans("S", who, coll, params)
    p, jp = ans("P", who, coll, params)
    if s != p:
        raise AssertionError("as %s: sqlite %s, postgresql %s" % (who, s, p))
    return s, jp


def report(name, fn):
    try:
        fn()
        print("ok\t%s" % name)
    except Exception as e:  # a case that fails, whatever the reason
        print("FAIL\t%s\t%s" % (name, str(e)[:600].replace("\n", " ")))
    sys.stdout.flush()


NONEMPTY = [0]


def filt(coll, f, extra=()):
    """as A and as B alike; B's 200 and without A's draft"""
    params = [("filter", f)] + list(extra)
    same("A", coll, params)
    b, _ = same("B", coll, params)
    if b[0] != 200:
        raise AssertionError("B: %s" % b)
    if DRAFT in b[2]:
        raise AssertionError("B sees A's draft: %s" % b)
    if b[1]:
        NONEMPTY[0] += 1
    return b


FILTERS = [
    ("incidents", "severity >= 3 AND NOT (category = 'explosion' OR severity = 5)"),
    ("incidents", "severity IN (1, 2.5, 5) OR severity NOT BETWEEN 2 AND 4"),
    ("incidents", "severity > 2.5 AND id <> 3"),
    ("incidents", "category IN ('explosion', 'airspace') AND version = 1 AND party = 'B'"),
    ("incidents", "title LIKE 'timed %' OR title LIKE 'Z%'"),
    ("incidents", "title LIKE '%\\%%' OR title LIKE '%\\_%'"),
    ("incidents", "title LIKE '%*%' OR title LIKE '%a\\\\b'"),
    ("incidents", "title LIKE 'apple%' AND NOT title LIKE 'appl_ 5_\\% %'"),
    ("incidents", "title ILIKE 'TIMED%' OR title ILIKE '%STAR%'"),
    ("incidents", "title ILIKE '%clat' OR title ILIKE 'z\\'"),
    ("incidents", "NOT title ILIKE 'z\\' AND NOT title LIKE 'z\\'"),
    ("incidents", "title < 'timed 3' AND title >= 'Zulu'"),
    ("incidents", "title > 'a' OR title IN ('Zulu')"),
    ("incidents", "severity IS NULL OR occurred_at IS NULL"),
    ("incidents", "valid_to IS NULL AND valid_from IS NOT NULL"),
    ("incidents", "S_INTERSECTS(geometry, BBOX(35.05, 32.05, 35.25, 32.25))"),
    ("incidents", "S_WITHIN(geometry, POLYGON((35.05 32.05, 35.45 32.05, 35.45 32.45, 35.05 32.45, 35.05 32.05)))"),
    ("incidents", "S_WITHIN(geometry, POLYGON((35.05 32.05, 35.45 32.05, 35.45 32.45, 35.05 32.45)))"),
    ("incidents", "S_DISJOINT(geometry, BBOX(35.05, 32.05, 35.25, 32.25))"),
    ("incidents", "occurred_at >= '2026-01-10T00:00:00Z' OR occurred_at < TIMESTAMP('2026-01-02T00:00:00Z')"),
    ("incidents", "T_INTERSECTS(INTERVAL(valid_from, valid_to), INTERVAL('2026-01-03', '2026-01-20'))"),
    ("incidents", "T_INTERSECTS(INTERVAL(valid_from, valid_to), INTERVAL('..', '2026-01-02'))"),
    ("incidents", "T_INTERSECTS(INTERVAL(valid_from, valid_to), INTERVAL('2026-02-04T00:00:00Z', '..'))"),
    ("incidents", "T_BEFORE(occurred_at, DATE('2026-01-03')) OR T_AFTER(occurred_at, TIMESTAMP('2026-01-24T00:00:00Z'))"),
    ("incidents", "T_BEFORE(INTERVAL(valid_from, valid_to), '2026-02-03T00:00:00Z')"),
    ("incidents", "T_AFTER(INTERVAL(valid_from, valid_to), INTERVAL('2025-01-01', '2026-01-04'))"),
    ("incidents", "T_INTERSECTS(occurred_at, INTERVAL(valid_from, valid_to))"),
    ("incidents", "T_AFTER(updated_at, '2000-01-01') AND NOT T_BEFORE(occurred_at, '2026-01-02')"),
    ("zones", "S_INTERSECTS(geometry, POINT(35.2 32.2)) OR S_INTERSECTS(geometry, LINESTRING(35.29 32.0, 35.31 32.1))"),
    ("zones", "altitude_floor_m > 100 OR altitude_ceiling_m IS NULL"),
    # a bow tie (self-intersecting): no error on either backend
    ("zones", "S_INTERSECTS(geometry, POLYGON((35 32, 36 33, 36 32, 35 33, 35 32))) OR S_WITHIN(geometry, POLYGON((35 32, 36 33, 36 32, 35 33, 35 32)))"),
    ("incidents", "S_INTERSECTS(geometry, POLYGON((35 32, 36 33, 36 32, 35 33, 35 32))) OR S_DISJOINT(geometry, POLYGON((35 32, 36 33, 36 32, 35 33, 35 32)))"),
    ("movements", "corridor_width_m >= 500 OR S_INTERSECTS(geometry, BBOX(35.3, 32.3, 35.5, 32.5))"),
]
for coll, f in FILTERS:
    report("%s: %s: the same on SQLite and PostgreSQL, as A and as B" % (coll, f),
           lambda: filt(coll, f))


def most():
    if NONEMPTY[0] < 25:
        raise AssertionError("only %d select something" % NONEMPTY[0])


report("most of those filters select something (B)", most)

JSONF = json.dumps({"op": "and", "args": [
    {"op": "like", "args": [{"property": "title"}, "timed %"]},
    {"op": "t_intersects", "args": [{"interval": [{"property": "valid_from"}, {"property": "valid_to"}]},
                                    {"interval": ["2026-01-03T00:00:00Z", ".."]}]}]})
report("CQL2 JSON: the same on both", lambda: filt("incidents", JSONF, [("filter-lang", "cql2-json")]))


def utm():
    u = filt("incidents", "S_INTERSECTS(geometry, BBOX(%s))" % CFG["boxutm"],
             [("filter-crs", "http://www.opengis.net/def/crs/EPSG/0/32636")])
    c = filt("incidents", "S_INTERSECTS(geometry, BBOX(35.05, 32.05, 35.25, 32.25))")
    if u != c or not u[1]:
        raise AssertionError("UTM %s, CRS84 %s" % (u, c))


report("filter-crs UTM 36N: the same on both, and what CRS84 selects", utm)

SORTS = [
    ("incidents", "-severity,title", "id > 0"),
    ("incidents", "title", "title IS NOT NULL"),
    ("incidents", "-title", "severity >= 1 OR severity IS NULL"),
    ("incidents", "-occurred_at,+id", "id > 0"),
    ("incidents", "valid_to,-valid_from,-id", "id > 0"),
    ("incidents", "+category,-severity", "category IS NOT NULL"),
    ("zones", "-altitude_floor_m,title", "id > 0"),
]
for coll, s, f in SORTS:
    def sorted_case(coll=coll, s=s, f=f):
        whole = filt(coll, f, [("sortby", s)])
        part = filt(coll, f, [("sortby", s), ("limit", "3"), ("offset", "2")])
        if part[2] != whole[2][2:5]:
            raise AssertionError("page %s of %s" % (part, whole))
    report("%s: sortby=%s (filter %s): the same order on both, as A and as B, paged" % (coll, s, f),
           sorted_case)


def byte_order():
    _, j = same("B", "incidents", [("sortby", "title"), ("filter", "category = 'shelling'")])
    t = [f["properties"]["title"] for f in j["features"]]
    want = sorted(t, key=lambda x: x.encode())
    if t != want or t.index("Zulu") > t.index("apple 50% off_x") or \
            t.index("\u00c9CLAT") > t.index("\u00e9clat"):
        raise AssertionError(t)


report("sortby=title is byte order on both (Zulu before apple, \u00c9 before \u00e9)", byte_order)

BAD = [
    ("syntax", [("filter", "severity >= ")]),
    ("unknown property", [("filter", "colour = 'red'")]),
    ("type", [("filter", "severity = 'high'")]),
    ("function", [("filter", "S_CROSSES(geometry, POINT(1 2))")]),
    ("bbox", [("filter", "S_INTERSECTS(geometry, BBOX(36, 32, 35, 33))")]),
    ("JSON", [("filter", '{"op":"=","args":[{"property":"colour"},1]}'), ("filter-lang", "cql2-json")]),
    ("filter-lang", [("filter", "severity = 1"), ("filter-lang", "sql")]),
    ("filter-crs", [("filter", "S_INTERSECTS(geometry, POINT(1e9 1e9))"),
                    ("filter-crs", "http://www.opengis.net/def/crs/EPSG/0/32636")]),
    ("sortby geometry", [("sortby", "geometry")]),
    ("sortby unknown", [("sortby", "-title; DROP TABLE items")]),
]
for what, params in BAD:
    def bad_case(params=params):
        b, j = same("B", "incidents", params)
        if b[0] != 400 or j.get("status") != 400 or not b[1]:
            raise AssertionError(b)
    report("bad input (%s): the same 400 problem on both" % what, bad_case)
print("nonempty\t%d" % NONEMPTY[0])

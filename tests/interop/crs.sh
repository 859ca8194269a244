#!/usr/bin/env bash
# OGC API - Features Part 2 (issue 22): crs= and bbox-crs= for CRS84,
# EPSG:4326 and EPSG:3857, with Content-Crs; the server's Web Mercator
# compared with PROJ's (ogr2ogr -t_srs EPSG:3857 of the CRS84 answer, and
# gdaltransform for the bbox), GDAL reading the answers; another party's
# draft never seen through any CRS; bad CRSs a 400 that changes nothing.
. "$(dirname "$0")/../lib.sh"
fm_start --demo
TA=$(fm_token liaison-a)
TB=$(fm_token liaison-b)
A=(-H "Authorization: Bearer $TA")
B=(-H "Authorization: Bearer $TB")
JSON=(-H 'Content-Type: application/geo+json')
GB="liaison-b:$TB"
CRS84=http://www.opengis.net/def/crs/OGC/1.3/CRS84
E4326=http://www.opengis.net/def/crs/EPSG/0/4326
E3857=http://www.opengis.net/def/crs/EPSG/0/3857
# A's draft at a place of its own, and a line and a polygon of B's
req POST /collections/incidents/items "${A[@]}" "${JSON[@]}" \
    -d '{"type":"Feature","geometry":{"type":"Point","coordinates":[34.6,31.6]},"properties":{"title":"A-hidden-draft","category":"other","severity":2,"status":"draft"}}' >/dev/null
DRAFT=$(jqb .id)
req POST /collections/movements/items "${B[@]}" "${JSON[@]}" \
    -d '{"type":"Feature","geometry":{"type":"LineString","coordinates":[[35.1,32.1],[35.3,32.4],[35.6,32.2]]},"properties":{"title":"B route","status":"notified"}}' >/dev/null
ROUTE=$(jqb .id)

items() { curl -s -G -D "$FM_TMP/h" "$@"; }
crs_header() { grep -i "^Content-Crs:" "$FM_TMP/h" | tr -d '\r' | cut -d' ' -f2-; }
# GDAL's GeoJSON driver reads an answer (Basic: user name and token)
gdal_get() { GDAL_HTTP_USERPWD="$GB" ogr2ogr -f GeoJSON "$FM_TMP/$1" "$2" "${@:3}" 2>>"$FM_TMP/gdal.err"; }
# max distance between the positions of the same ids in two GeoJSON files
maxdiff() {
    python3 - "$FM_TMP/$1" "$FM_TMP/$2" <<'PY'
import json, sys
def pos(path):
    out = {}
    for f in json.load(open(path))["features"]:
        key = f["properties"].get("fm_id", f.get("id"))
        flat = []
        def walk(c):
            if isinstance(c[0], (int, float)): flat.append(c[:2])
            else: [walk(x) for x in c]
        walk(f["geometry"]["coordinates"])
        out[key] = flat
    return out
a, b = pos(sys.argv[1]), pos(sys.argv[2])
if sorted(a) != sorted(b) or not a:
    print("ids differ", sorted(a)[:5], sorted(b)[:5]); sys.exit(1)
print(max(abs(p[i] - q[i]) for k in a for p, q in zip(a[k], b[k]) for i in (0, 1)))
PY
}

UTM=http://www.opengis.net/def/crs/EPSG/0/326
check "/conformance declares Part 2 crs; an items collection and the conflicts list their CRSs (CRS84, 4326, 3857, 120 UTM zones) and storageCrs" \
    'curl -s "$FM_URL/conformance" | jq -e "[.conformsTo[]] | index(\"http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs\")" >/dev/null &&
     [ "$(curl -s "${B[@]}" "$FM_URL/collections/incidents" | jq -c "[.crs[0:3], (.crs | length), (.crs | index(\"${UTM}36\") > 0), (.crs | index(\"http://www.opengis.net/def/crs/EPSG/0/32760\") > 0), .storageCrs]")" = "[[\"$CRS84\",\"$E4326\",\"$E3857\"],123,true,true,\"$CRS84\"]" ] &&
     [ "$(curl -s "${B[@]}" "$FM_URL/collections/conflicts" | jq -c "[.crs[0:3], (.crs | length), .storageCrs]")" = "[[\"$CRS84\",\"$E4326\",\"$E3857\"],123,\"$CRS84\"]" ]'
check "/collections lists the CRSs once (crs) and each items collection refers to it with #/crs" \
    'curl -s "${B[@]}" "$FM_URL/collections" >"$FM_TMP/colls" &&
     [ "$(jq -c "[(.crs | length), ([.collections[] | select(.id == \"zones\" or .id == \"incidents-points\" or .id == \"conflicts\" or .id == \"conflicts-areas\") | .crs[0]])]" "$FM_TMP/colls")" = "[123,[\"#/crs\",\"#/crs\",\"#/crs\",\"#/crs\"]]" ]'
check "items answer Content-Crs: CRS84 by default, the crs asked for otherwise" \
    'items "${B[@]}" "$FM_URL/collections/zones/items" -o /dev/null && [ "$(crs_header)" = "<$CRS84>" ] &&
     items "${B[@]}" "$FM_URL/collections/zones/items" --data-urlencode "crs=$E3857" -o /dev/null && [ "$(crs_header)" = "<$E3857>" ] &&
     items "${B[@]}" "$FM_URL/collections/zones/items" --data-urlencode "crs=[EPSG:4326]" -o /dev/null && [ "$(crs_header)" = "<$E4326>" ]'
for c in incidents movements zones conflicts; do
    check "$c in EPSG:3857 match PROJ's transform of the CRS84 answer within 1 cm (ogr2ogr)" \
        'd=none; gdal_get "$c-84.json" "$FM_URL/collections/$c/items?limit=10000" -t_srs EPSG:3857 &&
         gdal_get "$c-3857.json" "$FM_URL/collections/$c/items?limit=10000&crs=$E3857" -a_srs EPSG:3857 &&
         d=$(maxdiff "$c-84.json" "$c-3857.json") && python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 0.01 else 1)" "$d" ||
         { echo "max difference: $d"; tail -3 "$FM_TMP/gdal.err"; false; }'
done
# ---- UTM zones through PROJ ---------------------------------------------------------
E32636=${UTM}36
for c in incidents movements zones conflicts; do
    check "$c in EPSG:32636 (UTM 36N) match PROJ's transform of the CRS84 answer within 1 cm (ogr2ogr)" \
        'd=none; gdal_get "$c-84u.json" "$FM_URL/collections/$c/items?limit=10000" -t_srs EPSG:32636 &&
         gdal_get "$c-utm.json" "$FM_URL/collections/$c/items?limit=10000&crs=$E32636" -a_srs EPSG:32636 &&
         d=$(maxdiff "$c-84u.json" "$c-utm.json") && python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 0.01 else 1)" "$d" ||
         { echo "max difference: $d"; tail -3 "$FM_TMP/gdal.err"; false; }'
done
check "one item in UTM 37N and 36S: Content-Crs says so, PROJ (gdaltransform) agrees within 1 cm" \
    '( for code in 32637 32736; do
         items "${B[@]}" "$FM_URL/collections/movements/items/$ROUTE" --data-urlencode "crs=EPSG:$code" -o "$FM_TMP/one$code" &&
         [ "$(crs_header)" = "<http://www.opengis.net/def/crs/EPSG/0/$code>" ] &&
         want=$(printf "35.1 32.1\n35.3 32.4\n35.6 32.2\n" | gdaltransform -s_srs OGC:CRS84 -t_srs EPSG:$code -output_xy) &&
         python3 -c "
import json, sys
got = json.load(open(sys.argv[1]))[\"geometry\"][\"coordinates\"]
want = [list(map(float, l.split())) for l in sys.argv[2].splitlines()]
d = max(abs(a - b) for p, q in zip(got, want) for a, b in zip(p, q))
sys.exit(0 if len(got) == 3 and d < 0.01 else 1)" "$FM_TMP/one$code" "$want" || exit 1
     done )'
check "EPSG:4326 puts the latitude first: the same numbers as CRS84, swapped" \
    '[ "$(items "${B[@]}" "$FM_URL/collections/movements/items/$ROUTE" --data-urlencode "crs=$E4326" | jq -c .geometry.coordinates)" = "[[32.1,35.1],[32.4,35.3],[32.2,35.6]]" ] &&
     [ "$(crs_header)" = "<$E4326>" ]'
check "one item in EPSG:3857 is the same as in the items answer, with Content-Crs" \
    'one=$(items "${B[@]}" "$FM_URL/collections/movements/items/$ROUTE" --data-urlencode "crs=$E3857" | jq -c .geometry.coordinates) && [ "$(crs_header)" = "<$E3857>" ] &&
     [ "$one" = "$(curl -s -G "${B[@]}" "$FM_URL/collections/movements/items" --data-urlencode "crs=$E3857" --data-urlencode limit=10000 | jq -c ".features[] | select(.id == $ROUTE) | .geometry.coordinates")" ] &&
     echo "$one" | grep -q "^\[\[3907314.127,3776444.351\]"'
check "the next link keeps crs (GDAL follows it)" \
    'items "${B[@]}" "$FM_URL/collections/incidents/items" --data-urlencode "crs=$E3857" --data-urlencode limit=1 -o "$FM_TMP/p1" &&
     jq -r ".links[] | select(.rel == \"next\") | .href" "$FM_TMP/p1" | grep -q "crs=http"'
# a box around the route's first position (and nothing else of B's), in each CRS
BOX84="35.09,32.09,35.11,32.11"
BOX3857=$(printf "35.09 32.09\n35.11 32.11\n" | gdaltransform -s_srs OGC:CRS84 -t_srs EPSG:3857 -output_xy | paste -sd' ' | tr ' ' ,)
ids_in() { curl -s -G "$@" --data-urlencode limit=10000 | jq -c "[.features[].id] | sort"; }
check "bbox-crs=EPSG:3857 (PROJ's metres) and EPSG:4326 (latitude first) select what the CRS84 bbox does" \
    'want=$(ids_in "${B[@]}" "$FM_URL/collections/movements/items" --data-urlencode "bbox=$BOX84") && [ "$want" != "[]" ] &&
     [ "$(ids_in "${B[@]}" "$FM_URL/collections/movements/items" --data-urlencode "bbox=$BOX3857" --data-urlencode "bbox-crs=$E3857")" = "$want" ] &&
     [ "$(ids_in "${B[@]}" "$FM_URL/collections/movements/items" --data-urlencode "bbox=32.09,35.09,32.11,35.11" --data-urlencode "bbox-crs=$E4326")" = "$want" ]'
BOXUTM=$(printf "35.09 32.09\n35.11 32.11\n" | gdaltransform -s_srs OGC:CRS84 -t_srs EPSG:32636 -output_xy | paste -sd' ' | tr ' ' ,)
check "bbox-crs=UTM 36N (metres) selects what the CRS84 bbox does" \
    'want=$(ids_in "${B[@]}" "$FM_URL/collections/movements/items" --data-urlencode "bbox=$BOX84") && [ "$want" != "[]" ] &&
     [ "$(ids_in "${B[@]}" "$FM_URL/collections/movements/items" --data-urlencode "bbox=$BOXUTM" --data-urlencode "bbox-crs=$E32636")" = "$want" ]'
check "filter-crs: S_INTERSECTS with a BBOX in UTM 36N (CQL2 text and JSON), and a BBOX in EPSG:4326, select what CRS84 does" \
    'want=$(ids_in "${B[@]}" "$FM_URL/collections/movements/items" --data-urlencode "bbox=$BOX84") && [ "$want" != "[]" ] &&
     [ "$(ids_in "${B[@]}" "$FM_URL/collections/movements/items" --data-urlencode "filter=S_INTERSECTS(geometry,BBOX($BOXUTM))" --data-urlencode "filter-crs=$E32636")" = "$want" ] &&
     [ "$(ids_in "${B[@]}" "$FM_URL/collections/movements/items" --data-urlencode "filter-lang=cql2-json" --data-urlencode "filter-crs=EPSG:32636" \
          --data-urlencode "filter={\"op\":\"s_intersects\",\"args\":[{\"property\":\"geometry\"},{\"bbox\":[$BOXUTM]}]}")" = "$want" ] &&
     [ "$(ids_in "${B[@]}" "$FM_URL/collections/movements/items" --data-urlencode "filter=S_INTERSECTS(geometry,BBOX(32.09,35.09,32.11,35.11))" --data-urlencode "filter-crs=$E4326")" = "$want" ] &&
     [ "$(ids_in "${B[@]}" "$FM_URL/collections/movements/items" --data-urlencode "filter=S_DISJOINT(geometry,BBOX($BOXUTM))" --data-urlencode "filter-crs=$E32636")" != "$want" ]'
# the conflicts (issue 22): a box in UTM 36N and in EPSG:3857 around the
# first conflict's first position selects what the CRS84 box does; one
# conflict in UTM 36N is the items answer's, with Content-Crs
C1=$(curl -s "${B[@]}" "$FM_URL/collections/conflicts/items?limit=1" | jq -c "[.features[0].id, ([.features[0].geometry.coordinates | .. | numbers] | .[0:2])]")
CID=$(echo "$C1" | jq .[0]); CX=$(echo "$C1" | jq .[1][0]); CY=$(echo "$C1" | jq .[1][1])
CBOX84=$(python3 -c "import sys; x, y = map(float, sys.argv[1:]); print('%.6f,%.6f,%.6f,%.6f' % (x - 0.01, y - 0.01, x + 0.01, y + 0.01))" "$CX" "$CY")
box_in() { echo "$CBOX84" | tr , ' ' | xargs -n2 | gdaltransform -s_srs OGC:CRS84 -t_srs "$1" -output_xy | paste -sd' ' | tr ' ' ,; }
check "conflicts: bbox-crs=UTM 36N and EPSG:3857 select what the CRS84 bbox does, with Content-Crs of crs" \
    'want=$(ids_in "${B[@]}" "$FM_URL/collections/conflicts/items" --data-urlencode "bbox=$CBOX84") && echo "$want" | grep -q "$CID" &&
     [ "$(ids_in "${B[@]}" "$FM_URL/collections/conflicts/items" --data-urlencode "bbox=$(box_in EPSG:32636)" --data-urlencode "bbox-crs=$E32636")" = "$want" ] &&
     [ "$(ids_in "${B[@]}" "$FM_URL/collections/conflicts/items" --data-urlencode "bbox=$(box_in EPSG:3857)" --data-urlencode "bbox-crs=EPSG:3857")" = "$want" ] &&
     items "${B[@]}" "$FM_URL/collections/conflicts/items" --data-urlencode "crs=$E32636" --data-urlencode limit=1 -o "$FM_TMP/c1" && [ "$(crs_header)" = "<$E32636>" ] &&
     jq -r ".links[] | select(.rel == \"next\") | .href" "$FM_TMP/c1" | grep -q "crs=http"'
check "one conflict (and in its view) in UTM 36N: Content-Crs says so, the same positions as the items answer" \
    'one=$(items "${B[@]}" "$FM_URL/collections/conflicts/items/$CID" --data-urlencode "crs=$E32636" | jq -c .geometry.coordinates) && [ "$(crs_header)" = "<$E32636>" ] &&
     [ "$one" = "$(curl -s -G "${B[@]}" "$FM_URL/collections/conflicts/items" --data-urlencode "crs=$E32636" --data-urlencode limit=10000 | jq -c ".features[] | select(.id == $CID) | .geometry.coordinates")" ] &&
     [ "$one" != "$(curl -s "${B[@]}" "$FM_URL/collections/conflicts/items/$CID" | jq -c .geometry.coordinates)" ] &&
     view=$(curl -s "${B[@]}" "$FM_URL/collections/conflicts/items/$CID" | jq -r ".geometry.type | if test(\"Point\") then \"points\" elif test(\"Line\") then \"lines\" else \"areas\" end") &&
     [ "$(items "${B[@]}" "$FM_URL/collections/conflicts-$view/items/$CID" --data-urlencode "crs=$E32636" | jq -c .geometry.coordinates)" = "$one" ]'
check "GDAL (OGCAPI driver) still reads every layer with the CRS lists in /collections" \
    'GDAL_HTTP_USERPWD="$GB" ogrinfo -ro -so "OAPIF:$FM_URL" incidents 2>&1 | grep -q "Feature Count: $(curl -s "${B[@]}" "$FM_URL/collections/incidents/items?limit=1" | jq .numberMatched)"'
# ---- visibility ----------------------------------------------------------------
DBOX=$(printf "34.59 31.59\n34.61 31.61\n" | gdaltransform -s_srs OGC:CRS84 -t_srs EPSG:3857 -output_xy | paste -sd' ' | tr ' ' ,)
check "B never sees A's draft in another CRS: not counted, not in a box around it, not by id; A does" \
    'n84=$(curl -s "${B[@]}" "$FM_URL/collections/incidents/items?limit=1" | jq .numberMatched) &&
     items "${B[@]}" "$FM_URL/collections/incidents/items" --data-urlencode "crs=$E3857" --data-urlencode limit=10000 -o "$FM_TMP/b3857" &&
     [ "$(jq .numberMatched "$FM_TMP/b3857")" = "$n84" ] && ! grep -q A-hidden-draft "$FM_TMP/b3857" &&
     [ "$(curl -s -G "${B[@]}" "$FM_URL/collections/incidents/items" --data-urlencode "bbox=$DBOX" --data-urlencode "bbox-crs=$E3857" --data-urlencode "crs=$E3857" | jq .numberMatched)" = 0 ] &&
     [ "$(curl -s -G "${B[@]}" "$FM_URL/collections/incidents/items" --data-urlencode "bbox=31.59,34.59,31.61,34.61" --data-urlencode "bbox-crs=$E4326" | jq .numberMatched)" = 0 ] &&
     [ "$(req GET "/collections/incidents/items/$DRAFT?crs=$E3857" "${B[@]}")" = 404 ] &&
     [ "$(curl -s -G "${A[@]}" "$FM_URL/collections/incidents/items" --data-urlencode "bbox=$DBOX" --data-urlencode "bbox-crs=$E3857" | jq .numberMatched)" = 1 ]'
# ---- exports in a CRS ------------------------------------------------------------
# an export as GeoJSON in its own coordinates (GDAL), for maxdiff
native() { ogr2ogr -f GeoJSON -lco RFC7946=NO "$FM_TMP/$2" "$FM_TMP/$1" 2>>"$FM_TMP/gdal.err"; }
# close_to A B: the same ids with the same positions within 1 cm, in any
# order (a Shapefile turns rings clockwise)
close_to() {
    python3 - "$FM_TMP/$1" "$FM_TMP/$2" <<'PY'
import json, sys
def pos(path):
    out = {}
    for f in json.load(open(path))["features"]:
        key = str(f["properties"].get("fm_id", f.get("id")))
        flat = []
        def walk(c):
            if isinstance(c[0], (int, float)): flat.append(tuple(c[:2]))
            else: [walk(x) for x in c]
        walk(f["geometry"]["coordinates"])
        out[key] = sorted(flat)
    return out
a, b = pos(sys.argv[1]), pos(sys.argv[2])
if sorted(a) != sorted(b) or not a or any(len(a[k]) != len(b[k]) for k in a):
    print("ids or sizes differ", sorted(a)[:5], sorted(b)[:5]); sys.exit(1)
d = max(abs(p[i] - q[i]) for k in a for p, q in zip(a[k], b[k]) for i in (0, 1))
print("max difference:", d) if d >= 0.01 else None
sys.exit(0 if d < 0.01 else 1)
PY
}
check "a GeoPackage export with crs=UTM 36N is in EPSG:32636 and matches PROJ's transform within 1 cm" \
    'curl -sf "${B[@]}" "$FM_URL/collections/movements/items?f=gpkg&crs=$E32636" -o "$FM_TMP/m.gpkg" &&
     ogrinfo -so "$FM_TMP/m.gpkg" movements | grep -q "UTM zone 36N" &&
     gdal_get m-84u.json "$FM_URL/collections/movements/items?limit=10000" -t_srs EPSG:32636 &&
     native m.gpkg m-gpkg.json && close_to m-84u.json m-gpkg.json'
check "a zipped Shapefile export of zones in UTM 36N and a CSV of incidents in EPSG:3857 likewise" \
    'curl -sf "${B[@]}" "$FM_URL/collections/zones/items?f=shp&crs=EPSG:32636" -o "$FM_TMP/z.zip" &&
     ogrinfo -so "/vsizip/$FM_TMP/z.zip" zones | grep -q "UTM zone 36N" &&
     gdal_get z-84u.json "$FM_URL/collections/zones/items?limit=10000" -t_srs EPSG:32636 &&
     ogr2ogr -f GeoJSON -lco RFC7946=NO "$FM_TMP/z-shp.json" "/vsizip/$FM_TMP/z.zip" 2>>"$FM_TMP/gdal.err" && close_to z-84u.json z-shp.json &&
     curl -sf "${B[@]}" "$FM_URL/collections/incidents/items?f=csv&crs=$E3857" -o "$FM_TMP/i.csv" &&
     ogr2ogr -f GeoJSON -oo GEOM_POSSIBLE_NAMES=WKT "$FM_TMP/i-csv.json" "$FM_TMP/i.csv" 2>>"$FM_TMP/gdal.err" &&
     gdal_get i-84m.json "$FM_URL/collections/incidents/items?limit=10000" -t_srs EPSG:3857 && close_to i-84m.json i-csv.json'
check "only data/ includes proj.h (STYLE): server/ reaches PROJ's UTM zones through data/geom.h" \
    '! grep -rln "include <proj.h>" "$FM_SOURCE_DIR"/server "$FM_SOURCE_DIR"/tiles "$FM_SOURCE_DIR"/common &&
     grep -q "geo_utm_xy" "$FM_SOURCE_DIR"/server/ogc_crs.c'
# ---- bad input -------------------------------------------------------------------
check "an unknown crs is a 400 problem naming crs and the CRSs offered" \
    '[ "$(req GET "/collections/incidents/items?crs=http://www.opengis.net/def/crs/EPSG/0/9999" "${B[@]}")" = 400 ] && is_problem 400 &&
     [ "$(jqb .parameter)" = crs ] && jqb .detail | grep -q "EPSG/0/3857" &&
     [ "$(req GET "/collections/incidents/items/$ROUTE?crs=EPSG:2039" "${B[@]}")" = 400 ] && is_problem 400'
check "bad UTM: zone 61, 32600, a bbox outside the zone, filter-crs unknown or a position outside: 400 naming the parameter" \
    '[ "$(req GET "/collections/incidents/items?crs=EPSG:32661" "${B[@]}")" = 400 ] && [ "$(jqb .parameter)" = crs ] &&
     [ "$(req GET "/collections/incidents/items?crs=EPSG:32600" "${B[@]}")" = 400 ] && is_problem 400 &&
     [ "$(req GET "/collections/incidents/items?bbox=0,0,1e12,1e12&bbox-crs=EPSG:32636" "${B[@]}")" = 400 ] && [ "$(jqb .parameter)" = bbox ] &&
     [ "$(req GET "/collections/incidents/items?filter=S_INTERSECTS(geometry,POINT(1%202))&filter-crs=EPSG:9999" "${B[@]}")" = 400 ] && [ "$(jqb .parameter)" = filter-crs ] &&
     [ "$(req GET "/collections/incidents/items?filter=S_INTERSECTS(geometry,POINT(1e12%201e12))&filter-crs=EPSG:32636" "${B[@]}")" = 400 ] && [ "$(jqb .parameter)" = filter ]'
check "a bbox outside EPSG:3857, upside down, or of 6 numbers in it: 400 naming bbox" \
    '[ "$(req GET "/collections/incidents/items?bbox=0,0,30000000,1&bbox-crs=EPSG:3857" "${B[@]}")" = 400 ] && [ "$(jqb .parameter)" = bbox ] &&
     [ "$(req GET "/collections/incidents/items?bbox=10,10,0,0&bbox-crs=EPSG:3857" "${B[@]}")" = 400 ] && is_problem 400 &&
     [ "$(req GET "/collections/incidents/items?bbox=0,0,0,1,1,1&bbox-crs=EPSG:3857" "${B[@]}")" = 400 ] && is_problem 400 &&
     [ "$(req GET "/collections/incidents/items?bbox-crs=EPSG:9" "${B[@]}")" = 400 ] && [ "$(jqb .parameter)" = bbox-crs ]'
check "crs on KML and GPX exports, a bad crs or bbox-crs on the conflicts: 400 naming it; nothing changed" \
    'n=$(curl -s "${B[@]}" "$FM_URL/collections/incidents/items?limit=1" | jq .numberMatched) &&
     [ "$(req GET "/collections/incidents/items?f=kml&crs=EPSG:3857" "${B[@]}")" = 400 ] && is_problem 400 && [ "$(jqb .parameter)" = crs ] &&
     [ "$(req GET "/collections/movements/items?f=gpx&crs=EPSG:32636" "${B[@]}")" = 400 ] && is_problem 400 &&
     [ "$(req GET "/collections/conflicts/items?crs=EPSG:2039" "${B[@]}")" = 400 ] && is_problem 400 && [ "$(jqb .parameter)" = crs ] &&
     [ "$(req GET "/collections/conflicts/items?bbox=0,0,1e12,1e12&bbox-crs=EPSG:32636" "${B[@]}")" = 400 ] && [ "$(jqb .parameter)" = bbox ] &&
     [ "$(req GET "/collections/conflicts/items/1?crs=EPSG:9" "${B[@]}")" = 400 ] && [ "$(jqb .parameter)" = crs ] &&
     [ "$(req GET "/collections/conflicts/items/1?bbox=1,2,3,4" "${B[@]}")" = 400 ] && [ "$(jqb .parameter)" = bbox ] &&
     [ "$(curl -s "${B[@]}" "$FM_URL/collections/incidents/items?limit=1" | jq .numberMatched)" = "$n" ]'
finish

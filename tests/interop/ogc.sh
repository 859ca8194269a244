#!/usr/bin/env bash
# OGC API - Features as GDAL's OGCAPI driver sees it (issue 22): views of
# one geometry type per layer for the collections that mix them, exports
# of a point movement, and extents computed from what the asking party
# may see (never from the other party's drafts); Part 3 (queryables, CQL2
# text filter, sortby, properties), and GDAL's time filters answered
# right because GDAL sends them as CQL2 instead of datetime=.
. "$(dirname "$0")/../lib.sh"
fm_start --demo
TA=$(fm_token liaison-a)
TB=$(fm_token liaison-b)
A=(-H "Authorization: Bearer $TA")
B=(-H "Authorization: Bearer $TB")
JSON=(-H 'Content-Type: application/geo+json')
# GDAL sends HTTP Basic with the user name and a token (issue 22, QGIS 3.22)
gdal_as() { GDAL_HTTP_USERPWD="$1" "${@:2}"; }
GA="liaison-a:$TA"
GB="liaison-b:$TB"
OAPIF="OAPIF:$FM_URL"

# a movement that is a point (an observed position), among the routes
req POST /collections/movements/items "${A[@]}" "${JSON[@]}" \
    -d '{"type":"Feature","geometry":{"type":"Point","coordinates":[35.3,32.3]},"properties":{"title":"observed","status":"notified"}}' >/dev/null
POINT_MOV=$(jqb .id)
# A's drafts far away from everything, starting long ago: a zone and an
# incident inside it (which opens a conflict only A may see)
req POST /collections/zones/items "${A[@]}" "${JSON[@]}" \
    -d '{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[10,50],[10.2,50],[10.2,50.2],[10,50.2],[10,50]]]},"properties":{"title":"far draft","status":"draft","valid_from":"2001-01-01T00:00:00Z"}}' >/dev/null
req POST /collections/incidents/items "${A[@]}" "${JSON[@]}" \
    -d '{"type":"Feature","geometry":{"type":"Point","coordinates":[10.1,50.1]},"properties":{"title":"far draft incident","status":"draft","category":"other","severity":2}}' >/dev/null

count() { curl -s "$1" "$2" "$FM_URL/collections/$3/items?limit=1" | jq '.numberMatched // -1'; }

# ---- one geometry type per layer ---------------------------------------------
check "GDAL (OGCAPI driver) lists the views, each with one geometry type" \
    'gdal_as "$GB" ogrinfo -ro -q "$OAPIF" >"$FM_TMP/layers" 2>&1 &&
     grep -q "movements-points.*(Point)" "$FM_TMP/layers" && grep -q "movements-lines.*(Line String)" "$FM_TMP/layers" &&
     grep -q "conflicts-points.*(Point)" "$FM_TMP/layers" && grep -q "conflicts-areas.*(Polygon)" "$FM_TMP/layers" &&
     grep -q "incidents-points.*(Point)" "$FM_TMP/layers" || { cat "$FM_TMP/layers"; false; }'
check "the movements' views split them: points + lines = all, and GDAL counts each" \
    'p=$(count "${B[@]}" movements-points) && l=$(count "${B[@]}" movements-lines) && m=$(count "${B[@]}" movements) &&
     [ "$p" -ge 1 ] && [ "$l" -ge 1 ] && [ $((p + l)) = "$m" ] &&
     gdal_as "$GB" ogrinfo -ro -so "$OAPIF" movements-points | grep -q "Feature Count: $p" &&
     gdal_as "$GB" ogrinfo -ro -so "$OAPIF" movements-points | grep -q "^Geometry: Point"'
check "every conflict is in one view (points + lines + areas = all)" \
    'ok=1; for who in A B; do [ $who = A ] && H=("${A[@]}") || H=("${B[@]}");
         s=0; for v in points lines areas; do s=$((s + $(count "${H[@]}" conflicts-$v))); done;
         [ "$s" = "$(count "${H[@]}" conflicts)" ] || ok=0; done; [ $ok = 1 ]'
check "ogr2ogr copies movements-points into a GeoPackage of Points" \
    'gdal_as "$GB" ogr2ogr -f GPKG "$FM_TMP/mp.gpkg" "$OAPIF" movements-points 2>"$FM_TMP/ogr.err" &&
     ogrinfo -ro -so "$FM_TMP/mp.gpkg" movements-points | grep -q "^Geometry: Point" &&
     ogrinfo -ro -so "$FM_TMP/mp.gpkg" movements-points | grep -q "Feature Count: $(count "${B[@]}" movements-points)"'
check "a view is read only: POST answers 405 naming the collection to write to" \
    '[ "$(req POST /collections/movements-points/items "${A[@]}" "${JSON[@]}" -d "{}")" = 405 ] && is_problem 405 &&
     jqb .detail | grep -q "/collections/movements"'
check "an item of another geometry type is not in a view (404), its own is" \
    '[ "$(req GET "/collections/movements-lines/items/$POINT_MOV" "${B[@]}")" = 404 ] && is_problem 404 &&
     [ "$(req GET "/collections/movements-points/items/$POINT_MOV" "${B[@]}")" = 200 ]'
check "a view filters like its collection: bbox on movements-points" \
    '[ "$(req GET "/collections/movements-points/items?bbox=35.29,32.29,35.31,32.31" "${B[@]}")" = 200 ] && [ "$(jqb .numberMatched)" = 1 ]'

# ---- exports of a point movement ---------------------------------------------
check "f=gpx of movements with a point movement: 200, a waypoint and routes GDAL reads" \
    '[ "$(req GET "/collections/movements/items?f=gpx" "${B[@]}")" = 200 ] && cp "$FM_TMP/body" "$FM_TMP/m.gpx" &&
     ogrinfo -ro -so "$FM_TMP/m.gpx" waypoints | grep -q "Feature Count: 1" &&
     ogrinfo -ro -so "$FM_TMP/m.gpx" routes | grep -q "Feature Count: $(count "${B[@]}" movements-lines)"'
check "f=shp of the mixed movements is a clear 400 pointing to the views" \
    '[ "$(req GET "/collections/movements/items?f=shp" "${B[@]}")" = 400 ] && is_problem 400 && jqb .detail | grep -q "movements-points"'
check "f=shp of movements-points is a Shapefile of points" \
    '[ "$(req GET "/collections/movements-points/items?f=shp" "${B[@]}")" = 200 ] && cp "$FM_TMP/body" "$FM_TMP/mp.shp.zip" &&
     ogrinfo -ro -so "/vsizip/$FM_TMP/mp.shp.zip" | grep -q "Point"'

# ---- extents from what the asker may see ---------------------------------------
bbox_of() { curl -s "$1" "$2" "$FM_URL/collections/$3" | jq -c '.extent.spatial.bbox[0]'; }
check "zones' extent is the data's, not the world" \
    'b=$(bbox_of "${B[@]}" zones) && echo "$b" | jq -e ".[0] > 30 and .[2] < 40 and .[1] > 28 and .[3] < 36" >/dev/null'
check "B's zones extent does not reach A's far draft; A's does" \
    'bbox_of "${B[@]}" zones | jq -e ".[0] > 30" >/dev/null && bbox_of "${A[@]}" zones | jq -e ".[0] <= 10" >/dev/null'
check "B's temporal extent of zones does not start at A's draft's 2001" \
    'curl -s "${B[@]}" "$FM_URL/collections/zones" | jq -r ".extent.temporal.interval[0][0]" | grep -qv "^2001" &&
     curl -s "${A[@]}" "$FM_URL/collections/zones" | jq -r ".extent.temporal.interval[0][0]" | grep -q "^2001"'
check "B's conflicts extent does not reach the conflict of A's drafts; A's does" \
    'bbox_of "${A[@]}" conflicts | jq -e ".[0] <= 10.1" >/dev/null && bbox_of "${B[@]}" conflicts | jq -e ".[0] > 30" >/dev/null &&
     bbox_of "${B[@]}" conflicts-points | jq -e ".[0] > 30" >/dev/null'
check "GDAL reports B's extent of zones (not the world, not A's draft)" \
    'gdal_as "$GB" ogrinfo -ro -so "$OAPIF" zones | grep "^Extent" | grep -qv "(-180\|(10\."'
check "a view where B sees nothing has no extent (A's draft incident is A's alone)" \
    'curl -s "${B[@]}" "$FM_URL/collections/incidents-areas" | jq -e "has(\"extent\") | not" >/dev/null'
# ---- Part 3: queryables, filter, sortby, properties --------------------------
# incidents whose occurrence and validity differ: occurred before the
# cut-off but valid long after it (GDAL's datetime= mapping counted them)
CUT=2026-01-10T00:00:00Z
for i in 1 2 3 4 5 6; do
    if [ $i -le 4 ]; then occ=2026-01-0${i}T12:00:00Z; else occ=2026-01-2${i}T12:00:00Z; fi
    req POST /collections/incidents/items "${B[@]}" "${JSON[@]}" \
        -d "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[35.$i,32.$i]},\"properties\":{\"title\":\"timed $i\",\"category\":\"explosion\",\"severity\":$(( (i % 5) + 1 )),\"occurred_at\":\"$occ\",\"valid_from\":\"2026-01-01T00:00:00Z\",\"status\":\"reported\"}}" >/dev/null
done
# A's draft incident that a filter on B's side must never reveal
req POST /collections/incidents/items "${A[@]}" "${JSON[@]}" \
    -d '{"type":"Feature","geometry":{"type":"Point","coordinates":[35.5,32.5]},"properties":{"title":"A-hidden-draft","category":"explosion","severity":5,"occurred_at":"2026-01-25T00:00:00Z","status":"draft"}}' >/dev/null
# items FILTER [more curl args] as B: the whole answer in $FM_TMP/body
fq() { local c=$1 f=$2; shift 2; curl -s -G -o "$FM_TMP/body" -D "$FM_TMP/headers" -w '%{http_code}' "${B[@]}" "$FM_URL/collections/$c/items" --data-urlencode "filter=$f" --data-urlencode limit=10000 "$@"; }
ALLI="$FM_TMP/all-incidents.json"
curl -s "${B[@]}" "$FM_URL/collections/incidents/items?limit=10000" >"$ALLI"
# the same selection computed by jq over every incident B may see
expect() { jq "[.features[] | select($1)] | length" "$ALLI"; }

check "GET /collections/incidents/queryables is a JSON Schema naming the queryables" \
    '[ "$(req GET /collections/incidents/queryables "${B[@]}")" = 200 ] && header Content-Type | grep -q "^application/schema+json" &&
     jqb ".properties.occurred_at.format, .properties.severity.type, .properties.geometry.format" | tr "\n" " " | grep -q "date-time integer geometry-any" &&
     jqb "[.queryables[].id] | index(\"category\")" | grep -q "[0-9]"'
check "the collection links its queryables; /conformance lists filter and cql2-text" \
    'curl -s "${B[@]}" "$FM_URL/collections/incidents" | jq -e "[.links[].rel] | index(\"http://www.opengis.net/def/rel/ogc/1.0/queryables\")" >/dev/null &&
     curl -s "$FM_URL/conformance" | jq -e "[.conformsTo[]] | (index(\"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter\") and index(\"http://www.opengis.net/spec/cql2/1.0/conf/cql2-text\"))" >/dev/null'
check "filter: comparison, AND/OR/NOT match what jq finds in the same items" \
    '[ "$(fq incidents "severity >= 3 AND NOT (category = '\''explosion'\'' OR severity = 5)")" = 200 ] &&
     [ "$(jqb .numberMatched)" = "$(expect ".properties.severity >= 3 and ((.properties.category == \"explosion\" or .properties.severity == 5) | not)")" ]'
check "filter: LIKE (case-sensitive), IN, BETWEEN" \
    '[ "$(fq incidents "title LIKE '\''timed %'\''")" = 200 ] && [ "$(jqb .numberMatched)" = 6 ] &&
     [ "$(fq incidents "title LIKE '\''TIMED %'\''")" = 200 ] && [ "$(jqb .numberMatched)" = 0 ] &&
     [ "$(fq incidents "severity IN (2, 3) OR severity BETWEEN 5 AND 5")" = 200 ] &&
     [ "$(jqb .numberMatched)" = "$(expect ".properties.severity == 2 or .properties.severity == 3 or .properties.severity == 5")" ]'
check "filter: S_INTERSECTS with a BBOX and a POLYGON" \
    '[ "$(fq incidents "S_INTERSECTS(geometry, BBOX(35.05, 32.05, 35.25, 32.25))")" = 200 ] && [ "$(jqb "[.features[].properties.title] | sort | join(\",\")")" = "timed 1,timed 2" ] &&
     [ "$(fq incidents "S_INTERSECTS(geometry, POLYGON((35.05 32.05, 35.25 32.05, 35.25 32.25, 35.05 32.25, 35.05 32.05)))")" = 200 ] && [ "$(jqb .numberMatched)" = 2 ]'
check "filter: occurred_at against a time, and T_INTERSECTS of the validity" \
    '[ "$(fq incidents "occurred_at >= '\''$CUT'\'' AND category = '\''explosion'\''")" = 200 ] && [ "$(jqb .numberMatched)" = 2 ] &&
     [ "$(fq incidents "T_INTERSECTS(INTERVAL(valid_from, valid_to), INTERVAL('\''2025-01-01'\'', '\''2025-12-31'\''))")" = 200 ] &&
     [ "$(jqb .numberMatched)" = "$(expect "(.properties.valid_from // \"0000\") <= \"2025-12-31\" and (.properties.valid_to // \"9999\") >= \"2025-01-01\"")" ]'
check "filter never reveals A's draft to B (and A finds it)" \
    '[ "$(fq incidents "title = '\''A-hidden-draft'\'' OR severity = 5")" = 200 ] && ! jq .features "$FM_TMP/body" | grep -q A-hidden-draft &&
     curl -s -G "${A[@]}" "$FM_URL/collections/incidents/items" --data-urlencode "filter=title = '\''A-hidden-draft'\''" | jq -e ".numberMatched == 1" >/dev/null'
check "an injection attempt is a value: no match, nothing changed" \
    'n=$(count "${B[@]}" incidents) && [ "$(fq incidents "title = '\''x'\'''\'' OR 1=1; DROP TABLE items; --'\''")" = 200 ] &&
     [ "$(jqb .numberMatched)" = 0 ] && [ "$(count "${B[@]}" incidents)" = "$n" ]'
check "an unknown queryable is a 400 problem naming it" \
    '[ "$(fq incidents "colour = '\''red'\''")" = 400 ] && is_problem 400 && jqb .detail | grep -q "colour is not a queryable" && [ "$(jqb .parameter)" = filter ]'
check "a syntax error is a 400 naming the position" \
    '[ "$(fq incidents "severity >= ")" = 400 ] && jqb .detail | grep -q "at character 13"'
check "filter-lang other than cql2-text or cql2-json is 400; the conflicts take no filter (400)" \
    '[ "$(fq incidents "severity = 1" --data-urlencode filter-lang=sql)" = 400 ] && is_problem 400 && [ "$(jqb .parameter)" = filter-lang ] &&
     [ "$(fq conflicts "severity = 1")" = 400 ] && [ "$(req GET /collections/conflicts/queryables "${B[@]}")" = 404 ]'
check "a filter applies to the views and to exports" \
    '[ "$(fq incidents-points "category = '\''explosion'\''")" = 200 ] && [ "$(jqb .numberMatched)" = 6 ] &&
     [ "$(fq incidents "category = '\''explosion'\''" --data-urlencode f=csv)" = 200 ] && [ "$(grep -c "timed " "$FM_TMP/body")" = 6 ]'
check "sortby=-severity,title orders the page (ids break ties)" \
    '[ "$(fq incidents "category = '\''explosion'\''" --data-urlencode "sortby=-severity,title")" = 200 ] &&
     [ "$(jqb "[.features[] | [.properties.severity, .properties.title]]")" = "$(jqb "[.features[] | [.properties.severity, .properties.title]] | sort_by(-.[0], .[1])")" ] &&
     [ "$(jqb ".features[0].properties.severity")" = 5 ]'
check "sortby on the geometry or a non-queryable is a 400" \
    '[ "$(req GET "/collections/incidents/items?sortby=geometry" "${B[@]}")" = 400 ] && is_problem 400 &&
     [ "$(req GET "/collections/incidents/items?sortby=colour" "${B[@]}")" = 400 ]'
check "properties=title,severity returns only those (f=json); with an export it is a 400" \
    '[ "$(req GET "/collections/incidents/items?properties=title,severity&limit=3" "${B[@]}")" = 200 ] &&
     [ "$(jqb "[.features[].properties | keys | join(\",\")] | unique | join(\";\")")" = "severity,title" ] &&
     [ "$(req GET "/collections/incidents/items?properties=title&f=csv" "${B[@]}")" = 400 ]'

# ---- GDAL's time filters -------------------------------------------------------
RIGHT=$(expect ".properties.occurred_at >= \"$CUT\"")
check "ogrinfo -where on occurred_at: GDAL sends it as a CQL2 filter (debug), and counts right" \
    'gdal_as "$GB" ogrinfo -ro -q --debug on "$OAPIF" incidents -where "occurred_at >= '\''$CUT'\''" >"$FM_TMP/gdal.out" 2>&1 &&
     grep -q "filter=occurred_at" "$FM_TMP/gdal.out" && ! grep -q "datetime=" "$FM_TMP/gdal.out" &&
     [ "$(grep -c "^OGRFeature" "$FM_TMP/gdal.out")" = "$RIGHT" ] && [ "$RIGHT" -ge 2 ] || { grep -E "Fetch|OAPIF" "$FM_TMP/gdal.out"; false; }'
check "ogr2ogr with the same -where copies the same count" \
    'gdal_as "$GB" ogr2ogr -f GPKG "$FM_TMP/t.gpkg" "$OAPIF" incidents -where "occurred_at >= '\''$CUT'\''" 2>/dev/null &&
     ogrinfo -ro -so "$FM_TMP/t.gpkg" incidents | grep -q "Feature Count: $RIGHT"'
# ---- Cursor-on-Target and exports ----------------------------------------------
XSD="$(cd "$(dirname "$0")" && pwd)/cot-event.xsd"
req POST /collections/zones/items "${A[@]}" "${JSON[@]}" \
    -d '{"type":"Feature","geometry":{"type":"MultiPolygon","coordinates":[[[[36.5,33.5],[36.6,33.5],[36.6,33.6],[36.5,33.5]]],[[[36.8,33.8],[36.9,33.8],[36.9,33.9],[36.8,33.8]]]]},"properties":{"title":"two parts","status":"proposed"}}' >/dev/null
MULTI=$(jqb .id)
req POST /collections/zones/items "${B[@]}" "${JSON[@]}" \
    -d '{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[36.5,31.5],[36.6,31.5],[36.6,31.6],[36.5,31.5]]]},"properties":{"title":"from next week","status":"proposed","valid_from":"2099-01-01T00:00:00Z"}}' >/dev/null
LATER=$(jqb .id)
curl -s "${B[@]}" "$FM_URL/cot" >"$FM_TMP/cot.xml"
ev() { xmllint --xpath "$1" "$FM_TMP/cot.xml" 2>/dev/null | head -c 4000; }
argb() { python3 -c "import sys; v=0xff000000|int(sys.argv[1].lstrip('#'),16); print(v-(1<<32) if v>=1<<31 else v)" "$1"; }
colour_of() { curl -s "${B[@]}" "$FM_URL/parties" | jq -r ".[] | select(.code == \"$1\") | .colour"; }
check "CoT is still valid against the CoT Event schema (xmllint)" \
    'xmllint --noout --schema "$XSD" "$FM_TMP/cot.xml" 2>"$FM_TMP/xsd.err" || { head -5 "$FM_TMP/xsd.err"; false; }'
check "a MultiPolygon zone goes whole: one shape per polygon, the second with its own uid and ring" \
    '[ "$(ev "count(/events/event[@uid=\"fusionmap-zones-$MULTI\"])" )" = 1 ] &&
     [ "$(ev "count(/events/event[@uid=\"fusionmap-zones-$MULTI-part2\"])")" = 1 ] &&
     ev "/events/event[@uid=\"fusionmap-zones-$MULTI-part2\"]/detail/link[1]/@point" | grep -q "33.8"'
check "stale is never before start (an item valid from 2099 with no end)" \
    'python3 -c "
import sys, xml.etree.ElementTree as E
bad = [e.get(\"uid\") for e in E.parse(sys.argv[1]).getroot() if e.get(\"stale\") <= e.get(\"start\")]
print(bad) if bad else None
sys.exit(1 if bad else 0)" "$FM_TMP/cot.xml" &&
     ev "string(/events/event[@uid=\"fusionmap-zones-$LATER\"]/@stale)" | grep -q "^2099-01-02"'
check "zones are drawn in their party's colour, not all red" \
    'a=$(argb "$(colour_of A)") && b=$(argb "$(colour_of B)") && [ "$a" != "$b" ] &&
     [ "$(ev "string(/events/event[@uid=\"fusionmap-zones-$MULTI\"]/detail/strokeColor/@value)")" = "$a" ] &&
     [ "$(ev "string(/events/event[@uid=\"fusionmap-zones-$LATER\"]/detail/strokeColor/@value)")" = "$b" ]'
check "incidents carry category and severity (remarks and the fusionmap element)" \
    'ev "/events/event[detail/contact/@callsign=\"timed 2\"]/detail" >"$FM_TMP/inc.xml" &&
     grep -q "<remarks>Incident: explosion, severity 3/5" "$FM_TMP/inc.xml" && grep -q "category=\"explosion\" severity=\"3\"" "$FM_TMP/inc.xml"'
check "every exported feature carries the server id (fm_id) and version: CSV, GeoPackage, KML" \
    'curl -s "${B[@]}" "$FM_URL/collections/zones/items?f=csv" >"$FM_TMP/z.csv" &&
     ids=$(curl -s "${B[@]}" "$FM_URL/collections/zones/items?limit=10000" | jq -r "[.features[] | \"\(.id):\(.properties.version)\"] | sort | join(\",\")") &&
     [ "$(python3 -c "import csv,sys; print(\",\".join(sorted(r[\"fm_id\"] + \":\" + r[\"version\"] for r in csv.DictReader(open(sys.argv[1])))))" "$FM_TMP/z.csv")" = "$ids" ] &&
     curl -s "${B[@]}" "$FM_URL/collections/zones/items?f=gpkg" >"$FM_TMP/z.gpkg" &&
     [ "$(sqlite3 "$FM_TMP/z.gpkg" "SELECT group_concat(fm_id || \":\" || version, \",\") FROM (SELECT fm_id, version FROM zones ORDER BY fm_id || \":\" || version)")" = "$ids" ] &&
     curl -s "${B[@]}" "$FM_URL/collections/zones/items?f=kml" | grep -q "<SimpleData name=\"fm_id\">$MULTI</SimpleData>"'
finish

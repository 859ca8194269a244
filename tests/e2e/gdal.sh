#!/usr/bin/env bash
# GDAL's OGC API - Features driver as the client: it lists the collections,
# pages through a collection of more than one page, and -spat returns
# exactly what SpatiaLite's Intersects finds.
. "$(dirname "$0")/../lib.sh"
fm_start --demo
TOKEN=$(fm_token liaison-a)
export GDAL_HTTP_HEADERS="Authorization: Bearer $TOKEN"
export GDAL_HTTP_TIMEOUT=20 CPL_VSIL_CURL_USE_CACHE=NO
AUTH=(-H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/geo+json')

# 40 incidents on a grid, so that a page of 7 needs several pages
for i in $(seq 0 39); do
    x=$(awk "BEGIN{printf \"%.4f\", 35.60 + ($i % 8) * 0.07}")
    y=$(awk "BEGIN{printf \"%.4f\", 32.65 + int($i / 8) * 0.13}")
    curl -sf -o /dev/null "${AUTH[@]}" -d "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[$x,$y]},\"properties\":{\"title\":\"grid $i\",\"category\":\"other\",\"severity\":$((i % 5 + 1))}}" \
        "$FM_URL/collections/incidents/items" || echo "create $i failed"
done
TOTAL=$(curl -s "${AUTH[@]}" "$FM_URL/collections/incidents/items?limit=1" | jq .numberMatched)

check "ogrinfo lists the three collections" \
    'ogrinfo -ro -q "OAPIF:$FM_URL" > "$FM_TMP/layers" 2>&1 && grep -q zones "$FM_TMP/layers" && grep -q incidents "$FM_TMP/layers" && grep -q movements "$FM_TMP/layers"'
check "ogrinfo -so gets the feature count from numberMatched ($TOTAL)" \
    'ogrinfo -ro -so "OAPIF:$FM_URL" incidents 2>&1 | grep -q "Feature Count: $TOTAL"'
check "ogr2ogr pages 7 at a time through all $TOTAL incidents" \
    'ogr2ogr -f GeoJSON "$FM_TMP/all.geojson" "OAPIF:$FM_URL" incidents -oo PAGE_SIZE=7 2>"$FM_TMP/gdal.err" &&
     [ "$(jq ".features|length" "$FM_TMP/all.geojson")" = "$TOTAL" ] &&
     [ "$(jq "[.features[].properties.title]|unique|length" "$FM_TMP/all.geojson")" = "$TOTAL" ]'
check "ogrinfo -fid reads one feature by id" \
    'ogrinfo -ro -q "OAPIF:$FM_URL" incidents -fid 5 2>&1 | grep -q "OGRFeature(incidents):5"'

# -spat against SpatiaLite's own Intersects on the same data (read-only, another process)
spatialite_ids() {
    sqlite3 -readonly "$FM_DB" ".load mod_spatialite" \
        "SELECT item_id FROM item_versions WHERE collection='$1' AND sys_to IS NULL AND status <> 'withdrawn'
         AND (status <> 'draft' OR party = 'A') AND ST_Intersects(geom, BuildMbr($2, $3, $4, $5, 4326)) = 1 ORDER BY item_id" | tr '\n' ' '
}
gdal_ids() {
    ogrinfo -ro -q "OAPIF:$FM_URL" "$1" -spat "$2" "$3" "$4" "$5" 2>/dev/null |
        sed -n 's/^OGRFeature([a-z]*):\([0-9]*\)$/\1/p' | sort -n | tr '\n' ' '
}
for box in "35.65 32.93 35.70 32.98" "35.6 32.6 35.9 32.9" "35.75 32.7 36.0 33.2" "35.95 32.85 36.0 32.9" "30 30 31 31"; do
    set -- $box
    for coll in incidents zones movements; do
        echo "# $coll in $box: $(spatialite_ids $coll $1 $2 $3 $4)"
        check "ogrinfo -spat $box on $coll equals SpatiaLite's Intersects" \
            '[ "$(gdal_ids '"$coll $1 $2 $3 $4"')" = "$(spatialite_ids '"$coll $1 $2 $3 $4"')" ]'
    done
done
check "a box inside convoy 7's bounding box that misses its route: exact, not MBR" \
    '[ "$(spatialite_ids movements 35.65 32.93 35.70 32.98)" = "" ] && [ "$(gdal_ids movements 35.65 32.93 35.70 32.98)" = "" ] &&
     [ "$(spatialite_ids movements 35.6 32.9 35.9 33.25)" != "" ]'
check "the -spat answers are not all empty (the test can fail)" \
    '[ -n "$(gdal_ids incidents 35.6 32.6 35.9 32.9)" ]'
# (as a CQL2 text filter since the server offers one: GDAL 3.6 then sends
# every -where on queryables as filter=, no longer status=)
check "a -where on status is sent to the server as a filter" \
    'CPL_DEBUG=ON CPL_CURL_VERBOSE=YES ogrinfo -ro -q "OAPIF:$FM_URL" zones -where "status = '"'"'proposed'"'"'" > "$FM_TMP/where.out" 2>&1 &&
     grep -q "filter=status%20%3D%20'"'"'proposed'"'"'&filter-lang=cql-text" "$FM_TMP/where.out"'
unset GDAL_HTTP_HEADERS
check "without credentials GDAL is refused" '! ogrinfo -ro -q "OAPIF:$FM_URL" >/dev/null 2>&1'
finish

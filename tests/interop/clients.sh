#!/usr/bin/env bash
# The clients people already use: exports keep the visibility rule (B never
# gets A's drafts, in any format), Cursor-on-Target output is valid against
# the CoT Event schema with stable uids and stale from valid_to, and
# ogr2ogr copies every collection from the running server (OGC API -
# Features) into a GeoPackage with the database's counts.
. "$(dirname "$0")/../lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
XSD="$HERE/cot-event.xsd"
fm_start --demo
TA=$(fm_token liaison-a)
TB=$(fm_token liaison-b)
A=(-H "Authorization: Bearer $TA")
B=(-H "Authorization: Bearer $TB")
JSON=(-H 'Content-Type: application/geo+json')

SECRET="A-secret-draft-7f3c"
req POST /collections/zones/items "${A[@]}" "${JSON[@]}" \
    -d "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[35.1,32.1],[35.2,32.1],[35.2,32.2],[35.1,32.1]]]},\"properties\":{\"title\":\"$SECRET\",\"status\":\"draft\"}}" >/dev/null
DRAFT_ID=$(jqb .id)
req POST /collections/incidents/items "${A[@]}" "${JSON[@]}" \
    -d "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[35.5,32.5]},\"properties\":{\"title\":\"$SECRET-incident\",\"status\":\"draft\"}}" >/dev/null

# ---- exports and visibility ------------------------------------------------
# text of an export, whatever the container (zip, GeoPackage, XML)
text_of() {
    case $1 in
    *.shp.zip) unzip -p "$1" ;;
    *.gpkg) sqlite3 -readonly "$1" "SELECT * FROM zones" 2>/dev/null; sqlite3 -readonly "$1" "SELECT * FROM incidents" 2>/dev/null ;;
    *) cat "$1" ;;
    esac
}
for c in zones incidents; do
    for f in kml gpkg shp csv json; do
        [ "$f" = shp ] && ext=shp.zip || ext=$f
        curl -s -o "$FM_TMP/b.$ext" -D "$FM_TMP/b.h" "${B[@]}" "$FM_URL/collections/$c/items?f=$f&limit=10000"
        curl -s -o "$FM_TMP/a.$ext" "${A[@]}" "$FM_URL/collections/$c/items?f=$f&limit=10000"
        check "B's $c export as $f never holds A's draft (and A's does)" \
            '! text_of "$FM_TMP/b.$ext" | grep -q "$SECRET" && text_of "$FM_TMP/a.$ext" | grep -q "$SECRET"'
    done
done
check "f=kml answers KML with a file name" \
    'curl -s -D "$FM_TMP/h" -o /dev/null "${B[@]}" "$FM_URL/collections/zones/items?f=kml" &&
     grep -qi "^Content-Type: application/vnd.google-earth.kml+xml" "$FM_TMP/h" && grep -qi "^Content-Disposition: attachment; filename=\"zones.kml\"" "$FM_TMP/h"'
check "f=gpkg is a GeoPackage GDAL reads, with B's count of zones" \
    'curl -s -o "$FM_TMP/z.gpkg" "${B[@]}" "$FM_URL/collections/zones/items?f=gpkg" &&
     n=$(curl -s "${B[@]}" "$FM_URL/collections/zones/items?limit=1" | jq .numberMatched) &&
     ogrinfo -ro -so "$FM_TMP/z.gpkg" zones | grep -q "Feature Count: $n"'
check "f=gpx of zones is refused with a clear 400" \
    '[ "$(req GET "/collections/zones/items?f=gpx" "${B[@]}")" = 400 ] && is_problem 400 && jqb .detail | grep -q "GPX"'
check "f=xyz is refused with the list of formats" \
    '[ "$(req GET "/collections/zones/items?f=xyz" "${B[@]}")" = 400 ] && jqb .detail | grep -q "kml, gpx, gpkg, shp or csv"'
check "filters apply to exports: f=csv&party=A holds only A's zones" \
    'curl -s -o "$FM_TMP/pa.csv" "${B[@]}" "$FM_URL/collections/zones/items?f=csv&party=A" &&
     n=$(curl -s "${B[@]}" "$FM_URL/collections/zones/items?party=A&limit=1" | jq .numberMatched) &&
     [ "$(ogrinfo -ro -q -al "$FM_TMP/pa.csv" | grep -c "^OGRFeature")" = "$n" ] && [ "$n" -gt 0 ]'
check "the command line exports without drafts unless --party says whose" \
    '"$FUSIONMAP" export --collection zones --format kml --db "$FM_DB" --out "$FM_TMP/cli.kml" && ! grep -q "$SECRET" "$FM_TMP/cli.kml" &&
     "$FUSIONMAP" export --collection zones --format kml --party A --db "$FM_DB" | grep -q "$SECRET"'
check "export --at before the draft existed leaves it out" \
    '"$FUSIONMAP" export --collection zones --format geojson --party A --at 2000-01-01T00:00:00Z --db "$FM_DB" | jq -e ".features|length == 0" >/dev/null'

# ---- Cursor-on-Target -------------------------------------------------------
check "GET /cot is XML valid against the CoT Event schema (xmllint --schema)" \
    '[ "$(req GET /cot "${B[@]}")" = 200 ] && header Content-Type | grep -q "^application/xml" &&
     xmllint --noout --schema "$XSD" "$FM_TMP/body" 2>"$FM_TMP/xsd.err" || { cat "$FM_TMP/xsd.err"; false; }'
cp "$FM_TMP/body" "$FM_TMP/cot-b.xml"
check "every event alone is valid too" \
    'n=$(xmllint --xpath "count(/events/event)" "$FM_TMP/cot-b.xml") && [ "$n" -gt 0 ] && ok=1 &&
     for i in $(seq 1 "$n"); do
         { echo "<?xml version=\"1.0\"?>"; xmllint --xpath "/events/event[$i]" "$FM_TMP/cot-b.xml"; } >"$FM_TMP/one.xml"
         xmllint --noout --schema "$XSD" "$FM_TMP/one.xml" 2>/dev/null || ok=0
     done && [ $ok = 1 ]'
check "the schema is not a rubber stamp: an event without stale is rejected" \
    'sed "s/ stale=\"[^\"]*\"//" "$FM_TMP/cot-b.xml" >"$FM_TMP/nostale.xml" && ! xmllint --noout --schema "$XSD" "$FM_TMP/nostale.xml" 2>/dev/null'
check "B's CoT has one event per visible item and none of A's drafts" \
    'n=0; for c in zones incidents movements; do n=$((n + $(curl -s "${B[@]}" "$FM_URL/collections/$c/items?limit=1" | jq .numberMatched))); done &&
     [ "$(xmllint --xpath "count(/events/event)" "$FM_TMP/cot-b.xml")" = "$n" ] &&
     ! grep -q "$SECRET" "$FM_TMP/cot-b.xml" && ! grep -q "uid=\"fusionmap-zones-$DRAFT_ID\"" "$FM_TMP/cot-b.xml" &&
     curl -s "${A[@]}" "$FM_URL/cot" | grep -q "uid=\"fusionmap-zones-$DRAFT_ID\""'
check "zones are u-d-f with a closed ring of link points; incidents are a-u-G points" \
    'xmllint --xpath "string((//event[starts-with(@uid,\"fusionmap-zones-\")])[1]/@type)" "$FM_TMP/cot-b.xml" | grep -qx "u-d-f" &&
     first=$(xmllint --xpath "string((//event[starts-with(@uid,\"fusionmap-zones-\")])[1]/detail/link[1]/@point)" "$FM_TMP/cot-b.xml") &&
     last=$(xmllint --xpath "string((//event[starts-with(@uid,\"fusionmap-zones-\")])[1]/detail/link[last()]/@point)" "$FM_TMP/cot-b.xml") &&
     [ -n "$first" ] && [ "$first" = "$last" ] &&
     xmllint --xpath "string((//event[starts-with(@uid,\"fusionmap-incidents-\")])[1]/@type)" "$FM_TMP/cot-b.xml" | grep -qx "a-u-G"'
# a zone with a known valid_to, then edited: same uid, stale = valid_to, new version
req POST /collections/zones/items "${B[@]}" "${JSON[@]}" \
    -d '{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[35.6,32.6],[35.7,32.6],[35.7,32.7],[35.6,32.6]]]},"properties":{"title":"cot stale test","status":"proposed","valid_from":"2026-11-25T10:00:00Z","valid_to":"2026-12-24T18:00:00Z","altitude_floor_m":150}}' >/dev/null
ZID=$(jqb .id)
cot_attr() { curl -s "${A[@]}" "$FM_URL/cot" | xmllint --xpath "string(//event[@uid=\"fusionmap-zones-$ZID\"]/$1)" -; }
check "stale is valid_to, start is valid_from, hae is the floor" \
    '[ "$(cot_attr @stale)" = 2026-12-24T18:00:00Z ] && [ "$(cot_attr @start)" = 2026-11-25T10:00:00Z ] && [ "$(cot_attr point/@hae)" = 150.0 ]'
V1=$(cot_attr detail/fusionmap/@version)
req PATCH "/collections/zones/items/$ZID" "${B[@]}" -H 'Content-Type: application/merge-patch+json' -H 'If-Match: "1"' \
    -d '{"properties":{"valid_to":"2026-12-31T00:00:00Z"}}' >/dev/null
check "after an edit the uid is the same, the version and stale follow" \
    '[ "$V1" = 1 ] && [ "$(cot_attr detail/fusionmap/@version)" = 2 ] && [ "$(cot_attr @stale)" = 2026-12-31T00:00:00Z ]'
check "GET /cot without logging in gets 401" '[ "$(req GET /cot)" = 401 ] && is_problem 401'
check "the OpenAPI document declares POST /import, GET /cot and the export formats of f" \
    '[ "$(req GET /api)" = 200 ] && jqb ".paths[\"/import\"].post.parameters[].name" | grep -qx skip_bad &&
     jqb ".paths[\"/cot\"].get.parameters[].name" | grep -qx t &&
     jqb ".paths[\"/collections/zones/items\"].get.parameters[]|select(.name==\"f\")|.description" | grep -q gpkg'

# ---- ogr2ogr copies every collection from the running server -----------------
export GDAL_HTTP_HEADERS="Authorization: Bearer $TA" GDAL_HTTP_TIMEOUT=20 CPL_VSIL_CURL_USE_CACHE=NO
visible_in_db() { # what A may see, counted by SQLite itself (read-only, another process)
    sqlite3 -readonly "$FM_DB" "SELECT count(*) FROM item_versions WHERE collection='$1' AND sys_to IS NULL
        AND status <> 'withdrawn' AND (status <> 'draft' OR party = 'A')"
}
check "ogr2ogr copies zones, incidents and movements (OAPIF) into one GeoPackage" \
    'ogr2ogr -f GPKG "$FM_TMP/copy.gpkg" "OAPIF:$FM_URL" zones incidents movements 2>"$FM_TMP/ogr.err" || { cat "$FM_TMP/ogr.err"; false; }'
for c in zones incidents movements; do
    check "the GeoPackage's $c count equals the database's ($(visible_in_db $c))" \
        '[ "$(ogrinfo -ro -so "$FM_TMP/copy.gpkg" $c | sed -n "s/^Feature Count: //p")" = "$(visible_in_db $c)" ] && [ "$(visible_in_db $c)" -gt 0 ]'
done
finish

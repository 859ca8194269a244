#!/usr/bin/env bash
# OGC API - Features as GDAL's OGCAPI driver sees it (issue 22): views of
# one geometry type per layer for the collections that mix them, exports
# of a point movement, and extents computed from what the asking party
# may see (never from the other party's drafts).
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
finish

#!/usr/bin/env bash
# Export, import into a fresh database, export again: every feature's
# geometry (to 1e-7 degrees) and its mapped attributes are equal, for each
# format and collection. Then files GDAL itself wrote (ogr2ogr from a
# reference GeoJSON, one of them reprojected to UTM 36N) go in through
# POST /import and come out equal to the reference.
. "$(dirname "$0")/../lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
fm_start --demo
TOKEN=$(fm_token liaison-a)
A=(-H "Authorization: Bearer $TOKEN")
TOKEN_B=$(fm_token liaison-b)
B=(-H "Authorization: Bearer $TOKEN_B")

post() { # COLLECTION JSON
    curl -sf -o /dev/null "${A[@]}" -H 'Content-Type: application/geo+json' -d "$2" \
        "$FM_URL/collections/$1/items" || echo "could not create in $1: $2"
}
# items with 8 decimals, a hole, a MultiPolygon, text that needs escaping
post zones '{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[35.12345678,32.11111111],[35.22345678,32.11111119],[35.22345671,32.21111111],[35.12345678,32.11111111]],[[35.18,32.13],[35.20,32.13],[35.20,32.15],[35.18,32.13]]]},"properties":{"title":"rt holed zone","description":"a \"quoted\", comma; é ش","type":"no_fly","valid_from":"2026-11-25T10:00:00Z","valid_to":"2026-12-01T18:30:00Z","altitude_floor_m":120.5,"altitude_ceiling_m":3000}}'
post zones '{"type":"Feature","geometry":{"type":"MultiPolygon","coordinates":[[[[35.5,32.5],[35.6,32.5],[35.6,32.6],[35.5,32.5]]],[[[35.7,32.7],[35.8,32.7],[35.8,32.8],[35.7,32.7]]]]},"properties":{"title":"rt two parts","type":"buffer","valid_from":"2026-11-26T00:00:00Z"}}'
post incidents '{"type":"Feature","geometry":{"type":"Point","coordinates":[35.98765432,32.87654321]},"properties":{"title":"rt incident","description":"seen at dawn","category":"shelling","severity":3,"occurred_at":"2026-11-25T05:45:00Z","altitude_floor_m":450}}'
post movements '{"type":"Feature","geometry":{"type":"LineString","coordinates":[[35.11111111,32.22222222],[35.33333333,32.44444444],[35.55555555,32.66666666]]},"properties":{"title":"rt route","description":"convoy","type":"ground","corridor_width_m":250,"valid_from":"2026-11-25T06:00:00Z","valid_to":"2026-11-25T12:00:00Z"}}'

COMMON=title,description,type,valid_from,valid_to,altitude_floor_m,altitude_ceiling_m
fields_of() {
    case $1 in
    zones) echo $COMMON ;;
    incidents) echo $COMMON,category,severity,occurred_at ;;
    movements) echo $COMMON,corridor_width_m ;;
    esac
}
for c in zones incidents movements; do
    curl -sf "${A[@]}" "$FM_URL/collections/$c/items?limit=10000" >"$FM_TMP/orig-$c.geojson"
done

for fmt in geojson kml gpx gpkg shp csv; do
    FRESH="$FM_TMP/fresh-$fmt.db"
    "$FUSIONMAP" party add A --name A --colour '#aa0000' --kind side --db "$FRESH" 2>/dev/null &&
        echo pwpwpw | "$FUSIONMAP" user add importer --party A --role liaison --password-stdin --db "$FRESH" ||
        echo "fresh database for $fmt failed"
    for c in zones incidents movements; do
        [ "$fmt" = gpx ] && [ "$c" = zones ] && continue # GPX holds no polygons
        ext=$fmt
        [ "$fmt" = shp ] && ext=shp.zip
        [ "$fmt" = geojson ] && f=json || f=$fmt
        out="$FM_TMP/$c.$ext"
        code=$(curl -s -o "$out" -w '%{http_code}' "${A[@]}" "$FM_URL/collections/$c/items?f=$f&limit=10000")
        n=$(jq '.features|length' "$FM_TMP/orig-$c.geojson")
        check "f=$f exports $c (200, non-empty)" '[ "$code" = 200 ] && [ -s "$out" ]'
        check "$c.$ext imports into a fresh database: all $n features created" \
            '"$FUSIONMAP" import "$out" --collection $c --party A --db "$FRESH" >"$FM_TMP/report.json" 2>"$FM_TMP/import.err" &&
             [ "$(jq ".created|length" "$FM_TMP/report.json")" = "$n" ] && [ "$(jq ".refused|length" "$FM_TMP/report.json")" = 0 ]'
        "$FUSIONMAP" export --collection $c --format geojson --party A --db "$FRESH" --out "$FM_TMP/back-$c.geojson"
        check "$c through $fmt and back: geometries within 1e-7 degrees, mapped attributes equal" \
            '$PY "$HERE/compare.py" "$FM_TMP/orig-$c.geojson" "$FM_TMP/back-$c.geojson" --fields $(fields_of $c) >"$FM_TMP/cmp.out" || { cat "$FM_TMP/cmp.out"; false; }'
        check "imported $c are drafts of the importing party" \
            '[ "$(jq "[.features[].properties|select(.status==\"draft\" and .party==\"A\")]|length" "$FM_TMP/back-$c.geojson")" = "$n" ]'
    done
done

# ---- files GDAL wrote, through POST /import -------------------------------
REF="$FM_TMP/ref"
mkdir -p "$REF"
cat >"$REF/zones.geojson" <<'EOF'
{"type":"FeatureCollection","features":[
{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[33.10000001,31.50000002],[33.30000003,31.50000004],[33.30000005,31.70000006],[33.10000001,31.50000002]]]},"properties":{"title":"ref zone one","description":"from ogr2ogr","type":"restricted","valid_from":"2026-11-25T08:00:00Z","altitude_floor_m":100}},
{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[33.40000007,31.80000008],[33.60000009,31.80000001],[33.60000002,32.00000003],[33.40000007,32.00000004],[33.40000007,31.80000008]]]},"properties":{"title":"ref zone two","description":"second","type":"buffer","valid_from":"2026-11-26T08:00:00Z","altitude_floor_m":0}}]}
EOF
cat >"$REF/incidents.geojson" <<'EOF'
{"type":"FeatureCollection","features":[
{"type":"Feature","geometry":{"type":"Point","coordinates":[33.11111111,31.22222222]},"properties":{"title":"ref point one","description":"p1"}},
{"type":"Feature","geometry":{"type":"Point","coordinates":[33.33333333,31.44444444]},"properties":{"title":"ref point two","description":"p2"}}]}
EOF
cat >"$REF/movements.geojson" <<'EOF'
{"type":"FeatureCollection","features":[
{"type":"Feature","geometry":{"type":"LineString","coordinates":[[33.1234567,31.7654321],[33.2345678,31.8765432],[33.3456789,31.9876543]]},"properties":{"title":"ref route","description":"r1"}}]}
EOF
ZF=title,description,type,valid_from,altitude_floor_m
ogr2ogr -f KML "$REF/z.kml" "$REF/zones.geojson" -dsco NameField=title -dsco DescriptionField=description 2>/dev/null
ogr2ogr -f LIBKML "$REF/z.kmz" "$REF/zones.geojson" 2>/dev/null
ogr2ogr -f GPKG "$REF/z.gpkg" "$REF/zones.geojson"
mkdir -p "$REF/utm" && ogr2ogr -f "ESRI Shapefile" -t_srs EPSG:32636 "$REF/utm/zones.shp" "$REF/zones.geojson" 2>/dev/null &&
    (cd "$REF/utm" && zip -q "$REF/z-utm.zip" zones.*)
ogr2ogr -f CSV "$REF/z.csv" "$REF/zones.geojson" -lco GEOMETRY=AS_WKT
ogr2ogr -f CSV "$REF/i.csv" "$REF/incidents.geojson" -lco GEOMETRY=AS_XY
ogr2ogr -f GPX "$REF/m.gpx" "$REF/movements.geojson" -dsco GPX_USE_EXTENSIONS=YES -nlt LINESTRING 2>/dev/null
check "the UTM 36N shapefile really is in metres" 'ogrinfo -ro -al -so "$REF/utm/zones.shp" | grep -q "UTM zone 36N"'

# import_via_http FILE COLLECTION CONTENT-TYPE -> FeatureCollection of what was created
import_via_http() {
    local code
    code=$(curl -s -o "$FM_TMP/imp.json" -w '%{http_code}' "${B[@]}" -H "Content-Type: $3" \
        --data-binary @"$1" "$FM_URL/import?collection=$2")
    [ "$code" = 201 ] || { echo "POST /import of $1: $code $(cat "$FM_TMP/imp.json")"; return 1; }
    for id in $(jq -r '.created[].id' "$FM_TMP/imp.json"); do
        curl -sf "${B[@]}" "$FM_URL/collections/$2/items/$id"
    done | jq -s '{type:"FeatureCollection",features:.}' >"$FM_TMP/got.geojson"
}
gdal_case() { # NAME FILE COLLECTION CTYPE FIELDS
    G_FILE=$2 G_COLL=$3 G_CTYPE=$4 G_FIELDS=$5
    check "$1 written by ogr2ogr imports through POST /import and equals the reference" \
        'import_via_http "$G_FILE" $G_COLL "$G_CTYPE" && $PY "$HERE/compare.py" "$REF/$G_COLL.geojson" "$FM_TMP/got.geojson" --fields $G_FIELDS >"$FM_TMP/cmp.out" || { cat "$FM_TMP/cmp.out"; false; }'
}
gdal_case "KML (KML driver)" "$REF/z.kml" zones application/vnd.google-earth.kml+xml $ZF
# (ogr2ogr's LIBKML writer drops DateTime fields: valid_from is not in the file)
gdal_case "KMZ (LIBKML)" "$REF/z.kmz" zones application/vnd.google-earth.kmz title,description,type,altitude_floor_m
gdal_case "GeoPackage" "$REF/z.gpkg" zones application/geopackage+sqlite3 $ZF
# (Shapefile has no DateTime: ogr2ogr itself cut valid_from to the day)
gdal_case "zipped Shapefile in EPSG:32636 (reprojected)" "$REF/z-utm.zip" zones application/zip title,description,type,altitude_floor_m
gdal_case "CSV with a WKT column" "$REF/z.csv" zones text/csv $ZF
gdal_case "CSV with X/Y columns" "$REF/i.csv" incidents text/csv title,description
gdal_case "GPX route" "$REF/m.gpx" movements application/gpx+xml title,description
gdal_case "GeoJSON" "$REF/zones.geojson" zones application/geo+json $ZF
check "imports are drafts of the importer's party (B), invisible to A" \
    '[ "$(curl -s "${A[@]}" "$FM_URL/collections/zones/items?limit=10000" | jq "[.features[]|select(.properties.title==\"ref zone one\")]|length")" = 0 ] &&
     [ "$(curl -s "${B[@]}" "$FM_URL/collections/zones/items?limit=10000&party=B&status=draft" | jq "[.features[]|select(.properties.title==\"ref zone one\")]|length")" -ge 1 ]'
# ---- empty and mixed selections (issue 17 item 10) -------------------------
# Every format, over HTTP and through fusionmap export: a valid file GDAL
# reads back with every feature (none for an empty selection), or a 4xx
# (exit 1) that says why; never a 500. Mixed: movements of points, lines
# and multi-lines; zones for GPX.
post movements '{"type":"Feature","geometry":{"type":"Point","coordinates":[35.2,32.2]},"properties":{"title":"mx point","type":"ground","valid_from":"2026-11-25T06:00:00Z"}}'
post movements '{"type":"Feature","geometry":{"type":"MultiLineString","coordinates":[[[35.2,32.2],[35.3,32.3]],[[35.4,32.2],[35.5,32.3]]]},"properties":{"title":"mx multi","type":"ground","valid_from":"2026-11-25T06:00:00Z"}}'
# features FILE FORMAT: how many features GDAL reads in it (GPX's point lists aside)
features() {
    local src=$1
    [ "$2" = shp ] && src="/vsizip/$1"
    [ "$2" = csv ] && { cp "$1" "$1.csv" && src="$1.csv"; }
    ogrinfo -ro -al -so "$src" 2>/dev/null | awk '/^Layer name:/ { skip = ($3 == "route_points" || $3 == "track_points") }
        /^Feature Count:/ && !skip { n += $3 } END { print n + 0 }'
}
# gpx_in_order FILE: well-formed, and every wpt before any rte before any trk
gpx_in_order() {
    local order
    order=$(grep -o '<wpt\|<rte>\|<trk>' "$1" | uniq | tr -d '<>' | tr '\n' ' ')
    xmllint --noout "$1" && [[ "$order" =~ ^(wpt )?(rte )?(trk )?$ ]]
}
for c in zones incidents movements; do
    n_all=$(curl -s "${A[@]}" "$FM_URL/collections/$c/items?limit=10000" | jq '.features|length')
    for fmt in kml gpx gpkg shp csv; do
        for sel in empty all; do
            q="limit=10000" n=$n_all
            [ $sel = empty ] && q="bbox=0,0,0.001,0.001" n=0
            out="$FM_TMP/sel-$c-$sel.$fmt"
            [ $fmt = shp ] && out="$out.zip"
            code=$(curl -s -o "$out" -w '%{http_code}' "${A[@]}" "$FM_URL/collections/$c/items?f=$fmt&$q")
            if { [ "$c" = zones ] && [ $fmt = gpx ]; } || { [ "$c" = movements ] && [ $fmt = shp ] && [ $sel = all ]; }; then
                check "f=$fmt of $sel $c: 400 problem+json saying why" \
                    '[ "$code" = 400 ] && jq -r .detail "$out" | grep -Eq "GPX holds|mix points, lines"'
                continue
            fi
            check "f=$fmt of $sel $c ($n): 200 and GDAL reads back $n features" \
                '[ "$code" = 200 ] && [ "$(features "$out" $fmt)" = "$n" ] || { echo "   got $code, $(features "$out" $fmt) features: $(head -c 300 "$out")"; false; }'
            if [ $fmt = gpx ]; then
                check "  ... the GPX is well-formed, waypoints before routes before tracks" 'gpx_in_order "$out"'
            fi
        done
    done
done
check "the empty zones Shapefile is of polygons (not the driver's guess of lines)" \
    'ogrinfo -ro -so "/vsizip/$FM_TMP/sel-zones-empty.shp.zip" zones | grep -q "^Geometry: Polygon"'
check "the empty CSV is the WKT header alone (no nameless column)" '[ "$(cat "$FM_TMP/sel-zones-empty.csv")" = WKT ]'
n_mov=$(curl -s "${A[@]}" "$FM_URL/collections/movements/items?limit=10000" | jq '.features|length')
check "the mixed GPX of movements imports back whole (dry run: $n_mov created)" \
    '"$FUSIONMAP" import "$FM_TMP/sel-movements-all.gpx" --collection movements --party A --dry-run --db "$FM_TMP/fresh-gpx.db" >"$FM_TMP/report.json" 2>/dev/null &&
     [ "$(jq ".created|length" "$FM_TMP/report.json")" = "$n_mov" ]'
# the command line: empty (--at before anything) and mixed (A's drafts with --party A)
for fmt in kml gpx gpkg shp csv; do
    for sel in empty mixed; do
        args=(--party A) n=$n_mov
        [ $sel = empty ] && args=(--at 2000-01-01T00:00:00Z) n=0
        out="$FM_TMP/cli-$sel.$fmt"
        [ $fmt = shp ] && out="$out.zip"
        rm -f "$out"
        "$FUSIONMAP" export --collection movements --format $fmt "${args[@]}" --db "$FM_DB" --out "$out" 2>"$FM_TMP/cli.err"
        rc=$?
        if [ $fmt = shp ] && [ $sel = mixed ]; then
            check "fusionmap export --format shp of mixed movements: exit 1 saying why" \
                '[ $rc = 1 ] && grep -q "mix points, lines" "$FM_TMP/cli.err"'
        else
            check "fusionmap export --format $fmt of $sel movements: exit 0, GDAL reads back $n features" \
                '[ $rc = 0 ] && [ "$(features "$out" $fmt)" = "$n" ] || { echo "   exit $rc: $(grep -v "^20" "$FM_TMP/cli.err")"; false; }'
        fi
    done
done
check "fusionmap export --format gpx of zones: exit 1 saying why" \
    '! "$FUSIONMAP" export --collection zones --format gpx --db "$FM_DB" --out "$FM_TMP/z.gpx" 2>"$FM_TMP/cli.err" && grep -q "GPX holds" "$FM_TMP/cli.err"'
finish

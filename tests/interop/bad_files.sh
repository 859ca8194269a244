#!/usr/bin/env bash
# Bad files through POST /import: each gets a clear problem+json answer and
# writes nothing (the event log and the items stay as they were). Then the
# switches: dry_run writes nothing and says what would happen, skip_bad
# writes the good features and lists the bad, and who may import.
. "$(dirname "$0")/../lib.sh"
fm_start --demo
TOKEN=$(fm_token liaison-a)
A=(-H "Authorization: Bearer $TOKEN")
VIEWER=(-H "Authorization: Bearer $(fm_token viewer)")
D="$FM_TMP/files"
mkdir -p "$D"

events() { sqlite3 -readonly "$FM_DB" "SELECT count(*) FROM events"; }
items() { sqlite3 -readonly "$FM_DB" "SELECT count(*) FROM items"; }
EV0=$(events)
IT0=$(items)
unchanged() { [ "$(events)" = "$EV0" ] && [ "$(items)" = "$IT0" ]; }

# import FILE COLLECTION CTYPE [QUERY] -> status
import() {
    req POST "/import?collection=$2${4:+&$4}" "${A[@]}" -H "Content-Type: $3" --data-binary @"$1"
}
# bad NAME STATUS 'detail regex' FILE COLLECTION CTYPE [QUERY]
bad() {
    local name=$1 want=$2 re=$3
    local got
    got=$(import "$4" "$5" "$6" "${7:-}")
    check "$name: $want problem+json, nothing written" \
        '[ "$got" = "$want" ] && is_problem "$want" && jqb .detail | grep -Eqi -- "$re" && unchanged || { echo "   got $got: $(body)"; false; }'
}

cat >"$D/good.geojson" <<'EOF'
{"type":"FeatureCollection","features":[
{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[35.1,32.1],[35.2,32.1],[35.2,32.2],[35.1,32.1]]]},"properties":{"title":"good one"}},
{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[35.3,32.1],[35.4,32.1],[35.4,32.2],[35.3,32.1]]]},"properties":{"title":"good two"}}]}
EOF

# truncated: a GeoJSON cut in the middle, a GeoPackage cut in half
head -c 150 "$D/good.geojson" >"$D/cut.geojson"
bad "a truncated GeoJSON" 400 "not a readable geojson" "$D/cut.geojson" zones application/geo+json
ogr2ogr -f GPKG "$D/good.gpkg" "$D/good.geojson"
head -c 40000 "$D/good.gpkg" >"$D/cut.gpkg"
bad "a truncated GeoPackage" 400 "geopackage|gpkg|not a readable|not usable|could not be read" "$D/cut.gpkg" zones application/geopackage+sqlite3

# the wrong format for what it claims to be
bad "GeoJSON sent as GPX" 400 "not a readable gpx" "$D/good.geojson" zones application/gpx+xml
printf 'name,lon,lat\na,35.1,32.1\n' >"$D/points.csv"
bad "a CSV sent as KML" 400 "not a readable kml" "$D/points.csv" zones application/vnd.google-earth.kml+xml
bad "a GeoJSON sent as a zipped Shapefile" 400 "not a zip archive" "$D/good.geojson" zones application/zip

# a CRS PROJ cannot resolve
sed 's/"FeatureCollection",/"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::999999"}},/' \
    "$D/good.geojson" >"$D/badcrs.geojson"
bad "a GeoJSON in EPSG:999999 (no such CRS)" 400 "crs" "$D/badcrs.geojson" zones application/geo+json
mkdir -p "$D/shp" && ogr2ogr -f "ESRI Shapefile" "$D/shp/z.shp" "$D/good.geojson" &&
    echo 'PROJCS["nonsense",GEOGCS["nowhere",DATUM["none",SPHEROID["x",0,0]],UNIT["degree",0]],PROJECTION["No_Such_Projection"],UNIT["metre",1]]' >"$D/shp/z.prj" &&
    (cd "$D/shp" && zip -q "$D/badprj.zip" z.*)
bad "a zipped Shapefile whose .prj PROJ cannot use" 400 "crs|proj|prj|not usable" "$D/badprj.zip" zones application/zip
# a .prj GDAL cannot read at all (its driver drops it without a word): an
# error naming the .prj, not WGS84; no .prj, or an empty one, is WGS84
mkdir -p "$D/garbage" && cp "$D/shp/z.shp" "$D/shp/z.shx" "$D/shp/z.dbf" "$D/garbage/" &&
    echo 'this is not a CRS at all' >"$D/garbage/z.prj" && (cd "$D/garbage" && zip -q "$D/garbageprj.zip" z.*) &&
    : >"$D/garbage/z.prj" && (cd "$D/garbage" && zip -q "$D/emptyprj.zip" z.*) &&
    rm "$D/garbage/z.prj" && (cd "$D/garbage" && zip -q "$D/noprj.zip" z.*)
bad "a zipped Shapefile whose .prj is garbage" 400 "layer z: its .prj is not a coordinate reference system.*this is not a CRS" "$D/garbageprj.zip" zones application/zip
bad "the same with dry_run=1" 400 "its .prj is not a coordinate reference system" "$D/garbageprj.zip" zones application/zip dry_run=1
check "the command line refuses the garbage .prj too (exit 1), naming it, and writes nothing" \
    'n=$(items); ! "$FUSIONMAP" import "$D/garbageprj.zip" --collection zones --party B --db "$FM_DB" >/dev/null 2>"$FM_TMP/cli.err" &&
     grep -q "its .prj is not a coordinate reference system" "$FM_TMP/cli.err" && [ "$(items)" = "$n" ]'
check "a zipped Shapefile with no .prj is read as WGS84 (dry run: 2 features, same coordinates)" \
    '[ "$(import "$D/noprj.zip" zones application/zip dry_run=1)" = 200 ] && [ "$(jqb ".created|length")" = 2 ] && unchanged'
check "one with an empty .prj too" \
    '[ "$(import "$D/emptyprj.zip" zones application/zip dry_run=1)" = 200 ] && [ "$(jqb ".created|length")" = 2 ] && unchanged'

# invalid geometries: a bow-tie, an open ring, a point for zones
cat >"$D/invalid.geojson" <<'EOF'
{"type":"FeatureCollection","features":[
{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[35.1,32.1],[35.2,32.1],[35.2,32.2],[35.1,32.1]]]},"properties":{"title":"fine"}},
{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[35.0,32.0],[35.2,32.2],[35.2,32.0],[35.0,32.2],[35.0,32.0]]]},"properties":{"title":"bow tie"}}]}
EOF
bad "a self-intersecting polygon among good ones (all or nothing)" 422 "invalid geometry|self" "$D/invalid.geojson" zones application/geo+json
check "the 422 names the bad feature by index and JSON pointer" \
    '[ "$(jqb ".refused|length")" = 1 ] && [ "$(jqb ".refused[0].index")" = 1 ] && jqb ".refused[0].pointer" | grep -q "^/features/1/geometry"'
cat >"$D/points.gpx" <<'EOF'
<?xml version="1.0"?><gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1"><wpt lat="32.1" lon="35.1"><name>w</name></wpt></gpx>
EOF
bad "a GPX waypoint as a zone" 422 "zones does not take a Point" "$D/points.gpx" zones application/gpx+xml

# a zip bomb: 20 MiB of zeros compress about 1000 to 1
head -c 20971520 /dev/zero >"$D/zeros.kml" && (cd "$D" && zip -q -9 bomb.kmz zeros.kml)
bad "a KMZ zip bomb" 413 "zip bomb" "$D/bomb.kmz" zones application/vnd.google-earth.kmz
# a bomb whose headers lie: 30 MiB declared as 1,000 bytes (GDAL would read on)
/usr/bin/python3 - "$D" <<'EOF'
import struct, sys, zipfile
p = sys.argv[1] + "/liar.kmz"
with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("doc.kml", b"<kml>" + b" " * (30 << 20) + b"</kml>")
b = bytearray(open(p, "rb").read())
struct.pack_into("<I", b, 22, 1000)                             # the local header
struct.pack_into("<I", b, b.rfind(b"PK\x01\x02") + 24, 1000)  # the central directory
open(p, "wb").write(b)
EOF
bad "a KMZ whose headers understate what it unpacks to" 413 "more than the 1000 bytes its header declares" "$D/liar.kmz" zones application/vnd.google-earth.kmz
# a KMZ with ../ in a member's path (and one with an absolute path)
/usr/bin/python3 - "$D" <<'EOF'
import sys, zipfile
d = sys.argv[1]
kml = '<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>x</name><Point><coordinates>35.1,32.1</coordinates></Point></Placemark></kml>'
with zipfile.ZipFile(d + "/dotdot.kmz", "w") as z:
    z.writestr("doc.kml", kml)
    z.writestr("../../etc/evil.kml", kml)
with zipfile.ZipFile(d + "/abs.zip", "w") as z:
    z.writestr("/tmp/evil.shp", "x")
EOF
bad "a KMZ with ../ in a member path" 400 "unsafe path" "$D/dotdot.kmz" incidents application/vnd.google-earth.kmz
bad "a zip with an absolute member path" 400 "unsafe path" "$D/abs.zip" zones application/zip

# CSVs with mixed columns
printf 'WKT,title,lon,lat\n"POINT (35.1 32.1)",a,35.1,32.1\n' >"$D/mixed.csv"
bad "a CSV with both WKT and lon/lat columns" 400 "both a WKT column and lon/lat" "$D/mixed.csv" incidents text/csv
printf 'title,lon,lat\na,35.1,32.1\nb,35.2,32.2,extra\n' >"$D/ragged.csv"
bad "a CSV with a row wider than its header" 400 "row 3 has 4 columns" "$D/ragged.csv" incidents text/csv
printf 'title,lon,lat\na,35.1,32.1\nb,east,32.2\n' >"$D/text.csv"
bad "a CSV with a word for a longitude" 422 "no geometry" "$D/text.csv" incidents text/csv
printf 'title,lon,lat,lon,lat\na,35.1,32.1,35.2,32.2\n' >"$D/twolon.csv"
bad "a CSV naming two longitude columns (it crashed GDAL's CSV driver)" 400 "more than one longitude column" "$D/twolon.csv" incidents text/csv
printf 'title,where\na,here\n' >"$D/nogeom.csv"
bad "a CSV with no geometry columns" 400 "needs a WKT column" "$D/nogeom.csv" incidents text/csv

# limits
bad "an empty body" 400 "empty" /dev/null zones application/geo+json
check "an unknown Content-Type gets 415" \
    '[ "$(req POST "/import?collection=zones" "${A[@]}" -H "Content-Type: image/png" --data-binary @"$D/good.geojson")" = 415 ] && is_problem 415 && unchanged'
check "a viewer may not import (403)" \
    '[ "$(req POST "/import?collection=zones" "${VIEWER[@]}" -H "Content-Type: application/geo+json" --data-binary @"$D/good.geojson")" = 403 ] && is_problem 403 && unchanged'
check "an unknown collection gets 400 naming the parameter" \
    '[ "$(import "$D/good.geojson" conflicts application/geo+json)" = 400 ] && [ "$(jqb .parameter)" = collection ] && unchanged'

# the switches
check "dry_run=1 answers 200 with what would be created, and writes nothing" \
    '[ "$(import "$D/good.geojson" zones application/geo+json dry_run=1)" = 200 ] && [ "$(jqb ".created|length")" = 2 ] &&
     [ "$(jqb .committed)" = false ] && unchanged'
check "skip_bad=1 writes the good feature (201) and lists the bow tie" \
    '[ "$(import "$D/invalid.geojson" zones application/geo+json skip_bad=1)" = 201 ] && [ "$(jqb ".created|length")" = 1 ] &&
     [ "$(jqb ".refused[0].index")" = 1 ] && [ "$(items)" = $((IT0 + 1)) ]'
check "a good file imports all (201), as drafts of the importer's party" \
    '[ "$(import "$D/good.geojson" zones application/geo+json)" = 201 ] && [ "$(jqb ".created|length")" = 2 ] &&
     id=$(jqb ".created[0].id") && [ "$(req GET "/collections/zones/items/$id" "${A[@]}")" = 200 ] &&
     [ "$(jqb .properties.status)" = draft ] && [ "$(jqb .properties.party)" = A ] && [ "$(jqb .properties.created_by)" = liaison-a ]'
check "the command line refuses the same bow tie and writes nothing (exit 1)" \
    'n=$(items); ! "$FUSIONMAP" import "$D/invalid.geojson" --collection zones --party B --db "$FM_DB" >"$FM_TMP/cli.json" 2>"$FM_TMP/cli.err" &&
     [ "$(jq ".refused|length" "$FM_TMP/cli.json")" = 1 ] && [ "$(items)" = "$n" ]'
check "the command line refuses a KMZ with ../ with a clear message" \
    '! "$FUSIONMAP" import "$D/dotdot.kmz" --collection incidents --party B --db "$FM_DB" 2>"$FM_TMP/cli.err" && grep -q "unsafe path" "$FM_TMP/cli.err"'
check "--max-features is a limit: 2 features over a limit of 1 are refused, nothing written" \
    'n=$(items); ! "$FUSIONMAP" import "$D/good.geojson" --collection zones --party B --max-features 1 --db "$FM_DB" 2>"$FM_TMP/cli.err" &&
     grep -q "limit is 1" "$FM_TMP/cli.err" && [ "$(items)" = "$n" ]'
check "the server is still up" '[ "$(req GET /conformance)" = 200 ]'
finish

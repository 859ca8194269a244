#!/usr/bin/env bash
# Exports as GDAL reads them back (issue 22): CSV numbers bare (a text
# that looks like a number stays quoted), the incidents Shapefile of
# Points as Points (MultiPoint only when an item is one), the counts and
# ids the server gives, and never another party's draft.
. "$(dirname "$0")/../lib.sh"
fm_start --demo
TA=$(fm_token liaison-a)
TB=$(fm_token liaison-b)
A=(-H "Authorization: Bearer $TA")
B=(-H "Authorization: Bearer $TB")
JSON=(-H 'Content-Type: application/geo+json')
inc() { req POST /collections/incidents/items "$@" >/dev/null; }
# a title that looks like a number, a severity, and A's draft
inc "${B[@]}" "${JSON[@]}" -d '{"type":"Feature","geometry":{"type":"Point","coordinates":[35.2,32.2]},"properties":{"title":"007","category":"other","severity":3,"status":"reported"}}'
inc "${A[@]}" "${JSON[@]}" -d '{"type":"Feature","geometry":{"type":"Point","coordinates":[35.3,32.3]},"properties":{"title":"A-hidden-draft","category":"other","severity":5,"status":"draft"}}'
count() { curl -s "${B[@]}" "$FM_URL/collections/$1/items?limit=1" | jq .numberMatched; }
get() { curl -s -o "$FM_TMP/$2" -w '%{http_code}' "${B[@]}" "$FM_URL/collections/$1/items?${3:-}"; }
NI=$(count incidents)
IDS=$(curl -s "${B[@]}" "$FM_URL/collections/incidents/items?limit=10000" | jq -r '[.features[].id] | sort | join(",")')
# the CSV's fields as GDAL types them (quoted texts stay texts)
csvinfo() { ogrinfo -ro -al -oo AUTODETECT_TYPE=YES -oo QUOTED_FIELDS_AS_STRING=YES "$FM_TMP/$1"; }

check "CSV: numbers are not quoted (severity, fm_id, version, altitudes)" \
    '[ "$(get incidents i.csv "f=csv")" = 200 ] && [ "$(get zones z.csv "f=csv")" = 200 ] &&
     python3 - "$FM_TMP/i.csv" "$FM_TMP/z.csv" <<"PY"
import re, sys
bad = []
for path in sys.argv[1:]:
    lines = open(path, encoding="utf-8").read().splitlines()
    head = lines[0].split(",")
    for line in lines[1:]:
        # the quoted fields that hold only a number, and are not the title
        for m in re.finditer(r"\"(-?[0-9]+(?:\.[0-9]+)?)\"", line):
            if m.group(1) != "007":
                bad.append((path.rsplit("/", 1)[1], m.group(0)))
print(bad[:5]) if bad else None
sys.exit(1 if bad else 0)
PY'
check "CSV: a text that looks like a number stays quoted" \
    'grep -q ",\"007\"," "$FM_TMP/i.csv"'
check "ogrinfo reads the CSV's numbers as Integer, texts as String, every item B sees once" \
    'csvinfo i.csv >"$FM_TMP/i.txt" &&
     grep -q "^severity: Integer" "$FM_TMP/i.txt" && grep -q "^fm_id: Integer" "$FM_TMP/i.txt" &&
     grep -q "^version: Integer" "$FM_TMP/i.txt" && grep -q "^title: String" "$FM_TMP/i.txt" &&
     grep -q "title (String) = 007$" "$FM_TMP/i.txt" && grep -q "severity (Integer) = 3$" "$FM_TMP/i.txt" &&
     [ "$(grep -c "^OGRFeature" "$FM_TMP/i.txt")" = "$NI" ] &&
     [ "$(grep -o "fm_id (Integer) = [0-9]*" "$FM_TMP/i.txt" | grep -o "[0-9]*$" | sort -n | paste -sd,)" = "$(echo "$IDS" | tr , "\n" | sort -n | paste -sd,)" ] ||
     { grep -E "^[a-z_]+:" "$FM_TMP/i.txt"; false; }'
check "ogrinfo reads the zones CSV altitudes as numbers" \
    'csvinfo z.csv | grep -Eq "^altitude_ceiling_m: (Integer|Real)"'
check "Shapefile: the incidents (all Points) are a Point layer, all of B's, joined by fm_id" \
    '[ "$(get incidents i.shp.zip "f=shp")" = 200 ] &&
     ogrinfo -ro -so "/vsizip/$FM_TMP/i.shp.zip" incidents >"$FM_TMP/shp.txt" &&
     grep -q "^Geometry: Point$" "$FM_TMP/shp.txt" && grep -q "Feature Count: $NI$" "$FM_TMP/shp.txt" &&
     [ "$(ogrinfo -ro -al "/vsizip/$FM_TMP/i.shp.zip" | grep -o "fm_id (Integer[0-9]*) = [0-9]*" | grep -o "[0-9]*$" | sort -n | paste -sd,)" = "$(echo "$IDS" | tr , "\n" | sort -n | paste -sd,)" ] ||
     { cat "$FM_TMP/shp.txt"; false; }'
check "Shapefile: the incidents-points view and an empty selection are Point layers too" \
    '[ "$(get incidents-points v.shp.zip "f=shp")" = 200 ] && ogrinfo -ro -so "/vsizip/$FM_TMP/v.shp.zip" incidents | grep -q "^Geometry: Point$" &&
     [ "$(get incidents e.shp.zip "f=shp&bbox=0,0,0.001,0.001")" = 200 ] && ogrinfo -ro -so "/vsizip/$FM_TMP/e.shp.zip" incidents | grep -q "^Geometry: Point$"'
check "neither export holds A's draft (B's); A's CSV does" \
    '! grep -q A-hidden-draft "$FM_TMP/i.csv" && ! unzip -p "$FM_TMP/i.shp.zip" | grep -q A-hidden-draft &&
     curl -s "${A[@]}" "$FM_URL/collections/incidents/items?f=csv" | grep -q A-hidden-draft'
# once an item is a MultiPoint, the layer is MultiPoint and holds every item
inc "${B[@]}" "${JSON[@]}" -d '{"type":"Feature","geometry":{"type":"MultiPoint","coordinates":[[35.4,32.4],[35.41,32.41]]},"properties":{"title":"two spots","category":"other","severity":1,"status":"reported"}}'
check "Shapefile: with a MultiPoint incident the layer is MultiPoint, every item in it" \
    '[ "$(get incidents m.shp.zip "f=shp")" = 200 ] && ogrinfo -ro -so "/vsizip/$FM_TMP/m.shp.zip" incidents >"$FM_TMP/m.txt" &&
     grep -q "^Geometry: Multi Point$" "$FM_TMP/m.txt" && grep -q "Feature Count: $((NI + 1))$" "$FM_TMP/m.txt"'
check "a bad format is a 400 problem and changes nothing" \
    '[ "$(req GET "/collections/incidents/items?f=xls" "${B[@]}")" = 400 ] && is_problem 400 && [ "$(count incidents)" = $((NI + 1)) ]'
finish

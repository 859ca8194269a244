#!/usr/bin/env bash
# QGIS 3.22 (Debian's python3-qgis, headless) as an analyst uses it (issue
# 22): a Basic authentication configuration with the user name and a
# token, every collection and view as an OGC API - Features layer, the XYZ
# tiles; QGIS counts what the server counts for that user, never the other
# party's draft, and renders a map that is not blank.
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3
if ! QT_QPA_PLATFORM=offscreen "$PY" -c "import qgis.core" 2>/dev/null; then
    echo "python3-qgis is missing (scripts/apt-packages.txt; scripts/setup.sh installs it)"
    check "python3-qgis is installed" false
    finish
    exit
fi
fm_start --demo
TA=$(fm_token liaison-a)
TB=$(fm_token liaison-b)
A=(-H "Authorization: Bearer $TA")
B=(-H "Authorization: Bearer $TB")
JSON=(-H 'Content-Type: application/geo+json')
req POST /collections/incidents/items "${A[@]}" "${JSON[@]}" \
    -d '{"type":"Feature","geometry":{"type":"Point","coordinates":[35.9,32.9]},"properties":{"title":"A-hidden-draft","category":"other","severity":2,"status":"draft"}}' >/dev/null
req POST /collections/movements/items "${B[@]}" "${JSON[@]}" \
    -d '{"type":"Feature","geometry":{"type":"Point","coordinates":[35.8,32.95]},"properties":{"title":"observed","status":"notified"}}' >/dev/null
LAYERS="zones incidents-points movements-lines movements-points conflicts-points conflicts-areas"
HERE="$(cd "$(dirname "$0")" && pwd)"
qgis_run() { QT_QPA_PLATFORM=offscreen timeout 240 "$PY" "$HERE/qgis_load.py" "$FM_URL" "$1" "$2" "$FM_TMP/$3" $LAYERS 2>"$FM_TMP/qgis.err" | tail -n1; }
qgis_run liaison-b "$TB" map-b.png >"$FM_TMP/b.json"
count() { curl -s "${B[@]}" "$FM_URL/collections/$1/items?limit=1" | jq .numberMatched; }

for l in $LAYERS; do
    check "QGIS reads $l with the Basic configuration: as many features as the server counts for B" \
        'want=$(count "$l") && got=$(jq ".layers[\"$l\"]" "$FM_TMP/b.json") && [ "$got" = "$want" ] && [ "$want" -ge 1 ] ||
         { echo "QGIS $got, server $want"; tail -5 "$FM_TMP/qgis.err"; false; }'
done
check "QGIS never shows B A's draft" \
    '[ "$(jq "[.titles[][]] | length" "$FM_TMP/b.json")" -ge 3 ] && ! jq -r ".titles[][]" "$FM_TMP/b.json" | grep -q A-hidden-draft'
check "QGIS takes the XYZ tiles with the same configuration and renders a map that is not blank" \
    '[ "$(jq .tiles_valid "$FM_TMP/b.json")" = true ] && [ "$(jq .colours "$FM_TMP/b.json")" -ge 20 ] &&
     [ "$(jq ".errors | length" "$FM_TMP/b.json")" = 0 ] &&
     python3 -c "import struct,sys; d=open(sys.argv[1],\"rb\").read(24); sys.exit(0 if d[:8]==b\"\x89PNG\r\n\x1a\n\" and struct.unpack(\">II\", d[16:24])==(512,512) else 1)" "$FM_TMP/map-b.png" ||
     { jq -c "{tiles_valid, colours, errors}" "$FM_TMP/b.json"; false; }'
check "with a wrong token QGIS reads nothing" \
    'qgis_run liaison-b "fmt_wrong" map-x.png >"$FM_TMP/x.json" && [ "$(jq "[.layers[] | select(. > 0)] | length" "$FM_TMP/x.json")" = 0 ]'
[ -n "${FM_KEEP_PNG:-}" ] && cp "$FM_TMP/map-b.png" "$FM_KEEP_PNG"
finish

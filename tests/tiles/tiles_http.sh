#!/usr/bin/env bash
# tiles_http.sh - the tile endpoints over HTTP against the real server:
# content type and size, @2x, 404 and 400 cases as problem+json, ETag and
# 304, TileJSON, /map.png and its limits.
. "$(dirname "$0")/../lib.sh"
export FUSIONMAP_BASEMAP=none
fm_start --demo
A=$(fm_token liaison-a)
H=(-H "Authorization: Bearer $A")

# get PATH [curl args...]: body in $FM_TMP/body, headers in $FM_TMP/hdr, prints the status
get() {
    local path=$1
    shift
    rm -f "$FM_TMP/body" "$FM_TMP/hdr"
    curl -s -o "$FM_TMP/body" -D "$FM_TMP/hdr" -w '%{http_code}' "$@" "$FM_URL$path"
}
ctype() { grep -i '^content-type:' "$FM_TMP/hdr" | tr -d '\r' | cut -d' ' -f2-; }
header() { grep -i "^$1:" "$FM_TMP/hdr" | tr -d '\r' | cut -d' ' -f2-; }
# png_size FILE: "W H opaque" (RGB, or a palette without alpha) or "W H
# alpha" (RGBA, or a palette with a tRNS chunk) from its chunks
png_size() {
    /usr/bin/python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(); assert d[:8]==b"\x89PNG\r\n\x1a\n"; w,h=struct.unpack(">II",d[16:24]); t=d[25]; print(w,h,"opaque" if t==2 or (t==3 and b"tRNS" not in d[:d.find(b"IDAT")]) else "alpha" if t in (3,6) else t)' "$1"
}
problem() { # status detail-is-present
    [ "$(ctype)" = application/problem+json ] && grep -q '"status":'"$1" "$FM_TMP/body"
}

check "a tile over the basemap is an opaque 256 px PNG (RGB or a palette)" \
    eval '[ "$(get /tiles/all/9/306/206.png "${H[@]}")" = 200 ] && [ "$(ctype)" = image/png ] &&
          [ "$(png_size "$FM_TMP/body")" = "256 256 opaque" ]'
check "an @2x tile is a 512 px PNG" \
    eval '[ "$(get /tiles/all/9/306/206@2x.png "${H[@]}")" = 200 ] && [ "$(png_size "$FM_TMP/body")" = "512 512 opaque" ]'
check "an item layer, transparent between items, is a PNG with alpha (RGBA or a palette)" \
    eval '[ "$(get /tiles/zones/9/306/206.png "${H[@]}")" = 200 ] && [ "$(png_size "$FM_TMP/body")" = "256 256 alpha" ]'
for layer in zones incidents movements basemap; do
    check "layer $layer is served" \
        eval '[ "$(get /tiles/'$layer'/10/613/412.png "${H[@]}")" = 200 ] && [ "$(ctype)" = image/png ]'
done
check "a tile carries an ETag and Cache-Control" \
    eval '[ "$(get /tiles/all/9/306/206.png "${H[@]}")" = 200 ] && [ -n "$(header ETag)" ] &&
          header Cache-Control | grep -q private'
check "If-None-Match with the ETag gets 304 and no body" \
    eval 'etag=$(header ETag); [ "$(get /tiles/all/9/306/206.png "${H[@]}" -H "If-None-Match: $etag")" = 304 ] &&
          [ ! -s "$FM_TMP/body" ]'
check "a stale If-None-Match gets the tile" \
    eval '[ "$(get /tiles/all/9/306/206.png "${H[@]}" -H "If-None-Match: \"0000\"")" = 200 ]'
check "z 23 is 404 problem+json" eval '[ "$(get /tiles/all/23/0/0.png "${H[@]}")" = 404 ] && problem 404'
check "x beyond 2^z is 404" eval '[ "$(get /tiles/all/3/8/0.png "${H[@]}")" = 404 ] && problem 404'
check "y beyond 2^z is 404" eval '[ "$(get /tiles/all/3/0/8@2x.png "${H[@]}")" = 404 ]'
check "a huge z is 404, not a crash" eval '[ "$(get /tiles/all/99999999/0/0.png "${H[@]}")" = 404 ]'
check "an unknown layer is 404" eval '[ "$(get /tiles/roads/1/0/0.png "${H[@]}")" = 404 ] && problem 404'
check "another format is 404" eval '[ "$(get /tiles/all/1/0/0.jpg "${H[@]}")" = 404 ]'
check "a non-numeric z is 400 problem+json naming z" \
    eval '[ "$(get /tiles/all/a/0/0.png "${H[@]}")" = 400 ] && problem 400 && grep -q "\"z\"" "$FM_TMP/body"'
check "a negative x is 400" eval '[ "$(get /tiles/all/3/-1/0.png "${H[@]}")" = 400 ]'
check "y with junk is 400" eval '[ "$(get /tiles/all/3/1/1x.png "${H[@]}")" = 400 ]'
check "a bad t is 400 naming t" \
    eval '[ "$(get "/tiles/all/9/306/206.png?t=yesterday" "${H[@]}")" = 400 ] && grep -q "\"t\"" "$FM_TMP/body"'
check "a past t is served" \
    eval '[ "$(get "/tiles/all/9/306/206.png?t=2020-01-01T00:00:00Z" "${H[@]}")" = 200 ] && [ "$(ctype)" = image/png ]'
check "tiles need a login" eval '[ "$(get /tiles/all/9/306/206.png)" = 401 ]'
check "TileJSON 3.0 names the tile URL" \
    eval '[ "$(get /tiles/all.json "${H[@]}")" = 200 ] &&
          /usr/bin/python3 -c "import json,sys; j=json.load(open(sys.argv[1])); assert j[\"tilejson\"]==\"3.0.0\" and j[\"tiles\"][0].endswith(\"/tiles/all/{z}/{x}/{y}.png\") and j[\"maxzoom\"]==22" "$FM_TMP/body"'
check "TileJSON of an unknown layer is 404" eval '[ "$(get /tiles/roads.json "${H[@]}")" = 404 ]'
check "/map.png is a PNG of the size asked" \
    eval '[ "$(get "/map.png?bbox=35.55,32.6,36.25,33.35&width=1000&height=700&title=Brief" "${H[@]}")" = 200 ] &&
          [ "$(ctype)" = image/png ] && [ "$(png_size "$FM_TMP/body")" = "1000 700 opaque" ]'
check "/map.png takes layers and t" \
    eval '[ "$(get "/map.png?bbox=35.55,32.6,36.25,33.35&layers=zones,incidents&t=2030-01-01T00:00:00Z" "${H[@]}")" = 200 ]'
check "/map.png without bbox frames what the viewer sees (200, a PNG; tiles_briefing.sh holds the frame)" eval '[ "$(get "/map.png" "${H[@]}")" = 200 ] && [ "$(header Content-Type)" = image/png ]'
check "/map.png with three numbers is 400" eval '[ "$(get "/map.png?bbox=1,2,3" "${H[@]}")" = 400 ]'
check "/map.png with an inverted bbox is 400" eval '[ "$(get "/map.png?bbox=36,33,35,32" "${H[@]}")" = 400 ]'
check "/map.png with NaN is 400" eval '[ "$(get "/map.png?bbox=nan,1,2,3" "${H[@]}")" = 400 ]'
check "/map.png past the size limit is 400" eval '[ "$(get "/map.png?bbox=35,32,36,33&width=5000" "${H[@]}")" = 400 ]'
check "/map.png too small is 400" eval '[ "$(get "/map.png?bbox=35,32,36,33&height=10" "${H[@]}")" = 400 ]'
check "/map.png with an unknown layer is 400" eval '[ "$(get "/map.png?bbox=35,32,36,33&layers=roads" "${H[@]}")" = 400 ]'
. "$(dirname "$0")/common.sh"
# the demo's convoy C-7 crosses Range North: the server finds that conflict
fetch conflict "/tiles/conflicts/11/$(tile_of 35.80 33.07 11).png" "${H[@]}"
fetch noconflict "/tiles/conflicts/11/$(tile_of 36.10 32.70 11).png" "${H[@]}"
check "the conflicts layer draws the demo's conflict, and nothing where there is none" \
    '[ "$(pixels conflict noconflict)" -gt 50 ] && [ "$("$PNGDIFF" --pixel "$FM_TMP/noconflict.png" 128 128)" = "0 0 0 0" ]'
fetch conflict_past "/tiles/conflicts/11/$(tile_of 35.80 33.07 11).png?t=2020-01-01T00:00:00Z" "${H[@]}"
check "a picture of the past shows no conflicts of today" '[ "$(pixels conflict_past noconflict)" = 0 ]'
check "the server is still up" eval '[ "$(get /tiles/all/0/0/0.png "${H[@]}")" = 200 ]'
finish

# common.sh - helpers the tile shell tests share (after tests/lib.sh).
# get PATH [curl args...]: body in $FM_TMP/body, headers in $FM_TMP/hdr; prints the status
get() {
    local path=$1
    shift
    rm -f "$FM_TMP/body" "$FM_TMP/hdr"
    curl -s -o "$FM_TMP/body" -D "$FM_TMP/hdr" -w '%{http_code}' "$@" "$FM_URL$path"
}
header() { grep -i "^$1:" "$FM_TMP/hdr" | tr -d '\r' | cut -d' ' -f2-; }
# tile_of LON LAT Z: "X/Y" of the tile holding the point (the OSM formula, in Python)
tile_of() {
    /usr/bin/python3 -c 'import math,sys
lon,lat,z=float(sys.argv[1]),float(sys.argv[2]),int(sys.argv[3]); n=2**z
print("%d/%d" % (int((lon+180)/360*n), int((1-math.asinh(math.tan(math.radians(lat)))/math.pi)/2*n)))' "$@"
}
# fetch NAME PATH [curl args...]: saves the PNG as $FM_TMP/NAME.png, its ETag and cache state
fetch() {
    local name=$1 path=$2
    shift 2
    [ "$(get "$path" "$@")" = 200 ] || return 1
    cp "$FM_TMP/body" "$FM_TMP/$name.png"
    header ETag >"$FM_TMP/$name.etag"
    header X-Tile-Cache >"$FM_TMP/$name.cache"
}
etag_of() { cat "$FM_TMP/$1.etag"; }
cache_of() { cat "$FM_TMP/$1.cache"; }
# pixels A B [SKIP_ROWS]: how many pixels differ
pixels() { "$PNGDIFF" "$FM_TMP/$1.png" "$FM_TMP/$2.png" "${3:-0}"; }
# square LON LAT HALF: a GeoJSON polygon ring around a point
square() {
    /usr/bin/python3 -c 'import sys,json
x,y,h=map(float,sys.argv[1:4])
print(json.dumps({"type":"Polygon","coordinates":[[[x-h,y-h],[x+h,y-h],[x+h,y+h],[x-h,y+h],[x-h,y-h]]]}))' "$@"
}
zone_json() { # GEOMETRY STATUS TITLE
    printf '{"type":"Feature","geometry":%s,"properties":{"title":"%s","type":"restricted","status":"%s","valid_from":"2026-01-01T00:00:00Z","valid_to":"2030-01-01T00:00:00Z"}}' "$1" "$3" "$2"
}

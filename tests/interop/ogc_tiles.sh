#!/usr/bin/env bash
# OGC API - Tiles (issue 22): the tile matrix set WebMercatorQuad, the
# tilesets of the dataset (/map/tiles) and of the collections, and their
# tiles, which are the /tiles tiles: the same bytes, the same cache, the
# same visibility (a draft reaches its own party only). GDAL's OGCAPI
# driver opens a collection's tiles (it said "API AUTO requested, but not
# available") and a window it draws equals the server's own tile.
. "$(dirname "$0")/../lib.sh"
fm_start --demo
TA=$(fm_token liaison-a)
TB=$(fm_token liaison-b)
A=(-H "Authorization: Bearer $TA")
B=(-H "Authorization: Bearer $TB")
JSON=(-H 'Content-Type: application/geo+json')
TMS_URI=http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad
REL=http://www.opengis.net/def/rel/ogc/1.0
WMQ=WebMercatorQuad

# tile LON LAT Z: "z col row" of the tile holding the point
tile() { python3 -c "
import math, sys
lon, lat, z = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
n = 2 ** z
x = int((lon + 180) / 360 * n)
y = int((1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi) / 2 * n)
print(z, x, y)" "$@"; }
# bounds Z COL ROW: the tile's minx miny maxx maxy in EPSG:3857
bounds() { python3 -c "
import sys
z, x, y = map(int, sys.argv[1:4]); h = 20037508.342789244; s = 2 * h / 2 ** z
print('%.6f %.6f %.6f %.6f' % (-h + x * s, h - (y + 1) * s, -h + (x + 1) * s, h - y * s))" "$@"; }
get() { curl -s -o "$FM_TMP/$1" -D "$FM_TMP/$1.h" -w '%{http_code}' "${@:2}"; }
hdr() { grep -i "^$2:" "$FM_TMP/$1.h" | head -n1 | cut -d' ' -f2- | tr -d '\r'; }

# ---- discovery ---------------------------------------------------------------------
check "/conformance declares OGC API - Tiles (core, tileset, tilesets-list, dataset and geodata tilesets, png) and TMS 2.0" \
    'c=$(curl -s "$FM_URL/conformance") &&
     ( for k in core tileset tilesets-list dataset-tilesets geodata-tilesets png oas30; do
         echo "$c" | jq -e --arg u "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/$k" "[.conformsTo[]] | index(\$u)" >/dev/null || exit 1
     done ) && echo "$c" | jq -e "[.conformsTo[]] | index(\"http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset\")" >/dev/null'
check "the landing page links the dataset tilesets and the tile matrix sets; /api documents the tiles paths" \
    'l=$(curl -s "$FM_URL/?f=json") &&
     [ "$(echo "$l" | jq -r ".links[] | select(.rel == \"$REL/tilesets-map\") | .href")" = "$FM_URL/map/tiles" ] &&
     [ "$(echo "$l" | jq -r ".links[] | select(.rel == \"$REL/tiling-schemes\") | .href")" = "$FM_URL/tileMatrixSets" ] &&
     curl -s "$FM_URL/api" | jq -e ".paths[\"/map/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}\"].get and .paths[\"/tileMatrixSets/{tileMatrixSetId}\"].get and .paths[\"/collections/{collectionId}/map/tiles\"].get" >/dev/null'
check "/tileMatrixSets is public and lists WebMercatorQuad; its definition has 23 matrices of 2^z x 2^z tiles of 256 px" \
    '[ "$(get tms "$FM_URL/tileMatrixSets")" = 200 ] && [ "$(jq -r ".tileMatrixSets[0].id" "$FM_TMP/tms")" = $WMQ ] &&
     [ "$(get tms1 "$FM_URL/tileMatrixSets/$WMQ")" = 200 ] && hdr tms1 Content-Type | grep -q "^application/json" &&
     jq -e --arg u "$TMS_URI" ".uri == \$u and .crs == \"http://www.opengis.net/def/crs/EPSG/0/3857\" and (.tileMatrices | length) == 23 and
         all(.tileMatrices[]; .matrixWidth == pow(2; .id | tonumber) and .matrixHeight == .matrixWidth and .tileWidth == 256 and
             (.cellSize * pow(2; .id | tonumber) - 156543.03392804097 | fabs) < 1e-6 and (.pointOfOrigin[0] + 20037508.342789244 | fabs) < 1e-6 and (.pointOfOrigin[1] - 20037508.342789244 | fabs) < 1e-6)" "$FM_TMP/tms1" >/dev/null'
check "the dataset tilesets: one map tileset in WebMercatorQuad, whose item link is templated" \
    '[ "$(get ts "${B[@]}" "$FM_URL/map/tiles")" = 200 ] &&
     jq -e --arg u "$TMS_URI" ".tilesets | length == 1 and .[0].dataType == \"map\" and .[0].tileMatrixSetURI == \$u" "$FM_TMP/ts" >/dev/null &&
     [ "$(get ts1 "${B[@]}" "$FM_URL/map/tiles/$WMQ")" = 200 ] &&
     [ "$(jq -r ".links[] | select(.rel == \"item\" and .type == \"image/png\") | .href" "$FM_TMP/ts1")" = "$FM_URL/map/tiles/$WMQ/{tileMatrix}/{tileRow}/{tileCol}" ] &&
     [ "$(jq -r ".links[] | select(.rel == \"$REL/tiling-scheme\") | .href" "$FM_TMP/ts1")" = "$FM_URL/tileMatrixSets/$WMQ" ]'
check "zones, incidents, movements and conflicts link their own tilesets; a one-geometry view has none (404)" \
    '( for c in zones incidents movements conflicts; do
         [ "$(curl -s "${B[@]}" "$FM_URL/collections/$c" | jq -r ".links[] | select(.rel == \"$REL/tilesets-map\") | .href")" = "$FM_URL/collections/$c/map/tiles" ] || exit 1
         [ "$(get cts "${B[@]}" "$FM_URL/collections/$c/map/tiles/$WMQ")" = 200 ] || exit 1
     done ) &&
     [ -z "$(curl -s "${B[@]}" "$FM_URL/collections/incidents-points" | jq -r ".links[] | select(.rel == \"$REL/tilesets-map\") | .href")" ] &&
     [ "$(req GET /collections/incidents-points/map/tiles "${B[@]}")" = 404 ] && is_problem 404'
check "without credentials: the tilesets and the tiles are 401, the tile matrix sets 200" \
    '[ "$(req GET /map/tiles)" = 401 ] && is_problem 401 && [ "$(req GET /map/tiles/$WMQ/0/0/0)" = 401 ] &&
     [ "$(req GET /collections/zones/map/tiles/$WMQ/0/0/0)" = 401 ] && [ "$(req GET /tileMatrixSets/$WMQ)" = 200 ]'

# ---- tiles are /tiles tiles ----------------------------------------------------------
read -r Z X Y <<<"$(tile 35.9 33.0 10)"
check "a dataset tile {z}/{row}/{col} is /tiles/all/{z}/{col}/{row}.png: same bytes and ETag, and a hit of the same cache" \
    '[ "$(get t1 "${B[@]}" "$FM_URL/tiles/all/$Z/$X/$Y.png")" = 200 ] &&
     [ "$(get o1 "${B[@]}" "$FM_URL/map/tiles/$WMQ/$Z/$Y/$X")" = 200 ] && [ "$(hdr o1 Content-Type)" = image/png ] &&
     cmp -s "$FM_TMP/t1" "$FM_TMP/o1" && [ "$(hdr o1 ETag)" = "$(hdr t1 ETag)" ] && [ "$(hdr o1 X-Tile-Cache)" = hit ]'
check "a collection tile is its layer tile; If-None-Match gets 304; t= is passed on" \
    '[ "$(get t2 "${B[@]}" "$FM_URL/tiles/zones/$Z/$X/$Y.png")" = 200 ] &&
     [ "$(get o2 "${B[@]}" "$FM_URL/collections/zones/map/tiles/$WMQ/$Z/$Y/$X")" = 200 ] && cmp -s "$FM_TMP/t2" "$FM_TMP/o2" &&
     ! cmp -s "$FM_TMP/o1" "$FM_TMP/o2" &&
     [ "$(get o3 "${B[@]}" -H "If-None-Match: $(hdr o2 ETag)" "$FM_URL/collections/zones/map/tiles/$WMQ/$Z/$Y/$X")" = 304 ] &&
     [ "$(get t4 "${B[@]}" "$FM_URL/tiles/all/$Z/$X/$Y.png?t=2020-01-01T00:00:00Z")" = 200 ] &&
     [ "$(get o4 "${B[@]}" "$FM_URL/map/tiles/$WMQ/$Z/$Y/$X?t=2020-01-01T00:00:00Z")" = 200 ] && cmp -s "$FM_TMP/t4" "$FM_TMP/o4" &&
     ! cmp -s "$FM_TMP/o1" "$FM_TMP/o4"'

# ---- visibility: A's draft zone --------------------------------------------------------
read -r DZ DX DY <<<"$(tile 34.65 31.65 11)"
get before "${B[@]}" "$FM_URL/map/tiles/$WMQ/$DZ/$DY/$DX" >/dev/null
get beforez "${B[@]}" "$FM_URL/collections/zones/map/tiles/$WMQ/$DZ/$DY/$DX" >/dev/null
req POST /collections/zones/items "${A[@]}" "${JSON[@]}" \
    -d '{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[34.6,31.6],[34.7,31.6],[34.7,31.7],[34.6,31.7],[34.6,31.6]]]},"properties":{"title":"A draft zone","type":"restricted","status":"draft"}}' >/dev/null
check "A's draft zone is in A's tiles (dataset and zones), never in B's: B's bytes are those of before it" \
    '[ "$(get a1 "${A[@]}" "$FM_URL/map/tiles/$WMQ/$DZ/$DY/$DX")" = 200 ] && [ "$(get b1 "${B[@]}" "$FM_URL/map/tiles/$WMQ/$DZ/$DY/$DX")" = 200 ] &&
     ! cmp -s "$FM_TMP/a1" "$FM_TMP/b1" && cmp -s "$FM_TMP/b1" "$FM_TMP/before" &&
     [ "$(get a2 "${A[@]}" "$FM_URL/collections/zones/map/tiles/$WMQ/$DZ/$DY/$DX")" = 200 ] &&
     [ "$(get b2 "${B[@]}" "$FM_URL/collections/zones/map/tiles/$WMQ/$DZ/$DY/$DX")" = 200 ] &&
     ! cmp -s "$FM_TMP/a2" "$FM_TMP/b2" && cmp -s "$FM_TMP/b2" "$FM_TMP/beforez" &&
     [ "$(get at "${A[@]}" "$FM_URL/tiles/all/$DZ/$DX/$DY.png")" = 200 ] && cmp -s "$FM_TMP/at" "$FM_TMP/a1"'

# ---- bad requests -----------------------------------------------------------------------
check "bad tile requests: out of the matrix 404, not a number 400, z past 22 404, another TMS 404, f=jpeg and unknown parameters 400" \
    '[ "$(req GET /map/tiles/$WMQ/2/4/0 "${B[@]}")" = 404 ] && is_problem 404 &&
     [ "$(req GET /map/tiles/$WMQ/2/x/0 "${B[@]}")" = 400 ] && is_problem 400 &&
     [ "$(req GET /map/tiles/$WMQ/2/1.5/0 "${B[@]}")" = 400 ] && is_problem 400 &&
     [ "$(req GET /map/tiles/$WMQ/23/0/0 "${B[@]}")" = 404 ] && is_problem 404 &&
     [ "$(req GET /map/tiles/WorldCRS84Quad/0/0/0 "${B[@]}")" = 404 ] && is_problem 404 &&
     [ "$(req GET /map/tiles/WorldCRS84Quad "${B[@]}")" = 404 ] && [ "$(req GET /tileMatrixSets/WorldCRS84Quad)" = 404 ] &&
     [ "$(req GET "/map/tiles/$WMQ/0/0/0?f=jpeg" "${B[@]}")" = 400 ] && [ "$(jqb .parameter)" = f ] &&
     [ "$(req GET "/map/tiles/$WMQ/0/0/0?size=512" "${B[@]}")" = 400 ] && [ "$(jqb .parameter)" = size ] &&
     [ "$(req GET "/map/tiles?limit=1" "${B[@]}")" = 400 ] && is_problem 400 &&
     [ "$(req GET /collections/nothing/map/tiles/$WMQ/0/0/0 "${B[@]}")" = 404 ] && is_problem 404'

# ---- GDAL's OGCAPI driver -----------------------------------------------------------------
# GDAL 3.6 reads a collection's bbox as if it were in the tile matrix
# set's CRS (3.7 reprojects it): the area is given in EPSG:3857 with
# -oo MINX..MAXY, and the level with -oo TILEMATRIX (README, GDAL); CACHE=NO:
# no gdalwmscache folder left in the working directory.
read -r GZ GX GY <<<"$(tile 35.9 33.0 11)"
read -r MINX MINY MAXX MAXY <<<"$(bounds "$GZ" "$GX" "$GY")"
OO=(-oo CACHE=NO -oo "TILEMATRIX=$GZ" -oo "MINX=$MINX" -oo "MINY=$MINY" -oo "MAXX=$MAXX" -oo "MAXY=$MAXY")
check "gdalinfo OGCAPI:{collection} opens the zones' tiles (Bearer by GDAL_HTTP_HEADERS): 4 bands of 256 x 256, EPSG:3857" \
    'GDAL_HTTP_HEADERS="Authorization: Bearer $TB" gdalinfo "${OO[@]}" "OGCAPI:$FM_URL/collections/zones" >"$FM_TMP/gi" 2>&1 &&
     grep -q "^Driver: OGCAPI" "$FM_TMP/gi" && grep -q "Size is 256, 256" "$FM_TMP/gi" && grep -q "Band 4" "$FM_TMP/gi" &&
     grep -q "Pseudo-Mercator" "$FM_TMP/gi" && ! grep -q "not available" "$FM_TMP/gi" || { cat "$FM_TMP/gi"; false; }'
# pixel-for-pixel: the PNG GDAL writes against the server's own tile
same_pixels() {
    /usr/bin/python3 - "$1" "$2" <<'PY'
import sys
from osgeo import gdal
a, b = gdal.Open(sys.argv[1]), gdal.Open(sys.argv[2])
if (a.RasterXSize, a.RasterYSize, a.RasterCount) != (b.RasterXSize, b.RasterYSize, b.RasterCount):
    print("sizes differ", a.RasterXSize, a.RasterYSize, a.RasterCount, b.RasterXSize, b.RasterYSize, b.RasterCount); sys.exit(1)
ra, rb = a.ReadRaster(), b.ReadRaster()
diff = sum(1 for x, y in zip(ra, rb) if x != y)
print("differing bytes:", diff, "of", len(ra), "; distinct values:", len(set(ra)))
sys.exit(0 if diff == 0 and len(set(ra)) > 2 else 1)
PY
}
check "gdal_translate of the window (HTTP Basic, user name and token) equals the server's own zones tile, pixel for pixel" \
    'GDAL_HTTP_USERPWD="liaison-b:$TB" gdal_translate -q "${OO[@]}" -of PNG "OGCAPI:$FM_URL/collections/zones" "$FM_TMP/gdal.png" 2>"$FM_TMP/gt.err" &&
     [ "$(get direct "${B[@]}" "$FM_URL/tiles/zones/$GZ/$GX/$GY.png")" = 200 ] &&
     same_pixels "$FM_TMP/gdal.png" "$FM_TMP/direct" || { cat "$FM_TMP/gt.err"; false; }'
check "GDAL without a token gets nothing (401), and says so" \
    '! gdalinfo "${OO[@]}" "OGCAPI:$FM_URL/collections/zones" >"$FM_TMP/gn" 2>&1 && grep -qi "401\|log in" "$FM_TMP/gn"'
finish

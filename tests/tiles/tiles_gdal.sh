#!/usr/bin/env bash
# tiles_gdal.sh - GDAL as the tile client: its WMS driver's TMS minidriver
# reads our XYZ tiles through a GDAL XML description (CLIENTS.md), with a
# bearer token; the picture it assembles for one tile is that tile.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
export FUSIONMAP_BASEMAP=none
fm_start --demo
TOKEN=$(fm_token liaison-a)
A=(-H "Authorization: Bearer $TOKEN")
export GDAL_HTTP_HEADERS="Authorization: Bearer $TOKEN" GDAL_ENABLE_WMS_CACHE=NO GDAL_DEFAULT_WMS_CACHE_PATH=$FM_TMP/wmscache
fm_tms_xml "$FM_TMP/xyz.xml"
# tile 12/X/Y in metres
T=$(tile_of 35.79 33.08 12)
read -r ULX ULY LRX LRY < <(/usr/bin/python3 -c 'import sys
z=12; x,y=map(int,sys.argv[1].split("/")); M=20037508.342789244; s=2*M/2**z
print(-M+x*s, M-y*s, -M+(x+1)*s, M-(y+1)*s)' "$T")
check "gdalinfo reads the tile source (EPSG:3857, 4 bands)" \
    'gdalinfo "$FM_TMP/xyz.xml" >"$FM_TMP/info" 2>&1 && grep -q "Band 4" "$FM_TMP/info" && grep -q "Pseudo-Mercator\|3857" "$FM_TMP/info"'
check "gdal_translate fetches one tile's window" \
    'gdal_translate -q -of PNG -outsize 256 256 -projwin $ULX $ULY $LRX $LRY "$FM_TMP/xyz.xml" "$FM_TMP/gdal.png" 2>"$FM_TMP/gdal.err"'
check "what GDAL assembled is the server's tile, pixel for pixel" \
    'fetch server "/tiles/all/12/$T.png" "${A[@]}" && [ "$(pixels gdal server)" = 0 ]'
check "a larger window is assembled from several tiles (512 px)" \
    'gdal_translate -q -of PNG -outsize 512 512 -projwin 3975000 3925000 4020000 3870000 "$FM_TMP/xyz.xml" "$FM_TMP/big.png" &&
     gdalinfo "$FM_TMP/big.png" | grep -q "Size is 512, 512"'
check "without the token GDAL gets nothing (401 is an error to it)" \
    '! GDAL_HTTP_HEADERS= gdal_translate -q -of PNG -outsize 256 256 -projwin $ULX $ULY $LRX $LRY "$FM_TMP/xyz.xml" "$FM_TMP/none.png" 2>/dev/null ||
     [ "$(pixels none server)" != 0 ]'
finish

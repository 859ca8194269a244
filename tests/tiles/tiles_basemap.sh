#!/usr/bin/env bash
# tiles_basemap.sh - the basemap: the offline countries file built by
# scripts/build-basemap.sh when it is there (with the demo area's towns),
# and any GDAL raster instead (here a GeoTIFF made on the spot), drawn
# under the items.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
gdal_create -q -of GTiff -outsize 100 100 -bands 3 -burn 200 -burn 30 -burn 30 \
    -a_srs EPSG:4326 -a_ullr 35.5 33.5 36.5 32.5 "$FM_TMP/red.tif"
export FUSIONMAP_BASEMAP=$FM_TMP/red.tif
fm_start --demo
A=(-H "Authorization: Bearer $(fm_token liaison-a)")
pixel() { "$PNGDIFF" --pixel "$FM_TMP/$1.png" "$2" "$3"; }
T=$(tile_of 36.3 33.3 10)
fetch in "/tiles/basemap/10/$T.png" "${A[@]}"
check "a raster basemap (GeoTIFF) is drawn in its extent" '[ "$(pixel in 128 128)" = "200 30 30 255" ]'
fetch out "/tiles/basemap/10/$(tile_of 10 10 10).png" "${A[@]}"
check "outside it the tile is sea, opaque" 'set -- $(pixel out 128 128); [ "$4" = 255 ] && [ "$1" != 200 ]'
fetch all "/tiles/all/10/$(tile_of 35.79 33.08 10).png" "${A[@]}"
fetch zones "/tiles/zones/10/$(tile_of 35.79 33.08 10).png" "${A[@]}"
check "layer all draws the items over the raster" '[ "$(pixels all zones)" -gt 1000 ] && [ "$(pixel all 2 2)" = "200 30 30 255" ]'
fm_stop
if [ -f "$FM_SOURCE_DIR/build/basemap/countries.gpkg" ]; then
    export FUSIONMAP_BASEMAP=$FM_SOURCE_DIR/build/basemap/countries.gpkg
    fm_start --demo
    A=(-H "Authorization: Bearer $(fm_token liaison-a)")
    fetch land "/tiles/basemap/8/$(tile_of 36.0 33.0 8).png" "${A[@]}"
    fetch sea "/tiles/basemap/8/$(tile_of 34.0 33.0 8).png" "${A[@]}"
    check "the countries basemap has land inland and sea offshore" \
        '[ "$(pixel land 128 128)" != "$(pixel sea 128 128)" ] && [ "$(pixels land sea)" -gt 10000 ]'
    if command -v pdftotext >/dev/null; then
        get "/map.pdf?bbox=35.45,32.6,36.3,33.4&layers=basemap" "${A[@]}" >/dev/null
        pdftotext "$FM_TMP/body" - | tr -s ' \n' ' ' >"$FM_TMP/places.txt"
        check "the basemap names the demo area's towns (Quneitra, Tiberias, Daraa, Majdal Shams)" \
            'for t in Quneitra Tiberias Daraa "Majdal Shams"; do grep -q "$t" "$FM_TMP/places.txt" || { echo "  missing: $t"; exit 1; }; done'
    fi
fi
finish

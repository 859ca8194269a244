#!/bin/sh
# build-basemap.sh - the offline basemap: Natural Earth 10 m countries from
# the npm package world-atlas (TopoJSON), converted by GDAL into a
# GeoPackage the server loads at start (tiles/basemap.c), with a second
# layer "places": the towns of the demo area from scripts/places-demo.csv
# (name, lat, lon, rank 1-4; positions approximate, to a kilometre or two).
#
#   scripts/build-basemap.sh [OUT_DIR]     default OUT_DIR: build/basemap
#
# Idempotent and quick: does nothing when OUT_DIR/countries.gpkg is newer
# than the TopoJSON. Runs `npm install` first if the package is missing.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/build/basemap}
src=$root/node_modules/world-atlas/countries-10m.json
places=$root/scripts/places-demo.csv
if [ ! -f "$src" ]; then
    (cd "$root" && npm install --no-audit --no-fund >/dev/null)
fi
mkdir -p "$out"
dst=$out/countries.gpkg
if [ -f "$dst" ] && [ "$dst" -nt "$src" ] && [ "$dst" -nt "$places" ]; then
    exit 0
fi
tmp=$out/countries.tmp.gpkg
rm -f "$tmp"
# TopoJSON holds two layers (countries, land); keep the countries, with names.
ogr2ogr -q -f GPKG -nln countries -nlt PROMOTE_TO_MULTI -makevalid "$tmp" "$src" countries
ogr2ogr -q -update -f GPKG -nln places -a_srs EPSG:4326 -oo X_POSSIBLE_NAMES=lon \
    -oo Y_POSSIBLE_NAMES=lat -oo AUTODETECT_TYPE=YES "$tmp" "$places"
mv "$tmp" "$dst"
echo "basemap: $dst"

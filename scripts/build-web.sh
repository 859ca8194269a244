#!/usr/bin/env bash
# build-web.sh - copies the viewer's browser libraries from node_modules (npm
# packages pinned in package-lock.json; run `npm ci` first) into web/vendor/,
# which the server serves under /static/vendor/. No CDN at run time.
# Exits 77 (skipped) when node_modules is missing, so CTest says why.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
nm="$src/node_modules"
out="${1:-$src/web/vendor}"
if [ ! -d "$nm/leaflet" ]; then
    echo "build-web: $nm/leaflet is missing: run 'npm ci' in $src first" >&2
    exit 77
fi
mkdir -p "$out/leaflet/images" "$out/geoman" "$out/mgrs" "$out/milsymbol"
cp "$nm/leaflet/dist/leaflet.js" "$nm/leaflet/dist/leaflet.css" "$out/leaflet/"
cp "$nm/leaflet/dist/images/"*.png "$out/leaflet/images/"
cp "$nm/@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.js" \
   "$nm/@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.css" "$out/geoman/"
cp "$nm/mgrs/dist/mgrs.min.js" "$out/mgrs/"
cp "$nm/milsymbol/dist/milsymbol.js" "$out/milsymbol/"
for p in leaflet @geoman-io/leaflet-geoman-free mgrs milsymbol; do
    printf '%s %s\n' "$p" "$(node -p "require('$nm/$p/package.json').version" 2>/dev/null || echo '?')"
done >"$out/VERSIONS"
echo "build-web: copied into $out: $(tr '\n' ' ' <"$out/VERSIONS")"

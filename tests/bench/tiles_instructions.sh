#!/usr/bin/env bash
# tiles_instructions.sh - instructions per cold tile (valgrind callgrind,
# counting only inside tile_render: the query, the drawing and the PNG).
# Not a test and not timed: instruction counts repeat run after run whatever
# else the machine does, so this is the A/B check for rendering changes;
# tiles_bench.sh gives the rates against MapServer.
#
#   tests/bench/tiles_instructions.sh [ZOOM] [N]     (defaults 12, 20)
#
# Needs build/bench/synthetic.db (made by tiles_bench.sh) and valgrind.
# KEEP=DIR keeps the callgrind output there (for callgrind_annotate).
# Renders one tile unmeasured (the first loads the picture of now into
# memory: data/picture.c), then the first N tiles of a fixed shuffle of
# the zoom's tiles over lon 35.5..36.5, lat 32.5..33.5 as liaison-a, the
# tile cache off. FUSIONMAP_PICTURE=sql counts the SQLite picture instead.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
Z=${1:-12} N=${2:-20}
FM=${FM:-$ROOT/build/server/fusionmap}
DB=${DB:-$ROOT/build/bench/synthetic.db}
PORT=${PORT:-18778}
[ -f "$DB" ] || { echo "no $DB: run tests/bench/tiles_bench.sh once" >&2; exit 1; }
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
FUSIONMAP_BASEMAP=none FUSIONMAP_TILE_CACHE_MB=0 valgrind --tool=callgrind --collect-atstart=no \
    --toggle-collect=${COLLECT:-tile_render} --callgrind-out-file="$OUT/cg.%p" \
    "$FM" serve --db "$DB" --port "$PORT" >"$OUT/log" 2>&1 &
PID=$!
TOK=$("$FM" token add liaison-a --db "$DB")
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/api" && break; sleep 0.3; done
/usr/bin/python3 - "$Z" "$N" >"$OUT/urls" <<'PY'
import math, random, sys
z, n = int(sys.argv[1]), int(sys.argv[2])
tx = lambda lon: int((lon + 180) / 360 * 2**z)
def ty(lat):
    r = math.radians(lat)
    return int((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * 2**z)
p = [(x, y) for x in range(tx(35.5), tx(36.5) + 1) for y in range(ty(33.5), ty(32.5) + 1)]
random.Random(99).shuffle(p)
for x, y in p[:n]:
    print("/tiles/all/%d/%d/%d.png" % (z, x, y))
PY
# the first tile of the process loads the picture of now (data/picture.c):
# render one, then count from zero
curl -s -o /dev/null -H "Authorization: Bearer $TOK" "http://127.0.0.1:$PORT$(head -1 "$OUT/urls")"
callgrind_control --zero "$PID" >/dev/null 2>&1
BYTES=0
while read -r u; do
    b=$(curl -s -o /dev/null -w '%{size_download}' -H "Authorization: Bearer $TOK" "http://127.0.0.1:$PORT$u")
    BYTES=$((BYTES + b))
done <"$OUT/urls"
kill "$PID"
wait "$PID" 2>/dev/null || true
IR=$(grep -h '^summary:' "$OUT"/cg.* | awk '{s += $2} END {printf "%.0f", s}')
if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP" && cp "$OUT"/cg.* "$KEEP"/; fi
echo "z$Z: $N tiles, $((BYTES / N)) bytes and $(echo "scale=1; $IR / $N / 1000000" | bc) M instructions per tile"

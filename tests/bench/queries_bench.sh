#!/usr/bin/env bash
# queries_bench.sh - bbox queries, fusionmap's OGC API - Features against
# MapServer 8's (FastCGI, the peer set-up), in one run.
#
#   tests/bench/queries_bench.sh          (about a minute once the data set is built)
#   SMOKE=1 tests/bench/queries_bench.sh  (CI: the 1/20 data set, 2 s runs, no goal)
#
# The peer's 1000 random 0.12 x 0.12 degree boxes in lon 35.5..36.5, lat
# 32.5..33.5 (its lua/features.lua, seed 4321), limit 100, f=json, with
# wrk (CONNS 16, THREADS 2, DUR 10s after WARMUP 3s): fusionmap's zones
# against MapServer's polygons, incidents against points, on the same
# synthetic data set (tiles_bench.sh builds it, bench_lib.sh). Each
# server alone on the machine while measured, MapServer's FastCGI pool
# (one process per core) started fresh. Prints requests/s, p50/p99 and
# bytes per answer beside the goal (issue 23: >= 5x MapServer).
set -euo pipefail
BENCH_TOOLS=wrk
. "$(dirname "$0")/bench_lib.sh"
CONNS=${CONNS:-16} DUR=${DUR:-10s} WARMUP=${WARMUP:-3s} THREADS=${THREADS:-2}
[ "$SMOKE" = 1 ] && DUR=2s WARMUP=1s
RES="$WORK/queries"
mkdir -p "$RES"
run_wrk() { # NAME SCRIPT URL [-- args]
    local name=$1 script=$2 url=$3
    shift 3
    wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" --timeout 30s -s "$script" "$url" "$@" >/dev/null 2>&1 || true
    wrk -t"$THREADS" -c"$CONNS" -d"$DUR" --timeout 30s --latency -s "$script" "$url" "$@" >"$RES/$name.txt" 2>&1
    grep '^RESULT' "$RES/$name.txt" | tail -1 || { cat "$RES/$name.txt"; echo "RESULT rps=0"; }
}
echo "==> fusionmap: bbox items, limit 100 ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
start_fm "$DB" "$WORK/fm-queries" FUSIONMAP_BASEMAP=none
wait_idle
for c in zones incidents; do echo "$c: $(run_wrk fm_$c "$HERE/lua/fm_items.lua" "$URL" -- $c)"; done
stop_fm
if [ $HAVE_PEER = 1 ]; then
    echo "==> MapServer: OGC API items, limit 100"
    start_ms
    for c in polygons points; do
        echo "$c: $(run_wrk ms_$c "$PEERDIR/lua/features.lua" "$MSURL" -- ogcapi /fcgi/mapserv $c)"
    done
    stop_ms
fi
/usr/bin/python3 - "$RES" "$HAVE_PEER" <<'PY'
import os, sys
res, peer = sys.argv[1], sys.argv[2] == "1"
def kv(name):
    path = os.path.join(res, name + ".txt")
    if not os.path.exists(path): return {}
    line = [l for l in open(path) if l.startswith("RESULT ")]
    return dict(x.split("=") for x in line[-1].split()[1:]) if line else {}
print()
print("%-30s %-26s %-26s %7s   %s" % ("bbox items, limit 100", "fusionmap req/s p50 p99",
                                      "MapServer req/s p50 p99", "ratio", "goal: >= 5x"))
bad = 0
for fm, ms, label in (("fm_zones", "ms_polygons", "zones / polygons"),
                      ("fm_incidents", "ms_points", "incidents / points")):
    a, b = kv(fm), kv(ms)
    ra, rb = float(a.get("rps", 0)), float(b.get("rps", 0) or 0)
    bad += int(a.get("bad", 1)) + int(b.get("bad", 0))
    print("%-30s %6.0f %7s %7s ms   %6.0f %7s %7s ms   %6.2fx   %s" % (
        label, ra, a.get("p50_ms"), a.get("p99_ms"), rb, b.get("p50_ms", "-"), b.get("p99_ms", "-"),
        ra / rb if rb else 0, ("met" if ra >= 5 * rb else "not met") if rb else "(no peer)"))
    print("%-30s %6s bytes/answer %-12s %s bytes" % ("", a.get("avg_body"), "", b.get("avg_body", "-")))
print("bad responses: %d" % bad)
sys.exit(1 if bad else 0)
PY

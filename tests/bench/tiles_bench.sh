#!/usr/bin/env bash
# tiles_bench.sh - tile rendering, fusionmap against MapServer 8, in one run.
#
#   tests/bench/tiles_bench.sh                 (about 8 minutes the first time, 4 after)
#   MODE=restart tests/bench/tiles_bench.sh    (only the sweeps after a restart, and memory)
#   SMOKE=1 tests/bench/tiles_bench.sh         (CI: a 1/20 data set, z10 only, under a minute)
#
# Builds the peer's synthetic data set (10,000 zones, 10,000 incidents, 2,000
# movements, seed 42: tests/bench/load_synthetic.py mirrors the peer's gen.sh)
# into fusionmap over HTTP once (kept in build/bench/synthetic.db), runs the
# peer's MapServer set-up (../shared/peer-mapserver beside the checkout,
# copied, FastCGI under lighttpd, plus a static lighttpd) and then the same
# load against fusionmap:
#   - after a restart: every tile of z10, z12, z14 exactly once, shuffled,
#     16 at a time (tests/bench/sweep.py), on a freshly started fusionmap
#     and a freshly started MapServer FastCGI pool, with fusionmap's RSS
#     idle after the restart, after the sweep and at its peak
#   - cold renders at z10, z12, z14 with wrk (every request another tile;
#     the tile cache off), and one cached tile against the static file server.
# Env: CONNS (16) DUR (10s) WARMUP (3s) THREADS (2) PEER (peer directory)
#      FM (the fusionmap binary) WORK (scratch directory, default build/bench)
#      MODE (all | restart) SMOKE (1: small and short, for CI) ZOOMS (10 12 14)
#      SKIP_PEER (1: MODE=restart without MapServer, for an A/B of fusionmap alone)
# Needs: wrk, lighttpd, mapserver-bin, cgi-mapserver (scripts/apt-packages.txt);
# without MapServer or the peer folder (SMOKE only) the peer's columns stay empty.
set -euo pipefail
MODE=${MODE:-all}
[ "${SMOKE:-0}" = 1 ] && MODE=restart
[ "$MODE" = restart ] || BENCH_TOOLS=wrk
. "$(dirname "$0")/bench_lib.sh"
CONNS=${CONNS:-16} DUR=${DUR:-10s} WARMUP=${WARMUP:-3s} THREADS=${THREADS:-2}
ZOOMS=${ZOOMS:-10 12 14}
[ "$SMOKE" = 1 ] && ZOOMS=10
if [ $HAVE_PEER = 1 ] && [ "$MODE" = all ]; then
    echo "==> MapServer 8 (peer run.sh: static, fcgi_tiles)"
    (cd "$PEERDIR" && RES="$WORK/peer-results" CONNS=$CONNS DUR=$DUR WARMUP=$WARMUP \
        THREADS=$THREADS CASES="static fcgi_tiles" ./run.sh >"$WORK/peer.log" 2>&1) ||
        { tail -20 "$WORK/peer.log"; exit 1; }
fi

# ---- every tile of a zoom once, right after a restart ----------------------------------------
RES="$WORK/fm-results"
mkdir -p "$RES"
sweep_field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" "$1"; }
echo "==> every tile of a zoom once, shuffled, $CONNS at a time, right after a restart"
: >"$RES/restart.txt"
for z in $ZOOMS; do
    # fusionmap: from the exec to the first answered request
    t0=$(date +%s.%N)
    start_fm "$DB" "$WORK/fm-restart" FUSIONMAP_BASEMAP=none
    until [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/")" != 000 ]; do sleep 0.02; done
    up=$(echo "$(date +%s.%N) - $t0" | bc)
    pid=${PIDS[-1]}
    idle=$(rss_kb "$pid") cpu0=$(cpu_ticks "$pid")
    /usr/bin/python3 "$HERE/sweep.py" fm "$URL" "$z" "$CONNS" >"$RES/restart_fm_z$z.txt"
    echo "fm z$z up_s=$up rss_idle_kb=$idle rss_after_kb=$(rss_kb "$pid") rss_peak_kb=$(hwm_kb "$pid")" \
        "anon_kb=$(awk '/^RssAnon/{print $2}' /proc/$pid/status) file_kb=$(awk '/^RssFile/{print $2}' /proc/$pid/status)" \
        "cpu_ticks=$(( $(cpu_ticks "$pid") - cpu0 ))" >>"$RES/restart.txt"
    stop_fm
    if [ $HAVE_PEER = 1 ]; then
        start_ms
        kids=$(pgrep -P "$MSPID" | tr '\n' ' ')
        cpu0=0; for k in $kids; do cpu0=$((cpu0 + $(cpu_ticks "$k"))); done
        /usr/bin/python3 "$HERE/sweep.py" ms "$MSURL" "$z" "$CONNS" >"$RES/restart_ms_z$z.txt"
        cpu=0; for k in $kids; do cpu=$((cpu + $(cpu_ticks "$k"))); done
        echo "ms z$z cpu_ticks=$((cpu - cpu0))" >>"$RES/restart.txt"
        stop_ms
    else
        echo "RESULT" >"$RES/restart_ms_z$z.txt"
    fi
done
/usr/bin/python3 - "$RES" "$ZOOMS" "$DB.rss" <<'PY'
import os, sys
res, zooms, rssf = sys.argv[1], sys.argv[2].split(), sys.argv[3]
def kv(path):
    line = [l for l in open(path) if l.startswith("RESULT")][-1]
    return dict(x.split("=") for x in line.split()[1:])
mem = {}
for l in open(os.path.join(res, "restart.txt")):
    w = l.split()
    mem[w[0] + w[1]] = dict(x.split("=") for x in w[2:])
hz = os.sysconf("SC_CLK_TCK")
print()
print("%-6s %6s %-28s %-28s %7s   %s" % ("zoom", "tiles", "fusionmap tiles/s p50 p99",
                                           "MapServer tiles/s p50 p99", "ratio", "goal: >= 2x, p99 below MapServer's"))
fails = 0
for z in zooms:
    a, b = kv(os.path.join(res, "restart_fm_z%s.txt" % z)), kv(os.path.join(res, "restart_ms_z%s.txt" % z))
    ra, rb = float(a["rps"]), float(b.get("rps", 0))
    ok = rb and ra >= 2 * rb and float(a["p99_ms"]) < float(b["p99_ms"])
    fails += int(a["bad"]) + int(b.get("bad", 0))
    print("z%-5s %6s %6.0f %8s %8s ms %6.0f %8s %8s ms %6.2fx   %s" % (
        z, a["tiles"], ra, a["p50_ms"], a["p99_ms"], rb, b.get("p50_ms", "-"), b.get("p99_ms", "-"),
        ra / rb if rb else 0, "met" if ok else "not met" if rb else "(no peer)"))
print("%-6s %6s %-28s %-28s" % ("", "", "CPU ms/tile: fusionmap", "MapServer (the servers' own)"))
for z in zooms:
    a, b = kv(os.path.join(res, "restart_fm_z%s.txt" % z)), mem.get("msz" + z)
    n = int(a["tiles"])
    print("z%-5s %6s %28.1f %28s" % (z, "", 1000.0 * int(mem["fmz" + z]["cpu_ticks"]) / hz / n,
          "%.1f" % (1000.0 * int(b["cpu_ticks"]) / hz / n) if b else "-"))
print("%-6s %6s %-28s %-28s" % ("", "", "bytes/tile: fusionmap", "MapServer (goal: at or below)"))
for z in zooms:
    a, b = kv(os.path.join(res, "restart_fm_z%s.txt" % z)), kv(os.path.join(res, "restart_ms_z%s.txt" % z))
    print("z%-5s %6s %28s %28s   %s" % (z, "", a["avg_body"], b.get("avg_body", "-"),
          "met" if b and int(a["avg_body"]) <= int(b.get("avg_body", 0)) else "not met" if b else ""))
print()
print("fusionmap memory (RSS, MB; goal: idle <= 100, peak <= 200, the tile cache counted)")
if os.path.exists(rssf):
    print("  " + open(rssf).read().strip())
for z in zooms:
    m = mem["fmz" + z]
    print("  z%s sweep: up in %.2f s, idle after the restart %.0f, after the sweep %.0f (anon %.0f,"
          " file %.0f), peak %.0f" % (
        z, float(m["up_s"]), int(m["rss_idle_kb"]) / 1024, int(m["rss_after_kb"]) / 1024,
        int(m["anon_kb"]) / 1024, int(m["file_kb"]) / 1024, int(m["rss_peak_kb"]) / 1024))
print("bad responses: %d" % fails)
sys.exit(1 if fails else 0)
PY
[ "$MODE" = restart ] && exit 0

# ---- fusionmap --------------------------------------------------------------------------------
export PEER_LUA="$PEERDIR/lua"
run_wrk() { # NAME SCRIPT URL [-- args]
    local name=$1 script=$2 url=$3
    shift 3
    wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" --timeout 30s -s "$script" "$url" "$@" >/dev/null 2>&1 || true
    wrk -t"$THREADS" -c"$CONNS" -d"$DUR" --timeout 30s --latency -s "$script" "$url" "$@" >"$RES/$name.txt" 2>&1
    grep '^RESULT' "$RES/$name.txt" | tail -1 || { cat "$RES/$name.txt"; echo "RESULT rps=0"; }
}
echo "==> fusionmap, cold renders (tile cache off)"
start_fm "$DB" "$WORK/fm-cold" FUSIONMAP_BASEMAP=none FUSIONMAP_TILE_CACHE_MB=0
wait_idle
for z in 10 12 14; do
    echo "z$z: $(run_wrk cold_z$z "$HERE/lua/fm_tiles.lua" "$URL" -- $z all)"
done
stop_fm
echo "==> fusionmap, one cached tile"
start_fm "$DB" "$WORK/fm-warm" FUSIONMAP_BASEMAP=none
wait_idle
TILE="/tiles/all/12/2453/1651.png"
mkdir -p "$WORK/same-png/www" "$WORK/same-png/run"
curl -s -o "$WORK/same-png/www/tile.png" -H "Authorization: Bearer $FM_TOKEN" "$URL$TILE"
echo "cached: $(run_wrk cached "$HERE/lua/fm_fixed.lua" "$URL$TILE")"
stop_fm

# ---- the same PNG from a static file server ----------------------------------------------------
# The peer's static figure is for its own 54.5 KB tile; this one serves the
# bytes of fusionmap's cached tile (same lighttpd settings: nproc workers).
SAME="$WORK/same-png"
SPORT=$(free_port)
sed "s|@HERE@|$SAME|g; s|@PORT@|$SPORT|g; s|@WORKERS@|$(nproc)|g" \
    "$PEERDIR/conf/lighttpd-static.conf.in" >"$SAME/run/lighttpd.conf"
setsid lighttpd -D -f "$SAME/run/lighttpd.conf" &
LPID=$!
for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$SPORT/tile.png" && break; sleep 0.1; done
echo "same PNG, static: $(run_wrk static_same "$HERE/lua/fm_fixed.lua" "http://127.0.0.1:$SPORT/tile.png")"
kill -- -"$LPID" 2>/dev/null || kill "$LPID"
wait "$LPID" 2>/dev/null || true

# ---- side by side -----------------------------------------------------------------------------
/usr/bin/python3 - "$WORK/peer-results/summary.tsv" "$RES" "$(nproc)" <<'PY'
import sys, csv, re, os
peer_tsv, res, ncpu = sys.argv[1:]
peer = {r["case"]: r for r in csv.DictReader(open(peer_tsv), delimiter="\t")}
def fm(name):
    line = [l for l in open(os.path.join(res, name + ".txt")) if l.startswith("RESULT ")]
    return dict(x.split("=") for x in line[-1].split()[1:]) if line else {}
def pick(prefix):
    for k, v in peer.items():
        if k.startswith(prefix): return v
    return {}
print()
print("%-34s %12s %12s %8s   %s" % ("figure", "fusionmap", "MapServer", "ratio", "p50 / p99 ms (fusionmap | peer)"))
rows = [("cold render z10, req/s", fm("cold_z10"), pick("fcgi_wms_z10")),
        ("cold render z12, req/s", fm("cold_z12"), pick("fcgi_wms_z12")),
        ("cold render z14, req/s", fm("cold_z14"), pick("fcgi_wms_z14"))]
for label, a, b in rows:
    ra, rb = float(a.get("rps", 0)), float(b.get("rps", 0) or 0)
    print("%-34s %12.0f %12.0f %7.2fx   %s / %s | %s / %s" % (label, ra, rb, ra / rb if rb else 0,
          a.get("p50_ms"), a.get("p99_ms"), b.get("p50_ms"), b.get("p99_ms")))
c = fm("cached")
s = pick("static_tile_%sworkers" % ncpu) or pick("static_tile")
ra, rb = float(c.get("rps", 0)), float(s.get("rps", 0) or 0)
print("%-34s %12.0f %12.0f %7.2fx   %s / %s | %s / %s" % ("cached tile vs static file, req/s", ra, rb,
      ra / rb if rb else 0, c.get("p50_ms"), c.get("p99_ms"), s.get("p50_ms"), s.get("p99_ms")))
s2 = fm("static_same")
rb2 = float(s2.get("rps", 0) or 0)
print("%-34s %12.0f %12.0f %7.2fx   %s / %s | %s / %s" % ("cached tile vs the same PNG static", ra,
      rb2, ra / rb2 if rb2 else 0, c.get("p50_ms"), c.get("p99_ms"), s2.get("p50_ms"),
      s2.get("p99_ms")))
print("(sizes: fusionmap's tile %d B, the peer's static file %d B)" % (
      os.path.getsize(os.path.join(res, "..", "same-png", "www", "tile.png")),
      os.path.getsize(os.path.join(res, "..", "peer", "www", "static", "tile.png"))))
bad = sum(int(fm(n).get("bad", 0)) for n in ("cold_z10", "cold_z12", "cold_z14"))
print("\ntargets: cold >= 2x MapServer, cached >= 0.7x static.  bad responses (fusionmap): %d" % bad)
print("raw: %s, %s" % (res, os.path.dirname(peer_tsv)))
PY

#!/usr/bin/env bash
# tiles_bench.sh - tile rendering, fusionmap against MapServer 8, in one run.
#
#   tests/bench/tiles_bench.sh            (about 8 minutes the first time, 3 after)
#
# Builds the peer's synthetic data set (10,000 zones, 10,000 incidents, 2,000
# movements, seed 42: tests/bench/load_synthetic.py mirrors the peer's gen.sh)
# into fusionmap over HTTP once (kept in build/bench/synthetic.db), runs the
# peer's MapServer set-up (/work/shared/peer-mapserver, copied, FastCGI under
# lighttpd, plus a static lighttpd) and then the same wrk load against
# fusionmap: cold renders at z10, z12, z14 (every request another tile; the
# tile cache off), and one cached tile against the static file server.
# Env: CONNS (16) DUR (10s) WARMUP (3s) THREADS (2) PEER (peer directory)
#      FM (the fusionmap binary) WORK (scratch directory, default build/bench)
# Needs: wrk, lighttpd, mapserver-bin, cgi-mapserver (scripts/apt-packages.txt).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/tests/bench"
PEER_SRC=${PEER:-/work/shared/peer-mapserver}
WORK=${WORK:-$ROOT/build/bench}
FM=${FM:-$ROOT/build/server/fusionmap}
CONNS=${CONNS:-16} DUR=${DUR:-10s} WARMUP=${WARMUP:-3s} THREADS=${THREADS:-2}
mkdir -p "$WORK"
[ -x "$FM" ] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 1; }
for tool in wrk lighttpd mapserv; do
    command -v $tool >/dev/null || { echo "missing $tool (scripts/apt-packages.txt)" >&2; exit 1; }
done

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done; return 0; }
trap cleanup EXIT
start_fm() { # DB LOG [env...]: starts fusionmap, sets URL
    local db=$1 log=$2
    shift 2
    env "$@" "$FM" serve --db "$db" --port 0 ${FM_ARGS:-} >"$log.out" 2>"$log.err" &
    PIDS+=($!)
    for _ in $(seq 100); do
        URL=$(grep -o 'http://[0-9.]*:[0-9]\+' "$log.out" 2>/dev/null | head -1) && [ -n "$URL" ] && return 0
        sleep 0.1
    done
    echo "fusionmap did not start" >&2
    cat "$log.err" >&2
    exit 1
}
# wait_idle: the server may work at start-up (conflict re-checks on a big
# store); measure only once its CPU time stops growing (at most 5 minutes)
wait_idle() {
    local pid=${PIDS[-1]} prev=-1 cur quiet=0
    for _ in $(seq 300); do
        cur=$(awk '{print $14 + $15}' "/proc/$pid/stat")
        if [ "$prev" -ge 0 ] && [ $((cur - prev)) -le 3 ]; then quiet=$((quiet + 1)); else quiet=0; fi
        [ $quiet -ge 3 ] && return 0
        prev=$cur
        sleep 1
    done
}
stop_fm() { kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true; unset 'PIDS[-1]'; }

# ---- the data set in fusionmap (once) -------------------------------------------------------
DB="$WORK/synthetic.db"
if [ ! -f "$DB" ]; then
    echo "==> loading the synthetic data set into fusionmap (a few minutes, once)"
    rm -f "$DB.tmp"*
    FM_ARGS=--demo start_fm "$DB.tmp" "$WORK/load" FUSIONMAP_BASEMAP=none
    TOKENS=$(for u in liaison-a liaison-b supervisor; do "$FM" token add $u --db "$DB.tmp"; done)
    /usr/bin/python3 "$HERE/load_synthetic.py" "$URL" $TOKENS
    stop_fm
    mv "$DB.tmp" "$DB"
    rm -f "$DB.tmp"*
fi
[ -n "$(sqlite3 "$DB" 'select 1 from users limit 1' 2>/dev/null)" ] || { echo "bad $DB" >&2; exit 1; }

# ---- MapServer: the peer's own run, in a copy -----------------------------------------------
PEERDIR="$WORK/peer"
if [ ! -d "$PEERDIR" ]; then cp -r "$PEER_SRC" "$PEERDIR"; fi
echo "==> MapServer 8 (peer run.sh: static, fcgi_tiles)"
(cd "$PEERDIR" && RES="$WORK/peer-results" CONNS=$CONNS DUR=$DUR WARMUP=$WARMUP THREADS=$THREADS \
    CASES="static fcgi_tiles" ./run.sh >"$WORK/peer.log" 2>&1) || { tail -20 "$WORK/peer.log"; exit 1; }

# ---- fusionmap --------------------------------------------------------------------------------
export PEER_LUA="$PEERDIR/lua"
RES="$WORK/fm-results"
mkdir -p "$RES"
run_wrk() { # NAME SCRIPT URL [-- args]
    local name=$1 script=$2 url=$3
    shift 3
    wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" --timeout 30s -s "$script" "$url" "$@" >/dev/null 2>&1 || true
    wrk -t"$THREADS" -c"$CONNS" -d"$DUR" --timeout 30s --latency -s "$script" "$url" "$@" >"$RES/$name.txt" 2>&1
    grep '^RESULT' "$RES/$name.txt" | tail -1 || { cat "$RES/$name.txt"; echo "RESULT rps=0"; }
}
export FM_TOKEN=$("$FM" token add liaison-a --db "$DB")
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
SPORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
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

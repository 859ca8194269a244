# tests/bench/bench_lib.sh - shared by the benchmarks against MapServer
# (tiles_bench.sh, queries_bench.sh): sourced after `set -euo pipefail`.
#
# Sets ROOT, HERE, PEER_SRC, SMOKE, WORK, FM, SCALE, HAVE_PEER, DB and
# FM_TOKEN; gives start_fm/stop_fm (fusionmap on port 0, sets URL),
# start_ms/stop_ms (the peer's FastCGI MapServer pool under lighttpd, sets
# MSURL and MSPID), wait_idle, cpu_ticks, rss_kb, hwm_kb, free_port.
# Builds the synthetic data set into fusionmap over HTTP once
# (build/bench/synthetic.db, or the 1/20 set for SMOKE=1) and a copy of
# the peer's set-up (build/bench/peer) with its run/ configuration.
# BENCH_TOOLS lists the tools the caller needs beside lighttpd and mapserv.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/tests/bench"
# the peer set-up: ../shared/peer-mapserver beside this checkout, or beside
# the main checkout when this one is a git worktree elsewhere
find_peer() {
    local main
    [ -d "$ROOT/../shared/peer-mapserver" ] && { (cd "$ROOT/../shared/peer-mapserver" && pwd); return; }
    main=$(git -C "$ROOT" rev-parse --path-format=absolute --git-common-dir 2>/dev/null) || return 0
    [ -d "$main/../../shared/peer-mapserver" ] && (cd "$main/../../shared/peer-mapserver" && pwd)
    return 0
}
PEER_SRC=${PEER:-$(find_peer)}
SMOKE=${SMOKE:-0}
WORK=${WORK:-$ROOT/build/bench}
FM=${FM:-$ROOT/build/server/fusionmap}
SCALE=1
[ "$SMOKE" = 1 ] && SCALE=20
mkdir -p "$WORK"
[ -x "$FM" ] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 1; }
HAVE_PEER=1
[ -n "$PEER_SRC" ] && [ -d "$PEER_SRC" ] || HAVE_PEER=0
for tool in ${BENCH_TOOLS:-} lighttpd mapserv; do
    command -v $tool >/dev/null && continue
    [ "$SMOKE" = 1 ] && [ $tool = lighttpd -o $tool = mapserv ] && { HAVE_PEER=0; continue; }
    echo "missing $tool (scripts/apt-packages.txt)" >&2; exit 1
done
[ "${SKIP_PEER:-0}" = 1 ] && HAVE_PEER=0
if [ $HAVE_PEER = 0 ]; then
    [ "$SMOKE" = 1 ] || [ "${SKIP_PEER:-0}" = 1 ] || { echo "no peer set-up: give PEER=dir (../shared/peer-mapserver)" >&2; exit 1; }
    echo "(no MapServer peer here: fusionmap only)"
fi

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done; return 0; }
trap cleanup EXIT
start_fm() { # DB LOG [env...]: starts fusionmap, sets URL
    local db=$1 log=$2
    shift 2
    rm -f "$log.out" # else the URL of the previous server there may be read before this one writes
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
# wait_idle: the server may work at start-up; measure only once its CPU
# time stops growing (at most 5 minutes)
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
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS/{print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM/{print $2}' "/proc/$1/status"; }
rss_line() { echo "$1: RSS $(( $(rss_kb "$2") / 1024 )) MB, peak $(( $(hwm_kb "$2") / 1024 )) MB"; }
stop_fm() { kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true; unset 'PIDS[-1]'; }

# ---- the data set in fusionmap (once) -------------------------------------------------------
DB="$WORK/synthetic.db"
[ "$SCALE" = 1 ] || DB="$WORK/synthetic-1in$SCALE.db"
if [ ! -f "$DB" ]; then
    echo "==> loading the synthetic data set into fusionmap (a few minutes, once)"
    rm -f "$DB.tmp"*
    FM_ARGS=--demo start_fm "$DB.tmp" "$WORK/load" FUSIONMAP_BASEMAP=none
    TOKENS=$(for u in liaison-a liaison-b supervisor; do "$FM" token add $u --db "$DB.tmp"; done)
    /usr/bin/python3 "$HERE/load_synthetic.py" "$URL" $TOKENS $SCALE
    sleep 1
    rss_line "the server that loaded them" "${PIDS[-1]}" | tee "$DB.rss"
    stop_fm
    mv "$DB.tmp" "$DB"
    rm -f "$DB.tmp"*
fi
[ -n "$(sqlite3 "$DB" 'select 1 from users limit 1' 2>/dev/null)" ] || { echo "bad $DB" >&2; exit 1; }
export FM_TOKEN=$("$FM" token add liaison-a --db "$DB")

# ---- MapServer: the peer's set-up, in a copy ------------------------------------------------
PEERDIR="$WORK/peer"
if [ $HAVE_PEER = 1 ]; then
    if [ ! -d "$PEERDIR" ]; then cp -r "$PEER_SRC" "$PEERDIR"; fi
    (cd "$PEERDIR" && { [ -f data/peer.sqlite ] || ./gen.sh >/dev/null; } && mkdir -p run www &&
        sed "s|@HERE@|$PEERDIR|g" conf/mapserver.conf.in >run/mapserver.conf &&
        sed "s|@HERE@|$PEERDIR|g; s|@ONLINE@|http://127.0.0.1/|g" peer.map >run/peer.map)
fi
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start_ms() { # sets MSURL, MSPID: lighttpd (setsid) and its FastCGI mapserv pool
    local port
    port=$(free_port)
    sed "s|@HERE@|$PEERDIR|g; s|@PORT@|$port|g; s|@FCGI_PROCS@|$(nproc)|g" \
        "$PEERDIR/conf/lighttpd.conf.in" >"$PEERDIR/run/lighttpd-sweep.conf"
    setsid lighttpd -D -f "$PEERDIR/run/lighttpd-sweep.conf" &
    MSPID=$!
    MSURL="http://127.0.0.1:$port"
    for _ in $(seq 100); do curl -s -o /dev/null "$MSURL/" && return 0; sleep 0.1; done
    echo "MapServer's lighttpd did not start" >&2
    exit 1
}
stop_ms() { # lighttpd, then its FastCGI children, by pid
    local kids
    kids=$(pgrep -P "$MSPID" 2>/dev/null | tr '\n' ' ')
    kill "$MSPID" 2>/dev/null || true
    wait "$MSPID" 2>/dev/null || true
    for k in $kids; do kill "$k" 2>/dev/null || true; done
    for _ in $(seq 20); do
        local alive=0
        for k in $kids; do if kill -0 "$k" 2>/dev/null; then alive=1; fi; done
        if [ $alive = 0 ]; then break; fi
        sleep 0.1
    done
    for k in $kids; do kill -9 "$k" 2>/dev/null || true; done
    return 0
}

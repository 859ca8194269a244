#!/usr/bin/env bash
# tiles_warm.sh - no cold start (issue 23): what the first burst of tile
# requests after a restart would wait for is ready before the server
# listens. The in-memory picture of the items (data/picture.c) is loaded
# once, at start-up (its log line is there as soon as the port is), and
# the first tiles of a burst do not load it again; they come back 200
# with the items drawn. After a write, the picture follows the log (no
# second full load either). No connection maps the database file.
. "$(dirname "$0")/../lib.sh"
export FUSIONMAP_BASEMAP=none
# fm_start, with a minute for a start under ASan on a busy machine
start() {
    fm_start "$@" 2>/dev/null && return 0
    for _ in $(seq 600); do
        FM_URL=$(grep -o 'http://[0-9.]*:[0-9]\+' "$FM_TMP/serve.out" 2>/dev/null | head -n1)
        [ -n "$FM_URL" ] && return 0
        sleep 0.1
    done
    return 1
}
start --demo
fm_stop
# a restart on the demo data: the picture is loaded before the port opens
: >"$FM_TMP/serve.err"
start
loaded() { grep -c 'picture: [0-9]* items' "$FM_TMP/serve.err"; }
check "the picture is loaded before the server listens" '[ "$(loaded)" = 1 ]'
check "it holds the demo items" 'grep -q "picture: [1-9][0-9]* items" "$FM_TMP/serve.err"'
TV=$(fm_token viewer)
# a burst of 16 at once over the demo area (z12), as a wall reconnecting
pids=()
for x in 2453 2454 2455 2456; do
    for y in 1647 1648 1649 1650; do
        curl -s -o "$FM_TMP/t_${x}_$y.png" -w '%{http_code}\n' -H "Authorization: Bearer $TV" \
            "$FM_URL/tiles/all/12/$x/$y.png" >"$FM_TMP/code_${x}_$y" &
        pids+=($!)
    done
done
wait "${pids[@]}"
check "the burst's 16 tiles are 200" '[ "$(cat "$FM_TMP"/code_* | sort -u)" = 200 ]'
check "and PNGs" '[ "$(for f in "$FM_TMP"/t_*.png; do head -c 4 "$f" | tail -c 3; echo; done | sort -u)" = PNG ]'
check "the burst did not load the picture again" '[ "$(loaded)" = 1 ]'
# memory (issue 23): no connection maps the database file (each mmap
# counted the pages it touched in the RSS again); the WAL index may
check "no connection maps the database file" '! grep -q "test\.db$" /proc/$FM_PID/maps'
# a write: the picture follows the log, one item at a time
TA=$(fm_token liaison-a)
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TA" \
    -H 'Content-Type: application/geo+json' -d '{"type":"Feature","geometry":{"type":"Point","coordinates":[36.0,33.0]},"properties":{"title":"after the start","category":"other","severity":2,"occurred_at":"2026-06-01T00:00:00Z"}}' \
    "$FM_URL/collections/incidents/items")
check "a write after the start is 201" '[ "$code" = 201 ]'
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TV" "$FM_URL/tiles/all/12/2457/1649.png")
check "a tile after the write is 200" '[ "$code" = 200 ]'
check "and the picture was not loaded whole again" '[ "$(loaded)" = 1 ]'
fm_stop
finish

#!/usr/bin/env bash
# A writer is never refused while the conflict re-check runs (issue 23).
# The re-check thread (server/conflicts.c) re-checks every live item in
# chunks, each a write transaction; writers queue with it for the write
# lock, first come first served (data/sqlite/db.c), instead of polling
# SQLite's lock, which once let a waiting writer miss every window for
# 10 s and answer 500 "database is locked". Here: some 2,000 items (800
# under ASan), a re-check every second, and 8 clients creating 320 items
# (160) meanwhile;
# every create answers 201, and the re-check thread (nice 10: the only
# one) worked during the writes. Loopback only, bounded in count and time.
. "$(dirname "$0")/../lib.sh"
export FUSIONMAP_BASEMAP=none
WRITES=${WRITES:-320}
ZONES=1700 MOVES=300
# under ASan a create and a re-check pass take some 10 times longer
[ "${FM_SANITIZED:-0}" = 1 ] && WRITES=${WRITES_SANITIZED:-160} ZONES=700 MOVES=120
# the items, imported through the command line before the server starts
# (one transaction per file): zones and movements in the area the writes
# go to, so that the re-check and the writes' conflict checks meet them
fm_start --demo
fm_stop
/usr/bin/python3 - "$FM_TMP" $ZONES $MOVES <<'PY'
import json, math, random, sys
rnd = random.Random(7)
def ring(cx, cy, r, k):
    a0 = rnd.uniform(0, 6.28)
    pts = [[round(cx + r * math.cos(a0 + j * 6.2832 / k), 7), round(cy + r * math.sin(a0 + j * 6.2832 / k), 7)]
           for j in range(k)]
    return pts + [pts[0]]
P = {"valid_from": "2026-01-01T00:00:00Z", "valid_to": "2030-01-01T00:00:00Z"}
zones = [{"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring(
    rnd.uniform(35.51, 36.49), rnd.uniform(32.51, 33.49), rnd.uniform(0.0005, 0.005), rnd.randint(5, 24))]},
    "properties": dict(P, title="z%d" % i, type="restricted")} for i in range(int(sys.argv[2]))]
moves = []
for i in range(int(sys.argv[3])):
    x, y = rnd.uniform(35.52, 36.48), rnd.uniform(32.52, 33.48)
    pts = [[x, y]]
    for _ in range(rnd.randint(2, 12)):
        x, y = x + rnd.uniform(-0.004, 0.004), y + rnd.uniform(-0.004, 0.004)
        pts.append([round(x, 7), round(y, 7)])
    moves.append({"type": "Feature", "geometry": {"type": "LineString", "coordinates": pts},
                  "properties": dict(P, title="m%d" % i, type="ground", corridor_width_m=300)})
for name, fs in (("zones", zones), ("movements", moves)):
    json.dump({"type": "FeatureCollection", "features": fs}, open("%s/%s.geojson" % (sys.argv[1], name), "w"))
PY
for c in zones movements; do
    "$FUSIONMAP" import "$FM_TMP/$c.geojson" --collection $c --party A --db "$FM_DB" >"$FM_TMP/import-$c.out" 2>&1 || { cat "$FM_TMP/import-$c.out"; exit 1; }
done
LIVE=$(sqlite3 "$FM_DB" "SELECT count(*) FROM item_versions WHERE sys_to IS NULL")
check "the items to re-check are there ($LIVE)" '[ "$LIVE" -ge $((ZONES + MOVES)) ]'

FM_CONFLICT_RECHECK_S=1 fm_start
TA=$(fm_token liaison-a)
TB=$(fm_token liaison-b)
# the re-check thread: the server's only thread at nice 10; its CPU ticks
recheck_tid() {
    local t
    for t in /proc/$FM_PID/task/*; do
        [ "$(sed 's/.*) //' "$t/stat" | awk '{print $17}')" = 10 ] && { basename "$t"; return; }
    done
}
ticks() { sed 's/.*) //' "/proc/$FM_PID/task/$1/stat" | awk '{print $12 + $13}'; }
TID=
for _ in $(seq 100); do TID=$(recheck_tid) && [ -n "$TID" ] && break; sleep 0.1; done
check "the re-check thread is found (nice 10)" '[ -n "$TID" ]'
# its first pass is one interval after the start: wait until it works
T0=$(ticks "$TID")
for _ in $(seq 600); do [ "$(ticks "$TID")" -gt "$T0" ] && break; sleep 0.1; done
check "the re-check started" '[ "$(ticks "$TID")" -gt "$T0" ]'

T1=$(ticks "$TID")
timeout 600 /usr/bin/python3 "$FM_SOURCE_DIR/tests/bench/writes.py" "$FM_URL" "$TA" "$TB" "$WRITES" 8 \
    >"$FM_TMP/writes.out" 2>"$FM_TMP/writes.err"
T2=$(ticks "$TID")
cat "$FM_TMP/writes.out"
RESULT=$(grep '^RESULT' "$FM_TMP/writes.out")
field() { echo "$RESULT" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
check "the re-check ran while the clients wrote ($((T2 - T1)) ticks of its CPU)" \
    '[ $((T2 - T1)) -ge 5 ]'
check "all $WRITES creates were answered" '[ "$(field n)" = "$WRITES" ]'
check "every one 201, none refused ($(field bad) not)" '[ "$(field bad)" = 0 ]'
head -n 3 "$FM_TMP/writes.err"
check "no \"database is locked\" in the server's log" '! grep -q "database is locked" "$FM_TMP/serve.err"'
# (a failed pass is a warning; "this server does it", its turn, is news)
check "no re-check failed" '! grep -q " warn conflict re-check: " "$FM_TMP/serve.err"'
fm_stop
finish

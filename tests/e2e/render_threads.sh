#!/usr/bin/env bash
# The render threads (server/defer.c, FUSIONMAP_RENDER_THREADS; issue 23):
# a burst of distinct uncached tiles, 16 at a time, as a wall reconnecting
# after a restart, is answered whole and right with 2 render threads and
# with none (in place, on the connections' workers): every tile 200, a
# PNG, rendered for this burst (X-Tile-Cache: miss), within a bound, each
# connection its own tile (the same bytes as the other mode's and as a
# second, one-at-a-time fetch), the server's CPU not spinning after; and
# a server stopped in the middle of a burst exits cleanly and in time,
# every tile asked then answered 200 or 503 (or its connection closed).
# Loopback only, bounded in count and time.
. "$(dirname "$0")/../lib.sh"
export FUSIONMAP_BASEMAP=none
BOUND_S=${BOUND_S:-120} # the whole burst, on a loaded machine under ASan
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
# burst OUT Z X0 X1 Y0 Y1 [serial]: every tile of the range, 16 at a time
# (or one at a time), each on its own connection; one line per tile:
# "z/x/y status type cache sha256 seconds", then "TOTAL seconds"
burst() {
    /usr/bin/python3 - "$FM_URL" "$TV" "$@" <<'PY'
import hashlib, http.client, sys, time, urllib.parse
from concurrent.futures import ThreadPoolExecutor
url, tok, out, z, x0, x1, y0, y1 = sys.argv[1:9]
par = 1 if len(sys.argv) > 9 else 16
u = urllib.parse.urlsplit(url)
tiles = [(int(z), x, y) for x in range(int(x0), int(x1) + 1) for y in range(int(y0), int(y1) + 1)]
def get(t):
    t0 = time.monotonic()
    try:
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=100)
        c.request("GET", "/tiles/all/%d/%d/%d.png" % t, headers={"Authorization": "Bearer " + tok})
        r = c.getresponse()
        body = r.read()
        line = "%d %s %s %s" % (r.status, r.getheader("Content-Type"), r.getheader("X-Tile-Cache"),
                                hashlib.sha256(body).hexdigest() if body[:4] == b"\x89PNG" else "-")
        c.close()
    except (OSError, http.client.HTTPException) as e:
        line = "000 - - -"
    return "%d/%d/%d %s %.2f" % (t + (line, time.monotonic() - t0))
t0 = time.monotonic()
with ThreadPoolExecutor(par) as ex:
    lines = list(ex.map(get, tiles))
with open(out, "w") as f:
    f.write("\n".join(lines) + "\nTOTAL %.2f\n" % (time.monotonic() - t0))
PY
}
col() { grep -v '^TOTAL' "$1" | awk "{print \$$2}" | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' '; }
total() { awk '/^TOTAL/{print $2}' "$1"; }
within() { /usr/bin/python3 -c "import sys; sys.exit(0 if float('$1') <= float('$2') else 1)"; }
# the server's CPU ticks over two seconds: it rests once the burst is over
resting() {
    local a b
    a=$(awk '{print $14 + $15}' "/proc/$FM_PID/stat")
    sleep 2
    b=$(awk '{print $14 + $15}' "/proc/$FM_PID/stat")
    echo "# CPU over 2 s after the burst: $((b - a)) ticks"
    [ $((b - a)) -le 100 ]
}

start --demo
fm_stop
# the demo area at z12 (lon 35.5-36.2, lat 32.6-33.4): 8 x 6 tiles
Z=12 X0=2452 X1=2459 Y0=1645 Y1=1650
N=$(((X1 - X0 + 1) * (Y1 - Y0 + 1)))
for threads in 2 0; do
    : >"$FM_TMP/serve.err"
    FUSIONMAP_RENDER_THREADS=$threads start
    TV=$(fm_token viewer)
    burst "$FM_TMP/b$threads" $Z $X0 $X1 $Y0 $Y1
    B="$FM_TMP/b$threads"
    echo "# $threads render threads: $(col "$B" 2) | $(col "$B" 3) | $(col "$B" 4) | $(total "$B") s"
    check "$threads render threads: the $N tiles of the burst are 200" '[ "$(col "$B" 2)" = "200=$N " ]'
    check "$threads render threads: PNGs" '[ "$(col "$B" 3)" = "image/png=$N " ]'
    check "$threads render threads: all rendered for the burst (miss)" '[ "$(col "$B" 4)" = "miss=$N " ]'
    check "$threads render threads: the burst took at most $BOUND_S s ($(total "$B") s)" \
        'within "$(total "$B")" $BOUND_S'
    DISTINCT=$(grep -v '^TOTAL' "$B" | awk '{print $5}' | sort -u | wc -l)
    check "$threads render threads: the tiles differ ($DISTINCT distinct of $N)" '[ "$DISTINCT" -ge 8 ]'
    check "$threads render threads: the server rests after the burst" resting
    # one at a time, again: the cached tiles, each the bytes its connection got
    burst "$FM_TMP/s$threads" $Z $X0 $X1 $Y0 $Y1 serial
    check "$threads render threads: each tile the burst got is the one asked again alone" \
        'diff <(grep -v ^TOTAL "$B" | awk "{print \$1, \$5}") <(grep -v ^TOTAL "$FM_TMP/s$threads" | awk "{print \$1, \$5}")'
    fm_stop
done
check "the tiles are the same bytes with 2 render threads and with none" \
    'diff <(grep -v ^TOTAL "$FM_TMP/b2" | awk "{print \$1, \$5}") <(grep -v ^TOTAL "$FM_TMP/b0" | awk "{print \$1, \$5}")'

# stopped in the middle of a burst (z13 over the same area: uncached)
FUSIONMAP_RENDER_THREADS=2 start
TV=$(fm_token viewer)
C0=$(awk '{print $14 + $15}' "/proc/$FM_PID/stat")
burst "$FM_TMP/stop" 13 4904 4919 3290 3301 &
BURST=$!
# stop once the renders are under way (the server has worked 50 ms more)
for _ in $(seq 200); do
    [ "$(awk '{print $14 + $15}' "/proc/$FM_PID/stat")" -ge $((C0 + 5)) ] && break
    sleep 0.05
done
T0=$(date +%s.%N)
kill "$FM_PID"
RC=0
for _ in $(seq 600); do kill -0 "$FM_PID" 2>/dev/null || break; sleep 0.1; done
wait "$FM_PID" || RC=$?
T1=$(date +%s.%N)
FM_PID=
check "stopped in a burst, the server exits with status 0 ($RC)" '[ "$RC" = 0 ]'
check "within 30 s ($(/usr/bin/python3 -c "print('%.1f' % ($T1 - $T0))") s)" \
    '/usr/bin/python3 -c "import sys; sys.exit(0 if $T1 - $T0 <= 30 else 1)"'
wait "$BURST"
echo "# stopped in a burst: $(col "$FM_TMP/stop" 2)"
check "every tile asked then is answered 200 or 503, or its connection closed" \
    '[ -z "$(grep -v ^TOTAL "$FM_TMP/stop" | awk "{print \$2}" | grep -vx -e 200 -e 503 -e 000)" ]'
check "and its bytes are a PNG when 200" \
    '[ -z "$(grep -v ^TOTAL "$FM_TMP/stop" | awk "\$2 == 200 && \$5 == \"-\"")" ]'
finish

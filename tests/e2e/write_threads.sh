#!/usr/bin/env bash
# The write threads (server/http.c, FUSIONMAP_WRITE_THREADS; issue 23): a
# create is made on a write thread with its connection suspended, so a
# write that waits (for the write queue, the group sync, or here for a lock
# another process holds) does not hold up the other connections of the
# microhttpd worker it came in on. With one worker (--threads 1): while
# another process holds the database's write lock, a create waits, and a
# read on another connection is answered before the lock is let go (it
# waited for the lock too when the create was made on the worker); the
# create is then answered 201, once, and reads back; a server stopped while
# a create waits exits cleanly. Loopback only, bounded in time.
. "$(dirname "$0")/../lib.sh"
export FUSIONMAP_BASEMAP=none
HOLD_S=${HOLD_S:-6} # how long the other process holds the lock

fm_start --demo --threads 1 || exit 1
TA=$(fm_token liaison-a)

# held OUT [stop]: holds the write lock HOLD_S seconds; meanwhile POSTs a
# create and then GETs /conformance on another connection (or, with stop,
# SIGTERMs the server); writes what it saw
held() {
    /usr/bin/python3 - "$FM_URL" "$TA" "$FM_DB" "$HOLD_S" "$1" "${2:-}" "$FM_PID" <<'PY'
import http.client, json, os, signal, sqlite3, sys, threading, time, urllib.parse
url, tok, db, hold, out, mode, pid = sys.argv[1:8]
hold = float(hold)
u = urllib.parse.urlsplit(url)
lock = sqlite3.connect(db, timeout=30, isolation_level=None)
lock.execute("BEGIN IMMEDIATE")
t0 = time.monotonic()
res = {}
def post():
    try:
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        body = json.dumps({"type": "Feature", "geometry": {"type": "Point", "coordinates": [36.1, 33.1]},
                           "properties": {"title": "held write", "category": "other", "severity": 2,
                                          "occurred_at": "2026-06-01T00:00:00Z"}})
        c.request("POST", "/collections/incidents/items", body,
                  {"Authorization": "Bearer " + tok, "Content-Type": "application/geo+json"})
        r = c.getresponse()
        b = r.read()
        res["post"] = (r.status, time.monotonic() - t0, r.getheader("Location") or "")
    except (OSError, http.client.HTTPException) as e:
        res["post"] = (0, time.monotonic() - t0, str(e))
th = threading.Thread(target=post)
th.start()
time.sleep(1.0) # the create is in, waiting for the lock
if mode == "stop":
    os.kill(int(pid), signal.SIGTERM)
    time.sleep(1.0)
else:
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    c.request("GET", "/conformance")
    r = c.getresponse()
    r.read()
    res["get"] = (r.status, time.monotonic() - t0)
    while time.monotonic() - t0 < hold:
        time.sleep(0.05)
released = time.monotonic() - t0
lock.execute("ROLLBACK")
lock.close()
th.join(90)
with open(out, "w") as f:
    f.write("released %.2f\n" % released)
    for k, v in sorted(res.items()):
        f.write("%s %s\n" % (k, " ".join(str(x) for x in v)))
PY
}
val() { awk -v k="$2" '$1 == k {print $'"$3"'}' "$1"; }
lt() { /usr/bin/python3 -c "import sys; sys.exit(0 if float('$1') < float('$2') else 1)"; }

held "$FM_TMP/a.txt"
cat "$FM_TMP/a.txt"
check "a read on another connection of the same worker is answered while a create waits for the lock" \
    '[ "$(val "$FM_TMP/a.txt" get 2)" = 200 ] && lt "$(val "$FM_TMP/a.txt" get 3)" "$(val "$FM_TMP/a.txt" released 2)"'
check "the create is answered 201 once the lock is let go" \
    '[ "$(val "$FM_TMP/a.txt" post 2)" = 201 ] && ! lt "$(val "$FM_TMP/a.txt" post 3)" "$(val "$FM_TMP/a.txt" released 2)"'
LOC=$(val "$FM_TMP/a.txt" post 4)
check "it reads back" '[ -n "$LOC" ] && curl -sf -H "Authorization: Bearer $TA" "$LOC" | grep -q "held write"'
check "made once" '[ "$(curl -sf -H "Authorization: Bearer $TA" "$FM_URL/collections/incidents/items?limit=1000" | grep -o "held write" | wc -l)" = 1 ]'

# stopped while a create waits: the server exits cleanly, the create
# answered (201, or 503 for a write not started) or its connection closed
PID=$FM_PID
held "$FM_TMP/b.txt" stop
cat "$FM_TMP/b.txt"
for _ in $(seq 600); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
check "a server stopped while a create waits exits in time" '! kill -0 "$PID" 2>/dev/null'
wait "$PID"
rc=$?
FM_PID=
check "and cleanly (status 0)" '[ $rc = 0 ]'
check "the waiting create was answered or closed, never left hanging" \
    '[ -n "$(val "$FM_TMP/b.txt" post 2)" ] && echo " 0 201 503 " | grep -q " $(val "$FM_TMP/b.txt" post 2) "'
finish

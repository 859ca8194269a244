#!/usr/bin/env bash
# standby.sh - a PostgreSQL standby takes over (issue 18): a primary and a
# standby of this test's own, streaming replication with synchronous
# commit, and a fusionmap server on both through a multi-host URL
# (target_session_attrs=read-write). Writers run through the server; the
# primary is killed (SIGKILL, its backends too) and the standby promoted;
# the server connects to it again and the writers resume. Afterwards every
# acknowledged write is there and `events verify` passes; the time writes
# were refused is printed.
. "$(dirname "$0")/../lib.sh"

BIN=/usr/lib/postgresql/15/bin
AS=()
[ "$(id -u)" = 0 ] && AS=(runuser -u nobody --)
check "the primary started (PostgreSQL 15 + PostGIS, loopback)" fm_pg_start
[ -n "$FM_PG_URL" ] || finish
P1=${FM_PG_URL#*@127.0.0.1:}
P1=${P1%%/*}
P2=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SB="$FM_TMP/pg2"
mkdir -p "$SB" && [ ${#AS[@]} -gt 0 ] && chown nobody "$SB"
stop_standby() {
    [ -f "$SB/data/postmaster.pid" ] && "${AS[@]}" "$BIN/pg_ctl" -D "$SB/data" -m immediate -w stop >/dev/null 2>&1
}
trap 'fm_stop; stop_standby; fm_pg_stop' EXIT

# (the primary asks for a synchronous standby only once the copy is made:
# a standby copied with that setting would, once promoted, wait for one)
check "a standby is made from the primary (pg_basebackup) and follows it synchronously" \
    '"${AS[@]}" "$BIN/pg_basebackup" -h 127.0.0.1 -p "$P1" -U fusionmap -D "$SB/data" -R -X stream -c fast >"$FM_TMP/basebackup.log" 2>&1 &&
     "${AS[@]}" "$BIN/pg_ctl" -D "$SB/data" -l "$SB/log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $P2 -k $SB -c fsync=off" start >/dev/null 2>&1 &&
     psql -q "$FM_PG_URL" -c "ALTER SYSTEM SET synchronous_standby_names = '"'"'*'"'"'" -c "SELECT pg_reload_conf()" >/dev/null &&
     for i in $(seq 1 100); do [ "$(psql -Atq "$FM_PG_URL" -c "SELECT sync_state FROM pg_stat_replication")" = sync ] && break; sleep 0.1; done;
     [ "$(psql -Atq "$FM_PG_URL" -c "SELECT sync_state FROM pg_stat_replication")" = sync ]'

FM_DB="postgresql://fusionmap@127.0.0.1:$P1,127.0.0.1:$P2/fusionmap?target_session_attrs=read-write&connect_timeout=2"
check "the server starts on both hosts' URL, with the demo" 'fm_start --demo'
TA=$(fm_token liaison-a 2>/dev/null)

# the writers: creates one after another from 4 clients, each answer noted
/usr/bin/python3 - "$FM_URL" "$TA" "$FM_TMP/writes" <<'PY' &
import http.client, json, sys, threading, time, urllib.parse
url, token, out = sys.argv[1], sys.argv[2], sys.argv[3]
u = urllib.parse.urlparse(url)
stop_at = [None]
lock = threading.Lock()
rows = []
def writer(k):
    i = 0
    while stop_at[0] is None or time.monotonic() < stop_at[0]:
        i += 1
        x, y = 35.6 + (i % 40) * 0.003 + k * 0.15, 32.7 + (i // 40) * 0.003
        f = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]},
             "properties": {"title": "failover %d.%d" % (k, i), "category": "other", "severity": 1,
                            "occurred_at": "2026-01-01T00:00:00Z"}}
        t = time.monotonic()
        try:
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=20)
            c.request("POST", "/collections/incidents/items", json.dumps(f),
                      {"Authorization": "Bearer " + token, "Content-Type": "application/geo+json"})
            r = c.getresponse()
            body = r.read()
            c.close()
            status, item = r.status, (json.loads(body)["id"] if r.status == 201 else None)
        except (OSError, http.client.HTTPException):
            status, item = 0, None
        with lock:
            rows.append((t, status, item))
        if status != 201:
            time.sleep(0.05)
        # the test's signal to stop: 3 s of writes after the file appears
        if stop_at[0] is None:
            try:
                open(out + ".stop").close()
                stop_at[0] = time.monotonic() + 3
            except OSError:
                pass
threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
for t in threads: t.start()
for t in threads: t.join()
with open(out, "w") as f:
    for t, s, i in sorted(rows):
        f.write("%.3f %d %s\n" % (t, s, i if i is not None else "-"))
PY
WRITERS=$!
sleep 3
PRIMARY=$(head -n1 "$FM_PG_DIR/data/postmaster.pid")
pkill -9 -P "$PRIMARY"
kill -9 "$PRIMARY"
sleep 1
check "the standby is promoted" '"${AS[@]}" "$BIN/pg_ctl" -D "$SB/data" -w promote >/dev/null 2>&1'
# the server reads again once it reaches the new primary
for i in $(seq 1 300); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TA" "$FM_URL/collections/incidents/items?limit=1")" = 200 ] && break
    sleep 0.1
done
sleep 2
touch "$FM_TMP/writes.stop"
wait "$WRITERS"
FIRST_BAD=$(awk '$2 != 201 {print $1; exit}' "$FM_TMP/writes")
LAST_BAD=$(awk '$2 != 201 {t = $1} END {print t}' "$FM_TMP/writes")
ACKED=$(awk '$2 == 201' "$FM_TMP/writes" | wc -l)
AFTER=$(awk -v t="${LAST_BAD:-0}" '$2 == 201 && $1 > t' "$FM_TMP/writes" | wc -l)
echo "# writes: $ACKED acknowledged, $(awk '$2 != 201' "$FM_TMP/writes" | wc -l) refused or cut," \
    "refused for $(echo "${LAST_BAD:-0} - ${FIRST_BAD:-0}" | bc) s (the standby promoted 1 s after the kill)"
check "no writer was told its token is bad meanwhile (no 401: the database's absence is 503)" \
    '[ "$(awk '"'"'$2 == 401'"'"' "$FM_TMP/writes" | wc -l)" = 0 ] && awk '"'"'$2 == 503'"'"' "$FM_TMP/writes" | grep -q .'
check "writes were acknowledged before the kill, and the writers resumed after it ($AFTER acknowledged after the last refusal)" \
    '[ "$ACKED" -gt "$AFTER" ] && [ "$AFTER" -gt 10 ]'
awk '$2 == 201 {print $3}' "$FM_TMP/writes" | sort >"$FM_TMP/acked"
psql -Atq "postgresql://fusionmap@127.0.0.1:$P2/fusionmap" -c "SELECT id FROM items WHERE collection = 'incidents'" | sort >"$FM_TMP/kept"
check "every acknowledged write is on the promoted standby ($(wc -l <"$FM_TMP/acked") of them)" \
    '[ -s "$FM_TMP/acked" ] && [ -z "$(comm -23 "$FM_TMP/acked" "$FM_TMP/kept")" ]'
check "the server, still the same process, answers on the new primary" \
    '[ "$(req GET /collections/incidents/items?limit=1 -H "Authorization: Bearer $TA")" = 200 ]'
fm_stop
check "the log verifies on the new primary" \
    '"$FUSIONMAP" events verify --db "postgresql://fusionmap@127.0.0.1:$P2/fusionmap" 2>/dev/null | grep -q "^ok: .* the chain is intact"'
finish

#!/usr/bin/env bash
# CoT for TAK on a raw TCP port (issue 22): serve --cot-port; a client
# sends its token on the first line and receives what GET /cot/stream
# sends that token (the visible items now, then each change live, pings);
# a draft reaches its own party only; a bad token or none gets one line
# and the connection closes; loopback by default; not with --tls-*.
. "$(dirname "$0")/../lib.sh"
export FM_STREAM_HEARTBEAT_MS=700
fm_start --demo --cot-port 0
TA=$(fm_token liaison-a)
TB=$(fm_token liaison-b)
A=(-H "Authorization: Bearer $TA")
B=(-H "Authorization: Bearer $TB")
JSON=(-H 'Content-Type: application/geo+json')
PATCH=(-H 'Content-Type: application/merge-patch+json')
XSD="$(cd "$(dirname "$0")" && pwd)/cot-event.xsd"
COT=$(grep -o 'tcp://[0-9.]*:[0-9]*' "$FM_TMP/serve.out" | head -n1)
HOST=${COT#tcp://}
PORT=${HOST##*:}
HOST=${HOST%:*}

# tak LINE OUT: a client that sends LINE and writes what it gets to OUT
tak() {
    python3 - "$HOST" "$PORT" "$1" "$FM_TMP/$2" <<'PY' &
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
s.sendall(sys.argv[3].encode() + b"\n")
with open(sys.argv[4], "wb", buffering=0) as out:
    while True:
        b = s.recv(65536)
        if not b:
            break
        out.write(b)
PY
}
waitfor() { local i; for i in $(seq 1 200); do grep -q "$2" "$FM_TMP/$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }
uids() { grep -o 'uid="fusionmap-[a-z]*-[0-9]*\(-part[0-9]*\)\?"' | sort -u; }

check "serve --cot-port listens on loopback by default and says where" \
    '[ "$HOST" = 127.0.0.1 ] && [ -n "$PORT" ] && [ "$PORT" -gt 0 ]'
tak "$TA" a.cot
PA=$!
tak "$TB" b.cot
PB=$!
tak "Bearer $TB" b2.cot
PB2=$!
trap 'kill $PA $PB $PB2 2>/dev/null' EXIT
check "on connect, B gets the events of GET /cot for B (the same uids); \"Bearer T\" works too" \
    'waitfor b.cot "</event>" && waitfor b2.cot "</event>" && sleep 0.3 &&
     [ "$(grep "^<event" "$FM_TMP/b.cot" | grep -v "t-x-c-t" | uids)" = "$(curl -s "${B[@]}" "$FM_URL/cot" | uids)" ] &&
     [ "$(grep "^<event" "$FM_TMP/b2.cot" | grep -v "t-x-c-t" | uids)" = "$(curl -s "${B[@]}" "$FM_URL/cot" | uids)" ]'
req POST /collections/zones/items "${A[@]}" "${JSON[@]}" \
    -d '{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[34.5,31.5],[34.6,31.5],[34.6,31.6],[34.5,31.5]]]},"properties":{"title":"A tcp draft","status":"draft"}}' >/dev/null
DRAFT=$(jqb .id)
req POST /collections/incidents/items "${B[@]}" "${JSON[@]}" \
    -d '{"type":"Feature","geometry":{"type":"Point","coordinates":[35.2,32.2]},"properties":{"title":"B tcp barrier","category":"other","severity":1,"status":"reported"}}' >/dev/null
BAR=$(jqb .id)
check "a draft reaches its party's TCP stream live, and not the other side's (after a later change of B's)" \
    'waitfor a.cot "uid=\"fusionmap-zones-$DRAFT\"" && waitfor b.cot "uid=\"fusionmap-incidents-$BAR\"" &&
     ! grep -q "fusionmap-zones-$DRAFT\"" "$FM_TMP/b.cot" && ! grep -q "A tcp draft" "$FM_TMP/b.cot"'
check "once proposed it reaches B live; a ping (t-x-c-t) keeps the connection alive" \
    '[ "$(req PATCH "/collections/zones/items/$DRAFT" "${A[@]}" "${PATCH[@]}" -H "If-Match: \"1\"" -d "{\"properties\":{\"status\":\"proposed\"}}")" = 200 ] &&
     waitfor b.cot "uid=\"fusionmap-zones-$DRAFT\"" && waitfor b.cot "t-x-c-t"'
check "the events validate against the CoT Event schema" \
    'python3 - "$FM_TMP/b.cot" "$FM_TMP/ev" <<PY
import re, sys
text = open(sys.argv[1]).read()
evs = re.findall(r"<event .*?</event>", text, re.S)
assert len(evs) > 3, len(evs)
for i, e in enumerate(evs):
    open("%s%d.xml" % (sys.argv[2], i), "w").write(e)
PY
     for f in "$FM_TMP"/ev*.xml; do xmllint --noout --schema "$XSD" "$f" 2>/dev/null || { echo "$f"; exit 1; }; done'
check "a wrong token, a line that is not a token, or a header smuggled in: one line saying so, closed, no event" \
    'tak "fmt_0000000000000000000000000000000000000000000000000000000000000000" bad1.cot; P1=$!
     tak "$TB X-Evil: 1" bad2.cot; P2=$!
     tak "" bad3.cot; P3=$!
     wait $P1 $P2 $P3 &&
     grep -q "refused (HTTP 401)" "$FM_TMP/bad1.cot" && ! grep -q "<event" "$FM_TMP/bad1.cot" &&
     grep -q "send your token" "$FM_TMP/bad2.cot" && ! grep -q "<event" "$FM_TMP/bad2.cot" &&
     grep -q "send your token" "$FM_TMP/bad3.cot"'
check "serve --cot-port with --tls-* is refused (exit 2)" \
    '"$FUSIONMAP" serve --db "$FM_TMP/x.db" --port 0 --cot-port 0 --tls-cert /nonexistent --tls-key /nonexistent >/dev/null 2>&1; [ $? = 2 ]'
# A's and B's clients stay connected: the server must stop cleanly with
# them (fm_stop checks its exit status), and they see the end
fm_stop
check "stopping the server ends the TCP clients' connections" \
    'for i in $(seq 1 100); do kill -0 $PA 2>/dev/null || kill -0 $PB 2>/dev/null || break; sleep 0.05; done
     ! kill -0 $PA 2>/dev/null && ! kill -0 $PB 2>/dev/null'
finish

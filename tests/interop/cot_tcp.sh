#!/usr/bin/env bash
# CoT for TAK on a raw TCP port (issue 22): serve --cot-port; a client
# sends its token on the first line and receives what GET /cot/stream
# sends that token (the visible items now, then each change live, pings);
# a draft reaches its own party only; a bad token or none gets one line
# and the connection closes; loopback by default. Then the same over TLS
# (--cot-tls-cert/-key/-ca, the HTTP server HTTPS too): a client needs a
# certificate the CA signed, and still its token.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/cot_lib.sh"
export FM_STREAM_HEARTBEAT_MS=700
fm_start --demo --cot-port 0
cot_setup
# cot_addr SCHEME: HOST and PORT from the listening line
cot_addr() {
    local cot
    cot=$(grep -o "$1://[0-9.]*:[0-9]*" "$FM_TMP/serve.out" | head -n1)
    HOST=${cot#"$1"://}
    PORT=${HOST##*:}
    HOST=${HOST%:*}
}
cot_addr tcp
# tak LINE OUT: a plain TCP client that sends LINE and writes what it gets to OUT
tak() { cot_client "$HOST" "$PORT" "$1" "$2"; }

check "serve --cot-port listens on loopback by default and says where" \
    '[ "$HOST" = 127.0.0.1 ] && [ -n "$PORT" ] && [ "$PORT" -gt 0 ]'
tak "$TA" a.cot
PA=$!
tak "$TB" b.cot
PB=$!
tak "Bearer $TB" b2.cot
PB2=$!
trap 'kill $PA $PB $PB2 2>/dev/null; fm_stop' EXIT
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
     ended $P1 $P2 $P3 &&
     grep -q "refused (HTTP 401)" "$FM_TMP/bad1.cot" && ! grep -q "<event" "$FM_TMP/bad1.cot" &&
     grep -q "send your token" "$FM_TMP/bad2.cot" && ! grep -q "<event" "$FM_TMP/bad2.cot" &&
     grep -q "send your token" "$FM_TMP/bad3.cot"'
# A's and B's clients stay connected: the server must stop cleanly with
# them (fm_stop checks its exit status), and they see the end
fm_stop
check "stopping the server ends the TCP clients' connections" \
    'for i in $(seq 1 100); do kill -0 $PA 2>/dev/null || kill -0 $PB 2>/dev/null || break; sleep 0.05; done
     ! kill -0 $PA 2>/dev/null && ! kill -0 $PB 2>/dev/null'

# ---- TLS (TAK's "ssl" streaming with client certificates) ------------------
cot_certs
PKI="$FM_TMP/pki"
check "--cot-tls-cert without --cot-tls-key, --cot-tls-* without --cot-port: usage (exit 2); a key that is none: exit 1" \
    'timeout 10 "$FUSIONMAP" serve --db "$FM_DB" --port 0 --cot-port 0 --cot-tls-cert "$PKI/srv.pem" >/dev/null 2>&1; [ $? = 2 ] &&
     { timeout 10 "$FUSIONMAP" serve --db "$FM_DB" --port 0 --cot-tls-cert "$PKI/srv.pem" --cot-tls-key "$PKI/srv.key" >/dev/null 2>&1; [ $? = 2 ]; } &&
     { timeout 10 "$FUSIONMAP" serve --db "$FM_DB" --port 0 --cot-port 0 --cot-tls-cert "$PKI/srv.pem" --cot-tls-key "$PKI/ca.pem" >/dev/null 2>"$FM_TMP/badkey.err"; [ $? = 1 ]; } &&
     grep -q "cot-tls-key" "$FM_TMP/badkey.err"'
check "serve --help prints the usage, exit 0 (--cot-tls-ca, --conflict-recheck, --incident-near); a bad --conflict-recheck, --incident-near or FM_INCIDENT_NEAR_M: exit 2" \
    '"$FUSIONMAP" serve --help >"$FM_TMP/help" && grep -q -- "--cot-tls-ca" "$FM_TMP/help" && grep -q -- "--conflict-recheck S" "$FM_TMP/help" &&
     grep -q -- "--incident-near M" "$FM_TMP/help" &&
     { timeout 10 "$FUSIONMAP" serve --db "$FM_DB" --port 0 --conflict-recheck 0 2>/dev/null; [ $? = 2 ]; } &&
     { timeout 10 "$FUSIONMAP" serve --db "$FM_DB" --port 0 --incident-near 2e6 2>/dev/null; [ $? = 2 ]; } &&
     { FM_INCIDENT_NEAR_M=-1 timeout 10 "$FUSIONMAP" serve --db "$FM_DB" --port 0 2>/dev/null; [ $? = 2 ]; }'
# the same database, now HTTPS, and CoT over TLS with client certificates
fm_start --cot-port 0 --tls-cert "$PKI/srv.pem" --tls-key "$PKI/srv.key" \
    --cot-tls-cert "$PKI/srv.pem" --cot-tls-key "$PKI/srv.key" --cot-tls-ca "$PKI/ca.pem"
cot_addr tls
K=(--cacert "$PKI/ca.pem")
# tls LINE OUT [CERT KEY]: a TLS client (no CERT: none presented)
tls() { cot_client "$HOST" "$PORT" "$1" "$2" "$PKI/ca.pem" "${3:-}" "${4:-}"; }
tls "$TB" tb.cot "$PKI/cl.pem" "$PKI/cl.key"; TPB=$!
tls "$TA" ta.cot "$PKI/cl.pem" "$PKI/cl.key"; TPA=$!
tls "$TB" none.cot; P1=$!
tls "$TB" rogue.cot "$PKI/rogue.pem" "$PKI/rogue.key"; P2=$!
tak "$TB" plain.cot; P3=$!
trap 'kill $TPA $TPB 2>/dev/null; fm_stop' EXIT
check "over TLS (relaying this HTTPS server), B with a certificate the CA signed gets the events of GET /cot for B" \
    '[ "${FM_URL%%:*}" = https ] && [ "$HOST" = 127.0.0.1 ] && waitfor tb.cot "</event>" && sleep 0.3 &&
     [ "$(grep "^<event" "$FM_TMP/tb.cot" | grep -v "t-x-c-t" | uids)" = "$(curl -s "${K[@]}" "${B[@]}" "$FM_URL/cot" | uids)" ]'
curl -s "${K[@]}" "${A[@]}" "${JSON[@]}" "$FM_URL/collections/incidents/items" \
    -d '{"type":"Feature","geometry":{"type":"Point","coordinates":[34.55,31.55]},"properties":{"title":"A tls draft","category":"other","severity":1,"status":"draft"}}' -o "$FM_TMP/body"
TDRAFT=$(jqb .id)
curl -s "${K[@]}" "${B[@]}" "${JSON[@]}" "$FM_URL/collections/incidents/items" \
    -d '{"type":"Feature","geometry":{"type":"Point","coordinates":[35.25,32.25]},"properties":{"title":"B tls barrier","category":"other","severity":1,"status":"reported"}}' -o "$FM_TMP/body"
TBAR=$(jqb .id)
check "over TLS a draft reaches its party live, and not the other side (after a later change of B's)" \
    'waitfor ta.cot "uid=\"fusionmap-incidents-$TDRAFT\"" && waitfor tb.cot "uid=\"fusionmap-incidents-$TBAR\"" &&
     ! grep -q "fusionmap-incidents-$TDRAFT\"" "$FM_TMP/tb.cot" && ! grep -q "A tls draft" "$FM_TMP/tb.cot"'
check "no client certificate, a self-signed one, or plain TCP: refused, nothing received, even with B's token" \
    '[ -n "$PORT" ] && ended $P1 $P2 $P3 && [ ! -s "$FM_TMP/none.cot" ] && [ ! -s "$FM_TMP/rogue.cot" ] && [ ! -s "$FM_TMP/plain.cot" ] ||
     { head -c 300 "$FM_TMP"/{none,rogue,plain}.cot; false; }'
tls "fmt_0000000000000000000000000000000000000000000000000000000000000000" badtok.cot "$PKI/cl.pem" "$PKI/cl.key"; P4=$!
tls "" notok.cot "$PKI/cl.pem" "$PKI/cl.key"; P5=$!
check "a certificate is not enough: a wrong token or none gets one line over TLS and no event" \
    'ended $P4 $P5 && grep -q "refused (HTTP 401)" "$FM_TMP/badtok.cot" && ! grep -q "<event" "$FM_TMP/badtok.cot" &&
     grep -q "send your token" "$FM_TMP/notok.cot" && ! grep -q "<event" "$FM_TMP/notok.cot"'
fm_stop
check "stopping the server ends the TLS clients' connections" \
    'grep -q "</event>" "$FM_TMP/ta.cot" && grep -q "</event>" "$FM_TMP/tb.cot" &&
     for i in $(seq 1 100); do kill -0 $TPA 2>/dev/null || kill -0 $TPB 2>/dev/null || break; sleep 0.05; done
     ! kill -0 $TPA 2>/dev/null && ! kill -0 $TPB 2>/dev/null'
finish

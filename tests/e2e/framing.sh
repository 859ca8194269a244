#!/usr/bin/env bash
# HTTP framing as RFC 9112 section 6.3 says, and request metadata the
# server does not trust: a request whose body length is ambiguous (both
# Content-Length and Transfer-Encoding, two Content-Lengths, a coding other
# than chunked) is refused with 400 and its connection closed, so that no
# bytes after it are read as another request; a NUL anywhere in the target
# is 400; too many parameters, too long a target or too many headers get a
# prompt 414/431, never silence; a weak tag in If-Match never matches
# (RFC 9110 13.1.1); links, Location and the Origin check use --public-url or
# the bound address, never the Host header. Raw bytes go through raw.py.
. "$(dirname "$0")/../lib.sh"
fm_start --demo
PORT=${FM_URL##*:}
FM_RAW_TOKEN=$(fm_token liaison-a)
export FM_RAW_TOKEN
AUTH=(-H "Authorization: Bearer $FM_RAW_TOKEN")
GJ=(-H 'Content-Type: application/geo+json')
zone() { printf '{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[35.8,32.9],[35.9,32.9],[35.9,33.0],[35.8,33.0],[35.8,32.9]]]},"properties":{"title":"%s","type":"no_fly","status":"proposed","valid_from":"2026-01-01T00:00:00Z","valid_to":"2027-01-01T00:00:00Z"}}' "$1"; }

# ex 'b"..."' [WAIT]: one raw exchange; the outcome in $FM_TMP/ex.json
ex() { /usr/bin/python3 "$(dirname "$0")/raw.py" "$PORT" exchange "$@" >"$FM_TMP/ex.json"; }
exj() { jq -r "$1" "$FM_TMP/ex.json"; }
# answered STATUSES: exactly these answers (comma-separated), the first complete within 2 s
answered() { [ "$(exj '.statuses|map(tostring)|join(",")')" = "$1" ] && [ "$(exj '.first_at != null and .first_at < 2')" = true ]; }
# refused STATUS: one problem+json answer within 2 s, then the connection closed
refused() { answered "$1" && [ "$(exj .closed)" = true ] && exj .ctype | grep -q '^application/problem+json'; }
# titled T: how many zones liaison-a sees with the title T
titled() { curl -s "${AUTH[@]}" "$FM_URL/collections/zones/items?limit=1000" | jq --arg t "$1" '[.features[]|select(.properties.title==$t)]|length'; }

# a pipelined request that creates a zone titled $1: processed only if the
# server reads past the refused request before it
smuggled() {
    local z
    z=$(zone "$1")
    printf '%s' "POST /collections/zones/items HTTP/1.1\\r\\nHost: x\\r\\n@AUTH@Content-Type: application/geo+json\\r\\nContent-Length: ${#z}\\r\\n\\r\\n$z"
}
POST='POST /collections/zones/items HTTP/1.1\r\nHost: x\r\n@AUTH@Content-Type: application/geo+json\r\n'

# --- control: what is allowed still works ---------------------------------------
ex "b'GET /collections/zones/items/1 HTTP/1.1\r\nHost: x\r\n@AUTH@\r\nGET /collections/zones/items/2 HTTP/1.1\r\nHost: x\r\n@AUTH@Connection: close\r\n\r\n'"
check "two pipelined GETs on one connection are both answered (keep-alive works)" 'answered 200,200'
check "a chunked POST (no Content-Length) still creates" \
    '[ "$(zone chunked-ok | curl -s -o /dev/null -w "%{http_code}" "${AUTH[@]}" "${GJ[@]}" -H "Transfer-Encoding: chunked" --data-binary @- "$FM_URL/collections/zones/items")" = 201 ] &&
     [ "$(titled chunked-ok)" = 1 ]'

# --- ambiguous framing: 400, closed, nothing after it processed -------------------
ex "b'${POST}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n$(smuggled smuggled-clte)'"
check "Content-Length with Transfer-Encoding: 400 problem+json, the connection closed" 'refused 400'
check "... and the request pipelined after it is never processed" '[ "$(titled smuggled-clte)" = 0 ]'
ex "b'${POST}Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n0\r\n\r\n$(smuggled smuggled-tecl)'"
check "Transfer-Encoding before Content-Length: the same (400, closed, nothing after)" \
    'refused 400 && [ "$(titled smuggled-tecl)" = 0 ]'
ex "b'${POST}Content-Length: 2\r\nContent-Length: 300\r\n\r\n{}$(smuggled smuggled-clcl)'"
check "two different Content-Lengths: 400, closed, nothing after" \
    'refused 400 && [ "$(titled smuggled-clcl)" = 0 ]'
ex "b'GET /collections/zones/items/1 HTTP/1.1\r\nHost: x\r\n@AUTH@Content-Length: 0\r\nContent-Length: 0\r\n\r\n$(smuggled smuggled-clsame)'"
check "a repeated Content-Length, even with the same value: 400, closed, nothing after" \
    'refused 400 && [ "$(titled smuggled-clsame)" = 0 ]'
ex "b'${POST}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n$(smuggled smuggled-tete)'"
check "two Transfer-Encoding headers: 400, closed, nothing after" \
    'refused 400 && [ "$(titled smuggled-tete)" = 0 ]'
ex "b'${POST}Transfer-Encoding: gzip\r\n\r\n{}'"
check "a transfer coding other than chunked: a prompt 400 (not a wait for the connection to end)" 'refused 400'
ex "b'POST /collections/zones/items HTTP/1.0\r\nHost: x\r\n@AUTH@Content-Type: application/geo+json\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'"
check "Transfer-Encoding in an HTTP/1.0 request: 400" 'refused 400'

# --- NUL in the target: 400 ---------------------------------------------------------
nul() { [ "$(curl -s -o "$FM_TMP/body" -w '%{http_code}' "${AUTH[@]}" "$FM_URL$1")" = 400 ] && jq -e '.status == 400' "$FM_TMP/body" >/dev/null; }
check "%00 at the end of a path segment (/collections/zones/items/1%00): 400" 'nul "/collections/zones/items/1%00"'
check "%00 inside a path segment (/collections/zo%00nes/items): 400" 'nul "/collections/zo%00nes/items"'
check "%00 in a query value (limit=5%00abc): 400" 'nul "/collections/zones/items?limit=5%00abc"'
check "%00 in a query name (li%00mit=5): 400" 'nul "/collections/zones/items?li%00mit=5"'
ex "b'GET /collections/zones/items?limit=5\x00abc HTTP/1.1\r\nHost: x\r\n@AUTH@Connection: close\r\n\r\n'"
check "a raw NUL byte in a query value: 400" 'answered 400'
ex "b'GET /collections/zones/items/1\x00abc HTTP/1.1\r\nHost: x\r\n@AUTH@Connection: close\r\n\r\n'"
check "a raw NUL byte in a path segment: 400" 'answered 400'
ex "b'GET /collections/zones/items/1  HTTP/1.1\r\nHost: x\r\n@AUTH@Connection: close\r\n\r\n'"
check "(control: a target followed by two spaces is not taken for one with a NUL: 404 for the id \"1 \")" 'answered 404'
check "an encoded percent sign before 00 (1%2500) is not a NUL (404, not 400)" \
    '[ "$(curl -s -o /dev/null -w "%{http_code}" "${AUTH[@]}" "$FM_URL/collections/zones/items/1%2500")" = 404 ]'

# --- too many parameters, too long a target, too many headers: prompt 414/431 ---------
params() { python3 -c "print('&'.join('p%d=1' % i for i in range($1)))"; }
for n in 480 2000; do
    ex "b'GET /collections/zones/items?$(params $n) HTTP/1.1\r\nHost: x\r\n@AUTH@\r\n'"
    check "a query of $n parameters: 414 problem+json within 2 s (took $(exj .first_at) s)" 'refused 414'
done
ex "b'GET /collections/zones/items?bbox=$(printf '1%.0s' $(seq 9000)) HTTP/1.1\r\nHost: x\r\n@AUTH@\r\n'"
check "a 9,000-byte target: 414 problem+json within 2 s" 'refused 414'
ex "b'GET /collections/zones/items?bbox=$(printf '1%.0s' $(seq 100000)) HTTP/1.1\r\nHost: x\r\n@AUTH@\r\n'"
check "a 100,000-byte target: 414 within 2 s" 'answered 414'
ex "b'GET /collections HTTP/1.1\r\nHost: x\r\n@AUTH@$(for i in $(seq 600); do printf 'X-%d: 1\\r\\n' "$i"; done)\r\n'"
check "600 header lines: 431 within 2 s" 'answered 431'
check "a query of 20 parameters is still read (400 naming an unknown one, not 414)" \
    '[ "$(curl -s -o "$FM_TMP/body" -w "%{http_code}" "${AUTH[@]}" "$FM_URL/collections/zones/items?$(params 20)")" = 400 ] &&
     jq -e ".detail|test(\"p[0-9]+\")" "$FM_TMP/body" >/dev/null'

# --- If-Match compares strongly: a weak tag never matches -------------------------
ID=$(zone weak-test | curl -s "${AUTH[@]}" "${GJ[@]}" --data-binary @- "$FM_URL/collections/zones/items" | jq -r .id)
version() { curl -s "${AUTH[@]}" "$FM_URL/collections/zones/items/$ID" | jq -r .properties.version; }
weak() {
    [ "$(curl -s -o "$FM_TMP/body" -w '%{http_code}' -X "$1" "${AUTH[@]}" -H 'If-Match: W/"1"' "${@:2}" "$FM_URL/collections/zones/items/$ID")" = 412 ] &&
        jq -e '.status == 412' "$FM_TMP/body" >/dev/null && [ "$(version)" = 1 ]
}
check 'PATCH with If-Match: W/"1" (the current version, but weak): 412, nothing changed' \
    'weak PATCH -H "Content-Type: application/merge-patch+json" -d "{\"properties\":{\"title\":\"changed\"}}"'
check 'PUT with If-Match: W/"1": 412, nothing changed' 'weak PUT "${GJ[@]}" -d "$(zone changed)"'
check 'DELETE with If-Match: W/"1": 412, nothing changed' 'weak DELETE'
check 'the same PATCH with the strong tag "1" is applied (200, version 2)' \
    '[ "$(curl -s -o /dev/null -w "%{http_code}" -X PATCH "${AUTH[@]}" -H "If-Match: \"1\"" -H "Content-Type: application/merge-patch+json" -d "{\"properties\":{\"title\":\"changed\"}}" "$FM_URL/collections/zones/items/$ID")" = 200 ] &&
     [ "$(version)" = 2 ]'

# --- the Host header is never trusted -------------------------------------------------
EVIL=(-H 'Host: evil.example')
check "with Host: evil.example, the paging links are on the bound address" \
    'curl -s "${AUTH[@]}" "${EVIL[@]}" "$FM_URL/collections/zones/items?limit=1" >"$FM_TMP/body" &&
     [ "$(jq -r "[.links[].href]|length" "$FM_TMP/body")" -ge 2 ] &&
     [ -z "$(jq -r --arg b "$FM_URL/" ".links[].href|select(startswith(\$b)|not)" "$FM_TMP/body")" ]'
check "with Host: evil.example, the landing page and collections never name it" \
    '! curl -s "${AUTH[@]}" "${EVIL[@]}" -H "Accept: application/json" "$FM_URL/" | grep -q evil &&
     ! curl -s "${AUTH[@]}" "${EVIL[@]}" "$FM_URL/collections" | grep -q evil &&
     ! curl -s "${AUTH[@]}" "${EVIL[@]}" "$FM_URL/tiles/all.json" | grep -q evil'
check "with Host: evil.example, a created item's Location is on the bound address" \
    'zone host-test | curl -s -D "$FM_TMP/h" -o /dev/null "${AUTH[@]}" "${EVIL[@]}" "${GJ[@]}" --data-binary @- "$FM_URL/collections/zones/items" &&
     grep -i "^location:" "$FM_TMP/h" | tr -d "\r" | grep -q "^[Ll]ocation: $FM_URL/collections/zones/items/[0-9]*$"'
# the cookie as a header: curl would not send a 127.0.0.1 cookie to Host: evil.example
cookie() { fm_login liaison-a && echo "Cookie: fm_session=$(awk '$6 == "fm_session" {print $7}' "$FM_TMP/liaison-a.jar")"; }
CK=(-H "$(cookie)" -H 'X-Requested-With: fusionmap')
check "a cookie POST with Origin and Host both evil.example is refused (403) and creates nothing" \
    '[ "$(zone origin-evil | curl -s -o "$FM_TMP/body" -w "%{http_code}" "${CK[@]}" "${EVIL[@]}" -H "Origin: http://evil.example" "${GJ[@]}" --data-binary @- "$FM_URL/collections/zones/items")" = 403 ] &&
     jq -e ".status == 403" "$FM_TMP/body" >/dev/null && [ "$(titled origin-evil)" = 0 ]'
check "a cookie POST with this server's Origin is accepted whatever Host says (201)" \
    '[ "$(zone origin-ok | curl -s -o /dev/null -w "%{http_code}" "${CK[@]}" "${EVIL[@]}" -H "Origin: $FM_URL" "${GJ[@]}" --data-binary @- "$FM_URL/collections/zones/items")" = 201 ]'
check "a form login with Origin and Host both evil.example is refused (403)" \
    '[ "$(curl -s -o /dev/null -w "%{http_code}" "${EVIL[@]}" -H "Origin: http://evil.example" --data "user=liaison-a&password=liaison-a" "$FM_URL/login")" = 403 ]'
fm_stop

# --- --public-url names the base of every link, and the Origin to match -----------------
fm_start --demo --public-url https://maps.example.org/
FM_RAW_TOKEN=$(fm_token liaison-a)
AUTH=(-H "Authorization: Bearer $FM_RAW_TOKEN")
check "with --public-url, links and Location are on it (Host ignored)" \
    'curl -s "${AUTH[@]}" "${EVIL[@]}" "$FM_URL/collections/zones/items?limit=1" | jq -r ".links[].href" | grep -q "^https://maps.example.org/collections/zones/items?" &&
     zone pub-test | curl -s -D "$FM_TMP/h" -o /dev/null "${AUTH[@]}" "${EVIL[@]}" "${GJ[@]}" --data-binary @- "$FM_URL/collections/zones/items" &&
     grep -i "^location:" "$FM_TMP/h" | grep -q "https://maps.example.org/collections/zones/items/"'
CK=(-H "$(cookie)" -H 'X-Requested-With: fusionmap')
check "with --public-url, a cookie POST with its Origin is accepted and one with the bound address's is refused" \
    '[ "$(zone pub-ok | curl -s -o /dev/null -w "%{http_code}" "${CK[@]}" -H "Origin: https://maps.example.org" "${GJ[@]}" --data-binary @- "$FM_URL/collections/zones/items")" = 201 ] &&
     [ "$(zone pub-no | curl -s -o /dev/null -w "%{http_code}" "${CK[@]}" -H "Origin: $FM_URL" "${GJ[@]}" --data-binary @- "$FM_URL/collections/zones/items")" = 403 ]'
finish

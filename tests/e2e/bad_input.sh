#!/usr/bin/env bash
# Bad input over HTTP: every case gets application/problem+json naming the
# field, and nothing is written. Then malformed bytes on a raw socket: the
# server answers or closes, never crashes, hangs or serves outside web/.
. "$(dirname "$0")/../lib.sh"
fm_start --demo --max-body 4096 --max-vertices 20 --timeout 2
fm_login liaison-a
A=(-b "$FM_TMP/liaison-a.jar" -H 'X-Requested-With: fusionmap')
GJ=(-H 'Content-Type: application/geo+json')
req GET /events/log?limit=10000 "${A[@]}" >/dev/null
EVENTS_BEFORE=$(jqb '.events|length')

SQ='[[[35.8,32.9],[35.9,32.9],[35.9,33.0],[35.8,33.0],[35.8,32.9]]]'
zone() { printf '{"type":"Feature","geometry":{"type":"Polygon","coordinates":%s},"properties":%s}' "$1" "${2:-{\}}"; }

# post_bad NAME STATUS POINTER BODY [COLLECTION]: one row of the table
post_bad() {
    local name=$1 status=$2 pointer=$3 data=$4 coll=${5:-zones}
    check "$name: $status at '$pointer'" \
        '[ "$(req POST /collections/'"$coll"'/items "${A[@]}" "${GJ[@]}" --data-binary "$data")" = '"$status"' ] &&
         is_problem '"$status"' && { [ -z "'"$pointer"'" ] || [ "$(jqb .pointer)" = "'"$pointer"'" ]; }'
}

data='{"type":"Feature",'
post_bad "malformed JSON" 400 "" "$data"
data='{"type":"Feature","type":"Feature","geometry":null}'
post_bad "duplicate keys" 400 "" "$data"
data='{"type":"Feature","geometry":{"type":"Point","coordinates":[35.8,32.9]}}'
post_bad "a Point is no zone" 400 /geometry/type "$data"
data='{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[35.8,32.9],[NaN,32.9],[35.9,33],[35.8,32.9]]]}}'
post_bad "NaN is not JSON" 400 "" "$data"
data='{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[35.8,32.9],[1e999,32.9],[35.9,33],[35.8,32.9]]]}}'
post_bad "an overflowing number" 400 "" "$data"
data=$(zone '[[[35.8,32.9],[35.9,91],[35.9,33.0],[35.8,32.9]]]')
post_bad "latitude out of range" 400 /geometry/coordinates/0/1 "$data"
data=$(zone '[[[35.8,32.9],[35.9,32.9],[35.9,33.0],[35.8,33.0]]]')
post_bad "an unclosed ring" 400 /geometry/coordinates/0 "$data"
data=$(zone '[[[35.8,32.9],[35.9,33.0],[35.9,32.9],[35.8,33.0],[35.8,32.9]]]')
post_bad "a self-intersecting polygon" 400 /geometry "$data"
check "the self-intersection is explained with its location" \
    'jqb .detail | grep -q "Self-intersection\[35.85 32.95\]"'
data=$(zone "[[$(for i in $(seq 0 24); do printf '[35.%02d,32.9],' $i; done)[35.5,33],[35.0,32.9]]]")
post_bad "more vertices than the limit" 413 /geometry/coordinates "$data"
data=$(zone "$SQ" '{"valid_from":"2026-02-01T00:00:00Z","valid_to":"2026-01-01T00:00:00Z"}')
post_bad "valid_to before valid_from" 400 /properties/valid_to "$data"
data=$(zone "$SQ" '{"altitude_floor_m":900,"altitude_ceiling_m":100}')
post_bad "altitude floor above ceiling" 400 /properties/altitude_floor_m "$data"
data=$(zone "$SQ" '{"title":42}')
post_bad "a title that is not a string" 400 /properties/title "$data"
data='{"type":"Feature","geometry":{"type":"Point","coordinates":[35.8,32.9]},"properties":{"severity":"high"}}'
post_bad "severity that is not a number" 400 /properties/severity "$data" incidents
check "a body over the limit gets 413" \
    '[ "$(req POST /collections/zones/items "${A[@]}" "${GJ[@]}" --data-binary "$(head -c 5000 /dev/zero | tr "\0" " ")")" = 413 ] && is_problem 413'
check "a body of another media type gets 415" \
    '[ "$(req POST /collections/zones/items "${A[@]}" -H "Content-Type: text/plain" --data-binary "$(zone "$SQ")")" = 415 ] && is_problem 415'
check "invalid UTF-8 in a string is refused" \
    '[ "$(req POST /collections/zones/items "${A[@]}" "${GJ[@]}" --data-binary "$(zone "$SQ" "{\"title\":\"$(printf "\xff\xfe")\"}")")" = 400 ]'

# query parameters
for q in "foo=1" "bbox=1,2,3" "bbox=a,b,c,d" "bbox=10,10,0,0" "bbox=0,0,200,10" "datetime=yesterday" \
    "datetime=../.." "datetime=2026-02-01T00:00:00Z/2026-01-01T00:00:00Z" "limit=0" "limit=-5" "limit=ten" \
    "offset=-1" "status=nonsense" "f=xml" "t=never" "bbox-crs=EPSG:2039"; do
    check "GET items?$q gets 400 naming the parameter" \
        '[ "$(req GET "/collections/zones/items?'"$q"'" "${A[@]}")" = 400 ] && is_problem 400 && [ "$(jqb .parameter)" = "'"${q%%=*}"'" ]'
done
check "an item id that is not a number is 404" '[ "$(req GET /collections/zones/items/abc "${A[@]}")" = 404 ]'
check "If-Match that names no version is 412" \
    '[ "$(req PUT /collections/zones/items/1 "${A[@]}" "${GJ[@]}" -H "If-Match: \"x\"" --data-binary "$(zone "$SQ")")" = 412 ]'
check "an unknown method on a known path is 405 with Allow" \
    '[ "$(req DELETE /collections "${A[@]}")" = 405 ] && header Allow | grep -q GET'

req GET /events/log?limit=10000 "${A[@]}" >/dev/null
check "nothing was written by any bad request" '[ "$(jqb ".events|length")" = "$EVENTS_BEFORE" ]'

# --- raw bytes -------------------------------------------------------------------
PORT=${FM_URL##*:}
raw() { /usr/bin/python3 "$(dirname "$0")/raw.py" "$PORT" "$@"; }
check "a request line of binary garbage is answered 400 or closed" 'raw garbage'
check "a 100 KB header, past the connection memory limit, is refused (431) without harm" 'raw bigheader'
check "a body shorter than its Content-Length, then a closed socket, writes nothing" 'raw shortbody'
check "a chunked body past the limit is cut off" 'raw bigchunked'
check "a half-sent header is closed after the idle timeout" 'raw halfheader'
for path in "/static/../../../../etc/passwd" "/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd" \
    "/static/..%2f..%2f..%2fetc%2fpasswd" "/static/%2e%2e%5c%2e%2e%5cetc%5cpasswd" "/static/.hidden" "/static//etc/passwd"; do
    check "GET $path stays inside web/" \
        'code=$(curl -s --path-as-is -o "$FM_TMP/body" -w "%{http_code}" "$FM_URL'"$path"'"); [ "$code" = 404 ] || [ "$code" = 400 ] && ! grep -q "root:" "$FM_TMP/body"'
done
req GET /events/log?limit=10000 "${A[@]}" >/dev/null
check "still nothing written" '[ "$(jqb ".events|length")" = "$EVENTS_BEFORE" ]'
check "the server is alive and answering after all of it" \
    'kill -0 $FM_PID && [ "$(req GET /collections "${A[@]}")" = 200 ]'
finish

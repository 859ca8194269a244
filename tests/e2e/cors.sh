#!/usr/bin/env bash
# CORS for the origins the admin lists (--cors-origin), the preflight, and
# OPTIONS without CORS; the cookie's cross-site check unchanged for listed
# origins; TileJSON's tileSize (issue 22).
. "$(dirname "$0")/../lib.sh"
GOOD=http://127.0.0.1:5999
OTHER=http://maps.example.org
fm_start --demo --cors-origin "$GOOD" --cors-origin "$OTHER"
TOKEN=$(fm_token liaison-a)
BEARER=(-H "Authorization: Bearer $TOKEN")
code() { curl -s -o "$FM_TMP/body" -D "$FM_TMP/headers" -w '%{http_code}' "$@"; }
no_cors() { ! grep -qi '^access-control-' "$FM_TMP/headers"; }
preflight() { # ORIGIN PATH METHOD
    code -X OPTIONS -H "Origin: $1" -H "Access-Control-Request-Method: $3" \
        -H "Access-Control-Request-Headers: authorization, if-match, content-type" "$FM_URL$2"
}

# ---- the preflight -----------------------------------------------------------
check "a preflight from a listed origin: 204, that exact origin, the route's methods, the headers, max-age, Vary" \
    '[ "$(preflight "$GOOD" /collections/zones/items/1 PUT)" = 204 ] &&
     [ "$(header Access-Control-Allow-Origin)" = "$GOOD" ] &&
     [ "$(header Access-Control-Allow-Methods)" = "GET, HEAD, PUT, PATCH, DELETE, OPTIONS" ] &&
     [ "$(header Access-Control-Allow-Headers)" = "Authorization, Content-Type, If-Match, If-None-Match, X-Requested-With, Last-Event-ID" ] &&
     [ "$(header Access-Control-Max-Age)" -gt 0 ] && header Vary | grep -q Origin'
check "no preflight answer allows credentials or any origin (*)" \
    '! grep -qi "^access-control-allow-credentials" "$FM_TMP/headers" && ! grep -qi "^access-control-allow-origin: \*" "$FM_TMP/headers"'
check "every listed origin is answered with itself" \
    '[ "$(preflight "$OTHER" /collections GET)" = 204 ] && [ "$(header Access-Control-Allow-Origin)" = "$OTHER" ] &&
     [ "$(header Access-Control-Allow-Methods)" = "GET, HEAD, OPTIONS" ]'
check "a preflight needs no credentials, on any route (the items of a collection: GET, POST)" \
    '[ "$(preflight "$GOOD" /collections/zones/items POST)" = 204 ] &&
     [ "$(header Access-Control-Allow-Methods)" = "GET, HEAD, POST, OPTIONS" ]'
check "an unlisted origin gets 204 with Allow and no CORS headers at all" \
    '[ "$(preflight http://evil.example /collections/zones/items/1 PUT)" = 204 ] && no_cors &&
     [ "$(header Allow)" = "GET, HEAD, PUT, PATCH, DELETE, OPTIONS" ]'
check "a listed origin but for the port is not listed" \
    '[ "$(preflight http://127.0.0.1:5998 /collections GET)" = 204 ] && no_cors'
check "OPTIONS without Origin: 204 with Allow (it was 405)" \
    '[ "$(code -X OPTIONS "$FM_URL/collections/zones/items")" = 204 ] && [ "$(header Allow)" = "GET, HEAD, POST, OPTIONS" ] && no_cors'
check "OPTIONS on a path that does not exist: 404" '[ "$(code -X OPTIONS "$FM_URL/nothing/here")" = 404 ]'
check "a method the route lacks is still 405, with Allow (now naming OPTIONS)" \
    '[ "$(code -X DELETE "${BEARER[@]}" "$FM_URL/collections")" = 405 ] && [ "$(header Allow)" = "GET, HEAD, OPTIONS" ]'

# ---- actual requests -----------------------------------------------------------
check "a listed origin's request with a bearer token gets its origin and the exposed headers" \
    '[ "$(code -H "Origin: $GOOD" "${BEARER[@]}" "$FM_URL/collections/zones/items/1")" = 200 ] &&
     [ "$(header Access-Control-Allow-Origin)" = "$GOOD" ] &&
     header Access-Control-Expose-Headers | grep -q "ETag, Location, Link, X-Tile-Cache" && header Vary | grep -q Origin'
check "... its errors too (a 401 the page can read)" \
    '[ "$(code -H "Origin: $GOOD" "$FM_URL/collections")" = 401 ] && [ "$(header Access-Control-Allow-Origin)" = "$GOOD" ]'
check "an unlisted origin gets the answer with no CORS headers" \
    '[ "$(code -H "Origin: http://evil.example" "${BEARER[@]}" "$FM_URL/collections")" = 200 ] && no_cors'
check "a listed origin writes with a bearer token (no X-Requested-With)" \
    '[ "$(code -X POST -H "Origin: $GOOD" "${BEARER[@]}" "$FM_URL/me/tokens")" = 201 ] && [ "$(header Access-Control-Allow-Origin)" = "$GOOD" ]'
fm_login liaison-a
check "but not with the cookie: a listed origin is not this server (403, even with X-Requested-With)" \
    '[ "$(code -X POST -H "Origin: $GOOD" -H "X-Requested-With: fusionmap" -b "$FM_TMP/liaison-a.jar" "$FM_URL/me/tokens")" = 403 ] && is_problem 403'
check "the cookie from this server itself still writes" \
    '[ "$(code -X POST -H "Origin: $FM_URL" -H "X-Requested-With: fusionmap" -b "$FM_TMP/liaison-a.jar" "$FM_URL/me/tokens")" = 201 ]'
check "the event stream carries the listed origin (EventSource from that page)" \
    'curl -s -N --max-time 1 -D "$FM_TMP/headers" -o /dev/null -H "Origin: $GOOD" "${BEARER[@]}" "$FM_URL/events";
     [ "$(header Access-Control-Allow-Origin)" = "$GOOD" ] && header Content-Type | grep -q text/event-stream'
check "a tile carries it too, and exposes X-Tile-Cache" \
    '[ "$(code -H "Origin: $GOOD" "${BEARER[@]}" "$FM_URL/tiles/zones/9/307/206.png")" = 200 ] &&
     [ "$(header Access-Control-Allow-Origin)" = "$GOOD" ] && [ -n "$(header X-Tile-Cache)" ]'

# ---- TileJSON --------------------------------------------------------------------
check "TileJSON says tileSize 256 (MapLibre assumes 512 and stretches without it)" \
    '[ "$(code "${BEARER[@]}" "$FM_URL/tiles/all.json")" = 200 ] && [ "$(jqb .tileSize)" = 256 ] &&
     [ "$(jqb ".tiles[0]")" = "$FM_URL/tiles/all/{z}/{x}/{y}.png" ]'
check "the 256 px claim is true: a tile is 256 x 256" \
    '[ "$(code "${BEARER[@]}" "$FM_URL/tiles/all/9/307/206.png")" = 200 ] &&
     [ "$(/usr/bin/python3 -c "import struct,sys; d=open(sys.argv[1],\"rb\").read(24); print(*struct.unpack(\">II\", d[16:24]))" "$FM_TMP/body")" = "256 256" ]'
fm_stop

# ---- no --cors-origin: no CORS at all, and bad values refused ------------------------
fm_start --demo
check "without --cors-origin nothing carries CORS headers, nor Vary: Origin" \
    '[ "$(preflight "$GOOD" /collections GET)" = 204 ] && no_cors && ! grep -qi "^vary:.*origin" "$FM_TMP/headers" &&
     [ "$(code -H "Origin: $GOOD" "$FM_URL/collections")" = 401 ] && no_cors'
for bad in '*' 'http://a.example/' 'http://a.example/path' 'ftp://a.example' 'a.example' 'http://a.example:0' 'http://a.example:70000' 'http://' 'http://a b'; do
    check "--cors-origin '$bad' is refused at start (exit 2)" \
        '"$FUSIONMAP" serve --db "$FM_TMP/x.db" --port 0 --cors-origin "'"$bad"'" >/dev/null 2>"$FM_TMP/bad.err"; [ $? = 2 ] && grep -q cors-origin "$FM_TMP/bad.err"'
done
finish

#!/usr/bin/env bash
# Authentication the GIS clients can use (issue 22): HTTP Basic with the
# user name and a token as the password (QGIS 3.22 has no other way to send
# a token), through curl and through GDAL's OAPIF driver and TMS minidriver;
# the challenge that makes them send it; never the login password. And the
# event stream's single-use tickets (EventSource sends no headers).
. "$(dirname "$0")/../lib.sh"
export FM_EVENTS_TICKET_MS=1500 # a ticket's lifetime, shortened
fm_start --demo
TOKEN=$(fm_token liaison-a)
TOKEN_B=$(fm_token liaison-b)
BEARER=(-H "Authorization: Bearer $TOKEN")
code() { curl -s -o "$FM_TMP/body" -D "$FM_TMP/headers" -w '%{http_code}' "$@"; }
challenges() { grep -i '^www-authenticate:' "$FM_TMP/headers" | tr -d '\r'; }

# ---- the challenge ---------------------------------------------------------
check "a request without credentials gets 401 with a Bearer and a Basic challenge (realm fusionmap)" \
    '[ "$(code "$FM_URL/collections")" = 401 ] && is_problem 401 &&
     challenges | grep -q "^WWW-Authenticate: Bearer realm=\"fusionmap\"" &&
     challenges | grep -q "^WWW-Authenticate: Basic realm=\"fusionmap\""'
check "a script in a browser page (Sec-Fetch-Mode: cors) is not offered Basic (no login box pops up)" \
    '[ "$(code -H "Sec-Fetch-Mode: cors" "$FM_URL/me")" = 401 ] &&
     challenges | grep -q Bearer && ! challenges | grep -q Basic'
check "a failed login is not offered Basic (a form login in a browser would pop up a login box)" \
    '[ "$(code -H "Origin: $FM_URL" -H "Sec-Fetch-Mode: navigate" --data "user=liaison-a&password=nope" "$FM_URL/login")" = 401 ] &&
     ! challenges | grep -q Basic &&
     [ "$(code -H "Content-Type: application/json" -d "{\"user\":\"liaison-a\",\"password\":\"nope\"}" "$FM_URL/login")" = 401 ] &&
     ! challenges | grep -q Basic'
check "a browser navigating to a page that needs a login is offered Basic (it may send user and token)" \
    '[ "$(code -H "Sec-Fetch-Mode: navigate" "$FM_URL/collections")" = 401 ] && challenges | grep -q Basic'
check "a wrong bearer token is not offered Basic either" \
    '[ "$(code -H "Authorization: Bearer fmt_nope" "$FM_URL/me")" = 401 ] && ! challenges | grep -q Basic'

# ---- Basic with curl ---------------------------------------------------------
check "curl -u user:token reads as Authorization: Bearer token does" \
    '[ "$(code -u "liaison-a:$TOKEN" "$FM_URL/me")" = 200 ] && [ "$(jqb .user)" = liaison-a ] &&
     [ "$(code -u "liaison-a:$TOKEN" "$FM_URL/collections/zones/items")" = 200 ] && cp "$FM_TMP/body" "$FM_TMP/basic.json" &&
     [ "$(code "${BEARER[@]}" "$FM_URL/collections/zones/items")" = 200 ] &&
     [ "$(jq -c "[.features[].id]" "$FM_TMP/basic.json")" = "$(jqb "[.features[].id]|tostring")" ] &&
     [ "$(jq ".features|length" "$FM_TMP/basic.json")" -gt 0 ]'
check "a user name that is not the token's user gets 401 saying so" \
    '[ "$(code -u "liaison-b:$TOKEN" "$FM_URL/me")" = 401 ] && is_problem 401 && jqb .detail | grep -q "user name"'
check "the login password as the Basic password gets 401 telling to use a token" \
    '[ "$(code -u "liaison-a:liaison-a" "$FM_URL/me")" = 401 ] && is_problem 401 &&
     jqb .detail | grep -q "never the login password" && jqb .detail | grep -q "fusionmap token add NAME" &&
     jqb .detail | grep -q "POST /me/tokens"'
check "... and is not counted as a failed login (the password is never checked)" \
    'for i in 1 2 3 4 5 6 7 8; do curl -s -o /dev/null -u "liaison-a:wrong$i" "$FM_URL/me"; done;
     [ "$(curl -s -o /dev/null -w "%{http_code}" -H "Content-Type: application/json" -d "{\"user\":\"liaison-a\",\"password\":\"liaison-a\"}" "$FM_URL/login")" = 200 ]'
check "a made-up token as the Basic password gets 401" \
    '[ "$(code -u "liaison-a:fmt_$(printf %064d 0)" "$FM_URL/me")" = 401 ] && jqb .detail | grep -q "not valid"'
check "a Basic 401 offers Basic again" '[ "$(code -u "liaison-a:x" "$FM_URL/me")" = 401 ] && challenges | grep -q Basic'
check "an Authorization scheme the server does not know gets 401 naming both that it does" \
    '[ "$(code -H "Authorization: Digest x" "$FM_URL/me")" = 401 ] && jqb .detail | grep -q Basic && jqb .detail | grep -q Bearer'
check "a Basic-authenticated write needs no X-Requested-With (no cookie: like a bearer token)" \
    '[ "$(code -X POST -u "liaison-a:$TOKEN" "$FM_URL/me/tokens")" = 201 ] && [[ $(jqb .token) == fmt_* ]]'
check "... but from a page of another origin (a browser's cached Basic credentials) it is refused" \
    '[ "$(code -X POST -u "liaison-a:$TOKEN" -H "Origin: http://evil.example" "$FM_URL/me/tokens")" = 403 ] && is_problem 403'
check "... and reading (GET) from such a page is not a state change: 200" \
    '[ "$(code -u "liaison-a:$TOKEN" -H "Origin: http://evil.example" "$FM_URL/me")" = 200 ]'
check "a session cookie sent along a bad Basic password does not rescue it" \
    'fm_login liaison-a && [ "$(code -b "$FM_TMP/liaison-a.jar" -u "liaison-a:liaison-a" "$FM_URL/me")" = 401 ]'

# ---- GDAL's OAPIF driver with Basic ----------------------------------------
export GDAL_HTTP_TIMEOUT=20 CPL_VSIL_CURL_USE_CACHE=NO GDAL_HTTP_AUTH=BASIC GDAL_HTTP_USERPWD="liaison-a:$TOKEN"
for c in zones incidents movements; do
    n=$(curl -s "${BEARER[@]}" "$FM_URL/collections/$c/items?limit=1" | jq .numberMatched)
    check "ogrinfo OAPIF with GDAL_HTTP_AUTH=BASIC counts the server's $n $c" \
        'ogrinfo -ro -so "OAPIF:$FM_URL/" '"$c"' 2>"$FM_TMP/gdal.err" | grep -q "Feature Count: '"$n"'$" ||
         { cat "$FM_TMP/gdal.err"; false; }'
    check "ogr2ogr with Basic copies every one of the $n $c" \
        'ogr2ogr -f GeoJSON "$FM_TMP/'"$c"'.geojson" "OAPIF:$FM_URL/" '"$c"' -oo PAGE_SIZE=2 2>/dev/null &&
         [ "$(jq ".features|length" "$FM_TMP/'"$c"'.geojson")" = '"$n"' ]'
done
check "ogrinfo with the login password as GDAL_HTTP_USERPWD gets nothing" \
    '! GDAL_HTTP_USERPWD=liaison-a:liaison-a ogrinfo -ro -so "OAPIF:$FM_URL/" zones >/dev/null 2>&1'

# ---- GDAL's TMS minidriver with Basic --------------------------------------
export GDAL_ENABLE_WMS_CACHE=NO GDAL_DEFAULT_WMS_CACHE_PATH=$FM_TMP/wmscache
fm_tms_xml "$FM_TMP/xyz.xml"
WIN=(-projwin 3975000 3925000 4020000 3870000) # the demo's area, several tiles at 512 px
alpha_max() { gdalinfo -stats -json "$1" 2>/dev/null | jq '.bands[3].maximum'; }
check "gdal_translate through the TMS minidriver with Basic draws the area (not blank)" \
    'gdal_translate -q -of PNG -outsize 512 512 "${WIN[@]}" "$FM_TMP/xyz.xml" "$FM_TMP/basic.png" 2>"$FM_TMP/gdal.err" &&
     [ "$(alpha_max "$FM_TMP/basic.png")" -gt 0 ] || { cat "$FM_TMP/gdal.err"; false; }'
check "... the same picture as with Authorization: Bearer" \
    'GDAL_HTTP_AUTH= GDAL_HTTP_USERPWD= GDAL_HTTP_HEADERS="Authorization: Bearer $TOKEN" \
       gdal_translate -q -of PNG -outsize 512 512 "${WIN[@]}" "$FM_TMP/xyz.xml" "$FM_TMP/bearer.png" 2>/dev/null &&
     cmp -s "$FM_TMP/basic.png" "$FM_TMP/bearer.png"'
check "... and nothing with the login password" \
    '! GDAL_HTTP_USERPWD=liaison-a:liaison-a gdal_translate -q -of PNG -outsize 512 512 "${WIN[@]}" "$FM_TMP/xyz.xml" "$FM_TMP/none.png" 2>/dev/null ||
     ! cmp -s "$FM_TMP/basic.png" "$FM_TMP/none.png"'
unset GDAL_HTTP_AUTH GDAL_HTTP_USERPWD

# ---- stream tickets ---------------------------------------------------------
ticket() { curl -s -X POST "$@" "$FM_URL/events/ticket" | jq -r .ticket; }
# stream URL: the first bytes of a stream (or a problem), status in $FM_TMP/scode
stream() {
    curl -s -N --max-time 1 -D "$FM_TMP/sh" -o "$FM_TMP/sbody" "$1" 2>/dev/null
    sed -n '1s/^HTTP[^ ]* \([0-9]*\).*/\1/p' "$FM_TMP/sh" | tr -d '\r'
}
check "POST /events/ticket with a bearer token gives a ticket (not the token), a URL and its lifetime" \
    '[ "$(code -X POST "${BEARER[@]}" "$FM_URL/events/ticket")" = 201 ] &&
     [[ $(jqb .ticket) =~ ^[0-9a-f]{64}$ ]] && [ "$(jqb .ticket)" != "${TOKEN#fmt_}" ] &&
     [ "$(jqb .url)" = "$FM_URL/events?ticket=$(jqb .ticket)" ] && [ "$(jqb .expires_in)" = 1.5 ] &&
     header Cache-Control | grep -q no-store'
T1=$(ticket "${BEARER[@]}")
check "a ticket opens the stream once, as the token's user" \
    '[ "$(stream "$FM_URL/events?ticket=$T1")" = 200 ] && grep -q "fusionmap events for liaison-a (A)" "$FM_TMP/sbody"'
check "... and not twice" '[ "$(stream "$FM_URL/events?ticket=$T1")" = 401 ] && grep -q ticket "$FM_TMP/sbody"'
T2=$(ticket "${BEARER[@]}")
sleep 2
check "a ticket past its lifetime (1.5 s here, 60 s by default) opens nothing" \
    '[ "$(stream "$FM_URL/events?ticket=$T2")" = 401 ]'
T3=$(ticket -u "liaison-b:$TOKEN_B")
check "a ticket is for GET /events only: elsewhere it authenticates nothing" \
    '[ "$(code "$FM_URL/me?ticket=$T3")" = 401 ] && [ "$(code "$FM_URL/collections/zones/items?ticket=$T3")" = 401 ] &&
     [ "$(code -X POST "$FM_URL/events/ticket?ticket=$T3")" = 401 ]'
check "... and is still good there afterwards (Basic-issued: the user is liaison-b)" \
    '[ "$(stream "$FM_URL/events?ticket=$T3")" = 200 ] && grep -q "for liaison-b (B)" "$FM_TMP/sbody"'
T4=$(ticket -u "liaison-b:$TOKEN_B")
curl -s -N --max-time 8 -o "$FM_TMP/t4" "$FM_URL/events?ticket=$T4" &
T4PID=$!
sleep 0.5
sqlite3 "$FM_DB" "DELETE FROM tokens WHERE user_id = (SELECT id FROM users WHERE name = 'liaison-b')"
started=$(date +%s.%N)
check "a stream opened with a ticket ends once its token is withdrawn (within 3 s)" \
    'grep -q "for liaison-b" "$FM_TMP/t4" && for i in $(seq 1 30); do kill -0 $T4PID 2>/dev/null || break; sleep 0.1; done;
     ! kill -0 $T4PID 2>/dev/null'
kill $T4PID 2>/dev/null
wait $T4PID 2>/dev/null
# a token found good is trusted by the worker thread that checked it for at
# most one second while this server commits nothing (README, tiles): the
# row was deleted by another process, so wait that second out
sleep 1.2
check "... and the withdrawn token no longer works as a Basic password" '[ "$(code -u "liaison-b:$TOKEN_B" "$FM_URL/me")" = 401 ]'
check "a made-up ticket gets 401, and no cookie sent with it rescues it" \
    '[ "$(stream "$FM_URL/events?ticket=$(printf %064d 7)")" = 401 ] &&
     [ "$(curl -s -o /dev/null -w "%{http_code}" -b "$FM_TMP/liaison-a.jar" "$FM_URL/events?ticket=x")" = 401 ]'
check "a ticket needs a token: with the session cookie 403 (a same-origin page opens /events with it)" \
    '[ "$(code -X POST -b "$FM_TMP/liaison-a.jar" -H "X-Requested-With: fusionmap" "$FM_URL/events/ticket")" = 403 ] && is_problem 403'
check "without credentials: 401" '[ "$(code -X POST "$FM_URL/events/ticket")" = 401 ]'
check "neither the token nor a ticket reaches the server's log" \
    '! grep -q -e "$TOKEN" -e "$T1" -e "$T3" "$FM_TMP/serve.err" "$FM_TMP/serve.out"'
finish

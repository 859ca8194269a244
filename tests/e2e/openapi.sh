#!/usr/bin/env bash
# /api (issue 22): a well-formed OpenAPI 3.0 document (openapi_check.py:
# its structure always, and openapi-spec-validator when installed) with
# the security schemes the server accepts, the problem answers it gives,
# and an HTML service-doc linked from the landing page.
. "$(dirname "$0")/../lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
fm_start --demo
TA=$(fm_token liaison-a)
A=(-H "Authorization: Bearer $TA")

check "GET /api is OpenAPI 3.0 JSON, well-formed (openapi_check.py)" \
    '[ "$(req GET /api)" = 200 ] && header Content-Type | grep -q "^application/vnd.oai.openapi+json;version=3.0" &&
     cp "$FM_TMP/body" "$FM_TMP/api.json" && python3 "$HERE/openapi_check.py" "$FM_TMP/api.json"'
check "the checker is not a rubber stamp: a document without the basic scheme or a 404 fails" \
    'jq "del(.components.securitySchemes.basic)" "$FM_TMP/api.json" >"$FM_TMP/bad1.json" &&
     ! python3 "$HERE/openapi_check.py" "$FM_TMP/bad1.json" >/dev/null &&
     jq "del(.paths[\"/collections\"].get.responses[\"404\"])" "$FM_TMP/api.json" >"$FM_TMP/bad2.json" &&
     ! python3 "$HERE/openapi_check.py" "$FM_TMP/bad2.json" >/dev/null'
check "securitySchemes: bearer, basic (a token as the password) and the session cookie" \
    'jq -e ".components.securitySchemes | (.bearer.scheme == \"bearer\") and (.basic.scheme == \"basic\") and (.cookie.in == \"cookie\") and (.cookie.name == \"fm_session\")" "$FM_TMP/api.json" >/dev/null &&
     jq -e ".paths[\"/conformance\"].get.security == [] and (.security | length == 3)" "$FM_TMP/api.json" >/dev/null'
check "each documented scheme works: bearer, Basic with a token, the cookie" \
    '[ "$(req GET /collections "${A[@]}")" = 200 ] && [ "$(req GET /collections -u "liaison-a:$TA")" = 200 ] &&
     fm_login liaison-a && [ "$(req GET /collections -b "$FM_TMP/liaison-a.jar")" = 200 ] &&
     [ "$(req GET /collections)" = 401 ]'
check "the problem answers 400 401 403 404 409 412 413 429 are documented as problem+json" \
    'for s in 400 401 403 404 409 412 413 429; do
         jq -e ".components.responses[\"$s\"].content[\"application/problem+json\"].schema[\"\$ref\"] == \"#/components/schemas/Problem\"" "$FM_TMP/api.json" >/dev/null || exit_code=1; done; [ -z "${exit_code:-}" ] &&
     jq -e ".paths[\"/collections/{collectionId}/items/{featureId}\"].put.responses | has(\"412\") and has(\"409\") and has(\"428\")" "$FM_TMP/api.json" >/dev/null'
# 412 and 428 only where the route reads If-Match (issue 19: PUT /rules listed both)
resp() { jq -c ".paths[\"$1\"].$2.responses | [has(\"412\"), has(\"428\")]" "$FM_TMP/api.json"; }
check "412/428 where If-Match is read: an item's PUT/PATCH/DELETE and its ack both, a ruling 412 only" \
    '[ "$(resp "/collections/{collectionId}/items/{featureId}" patch)" = "[true,true]" ] &&
     [ "$(resp "/collections/{collectionId}/items/{featureId}" delete)" = "[true,true]" ] &&
     [ "$(resp "/collections/{collectionId}/items/{featureId}/ack" post)" = "[true,true]" ] &&
     [ "$(resp "/collections/{collectionId}/items/{featureId}/ruling" post)" = "[true,false]" ]'
check "and nowhere else: PUT /rules, DELETE /keys/{fingerprint}, POST /login list neither" \
    '[ "$(resp /rules put)" = "[false,false]" ] && [ "$(resp "/keys/{fingerprint}" delete)" = "[false,false]" ] &&
     [ "$(resp /login post)" = "[false,false]" ] &&
     [ "$(jq "[.paths[][] | select(type == \"object\") | select(.responses | has(\"428\"))] | length" "$FM_TMP/api.json")" = 4 ]'
TAD=$(fm_token admin)
check "as the server answers: PUT /rules with no If-Match, or a stale one, is 200 (never 428/412); an ack with none is 428" \
    '[ "$(req PUT /rules -H "Authorization: Bearer $TAD" -H "Content-Type: application/json" -d "{\"collection\":\"zones\",\"notice_s\":86400}")" = 200 ] &&
     [ "$(req PUT /rules -H "Authorization: Bearer $TAD" -H "If-Match: \"999\"" -H "Content-Type: application/json" -d "{\"collection\":\"zones\",\"notice_s\":86400}")" = 200 ] &&
     [ "$(req POST /collections/zones/items/2/ack "${A[@]}" -H "Content-Type: application/json" -d "{\"decision\":\"ack\"}")" = 428 ]'
check "a real 400 is the documented Problem (type, title, status, detail)" \
    '[ "$(req GET "/collections/zones/items?nonsense=1" "${A[@]}")" = 400 ] && is_problem 400 &&
     jqb .title | grep -q . && jq -e ".paths[\"/collections/zones/items\"].get.responses | has(\"400\")" "$FM_TMP/api.json" >/dev/null'
# --max-time: a stream (/cot/stream) answers 200 and goes on
check "every documented GET path without parameters exists (no 404/405 for a logged-in user)" \
    'ok=1; for p in $(jq -r ".paths | to_entries[] | select(.value.get) | select(.value.get.responses[\"200\"].content | has(\"text/event-stream\") | not) | .key | select(test(\"[{]\") | not)" "$FM_TMP/api.json"); do
         c=$(req GET "$p" "${A[@]}" --max-time 5); case $c in 404|405|500) echo "$p: $c"; ok=0;; esac; done; [ $ok = 1 ]'
check "every route of the server is in /api with its method (the pages aside)" \
    'python3 "$HERE/openapi_routes.py" "$FM_SOURCE_DIR/server/routes.c" "$FM_TMP/api.json"'
check "that check fails for a document without the rulings" \
    'jq "del(.paths[\"/collections/{collectionId}/items/{featureId}/ruling\"])" "$FM_TMP/api.json" >"$FM_TMP/bad3.json" &&
     python3 "$HERE/openapi_routes.py" "$FM_SOURCE_DIR/server/routes.c" "$FM_TMP/bad3.json" | grep -q "undocumented: POST /collections/\*/items/\*/ruling"'
check "the views and the writes of Part 4 are documented" \
    'jq -e ".paths | has(\"/collections/movements-points/items\") and has(\"/collections/conflicts-areas/items\") and (.[\"/collections/{collectionId}/items\"] | has(\"post\"))" "$FM_TMP/api.json" >/dev/null'
check "the landing page links an HTML service-doc, and it is HTML listing the paths" \
    'req GET "/?f=json" >/dev/null && href=$(jqb ".links[] | select(.rel == \"service-doc\" and .type == \"text/html\") | .href") &&
     [ -n "$href" ] && curl -s -D "$FM_TMP/h2" -o "$FM_TMP/doc.html" "$href" &&
     grep -qi "^Content-Type: text/html" "$FM_TMP/h2" && grep -q "/collections/{collectionId}/items" "$FM_TMP/doc.html" &&
     xmllint --html --noout "$FM_TMP/doc.html" 2>/dev/null'
check "a browser asking /api (Accept: text/html) gets the page; a client the JSON" \
    'curl -s -H "Accept: text/html,application/xhtml+xml" "$FM_URL/api" | grep -q "<table>" &&
     curl -s -H "Accept: application/vnd.oai.openapi+json;version=3.0, application/json" "$FM_URL/api" | jq -e .openapi >/dev/null'
check "/api?f=xml and /api?x=1 are 400 problems" \
    '[ "$(req GET "/api?f=xml")" = 400 ] && is_problem 400 && [ "$(req GET "/api?x=1")" = 400 ] && is_problem 400'
finish

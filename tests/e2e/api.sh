#!/usr/bin/env bash
# The HTTP contract of DESIGN.md, one check per sentence, against the real
# server on a real socket.
. "$(dirname "$0")/../lib.sh"
fm_start --demo
fm_login liaison-a && fm_login liaison-b && fm_login viewer
A=(-b "$FM_TMP/liaison-a.jar" -H 'X-Requested-With: fusionmap')
B=(-b "$FM_TMP/liaison-b.jar" -H 'X-Requested-With: fusionmap')
V=(-b "$FM_TMP/viewer.jar" -H 'X-Requested-With: fusionmap')
GJ=(-H 'Content-Type: application/geo+json')
ZONE='{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[35.8,32.9],[35.9,32.9],[35.9,33.0],[35.8,33.0],[35.8,32.9]]]},"properties":{"title":"test zone","type":"no_fly","status":"proposed","valid_from":"2026-01-01T00:00:00+02:00","valid_to":"2027-01-01T00:00:00Z","altitude_floor_m":0,"altitude_ceiling_m":2000,"colour_hint":"amber"}}'

# --- metadata ---------------------------------------------------------------
check "GET / with Accept: application/json is the landing page with a service-desc link" \
    '[ "$(req GET / -H "Accept: application/json")" = 200 ] && jqb ".links[].rel" | grep -qx service-desc'
check "GET / in a browser is the viewer (HTML)" \
    '[ "$(req GET / -H "Accept: text/html")" = 200 ] && header Content-Type | grep -q text/html'
check "GET /api is OpenAPI 3.0 with its own media type and declares the filters" \
    '[ "$(req GET /api)" = 200 ] && header Content-Type | grep -q "application/vnd.oai.openapi+json;version=3.0" &&
             jqb ".paths[\"/collections/zones/items\"].get.parameters[].name" | grep -qx status'
check "GET /conformance lists core, geojson and Part 4 (create-replace-delete, update, optimistic locking)" \
    '[ "$(req GET /conformance)" = 200 ] && jqb ".conformsTo[]" | grep -q "features-4/1.0/conf/create-replace-delete" &&
     jqb ".conformsTo[]" | grep -q "features-4/1.0/conf/update$" && jqb ".conformsTo[]" | grep -q "features-4/1.0/conf/optimistic-locking"'
check "reads without login are refused with 401 problem+json" \
    '[ "$(req GET /collections)" = 401 ] && is_problem 401 && header WWW-Authenticate | grep -q Bearer'
check "GET /collections lists zones, incidents, movements and conflicts" \
    '[ "$(req GET /collections "${A[@]}")" = 200 ] && [ "$(jqb "[.collections[].id][0:4]|join(\",\")")" = "zones,incidents,movements,conflicts" ]'
check "GET /collections/nothing is 404" '[ "$(req GET /collections/nothing "${A[@]}")" = 404 ] && is_problem 404'
check "GET /me names the user, party and role" \
    '[ "$(req GET /me "${A[@]}")" = 200 ] && [ "$(jqb ".user+\"/\"+.party+\"/\"+.role")" = "liaison-a/A/liaison" ]'

# --- create -------------------------------------------------------------------
code=$(req POST /collections/zones/items "${A[@]}" "${GJ[@]}" -d "$ZONE")
LOC=$(header Location)
ID=$(jqb .id)
check "POST a Feature gets 201, a Location and the feature with server fields" \
    "[ $code = 201 ] && [ '$LOC' = '$FM_URL/collections/zones/items/$ID' ] &&
             [ \"\$(jqb '.properties.party+\"/\"+(.properties.version|tostring)+\"/\"+.properties.created_by')\" = A/1/liaison-a ]"
check "times are normalised to UTC and free properties come back as sent" \
    "[ \"\$(jqb '.properties.valid_from')\" = 2025-12-31T22:00:00Z ] && [ \"\$(jqb .properties.colour_hint)\" = amber ]"
check "GET the item has ETag = version and the geo+json type" \
    "[ \$(req GET /collections/zones/items/$ID \"\${B[@]}\") = 200 ] && [ \"\$(header ETag)\" = '\"1\"' ] &&
             header Content-Type | grep -q '^application/geo+json'"
check "one Feature links to itself and to its collection (OGC API Part 1, absolute hrefs)" \
    "[ \$(req GET /collections/zones/items/$ID \"\${B[@]}\") = 200 ] &&
             [ \"\$(jqb '.links[] | select(.rel == \"self\") | .href')\" = '$FM_URL/collections/zones/items/$ID' ] &&
             [ \"\$(jqb '.links[] | select(.rel == \"collection\") | .href')\" = '$FM_URL/collections/zones' ]"
check "one Feature refuses a query parameter it would ignore (400 naming it)" \
    "[ \$(req GET '/collections/zones/items/$ID?bbox=0,0,1,1' \"\${B[@]}\") = 400 ] && is_problem 400 &&
             [ \"\$(jqb .parameter)\" = bbox ]"
check "one Feature takes f=json, and refuses another format (400)" \
    "[ \$(req GET '/collections/zones/items/$ID?f=json' \"\${B[@]}\") = 200 ] &&
             [ \$(req GET '/collections/zones/items/$ID?f=kml' \"\${B[@]}\") = 400 ] && is_problem 400"
check "If-None-Match with the current ETag gets 304" \
    "[ \$(req GET /collections/zones/items/$ID \"\${B[@]}\" -H 'If-None-Match: \"1\"') = 304 ]"
check "a viewer may not create (403)" \
    "[ \$(req POST /collections/zones/items \"\${V[@]}\" \"\${GJ[@]}\" -d '$ZONE') = 403 ] && is_problem 403"
check "a cookie-authenticated POST without X-Requested-With is refused (403)" \
    "[ \$(req POST /collections/zones/items -b '$FM_TMP/liaison-a.jar' \"\${GJ[@]}\" -d '$ZONE') = 403 ]"
check "a POST from another Origin is refused (403)" \
    "[ \$(req POST /collections/zones/items \"\${A[@]}\" -H 'Origin: http://evil.example' \"\${GJ[@]}\" -d '$ZONE') = 403 ]"

# --- update -------------------------------------------------------------------
check "PUT without If-Match gets 428" \
    "[ \$(req PUT /collections/zones/items/$ID \"\${A[@]}\" \"\${GJ[@]}\" -d '$ZONE') = 428 ] && is_problem 428"
check "PUT with If-Match gets 200 and version 2" \
    "[ \$(req PUT /collections/zones/items/$ID \"\${A[@]}\" \"\${GJ[@]}\" -H 'If-Match: \"1\"' -d '$ZONE') = 200 ] &&
             [ \"\$(header ETag)\" = '\"2\"' ] && [ \"\$(jqb .properties.version)\" = 2 ]"
check "PUT with a stale If-Match gets 412 and changes nothing" \
    "[ \$(req PUT /collections/zones/items/$ID \"\${A[@]}\" \"\${GJ[@]}\" -H 'If-Match: \"1\"' -d '$ZONE') = 412 ] && is_problem 412 &&
             [ \$(req GET /collections/zones/items/$ID \"\${A[@]}\") = 200 ] && [ \"\$(jqb .properties.version)\" = 2 ]"
check "PATCH merges (RFC 7396): a title changes, null removes a property" \
    "[ \$(req PATCH /collections/zones/items/$ID \"\${A[@]}\" -H 'Content-Type: application/merge-patch+json' -H 'If-Match: \"2\"' \
                 -d '{\"properties\":{\"title\":\"renamed\",\"colour_hint\":null}}') = 200 ] &&
             [ \"\$(jqb .properties.title)\" = renamed ] && [ \"\$(jqb .properties.colour_hint)\" = null ] && [ \"\$(jqb .properties.type)\" = no_fly ]"
check "side B may not change side A's item (403)" \
    "[ \$(req PATCH /collections/zones/items/$ID \"\${B[@]}\" -H 'Content-Type: application/merge-patch+json' -H 'If-Match: \"3\"' -d '{\"properties\":{\"title\":\"x\"}}') = 403 ]"
check "an illegal status step is 409 naming the allowed ones" \
    "[ \$(req PATCH /collections/zones/items/$ID \"\${A[@]}\" -H 'Content-Type: application/merge-patch+json' -H 'If-Match: \"3\"' -d '{\"properties\":{\"status\":\"expired\"}}') = 409 ] &&
             jqb .detail | grep -q allowed"
check "GET history lists every version with who and when" \
    "[ \$(req GET /collections/zones/items/$ID/history \"\${B[@]}\") = 200 ] && [ \"\$(jqb '[.versions[].version]|join(\",\")')\" = 1,2,3 ] &&
             [ \"\$(jqb '.versions[0].by')\" = liaison-a ]"

check "eight concurrent PATCHes with the same If-Match: exactly one 200, the others 412, never a 500" '
    req POST /collections/zones/items "${A[@]}" "${GJ[@]}" -d "$ZONE" >/dev/null; cid=$(jqb .id); racers=()
    for i in 1 2 3 4 5 6 7 8; do
        curl -s -o /dev/null -w "%{http_code}\n" -X PATCH "${A[@]}" -H "Content-Type: application/merge-patch+json" -H "If-Match: \"1\"" \
            -d "{\"properties\":{\"title\":\"racer $i\"}}" "$FM_URL/collections/zones/items/$cid" >>"$FM_TMP/race" &
        racers+=($!)
    done; wait "${racers[@]}"
    [ "$(grep -c "^200$" "$FM_TMP/race")" = 1 ] && [ "$(grep -c "^412$" "$FM_TMP/race")" = 7 ]'

# --- query --------------------------------------------------------------------
check "items is a FeatureCollection with numberMatched and numberReturned" \
    '[ "$(req GET "/collections/zones/items" "${B[@]}")" = 200 ] && header Content-Type | grep -q "^application/geo+json" &&
             [ "$(jqb .type)" = FeatureCollection ] && [ "$(jqb .numberReturned)" = "$(jqb ".features|length")" ] && [ "$(jqb .numberMatched)" -ge 4 ]'
check "limit pages with an absolute next link; following it gives the rest" \
    'req GET "/collections/zones/items?limit=2" "${B[@]}" >/dev/null; next=$(jqb ".links[]|select(.rel==\"next\").href");
             first=$(jqb "[.features[].id]|join(\",\")"); total=$(jqb .numberMatched);
             [[ $next == http://* ]] && curl -s -b "$FM_TMP/liaison-b.jar" "$next" -o "$FM_TMP/body" &&
             [ "$(jqb "[.features[].id]|join(\",\")")" != "$first" ] && [ "$(jqb .links[].rel | grep -c prev)" = 1 ]'
check "bbox returns what intersects it, and only that" \
    '[ "$(req GET "/collections/zones/items?bbox=35.85,32.95,35.86,32.96" "${B[@]}")" = 200 ] && jqb ".features[].id" | grep -qx '"$ID"' &&
             [ "$(req GET "/collections/zones/items?bbox=30,20,30.1,20.1" "${B[@]}")" = 200 ] && [ "$(jqb .numberMatched)" = 0 ]'
check "datetime intervals with open ends filter by validity" \
    '[ "$(req GET "/collections/zones/items?datetime=2026-06-01T00:00:00Z/.." "${B[@]}")" = 200 ] && jqb ".features[].id" | grep -qx '"$ID"' &&
             [ "$(req GET "/collections/zones/items?datetime=../2025-01-01T00:00:00Z" "${B[@]}")" = 200 ] && ! jqb ".features[].id" | grep -qx '"$ID"''
check "status, party and type filter" \
    '[ "$(req GET "/collections/zones/items?party=B&type=no_fly&status=proposed" "${A[@]}")" = 200 ] &&
             [ "$(jqb "[.features[]|.properties.party+.properties.type+.properties.status]|unique|join(\",\")")" = "Bno_flyproposed" ]'
check "a draft of A is seen by A and not counted for B" \
    'a=$(req GET "/collections/zones/items?status=draft" "${A[@]}" >/dev/null; jqb .numberMatched);
             b=$(req GET "/collections/zones/items?status=draft" "${B[@]}" >/dev/null; jqb .numberMatched);
             [ "$a" -ge 1 ] && [ "$b" = 0 ]'
check "t= gives the situation as of a past time" \
    '[ "$(req GET "/collections/zones/items?t=2000-01-01T00:00:00Z" "${A[@]}")" = 200 ] && [ "$(jqb .numberMatched)" = 0 ]'
check "limit above 10000 is clamped, not refused" \
    '[ "$(req GET "/collections/zones/items?limit=99999" "${A[@]}")" = 200 ] && jqb ".links[0].href" | grep -q "limit=10000"'

# --- delete -------------------------------------------------------------------
check "DELETE without If-Match gets 428" "[ \$(req DELETE /collections/zones/items/$ID \"\${A[@]}\") = 428 ]"
check "DELETE withdraws: 204, then 404, and the history keeps it" \
    "[ \$(req DELETE /collections/zones/items/$ID \"\${A[@]}\" -H 'If-Match: \"3\"') = 204 ] &&
             [ \$(req GET /collections/zones/items/$ID \"\${A[@]}\") = 404 ] &&
             [ \$(req GET /collections/zones/items/$ID/history \"\${A[@]}\") = 200 ] && [ \"\$(jqb '.versions[-1].feature.properties.status')\" = withdrawn ]"

# --- sessions and tokens ------------------------------------------------------
check "the session cookie is HttpOnly and SameSite=Strict" \
    'curl -s -D - -o /dev/null -H "Content-Type: application/json" -d "{\"user\":\"viewer\",\"password\":\"viewer\"}" "$FM_URL/login" |
             grep -i "^set-cookie: fm_session=" | grep -i httponly | grep -qi "samesite=strict"'
check "a wrong password is 401" \
    '[ "$(req POST /login -H "Content-Type: application/json" -d "{\"user\":\"viewer\",\"password\":\"nope\"}")" = 401 ]'
TOKEN=$(fm_token liaison-b)
check "a bearer token from the command line authenticates a script" \
    "[ \$(req GET /me -H 'Authorization: Bearer $TOKEN') = 200 ] && [ \"\$(jqb .user)\" = liaison-b ]"
check "a wrong bearer token is 401" "[ \$(req GET /me -H 'Authorization: Bearer fmt_nope') = 401 ]"
check "POST /me/tokens makes a token that works" \
    "[ \$(req POST /me/tokens \"\${A[@]}\") = 201 ] && t=\$(jqb .token) && [ \$(req GET /me -H \"Authorization: Bearer \$t\") = 200 ]"
check "logout ends the session" \
    "[ \$(req POST /logout \"\${V[@]}\") = 204 ] && [ \$(req GET /me \"\${V[@]}\") = 401 ]"
check "the event log chain verifies over HTTP" \
    "[ \$(req GET /events/verify \"\${A[@]}\") = 200 ] && [ \"\$(jqb .ok)\" = true ]"
check "the command line verifies the same database" "$FUSIONMAP" events verify --db "$FM_DB"
finish

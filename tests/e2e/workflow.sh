#!/usr/bin/env bash
# The workflow between the sides: an acknowledgement is of one version, a
# zone becomes active only when the other side acknowledged its current
# version (or the supervisor arbitrates), a dispute needs a reason, and
# each party has a list of what it still has to answer.
. "$(dirname "$0")/../lib.sh"
fm_start --demo
for u in liaison-a liaison-b supervisor viewer admin; do fm_login $u; done
A=(-b "$FM_TMP/liaison-a.jar" -H 'X-Requested-With: fusionmap')
B=(-b "$FM_TMP/liaison-b.jar" -H 'X-Requested-With: fusionmap')
S=(-b "$FM_TMP/supervisor.jar" -H 'X-Requested-With: fusionmap')
V=(-b "$FM_TMP/viewer.jar" -H 'X-Requested-With: fusionmap')
J=(-H 'Content-Type: application/json')
MP=(-H 'Content-Type: application/merge-patch+json')
ZONE='{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[35.61,32.61],[35.65,32.61],[35.65,32.65],[35.61,32.65],[35.61,32.61]]]},"properties":{"title":"workflow zone","type":"restricted","status":"proposed"}}'
req POST /collections/zones/items "${A[@]}" -H 'Content-Type: application/geo+json' -d "$ZONE" >/dev/null
Z=$(jqb .id)
ack() { req POST "/collections/zones/items/$Z/ack" "$@"; }

check "a zone created active is refused, naming the statuses it may start in (once each)" \
    '[ "$(req POST /collections/zones/items "${A[@]}" -H "Content-Type: application/geo+json" -d "${ZONE/\"proposed\"/\"active\"}")" = 400 ] &&
     [ "$(jqb .detail)" = "a new item of zones starts as draft or proposed, not active" ]'

check "the new zone is on B's pending list, not on A's" \
    '[ "$(req GET /pending "${B[@]}")" = 200 ] && jqb ".items[].id" | grep -qx "$Z" &&
     req GET /pending "${A[@]}" >/dev/null && ! jqb ".items[].id" | grep -qx "$Z"'
check "A may not make it active before B acknowledged (409, saying why)" \
    '[ "$(req PATCH /collections/zones/items/$Z "${A[@]}" "${MP[@]}" -H "If-Match: \"1\"" -d "{\"properties\":{\"status\":\"active\"}}")" = 409 ] &&
     jqb .detail | grep -q "acknowledged"'
check "A does not acknowledge its own zone (403)" \
    '[ "$(ack "${A[@]}" "${J[@]}" -H "If-Match: \"1\"" -d "{\"decision\":\"ack\"}")" = 403 ]'
check "a viewer does not acknowledge (403)" \
    '[ "$(ack "${V[@]}" "${J[@]}" -H "If-Match: \"1\"" -d "{\"decision\":\"ack\"}")" = 403 ]'
check "an acknowledgement without If-Match is 428" \
    '[ "$(ack "${B[@]}" "${J[@]}" -d "{\"decision\":\"ack\"}")" = 428 ]'
check "an unknown decision is 400" \
    '[ "$(ack "${B[@]}" "${J[@]}" -H "If-Match: \"1\"" -d "{\"decision\":\"maybe\"}")" = 400 ] && [ "$(jqb .pointer)" = /decision ]'
check "a dispute without a reason is 400" \
    '[ "$(ack "${B[@]}" "${J[@]}" -H "If-Match: \"1\"" -d "{\"decision\":\"dispute\"}")" = 400 ]'

# A edits before B answers: B's answer to version 1 is stale
req PATCH /collections/zones/items/$Z "${A[@]}" "${MP[@]}" -H 'If-Match: "1"' -d '{"properties":{"title":"workflow zone v2"}}' >/dev/null
check "B's acknowledgement of a version that was since changed is 412" \
    '[ "$(ack "${B[@]}" "${J[@]}" -H "If-Match: \"1\"" -d "{\"decision\":\"ack\"}")" = 412 ] && is_problem 412'
check "B acknowledges version 2: the zone becomes active (version 3)" \
    '[ "$(ack "${B[@]}" "${J[@]}" -H "If-Match: \"2\"" -d "{\"decision\":\"ack\",\"comment\":\"seen\"}")" = 200 ] &&
     [ "$(jqb .properties.status)" = active ] && [ "$(jqb .properties.version)" = 3 ]'
check "B cannot answer the same version twice (409)" \
    '[ "$(ack "${B[@]}" "${J[@]}" -H "If-Match: \"2\"" -d "{\"decision\":\"ack\"}")" = 412 ] ||
     [ "$(ack "${B[@]}" "${J[@]}" -H "If-Match: \"2\"" -d "{\"decision\":\"ack\"}")" = 409 ]'
check "the answers are listed per version" \
    '[ "$(req GET /collections/zones/items/$Z/acks "${A[@]}")" = 200 ] && [ "$(jqb ".acks[0].version,.acks[0].party,.acks[0].decision" | tr "\n" " ")" = "2 B ack " ]'
check "the acknowledgement is in the event log, attributed to B" \
    'req GET "/events/log?limit=10000" "${A[@]}" >/dev/null && [ "$(jqb "[.events[]|select(.item==$Z and .action==\"ack\")][0].user")" = liaison-b ]'
check "an edit of the active zone by A makes it a new proposal (proposed) that needs a new acknowledgement" \
    '[ "$(req PATCH /collections/zones/items/$Z "${A[@]}" "${MP[@]}" -H "If-Match: \"3\"" -d "{\"properties\":{\"title\":\"workflow zone v4\"}}")" = 200 ] &&
     [ "$(jqb .properties.status)" = proposed ] && req GET /pending "${B[@]}" >/dev/null && jqb ".items[].id" | grep -qx "$Z"'
check "B disputes version 4 with a reason: the zone is disputed" \
    '[ "$(ack "${B[@]}" "${J[@]}" -H "If-Match: \"4\"" -d "{\"decision\":\"dispute\",\"comment\":\"overlaps our road\"}")" = 200 ] &&
     [ "$(jqb .properties.status)" = disputed ]'
check "the dispute is on the supervisor's list" \
    '[ "$(req GET /disputes "${S[@]}")" = 200 ] && jqb ".items[].id" | grep -qx "$Z"'
check "A may not declare its own item disputed, only through an answer" \
    'req POST /collections/zones/items "${A[@]}" -H "Content-Type: application/geo+json" -d "$ZONE" >/dev/null; z2=$(jqb .id);
     [ "$(req PATCH /collections/zones/items/$z2 "${A[@]}" "${MP[@]}" -H "If-Match: \"1\"" -d "{\"properties\":{\"status\":\"disputed\"}}")" = 409 ]'
check "the supervisor arbitrates: disputed -> active without an acknowledgement" \
    '[ "$(req PATCH /collections/zones/items/$Z "${S[@]}" "${MP[@]}" -H "If-Match: \"5\"" -d "{\"properties\":{\"status\":\"active\"}}")" = 200 ] &&
     [ "$(jqb .properties.status)" = active ] && [ "$(jqb .properties.updated_by)" = supervisor ]'
check "the supervisor may not change the zone's geometry" \
    '[ "$(req PATCH /collections/zones/items/$Z "${S[@]}" "${MP[@]}" -H "If-Match: \"6\"" -d "{\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[35,32],[36,32],[36,33],[35,32]]]}}")" = 403 ]'
check "the supervisor can see another party's pending list; a side cannot" \
    '[ "$(req GET "/pending?party=A" "${S[@]}")" = 200 ] && [ "$(req GET "/pending?party=A" "${B[@]}")" = 403 ]'

# incidents and movements: an acknowledgement moves them on
req POST /collections/incidents/items "${B[@]}" -H 'Content-Type: application/geo+json' \
    -d '{"type":"Feature","geometry":{"type":"Point","coordinates":[35.7,32.7]},"properties":{"title":"shots heard","severity":3}}' >/dev/null
I=$(jqb .id)
check "A acknowledges B's incident: reported -> acknowledged" \
    '[ "$(req POST /collections/incidents/items/$I/ack "${A[@]}" "${J[@]}" -H "If-Match: \"1\"" -d "{\"decision\":\"ack\"}")" = 200 ] &&
     [ "$(jqb .properties.status)" = acknowledged ]'
check "the supervisor acknowledges too, without changing the status again" \
    '[ "$(req POST /collections/incidents/items/$I/ack "${S[@]}" "${J[@]}" -H "If-Match: \"2\"" -d "{\"decision\":\"ack\"}")" = 200 ] &&
     [ "$(jqb .properties.status)" = acknowledged ] && [ "$(jqb .properties.version)" = 2 ]'
check "every step is a legal transition: reported -> completed is refused with the allowed list" \
    '[ "$(req PATCH /collections/incidents/items/$I "${B[@]}" "${MP[@]}" -H "If-Match: \"2\"" -d "{\"properties\":{\"status\":\"reported\"}}")" = 409 ] &&
     jqb .detail | grep -q "allowed: " && jqb .detail | grep -q under_review && jqb .detail | grep -q resolved &&
     ! jqb .detail | grep -q "allowed: .*completed"'
check "the chain still verifies" '[ "$(req GET /events/verify "${A[@]}")" = 200 ] && [ "$(jqb .ok)" = true ]'
finish

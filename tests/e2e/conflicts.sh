#!/usr/bin/env bash
# Conflicts end to end over HTTP against the real server: side B notifies a
# movement through side A's restricted zone and A's open event stream gets
# the conflict; both sides list it; moving the route away resolves it; the
# same clash coming back re-opens the same id; a conflict with A's draft is
# A's alone; the supervisor resolves with a comment; the collection is read
# only and refuses bad queries; and a conflict opens on time, without a
# write, when a movement's window starts (the re-check thread, every 1 s).
. "$(dirname "$0")/../lib.sh"
FM_CONFLICT_RECHECK_S=1 fm_start --demo
for u in liaison-a liaison-b supervisor viewer; do fm_login $u; done
A=(-b "$FM_TMP/liaison-a.jar" -H 'X-Requested-With: fusionmap')
B=(-b "$FM_TMP/liaison-b.jar" -H 'X-Requested-With: fusionmap')
S=(-b "$FM_TMP/supervisor.jar" -H 'X-Requested-With: fusionmap')
V=(-b "$FM_TMP/viewer.jar")
GJ=(-H 'Content-Type: application/geo+json')
MP=(-H 'Content-Type: application/merge-patch+json')
JS=(-H 'Content-Type: application/json')
stamp() { date -u -d "@$(($(date +%s) + $1))" +%Y-%m-%dT%H:%M:%SZ; }

# the open event streams of A and B, from the log's current end (so that
# nothing is missed however long the connection takes)
req GET "/events/log?since=0&limit=10000" "${A[@]}" >/dev/null
LAST=$(jqb ".events[-1].seq")
curl -sN -b "$FM_TMP/liaison-a.jar" -H "Last-Event-ID: $LAST" "$FM_URL/events" >"$FM_TMP/a.sse" 2>/dev/null &
SSE_A=$!
curl -sN -b "$FM_TMP/liaison-b.jar" -H "Last-Event-ID: $LAST" "$FM_URL/events" >"$FM_TMP/b.sse" 2>/dev/null &
SSE_B=$!
trap 'kill $SSE_A $SSE_B 2>/dev/null; fm_stop' EXIT
# sse_has FILE JQ-CONDITION: some event on that stream satisfies it
# (events of the log only: "position" and "reset" carry no action)
sse_has() {
    grep '^data: ' "$1" | sed 's/^data: //' |
        jq -e -s "map(select(.action != null and .after != null)) | map(select($2)) | length > 0" >/dev/null 2>&1
}
# wait_for SECONDS 'shell condition'
wait_for() {
    local i
    for i in $(seq 1 $(($1 * 10))); do eval "$2" && return 0; sleep 0.1; done
    return 1
}

# --- B's convoy through A's restricted zone 1 (Range North) ------------------
ROUTE_IN='{"type":"LineString","coordinates":[[35.60,33.08],[35.95,33.08]]}'
ROUTE_OUT='{"type":"LineString","coordinates":[[35.60,32.50],[35.95,32.50]]}'
req POST /collections/movements/items "${B[@]}" "${GJ[@]}" -d "{\"type\":\"Feature\",\"geometry\":$ROUTE_IN,
    \"properties\":{\"title\":\"convoy X\",\"type\":\"ground\",\"corridor_width_m\":300,
    \"valid_from\":\"$(stamp -3600)\",\"valid_to\":\"$(stamp 86400)\"}}" >/dev/null
M=$(jqb .id)
check "B notifies a movement through A's restricted zone (201)" '[ -n "$M" ] && [ "$M" != null ]'
is_mine() { echo ".action == \"conflict_open\" and .collection == \"conflicts\" and (.after.properties.items | map(.collection + \":\" + (.id|tostring)) | sort) == ([\"movements:$M\", \"zones:1\"] | sort)"; }
has_mine() { sse_has "$1" "$(is_mine)"; }
check "A's open event stream receives conflict_open for the movement and the zone" \
    'wait_for 15 "has_mine $FM_TMP/a.sse"'
check "B's stream receives it too" 'wait_for 15 "has_mine $FM_TMP/b.sse"'
CID=$(grep '^data: ' "$FM_TMP/a.sse" | sed 's/^data: //' | jq -s -r "map(select(.action != null and .after != null)) | map(select($(is_mine)))[0].item")
check "the event names the conflict ($CID)" '[[ $CID =~ ^[0-9]+$ ]]'

# datetime: the conflicts whose clash interval (here from the convoy's
# start an hour ago to the zone's or the convoy's end) meets it
has_cid() { # QUERY: the conflict is in that answer (200)
    [ "$(req GET "/collections/conflicts/items?limit=10000&$1" "${A[@]}")" = 200 ] &&
        jqb '.features[].id' | grep -qx "$CID"
}
check "datetime=now finds the conflict, and the next link keeps datetime" \
    'has_cid "datetime=$(stamp 0)" && [ "$(req GET "/collections/conflicts/items?limit=1&datetime=$(stamp 0)" "${A[@]}")" = 200 ] &&
     { [ "$(jqb ".numberMatched")" = 1 ] || jqb ".links[] | select(.rel == \"next\") | .href" | grep -q "datetime="; }'
check "datetime an interval across its start finds it; one that ends before its start does not" \
    'has_cid "datetime=$(stamp -7200)/$(stamp -1800)" && ! has_cid "datetime=../$(stamp -7200)" && has_cid "datetime=$(stamp -7200)/.."'
check "datetime ten years ahead does not find it (the zone ends first)" '! has_cid "datetime=2036-12-01T00:00:00Z"'
check "datetime with t (as of now, from the log's records) answers the same" \
    'has_cid "t=$(stamp 0)&datetime=$(stamp 0)" && ! has_cid "t=$(stamp 0)&datetime=2036-12-01T00:00:00Z"'
check "a bad datetime is 400, naming it" \
    '[ "$(req GET "/collections/conflicts/items?datetime=yesterday" "${A[@]}")" = 400 ] && is_problem 400 &&
     jqb .detail | grep -qi datetime'

for who in A B; do
    eval "ARGS=(\"\${$who[@]}\")"
    check "the conflict is in /collections/conflicts/items for $who" \
        '[ "$(req GET "/collections/conflicts/items?state=open" "${ARGS[@]}")" = 200 ] &&
         header Content-Type | grep -q "^application/geo+json" && [ "$(jqb .type)" = FeatureCollection ] &&
         [ "$(jqb "[.features[]|select(.id==$CID)]|length")" = 1 ] && [ "$(jqb .numberMatched)" = "$(jqb ".features|length")" ]'
done
check "GET /collections/conflicts/items/{id}: kind, both items with versions, the clash geometry, interval, band, severity, state" \
    '[ "$(req GET /collections/conflicts/items/$CID "${A[@]}")" = 200 ] &&
     [ "$(jqb .properties.kind)" = movement_crosses_zone ] && [ "$(jqb .properties.state)" = open ] &&
     [ "$(jqb "[.properties.items[]|.collection+\":\"+(.id|tostring)+\"@\"+(.version|tostring)]|join(\",\")")" = "movements:$M@1,zones:1@1" ] &&
     [ "$(jqb .geometry.type)" = Polygon ] && [ "$(jqb ".properties.interval|length")" = 2 ] &&
     [ "$(jqb ".properties.altitude_band[1]")" = 3000 ] && [ "$(jqb .properties.severity)" -ge 1 ]'
check "the clash geometry lies within the zone's box" \
    'jqb "[.geometry.coordinates[0][][0]]|min" | awk "{exit !(\$1 >= 35.67)}" &&
     jqb "[.geometry.coordinates[0][][0]]|max" | awk "{exit !(\$1 <= 35.89)}"'
check "bbox finds it around the zone and not elsewhere" \
    '[ "$(req GET "/collections/conflicts/items?bbox=35.7,33.0,35.9,33.2" "${A[@]}")" = 200 ] && [ "$(jqb "[.features[]|select(.id==$CID)]|length")" = 1 ] &&
     [ "$(req GET "/collections/conflicts/items?bbox=10,10,11,11" "${A[@]}")" = 200 ] && [ "$(jqb .numberMatched)" = 0 ]'

# --- moving the route away resolves it; back re-opens the same id ----------
req PATCH /collections/movements/items/$M "${B[@]}" "${MP[@]}" -H 'If-Match: "1"' -d "{\"geometry\":$ROUTE_OUT}" >/dev/null
check "moving the route away resolves the conflict" \
    '[ "$(req GET /collections/conflicts/items/$CID "${A[@]}")" = 200 ] && [ "$(jqb .properties.state)" = resolved ] &&
     [ "$(jqb .properties.resolved_by)" = null ]'
check "A's stream receives conflict_resolved" \
    'wait_for 15 "sse_has \"$FM_TMP/a.sse\" \".action == \\\"conflict_resolved\\\" and .item == $CID\""'
check "an open-only listing no longer has it" \
    '[ "$(req GET "/collections/conflicts/items?state=open" "${B[@]}")" = 200 ] && [ "$(jqb "[.features[]|select(.id==$CID)]|length")" = 0 ]'

# --- a conflict with A's draft is A's alone -----------------------------------
req POST /collections/zones/items "${A[@]}" "${GJ[@]}" -d '{"type":"Feature","geometry":{"type":"Polygon",
    "coordinates":[[[35.70,32.45],[35.80,32.45],[35.80,32.55],[35.70,32.55],[35.70,32.45]]]},
    "properties":{"title":"draft range","type":"restricted","status":"draft"}}' >/dev/null
DZ=$(jqb .id)
req GET "/collections/conflicts/items?state=open" "${A[@]}" >/dev/null
DC=$(jqb "[.features[]|select(.properties.items[1].id==$DZ)][0].id")
check "A sees a conflict between B's movement and A's draft zone" '[[ $DC =~ ^[0-9]+$ ]]'
check "B cannot get it (404)" '[ "$(req GET /collections/conflicts/items/$DC "${B[@]}")" = 404 ] && is_problem 404'
check "B's listing does not show it, and numberMatched does not count it" \
    '[ "$(req GET "/collections/conflicts/items" "${B[@]}")" = 200 ] && [ "$(jqb "[.features[]|select(.id==$DC)]|length")" = 0 ] &&
     nb=$(jqb .numberMatched) && req GET "/collections/conflicts/items" "${A[@]}" >/dev/null && [ "$(jqb .numberMatched)" -gt "$nb" ]'
check "a viewer does not see it" '[ "$(req GET /collections/conflicts/items/$DC "${V[@]}")" = 404 ]'
check "A's stream has it" 'wait_for 15 "sse_has \"$FM_TMP/a.sse\" \".action == \\\"conflict_open\\\" and .item == $DC\""'
sleep 0.3
check "B's stream never shows it" '! sse_has "$FM_TMP/b.sse" ".item == $DC and .collection == \"conflicts\"" && ! grep -q "draft range" "$FM_TMP/b.sse"'

# --- back through zone 1: the same conflict id; the supervisor resolves ------
req PATCH /collections/movements/items/$M "${B[@]}" "${MP[@]}" -H 'If-Match: "2"' -d "{\"geometry\":$ROUTE_IN}" >/dev/null
check "the same clash coming back re-opens the same conflict id" \
    '[ "$(req GET /collections/conflicts/items/$CID "${A[@]}")" = 200 ] && [ "$(jqb .properties.state)" = open ] &&
     [ "$(jqb .properties.items[0].version)" = 3 ]'
check "a liaison may not resolve a conflict (403)" \
    '[ "$(req POST /collections/conflicts/items/$CID/resolve "${A[@]}" "${JS[@]}" -d "{\"comment\":\"mine\"}")" = 403 ] && is_problem 403'
check "the supervisor needs a comment (400)" \
    '[ "$(req POST /collections/conflicts/items/$CID/resolve "${S[@]}" "${JS[@]}" -d "{}")" = 400 ] && is_problem 400'
check "the supervisor resolves with a comment (200)" \
    '[ "$(req POST /collections/conflicts/items/$CID/resolve "${S[@]}" "${JS[@]}" -d "{\"comment\":\"agreed at the 10:00 meeting\"}")" = 200 ] &&
     [ "$(jqb .properties.state)" = resolved ] && [ "$(jqb .properties.resolved_by)" = supervisor ] &&
     [ "$(jqb .properties.comment)" = "agreed at the 10:00 meeting" ]'
check "resolving it again is 409" \
    '[ "$(req POST /collections/conflicts/items/$CID/resolve "${S[@]}" "${JS[@]}" -d "{\"comment\":\"again\"}")" = 409 ] && is_problem 409'
sleep 1.5
check "the re-check on time leaves the supervisor's resolution alone" \
    '[ "$(req GET /collections/conflicts/items/$CID "${B[@]}")" = 200 ] && [ "$(jqb .properties.state)" = resolved ]'

# --- read only, and bad queries --------------------------------------------------
check "POST to the conflicts collection is 405" \
    '[ "$(req POST /collections/conflicts/items "${A[@]}" "${GJ[@]}" -d "{}")" = 405 ] && is_problem 405 && header Allow | grep -q GET'
check "DELETE of a conflict is 405" '[ "$(req DELETE /collections/conflicts/items/$CID "${S[@]}")" = 405 ]'
for q in "state=maybe" "bbox=1,2,3" "bbox=10,10,5,5" "limit=0" "limit=abc" "offset=-1" "nonsense=1" "f=xml"; do
    check "GET /collections/conflicts/items?$q is 400 problem+json" \
        '[ "$(req GET "/collections/conflicts/items?$q" "${A[@]}")" = 400 ] && is_problem 400'
done
check "a conflict id that is not a number is 404" '[ "$(req GET /collections/conflicts/items/abc "${A[@]}")" = 404 ] && is_problem 404'
check "an unknown conflict is 404" '[ "$(req GET /collections/conflicts/items/999999 "${A[@]}")" = 404 ] && is_problem 404'
check "without login, 401" '[ "$(req GET /collections/conflicts/items)" = 401 ]'
check "limit=1 pages with an absolute next link" \
    '[ "$(req GET "/collections/conflicts/items?limit=1" "${A[@]}")" = 200 ] && [ "$(jqb .numberReturned)" = 1 ] &&
     next=$(jqb ".links[]|select(.rel==\"next\").href") && [[ $next == http://*offset=1* ]]'
check "GET /collections/conflicts describes the collection" \
    '[ "$(req GET /collections/conflicts "${A[@]}")" = 200 ] && [ "$(jqb .id)" = conflicts ] &&
     jqb ".links[].rel" | grep -qx items'
check "the OpenAPI document declares the conflicts paths and their state parameter" \
    '[ "$(req GET /api)" = 200 ] && jqb ".paths[\"/collections/conflicts/items\"].get.parameters[].name" | grep -qx state'

# --- on time, without a write: a movement's window starts -------------------------
req POST /collections/incidents/items "${A[@]}" "${GJ[@]}" -d '{"type":"Feature","geometry":{"type":"Point",
    "coordinates":[36.30,32.30]},"properties":{"title":"roadside blast","severity":5}}' >/dev/null
I=$(jqb .id)
req POST /collections/movements/items "${B[@]}" "${GJ[@]}" -d "{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\",
    \"coordinates\":[[36.20,32.303],[36.40,32.303]]},\"properties\":{\"title\":\"late convoy\",\"type\":\"ground\",
    \"corridor_width_m\":50,\"valid_from\":\"$(stamp 6)\",\"valid_to\":\"$(stamp 3600)\"}}" >/dev/null
LM=$(jqb .id)
near() { echo ".action == \"conflict_open\" and .after.properties.kind == \"incident_near_movement\" and (.after.properties.items | map(.id)) == [$I, $LM]"; }
has_near() { sse_has "$FM_TMP/a.sse" "$(near)"; }
check "an incident 330 m from a movement that has not started is no conflict yet" '! has_near'
check "when its window starts, the re-check opens incident_near_movement on A's stream, without a write" \
    'wait_for 30 has_near'
check "the event log still verifies" \
    '[ "$(req GET /events/verify "${A[@]}")" = 200 ] && [ "$(jqb .ok)" = true ]'
kill $SSE_A $SSE_B 2>/dev/null
finish

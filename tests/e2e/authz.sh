#!/usr/bin/env bash
# The authorization matrix: every endpoint x {A liaison, B liaison,
# supervisor, viewer, admin, anonymous, expired session} x {A's item, A's
# draft, B's item, B's draft}: the exact status of each cell, and in every
# answer that succeeds, nothing of a draft the caller may not see.
. "$(dirname "$0")/../lib.sh"
fm_start --demo --session-idle 2
P=(A B SUP VIEW ADMIN ANON EXP)
declare -A AUTH
AUTH[A]="Authorization: Bearer $(fm_token liaison-a)"
AUTH[B]="Authorization: Bearer $(fm_token liaison-b)"
AUTH[SUP]="Authorization: Bearer $(fm_token supervisor)"
AUTH[VIEW]="Authorization: Bearer $(fm_token viewer)"
AUTH[ADMIN]="Authorization: Bearer $(fm_token admin)"
AUTH[ANON]="X-Nobody: 1"
fm_login liaison-a
AUTH[EXP]="Cookie: fm_session=$(awk '$6 == "fm_session" {print $7}' "$FM_TMP/liaison-a.jar")"
GJ='Content-Type: application/geo+json'
zone() { # PARTY TITLE STATUS
    curl -s -H "${AUTH[$1]}" -H "$GJ" "$FM_URL/collections/zones/items" \
        -d '{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[35.6,32.6],[35.61,32.6],[35.61,32.61],[35.6,32.6]]]},"properties":{"title":"'"$2"'","status":"'"$3"'"}}' | jq .id
}
declare -A ID
ID[ZA]=$(zone A "zone-of-A" proposed)
ID[ZAD]=$(zone A "secret-draft-of-A" draft)
ID[ZB]=$(zone B "zone-of-B" proposed)
ID[ZBD]=$(zone B "secret-draft-of-B" draft)
# what each caller must never see
declare -A HIDDEN=([A]="secret-draft-of-B" [B]="secret-draft-of-A" [SUP]="secret-draft-of-" [VIEW]="secret-draft-of-" [ADMIN]="secret-draft-of-")
sleep 3 # the cookie session of EXP is now past its idle timeout

# cell WHO METHOD PATH EXPECT [BODY] [extra header]
cell() {
    local who=$1 method=$2 path=$3 want=$4 body=${5:-} extra=${6:-X-None: 1}
    local args=(-H "${AUTH[$who]}" -H "$extra" -H 'X-Requested-With: fusionmap')
    [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
    local got
    got=$(req "$method" "$path" "${args[@]}")
    if [ "$got" != "$want" ]; then
        echo "#   $who $method $path: got $got, want $want: $(head -c 200 "$FM_TMP/body")"
        return 1
    fi
    if [ "$got" -lt 300 ] && [ -n "${HIDDEN[$who]:-}" ] && grep -q "${HIDDEN[$who]}" "$FM_TMP/body"; then
        echo "#   $who $method $path: the answer shows ${HIDDEN[$who]}"
        return 1
    fi
    if [ "$got" -ge 400 ] && ! is_problem "$got"; then
        echo "#   $who $method $path: $got is not problem+json"
        return 1
    fi
    return 0
}
# row "sentence" METHOD PATH(with @T for the target id) BODY EXTRA-HEADER then 7 statuses per target
row() {
    local sentence=$1 method=$2 tmpl=$3 body=$4 extra=$5
    shift 5
    local target
    for target in ZA ZAD ZB ZBD; do
        local path=${tmpl//@T/${ID[$target]}}
        local bad=0 i=0 who
        for who in "${P[@]}"; do
            cell "$who" "$method" "$path" "$1" "$body" "$extra" || bad=1
            shift
        done
        check "$sentence on $target" '[ '"$bad"' = 0 ]'
    done
}
IM='If-Match: "999"'
#                                               A   B   SUP VIEW ADM ANON EXP
row "GET an item" GET /collections/zones/items/@T "" "" \
                                                200 200 200 200 200 401 401 \
                                                200 404 404 404 404 401 401 \
                                                200 200 200 200 200 401 401 \
                                                404 200 404 404 404 401 401
row "GET its history" GET /collections/zones/items/@T/history "" "" \
                                                200 200 200 200 200 401 401 \
                                                200 404 404 404 404 401 401 \
                                                200 200 200 200 200 401 401 \
                                                404 200 404 404 404 401 401
row "GET its answers" GET /collections/zones/items/@T/acks "" "" \
                                                200 200 200 200 200 401 401 \
                                                200 404 404 404 404 401 401 \
                                                200 200 200 200 200 401 401 \
                                                404 200 404 404 404 401 401
row "GET its thread (issue 19)" GET /collections/zones/items/@T/messages "" "" \
                                                200 200 200 200 200 401 401 \
                                                200 404 404 404 404 401 401 \
                                                200 200 200 200 200 401 401 \
                                                404 200 404 404 404 401 401
row "POST a message on its thread" POST /collections/zones/items/@T/messages '{"text":"hello"}' "" \
                                                201 201 201 403 403 401 401 \
                                                201 404 404 403 403 401 401 \
                                                201 201 201 403 403 401 401 \
                                                404 201 404 403 403 401 401
row "mark its thread seen" POST /collections/zones/items/@T/messages/seen "" "" \
                                                200 200 200 403 403 401 401 \
                                                200 404 404 404 404 401 401 \
                                                200 200 200 403 403 401 401 \
                                                404 200 404 404 404 401 401
row "PATCH its title (stale If-Match: the owner gets 412, nobody writes)" PATCH /collections/zones/items/@T \
    '{"properties":{"title":"changed"}}' "$IM" \
                                                412 403 403 403 403 401 401 \
                                                412 404 404 403 403 401 401 \
                                                403 412 403 403 403 401 401 \
                                                404 412 404 403 403 401 401
row "PUT it (stale If-Match)" PUT /collections/zones/items/@T \
    '{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[35.6,32.6],[35.61,32.6],[35.61,32.61],[35.6,32.6]]]},"properties":{"title":"x"}}' "$IM" \
                                                412 403 403 403 403 401 401 \
                                                412 404 404 403 403 401 401 \
                                                403 412 403 403 403 401 401 \
                                                404 412 404 403 403 401 401
row "DELETE it (stale If-Match)" DELETE /collections/zones/items/@T "" "$IM" \
                                                412 403 403 403 403 401 401 \
                                                412 404 404 403 403 401 401 \
                                                403 412 403 403 403 401 401 \
                                                404 412 404 403 403 401 401
row "acknowledge it (stale If-Match)" POST /collections/zones/items/@T/ack '{"decision":"ack"}' "$IM" \
                                                403 412 412 403 403 401 401 \
                                                403 404 404 403 403 401 401 \
                                                412 403 412 403 403 401 401 \
                                                404 403 404 403 403 401 401
row "the supervisor's status-only PATCH (stale If-Match)" PATCH /collections/zones/items/@T \
    '{"properties":{"status":"disputed"}}' "$IM" \
                                                412 403 412 403 403 401 401 \
                                                412 404 404 403 403 401 401 \
                                                403 412 412 403 403 401 401 \
                                                404 412 404 403 403 401 401

# collection-wide endpoints: one status per caller
line() { # sentence METHOD PATH BODY then 7 statuses
    local sentence=$1 method=$2 path=$3 body=$4 bad=0 who
    shift 4
    for who in "${P[@]}"; do cell "$who" "$method" "$path" "$1" "$body" || bad=1; shift; done
    check "$sentence" '[ '"$bad"' = 0 ]'
}
line "list zones (drafts only to their owner, and not counted)" GET "/collections/zones/items?limit=1000" "" 200 200 200 200 200 401 401
line "list only drafts" GET "/collections/zones/items?status=draft" "" 200 200 200 200 200 401 401
line "list zones as of now" GET "/collections/zones/items?t=2100-01-01T00:00:00Z" "" 200 200 200 200 200 401 401
line "the event log" GET "/events/log?limit=10000" "" 200 200 200 200 200 401 401
line "the pending list" GET /pending "" 200 200 200 403 403 401 401
line "the dispute list" GET /disputes "" 200 200 200 200 200 401 401
line "the parties" GET /parties "" 200 200 200 200 200 401 401
line "who am I" GET /me "" 200 200 200 200 200 401 401
line "the users (admin only)" GET /users "" 403 403 403 403 200 401 401
line "add a user (admin only)" POST /users '{"name":"new-b","party":"B","role":"viewer","password":"secret-pw"}' 403 403 403 403 201 401 401
line "add a party (admin only)" POST /parties '{"code":"C","name":"Side C","colour":"#336699","kind":"side"}' 403 403 403 403 201 401 401
line "verify the chain" GET /events/verify "" 200 200 200 200 200 401 401
line "the channels" GET /channels "" 200 200 200 200 200 401 401
line "the channel of all parties" GET /channels/all/messages "" 200 200 200 200 200 401 401
line "post to the channel of all parties" POST /channels/all/messages '{"text":"hello all"}' 201 201 201 403 403 401 401
line "A's channel with the supervisor (the admin is of SUP)" GET /channels/sup-A/messages "" 200 404 200 404 200 401 401
line "post to A's channel with the supervisor" POST /channels/sup-A/messages '{"text":"hello A"}' 201 404 201 403 403 401 401
line "B's channel with the supervisor" GET /channels/sup-B/messages "" 404 200 200 404 200 401 401
line "the lead-time rules (issue 19)" GET /rules "" 200 200 200 200 200 401 401
line "set a rule (the admin only)" PUT /rules '{"collection":"incidents","answer_s":21600}' 403 403 403 403 200 401 401
line "the test clock: refused to all without FUSIONMAP_TEST_CLOCK=1" POST /rules/clock '{"advance_s":0}' 403 403 403 403 403 401 401
line "the inbox (a liaison's, the supervisor's; never another party's draft)" GET /inbox "" 200 200 200 403 403 401 401
line "the landing page, conformance and API need no login" GET "/?f=json" "" 200 200 200 200 200 200 200
check "counts do not reveal other parties' drafts: B counts 1 draft (its own)" \
    'req GET "/collections/zones/items?status=draft" -H "${AUTH[B]}" >/dev/null && [ "$(jqb .numberMatched)" = 1 ]'
check "the viewer counts no draft at all" \
    'req GET "/collections/zones/items?status=draft" -H "${AUTH[VIEW]}" >/dev/null && [ "$(jqb .numberMatched)" = 0 ]'
line "create a zone (liaisons and the supervisor)" POST /collections/zones/items \
    '{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[35.7,32.7],[35.71,32.7],[35.71,32.71],[35.7,32.7]]]},"properties":{"title":"new"}}' \
    201 201 201 403 403 401 401

check "nothing changed through the matrix: the drafts are still version 1" \
    'req GET /collections/zones/items/${ID[ZAD]} -H "${AUTH[A]}" >/dev/null && [ "$(jqb .properties.version)" = 1 ] &&
     req GET /collections/zones/items/${ID[ZB]} -H "${AUTH[B]}" >/dev/null && [ "$(jqb .properties.version)" = 1 ]'
finish

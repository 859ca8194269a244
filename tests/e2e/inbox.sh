#!/usr/bin/env bash
# GET /inbox, "waiting for me" (issue 19): per user, the other side's items
# to answer, disputes of my items, rulings on them, open conflicts with
# them, messages of my threads and channels my party has not seen, overdue
# items; counts and lists in names people read. The other side never sees
# a draft's entry (its conflict, its thread); a viewer and the admin have
# no inbox.
. "$(dirname "$0")/../lib.sh"
fm_start --demo
declare -A AUTH
for w in liaison-a liaison-b supervisor viewer admin; do
    AUTH[$w]="Authorization: Bearer $(fm_token $w)"
done
J='Content-Type: application/json'
GJ='Content-Type: application/geo+json'
mk() { # WHO COLLECTION GEOMETRY PROPS: the id
    curl -s -H "${AUTH[$1]}" -H "$GJ" "$FM_URL/collections/$2/items" \
        -d '{"type":"Feature","geometry":'"$3"',"properties":'"$4"'}' | jq .id
}
inbox() { req GET /inbox -H "${AUTH[$1]}" >/dev/null; }
has() { [ "$(jqb "[.$1[] | select(.id == $2)] | length")" -ge 1 ]; }
hasnt() { [ "$(jqb "[.$1[] | select(.id == $2)] | length")" = 0 ]; }
version() { curl -s -H "${AUTH[liaison-a]}" "$FM_URL/collections/$1/items/$2" | jq .properties.version; }
FAR='{"type":"Polygon","coordinates":[[[36.50,33.50],[36.52,33.50],[36.52,33.52],[36.50,33.50]]]}'
FAR2='{"type":"Polygon","coordinates":[[[36.51,33.505],[36.53,33.505],[36.53,33.525],[36.51,33.505]]]}'
LINE='{"type":"LineString","coordinates":[[35.5,32.5],[35.52,32.52]]}'

check "a viewer and the admin have no inbox (403 problem)" \
    '(for w in viewer admin; do [ "$(req GET /inbox -H "${AUTH[$w]}")" = 403 ] && is_problem 403 || exit 1; done)'
check "no login: 401" '[ "$(req GET /inbox)" = 401 ]'
check "an unknown parameter: 400 problem" '[ "$(req GET "/inbox?party=B" -H "${AUTH[liaison-a]}")" = 400 ] && is_problem 400'
check "counts match the lists; total is their sum" \
    'inbox liaison-b && [ "$(jqb ".counts.to_answer == (.to_answer | length) and .counts.overdue == (.overdue | length) and .counts.total == ([.counts | to_entries[] | select(.key != \"total\") | .value] | add)")" = true ]'

M=$(mk liaison-a movements "$LINE" '{"title":"Water convoy","type":"ground","status":"notified"}')
check "B has A's new movement to answer, by title and party; A does not" \
    'inbox liaison-b && has to_answer $M && [ "$(jqb "[.to_answer[] | select(.id == $M)][0] | [.title, .party] | @json")" = "[\"Water convoy\",\"A\"]" ] &&
     inbox liaison-a && hasnt to_answer $M'
check "B disputes it: off B's list; A has it among its disputed items, with B's reason" \
    '[ "$(req POST /collections/movements/items/$M/ack -H "${AUTH[liaison-b]}" -H "$J" -H "If-Match: \"$(version movements $M)\"" --data-binary "{\"decision\":\"dispute\",\"comment\":\"blocks our checkpoint\"}")" = 200 ] &&
     inbox liaison-b && hasnt to_answer $M &&
     inbox liaison-a && has disputed $M && [ "$(jqb "[.disputed[] | select(.id == $M)][0].dispute.reason")" = "blocks our checkpoint" ]'
check "the supervisor has it to rule on" 'inbox supervisor && has to_rule $M'
check "the supervisor upholds: off its list; A has the ruling, with its reason" \
    '[ "$(req POST /collections/movements/items/$M/ruling -H "${AUTH[supervisor]}" -H "$J" --data-binary "{\"decision\":\"uphold\",\"reason\":\"re-route it\"}")" = 200 ] &&
     inbox supervisor && hasnt to_rule $M &&
     inbox liaison-a && has rulings $M && [ "$(jqb "[.rulings[] | select(.id == $M)][0].ruling | [.decision, .reason] | @json")" = "[\"uphold\",\"re-route it\"]" ] &&
     inbox liaison-b && hasnt rulings $M'
check "A withdraws it: off A's disputed and rulings" \
    '[ "$(req DELETE /collections/movements/items/$M -H "${AUTH[liaison-a]}" -H "If-Match: \"$(version movements $M)\"")" = 204 ] &&
     inbox liaison-a && hasnt disputed $M && hasnt rulings $M'

# conflicts: two proposed zones that overlap, A's and B's
ZA=$(mk liaison-a zones "$FAR" '{"title":"Range East","status":"proposed"}')
ZB=$(mk liaison-b zones "$FAR2" '{"title":"Firing box","status":"proposed"}')
check "a new conflict with my item: in A's and B's inboxes, named by both titles and parties" \
    'inbox liaison-a && [ "$(jqb "[.conflicts[] | select(.items | map(.title) | index(\"Range East\"))][0].items | map(.title + \" (\" + .party + \")\") | sort | join(\", \")")" = "Firing box (B), Range East (A)" ] &&
     inbox liaison-b && [ "$(jqb "[.conflicts[] | select(.items | map(.title) | index(\"Firing box\"))] | length")" = 1 ]'

# a draft of A's that overlaps B's zone: its conflict and thread are A's alone
ZD=$(mk liaison-a zones "$FAR" '{"title":"Secret annex","status":"draft"}')
req POST /collections/zones/items/$ZD/messages -H "${AUTH[liaison-a]}" -H "$J" --data-binary '{"text":"draft only"}' >/dev/null
req POST /collections/zones/items/$ZD/messages -H "${AUTH[supervisor]}" -H "$J" --data-binary '{"text":"can I?"}' >/dev/null
check "the draft's conflict is in A's inbox" \
    'inbox liaison-a && [ "$(jqb "[.conflicts[] | select(.items | map(.title) | index(\"Secret annex\"))] | length")" = 1 ]'
check "B and the supervisor never see the draft: not its conflict, nor its thread, nor its title" \
    '(for w in liaison-b supervisor; do inbox $w && ! grep -q "Secret annex" "$FM_TMP/body" && [ "$(jqb "[.. | objects | select(.collection? == \"zones\" and .id? == $ZD)] | length")" = 0 ] || exit 1; done)'

# messages: unseen by my party, per thread, until a receipt
req POST /collections/zones/items/$ZA/messages -H "${AUTH[liaison-b]}" -H "$J" --data-binary '{"text":"please shrink it"}' >/dev/null
req POST /channels/all/messages -H "${AUTH[liaison-b]}" -H "$J" --data-binary '{"text":"radio check"}' >/dev/null
check "A has B's message on its zone's thread and on the channel, unseen, named by title" \
    'inbox liaison-a && [ "$(jqb "[.messages[] | select(.id == $ZA)][0] | [.title, .unseen, .last.text] | @json")" = "[\"Range East\",1,\"please shrink it\"]" ] &&
     [ "$(jqb "[.messages[] | select(.channel == \"all\")][0] | [.title, .unseen] | @json")" = "[\"All parties\",1]" ] && [ "$(jqb .counts.messages)" -ge 2 ]'
check "B's own messages are not waiting for B" \
    'inbox liaison-b && [ "$(jqb "[.messages[] | select(.id == $ZA or .channel == \"all\")] | length")" = 0 ]'
check "A has seen the thread: it leaves A's inbox" \
    '[ "$(req POST /collections/zones/items/$ZA/messages/seen -H "${AUTH[liaison-a]}" -H "$J" --data-binary "{}")" = 200 ] &&
     inbox liaison-a && [ "$(jqb "[.messages[] | select(.id == $ZA)] | length")" = 0 ] &&
     [ "$(jqb "[.messages[] | select(.channel == \"all\")] | length")" = 1 ]'
check "B's channel with the supervisor is not A's" \
    'req POST /channels/sup-B/messages -H "${AUTH[supervisor]}" -H "$J" --data-binary "{\"text\":\"for B only\"}" >/dev/null &&
     inbox liaison-a && ! grep -q "for B only" "$FM_TMP/body" && inbox liaison-b && grep -q "for B only" "$FM_TMP/body"'
finish

#!/usr/bin/env bash
# The cell's conversation (issue 19): item threads, channels, "seen"
# receipts; plain UTF-8 text with its limits (400/413/429); every message a
# record in the log; and a draft's thread never shown to another party on
# any channel (the thread, the channels, /events/log, the live stream), nor
# its existence (the same 404 as a missing item).
. "$(dirname "$0")/../lib.sh"
export FM_MESSAGE_RATE=40/3600
fm_start --demo
declare -A AUTH
AUTH[A]="Authorization: Bearer $(fm_token liaison-a)"
AUTH[B]="Authorization: Bearer $(fm_token liaison-b)"
AUTH[SUP]="Authorization: Bearer $(fm_token supervisor)"
AUTH[VIEW]="Authorization: Bearer $(fm_token viewer)"
AUTH[ADMIN]="Authorization: Bearer $(fm_token admin)"
J='Content-Type: application/json'
GJ='Content-Type: application/geo+json'
# post WHO PATH JSON: the status; the body in $FM_TMP/body
post() { req POST "$2" -H "${AUTH[$1]}" -H "$J" --data-binary "$3"; }
get() { req GET "$2" -H "${AUTH[$1]}"; }
zone() { # WHO TITLE STATUS: the new zone's id
    curl -s -H "${AUTH[$1]}" -H "$GJ" "$FM_URL/collections/zones/items" \
        -d '{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[35.6,32.6],[35.61,32.6],[35.61,32.61],[35.6,32.6]]]},"properties":{"title":"'"$2"'","status":"'"$3"'"}}' | jq .id
}

# ---- channels -------------------------------------------------------------
check "A's channels: all and sup-A, not B's" \
    '[ "$(get A /channels)" = 200 ] && [ "$(jqb "[.channels[].name] | join(\",\")")" = all,sup-A ]'
check "the supervisor's channels: all, sup-A, sup-B" \
    '[ "$(get SUP /channels)" = 200 ] && [ "$(jqb "[.channels[].name] | join(\",\")")" = all,sup-A,sup-B ]'
check "the viewer's channels: all only" \
    '[ "$(get VIEW /channels)" = 200 ] && [ "$(jqb "[.channels[].name] | join(\",\")")" = all ]'
check "no channels without a login (401)" '[ "$(req GET /channels)" = 401 ] && is_problem 401'

check "a party code with a comma is refused (a record's owner lists parties with commas)" \
    '[ "$(post ADMIN /parties "{\"code\":\"A,SUP\",\"name\":\"x\",\"colour\":\"#123456\",\"kind\":\"side\"}")" = 400 ] && is_problem 400'
TEXT='Route crosses our closed airspace; re-route south of 32.80N. المسار يعبر — המסלול חוצה'
check "B posts to the channel of all parties in three scripts (201)" \
    '[ "$(post B /channels/all/messages "$(jq -cn --arg t "$TEXT" "{text:\$t}")")" = 201 ] &&
     [ "$(jqb .text)" = "$TEXT" ] && [ "$(jqb .party)" = B ] && [ "$(jqb .by)" = liaison-b ]'
ALL1=$(jqb .id)
check "A, the supervisor and the viewer read it, byte for byte" \
    'for w in A SUP VIEW; do [ "$(get $w /channels/all/messages)" = 200 ] &&
        [ "$(jqb ".messages[] | select(.id == $ALL1) | .text")" = "$TEXT" ] || exit 1; done'
check "the supervisor writes to A (sup-A)" \
    '[ "$(post SUP /channels/sup-A/messages "{\"text\":\"note-for-A-only\"}")" = 201 ]'
check "A reads sup-A" '[ "$(get A /channels/sup-A/messages)" = 200 ] && jqb ".messages[].text" | grep -qx note-for-A-only'
check "A writes back in sup-A" '[ "$(post A /channels/sup-A/messages "{\"text\":\"A-answers-SUP\"}")" = 201 ]'
check "B may not read sup-A: the 404 of a channel that does not exist" \
    '[ "$(get B /channels/sup-A/messages)" = 404 ] && is_problem 404 && a=$(jqb .detail) &&
     [ "$(get B /channels/sup-ZZ/messages)" = 404 ] && [ "$(jqb .detail)" = "${a/sup-A/sup-ZZ}" ]'
check "B may not post to sup-A (404) nor the viewer read it (404)" \
    '[ "$(post B /channels/sup-A/messages "{\"text\":\"x\"}")" = 404 ] && [ "$(get VIEW /channels/sup-A/messages)" = 404 ]'
check "the viewer and the admin post nothing (403)" \
    '[ "$(post VIEW /channels/all/messages "{\"text\":\"x\"}")" = 403 ] && is_problem 403 &&
     [ "$(post ADMIN /channels/all/messages "{\"text\":\"x\"}")" = 403 ]'

# ---- what a message may be ------------------------------------------------
long=$(python3 -c 'print("ש" * 4000)')
check "4,000 characters (8,000 bytes of Hebrew) are one message (201)" \
    '[ "$(post A /channels/all/messages "{\"text\":\"$long\"}")" = 201 ]'
check "4,001 characters: 413 problem" \
    '[ "$(post A /channels/all/messages "{\"text\":\"${long}x\"}")" = 413 ] && is_problem 413 && [ "$(jqb .pointer)" = /text ]'
check "4,001 ASCII characters: 413" \
    '[ "$(post A /channels/all/messages "{\"text\":\"$(printf "x%.0s" $(seq 4001))\"}")" = 413 ]'
check "invalid UTF-8 in the body (raw bytes): 400 problem" \
    '[ "$(printf "{\"text\":\"a\xff\xfeb\"}" | req POST /channels/all/messages -H "${AUTH[A]}" -H "$J" --data-binary @-)" = 400 ] && is_problem 400'
check "an overlong UTF-8 form: 400" \
    '[ "$(printf "{\"text\":\"\xc0\xaf\"}" | req POST /channels/all/messages -H "${AUTH[A]}" -H "$J" --data-binary @-)" = 400 ]'
check "a lone surrogate escape: 400" '[ "$(post A /channels/all/messages "{\"text\":\"a\\ud800b\"}")" = 400 ]'
check "a control character (BEL): 400 naming /text" \
    '[ "$(post A /channels/all/messages "{\"text\":\"a\\u0007b\"}")" = 400 ] && is_problem 400 && [ "$(jqb .pointer)" = /text ]'
check "a carriage return, a tab, a NUL, a C1 control: 400 each" \
    'for t in "a\\rb" "a\\tb" "a\\u0000b" "a\\u0085b"; do [ "$(post A /channels/all/messages "{\"text\":\"$t\"}")" = 400 ] || exit 1; done'
check "a newline is text (201)" '[ "$(post A /channels/all/messages "{\"text\":\"line one\\nline two\"}")" = 201 ] && [ "$(jqb .text)" = "line one
line two" ]'
check "nothing to say (empty, blanks): 400" \
    '[ "$(post A /channels/all/messages "{\"text\":\"\"}")" = 400 ] && [ "$(post A /channels/all/messages "{\"text\":\"  \\n \"}")" = 400 ]'
check "text not a string, an unknown member, malformed JSON: 400; not JSON: 415" \
    '[ "$(post A /channels/all/messages "{\"text\":5}")" = 400 ] &&
     [ "$(post A /channels/all/messages "{\"text\":\"x\",\"edit\":3}")" = 400 ] &&
     [ "$(post A /channels/all/messages "{\"text\":")" = 400 ] &&
     [ "$(req POST /channels/all/messages -H "${AUTH[A]}" -H "Content-Type: text/plain" --data-binary "x")" = 415 ]'
check "no edit, no delete: PUT/PATCH/DELETE on messages are 405" \
    '[ "$(req DELETE /channels/all/messages -H "${AUTH[A]}")" = 405 ] &&
     [ "$(req PUT /collections/zones/items/1/messages -H "${AUTH[A]}")" = 405 ]'

# ---- item threads, and a draft's ---------------------------------------------
P=$(zone A "public-zone" proposed)
D=$(zone A "secret-draft-zone" draft)
MISSING=999999
check "A writes on its public zone's thread; B reads it" \
    '[ "$(post A /collections/zones/items/$P/messages "{\"text\":\"public-thread-text\"}")" = 201 ] &&
     [ "$(get B /collections/zones/items/$P/messages)" = 200 ] && jqb ".messages[].text" | grep -qx public-thread-text'
check "A writes on its draft's thread" \
    '[ "$(post A /collections/zones/items/$D/messages "{\"text\":\"secret-thread-text\"}")" = 201 ] &&
     [ "$(jqb ".readers | join(\",\")")" = A ]'
same_404() { # WHO METHOD SUFFIX BODY: B's answer on the draft = the answer on a missing item
    local a b
    [ "$(req "$2" "/collections/zones/items/$D$3" -H "${AUTH[$1]}" -H "$J" ${4:+--data-binary "$4"})" = 404 ] || return 1
    a=$(jq -c ".detail |= sub(\"$D\"; \"N\")" "$FM_TMP/body")
    [ "$(req "$2" "/collections/zones/items/$MISSING$3" -H "${AUTH[$1]}" -H "$J" ${4:+--data-binary "$4"})" = 404 ] || return 1
    b=$(jq -c ".detail |= sub(\"$MISSING\"; \"N\")" "$FM_TMP/body")
    [ "$a" = "$b" ] || { echo "# $a vs $b"; return 1; }
}
for w in B SUP VIEW; do
    check "$w reads the draft's thread: the 404 of a missing item" 'same_404 '$w' GET /messages'
done
check "B posts on the draft's thread: the 404 of a missing item" 'same_404 B POST /messages "{\"text\":\"x\"}"'
check "B's receipt on the draft's thread: the 404 of a missing item" 'same_404 B POST /messages/seen'
check "A reads its draft's thread" '[ "$(get A /collections/zones/items/$D/messages)" = 200 ] && jqb ".messages[].text" | grep -qx secret-thread-text'
check "A withdraws the draft" \
    '[ "$(req DELETE /collections/zones/items/$D -H "${AUTH[A]}" -H "If-Match: \"1\"")" = 204 ]'
check "after the withdrawal B still gets the 404 of a missing item" 'same_404 B GET /messages'
check "and A still reads its thread" '[ "$(get A /collections/zones/items/$D/messages)" = 200 ] && jqb ".messages[].text" | grep -qx secret-thread-text'

# a draft published later: what was said while it was a draft stays A's
D2=$(zone A "later-public" draft)
check "A writes on draft D2" '[ "$(post A /collections/zones/items/$D2/messages "{\"text\":\"said-while-draft\"}")" = 201 ]'
check "A publishes D2 and writes again" \
    '[ "$(req PATCH /collections/zones/items/$D2 -H "${AUTH[A]}" -H "Content-Type: application/merge-patch+json" -H "If-Match: \"1\"" --data-binary "{\"properties\":{\"status\":\"proposed\"}}")" = 200 ] &&
     [ "$(post A /collections/zones/items/$D2/messages "{\"text\":\"said-when-public\"}")" = 201 ]'
check "B reads D2's thread: only what was said once it was public" \
    '[ "$(get B /collections/zones/items/$D2/messages)" = 200 ] && [ "$(jqb "[.messages[].text] | join(\",\")")" = said-when-public ]'
check "A reads both" '[ "$(get A /collections/zones/items/$D2/messages)" = 200 ] && [ "$(jqb ".messages | length")" = 2 ]'

# ---- quotes ----------------------------------------------------------------
check "A quotes its public zone's version 1 (201, the quote kept)" \
    '[ "$(post A /channels/all/messages "{\"text\":\"see this\",\"quote\":{\"collection\":\"zones\",\"id\":$P,\"version\":1}}")" = 201 ] &&
     [ "$(jqb .quote.id)" = "$P" ] && [ "$(jqb .quote.version)" = 1 ]'
check "B quotes A's draft: the 404 of a version that does not exist" \
    '[ "$(post B /channels/all/messages "{\"text\":\"x\",\"quote\":{\"collection\":\"zones\",\"id\":$D,\"version\":1}}")" = 404 ] && is_problem 404 &&
     a=$(jqb .detail | sed "s/$D/N/") &&
     [ "$(post B /channels/all/messages "{\"text\":\"x\",\"quote\":{\"collection\":\"zones\",\"id\":$MISSING,\"version\":1}}")" = 404 ] &&
     [ "$(jqb .detail | sed "s/$MISSING/N/")" = "$a" ]'
check "a version past the last: 404" \
    '[ "$(post A /channels/all/messages "{\"text\":\"x\",\"quote\":{\"collection\":\"zones\",\"id\":$P,\"version\":9}}")" = 404 ]'
check "a malformed quote (no version, a bad collection, extra members): 400 naming /quote" \
    '[ "$(post A /channels/all/messages "{\"text\":\"x\",\"quote\":{\"collection\":\"zones\",\"id\":$P}}")" = 400 ] && [ "$(jqb .pointer)" = /quote ] &&
     [ "$(post A /channels/all/messages "{\"text\":\"x\",\"quote\":{\"collection\":\"roads\",\"id\":$P,\"version\":1}}")" = 400 ] &&
     [ "$(post A /channels/all/messages "{\"text\":\"x\",\"quote\":{\"collection\":\"zones\",\"id\":$P,\"version\":1,\"x\":1}}")" = 400 ]'
D3=$(zone A "third-draft" draft)
check "A quotes its own draft where others read (all, sup-A): 400" \
    '[ "$(post A /channels/all/messages "{\"text\":\"x\",\"quote\":{\"collection\":\"zones\",\"id\":$D3,\"version\":1}}")" = 400 ] &&
     [ "$(post A /channels/sup-A/messages "{\"text\":\"x\",\"quote\":{\"collection\":\"zones\",\"id\":$D3,\"version\":1}}")" = 400 ]'
check "A quotes its draft in the draft's own thread (201)" \
    '[ "$(post A /collections/zones/items/$D3/messages "{\"text\":\"x\",\"quote\":{\"collection\":\"zones\",\"id\":$D3,\"version\":1}}")" = 201 ]'

# ---- receipts ----------------------------------------------------------------
LAST=$(sqlite3 "$FM_DB" "SELECT max(seq) FROM events")
check "B marks the public thread seen: a receipt up to its newest message" \
    '[ "$(req POST /collections/zones/items/$P/messages/seen -H "${AUTH[B]}")" = 200 ] && [ "$(jqb .party)" = B ] && [ "$(jqb .upto)" -gt 0 ]'
check "the receipt is one record in the log" '[ "$(sqlite3 "$FM_DB" "SELECT count(*) FROM events WHERE seq > $LAST AND action = '"'seen'"'")" = 1 ]'
check "A reads: seen by B at a time" \
    '[ "$(get A /collections/zones/items/$P/messages)" = 200 ] && [ "$(jqb ".seen[] | select(.party == \"B\") | .by")" = liaison-b ] &&
     [[ "$(jqb ".seen[] | select(.party == \"B\") | .at")" =~ ^20[0-9-]+T[0-9:]+Z$ ]]'
check "seen again with nothing new: no new record" \
    '[ "$(req POST /collections/zones/items/$P/messages/seen -H "${AUTH[B]}")" = 200 ] &&
     [ "$(sqlite3 "$FM_DB" "SELECT count(*) FROM events WHERE seq > $LAST AND action = '"'seen'"'")" = 1 ]'
check "upto past the newest message: 400; not a number: 400" \
    '[ "$(post B /collections/zones/items/$P/messages/seen "{\"upto\":99999999}")" = 400 ] &&
     [ "$(post B /collections/zones/items/$P/messages/seen "{\"upto\":\"x\"}")" = 400 ]'
E=$(zone B "quiet-zone" proposed)
check "a thread with no message: nothing to have seen (409)" \
    '[ "$(req POST /collections/zones/items/$E/messages/seen -H "${AUTH[A]}")" = 409 ] && is_problem 409'
check "the viewer keeps no receipts (403)" '[ "$(req POST /channels/all/messages/seen -H "${AUTH[VIEW]}")" = 403 ]'
check "A's receipt in its draft's thread is A's alone" \
    '[ "$(req POST /collections/zones/items/$D3/messages/seen -H "${AUTH[A]}")" = 200 ] &&
     [ "$(sqlite3 "$FM_DB" "SELECT after_draft || owner FROM events WHERE action = '"'seen'"' ORDER BY seq DESC LIMIT 1")" = 1A ]'

# ---- the log and the live stream ---------------------------------------------
check "every message is a record: message rows = message records" \
    '[ "$(sqlite3 "$FM_DB" "SELECT count(*) FROM messages")" = "$(sqlite3 "$FM_DB" "SELECT count(*) FROM events WHERE action = '"'message'"'")" ]'
check "B's /events/log: nothing of A's draft threads nor of sup-A" \
    '[ "$(get B "/events/log?limit=10000")" = 200 ] && ! grep -q "secret-thread-text\|said-while-draft\|note-for-A-only\|A-answers-SUP\|zones/$D\"\|zones/$D3\"" "$FM_TMP/body" &&
     grep -q public-thread-text "$FM_TMP/body"'
check "A's /events/log shows its draft thread and sup-A" \
    '[ "$(get A "/events/log?limit=10000")" = 200 ] && grep -q secret-thread-text "$FM_TMP/body" && grep -q note-for-A-only "$FM_TMP/body"'
check "the supervisor's /events/log shows sup-A, not A's draft thread" \
    '[ "$(get SUP "/events/log?limit=10000")" = 200 ] && grep -q A-answers-SUP "$FM_TMP/body" && ! grep -q secret-thread-text "$FM_TMP/body"'
# the live stream, from the start of the log, until a marker posted last
stream() { # WHO FILE
    curl -sN --max-time 60 -H "${AUTH[$1]}" "$FM_URL/events?since=0" >"$2" &
    echo $!
}
SB=$(stream B "$FM_TMP/stream.b")
SA=$(stream A "$FM_TMP/stream.a")
post A /collections/zones/items/$D3/messages '{"text":"live-secret"}' >/dev/null
post A /channels/all/messages '{"text":"stream-marker"}' >/dev/null
deadline=$((SECONDS + 50))
while [ $SECONDS -lt $deadline ] && ! { grep -q stream-marker "$FM_TMP/stream.b" && grep -q stream-marker "$FM_TMP/stream.a"; }; do sleep 0.2; done
kill "$SB" "$SA" 2>/dev/null
wait "$SB" "$SA" 2>/dev/null
check "the live stream brings B the public messages" 'grep -q stream-marker "$FM_TMP/stream.b" && grep -q public-thread-text "$FM_TMP/stream.b"'
check "and nothing of A's draft threads nor sup-A" \
    '! grep -q "live-secret\|secret-thread-text\|said-while-draft\|note-for-A-only\|zones/$D3\"" "$FM_TMP/stream.b"'
check "A's live stream brings A its draft thread's message" 'grep -q live-secret "$FM_TMP/stream.a"'

# ---- the pace: FM_MESSAGE_RATE=40/3600: 40 at once, then one every 90 s --------------------------------------
curl -s -H "${AUTH[ADMIN]}" -H "$J" "$FM_URL/users" -d '{"name":"chatty-a","party":"A","role":"liaison","password":"chatty-pw-1"}' >/dev/null
AUTH[C]="Authorization: Bearer $(fm_token chatty-a)"
n_ok=0
for i in $(seq 1 40); do [ "$(post C /channels/all/messages "{\"text\":\"msg $i\"}")" = 201 ] && n_ok=$((n_ok + 1)); done
check "a user posts 40 messages in a row (201 each)" "[ \$n_ok = 40 ] || { echo \"# \$n_ok: \$(body)\"; false; }"
check "the 41st: 429 problem with Retry-After" \
    '[ "$(post C /channels/all/messages "{\"text\":\"one more\"}")" = 429 ] && is_problem 429 && [ "$(header Retry-After)" -ge 1 ]'
check "another user is not slowed by it" '[ "$(post B /channels/all/messages "{\"text\":\"still here\"}")" = 201 ]'

# ---- the log proves the tables -------------------------------------------------
check "fusionmap events verify passes after all this" '"$FUSIONMAP" events verify --db "$FM_DB" >/dev/null'
tamper() { # NAME SQL: a copy with SQL applied, the triggers of the tables it names dropped
    local copy="$FM_TMP/$1.db"
    sqlite3 "$FM_DB" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
    cp "$FM_DB" "$copy"
    /usr/bin/python3 - "$copy" "$2" <<'PY'
import re, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
tables = set(re.findall(r"(?:UPDATE|INTO|FROM)\s+(\w+)", sys.argv[2]))
for (t,) in c.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN (%s)"
                      % ",".join("?" * len(tables)), sorted(tables)).fetchall():
    c.execute('DROP TRIGGER "%s"' % t)
c.executescript(sys.argv[2])
c.commit()
PY
    echo "$copy"
}
caught() { # DB PATTERN
    local out rc
    out=$("$FUSIONMAP" events verify --db "$1")
    rc=$?
    echo "# $out"
    [ $rc -ne 0 ] && [[ $out =~ $2 ]]
}
check "the append-only triggers refuse an edit of a message" \
    '! sqlite3 "$FM_DB" "UPDATE messages SET text = '"'x'"' WHERE id = $ALL1" 2>/dev/null'
db=$(tamper text "UPDATE messages SET text = 'B agreed' WHERE id = $ALL1")
check "a message's text changed in SQLite: verify fails, naming it" 'caught "$db" "messages row $ALL1: column text is"'
MD=$(sqlite3 "$FM_DB" "SELECT id FROM messages WHERE text = 'secret-thread-text'")
db=$(tamper readers "UPDATE messages SET readers = NULL WHERE id = $MD")
check "a draft thread's message opened to all in SQLite: verify fails" 'caught "$db" "messages row $MD: column readers"'
db=$(tamper by "UPDATE messages SET user = 'liaison-a', party = 'A' WHERE id = $ALL1")
check "a message's author changed: verify fails" 'caught "$db" "messages row $ALL1: column (by|party)"'
db=$(tamper del "DELETE FROM messages WHERE id = $ALL1")
check "a message deleted: verify fails" 'caught "$db" "messages row $ALL1: missing"'
db=$(tamper add "INSERT INTO messages (thread, party, user, at, text) VALUES ('channel/all', 'B', 'liaison-b', 1, 'forged')")
check "a message with no record added: verify fails" 'caught "$db" "messages row [0-9]+: no record"'
db=$(tamper seen "UPDATE message_receipts SET upto = upto + 1")
check "a receipt changed: verify fails" 'caught "$db" "message_receipts row [0-9]+: column upto"'
db=$(tamper flag "UPDATE events SET after_draft = 0 WHERE seq = (SELECT max(seq) FROM events WHERE after LIKE '%secret-thread-text%')")
check "a draft thread's record shown to all (its flag): verify fails" 'caught "$db" "column after_draft is 0, the log says 1"'
finish

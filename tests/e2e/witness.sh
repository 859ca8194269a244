#!/usr/bin/env bash
# Issue 20, the second part: signed rulings, cosigned heads (a history
# witnessed by both sides), evidence bundles. Everything against the real
# server binary, also as the other side; every refusal a problem that
# changes nothing; every check of a signature repeated offline by
# `fusionmap events verify` and by tests/verify_export.py (Python: JCS and
# Ed25519 only).
. "$(dirname "$0")/../lib.sh"
fm_start --demo
TA=$(fm_token liaison-a)
TB=$(fm_token liaison-b)
TS=$(fm_token supervisor)
A=(-H "Authorization: Bearer $TA")
B=(-H "Authorization: Bearer $TB")
S=(-H "Authorization: Bearer $TS")
J=(-H 'Content-Type: application/json')
KA="$FM_TMP/a.key" KB="$FM_TMP/b.key" KS="$FM_TMP/s.key"
for k in KA KB KS; do "$FUSIONMAP" key new --out "${!k}" >/dev/null; done
fp() { "$FUSIONMAP" key show --key "$1" | jq -r .fingerprint; }
pub() { "$FUSIONMAP" key show --key "$1" | jq -r .public_key; }
FPA=$(fp "$KA") FPB=$(fp "$KB") FPS=$(fp "$KS")
HAVE_NACL=0
/usr/bin/python3 -c 'import nacl' 2>/dev/null && HAVE_NACL=1
pyverify() { /usr/bin/python3 "$FM_SOURCE_DIR/tests/verify_export.py" "$@"; }

# a new proposed zone of A's, disputed by B (unsigned: B has no key yet); prints its id
disputed_zone() {
    req POST /collections/zones/items "${A[@]}" -H 'Content-Type: application/geo+json' \
        -d '{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[35.61,32.61],[35.65,32.61],[35.65,32.65],[35.61,32.65],[35.61,32.61]]]},"properties":{"title":"'"$1"'","type":"restricted","status":"proposed"}}' >/dev/null
    local id
    id=$(jqb .id)
    req POST "/collections/zones/items/$id/ack" "${B[@]}" "${J[@]}" -H 'If-Match: "1"' \
        -d '{"decision":"dispute","comment":"on our road"}' >/dev/null
    echo "$id"
}
version() { req GET "/collections/zones/items/$1" "${A[@]}" >/dev/null; jqb .properties.version; }
# rstmt ID VERSION DECISION REASON [WHO]: the ruling's statement into $FM_TMP/stmt, status printed
rstmt() {
    local who=("${S[@]}")
    [ $# -ge 5 ] && who=("${@:5}")
    curl -s -o "$FM_TMP/stmt" -w '%{http_code}' "${who[@]}" -G --data-urlencode "version=$2" \
        --data-urlencode "decision=$3" --data-urlencode "comment=$4" \
        "$FM_URL/collections/zones/items/$1/statement"
}
sign() { "$FUSIONMAP" sign --key "$1" <"$FM_TMP/stmt"; }
st_at() { jq -r .at "$FM_TMP/stmt"; }
# rule ID DECISION REASON KEYFP AT SIG [WHO...]: a signed ruling, status printed
rule() {
    local body who=("${S[@]}")
    [ $# -ge 7 ] && who=("${@:7}")
    body=$(jq -cn --arg d "$2" --arg r "$3" --arg k "$4" --argjson at "$5" --arg v "$6" \
        '{decision: $d, reason: $r, signature: {key: $k, at: $at, value: $v}}')
    req POST "/collections/zones/items/$1/ruling" "${who[@]}" "${J[@]}" -d "$body"
}
nrulings() { req GET "/collections/zones/items/$1/acks" "${A[@]}" >/dev/null; jqb '.rulings | length'; }

# ======================= signed rulings =======================
check "the supervisor and A register their keys" \
    '[ "$(req POST /keys "${S[@]}" "${J[@]}" -d "{\"public_key\":\"$(pub "$KS")\"}")" = 201 ] &&
     [ "$(req POST /keys "${A[@]}" "${J[@]}" -d "{\"public_key\":\"$(pub "$KA")\"}")" = 201 ]'
Z=$(disputed_zone "ruled, signed")
V=$(version "$Z")
R='Too close to the road: move it 2 km north'
check "the supervisor, now with a key, may not rule unsigned (409, naming why); nothing written" \
    '[ "$(req POST /collections/zones/items/$Z/ruling "${S[@]}" "${J[@]}" -d "{\"decision\":\"uphold\",\"reason\":\"x\"}")" = 409 ] &&
     is_problem 409 && jqb .detail | grep -q "must be signed" && [ "$(nrulings $Z)" = 0 ]'
check "a ruling's statement: RFC 8785, purpose \"fusionmap ruling\", the decision, the reason's digest, the version's" \
    '[ "$(rstmt $Z $V uphold "$R")" = 200 ] && [ "$(cat "$FM_TMP/stmt")" = "$(jq -cS . "$FM_TMP/stmt")" ] &&
     [ "$(jq -r "[.purpose,.decision,.collection,.item,.version,.user,.party] | join(\" \")" "$FM_TMP/stmt")" = "fusionmap ruling uphold zones $Z $V supervisor SUP" ] &&
     [ "$(jq -r .comment_sha256 "$FM_TMP/stmt")" = "$(printf %s "$R" | sha256sum | cut -d" " -f1)" ] &&
     [ "$(jq -r .version_sha256 "$FM_TMP/stmt")" = "$(sqlite3 "$FM_DB" "SELECT feature FROM item_versions WHERE item_id = $Z AND version = $V" | tr -d "\n" | sha256sum | cut -d" " -f1)" ]'
N=$(req POST /collections/zones/items "${A[@]}" -H 'Content-Type: application/geo+json' -d '{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[35.7,32.7],[35.71,32.7],[35.71,32.71],[35.7,32.7]]]},"properties":{"title":"n","type":"restricted","status":"proposed"}}' >/dev/null; jqb .id)
check "a liaison cannot get a ruling's statement (403); nor of an item not disputed (409); nor of an old version (412)" \
    '[ "$(rstmt $Z $V uphold "$R" "${A[@]}")" = 403 ] && [ "$(jq .status "$FM_TMP/stmt")" = 403 ] &&
     [ "$(rstmt $N 1 uphold "$R")" = 409 ] && [ "$(jq .status "$FM_TMP/stmt")" = 409 ] &&
     [ "$(rstmt $Z $((V - 1)) uphold "$R")" = 412 ] && [ "$(jq .status "$FM_TMP/stmt")" = 412 ]'
rstmt $Z $V uphold "$R" >/dev/null
AT=$(st_at)
SIGS=$(sign "$KS")
SIGA=$(sign "$KA")
check "A cannot rule with a signature of its own (403: only the supervisor rules)" \
    '[ "$(rule $Z uphold "$R" "$FPA" "$AT" "$SIGA" "${A[@]}")" = 403 ] && is_problem 403'
check "the supervisor cannot sign with A's key (403: not a key of the supervisor)" \
    '[ "$(rule $Z uphold "$R" "$FPA" "$AT" "$SIGA")" = 403 ] && is_problem 403 && [ "$(jqb .pointer)" = /signature/key ]'
check "a changed reason, a changed decision, a changed time: 400 (does not verify)" \
    '[ "$(rule $Z uphold "$R!" "$FPS" "$AT" "$SIGS")" = 400 ] && jqb .detail | grep -q "does not verify" &&
     [ "$(rule $Z overrule "$R" "$FPS" "$AT" "$SIGS")" = 400 ] &&
     [ "$(rule $Z uphold "$R" "$FPS" "$((AT + 1))" "$SIGS")" = 400 ]'
# the same fields signed as an acknowledgement's statement ("fusionmap answer"): must not stand for a ruling
ANS=$(jq -cS '.purpose = "fusionmap answer"' "$FM_TMP/stmt")
printf %s "$ANS" >"$FM_TMP/ans.stmt"
SIGANS=$("$FUSIONMAP" sign --key "$KS" <"$FM_TMP/ans.stmt")
check "a signature over an answer's statement (another purpose) does not stand for a ruling (400)" \
    '[ "$(rule $Z uphold "$R" "$FPS" "$AT" "$SIGANS")" = 400 ]'
check "malformed signatures are 400 problems: bad base64, not an object, a member missing, a bad fingerprint" \
    '[ "$(rule $Z uphold "$R" "$FPS" "$AT" "%%%")" = 400 ] && [ "$(jqb .pointer)" = /signature/value ] &&
     [ "$(req POST /collections/zones/items/$Z/ruling "${S[@]}" "${J[@]}" -d "{\"decision\":\"uphold\",\"reason\":\"x\",\"signature\":\"$SIGS\"}")" = 400 ] && is_problem 400 &&
     [ "$(req POST /collections/zones/items/$Z/ruling "${S[@]}" "${J[@]}" -d "{\"decision\":\"uphold\",\"reason\":\"x\",\"signature\":{\"key\":\"$FPS\",\"value\":\"$SIGS\"}}")" = 400 ] &&
     [ "$(rule $Z uphold "$R" "${FPS:1}" "$AT" "$SIGS")" = 400 ] && is_problem 400'
check "none of the refused rulings was taken; the zone is still disputed at version $V" \
    '[ "$(nrulings $Z)" = 0 ] && [ "$(version $Z)" = "$V" ] && req GET /collections/zones/items/$Z "${A[@]}" >/dev/null && [ "$(jqb .properties.status)" = disputed ]'
check "the right signature is taken (200) and its record holds it" \
    '[ "$(rule $Z uphold "$R" "$FPS" "$AT" "$SIGS")" = 200 ] && [ "$(jqb .ruling.decision)" = uphold ] &&
     [ "$(sqlite3 "$FM_DB" "SELECT json_extract(after, '"'"'$.signature.key'"'"') || '"'"' '"'"' || json_extract(after, '"'"'$.signature.value'"'"') FROM events WHERE action = '"'"'ruling'"'"' AND item_id = $Z")" = "$FPS $SIGS" ]'
check "the same signature again (a replay) is refused: one ruling per version (409)" \
    '[ "$(rule $Z uphold "$R" "$FPS" "$AT" "$SIGS")" = 409 ] && [ "$(nrulings $Z)" = 1 ]'
Z2=$(disputed_zone "overruled, signed")
V2=$(version "$Z2")
check "a signature for zone $Z replayed for zone $Z2 is 400; its own signed overrule is taken" \
    '[ "$(rule $Z2 uphold "$R" "$FPS" "$AT" "$SIGS")" = 400 ] &&
     rstmt $Z2 $V2 overrule "No objection stands" >/dev/null && [ "$(rule $Z2 overrule "No objection stands" "$FPS" "$(st_at)" "$(sign "$KS")")" = 200 ] &&
     [ "$(jqb .item.properties.status)" = active ]'
check "events verify: the signed rulings verify" \
    'out=$("$FUSIONMAP" events verify --db "$FM_DB"); echo "# $out"; [[ $out == "ok: "* ]]'
"$FUSIONMAP" events export --db "$FM_DB" --out "$FM_TMP/export.jsonl" 2>/dev/null
check "events verify --file: 2 signed rulings verify offline" \
    'out=$("$FUSIONMAP" events verify --file "$FM_TMP/export.jsonl"); echo "# ${out//$'"'"'\n'"'"'/ / }"; grep -qx "ok: 2 signed answers verify" <<<"$out"'
if [ $HAVE_NACL = 1 ]; then
    check "tests/verify_export.py verifies the 2 signed rulings with JCS and Ed25519 alone" \
        'out=$(pyverify "$FM_TMP/export.jsonl"); echo "# $out"; grep -q "^ok: .* 2 signed answers" <<<"$out"'
fi
# a forger holding the file makes the upheld ruling an overrule and re-hashes (chain v1 here: the
# forger's own choice of format)
/usr/bin/python3 - "$FM_TMP/export.jsonl" "$FM_TMP/forged.jsonl" <<'PY'
import hashlib, json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
def h(prev, r):
    rec = {k: r[k] for k in ("seq", "at", "user", "party", "action", "collection", "owner", "item", "version", "before", "after")}
    return hashlib.sha256((prev + json.dumps(rec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)).encode()).hexdigest()
prev = "0" * 64
with open(sys.argv[2], "w") as f:
    for r in lines:
        if "seq" not in r:
            r["head"] = prev
        else:
            if r["action"] == "ruling" and '"uphold"' in r["after"]:
                a = json.loads(r["after"]); a["decision"] = "overrule"; r["after"] = json.dumps(a, separators=(",", ":"))
            r.pop("chain", None)
            r["prev_hash"], r["hash"] = prev, h(prev, r)
            prev = r["hash"]
        f.write(json.dumps(r, separators=(",", ":"), ensure_ascii=False) + "\n")
PY
SEQR=$(jq -r 'select(.action == "ruling") | .seq' "$FM_TMP/export.jsonl" | head -n1)
check "a signed ruling rewritten (uphold -> overrule) and re-hashed is caught at its record ($SEQR)" \
    'out=$("$FUSIONMAP" events verify --file "$FM_TMP/forged.jsonl"); echo "# $out"; [[ $out == "BROKEN at record $SEQR "* ]] && grep -q signature <<<"$out"'
[ $HAVE_NACL = 1 ] && check "and by tests/verify_export.py" \
    'out=$(pyverify "$FM_TMP/forged.jsonl"); echo "# $out"; [[ $out == "BROKEN: record $SEQR:"* ]]'

# ======================= cosigned heads =======================
sqlite3 "$FM_DB" ".backup '$FM_TMP/before-heads.db'"
VW=(-H "Authorization: Bearer $(fm_token viewer)")
req POST /keys "${B[@]}" "${J[@]}" -d "{\"public_key\":\"$(pub "$KB")\"}" >/dev/null
# gethead WHO...: GET /events/head into $FM_TMP/head, status printed
gethead() { curl -s -o "$FM_TMP/head" -w '%{http_code}' "$@" "$FM_URL/events/head"; }
# cosign KEYFILE FP SEQ HASH WHO...: signs the head statement of WHO for SEQ/HASH and posts it
cosign() {
    local kf=$1 kfp=$2 seq=$3 hash=$4 st at sig
    shift 4
    st=$(jq -cS --argjson s "$seq" --arg h "$hash" '.statement | fromjson | .seq = $s | .hash = $h' "$FM_TMP/head")
    at=$(jq -r .at <<<"$st")
    sig=$(printf %s "$st" | "$FUSIONMAP" sign --key "$kf")
    req POST /heads "$@" "${J[@]}" -d "$(jq -cn --argjson s "$seq" --arg h "$hash" --arg k "$kfp" --argjson at "$at" --arg v "$sig" \
        '{seq: $s, hash: $h, signature: {key: $k, at: $at, value: $v}}')"
}
nheads() { req GET /heads "${B[@]}" >/dev/null; jqb '.heads | length'; }
LAST=$(sqlite3 "$FM_DB" "SELECT max(seq) FROM events")
LASTH=$(sqlite3 "$FM_DB" "SELECT hash FROM events WHERE seq = $LAST")
check "GET /events/head (A): the last record's seq and hash, and the RFC 8785 statement to sign" \
    '[ "$(gethead "${A[@]}")" = 200 ] && [ "$(jq -r .seq "$FM_TMP/head")" = "$LAST" ] && [ "$(jq -r .hash "$FM_TMP/head")" = "$LASTH" ] &&
     st=$(jq -r .statement "$FM_TMP/head") && [ "$st" = "$(jq -cS . <<<"$st")" ] &&
     [ "$(jq -r "[.purpose,.seq,.hash,.user,.party] | join(\" \")" <<<"$st")" = "fusionmap head $LAST $LASTH liaison-a A" ]'
check "GET /events/head?seq=3 names record 3; past the end 404; the viewer may not cosign (403)" \
    '[ "$(curl -s -o "$FM_TMP/body" -w "%{http_code}" "${A[@]}" "$FM_URL/events/head?seq=3")" = 200 ] &&
     [ "$(jqb .hash)" = "$(sqlite3 "$FM_DB" "SELECT hash FROM events WHERE seq = 3")" ] &&
     [ "$(curl -s -o "$FM_TMP/body" -w "%{http_code}" "${A[@]}" "$FM_URL/events/head?seq=$((LAST + 100))")" = 404 ] && [ "$(jqb .status)" = 404 ] &&
     [ "$(gethead "${VW[@]}")" = 403 ]'
gethead "${A[@]}" >/dev/null
check "an unsigned head, a signature not an object, a hash not hex, a seq not a number: 400 problems" \
    '[ "$(req POST /heads "${A[@]}" "${J[@]}" -d "{\"seq\":$LAST,\"hash\":\"$LASTH\"}")" = 400 ] && is_problem 400 && [ "$(jqb .pointer)" = /signature ] &&
     [ "$(req POST /heads "${A[@]}" "${J[@]}" -d "{\"seq\":$LAST,\"hash\":\"$LASTH\",\"signature\":\"x\"}")" = 400 ] &&
     [ "$(cosign "$KA" "$FPA" $LAST "${LASTH^^}" "${A[@]}")" = 400 ] && [ "$(jqb .pointer)" = /hash ] &&
     [ "$(req POST /heads "${A[@]}" "${J[@]}" -d "{\"seq\":\"$LAST\",\"hash\":\"$LASTH\",\"signature\":{}}")" = 400 ]'
check "A cannot cosign for B: B's key named by A is 403; A's signature sent as B's is 403" \
    '[ "$(cosign "$KB" "$FPB" $LAST "$LASTH" "${A[@]}")" = 403 ] && is_problem 403 &&
     [ "$(cosign "$KA" "$FPA" $LAST "$LASTH" "${B[@]}")" = 403 ]'
check "a signature over another seq than the one sent does not verify (400)" \
    'st=$(jq -cS ".statement | fromjson | .seq = 2" "$FM_TMP/head"); sig=$(printf %s "$st" | "$FUSIONMAP" sign --key "$KA");
     [ "$(req POST /heads "${A[@]}" "${J[@]}" -d "{\"seq\":$LAST,\"hash\":\"$LASTH\",\"signature\":{\"key\":\"$FPA\",\"at\":$(jq .at <<<"$st"),\"value\":\"$sig\"}}")" = 400 ] &&
     jqb .detail | grep -q "does not verify"'
OTHER=$(sqlite3 "$FM_DB" "SELECT hash FROM events WHERE seq = 2")
check "a fork: a head whose hash is not this server's record's is 409 at /hash, naming the server's" \
    '[ "$(cosign "$KA" "$FPA" $LAST "$OTHER" "${A[@]}")" = 409 ] && is_problem 409 && [ "$(jqb .pointer)" = /hash ] &&
     jqb .detail | grep -q "fork" && jqb .detail | grep -q "$LASTH"'
check "none of the refused heads was kept or recorded" \
    '[ "$(nheads)" = 0 ] && [ "$(sqlite3 "$FM_DB" "SELECT count(*) FROM events WHERE action = '"'"'cosign'"'"'")" = 0 ]'
check "A cosigns the head: 201 with its seq, hash, signature; again is 409" \
    '[ "$(cosign "$KA" "$FPA" $LAST "$LASTH" "${A[@]}")" = 201 ] && [ "$(jqb .seq)" = "$LAST" ] && [ "$(jqb .party)" = A ] &&
     cp "$FM_TMP/body" "$FM_TMP/a-head.json" &&
     [ "$(cosign "$KA" "$FPA" $LAST "$LASTH" "${A[@]}")" = 409 ]'
check "B and the supervisor cosign the same head (201 each)" \
    'gethead "${B[@]}" >/dev/null && [ "$(cosign "$KB" "$FPB" $LAST "$LASTH" "${B[@]}")" = 201 ] &&
     gethead "${S[@]}" >/dev/null && [ "$(cosign "$KS" "$FPS" $LAST "$LASTH" "${S[@]}")" = 201 ]'
check "GET /heads: each side sees the three cosigned heads; B's log shows A's cosign record" \
    '[ "$(nheads)" = 3 ] && [ "$(jqb "[.heads[].party] | join(\",\")")" = "A,B,SUP" ] &&
     req GET "/events/log?since=$LAST" "${B[@]}" >/dev/null && [ "$(jqb "[.events[] | select(.action == \"cosign\") | .party] | join(\",\")")" = "A,B,SUP" ]'
# a new record after the heads: A cosigns the newer head too
req POST /collections/zones/items "${A[@]}" -H 'Content-Type: application/geo+json' \
    -d '{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[35.8,32.8],[35.81,32.8],[35.81,32.81],[35.8,32.8]]]},"properties":{"title":"after the heads","type":"restricted","status":"proposed"}}' >/dev/null
gethead "${A[@]}" >/dev/null
LAST2=$(jq -r .seq "$FM_TMP/head") LASTH2=$(jq -r .hash "$FM_TMP/head")
check "A cosigns the newer head ($LAST2)" '[ "$(cosign "$KA" "$FPA" $LAST2 "$LASTH2" "${A[@]}")" = 201 ]'
check "events verify: the chain passes through the 4 cosigned heads, and A's own copy of its head holds" \
    'out=$("$FUSIONMAP" events verify --db "$FM_DB" --head "$FM_TMP/a-head.json"); echo "# ${out//$'"'"'\n'"'"'/ / }";
     grep -q "^ok: .* the chain is intact" <<<"$out" && grep -qx "ok: the chain passes through 4 cosigned heads" <<<"$out" && grep -q "^ok: 1 heads of" <<<"$out"'
"$FUSIONMAP" events export --db "$FM_DB" --out "$FM_TMP/export2.jsonl" 2>/dev/null
check "events verify --file: the export's chain passes through the 4 heads" \
    'out=$("$FUSIONMAP" events verify --file "$FM_TMP/export2.jsonl"); echo "# ${out//$'"'"'\n'"'"'/ / }"; grep -qx "ok: the chain passes through 4 cosigned heads" <<<"$out"'
[ $HAVE_NACL = 1 ] && check "tests/verify_export.py checks the 4 heads and their signatures" \
    'out=$(pyverify "$FM_TMP/export2.jsonl"); echo "# $out"; grep -q "4 cosigned heads hold" <<<"$out"'

# A rewrite of a copy of the database file, as an operator holding it could: record 5's user and
# party changed from liaison-a/A to liaison-b/B, every record after re-hashed (chain v1, the
# forger's pick; the same for v2)
sqlite3 "$FM_DB" ".backup '$FM_TMP/rewritten.db'"
rehash() { # DB PYTHON-EDIT [FIX]: edits rows (a list) in place, then re-hashes the whole chain;
    # with FIX, every cosign record's hash is made the new chain's (as a forger would try)
/usr/bin/python3 - "$1" "$2" "${3:-}" <<'PY'
import hashlib, json, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
for t in ("events_no_update", "events_no_delete", "cosigned_heads_no_delete"):
    c.execute("DROP TRIGGER IF EXISTS " + t)
cols = "seq, at, user, party, action, collection, owner, item_id, version, before, after, before_draft, after_draft"
rows = [list(r) for r in c.execute("SELECT " + cols + " FROM events ORDER BY seq")]
exec(sys.argv[2])
c.execute("DELETE FROM events")
prev, hashes = "0" * 64, {}
for r in rows:
    if sys.argv[3] and r[4] == "cosign":
        a = json.loads(r[10]); a["hash"] = hashes[a["seq"]]; r[10] = json.dumps(a, sort_keys=True, separators=(",", ":"))
    rec = dict(seq=r[0], at=r[1], user=r[2], party=r[3], action=r[4], collection=r[5], owner=r[6], item=r[7], version=r[8], before=r[9], after=r[10])
    h = hashlib.sha256((prev + json.dumps(rec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)).encode()).hexdigest()
    c.execute("INSERT INTO events (" + cols + ", prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", r + [prev, h])
    hashes[r[0]] = prev = h
if sys.argv[3]:
    c.execute("DROP TRIGGER IF EXISTS cosigned_heads_no_update")
    for seq, h in hashes.items():
        c.execute("UPDATE cosigned_heads SET hash = ? WHERE seq = ?", (h, seq))
c.commit()
PY
}
FIVE=$(sqlite3 "$FM_DB" "SELECT min(seq) FROM events WHERE user = 'liaison-a'")
rehash "$FM_TMP/rewritten.db" "rows[$FIVE - 1][2], rows[$FIVE - 1][3] = 'liaison-b', 'B'"
check "the rewritten copy: record $FIVE was liaison-a's, now liaison-b B; its chain alone is intact" \
    '[ "$(sqlite3 "$FM_TMP/rewritten.db" "SELECT user || '"'"' '"'"' || party FROM events WHERE seq = $FIVE")" = "liaison-b B" ] &&
     [ "$(sqlite3 "$FM_TMP/rewritten.db" "SELECT count(*) FROM events")" = "$(sqlite3 "$FM_DB" "SELECT count(*) FROM events")" ]'
check "events verify catches the rewrite through the cosigned heads, at or before record $LAST" \
    'out=$("$FUSIONMAP" events verify --db "$FM_TMP/rewritten.db"); echo "# $out"; [[ $out == "BROKEN at record $LAST "* ]] && grep -q "cosigned" <<<"$out"'
"$FUSIONMAP" events export --db "$FM_TMP/rewritten.db" --out "$FM_TMP/rewritten.jsonl" 2>/dev/null
check "and in its export, offline" \
    'out=$("$FUSIONMAP" events verify --file "$FM_TMP/rewritten.jsonl"); echo "# $out"; [[ $out == "BROKEN at record $LAST "* ]]'
[ $HAVE_NACL = 1 ] && check "and by tests/verify_export.py" \
    'out=$(pyverify "$FM_TMP/rewritten.jsonl"); echo "# $out"; [[ $out == BROKEN*"rewritten"* ]]'
# a quieter rewrite the replay of the tables cannot see (issue 20's second example): the key
# records' times moved back a day, re-hashed; and the heads the records hold edited to the new
# hashes: their signatures fail
MOVE="
for r in rows:
    if r[4] == 'key_add': r[1] -= 86400
"
sqlite3 "$FM_DB" ".backup '$FM_TMP/rewritten2.db'"
cp "$FM_TMP/rewritten2.db" "$FM_TMP/moved.db"
rehash "$FM_TMP/moved.db" "$MOVE"
check "the key records' times moved back a day and re-hashed: caught through the heads" \
    'out=$("$FUSIONMAP" events verify --db "$FM_TMP/moved.db"); echo "# $out"; [[ $out == "BROKEN at record $LAST "* ]] && grep -q "cosigned" <<<"$out"'
rehash "$FM_TMP/rewritten2.db" "$MOVE" fix
check "a rewrite that also changes the cosigned hashes is caught by their signatures" \
    'out=$("$FUSIONMAP" events verify --db "$FM_TMP/rewritten2.db"); echo "# $out"; [[ $out == BROKEN* ]] && grep -q "cosigned head.s signature does not verify" <<<"$out"'
# the forger drops every cosign record and row (the last records) and re-hashes: the database alone
# cannot tell, A's own copy of its head can
sqlite3 "$FM_DB" ".backup '$FM_TMP/dropped.db'"
sqlite3 "$FM_TMP/dropped.db" "DROP TRIGGER IF EXISTS cosigned_heads_no_delete; DELETE FROM cosigned_heads"
rehash "$FM_TMP/dropped.db" "
drop = [r[0] for r in rows if r[4] == 'cosign']
rows = [r for r in rows if r[4] != 'cosign']
for i, r in enumerate(rows): r[0] = i + 1
$MOVE"
check "with the heads dropped, the database alone verifies (the limit: nothing in it is left to compare)" \
    'out=$("$FUSIONMAP" events verify --db "$FM_TMP/dropped.db"); echo "# $out"; [[ $out == "ok: "* ]]'
check "with the heads dropped too, A's own copy of its cosigned head catches it (--head)" \
    'out=$("$FUSIONMAP" events verify --db "$FM_TMP/dropped.db" --head "$FM_TMP/a-head.json"); echo "# $out"; [[ $out == "BROKEN at record $LAST "* ]] && grep -q "not the one you cosigned" <<<"$out"'
# ======================= chain v2 =======================
check "this server writes chain v2: each hash is SHA-256(prev || SHA-256(canonical record))" \
    '/usr/bin/python3 - "$FM_TMP/export2.jsonl" <<'"'"'PY'"'"'
import hashlib, json, sys
prev = "0" * 64
for line in open(sys.argv[1]):
    r = json.loads(line)
    if "seq" not in r: break
    canon = json.dumps({k: r[k] for k in ("seq", "at", "user", "party", "action", "collection", "owner", "item", "version", "before", "after")}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert r["hash"] == hashlib.sha256((prev + hashlib.sha256(canon.encode()).hexdigest()).encode()).hexdigest(), r["seq"]
    prev = r["hash"]
PY'
# a database whose log a server before chain v2 wrote (all v1: re-hashed so), then written on
cp "$FM_TMP/before-heads.db" "$FM_TMP/v1.db"
rehash "$FM_TMP/v1.db" "pass"
check "a v1 log verifies; written on by this build (v2 from there), it still verifies" \
    '"$FUSIONMAP" events verify --db "$FM_TMP/v1.db" | grep -q "^ok" &&
     "$FUSIONMAP" party add V2 --name "After v2" --colour "#123456" --kind side --db "$FM_TMP/v1.db" >/dev/null 2>&1 &&
     "$FUSIONMAP" user add v2user --party V2 --role viewer --db "$FM_TMP/v1.db" >/dev/null 2>&1 &&
     out=$("$FUSIONMAP" events verify --db "$FM_TMP/v1.db"); echo "# ${out//$'"'"'\n'"'"'/ / }"; [[ $out == "ok: "* ]] &&
     "$FUSIONMAP" events export --db "$FM_TMP/v1.db" --out "$FM_TMP/v1.jsonl" 2>/dev/null &&
     "$FUSIONMAP" events verify --file "$FM_TMP/v1.jsonl" | grep -q "^ok" &&
     { [ $HAVE_NACL = 0 ] || pyverify "$FM_TMP/v1.jsonl" | grep -q "^ok"; }'
N1=$(sqlite3 "$FM_TMP/v1.db" "SELECT max(seq) FROM events")
sqlite3 "$FM_TMP/v1.db" ".backup '$FM_TMP/back.db'"
/usr/bin/python3 - "$FM_TMP/back.db" <<'PY'
# the last record (v2) re-hashed by v1: a chain may not go back
import hashlib, json, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("DROP TRIGGER IF EXISTS events_no_update")
r = c.execute("SELECT seq, at, user, party, action, collection, owner, item_id, version, before, after, prev_hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
rec = dict(seq=r[0], at=r[1], user=r[2], party=r[3], action=r[4], collection=r[5], owner=r[6], item=r[7], version=r[8], before=r[9], after=r[10])
h = hashlib.sha256((r[11] + json.dumps(rec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)).encode()).hexdigest()
c.execute("UPDATE events SET hash = ? WHERE seq = ?", (h, r[0]))
c.commit()
PY
check "a v1 record after a v2 one is refused (the chain never goes back), at its record ($N1)" \
    'out=$("$FUSIONMAP" events verify --db "$FM_TMP/back.db"); echo "# $out"; [[ $out == "BROKEN at record $N1 "* ]]'
# ======================= evidence bundles =======================
mkzone() { # WHO TITLE STATUS: the id
    req POST /collections/zones/items "${@:4}" -H 'Content-Type: application/geo+json' \
        -d '{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[35.9,32.9],[35.91,32.9],[35.91,32.91],[35.9,32.9]]]},"properties":{"title":"'"$2"'","type":"restricted","status":"'"$3"'"}}' >/dev/null
    jqb .id
}
BD=$(mkzone B "B secret draft Qx" draft "${B[@]}")
AD=$(mkzone A "A draft Wy" draft "${A[@]}")
# B writes on Z's thread; a message is the item's record too
req POST "/collections/zones/items/$Z/messages" "${B[@]}" "${J[@]}" -d '{"text":"we read the ruling"}' >/dev/null
# the last records are covered by a head both sides cosign
gethead "${A[@]}" >/dev/null; H3=$(jq -r .seq "$FM_TMP/head"); H3H=$(jq -r .hash "$FM_TMP/head")
cosign "$KA" "$FPA" $H3 "$H3H" "${A[@]}" >/dev/null
gethead "${B[@]}" >/dev/null; cosign "$KB" "$FPB" $H3 "$H3H" "${B[@]}" >/dev/null
evid() { curl -s -o "$2" -w '%{http_code}' "${@:3}" "$FM_URL/collections/zones/items/$1/evidence"; }
check "A's evidence bundle of zone $Z: 200, as a file to keep" \
    '[ "$(evid $Z "$FM_TMP/bundle-a.json" "${A[@]}")" = 200 ] && [ "$(jq -r .type "$FM_TMP/bundle-a.json")" = "fusionmap evidence" ] &&
     [ "$(jq -r ".head.seq" "$FM_TMP/bundle-a.json")" = "$(sqlite3 "$FM_DB" "SELECT max(seq) FROM events")" ]'
check "it holds zone $Z's versions, B's dispute, the signed ruling, the message, and the cosigned heads in full" \
    '[ "$(jq -r "[.records[] | select(.action and .item == $Z) | .action] | unique | join(\",\")" "$FM_TMP/bundle-a.json")" = "create,dispute,disputed,message,ruling" ] &&
     [ "$(jq "[.records[] | select(.action == \"cosign\")] | length" "$FM_TMP/bundle-a.json")" = 6 ]'
if [ $HAVE_NACL = 1 ]; then
    check "tests/verify_export.py verifies the bundle offline: chain through every digest, the signed ruling, 6 heads" \
        'out=$(pyverify "$FM_TMP/bundle-a.json"); echo "# $out"; [[ $out == "ok: evidence of zones/$Z for liaison-a (A): "* ]] &&
         grep -q "1 signed answers verify, 6 cosigned heads hold" <<<"$out" && grep -q "0 of chain v1" <<<"$out"'
    check "on a clean directory, with no database and no server: the script and the file alone" \
        'd=$(mktemp -d) && cp "$FM_SOURCE_DIR/tests/verify_export.py" "$FM_TMP/bundle-a.json" "$d/" &&
         (cd "$d" && env -i PATH=/usr/bin:/bin /usr/bin/python3 verify_export.py bundle-a.json) | grep -q "^ok: evidence"; r=$?; rm -rf "$d"; [ $r = 0 ]'
    # any byte of its records changed: 40 positions picked at random, each its own copy
    check "a byte changed anywhere in its records or head is caught (40 random bytes, each alone)" \
        '/usr/bin/python3 - "$FM_TMP/bundle-a.json" "$FM_SOURCE_DIR/tests/verify_export.py" <<'"'"'PY'"'"'
import random, subprocess, sys, tempfile
data = open(sys.argv[1], "rb").read()
lo = data.index(b"\"records\":")
hi = data.index(b"\"keys\":")
survived = []
for pos in random.Random(20).sample(range(lo + 11, hi), 40):
    b = bytearray(data)
    b[pos] = ord("7") if b[pos] != ord("7") else ord("8")
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        f.write(bytes(b)); f.flush()
        if subprocess.run(["/usr/bin/python3", sys.argv[2], f.name], capture_output=True).returncode == 0:
            survived.append(pos)
print("# survived:", survived)
sys.exit(1 if survived else 0)
PY'
    # a forger re-links the whole chain after changing the ruling's reason: only the heads catch it
    /usr/bin/python3 - "$FM_TMP/bundle-a.json" "$FM_TMP/bundle-forged.json" <<'PY'
import hashlib, json, sys
b = json.load(open(sys.argv[1]))
sha = lambda t: hashlib.sha256(t.encode()).hexdigest()
prev = "0" * 64
for r in b["records"]:
    if r.get("action") == "ruling" and "Too close" in r["after"]:
        a = json.loads(r["after"]); a["decision"] = "overrule"; r["after"] = json.dumps(a, sort_keys=True, separators=(",", ":"))
    if "action" in r:
        canon = json.dumps({k: r[k] for k in ("seq", "at", "user", "party", "action", "collection", "owner", "item", "version", "before", "after")}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        r["hash"] = sha(prev + sha(canon))
    else:
        r["hash"] = sha(prev + r["digest"])
    prev = r["hash"]
b["head"]["hash"] = prev
json.dump(b, open(sys.argv[2], "w"), separators=(",", ":"))
PY
    check "a bundle re-linked by a forger after a change is caught by the cosigned heads (and the signature)" \
        'out=$(pyverify "$FM_TMP/bundle-forged.json"); echo "# $out"; [[ $out == BROKEN* ]]'
fi
check "nothing A may not see is in A's bundle: B's draft not at all, B's key record as its digest" \
    '! grep -q "B secret draft Qx" "$FM_TMP/bundle-a.json" &&
     KB_SEQ=$(sqlite3 "$FM_DB" "SELECT seq FROM events WHERE action = '"'"'key_add'"'"' AND user = '"'"'liaison-b'"'"'") &&
     [ "$(jq -c ".records[] | select(.seq == $KB_SEQ) | keys" "$FM_TMP/bundle-a.json")" = "[\"digest\",\"hash\",\"seq\"]" ]'
check "B may not have the bundle of A's draft (404, as for no item); A may (200); nor of no item (404)" \
    '[ "$(evid $AD "$FM_TMP/body" "${B[@]}")" = 404 ] && [ "$(jqb .status)" = 404 ] && ! grep -q "A draft Wy" "$FM_TMP/body" &&
     [ "$(evid $AD "$FM_TMP/bundle-ad.json" "${A[@]}")" = 200 ] && grep -q "A draft Wy" "$FM_TMP/bundle-ad.json" &&
     [ "$(evid 99999 "$FM_TMP/body" "${A[@]}")" = 404 ]'
check "B's bundle of zone $Z holds nothing of A's draft" \
    '[ "$(evid $Z "$FM_TMP/bundle-b.json" "${B[@]}")" = 200 ] && ! grep -q "A draft Wy" "$FM_TMP/bundle-b.json" &&
     { [ $HAVE_NACL = 0 ] || pyverify "$FM_TMP/bundle-b.json" | grep -q "^ok: evidence of zones/$Z for liaison-b"; }'
check "fusionmap evidence export gives A's bundle from the database (the same records)" \
    '"$FUSIONMAP" evidence export --db "$FM_DB" --item zones/$Z --party A --user liaison-a --out "$FM_TMP/bundle-cli.json" &&
     [ "$(jq -c "del(.made)" "$FM_TMP/bundle-cli.json")" = "$(jq -c "del(.made, .picture)" "$FM_TMP/bundle-a.json")" ] &&
     ! "$FUSIONMAP" evidence export --db "$FM_DB" --item zones/$Z --party A --out "$FM_TMP/bundle-cli.json" 2>/dev/null'
check "an untouched database and an untouched export still verify" \
    '"$FUSIONMAP" events verify --db "$FM_DB" >/dev/null && "$FUSIONMAP" events verify --file "$FM_TMP/export2.jsonl" >/dev/null'

finish
